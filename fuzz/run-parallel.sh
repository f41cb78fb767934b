#!/usr/bin/env bash
# Runs the fuzz targets on N workers (default 2), SECONDS each, skipping targets already done.
set -uo pipefail
cd "$(dirname "$0")"
secs="${1:-300}"; workers="${2:-2}"
logs="${FUZZ_LOGS:-/tmp/cgtree-fuzz}"
mkdir -p "$logs/locks"
worker() {
  for t in $(cargo +nightly fuzz list); do
    mkdir "$logs/locks/$t" 2>/dev/null || continue
    cargo +nightly fuzz run -O "$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 >"$logs/$t.log" 2>&1
    rc=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$logs/$t.log" | grep -o '[0-9]*$' | tail -1)
    crashes=$(ls artifacts/"$t" 2>/dev/null | wc -l)
    echo "$t seconds=$secs runs=${runs:-?} exit=$rc crashes=$crashes"
  done
}
for ((w = 0; w < workers; w++)); do worker & done
wait
