#!/usr/bin/env bash
# run.sh TEST_BUILD RELEASE_BUILD: run every test, print "N passed, N failed".
#   unit tests:  TEST_BUILD/tests/test_*   (from tests/unit/test_*.c)
#   CLI tests:   tests/cli/test_*          (shell or python, given ROMFS=TEST_BUILD/romfs)
#   fuzzing:     every tests/fuzz/fuzz_*.c target for a bounded time (FUZZ_SECONDS)
# Each program prints "PASS name" / "FAIL name" lines; one that exits non-zero
# without a FAIL line counts as one failure.
set -u
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

jobs=$(nproc 2>/dev/null || echo 2)
{   # the slower CLI tests first, so the parallel jobs finish together
    for t in tests/cli/test_*; do [ -f "$t" ] && echo "$t"; done
    for t in "$test_build"/tests/test_*; do [ -x "$t" ] && echo "$t"; done
} > "$logs/list"

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
    end=$(date +%s)
    if [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$logs/$name.log"; then
        echo "FAIL $name: exited with status $rc" >> "$logs/$name.log"
    fi
    echo "$name $((end - start))s" >> "$logs/times"
}
export -f run_one
xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {} "$logs" < "$logs/list"

if [ "${ROMFS_SKIP_FUZZ:-0}" != 1 ] && ls tests/fuzz/fuzz_*.c >/dev/null 2>&1; then
    if make --no-print-directory -s BUILD="$release_build" fuzz-build > "$logs/fuzz-build.log" 2>&1; then
        tests/tools/fuzz.sh "$release_build/fuzz" "${FUZZ_SECONDS:-60}" > "$logs/fuzz.log" 2>&1
    else
        echo "FAIL fuzz-build: see $logs/fuzz-build.log" > "$logs/fuzz.log"
        tail -20 "$logs/fuzz-build.log" >> "$logs/fuzz.log"
    fi
fi

passed=0; failed=0
for log in "$logs"/*.log; do
    [ -f "$log" ] || continue
    case "$log" in *fuzz-build.log) continue ;; esac
    p=$(grep -c '^PASS ' "$log"); f=$(grep -c '^FAIL ' "$log")
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$f" -gt 0 ]; then
        echo "== $(basename "$log" .log): $f failed"
        grep -A 40 '^FAIL ' "$log" | head -80
    else
        echo "== $(basename "$log" .log): $p passed"
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
