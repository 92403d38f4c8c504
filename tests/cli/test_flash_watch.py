# test_flash_watch.py: the edit-save-run loop against `romfs sim`:
#   romfs flash DIR --port P --watch --run MODULE   (and --run alone)
# Saves are made as editors make them (in place; a temporary file renamed over the
# original, with a backup beside it), and the loop is judged by what a user sees: each
# save is one round that writes fewer blocks than the first, full write; the module's new
# output appears; Ctrl-C ends with exit 130 and the board answers `romfs query` after.
# Ground truth for what was written: the simulator's flash file against `romfs pack`.
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simlib import ROMFS, Sim, run  # noqa: E402

TMP = tempfile.mkdtemp(prefix="romfs-watch.")
ROUND = re.compile(r"^romfs: \[(\d+)\] (.*?): .*?(\d+) of (\d+) erase blocks written", re.M)

MAIN = """import time
import lib.util
print("version %d", lib.util.answer())
while True:
    time.sleep(0.05)
"""


def write(path, data, mode="w"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f:
        f.write(data)


def make_app(name):
    """An app spanning several 4 KiB erase blocks: main.py, a package, a binary asset."""
    d = os.path.join(TMP, name)
    shutil.rmtree(d, ignore_errors=True)
    write(os.path.join(d, "main.py"), MAIN % 1)
    write(os.path.join(d, "lib", "__init__.py"), "")
    write(os.path.join(d, "lib", "util.py"), "def answer():\n    return 42\n" + "# filler\n" * 400)
    write(os.path.join(d, "assets", "data.bin"), bytes(range(256)) * 64, "wb")
    return d


class Watch:
    """A running `romfs flash ... --watch`: its stdout and stderr gathered as they come."""

    def __init__(self, *args):
        self.p = subprocess.Popen([ROMFS, "flash"] + list(args), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.out, self.err = b"", b""
        self.lock = threading.Condition()
        self.threads = [threading.Thread(target=self._pump, args=(s, n), daemon=True)
                        for s, n in ((self.p.stdout, "out"), (self.p.stderr, "err"))]
        for t in self.threads:
            t.start()

    def _pump(self, stream, name):
        for chunk in iter(lambda: os.read(stream.fileno(), 4096), b""):
            with self.lock:
                setattr(self, name, getattr(self, name) + chunk)
                self.lock.notify_all()
        with self.lock:
            self.lock.notify_all()

    def wait_for(self, name, pattern, timeout=30, count=1):
        """Until `pattern` (a regex) has appeared `count` times in stdout or stderr."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while len(re.findall(pattern, getattr(self, name).decode(errors="replace"), re.M)) < count:
                left = deadline - time.monotonic()
                if left <= 0 or (self.p.poll() is not None and not any(t.is_alive() for t in self.threads)):
                    raise AssertionError("no %r in %s (exit %s)\nstdout: %s\nstderr: %s" % (
                        pattern, name, self.p.poll(), self.out.decode(errors="replace")[-2000:],
                        self.err.decode(errors="replace")[-2000:]))
                self.lock.wait(min(left, 0.2))

    def rounds(self):
        with self.lock:
            return [(int(n), what, int(w), int(t))
                    for n, what, w, t in ROUND.findall(self.err.decode(errors="replace"))]

    def interrupt(self):
        self.p.send_signal(signal.SIGINT)
        rc = self.p.wait(30)
        for t in self.threads:
            t.join(10)
        return rc

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def sim(name):
    ff = os.path.join(TMP, name + ".bin")
    return Sim("--flash", ff, connect=False), ff


def flash_holds(ff, d):
    """The partition holds exactly the tree (laid out against the image before it, so not
    byte for byte what a plain pack makes): its image, cut from the flash file, verifies
    against d."""
    data = open(ff, "rb").read()
    assert data[:3] == b"\xd2\xcd\x31", "no ROMFS image in the flash"
    p, n = 3, 0
    while True:   # the image record's length (varuint), after its kind
        b = data[p]
        n = n << 7 | (b & 0x7f)
        p += 1
        if not b & 0x80:
            break
    img = os.path.join(TMP, "flashed.romfs")
    with open(img, "wb") as f:
        f.write(data[:p + n])
    v = subprocess.run([ROMFS, "verify", img, "--against", d, "-q"], capture_output=True)
    assert v.returncode == 0, v.stderr.decode()


def query_works(port):
    q = subprocess.run([ROMFS, "query", "--port", port], capture_output=True, timeout=60)
    assert q.returncode == 0, q.stderr.decode()


# -- the loop ---------------------------------------------------------------------------

def three_saves_write_three_times_each_less_than_a_full_write():
    s, ff = sim("three")
    d = make_app("three")
    w = Watch(d, "--port", s.path, "--watch", "--run", "main")
    try:
        w.wait_for("out", r"^version 1 42\r?$")
        w.wait_for("err", r"^romfs: \[1\]")
        # 1: written in place
        write(os.path.join(d, "main.py"), MAIN % 2)
        w.wait_for("out", r"^version 2 42\r?$")
        # 2: an editor's save: backup beside it, a temporary file renamed over the original
        write(os.path.join(d, "main.py~"), MAIN % 2)
        write(os.path.join(d, ".main.py.tmp"), MAIN % 3)
        os.replace(os.path.join(d, ".main.py.tmp"), os.path.join(d, "main.py"))
        w.wait_for("out", r"^version 3 42\r?$")
        # 3: a module the main one imports
        write(os.path.join(d, "lib", "util.py"), "def answer():\n    return 43\n" + "# filler\n" * 400)
        w.wait_for("out", r"^version 3 43\r?$")
        w.wait_for("err", r"^romfs: \[4\]")
        rounds = w.rounds()
        assert [r[0] for r in rounds] == [1, 2, 3, 4], w.err.decode()
        first = rounds[0]
        assert first[2] == first[3] > 2, first   # a fresh flash: every block, several of them
        for n, what, written, total in rounds[1:]:
            assert 0 < written < first[2], (n, what, written, total)
        # the burst of the editor's save is one round naming the file (the backup and the
        # temporary file count for nothing); each round names what changed
        assert rounds[2][1] == "main.py changed", rounds
        assert rounds[3][1] == "lib/util.py changed", rounds
        rc = w.interrupt()
        assert rc == 130, (rc, w.err.decode())
        assert "the board is at its REPL" in w.err.decode(), w.err.decode()
        os.remove(os.path.join(d, "main.py~"))
        flash_holds(ff, d)
        query_works(s.path)
    finally:
        w.kill()
        s.close()


def a_tree_that_does_not_pack_leaves_the_module_running():
    s, ff = sim("nopack")
    d = make_app("nopack")
    write(os.path.join(d, "main.py"), "import time\nn = 0\nwhile True:\n    print('tick', n)\n"
                                      "    n += 1\n    time.sleep(0.1)\n")
    w = Watch(d, "--port", s.path, "--watch", "--run", "main")
    try:
        w.wait_for("out", r"^tick 1\r?$")
        os.symlink("nowhere", os.path.join(d, "dangling"))   # refused by the pack
        w.wait_for("err", r"symlink to nothing")
        w.wait_for("err", r"^romfs: \[2\] dangling changed: the pack failed; the module of "
                          r"the round before runs on")
        with w.lock:
            ticks = len(re.findall(r"^tick \d+", w.out.decode(), re.M))
        w.wait_for("out", r"^tick \d+\r?$", count=ticks + 2)   # still running
        os.remove(os.path.join(d, "dangling"))
        w.wait_for("err", r"^romfs: \[3\] dangling changed: .* running main")
        w.wait_for("out", r"^tick 0\r?$", count=2)             # started afresh
        assert w.interrupt() == 130
        query_works(s.path)
    finally:
        w.kill()
        s.close()


def a_module_that_ends_and_one_that_raises():
    s, ff = sim("ends")
    d = os.path.join(TMP, "ends")
    write(os.path.join(d, "main.py"), "print('done')\n")
    write(os.path.join(d, "bad.py"), "print('a\\x1b[2Jb\\u00e9')\nraise ValueError('boom')\n")
    try:
        p = subprocess.run([ROMFS, "flash", d, "--port", s.path, "--run", "main"],
                           capture_output=True, timeout=60)
        assert p.returncode == 0 and p.stdout == b"done\n", (p.returncode, p.stdout, p.stderr)
        assert b"main ended" in p.stderr, p.stderr
        # the device's output is untrusted: a terminal control reaches the terminal escaped
        # (UTF-8 text as it is); the traceback goes to stderr
        p = subprocess.run([ROMFS, "flash", d, "--port", s.path, "--run", "bad", "-q"],
                           capture_output=True, timeout=60)
        assert p.returncode == 1, (p.returncode, p.stderr)
        assert p.stdout == "a\\x1b[2Jb\u00e9\n".encode(), p.stdout
        assert b"ValueError: boom" in p.stderr and b"\x1b" not in p.stderr, p.stderr
        # in the watch loop a module that ends is reported, and a save runs it again
        w = Watch(d, "--port", s.path, "--watch", "--run", "main")
        try:
            w.wait_for("err", r"^romfs: main ended")
            write(os.path.join(d, "main.py"), "print('again')\n")
            w.wait_for("out", r"^again$")
            w.wait_for("err", r"^romfs: main ended", count=2)
            assert w.interrupt() == 130
        finally:
            w.kill()
        query_works(s.path)
    finally:
        s.close()


def a_module_that_never_stops_printing_does_not_hide_a_save():
    s, ff = sim("flood")
    d = make_app("flood")
    write(os.path.join(d, "main.py"), "print('flood 1')\nwhile True:\n    print('x' * 70)\n")
    w = Watch(d, "--port", s.path, "--watch", "--run", "main", "-q")
    try:
        w.wait_for("out", r"^x{70}\r?$", count=50)
        write(os.path.join(d, "main.py"), "print('flood 2')\nwhile True:\n    print('y' * 70)\n")
        w.wait_for("out", r"^flood 2\r?$")
        w.wait_for("out", r"^y{70}\r?$", count=50)
        assert w.interrupt() == 130
        query_works(s.path)
    finally:
        w.kill()
        s.close()


def watching_without_a_module_writes_each_save():
    s, ff = sim("norun")
    d = make_app("norun")
    w = Watch(d, "--port", s.path, "--watch")
    try:
        w.wait_for("err", r"^romfs: \[1\]")
        write(os.path.join(d, "assets", "data.bin"), bytes(range(256)) * 63 + b"x" * 256, "wb")
        w.wait_for("err", r"^romfs: \[2\] assets/data.bin changed: .* no reset|^romfs: \[2\] assets/data.bin changed: .* reset")
        # the same bytes again: nothing to write, nothing reset
        write(os.path.join(d, "assets", "data.bin"), bytes(range(256)) * 63 + b"x" * 256, "wb")
        w.wait_for("err", r"^romfs: \[3\] assets/data.bin changed: the image is unchanged")
        assert w.interrupt() == 130
        flash_holds(ff, d)
        query_works(s.path)
    finally:
        w.kill()
        s.close()


def a_file_that_grows_moves_nothing_else():
    # each round is laid out against the image written before it (pack --base), so a file
    # that grows does not move the data packed after it
    s, ff = sim("grow")
    d = os.path.join(TMP, "grow")
    write(os.path.join(d, "a.py"), "A = 1\n")
    write(os.path.join(d, "b", "big.bin"), os.urandom(40000), "wb")
    plain = []
    for name in ("g1", "g2"):
        img = os.path.join(TMP, name + ".romfs")
        subprocess.run([ROMFS, "pack", d, "-o", img, "-q"], check=True)
        plain.append(open(img, "rb").read())
        write(os.path.join(d, "a.py"), "A = 1\n" + "# grown\n" * 40)
    write(os.path.join(d, "a.py"), "A = 1\n")
    blocks = lambda b: [b[i:i + 4096].ljust(4096, b"\xff") for i in range(0, len(b), 4096)]
    moved = sum(x != y for x, y in zip(blocks(plain[0]), blocks(plain[1])))
    assert moved > 5, moved   # in the plain layout the growth moves the big file
    w = Watch(d, "--port", s.path, "--watch")
    try:
        w.wait_for("err", r"^romfs: \[1\]")
        write(os.path.join(d, "a.py"), "A = 1\n" + "# grown\n" * 40)
        w.wait_for("err", r"^romfs: \[2\]")
        n, what, written, total = w.rounds()[1]
        assert written <= 3, (written, total, moved)
        assert w.interrupt() == 130
        flash_holds(ff, d)
    finally:
        w.kill()
        s.close()


def usage_is_checked():
    d = make_app("usage")
    img = os.path.join(TMP, "usage.romfs")
    subprocess.run([ROMFS, "pack", d, "-o", img, "-q"], check=True)
    for args, msg in (([img, "--port", "/dev/null", "--watch"], "--watch needs a DIR"),
                      ([d, "--port", "/dev/null", "--run", "main;import os"], "not a module name"),
                      ([d, "--port", "/dev/null", "--run", "main", "--no-reset"], "--no-reset"),
                      ([d, "--board", "PYBD_SF2", "--via", "dfu", "--watch"], "over the REPL only"),
                      ([d, "--port", "/dev/null", "--port", "/dev/zero", "--watch"], "for one board")):
        p = subprocess.run([ROMFS, "flash"] + args, capture_output=True, timeout=30)
        assert p.returncode == 2 and msg in p.stderr.decode(), (args, p.returncode, p.stderr)


if __name__ == "__main__":
    try:
        sys.exit(run([three_saves_write_three_times_each_less_than_a_full_write,
                      a_tree_that_does_not_pack_leaves_the_module_running,
                      a_module_that_ends_and_one_that_raises,
                      a_module_that_never_stops_printing_does_not_hide_a_save,
                      watching_without_a_module_writes_each_save,
                      a_file_that_grows_moves_nothing_else,
                      usage_is_checked]))
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
