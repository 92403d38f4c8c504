#!/bin/bash
# romfs layout: plans on fixture boards (the older fields: tests/fixtures/check; flash
# maps of each port family: tests/fixtures/layout) and on the built-in boards.json. Each
# port's configuration is proven by its consumer: MEMORY fragments and samd's values are
# linked by arm-none-eabi-ld, esp32's partition table is read back by romfs's own table
# reader, and with $MICROPYTHON_TREE the ports' own linker scripts are linked with the
# planned values.
. "$(dirname "$0")/lib.sh"
CHK="$FIXTURES/check"
MAPS="$FIXTURES/layout/boards.json"
export ROMFS_BOARDS="$CHK/boards.json"

need_arm() { command -v arm-none-eabi-ld >/dev/null || { echo "arm-none-eabi-ld missing" >&2; return 1; }; }

# link_fragment FRAG TEXT_REGION FS_REGION: link FRAG with ld, print "name origin length" per
# region as the linker computes them, and the two romfs symbols.
link_fragment() {
    local frag=$1 text=$2 fs=$3
    {
        echo "INCLUDE $frag"
        echo "SECTIONS { .text : { *(.text*) } > $text }"
        echo "l_text_o = ORIGIN($text); l_text_l = LENGTH($text);"
        echo "l_romfs_o = ORIGIN(FLASH_ROMFS); l_romfs_l = LENGTH(FLASH_ROMFS);"
        [ -n "$fs" ] && echo "l_fs_o = ORIGIN($fs); l_fs_l = LENGTH($fs);"
    } > wrap.ld
    [ -f code.o ] || arm-none-eabi-as /dev/null -o code.o
    arm-none-eabi-ld -T wrap.ld code.o -o linked.elf
    arm-none-eabi-nm linked.elf | while read -r value type name; do
        case $name in l_*|_micropy_hw_romfs*) echo "$name $((16#$value))" ;; esac
    done | sort
}

layout_nrf_links_as_claimed() {
    need_arm
    expect_exit 0 "$ROMFS" layout --board FIX_NRF52840 --romfs-size 256K --fs-size 64K --firmware-size 0x5A123 -o frag.ld
    expect_exit 0 "$ROMFS" layout --board FIX_NRF52840 --romfs-size 256K --fs-size 64K --firmware-size 0x5A123 --json
    cp out.txt plan.json
    link_fragment frag.ld FLASH_TEXT FLASH_USER > syms.txt
    python3 - plan.json syms.txt <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
s = dict(line.split() for line in open(sys.argv[2]))
s = {k: int(v) for k, v in s.items()}
fw, ro, fs = p["firmware"], p["romfs"], p["filesystem"]
# The linker sees exactly the regions the plan claims.
assert (s["l_text_o"], s["l_text_l"]) == (fw["start"], fw["size"]), s
assert (s["l_romfs_o"], s["l_romfs_l"]) == (ro["start"], ro["size"]), s
assert (s["l_fs_o"], s["l_fs_l"]) == (fs["start"], fs["size"]), s
assert (s["_micropy_hw_romfs_part0_start"], s["_micropy_hw_romfs_part0_size"]) == (ro["start"], ro["size"])
# Hand-worked: fs 0xF0000+64K, ROMFS 0xB0000+256K, firmware 0x1000..0xB0000, the firmware
# (0x1000 + 0x5A123 = 0x5B123, rounded to 0x5C000) leaves 0x54000 to grow.
assert (fs["start"], ro["start"], ro["size"], fw["start"], fw["size"]) == (0xF0000, 0xB0000, 0x40000, 0x1000, 0xAF000)
assert fw["used"] == 0x5A123 and fw["free"] == 0x54000
# Contiguous, in order, on 4K erase blocks, to the end of flash.
assert fw["end"] == ro["start"] and ro["end"] == fs["start"] and fs["end"] == p["flash_end"] == 0x100000
assert ro["start"] % 4096 == 0 and fs["start"] % 4096 == 0
PY
}

layout_refuses_with_shortfall() {
    expect_exit 1 "$ROMFS" layout --board FIX_NRF52840 --romfs-size 640K --fs-size 64K --firmware-size 0x5A123
    expect_stderr "does not fit by 49152 bytes"
    assert_eq "$(cat out.txt)" ""
    # Keeping the filesystem, the measured firmware (up to 0x5C000) leaves 0x94000 below it.
    expect_exit 0 "$ROMFS" layout --board FIX_NRF52840 --romfs-size 0x94000 --firmware-size 0x5A123
    expect_exit 1 "$ROMFS" layout --board FIX_NRF52840 --romfs-size 0x95000 --firmware-size 0x5A123
    expect_stderr "board FIX_NRF52840: does not fit by 4096 bytes"
    expect_stderr "device internal (0x00000000..0x00100000)"
    expect_stderr "A ROMFS of at most 592K fits"
    expect_stderr "moving the filesystem FLASH_USER at 0x000f0000, 64K, which must then be reformatted"
    # Not measured, the firmware region may shrink: the plan and a note say so.
    expect_exit 0 "$ROMFS" layout --board FIX_NRF52840 --romfs-size 260K
    expect_stdout "shrinks from 700K"
    expect_stderr "size was not measured"
    expect_exit 1 "$ROMFS" layout --board FIX_NRF52840 --romfs-size 640K --fs-size 64K --firmware-size 0x5A123 -o never.ld
    assert_file_absent never.ld
}

