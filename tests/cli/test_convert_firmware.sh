#!/usr/bin/env bash
# `romfs convert IMAGE --board B --firmware FW --dfu|--uf2|--hex OUT`: one file for the
# whole product, firmware and ROMFS, read back by readers that share nothing with romfs:
# arm-none-eabi-objcopy for Intel HEX (and for the firmware's own bytes, from its ELF),
# dfu-suffix and a DfuSe reader written here from ST's UM0391 for .dfu, a UF2 reader
# written here from Microsoft's UF2 specification for .uf2. Firmware arrives as .bin, .hex
# (objcopy's), .dfu and .uf2 (written here from the same specifications) and .elf.
# Overlaps and pieces outside the board's flash are refused, naming both ranges, and
# nothing is written.
. "$ROMFS_SOURCE_DIR/tests/cli/lib.sh"

# readers.py: independent readers (and writers, for firmware inputs) of DfuSe and UF2.
write_readers() {
    cat > "$TESTS_TMP/readers.py" <<'PY'
import struct, sys, zlib

UF2_MAGIC0, UF2_MAGIC1, UF2_END = 0x0A324655, 0x9E5D5157, 0x0AB16F30   # github.com/microsoft/uf2
UF2_NOT_MAIN_FLASH, UF2_FAMILY = 0x00000001, 0x00002000

def read_uf2(path):
    """{address: byte} of the main-flash blocks; checks magics, flags, sizes, numbering."""
    data, mem, fam = open(path, "rb").read(), {}, set()
    assert data and len(data) % 512 == 0, "size %d" % len(data)
    n = len(data) // 512
    for i in range(n):
        b = data[i * 512:(i + 1) * 512]
        m0, m1, flags, addr, size, blockno, numblocks, family = struct.unpack("<8I", b[:32])
        assert (m0, m1, struct.unpack("<I", b[508:])[0]) == (UF2_MAGIC0, UF2_MAGIC1, UF2_END), "block %d magic" % i
        assert flags & UF2_FAMILY and not flags & UF2_NOT_MAIN_FLASH, "block %d flags %x" % (i, flags)
        assert 0 < size <= 476 and blockno == i and numblocks == n, (i, size, blockno, numblocks, n)
        fam.add(family)
        for k in range(size):
            assert addr + k not in mem, "block %d writes 0x%x twice" % (i, addr + k)
            mem[addr + k] = b[32 + k]
    assert len(fam) == 1, fam
    return mem, fam.pop()

def write_uf2(path, addr, payload, family):
    blocks = [payload[i:i + 256] for i in range(0, len(payload), 256)]
    with open(path, "wb") as f:
        for i, c in enumerate(blocks):
            f.write(struct.pack("<8I", UF2_MAGIC0, UF2_MAGIC1, UF2_FAMILY, addr + 256 * i, len(c), i, len(blocks),
                                family) + c.ljust(476, b"\0") + struct.pack("<I", UF2_END))

def read_dfu(path):
    """(vid, pid, [(alt, address, bytes)]): prefix, targets, elements, suffix and CRC."""
    f = open(path, "rb").read()
    dev, pid, vid, bcd, sig, slen, crc = struct.unpack("<HHHH3sBI", f[-16:])
    assert sig == b"UFD" and slen == 16 and bcd == 0x011A, (sig, slen, bcd)
    assert crc == (zlib.crc32(f[:-4]) ^ 0xFFFFFFFF) & 0xFFFFFFFF, "suffix CRC"
    magic, ver, size, ntargets = struct.unpack("<5sBIB", f[:11])
    assert magic == b"DfuSe" and ver == 1 and size == len(f) - 16, (magic, ver, size)
    p, out = 11, []
    for _ in range(ntargets):
        tsig, alt, named, name, tsize, nelem = struct.unpack("<6sBI255sII", f[p:p + 274])
        assert tsig == b"Target"
        p += 274
        end = p + tsize
        for _ in range(nelem):
            addr, esize = struct.unpack("<II", f[p:p + 8])
            out.append((alt, addr, f[p + 8:p + 8 + esize]))
            p += 8 + esize
        assert p == end, "target size"
    assert p == len(f) - 16
    return vid, pid, out

def write_dfu(path, elements, vid=0x0483, pid=0xDF11):
    body = b"".join(struct.pack("<II", a, len(d)) + d for a, d in elements)
    target = struct.pack("<6sBI255sII", b"Target", 0, 1, b"fw", len(body), len(elements)) + body
    img = struct.pack("<5sBIB", b"DfuSe", 1, 11 + len(target), 1) + target
    img += struct.pack("<HHHH3sB", 0xFFFF, pid, vid, 0x011A, b"UFD", 16)
    open(path, "wb").write(img + struct.pack("<I", (zlib.crc32(img) ^ 0xFFFFFFFF) & 0xFFFFFFFF))

def expect(mem, addr, path):
    """mem holds the file's bytes at addr."""
    want = open(path, "rb").read()
    missing = [hex(addr + i) for i in range(len(want)) if addr + i not in mem][:3]
    assert not missing, "%s: nothing at %s" % (path, missing)
    got = bytes(mem[addr + i] for i in range(len(want)))
    assert got == want, "%s differs at 0x%x" % (path, addr + next(i for i in range(len(want)) if got[i] != want[i]))

if __name__ == "__main__":
    what = sys.argv[1]
    if what == "dfu":                 # dfu FILE ADDR=FILE... : elements exactly these
        vid, pid, els = read_dfu(sys.argv[2])
        print("device %04x:%04x alt %s" % (vid, pid, ",".join(str(a) for a in sorted({e[0] for e in els}))))
        mem = {}
        for alt, a, d in els:
            for i, x in enumerate(d):
                assert a + i not in mem
                mem[a + i] = x
        for arg in sys.argv[3:]:
            a, p = arg.split("=")
            expect(mem, int(a, 0), p)
        want = sum(len(open(arg.split("=")[1], "rb").read()) for arg in sys.argv[3:])
        assert len(mem) == want, "%d bytes in the file, %d expected" % (len(mem), want)
    elif what == "uf2":               # uf2 FILE ADDR=FILE...: those bytes there, the rest 0xff
        mem, fam = read_uf2(sys.argv[2])
        print("family 0x%08x" % fam)
        covered = set()
        for arg in sys.argv[3:]:
            a, p = arg.split("=")
            expect(mem, int(a, 0), p)
            covered |= set(range(int(a, 0), int(a, 0) + len(open(p, "rb").read())))
        assert all(v == 0xFF for k, v in mem.items() if k not in covered), "padding is not erased flash"
    elif what == "write-uf2":         # write-uf2 OUT ADDR FILE FAMILY
        write_uf2(sys.argv[2], int(sys.argv[3], 0), open(sys.argv[4], "rb").read(), int(sys.argv[5], 0))
    elif what == "write-dfu":         # write-dfu OUT ADDR=FILE...
        write_dfu(sys.argv[2], [(int(a, 0), open(p, "rb").read()) for a, p in (x.split("=") for x in sys.argv[3:])])
PY
}
READ() { python3 "$TESTS_TMP/readers.py" "$@"; }

