# test_flash_repl.py: `romfs flash --via repl` and `romfs query` against `romfs sim`.
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
from simlib import ROMFS, Sim, run  # noqa: E402

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
    # independent reader lists the flash file's image
    reader = os.path.join(os.environ["ROMFS_SOURCE_DIR"], "tests/tools/romfs_reader.py")
    if os.path.exists(reader):
        p = subprocess.run([sys.executable, reader, "ls", flash_file], capture_output=True)
        if p.returncode == 0:
            assert b"main.py" in p.stdout, p.stdout


# -- the main paths ---------------------------------------------------------------------

def fresh_write_verify_and_query():
    ff = os.path.join(TMP, "fresh.bin")
    s = sim(flash_file=ff)
    try:
        rc, rep, err = flash(s.path, IMG_PATH)
        assert rc == 0, err
        assert rep["ok"] and rep["verified"] and rep["transfer"] == "raw-deflate", rep
        assert rep["blocks_written"] == rep["blocks_in_image"] == (len(IMG) + 4095) // 4096, rep
        assert "top-level" in rep["confirmed"], rep
        check_written(ff, IMG)
        q = subprocess.run([ROMFS, "query", "--port", s.path, "--json"], capture_output=True)
        assert q.returncode == 0, q.stderr
        info = json.loads(q.stdout)
        p0 = info["partitions"][0]
        assert p0["valid"] and p0["image_size"] == len(IMG), p0
        assert p0["sha256"] == hashlib.sha256(IMG).hexdigest(), p0
        assert p0["size"] == 131072 and p0["block_size"] == 4096 and p0["api"] == "rom_ioctl"
        # a second run finds nothing to do
        rc, rep, err = flash(s.path, IMG_PATH)
        assert rc == 0 and rep["blocks_written"] == 0 and rep["verified"], (rep, err)
    finally:
        s.close()


def object_api_and_board():
    ff = os.path.join(TMP, "pico.bin")
    s = sim("--board", "TEST_PICO", flash_file=ff)
    try:
        rc, rep, err = flash(s.path, IMG_PATH, "--board", "TEST_PICO")
        assert rc == 0, err
        check_written(ff, IMG)
        rc, rep, err = flash(s.path, OLD_PATH, "--board", "TEST_PICO", "--api", "object")
        assert rc == 0, err
        check_written(ff, OLD)
        rc, rep, err = flash(s.path, IMG_PATH, "--api", "rom_ioctl")
        assert rc != 0 and "no rom_ioctl API" in err, err
    finally:
        s.close()


def every_transfer_forced():
    ff = os.path.join(TMP, "xfer.bin")
    s = sim(flash_file=ff)
    try:
        images = [(OLD_PATH, OLD), (IMG_PATH, IMG)]
        for i, mode in enumerate(("raw-deflate", "raw", "deflate-base64", "base64", "hex", "repr")):
            path, img = images[i % 2]   # alternate, so every mode really writes
            rc, rep, err = flash(s.path, path, "--transfer", mode, "--no-reset")
            assert rc == 0, (mode, err)
            assert rep["transfer"] == mode and rep["blocks_written"] > 0, rep
            check_written(ff, img)
    finally:
        s.close()


def transfer_fallbacks_follow_device():
    cases = [
        (["--without", "micropython.kbd_intr"], "deflate-base64"),
        (["--without", "micropython.kbd_intr", "--no-deflate"], "base64"),
        (["--without", "micropython.kbd_intr", "--no-deflate", "--no-base64"], "hex"),
        (["--without", "micropython.kbd_intr", "--no-deflate", "--no-base64", "--no-fromhex"], "repr"),
        (["--no-deflate"], "raw"),
    ]
    for args, want in cases:
        ff = os.path.join(TMP, "fb-%s.bin" % want)
        s = sim(*args, flash_file=ff)
        try:
            rc, rep, err = flash(s.path, IMG_PATH, "--no-reset")
            assert rc == 0, (args, err)
            assert rep["transfer"] == want, (args, rep)
            check_written(ff, IMG)
        finally:
            s.close()


def forced_transfer_the_device_lacks():
    s = sim("--no-deflate")
    try:
        rc, rep, err = flash(s.path, IMG_PATH, "--transfer", "deflate-base64")
        assert rc == 1 and "lacks" in err, err
    finally:
        s.close()