layout_stm32_sectors() {
    need_arm
    # 1 MiB with sectors 4x16K, 64K, 7x128K; 252K of firmware ends in the first 128K
    # sector; a 100K ROMFS takes the whole last 128K sector.
    expect_exit 0 "$ROMFS" layout --board FIX_STM32F4 --romfs-size 100K --firmware-size 0x3F000 --json
    python3 - out.txt <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
assert p["filesystem"] is None
assert (p["romfs"]["start"], p["romfs"]["size"], p["romfs"]["erase_block"]) == (0x080E0000, 0x20000, 0x20000), p
assert p["firmware"]["free"] == 0x080E0000 - 0x08040000
PY
    expect_exit 0 "$ROMFS" layout --board FIX_STM32F4 --romfs-size 100K --firmware-size 0x3F000 -o f4.ld
    grep -q FLASH_FS f4.ld && fail "filesystem region in a layout without one"
    link_fragment f4.ld FLASH_TEXT "" > syms.txt
    grep -qx "l_romfs_o $((0x080E0000))" syms.txt || fail "$(cat syms.txt)"
    grep -qx "_micropy_hw_romfs_part0_size $((0x20000))" syms.txt || fail "$(cat syms.txt)"
    # One byte more than 768K needs one more 128K sector than there is.
    expect_exit 1 "$ROMFS" layout --board FIX_STM32F4 --romfs-size $((0xC0001)) --firmware-size 0x3F000
    expect_stderr "does not fit by 131072 bytes"
}

layout_rp2_plans_a_partition() {
    # rp2 has no ROMFS by default: layout plans one for a MICROPY_HW_ROMFS_BYTES build.
    expect_exit 0 "$ROMFS" layout --board FIX_RP2 --romfs-size 128K --firmware-size 600K --json
    python3 - out.txt <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
assert (p["romfs"]["start"], p["romfs"]["size"]) == (0x10200000 - 0x20000, 0x20000), p
PY
}

layout_from_elf() {
    need_arm
    # A firmware whose flash text is 0x5A123 bytes from 0x1000 (code + initialised data).
    printf '.text\n.space 0x5A000\n.data\n.space 0x123\n' > fw.s
    cat > fw.ld <<'LD'
MEMORY { FLASH (rx) : ORIGIN = 0x1000, LENGTH = 0xFF000
         RAM (rwx)  : ORIGIN = 0x20000000, LENGTH = 256K }
SECTIONS { .text : { *(.text*) } > FLASH
           .data : { *(.data*) } > RAM AT > FLASH }
LD
    arm-none-eabi-as fw.s -o fw.o
    arm-none-eabi-ld -T fw.ld fw.o -o fw.elf
    expect_exit 0 "$ROMFS" layout --board FIX_NRF52840 --romfs-size 256K --fs-size 64K --elf fw.elf --json
    python3 - out.txt <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
assert p["firmware"]["used"] == 0x5A123, p["firmware"]
assert p["firmware"]["free"] == 0xB0000 - 0x5C000
assert "fw.elf" in p["firmware"]["used_source"]
PY
    expect_exit 1 "$ROMFS" layout --board FIX_NRF52840 --romfs-size 640K --fs-size 64K --elf fw.elf
    expect_stderr "does not fit by 49152 bytes"
    expect_exit 2 "$ROMFS" layout --board FIX_NRF52840 --romfs-size 256K --elf missing.elf
}

# On the real boards.json (embedded; $MPBOARDS may name another): asked for the size each
# board's ROMFS has today, with the firmware at its linker-script size, layout must
# propose exactly MicroPython's own placement wherever MicroPython puts the ROMFS below
# the filesystem in main flash (every such board at 1c3c201).
layout_reproduces_micropython_layouts() {
    ROMFS_BOARDS=${MPBOARDS:-} python3 - "$ROMFS" <<'PY'
import json, os, subprocess, sys
romfs = sys.argv[1]
env = dict(os.environ)
if not env.get("ROMFS_BOARDS"):
    env.pop("ROMFS_BOARDS", None)
db = json.loads(subprocess.run([romfs, "boards", "list", "--json"], env=env, capture_output=True,
                               check=True).stdout)
boards = db["boards"] if isinstance(db, dict) else db
names = [b["board"] if isinstance(b, dict) else b for b in boards]
checked = clashes = 0
for name in names:
    show = json.loads(subprocess.run([romfs, "boards", "show", name, "--json"], env=env,
                                     capture_output=True, check=True).stdout)
    parts, flash, fs = show.get("romfs") or [], show.get("flash") or {}, show.get("fs") or {}
    if not parts or not flash.get("size"):
        continue
    num = lambda v: int(str(v), 0)
    p0 = parts[0]
    base, size = num(flash["base"]), num(flash["size"])
    start = num(p0["start"])
    if not (base <= start < base + size):
        continue
    if fs.get("size") and num(fs["start"]) < start:
        continue      # filesystem below the ROMFS: not this tool's convention
    r = subprocess.run([romfs, "layout", "--board", name, "--romfs-size", str(num(p0["size"])), "--json"],
                       env=env, capture_output=True, text=True)
    # Where the board's flash map puts another area over MicroPython's own ROMFS (a
    # bootloader relocated to the end of flash: ARDUINO_NANO_33_BLE_SENSE), layout does not
    # repeat the clash: it refuses and names what lies in the way.
    clash = [a for a in show.get("map", []) if a["kind"] not in ("firmware", "romfs", "fs")
             and num(a["start"]) < start + num(p0["size"]) and num(a["start"]) + num(a["size"]) > start]
    if clash:
        assert r.returncode == 1 and clash[0]["name"] in r.stderr, (name, r.stderr)
        clashes += 1
        continue
    assert r.returncode == 0, (name, r.stderr)
    plan = json.loads(r.stdout)
    assert (plan["romfs"]["start"], plan["romfs"]["size"]) == (start, num(p0["size"])), (name, plan["romfs"], p0)
    checked += 1
print("layouts reproduced:", checked, "refused where the map shows a clash:", clashes)
if names:
    assert checked > 0
PY
}

