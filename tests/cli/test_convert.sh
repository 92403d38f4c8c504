#!/bin/bash
# test_convert.sh: `romfs convert` writes .dfu/.uf2/.hex/.bin that independent readers and
# dfu-util's own tools (dfu-suffix, dfu-prefix) accept, at the board partition's address.
. "$ROMFS_SOURCE_DIR/tests/cli/lib.sh"
TOOLS="$ROMFS_SOURCE_DIR/tests/tools"

# A board database with an STM32 board (DFU 1209:abcd alt 0), an RP2040 board (UF2 family
# in the entry), a SAMD51 board (family from the MCU name) and a board without partitions.
DB="$TESTS_TMP/boards.json"
cat > "$DB" <<'EOF'
{
  "schema": 1,
  "micropython": {},
  "boards": [
    { "board": "TEST_F4", "port": "stm32", "mcu": "STM32F405RG",
      "romfs": [ { "index": 0, "start": "0x08020000", "size": "0x40000", "erase_block": "0x20000",
                   "write_block": 8, "mmap": true } ],
      "dfu": { "usb": "1209:abcd", "alt": 0, "kind": "mboot",
               "layout": "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg" } },
    { "board": "TEST_PICO", "port": "rp2", "mcu": "RP2040",
      "romfs": [ { "index": 0, "start": "0x10180000", "size": "0x80000", "erase_block": 4096,
                   "write_block": 256, "mmap": true } ],
      "uf2": { "family": "0xe48bff56" } },
    { "board": "TEST_SAMD51", "port": "samd", "mcu": "SAMD51J19A",
      "romfs": [ { "index": 0, "start": "0x00070000", "size": "0x10000", "erase_block": 8192,
                   "write_block": 16, "mmap": true } ] },
    { "board": "TEST_NOROMFS", "port": "rp2", "mcu": "RP2350", "romfs_option": "MICROPY_HW_ROMFS_BYTES" }
  ]
}
EOF

# make_image OUT [KB]: a ROMFS image with some files (about KB kilobytes of data).
make_image() {
    local kb=${2:-3}
    mkdir -p src/lib
    echo 'print("hello")' > src/main.py
    head -c $((kb * 1024)) /dev/urandom > src/lib/blob.bin
    echo 'x = 1' > src/lib/util.py
    "$ROMFS" pack src -o "$1" >/dev/null
}

test_dfu_file_checked_by_dfu_util() {
    make_image img.romfs
    "$ROMFS" convert img.romfs --dfu out.dfu --board TEST_F4 --db "$DB" > out.txt
    grep -q "0x08020000" out.txt || fail "address not printed"
    grep -q "1209:abcd" out.txt || fail "device not printed"
    dfu-suffix --check out.dfu > suffix.txt 2>&1 || { cat suffix.txt; fail "dfu-suffix --check failed"; }
    grep -qiE "vendor id:[[:space:]]*0x1209" suffix.txt || { cat suffix.txt; fail "dfu-suffix sees another vendor"; }
    grep -qiE "product id:[[:space:]]*0xabcd" suffix.txt || { cat suffix.txt; fail "dfu-suffix sees another product"; }
    # dfu-prefix knows the TI Stellaris and NXP LPC prefixes: it must not mistake the
    # DfuSe prefix for one of them, and it re-checks the suffix
    dfu-prefix --check out.dfu > prefix.txt 2>&1 || { cat prefix.txt; fail "dfu-prefix --check failed"; }
    ! grep -qiE "stellaris|lpc|warning" prefix.txt || { cat prefix.txt; fail "dfu-prefix complains"; }
    python3 "$TOOLS/dfuse_reader.py" out.dfu back.bin > reader.txt
    grep -q "^address 0x08020000 size $(stat -c %s img.romfs) device 1209:abcd alt 0 " reader.txt ||
        { cat reader.txt; fail "reader disagrees"; }
    same_bytes img.romfs back.bin
}

