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

# Nesting of every kind (brackets, ?:, function calls, blocks) ends in a message or a
# result, never in a stack overflow: ALIGN(ALIGN(... once crashed like the long chain.
deep_nesting_never_overflows_the_stack() {
    python3 - <<'PY'
n = 50000
shapes = {
    "brackets.ld": "x = " + "(" * n + "1" + ")" * n + ";\n",
    "unary.ld": "x = " + "-" * n + "1;\n",
    "cond.ld": "x = " + "1 ? " * n + "1" + " : 2" * n + ";\n",
    "align.ld": "x = " + "ALIGN(" * n + "1" + ")" * n + ";\n",
    "min.ld": "x = " + "MIN(1, " * n + "1" + ")" * n + ";\n",
    "absolute.ld": "x = " + "ABSOLUTE(" * n + "1" + ")" * n + ";\n",
    "sections.ld": "SECTIONS { " * n + "}" * n + "\n",
    "outsec.ld": "SECTIONS { .a : { " * n + "} }" * n + "\n",
}
for name, text in shapes.items():
    open(name, "w").write(text)
PY
    for f in brackets unary cond align min absolute sections outsec; do
        rc=0; "$ROMFS" boards lint $f.ld > out.txt 2> err.txt || rc=$?
        [ "$rc" -le 2 ] || fail "$f.ld: exit $rc: $(tail -3 err.txt)"
        case $f in
            sections|outsec) ;;
            *) grep -q "$f.ld:1: expression nested too deeply" err.txt || fail "$f.ld: $(cat err.txt)" ;;
        esac
    done
}

long_expression_in_an_imported_tree() {
    cp -r "$FIXTURES/mptree" mp
    ld=mp/ports/renesas-ra/boards/FIXTURE_RA6M1/fixture_ra6m1.ld
    python3 -c "
import sys; open(sys.argv[1], 'a').write('_long = 1' + ' + 1' * 30000 + ';\n')" "$ld"
    n=$(wc -l < "$ld")
    expect_exit 2 "$ROMFS" boards import mp -o boards.json
    expect_stderr "renesas-ra board FIXTURE_RA6M1: mp/ports/renesas-ra/boards/FIXTURE_RA6M1/fixture_ra6m1.ld:$n: expression too long"
    # the other boards are imported all the same
    python3 -c "
import json; b = [x['board'] for x in json.load(open('boards.json'))['boards']]
assert b == ['FIXTURE_ESP32', 'FIXTURE_NRF52', 'FIXTURE_PICO', 'FIXTURE_D51', 'FIXTURE_D51_QSPI',
             'FIXTURE_F412', 'FIXTURE_NOROMFS'], b"
}

