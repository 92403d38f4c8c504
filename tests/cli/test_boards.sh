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

# Needs a MicroPython tree at commit 1c3c201: prints SKIP (never PASS) without one.
import_matches_committed_boards_json_if_MICROPYTHON_TREE() {
    if [ -z "${MICROPYTHON_TREE:-}" ]; then echo "SKIP: MICROPYTHON_TREE not set" >&2; return 0; fi
    "$ROMFS" boards import "$MICROPYTHON_TREE" --commit 1c3c201 -o got.json
    same_bytes got.json "$ROMFS_SOURCE_DIR/boards.json"
}

boards_usage_errors() {
    expect_exit 2 "$ROMFS" boards frobnicate
    expect_exit 2 "$ROMFS" boards show
    expect_exit 2 "$ROMFS" boards import /nonexistent-tree
    expect_stderr "not a MicroPython source tree"
    expect_exit 0 "$ROMFS" boards --help
    expect_stdout "romfs boards lint"
}

t lint_catches_vk_ra6m5_romfs_overrun
t lint_catches_portenta_c33_firmware_on_bootloader
t lint_fixed_layout_is_clean
if [ -n "${MICROPYTHON_TREE:-}" ]; then t import_matches_committed_boards_json_if_MICROPYTHON_TREE
else echo "SKIP import_matches_committed_boards_json_if_MICROPYTHON_TREE (MICROPYTHON_TREE not set)"; fi
t boards_usage_errors