layout_usage_errors() {
    expect_exit 2 "$ROMFS" layout --romfs-size 1M
    expect_stderr "--board"
    expect_exit 2 "$ROMFS" layout --board FIX_NRF52840
    expect_stderr "--romfs-size"
    expect_exit 2 "$ROMFS" layout --board FIX_NRF52840 --romfs-size lots
    expect_exit 2 "$ROMFS" layout --board NOPE --romfs-size 1M
    expect_stderr "unknown board 'NOPE'"
    expect_exit 2 "$ROMFS" layout --board FIX_NOMMAP --romfs-size 1M
    expect_stderr "no flash geometry"
    expect_exit 2 "$ROMFS" layout --board FIX_NRF52840 --romfs-size 64K --align 3
    expect_exit 0 "$ROMFS" layout --help
    expect_stdout "MEMORY"
}

# Every board in the built-in database: keeping its filesystem (the default), a 64K
# ROMFS is planned or refused for a reason its data gives. A plan never touches the
# filesystem, and its configuration says what the plan says: ld fragments link with the
# romfs symbols where the plan puts them, rp2's value is the ROMFS size and the ROMFS ends
# at the filesystem, samd's CODESIZE is where the ROMFS starts, esp32's table rows hold it.
layout_every_board_in_its_own_terms() {
    need_arm
    unset ROMFS_BOARDS
    arm-none-eabi-as /dev/null -o code.o
    printf 'INCLUDE frag.ld\nSECTIONS { .text : { *(.text) } }\n' > wrap.ld
    "$ROMFS" boards list > boards.txt
    awk '{print $2}' boards.txt > names.txt
    [ "$(wc -l < names.txt)" -gt 100 ] || fail "too few boards listed"
    python3 - "$ROMFS" names.txt <<'PY'
import json, os, re, subprocess, sys
romfs, names = sys.argv[1], open(sys.argv[2]).read().split()
count = {"ld": 0, "cmake": 0, "make": 0, "csv": 0, "refused": 0}
for b in names:
    r = subprocess.run([romfs, "layout", "--board", b, "--romfs-size", "64K", "--json"], capture_output=True, text=True)
    if r.returncode == 1:
        assert re.search(r"board %s: does not fit by \d+ bytes: no room" % re.escape(b), r.stderr) or \
               "filesystem alone" in r.stderr, (b, r.stderr)
        count["refused"] += 1
        continue
    if r.returncode == 2:
        assert re.search(r"board %s( has no flash geometry|: firmware size unknown|: boards.json has no flash map)"
                         % re.escape(b), r.stderr), (b, r.stderr)
        count["refused"] += 1
        continue
    assert r.returncode == 0, (b, r.returncode, r.stderr)
    p = json.loads(r.stdout)
    fs, ro, conf = p["filesystem"], p["romfs"], p["config"]
    assert not p["filesystem_reformat"], b
    if fs:
        assert (fs["start"], fs["size"]) == (fs["before"]["start"], fs["before"]["size"]), (b, fs)
    assert ro["size"] >= 65536, (b, ro)
    fmt, values, text = conf["format"], conf["values"], conf["text"]
    if fmt == "ld":
        open("frag.ld", "w").write(text)
        subprocess.run(["arm-none-eabi-ld", "-T", "wrap.ld", "code.o", "-o", "linked.elf"], check=True)
        nm = subprocess.run(["arm-none-eabi-nm", "linked.elf"], capture_output=True, text=True, check=True).stdout
        syms = {l.split()[2]: int(l.split()[0], 16) for l in nm.splitlines() if len(l.split()) == 3}
        assert (syms["_micropy_hw_romfs_part0_start"], syms["_micropy_hw_romfs_part0_size"]) == \
               (ro["start"], ro["size"]), (b, syms, ro)
    elif fmt == "cmake":
        assert values["MICROPY_HW_ROMFS_BYTES"] == ro["size"] and ro["size"] % 4096 == 0, (b, values)
        assert "set(MICROPY_HW_ROMFS_BYTES %d)" % ro["size"] in text, b
        assert "MEMORY" not in text, b
        assert ro["end"] == fs["start"] and p["firmware"]["end"] == ro["start"], (b, p)
    elif fmt == "make":
        codesize = values["MICROPY_HW_CODESIZE"]
        assert codesize % 1024 == 0 and ro["start"] == p["firmware"]["start"] + codesize, (b, values, ro)
        assert "MICROPY_HW_CODESIZE ?= %dK" % (codesize // 1024) in text, b
    else:
        rows = [row for row in values["partitions"] if row["name"] == "romfs"]
        assert rows and (rows[0]["offset"], rows[0]["size"]) == (ro["start"], ro["size"]), (b, values)
    count[fmt] += 1
print("planned in their own terms:", count)
assert count["ld"] >= 50 and count["cmake"] >= 5 and count["make"] >= 5, count
PY
}

# link_symbols FRAG: link FRAG (a fragment the plan printed) alone, print "name value" for
# the romfs symbols and ORIGIN/LENGTH of the regions named in $REGIONS.
link_symbols() {
    local frag=$1
    {
        echo "INCLUDE $frag"
        echo "SECTIONS { .text : { *(.text*) } }"
        for r in $REGIONS; do echo "l_${r}_o = ORIGIN($r); l_${r}_l = LENGTH($r);"; done
    } > wrap.ld
    [ -f code.o ] || arm-none-eabi-as /dev/null -o code.o
    arm-none-eabi-ld -T wrap.ld code.o -o linked.elf
    arm-none-eabi-nm linked.elf | while read -r value type name; do
        case $name in l_*|_micropy_hw_romfs*) echo "$name $((16#$value))" ;; esac
    done | sort
}

# want_sym FILE NAME VALUE
want_sym() { grep -qx "$2 $(($3))" "$1" || fail "$2 is not $3: $(cat "$1")"; }

