#!/usr/bin/env bash
# What the tool tells a user, word for word where it matters: every difference of a
# verify, units on every size, singular and plural, "unknown" rather than 0, whether an
# image is signed, and one exit status for a port that is not a serial port.
. "$(dirname "$0")/lib.sh"

verify_against_lists_every_difference() {
    mkdir -p app && echo a > app/a.py && echo same > app/same.py
    "$ROMFS" pack app -o app.romfs -q
    echo changed > app/a.py && echo b > app/new.py
    expect_exit 1 "$ROMFS" verify app.romfs --against app/
    expect_stderr "2 differences between the image and app/:"
    expect_stderr "/a.py has 2 bytes in the image, 8 in app/"
    expect_stderr "app/new.py is missing from the image"
    ! grep -q "//" err.txt || fail "a doubled slash: $(cat err.txt)"
}

info_gives_units_and_the_signature() {
    mkdir -p app && echo a > app/a.py
    "$ROMFS" pack app -o app.romfs -q
    expect_exit 0 "$ROMFS" info app.romfs
    grep -Eq '^payload size: +[0-9]+ B$' out.txt || fail "payload size without a unit: $(cat out.txt)"
    grep -Eq 'of which padding [0-9]+ B$' out.txt || fail "padding without a unit: $(cat out.txt)"
    expect_stdout "signature:      none"
    "$ROMFS" keygen k >/dev/null
    "$ROMFS" sign app.romfs --key k.pem -o signed.romfs -q
    expect_exit 0 "$ROMFS" info signed.romfs
    expect_stdout "signature:      ecdsa-p256-sha256 by key "
    expect_exit 0 "$ROMFS" info --json signed.romfs
    grep -Eq '"signed":[[:space:]]+true' out.txt || fail "no signed: true in $(cat out.txt)"
}

pack_counts_in_words() {
    mkdir -p one && echo 1 > one/x
    expect_exit 0 "$ROMFS" pack one -o one.romfs
    expect_stdout "packed 1 file, 0 directories into one.romfs"
    mkdir -p two/d && echo 1 > two/x && echo 2 > two/d/y
    expect_exit 0 "$ROMFS" pack two -o two.romfs
    expect_stdout "packed 2 files, 1 directory into two.romfs"
}

check_says_unknown_not_zero() {
    need_arm() { command -v arm-none-eabi-ld >/dev/null; }
    if ! need_arm; then skip "arm-none-eabi binutils are not installed"; return 0; fi
    mkdir -p app && echo a > app/a.py && "$ROMFS" pack app -o app.romfs -q
    printf 'MEMORY { FLASH (rx) : ORIGIN = 0x08000000, LENGTH = 512K }\nSECTIONS { .text : { *(.text*) } > FLASH }\n_micropy_hw_romfs_part0_start = 0x08080000;\n_micropy_hw_romfs_part0_size = 0x80000;\n' > fw.ld
    printf '.text\n.space 64\n' > fw.s
    arm-none-eabi-as fw.s -o fw.o && arm-none-eabi-ld -T fw.ld fw.o -o fw.elf
    expect_exit 0 "$ROMFS" check app.romfs --elf fw.elf
    expect_stdout "erase block unknown, write unit unknown, mapping unknown"
}

a_port_that_is_not_a_serial_port_is_an_input_error() {
    mkdir -p app && echo a > app/a.py && "$ROMFS" pack app -o app.romfs -q
    expect_exit 2 "$ROMFS" flash app.romfs --port /dev/nonexistent-port
    expect_exit 2 "$ROMFS" flash app.romfs --port /dev/null
    expect_stderr "/dev/null is not a serial port"
    expect_exit 2 "$ROMFS" query --port /dev/null
}

t verify_against_lists_every_difference
t info_gives_units_and_the_signature
t pack_counts_in_words
t check_says_unknown_not_zero
t a_port_that_is_not_a_serial_port_is_an_input_error
