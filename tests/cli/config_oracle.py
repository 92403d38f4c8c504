#!/usr/bin/env python3
"""Check the configuration values boards.json says a board's map rests on ("config":
name, value, "file:line") against the tools that read them in a real build:

  C headers (.h)     `cc -E` of a file that includes the board's header, then the file
                     the value came from, then NAME: the expansion, evaluated as C
                     integer arithmetic, must equal the value (headers the compiler
                     does not find are stubbed empty; a pico-sdk
                     pico_board_cmake_set_default() line is read as CMake reads it)
  make files (.mk)   `make` over the board's mpconfigboard.mk, the file the value came
                     from (or, for a port's Makefile, that one line), printing $(NAME)
  CMake, sdkconfig   the line at file:line must set NAME to the value
and in every case the line at file:line must name NAME. Values whose source is outside the
tree (pico-sdk's board headers) or has no line are counted and skipped.

usage: config_oracle.py BOARDS_JSON TREE WORKDIR
Prints each disagreement and "checked N values of M boards, K skipped"; exit 1 on any."""
import json
import os
import re
import subprocess
import sys


def c_eval(text):
    """A preprocessed C integer expression as Python evaluates it (casts dropped)."""
    t = re.sub(r"\(\s*(?:u?int(?:8|16|32|64|ptr)_t|size_t|unsigned|int|long|signed)(?:\s+\w+)*\s*\)", "", text)
    t = re.sub(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]+\b", r"\1", t)
    t = t.replace("/", "//").replace("&&", " and ").replace("||", " or ")
    t = re.sub(r"!(?!=)", " not ", t)
    return int(eval(t, {"__builtins__": {}}))


def cpp_value(tree, work, board_header, source_file, name, incdirs, defines=()):
    stubs = os.path.join(work, "stub-headers")
    os.makedirs(stubs, exist_ok=True)
    src = os.path.join(work, "config_probe.c")
    lines = []
    if board_header and os.path.exists(os.path.join(tree, board_header)):
        lines.append('#include "%s"' % os.path.join(tree, board_header))
    if source_file != board_header:
        lines.append('#include "%s"' % os.path.join(tree, source_file))
    lines.append("@@@ %s" % re.sub(r"\.total_size$", "", name))
    open(src, "w").write("\n".join(lines) + "\n")
    args = ["cc", "-E", "-P", "-DSTM32_HAL_H=\"stub_hal.h\"", "-I", stubs, "-I", tree] + ["-D" + x for x in defines]
    for d in incdirs:
        args += ["-I", os.path.join(tree, d)]
    open(os.path.join(stubs, "stub_hal.h"), "w").close()
    for _ in range(20):
        r = subprocess.run(args + [src], capture_output=True, text=True)
        miss = re.search(r"fatal error: ([^:]+): No such file", r.stderr)
        if r.returncode == 0:
            break
        if not miss or os.path.isabs(miss.group(1)):  # only headers of the build, never the probed ones
            raise RuntimeError(r.stderr.strip().splitlines()[-1] if r.stderr else "cc -E failed")
        path = os.path.join(stubs, miss.group(1))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "w").close()
    out = r.stdout.split("@@@", 1)[1].strip()
    if name.endswith(".total_size"):
        out = re.search(r"\.total_size\s*=\s*([^,}]+)", out).group(1)
    return c_eval(out)


