#!/usr/bin/env bash
# Builds and runs Sightline's libFuzzer targets (harnesses in Tests/Fuzz/Harnesses, seeds in
# Tests/Fuzz/corpus/<target>). See docs/reliability.md for what each target checks and the figures of past runs.
#
#   scripts/fuzz.sh [--seconds N] [--jobs J] [--build-only] [target...]
#
# Targets: http_request chunked websocket sse json response_event config zstd (default: all). Each runs for N seconds
# (default 20) with -max_total_time, J targets at a time (default: the number of CPUs), then a summary line per target
# is printed. The exit status is non-zero if a target crashed, hung, broke an invariant or failed to build; the
# input that did it is kept under Tests/Fuzz/crashes/<target>/ for triage (replay: .build-fuzz/bin/<target> FILE).
#
# The module sources are compiled with swiftc directly (-sanitize=fuzzer,address, -enable-testing so the
# harnesses reach internal parsers) into .build-fuzz/, and rebuilt only when a source file or flag changes: the
# module's own, or those of a module it imports.
# New inputs libFuzzer finds go to .build-fuzz/corpus/<target>/ (not committed); the committed seeds are read
# only. To grow the committed corpus, merge: .build-fuzz/bin/T -merge=1 Tests/Fuzz/corpus/T .build-fuzz/corpus/T
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
all_targets=(http_request chunked websocket sse json response_event config zstd)

seconds=20
jobs=$(nproc 2>/dev/null || echo 2)
build_only=0
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --jobs) jobs="$2"; shift 2 ;;
        --build-only) build_only=1; shift ;;
        -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
        -*) echo "fuzz: unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
    case " ${all_targets[*]} " in *" $t "*) ;; *) echo "fuzz: unknown target $t (have: ${all_targets[*]})" >&2; exit 2 ;; esac
done

out="$root/.build-fuzz"
mods="$out/modules"
objs="$out/obj"
mkdir -p "$mods" "$objs" "$out/bin" "$out/logs"
# The fuzzed modules are built -O: generic code left unspecialised at -Onone runs the targets 5-15x slower.
# Bounds and overflow checks stay on at -O (only `assert` goes; the harnesses check the same invariants).
# LogRedaction is only linked for the config target's Secret/Hex/SHA256, so it is built -Onone, which halves the
# cold build.
swiftflags=(-sanitize=fuzzer,address -g -parse-as-library -swift-version 6)

# Succeeds when the build named $1 is up to date: the hash of the flags and of its inputs (files, or words such
# as an optimisation flag) matches the last good build's stamp. Otherwise writes the new hash for commit_stamp.
fresh() {
    local stamp="$out/$1.stamp"; shift
    local hash
    hash=$( (printf '%s\n' "${swiftflags[*]}" "$(swiftc --version 2>&1 | head -1)"
        local a
        for a in "$@"; do if [ -f "$a" ]; then cat "$a"; else printf '%s\n' "$a"; fi; done) | sha256sum | cut -d' ' -f1)
    [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ] && return 0
    echo "$hash" >"$stamp.next"
    return 1
}
commit_stamp() { mv "$out/$1.stamp.next" "$out/$1.stamp"; }

# What else a module's build reads: the stamps of the modules and the C shim it imports (a stamp is the hash of
# that build's own inputs, its dependencies' stamps included, so a change below rebuilds everything above it),
# and the headers of the system-library modules it sees.
declare -A module_inputs=(
    [LogRedaction]="c-shim.stamp Sources/CZlib"
    [HTTPServer]="c-shim.stamp module-LogRedaction.stamp Sources/CZlib"
    [WireFormats]="Sources/CZstd"
    [Proxy]="c-shim.stamp module-LogRedaction.stamp Sources/CZlib"
)

