#!/bin/bash
# test_boards.sh: romfs boards lint/import/list/show.
. "$(dirname "$0")/lib.sh"

# The VK_RA6M5 bug: FLASH_ROMFS 0xA0000+0xA0000 runs 256 KiB into FLASH_FS.
lint_catches_vk_ra6m5_romfs_overrun() {
    expect_exit 1 "$ROMFS" boards lint "$FIXTURES/boards/vk_ra6m5_bug.ld"
    expect_stdout "error:"
    expect_stdout "FLASH_ROMFS"
    expect_stdout "FLASH_FS"
    expect_stdout "262144 bytes"
    expect_stdout "[romfs-overrun]"
}

# The ARDUINO_PORTENTA_C33 bug: FLASH at 0 on top of the 64K FLASH_BOOT.
lint_catches_portenta_c33_firmware_on_bootloader() {
    expect_exit 1 "$ROMFS" boards lint --json "$FIXTURES/boards/portenta_c33_bug.ld"
    python3 - <<'PY'
import json
r = json.load(open("out.txt"))
assert r["errors"] == 1, r
f = r["findings"][0]
assert f["check"] == "firmware-on-bootloader" and f["severity"] == "error", f
assert f["region"] == "FLASH" and f["other_region"] == "FLASH_BOOT" and f["bytes"] == 65536, f
PY
}

lint_fixed_layout_is_clean() {
    sed 's/LENGTH = 0x000A0000\(.*\)$/LENGTH = 0x00060000\1/' "$FIXTURES/boards/vk_ra6m5_bug.ld" \
        | sed '0,/0x00060000/s//0x000A0000/' > fixed.ld
    expect_exit 0 "$ROMFS" boards lint fixed.ld
    expect_stdout "0 errors"
}

# Needs a MicroPython tree at the commit boards.json records (an archive has no .git,
# so the recorded commit id is passed in): a SKIP, never a PASS, without one.
import_matches_committed_boards_json_if_MICROPYTHON_TREE() {
    [ -n "${MICROPYTHON_TREE:-}" ] || skip "MICROPYTHON_TREE not set"
    commit=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["micropython"]["commit"])' \
             "$ROMFS_SOURCE_DIR/boards.json")
    "$ROMFS" boards import "$MICROPYTHON_TREE" --commit "$commit" -o got.json
    same_bytes got.json "$ROMFS_SOURCE_DIR/boards.json"
}

