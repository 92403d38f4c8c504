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
# Every board is imported, ROMFS or not (FIXTURE_NOROMFS has none). Sorted by port, name.
assert [(b["port"], b["board"]) for b in d["boards"]] == [
    ("esp32", "FIXTURE_ESP32"), ("nrf", "FIXTURE_NRF52"), ("renesas-ra", "FIXTURE_RA6M1"),
    ("rp2", "FIXTURE_PICO"), ("samd", "FIXTURE_D51"), ("samd", "FIXTURE_D51_QSPI"), ("stm32", "FIXTURE_F412"),
    ("stm32", "FIXTURE_NOROMFS")], list(B)

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
def areas(b): return [(a["kind"], a["device"], a.get("name"), h(a["start"]), h(a["size"])) for a in b["map"]]
def devices(b): return {x["name"]: (h(x["base"]), h(x["size"]), x["erase_block"], x["mmap"]) for x in b["devices"]}
def config(b): return {c["name"]: (h(c["value"]), c["source"]) for c in b.get("config", [])}
# its map: no MCU name, so the internal flash is the FLASH region's 1M; no REGION_ALIAS in
# its scripts, so the firmware is the text region; no storage symbols: no filesystem area
assert devices(b) == {"internal": (0x08000000, 1 << 20, 128 * 1024, True)}, devices(b)
assert areas(b) == [("firmware", "internal", "FLASH_APP", 0x08000000, 128 * 1024),
                    ("romfs", "internal", "romfs0", 0x08020000, 0x1e000)], areas(b)
assert b["romfs"][0]["api"] == "memoryview"
assert b["link"] == p["link"]

# stm32 FIXTURE_NOROMFS: no ROMFS. MICROPY_HW_MCU_NAME "STM32F405RG": size letter G = 1M;
# F4 sectors 4x16K, 1x64K, then 128K. USE_MBOOT=1, TEXT0_ADDR 0x08008000: mboot below it.
# Firmware: REGION_ALIAS FLASH_ISR -> FLASH_START (0x08008000, 16K), FLASH_COMMON ->
# FLASH_TEXT (0x08020000, 896K). Internal storage is 0 (#define, then #if picks the SPI
# branch): FLASH_FS is left unused and is no "fs". SPI flash: SIZE_BITS 32M -> 4 MiB;
# filesystem at OFFSET 256K, SIZE_BYTES = 4M - 256K = 0x3c0000; the chip is at least 4 MiB.
b = B["FIXTURE_NOROMFS"]
assert b["romfs"] == [] and "fs" not in b, b.get("fs")
assert devices(b) == {"internal": (0x08000000, 1 << 20, 128 * 1024, True),
                      "spi": (0, 4 << 20, 4096, False)}, devices(b)
assert areas(b) == [("bootloader", "internal", "mboot", 0x08000000, 0x8000),
                    ("firmware", "internal", "FLASH_START", 0x08008000, 16 * 1024),
                    ("firmware", "internal", "FLASH_TEXT", 0x08020000, 896 * 1024),
                    ("fs", "spi", "filesystem", 0x40000, 0x3c0000)], areas(b)
assert [a.get("blockdev") for a in b["map"]] == [None, None, None, "spibdev"]
hdr = "ports/stm32/boards/FIXTURE_NOROMFS/mpconfigboard.h"
assert config(b) == {"MICROPY_HW_ENABLE_INTERNAL_FLASH_STORAGE": (0, hdr + ":5"),
                     "MICROPY_HW_BDEV_SPIFLASH_OFFSET_BYTES": (0x40000, hdr + ":12"),
                     "MICROPY_HW_BDEV_SPIFLASH_SIZE_BYTES": (0x3c0000, hdr + ":13"),
                     "TEXT0_ADDR": (0x08008000, "ports/stm32/boards/FIXTURE_NOROMFS/mpconfigboard.mk:6")}, config(b)
assert b["map"][3]["source"] == hdr + ":13: MICROPY_HW_BDEV_SPIFLASH_SIZE_BYTES"
assert b["map"][1]["source"] == "ports/stm32/boards/FIXTURE_NOROMFS/fixture_noromfs.ld:6: FLASH_START"
assert b["link"] == ("--defsym _estack_reserve=8 -L boards -L boards/common_isr_rom "
                     "-T boards/FIXTURE_NOROMFS/fixture_noromfs.ld -T boards/fixture_common_ifs.ld"), b["link"]
