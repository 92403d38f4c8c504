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

t long_expression_chain_is_refused_with_file_and_line
t long_expression_in_an_imported_tree
