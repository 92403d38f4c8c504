# helper.py: sent once per session by `romfs flash`/`romfs query`, together with
# list.py (comment lines and indentation-only blank lines are stripped before sending;
# it uses list.py's _rf_hexs). Defines _rf_* functions;
# the host then calls them with short execs. Works with both partition APIs:
# vfs.rom_ioctl (memoryview partitions) and partition objects with ioctl/writeblocks.
import vfs, sys
_rf = {}
def _rf_caps():
    c = []
    for m, n, k in (("hashlib", "sha256", "hashlib"), ("binascii", "a2b_base64", "base64"), ("deflate", "DeflateIO", "deflate"), ("io", "BytesIO", "bytesio"), ("micropython", "kbd_intr", "kbd_intr")):
        try:
            if hasattr(__import__(m), n):
                c.append(k)
        except ImportError:
            pass
    try:
        sys.stdin.buffer.readinto
        sys.stdout.buffer.write
        c.append("stdio")
    except AttributeError:
        pass
    if hasattr(bytes, "fromhex"):
        c.append("fromhex")
    if hasattr(vfs, "rom_ioctl"):
        c.append("rom_ioctl")
    print("caps", " ".join(c))
    print("mpy", getattr(sys.implementation, "_mpy", 0))
    print("platform", sys.platform)
    # the largest block the heap can give (up to 128 KiB): the host sizes its write
    # batches and deflate window by it (a program left before, e.g. by another tool,
    # may hold much of the heap)
    b = None
    n = 131072
    while n > 1024:
        try:
            b = bytearray(n)
            break
        except MemoryError:
            n -= 16384 if n > 16384 else n // 2
    b = None
    print("mem", n)
    n = vfs.rom_ioctl(1) if hasattr(vfs, "rom_ioctl") else 0
    print("parts", n if n > 0 else 0)
def _rf_open(i, api):
    d = vfs.rom_ioctl(2, i)
    if isinstance(d, int):
        raise OSError("ROMFS partition %d not found (rom_ioctl(2) returned %d)" % (i, d))
    o = hasattr(d, "ioctl")
    if o and api == "rom" or not o and api == "obj":
        raise OSError("partition %d has no %s API" % (i, "rom_ioctl" if api == "rom" else "object"))
    w = 0
    if o:
        bs = d.ioctl(5, 0)
        size = d.ioctl(4, 0) * bs
    else:
        size = len(d)
        bs = vfs.rom_ioctl(6, i)
        if bs <= 0:
            bs = size
        # the write unit: rom_ioctl(3) returns it, and for a length of 0 erases nothing
        # (stm32, alif, samd, esp8266, renesas-ra, qemu); < 0: a read-only partition
        w = vfs.rom_ioctl(3, i, 0, 0)
        if not isinstance(w, int) or w < 0:
            w = 0
    # esp8266 and renesas-ra take rom_ioctl(3, id, len) only: erases start at offset 0
    p = not o and sys.platform in ("esp8266", "renesas-ra")
    _rf.update(d=d, i=i, o=o, bs=bs, size=size, w=w, p=p)
    return size, bs, o
def _rf_info(i, api):
    size, bs, o = _rf_open(i, api)
    h = bytes(_rf_read(0, 16))
    print("part", i, size, bs, "obj" if o else "rom", _rf_hexs(h))
def _rf_read(off, n):
    d = _rf["d"]
    if not _rf["o"]:
        return memoryview(d)[off:off + n]
    bs = _rf["bs"]
    b = bytearray(n)
    d.readblocks(off // bs, b, off % bs)
    return b
def _rf_sha(off, n):
    import hashlib
    h = hashlib.sha256()
    k = 0
    while k < n:
        m = min(4096, n - k)
        h.update(_rf_read(off + k, m))
        k += m
    return h.digest()
def _rf_hex(off, n, bs):
    for b in range(off, off + n, bs):
        print(_rf_hexs(_rf_sha(b, bs)))
def _rf_umount():
    try:
        vfs.umount("/rom")
    except Exception:
        pass
def _rf_erase(off, n, ws):
    if not _rf.get("u"):
        # the first erase unmounts /rom: nothing may read a partition being rewritten;
        # a run that erases nothing leaves /rom mounted and needs no reset
        _rf_umount()
        _rf["u"] = 1
    d, bs = _rf["d"], _rf["bs"]
    if _rf["o"]:
        for b in range(off // bs, (off + n) // bs):
            r = d.ioctl(6, b)
            if isinstance(r, int) and r < 0:
                raise OSError("ioctl(6) erase of block %d failed: %d" % (b, r))
    elif _rf["p"]:
        if off:
            raise OSError("this port erases only from the partition's start, not at %d" % off)
        w = vfs.rom_ioctl(3, _rf["i"], n)
    else:
        w = vfs.rom_ioctl(3, _rf["i"], off, n)
        if w < 0:
            raise OSError("rom_ioctl(3) erase at %d failed: %d" % (off, w))
        if w > ws or ws % w:
            raise OSError("device needs writes in multiples of %d bytes, romfs uses %d" % (w, ws))
def _rf_w(off, b):
    if _rf["o"]:
        bs = _rf["bs"]
        _rf["d"].writeblocks(off // bs, b, off % bs)
    else:
        r = vfs.rom_ioctl(4, _rf["i"], off, b)
        if r is not None and r < 0:
            raise OSError("rom_ioctl(4) write at %d failed: %d" % (off, r))
def _rf_sync():
    if not _rf["o"]:
        vfs.rom_ioctl(5, _rf["i"])
