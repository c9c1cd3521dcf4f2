#!/usr/bin/env bash
# Prints every PromQL expression of the Sightline dashboards and/or rules, one per line, with Grafana
# variables substituted so each line can be sent to Prometheus as is. The one place that extracts them:
# scripts/check-dashboards-live.sh and the integrator's live Swift test both read this output.
#
# Usage: scripts/dashboard-exprs.sh [--panels|--rules|--all] [--with-source]
#   --panels       panel expressions of dashboards/*.json (default)
#   --rules        expressions of alerts/*.yml (recording rules and alerts)
#   --all          both
#   --with-source  prefix each line with "<kind>\t<source>\t": kind is panel, record or alert; source is
#                  "<dashboard uid>/<panel id>/<refId> <panel title>" or the rule's name
# Substitutions (environment): $__rate_interval -> RATE_INTERVAL (5m), $__interval -> INTERVAL (1m),
# $__range -> RANGE (1h), $job / ${job} and any other variable -> VAR_VALUE (.+, matches every job: the
# dashboards only use variables inside =~ matchers).
# Needs bash and jq. The rules parser reads the layout of alerts/sightline.rules.yml: `expr:` either on one
# line or as a `|` block scalar.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=panels
with_source=0
for arg in "$@"; do
    case "$arg" in
        --panels) mode=panels ;;
        --rules) mode=rules ;;
        --all) mode=all ;;
        --with-source) with_source=1 ;;
        *) echo "usage: $0 [--panels|--rules|--all] [--with-source]" >&2; exit 64 ;;
    esac
done

RATE_INTERVAL="${RATE_INTERVAL:-5m}"
INTERVAL="${INTERVAL:-1m}"
RANGE="${RANGE:-1h}"
VAR_VALUE="${VAR_VALUE:-.+}"

panels() {
    local f
    for f in dashboards/*.json; do
        jq -r --arg ri "$RATE_INTERVAL" --arg iv "$INTERVAL" --arg rg "$RANGE" --arg vv "$VAR_VALUE" '
            .uid as $uid
            | .. | objects | select(has("targets")) | . as $p | .targets[]
            | [ "panel",
                "\($uid)/\($p.id)/\(.refId) \($p.title)",
                (.expr | gsub("\\$__rate_interval"; $ri) | gsub("\\$__interval"; $iv) | gsub("\\$__range"; $rg)
                       | gsub("\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}"; $vv) | gsub("\\$[A-Za-z_][A-Za-z0-9_]*"; $vv)
                       | gsub("\\s*\\n\\s*"; " ")) ]
            | @tsv' "$f"
    done
}

rules() {
    local f
    for f in alerts/*.yml; do
        awk '
            function flush() { if (kind != "" && expr != "") print kind "\t" name "\t" expr; expr = ""; inblock = 0 }
            /^[[:space:]]*- (alert|record):/ {
                flush(); kind = ($0 ~ /alert:/) ? "alert" : "record"
                name = $0; sub(/^[^:]*:[[:space:]]*/, "", name); next
            }
            inblock {
                match($0, /^[[:space:]]*/)
                if ($0 ~ /^[[:space:]]*$/) next
                if (RLENGTH > exprindent) { line = $0; sub(/^[[:space:]]+/, "", line); expr = (expr == "" ? line : expr " " line); next }
                inblock = 0; print kind "\t" name "\t" expr; expr = ""; kind_done = 1
            }
            /^[[:space:]]*expr:/ {
                match($0, /^[[:space:]]*/); exprindent = RLENGTH
                rest = $0; sub(/^[[:space:]]*expr:[[:space:]]*/, "", rest)
                if (rest ~ /^[|>]/) { inblock = 1; expr = "" } else { expr = rest; print kind "\t" name "\t" expr; expr = "" }
                next
            }
            END { if (inblock && expr != "") print kind "\t" name "\t" expr }
        ' "$f"
    done
}

emit() {
    if [ "$with_source" = 1 ]; then cat; else cut -f3-; fi
}

case "$mode" in
    panels) panels | emit ;;
    rules) rules | emit ;;
    all) { panels; rules; } | emit ;;
esac
