#!/usr/bin/env bash
# `romfs boards import` over tests/fixtures/mptree, a tiny hand-written MicroPython-like
# tree: every boards.json value below was worked out by hand from the fixture's make
# fragments and linker scripts; arm-none-eabi-ld, linking the same scripts, must agree;
# a broken script in tests/fixtures/mptree-bad fails with its file:line.
source "$(dirname "$0")/lib.sh"

TREE="$FIXTURES/mptree"

# Hand-worked expectations for tests/fixtures/mptree (see the comments per board).
check_fixture_json() {
    python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == 1
# py/mpconfig.h: 9.8.7, not a prerelease; no --commit given
assert d["micropython"] == {"version": "v9.8.7"}, d["micropython"]
B = {b["board"]: b for b in d["boards"]}
# FIXTURE_NOROMFS has no MICROPY_HW_ROMFS_ENABLE_* define: left out. Sorted by port, name.
assert [(b["port"], b["board"]) for b in d["boards"]] == [
    ("renesas-ra", "FIXTURE_RA6M1"), ("samd", "FIXTURE_D51"), ("stm32", "FIXTURE_F412")], list(B)

def h(v): return int(v, 16)
def part(b):
    assert len(b["romfs"]) == 1, b["romfs"]
    return b["romfs"][0]
def regions(b): return {r["name"]: (h(r["origin"]), h(r["length"]), r.get("attrs")) for r in b["regions"]}

# stm32 FIXTURE_F412: FLASH_ROMFS at 0x08020000, 128K; part0_size = 128K - _estack_reserve*1K
# with --defsym _estack_reserve=8 ahead of the scripts (DEFINED() is true): 120K = 0x1e000.
# F412 sectors 4x16K, 1x64K, 7x128K: 0x08020000 is sector 5, 128K. Internal flash writes 16.
b = B["FIXTURE_F412"]
p = part(b)
assert (p["index"], h(p["start"]), h(p["size"])) == (0, 0x08020000, 0x1e000), p
assert (p["erase_block"], p["write_block"], p["mmap"]) == (128 * 1024, 16, True), p
assert p["region"] == "FLASH_ROMFS", p
assert p["source"] == "ports/stm32/boards/fixture_romfs.ld:4: _micropy_hw_romfs_part0_start", p["source"]
assert p["link"] == ("--defsym _estack_reserve=8 -L boards -L boards/common_isr_rom "
                     "-T boards/FIXTURE_F412/fixture_f412.ld -T boards/fixture_common.ld"), p["link"]
assert b["mcu"] == "STM32F412Z"
assert (h(b["flash"]["base"]), h(b["flash"]["size"])) == (0x08000000, 1024 * 1024)
# text: the region starting at TEXT0_ADDR, FLASH_APP preferred over FLASH
assert (b["text"]["region"], h(b["text"]["start"]), h(b["text"]["size"])) == ("FLASH_APP", 0x08000000, 128 * 1024)
assert (b["fs"]["region"], h(b["fs"]["start"]), h(b["fs"]["size"])) == ("FLASH_FS", 0x08040000, 0x40000)
# RAM (xrw) is writable: not a flash region
assert regions(b) == {"FLASH": (0x08000000, 0x100000, "rx"), "FLASH_APP": (0x08000000, 0x20000, "rx"),
                      "FLASH_ROMFS": (0x08020000, 0x20000, "rx"), "FLASH_FS": (0x08040000, 0x40000, "r")}, regions(b)
assert b["linker_scripts"] == ["ports/stm32/boards/FIXTURE_F412/fixture_f412.ld", "ports/stm32/boards/fixture_common.ld"]
assert b["dfu"]["usb"] == "0483:df11" and b["dfu"]["kind"] == "system"

# samd FIXTURE_D51: board MICROPY_HW_CODESIZE = 320K wins over the MCU's ?= 368K; ROMFS
# 64K from the MCU default. --defsym after -T. start = 0x4000 + 320K = 0x54000.
# SAMD51J19 (512K): 8K erase rows, write 4. No MEMORY region starts at 0x54000.
b = B["FIXTURE_D51"]
p = part(b)
assert (p["index"], h(p["start"]), h(p["size"])) == (0, 0x54000, 0x10000), p
assert (p["erase_block"], p["write_block"], p["mmap"]) == (8192, 4, True), p
assert "region" not in p, p
assert p["source"] == "ports/samd/boards/fixture_d51.ld:12: _micropy_hw_romfs_part0_start", p["source"]
assert p["link"] == "-T boards/fixture_d51.ld --defsym _codesize=320K --defsym _micropy_hw_romfs_part0_size=64K", p["link"]
assert (b["text"]["region"], h(b["text"]["start"]), h(b["text"]["size"])) == ("FLASH", 0x4000, 320 * 1024)
# _oflash_fs = 0x54000 + 64K; _sflash_fs = 512K - 16K - 320K - 64K = 112K
assert (h(b["fs"]["start"]), h(b["fs"]["size"])) == (0x64000, 112 * 1024), b["fs"]
assert regions(b) == {"FLASH": (0x4000, 320 * 1024, "rx")}, regions(b)
assert (h(b["flash"]["size"]), b["flash"]["erase_block"]) == (512 * 1024, 8192)
assert h(b["uf2"]["family"]) == 0x55114460

# renesas-ra FIXTURE_RA6M1: FLASH_ROMFS 0x60000, 64K; RA6M1 blocks 8x8K then 32K: 32K there.
b = B["FIXTURE_RA6M1"]
p = part(b)
assert (p["index"], h(p["start"]), h(p["size"])) == (0, 0x60000, 0x10000), p
assert (p["erase_block"], p["write_block"], p["mmap"]) == (32 * 1024, 4, True), p
assert p["region"] == "FLASH_ROMFS", p
assert p["source"] == "ports/renesas-ra/boards/FIXTURE_RA6M1/fixture_ra6m1.ld:10: _micropy_hw_romfs_part0_start", p["source"]
assert p["link"] == "--defsym _estack_reserve=8 -L boards -T boards/FIXTURE_RA6M1/fixture_ra6m1.ld", p["link"]
assert (b["text"]["region"], h(b["text"]["start"]), h(b["text"]["size"])) == ("FLASH", 0, 0x60000)
# FLASH_FS origin is ORIGIN(FLASH_ROMFS) + LENGTH(FLASH_ROMFS)
assert (b["fs"]["region"], h(b["fs"]["start"]), h(b["fs"]["size"])) == ("FLASH_FS", 0x70000, 0x10000)
assert regions(b) == {"FLASH": (0, 0x60000, "rx"), "FLASH_ROMFS": (0x60000, 0x10000, "r"),
                      "FLASH_FS": (0x70000, 0x10000, "r")}, regions(b)
assert b["flash"]["erase_map"] == [{"start": "0x00000000", "size": "0x00010000", "block": 8192},
                                   {"start": "0x00010000", "size": "0x00078000", "block": 32768}]
PY
}