assert [(e["size"], e["block"]) for e in b["flash"]["erase_map"]] == [
    ("0x00010000", 16384), ("0x00010000", 65536), ("0x000e0000", 131072)]
assert b["dfu"]["kind"] == "mboot" and b["dfu"]["layout"] == "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg"

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
# its map: the UF2 bootloader below ORIGIN(FLASH) = 16K; the filesystem in MCU flash (no
# (Q)SPI flash configured), so ROMFS is an object (samd_flash.c)
assert areas(b) == [("bootloader", "internal", "UF2 bootloader", 0, 0x4000),
                    ("firmware", "internal", "FLASH", 0x4000, 320 * 1024),
                    ("romfs", "internal", "romfs0", 0x54000, 0x10000),
                    ("fs", "internal", "filesystem", 0x64000, 112 * 1024)], areas(b)
assert b["map"][3]["source"] == "ports/samd/boards/fixture_d51.ld:13: _oflash_fs + _sflash_fs"
assert b["romfs"][0]["api"] == "object"
assert config(b) == {"MICROPY_HW_CODESIZE": (320 * 1024, "ports/samd/boards/FIXTURE_D51/mpconfigboard.mk:5"),
                     "MICROPY_HW_ROMFS_BYTES": (64 * 1024, "ports/samd/mcu/samd51/mpconfigmcu.mk:3")}, config(b)

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
assert areas(b) == [("firmware", "internal", "FLASH", 0, 0x60000), ("romfs", "internal", "romfs0", 0x60000, 0x10000)]
assert devices(b) == {"internal": (0, 512 * 1024, 32 * 1024, True)}

# samd FIXTURE_D51_QSPI: MICROPY_HW_QSPIFLASH names two chips, each 4 MiB
# (drivers/memory/external_flash_device.h: 1 << 22 and 4 * 1024 * 1024): the filesystem is
# the whole QSPI chip, and ROMFS in MCU flash is a memoryview (samd_flash.c without
# MICROPY_HW_MCUFLASH). Code size from the MCU's 368K: FLASH 0x4000 + 0x5c000, ROMFS at
# 0x60000, 64K. The MCU flash after ROMFS (_oflash_fs, 64K) is unused: no "fs" there.
b = B["FIXTURE_D51_QSPI"]
assert devices(b) == {"internal": (0, 512 * 1024, 8192, True), "qspi": (0, 4 << 20, 4096, False)}, devices(b)
assert areas(b) == [("bootloader", "internal", "UF2 bootloader", 0, 0x4000),
                    ("firmware", "internal", "FLASH", 0x4000, 0x5c000),
                    ("romfs", "internal", "romfs0", 0x60000, 0x10000),
                    ("fs", "qspi", "filesystem", 0, 4 << 20)], areas(b)
assert b["romfs"][0]["api"] == "memoryview" and "fs" not in b
assert config(b)["FIXTURE_CHIP_A.total_size"] == (4 << 20, "drivers/memory/external_flash_device.h:2")
assert config(b)["FIXTURE_CHIP_B.total_size"] == (4 << 20, "drivers/memory/external_flash_device.h:6")

# nrf FIXTURE_NRF52: SD=s140 adds boards/s140_6.1.1.ld (_sd_size 0x26000); the board's
# bootloader script sets a 48K tail; FS_SIZE 64K comes as --defsym ahead of the scripts;
# _flash_size 1M, ROMFS 128K. App = 1M - 0x26000 - 128K - 64K - 48K = 0x9e000 from 0x26000;
# ROMFS at 0xc4000, the filesystem 0xe4000..0xf4000, the bootloader 0xf4000..1M.
b = B["FIXTURE_NRF52"]
assert devices(b) == {"internal": (0, 1 << 20, 4096, True)}, devices(b)
assert areas(b) == [("bootloader", "internal", "SoftDevice s140 6.1.1", 0, 0x26000),
                    ("firmware", "internal", "FLASH_TEXT", 0x26000, 0x9e000),
                    ("romfs", "internal", "romfs0", 0xc4000, 128 * 1024),
                    ("fs", "internal", "filesystem", 0xe4000, 64 * 1024),
                    ("bootloader", "internal", "bootloader (fixture_bootloader)", 0xf4000, 0xc000)], areas(b)
