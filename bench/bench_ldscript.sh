#!/bin/sh
# bench_ldscript.sh [BUILD]: time the linker-script evaluator in one process.
#   - the fixtures under tests/fixtures/ld, repeated to 100 boards' worth of evaluations;
#   - if $MICROPYTHON_TREE is set, every stm32/samd/nrf/renesas-ra/esp8266/mimxrt board
#     script found there, the way each port's Makefile passes it.
# Goal: evaluating every board in boards.json takes under 1 s. The baseline in the
# same run is one evaluation of the smallest fixture, and `arm-none-eabi-ld` linking
# an empty object with the same fixtures (the slow exact alternative).
set -eu
build=${1:-build}
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d "${TMPDIR:-/tmp}/romfs-bench-ld.XXXXXX")
trap 'rm -rf "$out"' EXIT
[ -f "$src/$build/libromfs.a" ] || { echo "bench_ldscript: build $build first (make BUILD=$build)"; exit 2; }
${CC:-cc} -std=c11 -D_DEFAULT_SOURCE -O2 -I"$src/lib" "$src/bench/ld_eval.c" "$src/$build/libromfs.a" \
    $(pkg-config --libs libelf 2>/dev/null) -o "$out/ld_eval"

# fixture jobs, each with its own working directory, as in tests/unit/test_ldscript_ld.c
args=""
n=0
for d in "$src"/tests/fixtures/ld/*/; do
    [ -f "$d/expect-error" ] && continue
    job=$(sed -e "s|-T |-T |g" "$d/cmd" | tr '\n' ' ')
    case "$job" in *-E*) continue ;; esac  # cpp runs are a process each; timed below
    args="$args -C $d --bits 32 $job --"
    n=$((n + 1))
done
reps=$(( (100 + n - 1) / n ))
quick=${BENCH_QUICK:-0}
[ "$quick" = 1 ] && reps=1
# shellcheck disable=SC2086
"$out/ld_eval" -q -n "$reps" $args 2> "$out/fix.txt" || { cat "$out/fix.txt"; exit 1; }
echo "fixtures:   $(cat "$out/fix.txt" | sed 's/^ld_eval: //')"

one=$(ls -d "$src"/tests/fixtures/ld/esp8266_romfs)
"$out/ld_eval" -q -n "$([ "$quick" = 1 ] && echo 20 || echo 2000)" -C "$one" --bits 32 -T esp8266_2MiB_ROMFS.ld 2> "$out/one.txt"
echo "baseline:   $(sed 's/^ld_eval: //' "$out/one.txt") [esp8266 fixture]"

pp=$(ls -d "$src"/tests/fixtures/ld/mimxrt_1062)
"$out/ld_eval" -q -n "$([ "$quick" = 1 ] && echo 1 || echo 20)" -C "$pp" --bits 32 $(cat "$pp/cmd") 2> "$out/pp.txt"
echo "with cpp:   $(sed 's/^ld_eval: //' "$out/pp.txt") [mimxrt fixture, one cc -E per script]"

if command -v arm-none-eabi-ld >/dev/null 2>&1; then
    : > "$out/e.s"; arm-none-eabi-as "$out/e.s" -o "$out/e.o"
    t0=$(date +%s%N)
    links=$([ "$quick" = 1 ] && echo 2 || echo 20)
    for i in $(seq "$links"); do (cd "$one" && arm-none-eabi-ld -o "$out/x.elf" "$out/e.o" -T esp8266_2MiB_ROMFS.ld); done
    t1=$(date +%s%N)
    us=$(( (t1 - t0) / (links * 1000) ))
    echo "ld:         arm-none-eabi-ld on the same fixture: $us us per link"
fi

if [ -n "${MICROPYTHON_TREE:-}" ] && [ -d "$MICROPYTHON_TREE/ports" ]; then
    p="$MICROPYTHON_TREE/ports"
    args=""; n=0
    for mk in "$p"/stm32/boards/*/mpconfigboard.mk; do
        f=$(sed -n 's/^LD_FILES *= *//p' "$mk" | tail -1)
        [ -n "$f" ] || f="boards/stm32f405.ld boards/common_ifs.ld"
        args="$args -C $p/stm32 -L boards -L boards/common_isr_rom --defsym _estack_reserve=8 --bits 32 $f --"; n=$((n+1))
    done
    for mk in "$p"/samd/boards/*/mpconfigboard.mk; do
        f=$(sed -n 's/^LD_FILES *= *//p' "$mk" | tail -1)
        args="$args -C $p/samd --bits 32 $f --defsym _codesize=0x3B000 --defsym _micropy_hw_romfs_part0_size=0x3000 --"; n=$((n+1))
    done
    for f in "$p"/renesas-ra/boards/*/*.ld; do
        args="$args -C $p/renesas-ra --bits 32 $f --"; n=$((n+1))
    done
    for f in "$p"/nrf/boards/nrf5*_*k.ld "$p"/nrf/boards/nrf91*_*k.ld; do
        [ -f "$f" ] || continue
        args="$args -C $p/nrf -L boards --defsym _fs_size=0x10000 --bits 32 $f boards/memory.ld --"; n=$((n+1))
    done
    args="$args -C $p/esp8266 --bits 32 boards/esp8266_2MiB_ROMFS.ld --"; n=$((n+1))
    # shellcheck disable=SC2086
    "$out/ld_eval" -q -n 1 $args 2> "$out/mp.txt" || true
    echo "micropython: $(sed -n 's/^ld_eval: \(.* evaluations.*\)/\1/p' "$out/mp.txt") ($n board script sets)"
    grep -v "evaluations in" "$out/mp.txt" | sed 's/^/    /' | head -20
fi

# The goal itself: every board in boards.json evaluated from its scripts, in one process,
# C-preprocessed ones (mimxrt, alif) included: one `romfs boards import` run.
if [ -n "${MICROPYTHON_TREE:-}" ] && [ -d "$MICROPYTHON_TREE/ports" ] && [ -x "$src/$build/romfs" ]; then
    t0=$(date +%s%N)
    "$src/$build/romfs" boards import "$MICROPYTHON_TREE" -o "$out/boards.json" > /dev/null
    t1=$(date +%s%N)
    boards=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(1 for b in d["boards"] if b.get("romfs")))' "$out/boards.json")
    printf 'all boards: %d ROMFS boards imported from their scripts in %d ms (goal: under 1000 ms)\n' \
        "$boards" $(( (t1 - t0) / 1000000 ))
else
    echo "all boards: set MICROPYTHON_TREE to time importing every board (goal: under 1 s)"
fi
