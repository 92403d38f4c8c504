#!/usr/bin/env python3
"""Stands in for MicroPython's mpy-cross in tests, honouring its command-line contract:

    mpy-cross [-march=ARCH] [other options] -o OUT -s SOURCE_NAME SOURCE.py

Exit 0 with OUT written on success; on a syntax error exit 1 and print, as mpy-cross
does, a traceback naming the source name and line. OUT starts with the .mpy magic 'M'
and version 6, then a text line recording the arch and source name (so tests can check
what the tool passed), then the source."""
import sys


def main(argv):
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
    with open(out, "wb") as f:
        f.write(b"M\x06\x00\x1f")
        f.write(("arch=%s source=%s\n" % (arch, name or src)).encode())
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
