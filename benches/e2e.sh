#!/usr/bin/env bash
# benches/e2e.sh [-R ROUNDS] [-r RUNS] [SCALE...]     (default scales: small medium large)
#
# End-to-end timings of cgtree on a real cgroup2 tree, side by side with systemd-cgls and
# a raw C lower bound, in paired rounds on one machine.
#
# For each SCALE it builds a real tree with the shared bench harness (make-tree.sh: a
# rootless-podman host running kind nodes, under the host's cgroup2 mount, with real idle
# processes), then times, ROUNDS rounds of RUNS runs each (hyperfine), every command
# once per round:
#   systemd-cgls     systemd-cgls --no-pager /cgbench
#   rawwalk          the harness's raw C walk: reads every cgroup.type, cgroup.procs and
#                    /proc/PID/cmdline (the lower bound for the same information)
#   rawwalk-noproc   the raw walk without processes (cgroupfs reads only)
#   cgtree           cgtree /cgbench            (tree, processes, identification)
#   cgtree-json      cgtree --json /cgbench
#   cgtree-noprocs   cgtree --no-procs /cgbench
#   cgtree-pid       cgtree pid PID             (a process in the deepest cgroup)
#   cgtree-userns    cgtree userns
#   cgtree-top1      cgtree top -b -n 1 -d 0.01 /cgbench (walk, identification, two samples)
#   (then)           cgtree top -b -d 1 for STEADY seconds: its CPU share of one core
#   cgtree-id        cgtree id CGID             (the deepest cgroup's id: a kernfs handle, root)
#   cgtree-id-walk   the same as user nobody    (no CAP_DAC_READ_SEARCH: the walk that stops
#                                                at the first match)
#   cgtree-ids       cgtree ids --jsonl /cgbench (the whole id index)
#   cgtree-metrics   cgtree metrics             (one scrape of the whole host, text format:
#                                                walk, identification, sample, encoding)
#   cgtree-bpf*      cgtree, --json, --no-procs, pid and userns built with the `bpf`
#                    feature (the BPF iterator path; when clang is installed)
#   (then)           cgtree serve, scraped by curl every SCRAPE_EVERY seconds (default 15,
#                    as Prometheus) for SERVE_STEADY seconds (default 300; 0 skips): its CPU
#                    share of one core, the scrapes' median latency and its peak RSS
# and reports the median wall time, the median over rounds of the per-round ratio to
# systemd-cgls and to rawwalk, peak RSS (GNU time, median of 3), and exact system call
# counts (perf's raw_syscalls:sys_enter tracepoint), per cgroup (no-proc variants) and
# per process. Tables go to stdout and to $OUT (default /tmp/cgtree-e2e).
#
# Needs root, a cgroup2 mount at /sys/fs/cgroup/unified (or CGROOT), gcc, hyperfine,
# systemd (systemd-cgls), GNU time and perf:
#   apt-get install -y hyperfine systemd time linux-perf gcc libc6-dev curl
# The harness lives in shared/bench beside the repository (CGBENCH_DIR to override).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH=${CGBENCH_DIR:-$REPO/../shared/bench}
BUILD=${CGBENCH_BUILD:-/tmp/cgbench-build}
CGROOT=${CGROOT:-/sys/fs/cgroup/unified/cgbench}
OUT=${OUT:-/tmp/cgtree-e2e}
ROUNDS=5 RUNS=3
while getopts R:r: opt; do
  case $opt in
    R) ROUNDS=$OPTARG ;; r) RUNS=$OPTARG ;;
    *) sed -n '2,3p' "$0" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
SCALES=("${@:-small medium large}")
read -r -a SCALES <<<"${SCALES[*]}"

for t in hyperfine systemd-cgls /usr/bin/time perf gcc python3 curl; do
  command -v "$t" >/dev/null || { echo "e2e: needs $t" >&2; exit 1; }
done
[[ -x $BENCH/make-tree.sh ]] || { echo "e2e: no harness at $BENCH (set CGBENCH_DIR)" >&2; exit 1; }
mkdir -p "$BUILD" "$OUT"
[[ $BUILD/rawwalk -nt $BENCH/rawwalk.c ]] || gcc -O2 -Wall -o "$BUILD/rawwalk" "$BENCH/rawwalk.c"
(cd "$REPO" && cargo build --release --locked -q -p cgroup-cli)
CGTREE=$REPO/target/release/cgtree
# The BPF iterator path (feature `bpf`, issue #18), built beside the default (file) one
# when clang is here; its commands are skipped otherwise.
CGTREE_BPF_BIN=
if command -v clang >/dev/null; then
  (cd "$REPO" && CARGO_TARGET_DIR="$REPO/target/bpf" cargo build --release --locked -q -p cgroup-cli --features bpf)
  CGTREE_BPF_BIN=$REPO/target/bpf/release/cgtree
