#!/bin/bash
# test_swd.sh: `romfs flash --via swd` against real peers: QEMU's gdbstub (mps2-an385
# running a tiny firmware built here with arm-none-eabi-gcc), the GDB-server model
# (tests/unit/test_gdb_swd --serve), and openocd / pyocd run as far as they go without
# a debug probe. What was written is read back through QEMU's own monitor, not romfs.
. "$(dirname "$0")/lib.sh"

QEMU_DIR="$ROMFS_SOURCE_DIR/tests/fixtures/qemu"
# the interpreter itself: a version-manager shim in front of python3 can cost seconds a call
PY=$(python3 -c 'import sys; print(sys.executable)')
HMP="$PY $QEMU_DIR/hmp.py"
MODEL="$(dirname "$ROMFS")/tests/test_gdb_swd"
PART=0x21000000   # MicroPython's MPS2_AN385 ROMFS partition (PSRAM in QEMU), 4 MiB
FW="$TESTS_TMP/fw.elf"

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

build_firmware() {
    arm-none-eabi-gcc -mcpu=cortex-m3 -mthumb -Os -nostdlib -ffreestanding \
        -T "$QEMU_DIR/fw.ld" "$QEMU_DIR/fw.c" -o "$FW"
}

# start_qemu: boots fw.elf, sets QPORT (gdbstub) and MON (monitor socket); the firmware
# has counted its first boot when this returns.
start_qemu() {
    QPORT=$(free_port)
    MON=$PWD/mon.sock
    qemu-system-arm -machine mps2-an385 -display none -nodefaults -kernel "$FW" \
        -gdb tcp:127.0.0.1:$QPORT -monitor unix:$MON,server=on,wait=off 2>qemu.err &
    QEMU_PID=$!
    trap 'kill $QEMU_PID 2>/dev/null; wait $QEMU_PID 2>/dev/null' EXIT
    for _ in $(seq 100); do
        [ "$(boot_count 2>/dev/null)" = 1 ] && return 0
        sleep 0.05
    done
    cat qemu.err >&2
    fail "QEMU did not start"
}

word_at() { $HMP "$MON" "xp /1wx $1" | awk '{print $2}'; }
boot_count() { printf '%d' "$(word_at 0x20000100)"; }
heartbeat() { word_at 0x20000104; }
vm_status() { $HMP "$MON" "info status"; }
# dump ADDR LEN FILE: QEMU writes guest memory to FILE
dump() {
    rm -f "$3"
    $HMP "$MON" "pmemsave $1 $2 \"$PWD/$3\"" >&2
    [ -s "$3" ] || fail "QEMU did not dump $2 bytes at $1"
}

make_app() {
    mkdir -p app/lib
    echo 'print("hello from rom")' > app/main.py
    head -c 30000 /dev/urandom > app/lib/blob.bin
    printf 'x = 1\n' > app/lib/mod.py
    "$ROMFS" pack app -o app.romfs >/dev/null
}

test_qemu_write_read_back_and_left_running() {
    start_qemu
    make_app
    expect_exit 0 "$ROMFS" flash app.romfs --via swd --probe gdb://127.0.0.1:$QPORT \
        --address $PART --size 4M
    expect_stdout "memory writes (X/M)"
    expect_stdout "PacketSize 4096"
    expect_stdout "left running"
    dump $PART "$(stat -c %s app.romfs)" dump.bin
    same_bytes dump.bin app.romfs
    vm_status | grep -q "VM status: running" || fail "target not running: $(vm_status)"
    local h1 h2
    h1=$(heartbeat); sleep 0.1; h2=$(heartbeat)
    [ "$h1" != "$h2" ] || fail "firmware heartbeat stopped at $h1"
    assert_eq "$(boot_count)" 1 "(not reset)"
}

test_qemu_incremental_rewrite_and_reset() {
    start_qemu
    make_app
    expect_exit 0 "$ROMFS" flash app.romfs --via swd --probe gdb://127.0.0.1:$QPORT \
        --address $PART --size 4M -q
    # change one file: only the blocks that differ (and the header block) are written
    printf 'x = 2\n' > app/lib/mod.py
    "$ROMFS" pack app -o app2.romfs >/dev/null
    expect_exit 0 "$ROMFS" flash app2.romfs --via swd --probe gdb://127.0.0.1:$QPORT \
        --address $PART --size 4M --reset --json
    "$PY" - out.txt <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"] and r["verified"], r
assert 1 <= r["blocks_written"] < r["blocks_in_image"], r
PY
    dump $PART "$(stat -c %s app2.romfs)" dump.bin
    same_bytes dump.bin app2.romfs
    assert_eq "$(boot_count)" 2 "(--reset must reboot the firmware)"
    vm_status | grep -q "VM status: running" || fail "target not running after reset"
}

