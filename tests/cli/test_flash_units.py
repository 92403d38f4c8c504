# test_flash_units.py: the board entry and the device disagree on the erase block or the
# write unit (a NOR partition writing in 16-byte units where the board entry says 4):
# `romfs flash` writes with the stricter of the two and says where each came from, or,
# when the image cannot be written with them, refuses before anything is erased, naming
# both values and their sources. An exception the device raises while writing becomes
# one message (what failed, at which partition offset, what the device said, what to
# do); its traceback shows only with --verbose.
#
# Ground truth: the simulator's flash file (--flash) and its statistics (--stats: how
# many blocks it erased).
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simlib import ROMFS, Sim, run  # noqa: E402

TMP = tempfile.mkdtemp(prefix="romfs-units.")
BOARDS = os.path.join(TMP, "boards.json")
HEADER = b"\xd2\xcd\x31"


def board(name, start, erase, write, size=131072):
    return {"board": name, "port": "stm32", "mcu": "STM32F405",
            "romfs": [{"index": 0, "start": start, "size": size, "erase_block": erase,
                       "write_block": write, "mmap": True}]}


with open(BOARDS, "w") as f:
    json.dump({"schema": 1, "micropython": {}, "boards": [
        board("T_W4", 0x08020000, 4096, 4),           # says 4-byte writes
        board("T_E4K", 0x08020000, 4096, 4),          # 8 KiB-aligned start
        board("T_E4K_ODD", 0x08021000, 4096, 4),      # 4 KiB- but not 8 KiB-aligned start
        board("T_E8K", 0x08020000, 8192, 32),         # coarser than the device
    ]}, f)


def tree(root, seed):
    os.makedirs(os.path.join(root, "lib"), exist_ok=True)
    with open(os.path.join(root, "main.py"), "wb") as f:
        f.write(b"import lib.util\nprint('hello', lib.util.answer())\n" * 20)
    with open(os.path.join(root, "lib", "util.py"), "wb") as f:
        f.write(b"def answer():\n    return %d\n" % seed * 50)
    data = b"".join(hashlib.sha256(b"%d-%d" % (seed, i)).digest() for i in range(1000))
    with open(os.path.join(root, "asset.bin"), "wb") as f:
        f.write(data[:27000 + 3 * seed])   # an odd length: the tail is not a whole write unit


def pack(name, seed):
    d = os.path.join(TMP, name + ".d")
    shutil.rmtree(d, ignore_errors=True)
    tree(d, seed)
    out = os.path.join(TMP, name + ".romfs")
    subprocess.run([ROMFS, "pack", d, "-o", out], check=True, capture_output=True)
    return out, open(out, "rb").read()


IMG_PATH, IMG = pack("new", 1)
OLD_PATH, OLD = pack("old", 2)
assert len(IMG) % 16 and len(IMG) > 3 * 8192


def flash_file(name, content=b""):
    """A 128 KiB partition file holding `content` (erased flash after it)."""
    path = os.path.join(TMP, name + ".bin")
    with open(path, "wb") as f:
        f.write(content + b"\xff" * (131072 - len(content)))
    return path


def sim(ff, *args, boards=None):
    """boards "": the built-in board database."""
    env = {"ROMFS_BOARDS": boards} if boards is not None else None
    return Sim("--flash", ff, "--stats", ff + ".stats", *args, connect=False, env=env)


def flash(port, *args, boards=BOARDS):
    env = dict(os.environ)
    if boards:
        env["ROMFS_BOARDS"] = boards
    else:
        env.pop("ROMFS_BOARDS", None)
    p = subprocess.run([ROMFS, "flash", IMG_PATH, "--port", port, "--timeout", "3000"] + list(args),
                       capture_output=True, env=env, timeout=120)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def flash_json(port, *args, boards=BOARDS):
    rc, out, err = flash(port, "--json", *args, boards=boards)
    try:
        rep = json.loads(out)
    except ValueError:
        rep = {}
    return rc, rep, err


