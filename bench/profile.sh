#!/usr/bin/env bash
# Profiles the release `sightline serve` under callgrind (instruction counts: repeatable on a busy machine)
# while the load client sends a fixed number of unpaced 208-event streams through it.
#
#   bench/profile.sh [requests=300] [concurrency=10] [body-bytes=51200]
#
# SL_BIN=path profiles another sightline binary (a saved build, for a before/after) with this tree's simulator.
#
# Writes bench/work/profile-<time>/callgrind.out and prints the top functions (inclusive and self) and
# instructions per request. Run it on its own, not during bench/run.sh. Loopback only, bounded by `requests`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
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

cat >"$WORK/simulator.json" <<EOF
{"accounts": [{"name":"acct1","accountId":"sim-account-1","accessToken":"sim-access-acct1-0","refreshToken":"sim-refresh-acct1-0","plan":"plus"}],
 "eventProfile": {"deltaCount": 200, "deltaDelayMs": 0, "textSize": 2000},
 "accessTokenLifetimeSeconds": 86400, "primaryWindowTokenBudget": 1000000000000000, "secondaryWindowTokenBudget": 1000000000000000}
EOF
"$BIN/sightline" simulator --config "$WORK/simulator.json" --port $SIM_PORT >"$WORK/simulator.log" 2>&1 &
STARTED+=($!)
cat >"$WORK/sightline.json" <<EOF
{"listen": {"host": "127.0.0.1", "port": $SL_PORT}, "stateDirectory": "$WORK/state",
 "accounts": [{"name":"acct1","kind":"chatgpt","baseURL":"http://127.0.0.1:$SIM_PORT/backend-api/codex","accountId":"sim-account-1",
   "accessToken":"sim-access-acct1-0","refreshToken":"sim-refresh-acct1-0","maxConcurrentRequests":1024}],
 "upstream": {"tokenURL": "http://127.0.0.1:$SIM_PORT/oauth/token"},
 "log": {"stdout": false, "file": "$WORK/sightline.log"}}
EOF
chmod 600 "$WORK/sightline.json"  # the proxy refuses a readable config that holds inline credentials
valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" --separate-threads=no \
    "${SL_BIN:-$BIN/sightline}" serve --config "$WORK/sightline.json" >"$WORK/valgrind.log" 2>&1 &
SL_PID=$!; STARTED+=("$SL_PID")
for _ in $(seq 600); do grep -q '"proxy listening"' "$WORK/sightline.log" 2>/dev/null && break; sleep 0.1; done
"$BIN/sightline-bench" load --port $SL_PORT --concurrency "$CONCURRENCY" --requests "$REQUESTS" \
    --body-bytes "$BODY" --seconds 300 | tee "$WORK/load.txt"
kill -TERM "$SL_PID"
wait "$SL_PID" 2>/dev/null || true
TOTAL=$(grep -o 'summary: [0-9]*' "$WORK/callgrind.out" | awk '{print $2}')
echo "instructions: $TOTAL total, $((TOTAL / REQUESTS)) per request (start-up and shutdown included)"
callgrind_annotate --inclusive=yes "$WORK/callgrind.out" 2>/dev/null | head -60 >"$WORK/inclusive.txt"
callgrind_annotate "$WORK/callgrind.out" 2>/dev/null | head -60 >"$WORK/self.txt"
echo "--- self (top 40)"; sed -n '1,60p' "$WORK/self.txt" | cut -c1-180
echo "profile: $WORK"