test_dfu_file_corruption_detected() {
    make_image img.romfs
    "$ROMFS" convert img.romfs --dfu out.dfu --board TEST_F4 --db "$DB" >/dev/null
    # flip one image byte: the suffix CRC no longer matches, for dfu-util and our reader
    python3 -c "
import sys; f=bytearray(open('out.dfu','rb').read()); f[300]^=1; open('bad.dfu','wb').write(f)"
    ! python3 "$TOOLS/dfuse_reader.py" bad.dfu x.bin 2>/dev/null || fail "reader accepted bad CRC"
    ! dfu-suffix --check bad.dfu >/dev/null 2>&1 || fail "dfu-suffix accepted a bad CRC"
}

test_dfu_device_and_alt_flags() {
    make_image img.romfs
    "$ROMFS" convert img.romfs --dfu out.dfu --address 0x90000000 --device 0483:DF11 --alt 1 >/dev/null
    dfu-suffix --check out.dfu >/dev/null
    python3 "$TOOLS/dfuse_reader.py" out.dfu back.bin | grep -q "^address 0x90000000 .* device 0483:df11 alt 1 " ||
        fail "address/device/alt not as given"
    same_bytes img.romfs back.bin
}

test_uf2_rp2040_from_board() {
    make_image img.romfs 40
    "$ROMFS" convert img.romfs --uf2 out.uf2 --board test_pico --db "$DB" > out.txt
    python3 "$TOOLS/uf2_reader.py" out.uf2 back.bin > reader.txt
    n=$(stat -c %s img.romfs)
    grep -q "^address 0x10180000 size $(( (n + 255) / 256 * 256 )) family 0xe48bff56 blocks $(( (n + 255) / 256 )) payload 256$" reader.txt ||
        { cat reader.txt; fail "reader disagrees"; }
    cmp -n "$n" img.romfs back.bin || fail "payload differs"
    # the padding after the image is erased flash
    [ "$(tail -c +$((n + 1)) back.bin | tr -d '\377' | wc -c)" = 0 ] || fail "padding is not 0xff"
}

test_uf2_family_from_mcu_and_flag() {
    make_image img.romfs
    "$ROMFS" convert img.romfs --uf2 a.uf2 --board TEST_SAMD51 --db "$DB" >/dev/null
    python3 "$TOOLS/uf2_reader.py" a.uf2 a.bin | grep -q "family 0x55114460" || fail "samd51 family"
    "$ROMFS" convert img.romfs --uf2 b.uf2 --address 0x10100000 --family rp2350 >/dev/null
    python3 "$TOOLS/uf2_reader.py" b.uf2 b.bin | grep -q "^address 0x10100000 .*family 0xe48bff57" || fail "rp2350"
    for pair in samd21:0x68ed2b88 nrf52840:0xada52840 rp2040:0xe48bff56 0x12345678:0x12345678; do
        "$ROMFS" convert img.romfs --uf2 c.uf2 --address 0x1000 --family "${pair%%:*}" >/dev/null
        python3 "$TOOLS/uf2_reader.py" c.uf2 c.bin | grep -q "family ${pair##*:}" || fail "family $pair"
    done
}

test_uf2_needs_family() {
    make_image img.romfs
    expect_exit 2 "$ROMFS" convert img.romfs --uf2 out.uf2 --address 0x10000000
    expect_stderr "UF2 family"
    assert_file_absent out.uf2
    expect_exit 2 "$ROMFS" convert img.romfs --uf2 out.uf2 --address 0x1000 --family esp8266
    expect_stderr "unknown UF2 family 'esp8266'"
}

test_hex_crosses_64k_boundaries() {
    make_image img.romfs 150
    # starts 16 bytes below a 64 KiB boundary and spans three more
    "$ROMFS" convert img.romfs --hex out.hex --address 0x0801fff8 >/dev/null
    python3 "$TOOLS/ihex_reader.py" out.hex back.bin | grep -q "^address 0x0801fff8 size $(stat -c %s img.romfs) " ||
        fail "reader disagrees"
    same_bytes img.romfs back.bin
    [ "$(grep -c '^:02000004' out.hex)" -ge 4 ] || fail "expected extended linear address records"
    grep -q '^:00000001FF$' out.hex || fail "no end-of-file record"
}

