#!/usr/bin/env python3
"""Checks deploy/: the Kubernetes manifests parse (PyYAML) and say what docs/fleet.md says,
the Containerfile is a scratch image serving on 9713, and the podman unit and quadlet run
the DaemonSet's container (same capabilities, same read-only mounts).

Also gives the podman flags that run the image as the DaemonSet does (`podman_args`): the
live suite (tests/e2e/metrics_live.py) runs the image with them, so the manifest itself is
what is tested there.

Usage: deploy_manifests.py [REPO]   (exit 0 when every check passes; each failure is named)
"""

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

CAPS = {"SYS_PTRACE", "DAC_READ_SEARCH"}
PORT = 9713


def load(repo):
    d = Path(repo) / "deploy"
    ds_docs = [x for x in yaml.safe_load_all((d / "daemonset.yaml").read_text()) if x]
    sm_docs = [x for x in yaml.safe_load_all((d / "servicemonitor.yaml").read_text()) if x]
    return ds_docs, sm_docs


def daemonset(repo):
    ds_docs, _ = load(repo)
    return next(x for x in ds_docs if x.get("kind") == "DaemonSet")


def mounts(ds):
    """[(host path, container path, read-only, propagation)] of the DaemonSet's container."""
    pod = ds["spec"]["template"]["spec"]
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    out = []
    for m in pod["containers"][0].get("volumeMounts", []):
        v = vols[m["name"]]
        out.append((v["hostPath"]["path"], m["mountPath"], bool(m.get("readOnly")), m.get("mountPropagation")))
    return out


def podman_args(ds, cgroup2_host_path="/sys/fs/cgroup", skip_missing=True):
    """podman run flags for the DaemonSet's container: hostPID, capabilities, read-only root,
    no privilege escalation, its read-only mounts (`cgroup2_host_path` stands for the
    /sys/fs/cgroup volume: a hybrid host's unified hierarchy), and what a host lacks is left
    out when `skip_missing` (a cluster node without that runtime). Returns (args, skipped)."""
    pod = ds["spec"]["template"]["spec"]
    c = pod["containers"][0]
    sc = c.get("securityContext", {})
    args = []
    if pod.get("hostPID"):
        args.append("--pid=host")
    if sc.get("readOnlyRootFilesystem"):
        args.append("--read-only")
    if sc.get("allowPrivilegeEscalation") is False:
        args.append("--security-opt=no-new-privileges")
    caps = sc.get("capabilities", {})
    for cap in caps.get("drop", []):
        args.append(f"--cap-drop={cap.lower()}")
    for cap in caps.get("add", []):
        args.append(f"--cap-add={cap}")
    if sc.get("runAsUser") is not None:
        args.append(f"--user={sc['runAsUser']}:{sc.get('runAsGroup', sc['runAsUser'])}")
    skipped = []
    for host, ctr, ro, prop in mounts(ds):
        if ctr == "/sys/fs/cgroup":
            host = cgroup2_host_path
        if skip_missing and not Path(host).exists():
            skipped.append(host)
            continue
        opts = ["ro" if ro else "rw"] + (["rslave"] if prop == "HostToContainer" else [])
        args.append(f"--volume={host}:{ctr}:{','.join(opts)}")
    return args, skipped


def unit_volumes(text):
    """host:container:opts of `-v`/`Volume=` lines in a systemd unit or quadlet (comments left out)."""
    text = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
    return [m.group(1) for m in re.finditer(r"(?:^|\s)(?:-v|Volume=)\s*(/\S+:/\S+:\S+)", text, re.M)]


