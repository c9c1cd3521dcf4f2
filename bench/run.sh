#!/usr/bin/env bash
# Sightline side-by-side benchmark (issue #8): one command that builds release binaries, starts the Codex
# backend simulator and every peer in front of it (direct, nginx, Sightline, codex-lb with default and raised
# caps), runs the load client against each in turn, and writes bench/results/<date>-<quick|full>.md.
#
#   bench/run.sh [--quick | --full] [--no-codex-lb] [--with-thread-path] [--with-bridges] [--out FILE]
#
# --with-thread-path adds the peer *sightline-thread*: the same proxy with `upstream.onEventLoops: false` (every
# upstream transfer on the one upstream thread, as before the event-loop change), for a same-run comparison.
#
# --with-bridges adds the two HTTP-to-WebSocket bridges, each carrying every HTTP conversation over an upstream
# WebSocket to the simulator: *sightline-bridge* (`httpBridge: true`) and, unless --no-codex-lb,
# *codex-lb-bridge* (its HTTP responses session bridge on, upstream transport websocket, caps raised).
#
# Everything listens on 127.0.0.1 only. Every load loop is bounded in requests and time (bench/Sources/
# sightline-bench/Scenario.swift). Installs nginx-light/wrk with apt-get if missing, and codex-lb with pip into
# bench/.venv-codexlb (Python 3.13 from pyenv). Scratch files go to bench/work/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

MODE=quick
WITH_CODEXLB=1
WITH_THREAD_PATH=0
WITH_BRIDGES=0
OUT=""
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) MODE=quick ;;
        --full) MODE=full ;;
        --no-codex-lb) WITH_CODEXLB=0 ;;
        --with-thread-path) WITH_THREAD_PATH=1 ;;
        --with-bridges) WITH_BRIDGES=1 ;;
        --out) OUT=$2; shift ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "unknown option: $1" >&2; exit 2 ;;
    esac
    shift
done

CODEXLB_VERSION=1.24.0
PYTHON313=${PYTHON313:-$HOME/.pyenv/versions/3.13.0/bin/python3}
SIM_PORT=18788 NGINX_PORT=18789 SIGHTLINE_PORT=18790 CLB_PORT=18791 CLB_RAISED_PORT=18792 SL_THREAD_PORT=18793
SL_BRIDGE_PORT=18794 CLB_BRIDGE_PORT=18795
WORK=$ROOT/bench/work/run-$(date +%Y%m%d-%H%M%S)
mkdir -p "$WORK" "$ROOT/bench/results"
[ -n "$OUT" ] || OUT=$ROOT/bench/results/$(date -u +%Y-%m-%d)-$MODE.md
NOTES=()
STARTED=()

log() { echo "[run.sh] $*" >&2; }
cleanup() {
    for pid in "${STARTED[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${STARTED[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

# Waits until $2 (a file) contains $3, up to $4 seconds; fails with the file's tail.
wait_for() {
    local name=$1 file=$2 pattern=$3 secs=${4:-30} i
    for ((i = 0; i < secs * 10; i++)); do
        grep -q "$pattern" "$file" 2>/dev/null && return 0
        sleep 0.1
    done
    log "$name did not start; last lines of $file:"; tail -20 "$file" >&2
    return 1
}

# --- prerequisites ------------------------------------------------------------------------------------
if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null; then
    log "installing nginx-light and wrk"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light wrk >/dev/null
fi
ulimit -n 65536 2>/dev/null || ulimit -n 16384 2>/dev/null || true
[ "$(ulimit -n)" -ge 4096 ] || { log "need at least 4096 open files (ulimit -n is $(ulimit -n))"; exit 1; }

log "building release binaries"
swift build -c release --product sightline >&2
swift build -c release --product sightline-bench >&2
BIN=$(swift build -c release --show-bin-path)

# --- simulator: 3 accounts, 200 small deltas per stream, budgets that never run out -------------------
cat >"$WORK/simulator.json" <<EOF
{"accounts": [
  {"name":"acct1","accountId":"sim-account-1","accessToken":"sim-access-acct1-0","refreshToken":"sim-refresh-acct1-0","apiKey":"sk-sim-FAKE-acct1","plan":"plus"},
  {"name":"acct2","accountId":"sim-account-2","accessToken":"sim-access-acct2-0","refreshToken":"sim-refresh-acct2-0","apiKey":"sk-sim-FAKE-acct2","plan":"plus"},
  {"name":"acct3","accountId":"sim-account-3","accessToken":"sim-access-acct3-0","refreshToken":"sim-refresh-acct3-0","apiKey":"sk-sim-FAKE-acct3","plan":"plus"}],
 "eventProfile": {"deltaCount": 200, "deltaDelayMs": 0, "textSize": 2000},
 "accessTokenLifetimeSeconds": 86400,
 "primaryWindowTokenBudget": 1000000000000000, "secondaryWindowTokenBudget": 1000000000000000}
EOF
"$BIN/sightline" simulator --config "$WORK/simulator.json" --port $SIM_PORT >"$WORK/simulator.log" 2>&1 &
SIM_PID=$!; STARTED+=("$SIM_PID")
# If the simulator dies mid-run, say how (the suite stops at the next scenario and records it).
( while kill -0 "$SIM_PID" 2>/dev/null; do sleep 0.5; done
  echo "[run.sh] simulator (pid $SIM_PID) is gone at $(date +%T)" >&2 ) &
STARTED+=($!)
wait_for simulator "$WORK/simulator.log" "simulator listening"

# --- nginx: a plain streaming reverse proxy, keep-alive to the upstream ------------------------------
mkdir -p "$WORK/nginx"
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes auto;
worker_rlimit_nofile 65536;
daemon off;
user root root;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 8192; }
http {
    access_log $WORK/nginx/access.log combined buffer=64k flush=1s;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    client_max_body_size 16m;
    client_body_buffer_size 2m;
    keepalive_requests 100000;
    upstream simulator { server 127.0.0.1:$SIM_PORT; keepalive 512; }
    server {
        listen 127.0.0.1:$NGINX_PORT backlog=4096;
        location / {
            proxy_pass http://simulator;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_read_timeout 120s;
        }
    }
}
EOF
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" >"$WORK/nginx/stdout.log" 2>&1 &
NGINX_PID=$!; STARTED+=("$NGINX_PID")
for _ in $(seq 50); do curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$NGINX_PORT/" && break; sleep 0.1; done