# arm-none-eabi-objcopy, a third reader, agrees on the same file.
test_hex_objcopy_agrees() {
    command -v arm-none-eabi-objcopy >/dev/null || skip "arm-none-eabi-objcopy not installed"
    make_image img.romfs 150
    "$ROMFS" convert img.romfs --hex out.hex --address 0x0801fff8 >/dev/null
    arm-none-eabi-objcopy -I ihex -O binary out.hex objcopy.bin
    same_bytes img.romfs objcopy.bin
}

test_bin_prints_address_and_all_at_once() {
    make_image img.romfs
    "$ROMFS" convert img.romfs --bin out.bin --hex out.hex --dfu out.dfu --board TEST_F4 --db "$DB" > out.txt
    grep -q "out.bin: raw image, .*write it at address 0x08020000" out.txt || { cat out.txt; fail "bin line"; }
    same_bytes img.romfs out.bin
    python3 "$TOOLS/ihex_reader.py" out.hex h.bin >/dev/null && same_bytes img.romfs h.bin
    dfu-suffix --check out.dfu >/dev/null
}

test_image_larger_than_partition() {
    make_image img.romfs 300
    expect_exit 1 "$ROMFS" convert img.romfs --dfu out.dfu --hex out.hex --board TEST_F4 --db "$DB"
    expect_stderr "does not fit board TEST_F4 partition 0"
    assert_file_absent out.dfu
    assert_file_absent out.hex
    [ -z "$(ls)" ] || [ "$(ls | grep -c tmp)" = 0 ] || fail "temporary files left: $(ls)"
}

test_bad_input_and_usage() {
    make_image img.romfs
    head -c 100 /dev/urandom > junk.bin
    expect_exit 2 "$ROMFS" convert junk.bin --dfu out.dfu --address 0x08000000
    expect_stderr "not a ROMFS image"
    assert_file_absent out.dfu
    "$ROMFS" convert junk.bin --raw --bin out.bin --address 0x08000000 >/dev/null
    same_bytes junk.bin out.bin
    expect_exit 2 "$ROMFS" convert img.romfs --dfu out.dfu
    expect_stderr "--board BOARD or --address ADDR"
    expect_exit 2 "$ROMFS" convert img.romfs --address 0x1000
    expect_stderr "no output"
    expect_exit 2 "$ROMFS" convert img.romfs --dfu out.dfu --board NO_SUCH_BOARD --db "$DB"
    expect_stderr "unknown board 'NO_SUCH_BOARD'"
    expect_exit 2 "$ROMFS" convert img.romfs --dfu out.dfu --board TEST_NOROMFS --db "$DB"
    expect_stderr "MICROPY_HW_ROMFS_BYTES"
    expect_exit 2 "$ROMFS" convert img.romfs --dfu out.dfu --address 0x1000 --device 0483
    expect_stderr "--device: bad USB id"
    expect_exit 2 "$ROMFS" convert img.romfs --dfu out.dfu --address 0x1000000000
    expect_exit 2 "$ROMFS" convert missing.romfs --dfu out.dfu --address 0x1000
    assert_file_absent out.dfu
    expect_exit 0 "$ROMFS" convert --help
    expect_stdout "usage: romfs convert"
}

t test_dfu_file_checked_by_dfu_util
t test_dfu_file_corruption_detected
t test_dfu_device_and_alt_flags
t test_uf2_rp2040_from_board
t test_uf2_family_from_mcu_and_flag
t test_uf2_needs_family
t test_hex_crosses_64k_boundaries
t test_hex_objcopy_agrees
t test_bin_prints_address_and_all_at_once
t test_image_larger_than_partition
t test_bad_input_and_usage
