#!/usr/bin/env bash
# mboot's DFU interface in boards.json ("dfu"."mboot"), checked against the C
# preprocessor: `romfs boards import` reads the board headers and mboot/main.c with its
# own small preprocessor; here `cc -E` runs the real one over the same text (the board's
# mpconfigboard.h, then mboot/main.c's flash-layout part, with what mboot's build
# defines) and the layout string, the USB id and every file:line the source names must
# agree. On the fixture tree always, on a MicroPython tree when MICROPYTHON_TREE names one.
source "$(dirname "$0")/lib.sh"

# check_against_cc TREE JSON: every board with (and without) an mboot entry.
check_against_cc() {
    python3 - "$1" "$2" <<'PY'
import json, os, re, subprocess, sys, tempfile
tree, out = sys.argv[1], sys.argv[2]
port = os.path.join(tree, "ports", "stm32")
main_c = open(os.path.join(port, "mboot", "main.c")).read().splitlines()
# main.c's preprocessor lines (with continuations) from the SPI flash layout defaults on,
# less #include/#error (the layout's #if/#else runs on past the code that follows it)
def directives(lines):
    out, cont = [], False
    for l in lines:
        if cont or l.lstrip().startswith("#"):
            if cont or not re.match(r"\s*#\s*(include|error|warning|pragma)\b", l):
                out.append(l)
            cont = l.rstrip().endswith("\\")
    return out
first = next(i for i, l in enumerate(main_c) if l.startswith("#ifndef MBOOT_SPIFLASH_LAYOUT"))
layout_part = directives(main_c[first:])
usb_lines = []
for name in ("MBOOT_USB_VID", "MBOOT_USB_PID"):
    i = next(i for i, l in enumerate(main_c) if l.strip() == "#ifndef " + name)
    usb_lines += main_c[i:i + 3]

def mk_value(board, name):
    for f in (os.path.join(port, "boards", board, "mpconfigboard.mk"),):
        if os.path.exists(f):
            for line in open(f):
                m = re.match(r"\s*%s\s*[?:]?=\s*(\S+)" % name, line)
                if m:
                    return m.group(1)
    for line in open(os.path.join(port, "mboot", "Makefile")):
        m = re.match(r"\s*%s\s*\?=\s*(\S+)" % name, line)
        if m:
            return m.group(1)
    return None

def preprocess(board, cmsis, series, body):
    with tempfile.NamedTemporaryFile("w", suffix=".c", delete=False) as f:
        f.write('#include "boards/%s/mpconfigboard.h"\n' % board)
        f.write("\n".join(layout_part) + "\n" + body)
        name = f.name
    try:
        args = ["cc", "-E", "-P", "-DBUILDING_MBOOT=1", "-D" + cmsis, "-DSTM32" + series.upper(),
                "-DBOOTLOADER_DFU_USB_VID=" + mk_value(board, "BOOTLOADER_DFU_USB_VID"),
                "-DBOOTLOADER_DFU_USB_PID=" + mk_value(board, "BOOTLOADER_DFU_USB_PID"), "-I", port, name]
        r = subprocess.run(args, capture_output=True, text=True)
        assert r.returncode == 0, (board, r.stderr[-800:])
        return r.stdout
    finally:
        os.unlink(name)

def strings(expr):
    """The string a preprocessed initializer makes: literals concatenated; of a run-time
    choice (c ? "A" : "B") the first."""
    expr = re.sub(r':\s*"(?:[^"\\]|\\.)*"', "", expr)
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', expr))

d = json.load(open(out))
checked = with_mboot = 0
for b in d["boards"]:
    if b["port"] != "stm32":
        continue
    mk = open(os.path.join(port, "boards", b["board"], "mpconfigboard.mk")).read()
    cmsis = re.search(r"^CMSIS_MCU\s*=\s*(\S+)", mk, re.M)
    series = re.search(r"^MCU_SERIES\s*=\s*(\S+)", mk, re.M)
    if not cmsis or not series:
        continue
    cmsis, series = cmsis.group(1), series.group(1)
    text = preprocess(b["board"], cmsis, series,
                      "#ifdef FLASH_LAYOUT_STR\nromfs_layout = FLASH_LAYOUT_STR;\n#else\n"
                      "#ifdef INTERNAL_FLASH_LAYOUT\nromfs_layout = INTERNAL_FLASH_LAYOUT MBOOT_SPIFLASH_LAYOUT "
                      "MBOOT_SPIFLASH2_LAYOUT;\n#endif\n#endif\n" + "\n".join(usb_lines) +
                      "\nromfs_usb = MBOOT_USB_VID MBOOT_USB_PID;\n")
    m = re.search(r"romfs_layout = (.*?);", text, re.S)
    layout = strings(m.group(1)) if m else None
    if layout and "???" in layout:   # STM32H5: FLASH_SIZE / 8 KiB at run time (2 MiB parts)
        assert cmsis.startswith("STM32H573"), cmsis
        layout = layout.replace("???", "256")
    dm = subprocess.run(["cc", "-E", "-dM", "-DBUILDING_MBOOT=1", "-I", port,
                         os.path.join(port, "boards", b["board"], "mpconfigboard.h")],
                        capture_output=True, text=True).stdout
    configured = bool(re.search(r"^#define MBOOT_\w+", dm, re.M))
    uses = re.search(r"^\s*USE_MBOOT\s*\??=\s*1", mk, re.M) or "USE_MBOOT" in mk and not re.search(
        r"^\s*USE_MBOOT\s*=\s*0", mk, re.M)
    mb = b.get("dfu", {}).get("mboot")
    if mb:
        with_mboot += 1
        assert layout, (b["board"], "mboot recorded, but its layout does not preprocess")
        assert mb["layout"] == layout, (b["board"], mb["layout"], layout)
        u = re.search(r"romfs_usb = (\S+) (\S+);", text)
        assert mb["usb"] == "%04x:%04x" % (int(u.group(1).strip("()"), 0), int(u.group(2).strip("()"), 0)), \
            (b["board"], mb["usb"], u.group(0))
        # every file:line the source names defines what it says there
        for f, line, name in re.findall(r"(ports/[\w./-]+):(\d+): (\w+)", mb["source"]):
            src = open(os.path.join(tree, f)).read().splitlines()[int(line) - 1]
            assert re.match(r"\s*#\s*define\s+%s\b" % name, src) or re.match(r"\s*%s\s*\??=" % name, src), \
                (b["board"], f, line, name, src)
        assert (("optional" in mb["source"]) ==
                (not re.search(r"^\s*USE_MBOOT\s*\??=\s*1", mk, re.M) and
                 not (configured and not re.search(r"^TEXT0_ADDR\s*=\s*0x08000000", mk, re.M)))), b["board"]
    else:
        # no entry: not configured and not switchable, or mboot has no layout for the MCU
        assert not (configured or uses) or not layout, (b["board"], "has mboot (%s) but no entry" % layout)
    checked += 1
assert checked > 0 and with_mboot > 0, (checked, with_mboot)
print("checked %d stm32 boards, %d with mboot" % (checked, with_mboot))
PY
}

