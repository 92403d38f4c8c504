#!/usr/bin/env bash
# The right .mpy for the board: pack --board B --mpy-cross passes mpy-cross the board's
# -march (an explicit --mpy-cross-arg=-march= wins), and flash refuses native code the
# device cannot import, before anything is written.
. "$(dirname "$0")/lib.sh"
STANDIN="$ROMFS_SOURCE_DIR/tests/tools/mpy_cross_standin.py"

make_app() {
    mkdir -p "$1"
    printf 'import fast\nprint(fast.add(1, 2))\n' > "$1/main.py"
    printf '@micropython.viper\ndef add(a: int, b: int) -> int:\n    return a + b\n' > "$1/fast.py"
}

# The architecture in a .mpy's header (feature byte bits 2..7), as a name.
mpy_arch() {
    $ROMFS cat "$1" "$2" | python3 -c '
import sys
h = sys.stdin.buffer.read(4)
names = ["none", "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp",
         "armv7emdp", "xtensa", "xtensawin", "rv32imc", "rv64imc"]
assert h[:2] == b"M\x06", h
print(names[h[2] >> 2])'
}

start_sim() {   # start_sim BOARD: a simulated BOARD whose sys.implementation._mpy is its CPU's
    port=$($ROMFS sim --board "$1" --flash flash.bin --background --pid-file sim.pid)
    trap 'kill "$(cat sim.pid)" 2>/dev/null' EXIT
}

pack_passes_the_boards_march() {
    make_app app
    $ROMFS pack app -o h7.romfs --board WEACTSTUDIO_MINI_STM32H743 --mpy-cross="$STANDIN" -q
    assert_eq "$(mpy_arch h7.romfs fast.mpy)" armv7emdp
    $ROMFS cat h7.romfs fast.mpy | grep -q 'arch=armv7emdp' || fail "no -march given"
    assert_eq "$(mpy_arch h7.romfs main.mpy)" none     # no native code: no arch, as mpy-cross
    $ROMFS pack app -o sf2.romfs --board PYBD_SF2 --mpy-cross="$STANDIN" -q
    assert_eq "$(mpy_arch sf2.romfs fast.mpy)" armv7emsp
    $ROMFS pack app -o samd.romfs --board ADAFRUIT_FEATHER_M0_EXPRESS --mpy-cross="$STANDIN" -q
    assert_eq "$(mpy_arch samd.romfs fast.mpy)" armv6m
}

explicit_march_wins() {
    make_app app
    $ROMFS pack app -o a.romfs --board WEACTSTUDIO_MINI_STM32H743 --mpy-cross="$STANDIN" \
        --mpy-cross-arg=-march=armv6m -q
    assert_eq "$(mpy_arch a.romfs fast.mpy)" armv6m
    ! $ROMFS cat a.romfs fast.mpy | grep -q armv7emdp || fail "the board's -march was added too"
}

without_board_no_march_and_native_code_fails() {
    make_app app
    expect_exit 1 $ROMFS pack app -o a.romfs --mpy-cross="$STANDIN"
    expect_stderr "invalid arch"
    expect_stderr "fast.py"
    assert_file_absent a.romfs
}

flash_refuses_native_code_for_another_cpu() {
    make_app app
    # built for an H743 (double-precision FPU); the device is a PYBD_SF2 (single)
    $ROMFS pack app -o h7.romfs --board WEACTSTUDIO_MINI_STM32H743 --mpy-cross="$STANDIN" -q
    start_sim PYBD_SF2
    expect_exit 1 $ROMFS flash h7.romfs --port "$port"
    expect_stderr "fast.mpy holds native code for armv7emdp"
    expect_stderr "armv7emsp"
    $ROMFS query --port "$port" --list > q.txt
    ! grep -q 'fast.mpy' q.txt || fail "written despite the refusal"
    # built for the board itself: accepted, written
    $ROMFS pack app -o sf2.romfs --board PYBD_SF2 --mpy-cross="$STANDIN" -q
    $ROMFS flash sf2.romfs --port "$port" -q
    # older Thumb code runs on a newer Thumb CPU, as MicroPython allows
    $ROMFS pack app -o m0.romfs --board ADAFRUIT_FEATHER_M0_EXPRESS --mpy-cross="$STANDIN" -q
    $ROMFS flash m0.romfs --port "$port" -q
    $ROMFS query --port "$port" --list > q.txt
    grep -q 'fast.mpy' q.txt || fail "$(cat q.txt)"
}

t pack_passes_the_boards_march
t explicit_march_wins
t without_board_no_march_and_native_code_fails
t flash_refuses_native_code_for_another_cpu

flash_dir_compiles_for_the_device_or_the_board() {
    make_app app
    start_sim PYBD_SF2
    # no --board: the device's own sys.implementation._mpy (armv7emsp) gives -march
    $ROMFS flash app --port "$port" --mpy-cross="$STANDIN" -q
    $ROMFS query --port "$port" --list > q.txt
    grep -q 'fast.mpy' q.txt || fail "$(cat q.txt)"
    assert_eq "$(mpy_arch flash.bin fast.mpy)" armv7emsp
    # --board: the board's CPU (the same here); an explicit -march wins over both
    $ROMFS flash app --port "$port" --board PYBD_SF2 --mpy-cross="$STANDIN" \
        --mpy-cross-arg=-march=armv6m -q
    assert_eq "$(mpy_arch flash.bin fast.mpy)" armv6m
    # an -march the device cannot import is refused before anything is written
    expect_exit 1 $ROMFS flash app --port "$port" --mpy-cross="$STANDIN" --mpy-cross-arg=-march=xtensawin
    expect_stderr "holds native code for xtensawin"
    assert_eq "$(mpy_arch flash.bin fast.mpy)" armv6m
}

t flash_dir_compiles_for_the_device_or_the_board