# tiny_elf NAME ORIGIN TEXT_BYTES: a firmware whose code and initialised data end TEXT_BYTES
# after ORIGIN, with a vector table at 0x08000000 that the measure must leave out.
tiny_elf() {
    printf '.section .isr_vector,"a"\n.space 0x400\n.text\n.space %d\n.data\n.space 0x100\n' $(($3 - 0x100)) > "$1.s"
    cat > "$1.ld" <<LD
MEMORY { ISR (rx) : ORIGIN = 0x08000000, LENGTH = 16K
         FLASH (rx) : ORIGIN = $2, LENGTH = 1M
         RAM (rwx) : ORIGIN = 0x20000000, LENGTH = 128K }
SECTIONS { .isr_vector : { *(.isr_vector) } > ISR
           .text : { *(.text*) } > FLASH
           .data : { *(.data*) } > RAM AT > FLASH }
LD
    arm-none-eabi-as "$1.s" -o "$1.o"
    arm-none-eabi-ld -T "$1.ld" "$1.o" -o "$1.elf"
}

# stm32 (NUCLEO_F446RE's map): nothing free but part of the filesystem's sector, so a
# ROMFS comes from the firmware's tail, in whole 128K sectors; the filesystem stays.
layout_stm32_map_links_as_planned() {
    need_arm
    export ROMFS_BOARDS="$MAPS" REGIONS="FLASH_TEXT FLASH_ROMFS FLASH_FS"
    expect_exit 0 "$ROMFS" layout --board MAP_F446 --romfs-size 128K -o frag.ld
    expect_stderr "size was not measured"
    link_symbols frag.ld > syms.txt
    want_sym syms.txt _micropy_hw_romfs_part0_start 0x08060000
    want_sym syms.txt _micropy_hw_romfs_part0_size 0x20000
    want_sym syms.txt l_FLASH_TEXT_o 0x08020000
    want_sym syms.txt l_FLASH_TEXT_l 0x40000
    want_sym syms.txt l_FLASH_FS_o 0x08004000
    want_sym syms.txt l_FLASH_FS_l 0x10000
    grep -q "shrinks from 384K" frag.ld || fail "the fragment does not say the firmware shrinks"
    # A built firmware of 200K (from 0x08020000) ends in sector 6 and keeps all of it.
    tiny_elf fw200 0x08020000 $((200 * 1024))
    expect_exit 0 "$ROMFS" layout --board MAP_F446 --romfs-size 128K --elf fw200.elf --json
    python3 - out.txt <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
fw = p["firmware"]
assert fw["measured"] and fw["used"] == 200 * 1024 and fw["free"] == 0, fw
assert "fw200.elf" in fw["used_source"] and "0x08052000" in fw["used_source"], fw
assert (p["romfs"]["start"], p["romfs"]["size"]) == (0x08060000, 0x20000), p["romfs"]
assert p["taken_from"] == "firmware" and not p["filesystem_reformat"]
PY
    # 300K reaches into sector 7: refused, saying where things are and what would help.
    tiny_elf fw300 0x08020000 $((300 * 1024))
    expect_exit 1 "$ROMFS" layout --board MAP_F446 --romfs-size 128K --elf fw300.elf -o never.ld
    assert_file_absent never.ld
    expect_stderr "board MAP_F446: does not fit by"
    expect_stderr "on device internal (0x08000000..0x08080000)"
    expect_stderr "free: 0x08014000..0x08020000 (48K)"
    expect_stderr "the firmware FLASH_TEXT (0x08020000..0x08080000) needs up to 0x08080000 (fw300.elf"
    expect_stderr "a filesystem size (moving the filesystem FLASH_FS at 0x08004000, 64K, which must then be reformatted"
    # With a margin of 56K the 200K firmware still ends in sector 6; with 57K it needs sector 7.
    expect_exit 0 "$ROMFS" layout --board MAP_F446 --romfs-size 128K --elf fw200.elf --headroom 56K
    expect_exit 1 "$ROMFS" layout --board MAP_F446 --romfs-size 128K --elf fw200.elf --headroom 57K
    expect_stderr "does not fit by 131072 bytes"
}

# --fs-size moves the filesystem and says so loudly; the default never does.
layout_fs_size_says_reformat() {
    need_arm
    export ROMFS_BOARDS="$MAPS" REGIONS="FLASH_TEXT FLASH_ROMFS FLASH_FS"
    expect_exit 0 "$ROMFS" layout --board MAP_F446 --romfs-size 64K --fs-size 16K -o frag.ld
    expect_stderr "warning: the filesystem FLASH_FS moves"
    expect_stderr "it must be reformatted, and the files on it are lost"
    grep -q "THE FILESYSTEM MOVES: it must be reformatted" frag.ld || fail "the fragment does not say reformat"
    grep -q "REFORMAT, its files are lost" frag.ld || fail "the filesystem line does not say reformat"
    # It keeps its start (the small sectors under the firmware) and frees 96K for ROMFS.
    link_symbols frag.ld > syms.txt
    want_sym syms.txt l_FLASH_FS_o 0x08004000
    want_sym syms.txt l_FLASH_FS_l 0x4000
    want_sym syms.txt _micropy_hw_romfs_part0_start 0x08008000
    want_sym syms.txt _micropy_hw_romfs_part0_size 0x18000
    want_sym syms.txt l_FLASH_TEXT_l 0x60000
    expect_exit 0 "$ROMFS" layout --board MAP_F446 --romfs-size 64K --fs-size 16K --json
    python3 -c 'import json,sys; p=json.load(open("out.txt")); assert p["filesystem_reformat"] and p["taken_from"] == "filesystem", p' 
    # Asked for the size and place it has, nothing moves and nothing is said.
    expect_exit 0 "$ROMFS" layout --board MAP_F446 --romfs-size 128K --fs-size 64K
    ! grep -q "reformat" err.txt || fail "$(cat err.txt)"
    expect_stdout "keeps its start and size"
}

