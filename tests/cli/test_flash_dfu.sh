#!/bin/bash
# test_flash_dfu.sh: `romfs flash --via dfu` through the real libusb path. A build machine
# has no DFU device attached, so what is checked is that the command looks for the right
# devices and says so; the write path itself is tested against the DfuSe device model in
# tests/unit/test_dfu.c.
. "$ROMFS_SOURCE_DIR/tests/cli/lib.sh"

export ROMFS_BOARDS="$TESTS_TMP/boards.json"
cat > "$ROMFS_BOARDS" <<'JSON'
{ "schema": 1, "micropython": {}, "boards": [
  { "board": "TEST_F4", "port": "stm32", "mcu": "STM32F405RG",
    "romfs": [ { "index": 0, "start": "0x08020000", "size": "0x40000", "erase_block": "0x20000",
                 "write_block": 8, "mmap": true } ],
    "dfu": { "usb": "1209:abcd", "alt": 0, "kind": "mboot" } },
  { "board": "TEST_RO", "port": "stm32", "mcu": "STM32F405RG",
    "romfs": [ { "index": 0, "start": "0x08020000", "size": "0x40000", "erase_block": "0x20000",
                 "write_block": 8, "mmap": true } ],
    "dfu": { "usb": "0483:df11", "alt": 0, "kind": "system",
             "layout": "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,01*128Kg,01*128Ka,05*128Kg" } },
  { "board": "TEST_QSPI", "port": "stm32", "mcu": "STM32F722",
    "romfs": [ { "index": 0, "start": "0x90100000", "size": "0x100000", "erase_block": 4096,
                 "write_block": 4, "mmap": true, "device": "qspi" } ],
    "dfu": { "usb": "0483:df11", "alt": 0, "kind": "system",
             "layout": "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,03*128Kg",
             "mboot": { "usb": "0483:df11", "layout": "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg/0x90000000/16*32Kg",
                        "source": "test" } } },
  { "board": "TEST_NODFU", "port": "stm32", "mcu": "STM32F405RG",
    "romfs": [ { "index": 0, "start": "0x08020000", "size": "0x40000", "erase_block": "0x20000",
                 "write_block": 8, "mmap": true } ] } ] }
JSON

make_image() {
    mkdir -p src && echo 'print(1)' > src/main.py
    "$ROMFS" pack src -o "$1" >/dev/null
}

have_dfu_device() {
    command -v lsusb >/dev/null || return 1
    lsusb > lsusb.txt 2>/dev/null || return 1
    grep -qiE "0483:df11|1209:abcd" lsusb.txt
}

test_no_device_names_ids_looked_for() {
    ! have_dfu_device || skip "a real DFU device is attached: this test needs none"
    make_image img.romfs
    expect_exit 1 "$ROMFS" flash img.romfs --board TEST_F4 --via dfu
    expect_stderr "no DFU device found: looked for 1209:abcd, 0483:df11"
    # the board's DFU bootloader is mboot: the message says to start it, and how
    expect_stderr "Start mboot (1209:abcd): run machine.bootloader() at the board's REPL"
}

test_no_device_board_without_dfu_uses_st_id() {
    ! have_dfu_device || skip "a real DFU device is attached: this test needs none"
    make_image img.romfs
    expect_exit 1 "$ROMFS" flash img.romfs --board TEST_NODFU --via dfu --serial 3276ABC
    expect_stderr "looked for 0483:df11 with serial number 3276ABC"
}

test_device_flag_and_alt() {
    ! have_dfu_device || skip "a real DFU device is attached: this test needs none"
    make_image img.romfs
    expect_exit 1 "$ROMFS" flash img.romfs --board TEST_F4 --via dfu --device CAFE:0001 --alt 2
    expect_stderr "looked for cafe:0001 (alt setting 2)"
}

test_usage_errors() {
    make_image img.romfs
    expect_exit 2 "$ROMFS" flash img.romfs --board TEST_F4 --via dfu --device 0483
    expect_stderr "bad USB id '0483'"
    expect_exit 2 "$ROMFS" flash img.romfs --board NO_SUCH --via dfu
    expect_exit 0 "$ROMFS" flash --help
    expect_stdout "--via dfu"
}

test_image_too_big_refused_before_usb() {
    mkdir -p big && head -c 300000 /dev/urandom > big/blob.bin
    "$ROMFS" pack big -o big.romfs >/dev/null
    expect_exit 1 "$ROMFS" flash big.romfs --board TEST_F4 --via dfu
    ! grep -q "no DFU device" err.txt || fail "looked for a device before refusing the image"
}

test_readonly_sector_refused_before_usb() {
    make_image img.romfs
    expect_exit 2 "$ROMFS" flash img.romfs --board TEST_RO --via dfu
    expect_stderr "board TEST_RO: the STM32 system bootloader's DfuSe layout: sector 0x08040000 of the partition is type 'a'"
    ! grep -q "no DFU device" err.txt || fail "looked for a device first"
}

# PYBD_SF2's ROMFS partition is in QSPI flash, which only mboot serves over DFU: the
# built-in boards.json records mboot's layout, so the job goes looking for mboot and
# says how to start it (it used to refuse the board before touching USB).
test_pybd_qspi_partition_is_written_through_mboot() {
    ! have_dfu_device || skip "a real DFU device is attached: this test needs none"
    make_image img.romfs
    expect_exit 1 env -u ROMFS_BOARDS "$ROMFS" flash img.romfs --board PYBD_SF2 --via dfu
    expect_stderr "no DFU device found: looked for 0483:df11"
    expect_stderr "Start mboot (0483:df11): run machine.bootloader() at the board's REPL, or hold USR"
    ! grep -q "BOOT0" err.txt || fail "the system bootloader cannot reach the partition: no BOOT0 advice"
}

# A partition neither bootloader's layout holds: refused before USB, naming both.
test_partition_in_no_bootloader_layout() {
    make_image img.romfs
    expect_exit 2 "$ROMFS" flash img.romfs --board TEST_QSPI --via dfu
    expect_stderr "board TEST_QSPI: partition 0x90100000..0x90200000 is in no DfuSe layout of board TEST_QSPI's DFU bootloaders"
    expect_stderr "not in the STM32 system bootloader's (\"@Internal Flash  /0x08000000/04*016Kg,01*064Kg,03*128Kg\") nor mboot's"
    ! grep -q "no DFU device" err.txt || fail "looked for a device first"
}

t test_readonly_sector_refused_before_usb
t test_pybd_qspi_partition_is_written_through_mboot
t test_partition_in_no_bootloader_layout
t test_no_device_names_ids_looked_for
t test_no_device_board_without_dfu_uses_st_id
t test_device_flag_and_alt
t test_usage_errors
t test_image_too_big_refused_before_usb