def checks(repo):
    """[(ok, what)]: every check of deploy/."""
    repo = Path(repo)
    out = []

    def check(ok, what):
        out.append((bool(ok), what))

    ds_docs, sm_docs = load(repo)
    kinds = [x.get("kind") for x in ds_docs]
    check(kinds == ["Namespace", "DaemonSet"], f"daemonset.yaml holds a Namespace and a DaemonSet: {kinds}")
    ds = daemonset(repo)
    ns = next(x for x in ds_docs if x.get("kind") == "Namespace")
    check(ns["metadata"]["labels"].get("pod-security.kubernetes.io/enforce") == "privileged",
          "the namespace allows what the pod needs (Pod Security Standard privileged)")
    check(ds["apiVersion"] == "apps/v1" and ds["metadata"]["namespace"] == ns["metadata"]["name"],
          "the DaemonSet is apps/v1 in that namespace")
    tmpl = ds["spec"]["template"]
    pod = tmpl["spec"]
    sel = ds["spec"]["selector"]["matchLabels"]
    check(all(tmpl["metadata"]["labels"].get(k) == v for k, v in sel.items()), "the selector matches the pod's labels")
    check(pod.get("hostPID") is True, "hostPID")
    check(not pod.get("hostNetwork"), "no host network")
    check(pod.get("automountServiceAccountToken") is False, "no service account token")
    ann = tmpl["metadata"].get("annotations", {})
    check(ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/port") == str(PORT)
          and ann.get("prometheus.io/path") == "/metrics", f"prometheus.io scrape annotations: {ann}")
    check(len(pod["containers"]) == 1, "one container")
    c = pod["containers"][0]
    check([p.get("containerPort") for p in c.get("ports", [])] == [PORT]
          and c["ports"][0].get("name") == "metrics", "port 9713 named metrics")
    sc = c.get("securityContext", {})
    check(sc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem")
    check(sc.get("allowPrivilegeEscalation") is False and sc.get("privileged") is False,
          "not privileged, no privilege escalation")
    caps = sc.get("capabilities", {})
    check(caps.get("drop") == ["ALL"] and set(caps.get("add", [])) == CAPS and len(caps["add"]) == len(CAPS),
          f"capabilities: all dropped, {sorted(CAPS)} added: {caps}")
    res = c.get("resources", {})
    check(all(k in res.get("requests", {}) for k in ("cpu", "memory")) and "memory" in res.get("limits", {}),
          f"resource requests (cpu, memory) and a memory limit: {res}")
    ms = mounts(ds)
    check(ms and all(ro for _, _, ro, _ in ms), "every volume mount is read-only")
    check(all(v.get("hostPath") for v in pod.get("volumes", [])), "every volume is a hostPath")
    check(all(h == ctr for h, ctr, _, _ in ms), "every host path is mounted at its own path (cgtree's default paths)")
    need = {"/sys/fs/cgroup", "/etc/passwd", "/var/lib/containers", "/run/containers", "/var/lib/docker",
            "/run/containerd/io.containerd.runtime.v2.task", "/run/crun", "/run/runc", "/run/user", "/home",
            "/var/lib/lxc", "/run/systemd/machines", "/var/log/pods"}
    have = {h for h, _, _, _ in ms}
    check(need <= have, f"the runtimes' state directories are mounted: missing {sorted(need - have)}")
    check(not any(h in ("/", "/run", "/var/run", "/run/containerd", "/var/run/docker.sock") for h in have),
          "no mount of / or of a directory holding the runtimes' sockets")
    check(all(p == "HostToContainer" for h, _, _, p in ms if h in ("/run/user", "/home")),
          "/run/user and /home follow later mounts (HostToContainer)")
    check(pod.get("containers")[0].get("args") in ([], None), "the image's entrypoint is used as it is")

    kinds = [x.get("kind") for x in sm_docs]
    check(kinds == ["Service", "ServiceMonitor"], f"servicemonitor.yaml holds a Service and a ServiceMonitor: {kinds}")
    svc = next(x for x in sm_docs if x.get("kind") == "Service")
    smon = next(x for x in sm_docs if x.get("kind") == "ServiceMonitor")
    check(svc["spec"].get("clusterIP") == "None", "the Service is headless")
    check(all(tmpl["metadata"]["labels"].get(k) == v for k, v in svc["spec"]["selector"].items()),
          "the Service selects the DaemonSet's pods")
    sport = svc["spec"]["ports"][0]
    check(sport.get("name") == "metrics" and sport.get("targetPort") in ("metrics", PORT), "the Service's port metrics")
    check(smon["apiVersion"] == "monitoring.coreos.com/v1"
          and all(svc["metadata"]["labels"].get(k) == v for k, v in smon["spec"]["selector"]["matchLabels"].items()),
          "the ServiceMonitor selects the Service")
    ep = smon["spec"]["endpoints"][0]
    check(ep.get("port") == "metrics" and ep.get("path") == "/metrics", "the ServiceMonitor scrapes port metrics /metrics")
    drops = [r for r in ep.get("relabelings", []) if r.get("action") == "labeldrop"]
    check(drops and all(re.fullmatch(drops[0]["regex"], l) for l in ("namespace", "pod", "container")),
          "the ServiceMonitor drops the target's namespace/pod/container (they are cgtree's series labels)")

    np = [x for x in yaml.safe_load_all((repo / "deploy/networkpolicy.yaml").read_text()) if x]
    check([x.get("kind") for x in np] == ["NetworkPolicy"], "networkpolicy.yaml holds a NetworkPolicy")
    pol = np[0]["spec"]
    check(np[0]["metadata"].get("namespace") == ds["metadata"].get("namespace")
          and all(tmpl["metadata"]["labels"].get(k) == v for k, v in pol["podSelector"]["matchLabels"].items()),
          "the NetworkPolicy selects the DaemonSet's pods in its namespace")
    check(pol.get("policyTypes") == ["Ingress"] and [p.get("port") for r in pol["ingress"] for p in r["ports"]] == [PORT],
          "the NetworkPolicy admits the metrics port only")
    check(pod.get("nodeSelector", {}).get("kubernetes.io/os") == "linux", "the DaemonSet runs on Linux nodes only")

    cf = (repo / "deploy/Containerfile").read_text()
    froms = re.findall(r"^FROM\s+(\S+)", cf, re.M)
    check(froms == ["scratch"], f"the Containerfile is FROM scratch only: {froms}")
    check('ENTRYPOINT ["/cgtree", "serve", "--listen", "0.0.0.0:9713"]' in cf, "entrypoint cgtree serve on 0.0.0.0:9713")
    check(re.findall(r"^(?:COPY|ADD)\s+(.*)$", cf, re.M) == ["cgtree /cgtree"], "the image holds the binary only")

    ds_ro = {f"{h}:{ctr}" for h, ctr, _, _ in ms}
    for name in ("cgtree-serve.service", "cgtree.container"):
        text = (repo / "deploy" / name).read_text()
        vols = unit_volumes(text)
        check(vols and all(v.rsplit(":", 1)[1].split(",")[0] == "ro" for v in vols), f"{name}: every volume read-only")
        check(all(v.rsplit(":", 1)[0] in ds_ro for v in vols), f"{name}: its volumes are the DaemonSet's: "
              f"{[v for v in vols if v.rsplit(':', 1)[0] not in ds_ro]} are not")
        body = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#")).replace("\\\n", " ")
        caps_here = set(re.findall(r"\b(SYS_PTRACE|DAC_READ_SEARCH|SETUID|SETGID|SYS_ADMIN|DAC_OVERRIDE)\b", body))
        check(caps_here == CAPS, f"{name}: the DaemonSet's capabilities, all others dropped: {sorted(caps_here)}")
        check(re.search(r"--cap-drop=all|DropCapability=all", body), f"{name}: all capabilities dropped first")
        check("--pid=host" in body and "--cgroupns=host" in body, f"{name}: host PID and cgroup namespaces")
        check(re.search(r"--read-only\b|ReadOnly=true", body), f"{name}: read-only root")
        check("127.0.0.1:9713:9713" in body, f"{name}: published on 127.0.0.1 only")
        check(re.search(r"^Image=localhost/cgtree:|\slocalhost/cgtree:\S+\s*$", body, re.M), f"{name}: runs the built image")
    # docs/fleet.md's scrape job: promtool checks it (Debian's Prometheus is built without
    # Kubernetes discovery, so that part is replaced by a static target; the rest is as written)
    blocks = re.findall(r"```yaml\n(.*?)```", (repo / "docs/fleet.md").read_text(), re.S)
    check(len(blocks) == 1, f"docs/fleet.md has one scrape configuration: {len(blocks)}")
    if blocks and shutil.which("promtool"):
        conf = yaml.safe_load(blocks[0])
        job = conf["scrape_configs"][0]
        check(job.get("honor_labels") is True and any(r.get("target_label") == "node" for r in job["relabel_configs"])
              and job["kubernetes_sd_configs"][0]["role"] == "pod", "the doc's scrape job: pods, honor_labels, node")
        job.pop("kubernetes_sd_configs")
        job["static_configs"] = [{"targets": ["127.0.0.1:9713"]}]
        with tempfile.NamedTemporaryFile("w", suffix=".yml") as f:
            f.write(yaml.safe_dump(conf))
            f.flush()
            p = subprocess.run(["promtool", "check", "config", f.name], capture_output=True, text=True)
        check(p.returncode == 0, f"promtool check config of the doc's scrape job: {(p.stdout + p.stderr).strip()[-300:]}")
    if shutil.which("systemd-analyze"):
        p = subprocess.run(["systemd-analyze", "verify", str(repo / "deploy/cgtree-serve.service")],
                           capture_output=True, text=True)
        check(p.returncode == 0 and not p.stderr.strip(), f"systemd-analyze verify cgtree-serve.service: {p.stderr.strip()}")
    return out


def main():
    repo = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2])
    results = checks(repo)
    bad = [w for ok, w in results if not ok]
    for w in bad:
        print(f"FAIL: {w}")
    print(f"deploy/ checks: {len(results) - len(bad)} passed, {len(bad)} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
