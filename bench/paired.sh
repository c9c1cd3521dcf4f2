#!/usr/bin/env bash
# Compares the CPU of two sightline binaries side by side: one simulator, both proxies in front of it, and
# `rounds` rounds of `requests` unpaced 208-event streams through each, alternating which goes first, so a
# machine that gets busier or quieter during the run moves both alike. Reads each proxy's user and kernel
# time from /proc before and after its load and prints CPU seconds per 1000 requests per round and the medians.
#
#   bench/paired.sh OLD_BIN NEW_BIN [rounds=8] [requests=3000] [concurrency=50] [body-bytes=51200]
#
# Save OLD_BIN first (e.g. `cp .build/release/sightline /tmp/sightline-old` before the change). The simulator
# and load client come from this tree's release build. Loopback only, bounded by `requests` per round.
set -euo pipefail
shopt -s inherit_errexit  # a failure inside $(measure) stops the run instead of printing a garbage row
# The binaries' paths as given, resolved before the script moves to the repository's root.
OLD=$(realpath "${1:?old sightline binary}") NEW=$(realpath "${2:?new sightline binary}")
cd "$(dirname "$0")/.."
ROOT=$PWD
. bench/unpaced-setup.sh
ROUNDS=${3:-8} REQUESTS=${4:-3000} CONCURRENCY=${5:-50} BODY=${6:-51200}
SIM_PORT=18794 PORTS=(18795 18796)
WORK=$ROOT/bench/work/paired-$(date +%Y%m%d-%H%M%S)
mkdir -p "$WORK"
swift build -c release --product sightline >&2
swift build -c release --product sightline-bench >&2
BIN=$(swift build -c release --show-bin-path)
STARTED=()
cleanup() { for pid in "${STARTED[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

unpaced_simulator_config "$WORK/simulator.json"
"$BIN/sightline" simulator --config "$WORK/simulator.json" --port $SIM_PORT >"$WORK/simulator.log" 2>&1 &
STARTED+=($!)
for _ in $(seq 600); do (exec 3<>/dev/tcp/127.0.0.1/$SIM_PORT) 2>/dev/null && break; sleep 0.1; done
PIDS=()
for n in 0 1; do
    binary=$OLD
    [ "$n" = 1 ] && binary=$NEW
    unpaced_proxy_config "$WORK/sightline-$n.json" "${PORTS[$n]}" $SIM_PORT "$WORK/state-$n" "$WORK/sightline-$n.log"
    "$binary" serve --config "$WORK/sightline-$n.json" >"$WORK/stdout-$n.log" 2>&1 &
    PIDS+=($!)
    STARTED+=($!)
    for _ in $(seq 600); do grep -q '"proxy listening"' "$WORK/sightline-$n.log" 2>/dev/null && break; sleep 0.1; done
    # One warm-up pass each, not counted: first connections, allocator growth, a full transcript cache.
    "$BIN/sightline-bench" load --port "${PORTS[$n]}" --concurrency "$CONCURRENCY" --requests "$REQUESTS" \
        --body-bytes "$BODY" --seconds 300 >/dev/null
done

TICKS=$(getconf CLK_TCK)
# utime and stime in clock ticks: fields 14 and 15, counted after the ") " that ends the command name.
cpu() {
    kill -0 "$1" || { echo "proxy $1 is gone" >&2; return 1; }
    sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12, $13}'
}
measure() {
    local n=$1 before after
    local before after load completed
    before=$(cpu "${PIDS[$n]}")
    load=$("$BIN/sightline-bench" load --port "${PORTS[$n]}" --concurrency "$CONCURRENCY" --requests "$REQUESTS" \
        --body-bytes "$BODY" --seconds 300)
    after=$(cpu "${PIDS[$n]}")
    grep -q "errors 0" <<<"$load" || echo "round with errors" >&2
    # Per completed request: a round cut short by the time bound must not read as cheaper.
    completed=$(grep -o 'completed [0-9]*' <<<"$load" | awk '{print $2}')
    [ "${completed:-0}" -gt 0 ] || { echo "no request completed" >&2; return 1; }
    echo "$before $after" | awk -v t="$TICKS" -v r="$completed" '{u=($3-$1)/t*1000/r; s=($4-$2)/t*1000/r; printf "%.3f %.3f %.3f\n", u+s, u, s}'
}
echo "round  old: cpu user kernel (s/1000)   new: cpu user kernel (s/1000)"
: >"$WORK/rounds.txt"
for round in $(seq "$ROUNDS"); do
    if [ $((round % 2)) = 1 ]; then old=$(measure 0); new=$(measure 1); else new=$(measure 1); old=$(measure 0); fi
    echo "$round  $old   $new" | tee -a "$WORK/rounds.txt"
done
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
echo "median cpu per 1000: old $(awk '{print $2}' "$WORK/rounds.txt" | median) s, new $(awk '{print $5}' "$WORK/rounds.txt" | median) s"
echo "median user per 1000: old $(awk '{print $3}' "$WORK/rounds.txt" | median) s, new $(awk '{print $6}' "$WORK/rounds.txt" | median) s"
echo "rounds where new < old: $(awk '$5 < $2' "$WORK/rounds.txt" | wc -l) of $ROUNDS"
echo "work: $WORK"
