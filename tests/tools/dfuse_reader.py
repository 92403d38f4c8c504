#!/usr/bin/env python3
"""dfuse_reader.py FILE.dfu OUT.bin: an independent reader of ST DfuSe files (UM0391)
for the tests: prefix ("DfuSe", version 1, image size, target count), target prefixes
("Target", alt, named, name, size, element count), elements (address, size, bytes),
DFU suffix (bcdDevice, idProduct, idVendor, bcdDFU 0x011a, "UFD", length 16, CRC).
Requires exactly one target with one element; writes its bytes to OUT.bin and prints
"address 0x... size N device VVVV:PPPP alt N target NAME". Exits 1 on any violation.
"""
import struct
import sys
import zlib


def fail(msg):
    sys.stderr.write("dfuse_reader: %s\n" % msg)
    sys.exit(1)


def main():
    f = open(sys.argv[1], "rb").read()
    if len(f) < 11 + 16:
        fail("file too short")
    suffix = f[-16:]
    bcd_device, pid, vid, bcd_dfu, sig, slen, crc = struct.unpack("<HHHH3sBI", suffix)
    if sig != b"UFD" or slen != 16:
        fail("no DFU suffix (signature %r, length %d)" % (sig, slen))
    want = (zlib.crc32(f[:-4]) ^ 0xFFFFFFFF) & 0xFFFFFFFF
    if crc != want:
        fail("suffix CRC %08x, computed %08x" % (crc, want))
    if bcd_dfu != 0x011A:
        fail("bcdDFU %04x is not DfuSe 0x011a" % bcd_dfu)
    sig, ver, image_size, ntargets = struct.unpack("<5sBIB", f[:11])
    if sig != b"DfuSe" or ver != 1:
        fail("bad prefix %r version %d" % (sig, ver))
    if image_size != len(f) - 16:
        fail("DFUImageSize %d, file without suffix is %d" % (image_size, len(f) - 16))
    if ntargets != 1:
        fail("%d targets, expected 1" % ntargets)
    p = 11
    tsig, alt, named, name, tsize, nelem = struct.unpack("<6sBI255sII", f[p:p + 274])
    if tsig != b"Target":
        fail("bad target signature %r" % tsig)
    p += 274
    if p + tsize != len(f) - 16:
        fail("dwTargetSize %d does not reach the suffix" % tsize)
    if nelem != 1:
        fail("%d elements, expected 1" % nelem)
    addr, esize = struct.unpack("<II", f[p:p + 8])
    if 8 + esize != tsize:
        fail("element size %d does not match target size %d" % (esize, tsize))
    open(sys.argv[2], "wb").write(f[p + 8:p + 8 + esize])
    tname = name.split(b"\0")[0].decode("latin-1") if named else ""
    print("address 0x%08x size %d device %04x:%04x alt %d target %s" % (addr, esize, vid, pid, alt, tname))


if __name__ == "__main__":
    main()
