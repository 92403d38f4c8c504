#!/usr/bin/env python3
"""Check boards.json against arm-none-eabi-ld: link every board of BOARDS_JSON (or the
boards named after it) from TREE exactly as its "link" arguments say (an empty object, run
in the port directory, scripts preprocessed with cc -E first when the link says -E), then
compare every linker-derived value with what ld computed: the flash MEMORY regions, the
ROMFS partitions (_micropy_hw_romfs_partN_*), and each device and map area whose source is
a linker script ("file:line: REGION", "... A + SIZE", "... A .. END", "... SYMBOL").

usage: ld_oracle.py BOARDS_JSON TREE WORKDIR [BOARD...]
Prints one line per board that disagrees and a summary "checked N boards, M values";
exit 1 on any disagreement."""
import json
import os
import re
import shlex
import subprocess
import sys

SCRIPT_EXT = (".ld", ".ld.S", ".incl")


def h(v):
    return int(v, 16) if isinstance(v, str) else v


def link(board, tree, work):
    port_dir = os.path.join(tree, "ports", board["port"])
    args = shlex.split(board["link"])
    cpp, ld_args, i = None, [], 0
    while i < len(args):
        a = args[i]
        if a == "-E":
            cpp = []
        elif a in ("-D", "-I") and cpp is not None:
            cpp += [a, args[i + 1]]
            i += 1
        elif a == "-T" and cpp is not None:
            out = os.path.join(work, board["board"] + "-" + os.path.basename(args[i + 1]) + ".pp.ld")
            subprocess.run(["cc", "-E", "-P", "-x", "c"] + cpp + [args[i + 1], "-o", out], cwd=port_dir, check=True)
            ld_args += ["-T", out]
            i += 1
        else:
            ld_args.append(a)
        i += 1
    empty = os.path.join(work, "empty.o")
    if not os.path.exists(empty):
        subprocess.run(["arm-none-eabi-as", "/dev/null", "-o", empty], check=True)
    elf = os.path.join(work, board["board"] + ".elf")
    mapf = os.path.join(work, board["board"] + ".map")
    # An empty object stands in for the firmware: libraries a script GROUPs get empty
    # stand-ins, and a symbol a script needs from the code (__Vectors) is defined as 0;
    # neither moves a MEMORY region or a symbol assigned from constants.
    stubs = os.path.join(work, "stub-libs")
    os.makedirs(stubs, exist_ok=True)
    extra = ["-L", stubs]
    for _ in range(8):
        r = subprocess.run(["arm-none-eabi-ld", "-o", elf, "-Map", mapf, empty] + extra + ld_args, cwd=port_dir,
                           capture_output=True, text=True)
        lib = re.search(r"cannot find -l(\S+?):", r.stderr)
        sym = re.search(r"undefined symbol `([^']+)' referenced", r.stderr)
        if r.returncode == 0:
            break
        if lib:
            subprocess.run(["arm-none-eabi-ar", "rc", os.path.join(stubs, "lib%s.a" % lib.group(1)), empty], check=True)
        elif sym:
            extra += ["--defsym", sym.group(1) + "=0"]
        else:
            raise subprocess.CalledProcessError(r.returncode, "arm-none-eabi-ld", r.stderr)
    syms = {}
    nm = subprocess.run(["arm-none-eabi-nm", elf], capture_output=True, text=True, check=True).stdout
    for line in nm.splitlines():
        f = line.split()
        if len(f) == 3:
            syms[f[2]] = int(f[0], 16)
    mem = {}
    text = open(mapf).read()
    table = text.split("Memory Configuration", 1)[1].split("Linker script and memory map", 1)[0]
    for m in re.finditer(r"^(\w+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)", table, re.M):
        mem[m.group(1)] = (int(m.group(2), 16), int(m.group(3), 16))
    return syms, mem


