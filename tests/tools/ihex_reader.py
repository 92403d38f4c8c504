#!/usr/bin/env python3
"""ihex_reader.py FILE.hex OUT.bin: an independent Intel HEX reader for the tests.

Accepts record types 00 (data), 01 (end of file), 02 (extended segment address),
04 (extended linear address), 03/05 (start address, ignored); checks every record's
length and checksum, that 01 comes last and exactly once, and that no byte is given
twice. Writes the bytes from the lowest address to OUT.bin (gaps 0xff) and prints
"address 0x... size N records N". Exits 1 with a message on any violation.
"""
import sys


def fail(msg):
    sys.stderr.write("ihex_reader: %s\n" % msg)
    sys.exit(1)


def main():
    mem = {}
    base = 0
    seen_eof = False
    records = 0
    for n, line in enumerate(open(sys.argv[1], "r"), 1):
        line = line.rstrip("\r\n")
        if not line:
            continue
        if seen_eof:
            fail("line %d: data after the end-of-file record" % n)
        if line[0] != ":" or len(line) < 11 or len(line) % 2 == 0:
            fail("line %d: not a record: %r" % (n, line))
        raw = bytes.fromhex(line[1:])
        count, addr, rtype = raw[0], raw[1] << 8 | raw[2], raw[3]
        if len(raw) != count + 5:
            fail("line %d: length byte %d but %d data bytes" % (n, count, len(raw) - 5))
        if sum(raw) & 0xFF:
            fail("line %d: bad checksum" % n)
        body = raw[4:-1]
        records += 1
        if rtype == 0:
            for i, byte in enumerate(body):
                a = base + ((addr + i) & 0xFFFF)
                if a in mem:
                    fail("line %d: address %08x given twice" % (n, a))
                mem[a] = byte
        elif rtype == 1:
            seen_eof = True
        elif rtype == 2:
            base = (body[0] << 8 | body[1]) << 4
        elif rtype == 4:
            if count != 2:
                fail("line %d: type 04 with %d bytes" % (n, count))
            base = (body[0] << 8 | body[1]) << 16
        elif rtype in (3, 5):
            pass
        else:
            fail("line %d: unknown record type %02x" % (n, rtype))
    if not seen_eof:
        fail("no end-of-file record")
    if not mem:
        fail("no data")
    lo, hi = min(mem), max(mem) + 1
    out = bytearray(b"\xff" * (hi - lo))
    for a, byte in mem.items():
        out[a - lo] = byte
    open(sys.argv[2], "wb").write(out)
    print("address 0x%08x size %d records %d" % (lo, hi - lo, records))


if __name__ == "__main__":
    main()