def holds(ff, image):
    with open(ff, "rb") as f:
        return f.read(len(image)) == image


def erases(ff):
    try:
        with open(ff + ".stats") as f:
            return json.load(f).get("erases", 0)
    except (OSError, ValueError):
        return 0


def one_message(err):
    """stderr is exactly one 'romfs:' line: no traceback, no continuation lines."""
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("romfs: "), err
    assert "Traceback" not in err and "<stdin>" not in err, err
    return lines[0]


# -- the simulator models a NOR partition with a 16-byte write unit ----------------------

def sim_reports_and_enforces_write_unit():
    ff = flash_file("nor")
    for api in ("ioctl", "object"):
        s = Sim("--partition-size", "128K", "--erase-block", "4K", "--write-block", "16",
                "--api", api, "--flash", ff)
        try:
            s.raw()
            s.ok("import vfs\np=vfs.rom_ioctl(2,0)")
            if api == "ioctl":
                # rom_ioctl(3) of nothing: the write unit, nothing erased
                assert s.eval("vfs.rom_ioctl(3,0,0,0)") == 16
                assert s.eval("vfs.rom_ioctl(6,0)") == 4096
                assert s.eval("vfs.rom_ioctl(4,0,4,b'\\x00'*16)") == -22    # misaligned
                assert s.eval("vfs.rom_ioctl(4,0,0,b'\\x00'*4)") == -22     # short
                assert s.eval("vfs.rom_ioctl(4,0,16,b'\\x0f'*16)") == 0
                assert s.eval("vfs.rom_ioctl(4,0,16,b'\\xf0'*16)") == 0
                assert s.eval("bytes(p[16:18])") == b"\x00\x00"             # ANDed in
                assert s.eval("vfs.rom_ioctl(3,0,0,4096)") == 16
                assert s.eval("bytes(p[16:18])") == b"\xff\xff"             # erased
            else:
                assert s.eval("p.ioctl(5,0)") == 4096
                out, err = s.exec("try:\n p.writeblocks(0,b'\\x00'*4,4)\nexcept OSError as e:\n print(e)")
                assert b"EINVAL" in out, (out, err)
                assert s.eval("p.writeblocks(0,b'\\x0f'*16,16)") is None
                assert s.eval("p.writeblocks(0,b'\\xf0'*16,16)") is None
                got = s.eval("(lambda b:(p.readblocks(0,b,16),bytes(b))[1])(bytearray(2))")
                assert got == b"\x00\x00", got
                assert s.eval("p.ioctl(6,0)") == 0
                got = s.eval("(lambda b:(p.readblocks(0,b,16),bytes(b))[1])(bytearray(2))")
                assert got == b"\xff\xff", got
        finally:
            s.close()


# -- the stricter units are used --------------------------------------------------------

def device_write_unit_stricter_than_board():
    # The built-in MPS2_AN385 entry says 4-byte writes; the device's partition (as
    # MicroPython's qemu port with a NOR partition) writes in 16-byte units. Both the
    # write loop and one exec per chunk write with 16.
    for transfer in ("auto", "base64"):
        ff = flash_file("w16-" + transfer, OLD)
        s = sim(ff, "--board", "MPS2_AN385", "--write-block", "16", boards="")
        try:
            rc, rep, err = flash_json(s.path, "--board", "MPS2_AN385", "--transfer", transfer,
                                      boards=None)
            assert rc == 0, err
            assert "Traceback" not in err, err
            u = rep["units"]
            assert u["write_unit"] == 16, u
            assert u["write_unit_from"] == ("the device's (vfs.rom_ioctl(3)), stricter than the "
                                            "board entry's 4"), u
            assert u["erase_block"] == 4096, u
            assert u["erase_block_from"] == "the board entry's and the device's (vfs.rom_ioctl(6))", u
            assert holds(ff, IMG)
            # the text summary says it too
            rc, out, err = flash(s.path, "--board", "MPS2_AN385", "--transfer", transfer, "--full",
                                 boards=None)
            assert rc == 0 and "  write unit 16: the device's (vfs.rom_ioctl(3))" in out, out + err
            assert holds(ff, IMG)
        finally:
            s.close()