import_fixture_tree_gives_hand_worked_values() {
    expect_exit 0 "$ROMFS" boards import "$TREE" -o out.json
    expect_stderr "wrote 3 boards to out.json"
    check_fixture_json out.json
}

import_is_byte_identical_run_to_run_and_for_a_relative_tree_path() {
    "$ROMFS" boards import "$TREE" -o a.json
    "$ROMFS" boards import "$TREE" -o b.json
    same_bytes a.json b.json
    local here=$PWD
    (cd "$ROMFS_SOURCE_DIR" && "$ROMFS" boards import tests/fixtures/mptree -o "$here/rel.json")
    same_bytes a.json rel.json
    # stdout output is the same text as -o
    "$ROMFS" boards import "$TREE" > stdout.json
    same_bytes a.json stdout.json
}

import_records_commit_and_filters_by_port() {
    "$ROMFS" boards import "$TREE" --commit 0123abc --port samd -o out.json
    python3 - out.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["micropython"] == {"version": "v9.8.7", "commit": "0123abc"}, d["micropython"]
assert [b["board"] for b in d["boards"]] == ["FIXTURE_D51"], d["boards"]
PY
    expect_exit 2 "$ROMFS" boards import "$TREE" --port nosuchport -o bad.json
    expect_stderr "unknown port 'nosuchport'"
    assert_file_absent bad.json
}