# One bad board is reported and left out; the others are imported; exit 2. Each bad
# board is named with its file:line.
import_reports_every_bad_board_and_imports_the_rest() {
    cp -r "$FIXTURES/mptree" mp
    echo "x = 1 +;" >> mp/ports/renesas-ra/boards/FIXTURE_RA6M1/fixture_ra6m1.ld
    ra=$(wc -l < mp/ports/renesas-ra/boards/FIXTURE_RA6M1/fixture_ra6m1.ld)
    echo "y = 2 *;" >> mp/ports/samd/boards/fixture_d51.ld
    d51=$(wc -l < mp/ports/samd/boards/fixture_d51.ld)
    expect_exit 2 "$ROMFS" boards import mp
    expect_stderr "3 boards not imported:"
    expect_stderr "renesas-ra board FIXTURE_RA6M1: mp/ports/renesas-ra/boards/FIXTURE_RA6M1/fixture_ra6m1.ld:$ra: syntax error"
    expect_stderr "samd board FIXTURE_D51: mp/ports/samd/boards/fixture_d51.ld:$d51: syntax error"
    expect_stderr "samd board FIXTURE_D51_QSPI: mp/ports/samd/boards/fixture_d51.ld:$d51: syntax error"
    python3 -c "
import json; d = json.load(open('out.txt')); b = [x['board'] for x in d['boards']]
assert b == ['FIXTURE_ESP32', 'FIXTURE_NRF52', 'FIXTURE_PICO', 'FIXTURE_F412', 'FIXTURE_NOROMFS'], b
assert d['boards'][3]['romfs'], d['boards'][3]"
    # and the good board's entry is the one a clean import gives
    "$ROMFS" boards import "$FIXTURES/mptree" > clean.json
    python3 -c "
import json
a = next(b for b in json.load(open('out.txt'))['boards'] if b['board'] == 'FIXTURE_F412')
b = next(b for b in json.load(open('clean.json'))['boards'] if b['board'] == 'FIXTURE_F412')
assert a == b, (a, b)"
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

# no_outputs_left FILE...: none of FILE exists, nor any temporary beside them.
no_outputs_left() {
    for f in "$@"; do
        assert_file_absent "$f"
        ! ls -A "$(dirname "$f")" | grep -qF "$(basename "$f").tmp" || fail "a temporary of $f was left behind"
    done
}

# full_device: ./full, a private "disk full" device (the same device as /dev/full) for
# outputs named on the command line: a regression that renames over its output then
# replaces only this node, never the machine's /dev/full. Skips without mknod rights.
full_device() {
    mknod full c 1 7 2>/dev/null || skip "cannot create a device node (mknod needs root)"
    ! echo x > full 2>/dev/null || fail "test setup: ./full accepted a write"
}

failed_manifest_leaves_no_image() {
    small_image ref.romfs
    expect_exit 2 "$ROMFS" pack tree -o x.romfs --manifest /nonexistent/m.json
    expect_stderr "/nonexistent/m.json"
    no_outputs_left x.romfs
    # a full disk for the manifest: neither file replaced
    full_device
    echo old > x.romfs
    rc=0; "$ROMFS" pack tree -o x.romfs --manifest full 2> err.txt || rc=$?
    [ "$rc" != 0 ] || fail "pack exited 0 with the manifest on a full device"
    grep -q "cannot write full" err.txt || fail "the error does not name the file: $(cat err.txt)"
    [ -c full ] || fail "the device was replaced"
    [ "$(cat x.romfs)" = old ] || fail "x.romfs was replaced by a failed pack"
    no_outputs_left x.romfs.tmp
    # and all succeed together
    expect_exit 0 "$ROMFS" pack tree -o x.romfs --manifest m.json -q
    same_bytes ref.romfs x.romfs
    python3 -c "import json; assert json.load(open('m.json'))['files'][0]['path'] == 'main.py'"
}

failed_dfu_or_hex_leaves_nothing() {
    small_image ref.romfs
    full_device
    rc=0; "$ROMFS" pack tree -o x.romfs --address 0x08020000 --dfu full 2> err.txt || rc=$?
    [ "$rc" != 0 ] || fail "pack exited 0 with the .dfu on a full device"
    grep -q "cannot write full" err.txt || fail "the error does not name the file: $(cat err.txt)"
    [ -c full ] || fail "the device was replaced"
    no_outputs_left x.romfs
    expect_exit 2 "$ROMFS" pack tree -o x.romfs --address 0x08020000 --dfu x.dfu --hex /nonexistent/x.hex \
        --manifest m.json
    expect_stderr "/nonexistent/x.hex"
    no_outputs_left x.romfs x.dfu m.json
    # convert: --bin, --hex and --dfu together, one of them impossible
    expect_exit 2 "$ROMFS" convert ref.romfs --address 0x08020000 --bin y.bin --hex y.hex --dfu /nonexistent/y.dfu
    no_outputs_left y.bin y.hex
}

# A device or FIFO named as output is written in place, never replaced by a rename
# (renaming over /dev/null would replace the device for the whole machine).
fifo_output_is_written_in_place() {
    small_image ref.romfs
    for how in stream manifest; do
        rm -f out.fifo got.romfs; mkfifo out.fifo
        timeout 20 cat out.fifo > got.romfs &
        reader=$!
        if [ $how = stream ]; then
            "$ROMFS" pack tree -o out.fifo -q
        else
            "$ROMFS" pack tree -o out.fifo --manifest m.json -q
        fi
        wait $reader || fail "$how: nothing was written to the FIFO"
        [ -p out.fifo ] || fail "$how: the FIFO was replaced"
        same_bytes ref.romfs got.romfs
    done
    rm -f out.fifo; mkfifo out.fifo
    timeout 20 cat out.fifo > got.ld &
    reader=$!
    "$ROMFS" layout --board ADAFRUIT_METRO_M7 --romfs-size 64K --fs-size 0 -o out.fifo
    wait $reader || fail "layout: nothing was written to the FIFO"
    [ -p out.fifo ] || fail "layout: the FIFO was replaced"
    grep -q _micropy_hw_romfs_part0_start got.ld || fail "layout wrote no fragment"
}

# Every command that writes to standard output fails (exit 1, "cannot write standard
# output") when that output cannot be written, instead of exiting 0.
stdout_write_errors_fail() {
    small_image a.romfs
    mkdir -p tree2 && echo 'print(2)' > tree2/main.py
    "$ROMFS" pack tree2 -o b.romfs -q
    cp "$FIXTURES/boards/vk_ra6m5_bug.ld" lint.ld
    n=0
    while IFS= read -r cmd; do
        [ -n "$cmd" ] || continue
        # the command works when its output can be written ...
        rc=0; eval "\"\$ROMFS\" $cmd" > ok.out 2> ok.err || rc=$?
        [ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "romfs $cmd: exit $rc: $(cat ok.err)"
        [ -s ok.out ] || fail "romfs $cmd printed nothing"
        # ... and fails when it cannot
        rc=0; eval "\"\$ROMFS\" $cmd" > /dev/full 2> full.err || rc=$?
        [ "$rc" = 1 ] || fail "romfs $cmd > /dev/full: exit $rc, not 1: $(cat full.err)"
        grep -qE "cannot write (to )?(standard output|the report|output)" full.err ||
            fail "romfs $cmd > /dev/full: $(cat full.err)"
        n=$((n + 1))
    done <<'CMDS'
--help
--version
ls a.romfs
ls -R a.romfs
ls -l a.romfs
ls --json -R a.romfs
cat a.romfs main.py
info a.romfs
info --json a.romfs
verify a.romfs
diff a.romfs b.romfs
diff --json a.romfs b.romfs
boards list
boards list --json
boards show PYBD_SF2
boards show PYBD_SF2 --json
boards lint lint.ld
boards import "$FIXTURES/mptree"
check a.romfs --board PYBD_SF2
check a.romfs --board PYBD_SF2 --format json
check a.romfs --board PYBD_SF2 --format junit
check a.romfs --board PYBD_SF2 --format github
layout --board ADAFRUIT_METRO_M7 --romfs-size 64K --fs-size 0
ci tree --board PYBD_SF2
pack tree -o -
convert a.romfs --address 0x08020000 --hex -
CMDS
    echo "commands checked: $n"
    [ "$n" -ge 25 ] || fail "only $n commands checked"
}

# hostile_image OUT [dup]: an image (built here from the format rules, as mpremote
# lays it out) whose names carry ESC sequences, BEL, a newline, a C1 control and bytes
# that are not UTF-8; with "dup", a directory holding the same hostile name twice.
hostile_image() {
    python3 - "$@" <<'PY'
import sys
def varuint(n):
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F)); n >>= 7
    return bytes(reversed(out))
def record(kind, payload):
    return varuint(kind) + varuint(len(payload)) + payload
def entries(items):
    out = b""
    for name, value in items:
        if isinstance(value, list):
            out += record(4, varuint(len(name)) + name + entries(value))
        else:
            out += record(5, varuint(len(name)) + name + record(2, value))
    return out
items = [(b"bad\xff\xfe.bin", b"1"), (b"c1\xc2\x9b31m.txt", b"2"),
         (b"d\x1b[2J", [(b"f", b"3")]), (b"evil\x1b]0;pwned\x07.py", b"4"),
         (b"two\nFAIL lines.txt", b"5")]
if len(sys.argv) > 2:
    items = [(b"\x1b[2Jdup", b"a"), (b"\x1b[2Jdup", b"b")]
payload = entries(sorted(items))
img = b"\xd2\xcd\x31" + varuint(len(payload)) + payload
if len(img) % 2:
    img = b"\xd2\xcd\x31\x80" + varuint(len(payload)) + payload
open(sys.argv[1], "wb").write(img)
PY
}