assert b["romfs"][0]["api"] == "object"
assert config(b) == {"FS_SIZE": (64 * 1024, "ports/nrf/boards/FIXTURE_NRF52/mpconfigboard.mk:8")}
assert b["link"] == ("--defsym _fs_size=64K -L boards -T boards/FIXTURE_NRF52/fixture_bootloader.ld "
                     "-T boards/fixture_nrf52840.ld -T boards/s140_6.1.1.ld -T boards/memory.ld -T boards/common.ld")

# rp2 FIXTURE_PICO: PICO_FLASH_SIZE_BYTES 4 MiB and MICROPY_HW_FLASH_STORAGE_BYTES 1 MiB from
# its CMake; linked as --defsym into memory_flash.incl: FLASH 0x10000000 + 3M (less the
# RP2040's 256-byte boot2), no ROMFS (0 bytes), FLASH_FS 0x10300000 + 1M.
b = B["FIXTURE_PICO"]
assert b["mcu"] == "RP2040" and b["romfs"] == [] and b["romfs_option"].startswith("MICROPY_HW_ROMFS_BYTES")
assert devices(b) == {"qspi": (0x10000000, 4 << 20, 4096, True)}, devices(b)
assert areas(b) == [("bootloader", "qspi", "boot2", 0x10000000, 256),
                    ("firmware", "qspi", "FLASH", 0x10000100, (3 << 20) - 256),
                    ("fs", "qspi", "FLASH_FS", 0x10300000, 1 << 20)], areas(b)
cm = "ports/rp2/boards/FIXTURE_PICO/mpconfigboard.cmake"
assert config(b) == {"PICO_FLASH_SIZE_BYTES": (4 << 20, cm + ":2"), "MICROPY_HW_FLASH_STORAGE_BYTES": (1 << 20, cm + ":4")}
assert b["link"] == ("--defsym __micropy_flash_size__=4194304 --defsym __micropy_flash_storage_bytes__=1048576 "
                     "--defsym __micropy_romfs_bytes__=0 -T memmap_rp2/memory_flash.incl")

# esp32 FIXTURE_ESP32: ESP32-S3 (bootloader from 0x0), 8 MiB (the sdkconfig's later line),
# the fixture's table: nvs, phy_init, factory (the firmware); no vfs row, so main.c's vfs
# runs from the end of factory (0x200000) to the end of flash.
b = B["FIXTURE_ESP32"]
assert b["mcu"] == "ESP32S3" and b["romfs"] == []
assert devices(b) == {"spi": (0, 8 << 20, 4096, False)}, devices(b)
assert areas(b) == [("bootloader", "spi", "bootloader", 0, 0x8000),
                    ("reserved", "spi", "partition table", 0x8000, 0x1000),
                    ("reserved", "spi", "nvs", 0x9000, 0x6000), ("reserved", "spi", "phy_init", 0xf000, 0x1000),
                    ("firmware", "spi", "factory", 0x10000, 0x1f0000), ("fs", "spi", "vfs", 0x200000, 0x600000)], areas(b)
assert config(b) == {"CONFIG_ESPTOOLPY_FLASHSIZE": (8 << 20, "ports/esp32/boards/fixture.sdkconfig:3")}
assert b["map"][4]["source"] == "ports/esp32/fixture-partitions.csv:4: factory"
PY
}

import_fixture_tree_gives_hand_worked_values() {
    expect_exit 0 "$ROMFS" boards import "$TREE" -o out.json
    expect_stderr "wrote 8 boards to out.json"
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
assert [b["board"] for b in d["boards"]] == ["FIXTURE_D51", "FIXTURE_D51_QSPI"], d["boards"]
PY
    expect_exit 2 "$ROMFS" boards import "$TREE" --port nosuchport -o bad.json
    expect_stderr "unknown port 'nosuchport'"
    assert_file_absent bad.json
}

