#!/usr/bin/env bash
# Runs every dashboard panel expression and every recording/alert rule expression against a live
# Prometheus (PROM_URL/api/v1/query) and reports the ones that return no data.
#
# Usage: scripts/check-dashboards-live.sh [--strict] PROM_URL      e.g. http://127.0.0.1:9090
#
# Exit status: 1 when any query fails (parse error, HTTP error, unreachable Prometheus); with --strict, 2
# when a panel or recording rule returns an empty result; 0 otherwise. Empty results are always printed.
# Alert expressions are reported twice: as written ("TRUE" when the condition holds now, informational), and with
# their final threshold comparison removed ("alert-base"), which must return data like a panel does.
# Alerts read the recording rules, so the Prometheus under test should load alerts/sightline.rules.yml
# (rule_files) or those lines read empty. Rate windows default to 5m: run a load for at least a few
# scrape intervals first. Expressions come from scripts/dashboard-exprs.sh (same environment overrides).
# Needs bash, curl and jq.
set -euo pipefail
cd "$(dirname "$0")/.."

strict=0
if [ "${1:-}" = "--strict" ]; then strict=1; shift; fi
if [ $# -ne 1 ]; then echo "usage: $0 [--strict] PROM_URL" >&2; exit 64; fi
prom="${1%/}"

failed=0
empty=0
total=0

# query KIND SOURCE EXPR -> prints one status line; sets $last_count
query() {
    local kind="$1" source="$2" expr="$3" body status count
    total=$((total + 1))
    if ! body=$(curl -sS --max-time 30 --get "$prom/api/v1/query" --data-urlencode "query=$expr" 2>&1); then
        printf 'ERROR\t%s\t%s\t%s\n' "$kind" "$source" "$body"
        failed=$((failed + 1)); last_count=-1; return
    fi
    status=$(jq -r '.status // "invalid"' <<<"$body" 2>/dev/null || echo invalid)
    if [ "$status" != success ]; then
        printf 'ERROR\t%s\t%s\t%s: %s\n' "$kind" "$source" \
            "$(jq -r '.errorType // "bad_response"' <<<"$body" 2>/dev/null || echo bad_response)" \
            "$(jq -r '.error // empty' <<<"$body" 2>/dev/null || head -c 200 <<<"$body")"
        printf '\texpr: %s\n' "$expr"
        failed=$((failed + 1)); last_count=-1; return
    fi
    count=$(jq -r 'if .data.resultType == "vector" or .data.resultType == "matrix" then (.data.result | length)
                   else 1 end' <<<"$body")
    last_count=$count
}

while IFS=$'\t' read -r kind source expr; do
    [ -n "$expr" ] || continue
    query "$kind" "$source" "$expr"
    [ "$last_count" -ge 0 ] || continue
    if [ "$kind" = alert ]; then
        if [ "$last_count" -gt 0 ]; then printf 'TRUE\t%s\t%s\t(condition holds for %s series; it fires after for:)\n' "$kind" "$source" "$last_count"; fi
        base=$(sed -E 's/[[:space:]]*(>|<|>=|<=|==|!=)[[:space:]]*[-+0-9.eE]+[[:space:]]*$//' <<<"$expr")
        query alert-base "$source" "$base"
        [ "$last_count" -ge 0 ] || continue
        kind=alert-base
    fi
    if [ "$last_count" -eq 0 ]; then
        printf 'EMPTY\t%s\t%s\n' "$kind" "$source"
        empty=$((empty + 1))
    fi
done < <(scripts/dashboard-exprs.sh --all --with-source)

echo "checked $total queries against $prom: $failed failed, $empty empty"
if [ "$failed" -gt 0 ]; then exit 1; fi
if [ "$strict" = 1 ] && [ "$empty" -gt 0 ]; then exit 2; fi
exit 0
