#!/bin/bash
# test_hostile.sh: hostile and broken input across commands. Each case is one that
# once crashed, gave a wrong answer, reached the terminal raw or left output behind:
# it must end in a clear message naming the file (and line or offset) and a non-zero
# exit, and never in a crash, a sanitizer report or partial output.
. "$(dirname "$0")/lib.sh"

# long_chain FILE TERMS [LAST]: a MicroPython-shaped script whose ROMFS start is a flat
# chain `0x08020000 + 1 + 1 ... + LAST` of TERMS terms after the first.
long_chain() {
    python3 - "$1" "$2" "${3:-1}" <<'PY'
import sys
n, last = int(sys.argv[2]), sys.argv[3]
with open(sys.argv[1], "w") as f:
    f.write("MEMORY\n{\n    FLASH (rx) : ORIGIN = 0x08000000, LENGTH = 1M\n}\n")
    f.write("_micropy_hw_romfs_part0_start = 0x08020000" + " + 1" * (n - 1) + " + " + last + ";\n")
    f.write("_micropy_hw_romfs_part0_size = 0x20000;\n")
PY
}

small_image() {
    mkdir -p tree && echo 'print(1)' > tree/main.py
    "$ROMFS" pack tree -o "$1" -q
}

long_expression_chain_is_refused_with_file_and_line() {
    long_chain long.ld 30000
    [ "$(stat -c %s long.ld)" -gt 100000 ] || fail "long.ld is too short to test anything"
    small_image a.romfs
    expect_exit 2 "$ROMFS" check a.romfs --ld long.ld
    expect_stderr "long.ld:5: expression too long"
    expect_exit 2 "$ROMFS" boards lint long.ld
    expect_stderr "long.ld:5: expression too long"
    # A chain under the limit still evaluates: 0x08020000 + 1024 (an aligned start).
    long_chain over.ld 1001
    expect_exit 2 "$ROMFS" check a.romfs --ld over.ld
    expect_stderr "over.ld:5: expression too long"
    long_chain ok.ld 1000 25
    expect_exit 0 "$ROMFS" check a.romfs --ld ok.ld --format json
    python3 -c "
import json; p = json.load(open('out.txt'))['suites'][0]['properties']
assert p['start'] == 0x08020000 + 1024, p
"
}

long_expression_in_an_imported_tree() {
    cp -r "$FIXTURES/mptree" mp
    ld=mp/ports/renesas-ra/boards/FIXTURE_RA6M1/fixture_ra6m1.ld
    python3 -c "
import sys; open(sys.argv[1], 'a').write('_long = 1' + ' + 1' * 30000 + ';\n')" "$ld"
    n=$(wc -l < "$ld")
    expect_exit 2 "$ROMFS" boards import mp -o boards.json
    expect_stderr "fixture_ra6m1.ld:$n: expression too long"
    assert_file_absent boards.json
}

ld_region_that_wraps_64_bits_is_refused() {
    cat > wrap.ld <<'LD'
MEMORY
{
    FLASH_ROMFS (r) : ORIGIN = 0xFFFFFFFFFFFFFFF0, LENGTH = 0x100
}
_micropy_hw_romfs_part0_start = ORIGIN(FLASH_ROMFS);
_micropy_hw_romfs_part0_size = LENGTH(FLASH_ROMFS);
LD
    small_image a.romfs
    expect_exit 2 "$ROMFS" check a.romfs --ld wrap.ld
    expect_stderr "wrap.ld:3: MEMORY region FLASH_ROMFS: ORIGIN 0xfffffffffffffff0 + LENGTH 0x100 runs past the end"
    [ ! -s out.txt ] || fail "a report was printed: $(cat out.txt)"
    # Symbols whose partition fits 64 bits but not a 32-bit MCU's address space.
    cat > high.ld <<'LD'
_micropy_hw_romfs_part0_start = 0xFFFFF000;
_micropy_hw_romfs_part0_size = 1M;
LD
    expect_exit 2 "$ROMFS" check a.romfs --ld high.ld
    expect_stderr "high.ld:1: _micropy_hw_romfs_part0_start: 0xfffff000 + 0x100000 (1048576 bytes) ends past the 32-bit address space"
}

ld_number_over_64_bits_is_refused() {
    printf '_micropy_hw_romfs_part0_start = 0x800000000000000000;\n_micropy_hw_romfs_part0_size = 0x1000;\n' > big.ld
    small_image a.romfs
    expect_exit 2 "$ROMFS" check a.romfs --ld big.ld
    expect_stderr "big.ld:1: number '0x800000000000000000' does not fit in 64 bits"
    # A K suffix that carries a 64-bit number over the edge, too.
    printf 'x = 0x40000000000000K;\n' > bigk.ld
    expect_exit 2 "$ROMFS" boards lint bigk.ld
    expect_stderr "bigk.ld:1: number '0x40000000000000K' does not fit in 64 bits"
    # The largest 64-bit number is still a number.
    printf 'x = 0xFFFFFFFFFFFFFFFF;\n' > max.ld
    expect_exit 0 "$ROMFS" boards lint max.ld
}

boards_json_partition_past_4gib_is_refused() {
    python3 - "$ROMFS_SOURCE_DIR/tests/fixtures/check/boards.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
b = next(b for b in d["boards"] if b["board"] == "FIX_STM32F4")
b["romfs"] = [{"index": 0, "start": "0xfffff000", "size": "0x100000", "erase_block": 4096,
               "write_block": 4, "mmap": True, "source": "hostile"}]
json.dump(d, open("high.json", "w"), indent=1)
PY
    small_image a.romfs
    expect_exit 2 env ROMFS_BOARDS=high.json "$ROMFS" check a.romfs --board FIX_STM32F4
    expect_stderr "FIX_STM32F4"
    expect_stderr "partition 0: 0xfffff000 + 0x100000 ends past the 32-bit address space"
    [ ! -s out.txt ] || fail "a report was printed: $(cat out.txt)"
}

t long_expression_chain_is_refused_with_file_and_line
t long_expression_in_an_imported_tree
t ld_region_that_wraps_64_bits_is_refused
t ld_number_over_64_bits_is_refused
t boards_json_partition_past_4gib_is_refused