def make_value(tree, work, port, board_dir, variant, source_file, line_no, name):
    port_dir = os.path.join(tree, "ports", port)
    mk = os.path.join(work, "config_probe.mk")
    rel = os.path.relpath(os.path.join(tree, source_file), port_dir)
    body = ["BOARD = %s" % board_dir, "BOARD_DIR = boards/%s" % board_dir,
            "include boards/%s/mpconfigboard.mk" % board_dir]
    if variant:
        body.append("include boards/%s/mpconfigvariant_%s.mk" % (board_dir, variant))
    if os.path.basename(source_file) in ("Makefile",):
        body.append(open(os.path.join(tree, source_file)).read().splitlines()[line_no - 1].strip())
    elif rel != "boards/%s/mpconfigboard.mk" % board_dir and not (variant and rel.endswith(variant + ".mk")):
        body.append("include %s" % rel)
    body.append("print-config:\n\t@echo $(%s)" % name)
    open(mk, "w").write("\n".join(body) + "\n")
    r = subprocess.run(["make", "-s", "--no-print-directory", "-f", mk, "print-config"], cwd=port_dir,
                       capture_output=True, text=True, check=True)
    v = r.stdout.strip().split("#")[0].strip()
    m = re.fullmatch(r"(0[xX][0-9a-fA-F]+|\d+)([kKmM]?)", v)
    if not m:
        raise RuntimeError("make gives %r" % v)
    return int(m.group(1), 0) * {"": 1, "K": 1024, "M": 1 << 20}[m.group(2).upper()]


def main():
    boards_json, tree, work = sys.argv[1], os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
    d = json.load(open(boards_json))
    bad, checked, skipped, boards = [], 0, 0, set()
    for b in d["boards"]:
        for c in b.get("config", []):
            m = re.fullmatch(r"(\S+):(\d+)", c.get("source") or "")
            if not m or not os.path.exists(os.path.join(tree, m.group(1))):
                skipped += 1
                continue
            path, line_no = m.group(1), int(m.group(2))
            name, want = c["name"], int(c["value"], 16)
            label = "%s %s (%s)" % (b["board"], name, c["source"])
            text = open(os.path.join(tree, path)).read().splitlines()
            line = text[line_no - 1] if 0 < line_no <= len(text) else ""
            if re.sub(r"\.total_size$", "", name) not in line and not name.startswith(line.split("=")[0].strip()):
                bad.append("%s: line %d does not name it: %r" % (label, line_no, line))
                continue
            parts = path.split("/")
            board_dir = parts[3] if len(parts) > 4 and parts[2] == "boards" else b["board"].split("-")[0]
            try:
                if path.endswith(".h") and "cmake_set_default" in line:
                    got = c_eval(line.split(",", 1)[1].rsplit(")", 1)[0] if "(" in line.split("PICO")[0]
                                 else line.split("=", 1)[1])
                elif path.endswith(".h"):
                    header = "ports/%s/boards/%s/mpconfigboard.h" % (b["port"], board_dir)
                    incdirs = ["ports/%s" % b["port"], "ports/%s/boards/%s" % (b["port"], board_dir)]
                    incdirs += ["ports/%s/mcu/%s" % (b["port"], x)
                                for x in ("samd21", "samd51") if (b.get("mcu") or "").lower().startswith(x)]
                    # stm32: the MCU series the HAL header would define (STM32F4 for STM32F405)
                    mcu = b.get("mcu") or ""
                    defines = ["STM32" + mcu[5:7]] if b["port"] == "stm32" and mcu.startswith("STM32") else []
                    got = cpp_value(tree, work, header, path, name, incdirs, defines)
                elif path.endswith(".mk") or path.endswith("Makefile"):
                    got = make_value(tree, work, b["port"], board_dir, b.get("variant"), path, line_no, name)
                elif path.endswith(".cmake"):
                    got = int(re.search(r"set\(\s*%s\s+\"?(\w+)" % name, line).group(1), 0)
                elif "sdkconfig" in path:
                    mm = re.fullmatch(r"CONFIG_ESPTOOLPY_FLASHSIZE_(\d+)MB=y", line.strip())
                    got = int(mm.group(1)) << 20 if mm and name == "CONFIG_ESPTOOLPY_FLASHSIZE" else None
                else:
                    skipped += 1
                    continue
            except Exception as e:  # the tool could not read it: a disagreement
                bad.append("%s: %s" % (label, e))
                continue
            checked += 1
            boards.add(b["board"])
            if got != want:
                bad.append("%s: boards.json %s, the build %s" % (label, hex(want), hex(got) if got is not None else got))
    for line in bad:
        print("FAIL " + line)
    print("checked %d values of %d boards, %d skipped, %d disagree" % (checked, len(boards), skipped, len(bad)))
    sys.exit(1 if bad or not checked else 0)


if __name__ == "__main__":
    main()
