# test_flash_repl_cut.py: nothing romfs runs on a board outlives romfs. A write cut at
# any point (the host killed, as when a laptop sleeps or a cable goes) leaves a board
# that the next romfs reaches at once and that never mounts a torn image; SIGINT and
# SIGTERM stop the device's write loop before romfs exits 130 / 143; a board whose host
# went away and never came back is at its REPL again by itself.
#
# The simulated board keeps its state when the host closes the port, as a real board
# does, and runs at a UART's speed so that a write takes seconds.
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simlib  # noqa: E402

ROMFS = simlib.ROMFS
BAUD = "230400"


def make_tree(top, seed):
    rnd = random.Random(seed)
    os.makedirs(os.path.join(top, "lib"))
    with open(os.path.join(top, "main.py"), "w") as f:
        f.write("print('app %d')\n" % seed)
    for i in range(6):
        with open(os.path.join(top, "lib", "blob%d.bin" % i), "wb") as f:
            f.write(bytes(rnd.getrandbits(8) for _ in range(9000)))


def pack(tree, out):
    subprocess.run([ROMFS, "pack", tree, "-o", out, "-q"], check=True)
    return hashlib.sha256(open(out, "rb").read()).hexdigest()


def query(port, timeout=15):
    """romfs query's exit status, text and the time it took."""
    t0 = time.monotonic()
    p = subprocess.run([ROMFS, "query", "--port", port], capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout + p.stderr, time.monotonic() - t0


def image_sha(text):
    for line in text.splitlines():
        if line.strip().startswith("sha256:"):
            return line.split()[-1]
    return None


def flash(port, image, **kw):
    return subprocess.Popen([ROMFS, "flash", image, "--port", port, "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


class Setup:
    def __init__(self, *sim_args):
        self.dir = tempfile.mkdtemp(prefix="romfs-cut.")
        make_tree(os.path.join(self.dir, "a"), 1)
        make_tree(os.path.join(self.dir, "b"), 2)
        self.a = os.path.join(self.dir, "a.romfs")
        self.b = os.path.join(self.dir, "b.romfs")
        self.sha_a = pack(os.path.join(self.dir, "a"), self.a)
        self.sha_b = pack(os.path.join(self.dir, "b"), self.b)
        self.sim = simlib.Sim("--baud", BAUD, "--partition-size", "128K", *sim_args, connect=False)

    def close(self):
        self.sim.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def cuts(*sim_args):
    s = Setup(*sim_args)
    try:
        port = s.sim.path
        p = flash(port, s.a)
        assert p.wait(120) == 0, p.stderr.read()
        current, sha_of = s.a, {s.a: s.sha_a, s.b: s.sha_b}
        rnd = random.Random(7)
        for cut in range(6):
            other = s.b if current == s.a else s.a
            p = flash(port, other)
            time.sleep(rnd.uniform(0.3, 3.0))
            p.kill()                       # no chance to say goodbye
            p.wait(10)
            rc, text, took = query(port)
            assert rc == 0, "cut %d: the board is not reachable after the cut:\n%s" % (cut, text)
            assert took < 10, "cut %d: reaching the board took %.1f s" % (cut, took)
            sha = image_sha(text)
            # the old image whole, or no valid image: never a torn one that mounts
            assert sha in (None, sha_of[current], sha_of[other]), (cut, text)
            p = flash(port, other)
            assert p.wait(120) == 0, "cut %d: the re-run failed: %s" % (cut, p.stderr.read())
            rc, text, _ = query(port)
            assert rc == 0 and image_sha(text) == sha_of[other], (cut, text)
            current = other
    finally:
        s.close()


def cut_writes_leave_a_reachable_board_and_no_torn_image():
    cuts()


def cut_writes_on_a_board_where_ctrl_c_does_not_interrupt():
    # MicroPython's qemu port polls its UART: the next romfs breaks in by completing the
    # loop's read and outwaiting its idle limit
    cuts("--polled-uart", "--mp-port", "qemu")


def interrupted_romfs_stops_the_device_first(sig, want_rc):
    s = Setup()
    try:
        port = s.sim.path
        p = flash(port, s.a)
        time.sleep(1.5)
        t0 = time.monotonic()
        p.send_signal(sig)
        rc = p.wait(10)
        took = time.monotonic() - t0
        err = p.stderr.read().decode()
        assert rc == want_rc, (rc, err)
        assert took < 3, "romfs took %.1f s to stop" % took
        assert "interrupted" in err, err
        rc, text, took = query(port)
        assert rc == 0 and took < 8, (rc, took, text)
        p = flash(port, s.a)
        assert p.wait(120) == 0, p.stderr.read()
        rc, text, _ = query(port)
        assert image_sha(text) == s.sha_a, text
    finally:
        s.close()


def sigint_stops_the_device_then_exits_130():
    interrupted_romfs_stops_the_device_first(signal.SIGINT, 130)


def sigterm_stops_the_device_then_exits_143():
    interrupted_romfs_stops_the_device_first(signal.SIGTERM, 143)


def a_board_left_alone_returns_to_its_repl():
    s = Setup()
    try:
        port = s.sim.path
        p = flash(port, s.a)
        time.sleep(1.5)
        p.kill()
        p.wait(10)
        time.sleep(3.5)                    # the loop's idle limit is 2 s
        # Without Ctrl-C: if the write loop still ran, it would take Ctrl-A as data.
        fd = os.open(port, os.O_RDWR | os.O_NOCTTY)
        try:
            import termios
            import tty
            tty.setraw(fd)
            termios.tcflush(fd, termios.TCIFLUSH)
            os.write(fd, b"\r\x01")
            got, deadline = b"", time.monotonic() + 5
            while b"raw REPL; CTRL-B to exit" not in got and time.monotonic() < deadline:
                import select
                r, _, _ = select.select([fd], [], [], 0.2)
                if r:
                    got += os.read(fd, 1024)
            os.write(fd, b"\x02")
        finally:
            os.close(fd)
        assert b"raw REPL; CTRL-B to exit" in got, got
    finally:
        s.close()


if __name__ == "__main__":
    sys.exit(simlib.run([cut_writes_leave_a_reachable_board_and_no_torn_image,
                         cut_writes_on_a_board_where_ctrl_c_does_not_interrupt,
                         sigint_stops_the_device_then_exits_130,
                         sigterm_stops_the_device_then_exits_143,
                         a_board_left_alone_returns_to_its_repl]))
