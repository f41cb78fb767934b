#!/usr/bin/env bash
# benches/rounds.sh [-R ROUNDS] [-r RUNS] NAME=COMMAND ...
#
# Paired rounds on a shared, noisy machine: each round times every COMMAND in turn with
# hyperfine (-N, one warm-up, RUNS runs), so a drifting machine hits them alike. Prints,
# per command, the median over rounds of the per-round median wall time, user and sys
# time, and the medians over rounds of the per-round ratios of its wall time and of its
# user+sys time (hyperfine's means) to the FIRST command's. Used for the "Issue 13" section of benches/RESULTS.md (two builds of cgtree
# and the raw walk on one tree built by make-tree.sh); benches/e2e.sh is the full table.
#
#   benches/rounds.sh -R 7 -r 3 "rawwalk=/tmp/cgbench-build/rawwalk /sys/fs/cgroup/unified/cgbench" \
#       "cgtree=target/release/cgtree /cgbench"
set -euo pipefail
ROUNDS=5 RUNS=3
while getopts R:r: opt; do
  case $opt in
    R) ROUNDS=$OPTARG ;; r) RUNS=$OPTARG ;;
    *) sed -n '2p' "$0" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
(( $# >= 1 )) || { sed -n '2p' "$0" >&2; exit 2; }
for t in hyperfine python3; do
  command -v "$t" >/dev/null || { echo "rounds: needs $t" >&2; exit 1; }
done
names=() cmds=()
for a in "$@"; do
  [[ $a == *=* ]] || { echo "rounds: not NAME=COMMAND: $a" >&2; exit 2; }
  names+=("${a%%=*}") cmds+=("${a#*=}")
done
OUT=$(mktemp -d /tmp/cgtree-rounds.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
for ((r = 1; r <= ROUNDS; r++)); do
  for i in "${!names[@]}"; do
    hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$OUT/$i-$r.json" "${cmds[$i]}" >/dev/null 2>&1
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["results"][0]; print(sys.argv[2], sys.argv[3], d["median"], d["user"], d["system"])' \
      "$OUT/$i-$r.json" "$r" "${names[$i]}" >>"$OUT/rounds"
  done
done
python3 - "$OUT/rounds" "${names[0]}" "$RUNS" <<'PY'
import sys, statistics as st
rounds, base, runs = sys.argv[1:4]
t = {}
for line in open(rounds):
    r, name, med, user, system = line.split()
    t.setdefault(name, {})[int(r)] = (float(med), float(user), float(system))
print(f"| command | median wall s | user s | sys s | wall x {base} (min-max) | user+sys x {base} |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for n, v in t.items():
    rs = [v[r][0] / t[base][r][0] for r in v if r in t[base]]
    cs = [(v[r][1] + v[r][2]) / (t[base][r][1] + t[base][r][2]) for r in v if r in t[base]]
    med = [st.median(x[k] for x in v.values()) for k in range(3)]
    print(f"| {n} | {med[0]:.4f} | {med[1]:.4f} | {med[2]:.4f} | {st.median(rs):.2f} ({min(rs):.2f}-{max(rs):.2f}) | {st.median(cs):.2f} |")
print(f"\n{len(t[base])} rounds; each command once per round, hyperfine -N --warmup 1 --runs {runs}.")
PY