# assert_clean FILE WHAT: FILE is valid UTF-8 with no control byte but newline and
# tab, no C1 control, and no line starting "FAIL" that a name forged.
assert_clean() {
    python3 - "$1" "$2" <<'PY' || fail "$2 is not clean: $(od -c "$1" | head -20)"
import sys
data = open(sys.argv[1], "rb").read()
text = data.decode("utf-8")          # raises on invalid UTF-8
bad = [c for c in text if (ord(c) < 0x20 and c not in "\n\t") or 0x7f <= ord(c) <= 0x9f]
assert not bad, (sys.argv[2], bad)
assert not any(l.startswith("FAIL lines") for l in text.splitlines()), sys.argv[2]
PY
}

hostile_names_are_escaped_everywhere() {
    hostile_image evil.romfs
    small_image evil2.romfs
    n=0
    while IFS= read -r cmd; do
        [ -n "$cmd" ] || continue
        rc=0; eval "\"\$ROMFS\" $cmd" > out.txt 2> err.txt || rc=$?
        [ "$rc" -le 2 ] || fail "romfs $cmd: exit $rc: $(cat err.txt)"
        [ -s out.txt ] || [ -s err.txt ] || fail "romfs $cmd printed nothing"
        assert_clean out.txt "stdout of romfs $cmd"
        assert_clean err.txt "stderr of romfs $cmd"
        n=$((n + 1))
    done <<'CMDS'
ls evil.romfs
ls -R evil.romfs
ls -l -R evil.romfs
info evil.romfs
verify evil.romfs
diff evil.romfs evil2.romfs
check evil.romfs --board PYBD_SF2
check evil.romfs --board PYBD_SF2 --format github
cat evil.romfs $'two\nFAIL lines.txt/x'
cat evil.romfs $'d\e[2J/nope'
ls evil.romfs $'evil\e]0;pwned\a.py/x'
extract evil.romfs out
CMDS
    echo "commands checked: $n"
    # the names are shown, escaped, not dropped
    "$ROMFS" ls evil.romfs > ls.txt
    grep -qF 'evil\x1b]0;pwned\x07.py' ls.txt || fail "ls: $(cat ls.txt)"
    grep -qF 'two\x0aFAIL lines.txt' ls.txt || fail "ls: $(cat ls.txt)"
    grep -qF 'bad\xff\xfe.bin' ls.txt || fail "ls: $(cat ls.txt)"
    grep -qF 'c1\xc2\x9b31m.txt' ls.txt || fail "ls: $(cat ls.txt)"
    [ "$(wc -l < ls.txt)" = 5 ] || fail "ls printed $(wc -l < ls.txt) lines for 5 names"
    # an error naming a hostile name (duplicate entries) is escaped too
    hostile_image dup.romfs dup
    expect_exit 2 "$ROMFS" verify dup.romfs
    expect_stderr "duplicate name '\x1b[2Jdup'"
    assert_clean err.txt "verify dup.romfs"
}