def plain_raw_repl_fallbacks():
    for mode in ("off", "absent"):
        ff = os.path.join(TMP, "paste-%s.bin" % mode)
        s = sim("--raw-paste", mode, flash_file=ff)
        try:
            rc, rep, err = flash(s.path, IMG_PATH)
            assert rc == 0, (mode, err)
            check_written(ff, IMG)
        finally:
            s.close()
    ff = os.path.join(TMP, "paste-small.bin")
    s = sim("--raw-paste-window", "32", flash_file=ff)
    try:
        rc, rep, err = flash(s.path, IMG_PATH)
        assert rc == 0, err
        check_written(ff, IMG)
    finally:
        s.close()


def incremental_one_file_changes():
    ff = os.path.join(TMP, "incr.bin")
    big = app_tree(0, asset=300000)
    p1, i1 = pack(big, "incr1")
    big["lib"]["util.py"] = big["lib"]["util.py"].replace(b"42", b"43", 1)  # same size
    p2, i2 = pack(big, "incr2")
    assert len(i1) == len(i2)
    s = sim("--partition-size", "512K", flash_file=ff)
    try:
        rc, rep, err = flash(s.path, p1, "--no-reset")
        assert rc == 0, err
        rc, rep, err = flash(s.path, p2, "--no-reset")
        assert rc == 0, err
        assert 1 <= rep["blocks_written"] <= 3, rep
        check_written(ff, i2)
        rc, rep, err = flash(s.path, p2, "--full", "--no-reset")
        assert rc == 0 and rep["blocks_written"] == rep["blocks_in_image"], rep
    finally:
        s.close()


def directory_input_is_packed():
    ff = os.path.join(TMP, "dir.bin")
    s = sim(flash_file=ff)
    try:
        rc, rep, err = flash(s.path, os.path.join(TMP, "app0.d"))
        assert rc == 0, err
        assert rep["packed"] is True
        check_written(ff, IMG)
    finally:
        s.close()


# -- verify failure and faults ------------------------------------------------------------

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


def verify_failure_flipped_bit():
    ff = start_with_old_image("flip")
    s = sim("--fault", "flip-flash@%d:3" % (2 * 4096 + 100), flash_file=ff)
    try:
        rc, rep, err = flash(s.path, IMG_PATH)
        assert rc == 1 and "verification failed" in err, err
        assert "erase block 2" in err, err
        assert not mountable(ff)
    finally:
        s.close()
    torn_then_rerun(ff, rc, err)


def fault_power_cuts():
    del TORN_SEEN[:]
    for fault in ("cut-write@1", "cut-write@3", "cut-write@6", "cut-erase@1", "cut-erase@4"):
        ff = start_with_old_image("cut")
        s = sim("--fault", fault, flash_file=ff)
        try:
            rc, rep, err = flash(s.path, IMG_PATH)
        finally:
            s.close()
        torn_then_rerun(ff, rc, err)
    assert all(TORN_SEEN), TORN_SEEN  # every cut fell inside the write


def fault_disconnect_mid_transfer():
    del TORN_SEEN[:]
    for n in (3000, 9000, 16000):
        ff = start_with_old_image("disc")
        s = sim("--fault", "disconnect@%d" % n, flash_file=ff)
        try:
            rc, rep, err = flash(s.path, IMG_PATH)
            assert "disconnect" in err or "no answer" in err or "device" in err, err
        finally:
            s.close()
        torn_then_rerun(ff, rc, err)
    assert any(TORN_SEEN), TORN_SEEN


def fault_stall_times_out():
    del TORN_SEEN[:]
    ff = start_with_old_image("stall")
    s = sim("--fault", "stall@9000:2.5", flash_file=ff)
    try:
        rc, rep, err = flash(s.path, IMG_PATH, "--timeout", "800")
    finally:
        s.close()
    torn_then_rerun(ff, rc, err)
    assert TORN_SEEN == [True], TORN_SEEN


def fault_corrupted_byte():
    for n in (12000,):
        ff = start_with_old_image("fliprx")
        s = sim("--fault", "flip-rx@%d:2" % n, flash_file=ff)
        try:
            rc, rep, err = flash(s.path, IMG_PATH)
        finally:
            s.close()
        if rc == 0:  # the flip hit nothing that matters: then the result must be right
            check_written(ff, IMG)
        else:
            torn_then_rerun(ff, rc, err)