# Every map board and many sizes: keeping the filesystem never changes it.
layout_keep_fs_default_never_touches_fs() {
    export ROMFS_BOARDS="$MAPS"
    python3 - "$ROMFS" <<'PY'
import json, subprocess, sys
romfs = sys.argv[1]
planned = 0
for b in ["MAP_F446", "MAP_PYBD", "MAP_RA6M2", "MAP_NRF", "MAP_PICO", "MAP_ITSYBITSY_M4", "MAP_SAMD51", "MAP_ESP32",
          "MAP_NANO_ESP32"]:
    for k in range(4, 2100, 60):
        r = subprocess.run([romfs, "layout", "--board", b, "--romfs-size", "%dK" % k, "--json"], capture_output=True, text=True)
        if r.returncode == 1:
            assert "board %s: does not fit by" % b in r.stderr, r.stderr
            continue
        assert r.returncode == 0 and "reformat" not in r.stderr, (b, k, r.stderr)
        p = json.loads(r.stdout)
        fs = p["filesystem"]
        assert not p["filesystem_reformat"], (b, k)
        assert fs and (fs["start"], fs["size"]) == (fs["before"]["start"], fs["before"]["size"]), (b, k, fs)
        for a in p["areas"]:
            if a["kind"] != "romfs":
                assert a["kind"] == "firmware" or a["change"] == "same", (b, k, a)
                assert a["start"] + a["size"] <= p["romfs"]["start"] or a["start"] >= p["romfs"]["end"], (b, k, a)
        planned += 1
print("plans keeping the filesystem:", planned)
assert planned > 100, planned
PY
}

# renesas-ra and PYBD-style external QSPI: fragments with the regions the port's scripts use.
layout_ra_and_qspi_link_as_planned() {
    need_arm
    export ROMFS_BOARDS="$MAPS" REGIONS="FLASH FLASH_ROMFS FLASH_FS"
    # EK_RA6M2: 512K from the firmware's tail, ending at the filesystem (8K then 32K blocks).
    expect_exit 0 "$ROMFS" layout --board MAP_RA6M2 --romfs-size 512K -o ra.ld
    link_symbols ra.ld > syms.txt
    want_sym syms.txt l_FLASH_l 0x60000
    want_sym syms.txt _micropy_hw_romfs_part0_start 0x60000
    want_sym syms.txt _micropy_hw_romfs_part0_size 0x80000
    want_sym syms.txt l_FLASH_FS_o 0xE0000
    # A 64K filesystem at the top: ROMFS below it, the firmware gets the rest (0xB0000).
    expect_exit 0 "$ROMFS" layout --board MAP_RA6M2 --romfs-size 256K --fs-size 64K -o ra2.ld
    expect_stderr "must be reformatted"
    link_symbols ra2.ld > syms.txt
    want_sym syms.txt l_FLASH_FS_o 0xF0000
    want_sym syms.txt _micropy_hw_romfs_part0_start 0xB0000
    want_sym syms.txt l_FLASH_l 0xB0000
    # PYBD: the ROMFS stays in QSPI and grows into the free 512K below it.
    REGIONS="FLASH_APP FLASH_ROMFS"
    expect_exit 0 "$ROMFS" layout --board MAP_PYBD --romfs-size 1536K -o pybd.ld
    link_symbols pybd.ld > syms.txt
    want_sym syms.txt _micropy_hw_romfs_part0_start 0x90080000
    want_sym syms.txt _micropy_hw_romfs_part0_size 0x180000
    want_sym syms.txt l_FLASH_APP_o 0x08008000
    want_sym syms.txt l_FLASH_APP_l 0x78000
    expect_exit 1 "$ROMFS" layout --board MAP_PYBD --romfs-size 1540K
    expect_stderr "on device qspi (0x90000000..0x90200000)"
    expect_stderr "a filesystem size (moving the filesystem vfs at 0x90000000, 512K"
    expect_exit 2 "$ROMFS" layout --board MAP_PYBD --romfs-size 64K --device sdcard
    expect_stderr "board MAP_PYBD has no flash device 'sdcard' (it has: internal, qspi)"
}

# nrf: ROMFS just below the filesystem, the application gets the rest, in memory.ld's
# own value. With a MicroPython tree, the port's scripts linked with that value put
# _micropy_hw_romfs_part0_start where the plan does.
layout_nrf_own_value() {
    need_arm
    export ROMFS_BOARDS="$MAPS" REGIONS="FLASH_TEXT FLASH_ROMFS"
    expect_exit 0 "$ROMFS" layout --board MAP_NRF --romfs-size 128K -o nrf.ld
    grep -q '^ \*   _micropy_hw_romfs_part0_size = 128K;$' nrf.ld || fail "$(cat nrf.ld)"
    link_symbols nrf.ld > syms.txt
    want_sym syms.txt _micropy_hw_romfs_part0_start 0xD0000
    want_sym syms.txt l_FLASH_TEXT_o 0x26000
    want_sym syms.txt l_FLASH_TEXT_l 0xAA000
}

layout_nrf_own_scripts_agree() {
    [ -n "${MICROPYTHON_TREE:-}" ] || skip "MICROPYTHON_TREE not set: nrf's own scripts not linked"
    need_arm
    unset ROMFS_BOARDS
    local board=PCA10056
    expect_exit 0 "$ROMFS" layout --board $board --romfs-size 128K --json
    cp out.txt plan.json
    "$ROMFS" boards show $board --json > show.json
    python3 - plan.json show.json "$MICROPYTHON_TREE" "$PWD" <<'PY'
import json, os, re, shlex, shutil, subprocess, sys
plan, show, tree, here = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3], sys.argv[4]
show = show["boards"][0] if "boards" in show else show
link = show.get("link") or show["romfs"][0]["link"]
value = re.search(r"_micropy_hw_romfs_part0_size = (\w+);", plan["config"]["text"]).group(1)
port = os.path.join(tree, "ports", "nrf")
# The chip script with the planned value in place of its own (a copy, in this folder).
args = shlex.split(link)
for i, a in enumerate(args):
    if a.endswith("nrf52840_1M_256k.ld"):
        text = open(os.path.join(port, a)).read()
        text, n = re.subn(r"_micropy_hw_romfs_part0_size = \w+;", "_micropy_hw_romfs_part0_size = %s;" % value, text)
        assert n == 1
        args[i] = os.path.join(here, "chip.ld")
        open(args[i], "w").write(text)