# --- Sightline (release), the same three accounts in ChatGPT mode ------------------------------------
# maxConcurrentRequests is raised from its default 64 per account: Sightline answers 503 at once (it does
# not queue) when every account is at its cap, and 1000 concurrent streams need more than 3 × 64.
SIM_BASE=http://127.0.0.1:$SIM_PORT/backend-api/codex
# Writes a Sightline configuration: $1 file, $2 port, $3 state directory, $4 log file, $5 onEventLoops,
# $6 httpBridge (false unless given).
sightline_config() {
    cat >"$1" <<EOF
{"listen": {"host": "127.0.0.1", "port": $2},
 "stateDirectory": "$3",
 "httpBridge": ${6:-false},
 "accounts": [
  {"name":"acct1","kind":"chatgpt","baseURL":"$SIM_BASE","accountId":"sim-account-1","accessToken":"sim-access-acct1-0","refreshToken":"sim-refresh-acct1-0","maxConcurrentRequests":1024},
  {"name":"acct2","kind":"chatgpt","baseURL":"$SIM_BASE","accountId":"sim-account-2","accessToken":"sim-access-acct2-0","refreshToken":"sim-refresh-acct2-0","maxConcurrentRequests":1024},
  {"name":"acct3","kind":"chatgpt","baseURL":"$SIM_BASE","accountId":"sim-account-3","accessToken":"sim-access-acct3-0","refreshToken":"sim-refresh-acct3-0","maxConcurrentRequests":1024}],
 "upstream": {"tokenURL": "http://127.0.0.1:$SIM_PORT/oauth/token", "onEventLoops": $5},
 "log": {"stdout": false, "file": "$4"}}
EOF
    chmod 600 "$1"  # the proxy refuses a readable config that holds inline credentials
}
sightline_config "$WORK/sightline.json" $SIGHTLINE_PORT "$WORK/sightline-state" "$WORK/sightline.log" true
"$BIN/sightline" serve --config "$WORK/sightline.json" >"$WORK/sightline.stdout" 2>&1 &
SL_PID=$!; STARTED+=("$SL_PID")
wait_for sightline "$WORK/sightline.log" '"proxy listening"'

PEERS=(
    --peer "direct=$SIM_PORT,pid=$SIM_PID"
    --peer "nginx=$NGINX_PORT,pid=$NGINX_PID"
    --peer "sightline=$SIGHTLINE_PORT,pid=$SL_PID,metrics=$SIGHTLINE_PORT"
)
if [ "$WITH_THREAD_PATH" = 1 ]; then
    sightline_config "$WORK/sightline-thread.json" $SL_THREAD_PORT "$WORK/sightline-thread-state" \
        "$WORK/sightline-thread.log" false
    "$BIN/sightline" serve --config "$WORK/sightline-thread.json" >"$WORK/sightline-thread.stdout" 2>&1 &
    SLT_PID=$!; STARTED+=("$SLT_PID")
    wait_for sightline-thread "$WORK/sightline-thread.log" '"proxy listening"'
    PEERS+=(--peer "sightline-thread=$SL_THREAD_PORT,pid=$SLT_PID,metrics=$SL_THREAD_PORT")
    NOTES+=(--note "*sightline-thread* is Sightline with \`upstream.onEventLoops: false\`: every upstream transfer on the one upstream thread (the design before the event-loop change), measured in the same run for comparison.")