kind_over_64_bits_is_not_called_truncated() {
    # payload: a record kind of ten varuint bytes (70 bits), then a length
    printf '\xd2\xcd\x31\x80\x0b\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f\x00' > kind.romfs
    [ "$(stat -c %s kind.romfs)" = 16 ] || fail "test setup: kind.romfs is $(stat -c %s kind.romfs) bytes"
    expect_exit 2 "$ROMFS" verify kind.romfs
    expect_stderr "kind.romfs: record kind at offset 5 is over 64 bits"
    expect_exit 2 "$ROMFS" ls kind.romfs
    expect_stderr "record kind at offset 5 is over 64 bits"
    # while a kind that stops short is truncated
    printf '\xd2\xcd\x31\x01\x85\x00' > trunc.romfs
    expect_exit 2 "$ROMFS" verify trunc.romfs
    expect_stderr "record kind at offset 4 is truncated"
}

# A private key is never written through a file planted where its temporary used to
# go (dev.pem.tmp), and sign -o to a FIFO writes the FIFO instead of replacing it.
keys_and_signatures_write_safely() {
    echo "not a key" > victim.txt
    ln -s victim.txt dev.pem.tmp
    ln -s victim.txt dev.pub.pem.tmp
    expect_exit 0 "$ROMFS" keygen dev
    [ "$(cat victim.txt)" = "not a key" ] || fail "keygen wrote through dev.pem.tmp"
    grep -q "PRIVATE KEY" dev.pem || fail "no private key in dev.pem"
    [ "$(stat -c %a dev.pem)" = 600 ] || fail "dev.pem has mode $(stat -c %a dev.pem)"
    small_image a.romfs
    mkfifo signed.fifo
    timeout 20 cat signed.fifo > got.romfs &
    reader=$!
    expect_exit 0 "$ROMFS" sign a.romfs --key dev.pem -o signed.fifo
    wait $reader || fail "nothing was written to the FIFO"
    [ -p signed.fifo ] || fail "the FIFO was replaced"
    expect_exit 0 "$ROMFS" verify got.romfs --key dev.pub.pem
}