subprocess.run(["arm-none-eabi-as", "/dev/null", "-o", os.path.join(here, "empty.o")], check=True)
subprocess.run(["arm-none-eabi-ld", "-o", os.path.join(here, "nrf.elf"), os.path.join(here, "empty.o")] + args,
               cwd=port, check=True)
nm = subprocess.run(["arm-none-eabi-nm", os.path.join(here, "nrf.elf")], capture_output=True, text=True, check=True).stdout
syms = {l.split()[2]: int(l.split()[0], 16) for l in nm.splitlines() if len(l.split()) == 3}
ro = plan["romfs"]
assert (syms["_micropy_hw_romfs_part0_start"], syms["_micropy_hw_romfs_part0_size"]) == (ro["start"], ro["size"]), syms
assert syms["_fs_start"] == plan["filesystem"]["start"], syms
assert syms["_app_start"] + syms["_app_size"] == ro["start"], syms
print("nrf scripts agree: ROMFS at 0x%x" % ro["start"])
PY
}

# mimxrt: MICROPY_HW_ROMFS_BYTES, as the port's Makefile hands it to its preprocessed
# linker scripts, gives the planned ROMFS and the text region the rest.
layout_mimxrt_own_scripts_agree() {
    [ -n "${MICROPYTHON_TREE:-}" ] || skip "MICROPYTHON_TREE not set: mimxrt's scripts not linked"
    need_arm
    unset ROMFS_BOARDS
    local board=MIMXRT1060_EVK
    expect_exit 0 "$ROMFS" layout --board $board --romfs-size 128K --json
    cp out.txt plan.json
    "$ROMFS" boards show $board --json > show.json
    python3 - plan.json show.json "$MICROPYTHON_TREE" "$PWD" <<'PY'
import json, os, shlex, subprocess, sys
plan, show, tree, here = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3], sys.argv[4]
show = show["boards"][0] if "boards" in show else show
link = show.get("link") or show["romfs"][0]["link"]
value = plan["config"]["values"]["MICROPY_HW_ROMFS_BYTES"]
assert "MICROPY_HW_ROMFS_BYTES = 0x%x" % value in plan["config"]["text"], plan["config"]["text"]
args, defs, scripts = shlex.split(link), [], []
assert args[0] == "-E", link
i = 1
while i < len(args):
    if args[i] == "-D":
        d = args[i + 1]
        defs.append("MICROPY_HW_ROMFS_BYTES=0x%x" % value if d.startswith("MICROPY_HW_ROMFS_BYTES=") else d)
    elif args[i] == "-T":
        scripts.append(args[i + 1])
    i += 2
port = os.path.join(tree, "ports", "mimxrt")
out = []
for k, script in enumerate(scripts):
    text = subprocess.run(["cpp", "-P", "-x", "c"] + ["-D" + d for d in defs] + [script], cwd=port,
                          capture_output=True, text=True, check=True).stdout
    out.append(os.path.join(here, "s%d.ld" % k))
    open(out[-1], "w").write(text)
subprocess.run(["arm-none-eabi-as", "/dev/null", "-o", os.path.join(here, "e.o")], check=True)
cmd = ["arm-none-eabi-ld", "-o", os.path.join(here, "mx.elf"), os.path.join(here, "e.o")]
for f in out:
    cmd += ["-T", f]
subprocess.run(cmd, check=True, capture_output=True)
nm = subprocess.run(["arm-none-eabi-nm", os.path.join(here, "mx.elf")], capture_output=True, text=True, check=True).stdout
syms = {l.split()[2]: int(l.split()[0], 16) for l in nm.splitlines() if len(l.split()) == 3}
ro, fw = plan["romfs"], plan["firmware"]
assert (syms["_micropy_hw_romfs_part0_start"], syms["_micropy_hw_romfs_part0_size"]) == (ro["start"], ro["size"]), syms
assert syms["text_size"] == fw["size"] and syms["vfs_start"] == plan["filesystem"]["start"], (syms, fw)
print("mimxrt scripts agree: ROMFS at 0x%x, text 0x%x bytes" % (ro["start"], fw["size"]))
PY
}

# rp2: MICROPY_HW_ROMFS_BYTES, ROMFS just below the filesystem, the firmware's maximum
# shrinking by as much; the old "MEMORY region MICROPY_HW_FLASH_STORAGE_BYTES" is gone.
layout_rp2_value() {
    export ROMFS_BOARDS="$MAPS"
    expect_exit 0 "$ROMFS" layout --board MAP_PICO --romfs-size 256K
    grep -qx "set(MICROPY_HW_ROMFS_BYTES 262144)" out.txt || fail "$(cat out.txt)"
    grep -q "MICROPY_HW_FLASH_STORAGE_BYTES)" out.txt && fail "storage size given while the filesystem stays"
    expect_stdout "0x10000000..0x10060000   384K  shrinks from 640K (its maximum)"
    expect_stdout "0x10060000..0x100a0000   256K  new, from the firmware's unused tail"
    expect_exit 0 "$ROMFS" layout --board MAP_PICO --romfs-size 256K --fs-size 1M
    grep -qx "set(MICROPY_HW_FLASH_STORAGE_BYTES 1048576)" out.txt || fail "$(cat out.txt)"
    expect_stderr "must be reformatted"
    expect_stdout "0x100c0000..0x10100000"
    # The real RPI_PICO, which used to need --fs-size.
    unset ROMFS_BOARDS
    expect_exit 0 "$ROMFS" layout --board RPI_PICO --romfs-size 256K --json
    python3 - out.txt <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
c = p["config"]
assert c["format"] == "cmake" and c["values"] == {"MICROPY_HW_ROMFS_BYTES": 262144}, c
assert "MEMORY" not in c["text"] and "set(MICROPY_HW_ROMFS_BYTES 262144)" in c["text"]
assert p["romfs"]["end"] == p["filesystem"]["start"] and not p["filesystem_reformat"]
assert p["firmware"]["size"] == p["firmware"]["before"]["size"] - 262144
PY
}

