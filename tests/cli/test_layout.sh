#!/bin/bash
# romfs layout: plans on fixture boards; the MEMORY fragment is linked by arm-none-eabi-ld
# and the regions the linker sees must be the ones the JSON claims.
. "$(dirname "$0")/lib.sh"
CHK="$FIXTURES/check"
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
    # Without a firmware size, the board's whole text region counts (0x1000 + 0xAF000).
    expect_exit 0 "$ROMFS" layout --board FIX_NRF52840 --romfs-size 256K
    expect_exit 1 "$ROMFS" layout --board FIX_NRF52840 --romfs-size 260K
    expect_stderr "does not fit by 4096 bytes"
    expect_stderr "FLASH_TEXT region"
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
checked = 0
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
    assert r.returncode == 0, (name, r.stderr)
    plan = json.loads(r.stdout)
    assert (plan["romfs"]["start"], plan["romfs"]["size"]) == (start, num(p0["size"])), (name, plan["romfs"], p0)
    checked += 1
print("layouts reproduced:", checked)
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

# Every board in the built-in database whose layout fits gives a fragment ld accepts,
# with the romfs symbols where the plan says.
layout_fragments_link_for_every_board() {
    need_arm
    unset ROMFS_BOARDS
    arm-none-eabi-as /dev/null -o code.o
    linked=0 refused=0
    "$ROMFS" boards list > boards.txt
    awk '{print $2}' boards.txt > names.txt
    [ "$(wc -l < names.txt)" -gt 100 ] || fail "too few boards listed"
    while read -r b; do
        # Refusals a board's data explains: 64K does not fit (exit 1); no flash
        # geometry or no firmware size in boards.json (exit 2). Anything else (another
        # error, a crash, a sanitizer abort: exit 86) fails the test.
        # Boards with ROMFS in external flash keep the internal layout: no --fs-size.
        opts="--fs-size 0"
        rc=0; "$ROMFS" layout --board "$b" --romfs-size 64K $opts -o frag.ld 2> layout.err || rc=$?
        if [ "$rc" = 2 ] && grep -q "flash at 0x.*so a filesystem size does not apply" layout.err; then
            opts=""
            rc=0; "$ROMFS" layout --board "$b" --romfs-size 64K -o frag.ld 2> layout.err || rc=$?
        fi
        if [ "$rc" = 1 ]; then
            grep -q "board $b: does not fit by" layout.err || fail "$b: unexpected refusal: $(cat layout.err)"
            refused=$((refused + 1))
            continue
        elif [ "$rc" = 2 ]; then
            grep -qE "board $b( has no flash geometry|: firmware size unknown)" layout.err ||
                fail "$b: layout exited 2: $(cat layout.err)"
            refused=$((refused + 1))
            continue
        fi
        [ "$rc" = 0 ] || fail "$b: layout exited $rc: $(cat layout.err)"
        "$ROMFS" layout --board "$b" --romfs-size 64K $opts --json > plan.json
        printf 'INCLUDE frag.ld\nSECTIONS { .text : { *(.text) } }\n' > wrap.ld
        arm-none-eabi-ld -T wrap.ld code.o -o linked.elf 2> ld.err || fail "$b: $(cat ld.err)"
        got=$(arm-none-eabi-nm linked.elf | awk '/_micropy_hw_romfs_part0_start/ {print $1}')
        want=$(python3 -c 'import json,sys; print("%08x" % json.load(open(sys.argv[1]))["romfs"]["start"])' plan.json)
        [ "$got" = "$want" ] || fail "$b: ld puts the ROMFS at $got, the plan at $want"
        linked=$((linked + 1))
    done < names.txt
    echo "fragments linked: $linked, layouts that do not fit: $refused"
    [ "$linked" -ge 50 ] || fail "only $linked boards planned"
}

t layout_fragments_link_for_every_board
t layout_nrf_links_as_claimed
t layout_refuses_with_shortfall
t layout_stm32_sectors
t layout_rp2_plans_a_partition
t layout_from_elf
t layout_reproduces_micropython_layouts
t layout_usage_errors