include_loop_names_the_looping_line() {
    printf '/* a */\nx = 1;\nINCLUDE b.ld\n' > a.ld
    printf '/* b */\n\n\ny = 2;\nINCLUDE a.ld\n' > b.ld
    expect_exit 2 "$ROMFS" boards lint a.ld
    expect_stderr "b.ld:5: INCLUDE a.ld: an INCLUDE loop"
    printf 'z = 1;\nINCLUDE self.ld\n' > self.ld
    expect_exit 2 "$ROMFS" boards lint self.ld
    expect_stderr "self.ld:2: INCLUDE self.ld: an INCLUDE loop"
    # deep but not looping nesting still works up to the limit
    for i in $(seq 1 10); do printf 'v%d = %d;\nINCLUDE n%d.ld\n' $i $i $((i + 1)) > n$i.ld; done
    printf '_micropy_hw_romfs_part0_start = 0x08020000;\n_micropy_hw_romfs_part0_size = 0x20000;\n' > n11.ld
    small_image a.romfs
    expect_exit 0 "$ROMFS" check a.romfs --ld n1.ld --format json
}

# unprivileged CMD...: run CMD as a user that file permissions apply to (root reads
# everything: then the nobody user, through setpriv).
unprivileged() {
    if [ "$(id -u)" = 0 ]; then
        setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
    else
        "$@"
    fi
}

unreadable_input_is_an_input_error() {
    if [ "$(id -u)" = 0 ]; then
        command -v setpriv >/dev/null || skip "running as root without setpriv: permissions do not apply"
    fi
    chmod a+rx .. .
    small_image a.romfs
    cp a.romfs locked.romfs; chmod 000 locked.romfs
    mkdir -p src && echo x > src/a.txt && echo y > src/secret.txt && chmod 000 src/secret.txt
    chmod a+rwx .
    for cmd in "extract locked.romfs out" "ls locked.romfs" "info locked.romfs" "verify locked.romfs" \
               "cat locked.romfs main.py" "pack src -o x.romfs" "check locked.romfs --board PYBD_SF2"; do
        rc=0; unprivileged "$ROMFS" $cmd > out.txt 2> err.txt || rc=$?
        [ "$rc" = 2 ] || fail "romfs $cmd: exit $rc, not 2: $(cat err.txt)"
        grep -q "Permission denied" err.txt || fail "romfs $cmd: $(cat err.txt)"
    done
    assert_file_absent x.romfs
}

t long_expression_chain_is_refused_with_file_and_line
t long_expression_in_an_imported_tree
t deep_nesting_never_overflows_the_stack
t import_reports_every_bad_board_and_imports_the_rest
t ld_region_that_wraps_64_bits_is_refused
t ld_number_over_64_bits_is_refused
t boards_json_partition_past_4gib_is_refused
t failed_manifest_leaves_no_image
t failed_dfu_or_hex_leaves_nothing
t fifo_output_is_written_in_place
t stdout_write_errors_fail
t hostile_names_are_escaped_everywhere
t kind_over_64_bits_is_not_called_truncated
t include_loop_names_the_looping_line
t keys_and_signatures_write_safely
t unreadable_input_is_an_input_error
