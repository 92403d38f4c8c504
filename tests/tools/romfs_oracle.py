#!/usr/bin/env python3
"""A ROMFS image writer with MicroPython's mpremote rules, written from the format alone.

The rules (what `mpremote romfs build` produces, and `romfs pack --align 1` must too):
  - varuint: big-endian 7-bit groups, high bit on every byte but the last, minimal;
  - record: varuint kind, varuint payload length, payload;
  - a directory is a record of kind 4: varuint name length, name, its entries' records;
  - a file is a record of kind 5: varuint name length, name, one record of kind 2
    (verbatim data) holding the file's bytes;
  - entries of a directory in the order of their names' bytes;
  - the image is bytes d2 cd 31 (kind 0x14a6b1), the varuint length of the root's
    entries, then the entries; when that total is odd, one 0x80 byte goes before the
    length (a leading 0x80 in a varuint changes nothing), so the image size is even.
No padding records, no alignment, no indirect data.

    romfs_oracle.py DIR OUT     write DIR's image to OUT

As a module: image(tree) for a {name(bytes|str): bytes | dict} tree, tree_from_dir(path),
and payload_size(tree) (the length of a directory's entries, as the image's own length
varuint or a directory record carries it after its name).
"""
import os
import sys

KIND_FILESYSTEM = 0x14A6B1
KIND_VERBATIM = 2
KIND_DIRECTORY = 4
KIND_FILE = 5


def varuint(value):
    groups = [value & 0x7F]
    value >>= 7
    while value:
        groups.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(groups))


def record(kind, payload):
    return varuint(kind) + varuint(len(payload)) + payload


def _name(name):
    return name.encode() if isinstance(name, str) else name


def entries(tree):
    """The records of a directory's entries, sorted by name bytes."""
    out = bytearray()
    for name in sorted(tree, key=_name):
        nb = _name(name)
        value = tree[name]
        head = varuint(len(nb)) + nb
        if isinstance(value, dict):
            out += record(KIND_DIRECTORY, head + entries(value))
        else:
            out += record(KIND_FILE, head + record(KIND_VERBATIM, bytes(value)))
    return bytes(out)


def payload_size(tree):
    return len(entries(tree))


def image(tree):
    payload = entries(tree)
    header = bytes([0xD2, 0xCD, 0x31])
    length = varuint(len(payload))
    if (len(header) + len(length) + len(payload)) % 2:
        length = b"\x80" + length
    return header + length + payload


def tree_from_dir(path):
    tree = {}
    for entry in os.scandir(path):
        if entry.is_dir():
            tree[os.fsencode(entry.name)] = tree_from_dir(entry.path)
        else:
            with open(entry.path, "rb") as f:
                tree[os.fsencode(entry.name)] = f.read()
    return tree


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: romfs_oracle.py DIR OUT")
    with open(sys.argv[2], "wb") as f:
        f.write(image(tree_from_dir(sys.argv[1])))