def device_erase_block_stricter_than_board():
    # board: 4 KiB erase blocks; device: 8 KiB. The partition start suits 8 KiB.
    ff = flash_file("e8k", OLD)
    s = sim(ff, "--partition-size", "128K", "--erase-block", "8K", "--write-block", "16")
    try:
        rc, rep, err = flash_json(s.path, "--board", "T_E4K")
        assert rc == 0, err
        assert rep["units"]["erase_block"] == 8192, rep
        assert "vfs.rom_ioctl(6)" in rep["units"]["erase_block_from"], rep
        assert rep["blocks_in_image"] == (len(IMG) + 8191) // 8192, rep
        assert holds(ff, IMG)
    finally:
        s.close()


def board_erase_block_stricter_than_device():
    # board: 8 KiB erase blocks, 32-byte writes; device: 4 KiB, 4 bytes. Written and
    # compared in 8 KiB blocks (two device blocks each), on both APIs, both paths; a
    # changed image then rewrites only the 8 KiB blocks that differ.
    for api in ("ioctl", "object"):
        for transfer in ("auto", "hex"):
            ff = flash_file("b8k", OLD)
            s = sim(ff, "--partition-size", "128K", "--erase-block", "4K", "--write-block", "4",
                    "--api", api)
            try:
                rc, rep, err = flash_json(s.path, "--board", "T_E8K", "--transfer", transfer)
                assert rc == 0, err
                u = rep["units"]
                assert u["erase_block"] == 8192 and u["write_unit"] == 32, u
                assert u["erase_block_from"].startswith("the board entry's, stricter than the "
                                                        "device's 4096"), u
                assert holds(ff, IMG)
                # one byte of the last file changes: one 8 KiB block and the header's
                d = os.path.join(TMP, "new.d")
                with open(os.path.join(d, "asset.bin"), "r+b") as f:
                    f.seek(20000)
                    f.write(b"\x00")
                p = subprocess.run([ROMFS, "flash", d, "--port", s.path, "--board", "T_E8K",
                                    "--json", "--transfer", transfer],
                                   capture_output=True, env=dict(os.environ, ROMFS_BOARDS=BOARDS))
                rep2 = json.loads(p.stdout)
                assert p.returncode == 0 and rep2["blocks_written"] == 2, p.stderr
                changed = subprocess.run([ROMFS, "pack", d, "-o", "-"], capture_output=True,
                                         check=True).stdout
                assert holds(ff, changed)
            finally:
                s.close()
                pack("new", 1)


# -- impossible: refused before anything is erased ----------------------------------------

def impossible_units_refused_before_erase():
    # board: 4 KiB erase blocks at a start 4 KiB- but not 8 KiB-aligned; the device erases
    # 8 KiB: erasing the first block would erase 4 KiB before the partition.
    ff = flash_file("odd", OLD)
    s = sim(ff, "--partition-size", "128K", "--erase-block", "8K", "--write-block", "16")
    try:
        rc, out, err = flash(s.path, "--board", "T_E4K_ODD")
        assert rc == 1, err
        line = err.splitlines()[0]
        for part in ("board T_E4K_ODD's entry in " + BOARDS, "erase blocks of 4096 bytes",
                     "write units of 4 bytes", "erase blocks of 8192 bytes (vfs.rom_ioctl(6))",
                     "write units of 16 bytes (vfs.rom_ioctl(3))", "0x08021000",
                     "8192-byte erase-block boundary", "nothing was erased",
                     "correct the board entry"):
            assert part in line, (part, err)
        assert holds(ff, OLD), "the partition changed"
        assert erases(ff) == 0, "the device erased %d blocks" % erases(ff)
        # the device still reports the old image as valid
        q = subprocess.run([ROMFS, "query", "--port", s.path, "--json"], capture_output=True)
        part = json.loads(q.stdout)["partitions"][0]
        assert part["valid"] is True and part["image_size"] == len(OLD), part
    finally:
        s.close()