# The facts issue 3 lists, against the committed (and embedded) boards.json.
committed_boards_json_has_the_issue_facts() {
    expect_exit 0 "$ROMFS" boards list --json
    python3 - "$ROMFS_SOURCE_DIR/boards.json" <<'PY'
import json, sys, collections
d = json.load(open(sys.argv[1]))
emb = json.load(open("out.txt"))
B = {b["board"]: b for b in d["boards"]}
rom = [b for b in d["boards"] if b["romfs"]]
ports = collections.Counter(b["port"] for b in rom)
assert dict(ports) == {"stm32": 10, "mimxrt": 13, "samd": 13, "nrf": 23, "renesas-ra": 7, "alif": 2,
                       "esp8266": 1, "qemu": 6}, ports
assert len(rom) == 75 and sum(len(b["romfs"]) for b in rom) == 79
# every board of the tree, ROMFS or not (PYBV11 and the NUCLEO boards have none)
geo = [b for b in d["boards"] if not b["romfs"]]
assert all(b.get("romfs_option") for b in geo if b["port"] in ("rp2", "esp32"))
assert {"rp2", "esp32", "stm32"} <= {b["port"] for b in geo}
assert {"PYBV11", "NUCLEO_F446RE", "NUCLEO_H743ZI2", "MIMXRT1050_EVK", "ADAFRUIT_QTPY_SAMD21"} <= set(B)
# each with its flash map (devices and areas), where the tree gives one
for b in d["boards"]:
    if b["port"] in ("stm32", "samd", "nrf", "mimxrt", "renesas-ra", "alif"):
        assert b.get("devices") and b.get("map"), b["board"]
        assert any(a["kind"] == "firmware" for a in b["map"]), b["board"]
    for a in b.get("map", []):
        assert a.get("source"), (b["board"], a)
assert d["micropython"]["commit"].startswith("1c3c201")
def part(name, i=0, core=None):
    ps = [p for p in B[name]["romfs"] if p["index"] == i and p.get("core") == core]
    assert len(ps) == 1, (name, i, core)
    return int(ps[0]["start"], 16), int(ps[0]["size"], 16)
K = 1024
for b in rom:
    if b["port"] == "mimxrt":
        want = 512 * K if b["board"] in ("MIMXRT1170_EVK", "SEEED_ARCH_MIX") else 256 * K
        assert part(b["board"])[1] == want, b["board"]
assert B["MIMXRT1050_EVK"]["romfs"] == []   # MICROPY_HW_ROMFS_BYTES = 0 (Hyperflash)
for b in rom:
    if b["port"] != "samd":
        continue
    s, z = part(b["board"])
    if b["mcu"].startswith("SAMD21"):
        assert z == 12 * K and s + z == 256 * K, b   # the upper end of the 256K flash
    elif b["mcu"].startswith("SAMD51") and b["mcu"][7:9] == "19":
        assert z == 64 * K, b
    elif b["mcu"].startswith("SAMD51") and b["mcu"][7:9] == "20":
        assert z == 256 * K, b
    else:
        raise AssertionError(b["mcu"])
for name, kib in {"EK_RA4M1": 12, "RA4M1_CLICKER": 12, "EK_RA4W1": 64, "EK_RA6M1": 64, "EK_RA6M2": 256,
                  "VK_RA6M5": 384, "ARDUINO_PORTENTA_C33": 256}.items():
    assert part(name)[1] == kib * K, name
nrf = {"NRF51822": 12, "NRF52832": 128, "NRF52840": 256, "NRF9160": 256}
for b in rom:
    if b["port"] == "nrf":
        assert part(b["board"])[1] == nrf[b["mcu"]] * K, b["board"]
assert part("ALIF_ENSEMBLE", 0, "M55_HP") == (0xc1000000, 16 << 20)
assert part("ALIF_ENSEMBLE", 1, "M55_HP") == part("ALIF_ENSEMBLE", 0, "M55_HE") == (0x8047e000, 1 << 20)
assert part("ESP8266_GENERIC-FLASH_2M_ROMFS") == (0x402b0000, 0x50000)
assert part("PYBD_SF2") == (0x90100000, 0x100000)
# the binary's embedded copy lists the same boards in the same order
assert [(b["board"], b["port"]) for b in emb] == [(b["board"], b["port"]) for b in d["boards"]]
PY
    # ... and holds every board's entry as this file does: each board shown from the
    # embedded copy and from the committed file gives the same bytes.
    python3 -c 'import json; [print(b["board"]) for b in json.load(open("out.txt"))]' > names.txt
    [ "$(wc -l < names.txt)" -gt 100 ] || fail "too few boards listed"
    while read -r name; do
        "$ROMFS" boards show "$name" --json > emb.json
        "$ROMFS" boards show "$name" --json --db "$ROMFS_SOURCE_DIR/boards.json" > com.json
        cmp -s emb.json com.json || fail "board $name: the embedded boards.json differs from the committed one"
    done < names.txt
}

boards_usage_errors() {
    expect_exit 2 "$ROMFS" boards frobnicate
    expect_exit 2 "$ROMFS" boards show
    expect_exit 2 "$ROMFS" boards import /nonexistent-tree
    expect_stderr "not a MicroPython source tree"
    expect_exit 0 "$ROMFS" boards --help
    expect_stdout "romfs boards lint"
}