need_binutils() {
    for t in arm-none-eabi-as arm-none-eabi-ld arm-none-eabi-objcopy arm-none-eabi-objdump; do
        command -v $t >/dev/null || skip "$t not installed"
    done
}

# A PYBD_SF2-shaped firmware: vectors and code in internal flash from 0x08008000, .data
# stored after them (LMA) and copied to RAM, code in QSPI flash at 0x90000000
# (TEXT1_ADDR). int.bin and ext.bin: objcopy's view of its bytes in each flash.
make_pybd_firmware() {
    cat > fw.ld <<'LD'
MEMORY {
    FLASH_APP (rx) : ORIGIN = 0x08008000, LENGTH = 480K
    FLASH_EXT (rx) : ORIGIN = 0x90000000, LENGTH = 1M
    RAM (rwx)      : ORIGIN = 0x20000000, LENGTH = 64K
}
SECTIONS {
    .isr_vector : { KEEP(*(.isr_vector)) } > FLASH_APP
    .text : { *(.text*) } > FLASH_APP
    .data : { *(.data*) } > RAM AT> FLASH_APP
    .text_ext : { *(.ext_code*) } > FLASH_EXT
}
LD
    cat > fw.s <<'S'
.section .isr_vector,"a"
.word 0x20010000, 0x08008101
.text
.fill 5001, 1, 0xa5
.data
.word 0x11223344, 0x55667788
.section .ext_code,"ax"
.fill 3000, 1, 0x5b
S
    arm-none-eabi-as fw.s -o fw.o
    arm-none-eabi-ld -T fw.ld fw.o -o fw.elf
    arm-none-eabi-objcopy -O binary -j .isr_vector -j .text -j .data fw.elf int.bin
    arm-none-eabi-objcopy -O binary -j .text_ext fw.elf ext.bin
}

