#!/bin/bash
# romfs check: images made by an independent writer (tests/fixtures/check/mkimage.py)
# against fixture boards, every output format, exit codes, --ld against arm-none-eabi-ld.
. "$(dirname "$0")/lib.sh"
CHK="$FIXTURES/check"
export ROMFS_BOARDS="$CHK/boards.json"
mkimage() { python3 "$CHK/mkimage.py" "$@" > /dev/null; }

check_passes_on_nrf() {
    mkimage app.romfs big.bin:3000:4096 small.py:10:4
    expect_exit 0 "$ROMFS" check app.romfs --board FIX_NRF52840
    expect_stdout "PASS fits         uses 7126 of 262144 bytes (2.7%), 255018 bytes free"
    expect_stdout "PASS alignment    all 2 files keep their data alignment (up to 4096) at partition start 0x000b0000"
    expect_stdout "romfs check: 6 passed, 0 failed, 0 skipped"
}

check_misaligned_partition_start() {
    # FIX_MISALIGNED starts at 0x30200 (512-aligned): data at image offset 4096 lands at 0x31200.
    mkimage app.romfs big.bin:3000:4096 small.py:10:4
    expect_exit 1 "$ROMFS" check app.romfs --board FIX_MISALIGNED
    expect_stdout "FAIL alignment    1 of 2 files lose their alignment at partition start 0x00030200 (aligned to 512)"
    expect_stdout "big.bin: data at image offset 0x1000 (aligned to 4096) lands at 0x00031200, aligned only to 512"
    # With the cap at 512 the image asks for no more than the start gives.
    expect_exit 0 "$ROMFS" check app.romfs --board FIX_MISALIGNED --align-cap 512
}

check_too_big_by_two_bytes() {
    # FIX_TINY's partition is 256 bytes; an image of 258 bytes (sizes are even) is 2 over.
    mkimage one.romfs f:237
    [ "$(stat -c %s one.romfs)" = 258 ] || fail "fixture image is $(stat -c %s one.romfs) bytes"
    expect_exit 1 "$ROMFS" check one.romfs --board FIX_TINY
    expect_stdout "FAIL fits         image is 258 bytes, 2 bytes more than the 256-byte partition at 0x00020000"
    mkimage fits.romfs f:235
    expect_exit 0 "$ROMFS" check fits.romfs --board FIX_TINY
    expect_stdout "uses 256 of 256 bytes (100.0%), 0 bytes free"
}

check_not_mmap() {
    mkimage app.romfs a:100:4
    expect_exit 1 "$ROMFS" check app.romfs --board FIX_NOMMAP
    expect_stdout "FAIL mmap"
    expect_stdout "SKIP alignment"
    # esp32 records a flash offset, but the port maps the partition before VfsRom reads it.
    mkimage big.romfs big.bin:3000:4096
    expect_exit 0 "$ROMFS" check big.romfs --board FIX_ESP32
    expect_stdout "PASS mmap         mapped by the port at run time from flash offset 0x001e0000"
    expect_stdout "PASS alignment"
}

check_many_boards_and_partitions() {
    mkimage app.romfs big.bin:3000:4096
    expect_exit 1 "$ROMFS" check app.romfs --board FIX_NRF52840 --board FIX_MISALIGNED --board fix_qspi
    expect_stdout "app.romfs: FIX_NRF52840 partition 0"
    expect_stdout "app.romfs: FIX_MISALIGNED partition 0"
    expect_stdout "app.romfs: FIX_QSPI partition 0"
    expect_stdout "romfs check: 17 passed, 1 failed, 0 skipped"
    expect_exit 0 "$ROMFS" check app.romfs --board FIX_QSPI --partition all
    expect_stdout "FIX_QSPI partition 1"
    expect_stdout "erases 0x08060000..0x08080000 (131072 bytes, erase block 131072)"
    expect_exit 0 "$ROMFS" check app.romfs --board FIX_QSPI --partition 1
}

check_multicore_board() {
    mkimage app.romfs big.bin:3000:4096
    expect_exit 0 "$ROMFS" check app.romfs --board FIX_ALIF --partition all
    expect_stdout "app.romfs: FIX_ALIF partition 0 (core M55_HP)"
    expect_stdout "app.romfs: FIX_ALIF partition 0 (core M55_HE)"
    expect_stdout "erases 0x80300000..0x80301bc0 (7104 bytes, erase block 16)"
    expect_exit 0 "$ROMFS" check app.romfs --board FIX_ALIF --core M55_HE --format json
    python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["suites"]; assert len(s)==1 and s[0]["properties"]["core"]=="M55_HE" and s[0]["properties"]["start"]==0x80300000, s' out.txt
    expect_exit 2 "$ROMFS" check app.romfs --board FIX_ALIF --core M33
    expect_stderr "no ROMFS partition 0 for core M33"
}

