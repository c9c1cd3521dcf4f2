#!/usr/bin/env bash
# Soak: N minutes (default 10) of mixed load against a release build of the proxy in front of the
# simulator, with random upstream faults. Samples the proxy's RSS and open descriptors from /proc every
# few seconds and fails if, after warm-up, RSS grows past a threshold or descriptors grow without bound,
# or if RSS still trends upward over the second half of the run (a leak rather than caches filling),
# or if any client sees something other than a well-formed outcome (a complete stream or response, a
# stream ended by a terminal response.failed, or a structured retryable error). Prints a summary.
#
#   scripts/soak.sh [--minutes N] [--concurrency C] [--fault-probability P] [--bin PATH]
#                   [--transcript-cache-bytes B]   (a small cache tells a leak from the cache filling up)
#
# Everything runs on 127.0.0.1; the run is bounded by --minutes. Figures: docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=10
concurrency=8
probability=0.05
bin=""
transcript_bytes=""             # continuity.transcriptCacheBytes; empty = the proxy's default (64 MiB)
rss_growth_kib=$((48 * 1024))   # allowed RSS growth after warm-up
fd_growth=32                    # allowed descriptor growth after warm-up
while [ $# -gt 0 ]; do
    case "$1" in
        --minutes) minutes="$2"; shift 2 ;;
        --concurrency) concurrency="$2"; shift 2 ;;
        --fault-probability) probability="$2"; shift 2 ;;
        --bin) bin="$2"; shift 2 ;;
        --transcript-cache-bytes) transcript_bytes="$2"; shift 2 ;;
        *) echo "usage: $0 [--minutes N] [--concurrency C] [--fault-probability P] [--bin PATH] [--transcript-cache-bytes B]" >&2; exit 2 ;;
    esac
done

if [ -z "$bin" ]; then
    swift build -c release --product sightline 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
    bin="$(swift build -c release --show-bin-path)/sightline"
fi
[ -x "$bin" ] || { echo "no sightline binary at $bin" >&2; exit 1; }

