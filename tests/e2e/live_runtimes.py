#!/usr/bin/env python3
"""Live end-to-end suite: real container runtimes on this host, and cgtree run against them.

Brought up, each in its own cgroup subtree below one uniquely named cgroup (/cgtree-e2e-*):
  rootful    podman (cgroupfs manager) with runc, and crun where it runs (--privileged);
             a process inside running as uid 101
  rootless   podman for a throw-away user with subuid/subgid ranges and a cgroup subtree
             delegated by hand; one container with --cgroup-parent, one without; a
             process inside running as container uid 101
  containerd containerd started by hand; `ctr -n k8s.io run` tasks in
             .../kubepods/besteffort/pod<uid>/<id>: a sandbox and an app container
             sharing one containerd-shim-runc-v2, with the CRI annotations
  docker     Debian's dockerd started by hand on that containerd; a named container
  kind       a privileged podman container named <cluster>-control-plane from an image
             named as kind's node image, with kind's labels and podman's default
             hostname (the short id), running containerd inside, with a sandbox and an
             app task in kubepods cgroups
  lxc        Debian's lxc: a container from a busybox rootfs in an lxcpath of the suite's
             own, started with lxc.cgroup.relative so that its lxc.monitor.<name> and
             lxc.payload.<name> cgroups are made below the suite's cgroup
  nspawn     systemd-nspawn --keep-unit --register=no started in a cgroup named as
             systemd-nspawn@<name>.service would be (no systemd or machined here), so
             that it makes its payload and supervisor sub-cgroups there; "skipped" with
             the reason where systemd-nspawn cannot run

Then the built cgtree runs live (tree, --json, pid, userns) and what was created is
asserted; with everything up, tests/e2e/metrics_live.py runs cgtree's metrics against a
real Prometheus, node-exporter and promtool, and the image of deploy/ under podman; a snapshot of each setup (`cgtree snapshot --cgroup`) must give the same
identification. Everything is torn down by recorded PID and id, even when an assertion
fails, and the suite checks that nothing of it is left. It fails, never skips, when a
runtime does not come up (but nspawn, which says why it is skipped where it cannot run).

Usage: live_runtimes.py --cgtree PATH [--static-cgtree PATH] [--bpf-cgtree PATH] [--capture DIR] [--keep-work] [--inject-failure]
  --static-cgtree PATH  the static build of the same checkout, for the image of deploy/
  --bpf-cgtree PATH  the build with the `bpf` feature: with everything up, its BPF path
                 and its file path must answer alike (tree, --json, -U, pid, userns NS)
  --capture DIR  also write each snapshot to DIR/fixtures/live-<setup> and what the live
                 run answered to DIR/cgroup-cli/tests/live/<setup>.json (the repository)
"""

import argparse
import ctypes
import difflib
import json
import os
import pwd
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from pathlib import Path

import metrics_live

IMAGE_TAG = "localhost/cgtree-e2e-busybox"
CTRD_NS = "k8s.io"
TASK_DIR = "/run/containerd/io.containerd.runtime.v2.task"


class SetupFailed(Exception):
    pass


class SetupSkipped(Exception):
    """The setup cannot run on this host (the message says why): reported, not failed."""


def cgroup2_mount():
    """Where the host's cgroup2 hierarchy is mounted (pure v2, or hybrid's unified)."""
    for line in Path("/proc/self/mountinfo").read_bytes().decode(errors="replace").splitlines():
        left, _, right = line.partition(" - ")
        if right.split(" ")[0] == "cgroup2":
            return Path(left.split(" ")[4])
    raise SystemExit("no cgroup2 mount in /proc/self/mountinfo")


def cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return None


def v2_cgroup(pid):
    try:
        # A cgroup's name may hold any byte but '/' and NUL (another program's, too).
        for line in Path(f"/proc/{pid}/cgroup").read_bytes().decode(errors="replace").splitlines():
            if line.startswith("0::"):
                return line[3:]
    except OSError:
        pass
    return None


def ppid(pid):
    for line in Path(f"/proc/{pid}/status").read_bytes().decode(errors="replace").splitlines():
        if line.startswith("PPid:"):
            return int(line.split()[1])
    raise ValueError(pid)


def wait_for(pred, timeout=15.0, step=0.1):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def text(b):
    """cgtree's Bytes: a string, or {"bytes": [...]} when not UTF-8."""
    if isinstance(b, dict):
        return bytes(b.get("bytes", [])).decode(errors="replace")
    return b