# Link every fixture board's scripts with arm-none-eabi-ld exactly as its hand-checked
# "link" arguments say (an empty object, run in the port directory, where make runs the
# linker): MEMORY regions and romfs symbols must equal what the import recorded.
import_agrees_with_arm_none_eabi_ld() {
    command -v arm-none-eabi-ld >/dev/null || { echo "arm-none-eabi-ld missing" >&2; return 1; }
    "$ROMFS" boards import "$TREE" -o out.json
    check_fixture_json out.json
    arm-none-eabi-as /dev/null -o empty.o
    local here=$PWD
    python3 - out.json "$TREE" "$here" <<'PY'
import json, os, re, shlex, subprocess, sys
d = json.load(open(sys.argv[1]))
tree, here = sys.argv[2], sys.argv[3]
def h(v): return int(v, 16)
checked = 0
for b in d["boards"]:
    p = b["romfs"][0]
    elf, mapf = os.path.join(here, b["board"] + ".elf"), os.path.join(here, b["board"] + ".map")
    cmd = ["arm-none-eabi-ld", "-o", elf, "-Map", mapf, os.path.join(here, "empty.o")] + shlex.split(p["link"])
    subprocess.run(cmd, cwd=os.path.join(tree, "ports", b["port"]), check=True)
    syms = {}
    for line in subprocess.run(["arm-none-eabi-nm", elf], capture_output=True, text=True, check=True).stdout.splitlines():
        f = line.split()
        if len(f) == 3:
            syms[f[2]] = int(f[0], 16)
    assert syms["_micropy_hw_romfs_part0_start"] == h(p["start"]), (b["board"], hex(syms["_micropy_hw_romfs_part0_start"]))
    assert syms["_micropy_hw_romfs_part0_size"] == h(p["size"]), (b["board"], hex(syms["_micropy_hw_romfs_part0_size"]))
    if b["port"] == "samd":
        assert syms["_oflash_fs"] == h(b["fs"]["start"]) and syms["_sflash_fs"] == h(b["fs"]["size"]), b["fs"]
    # ld's map file: "Memory Configuration" table
    mem = {}
    text = open(mapf).read()
    table = text.split("Memory Configuration", 1)[1].split("Linker script and memory map", 1)[0]
    for m in re.finditer(r"^(\w+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)", table, re.M):
        mem[m.group(1)] = (int(m.group(2), 16), int(m.group(3), 16))
    for r in b["regions"]:
        assert mem[r["name"]] == (h(r["origin"]), h(r["length"])), (b["board"], r, mem.get(r["name"]))
    for key in ("text", "fs"):
        reg = b.get(key, {}).get("region")
        if reg in mem:
            assert mem[reg] == (h(b[key]["start"]), h(b[key]["size"])), (b["board"], key)
    checked += 1
assert checked == 3, checked
PY
}

# A board whose script has a syntax error fails the import with file:line, exit 2, and
# no output file; arm-none-eabi-ld rejects the same line.
import_broken_script_names_file_and_line() {
    expect_exit 2 "$ROMFS" boards import "$FIXTURES/mptree-bad" -o out.json
    expect_stderr "renesas-ra board FIXTURE_BROKEN"
    expect_stderr "ports/renesas-ra/boards/FIXTURE_BROKEN/broken.ld:9:"
    assert_file_absent out.json
    ls -A | grep -q 'out.json' && fail "temporary output left behind"
    command -v arm-none-eabi-ld >/dev/null || { echo "arm-none-eabi-ld missing" >&2; return 1; }
    arm-none-eabi-as /dev/null -o empty.o
    local here=$PWD rc=0
    (cd "$FIXTURES/mptree-bad/ports/renesas-ra" &&
        arm-none-eabi-ld -o "$here/x.elf" "$here/empty.o" -T boards/FIXTURE_BROKEN/broken.ld) 2>ld.err || rc=$?
    [ "$rc" != 0 ] || fail "arm-none-eabi-ld accepted the broken script"
    grep -q "broken.ld:9:" ld.err || fail "ld names another line: $(cat ld.err)"
}

t import_fixture_tree_gives_hand_worked_values
t import_is_byte_identical_run_to_run_and_for_a_relative_tree_path
t import_records_commit_and_filters_by_port
t import_agrees_with_arm_none_eabi_ld
t import_broken_script_names_file_and_line