# A Swift module from a list of files: .swiftmodule in $mods, one object in $objs.
build_module() {
    local name="$1" opt="$2"; shift 2
    local extra=()
    while [ "$1" != "--" ]; do extra+=("$1"); shift; done
    shift
    local inputs=() i
    for i in ${module_inputs[$name]-}; do
        case "$i" in
            *.stamp) inputs+=("$out/$i") ;;
            *) inputs+=("$i"/*) ;;
        esac
    done
    if fresh "module-$name" "$opt" "${extra[@]}" "${inputs[@]}" "$@"; then return 0; fi
    echo "fuzz: compiling module $name ($# files)"
    swiftc "${swiftflags[@]}" "$opt" -enable-testing -module-name "$name" -wmo -emit-module \
        -emit-module-path "$mods/$name.swiftmodule" -c -o "$objs/$name.o" -I "$mods" "${extra[@]}" "$@" \
        >"$out/logs/build-$name.log" 2>&1 || { cat "$out/logs/build-$name.log"; return 1; }
    commit_stamp "module-$name"
}

build() {
    # The C shim: SwiftPM would generate this module map for Sources/CSightlineSys/include.
    mkdir -p "$out/cmods/CSightlineSys"
    printf 'module CSightlineSys {\n    header "%s"\n    export *\n}\n' \
        "$root/Sources/CSightlineSys/include/CSightlineSys.h" >"$out/cmods/CSightlineSys/module.modulemap"
    if ! fresh c-shim Sources/CSightlineSys/*.c Sources/CSightlineSys/include/*.h; then
        clang -fsanitize=fuzzer-no-link,address -g -O1 -I Sources/CSightlineSys/include \
            -c Sources/CSightlineSys/CSightlineSys.c -o "$objs/CSightlineSys.o" || return 1
        commit_stamp c-shim
    fi
    # Independent modules compile in parallel (a cold build is most of a short run's time).
    # HTTPServer imports LogRedaction (SHA-1 for the WebSocket handshake), so it waits for it. LogRedaction
    # imports the C shim (getrandom for trace ids).
    (build_module LogRedaction -Onone -I "$out/cmods/CSightlineSys" -I Sources/CZlib -- Sources/LogRedaction/*.swift \
        && build_module HTTPServer -O -I "$out/cmods/CSightlineSys" -I Sources/CZlib -- Sources/HTTPServer/*.swift) &
    local p1=$!
    build_module WireFormats -O -I Sources/CZstd -- Sources/WireFormats/*.swift || return 1
    wait $p1 || return 1
    # Only the configuration files of Proxy: the rest needs libcurl, a server and every other module.
    build_module Proxy -O -I "$out/cmods/CSightlineSys" -I Sources/CZlib -- Sources/Proxy/ProxyConfiguration.swift Sources/Proxy/ProxyConfiguration+JSON.swift || return 1

    local t harness deps
    for t in "${targets[@]}"; do
        case "$t" in
            http_request) harness=HTTPRequestFuzz; deps="HTTPServer CSightlineSys LogRedaction" ;;
            chunked) harness=ChunkedFuzz; deps="HTTPServer CSightlineSys LogRedaction" ;;
            websocket) harness=WebSocketFuzz; deps="HTTPServer CSightlineSys LogRedaction" ;;
            sse) harness=SSEFuzz; deps="WireFormats" ;;
            json) harness=JSONFuzz; deps="WireFormats" ;;
            response_event) harness=ResponseEventFuzz; deps="WireFormats" ;;
            config) harness=ConfigFuzz; deps="Proxy LogRedaction CSightlineSys" ;;
            zstd) harness=ZstdFuzz; deps="WireFormats" ;;
        esac
        local objects=() d
        for d in $deps; do objects+=("$objs/$d.o"); done
        local src=(Tests/Fuzz/Harnesses/$harness.swift Tests/Fuzz/Harnesses/FuzzSplit.swift)
        if fresh "bin-$t" "${src[@]}" "${objects[@]}" && [ -x "$out/bin/$t" ]; then continue; fi
        echo "fuzz: linking $t"
        swiftc "${swiftflags[@]}" -O -module-name "Fuzz_$t" -I "$mods" -I "$out/cmods/CSightlineSys" \
            -I Sources/CZstd -I Sources/CZlib "${src[@]}" "${objects[@]}" -lzstd -lz -o "$out/bin/$t" \
            >"$out/logs/build-$t.log" 2>&1 || { cat "$out/logs/build-$t.log"; return 1; }
        commit_stamp "bin-$t"
    done
}

build_start=$(date +%s)
if ! build; then echo "fuzz: BUILD FAILED"; exit 1; fi
echo "fuzz: build took $(($(date +%s) - build_start))s"
[ "$build_only" = 1 ] && exit 0

# Runs one target; writes its summary line to $out/logs/<target>.summary and returns libFuzzer's status.
run_target() {
    local t="$1" log="$out/logs/$1.log"
    local crashes="$root/Tests/Fuzz/crashes/$t"
    local dict=() seeds="$root/Tests/Fuzz/corpus/$t"
    mkdir -p "$out/corpus/$t" "$crashes"
    [ -f "$root/Tests/Fuzz/dict/$t.dict" ] && dict=(-dict="$root/Tests/Fuzz/dict/$t.dict")
    # Leak checking is off: the Swift runtime's metadata caches look like leaks to LSan. ASan still aborts on
    # any memory error; -timeout turns a hang on one input into a reported failure.
    # The Swift runtime's own crash backtracer is off: it reads the crashed stack in a way ASan reports as a
    # second error, burying the real one; libFuzzer's handler still prints the fatal error and saves the input.
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:symbolize=1" \
        "$out/bin/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
        -print_final_stats=1 -artifact_prefix="$crashes/" "${dict[@]}" "$out/corpus/$t" "$seeds" >"$log" 2>&1
    local rc=$?
    local execs corpus seedcount cov
    execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
    corpus=$(find "$out/corpus/$t" "$seeds" -type f | wc -l)
    seedcount=$(find "$seeds" -type f | wc -l)
    local verdict=ok
    if [ $rc -ne 0 ]; then
        verdict="FAILED (exit $rc, input in Tests/Fuzz/crashes/$t/, log $log)"
    else
        # Nothing found: drop the empty crash directory so git status stays clean.
        rmdir "$crashes" 2>/dev/null
    fi
    printf 'fuzz: %-15s %3ss  execs %-9s cov %-5s corpus %s (%s seeds)  %s\n' \
        "$t" "$seconds" "${execs:-?}" "${cov:-?}" "$corpus" "$seedcount" "$verdict" >"$out/logs/$t.summary"
    return $rc
}

run_start=$(date +%s)
pids=()
names=()
status=0
for t in "${targets[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
    run_target "$t" &
    pids+=($!)
    names+=("$t")
done
for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || status=1
    cat "$out/logs/${names[$i]}.summary"
done
rmdir "$root/Tests/Fuzz/crashes" 2>/dev/null
echo "fuzz: ran ${#targets[@]} targets in $(($(date +%s) - run_start))s (+ build $((run_start - build_start))s); $([ $status = 0 ] && echo 'no failures' || echo 'FAILURES above')"
exit $status