fi
REL=/${CGROOT#/sys/fs/cgroup/unified/}
# The bpf build takes the BPF path on its own only on hierarchies of 1,000+ cgroups: the
# small and medium trees are timed through it too (the default build ignores this).
export CGTREE_BPF=1

for scale in "${SCALES[@]}"; do
  "$BENCH/make-tree.sh" "$scale" >"$OUT/make-$scale.log" 2>&1
  trap '"$BENCH/destroy-tree.sh" >/dev/null 2>&1 || true' EXIT
  sleep "${SETTLE:-10}"
  cgroups=$(find "$CGROOT" -type d | wc -l)
  procs=$(find "$CGROOT" -name cgroup.procs -exec cat {} + | wc -l)
  # cgroupfs files report size 0: find the non-empty cgroup.procs by reading them.
  deep=$(grep -rl --include=cgroup.procs . "$CGROOT" | awk -F/ '{print NF, $0}' | sort -n | tail -1 | cut -d' ' -f2)
  deep_pid=$(head -1 "$deep")
  deep_id=$(stat -c %i "$(dirname "$deep")")
  names=(systemd-cgls rawwalk rawwalk-noproc cgtree cgtree-json cgtree-noprocs cgtree-pid cgtree-userns
         cgtree-id cgtree-id-walk cgtree-ids cgtree-top1 cgtree-metrics)
  cmds=("systemd-cgls --no-pager $REL"
        "$BUILD/rawwalk $CGROOT"
        "$BUILD/rawwalk -n $CGROOT"
        "$CGTREE $REL"
        "$CGTREE --json $REL"
        "$CGTREE --no-procs $REL"
        "$CGTREE pid $deep_pid"
        "$CGTREE userns"
        "$CGTREE id $deep_id"
        "setpriv --reuid=65534 --regid=65534 --clear-groups $CGTREE id $deep_id"
        "$CGTREE ids --jsonl $REL"
        "$CGTREE top -b -n 1 -d 0.01 $REL"
        "$CGTREE metrics")
  if [[ -n $CGTREE_BPF_BIN ]]; then
    # cgtree-bpf*: the same commands through the BPF iterators.
    names+=(cgtree-bpf cgtree-bpf-json cgtree-bpf-noprocs cgtree-bpf-pid cgtree-bpf-userns)
    cmds+=("$CGTREE_BPF_BIN $REL"
           "$CGTREE_BPF_BIN --json $REL"
           "$CGTREE_BPF_BIN --no-procs $REL"
           "$CGTREE_BPF_BIN pid $deep_pid"
           "$CGTREE_BPF_BIN userns")
  fi
  : >"$OUT/$scale.rounds"
  for ((r = 1; r <= ROUNDS; r++)); do
    for i in "${!names[@]}"; do
      hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$OUT/$scale-${names[$i]}-$r.json" \
        "${cmds[$i]}" >/dev/null 2>&1
      python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["results"][0]; print(sys.argv[2], sys.argv[3], d["median"], d["user"], d["system"])' \
        "$OUT/$scale-${names[$i]}-$r.json" "$r" "${names[$i]}" >>"$OUT/$scale.rounds"
    done
  done
  : >"$OUT/$scale.static"
  for i in "${!names[@]}"; do
    rss=$(for k in 1 2 3; do /usr/bin/time -f %M sh -c "exec ${cmds[$i]} >/dev/null 2>&1" 2>&1 >/dev/null | tail -1; done | sort -n | sed -n 2p)
    sc=$(perf stat -x, -e raw_syscalls:sys_enter sh -c "exec ${cmds[$i]} >/dev/null 2>&1" 2>&1 >/dev/null | grep raw_syscalls | cut -d, -f1)
    echo "${names[$i]} $rss $sc" >>"$OUT/$scale.static"
  done
  python3 - "$OUT/$scale.rounds" "$OUT/$scale.static" "$scale" "$cgroups" "$procs" "$deep" <<'PY' | tee "$OUT/$scale.md"
import sys, statistics as st
rounds, static, scale, cgroups, procs, deep = sys.argv[1:7]
cgroups, procs = int(cgroups), int(procs)
t = {}
for line in open(rounds):
    r, name, med, user, system = line.split()
    t.setdefault(name, {})[int(r)] = (float(med), float(user), float(system))
s = {l.split()[0]: l.split()[1:] for l in open(static)}
def ratio(name, base):
    return st.median(t[name][r][0] / t[base][r][0] for r in t[name] if r in t[base])
sc = {n: int(v[1]) for n, v in s.items() if len(v) > 1 and v[1].isdigit()}
print(f"### {scale}: {cgroups:,} cgroups, {procs:,} processes\n")
print("| command | median wall s | user s | sys s | x systemd-cgls | x rawwalk | peak RSS KiB | syscalls |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for n in t:
    med = st.median(v[0] for v in t[n].values())
    user = st.median(v[1] for v in t[n].values())
    system = st.median(v[2] for v in t[n].values())
    print(f"| {n} | {med:.4f} | {user:.4f} | {system:.4f} | {ratio(n, 'systemd-cgls'):.2f} | {ratio(n, 'rawwalk'):.2f} | {s[n][0]} | {sc.get(n, 0):,} |")
def per(full, noproc):
    if full in sc and noproc in sc:
        return sc[noproc] / cgroups, (sc[full] - sc[noproc]) / procs
    return float("nan"), float("nan")
rc, rp = per("rawwalk", "rawwalk-noproc")
cc, cp = per("cgtree", "cgtree-noprocs")
print(f"\nSyscalls per cgroup / per process: rawwalk {rc:.1f} / {rp:.1f}; cgtree {cc:.1f} / {cp:.1f}.")
print(f"cgtree pid of the deepest process ({deep.rsplit('/', 2)[-2]}) vs a full cgtree walk: {ratio('cgtree-pid', 'cgtree'):.3f} (1/{1 / ratio('cgtree-pid', 'cgtree'):.0f}).")
print(f"cgtree id of its cgroup: by handle vs by walk {ratio('cgtree-id', 'cgtree-id-walk'):.3f}; cgtree ids --jsonl vs the tree {ratio('cgtree-ids', 'cgtree'):.2f}.\n")
PY
  # cgtree top's steady state: CPU time of `top -b -d 1` over STEADY seconds (default
  # 60; 0 skips), start-up (the first walk, identification and priming sample) included.
  steady=${STEADY:-60}
  if ((steady > 0)); then
    /usr/bin/time -f "%e %U %S" -o "$OUT/$scale-top-steady.time" \
      "$CGTREE" top -b -d 1 -n "$steady" "$REL" >/dev/null 2>&1 || true
    read -r el us sy <"$OUT/$scale-top-steady.time" || true
    python3 -c 'import sys; el,us,sy=map(float,sys.argv[1:4]); print(f"cgtree top -b -d 1 -n {sys.argv[4]}: {us+sy:.2f} s CPU (user {us:.2f}, sys {sy:.2f}) over {el:.1f} s: {100*(us+sy)/el:.1f}% of one core.\n")' \
      "$el" "$us" "$sy" "$steady" | tee -a "$OUT/$scale.md"
  fi
  # cgtree serve's steady state: scraped every SCRAPE_EVERY s for SERVE_STEADY s; its
  # CPU time (utime+stime of /proc/PID/stat) from just before the first scrape (start-up
  # excluded, reported apart) to the end.
  serve_steady=${SERVE_STEADY:-300} every=${SCRAPE_EVERY:-15}
  if ((serve_steady > 0)); then
    "$CGTREE" serve --listen 127.0.0.1:0 2>"$OUT/$scale-serve.err" >/dev/null &
    spid=$!
    addr=
    for _ in $(seq 100); do
      addr=$(sed -n 's|^cgtree serve: listening on http://\(.*\)/metrics$|\1|p' "$OUT/$scale-serve.err")
      [[ -n $addr ]] && break
      sleep 0.1
    done
    ticks() { awk '{print $14 + $15}' "/proc/$spid/stat"; }
    t0=$(ticks) start=$(date +%s.%N)
    : >"$OUT/$scale-serve.lat"
    while :; do
      curl -s -o /dev/null -w '%{time_total}\n' "http://$addr/metrics" >>"$OUT/$scale-serve.lat"
      now=$(date +%s.%N)
      python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) - float(sys.argv[2]) + float(sys.argv[3]) < float(sys.argv[4]) else 1)' \
        "$now" "$start" "$every" "$serve_steady" || break
      sleep "$every"
    done
    t1=$(ticks) end=$(date +%s.%N)
    rss=$(awk '/VmHWM/ {print $2}' "/proc/$spid/status")
    kill -TERM "$spid"; wait "$spid" || true
    python3 - "$t0" "$t1" "$start" "$end" "$(getconf CLK_TCK)" "$rss" "$every" "$OUT/$scale-serve.lat" <<'PY' | tee -a "$OUT/$scale.md"
import sys, statistics as st
t0, t1, start, end, hz = map(float, sys.argv[1:6])
rss, every, lat = sys.argv[6], sys.argv[7], [float(l) for l in open(sys.argv[8]) if l.strip()]
cpu = (t1 - t0) / hz
print(f"cgtree serve scraped every {every} s for {end - start:.0f} s ({len(lat)} scrapes): {cpu:.2f} s CPU, "
      f"{100 * cpu / (end - start):.2f}% of one core; scrape latency median {st.median(lat) * 1000:.0f} ms "
      f"(first {lat[0] * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms); peak RSS {rss} KiB.\n")
PY
  fi
  "$BENCH/destroy-tree.sh" >"$OUT/destroy-$scale.log" 2>&1
  trap - EXIT
done
