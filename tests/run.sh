#!/usr/bin/env bash
# run.sh TEST_BUILD RELEASE_BUILD: run every test suite and print
#   - one line per suite as soon as it finishes (so a long run is never silent),
#   - then the output of every failure and the reason of every skip,
#   - and last "N passed, N failed, N skipped"; the exit status is 0 only if nothing
#     failed and something passed.
#   unit tests:  TEST_BUILD/tests/test_*   (from tests/unit/test_*.c)
#   CLI tests:   tests/cli/test_*          (shell or python, given ROMFS=TEST_BUILD/romfs)
#   fuzzing:     every tests/fuzz/fuzz_*.c target for a bounded time (FUZZ_SECONDS)
# Each program prints "PASS name", "FAIL name" or "SKIP name: reason" lines. A suite
# whose exit status is non-zero without a FAIL line, or zero without reporting any
# test, counts as one failure: a crash or sanitizer abort never passes unnoticed.
set -u
set -o pipefail
test_build=$1
release_build=$2
export ROMFS_SOURCE_DIR="${ROMFS_SOURCE_DIR:-$(pwd)}"
export ROMFS="$ROMFS_SOURCE_DIR/$test_build/romfs"
export ROMFS_RELEASE="$ROMFS_SOURCE_DIR/$release_build/romfs"
export ROMFS_BUILD="$ROMFS_SOURCE_DIR/$release_build"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=86"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LC_ALL=C
logs="$release_build/test-logs"
rm -rf "$logs"; mkdir -p "$logs"
# what the tools cache (mpy-cross outputs) goes here, not into the user's home
export XDG_CACHE_HOME="$ROMFS_SOURCE_DIR/$logs/xdg-cache"

jobs=$(nproc 2>/dev/null || echo 2)
{   # the slower CLI tests first, so the parallel jobs finish together
    for t in tests/cli/test_*; do [ -f "$t" ] && echo "$t"; done
    for t in "$test_build"/tests/test_*; do [ -x "$t" ] && echo "$t"; done
} > "$logs/list"

# judge NAME LOG RC SECONDS: add the exit-status verdict to LOG, print the suite's line.
judge() {
    local name=$1 log=$2 rc=$3 secs=$4 p f s
    p=$(grep -c '^PASS ' "$log"); f=$(grep -c '^FAIL ' "$log"); s=$(grep -c '^SKIP ' "$log")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "FAIL $name: exited with status $rc" >> "$log"; f=1
    elif [ "$rc" -eq 0 ] && [ $((p + f + s)) -eq 0 ]; then
        echo "FAIL $name: exited 0 without reporting any test" >> "$log"; f=1
    fi
    printf '%-28s %4d passed, %d failed, %d skipped  %4ds%s\n' "$name" "$p" "$f" "$s" "$secs" \
        "$([ "$f" -gt 0 ] && echo '  <- FAILED')"
}

run_one() {
    t=$1; logs=$2
    name=$(basename "$t")
    case "$t" in
        *.sh) sh_cmd="bash $t" ;;
        *.py) sh_cmd="python3 $t" ;;
        *) sh_cmd="$t" ;;
    esac
    start=$(date +%s)
    $sh_cmd > "$logs/$name.log" 2>&1
    rc=$?
    judge "$name" "$logs/$name.log" "$rc" $(( $(date +%s) - start ))
}
export -f run_one judge
xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {} "$logs" < "$logs/list"

if [ "${ROMFS_SKIP_FUZZ:-0}" != 1 ] && ls tests/fuzz/fuzz_*.c >/dev/null 2>&1; then
    start=$(date +%s)
    if make --no-print-directory -s BUILD="$release_build" fuzz-build > "$logs/fuzz-build.txt" 2>&1; then
        tests/tools/fuzz.sh "$release_build/fuzz" "${FUZZ_SECONDS:-60}" > "$logs/fuzz.log" 2>&1
        rc=$?
    else
        rc=$?
        { echo "FAIL fuzz-build: see $logs/fuzz-build.txt"; tail -20 "$logs/fuzz-build.txt"; } > "$logs/fuzz.log"
    fi
    judge fuzz "$logs/fuzz.log" "$rc" $(( $(date +%s) - start ))
fi

passed=0; failed=0; skipped=0
for log in "$logs"/*.log; do
    [ -f "$log" ] || continue
    p=$(grep -c '^PASS ' "$log"); f=$(grep -c '^FAIL ' "$log"); s=$(grep -c '^SKIP ' "$log")
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    if [ "$f" -gt 0 ]; then
        echo "== $(basename "$log" .log): $f failed"
        grep -A 40 '^FAIL ' "$log" | head -80
    fi
done
if [ "$skipped" -gt 0 ]; then
    echo "== skipped:"
    for log in "$logs"/*.log; do
        grep '^SKIP ' "$log" | sed "s|^SKIP |    $(basename "$log" .log): |"
    done
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
