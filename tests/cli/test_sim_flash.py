# test_sim_flash.py: `romfs sim`'s flash model (NOR semantics, both device APIs,
# persistence), its VfsRom mount of real images, its modules, and every fault kind.
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simlib import Sim, ROMFS, make_image, run  # noqa: E402

TMP = tempfile.mkdtemp(prefix="romfs-simflash.")
APP = {"main.py": b"print('hello from rom')\n", "lib": {"util.py": b"def answer():\n    return 42\n"},
       "data.bin": bytes(range(256)) * 3}


def sim(*args, **kw):
    s = Sim(*args, **kw)
    s.raw()
    return s


def write_image_ioctl(s, img, block):
    """Write img with vfs.rom_ioctl as mpremote does (erase, write chunks, complete)."""
    s.ok("import vfs\ntry:\n vfs.umount('/rom')\nexcept OSError:\n pass")
    prepare = (len(img) + block - 1) // block * block
    assert s.eval("vfs.rom_ioctl(3,0,0,%d)" % prepare) == 4
    padded = img + b"\xff" * (-len(img) % 4)
    for off in range(0, len(padded), 1024):
        chunk = padded[off:off + 1024]
        b64 = base64.b64encode(chunk).decode()
        assert s.eval("vfs.rom_ioctl(4,0,%d,__import__('binascii').a2b_base64('%s'))" % (off, b64)) == 0


def flash_and_semantics():
    path = os.path.join(TMP, "sem.bin")
    s = sim("--partition-size", "64K", "--erase-block", "4K", "--write-block", "4", "--flash", path)
    try:
        assert os.path.getsize(path) == 65536 and open(path, "rb").read() == b"\xff" * 65536
        s.ok("import vfs\ndev = vfs.rom_ioctl(2,0)")
        assert s.eval("(vfs.rom_ioctl(1), len(dev), vfs.rom_ioctl(6,0))") == (1, 65536, 4096)
        # Program clears bits only: writing 0x0f then 0xf0 to the same word gives 0x00.
        assert s.eval("vfs.rom_ioctl(4,0,8,b'\\x0f\\x0f\\x0f\\x0f')") == 0
        assert s.eval("vfs.rom_ioctl(4,0,8,b'\\xf0\\xff\\x3c\\x0f')") == 0
        assert s.eval("bytes(dev[8:12])") == b"\x00\x0f\x0c\x0f"
        data = open(path, "rb").read()
        assert data[8:12] == b"\x00\x0f\x0c\x0f" and data[:8] == b"\xff" * 8
        # Erase with (3, id, offset, len) resets whole blocks to 0xff.
        assert s.eval("vfs.rom_ioctl(4,0,4096,b'\\x00'*8)") == 0
        assert s.eval("vfs.rom_ioctl(3,0,0,4096)") == 4
        assert s.eval("bytes(dev[0:16])") == b"\xff" * 16
        assert s.eval("bytes(dev[4096:4104])") == b"\x00" * 8, "erase reached the next block"
        # (3, id, len): from offset 0.
        assert s.eval("vfs.rom_ioctl(3,0,8192)") == 4
        assert s.eval("bytes(dev[4096:4104])") == b"\xff" * 8
        # Bounds and alignment errors are -EINVAL, flash untouched.
        assert s.eval("vfs.rom_ioctl(4,0,65532,b'\\x00'*8)") == -22
        assert s.eval("vfs.rom_ioctl(4,0,2,b'\\x00'*4)") == -22
        assert s.eval("vfs.rom_ioctl(4,0,0,b'\\x00'*3)") == -22
        assert s.eval("vfs.rom_ioctl(3,0,65536,4096)") == -22
        assert s.eval("vfs.rom_ioctl(2,1)") == -22
        assert s.eval("vfs.rom_ioctl(9,0)") == -22
        assert s.eval("vfs.rom_ioctl(5,0)") == -22   # stm32 leaves WRITE_COMPLETE unimplemented
        assert open(path, "rb").read(16) == b"\xff" * 16
        # The partition view is read-only, like memory-mapped flash.
        out, err = s.exec("dev[0] = 0")
        assert b"TypeError" in err, err
    finally:
        s.close()


