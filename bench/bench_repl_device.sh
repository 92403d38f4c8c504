#!/bin/bash
# bench_repl_device.sh [BUILD_DIR]: `romfs flash --via repl` end to end, every figure
# against the link rate measured on the board in the same run (bench/repl_device.py).
#   ROMFS_BENCH_PORT=PORT   a real MicroPython board, or MicroPython's qemu port on a pty
#                           (qemu-system-arm -machine mps2-an385 -serial pty ...)
#   MPREMOTE="CMD"          also time mpremote's `romfs deploy` side by side
# Without ROMFS_BENCH_PORT it runs on a simulated board at 115200 baud (unlimited with
# BENCH_QUICK=1), so the code paths never break unnoticed; those figures are the model's.
set -eu
PY=$(python3 -c 'import sys; print(sys.executable)')
build=${1:-${ROMFS_BUILD:-build}}
ROMFS=$(cd "$build" && pwd)/romfs
here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${ROMFS_BENCH_PORT:-}" ]; then
    echo "== bench_repl_device: the board on $ROMFS_BENCH_PORT"
    exec "$PY" "$here/repl_device.py" "$ROMFS" "$ROMFS_BENCH_PORT" board
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/romfs-bench-dev.XXXXXX")
sim_pid=
cleanup() { [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
baud=115200; [ "${BENCH_QUICK:-0}" = 1 ] && baud=0
"$ROMFS" sim --partition-size 1M --erase-block 4K --flash "$work/flash.bin" --baud "$baud" \
    --ready-file "$work/ready" >/dev/null 2>"$work/sim.err" &
sim_pid=$!
for _ in $(seq 200); do [ -s "$work/ready" ] && break; sleep 0.05; done
echo "== bench_repl_device: no ROMFS_BENCH_PORT: a simulated board ($([ $baud = 0 ] && echo unlimited || echo $baud baud))"
"$PY" "$here/repl_device.py" "$ROMFS" "$(cat "$work/ready")" sim
