"""cgtree's metrics with the real components, inside the live runtime suite (live_runtimes.py
calls `run(suite)` once its setups are up; its cleanups go through the suite's, and
`leftovers(suite)` is part of the suite's final check).

- promtool (Debian `prometheus`): `promtool check metrics` accepts `cgtree metrics` of the live
  host and of every fixture that has a cgroup2 hierarchy;
- a real Prometheus (Debian `prometheus`, 127.0.0.1 only, scrape interval 1 s, its own
  configuration and storage in the suite's work directory) scrapes `cgtree serve --listen
  127.0.0.1:0` run in the suite's mount namespace; a query through its HTTP API
  (/api/v1/query) returns the series of the suite's containers with their name labels, and
  a living container's counters never decrease across Prometheus' samples;
- a real node-exporter (Debian `prometheus-node-exporter`, textfile collector only) reads the
  file `cgtree metrics --textfile DIR --interval 1` keeps replacing; the same query answers
  through node-exporter's job;
- the image of deploy/ (deploy/build-image.sh from the static build of this checkout, podman,
  no registry) run with the DaemonSet's own flags (tests/e2e/deploy_manifests.py derives them
  from deploy/daemonset.yaml), published on 127.0.0.1 only: its /metrics names the host's
  containers of the suite (also through Prometheus);
- a load test of `cgtree serve` on loopback: rounds of concurrent scrapes, each answered,
  sharing samples, the server's resident memory flat across rounds.

Every process is started in a cgroup below the suite's, recorded by PID with its command
line, and stopped by the suite's teardown; the image and its container are removed.
"""

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import deploy_manifests
# The suite's own helpers (live_runtimes runs as __main__; this imports its definitions).
from live_runtimes import cmdline as cmdline_of, wait_for

