#!/bin/sh
# run.sh BUILD: run every bench/bench_*.sh with the release build, one after another.
set -u
build=$1
status=0
for b in bench/bench_*.sh; do
    [ -f "$b" ] || continue
    printf '\n== %s\n' "$b"
    ROMFS="$build/romfs" ROMFS_BUILD="$build" sh "$b" || status=1
done
exit $status
