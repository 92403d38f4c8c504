#!/usr/bin/env bash
# run.sh BUILD: run every bench/bench_*.sh with the release build, one after another.
# BENCH_QUICK=1: the same code paths on small sizes, a few seconds in all (CI runs this,
# so the benchmarks cannot break unnoticed). Exits non-zero if any benchmark failed.
set -u
build=$1
export BENCH_QUICK="${BENCH_QUICK:-0}"
status=0
failed=""
for b in bench/bench_*.sh; do
    [ -f "$b" ] || continue
    printf '\n== %s\n' "$b"
    # each script under the interpreter its first line names (some are bash)
    if ! ROMFS="$build/romfs" ROMFS_BUILD="$build" bash "$b" "$build"; then
        status=1
        failed="$failed $(basename "$b")"
    fi
done
[ $status = 0 ] || echo "bench: failed:$failed" >&2
exit $status