def vfsrom_mount_and_persistence():
    path = os.path.join(TMP, "persist.bin")
    img = make_image(APP)
    s = sim("--flash", path)
    try:
        assert s.eval("__import__('os').listdir('/')") == []
        write_image_ioctl(s, img, 4096)
        s.write(b"\x04")
        s.expect(b"OK\r\nMPY: soft reboot\r\nraw REPL; CTRL-B to exit\r\n>")
        s.ok("import os")
        assert s.eval("os.listdir('/')") == ["rom"]
        assert s.eval("sorted(os.listdir('/rom'))") == ["data.bin", "lib", "main.py"]
        assert s.eval("os.listdir('/rom/lib')") == ["util.py"]
        assert s.eval("open('/rom/main.py').read()") == APP["main.py"].decode()
        assert s.eval("open('/rom/data.bin','rb').read()") == APP["data.bin"]
        assert s.eval("os.stat('/rom/data.bin')[6]") == 768
        assert s.eval("os.stat('/rom/lib')[0]") == 0x4000
        assert s.eval("[e[:2] for e in os.ilistdir('/rom')]") == [("data.bin", 0x8000), ("lib", 0x4000),
                                                                  ("main.py", 0x8000)]
        out, err = s.exec("os.stat('/rom/nope')")
        assert err.endswith(b"OSError: [Errno 2] ENOENT\r\n"), err
        out, err = s.exec("open('/rom/x','w')")
        assert b"OSError: [Errno 30] EROFS" in err, err
        # /rom and /rom/lib are on sys.path: importing from the image works.
        assert s.eval("__import__('util').answer()") == 42
        assert s.eval("__import__('sys').path") == ["", ".frozen", "/rom", "/rom/lib"]
    finally:
        s.close()
    assert open(path, "rb").read(len(img)) == img
    # A restart with the same file mounts the image again.
    s = sim("--flash", path)
    try:
        assert s.eval("sorted(__import__('os').listdir('/rom'))") == ["data.bin", "lib", "main.py"]
        # An invalidated header: nothing mounted after a soft reset.
        s.ok("import vfs\nvfs.umount('/rom')\nvfs.rom_ioctl(4,0,0,b'\\x00\\x00\\x00\\x00')")
        s.write(b"\x04")
        s.read_until(b"raw REPL; CTRL-B to exit\r\n>")
        assert s.eval("__import__('os').listdir('/')") == []
        out, err = s.exec("import vfs\nvfs.VfsRom(vfs.rom_ioctl(2,0))")
        assert err.endswith(b"OSError: [Errno 19] ENODEV\r\n"), err
    finally:
        s.close()


