# flashrepl_lib.py: shared by test_flash_repl*.py: `romfs flash --via repl` and
# `romfs query` against `romfs sim`.
#
# Ground truth is the simulator's flash file (--flash FILE), read directly, and the
# independent reader tests/tools/romfs_reader.py; the tool's own report is checked
# against them. Every transfer encoding, both partition APIs, raw-paste and plain raw,
# incremental writes, verify failures, every fault kind (with the torn-write guarantee
# checked after each and a re-run completing the write), and the refusals.
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simlib import ROMFS, Sim, run  # noqa: E402,F401

TMP = tempfile.mkdtemp(prefix="romfs-flashrepl.")
HEADER = b"\xd2\xcd\x31"
TORN_SEEN = []   # one entry per fault: True when it left a torn (unmountable) partition
BOARDS = os.path.join(TMP, "boards.json")


def write_tree(root, tree):
    os.makedirs(root, exist_ok=True)
    for name, v in tree.items():
        p = os.path.join(root, name)
        if isinstance(v, dict):
            write_tree(p, v)
        else:
            with open(p, "wb") as f:
                f.write(v)


def app_tree(seed=0, asset=20000):
    rnd = b"".join(hashlib.sha256(b"asset%d-%d" % (seed, i)).digest() for i in range(asset // 32 + 1))
    return {
        "main.py": b"import lib.util\nprint('hello', lib.util.answer())\n" * 20,
        "boot.py": b"# boot\n",
        "lib": {"__init__.py": b"", "util.py": b"def answer():\n    return %d\n" % (42 + seed) * 50},
        "assets": {"logo.bin": rnd[:asset]},
    }


def pack(tree, name):
    d = os.path.join(TMP, name + ".d")
    shutil.rmtree(d, ignore_errors=True)
    write_tree(d, tree)
    out = os.path.join(TMP, name + ".romfs")
    subprocess.run([ROMFS, "pack", d, "-o", out], check=True, capture_output=True)
    return out, open(out, "rb").read()


def flash(port, image, *args, env=None):
    e = dict(os.environ)
    e["ROMFS_BOARDS"] = BOARDS
    if env:
        e.update(env)
    p = subprocess.run([ROMFS, "flash", image, "--port", port, "--json", "--timeout", "3000"]
                       + list(args), capture_output=True, env=e, timeout=120)
    try:
        rep = json.loads(p.stdout.decode())
    except ValueError:
        rep = {}
    return p.returncode, rep, p.stderr.decode()


def sim(*args, flash_file=None):
    a = list(args)
    if flash_file:
        a += ["--flash", flash_file]
    return Sim(*a, connect=False, env={"ROMFS_BOARDS": BOARDS})


def flash_bytes(path, n):
    with open(path, "rb") as f:
        return f.read(n)


def mountable(path):
    return flash_bytes(path, 3) == HEADER


def write_boards():
    with open(BOARDS, "w") as f:
        json.dump({"schema": 1, "micropython": {}, "boards": [
            {"board": "TEST_F4", "port": "stm32", "mcu": "STM32F405",
             "romfs": [{"index": 0, "start": 0x08020000, "size": 131072, "erase_block": 4096,
                        "write_block": 8, "mmap": True}]},
            {"board": "TEST_BIG", "port": "stm32", "mcu": "STM32H743",
             "romfs": [{"index": 0, "start": 0x08100000, "size": 262144, "erase_block": 4096,
                        "write_block": 32, "mmap": True}]},
            {"board": "TEST_PICO", "port": "rp2", "mcu": "RP2040",
             "romfs": [{"index": 0, "start": 0x10180000, "size": 262144, "erase_block": 4096,
                        "write_block": 256, "mmap": True}]}]}, f)


write_boards()
IMG_PATH, IMG = pack(app_tree(0), "app0")
OLD_PATH, OLD = pack(app_tree(1, 30000), "app1")


def check_written(flash_file, image):
    assert flash_bytes(flash_file, len(image)) == image, "flash does not hold the image"
    # the independent reader reads the flash file's image and lists main.py
    reader = os.path.join(os.environ["ROMFS_SOURCE_DIR"], "tests/tools/romfs_reader.py")
    p = subprocess.run([sys.executable, reader, flash_file], capture_output=True)
    assert p.returncode == 0, "independent reader rejects the flashed image: %r" % p.stderr
    assert any(line.split()[:2] == [b"file", b"main.py"] for line in p.stdout.splitlines()), p.stdout


def start_with_old_image(name):
    """A flash file (the simulator's partition, 128 KiB) holding the old image."""
    ff = os.path.join(TMP, name + ".bin")
    with open(ff, "wb") as f:
        f.write(OLD + b"\xff" * (131072 - len(OLD)))
    return ff


def torn_then_rerun(ff, rc, err):
    """After a failed run: the old image whole, the new image whole (the fault hit after the
    write, e.g. in the soft reset), or no ROMFS header; then a re-run completes."""
    assert rc != 0, "the faulty write did not fail"
    old_whole = flash_bytes(ff, len(OLD)) == OLD
    new_whole = flash_bytes(ff, len(IMG)) == IMG
    assert old_whole or new_whole or not mountable(ff), "a half-written image is mountable: " + err
    TORN_SEEN.append(not old_whole and not new_whole)
    s = sim(flash_file=ff)
    try:
        if not old_whole and not new_whole:
            q = subprocess.run([ROMFS, "query", "--port", s.path, "--json"], capture_output=True)
            assert json.loads(q.stdout)["partitions"][0]["valid"] is False
        rc, rep, err = flash(s.path, IMG_PATH)
        assert rc == 0, err
        check_written(ff, IMG)
    finally:
        s.close()


