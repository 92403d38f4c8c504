#!/usr/bin/env bash
# test_boards_map.sh: `romfs boards show` drawing a board's flash map (terminal bar, SVG,
# JSON) and `romfs boards lint` on the map, over a fixture database
# (tests/fixtures/boards/flash_maps.json).
. "$(dirname "$0")/lib.sh"
DB="$FIXTURES/boards/flash_maps.json"

show_draws_one_bar_per_device() {
    expect_exit 0 "$ROMFS" boards show MAP_GOOD --db "$DB"
    expect_stdout "flash map:"
    # three devices, each with a header, a bar, the start and end under it
    [ "$(grep -c '^  |.*|$' out.txt)" = 3 ] || fail "not three bars: $(cat out.txt)"
    expect_stdout "  internal: 0x08000000..0x08080000, 512 KiB, erase 128 KiB, memory-mapped  (f722_qspi.ld:21: FLASH)"
    expect_stdout "  spi: offsets 0x00000000..0x00200000, 2 MiB, erase 4 KiB, not memory-mapped"
    # every area with its letter, kind, name, addresses, size and source; free space too
    expect_stdout "   a bootloader   mboot                0x08000000..0x08008000    32 KiB  f722_qspi.ld:21: FLASH"
    expect_stdout "   b romfs part0  FLASH_ROMFS          0x90100000..0x90200000     1 MiB  f722_qspi.ld:24: FLASH_ROMFS"
    expect_stdout "   . free                              0x08078000..0x08080000    32 KiB"
    # plain characters when not on a terminal: no escape sequences
    ! grep -q $'\033' out.txt || fail "colour written to a pipe"
    # the bar is in proportion: the 448 KiB firmware takes about 14 times the 32 KiB mboot
    bar=$(grep -m1 '^  |' out.txt)
    fw=$(printf '%s' "$bar" | tr -cd '=' | wc -c)
    bl=$(printf '%s' "$bar" | tr -cd '#' | wc -c)
    [ "$fw" -gt $((bl * 8)) ] || fail "firmware $fw columns, bootloader $bl: $bar"
    [ "${#bar}" -le 80 ] || fail "bar wider than the 80 columns of a pipe: ${#bar}"
}

show_marks_overlaps_and_empty_filesystems() {
    expect_exit 0 "$ROMFS" boards show MAP_ROMFS_ON_FS --db "$DB"
    grep -q '^  |X*overlap a+bX*|$' out.txt || fail "overlap not drawn: $(cat out.txt)"
    expect_exit 0 "$ROMFS" boards show MAP_FS_SQUEEZED --db "$DB"
    expect_stdout "   d fs           flash_fs             0x00100000..0x00100000  0 (none)  samd_flash"
}

show_draws_one_romfs_two_cores_share_as_one() {
    expect_exit 0 "$ROMFS" boards show MAP_TWO_CORES --db "$DB"
    bar=$(grep -m1 '^  |' out.txt)
    case $bar in *X*) fail "a shared ROMFS drawn as an overlap: $bar" ;; esac
    case $bar in *d:romfs0*) ;; *) fail "shared ROMFS not labelled: $bar" ;; esac
    expect_stdout "   e romfs part1  romfs1               0x8047e000..0x8057e000     1 MiB  core M55_HP"
    expect_exit 0 "$ROMFS" boards lint --db "$DB" --port alif
    expect_stdout "1 board checked: 0 errors, 0 warnings"
}

show_colours_only_a_terminal_and_respects_no_color() {
    command -v script >/dev/null || skip "script(1) is not installed (it gives the command a terminal)"
    COLUMNS=100 script -qec "$ROMFS boards show MAP_GOOD --db $DB" /dev/null > tty.txt
    grep -q $'\033\\[97;45m' tty.txt || fail "no colour on a terminal: $(head -c 600 tty.txt)"
    NO_COLOR=1 COLUMNS=100 script -qec "$ROMFS boards show MAP_GOOD --db $DB" /dev/null > nocolor.txt
    ! grep -q $'\033\\[' nocolor.txt || fail "colour although NO_COLOR is set"
    grep -q '##' nocolor.txt || fail "no plain bar with NO_COLOR"
}

show_without_a_map_says_so() {
    expect_exit 0 "$ROMFS" boards show MAP_NO_MAP --db "$DB"
    expect_stdout "flash map:    not recorded for this board"
}