def vfsrom_reads_packed_image():
    # An image made by `romfs pack` (aligned, indirect data...) reads back through the
    # simulator's own independent reader.
    src = os.path.join(TMP, "app")
    os.makedirs(os.path.join(src, "lib"), exist_ok=True)
    for name, data in (("main.py", APP["main.py"]), ("lib/util.py", APP["lib"]["util.py"]),
                       ("data.bin", APP["data.bin"])):
        with open(os.path.join(src, name), "wb") as f:
            f.write(data)
    out = os.path.join(TMP, "app.romfs")
    p = subprocess.run([ROMFS, "pack", src, "-o", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.returncode == 0, p.stderr
    img = open(out, "rb").read()
    path = os.path.join(TMP, "packed.bin")
    with open(path, "wb") as f:
        f.write(img + b"\xff" * (131072 - len(img)))
    s = sim("--flash", path)
    try:
        assert s.eval("sorted(__import__('os').listdir('/rom'))") == ["data.bin", "lib", "main.py"]
        assert s.eval("open('/rom/data.bin','rb').read()") == APP["data.bin"]
        assert s.eval("open('/rom/lib/util.py').read()") == APP["lib"]["util.py"].decode()
    finally:
        s.close()


def object_api():
    path = os.path.join(TMP, "obj.bin")
    s = sim("--api", "object", "--partition-size", "32K", "--erase-block", "4K", "--flash", path)
    try:
        s.ok("import vfs\ndev = vfs.rom_ioctl(2,0)")
        assert s.eval("hasattr(dev,'ioctl')") is True
        assert s.eval("(dev.ioctl(4,0), dev.ioctl(5,0))") == (8, 4096)
        assert s.eval("vfs.rom_ioctl(3,0,4096)") == -22   # no memoryview API on these ports
        assert s.eval("bytes(memoryview(dev)[:4])") == b"\xff" * 4
        # writeblocks with an offset programs (AND), without one erases first.
        s.ok("dev.writeblocks(1, b'\\x0f'*8, 16)\ndev.writeblocks(1, b'\\xf3'*8, 16)")
        assert s.eval("bytes(memoryview(dev)[4096+16:4096+24])") == b"\x03" * 8
        s.ok("dev.writeblocks(1, b'\\xaa'*4096)")
        assert s.eval("bytes(memoryview(dev)[4096+16:4096+20])") == b"\xaa" * 4
        assert s.eval("dev.ioctl(6,1)") == 0
        b = s.ok("b = bytearray(8)\ndev.readblocks(1, b, 16)\nprint(bytes(b))")
        assert b == b"b'\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff'\r\n", b
        img = make_image({"a.txt": b"object api\n"})
        img += b"\xff" * (-len(img) % 4)
        s.ok("import binascii\ndev.ioctl(6,0)\ndev.writeblocks(0, binascii.a2b_base64('%s'), 0)"
             % base64.b64encode(img).decode())
        s.write(b"\x04")
        s.read_until(b"raw REPL; CTRL-B to exit\r\n>")
        assert s.eval("open('/rom/a.txt').read()") == "object api\n"
    finally:
        s.close()


def modules_like_micropython():
    s = sim("--board-name", "TESTBOARD", "--mcu", "STM32H743")
    try:
        impl = s.eval("tuple(__import__('sys').implementation)")
        # armv7emdp (8) for an H7: 6 | (3 | 8 << 2) << 8
        assert impl[0] == "micropython" and impl[3] == 6 | ((3 | (8 << 2)) << 8), impl
        assert s.eval("__import__('sys').implementation._mpy & 0xff") == 6
        assert s.eval("__import__('sys').platform") == "pyboard"
        # mpremote's deflate path, byte for byte what it sends.
        chunk = bytes(range(256)) * 16
        c = zlib.compressobj(wbits=-9)
        comp = c.compress(chunk) + c.flush()
        b64 = base64.b64encode(comp)
        s.ok("from binascii import a2b_base64\nfrom io import BytesIO\nfrom deflate import DeflateIO,RAW")
        s.ok("buf=DeflateIO(BytesIO(a2b_base64(%r)),RAW,9).read()" % b64)
        assert s.eval("len(buf)") == 4096
        assert s.eval("__import__('hashlib').sha256(buf).digest()") == hashlib.sha256(chunk).digest()
        # hashlib as on MicroPython: no hexdigest, final after digest().
        assert s.eval("hasattr(__import__('hashlib').sha256(), 'hexdigest')") is False
        out, err = s.exec("import hashlib\nh = hashlib.sha256(b'a')\nh.digest()\nh.update(b'b')")
        assert err.endswith(b"ValueError: hash is final\r\n"), err
        assert s.eval("__import__('binascii').b2a_base64(b'hi')") == b"aGk=\n"
        assert s.eval("__import__('binascii').hexlify(b'\\x01\\xab')") == b"01ab"
        # A stream compressed with a window larger than DeflateIO's wbits fails, as on a device.
        far = os.urandom(600) + b"x" * 10 + os.urandom(100)
        far = far + far[:600]
        c = zlib.compressobj(wbits=-15)
        comp = c.compress(far) + c.flush()
        out, err = s.exec("DeflateIO(BytesIO(%r),RAW,8).read()" % comp)
        assert b"OSError" in err, (out, err)
        # The host's modules are not reachable.
        out, err = s.exec("import subprocess")
        assert b"ImportError" in err, err
        assert s.eval("__import__('os').uname().sysname") == "pyboard"
        assert s.eval("hasattr(__import__('os'), 'system')") is False
        assert s.eval("len(__import__('machine').unique_id())") == 12
    finally:
        s.close()


def modules_can_be_removed():
    s = sim("--no-deflate", "--no-base64", "--no-fromhex", "--without", "hashlib")
    try:
        for stmt in ("from deflate import DeflateIO", "from binascii import a2b_base64", "import hashlib"):
            out, err = s.exec(stmt)
            assert b"ImportError" in err, (stmt, err)
        assert s.eval("hasattr(bytes,'fromhex')") is False
        assert s.eval("bytes([1,2]) == b'\\x01\\x02'") is True
        assert s.eval("isinstance(b'', bytes)") is True
        assert s.eval("hasattr(__import__('binascii'),'hexlify')") is True
    finally:
        s.close()
    s = sim("--no-romfs")
    try:
        assert s.eval("hasattr(__import__('vfs'),'rom_ioctl')") is False
    finally:
        s.close()


def board_from_database():
    db = os.path.join(TMP, "boards.json")
    with open(db, "w") as f:
        json.dump({"schema": 1, "micropython": {}, "boards": [
            {"board": "SIMTEST_F4", "port": "stm32", "mcu": "STM32F405",
             "romfs": [{"index": 0, "start": 0x08020000, "size": 131072, "erase_block": 131072,
                        "write_block": 4, "mmap": True}]},
            {"board": "SIMTEST_PICO", "port": "rp2", "mcu": "RP2040",
             "flash": {"base": 0x10000000, "size": 2097152, "erase_block": 4096, "write_block": 256},
             "romfs": [{"index": 0, "start": 0x10180000, "size": 262144, "erase_block": 4096,
                        "write_block": 256, "mmap": True}]}]}, f)
    env = {"ROMFS_BOARDS": db}
    s = Sim("--board", "SIMTEST_F4", env=env)
    s.raw()
    try:
        s.ok("import vfs, sys")
        assert s.eval("(len(vfs.rom_ioctl(2,0)), vfs.rom_ioctl(6,0))") == (131072, 131072)
        assert s.eval("sys.implementation._mpy >> 10") == 7   # armv7emsp
        assert s.eval("sys.implementation._machine") == "SIMTEST_F4 with STM32F405"
    finally:
        s.close()
    s = Sim("--board", "simtest_pico", env=env)
    s.raw()
    try:
        s.ok("import vfs, sys")
        assert s.eval("hasattr(vfs.rom_ioctl(2,0), 'ioctl')") is True   # rp2: object API
        assert s.eval("(vfs.rom_ioctl(2,0).ioctl(4,0), vfs.rom_ioctl(2,0).ioctl(5,0))") == (64, 4096)
        assert s.eval("sys.implementation._mpy >> 10") == 4   # armv6m
        assert s.eval("sys.platform") == "rp2"
    finally:
        s.close()
    s = Sim("--board", "SIMTEST_PICO", "--api", "ioctl", env=env)
    s.raw()
    try:
        assert s.eval("__import__('vfs').rom_ioctl(3,0,0,4096)") == 256   # the write unit
    finally:
        s.close()


def stats_file():
    st = os.path.join(TMP, "stats.json")
    s = sim("--stats", st)
    try:
        s.ok("import vfs\nvfs.rom_ioctl(3,0,4096,8192)\nvfs.rom_ioctl(4,0,4096,b'\\x00'*64)")
        d = json.load(open(st))
        assert d["erases"] == 2 and d["erased_blocks"] == [1, 2], d
        assert d["writes"] == 1 and d["written_bytes"] == 64, d
        assert d["rx_bytes"] > 0 and d["tx_bytes"] > 0, d
    finally:
        s.close()


# -- faults ------------------------------------------------------------------------------

def fault_disconnect():
    path = os.path.join(TMP, "disc.bin")
    s = Sim("--flash", path, "--fault", "disconnect@100")
    try:
        s.write(b"\r\x01")
        s.read_until(b"raw REPL; CTRL-B to exit\r\n>")
        # 2 bytes so far; this command takes us to exactly 100 bytes: it still runs.
        code = b"import vfs\nvfs.rom_ioctl(4,0,0,b'\\x00\\x00\\x00\\x00')\n"
        code += b"#" * (96 - len(code)) + b"\n"
        assert 2 + len(code) + 1 == 100
        s.write(code + b"\x04")
        s.quiet(0.5)   # the answer may or may not make it out before the link drops
        try:
            s.write(b"print(1)\x04")
        except OSError:
            pass
        assert s.quiet(0.5) == b"", "the device answered after the disconnect"
        assert s.proc.wait(5) == 0
        assert open(path, "rb").read(8) == b"\x00" * 4 + b"\xff" * 4
    finally:
        s.close()


def fault_stall():
    s = Sim("--fault", "stall@2:1.0")
    try:
        t0 = time.monotonic()
        s.write(b"\r\x01")
        s.read_until(b"raw REPL; CTRL-B to exit\r\n>")
        assert time.monotonic() - t0 >= 0.9
        t0 = time.monotonic()
        assert s.exec("print(1)") == (b"1\r\n", b"")
        assert time.monotonic() - t0 < 0.9
    finally:
        s.close()


def fault_flip_rx():
    # Byte 9 of the stream ("\r\x01print(12)...") is the '2': bit 0 flipped makes it '3'.
    s = Sim("--fault", "flip-rx@9")
    try:
        s.write(b"\r\x01")
        s.read_until(b"raw REPL; CTRL-B to exit\r\n>")
        assert s.exec("print(12)") == (b"13\r\n", b"")
    finally:
        s.close()


def fault_flip_write_and_flash():
    s = sim("--fault", "flip-write@5:1,flip-flash@0x1004:7")
    try:
        s.ok("import vfs\ndev = vfs.rom_ioctl(2,0)")
        assert s.eval("vfs.rom_ioctl(4,0,0,b'\\x00'*8)") == 0
        # Byte 5 programmed as 0x00 ^ 0x02; erased flash AND 0x02 = 0x02.
        assert s.eval("bytes(dev[0:8])") == b"\x00" * 5 + b"\x02" + b"\x00" * 2
        assert s.eval("vfs.rom_ioctl(4,0,0x1000,b'\\x11'*8)") == 0
        assert s.eval("bytes(dev[0x1000:0x1008])") == b"\x11" * 4 + b"\x91" + b"\x11" * 3
        # Each fires once.
        assert s.eval("vfs.rom_ioctl(3,0,0,8192)") == 4
        assert s.eval("vfs.rom_ioctl(4,0,0,b'\\x00'*8)") == 0
        assert s.eval("bytes(dev[0:8])") == b"\x00" * 8
    finally:
        s.close()


def fault_power_cut_write_and_erase():
    path = os.path.join(TMP, "cut.bin")
    s = sim("--flash", path, "--fault", "cut-write@2")
    try:
        s.ok("import vfs\nvfs.rom_ioctl(4,0,0,b'\\x01'*16)")
        s.write(b"vfs.rom_ioctl(4,0,16,b'\\x02'*16)\x04")
        s.quiet(0.5)
        assert s.proc.wait(5) == 0
    finally:
        s.close()
    data = open(path, "rb").read(40)
    assert data == b"\x01" * 16 + b"\x02" * 8 + b"\xff" * 16, data
    s = sim("--flash", path, "--fault", "cut-erase@1")
    try:
        s.ok("import vfs\nvfs.rom_ioctl(4,0,3000,b'\\x00'*8)")
        s.write(b"vfs.rom_ioctl(3,0,0,4096)\x04")
        s.quiet(0.5)
        assert s.proc.wait(5) == 0
    finally:
        s.close()
    data = open(path, "rb").read(4096)
    assert data[:2048] == b"\xff" * 2048, "first half of the block not erased"
    assert data[3000:3008] == b"\x00" * 8, "second half erased although the power was cut"


if __name__ == "__main__":
    import atexit
    import shutil
    atexit.register(shutil.rmtree, TMP, True)
    sys.exit(run([flash_and_semantics, vfsrom_mount_and_persistence, vfsrom_reads_packed_image,
                  object_api, modules_like_micropython, modules_can_be_removed, board_from_database,
                  stats_file, fault_disconnect, fault_stall, fault_flip_rx, fault_flip_write_and_flash,
                  fault_power_cut_write_and_erase]))
