#!/bin/bash
# bench_swd.sh: `romfs flash --via swd` into QEMU's mps2-an385 through its gdbstub (ack
# mode, PacketSize 4096, hex M writes: the slowest kind of GDB server link), wall time.
# Baseline in the same run: the same write with Nagle's algorithm left on
# (ROMFS_GDB_NAGLE=1), which is what a client without TCP_NODELAY gets: every packet
# waits for the delayed ACK of the previous one. Also: an unchanged re-run (compare only).
set -eu
ROMFS=${ROMFS:-build/romfs}
ROMFS=$(cd "$(dirname "$ROMFS")" && pwd)/$(basename "$ROMFS")
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/romfs-bench-swd.XXXXXX")
PY=$(python3 -c 'import sys; print(sys.executable)')
cleanup() { [ -n "${qpid:-}" ] && kill "$qpid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
arm-none-eabi-gcc -mcpu=cortex-m3 -mthumb -Os -nostdlib -ffreestanding \
    -T "$root/tests/fixtures/qemu/fw.ld" "$root/tests/fixtures/qemu/fw.c" -o fw.elf
port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
qemu-system-arm -machine mps2-an385 -display none -nodefaults -kernel fw.elf \
    -gdb tcp:127.0.0.1:$port -monitor unix:$work/mon.sock,server=on,wait=off 2>/dev/null &
qpid=$!
for _ in $(seq 100); do [ -S mon.sock ] && break; sleep 0.05; done
sleep 0.2

now() { date +%s.%N; }
# write KIB [env...]: seconds for a full write of a KIB image
write() {
    local kib=$1; shift
    mkdir -p "app$kib"; head -c $((kib * 1024 - 200)) /dev/urandom > "app$kib/blob.bin"
    "$ROMFS" pack "app$kib" -o "img$kib.romfs" >/dev/null || exit 1
    local t0 t1
    t0=$(now)
    env "$@" "$ROMFS" flash "img$kib.romfs" --via swd --probe gdb://127.0.0.1:$port \
        --address 0x21000000 --size 4M --full -q >&2 || exit 1
    t1=$(now)
    awk "BEGIN { print $t1 - $t0 }"
}
rerun() {
    local t0 t1
    t0=$(now)
    "$ROMFS" flash "img$1.romfs" --via swd --probe gdb://127.0.0.1:$port --address 0x21000000 \
        --size 4M -q >&2 || exit 1
    t1=$(now)
    awk "BEGIN { print $t1 - $t0 }"
}
echo "== bench_swd (QEMU mps2-an385 gdbstub, M writes, ack mode)"
# BENCH_QUICK=1: 8 and 32 KiB instead of 64 and 1024 KiB, the same steps.
small=64; large=1024
[ "${BENCH_QUICK:-0}" = 1 ] && { small=8; large=32; }
nagle=$(write $small ROMFS_GDB_NAGLE=1)
fast=$(write $small ROMFS_GDB_NAGLE=0)
printf 'full write %4d KiB, Nagle on (baseline): %6.3f s  %8.1f KiB/s\n' $small "$nagle" "$(awk "BEGIN { print $small / $nagle }")"
printf 'full write %4d KiB, TCP_NODELAY:         %6.3f s  %8.1f KiB/s  (%.1fx faster)\n' \
    $small "$fast" "$(awk "BEGIN { print $small / $fast }")" "$(awk "BEGIN { print $nagle / $fast }")"
big=$(write $large ROMFS_GDB_NAGLE=0)
printf 'full write %4d KiB, TCP_NODELAY:         %6.3f s  %8.1f KiB/s\n' $large "$big" "$(awk "BEGIN { print $large / $big }")"
same=$(rerun $large)
printf 're-run %4d KiB unchanged (compare only):  %6.3f s  (%.2fx the full write)\n' $large "$same" "$(awk "BEGIN { print $same / $big }")"