# -- refusals -------------------------------------------------------------------------------

def wrong_board_refused_before_erase():
    ff = start_with_old_image("wrongboard")
    before = open(ff, "rb").read()
    s = sim(flash_file=ff)
    try:
        rc, rep, err = flash(s.path, IMG_PATH, "--board", "TEST_BIG")
        assert rc == 1 and "wrong --board" in err and "nothing was written" in err, err
    finally:
        s.close()
    assert open(ff, "rb").read() == before


def too_big_refused_before_erase():
    p, img = pack(app_tree(0, asset=200000), "big")
    ff = start_with_old_image("toobig")
    before = open(ff, "rb").read()
    s = sim(flash_file=ff)
    try:
        rc, rep, err = flash(s.path, p)
        assert rc == 1 and "more than" in err, err
    finally:
        s.close()
    assert open(ff, "rb").read() == before


def mpy_mismatch_refused_naming_the_file():
    tree = app_tree(0)
    tree["lib"]["fast.mpy"] = b"M\x05\x00\x1f" + b"\x00" * 40           # .mpy version 5
    p_ver, _ = pack(tree, "mpyver")
    tree["lib"]["fast.mpy"] = b"M\x06" + bytes([(5 << 2) | 3]) + b"\x1f" + b"\x00" * 40  # armv7m
    p_arch, _ = pack(tree, "mpyarch")
    tree["lib"]["fast.mpy"] = b"M\x06\x00\x1f" + b"\x00" * 40           # bytecode only, v6
    p_ok, i_ok = pack(tree, "mpyok")
    ff = os.path.join(TMP, "mpy.bin")
    s = sim("--arch", "armv6m", "--mpy-version", "6", flash_file=ff)
    try:
        rc, rep, err = flash(s.path, p_ver)
        assert rc == 1 and "lib/fast.mpy" in err and "version 5" in err, err
        rc, rep, err = flash(s.path, p_arch)
        assert rc == 1 and "lib/fast.mpy" in err and "armv7m" in err and "armv6m" in err, err
        assert flash_bytes(ff, 3) != HEADER  # nothing written
        rc, rep, err = flash(s.path, p_ok, "--no-reset")
        assert rc == 0, err
        check_written(ff, i_ok)
    finally:
        s.close()


def no_romfs_and_no_partition():
    s = sim("--no-romfs")
    try:
        rc, rep, err = flash(s.path, IMG_PATH)
        assert rc == 1 and "not enabled" in err, err
        q = subprocess.run([ROMFS, "query", "--port", s.path], capture_output=True)
        assert q.returncode == 0 and b"not enabled" in q.stdout, q
    finally:
        s.close()
    s = sim()
    try:
        rc, rep, err = flash(s.path, IMG_PATH, "--partition", "3")
        assert rc != 0 and "partition 3" in err, err
    finally:
        s.close()


def silent_port_and_usage():
    import pty
    master, slave = pty.openpty()
    try:
        p = subprocess.run([ROMFS, "query", "--port", os.ttyname(slave), "--timeout", "300"],
                           capture_output=True, timeout=30)
        assert p.returncode == 1 and b"no answer" in p.stderr, p.stderr
    finally:
        os.close(master)
        os.close(slave)
    p = subprocess.run([ROMFS, "flash", IMG_PATH], capture_output=True)
    assert p.returncode == 2 and b"--board" in p.stderr
    p = subprocess.run([ROMFS, "flash", "--help"], capture_output=True)
    assert p.returncode == 0 and b"--via" in p.stdout
    p = subprocess.run([ROMFS, "flash", os.path.join(TMP, "nonexistent"), "--port", "/dev/null"],
                       capture_output=True)
    assert p.returncode == 2, p


TESTS = [fresh_write_verify_and_query, object_api_and_board, every_transfer_forced,
         transfer_fallbacks_follow_device, forced_transfer_the_device_lacks,
         plain_raw_repl_fallbacks, incremental_one_file_changes, directory_input_is_packed,
         verify_failure_flipped_bit, fault_power_cuts, fault_disconnect_mid_transfer,
         fault_stall_times_out, fault_corrupted_byte, wrong_board_refused_before_erase,
         too_big_refused_before_erase, mpy_mismatch_refused_naming_the_file,
         no_romfs_and_no_partition, silent_port_and_usage]

if __name__ == "__main__":
    rc = run(TESTS)
    shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(rc)