fi
if [ "$WITH_BRIDGES" = 1 ]; then
    sightline_config "$WORK/sightline-bridge.json" $SL_BRIDGE_PORT "$WORK/sightline-bridge-state" \
        "$WORK/sightline-bridge.log" true true
    "$BIN/sightline" serve --config "$WORK/sightline-bridge.json" >"$WORK/sightline-bridge.stdout" 2>&1 &
    SLB_PID=$!; STARTED+=("$SLB_PID")
    wait_for sightline-bridge "$WORK/sightline-bridge.log" '"proxy listening"'
    PEERS+=(--peer "sightline-bridge=$SL_BRIDGE_PORT,pid=$SLB_PID,metrics=$SL_BRIDGE_PORT")
    NOTES+=(--note "*sightline-bridge* is Sightline with \`httpBridge: true\`: each HTTP conversation (one per load-client connection, by \`session_id\`) is carried over one pooled upstream WebSocket to the simulator.")
fi

# --- codex-lb: PyPI package in its own venv, HTTP bridge off, accounts imported via its API ---------
# Starts one instance; $1 label, $2 port, remaining args: extra VAR=value settings.
start_codexlb() {
    local label=$1 port=$2; shift 2
    local dir=$WORK/$label
    mkdir -p "$dir"
    env CODEX_LB_DATA_DIR="$dir" \
        CODEX_LB_UPSTREAM_BASE_URL="http://127.0.0.1:$SIM_PORT/backend-api" \
        CODEX_LB_UPSTREAM_STREAM_TRANSPORT=http \
        CODEX_LB_HTTP_RESPONSES_SESSION_BRIDGE_ENABLED=false \
        CODEX_LB_TELEMETRY_ENABLED=false \
        CODEX_LB_USAGE_REFRESH_ENABLED=false \
        CODEX_LB_AUTH_GUARDIAN_ENABLED=false \
        CODEX_LB_QUOTA_PLANNER_SCHEDULER_ENABLED=false \
        CODEX_LB_AUTOMATIONS_SCHEDULER_ENABLED=false \
        CODEX_LB_RATE_LIMIT_RESET_CREDITS_REFRESH_ENABLED=false \
        CODEX_LB_MODEL_REGISTRY_ENABLED=false \
        CODEX_LB_STICKY_SESSION_CLEANUP_ENABLED=false \
        HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost \
        "$@" \
        "$ROOT/bench/.venv-codexlb/bin/codex-lb" --host 127.0.0.1 --port "$port" >"$dir/codex-lb.log" 2>&1 &
    local pid=$!; STARTED+=("$pid")
    wait_for "$label" "$dir/codex-lb.log" "Application startup complete" 120 || return 1
    for i in 1 2 3; do
        "$PYTHON313" "$ROOT/bench/make_codex_auth_json.py" "$i" >"$dir/auth$i.json"
        curl -sf --max-time 20 -F "auth_json=@$dir/auth$i.json" "http://127.0.0.1:$port/api/accounts/import" >>"$dir/import.log" || {
            log "$label: account import $i failed"; return 1; }
        echo >>"$dir/import.log"
    done
    curl -sf -N --max-time 20 "http://127.0.0.1:$port/backend-api/codex/responses" -H 'content-type: application/json' \
        -d '{"model":"gpt-5.5","input":"hi","stream":true}' >"$dir/smoke.sse" || true
    grep -q response.completed "$dir/smoke.sse" || { log "$label: smoke request failed"; return 1; }
    PEERS+=(--peer "$label=$port,pid=$pid")
}

