#!/bin/bash
# romfs check --partition-table: esp32 boards get ROMFS from a partition table's
# `romfs` data partition. The CSV follows MicroPython's ports/esp32/partitions-4MiB-romfs.csv;
# the binary table is built here byte by byte by an independent writer (python3) from
# ESP-IDF's documented layout (gen_esp32part.py): 32-byte entries starting with
# MAGIC_BYTES = AA 50, then type, subtype, offset, size (u32 little-endian), a 16-byte
# label and u32 flags; an MD5 entry EB EB FF*14 + MD5 of the entries; 0xff fill.
. "$(dirname "$0")/lib.sh"

ROMFS_OFFSET=0x1E0000
ROMFS_SIZE=0x20000   # 131072 bytes

# write_csv FILE [with_romfs]: nvs, phy_init, factory app and (unless "no") a romfs row.
write_csv() {
    cat > "$1" <<CSV
# Name,   Type, SubType, Offset,  Size, Flags
nvs,      data, nvs,     0x9000,  0x6000,
phy_init, data, phy,     0xf000,  0x1000,
factory,  app,  factory, 0x10000, 0x1D0000,
CSV
    [ "${2:-yes}" = no ] || echo "romfs,    data, 0x8f,    $ROMFS_OFFSET, $ROMFS_SIZE," >> "$1"
}

# csv_to_bin CSV BIN [corrupt-md5]: the binary partition table ESP-IDF flashes at 0x8000.
csv_to_bin() {
    python3 - "$@" <<'PY'
import hashlib, struct, sys
types = {"app": 0, "data": 1}
subtypes = {(0, "factory"): 0, (1, "ota"): 0, (1, "phy"): 1, (1, "nvs"): 2}
out = b""
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if not line:
        continue
    f = [x.strip() for x in line.split(",")]
    t = types[f[1]]
    st = subtypes[(t, f[2])] if (t, f[2]) in subtypes else int(f[2], 0)
    out += b"\xaa\x50" + struct.pack("<BBII16sI", t, st, int(f[3], 0), int(f[4], 0),
                                      f[0].encode(), 0)
md5 = bytearray(hashlib.md5(out).digest())
if len(sys.argv) > 3:
    md5[0] ^= 0x01
out += b"\xeb\xeb" + b"\xff" * 14 + bytes(md5)
out += b"\xff" * (0xC00 - len(out))
open(sys.argv[2], "wb").write(out)
PY
}

# pack_image OUT PAD [DATA_BYTES]: a DATA_BYTES-byte file (default 100000) and main.py
# packed, then padded with 0xff to PAD bytes.
pack_image() {
    mkdir -p tree
    head -c "${3:-100000}" /dev/urandom > tree/data.bin
    echo 'print("hello")' > tree/main.py
    "$ROMFS" pack tree -o "$1" -q --pad-to "$2"
    [ "$(stat -c %s "$1")" = "$(($2))" ] || fail "$1 is $(stat -c %s "$1") bytes, wanted $(($2))"
}

csv_image_fits() {
    write_csv t.csv
    pack_image fits.romfs 0x20000
    expect_exit 0 "$ROMFS" check fits.romfs --partition-table t.csv --board ESP32_GENERIC
    expect_stdout "0x001e0000..0x00200000 (131072 bytes), erase block 4096, write unit 4, mapped at run time"
    expect_stdout "from t.csv:5: romfs partition (data, subtype 0x8f)"
    expect_stdout "PASS fits         uses 131072 of 131072 bytes (100.0%)"
    expect_stdout "PASS mmap         mapped by the port at run time from flash offset 0x001e0000"
    expect_stdout "romfs check: 6 passed, 0 failed, 0 skipped"
    # Without --board: labelled by the table, same geometry.
    expect_exit 0 "$ROMFS" check fits.romfs --partition-table t.csv
    expect_stdout "fits.romfs: t.csv partition 0"
}

csv_image_one_byte_too_big() {
    write_csv t.csv
    pack_image big.romfs 0x20001
    expect_exit 1 "$ROMFS" check big.romfs --partition-table t.csv
    expect_stdout "FAIL fits         image is 131073 bytes"
    expect_stdout "1 byte more than the 131072-byte partition at 0x001e0000"
}

binary_table_same_result_as_csv() {
    write_csv t.csv
    csv_to_bin t.csv t.bin
    [ "$(head -c 2 t.bin | od -An -tx1 | tr -d ' ')" = aa50 ] || fail "t.bin does not start with the magic"
    pack_image fits.romfs 0x20000
    pack_image big.romfs 0x20001
    for img in fits big; do
        want=0; [ $img = big ] && want=1
        expect_exit $want "$ROMFS" check $img.romfs --partition-table t.csv --board ESP32_GENERIC
        sed 's/; from .*//' out.txt > csv.txt
        expect_exit $want "$ROMFS" check $img.romfs --partition-table t.bin --board ESP32_GENERIC
        expect_stdout "from t.bin: entry 3: romfs partition (data, subtype 0x8f)"
        sed 's/; from .*//' out.txt > bin.txt
        diff csv.txt bin.txt || fail "$img: CSV and binary tables give different results"
        grep -qF "0x001e0000..0x00200000 (131072 bytes)" bin.txt || fail "binary table: wrong partition"
    done
}