fixture_tree_mboot_values_and_cc_agree() {
    command -v cc >/dev/null || skip "no C compiler (cc) to preprocess with"
    "$ROMFS" boards import "$FIXTURES/mptree" -o out.json 2>/dev/null
    python3 - out.json <<'PY'
import json, sys
b = {x["board"]: x for x in json.load(open(sys.argv[1]))["boards"]}["FIXTURE_F412"]
# hand-worked: F4 internal layout (fixture main.c:16), the SPI flash at 0x80000000 (h:7),
# SPIFLASH2 from the BUILDING_MBOOT block (h:12), not the #if 0 one (h:9)
assert b["dfu"]["mboot"] == {
    "usb": "0483:df11",
    "layout": "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg/0x80000000/32*4Kg/0x90000000/16*64Kg",
    "source": "ports/stm32/mboot/main.c:16: INTERNAL_FLASH_LAYOUT; "
              "ports/stm32/boards/FIXTURE_F412/mpconfigboard.h:7: MBOOT_SPIFLASH_LAYOUT; "
              "ports/stm32/boards/FIXTURE_F412/mpconfigboard.h:12: MBOOT_SPIFLASH2_LAYOUT; "
              "usb ports/stm32/mboot/Makefile:3: BOOTLOADER_DFU_USB_VID; "
              "optional: the default build has no mboot (USE_MBOOT=1 adds it)"}, b["dfu"]["mboot"]
# the system bootloader's entry is unchanged beside it
assert b["dfu"]["kind"] == "system" and b["dfu"]["layout"].endswith("07*128Kg"), b["dfu"]
PY
    check_against_cc "$FIXTURES/mptree" out.json
}

micropython_tree_mboot_agrees_with_cc() {
    [ -n "${MICROPYTHON_TREE:-}" ] || skip "MICROPYTHON_TREE not set (a MicroPython checkout to import)"
    command -v cc >/dev/null || skip "no C compiler (cc) to preprocess with"
    "$ROMFS" boards import "$MICROPYTHON_TREE" -o out.json 2>/dev/null
    python3 - out.json <<'PY'
import json, sys
B = {x["board"]: x for x in json.load(open(sys.argv[1]))["boards"]}
m = B["PYBD_SF2"]["dfu"]["mboot"]
assert m["layout"] == ("@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg"
                       "/0x80000000/64*32Kg/0x90000000/64*32Kg"), m
assert "PYBD_SF2/mpconfigboard.h:226: MBOOT_SPIFLASH2_LAYOUT" in m["source"], m
# PYBD_SF3 takes its mboot configuration from PYBD_SF2's header (#include)
assert "PYBD_SF2/mpconfigboard.h:226" in B["PYBD_SF3"]["dfu"]["mboot"]["source"]
# PYBD_SF6 #undefs SF2's and sizes its flash at run time: the 2 MiB choice, the other named
s6 = B["PYBD_SF6"]["dfu"]["mboot"]
assert s6["layout"].endswith("/0x90000000/512*4Kg") and "2048*4Kg" in s6["source"], s6
PY
    check_against_cc "$MICROPYTHON_TREE" out.json
}

t fixture_tree_mboot_values_and_cc_agree
t micropython_tree_mboot_agrees_with_cc