make_image() {
    mkdir -p src && echo 'print("product")' > src/main.py && head -c 20000 /dev/urandom > src/blob.bin
    "$ROMFS" pack src -o img.romfs >/dev/null
}

# The Intel HEX file's contiguous runs (objcopy makes a section of each), one file each:
# prints "ADDR=FILE" per run.
hex_runs() {
    arm-none-eabi-objcopy -I ihex -O elf32-littlearm "$1" hex.elf
    arm-none-eabi-objdump -h hex.elf | awk '$2 ~ /^\.sec/ { print $2, $4 }' | while read -r sec vma; do
        arm-none-eabi-objcopy -O binary -j "$sec" hex.elf "run$sec.bin"
        echo "0x$vma=run$sec.bin"
    done
}

elf_into_one_dfu_for_mboot() {
    need_binutils; write_readers; make_pybd_firmware; make_image
    "$ROMFS" convert img.romfs --board PYBD_SF2 --firmware fw.elf --dfu product.dfu > out.txt
    grep -q "product.dfu: DfuSe file, firmware .* (ELF, 2 pieces, 0x08008000..0x90000bb8) + ROMFS .* at 0x90100000, device 0483:df11 alt 0" out.txt ||
        { cat out.txt; fail "summary"; }
    # QSPI is reached through mboot only: the file is for mboot, and says how to start it
    grep -q "for mboot (0483:df11): run machine.bootloader()" out.txt || { cat out.txt; fail "bootloader not named"; }
    dfu-suffix --check product.dfu > suffix.txt 2>&1 || { cat suffix.txt; fail "dfu-suffix --check"; }
    grep -qiE "vendor id:[[:space:]]*0x0483" suffix.txt || fail "dfu-suffix: vendor"
    READ dfu product.dfu 0x08008000=int.bin 0x90000000=ext.bin 0x90100000=img.romfs > r.txt
    grep -q "^device 0483:df11 alt 0$" r.txt || { cat r.txt; fail "reader"; }
}

every_firmware_format_gives_the_same_hex() {
    need_binutils; write_readers; make_pybd_firmware; make_image
    arm-none-eabi-objcopy -O ihex fw.elf fw.hex
    READ write-dfu fw.dfu 0x08008000=int.bin 0x90000000=ext.bin
    "$ROMFS" convert img.romfs --board PYBD_SF2 --firmware fw.elf --hex a.hex >/dev/null
    "$ROMFS" convert img.romfs --board PYBD_SF2 --firmware fw.hex --hex b.hex >/dev/null
    "$ROMFS" convert img.romfs --board PYBD_SF2 --firmware fw.dfu --hex c.hex >/dev/null
    same_bytes a.hex b.hex
    same_bytes a.hex c.hex
    # objcopy reads the product back: three runs, each the firmware's or the image's bytes
    hex_runs a.hex > runs.txt
    [ "$(wc -l < runs.txt)" = 3 ] || { cat runs.txt; fail "expected three runs"; }
    sed -n 1p runs.txt | grep -q "^0x08008000=" && same_bytes int.bin "$(sed -n '1s/.*=//p' runs.txt)"
    sed -n 2p runs.txt | grep -q "^0x90000000=" && same_bytes ext.bin "$(sed -n '2s/.*=//p' runs.txt)"
    sed -n 3p runs.txt | grep -q "^0x90100000=" && same_bytes img.romfs "$(sed -n '3s/.*=//p' runs.txt)"
}

bin_goes_to_the_firmware_start_or_the_address_given() {
    need_binutils; write_readers; make_pybd_firmware; make_image
    # a raw binary carries no address: PYBD_SF2's firmware starts at FLASH_APP, 0x08008000
    "$ROMFS" convert img.romfs --board PYBD_SF2 --firmware int.bin --dfu a.dfu > out.txt
    grep -q "raw binary, 1 piece, 0x08008000.." out.txt || { cat out.txt; fail "bin not at the text start"; }
    READ dfu a.dfu 0x08008000=int.bin 0x90100000=img.romfs >/dev/null
    "$ROMFS" convert img.romfs --board PYBD_SF2 --firmware ext.bin --firmware-address 0x90000000 --hex b.hex >/dev/null
    hex_runs b.hex > runs.txt
    sed -n 1p runs.txt | grep -q "^0x90000000=" || { cat runs.txt; fail "address not taken"; }
    same_bytes ext.bin "$(sed -n '1s/.*=//p' runs.txt)"
}