REPO = Path(__file__).resolve().parents[2]
SCRAPE_INTERVAL = "1s"
LOAD_CONCURRENCY = 16
LOAD_ROUNDS = 12
# the largest fixture: a second `serve` reads it for the load test (a tree nothing changes)
LOAD_FIXTURE = "wsl-rootless-podman-kind"
# Growth of the server's VmRSS allowed between the end of the warm-up rounds and the
# last round (a leak of one body per request would be LOAD_CONCURRENCY * LOAD_ROUNDS bodies).
LOAD_RSS_SLACK_KIB = 8 * 1024


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=10.0, headers=None):
    """(status, headers, body bytes); status 0 and the error text when it could not connect."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers or {}), e.read()
    except (urllib.error.URLError, OSError) as e:
        return 0, {}, str(e).encode()


def rss_kib(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def parse_text(body):
    """Prometheus text 0.0.4 -> [(name, {label: value}, value)] (what the checks read)."""
    out = []
    pat = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)')
    lab = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in body.decode(errors="replace").splitlines():
        if not line or line.startswith("#"):
            continue
        m = pat.match(line)
        if not m:
            continue
        labels = {k: v.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
                  for k, v in lab.findall(m.group(2) or "")}
        out.append((m.group(1), labels, m.group(3)))
    return out


class MetricsLive:
    def __init__(self, suite):
        self.s = suite
        self.dir = suite.work / "metrics"
        self.dir.mkdir(exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.image = f"localhost/cgtree-e2e-image:{suite.tag}"
        self.ctr = f"{suite.tag}-cgtree-image"
        self.image_built = False
        self.prom = None
        self.serve = None

    # ------------------------------------------------------------ plumbing
    def start(self, name, cmd, pattern, ns=False):
        """`cmd` started in the cgroup <top>/metrics/<name> (in the suite's mount namespace
        with `ns`), stdout and stderr to DIR/<name>.log; stopped by PID at teardown."""
        cg = self.s.topdir / "metrics" / name
        cg.mkdir(parents=True, exist_ok=True)
        pre = self.s.nsx([]) if ns else []
        log = self.dir / f"{name}.log"
        p = subprocess.Popen(["sh", "-c", 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"', "sh", str(cg),
                              *pre, *[str(c) for c in cmd]],
                             start_new_session=True, stdin=subprocess.DEVNULL, stdout=open(log, "w"),
                             stderr=subprocess.STDOUT)
        self.s.remember(name, p.pid, pattern)

        def stop():
            self.s.stop(p.pid, pattern)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                pass
        self.s.on_cleanup(name, stop)
        wait_for(lambda: pattern in (cmdline_of(p.pid) or "") or p.poll() is not None, 10)
        return p, log

    def run_input(self, cmd, text):
        """A command fed `text` on stdin, logged as the suite logs its commands."""
        self.s.log.write("$ " + " ".join(map(str, cmd)) + " < (stdin)\n")
        p = subprocess.run([str(c) for c in cmd], input=text, capture_output=True, text=True, timeout=120)
        self.s.log.write(p.stdout[-3000:] + p.stderr[-3000:] + f"[rc={p.returncode}]\n")
        self.s.log.flush()
        return p

    def term(self, p, pattern, what):
        """SIGTERM to a process we started; it must exit 0 (the contract of metrics --interval
        and serve)."""
        self.s.kill_checked(p.pid, pattern)
        try:
            rc = p.wait(15)
        except subprocess.TimeoutExpired:
            rc = None
        self.s.eq(rc, 0, f"{what}: exits 0 on SIGTERM")

    def prom_query(self, q):
        st, _, body = http_get(f"http://127.0.0.1:{self.prom_port}/api/v1/query?"
                               + urllib.parse.urlencode({"query": q}))
        if st != 200:
            self.s.log.write(f"prometheus query {q!r}: HTTP {st}: {body[:300]!r}\n")
            return None
        doc = json.loads(body)
        return doc["data"]["result"] if doc.get("status") == "success" else None

    # ------------------------------------------------------------ what the suite made
    def expected(self):
        """[(what, {label: value})]: series the suite's live containers must have (their
        cgroup's `id`, and the name labels), from what each setup brought up."""
        s, top, up = self.s, self.s.top, self.s.setups_up
        exp = []
        if "rootful-podman" in up:
            for key in ("runc", "crun"):
                c = s.rootful[key]
                exp.append((f"rootful podman {key}", {"id": f"{top}/rootful/libpod-{c['id']}", "name": c["name"],
                                                      "runtime": "podman", "rootless": "false"}))
        if "rootless-podman" in up:
            c = s.rootless["parent"]
            exp.append(("rootless podman", {"id": f"{top}/rootless/libpod-{c['id']}", "name": c["name"],
                                            "rootless": "true", "owner_uid": str(s.uid)}))
        if "docker" in up:
            exp.append(("docker", {"id": f"{top}/docker/{s.dk['id']}", "name": s.dk["name"], "runtime": "docker"}))
        if "containerd-pods" in up:
            p = s.pod
            exp.append(("containerd pod's app container", {"id": f"{p['cg']}/{p['app']}", "container": "app",
                                                           "pod": p["name"], "namespace": p["ns"]}))
            exp.append(("containerd pod", {"id": p["cg"], "pod": p["name"], "namespace": p["ns"]}))
        if "kind-node" in up:
            n, p = s.node, s.node_pod
            exp.append(("kind node", {"id": f"{top}/kind/libpod-{n['id']}", "name": n["name"],
                                      "kind_node": n["name"], "kind_cluster": s.cluster}))
            exp.append(("kind node's pod container", {"id": f"{p['cg']}/{p['app']}", "container": "app",
                                                      "pod": p["name"], "namespace": p["ns"],
                                                      "kind_node": n["name"], "kind_cluster": s.cluster}))
        if "lxc" in up:
            exp.append(("lxc", {"id": f"{top}/lxc/lxc.payload.{s.lxc['name']}", "name": s.lxc["name"],
                                "runtime": "lxc"}))
        return exp

    def check_series(self, where, series, kinds=None):
        """`series`: [{label: value}] of cgtree_cgroup_info; each expected container must be
        there, once, with its labels."""
        by_id = {}
        for l in series:
            by_id.setdefault(l.get("id"), []).append(l)
        for what, want in self.expected():
            if kinds and what not in kinds:
                continue
            got = by_id.get(want["id"], [])
            self.s.check(len(got) == 1, f"{where}: one cgtree_cgroup_info series for the {what} ({want['id']}), "
                                        f"got {len(got)}")
            if got:
                have = {k: got[0].get(k) for k in want}
                self.s.eq(have, want, f"{where}: labels of the {what}")

    # ------------------------------------------------------------ (a) promtool
    def promtool(self):
        p = self.s.cgtree_run("metrics", ns=True, code=(0, 1))
        (self.dir / "live.prom").write_text(p.stdout)
        self.s.check("cgtree_cgroup_info" in p.stdout, "`cgtree metrics` of the live host has cgtree_cgroup_info")
        self.check_series("`cgtree metrics` (live host)",
                          [l for n, l, _ in parse_text(p.stdout.encode()) if n == "cgtree_cgroup_info"])
        r = self.run_input(["promtool", "check", "metrics"], p.stdout)
        self.s.check(r.returncode == 0, f"promtool check metrics accepts `cgtree metrics` of the live host: "
                                        f"{(r.stdout + r.stderr).strip()[-600:]}")
        # the fixtures (a snapshot of a host each): those without a cgroup2 hierarchy exit 2
        n = 0
        for fx in sorted((REPO / "fixtures").iterdir()):
            if not (fx / "sys/fs/cgroup").is_dir() and not (fx / "proc/self/mountinfo").is_file():
                continue
            p = self.s.cgtree_run("metrics", root=fx, code=(0, 1, 2))
            if p.returncode == 2:
                continue
            r = self.run_input(["promtool", "check", "metrics"], p.stdout)
            self.s.check(r.returncode == 0, f"promtool check metrics accepts `cgtree --root fixtures/{fx.name} "
                                            f"metrics`: {(r.stdout + r.stderr).strip()[-400:]}")
            n += 1
        self.s.check(n >= 20, f"promtool checked the metrics of {n} fixtures (at least 20 expected)")

    # ------------------------------------------------------------ (b), (c) Prometheus, node-exporter
    def start_serve(self, name="serve", pre=()):
        """`cgtree [PRE] serve --listen 127.0.0.1:0` in the suite's mount namespace; its port
        from the line it prints."""
        listen = "127.0.0.1:0"
        cmd = [self.s.cgtree, *map(str, pre), "serve", "--listen", listen]
        pattern = " ".join(cmd)
        self.s.invocations += 1
        p, log = self.start(name, cmd, pattern, ns=True)
        line = wait_for(lambda: next((l for l in log.read_text(errors="replace").splitlines()
                                      if l.startswith("cgtree serve: listening on http://")), None), 20)
        if not self.s.check(line, f"`{pattern}` says where it listens: {log.read_text(errors='replace')[-400:]}"):
            return None
        m = re.match(r"cgtree serve: listening on http://127\.0\.0\.1:(\d+)/metrics$", line)
        if not self.s.check(m and m.group(1) != "0", f"the listening line names the real port: {line!r}"):
            return None
        return {"p": p, "port": int(m.group(1)), "pattern": pattern}

    def start_textfile(self):
        self.textdir = self.dir / "textfile"
        self.textdir.mkdir()
        pattern = f"metrics --textfile {self.textdir}"
        self.s.invocations += 1
        p, log = self.start("textfile", [self.s.cgtree, "metrics", "--textfile", self.textdir, "--interval", "1"],
                            pattern, ns=True)
        ok = wait_for(lambda: (self.textdir / "cgtree.prom").exists() or p.poll() is not None, 20)
        self.s.check(ok and p.poll() is None, f"`cgtree metrics --textfile DIR --interval 1` writes DIR/cgtree.prom "
                                              f"and goes on: {log.read_text(errors='replace')[-300:]}")
        if (self.textdir / "cgtree.prom").exists():
            st = (self.textdir / "cgtree.prom").stat()
            self.s.eq(oct(st.st_mode & 0o777), "0o644", "the textfile's mode")
        self.textfile = {"p": p, "pattern": pattern}

    def start_node_exporter(self):
        self.ne_port = free_port()
        pattern = f"--collector.textfile.directory={self.textdir}"
        self.start("node-exporter", ["prometheus-node-exporter", f"--web.listen-address=127.0.0.1:{self.ne_port}",
                                     "--collector.disable-defaults", "--collector.textfile", pattern], pattern)

    def start_prometheus(self):
        self.prom_port = free_port()
        self.img_port = free_port()
        jobs = {"cgtree": self.serve and self.serve["port"], "node": self.ne_port, "image": self.img_port}
        conf = {"global": {"scrape_interval": SCRAPE_INTERVAL, "scrape_timeout": SCRAPE_INTERVAL,
                           "evaluation_interval": SCRAPE_INTERVAL},
                "scrape_configs": [{"job_name": j, "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
                                   for j, port in jobs.items() if port]}
        cfg = self.dir / "prometheus.yml"
        cfg.write_text(json.dumps(conf, indent=1) + "\n")  # JSON is YAML
        r = self.s.run(["promtool", "check", "config", cfg], check=False)
        self.s.check(r.returncode == 0, f"promtool check config: {r.stdout.strip()[-300:]} {r.stderr.strip()[-300:]}")
        data = self.dir / "prometheus-data"
        data.mkdir()
        pattern = f"--config.file={cfg}"
        self.start("prometheus", ["prometheus", pattern, f"--storage.tsdb.path={data}",
                                  f"--web.listen-address=127.0.0.1:{self.prom_port}",
                                  "--storage.tsdb.retention.time=1h", "--log.level=warn"], pattern)
        self.prom = True
        ready = wait_for(lambda: http_get(f"http://127.0.0.1:{self.prom_port}/-/ready", 2)[0] == 200, 60, 0.5)
        return self.s.check(ready, f"Prometheus answers /-/ready on 127.0.0.1:{self.prom_port}: "
                                   f"{(self.dir / 'prometheus.log').read_text(errors='replace')[-400:]}")

    def listening_on_loopback_only(self, ports):
        """`ports` are bound to 127.0.0.1 only (ss -ltn)."""
        r = self.s.run(["ss", "-Hltn"], check=False)
        seen = set()
        for line in r.stdout.splitlines():
            f = line.split()
            if len(f) >= 4 and ":" in f[3]:
                addr, _, port = f[3].rpartition(":")
                if port.isdigit() and int(port) in ports:
                    seen.add(int(port))
                    self.s.check(addr in ("127.0.0.1", "[::ffff:127.0.0.1]"),
                                 f"port {port} is bound to loopback only (it is bound to {addr})")
        self.s.eq(seen, set(ports), "the ports listened on (ss -ltn)")

    def through_prometheus(self, job, what):
        """A query of Prometheus for job's series of the suite's containers."""
        # the suite's cgroup names are [a-z0-9-]: no RE2 or PromQL escape needed
        q = f'cgtree_cgroup_info{{job="{job}",id=~"{self.s.top}/.*"}}'
        want = {e["id"] for _, e in self.expected()}

        def got():
            r = self.prom_query(q) or []
            ids = {x["metric"].get("id") for x in r}
            return r if want <= ids else None
        res = wait_for(got, 40, 1.0) or self.prom_query(q) or []
        self.s.check(res, f"{what}: Prometheus has cgtree_cgroup_info of job {job} ({q})")
        self.check_series(f"{what} (Prometheus /api/v1/query, job {job})", [x["metric"] for x in res])
        up = self.prom_query(f'up{{job="{job}"}}') or []
        self.s.eq([x["value"][1] for x in up], ["1"], f"{what}: up{{job=\"{job}\"}}")
        return res

    def counters_monotonic(self):
        """A busy loop in the rootful runc container for a few seconds; its CPU counter,
        as Prometheus sampled it every second through `serve`, rises and never falls."""
        if "rootful-podman" not in self.s.setups_up:
            return
        c = self.s.rootful["runc"]
        cid = f"{self.s.top}/rootful/libpod-{c['id']}"
        self.s.pm("rootful/cli", "exec", "-d", c["name"], "timeout", "6", "sh", "-c", "while :; do :; done",
                  check=False)
        time.sleep(8)
        for metric in ("cgtree_container_cpu_usage_seconds_total", "cgtree_container_cpu_user_seconds_total"):
            q = f'{metric}{{job="cgtree",id="{cid}"}}[20s]'
            r = self.prom_query(q) or []
            vals = [float(v) for _, v in (r[0]["values"] if r else [])]
            self.s.check(len(vals) >= 3, f"{metric} of the runc container: Prometheus holds samples ({len(vals)})")
            self.s.check(all(b >= a for a, b in zip(vals, vals[1:])),
                         f"{metric} of the runc container never decreases across Prometheus' samples: {vals}")
            self.s.check(vals and vals[-1] > vals[0],
                         f"{metric} of the runc container rose while it ran a busy loop: {vals[:1]}..{vals[-1:]}")

    def textfile_checks(self):
        ne = self.prom_query('node_textfile_scrape_error{job="node"}') or []
        self.s.eq([x["value"][1] for x in ne], ["0"], "node-exporter read the textfile without error")
        self.term(self.textfile["p"], self.textfile["pattern"], "`cgtree metrics --textfile DIR --interval 1`")
        left = sorted(p.name for p in self.textdir.iterdir())
        self.s.eq(left, ["cgtree.prom"], "the textfile directory holds cgtree.prom only (no temporary file left)")

    # ------------------------------------------------------------ load
    def load(self):
        """The live `serve`, then one reading a fixture (a tree nothing else changes)."""
        self.load_rounds(self.serve["port"], self.serve["p"].pid, "the live host", host_size=self.host_cgroups)
        fx = REPO / "fixtures" / LOAD_FIXTURE
        srv = self.start_serve("serve-fixture", ["--root", fx])
        if srv:
            self.load_rounds(srv["port"], srv["p"].pid, f"fixtures/{LOAD_FIXTURE}")
            self.term(srv["p"], srv["pattern"], f"`cgtree --root fixtures/{LOAD_FIXTURE} serve`")
        st, _, _ = http_get(f"http://127.0.0.1:{self.serve['port']}/nope")
        self.s.eq(st, 404, "serve: another path is 404")

    def host_cgroups(self):
        return sum(len(dirs) for _, dirs, _ in os.walk(self.s.cg2))

    def load_rounds(self, port, pid, what, host_size=None):
        """Rounds of LOAD_CONCURRENCY concurrent scrapes, a new sample each round (rounds
        more than --max-age apart): each answered, the round's requests sharing samples, and
        the server's VmRSS flat from the end of the warm-up rounds on. On the live host the
        memory is judged only when the host's cgroups stayed as many (another program making
        cgroups makes every walk larger)."""
        url = f"http://127.0.0.1:{port}/metrics"
        results = []
        lock = threading.Lock()

        def one():
            r = http_get(url, 30)
            with lock:
                results.append(r)
        rss, distinct, sizes = [], [], []
        for i in range(LOAD_ROUNDS):
            results.clear()
            ts = [threading.Thread(target=one) for _ in range(LOAD_CONCURRENCY)]
            for t in ts:
                t.start()
            for t in ts:
                t.join(60)
            answered = [r for r in results if r[0] == 200 and b"cgtree_build_info" in r[2]]
            self.s.check(len(answered) == LOAD_CONCURRENCY,
                         f"load ({what}) round {i + 1}: {LOAD_CONCURRENCY} concurrent scrapes, each answered 200 "
                         f"with the metrics: {len(answered)} did ({sorted(set(r[0] for r in results))})")
            # the server's own counters (cgtree_serve_*) differ per response: the sample is the rest
            distinct.append(len({b"\n".join(l for l in r[2].split(b"\n") if b"cgtree_serve_" not in l)
                                 for r in answered}))
            rss.append(rss_kib(pid))
            sizes.append(host_size() if host_size else None)
            time.sleep(1.2)
        self.s.say(f"metrics: load ({what}): {LOAD_ROUNDS} rounds of {LOAD_CONCURRENCY} concurrent scrapes; distinct "
                   f"samples per round {distinct}; serve VmRSS KiB per round {rss}; host cgroups {sizes}")
        self.s.check(max(distinct) < LOAD_CONCURRENCY,
                     f"load ({what}): concurrent scrapes share samples (distinct per round of {LOAD_CONCURRENCY}: "
                     f"{distinct})")
        if not all(rss):
            self.s.check(False, f"load ({what}): VmRSS of serve ({pid}) read each round: {rss}")
        elif host_size and len(set(sizes[2:])) != 1:
            self.s.say(f"metrics: load ({what}): memory not judged: the host's cgroups changed from {sizes[2]} to "
                       f"{sizes[-1]} during the rounds (another program makes cgroups)")
        else:
            warm = max(rss[:3])
            self.s.check(max(rss[3:]) <= warm + LOAD_RSS_SLACK_KIB,
                         f"load ({what}): serve's resident memory stays flat: after warm-up {warm} KiB, then at most "
                         f"{max(rss[3:])} KiB (slack {LOAD_RSS_SLACK_KIB} KiB)")

    # ------------------------------------------------------------ (d) the image
    def image_run(self):
        static = getattr(self.s, "static_cgtree", None)
        if not self.s.check(static and Path(static).is_file(),
                            f"a static cgtree for the image was given (--static-cgtree): {static}"):
            return
        env = dict(os.environ, CONTAINERS_CONF=str(self.s.conf))
        self.s.on_cleanup("cgtree image", lambda: self.s.pm("metrics-image/cli", "rmi", "-f", self.image, check=False))
        (self.s.topdir / "metrics-image/cli").mkdir(parents=True, exist_ok=True)
        r = self.s.run([REPO / "deploy/build-image.sh", "--binary", static, "--tag", self.image], check=False, env=env)
        if not self.s.check(r.returncode == 0 and r.stdout.strip().splitlines()[-1:] == [self.image],
                            f"deploy/build-image.sh builds {self.image} from the local binary: {r.stderr.strip()[-500:]}"):
            return
        self.image_built = True
        info = json.loads(self.s.pm("metrics-image/cli", "image", "inspect", self.image).stdout)[0]
        self.s.eq(len(info.get("RootFS", {}).get("Layers", [])), 1, "the image is one layer (scratch + the binary)")
        ds = deploy_manifests.daemonset(REPO)
        # podman runs in the suite's mount namespace, where /sys/fs/cgroup is the cgroup2
        # hierarchy (on a hybrid host: the unified one, mounted there by the suite)
        args, skipped = deploy_manifests.podman_args(ds, cgroup2_host_path="/sys/fs/cgroup")
        if "lxc" in self.s.setups_up:
            # The suite's LXC container lives in an lxcpath of its own (its work directory),
            # where a node's would be in /var/lib/lxc, which the DaemonSet mounts: the same
            # read-only mount for that path.
            lxcpath = self.s.lxc["path"]
            args.append(f"--volume={lxcpath}:{lxcpath}:ro")
        self.s.say(f"metrics: image flags from deploy/daemonset.yaml: {' '.join(args)}; host paths absent here "
                   f"(left out): {skipped}")
        self.s.on_cleanup(f"podman {self.ctr}", lambda: self.s.pm("metrics-image/cli", "rm", "-f", "-t", "0", self.ctr,
                                                                   check=False))
        p = self.s.pm("metrics-image/cli", "run", "-d", "--name", self.ctr, "--runtime", "runc",
                      "--cgroup-parent", f"{self.s.top}/metrics-image", "--network", "slirp4netns",
                      "--publish", f"127.0.0.1:{self.img_port}:9713", *args, self.image, check=False)
        if not self.s.check(p.returncode == 0, f"the image runs with the DaemonSet's flags: {p.stderr.strip()[-500:]}"):
            return
        c = json.loads(self.s.pm("metrics-image/cli", "inspect", self.ctr).stdout)[0]
        self.s.remember("cgtree image container", c["State"]["Pid"], "/cgtree serve")
        self.s.check(c["HostConfig"].get("ReadonlyRootfs") is True, "the container's root is read-only")
        cpid = c["State"]["Pid"]
        self.s.check(os.readlink(f"/proc/{cpid}/ns/cgroup") != os.readlink("/proc/self/ns/cgroup"),
                     "the container has a cgroup namespace of its own, as a Kubernetes pod on cgroup2 has")
        url = f"http://127.0.0.1:{self.img_port}/metrics"
        st, hdr, body = wait_for(lambda: (lambda r: r if r[0] == 200 else None)(http_get(url, 10)), 30, 0.5) \
            or http_get(url, 10)
        logs = self.s.pm("metrics-image/cli", "logs", self.ctr, check=False)
        self.s.check(st == 200, f"the image's /metrics answers on 127.0.0.1:{self.img_port}: {st} "
                                f"{body[:200]!r} {logs.stdout[-300:]} {logs.stderr[-300:]}")
        self.s.say(f"metrics: the image's own log: {(logs.stdout + logs.stderr).strip()[-600:]}")
        (self.dir / "image.prom").write_bytes(body)
        self.listening_on_loopback_only({self.img_port})
        series = [l for n, l, _ in parse_text(body) if n == "cgtree_cgroup_info"]
        self.check_series("the image's /metrics", series)
        self.through_prometheus("image", "the image")
        self.capabilities_needed(args)
        self.unit_run()

    def unit_run(self):
        """deploy/cgtree-serve.service's `podman run` itself, with the test's name, port,
        image and cgroup parent; its /metrics names the suite's containers."""
        text = (REPO / "deploy/cgtree-serve.service").read_text()
        line = next(l for l in text.replace("\\\n", " ").splitlines() if l.startswith("ExecStart="))
        argv = shlex.split(line[len("ExecStart="):])
        if not self.s.check(argv[:2] == ["/usr/bin/podman", "run"], f"the unit runs `podman run`: {argv[:2]}"):
            return
        port = free_port()
        name = f"{self.ctr}-unit"
        controllers = self.s.topdir / "metrics-image" / "cgroup.controllers"
        have = set(controllers.read_text().split()) if controllers.exists() else set()
        out, dropped = [], []
        for a in argv[2:]:
            a = a.replace("%t/%n.ctr-id", str(self.dir / "unit.ctr-id"))
            if a == "cgtree" and out and out[-1] == "--name":
                a = name
            elif a == "127.0.0.1:9713:9713":
                a = f"127.0.0.1:{port}:9713"
            elif a.startswith("localhost/cgtree:"):
                a = self.image
            elif (a.startswith("--memory=") and "memory" not in have) or (a.startswith("--cpus=") and "cpu" not in have):
                dropped.append(a)  # this hybrid host's cgroup2 has no such controller
                continue
            out.append(a)
        self.s.say(f"metrics: the unit's podman run: {' '.join(out)} (left out here, no controller: {dropped})")
        self.s.on_cleanup(f"podman {name}", lambda: self.s.pm("metrics-image/cli", "rm", "-f", "-t", "0", name,
                                                               check=False))
        # the suite's podman has no default network (netns = "none"): the unit's publish
        # needs one
        p = self.s.pm("metrics-image/cli", "run", "--runtime", "runc", "--cgroup-parent",
                      f"{self.s.top}/metrics-image", "--network", "slirp4netns", *out, check=False)
        if not self.s.check(p.returncode == 0, f"deploy/cgtree-serve.service's podman run starts the image: "
                                               f"{p.stderr.strip()[-400:]}"):
            return
        url = f"http://127.0.0.1:{port}/metrics"
        st, _, body = wait_for(lambda: (lambda r: r if r[0] == 200 else None)(http_get(url, 10)), 30, 0.5) \
            or http_get(url, 10)
        self.s.check(st == 200, f"the unit's container answers /metrics on 127.0.0.1:{port}: {st}")
        # the unit mounts the state of podman hosts only (docker, containerd, LXC: the
        # DaemonSet's further volumes, as the unit says)
        self.check_series("the unit's container (--cgroupns=host)",
                          [l for n, l, _ in parse_text(body) if n == "cgtree_cgroup_info"],
                          kinds={"rootful podman runc", "rootful podman crun", "rootless podman", "kind node",
                                 "kind node's pod container"})
        self.listening_on_loopback_only({port})
        self.s.pm("metrics-image/cli", "rm", "-f", "-t", "0", name, check=False)

    def missing_names(self, series):
        """The expected containers that `series` (cgtree_cgroup_info labels) does not name."""
        return [what for what, want in self.expected()
                if not any(all(l.get(k) == v for k, v in want.items()) for l in series)]

    def capabilities_needed(self, args):
        """The DaemonSet's capabilities are the least: the image's `cgtree metrics` without any
        one of them names fewer of the suite's containers."""
        caps = [a.split("=", 1)[1] for a in args if a.startswith("--cap-add=")]
        for cap in caps:
            name = f"{self.ctr}-without-{cap.lower()}"
            self.s.on_cleanup(f"podman {name}", lambda n=name: self.s.pm("metrics-image/cli", "rm", "-f", "-t", "0", n,
                                                                          check=False))
            r = self.s.pm("metrics-image/cli", "run", "--rm", "--name", name, "--runtime", "runc",
                          "--cgroup-parent", f"{self.s.top}/metrics-image", "--network", "none",
                          *[a for a in args if a != f"--cap-add={cap}"], "--entrypoint", "/cgtree", self.image,
                          "metrics", check=False)
            missing = self.missing_names([l for n, l, _ in parse_text(r.stdout.encode()) if n == "cgtree_cgroup_info"])
            self.s.say(f"metrics: the image without CAP_{cap} (exit {r.returncode}) does not name: {missing}")
            self.s.check(r.returncode in (0, 1) and missing,
                         f"CAP_{cap} is needed: without it the image's `cgtree metrics` names fewer containers "
                         f"(exit {r.returncode}, not named: {missing})")

    # ------------------------------------------------------------ all
    def run(self):
        for ok, what in deploy_manifests.checks(REPO):
            self.s.check(ok, f"deploy/: {what}")
        def serve():
            self.serve = self.start_serve()
        steps = (("promtool", self.promtool), ("serve", serve), ("textfile", self.start_textfile),
                 ("node-exporter", self.start_node_exporter), ("prometheus", self.start_prometheus))
        for name, fn in steps:
            try:
                fn()
            except Exception as e:
                self.s.check(False, f"metrics: {name} crashed: {e!r}")
        if not self.prom:
            return
        self.listening_on_loopback_only({self.prom_port, self.ne_port} | ({self.serve["port"]} if self.serve else set()))
        for name, fn in (("serve via Prometheus", lambda: self.serve and self.through_prometheus("cgtree", "serve")),
                         ("textfile via node-exporter", lambda: self.through_prometheus("node", "the textfile")),
                         ("monotonic counters", lambda: self.serve and self.counters_monotonic()),
                         ("textfile loop", self.textfile_checks),
                         ("image", self.image_run),
                         ("load", lambda: self.serve and self.load()),
                         ("serve stop", lambda: self.serve and self.term(self.serve["p"], self.serve["pattern"],
                                                                         "`cgtree serve`"))):
            try:
                fn()
            except Exception as e:
                import traceback
                self.s.check(False, f"metrics: {name} crashed: {e!r}\n{traceback.format_exc()}")


def run(suite):
    suite.metrics_live = MetricsLive(suite)
    suite.metrics_live.run()


def leftovers(suite):
    """What of these tests is still there (processes are the suite's `pids`; cgroups its
    subtree): the image and its container."""
    m = getattr(suite, "metrics_live", None)
    if not m:
        return []
    left = []
    env = dict(os.environ, CONTAINERS_CONF=str(suite.conf))
    if subprocess.run(["podman", "image", "exists", m.image], env=env).returncode == 0:
        left.append(f"podman image {m.image}")
    return left