check_json_format() {
    mkimage app.romfs big.bin:3000:4096
    expect_exit 1 "$ROMFS" check app.romfs --board FIX_NRF52840 --board FIX_MISALIGNED --format json
    python3 - out.txt <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["ok"] is False and r["passed"] == 11 and r["failed"] == 1, r
s0, s1 = r["suites"]
assert s0["properties"]["start"] == 0xB0000 and s0["properties"]["size"] == 0x40000
assert s0["properties"]["free_bytes"] == 0x40000 - s0["properties"]["write_size"]
assert abs(s0["properties"]["used_percent"] - 100.0 * s0["properties"]["write_size"] / 0x40000) < 1e-3
assert s1["properties"]["start_hex"] == "0x00030200"
bad = [c for c in s1["cases"] if c["status"] == "fail"]
assert [c["name"] for c in bad] == ["alignment"], bad
assert "0x00031200" in bad[0]["detail"]
PY
}

check_junit_format() {
    mkimage 'a&b<c>.romfs' big.bin:3000:4096
    expect_exit 1 "$ROMFS" check 'a&b<c>.romfs' --board FIX_NRF52840 --board FIX_MISALIGNED --board FIX_NOMMAP --format junit
    python3 - out.txt <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites"
suites = root.findall("testsuite")
assert len(suites) == 3
total = fails = skips = 0
for s in suites:
    cases = s.findall("testcase")
    assert int(s.get("tests")) == len(cases) == 6
    f = sum(1 for c in cases if c.find("failure") is not None)
    k = sum(1 for c in cases if c.find("skipped") is not None)
    assert int(s.get("failures")) == f and int(s.get("skipped")) == k
    assert s.find("properties/property[@name='file']").get("value") == "a&b<c>.romfs"
    total += len(cases); fails += f; skips += k
assert (int(root.get("tests")), int(root.get("failures")), int(root.get("skipped"))) == (total, fails, skips) == (18, 2, 1)
mis = suites[1].find("testcase[@name='alignment']/failure")
assert "lands at 0x00031200" in mis.text, mis.text
PY
}

check_github_format() {
    mkimage app,1.romfs big.bin:3000:4096
    expect_exit 1 "$ROMFS" check app,1.romfs --board FIX_MISALIGNED --format github
    grep -q '^::error file=app%2C1.romfs,title=romfs check FIX_MISALIGNED partition 0 alignment::FIX_MISALIGNED partition 0: 1 of 1 file lose' out.txt \
        || fail "no alignment annotation: $(cat out.txt)"
    [ "$(grep -c '^::error' out.txt)" = 2 ] || fail "expected one failure and one summary annotation"
    tail -n 1 out.txt | grep -qx '::error title=romfs check::5 passed, 1 failed, 0 skipped' || fail "summary"
    expect_exit 0 "$ROMFS" check app,1.romfs --board FIX_NRF52840 --format github
    grep -q '^::error' out.txt && fail "annotation on a passing check"
    grep -qx '::notice title=romfs check::6 passed, 0 failed, 0 skipped' out.txt
}

check_output_file() {
    mkimage app.romfs a:10
    expect_exit 0 "$ROMFS" check app.romfs --board FIX_NRF52840 --format junit -o report.xml
    python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' report.xml
    [ ! -s out.txt ] || fail "stdout not empty with -o"
    assert_file_absent report.xml.tmp
}

check_usage_and_input_errors() {
    mkimage app.romfs a:10
    expect_exit 2 "$ROMFS" check app.romfs
    expect_stderr "--board, --elf or --ld"
    expect_exit 2 "$ROMFS" check app.romfs --board NO_SUCH_BOARD
    expect_stderr "unknown board 'NO_SUCH_BOARD'"
    expect_exit 2 "$ROMFS" check missing.romfs --board FIX_NRF52840
    expect_stderr "missing.romfs"
    expect_exit 2 "$ROMFS" check app.romfs --board FIX_NRF52840 --format xml
    expect_stderr "unknown report format 'xml'"
    expect_exit 2 "$ROMFS" check app.romfs --board FIX_NRF52840 --partition 3
    expect_stderr "board FIX_NRF52840 has no ROMFS partition 3 (it has 0)"
    expect_exit 2 "$ROMFS" check app.romfs --board FIX_RP2
    expect_stderr "MICROPY_HW_ROMFS_BYTES"
    expect_exit 2 "$ROMFS" check app.romfs --board FIX_NRF52840 --align-cap 3
    expect_exit 0 "$ROMFS" check --help
    expect_stdout "Exit status"
}