def value(expr, syms, mem):
    """An operand of a source: a symbol, a literal, ORIGIN(R) or LENGTH(R)."""
    expr = expr.strip()
    if expr.startswith("0x"):
        return int(expr, 16)
    m = re.fullmatch(r"(ORIGIN|LENGTH)\((\w+)\)", expr)
    if m:
        return mem[m.group(2)][0 if m.group(1) == "ORIGIN" else 1]
    return syms[expr]


def ld_source(source):
    """(file, what) when source names a linker script, else None."""
    m = re.match(r"^(\S+?):(\d+): (.*)$", source or "")
    if not m or not m.group(1).endswith(SCRIPT_EXT):
        return None
    return m.group(1), m.group(3)


def check_board(b, syms, mem):
    bad, n = [], 0

    def expect(what, got, want):
        nonlocal n
        n += 1
        if got != want:
            bad.append("%s: boards.json %s, ld %s" % (what, hex(got), hex(want)))

    for r in b.get("regions", []):
        if r["name"] in mem:
            expect("region " + r["name"] + " origin", h(r["origin"]), mem[r["name"]][0])
            expect("region " + r["name"] + " length", h(r["length"]), mem[r["name"]][1])
        else:
            bad.append("region %s: not in ld's memory configuration" % r["name"])
    for p in b["romfs"]:
        if p.get("link") != b.get("link"):
            continue  # another core's build
        s, z = "_micropy_hw_romfs_part%d_start" % p["index"], "_micropy_hw_romfs_part%d_size" % p["index"]
        if s in syms and z in syms:
            expect("romfs%d start" % p["index"], h(p["start"]), syms[s])
            expect("romfs%d size" % p["index"], h(p["size"]), syms[z])
    for a in b.get("map", []) + [dict(d, start=d["base"], kind="device") for d in b.get("devices", [])]:
        src = ld_source(a.get("source"))
        if not src or (a.get("core") and a.get("core") != "M55_HP" and a["kind"] != "romfs"):
            continue
        what = src[1].split(" (")[0]
        label = "%s %s" % (a["kind"], a.get("name"))
        try:
            if " + " in what:
                x, y = what.split(" + ")
                expect(label + " start", h(a["start"]), value(x, syms, mem))
                expect(label + " size", h(a["size"]), value(y, syms, mem))
            elif " .. " in what:
                x, y = what.split(" .. ")
                expect(label + " start", h(a["start"]), value(x, syms, mem))
                expect(label + " end", h(a["start"]) + h(a["size"]), value(y, syms, mem))
            elif a["kind"] == "romfs":
                continue  # checked with the partitions
            elif what in mem and a["kind"] != "device":
                expect(label + " start", h(a["start"]), mem[what][0])
                expect(label + " size", h(a["size"]), mem[what][1])
            elif what in mem:
                expect(label + " end", h(a["start"]) + h(a["size"]), mem[what][0] + mem[what][1])
            elif what in syms and a["kind"] == "device":
                expect(label + " size", h(a["size"]), syms[what])
            else:
                bad.append("%s: %r is neither a region nor a symbol of the link" % (label, what))
        except KeyError as e:
            bad.append("%s: %s missing from the link" % (label, e))
    return bad, n


def main():
    boards_json, tree, work = sys.argv[1:4]
    only = set(sys.argv[4:])
    d = json.load(open(boards_json))
    boards = [b for b in d["boards"] if b.get("link") and (not only or b["board"] in only)]
    failed, total = 0, 0
    for b in boards:
        try:
            syms, mem = link(b, tree, work)
        except subprocess.CalledProcessError as e:
            print("FAIL %s: the link failed: %s" % (b["board"], e.output))
            failed += 1
            continue
        bad, n = check_board(b, syms, mem)
        total += n
        if bad:
            failed += 1
            print("FAIL %s: %s" % (b["board"], "; ".join(bad)))
    print("checked %d boards, %d values, %d disagree" % (len(boards), total, failed))
    sys.exit(1 if failed or not boards else 0)


if __name__ == "__main__":
    main()