swapped_magic_refused() {
    # Entries whose magic bytes are 50 AA (0x50AA written big-endian) are not ESP-IDF's:
    # the table is refused naming the entry, and never read as a CSV.
    write_csv t.csv
    csv_to_bin t.csv t.bin
    python3 - <<'PY'
b = bytearray(open("t.bin", "rb").read())
b[32:34] = b"\x50\xaa"
open("swapped.bin", "wb").write(b)
PY
    pack_image fits.romfs 0x1000 2000
    expect_exit 2 "$ROMFS" check fits.romfs --partition-table swapped.bin
    expect_stderr "swapped.bin: entry 1: bad magic bytes 50 aa (expected aa 50"
}

no_romfs_partition() {
    write_csv t.csv no
    csv_to_bin t.csv t.bin
    pack_image fits.romfs 0x1000 2000
    for table in t.csv t.bin; do
        expect_exit 2 "$ROMFS" check fits.romfs --partition-table $table
        expect_stderr "$table: no partition of type data labelled \"romfs\""
        [ ! -s out.txt ] || fail "a report was printed for a table without romfs"
    done
}

corrupted_md5_refused() {
    write_csv t.csv
    csv_to_bin t.csv bad.bin corrupt-md5
    pack_image fits.romfs 0x20000
    expect_exit 2 "$ROMFS" check fits.romfs --partition-table bad.bin
    expect_stderr "bad.bin: entry 4: MD5 of the table does not match (table corrupted)"
    # A corrupted partition entry (romfs size changed after the MD5 was computed) too.
    csv_to_bin t.csv good.bin
    python3 -c "import sys; b = bytearray(open('good.bin','rb').read()); b[3*32+8] ^= 0x10; open('tampered.bin','wb').write(b)"
    expect_exit 2 "$ROMFS" check fits.romfs --partition-table tampered.bin
    expect_stderr "MD5 of the table does not match"
}

misaligned_romfs_in_binary_table() {
    # CSV tables refuse data partitions off a 4K boundary; a binary table can hold one,
    # and then erasing for the write would clobber the partition before it.
    write_csv t.csv
    csv_to_bin t.csv t.bin
    python3 - <<'PY'
import hashlib, struct
b = bytearray(open("t.bin", "rb").read())
struct.pack_into("<II", b, 3 * 32 + 4, 0x1E0200, 0x1FE00)
b[4 * 32 + 16:4 * 32 + 32] = hashlib.md5(bytes(b[:4 * 32])).digest()
open("mis.bin", "wb").write(b)
PY
    pack_image fits.romfs 0x1000 2000
    expect_exit 1 "$ROMFS" check fits.romfs --partition-table mis.bin
    expect_stdout "FAIL erase        partition start 0x001e0200 is not on a 4096-byte erase-block boundary"
}

usage_errors() {
    write_csv t.csv
    pack_image fits.romfs 0x1000 2000
    expect_exit 2 "$ROMFS" check fits.romfs --partition-table t.csv --board PYBD_SF2
    expect_stderr "board PYBD_SF2 is a stm32 board: partition tables describe esp32 boards"
    expect_exit 2 "$ROMFS" check fits.romfs --partition-table t.csv --partition 1
    expect_stderr "one ROMFS partition"
    expect_exit 2 "$ROMFS" check fits.romfs --partition-table t.csv --elf x.elf
    expect_stderr "give one"
    expect_exit 2 "$ROMFS" check fits.romfs --partition-table missing.csv
    expect_stderr "missing.csv"
    # A table whose romfs partition ends past the board's 4 MiB flash.
    sed 's/0x1E0000, 0x20000/0x3F0000, 0x20000/' t.csv > past.csv
    expect_exit 2 "$ROMFS" check fits.romfs --partition-table past.csv --board ESP32_GENERIC
    expect_stderr "ends past the 4194304-byte flash of board ESP32_GENERIC"
}

boards_show_partition_table() {
    write_csv t.csv
    csv_to_bin t.csv t.bin
    expect_exit 0 "$ROMFS" boards show ESP32_GENERIC --partition-table t.csv
    expect_stdout "romfs part0 (table): 0x001e0000..0x00200000, 131072 (128.0 KiB), erase 4096, write 4"
    expect_stdout "source:     t.csv:5: romfs partition (data, subtype 0x8f)"
    expect_exit 0 "$ROMFS" boards show esp32_generic --partition-table t.bin --json
    python3 -c "
import json; p = json.load(open('out.txt'))['partition_table_romfs']
assert (p['start'], p['size'], p['erase_block']) == ('0x001e0000', 131072, 4096), p
"
    write_csv none.csv no
    expect_exit 2 "$ROMFS" boards show ESP32_GENERIC --partition-table none.csv
    expect_stderr "none.csv: no partition of type data labelled \"romfs\""
}

t csv_image_fits
t csv_image_one_byte_too_big
t binary_table_same_result_as_csv
t swapped_magic_refused
t no_romfs_partition
t corrupted_md5_refused
t misaligned_romfs_in_binary_table
t usage_errors
t boards_show_partition_table
