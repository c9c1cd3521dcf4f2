#!/usr/bin/env bash
# Runs the unit and integration tests under AddressSanitizer and ThreadSanitizer, each in its own scratch
# directory (.build-asan, .build-tsan) so the normal .build is untouched. SIGHTLINE_BIN points at the
# sanitized `sightline` so the integration tests exercise the instrumented proxy, not a plain build.
# Too slow for the default test command (see docs/reliability.md for the figures); run it by hand or in a
# nightly job.
#
#   scripts/sanitizers.sh [asan|tsan]... [-- <swift test arguments, e.g. --filter WireFormatsTests>]
#
# Each sanitizer's full output goes to .build-<san>/sanitizer-test.log; the exit status is non-zero if any
# build or test run fails.
set -uo pipefail
cd "$(dirname "$0")/.."

kinds=()
while [ $# -gt 0 ]; do
    case "$1" in
        asan | tsan) kinds+=("$1"); shift ;;
        --) shift; break ;;
        *) echo "usage: $0 [asan|tsan]... [-- swift-test-args]" >&2; exit 2 ;;
    esac
done
[ ${#kinds[@]} -eq 0 ] && kinds=(asan tsan)
# FuzzSmokeTests builds its own ASan+libFuzzer binaries; running it under another sanitizer adds nothing.
[ $# -eq 0 ] && set -- --skip FuzzSmokeTests
export SIGHTLINE_VENV="${SIGHTLINE_VENV:-$PWD/.venv}"
# Leak checking is off: Foundation and the test runner hold process-lifetime allocations that LSan would
# report on every run; ASan still catches use-after-free, overflows and double frees.
# Every instrumented process (the test runner and each `sightline` child the integration tests start) writes
# its reports to .build-<san>/sanitizer-reports/report.<pid>, because a child's stderr is not in the test log.
asan_options="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}"
tsan_options="${TSAN_OPTIONS:-halt_on_error=0:second_deadlock_stack=1:print_suppressions=1:suppressions=$PWD/scripts/tsan-suppressions.txt}"

status=0
for kind in "${kinds[@]}"; do
    case "$kind" in
        asan) flag=address ;;
        tsan) flag=thread ;;
    esac
    scratch=".build-$kind"
    log="$scratch/sanitizer-test.log"
    reports_dir="$PWD/$scratch/sanitizer-reports"
    mkdir -p "$scratch"
    rm -rf "$reports_dir"
    mkdir -p "$reports_dir"
    export ASAN_OPTIONS="$asan_options:log_path=$reports_dir/report"
    export TSAN_OPTIONS="$tsan_options:log_path=$reports_dir/report"
    start=$(date +%s)
    echo "== $kind: building with -sanitize=$flag into $scratch"
    if ! swift build --build-tests -Xswiftc -sanitize=$flag --scratch-path "$scratch" >"$scratch/sanitizer-build.log" 2>&1; then
        grep -E 'error:' "$scratch/sanitizer-build.log" | head -20
        echo "== $kind: build FAILED (see $scratch/sanitizer-build.log)"; status=1; continue
    fi
    built=$(date +%s)
    SIGHTLINE_BIN="$(swift build --scratch-path "$scratch" --show-bin-path)/sightline"
    export SIGHTLINE_BIN
    # Tests whose bounds a sanitizer changes by design (ASan quarantines freed memory) read this.
    export SIGHTLINE_SANITIZER="$kind"
    echo "== $kind: testing (SIGHTLINE_BIN=$SIGHTLINE_BIN), log in $log"
    swift test --skip-build --scratch-path "$scratch" "$@" >"$log" 2>&1
    rc=$?
    done_at=$(date +%s)
    reports=$(cat "$log" "$reports_dir"/report* 2>/dev/null \
        | grep -cE 'ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer' || true)
    summary=$(grep -E '^(Test Suite .All tests. (passed|failed)|\s+Executed [0-9]+ tests)' "$log" | tail -1)
    echo "== $kind: exit $rc, build $((built - start))s, test $((done_at - built))s, sanitizer reports: $reports"
    echo "   $summary"
    if [ "$reports" -ne 0 ]; then
        echo "   reports in $reports_dir; innermost frames:"
        cat "$log" "$reports_dir"/report* 2>/dev/null | grep -A3 -E '^(ERROR|WARNING): .*Sanitizer' \
            | grep -E '^ +#0 ' | sed -E 's/^ +#0 (0x[0-9a-f]+ in )?//; s/ \(.*//' | sort | uniq -c | sort -rn | head -20
    fi
    suppressed=$(grep -hoE 'ThreadSanitizer: Matched [0-9]+ suppressions|^ *[0-9]+ race:.*' "$log" "$reports_dir"/report* 2>/dev/null | head -3)
    [ -n "$suppressed" ] && echo "   suppressed (scripts/tsan-suppressions.txt): $suppressed"
    [ "$rc" -ne 0 ] && status=1
    [ "$reports" -ne 0 ] && status=1
done
exit $status
