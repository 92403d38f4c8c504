#!/bin/sh
# fuzz.sh DIR SECONDS: run every libFuzzer target in DIR at once for SECONDS of wall
# time (the cores are shared among them), each from its seed corpus
# tests/fuzz/corpus/NAME if present. Prints PASS/FAIL lines.
# Inputs may be as large as the real thing (libFuzzer's default cap is 4096 bytes, or
# the largest seed): linker scripts up to 1 MiB (a long expression chain is 120 KB),
# images and checked images up to 1 MiB, device replies and tables up to 64 KiB.
set -u
dir=$1; seconds=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/romfs-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
for bin in "$dir"/fuzz_*; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin")
    (
        mkdir -p "$work/$name/corpus"
        seeds="tests/fuzz/corpus/$name"
        [ -d "$seeds" ] && cp -r "$seeds/." "$work/$name/corpus/"
        case $name in
            fuzz_ldscript|fuzz_image|fuzz_check) max_len=1048576 ;;
            *) max_len=65536 ;;
        esac
        if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
               -artifact_prefix="$work/$name/" "$work/$name/corpus" > "$work/$name.log" 2>&1; then
            echo "PASS $name ($(grep -o 'Done [0-9]* runs' "$work/$name.log" | tail -1))"
        else
            echo "FAIL $name"
            grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$work/$name.log" | head -20 | sed 's/^/    /'
            keep="$dir/artifacts/$name"; mkdir -p "$keep"
            cp "$work/$name"/crash-* "$work/$name"/leak-* "$work/$name"/timeout-* "$keep/" 2>/dev/null
            cp "$work/$name.log" "$keep/"
            echo "    inputs and log kept in $keep (reproduce: $bin $keep/crash-...)"
        fi
    ) &
done
wait
