#!/usr/bin/env python3
"""Stands in for MicroPython's mpy-cross in tests, honouring its command-line contract:

    mpy-cross [-march=ARCH] [other options] -o OUT -s SOURCE_NAME SOURCE.py
    mpy-cross --version

Exit 0 with OUT written on success; on a syntax error exit 1 and print, as mpy-cross
does, a traceback naming the source name and line. OUT starts with a .mpy header as
mpy-cross writes it: 'M', version 6, the feature byte, 0x1f. As in mpy-cross, the
feature byte holds -march's architecture (and sub-version 3) only when the module has
native code (@micropython.native/viper/asm_*), and native code without -march is a
SyntaxError "invalid arch". Then a text line recording the arch and source name (so
tests can check what the tool passed), then the source."""
import re
import sys

# MicroPython's native architecture numbers (py/persistentcode.h), .mpy 6.3.
ARCHS = ["none", "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp",
         "armv7emdp", "xtensa", "xtensawin", "rv32imc", "rv64imc", "debug"]
MPY_SUB_VERSION = 3


def main(argv):
    if argv[1:] == ["--version"]:
        print("MicroPython (romfs test stand-in); mpy-cross emitting mpy v6.%d" % MPY_SUB_VERSION)
        return 0
    out = name = src = None
    arch = "none"
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "-o":
            out = argv[i + 1]; i += 2; continue
        if a == "-s":
            name = argv[i + 1]; i += 2; continue
        if a.startswith("-march="):
            arch = a.split("=", 1)[1]
            if arch not in ARCHS:
                print("unknown architecture '%s'" % arch, file=sys.stderr)
                return 1
        elif not a.startswith("-"):
            src = a
        i += 1
    if not src or not out:
        print("usage: mpy-cross [options] [input filename]", file=sys.stderr)
        return 2
    text = open(src, "rb").read()
    try:
        compile(text, name or src, "exec")
    except SyntaxError as e:
        # like mpy-cross, errors name the path it was given (-s only names the .mpy's source)
        print('Traceback (most recent call last):\n  File "%s", line %d\nSyntaxError: invalid syntax'
              % (src, e.lineno or 1), file=sys.stderr)
        return 1
    native = re.search(rb"^\s*@micropython\.(native|viper|asm_\w+)", text, re.M)
    if native and arch == "none":
        line = text.count(b"\n", 0, native.start()) + 1
        print('Traceback (most recent call last):\n  File "%s", line %d\nSyntaxError: invalid arch'
              % (src, line), file=sys.stderr)
        return 1
    feature = (ARCHS.index(arch) << 2 | MPY_SUB_VERSION) if native else 0
    with open(out, "wb") as f:
        f.write(bytes([ord("M"), 6, feature, 0x1F]))
        f.write(("arch=%s source=%s\n" % (arch, name or src)).encode())
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