show_svg_is_valid_deterministic_and_atomic() {
    expect_exit 0 "$ROMFS" boards show MAP_GOOD --db "$DB" --svg a.svg
    expect_stderr "wrote the flash map of MAP_GOOD to a.svg"
    [ ! -s out.txt ] || fail "text printed with --svg"
    expect_exit 0 "$ROMFS" boards show map_good --db "$DB" --svg b.svg
    same_bytes a.svg b.svg
    python3 - a.svg <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
assert root.tag == ns + "svg", root.tag
texts = [t.text for t in root.iter(ns + "text")]
assert any("internal: 0x08000000..0x08080000" in t for t in texts), texts
assert any("FLASH_ROMFS" in t and "0x90100000..0x90200000" in t for t in texts), texts
assert any(t.lstrip().startswith("free") and "0x08078000..0x08080000" in t for t in texts), texts
fills = [r.get("fill") for r in root.iter(ns + "rect")]
for colour in ("#b565a7", "#4a78c2", "#5cb85c", "#f0c040", "#eeeeee"):
    assert colour in fills, (colour, fills)
PY
    # names from the database are text, never markup
    sed 's/"name": "vfs"/"name": "<v\&fs>"/' "$DB" > evil.json
    expect_exit 0 "$ROMFS" boards show MAP_GOOD --db evil.json --svg e.svg
    python3 -c 'import sys, xml.etree.ElementTree as ET; ET.parse("e.svg")'
    grep -q '&lt;v&amp;fs&gt;' e.svg || fail "name not escaped"
    # a failed write leaves nothing behind and says why
    mkdir ro && chmod 555 ro
    if [ "$(id -u)" != 0 ]; then
        expect_exit 1 "$ROMFS" boards show MAP_GOOD --db "$DB" --svg ro/x.svg
        [ -z "$(ls ro)" ] || fail "partial output left: $(ls ro)"
    fi
    expect_exit 2 "$ROMFS" boards show MAP_GOOD --db "$DB" --svg x.svg --json
    expect_stderr "choose one"
    expect_exit 2 "$ROMFS" boards lint --db "$DB" --svg x.svg
    expect_stderr "--svg applies to 'boards show' only"
    assert_file_absent x.svg
    # to standard output
    expect_exit 0 "$ROMFS" boards show MAP_ROMFS_ON_FS --db "$DB" --svg -
    python3 -c 'import xml.etree.ElementTree as ET; ET.parse("out.txt")'
}

show_json_has_devices_areas_and_free_ranges() {
    expect_exit 0 "$ROMFS" boards show MAP_GOOD --db "$DB" --json
    python3 - out.txt <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
assert b["board"] == "MAP_GOOD" and len(b["map"]) == 5, b.keys()   # the board as boards.json has it
m = b["flash_map"]
assert [d["device"] for d in m] == ["internal", "qspi", "spi"], m
internal = m[0]
assert internal["start"] == "0x08000000" and internal["end"] == "0x08080000" and internal["size"] == 512 * 1024
assert [(a["kind"], a["name"], a["start"], a["end"]) for a in internal["areas"]] == [
    ("bootloader", "mboot", "0x08000000", "0x08008000"), ("firmware", "FLASH_APP", "0x08008000", "0x08078000")]
assert internal["free"] == [{"start": "0x08078000", "end": "0x08080000", "size": 32768}], internal["free"]
assert m[1]["areas"][1]["index"] == 0 and m[1]["areas"][1]["source"] == "f722_qspi.ld:24: FLASH_ROMFS"
assert m[2]["mmap"] is False and "base" not in m[2] and m[2]["free"] == []
PY
}

lint_reports_the_map_with_sources() {
    expect_exit 1 "$ROMFS" boards lint --db "$DB"
    expect_stdout "error: MAP_ROMFS_ON_FS: ROMFS part0 (FLASH_QSPI) 0x90000000..0x90100000 (f412_qspi.ld:21: FLASH_QSPI) and filesystem spi_bdev (spibdev) 0x90000000..0x90100000 (mpconfigboard.h:83: MICROPY_HW_BDEV_SPIFLASH_SIZE_BYTES) overlap by 1048576 bytes (1 MiB)"
    expect_stdout "[romfs-on-fs]"
    expect_stdout "error: MAP_FS_SQUEEZED: filesystem flash_fs (samd_flash) at 0x00100000 on internal has no room: 0 bytes"
    expect_stdout "warning: MAP_SMALL_FS: filesystem FLASH_FS (flashbdev) 0x00037000..0x00040000 on internal is 36864 bytes (36 KiB)"
    expect_stdout "6 boards checked: 2 errors, 1 warning"
    ! grep -q MAP_GOOD out.txt || fail "a good map reported"
    expect_exit 1 "$ROMFS" boards lint --db "$DB" --json
    python3 - out.txt <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert (r["boards"], r["errors"], r["warnings"]) == (6, 2, 1), r
f = {x["check"]: x for x in r["findings"]}
o = f["romfs-on-fs"]
assert (o["board"], o["severity"], o["device"], o["address"], o["bytes"]) == (
    "MAP_ROMFS_ON_FS", "error", "qspi", "0x90000000", 1 << 20), o
assert o["source"] == "f412_qspi.ld:21: FLASH_QSPI", o
assert o["other_source"] == "mpconfigboard.h:83: MICROPY_HW_BDEV_SPIFLASH_SIZE_BYTES", o
assert (o["region"], o["other_region"]) == ("FLASH_QSPI", "spi_bdev"), o
assert f["fs-small"]["severity"] == "warning"
PY
}