layout_rp2_own_memory_agrees() {
    [ -n "${MICROPYTHON_TREE:-}" ] || skip "MICROPYTHON_TREE not set: rp2's memory_flash.incl not linked"
    need_arm
    # rp2's own MEMORY (memmap_rp2/memory_flash.incl) with the planned value.
    export ROMFS_BOARDS="$MAPS"
    expect_exit 0 "$ROMFS" layout --board MAP_PICO --romfs-size 256K
    bytes=$(sed -n 's/^set(MICROPY_HW_ROMFS_BYTES \([0-9]*\))$/\1/p' out.txt)
    printf 'INCLUDE %s\nSECTIONS { .text : { *(.text) } > FLASH }\nl_ro = ORIGIN(FLASH_ROMFS); l_rl = LENGTH(FLASH_ROMFS); l_fl = LENGTH(FLASH); l_fs = ORIGIN(FLASH_FS);\n' \
        "$MICROPYTHON_TREE/ports/rp2/memmap_rp2/memory_flash.incl" > rp2.ld
    arm-none-eabi-as /dev/null -o code.o
    arm-none-eabi-ld -T rp2.ld code.o -o rp2.elf --defsym __micropy_flash_size__=2097152 \
        --defsym __micropy_flash_storage_bytes__=1441792 --defsym __micropy_romfs_bytes__="$bytes"
    arm-none-eabi-nm rp2.elf | awk '{print $3, $1}' | sort > syms.txt
    grep -qx "l_ro 10060000" syms.txt || fail "$(cat syms.txt)"
    grep -qx "l_rl 00040000" syms.txt || fail "$(cat syms.txt)"
    grep -qx "l_fl 00060000" syms.txt || fail "$(cat syms.txt)"
    grep -qx "l_fs 100a0000" syms.txt || fail "$(cat syms.txt)"
}

# samd: MICROPY_HW_CODESIZE and MICROPY_HW_ROMFS_BYTES, linked as the port's Makefile
# passes them (--defsym after the script) with the fixture script that places ROMFS after
# the code and the MCU-flash filesystem after the ROMFS, as samd51x19a.ld does.
layout_samd_values_link() {
    need_arm
    export ROMFS_BOARDS="$MAPS"
    arm-none-eabi-as /dev/null -o empty.o
    samd_link() {   # samd_link PLAN_TEXT SCRIPT: the symbols ld gives with the plan's values
        local codesize romfs
        codesize=$(sed -n 's/^MICROPY_HW_CODESIZE ?= //p' "$1")
        romfs=$(sed -n 's/^MICROPY_HW_ROMFS_BYTES ?= //p' "$1")
        arm-none-eabi-ld -o samd.elf empty.o -T "$2" --defsym _codesize="$codesize" \
            --defsym _micropy_hw_romfs_part0_size="$romfs"
        arm-none-eabi-nm samd.elf | awk '{print $3, $1}' | sort
    }
    local script="$FIXTURES/mptree/ports/samd/boards/fixture_d51.ld"
    # ItsyBitsy M4 (filesystem on QSPI): 128K ends at the end of flash, CODESIZE 368K.
    expect_exit 0 "$ROMFS" layout --board MAP_ITSYBITSY_M4 --romfs-size 128K -o m4.mk
    grep -qx "MICROPY_HW_CODESIZE ?= 368K" m4.mk || fail "$(cat m4.mk)"
    grep -qx "MICROPY_HW_ROMFS_BYTES ?= 128K" m4.mk || fail "$(cat m4.mk)"
    samd_link m4.mk "$script" > syms.txt
    grep -qx "_micropy_hw_romfs_part0_start 00060000" syms.txt || fail "$(cat syms.txt)"
    # 64K stays where it is: CODESIZE unchanged.
    expect_exit 0 "$ROMFS" layout --board MAP_ITSYBITSY_M4 --romfs-size 64K
    expect_stdout "MICROPY_HW_CODESIZE ?= 432K"
    # Filesystem in MCU flash: it keeps 0x70000..0x80000; 101K rounds to 104K (8K pages).
    expect_exit 0 "$ROMFS" layout --board MAP_SAMD51 --romfs-size 101K -o d51.mk
    grep -qx "MICROPY_HW_CODESIZE ?= 328K" d51.mk || fail "$(cat d51.mk)"
    grep -qx "MICROPY_HW_ROMFS_BYTES ?= 104K" d51.mk || fail "$(cat d51.mk)"
    samd_link d51.mk "$script" > syms.txt
    grep -qx "_micropy_hw_romfs_part0_start 00056000" syms.txt || fail "$(cat syms.txt)"
    grep -qx "_oflash_fs 00070000" syms.txt || fail "$(cat syms.txt)"
    grep -qx "_sflash_fs 00010000" syms.txt || fail "$(cat syms.txt)"
}

# The same values with samd's own samd51x19a.ld (symbols its SECTIONS part would give
# stubbed: the firmware is not linked here).
layout_samd_own_script_agrees() {
    [ -n "${MICROPYTHON_TREE:-}" ] || skip "MICROPYTHON_TREE not set: samd51x19a.ld not linked"
    need_arm
    export ROMFS_BOARDS="$MAPS"
    arm-none-eabi-as /dev/null -o empty.o
    expect_exit 0 "$ROMFS" layout --board MAP_SAMD51 --romfs-size 101K -o d51.mk
    printf '_ebss = 0x20000000; _sstack = 0x20030000;\n' > stubs.ld
    codesize=$(sed -n 's/^MICROPY_HW_CODESIZE ?= //p' d51.mk)
    romfs=$(sed -n 's/^MICROPY_HW_ROMFS_BYTES ?= //p' d51.mk)
    arm-none-eabi-ld -o real.elf empty.o -T stubs.ld -T "$MICROPYTHON_TREE/ports/samd/boards/samd51x19a.ld" \
        --defsym _codesize="$codesize" --defsym _micropy_hw_romfs_part0_size="$romfs"
    arm-none-eabi-nm real.elf | awk '{print $3, $1}' | sort > real.txt
    grep -qx "_micropy_hw_romfs_part0_start 00056000" real.txt || fail "$(cat real.txt)"
    grep -qx "_oflash_fs 00070000" real.txt || fail "$(cat real.txt)"
    grep -qx "_sflash_fs 00010000" real.txt || fail "$(cat real.txt)"
}

