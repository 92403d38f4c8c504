#!/usr/bin/env python3
"""uf2_reader.py FILE.uf2 OUT.bin: an independent UF2 reader for the tests.

Checks every block against Microsoft's UF2 specification (512-byte blocks, the three
magic numbers, payload size <= 476, block numbers 0..numBlocks-1 in order, the same
numBlocks and family id in every block, flag 0x2000 "family id present", no overlapping
addresses), then writes the payload bytes, from the lowest address, to OUT.bin (gaps
filled with 0xff). Prints one line: "address 0x... size N family 0x... blocks N payload N".
Exits 1 with a message on any violation.
"""
import struct
import sys

MAGIC0, MAGIC1, MAGIC_END = 0x0A324655, 0x9E5D5157, 0x0AB16F30
FLAG_NOT_MAIN_FLASH, FLAG_FILE_CONTAINER, FLAG_FAMILY, FLAG_MD5 = 0x1, 0x1000, 0x2000, 0x4000


def fail(msg):
    sys.stderr.write("uf2_reader: %s\n" % msg)
    sys.exit(1)


def main():
    data = open(sys.argv[1], "rb").read()
    if not data or len(data) % 512:
        fail("file size %d is not a positive multiple of 512" % len(data))
    chunks = {}
    family = nblocks = payload = None
    for i in range(len(data) // 512):
        b = data[i * 512:(i + 1) * 512]
        m0, m1, flags, addr, size, blockno, numblocks, fam = struct.unpack("<8I", b[:32])
        (mend,) = struct.unpack("<I", b[508:])
        if (m0, m1, mend) != (MAGIC0, MAGIC1, MAGIC_END):
            fail("block %d: bad magic %08x %08x %08x" % (i, m0, m1, mend))
        if not flags & FLAG_FAMILY:
            fail("block %d: flag 0x2000 (family id present) not set: flags %08x" % (i, flags))
        if flags & (FLAG_NOT_MAIN_FLASH | FLAG_FILE_CONTAINER):
            fail("block %d: unexpected flags %08x" % (i, flags))
        if size == 0 or size > 476:
            fail("block %d: payload size %d" % (i, size))
        if blockno != i:
            fail("block %d numbered %d" % (i, blockno))
        if nblocks is None:
            nblocks, family, payload = numblocks, fam, size
        if numblocks != nblocks or fam != family:
            fail("block %d: numBlocks/family %d/%08x differ from block 0" % (i, numblocks, fam))
        for a in chunks:
            if a < addr + size and addr < a + len(chunks[a]):
                fail("block %d: address %08x overlaps an earlier block" % (i, addr))
        chunks[addr] = b[32:32 + size]
    if nblocks != len(data) // 512:
        fail("numBlocks %d but the file holds %d blocks" % (nblocks, len(data) // 512))
    lo = min(chunks)
    hi = max(a + len(c) for a, c in chunks.items())
    out = bytearray(b"\xff" * (hi - lo))
    for a, c in chunks.items():
        out[a - lo:a - lo + len(c)] = c
    open(sys.argv[2], "wb").write(out)
    print("address 0x%08x size %d family 0x%08x blocks %d payload %d" % (lo, hi - lo, family, nblocks, payload))


if __name__ == "__main__":
    main()