# A SAMD51 board with a UF2 bootloader: an ELF or a UF2 firmware and the image in one .uf2.
uf2_product_from_elf_and_from_uf2() {
    need_binutils; write_readers; make_image
    printf 'MEMORY { FLASH (rx) : ORIGIN = 0x00004000, LENGTH = 432K }\nSECTIONS { .text : { *(.text*) } > FLASH }\n' > samd.ld
    printf '.text\n.fill 70001, 1, 0x3c\n' > samd.s
    arm-none-eabi-as samd.s -o samd.o
    arm-none-eabi-ld -T samd.ld samd.o -o samd.elf
    arm-none-eabi-objcopy -O binary samd.elf samd.bin
    "$ROMFS" convert img.romfs --board ADAFRUIT_ITSYBITSY_M4_EXPRESS --firmware samd.elf --uf2 a.uf2 > out.txt
    READ uf2 a.uf2 0x4000=samd.bin 0x70000=img.romfs | grep -q "family 0x55114460" || fail "samd51 family"
    # a UF2 firmware keeps its own family for the whole file
    READ write-uf2 fw.uf2 0x4000 samd.bin 0x12345678
    "$ROMFS" convert img.romfs --board ADAFRUIT_ITSYBITSY_M4_EXPRESS --firmware fw.uf2 --uf2 b.uf2 > out.txt
    READ uf2 b.uf2 0x4000=samd.bin 0x70000=img.romfs | grep -q "family 0x12345678" || fail "firmware's family"
    grep -q "(UF2, 1 piece, 0x00004000..0x00015171)" out.txt || { cat out.txt; fail "summary"; }
    # --family wins
    "$ROMFS" convert img.romfs --board ADAFRUIT_ITSYBITSY_M4_EXPRESS --firmware fw.uf2 --uf2 c.uf2 --family samd51 >/dev/null
    READ uf2 c.uf2 0x4000=samd.bin 0x70000=img.romfs | grep -q "family 0x55114460" || fail "--family"
}

overlaps_and_outside_are_refused_and_nothing_written() {
    need_binutils; write_readers; make_pybd_firmware; make_image
    head -c 1200000 /dev/zero > big.bin
    expect_exit 2 "$ROMFS" convert img.romfs --board PYBD_SF2 --firmware big.bin --firmware-address 0x90000000 --dfu o.dfu --hex o.hex
    expect_stderr "big.bin 0x90000000..0x90124f80 overlaps board PYBD_SF2's ROMFS partition 0 0x90100000..0x90200000"
    expect_exit 2 "$ROMFS" convert img.romfs --board PYBD_SF2 --firmware int.bin --firmware-address 0x0807f000 --hex o.hex
    expect_stderr "int.bin 0x0807f000..0x08080399 is outside board PYBD_SF2's flash (0x08000000..0x08080000, 0x90000000..0x90200000)"
    # two pieces of one firmware on the same bytes
    READ write-dfu twice.dfu 0x08008000=int.bin 0x08008100=int.bin
    expect_exit 2 "$ROMFS" convert img.romfs --board PYBD_SF2 --firmware twice.dfu --hex o.hex
    expect_stderr "twice.dfu 0x08008000..0x08009399 overlaps twice.dfu 0x08008100..0x08009499"
    assert_file_absent o.dfu
    assert_file_absent o.hex
    [ "$(ls -A | grep -c -i tmp)" = 0 ] || fail "temporaries left: $(ls -A)"
}