test_qemu_partition_too_small() {
    start_qemu
    make_app
    expect_exit 1 "$ROMFS" flash app.romfs --via swd --probe gdb://127.0.0.1:$QPORT \
        --address $PART --size 16K
    grep -qi "fit\|large\|more than the device" err.txt || fail "no size complaint: $(cat err.txt)"
    vm_status | grep -q "VM status: running" || fail "a refused write must leave the target running"
}

test_model_vflash_via_cli() {
    make_app
    "$MODEL" --serve --packet-size 2048 --dump flash.bin > model.out &
    local mpid=$!
    for _ in $(seq 100); do grep -q PORT model.out && break; sleep 0.05; done
    local port; port=$(awk '/PORT/ {print $2}' model.out)
    expect_exit 0 "$ROMFS" flash app.romfs --via swd --probe gdb://127.0.0.1:$port \
        --address 0x08020000 --size 128K
    wait $mpid
    expect_stdout "vFlash writes"
    expect_stdout "erase block 16384"
    expect_stdout "matches the server's memory map"
    expect_stdout "qCRC matches"
    grep -q "detached 1" model.out || fail "not detached: $(cat model.out)"
    grep -q "unerased 0" model.out || fail "programmed unerased flash: $(cat model.out)"
    grep -q "dropped 0" model.out || fail "sent packets over PacketSize: $(cat model.out)"
    dd if=flash.bin of=written.bin bs=1 skip=$((0x20000)) count="$(stat -c %s app.romfs)" 2>/dev/null
    same_bytes written.bin app.romfs
}

test_model_memory_map_refuses_partition() {
    make_app
    "$MODEL" --serve > model.out &
    local mpid=$!
    for _ in $(seq 100); do grep -q PORT model.out && break; sleep 0.05; done
    local port; port=$(awk '/PORT/ {print $2}' model.out)
    expect_exit 1 "$ROMFS" flash app.romfs --via swd --probe gdb://127.0.0.1:$port \
        --address 0x08030000 --size 128K
    wait $mpid
    expect_stderr "runs past the flash region at 0x8000000"
    grep -q "erases 0 " model.out || fail "erased despite the refusal: $(cat model.out)"
}

test_model_error_reply_reported() {
    make_app
    "$MODEL" --serve --fail vFlashErase 1 E0A > model.out &
    local mpid=$!
    for _ in $(seq 100); do grep -q PORT model.out && break; sleep 0.05; done
    local port; port=$(awk '/PORT/ {print $2}' model.out)
    expect_exit 1 "$ROMFS" flash app.romfs --via swd --probe gdb://127.0.0.1:$port \
        --address 0x08020000 --size 128K
    wait $mpid
    expect_stderr "rejected 'vFlashErase:8020000,4000': error E0A"
}

# --board: the partition (and the openocd/pyocd target names) come from boards.json
test_qemu_board_partition() {
    start_qemu
    make_app
    ROMFS_BOARDS=$QEMU_DIR/boards.json expect_exit 0 "$ROMFS" flash app.romfs --board MPS2_AN385 \
        --via swd --probe gdb://127.0.0.1:$QPORT
    dump $PART "$(stat -c %s app.romfs)" dump.bin
    same_bytes dump.bin app.romfs
}

test_model_board_partition() {
    make_app
    "$MODEL" --serve --dump flash.bin > model.out &
    local mpid=$!
    for _ in $(seq 100); do grep -q PORT model.out && break; sleep 0.05; done
    local port; port=$(awk '/PORT/ {print $2}' model.out)
    ROMFS_BOARDS=$QEMU_DIR/boards.json expect_exit 0 "$ROMFS" flash app.romfs --board FIX_SWD_F4 \
        --via swd --probe gdb://127.0.0.1:$port --reset
    wait $mpid
    expect_stdout "vFlash writes, erase block 16384"
    expect_stdout "target reset and running"
    grep -q "resets 1 detached 1" model.out || fail "not reset and detached: $(cat model.out)"
    dd if=flash.bin of=written.bin bs=1 skip=$((0x20000)) count="$(stat -c %s app.romfs)" 2>/dev/null
    same_bytes written.bin app.romfs
}