# Link every fixture board's scripts with arm-none-eabi-ld exactly as its hand-checked
# "link" arguments say (an empty object, run in the port directory, where make runs the
# linker): MEMORY regions, romfs symbols and every map area and device size taken from a
# linker script must equal what ld computed (tests/cli/ld_oracle.py).
import_agrees_with_arm_none_eabi_ld() {
    command -v arm-none-eabi-ld >/dev/null || { echo "arm-none-eabi-ld missing" >&2; return 1; }
    "$ROMFS" boards import "$TREE" -o out.json
    check_fixture_json out.json
    python3 "$ROMFS_SOURCE_DIR/tests/cli/ld_oracle.py" out.json "$TREE" "$PWD" > oracle.txt || fail "$(cat oracle.txt)"
    grep -q "^checked 7 boards, " oracle.txt || fail "$(cat oracle.txt)"
    # the oracle can fail: a map value one byte off is caught
    python3 - out.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for b in d["boards"]:
    if b["board"] == "FIXTURE_D51":
        b["map"][3]["size"] = "0x0001c001"
json.dump(d, open("off.json", "w"))
PY
    ! python3 "$ROMFS_SOURCE_DIR/tests/cli/ld_oracle.py" off.json "$TREE" "$PWD" > off.txt || fail "a wrong size passed"
    grep -q "FIXTURE_D51: fs filesystem size" off.txt || fail "$(cat off.txt)"
}

# The same over a whole MicroPython tree: every board of the import that is linked from
# scripts (stm32, samd, nrf, mimxrt, renesas-ra, alif, esp8266), checked against ld.
import_of_MICROPYTHON_TREE_agrees_with_arm_none_eabi_ld() {
    [ -n "${MICROPYTHON_TREE:-}" ] || skip "MICROPYTHON_TREE not set"
    command -v arm-none-eabi-ld >/dev/null || skip "arm-none-eabi-ld missing"
    "$ROMFS" boards import "$MICROPYTHON_TREE" -o tree.json 2>import.err || true
    python3 "$ROMFS_SOURCE_DIR/tests/cli/ld_oracle.py" tree.json "$MICROPYTHON_TREE" "$PWD" > oracle.txt ||
        fail "$(cat oracle.txt)"
    cat oracle.txt >&2
}

# Every configuration value the import read ("config": C defines, make variables) equals
# what `cc -E` and make make of the same files (tests/cli/config_oracle.py); a value one off
# is caught.
import_config_agrees_with_cc_E_and_make() {
    command -v cc >/dev/null && command -v make >/dev/null || { echo "cc or make missing" >&2; return 1; }
    "$ROMFS" boards import "$TREE" -o out.json
    python3 "$ROMFS_SOURCE_DIR/tests/cli/config_oracle.py" out.json "$TREE" "$PWD" > oracle.txt || fail "$(cat oracle.txt)"
    grep -q "^checked 14 values of 6 boards, 0 skipped, 0 disagree" oracle.txt || fail "$(cat oracle.txt)"
    python3 - out.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for b in d["boards"]:
    for c in b.get("config", []):
        if c["name"] in ("MICROPY_HW_BDEV_SPIFLASH_SIZE_BYTES", "MICROPY_HW_CODESIZE"):
            c["value"] = hex(int(c["value"], 16) + 1)
json.dump(d, open("off.json", "w"))
PY
    ! python3 "$ROMFS_SOURCE_DIR/tests/cli/config_oracle.py" off.json "$TREE" "$PWD" > off.txt || fail "a wrong value passed"
    grep -q "FIXTURE_NOROMFS MICROPY_HW_BDEV_SPIFLASH_SIZE_BYTES .*boards.json 0x3c0001, the build 0x3c0000" off.txt ||
        fail "$(cat off.txt)"
    grep -q "FIXTURE_D51 MICROPY_HW_CODESIZE .*boards.json 0x50001, the build 0x50000" off.txt || fail "$(cat off.txt)"
}

import_config_of_MICROPYTHON_TREE_agrees_with_cc_E_and_make() {
    [ -n "${MICROPYTHON_TREE:-}" ] || skip "MICROPYTHON_TREE not set"
    "$ROMFS" boards import "$MICROPYTHON_TREE" -o tree.json 2>import.err || true
    python3 "$ROMFS_SOURCE_DIR/tests/cli/config_oracle.py" tree.json "$MICROPYTHON_TREE" "$PWD" > oracle.txt ||
        fail "$(cat oracle.txt)"
    cat oracle.txt >&2
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
t import_of_MICROPYTHON_TREE_agrees_with_arm_none_eabi_ld
t import_config_agrees_with_cc_E_and_make
t import_config_of_MICROPYTHON_TREE_agrees_with_cc_E_and_make
t import_broken_script_names_file_and_line