check_corrupt_image_is_a_failed_check() {
    printf 'not a romfs image' > bad.romfs
    expect_exit 1 "$ROMFS" check bad.romfs --board FIX_NRF52840
    expect_stdout "FAIL structure"
    expect_stdout "SKIP alignment"
}

# The partition from linker scripts: the evaluator's numbers must be the linker's.
check_ld_scripts_match_the_linker() {
    command -v arm-none-eabi-ld >/dev/null || { echo "arm-none-eabi-ld missing" >&2; return 1; }
    cat > board.ld <<'LD'
MEMORY
{
    FLASH_APP (rx)   : ORIGIN = 0x08000000, LENGTH = 1M - 64K
    FLASH_ROMFS (rx) : ORIGIN = ORIGIN(FLASH_APP) + LENGTH(FLASH_APP), LENGTH = 32K + 0x200
}
_micropy_hw_romfs_part0_start = ORIGIN(FLASH_ROMFS) + 0x200;
_micropy_hw_romfs_part0_size = LENGTH(FLASH_ROMFS) - 0x200;
LD
    arm-none-eabi-as /dev/null -o empty.o
    arm-none-eabi-ld -T board.ld empty.o -o linked.elf
    start=$(arm-none-eabi-nm linked.elf | awk "/_micropy_hw_romfs_part0_start/ { print \$1 }")
    size=$(arm-none-eabi-nm linked.elf | awk "/_micropy_hw_romfs_part0_size/ { print \$1 }")
    [ -n "$start" ] && [ -n "$size" ] || fail "no romfs symbols from the linker"
    mkimage app.romfs big.bin:3000:4096
    expect_exit 1 "$ROMFS" check app.romfs --ld board.ld --format json
    python3 - out.txt "$start" "$size" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
p = r["suites"][0]["properties"]
assert (p["start"], p["size"]) == (int(sys.argv[2], 16), int(sys.argv[3], 16)), (p, sys.argv)
assert p["start"] == 0x080F0200
st = {c["name"]: c["status"] for c in r["suites"][0]["cases"]}
# 0x080F0200 is 512-aligned: a 4096-aligned file loses alignment; geometry unknown -> skips.
assert st == {"structure": "pass", "fits": "pass", "erase": "skip", "write": "skip",
              "alignment": "fail", "mmap": "skip"}, st
PY
    # With the board for geometry: inside its main flash, so erase/write/mmap are known.
    expect_exit 1 "$ROMFS" check app.romfs --ld board.ld --board FIX_STM32F4
    expect_stdout "FAIL erase        partition start 0x080f0200 is not on a 131072-byte erase-block boundary"
    expect_exit 2 "$ROMFS" check app.romfs --ld board.ld --partition 1
    expect_stderr "_micropy_hw_romfs_part1_start"
    # INCLUDE through -L and a --defsym, as a port's Makefile passes them; ld decides.
    mkdir -p inc
    cat > inc/romfs_part.ld <<'LD'
_micropy_hw_romfs_part0_start = ORIGIN(FLASH_ROMFS);
_micropy_hw_romfs_part0_size = DEFINED(ROMFS_BYTES) ? ROMFS_BYTES : 16K;
LD
    cat > top.ld <<'LD'
MEMORY { FLASH_ROMFS (rx) : ORIGIN = 0x10100000, LENGTH = 64K }
INCLUDE romfs_part.ld
LD
    arm-none-eabi-ld -L inc --defsym ROMFS_BYTES=0x6000 -T top.ld empty.o -o linked2.elf
    size=$(arm-none-eabi-nm linked2.elf | awk "/_micropy_hw_romfs_part0_size/ { print \$1 }")
    expect_exit 0 "$ROMFS" check app.romfs --ld top.ld -L inc --defsym ROMFS_BYTES=0x6000 --format json
    python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["suites"][0]["properties"]; assert (p["start"], p["size"]) == (0x10100000, int(sys.argv[2], 16)) == (0x10100000, 0x6000), p' out.txt "$size"
    expect_exit 0 "$ROMFS" check app.romfs --ld top.ld -L inc --format json
    python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["suites"][0]["properties"]; assert p["size"] == 16384, p' out.txt
}