bad_firmware_files_and_usage() {
    write_readers; make_image
    printf ':10000000000102030405060708090A0B0C0D0E0F00\n' > bad.hex
    expect_exit 2 "$ROMFS" convert img.romfs --board PYBD_SF2 --firmware bad.hex --hex o.hex
    expect_stderr "bad.hex: line 1: checksum does not match"
    printf ':0400000001020304F2\n' > cut.hex
    expect_exit 2 "$ROMFS" convert img.romfs --board PYBD_SF2 --firmware cut.hex --hex o.hex
    expect_stderr "no end-of-file record"
    head -c 100 /dev/urandom > x.bin && READ write-dfu bad.dfu 0x08008000=x.bin
    python3 -c "f=bytearray(open('bad.dfu','rb').read()); f[300]^=1; open('bad.dfu','wb').write(f)"
    expect_exit 2 "$ROMFS" convert img.romfs --board PYBD_SF2 --firmware bad.dfu --hex o.hex
    expect_stderr "bad.dfu: DFU suffix CRC"
    expect_exit 2 "$ROMFS" convert img.romfs --firmware x.bin --address 0x08000000 --hex o.hex
    expect_stderr "--firmware needs --board"
    expect_exit 2 "$ROMFS" convert img.romfs --board PYBD_SF2 --firmware x.bin --bin o.bin
    expect_stderr "--bin cannot hold firmware and ROMFS"
    expect_exit 2 "$ROMFS" convert img.romfs --board PYBD_SF2 --firmware-address 0x08008000 --hex o.hex
    expect_stderr "--firmware-address needs --firmware"
    expect_exit 2 "$ROMFS" convert img.romfs --board PYBD_SF2 --firmware missing.elf --hex o.hex
    assert_file_absent o.hex
    assert_file_absent o.bin
}

# Without --firmware, a .dfu for PYBD_SF2 is for mboot too: `flash --via dfu` and
# `convert --dfu` agree on the bootloader.
romfs_only_dfu_names_mboot() {
    write_readers; make_image
    "$ROMFS" convert img.romfs --board PYBD_SF2 --dfu a.dfu > out.txt
    grep -q "a.dfu: DfuSe file, .* at 0x90100000, device 0483:df11 alt 0" out.txt || { cat out.txt; fail "summary"; }
    grep -q "for mboot (0483:df11)" out.txt || { cat out.txt; fail "mboot not named"; }
    dfu-suffix --check a.dfu >/dev/null
    READ dfu a.dfu 0x90100000=img.romfs >/dev/null
}

# When mboot has its own USB id, .dfu files for a partition only mboot reaches carry it,
# from convert and from pack alike (the system bootloader's would not be accepted).
dfu_files_carry_mboots_id() {
    write_readers; make_image
    cat > db.json <<'EOF'
{ "schema": 1, "micropython": {}, "boards": [
  { "board": "TEST_MB", "port": "stm32", "mcu": "STM32F722",
    "romfs": [ { "index": 0, "start": "0x90100000", "size": "0x100000", "erase_block": 4096,
                 "write_block": 4, "mmap": true, "device": "qspi" } ],
    "dfu": { "usb": "0483:df11", "alt": 0, "kind": "system",
             "layout": "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,03*128Kg",
             "mboot": { "usb": "1209:beef", "layout": "@Internal Flash  /0x08000000/04*016Kg/0x90000000/64*32Kg",
                        "source": "test" } } } ] }
EOF
    "$ROMFS" convert img.romfs --board TEST_MB --db db.json --dfu c.dfu > out.txt
    READ dfu c.dfu 0x90100000=img.romfs | grep -q "^device 1209:beef alt 0$" || fail "convert: not mboot's id"
    grep -q "for mboot (1209:beef)" out.txt || { cat out.txt; fail "summary"; }
    ROMFS_BOARDS=db.json "$ROMFS" pack src --board TEST_MB --dfu p.dfu -o p.romfs >/dev/null
    READ dfu p.dfu 0x90100000=p.romfs | grep -q "^device 1209:beef alt 0$" || fail "pack: not mboot's id"
    # --device still wins
    "$ROMFS" convert img.romfs --board TEST_MB --db db.json --dfu d.dfu --device 0483:df11 >/dev/null
    READ dfu d.dfu 0x90100000=img.romfs | grep -q "^device 0483:df11 alt 0$" || fail "--device"
}

t dfu_files_carry_mboots_id
t elf_into_one_dfu_for_mboot
t every_firmware_format_gives_the_same_hex
t bin_goes_to_the_firmware_start_or_the_address_given
t uf2_product_from_elf_and_from_uf2
t overlaps_and_outside_are_refused_and_nothing_written
t bad_firmware_files_and_usage
t romfs_only_dfu_names_mboot