# -- a device's exception is one message -------------------------------------------------

def injected_exception_is_one_message():
    cases = [
        ("ioctl", "auto", "fail-write@2", "writing ROMFS partition 0 at offset 0x2000",
         "OSError: rom_ioctl(4) write at 8192 failed: -5"),
        ("ioctl", "base64", "fail-write@2", "writing ROMFS partition 0 at offset 0x2000",
         "OSError: rom_ioctl(4) write at 8192 failed: -5"),
        ("object", "auto", "fail-write@2:5", "writing ROMFS partition 0 at offset 0x2000",
         "OSError: [Errno 5] EIO"),
        ("ioctl", "auto", "fail-erase@2", "erasing ROMFS partition 0 at offset 0x1000",
         "OSError: rom_ioctl(3) erase at 4096 failed: -5"),
        ("object", "repr", "fail-erase@3", "erasing ROMFS partition 0 at offset 0x",
         "OSError: ioctl(6) erase of block 2 failed: -5"),
    ]
    for api, transfer, fault, what, said in cases:
        ff = flash_file("exc", OLD)
        # the object API does not report its write unit: the board entry's must be right
        geometry = ["--partition-size", "128K", "--erase-block", "4K", "--write-block",
                    "16" if api == "ioctl" else "4", "--api", api]
        s = sim(ff, *geometry, "--fault", fault)
        try:
            rc, out, err = flash(s.path, "--board", "T_W4", "--transfer", transfer)
        finally:
            s.close()
        assert rc == 1, err
        line = one_message(err)
        assert "repl: " + what in line, (what, line)
        assert "failed on the device, which said \"%s\"" % said in line, line
        assert "re-run the same command" in line and "power-cycle the board" in line, line
        with open(ff, "rb") as f:
            assert f.read(3) != HEADER, "a half-written image is mountable"
        # --verbose adds the whole traceback; JSON names request and offset
        s = sim(ff, *geometry, "--fault", fault)
        try:
            rc, out, err = flash(s.path, "--board", "T_W4", "--transfer", transfer, "--full",
                                 "--verbose")
            assert rc == 1 and "romfs: the device's traceback:\n    Traceback" in err, err
            assert said in err.split("traceback:")[1], err
        finally:
            s.close()
        # a re-run completes the write
        s = sim(ff, *geometry)
        try:
            rc, rep, err = flash_json(s.path, "--board", "T_W4", "--transfer", transfer)
            assert rc == 0, err
            assert holds(ff, IMG)
        finally:
            s.close()


def object_api_write_unit_unknown_is_one_message():
    # The object API does not report a write unit: the board entry's 4 is used, and the
    # device's 16-byte rule rejects a write. One message, naming the units used.
    ff = flash_file("obj", OLD)
    s = sim(ff, "--partition-size", "128K", "--erase-block", "4K", "--write-block", "16",
            "--api", "object")
    try:
        rc, rep, err = flash_json(s.path, "--board", "T_W4")
        assert rc == 1, err
        line = one_message(err)
        assert "writing ROMFS partition 0 at offset 0x" in line, line
        assert "OSError: [Errno 22] EINVAL" in line, line
        assert "write units of 4" in line and "board T_W4's entry" in line, line
        x = rep["device_exception"]
        assert x["request"] == "write" and x["said"] == "OSError: [Errno 22] EINVAL", x
        assert "traceback" not in x, x
        assert "board entry's (the device does not report one)" in rep["units"]["write_unit_from"]
        with open(ff, "rb") as f:
            assert f.read(3) != HEADER, "a half-written image is mountable"
    finally:
        s.close()


TESTS = [sim_reports_and_enforces_write_unit, device_write_unit_stricter_than_board,
         device_erase_block_stricter_than_board, board_erase_block_stricter_than_device,
         impossible_units_refused_before_erase, injected_exception_is_one_message,
         object_api_write_unit_unknown_is_one_message]

if __name__ == "__main__":
    rc = run(TESTS)
    shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(rc)