# Every command looks boards up the same way: a misspelt name gets the closest board and
# a pointer to the list, and nothing else happens.
misspelt_board_gets_a_suggestion_everywhere() {
    mkdir app && echo x > app/a.txt
    "$ROMFS" pack app -o app.romfs
    for cmd in "boards show PYBD_SF22" "check app.romfs --board PYBD_SF22" \
               "layout --board PYBD_SF22 --romfs-size 64K" "flash app.romfs --board PYBD_SF22" \
               "ci app.romfs --board PYBD_SF22" "convert app.romfs --board PYBD_SF22 --uf2 x.uf2"; do
        # shellcheck disable=SC2086
        expect_exit 2 "$ROMFS" $cmd
        expect_stderr "unknown board 'PYBD_SF22' (did you mean 'PYBD_SF2'?)"
        expect_stderr "hint: 'romfs boards list' shows every board"
    done
    expect_exit 2 "$ROMFS" boards show pybd-sf2
    expect_stderr "did you mean 'PYBD_SF2'?"
    assert_file_absent x.uf2
}

# A board without a ROMFS partition (PYBV11) is known to every command, and each says so
# instead of failing on a missing partition; boards list marks and filters by ROMFS.
board_without_romfs_is_named_clearly_everywhere() {
    mkdir app && echo x > app/a.txt
    "$ROMFS" pack app -o app.romfs
    expect_exit 2 "$ROMFS" check app.romfs --board PYBV11
    expect_stderr "board PYBV11 has no ROMFS partition in its default build"
    expect_exit 2 "$ROMFS" flash app.romfs --board PYBV11 --port /dev/null
    expect_stderr "board PYBV11 has no ROMFS partition in its default build"
    expect_exit 2 "$ROMFS" convert app.romfs --board PYBV11 --uf2 x.uf2
    expect_stderr "board PYBV11 has no ROMFS partition 0 in boards.json (none in its default build)"
    assert_file_absent x.uf2
    expect_exit 1 "$ROMFS" ci app.romfs --board PYBV11
    expect_stdout "board PYBV11 has no ROMFS partition in its default build"
    expect_exit 2 "$ROMFS" sim --board PYBV11
    expect_stderr "board PYBV11 has no ROMFS partition in its default build, so there is none to simulate"
    expect_exit 0 "$ROMFS" boards show PYBV11
    expect_stdout "firmware:"
    expect_exit 0 "$ROMFS" boards list --port stm32
    grep -q "^stm32 *PYBV11 *STM32F405 *no$" out.txt || fail "PYBV11 not listed as without ROMFS: $(grep PYBV11 out.txt)"
    grep -q "^stm32 *PYBD_SF2 *STM32F722 *yes *part0@0x90100000" out.txt || fail "$(grep PYBD_SF2 out.txt)"
    expect_exit 0 "$ROMFS" boards list --port rp2
    grep -q "^rp2 *RPI_PICO *RP2040 *option$" out.txt || fail "$(grep 'RPI_PICO ' out.txt)"
    expect_exit 0 "$ROMFS" boards list --romfs
    ! grep -q "PYBV11\|RPI_PICO " out.txt || fail "--romfs lists a board without ROMFS"
    [ "$(wc -l < out.txt)" = 75 ] || fail "$(wc -l < out.txt) boards with ROMFS, expected 75"
    expect_exit 0 "$ROMFS" boards list --romfs --json
    python3 -c 'import json; l = json.load(open("out.txt")); assert l and all(b["romfs"] == "yes" for b in l), l[:3]'
}

t lint_catches_vk_ra6m5_romfs_overrun
t board_without_romfs_is_named_clearly_everywhere
t misspelt_board_gets_a_suggestion_everywhere
t lint_catches_portenta_c33_firmware_on_bootloader
t lint_fixed_layout_is_clean
t committed_boards_json_has_the_issue_facts
t import_matches_committed_boards_json_if_MICROPYTHON_TREE
t boards_usage_errors