lint_fs_floor_is_configurable() {
    expect_exit 1 "$ROMFS" boards lint --db "$DB" --fs-floor 32K
    expect_stdout "6 boards checked: 2 errors, 0 warnings"
    expect_exit 1 "$ROMFS" boards lint --db "$DB" --fs-floor 0
    expect_stdout "2 errors, 0 warnings"
    expect_exit 1 "$ROMFS" boards lint --db "$DB" --fs-floor 4M
    expect_stdout "2 errors, 3 warnings"
    expect_stdout "below the 4194304 bytes (4 MiB) floor"
    expect_exit 2 "$ROMFS" boards lint --db "$DB" --fs-floor lots
    expect_exit 2 "$ROMFS" boards show MAP_GOOD --db "$DB" --fs-floor 1K
    expect_stderr "--fs-floor applies to 'boards lint' only"
    # only the boards of one port
    expect_exit 0 "$ROMFS" boards lint --db "$DB" --port renesas-ra --fs-floor 32K
    expect_stdout "1 board checked: 0 errors, 0 warnings"
}

# The built-in boards.json is MicroPython 1c3c201's: lint reports there exactly the findings
# reviewed one by one (each with its file:line evidence), and nothing else: a new finding or
# a lost one fails here until it is reviewed.
lint_on_the_built_in_tree_reports_the_reviewed_findings() {
    expect_exit 1 "$ROMFS" boards lint --json
    python3 - out.txt <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
got = sorted((f["severity"], f["board"], f["check"]) for f in r["findings"])
want = sorted([
    # errors: the layout destroys data or cannot work
    ("error", "ARDUINO_NANO_33_BLE_SENSE", "romfs-on-bootloader"),   # ROMFS over the relocated bootloader at 0xE0000
    ("error", "SAMD_GENERIC_D51X20", "fs-no-room"),                  # 1024K - 752K - 16K - 256K = 0
    ("error", "GARATRONIC_PYMATE_CORE8ADI8DOSC", "romfs-on-fs"),     # ROMFS and spi_bdev: the same 1 MiB
    ("error", "WEACTSTUDIO_MINI_STM32H723", "past-device-end"),      # 8 MiB ROMFS, OSPI set up as 1 MiB
    # warnings: a larger firmware, or a small filesystem
    ("warning", "LEGO_HUB_NO6", "past-device-end"), ("warning", "LEGO_HUB_NO7", "past-device-end"),
    ("warning", "VCC_GND_F407VE", "past-device-end"),
    ("warning", "NUCLEO_H7A3ZI_Q", "fs-overlaps-firmware"), ("warning", "NUCLEO_L152RE", "fs-overlaps-firmware"),
    ("warning", "NUCLEO_U5A5ZJ_Q", "fs-overlaps-firmware"), ("warning", "NUCLEO_WL55", "fs-overlaps-firmware"),
    ("warning", "WEACTSTUDIO_MINI_STM32U585", "fs-overlaps-firmware"),
    ("warning", "EK_RA4M1", "fs-small"), ("warning", "RA4M1_CLICKER", "fs-small"),
    ("warning", "NUCLEO_F091RC", "fs-small"), ("warning", "NUCLEO_L432KC", "fs-small"),
    ("warning", "NUCLEO_WL55", "fs-small"),
])
assert got == want, "\n".join(["new: %r" % (x,) for x in got if x not in want] +
                              ["gone: %r" % (x,) for x in want if x not in got])
assert r["boards"] == 245, r["boards"]
for f in r["findings"]:   # each names its sources
    assert f["source"] and f["device"], f
PY
}

t lint_on_the_built_in_tree_reports_the_reviewed_findings
t show_draws_one_bar_per_device
t show_marks_overlaps_and_empty_filesystems
t show_draws_one_romfs_two_cores_share_as_one
t show_colours_only_a_terminal_and_respects_no_color
t show_without_a_map_says_so
t show_svg_is_valid_deterministic_and_atomic
t show_json_has_devices_areas_and_free_ranges
t lint_reports_the_map_with_sources
t lint_fs_floor_is_configurable
