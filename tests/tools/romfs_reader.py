#!/usr/bin/env python3
"""An independent ROMFS reader, written from the format description alone.

Used by the tests as a second opinion on every image the C writer produces.

    romfs_reader.py IMAGE              print one line per entry: TYPE PATH SIZE OFFSET SHA256
    romfs_reader.py IMAGE --extract D  write the tree into directory D
    romfs_reader.py IMAGE --check-align N   fail unless every non-empty file's data
                                            offset is a multiple of N

Format: varuint = big-endian 7-bit groups, high bit on all but the last byte.
Record = varuint kind, varuint length, payload. Image = record of kind 0x14a6b1
(bytes d2 cd 31) whose payload holds records; 1 padding, 2 verbatim data,
3 indirect data (size, offset from payload start), 4 directory and 5 file
(varuint name length, name, nested records). Unknown kinds are skipped.
"""
import hashlib
import os
import sys


class Corrupt(Exception):
    pass


def varuint(buf, pos, end):
    value = 0
    while True:
        if pos >= end:
            raise Corrupt("truncated varuint at %d" % pos)
        b = buf[pos]
        pos += 1
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            return value, pos


def records(buf, pos, end):
    while pos < end:
        start = pos
        kind, pos = varuint(buf, pos, end)
        length, pos = varuint(buf, pos, end)
        if pos + length > end:
            raise Corrupt("record at %d overruns its parent (ends %d)" % (start, end))
        if kind == 0:
            raise Corrupt("unused record at %d" % start)
        yield kind, start, pos, pos + length
        pos += length


class Image:
    def __init__(self, data):
        if len(data) < 4 or data[:3] != b"\xd2\xcd\x31":
            raise Corrupt("bad header")
        length, self.payload = varuint(data, 3, len(data))
        self.end = self.payload + length
        if self.end > len(data):
            raise Corrupt("image length beyond the data")
        if self.end % 2:
            raise Corrupt("odd image size %d" % self.end)
        self.data = data

    def entries(self, start=None, end=None, prefix=""):
        """Yield (type, path, data_offset, size) depth first, in image order."""
        start = self.payload if start is None else start
        end = self.end if end is None else end
        for kind, _, pos, nxt in records(self.data, start, end):
            if kind not in (4, 5):
                continue
            nlen, pos = varuint(self.data, pos, nxt)
            name = self.data[pos:pos + nlen].decode("utf-8")
            if pos + nlen > nxt:
                raise Corrupt("name overruns record")
            path = prefix + name
            pos += nlen
            if kind == 4:
                yield "dir", path, None, 0
                yield from self.entries(pos, nxt, path + "/")
            else:
                offset, size = self.file_data(pos, nxt)
                yield "file", path, offset, size

    def file_data(self, pos, end):
        for kind, _, p, nxt in records(self.data, pos, end):
            if kind == 2:
                return p, nxt - p
            if kind == 3:
                size, p = varuint(self.data, p, nxt)
                off, p = varuint(self.data, p, nxt)
                if self.payload + off + size > self.end:
                    raise Corrupt("indirect data outside the image")
                return self.payload + off, size
        raise Corrupt("file without data")


def main(argv):
    data = open(argv[1], "rb").read()
    img = Image(data)
    if len(argv) > 3 and argv[2] == "--extract":
        dest = argv[3]
        os.makedirs(dest, exist_ok=True)
        for typ, path, off, size in img.entries():
            target = os.path.join(dest, path)
            if typ == "dir":
                os.makedirs(target, exist_ok=True)
            else:
                with open(target, "wb") as f:
                    f.write(data[off:off + size])
        return 0
    align = int(argv[3]) if len(argv) > 3 and argv[2] == "--check-align" else 1
    bad = 0
    for typ, path, off, size in img.entries():
        if typ == "dir":
            print("dir", path)
            continue
        digest = hashlib.sha256(data[off:off + size]).hexdigest()
        print("file", path, size, off, digest)
        if size and off % align:
            print("misaligned: %s at %d (align %d)" % (path, off, align), file=sys.stderr)
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Corrupt as e:
        print("corrupt image:", e, file=sys.stderr)
        sys.exit(2)