dir="$(mktemp -d /tmp/sightline-soak-script-XXXXXX)"
sim_pid=""; proxy_pid=""
cleanup() {
    [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null || true
    [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null || true
    wait 2>/dev/null || true
}
trap cleanup EXIT

pick_port() { echo $(( 20000 + RANDOM % 12000 )); }
wait_for() {  # wait_for FILE PATTERN SECONDS
    local deadline=$(( $(date +%s) + $3 ))
    until grep -q "$2" "$1" 2>/dev/null; do
        [ "$(date +%s)" -ge "$deadline" ] && return 1
        sleep 0.1
    done
}

sim_port=$(pick_port)
cat > "$dir/simulator.json" <<JSON
{"accounts":[
 {"name":"acct1","accountId":"sim-account-1","accessToken":"sim-access-acct1-0","refreshToken":"sim-refresh-acct1-0","plan":"plus"},
 {"name":"acct2","accountId":"sim-account-2","accessToken":"sim-access-acct2-0","refreshToken":"sim-refresh-acct2-0","plan":"plus"},
 {"name":"acct3","accountId":"sim-account-3","accessToken":"sim-access-acct3-0","refreshToken":"sim-refresh-acct3-0","plan":"plus"}],
 "eventProfile":{"deltaCount":8,"deltaDelayMs":5,"textSize":400},
 "primaryWindowTokenBudget":2000000000,"secondaryWindowTokenBudget":20000000000}
JSON
"$bin" simulator --config "$dir/simulator.json" --port "$sim_port" >"$dir/simulator.out" 2>&1 &
sim_pid=$!
wait_for "$dir/simulator.out" "simulator listening" 15 || { echo "simulator did not start" >&2; cat "$dir/simulator.out"; exit 1; }

proxy_port=$(pick_port)
base="http://127.0.0.1:$sim_port/backend-api/codex"
continuity=""
[ -n "$transcript_bytes" ] && continuity="\"continuity\":{\"transcriptCacheBytes\":$transcript_bytes},"
cat > "$dir/sightline.json" <<JSON
{"listen":{"host":"127.0.0.1","port":$proxy_port},
 "stateDirectory":"$dir/state",
 "accounts":[
  {"name":"acct1","kind":"chatgpt","baseURL":"$base","accountId":"sim-account-1","accessToken":"sim-access-acct1-0","refreshToken":"sim-refresh-acct1-0"},
  {"name":"acct2","kind":"chatgpt","baseURL":"$base","accountId":"sim-account-2","accessToken":"sim-access-acct2-0","refreshToken":"sim-refresh-acct2-0"},
  {"name":"acct3","kind":"chatgpt","baseURL":"$base","accountId":"sim-account-3","accessToken":"sim-access-acct3-0","refreshToken":"sim-refresh-acct3-0"}],
 "upstream":{"tokenURL":"http://127.0.0.1:$sim_port/oauth/token"},$continuity
 "log":{"stdout":false,"file":"$dir/sightline.log","maxBytes":16777216,"keepSegments":3}}
JSON
chmod 600 "$dir/sightline.json"
"$bin" serve --config "$dir/sightline.json" >"$dir/proxy.out" 2>&1 &
proxy_pid=$!
wait_for "$dir/sightline.log" '"proxy listening"' 15 || { echo "proxy did not start" >&2; cat "$dir/proxy.out"; exit 1; }

curl -fsS -o /dev/null "http://127.0.0.1:$sim_port/__sim/random-faults" -H 'content-type: application/json' -d "{
  \"probability\": $probability, \"seed\": 9,
  \"faults\": [\"server_error\", \"bad_gateway\", \"connection_reset\", \"connection_reset\",
             {\"fault\":\"stream_cut\",\"after\":2}, {\"fault\":\"stream_cut\",\"after\":6},
             {\"fault\":\"slow\",\"ms\":20}, {\"fault\":\"response_failed\",\"code\":\"server_error\"}]}"

echo "soak: ${minutes} min, concurrency $concurrency, fault probability $probability, proxy pid $proxy_pid, dir $dir"
status=0
python3 - "$proxy_port" "$proxy_pid" "$minutes" "$concurrency" "$rss_growth_kib" "$fd_growth" "$dir" <<'PY' || status=$?
import http.client, json, os, re, sys, threading, time
port, pid, minutes, conc, rss_growth, fd_growth, workdir = (int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]),
    int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), sys.argv[7])
deadline = time.time() + minutes * 60
# Warm-up: the continuity caches (affinity map, sticky keys, transcript cache) are bounded but take a while
# to fill: about 20 minutes at 170 requests/s. Short runs count from the first minute (or fifth), runs of half
# an hour and more from their first third, so a long run judges the plateau and not the filling.
warmup_end = time.time() + (minutes * 60 / 3 if minutes >= 30 else min(60, minutes * 60 / 5))
max_trend_kib_per_min = 256  # allowed RSS slope over the run's second half
ALLOWED = {"upstream_unavailable", "stream_incomplete", "proxy_at_capacity", "server_error"}
lock = threading.Lock()
outcomes, violations, samples = {}, [], []

def proc():
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"): rss = int(line.split()[1])
    return rss, len(os.listdir(f"/proc/{pid}/fd"))

def leak(text):
    if "previous_response_not_found" in text: return "raw previous_response_not_found"
    for line in text.splitlines():
        if '"error"' in line and re.search(r"resp_[A-Za-z0-9]", line): return "resp_ id in an error"
    return None

def classify(status, body, streaming):
    text = body.decode("utf-8", "replace")
    if status == 200 and streaming:
        if "event: response.completed" in text: return "200 completed stream", None
        if "event: response.failed" in text: return "200 stream ended by response.failed", leak(text)
        return "malformed", "stream without terminal event"
    if status == 200:
        try: obj = json.loads(text)
        except Exception: return "malformed", "non-stream body not JSON"
        return ("200 response %s" % obj.get("status")), None if obj.get("object") == "response" else "not a Response"
    try: code = json.loads(text)["error"]["code"]
    except Exception: return "malformed", f"{status} without an error object"
    if code not in ALLOWED: return "malformed", f"{status} {code}"
    return f"{status} {code}", leak(text)

def worker(n):
    i = 0
    while time.time() < deadline:
        i += 1
        streaming = i % 3 != 0
        path = "/v1/responses" if i % 2 else "/backend-api/codex/responses"
        body = json.dumps({"model": "gpt-5.5", "input": f"soak {n} {i} " + "x" * (i % 7 * 200),
                           "stream": streaming, "prompt_cache_key": f"soak-{n}-{i % 5}"})
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            c.request("POST", path, body, {"content-type": "application/json"})
            r = c.getresponse()
            try: data = r.read()
            except http.client.IncompleteRead as e: data = e.partial
            status = r.status
            c.close()
        except Exception as e:
            with lock:
                outcomes["transport error"] = outcomes.get("transport error", 0) + 1
                if len(violations) < 20: violations.append(f"transport error {e!r}")
            continue
        outcome, violation = classify(status, data, streaming)
        with lock:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if violation and len(violations) < 20: violations.append(f"{outcome}: {violation}")
        if status == 503: time.sleep(0.2)  # a real client backs off on "retry later"

def sampler():
    while time.time() < deadline + 5:
        try: samples.append((time.time(),) + proc())
        except FileNotFoundError: violations.append("proxy process vanished"); return
        time.sleep(5)

threads = [threading.Thread(target=worker, args=(n,)) for n in range(conc)]
s = threading.Thread(target=sampler); s.start()
started = time.time()
for t in threads: t.start()
for t in threads: t.join()
s.join()
elapsed = time.time() - started
rss_end, fds_end = proc()
warm = [x for x in samples if x[0] >= warmup_end] or samples
base_rss, base_fd = warm[0][1], warm[0][2]
max_rss, max_fd = max(x[1] for x in warm), max(x[2] for x in warm)
total = sum(outcomes.values())
print(f"requests: {total} in {elapsed:.0f} s ({total / elapsed:.1f}/s), concurrency {conc}")
for k in sorted(outcomes): print(f"  {k}: {outcomes[k]}")
print(f"rss KiB: first {samples[0][1]}, after warm-up {base_rss}, max {max_rss}, end {rss_end} (growth after warm-up {rss_end - base_rss})")
print(f"open fds: first {samples[0][2]}, after warm-up {base_fd}, max {max_fd}, end {fds_end}")
# Linear fits (KiB per minute) over the warm samples and over the run's second half: a slow leak keeps the
# second half rising, caches that filled to their bounds do not.
def trend(points):
    if len(points) < 3: return 0.0
    xs = [x[0] - points[0][0] for x in points]; ys = [x[1] for x in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return 60 * sum((a - mx) * (b - my) for a, b in zip(xs, ys)) / max(1e-9, sum((a - mx) ** 2 for a in xs))
print(f"rss trend after warm-up: {trend(warm):.1f} KiB/min over {len(warm)} samples")
second_half = [x for x in samples if x[0] >= samples[0][0] + (samples[-1][0] - samples[0][0]) / 2]
late_trend = trend(second_half)
print(f"rss trend over the second half: {late_trend:.1f} KiB/min over {len(second_half)} samples")
with open(os.path.join(workdir, "samples.tsv"), "w") as f:
    for x in samples: f.write("%.0f\t%d\t%d\n" % x)
failed = False
if violations: print("FAIL: ill-formed outcomes:", *violations[:20], sep="\n  "); failed = True
if rss_end - base_rss > rss_growth: print(f"FAIL: RSS grew {rss_end - base_rss} KiB after warm-up"); failed = True
if late_trend > max_trend_kib_per_min:
    print(f"FAIL: RSS still grows by {late_trend:.0f} KiB/min over the second half"); failed = True
if max_fd - base_fd > fd_growth or fds_end - base_fd > fd_growth: print("FAIL: descriptors grew"); failed = True
succeeded = sum(v for k, v in outcomes.items() if k.startswith("200 completed") or k == "200 response completed")
# Failover absorbs nearly every injected fault: at least 80% of the requests must be served.
if succeeded * 10 < total * 8: print(f"FAIL: only {succeeded} of {total} requests succeeded"); failed = True
sys.exit(1 if failed else 0)
PY
for secret in sim-access-acct sim-refresh-acct; do
    if grep -rq "$secret" "$dir"/sightline.log* "$dir/proxy.out" 2>/dev/null; then
        echo "FAIL: a configured credential ($secret…) appears in the proxy's output"; status=1
    fi
done
echo "soak: $([ $status -eq 0 ] && echo PASS || echo FAIL) (artifacts in $dir)"
exit $status
