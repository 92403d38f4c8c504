# test_flash_repl.py: `romfs flash --via repl` and `romfs query` against `romfs sim`:
# both partition APIs, every transfer and fallback, raw-paste and plain raw, incremental
# writes, refusals (wrong board, too big, .mpy mismatch, no ROMFS). Helpers: flashrepl_lib.py.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from flashrepl_lib import *  # noqa: E402,F401,F403
from flashrepl_lib import TMP, TORN_SEEN, run  # noqa: E402

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


def unchanged_rerun_costs_no_reset_and_few_bytes():
    # what a re-run that changes nothing needs: one hash of the image range and a /rom
    # listing; no write loop, no soft reset (it would cost a reconnect on a real board)
    ff = os.path.join(TMP, "again.bin")
    s = sim("--baud", "115200", flash_file=ff)
    try:
        rc, rep, err = flash(s.path, IMG_PATH)
        assert rc == 0 and "soft reset" in rep["confirmed"], (rep, err)
        rc, rep, err = flash(s.path, IMG_PATH)
        assert rc == 0 and rep["blocks_written"] == 0 and rep["verified"], (rep, err)
        assert "no reset" in rep["confirmed"] and "top-level" in rep["confirmed"], rep
        assert rep["wire_bytes_out"] < 200, rep
        # /rom unmounted behind romfs's back (mpremote's deploy leaves it so): the same
        # image is still confirmed, through a soft reset that mounts it again
        s.connect()
        s.raw()
        s.ok("import vfs\nvfs.umount('/rom')")
        s.write(b"\x02")
        os.close(s.fd)
        s.fd = None
        rc, rep, err = flash(s.path, IMG_PATH)
        assert rc == 0 and rep["blocks_written"] == 0, (rep, err)
        assert "soft reset" in rep["confirmed"] and "top-level" in rep["confirmed"], rep
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


def esp32_reset_by_the_open():
    # An ESP32 board resets when its port is opened (DTR/RTS wired to EN) and hears
    # nothing while it boots, so every run meets a board that is just starting; romfs
    # used to take it for "not a MicroPython device" once the boot outlasted its first
    # tries (here 1 s: a big image to validate, PSRAM to test).
    ff = os.path.join(TMP, "esp32.bin")
    s = sim("--mp-port", "esp32", "--mcu", "ESP32", "--boot-time", "1", flash_file=ff)
    try:
        rc, rep, err = flash(s.path, IMG_PATH)
        assert rc == 0, err
        check_written(ff, IMG)
        q = subprocess.run([ROMFS, "query", "--port", s.path, "--json"], capture_output=True)
        assert q.returncode == 0, q.stderr
        assert json.loads(q.stdout)["partitions"][0]["valid"] is True
    finally:
        s.close()


def board_running_main_py():
    # A deployed board runs its main.py (from its own filesystem, at every reset), often
    # a loop for ever, often printing: the client breaks in with Ctrl-C, as mpremote does.
    chatty = "import time\nn = 0\nwhile True:\n    print('tick', n)\n    n += 1\n    time.sleep_ms(2)\n"
    for name, main in (("quiet", "import time\nwhile True:\n    time.sleep_ms(10)\n"), ("chatty", chatty)):
        fs = os.path.join(TMP, "fs-" + name)
        os.makedirs(fs, exist_ok=True)
        with open(os.path.join(fs, "main.py"), "w") as f:
            f.write(main)
        ff = os.path.join(TMP, "main-%s.bin" % name)
        s = sim("--fs", fs, flash_file=ff)
        try:
            rc, rep, err = flash(s.path, IMG_PATH)
            assert rc == 0, (name, err)
            check_written(ff, IMG)
        finally:
            s.close()
    # Where Ctrl-C cannot stop code (a polled UART, as on the qemu port) a main.py that
    # prints for ever keeps the REPL out of reach: the tool says so and ends (it used to
    # wait for the raw REPL prompt for as long as the board kept talking).
    s = sim("--fs", os.path.join(TMP, "fs-chatty"), "--polled-uart")
    try:
        p = subprocess.run([ROMFS, "query", "--port", s.path], capture_output=True, text=True, timeout=60)
        assert p.returncode != 0 and "REPL is busy" in p.stderr and "tick" in p.stderr, p.stderr
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