class Suite:
    def __init__(self, args):
        self.cgtree = str(Path(args.cgtree).resolve())
        self.static_cgtree = str(Path(args.static_cgtree).resolve()) if args.static_cgtree else None
        self.bpf_cgtree = str(Path(args.bpf_cgtree).resolve()) if args.bpf_cgtree else None
        self.capture = Path(args.capture).resolve() if args.capture else None
        self.keep_work = args.keep_work
        self.inject_failure = args.inject_failure
        self.tag = "e2e" + secrets.token_hex(3)          # names: unique per run
        self.cg2 = cgroup2_mount()
        self.top = f"/cgtree-{self.tag}"                  # our cgroup subtree
        self.topdir = self.cg2 / self.top.lstrip("/")
        self.work = Path(tempfile.mkdtemp(prefix=f"cgtree-{self.tag}-", dir="/var/tmp"))
        os.chmod(self.work, 0o755)  # the rootless user reads the image and containers.conf
        self.log = open(self.work / "suite.log", "w")
        self.image = f"{IMAGE_TAG}:{self.tag}"
        self.cleanups = []       # (what, fn), run last-in first-out
        self.pids = {}           # name -> (pid, cmdline substring): everything we started
        self.setups_up = []
        self.setups_failed = []
        self.setups_skipped = []  # (setup, reason)
        self.invocations = 0
        self.passed = 0
        self.failures = []
        self.snap_setups = {}    # setup -> (cgroup subtrees, pids to ask about)
        self.holder = None

    # ------------------------------------------------------------ plumbing
    def say(self, msg):
        print(msg, flush=True)
        self.log.write(msg + "\n")
        self.log.flush()

    def run(self, cmd, check=True, timeout=180, env=None, quiet=False):
        self.log.write("$ " + " ".join(map(str, cmd)) + "\n")
        self.log.flush()
        p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout,
                           env=env, stdin=subprocess.DEVNULL)
        self.log.write(("" if quiet else p.stdout[-4000:] + p.stderr[-4000:]) + f"[rc={p.returncode}]\n")
        if check and p.returncode != 0:
            raise SetupFailed(f"{' '.join(map(str, cmd[:6]))}... exited {p.returncode}: "
                              f"{(p.stderr or p.stdout).strip()[-600:]}")
        return p

    def on_cleanup(self, what, fn):
        self.cleanups.append((what, fn))

    def remember(self, name, pid, pattern):
        """A process we started, killed at the end only if its cmdline still matches."""
        self.pids[name] = (int(pid), pattern)

    def kill_checked(self, pid, pattern, sig=signal.SIGTERM):
        c = cmdline(pid)
        if c is None or pattern not in c:
            return False
        self.log.write(f"kill -{sig.name} {pid} ({c[:120]})\n")
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
        return True

    def stop(self, pid, pattern, timeout=10):
        if self.kill_checked(pid, pattern):
            if not wait_for(lambda: cmdline(pid) is None or pattern not in (cmdline(pid) or ""), timeout):
                self.kill_checked(pid, pattern, signal.SIGKILL)
                wait_for(lambda: cmdline(pid) is None, 5)

    def check(self, cond, what):
        if cond:
            self.passed += 1
            self.log.write(f"ok: {what}\n")
        else:
            self.failures.append(what)
            self.say(f"{'EXPECTED FAILURE' if what.startswith('an injected failure') else 'FAIL'}: {what}")
        return cond

    def eq(self, actual, expected, what):
        return self.check(actual == expected, f"{what}: expected {expected!r}, got {actual!r}")

    # cgtree ---------------------------------------------------------------
    def cgtree_run(self, *args, root=None, ns=False, code=(0,)):
        cmd = [self.cgtree] + (["--root", str(root)] if root else []) + list(args)
        if ns:
            cmd = ["nsenter", "-t", str(self.holder), "-m", "--"] + cmd
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NO_COLOR": "1", "COLUMNS": "200"}
        self.invocations += 1
        p = self.run(cmd, check=False, env=env)
        self.check(p.returncode in code, f"`cgtree {' '.join(args)}`{' (root ' + str(root) + ')' if root else ''} "
                   f"exits {code}, got {p.returncode}: {p.stderr.strip()[-300:]}")
        return p

    def cgtree_json(self, *args, **kw):
        p = self.cgtree_run(*args, "--json", **kw)
        try:
            return json.loads(p.stdout)
        except ValueError:
            self.check(False, f"`cgtree {' '.join(args)} --json` prints JSON")
            return None

    def tree(self, start, **kw):
        """path -> cgroup object of `cgtree START --json -a`."""
        doc = self.cgtree_json(start, "-a", **kw)
        out = {}

        def walk(c):
            out[text(c["path"])] = c
            for ch in c.get("children", []):
                walk(ch)
        if doc:
            walk(doc["cgroup"])
        return out

    def pid(self, pid, **kw):
        return self.cgtree_json("pid", str(pid), **kw)

    # ------------------------------------------------------------ host setup
    def common_setup(self):
        self.root_subtree_control = (self.cg2 / "cgroup.subtree_control").read_text().split()
        self.preexisting = {d for d in ("libpod_parent", "k8s.io", "docker") if (self.cg2 / d).exists()}
        self.on_cleanup("root cgroup.subtree_control", self.restore_root_controllers)
        self.on_cleanup("cgroups", self.remove_cgroups)
        for d in ("holder", "rootful/cli", "kind/cli", "containerd/daemon", "docker/daemon", "rootless", "lxc",
                  "nspawn/machine.slice"):
            (self.topdir / d).mkdir(parents=True, exist_ok=True)

        # A private mount namespace with cgroup2 on /sys/fs/cgroup: the runtimes decide
        # "cgroup v2" by statfs(/sys/fs/cgroup). On a pure v2 host that is already so.
        mnt = "true" if self.cg2 == Path("/sys/fs/cgroup") else "mount -t cgroup2 none /sys/fs/cgroup"
        p = subprocess.Popen(
            ["sh", "-c", 'echo $$ > "$1/cgroup.procs" && exec unshare -m --propagation private -- '
             'sh -c "$2 && exec sleep infinity"', "sh", str(self.topdir / "holder"), mnt],
            start_new_session=True, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        self.holder = p.pid
        self.remember("holder", p.pid, "sleep infinity")
        self.on_cleanup("namespace holder", lambda: (self.stop(p.pid, "sleep infinity"), p.wait(5)))
        ok = wait_for(lambda: cmdline(p.pid) == "sleep infinity"
                      and os.readlink(f"/proc/{p.pid}/ns/mnt") != os.readlink("/proc/self/ns/mnt"), 10)
        if not ok:
            raise SetupFailed("the mount namespace holder did not come up")
        self.holder_mnt = os.readlink(f"/proc/{p.pid}/ns/mnt")

        # The image: busybox-static in a minimal rootfs (no registry is reachable).
        rootfs = self.work / "rootfs"
        for d in ("bin", "etc", "proc", "sys", "dev", "tmp", "root", "home/app", "run", "var"):
            (rootfs / d).mkdir(parents=True, exist_ok=True)
        shutil.copy("/bin/busybox", rootfs / "bin/busybox")
        for a in self.run(["/bin/busybox", "--list"], quiet=True).stdout.split():
            if a != "busybox":
                os.symlink("busybox", rootfs / "bin" / a)
        (rootfs / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\napp:x:101:101:app:/home/app:/bin/sh\n"
                                           "nobody:x:65534:65534:nobody:/:/bin/false\n")
        (rootfs / "etc/group").write_text("root:x:0:\napp:x:101:\nnogroup:x:65534:\n")
        os.chmod(rootfs / "tmp", 0o1777)
        os.chown(rootfs / "home/app", 101, 101)
        self.tar = self.work / "busybox-rootfs.tar"
        self.run(["tar", "-C", rootfs, "-cf", self.tar, "."])

        # containers.conf for every podman call here (CONTAINERS_CONF: only this file).
        nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        nproc = resource.getrlimit(resource.RLIMIT_NPROC)[1]
        nproc = 32768 if nproc == resource.RLIM_INFINITY or nproc > 32768 else nproc
        self.conf = self.work / "containers.conf"
        self.conf.write_text(f"""[containers]
cgroupns = "private"
log_driver = "k8s-file"
netns = "none"
# podman's default ulimits exceed what a host without CAP_SYS_RESOURCE may set
default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]
# no pids limit: hosts where pids is bound to cgroup v1 have no pids.max in v2
pids_limit = 0
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "crun"
""")

    def nsx(self, cmd):
        return ["nsenter", "-t", str(self.holder), "-m", "--"] + [str(c) for c in cmd]

    def pm(self, cgroup, *args, check=True):
        """Rootful podman, started from the leaf cgroup CGROUP (conmon stays there)."""
        return self.run(["sh", "-c", 'echo $$ > "$1/cgroup.procs" && h=$2 c=$3 && shift 3 && '
                         'exec nsenter -t "$h" -m -- env CONTAINERS_CONF="$c" podman "$@"', "sh", self.topdir / cgroup,
                         self.holder, self.conf] + list(args), check=check)

    # ------------------------------------------------------------ rootful podman
    def setup_rootful(self):
        self.pm("rootful/cli", "import", "--change", 'CMD ["/bin/sh"]', self.tar, self.image)
        self.on_cleanup("rootful image", lambda: self.pm("rootful/cli", "rmi", "-f", self.image, check=False))
        self.rootful = {}
        parent = f"{self.top}/rootful"
        for runtime, extra in (("runc", []), ("crun", ["--privileged"])):
            name = f"{self.tag}-{runtime}"
            self.on_cleanup(f"podman {name}", lambda n=name: self.pm("rootful/cli", "rm", "-f", "-t", "0", n, check=False))
            self.pm("rootful/cli", "run", "-d", "--name", name, "--runtime", runtime, "--cgroup-parent", parent,
                    *extra, self.image, "sleep", "3000")
            info = json.loads(self.pm("rootful/cli", "inspect", name).stdout)[0]
            st = info["State"]
            self.rootful[runtime] = {"name": name, "id": info["Id"], "init": st["Pid"], "conmon": st["ConmonPid"]}
            self.remember(f"{name} init", st["Pid"], "sleep 3000")
            self.remember(f"{name} conmon", st["ConmonPid"], "conmon")
        # crun rootful without --privileged fails on hosts without CAP_SYS_RESOURCE
        # (RLIMIT_MEMLOCK for the device eBPF program); where it runs, it is asserted too.
        name = f"{self.tag}-crun-unpriv"
        self.on_cleanup(f"podman {name}", lambda: self.pm("rootful/cli", "rm", "-f", "-t", "0", name, check=False))
        p = self.pm("rootful/cli", "run", "-d", "--name", name, "--runtime", "crun", "--cgroup-parent", parent,
                    self.image, "sleep", "3000", check=False)
        if p.returncode == 0:
            info = json.loads(self.pm("rootful/cli", "inspect", name).stdout)[0]
            self.rootful["crun-unpriv"] = {"name": name, "id": info["Id"], "init": info["State"]["Pid"],
                                           "conmon": info["State"]["ConmonPid"]}
        else:
            self.say(f"note: rootful crun without --privileged does not start here: {p.stderr.strip()[-160:]}")
            self.pm("rootful/cli", "rm", "-f", name, check=False)
        r = self.rootful["runc"]
        self.pm("rootful/cli", "exec", "-d", "--user", "101", r["name"], "sleep", "3001")
        r["user101"] = wait_for(lambda: next((p for p in self.procs_in(f"rootful/libpod-{r['id']}")
                                              if cmdline(p) == "sleep 3001"), None))
        if not r["user101"]:
            raise SetupFailed("podman exec --user 101 left no process")
        self.snap_setups["rootful-podman"] = ([f"{self.top}/rootful"],
                                              [r["init"], r["conmon"], r["user101"], self.rootful["crun"]["init"]])

    def procs_in(self, rel):
        try:
            return [int(x) for x in (self.topdir / rel / "cgroup.procs").read_text().split()]
        except OSError:
            return []

    def assert_rootful(self):
        t = self.tree(f"{self.top}/rootful")
        for key, c in self.rootful.items():
            idn = (t.get(f"{self.top}/rootful/libpod-{c['id']}") or {}).get("identity") or {}
            self.eq(idn.get("kind"), "podman-container", f"rootful {key}: cgroup kind")
            self.eq(idn.get("id"), c["id"], f"rootful {key}: container id")
            self.eq(text(idn.get("name")), c["name"], f"rootful {key}: container name")
            self.eq(idn.get("rootless"), False, f"rootful {key}: not rootless")
            self.eq(text(idn.get("image")), self.image, f"rootful {key}: image")
            d = self.pid(c["init"]) or {}
            ctr = d.get("container") or {}
            self.eq((ctr.get("id"), text(ctr.get("name")), ctr.get("rootless")), (c["id"], c["name"], False),
                    f"rootful {key}: `cgtree pid` of the init")
            d = self.pid(c["conmon"]) or {}
            role = d.get("role") or {}
            self.eq((role.get("kind"), role.get("id"), text(role.get("name"))), ("conmon", c["id"], c["name"]),
                    f"rootful {key}: `cgtree pid` of its conmon")
        r = self.rootful["runc"]
        d = self.pid(r["user101"]) or {}
        self.eq(((d.get("container") or {}).get("id"), d.get("uid")), (r["id"], 101),
                "rootful: exec'd process runs as uid 101 (no user namespace) in the runc container")
        out = self.cgtree_run(f"{self.top}/rootful").stdout
        for c in self.rootful.values():
            self.check(c["name"] in out and c["id"][:12] in out, f"rootful: tree view names {c['name']}")

    # ------------------------------------------------------------ rootless podman
    def setup_rootless(self):
        used = {int(l.split(":")[2]) for l in Path("/etc/passwd").read_text().splitlines() if l.count(":") >= 6}
        self.uid = next(u for u in range(2100, 3000) if u not in used)
        self.user = f"cgte2e{self.uid}"
        # A subordinate range overlapping nobody else's.
        taken = []
        for f in ("/etc/subuid", "/etc/subgid"):
            if Path(f).exists():
                for l in Path(f).read_text().splitlines():
                    p = l.split(":")
                    if len(p) == 3 and p[1].isdigit() and p[2].isdigit():
                        taken.append((int(p[1]), int(p[1]) + int(p[2])))
        self.sub = next(s for s in range(100000, 2**31, 65536)
                        if all(s + 65536 <= a or s >= b for a, b in taken))
        self.on_cleanup("rootless user", self.remove_user)
        self.run(["useradd", "-m", "-s", "/bin/sh", "-u", self.uid, "-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0",
                  self.user])
        rng = f"{self.sub}-{self.sub + 65535}"
        self.run(["usermod", "--add-subuids", rng, "--add-subgids", rng, self.user])
        xdg = Path(f"/run/user/{self.uid}")
        xdg.mkdir(mode=0o700, parents=True, exist_ok=False)
        os.chown(xdg, self.uid, self.uid)
        # Delegation by hand, as systemd's Delegate=yes would do it.
        dlg = self.topdir / "rootless"
        for f in ("", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads"):
            os.chown(dlg / f if f else dlg, self.uid, self.uid)
        self.run(["runuser", "-u", self.user, "--", "mkdir", dlg / "shell"])
        self.on_cleanup("rootless pause process", self.stop_pause)
        self.pmu("import", "--change", 'CMD ["/bin/sh"]', self.tar, self.image)
        self.rootless = {}
        for key, extra in (("parent", ["--cgroup-parent", f"{self.top}/rootless"]), ("noparent", [])):
            name = f"{self.tag}-rootless-{key}"
            self.on_cleanup(f"podman {name}", lambda n=name: self.pmu("rm", "-f", "-t", "0", n, check=False))
            self.pmu("run", "-d", "--name", name, *extra, self.image, "sleep", "3000")
            info = json.loads(self.pmu("inspect", name).stdout)[0]
            self.rootless[key] = {"name": name, "id": info["Id"], "init": info["State"]["Pid"],
                                  "conmon": info["State"]["ConmonPid"]}
        r = self.rootless["parent"]
        self.pmu("exec", "-d", "--user", "101", r["name"], "sleep", "3001")
        r["user101"] = wait_for(lambda: next((p for p in self.procs_in(f"rootless/libpod-{r['id']}")
                                              if cmdline(p) == "sleep 3001"), None))
        if not r["user101"]:
            raise SetupFailed("rootless podman exec --user 101 left no process")
        n = self.rootless["noparent"]
        self.snap_setups["rootless-podman"] = ([f"{self.top}/rootless"],
                                               [r["init"], r["conmon"], r["user101"], n["init"], n["conmon"]])

    def pmu(self, *args, check=True):
        env = (f"HOME=/home/{self.user} USER={self.user} LOGNAME={self.user} PATH=/usr/local/bin:/usr/bin:/bin "
               f"XDG_RUNTIME_DIR=/run/user/{self.uid} CONTAINERS_CONF={self.conf}").split()
        return self.run(["sh", "-c", 'echo $$ > "$1" && shift && exec "$@"', "sh",
                         self.topdir / "rootless/shell/cgroup.procs"]
                        + self.nsx(["runuser", "-u", self.user, "--", "env", "-i", *env, "podman", *args]),
                        check=check)

    def stop_pause(self):
        try:
            pid = int(Path(f"/run/user/{self.uid}/libpod/tmp/pause.pid").read_text())
        except (OSError, ValueError, AttributeError):
            return
        try:
            mine = os.stat(f"/proc/{pid}").st_uid == self.uid
        except OSError:
            return
        if mine:
            self.stop(pid, "catatonit")

    def remove_user(self):
        if not hasattr(self, "user"):
            return

        def user_procs():
            out = []
            for p in Path("/proc").iterdir():
                try:
                    if p.name.isdigit() and p.stat().st_uid in (self.uid,) or (
                            p.name.isdigit() and self.sub <= p.stat().st_uid < self.sub + 65536):
                        out.append(int(p.name))
                except OSError:
                    pass
            return out
        # conmon and exec sessions exit shortly after `podman rm`; whatever of the
        # user still runs in our cgroups then is stopped by PID.
        if not wait_for(lambda: (self.ours_running(), not user_procs())[1], 10):
            for pid in user_procs():
                cg = v2_cgroup(pid) or ""
                if cg.startswith(self.top + "/"):
                    self.stop(pid, cmdline(pid) or "\0")
        self.run(["userdel", "-r", self.user], check=False)
        for f in ("/etc/subuid", "/etc/subgid"):
            lines = Path(f).read_text().splitlines(keepends=True)
            if any(l.startswith(self.user + ":") for l in lines):
                self.run(["usermod", "--del-subuids" if f.endswith("uid") else "--del-subgids",
                          f"{self.sub}-{self.sub + 65535}", self.user], check=False)
        shutil.rmtree(f"/run/user/{self.uid}", ignore_errors=True)

    def assert_rootless(self):
        t = self.tree(f"{self.top}/rootless")
        r = self.rootless["parent"]
        idn = (t.get(f"{self.top}/rootless/libpod-{r['id']}") or {}).get("identity") or {}
        self.eq((idn.get("kind"), idn.get("id"), text(idn.get("name"))), ("podman-container", r["id"], r["name"]),
                "rootless: container cgroup with its id and name")
        self.eq((idn.get("rootless"), idn.get("user")), (True, self.uid), "rootless: rootless, of the test user")
        d = self.pid(r["user101"]) or {}
        ctr = d.get("container") or {}
        self.eq((ctr.get("id"), ctr.get("rootless"), ctr.get("user")), (r["id"], True, self.uid),
                "rootless: `cgtree pid` of the uid-101 process names the container")
        self.eq(d.get("uid"), self.sub + 100, "rootless: container uid 101 is host uid subuid-start+100")
        user = d.get("user") or {}
        self.eq((user.get("uid"), user.get("ns_uid"), user.get("ns_name")), (self.sub + 100, 101, "app"),
                "rootless: `cgtree pid` shows host uid and uid 101 (app) inside the user namespace")
        n = self.rootless["noparent"]
        d = self.pid(n["init"]) or {}
        ctr = d.get("container") or {}
        self.eq((ctr.get("id"), text(ctr.get("name")), ctr.get("rootless")), (n["id"], n["name"], True),
                "rootless without --cgroup-parent: init named through its conmon")
        self.eq(((d.get("role") or {}).get("kind"), (d.get("role") or {}).get("id")), ("started", n["id"]),
                "rootless without --cgroup-parent: `cgtree pid` of the init says conmon started it outside")
        shell = (t.get(f"{self.top}/rootless/shell") or {}).get("processes") or []
        role = next((p.get("role") for p in shell if p.get("pid") == n["init"]), None) or {}
        self.eq((role.get("kind"), role.get("id"), text(role.get("name"))), ("started", n["id"], n["name"]),
                "rootless without --cgroup-parent: the tree labels the init in the caller's cgroup (conmon's pidfile)")
        d = self.pid(n["conmon"]) or {}
        self.eq(((d.get("role") or {}).get("kind"), (d.get("role") or {}).get("id")), ("conmon", n["id"]),
                "rootless: conmon role")
        # userns: the container's namespace and its maps
        ns = os.stat(f"/proc/{r['init']}/ns/user").st_ino
        u = (self.cgtree_json("userns", str(ns)) or {}).get("namespaces") or [{}]
        u = u[0]
        self.eq(u.get("uid_map"), [{"inside": 0, "outside": self.uid, "count": 1},
                                   {"inside": 1, "outside": self.sub, "count": 65536}],
                f"rootless: `cgtree userns {ns}` shows the uid map")
        self.eq((u.get("owner"), u.get("owner_source")), (self.uid, "ioctl"),
                "rootless: the namespace's owner is the test user, asked of the kernel")
        self.check(r["id"] in [c.get("id") for c in u.get("containers", [])],
                   "rootless: `cgtree userns` lists the container in the namespace")
        out = self.cgtree_run(f"{self.top}/rootless", "-U").stdout
        self.check(f"{self.sub + 100}(app in ctr)" in out or f"{self.sub + 100}(101 in ctr)" in out,
                   "rootless: tree -U shows host uid with the container user")

    # ------------------------------------------------------------ containerd
    def ctr(self, *args, check=True):
        return self.run(self.nsx(["ctr", "--address", self.ctrd_sock, "-n", CTRD_NS, *args]), check=check)

    def setup_containerd(self):
        self.ctrd_conf = self.work / "containerd.toml"
        self.ctrd_conf.write_text(self.run(["containerd", "config", "default"]).stdout)
        self.ctrd_sock = "/run/containerd/containerd.sock"
        if Path(self.ctrd_sock).exists() and self.run(["ctr", "--address", self.ctrd_sock, "version"],
                                                     check=False).returncode == 0:
            raise SetupFailed("a containerd already serves /run/containerd/containerd.sock; "
                              "this suite starts its own and will not share one")
        p = subprocess.Popen(["sh", "-c", 'echo $$ > "$1/cgroup.procs" && exec nsenter -t "$2" -m -- '
                              'containerd --config "$3"', "sh", str(self.topdir / "containerd/daemon"),
                              str(self.holder), str(self.ctrd_conf)],
                             start_new_session=True, stdin=subprocess.DEVNULL,
                             stdout=open(self.work / "containerd.log", "w"), stderr=subprocess.STDOUT)
        self.ctrd = p.pid
        self.remember("containerd", p.pid, f"containerd --config {self.ctrd_conf}")
        self.on_cleanup("containerd", lambda: (self.stop(p.pid, f"containerd --config {self.ctrd_conf}"),
                                               p.wait(10)))
        if not wait_for(lambda: self.ctr("version", check=False).returncode == 0, 20):
            raise SetupFailed("containerd did not answer on its socket")
        self.oci = self.work / "busybox-oci.tar"
        self.pm("rootful/cli", "save", "--format", "oci-archive", "-o", self.oci, self.image)
        self.ctr("images", "import", "--base-name", IMAGE_TAG, self.oci)
        self.on_cleanup("containerd image", lambda: self.ctr("images", "rm", self.image, check=False))
        self.pod = self.ctr_pod(f"{self.top}/containerd/kubepods/besteffort", "cgtree-ns", f"web-{self.tag}")
        self.snap_setups["containerd-pods"] = ([f"{self.top}/containerd"],
                                               [self.pod["sb_pid"], self.pod["app_pid"], self.pod["shim"]])

    def ctr_pod(self, qos_parent, ns, name):
        pod = {"uid": str(uuid.uuid4()), "sb": secrets.token_hex(32), "app": secrets.token_hex(32),
               "ns": ns, "name": name}
        pod["cg"] = f"{qos_parent}/pod{pod['uid']}"
        a = lambda k, v: ["--annotation", f"io.kubernetes.cri.{k}={v}"]
        common = (a("sandbox-id", pod["sb"]) + a("sandbox-name", name) + a("sandbox-namespace", ns)
                  + a("sandbox-uid", pod["uid"]))
        for key in ("sb", "app"):
            self.on_cleanup(f"ctr task {pod[key][:12]}", lambda i=pod[key]: self.ctr_remove(i))
        # --cpu-shares 0: ctr's default 1024 needs a cpu controller in cgroup v2
        self.ctr("run", "-d", "--null-io", "--cpu-shares", "0", "--cgroup", f"{pod['cg']}/{pod['sb']}",
                 *a("container-type", "sandbox"), *common,
                 *a("sandbox-log-directory", f"/var/log/pods/{ns}_{name}_{pod['uid']}"),
                 self.image, pod["sb"], "sleep", "3000")
        pod["sb_pid"] = self.task_pid(pod["sb"])
        self.ctr("run", "-d", "--null-io", "--cpu-shares", "0", "--cgroup", f"{pod['cg']}/{pod['app']}",
                 "--with-ns", f"network:/proc/{pod['sb_pid']}/ns/net", "--with-ns", f"ipc:/proc/{pod['sb_pid']}/ns/ipc",
                 "--with-ns", f"uts:/proc/{pod['sb_pid']}/ns/uts",
                 *a("container-type", "container"), *a("container-name", "app"), *common,
                 *a("image-name", self.image), self.image, pod["app"], "sleep", "3001")
        pod["app_pid"] = self.task_pid(pod["app"])
        pod["shim"] = ppid(pod["sb_pid"])
        self.remember(f"shim {pod['sb'][:12]}", pod["shim"], "containerd-shim-runc-v2")
        if ppid(pod["app_pid"]) != pod["shim"]:
            raise SetupFailed("the app task does not share the sandbox's shim")
        return pod

    def task_pid(self, cid):
        for line in self.ctr("tasks", "ls").stdout.splitlines()[1:]:
            f = line.split()
            if f and f[0] == cid:
                return int(f[1])
        raise SetupFailed(f"no task {cid}")

    def ctr_remove(self, cid):
        self.ctr("tasks", "kill", "-s", "SIGKILL", cid, check=False)
        wait_for(lambda: self.ctr("tasks", "rm", cid, check=False).returncode == 0
                 or self.ctr("tasks", "ls", check=False).stdout.find(cid) < 0, 10)
        self.ctr("containers", "rm", cid, check=False)

    def assert_pod(self, label, pod, t, node=None):
        cg = t.get(pod["cg"]) or {}
        idn = cg.get("identity") or {}
        podj = idn.get("pod") or {}
        self.eq((idn.get("kind"), text(podj.get("namespace")), text(podj.get("name")), podj.get("uid")),
                ("kube-pod", pod["ns"], pod["name"], pod["uid"]), f"{label}: pod cgroup with namespace/name/uid")
        sb = (t.get(f"{pod['cg']}/{pod['sb']}") or {}).get("identity") or {}
        self.eq((sb.get("id"), sb.get("sandbox")), (pod["sb"], True), f"{label}: sandbox cgroup")
        app = (t.get(f"{pod['cg']}/{pod['app']}") or {}).get("identity") or {}
        self.eq((app.get("kind"), app.get("id"), text(app.get("name")), app.get("sandbox")),
                ("kube-container", pod["app"], "app", False), f"{label}: app container cgroup")
        self.eq(text(app.get("image")), self.image, f"{label}: app container image")
        d = self.pid(pod["shim"]) or {}
        role = d.get("role") or {}
        rp = role.get("pod") or {}
        self.eq((role.get("kind"), role.get("sandbox"), role.get("namespace")), ("shim", pod["sb"], "k8s.io"),
                f"{label}: `cgtree pid` of the shim: shim of the sandbox")
        self.eq((text(rp.get("namespace")), text(rp.get("name")), rp.get("uid")),
                (pod["ns"], pod["name"], pod["uid"]), f"{label}: the shim is tied to its pod")
        names = sorted(text(c.get("name")) for c in role.get("containers", []) if c.get("name"))
        self.check("app" in names, f"{label}: the shim lists the app container: {names}")
        d = self.pid(pod["app_pid"]) or {}
        pc, pj = d.get("pod_container") or {}, d.get("pod") or {}
        self.eq((pc.get("id"), text(pc.get("name")), text(pj.get("namespace")), text(pj.get("name")), pj.get("uid")),
                (pod["app"], "app", pod["ns"], pod["name"], pod["uid"]), f"{label}: `cgtree pid` of the app task")
        if node:
            self.eq(((d.get("kind_node") or {}).get("name"), (d.get("kind_node") or {}).get("cluster")),
                    node, f"{label}: `cgtree pid` of the app task names the kind node")
        return d

    def assert_containerd(self):
        t = self.tree(f"{self.top}/containerd")
        self.assert_pod("containerd", self.pod, t)
        out = self.cgtree_run(f"{self.top}/containerd").stdout
        self.check(f"{self.pod['ns']}/{self.pod['name']}" in out, "containerd: tree view names the pod")

    # ------------------------------------------------------------ docker
    def setup_docker(self):
        dockerd = shutil.which("dockerd")
        if not dockerd:
            raise SetupFailed("dockerd is not installed (apt-get install docker.io)")
        for p in Path("/proc").iterdir():
            c = cmdline(p.name) if p.name.isdigit() else None
            if c and os.path.basename(c.split(" ")[0]) == "dockerd":
                raise SetupFailed(f"a dockerd already runs (pid {p.name}); this suite starts its own "
                                  "on /var/lib/docker and will not share it")
        self.docker_sock = self.work / "docker.sock"
        args = ["--containerd", self.ctrd_sock, "--exec-opt", "native.cgroupdriver=cgroupfs",
                "--cgroup-parent", f"{self.top}/docker", "-H", f"unix://{self.docker_sock}",
                "--pidfile", self.work / "docker.pid", "--iptables=false", "--ip6tables=false",
                "--bridge=none", "--ip-forward=false", "--ip-masq=false", "--userland-proxy=false"]
        p = subprocess.Popen(["sh", "-c", 'echo $$ > "$1/cgroup.procs" && h=$2 && shift 2 && '
                              'exec nsenter -t "$h" -m -- "$@"',
                              "sh", str(self.topdir / "docker/daemon"), str(self.holder), dockerd]
                             + [str(a) for a in args],
                             start_new_session=True, stdin=subprocess.DEVNULL,
                             stdout=open(self.work / "dockerd.log", "w"), stderr=subprocess.STDOUT)
        self.remember("dockerd", p.pid, "dockerd")
        self.on_cleanup("dockerd", lambda: (self.stop(p.pid, "dockerd", 20), p.wait(10)))
        if not wait_for(lambda: self.docker("version", check=False).returncode == 0, 30):
            log = (self.work / "dockerd.log").read_text()[-800:]
            raise SetupFailed(f"dockerd did not come up: {log}")
        self.docker("import", "--change", 'CMD ["/bin/sh"]', self.tar, self.image)
        self.on_cleanup("docker image", lambda: self.docker("rmi", "-f", self.image, check=False))
        name = f"{self.tag}-docker"
        self.on_cleanup(f"docker {name}", lambda: self.docker("rm", "-f", name, check=False))
        self.docker("run", "-d", "--name", name, "--network", "none", self.image, "sleep", "3000")
        info = json.loads(self.docker("inspect", name).stdout)[0]
        self.dk = {"name": name, "id": info["Id"], "init": info["State"]["Pid"]}
        self.dk["shim"] = ppid(self.dk["init"])
        self.snap_setups["docker"] = ([f"{self.top}/docker", f"{self.top}/containerd/daemon"],
                                      [self.dk["init"], self.dk["shim"]])

    def docker(self, *args, check=True):
        client = "/usr/bin/docker" if Path("/usr/bin/docker").exists() else "docker"
        return self.run([client, "-H", f"unix://{self.docker_sock}", *args], check=check)

    def assert_docker(self):
        t = self.tree(f"{self.top}/docker")
        idn = (t.get(f"{self.top}/docker/{self.dk['id']}") or {}).get("identity") or {}
        self.eq((idn.get("kind"), idn.get("runtime"), idn.get("id"), text(idn.get("name"))),
                ("docker-container", "docker", self.dk["id"], self.dk["name"]), "docker: container cgroup")
        self.eq(text(idn.get("image")), self.image, "docker: image")
        d = self.pid(self.dk["init"]) or {}
        ctr = d.get("container") or {}
        self.eq((ctr.get("runtime"), ctr.get("id"), text(ctr.get("name"))), ("docker", self.dk["id"], self.dk["name"]),
                "docker: `cgtree pid` of the init")

    # ------------------------------------------------------------ kind-style node
    def setup_kind(self):
        # As kind's podman provider runs a node (pkg/cluster/internal/providers/podman/
        # provision.go, commonArgs and runArgsForNode): named <cluster>-control-plane,
        # labelled io.x-k8s.kind.cluster=<cluster> and io.x-k8s.kind.role=<role>,
        # --privileged, tmpfs on /tmp and /run, its own /var, from an image named as
        # kind's node image (kindest/node, short for docker.io/kindest/node). Unlike kind,
        # no --hostname: the node keeps podman's default hostname (the short id), so what
        # names the node must be the runtime's evidence, not the hostname.
        self.cluster = f"c{self.tag}"
        node = f"{self.cluster}-control-plane"
        self.kind_image = f"docker.io/kindest/node:v0-cgtree-{self.tag}"
        nr, nl, nv = self.work / "node-rootfs", self.work / "node-lab", self.work / "node-var"
        for d in ("usr", "etc", "proc", "sys", "dev", "run", "tmp", "root", "lab", "var"):
            (nr / d).mkdir(parents=True, exist_ok=True)
        for d in ("lib/containerd", "tmp"):
            (nv / d).mkdir(parents=True, exist_ok=True)
        nl.mkdir()
        for l in ("bin", "sbin", "lib", "lib64"):
            if Path(f"/{l}").is_symlink():
                os.symlink(f"usr/{l}", nr / l)
        os.chmod(nr / "tmp", 0o1777)
        os.chmod(nv / "tmp", 0o1777)
        self.run(["tar", "-C", nr, "-cf", self.work / "node-rootfs.tar", "."])
        self.on_cleanup("kind node image", lambda: self.pm("kind/cli", "rmi", "-f", self.kind_image, check=False))
        self.pm("kind/cli", "import", self.work / "node-rootfs.tar", self.kind_image)
        shutil.copy(self.oci, nl / "image.tar")
        shutil.copy(self.ctrd_conf, nl / "containerd.toml")
        pod = {"uid": str(uuid.uuid4()), "sb": secrets.token_hex(32), "app": secrets.token_hex(32),
               "ns": "kube-system", "name": f"etcd-{node}"}
        pod["inner_cg"] = f"/kubepods/besteffort/pod{pod['uid']}"
        a = lambda k, v: f"--annotation io.kubernetes.cri.{k}={v}"
        common = " ".join([a("sandbox-id", pod["sb"]), a("sandbox-name", pod["name"]),
                           a("sandbox-namespace", pod["ns"]), a("sandbox-uid", pod["uid"])])
        (nl / "entrypoint.sh").write_text(f"""#!/bin/sh
# kind-like node: PID 1 moves to /init.scope (no internal processes), containerd inside
mkdir -p /sys/fs/cgroup/init.scope && echo $$ > /sys/fs/cgroup/init.scope/cgroup.procs
containerd --config /lab/containerd.toml > /lab/containerd.log 2>&1 &
i=0; while [ $i -lt 200 ] && ! ctr version >/dev/null 2>&1; do sleep 0.1; i=$((i+1)); done
ctr -n k8s.io images import --base-name {IMAGE_TAG} /lab/image.tar > /lab/run.log 2>&1 &&
ctr -n k8s.io run -d --null-io --cpu-shares 0 --cgroup {pod['inner_cg']}/{pod['sb']} \\
  {a('container-type', 'sandbox')} {common} {self.image} {pod['sb']} sleep 3000 >> /lab/run.log 2>&1 &&
SB=$(ctr -n k8s.io tasks ls | awk '$1=="{pod['sb']}"{{print $2}}') &&
ctr -n k8s.io run -d --null-io --cpu-shares 0 --cgroup {pod['inner_cg']}/{pod['app']} \\
  --with-ns network:/proc/$SB/ns/net --with-ns ipc:/proc/$SB/ns/ipc --with-ns uts:/proc/$SB/ns/uts \\
  {a('container-type', 'container')} {a('container-name', 'app')} {common} {a('image-name', self.image)} \\
  {self.image} {pod['app']} sleep 3001 >> /lab/run.log 2>&1
echo "rc=$?" > /lab/done
exec sleep 100000
""")
        os.chmod(nl / "entrypoint.sh", 0o755)
        self.on_cleanup(f"kind node {node}", lambda: self.pm("kind/cli", "rm", "-f", "-t", "0", node, check=False))
        self.pm("kind/cli", "run", "-d", "--name", node, "--label", f"io.x-k8s.kind.cluster={self.cluster}",
                "--label", "io.x-k8s.kind.role=control-plane", "--privileged", "--runtime", "runc",
                "--cgroup-parent", f"{self.top}/kind", "--tmpfs", "/tmp", "--tmpfs", "/run",
                "-v", "/usr:/usr:ro", "-v", "/etc:/etc:ro", "-v", f"{nv}:/var", "-v", f"{nl}:/lab",
                self.kind_image, "/lab/entrypoint.sh")
        if not wait_for(lambda: (nl / "done").exists(), 30) or (nl / "done").read_text().strip() != "rc=0":
            raise SetupFailed(f"containerd in the node did not run its pod: {(nl / 'run.log').read_text()[-600:]}")
        info = json.loads(self.pm("kind/cli", "inspect", node).stdout)[0]
        self.node = {"name": node, "id": info["Id"], "pid": info["State"]["Pid"], "conmon": info["State"]["ConmonPid"],
                     "hostname": info["Config"].get("Hostname")}
        if self.node["hostname"] != info["Id"][:12]:
            raise SetupFailed(f"the node's hostname is {self.node['hostname']!r}, not podman's default (the short id)")
        self.kind_evidence(info["Id"])
        base = f"{self.top}/kind/libpod-{self.node['id']}"
        pod["cg"] = base + pod["inner_cg"]
        pod["sb_pid"] = next(iter(self.procs_in(pod["cg"][len(self.top) + 1:] + "/" + pod["sb"])), None)
        pod["app_pid"] = next(iter(self.procs_in(pod["cg"][len(self.top) + 1:] + "/" + pod["app"])), None)
        if not pod["sb_pid"] or not pod["app_pid"]:
            raise SetupFailed("the node's pod tasks are not in their cgroups")
        pod["shim"] = ppid(pod["sb_pid"])
        self.node_pod = pod
        self.snap_setups["kind-node"] = ([f"{self.top}/kind"],
                                         [self.node["pid"], pod["shim"], pod["sb_pid"], pod["app_pid"]])

    def kind_evidence(self, cid):
        """Where this podman keeps what names the node (said in the log, for the record)."""
        store = Path("/var/lib/containers/storage")
        try:
            meta = next(json.loads(c.get("metadata") or "{}") for c in
                        json.loads((store / "overlay-containers/containers.json").read_text()) if c.get("id") == cid)
        except (OSError, ValueError, StopIteration):
            meta = {}
        where = []
        for f in (store / "libpod/bolt_state.db", store / "db.sql",
                  store / f"overlay-containers/{cid}/userdata/config.json"):
            try:
                data = f.read_bytes()
            except OSError:
                continue
            if b"io.x-k8s.kind.cluster" in data and self.cluster.encode() in data:
                where.append(str(f))
        backend = self.pm("kind/cli", "info", "--format", "{{.Host.DatabaseBackend}}", check=False)
        self.say(f"kind: containers.json image-name {meta.get('image-name')!r}; kind labels found in {where}; "
                 f"database backend: {backend.stdout.strip() if backend.returncode == 0 else 'not reported (BoltDB)'}")

    def assert_kind(self):
        t = self.tree(f"{self.top}/kind")
        base = f"{self.top}/kind/libpod-{self.node['id']}"
        idn = (t.get(base) or {}).get("identity") or {}
        kn = idn.get("kind_node") or {}
        self.eq((idn.get("kind"), idn.get("id"), text(idn.get("name"))),
                ("podman-container", self.node["id"], self.node["name"]), "kind: node container cgroup")
        self.eq((kn.get("name"), kn.get("cluster")), (self.node["name"], self.cluster),
                "kind: the node container is a kind node of its cluster (named by the container's name, "
                "its hostname being podman's default)")
        # podman 4.3 keeps the labels only in its BoltDB (libpod/bolt_state.db): read there.
        self.eq(idn.get("node"), {"distribution": "kind", "name": self.node["name"], "cluster": self.cluster,
                                  "role": "control-plane"},
                "kind: the node container's `node` (kind's labels from podman's database; the name is the container's)")
        want = (self.node["name"], self.cluster)
        d = self.assert_pod("kind", self.node_pod, t, node=want)
        ctr = d.get("container") or {}
        self.eq((ctr.get("id"), ctr.get("runtime")), (self.node["id"], "podman"),
                "kind: the pod task's outermost container is the node")
        d = self.pid(self.node["pid"]) or {}
        self.eq(((d.get("kind_node") or {}).get("cluster"), (d.get("container") or {}).get("id")),
                (self.cluster, self.node["id"]), "kind: `cgtree pid` of the node's PID 1")
        out = self.cgtree_run(f"{self.top}/kind").stdout
        self.check(f"kind node {self.node['name']}" in out or self.node["name"] in out,
                   "kind: tree view names the node")
        # the same from the runtimes' own mount namespace, where cgroup2 is /sys/fs/cgroup
        t2 = self.tree(f"{self.top}/kind", ns=True)
        self.eq(self.project_tree(t2, self.top), self.project_tree(t, self.top),
                "kind: the tree identifies the same seen from a pure cgroup2 mount namespace")

    # ------------------------------------------------------------ LXC
    def setup_lxc(self):
        # lxc-start as root takes PID 1's cgroup as its base (src/lxc/cgroups/cgfsng.c,
        # __initialize_cgroups: /proc/1/cgroup unless lxc.cgroup.relative), which would
        # put lxc.payload.<name> at the root; with lxc.cgroup.relative = 1 it reads
        # /proc/self/cgroup instead, so started from <top>/lxc it makes
        # <top>/lxc/lxc.monitor.<name> (the monitor moves there), <top>/lxc/lxc.payload.<name>
        # (the container) and, when the container stops, <top>/lxc/lxc.pivot (the
        # monitor's last cgroup, CGROUP_PIVOT in src/lxc/cgroups/cgroup.h). It runs in the
        # suite's mount namespace: there cgroup2 is /sys/fs/cgroup and LXC sees a pure
        # cgroup2 layout (on the host's hybrid layout it would also make v1 cgroups).
        self.lxc = {"name": f"{self.tag}-lxc", "path": self.work / "lxc"}
        name, lxcpath = self.lxc["name"], self.lxc["path"]
        cdir = lxcpath / name
        # LXC's lock directory for this lxcpath (src/lxc/lxclock.c: /run/lxc/lock/<lxcpath>)
        self.lxc["lock"] = Path("/run/lxc/lock") / str(lxcpath).lstrip("/")
        self.lxc["lock_parents"] = [p for p in [self.lxc["lock"], *self.lxc["lock"].parents]
                                    if p.is_relative_to("/run/lxc") and not p.exists()]
        self.on_cleanup(f"lxc container {name}", self.remove_lxc)
        shutil.copytree(self.work / "rootfs", cdir / "rootfs", symlinks=True)
        (cdir / "config").write_text(f"""# cgtree live suite: busybox, no network, cgroups below the caller's
lxc.uts.name = {name}
lxc.rootfs.path = dir:{cdir / 'rootfs'}
lxc.init.cmd = /bin/sleep 3000
lxc.net.0.type = empty
lxc.cgroup.relative = 1
lxc.apparmor.profile = unconfined
lxc.console.path = none
lxc.tty.max = 0
lxc.log.file = {cdir / 'lxc.log'}
lxc.log.level = INFO
""")
        self.run(["sh", "-c", 'echo $$ > "$1/cgroup.procs" && h=$2 && shift 2 && exec nsenter -t "$h" -m -- "$@"',
                  "sh", self.topdir / "lxc", self.holder, "lxc-start", "-P", lxcpath, "-n", name, "-d"])
        mon_cg = f"lxc/lxc.monitor.{name}"
        pay_cg = f"lxc/lxc.payload.{name}"
        self.lxc["monitor"] = wait_for(lambda: next(iter(self.procs_in(mon_cg)), None), 10)
        self.lxc["init"] = wait_for(lambda: next(iter(self.procs_in(pay_cg)), None), 10)
        if self.lxc["monitor"]:
            self.remember(f"lxc {name} monitor", self.lxc["monitor"], "[lxc monitor]")
        if self.lxc["init"]:
            self.remember(f"lxc {name} init", self.lxc["init"], "sleep 3000")
        if not self.lxc["monitor"] or not self.lxc["init"]:
            cgs = sorted(str(p.relative_to(self.topdir)) for p in (self.topdir / "lxc").iterdir() if p.is_dir())
            log = (cdir / "lxc.log").read_text(errors="replace")[-600:] if (cdir / "lxc.log").exists() else ""
            raise SetupFailed(f"lxc-start left no monitor or init in lxc.monitor/lxc.payload (cgroups: {cgs}): {log}")
        info = self.run(self.nsx(["lxc-info", "-P", lxcpath, "-n", name, "-p", "-H"])).stdout.strip()
        if info != str(self.lxc["init"]):
            raise SetupFailed(f"lxc-info says the init is {info!r}, the payload cgroup holds {self.lxc['init']}")
        self.say(f"lxc: cgroups {mon_cg}, {pay_cg}; monitor {self.lxc['monitor']}: "
                 f"{cmdline(self.lxc['monitor'])!r}")
        self.snap_setups["lxc"] = ([f"{self.top}/lxc"], [self.lxc["init"], self.lxc["monitor"]])

    def remove_lxc(self):
        name, lxcpath = self.lxc["name"], self.lxc["path"]
        if self.holder and cmdline(self.holder) == "sleep infinity":
            self.run(self.nsx(["lxc-stop", "-P", lxcpath, "-n", name, "-k"]), check=False, timeout=30)
        for key, pat in (("init", "sleep 3000"), ("monitor", "[lxc monitor]")):
            if self.lxc.get(key):
                self.stop(self.lxc[key], pat)
        if (lxcpath / name).exists():
            if self.holder and cmdline(self.holder) == "sleep infinity":
                self.run(self.nsx(["lxc-destroy", "-P", lxcpath, "-n", name]), check=False, timeout=60)
            shutil.rmtree(lxcpath / name, ignore_errors=True)
        shutil.rmtree(self.lxc["lock"], ignore_errors=True)
        for d in self.lxc["lock_parents"]:  # deepest first: only what this run made
            self.try_rmdir(d)

    def assert_lxc(self):
        name, lxcpath = self.lxc["name"], str(self.lxc["path"])
        t = self.tree(f"{self.top}/lxc")
        pay = (t.get(f"{self.top}/lxc/lxc.payload.{name}") or {}).get("identity") or {}
        self.eq((pay.get("kind"), pay.get("runtime"), text(pay.get("name"))), ("lxc-container", "lxc", name),
                "lxc: the payload cgroup is the LXC container")
        mon = t.get(f"{self.top}/lxc/lxc.monitor.{name}") or {}
        idn = mon.get("identity") or {}
        self.eq((idn.get("kind"), text(idn.get("name"))), ("lxc-monitor", name), "lxc: the monitor cgroup")
        role = next((p.get("role") for p in mon.get("processes") or [] if p.get("pid") == self.lxc["monitor"]),
                    None) or {}
        self.eq((role.get("kind"), text(role.get("name")), text(role.get("lxcpath"))), ("lxc-monitor", name, lxcpath),
                "lxc: the tree gives the monitor process its role")
        d = self.pid(self.lxc["init"]) or {}
        ctr = d.get("container") or {}
        self.eq((ctr.get("kind"), ctr.get("runtime"), text(ctr.get("name"))), ("lxc-container", "lxc", name),
                "lxc: `cgtree pid` of the container's init names the container")
        d = self.pid(self.lxc["monitor"]) or {}
        role = d.get("role") or {}
        self.eq((role.get("kind"), text(role.get("name")), text(role.get("lxcpath"))), ("lxc-monitor", name, lxcpath),
                "lxc: `cgtree pid` of the monitor")
        out = self.cgtree_run("pid", str(self.lxc["init"])).stdout
        self.check("host process" not in out,
                   f"lxc: `cgtree pid` does not call the container's init a host process:\n{out}")
        out = self.cgtree_run(f"{self.top}/lxc").stdout
        self.check(f"[lxc container {name}]" in out and f"[lxc monitor of {name}]" in out,
                   f"lxc: tree view names the container and its monitor:\n{out}")

    # ------------------------------------------------------------ systemd-nspawn
    def setup_nspawn(self):
        # systemd-nspawn@.service runs `systemd-nspawn --keep-unit ... --machine=%i` in
        # machine.slice (units/systemd-nspawn@.service.in); with --keep-unit on cgroup2
        # nspawn moves itself to <its cgroup>/supervisor and the container to
        # <its cgroup>/payload (src/nspawn/nspawn-cgroup.c, create_subcgroup). Here there is
        # no systemd to make the unit's cgroup nor machined to register with, so the
        # cgroup is made as systemd would name it and nspawn runs --register=no.
        nspawn = shutil.which("systemd-nspawn")
        if not nspawn:
            raise SetupSkipped("systemd-nspawn is not installed (apt-get install systemd-container)")
        name = f"nsp-{self.tag}"
        unit = f"systemd-nspawn@{name}.service"
        self.ns = {"name": name, "unit": unit, "cg": f"{self.top}/nspawn/machine.slice/{unit}"}
        rel = f"nspawn/machine.slice/{unit}"
        (self.topdir / rel).mkdir()
        root = self.work / "nspawn-root"
        shutil.copytree(self.work / "rootfs", root, symlinks=True)
        (root / "usr").mkdir()  # nspawn refuses a directory without /usr as "not an OS tree"
        (root / "etc/os-release").write_text("ID=busybox\nNAME=busybox\n")
        # what nspawn makes in /run that was not there before: removed after it
        self.ns["run_dirs"] = [p for p in (Path("/run/systemd/nspawn/propagate"), Path("/run/systemd/nspawn/locks"),
                                           Path("/run/systemd/nspawn")) if not p.exists()]
        self.on_cleanup(f"nspawn {name}", self.remove_nspawn)
        log = self.work / "nspawn.log"
        cmd = ["systemd-nspawn", "--quiet", "--keep-unit", "--register=no", f"--machine={name}", "-D", str(root),
               "/bin/sleep", "3000"]
        p = subprocess.Popen(["sh", "-c", 'echo $$ > "$1/cgroup.procs" && h=$2 && shift 2 && '
                              'exec nsenter -t "$h" -m -- "$@"', "sh", str(self.topdir / rel), str(self.holder), *cmd],
                             start_new_session=True, stdin=subprocess.DEVNULL, stdout=open(log, "w"),
                             stderr=subprocess.STDOUT)
        self.ns["proc"] = p
        self.ns["pattern"] = f"systemd-nspawn --quiet --keep-unit --register=no --machine={name}"
        self.ns["supervisor"] = p.pid
        self.remember(f"nspawn {name}", p.pid, self.ns["pattern"])
        up = wait_for(lambda: p.poll() is not None or (self.procs_in(f"{rel}/payload")
                                                       and cmdline(self.procs_in(f"{rel}/payload")[0])
                                                       == "/bin/sleep 3000"), 20)
        if p.poll() is not None:
            why = log.read_text(errors="replace").strip().splitlines()
            raise SetupSkipped(f"systemd-nspawn exited {p.returncode} before its container ran: "
                               f"{why[-1] if why else 'no message'}")
        if not up:
            raise SetupFailed(f"systemd-nspawn runs but no /bin/sleep in {rel}/payload: "
                              f"{log.read_text(errors='replace')[-400:]}")
        self.ns["init"] = self.procs_in(f"{rel}/payload")[0]
        self.remember(f"nspawn {name} init", self.ns["init"], "sleep 3000")
        if self.procs_in(f"{rel}/supervisor") != [p.pid]:
            raise SetupFailed(f"{rel}/supervisor holds {self.procs_in(f'{rel}/supervisor')}, not nspawn {p.pid}")
        self.say(f"nspawn: cgroups {rel}/payload, {rel}/supervisor; supervisor {p.pid}: {cmdline(p.pid)!r}")
        self.snap_setups["nspawn"] = ([f"{self.top}/nspawn"], [self.ns["init"], self.ns["supervisor"]])

    def remove_nspawn(self):
        p = self.ns.get("proc")
        if p:
            # SIGTERM: nspawn kills its container (SIGKILL without --boot) and exits
            self.stop(p.pid, self.ns["pattern"], 15)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                pass
        if self.ns.get("init"):
            self.stop(self.ns["init"], "sleep 3000")
        shutil.rmtree(Path("/run/systemd/nspawn/propagate") / self.ns["name"], ignore_errors=True)
        for d in self.ns["run_dirs"]:
            self.try_rmdir(d)

    def assert_nspawn(self):
        name, cg = self.ns["name"], self.ns["cg"]
        t = self.tree(f"{self.top}/nspawn")
        pay = (t.get(f"{cg}/payload") or {}).get("identity") or {}
        self.eq((pay.get("kind"), pay.get("runtime"), text(pay.get("name"))), ("machine", "systemd-nspawn", name),
                "nspawn: the unit's payload cgroup is the nspawn machine")
        sup = (t.get(f"{cg}/supervisor") or {}).get("identity") or {}
        self.eq((sup.get("kind"), text(sup.get("name"))), ("nspawn-supervisor", name),
                "nspawn: the unit's supervisor cgroup")
        d = self.pid(self.ns["init"]) or {}
        ctr = d.get("container") or {}
        self.eq((ctr.get("kind"), ctr.get("runtime"), text(ctr.get("name"))), ("machine", "systemd-nspawn", name),
                "nspawn: `cgtree pid` of the container's PID 1 names the machine")
        self.eq(d.get("nspid"), [self.ns["init"], 1], "nspawn: the container's init is PID 1 in its own namespace")
        out = self.cgtree_run("pid", str(self.ns["init"])).stdout
        self.check("host process" not in out, f"nspawn: `cgtree pid` does not call the container's PID 1 a host "
                   f"process:\n{out}")
        out = self.cgtree_run(f"{self.top}/nspawn").stdout
        self.check(f"[nspawn container {name}]" in out and f"[nspawn supervisor of {name}]" in out,
                   f"nspawn: tree view names the container and its supervisor:\n{out}")

    # ------------------------------------------------------------ snapshots
    @staticmethod
    def project_tree(t, top):
        """What identifies: per cgroup its identity, per process its role (paths relative to top)."""
        out = {}
        for path, c in t.items():
            out[path[len(top):] or "/"] = {
                "identity": c.get("identity"),
                "roles": sorted((p["role"] for p in c.get("processes") or [] if p.get("role")),
                                key=lambda r: json.dumps(r, sort_keys=True)),
            }
        return out

    @staticmethod
    def project_pid(d):
        keys = ("cgroup", "role", "container", "kind_node", "pod", "pod_container")
        return {k: d.get(k) for k in keys} | {"chain": [c.get("identity") for c in d.get("chain", [])]}

    def bpf_paths(self):
        """With every runtime up: the `bpf` build (issue #18) answers the same through the
        BPF iterators (CGTREE_BPF=1) as through the files (CGTREE_BPF=0), and the BPF
        path ran: the suite's whole subtree (tree, --json, -U), `pid` of each process the
        snapshots ask about, and `userns NS` of their user namespaces. Real shims, conmon and LXC monitors: what the identification
        learns from the host's processes (containerd's state from a shim's working
        directory, conmon's names) comes from the task walk on one path, /proc on the
        other. A view that differs is asked again (a process of this host may start or
        exit between two runs); one that differs three times fails."""
        if not self.bpf_cgtree:
            self.say("skipped: bpf paths: no --bpf-cgtree (clang missing when it was built)")
            return
        pids = [str(p) for setup in self.snap_setups.values() for p in setup[1]]
        views = [[self.top, "--json", "-a"], [self.top, "-a", "--full"], [self.top, "-U"]]
        views += [["pid", p, "--json"] for p in pids]
        # `userns` of the namespaces the suite made (the initial one's process count
        # moves with every process this host starts or ends).
        nss = set()
        for p in pids:
            try:
                ns = os.stat(f"/proc/{p}/ns/user").st_ino
            except OSError:
                continue
            if ns != os.stat("/proc/self/ns/user").st_ino:
                nss.add(str(ns))
        self.check(nss, f"bpf paths: the suite's processes live in user namespaces of their own: {pids}")
        views += [["userns", ns, "--json"] for ns in sorted(nss)]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NO_COLOR": "1", "COLUMNS": "200",
               "CGTREE_STATS": "1"}
        for args in views:
            for attempt in range(3):
                files = self.run([self.bpf_cgtree] + args, check=False, env=dict(env, CGTREE_BPF="0"))
                fast = self.run([self.bpf_cgtree] + args, check=False, env=dict(env, CGTREE_BPF="1"))
                self.invocations += 2
                if fast.returncode == files.returncode == 0 and fast.stdout == files.stdout:
                    break
            self.check(fast.returncode == 0 and files.returncode == 0,
                       f"bpf paths: `cgtree {' '.join(args)}` exits 0 on both paths: "
                       f"{fast.stderr.strip()[-200:]} / {files.stderr.strip()[-200:]}")
            if args[0] != "pid":  # `pid` reads /proc on both
                self.check("trees read through BPF 1" in fast.stderr and "BPF path not taken" not in fast.stderr,
                           f"bpf paths: `cgtree {' '.join(args)}` with CGTREE_BPF=1 took the BPF path: "
                           f"{fast.stderr.strip()[-300:]}")
            same = fast.stdout == files.stdout
            diff = "" if same else ":\n" + "\n".join(difflib.unified_diff(
                files.stdout.splitlines(), fast.stdout.splitlines(), "files", "bpf", lineterm="", n=1))[:3000]
            self.check(same, f"bpf paths: `cgtree {' '.join(args)}` is the same on both paths{diff}")

    def snapshots(self):
        for setup, (cgroups, pids) in self.snap_setups.items():
            out = self.work / f"snap-{setup}"
            args = ["snapshot", str(out)]
            for c in cgroups:
                args += ["--cgroup", c]
            self.cgtree_run(*args)
            meta = (out / "META").read_text() if (out / "META").exists() else ""
            self.check("Limited to the cgroup subtrees" in meta, f"snapshot {setup}: META says what it holds")
            self.check(out.is_dir() and not any(out.rglob("environ")), f"snapshot {setup}: no environment copied")
            record = {"top": self.top, "cgroups": cgroups, "pids": pids, "tree": {}, "pid": {}}
            for c in cgroups:
                live = self.project_tree(self.tree(c), self.top)
                snap = self.project_tree(self.tree(c, root=out), self.top)
                self.eq(snap, live, f"snapshot {setup}: `cgtree --root SNAP {c}` identifies as live")
                record["tree"][c] = live
            for p in pids:
                live = self.project_pid(self.pid(p) or {})
                snap = self.project_pid(self.pid(p, root=out) or {})
                self.eq(snap, live, f"snapshot {setup}: `cgtree --root SNAP pid {p}` answers as live")
                record["pid"][str(p)] = live
            # `--pids`: only what these processes' answers need
            out2 = self.work / f"snap-{setup}-pids"
            self.cgtree_run("snapshot", str(out2), "--pids", ",".join(map(str, pids)))
            for p in pids:
                self.eq(self.project_pid(self.pid(p, root=out2) or {}), record["pid"][str(p)],
                        f"snapshot --pids {setup}: `cgtree --root SNAP pid {p}` answers as live")
            if self.capture:
                dest = self.capture / "fixtures" / f"live-{setup}"
                if dest.exists():
                    shutil.rmtree(dest)
                shutil.copytree(out, dest, symlinks=True)
                rec = self.capture / "cgroup-cli/tests/live" / f"{setup}.json"
                rec.parent.mkdir(parents=True, exist_ok=True)
                rec.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
                # golden cases: the tree from the root, and `pid` for the asked PIDs
                gold = self.capture / "cgroup-cli/tests/golden" / f"live-{setup}"
                if gold.exists():
                    shutil.rmtree(gold)
                gold.mkdir(parents=True)
                (gold / "tree.args").write_text("")
                (gold / "tree-users.args").write_text("-u\n")
                (gold / "pid.args").write_text("pid\n" + "".join(f"{p}\n" for p in pids))
                if setup == "rootless-podman":
                    (gold / "userns.args").write_text("userns\n")
                self.say(f"captured fixtures/live-{setup} and cgroup-cli/tests/live/{setup}.json")

    # ------------------------------------------------------------ teardown
    def restore_root_controllers(self):
        now = (self.cg2 / "cgroup.subtree_control").read_text().split()
        for c in now:
            if c not in self.root_subtree_control:
                try:
                    (self.cg2 / "cgroup.subtree_control").write_text(f"-{c}")
                except OSError as e:
                    self.say(f"note: cannot disable {c} at the cgroup root again ({e}): used by another cgroup")

    def remove_cgroups(self):
        def rm_tree(d):
            if not d.exists():
                return
            for sub in sorted((p for p in d.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
                wait_for(lambda: self.try_rmdir(sub), 5)
            wait_for(lambda: self.try_rmdir(d), 5)
        rm_tree(self.topdir)
        # what the runtimes create beside --cgroup-parent, if it was not there before
        for d in ("libpod_parent/conmon", "libpod_parent"):
            if d.split("/")[0] not in self.preexisting:
                self.try_rmdir(self.cg2 / d)

    @staticmethod
    def try_rmdir(d):
        try:
            d.rmdir()
            return True
        except FileNotFoundError:
            return True
        except OSError:
            return False

    def teardown(self):
        for what, fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:  # go on: everything else must still go
                self.say(f"teardown of {what}: {e}")
        self.cleanups = []

    def ours_running(self):
        """Processes in our cgroups, after reaping those orphaned to us (zombies of
        others are waited for: their parent reaps them)."""
        found = []
        for p in Path("/proc").iterdir():
            if not p.name.isdigit():
                continue
            cg = v2_cgroup(p.name) or ""
            if not (cg == self.top or cg.startswith(self.top + "/")):
                continue
            try:
                st = (p / "status").read_text()
            except OSError:
                continue
            if "\nState:\tZ" in st and f"\nPPid:\t{os.getpid()}\n" in st:
                try:
                    os.waitpid(int(p.name), os.WNOHANG)
                except ChildProcessError:
                    pass
                continue
            found.append(f"process {p.name} ({(cmdline(p.name) or '?')[:60]}) in {cg}")
        return found

    def leftovers(self):
        """What of this run is still there (must be nothing)."""
        left = []
        for name, (pid, pat) in self.pids.items():
            if pat in (cmdline(pid) or ""):
                left.append(f"process {name} ({pid})")
        wait_for(lambda: not self.ours_running(), 15)
        left += self.ours_running()
        if self.topdir.exists():
            left.append(f"cgroup {self.top}")
        for d in ("libpod_parent",):
            if d not in self.preexisting and (self.cg2 / d).exists():
                left.append(f"cgroup /{d}")
        if (self.cg2 / "cgroup.subtree_control").read_text().split() != self.root_subtree_control:
            left.append("root cgroup.subtree_control not restored")
        if getattr(self, "holder_mnt", None):
            for p in Path("/proc").iterdir():
                try:
                    if p.name.isdigit() and os.readlink(p / "ns/mnt") == self.holder_mnt:
                        left.append(f"process {p.name} in the suite's mount namespace")
                except OSError:
                    pass
        mounts = Path("/proc/self/mountinfo").read_bytes().decode(errors="replace")
        if str(self.work) in mounts or self.tag in mounts:
            left.append("a mount of this run in the host mount namespace")
        if hasattr(self, "user"):
            try:
                pwd.getpwnam(self.user)
                left.append(f"user {self.user}")
            except KeyError:
                pass
            for f in ("/etc/subuid", "/etc/subgid"):
                if f"{self.user}:" in Path(f).read_text():
                    left.append(f"{f} line of {self.user}")
            if Path(f"/run/user/{self.uid}").exists():
                left.append(f"/run/user/{self.uid}")
        lxc = getattr(self, "lxc", None)
        if lxc:
            if (lxc["path"] / lxc["name"]).exists():
                left.append(f"lxc container {lxc['path'] / lxc['name']} (not destroyed)")
            left += [f"lxc lock directory {d}" for d in [lxc["lock"], *lxc["lock_parents"]] if d.exists()]
        ns = getattr(self, "ns", None)
        if ns:
            left += [f"nspawn run directory {d}" for d in
                     [Path("/run/systemd/nspawn/propagate") / ns["name"], *ns["run_dirs"]] if d.exists()]
        left += metrics_live.leftovers(self)
        p = subprocess.run(["podman", "ps", "-a", "--format", "{{.Names}}"], capture_output=True, text=True,
                           env=dict(os.environ, CONTAINERS_CONF=str(self.conf)) if hasattr(self, "conf") else None)
        left += [f"podman container {n}" for n in p.stdout.split() if self.tag in n]
        for b in (Path(TASK_DIR) / CTRD_NS, Path(TASK_DIR) / "moby"):
            if b.exists():
                for ent in b.iterdir():
                    for k in ("pod", "node_pod"):
                        pod = getattr(self, k, None)
                        if pod and ent.name in (pod["sb"], pod["app"]):
                            left.append(f"containerd bundle {ent}")
        return left

    # ------------------------------------------------------------ main
    def bring_up(self, name, setup, assertions, needs=()):
        missing = [n for n in needs if n not in self.setups_up]
        if missing:
            self.setups_failed.append(name)
            self.check(False, f"{name}: not brought up, it needs {', '.join(missing)}")
            return
        t0 = time.monotonic()
        try:
            setup()
        except SetupSkipped as e:
            self.setups_skipped.append((name, str(e)))
            self.say(f"skipped: {name}: {e}")
            return
        except Exception as e:  # any failure of a setup is reported, and the rest goes on
            self.setups_failed.append(name)
            detail = "" if isinstance(e, SetupFailed) else "\n" + traceback.format_exc()
            self.check(False, f"{name}: setup failed: {e}{detail}")
            return
        self.setups_up.append(name)
        self.say(f"up: {name} ({time.monotonic() - t0:.1f} s)")
        try:
            assertions()
        except Exception as e:
            self.check(False, f"{name}: assertions crashed: {e!r}\n{traceback.format_exc()}")

    def main(self):
        t0 = time.monotonic()
        self.say(f"cgtree live runtime suite: cgroup subtree {self.top}, work dir {self.work}")
        versions = []
        for cmd in (["podman", "--version"], ["crun", "--version"], ["runc", "--version"], ["conmon", "--version"],
                    ["containerd", "--version"], ["dockerd", "--version"], ["lxc-start", "--version"],
                    ["systemd-nspawn", "--version"], ["uname", "-r"]):
            try:
                out = subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout.strip()
                first = out.splitlines()[0] if out else "?"
                versions.append(first if cmd[0] == "uname" or cmd[0].split("-")[0] in first.lower()
                                else f"{cmd[0]} {first}")
            except OSError:
                versions.append(f"{cmd[0]}: not installed")
        self.say("versions: " + "; ".join(versions))
        try:
            try:
                self.common_setup()
                self.setups_up.append("host")
            except (SetupFailed, OSError) as e:
                self.check(False, f"host setup failed: {e}")
            self.bring_up("rootful-podman", self.setup_rootful, self.assert_rootful, needs=("host",))
            self.bring_up("rootless-podman", self.setup_rootless, self.assert_rootless, needs=("host",))
            self.bring_up("containerd-pods", self.setup_containerd, self.assert_containerd,
                          needs=("host", "rootful-podman"))
            self.bring_up("docker", self.setup_docker, self.assert_docker, needs=("containerd-pods",))
            self.bring_up("kind-node", self.setup_kind, self.assert_kind, needs=("containerd-pods",))
            self.bring_up("lxc", self.setup_lxc, self.assert_lxc, needs=("host",))
            self.bring_up("nspawn", self.setup_nspawn, self.assert_nspawn, needs=("host",))
            if "host" in self.setups_up:
                try:
                    metrics_live.run(self)
                except Exception as e:
                    self.check(False, f"metrics live tests crashed: {e!r}\n{traceback.format_exc()}")
            try:
                self.bpf_paths()
            except Exception as e:
                self.check(False, f"bpf paths crashed: {e!r}\n{traceback.format_exc()}")
            if self.inject_failure:
                self.check(False, "an injected failure (--inject-failure): teardown must still leave nothing")
            try:
                self.snapshots()
            except Exception as e:
                self.check(False, f"snapshots crashed: {e!r}\n{traceback.format_exc()}")
        finally:
            self.teardown()
            left = self.leftovers()
            for l in left:
                self.say(f"LEFT BEHIND: {l}")
            self.check(not left, "teardown left nothing behind")
            if self.failures and not (self.inject_failure and len(self.failures) == 1):
                self.log.flush()
                tail = (self.work / "suite.log").read_text(errors="replace").splitlines()[-60:]
                print("---- last lines of the suite log ----\n" + "\n".join(tail), flush=True)
            if not self.keep_work and not left:
                shutil.rmtree(self.work, ignore_errors=True)
        up = [s for s in self.setups_up if s != "host"]
        skipped = " (" + "; ".join(f"{n}: {r}" for n, r in self.setups_skipped) + ")" if self.setups_skipped else ""
        self.say(f"cgtree live runtimes: {len(up)} setups up ({', '.join(up) or 'none'}), "
                 f"{len(self.setups_failed)} failed{' (' + ', '.join(self.setups_failed) + ')' if self.setups_failed else ''}, "
                 f"{len(self.setups_skipped)} skipped{skipped}; "
                 f"{self.invocations} cgtree invocations; {self.passed} assertions passed, {len(self.failures)} failed; "
                 f"{time.monotonic() - t0:.0f} s")
        if self.keep_work or left:
            self.say(f"work dir kept: {self.work}")
        if self.inject_failure:
            # Passes only when the injected failure is the one failure: teardown after
            # a failed assertion still left nothing behind.
            ok = len(self.failures) == 1 and self.failures[0].startswith("an injected failure")
            self.say("injected failure: " + ("teardown ran and left nothing behind" if ok else "see the failures above"))
            return 0 if ok else 1
        return 1 if self.failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cgtree", required=True)
    ap.add_argument("--static-cgtree", help="a static build of cgtree (crt-static) for the image of deploy/")
    ap.add_argument("--bpf-cgtree", help="a build of the same checkout with the `bpf` feature: compared "
                    "with itself on the file path, every runtime up")
    ap.add_argument("--capture")
    ap.add_argument("--keep-work", action="store_true")
    ap.add_argument("--inject-failure", action="store_true",
                    help="fail one assertion on purpose once everything is up; exits 0 only if that was "
                         "the one failure and teardown still left nothing behind")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("the live runtime suite needs root")
    # Orphans (conmon, shims, the rootless pause process double-fork) are reparented to
    # this process, which reaps them, instead of to PID 1.
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
        sys.exit(f"prctl(PR_SET_CHILD_SUBREAPER): errno {ctypes.get_errno()}")
    s = Suite(args)
    # SIGTERM tears down like Ctrl-C
    def interrupted(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, interrupted)
    try:
        rc = s.main()
    except KeyboardInterrupt:
        s.teardown()
        rc = 130
    sys.exit(rc)


if __name__ == "__main__":
    main()