test_board_openocd_and_pyocd_targets() {
    make_app
    ROMFS_BOARDS=$QEMU_DIR/boards.json expect_exit 1 "$ROMFS" flash app.romfs --board FIX_SWD_F4 \
        --via swd --probe openocd
    expect_stderr "-f interface/stlink.cfg -f target/stm32f4x.cfg"
    ROMFS_BOARDS=$QEMU_DIR/boards.json expect_exit 1 "$ROMFS" flash app.romfs --board FIX_SWD_F4 \
        --via swd --probe pyocd
    expect_stderr "stm32f412xg"
}

test_board_not_memory_mapped() {
    make_app
    ROMFS_BOARDS=$QEMU_DIR/boards.json expect_exit 2 "$ROMFS" flash app.romfs --board FIX_SWD_NOMMAP \
        --via swd --probe gdb://127.0.0.1:1
    expect_stderr "not memory-mapped"
}

test_connection_refused() {
    make_app
    expect_exit 1 "$ROMFS" flash app.romfs --via swd --probe gdb://127.0.0.1:$(free_port) \
        --address $PART --size 4M
    expect_stderr "cannot connect to the GDB server at gdb://127.0.0.1:"
}

test_usage_errors() {
    make_app
    expect_exit 2 "$ROMFS" flash app.romfs --via swd --address $PART --size 4M
    expect_stderr "--via swd needs --probe"
    expect_exit 2 "$ROMFS" flash app.romfs --via swd --probe nonsense --address $PART --size 4M
    expect_stderr "unknown probe 'nonsense'"
    expect_exit 2 "$ROMFS" flash app.romfs --via swd --probe openocd --size 4M --address zz
    expect_stderr "--address wants a number such as 4096, 0x1000, 64K or 1M, not 'zz'"
}

# openocd with the target script but no probe attached: it must fail, and romfs must say
# what openocd said and how it was run.
test_openocd_without_probe() {
    make_app
    expect_exit 1 "$ROMFS" flash app.romfs --via swd --probe openocd \
        --openocd-target target/stm32f4x.cfg --address 0x08020000 --size 128K
    expect_stderr "openocd exited with status 1 before its GDB server started"
    expect_stderr "Error"
    expect_stderr "-f interface/stlink.cfg -f target/stm32f4x.cfg"
    expect_stderr "gdb_port"
}

test_openocd_program_without_probe() {
    make_app
    expect_exit 1 "$ROMFS" flash app.romfs --via swd --probe openocd-program \
        --openocd-target target/rp2040.cfg --address 0x10100000 --size 1M
    expect_stderr "openocd exited with status 1"
    expect_stderr "-f interface/cmsis-dap.cfg -f target/rp2040.cfg"
    expect_stderr "program {"
    expect_stderr "0x10100000 verify reset exit"
}

test_openocd_bad_script() {
    make_app
    expect_exit 1 "$ROMFS" flash app.romfs --via swd --probe openocd \
        --openocd-target target/no_such_chip.cfg --address 0x08020000 --size 128K
    expect_stderr "no_such_chip.cfg"
}

test_pyocd_without_probe() {
    make_app
    local target=nrf52840
    expect_exit 1 "$ROMFS" flash app.romfs --via swd --probe pyocd --pyocd-target $target \
        --address 0x000f0000 --size 64K
    grep -qi "no debug probe\|No connected debug probes" err.txt ||
        fail "pyocd's missing probe not reported: $(cat err.txt)"
    expect_stderr "pyocd"
    expect_stderr "$target"
}

test_pyocd_unknown_target() {
    make_app
    expect_exit 1 "$ROMFS" flash app.romfs --via swd --probe pyocd --pyocd-target no_such_mcu \
        --address 0x08020000 --size 128K
    expect_stderr "no_such_mcu"
    expect_stderr "pyocd exited with status"
}

for tool in qemu-system-arm arm-none-eabi-gcc openocd; do
    command -v $tool >/dev/null || { echo "FAIL setup: $tool is missing (make deps installs it)"; exit 1; }
done
command -v pyocd >/dev/null || command -v pyocd-gdbserver >/dev/null ||
    { echo "FAIL setup: pyocd is missing (make deps installs python3-pyocd)"; exit 1; }
build_firmware || { echo "FAIL build_firmware"; exit 1; }

t test_qemu_write_read_back_and_left_running
t test_qemu_incremental_rewrite_and_reset
t test_qemu_partition_too_small
t test_model_vflash_via_cli
t test_model_memory_map_refuses_partition
t test_model_error_reply_reported
t test_qemu_board_partition
t test_model_board_partition
t test_board_openocd_and_pyocd_targets
t test_board_not_memory_mapped
t test_connection_refused
t test_usage_errors
t test_openocd_without_probe
t test_openocd_program_without_probe
t test_openocd_bad_script
t test_pyocd_without_probe
t test_pyocd_unknown_target