# Images made by `romfs pack`: its alignment rules are what check infers back.
check_packed_images() {
    mkdir -p app/lib
    head -c 5000 /dev/zero > app/lib/font.bin
    printf 'print(1)\n' > app/main.py
    expect_exit 0 "$ROMFS" pack app -o app.romfs --align-rule '*.bin=4096'
    expect_exit 0 "$ROMFS" check app.romfs --board FIX_NRF52840 --board FIX_QSPI
    expect_stdout "keep their data alignment (up to 4096)"
    expect_exit 1 "$ROMFS" check app.romfs --board FIX_MISALIGNED
    expect_stdout "lib/font.bin asks for 4096"
    # With only 4-byte alignment the 512-aligned start keeps every file aligned... unless a
    # file happens to sit at a more aligned offset; --align-cap 4 states what was asked.
    expect_exit 0 "$ROMFS" pack app -o small.romfs --align 4
    expect_exit 0 "$ROMFS" check small.romfs --board FIX_MISALIGNED --align-cap 4
}

# The partition from a firmware ELF (the linker's own numbers), geometry from the board.
check_elf_partition() {
    command -v arm-none-eabi-ld >/dev/null || { echo "arm-none-eabi-ld missing" >&2; return 1; }
    cat > fw.ld <<'LD'
MEMORY
{
    FLASH_TEXT (rx)  : ORIGIN = 0x00001000, LENGTH = 0xAF000
    FLASH_ROMFS (rx) : ORIGIN = 0x000B0000, LENGTH = 0x1000
}
SECTIONS { .text : { *(.text*) } > FLASH_TEXT }
_micropy_hw_romfs_part0_start = ORIGIN(FLASH_ROMFS);
_micropy_hw_romfs_part0_size = LENGTH(FLASH_ROMFS);
LD
    printf '.text\n.space 1000\n' > code.s
    arm-none-eabi-as code.s -o code.o
    arm-none-eabi-ld -T fw.ld code.o -o fw.elf
    mkimage small.romfs a:100:4
    mkimage big.romfs a:5000:4
    expect_exit 0 "$ROMFS" check small.romfs --elf fw.elf --board FIX_NRF52840
    expect_stdout "from fw.elf: _micropy_hw_romfs_part0_start/_size"
    expect_stdout "PASS erase"
    # boards.json says 256K, this firmware says 4K: the firmware wins.
    expect_exit 1 "$ROMFS" check big.romfs --elf fw.elf --board FIX_NRF52840
    expect_stdout "more than the 4096-byte partition at 0x000b0000"
    expect_exit 2 "$ROMFS" check small.romfs --elf fw.elf --partition 1
    expect_stderr "no ROMFS partition 1"
    expect_exit 2 "$ROMFS" check small.romfs --elf fw.elf --ld fw.ld
}

# Every board of the real boards.json (embedded; $MPBOARDS may name another) in one run:
# a packed image with a 4096-aligned asset passes every check on every partition, and
# the JUnit report accounts for all of them. Boards without a partition are rejected
# with exit 2 (they need --elf/--ld).
check_every_real_board() {
    mkdir -p app
    head -c 5000 /dev/zero > app/font.bin
    printf 'print(1)\n' > app/main.py
    expect_exit 0 "$ROMFS" pack app -o app.romfs --align-rule '*.bin=4096'
    export ROMFS_BOARDS=${MPBOARDS:-}
    [ -n "$ROMFS_BOARDS" ] || unset ROMFS_BOARDS
    "$ROMFS" boards list --json > list.json
    python3 - list.json > args.txt <<'PY'
import json, sys
for b in json.load(open(sys.argv[1])):
    if b.get("partitions"):
        print("--board", b["board"])
PY
    [ -s args.txt ] || { echo "boards.json has no partitions yet: nothing to check"; return 0; }
    expect_exit 0 "$ROMFS" check app.romfs $(cat args.txt) --partition all --format junit
    python3 - out.txt list.json <<'PY'
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
want = sum(b["partitions"] for b in json.load(open(sys.argv[2])))
assert len(root.findall("testsuite")) == want, (len(root.findall("testsuite")), want)
assert int(root.get("failures")) == 0 and int(root.get("tests")) == 6 * want
print("partitions checked:", want)
PY
    nopart=$(python3 -c 'import json,sys; print(" ".join(b["board"] for b in json.load(open(sys.argv[1])) if not b.get("partitions")))' list.json)
    for b in $nopart; do
        expect_exit 2 "$ROMFS" check app.romfs --board "$b"
        expect_stderr "no ROMFS partition"
    done
}

t check_passes_on_nrf
t check_every_real_board
t check_misaligned_partition_start
t check_too_big_by_two_bytes
t check_not_mmap
t check_many_boards_and_partitions
t check_multicore_board
t check_json_format
t check_junit_format
t check_github_format
t check_output_file
t check_usage_and_input_errors
t check_corrupt_image_is_a_failed_check
t check_ld_scripts_match_the_linker
t check_packed_images
t check_elf_partition