# esp32: partition table rows, read back by romfs's own table reader (boards show,
# check). The filesystem is made at boot after the last partition, so the ROMFS takes
# the app partition's tail: exactly MicroPython's partitions-4MiB-romfs.csv.
layout_esp32_csv_rows() {
    export ROMFS_BOARDS="$MAPS"
    expect_exit 0 "$ROMFS" layout --board MAP_ESP32 --romfs-size 128K -o planned.csv
    grep -qx "factory, app, factory, 0x10000, 0x1d0000," planned.csv || fail "$(cat planned.csv)"
    grep -qx "romfs, data, 0x8f, 0x1e0000, 0x20000," planned.csv || fail "$(cat planned.csv)"
    grep -q "^vfs," planned.csv && fail "a vfs row would fix the filesystem's size"
    expect_exit 0 "$ROMFS" boards show MAP_ESP32 --partition-table planned.csv --json
    python3 - out.txt <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
b = d["boards"][0] if "boards" in d else d
p = b["partition_table_romfs"]
assert (int(p["start"], 16), p["size"]) == (0x1E0000, 0x20000), p
PY
    mkdir app && echo 'x = 1' > app/x.py
    "$ROMFS" pack app -o small.romfs -q
    expect_exit 0 "$ROMFS" check small.romfs --partition-table planned.csv --board MAP_ESP32
    # An app image of 1856K + 1 byte leaves no 128K; 1792K does.
    expect_exit 1 "$ROMFS" layout --board MAP_ESP32 --romfs-size 128K --firmware-size $((0x1D0001))
    expect_stderr "board MAP_ESP32: does not fit by"
    expect_stderr "on device spi (0x00000000..0x00400000)"
    expect_exit 0 "$ROMFS" layout --board MAP_ESP32 --romfs-size 128K --firmware-size 1792K
    expect_exit 2 "$ROMFS" layout --board MAP_ESP32 --romfs-size 128K --elf missing.elf
    expect_stderr "app partition holds the image esptool makes"
    # A 1M filesystem: it stays at the top of flash, ROMFS below it, factory the rest.
    expect_exit 0 "$ROMFS" layout --board MAP_ESP32 --romfs-size 128K --fs-size 1M -o moved.csv
    expect_stderr "must be reformatted"
    grep -qx "factory, app, factory, 0x10000, 0x2d0000," moved.csv || fail "$(cat moved.csv)"
    grep -qx "romfs, data, 0x8f, 0x2e0000, 0x20000," moved.csv || fail "$(cat moved.csv)"
    # A table given on the command line: its romfs partition is resized where it is.
    printf 'nvs, data, nvs, 0x9000, 0x6000,\nphy_init, data, phy, 0xf000, 0x1000,\nfactory, app, factory, 0x10000, 0x1f0000,\nromfs, data, 0x8f, 0x200000, 0x100000,\nvfs, data, fat, 0x300000, 0x100000,\n' > given.csv
    expect_exit 0 "$ROMFS" layout --board MAP_ESP32 --partition-table given.csv --romfs-size 256K -o resized.csv
    grep -qx "romfs, data, 0x8f, 0x200000, 0x40000," resized.csv || fail "$(cat resized.csv)"
    grep -qx "vfs, data, fat, 0x300000, 0x100000," resized.csv || fail "$(cat resized.csv)"
    expect_exit 0 "$ROMFS" boards show MAP_ESP32 --partition-table resized.csv --json
    # ARDUINO_NANO_ESP32's OTA table: the app it runs (app0, ota_0) gives its tail; the rows
    # printed are those that change, and they read back as a table.
    expect_exit 0 "$ROMFS" layout --board MAP_NANO_ESP32 --romfs-size 256K -o ota.csv
    grep -qx "app0, app, ota_0, 0x10000, 0x2c0000," ota.csv || fail "$(cat ota.csv)"
    grep -qx "romfs, data, 0x8f, 0x2d0000, 0x40000," ota.csv || fail "$(cat ota.csv)"
    grep -q "an update must fit app0's new size" ota.csv || fail "no word on the other OTA slot"
    grep -q "^ffat,\|^app1," ota.csv && fail "unchanged rows printed as if they changed"
    expect_exit 0 "$ROMFS" boards show MAP_NANO_ESP32 --partition-table ota.csv --json
    expect_exit 2 "$ROMFS" layout --board MAP_NRF --partition-table given.csv --romfs-size 64K
    expect_stderr "only esp32 boards do"
    expect_exit 2 "$ROMFS" layout --board MAP_ITSYBITSY_M4 --romfs-size 64K --device qspi
    expect_stderr "board MAP_ITSYBITSY_M4: samd places the ROMFS beside its firmware on device internal"
}

t layout_every_board_in_its_own_terms
t layout_nrf_links_as_claimed
t layout_refuses_with_shortfall
t layout_stm32_sectors
t layout_rp2_plans_a_partition
t layout_from_elf
t layout_reproduces_micropython_layouts
t layout_usage_errors
t layout_stm32_map_links_as_planned
t layout_fs_size_says_reformat
t layout_keep_fs_default_never_touches_fs
t layout_ra_and_qspi_link_as_planned
t layout_nrf_own_value
t layout_nrf_own_scripts_agree
t layout_mimxrt_own_scripts_agree
t layout_rp2_value
t layout_rp2_own_memory_agrees
t layout_samd_values_link
t layout_samd_own_script_agrees
t layout_esp32_csv_rows