if [ "$WITH_CODEXLB" = 1 ]; then
    if [ ! -x "$ROOT/bench/.venv-codexlb/bin/codex-lb" ]; then
        log "installing codex-lb==$CODEXLB_VERSION into bench/.venv-codexlb"
        "$PYTHON313" -m venv "$ROOT/bench/.venv-codexlb"
        "$ROOT/bench/.venv-codexlb/bin/pip" install -q "codex-lb==$CODEXLB_VERSION" >&2
    fi
    start_codexlb codex-lb $CLB_PORT || NOTES+=(--note "codex-lb (default caps) could not be started; see bench/work logs")
    # Caps raised: per-account stream and response-create limits, global admission and the aiohttp pool.
    start_codexlb codex-lb-raised $CLB_RAISED_PORT \
        CODEX_LB_PROXY_ACCOUNT_STREAM_LIMIT=4096 CODEX_LB_PROXY_ACCOUNT_RESPONSE_CREATE_LIMIT=4096 \
        CODEX_LB_PROXY_RESPONSE_CREATE_LIMIT=4096 CODEX_LB_BULKHEAD_PROXY_LIMIT=4096 \
        CODEX_LB_HTTP_CONNECTOR_LIMIT=4096 CODEX_LB_HTTP_CONNECTOR_LIMIT_PER_HOST=4096 \
        CODEX_LB_PROXY_ADMISSION_WAIT_TIMEOUT_SECONDS=60 \
        || NOTES+=(--note "codex-lb (caps raised) could not be started; see bench/work logs")
    if [ "$WITH_BRIDGES" = 1 ]; then
        # Its HTTP bridge on, over an upstream WebSocket, with the caps raised as above and the bridge's own
        # session and queue limits raised, so that the figures measure the bridge, not its admission.
        start_codexlb codex-lb-bridge $CLB_BRIDGE_PORT \
            CODEX_LB_HTTP_RESPONSES_SESSION_BRIDGE_ENABLED=true CODEX_LB_UPSTREAM_STREAM_TRANSPORT=websocket \
            CODEX_LB_HTTP_RESPONSES_SESSION_BRIDGE_MAX_SESSIONS=4096 \
            CODEX_LB_HTTP_RESPONSES_SESSION_BRIDGE_QUEUE_LIMIT=4096 \
            CODEX_LB_PROXY_UPSTREAM_WEBSOCKET_CONNECT_LIMIT=4096 \
            CODEX_LB_PROXY_ACCOUNT_STREAM_LIMIT=4096 CODEX_LB_PROXY_ACCOUNT_RESPONSE_CREATE_LIMIT=4096 \
            CODEX_LB_PROXY_RESPONSE_CREATE_LIMIT=4096 CODEX_LB_BULKHEAD_PROXY_LIMIT=4096 \
            CODEX_LB_HTTP_CONNECTOR_LIMIT=4096 CODEX_LB_HTTP_CONNECTOR_LIMIT_PER_HOST=4096 \
            CODEX_LB_PROXY_ADMISSION_WAIT_TIMEOUT_SECONDS=60 \
            || NOTES+=(--note "codex-lb (bridge) could not be started; see bench/work logs")
        NOTES+=(--note "*codex-lb-bridge* is codex-lb $CODEXLB_VERSION with its HTTP responses session bridge on (CODEX_LB_HTTP_RESPONSES_SESSION_BRIDGE_ENABLED=true, CODEX_LB_UPSTREAM_STREAM_TRANSPORT=websocket): HTTP requests carried over upstream WebSockets to the simulator; caps raised as for *codex-lb-raised*, bridge sessions, bridge queue and upstream WebSocket connects 4096.")
    fi
    NOTES+=(--note "*codex-lb* and *codex-lb-raised* (codex-lb $CODEXLB_VERSION) run with its HTTP bridge off (CODEX_LB_HTTP_RESPONSES_SESSION_BRIDGE_ENABLED=false, CODEX_LB_UPSTREAM_STREAM_TRANSPORT=http): HTTP end to end, like *nginx* and *sightline*. *codex-lb* = default caps (8 streams and 4 response creates per account, 3 accounts); *codex-lb-raised* = per-account and global caps 4096, aiohttp pool 4096.")
fi

VERSIONS=(
    --version "sightline $("$BIN/sightline" version 2>/dev/null | head -1) (release build, git $(git rev-parse --short HEAD))"
    --version "swift: $(swift --version 2>/dev/null | head -1)"
    --version "nginx: $(nginx -v 2>&1 | head -1)"
    --version "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
)
[ "$WITH_CODEXLB" = 1 ] && VERSIONS+=(--version "codex-lb: $CODEXLB_VERSION on $("$PYTHON313" --version)")

FULL=()
[ "$MODE" = full ] && FULL=(--full)
log "running the $MODE suite (results: $OUT)"
"$BIN/sightline-bench" suite --simulator-pid "$SIM_PID" --simulator-port "$SIM_PORT" "${PEERS[@]}" "${FULL[@]}" "${VERSIONS[@]}" "${NOTES[@]}" \
    --out "$OUT"
echo "- load average when the suite ended: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT"
log "done: $OUT"
