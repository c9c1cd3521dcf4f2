#!/usr/bin/env bash
# Profiles the release `sightline serve` under callgrind (instruction counts: repeatable on a busy machine)
# while the load client sends a fixed number of unpaced 208-event streams through it.
#
#   bench/profile.sh [requests=300] [concurrency=10] [body-bytes=51200]
#
# SL_BIN=path profiles another sightline binary (a saved build, for a before/after) with this tree's simulator.
# CACHE_KEY=k gives every body its own `prompt_cache_key`, as Codex's carry one (default: none; the load client's
# `session_id` header keys the conversation and the proxy adds the field).
#
# Writes bench/work/profile-<time>/callgrind.out and prints the top functions (inclusive and self) and
# instructions per request. Run it on its own, not during bench/run.sh. Loopback only, bounded by `requests`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
. bench/unpaced-setup.sh
REQUESTS=${1:-300} CONCURRENCY=${2:-10} BODY=${3:-51200}
SIM_PORT=18798 SL_PORT=18799
WORK=$ROOT/bench/work/profile-$(date +%Y%m%d-%H%M%S)
mkdir -p "$WORK"
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
swift build -c release --product sightline >&2
swift build -c release --product sightline-bench >&2
BIN=$(swift build -c release --show-bin-path)
STARTED=()
cleanup() { for pid in "${STARTED[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

unpaced_simulator_config "$WORK/simulator.json"
"$BIN/sightline" simulator --config "$WORK/simulator.json" --port $SIM_PORT >"$WORK/simulator.log" 2>&1 &
STARTED+=($!)
unpaced_proxy_config "$WORK/sightline.json" $SL_PORT $SIM_PORT "$WORK/state" "$WORK/sightline.log"
valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" --separate-threads=no \
    "${SL_BIN:-$BIN/sightline}" serve --config "$WORK/sightline.json" >"$WORK/valgrind.log" 2>&1 &
SL_PID=$!; STARTED+=("$SL_PID")
for _ in $(seq 600); do grep -q '"proxy listening"' "$WORK/sightline.log" 2>/dev/null && break; sleep 0.1; done
"$BIN/sightline-bench" load --port $SL_PORT --concurrency "$CONCURRENCY" --requests "$REQUESTS" \
    --body-bytes "$BODY" --seconds 300 ${CACHE_KEY:+--cache-key "$CACHE_KEY"} | tee "$WORK/load.txt"
kill -TERM "$SL_PID"
wait "$SL_PID" 2>/dev/null || true
TOTAL=$(grep -o 'summary: [0-9]*' "$WORK/callgrind.out" | awk '{print $2}')
echo "instructions: $TOTAL total, $((TOTAL / REQUESTS)) per request (start-up and shutdown included)"
# Whole listings first: `| head` closing the pipe early failed the script (pipefail) before it printed anything.
callgrind_annotate --inclusive=yes "$WORK/callgrind.out" >"$WORK/inclusive-all.txt" 2>/dev/null
callgrind_annotate "$WORK/callgrind.out" >"$WORK/self-all.txt" 2>/dev/null
head -60 "$WORK/inclusive-all.txt" >"$WORK/inclusive.txt"
head -60 "$WORK/self-all.txt" >"$WORK/self.txt"
echo "--- self (top 40)"; sed -n '1,60p' "$WORK/self.txt" | cut -c1-180
echo "profile: $WORK"