def busy_device_loses_nothing():
    # a board that spends its own time inflating, hashing and programming reads nothing
    # meanwhile, and its small receive buffer drops what overflows: the host's flow
    # control must keep every byte (stats: rx_dropped 0) and the write must verify
    ff = os.path.join(TMP, "busy.bin")
    stats = os.path.join(TMP, "busy-stats.json")
    s = sim("--device-time", "inflate=4000,hash=400,write=200,erase=20", "--rx-buffer", "259",
            "--stats", stats, flash_file=ff)
    try:
        rc, rep, err = flash(s.path, IMG_PATH)
        assert rc == 0 and rep["verified"], (rep, err)
        check_written(ff, IMG)
        st = json.load(open(stats))
        assert st.get("rx_dropped", 0) == 0, st
        assert st["erases"] >= rep["blocks_written"], st
    finally:
        s.close()


def sim_board_has_the_boards_partition_api():
    # samd: an object when the filesystem is in MCU flash, a memoryview with external
    # flash (ports/samd/samd_flash.c); `romfs sim --board` follows boards.json's "api"
    env = dict(os.environ)
    env.pop("ROMFS_BOARDS", None)   # the built-in boards.json
    for board, api in (("SAMD_GENERIC_D51X19", "object"), ("ADAFRUIT_FEATHER_M4_EXPRESS", "rom_ioctl"),
                       ("RPI_PICO", "object"), ("PYBD_SF2", "rom_ioctl")):
        s = Sim("--board", board, connect=False, env=env)
        try:
            q = subprocess.run([ROMFS, "query", "--port", s.path, "--json"], capture_output=True, env=env)
            assert q.returncode == 0, q.stderr
            assert json.loads(q.stdout)["partitions"][0]["api"] == api, (board, q.stdout)
        finally:
            s.close()


def erase_from_start_ports():
    # esp8266's and renesas-ra's vfs.rom_ioctl(3) take (id, len) and erase from the
    # partition's start: a change in the middle rewrites every block up to it, never
    # leaves a block unerased under new data (AND-programming would corrupt it)
    big = app_tree(0, asset=300000)
    p1, i1 = pack(big, "fs1")
    big["assets"]["logo.bin"] = big["assets"]["logo.bin"][:150000] + b"\x00" * 10 + \
        big["assets"]["logo.bin"][150010:]
    p2, i2 = pack(big, "fs2")
    assert len(i1) == len(i2)
    for port in ("esp8266", "renesas-ra"):
        ff = os.path.join(TMP, "fs-%s.bin" % port)
        s = sim("--mp-port", port, "--api", "ioctl", "--no-reset-on-open", "--partition-size", "512K",
                flash_file=ff)
        try:
            rc, rep, err = flash(s.path, p1)
            assert rc == 0, err
            check_written(ff, i1)
            rc, rep, err = flash(s.path, p2)
            assert rc == 0, (port, err)
            check_written(ff, i2)
            changed = 150000 // 4096 + 1      # blocks 0 .. the one holding the change
            assert rep["blocks_written"] >= changed - 1, rep
            assert rep["blocks_written"] < rep["blocks_in_image"], rep
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


# -- refusals -------------------------------------------------------------------------------

def wrong_board_refused_before_erase():
    ff = start_with_old_image("wrongboard")
    before = open(ff, "rb").read()
    s = sim(flash_file=ff)
    try:
        rc, rep, err = flash(s.path, IMG_PATH, "--board", "TEST_BIG")
        assert rc == 1 and "--board" in err and "nothing was written" in err, err
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


TESTS = [fresh_write_verify_and_query, unchanged_rerun_costs_no_reset_and_few_bytes,
         object_api_and_board, esp32_reset_by_the_open, board_running_main_py,
         every_transfer_forced,
         transfer_fallbacks_follow_device, forced_transfer_the_device_lacks,
         plain_raw_repl_fallbacks, incremental_one_file_changes, erase_from_start_ports,
         sim_board_has_the_boards_partition_api, busy_device_loses_nothing,
         directory_input_is_packed, wrong_board_refused_before_erase,
         too_big_refused_before_erase, mpy_mismatch_refused_naming_the_file,
         no_romfs_and_no_partition, silent_port_and_usage]

if __name__ == "__main__":
    rc = run(TESTS)
    import shutil
    shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(rc)
