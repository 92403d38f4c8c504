# test_flash_fleet.py: `romfs flash` on several simulated boards at once (--port P1
# --port P2, --all), its table / JSON / JUnit output, and the production loop (--loop,
# --log) with boards that appear and disappear through ROMFS_SERIAL_PORTS_FILE.
#
# Ground truth is each simulator's flash file (--flash FILE), read directly.
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simlib import ROMFS, Sim, run  # noqa: E402

TMP = tempfile.mkdtemp(prefix="romfs-fleet.")
BOARDS = os.path.join(TMP, "boards.json")
with open(BOARDS, "w") as f:
    json.dump({"schema": 1, "micropython": {}, "boards": [
        {"board": "TEST_F4", "port": "stm32", "mcu": "STM32F405",
         "romfs": [{"index": 0, "start": 0x08020000, "size": 131072, "erase_block": 4096,
                    "write_block": 8, "mmap": True}],
         "repl": {"usb": "1234:abcd"}}]}, f)
ENV = dict(os.environ, ROMFS_BOARDS=BOARDS)


def make_app(name, seed, size=24000):
    d = os.path.join(TMP, name)
    os.makedirs(os.path.join(d, "lib"), exist_ok=True)
    blob = b"".join(hashlib.sha256(b"%d-%d" % (seed, i)).digest() for i in range(size // 32 + 1))
    open(os.path.join(d, "main.py"), "wb").write(b"print('app %d')\n" % seed)
    open(os.path.join(d, "lib", "util.py"), "wb").write(b"X = %d\n" % seed * 40)
    open(os.path.join(d, "blob.bin"), "wb").write(blob[:size])
    img = os.path.join(TMP, name + ".romfs")
    subprocess.run([ROMFS, "pack", d, "-o", img], check=True, capture_output=True)
    return d, open(img, "rb").read()


APP, IMG = make_app("app", 1)


class Board:
    """A simulated board with its flash in a file."""

    def __init__(self, name, *args):
        self.flash = os.path.join(TMP, name + ".flash")
        if os.path.exists(self.flash):
            os.unlink(self.flash)
        self.sim = Sim("--flash", self.flash, *args, connect=False, env=ENV)
        self.path = self.sim.path

    def holds(self, image):
        with open(self.flash, "rb") as f:
            return f.read(len(image)) == image

    def erased(self):
        with open(self.flash, "rb") as f:
            return f.read(64) == b"\xff" * 64

    def close(self):
        self.sim.close()


def flash(*args, env=None):
    return subprocess.run([ROMFS, "flash", APP, "--timeout", "3000"] + list(args),
                          capture_output=True, env=env or ENV, timeout=120)


def boards(*specs):
    out = []
    try:
        for i, spec in enumerate(specs):
            out.append(Board("b%d-%d" % (i, time.monotonic_ns()), *spec))
    except BaseException:
        for b in out:
            b.close()
        raise
    return out


def close_all(bs):
    for b in bs:
        b.close()


def several_ports_write_every_board():
    bs = boards((), (), ())
    try:
        p = flash(*sum((["--port", b.path] for b in bs), []))
        out = p.stdout.decode()
        assert p.returncode == 0, (out, p.stderr)
        for b in bs:   # before: only the last --port was written
            assert b.holds(IMG), "%s not written" % b.path
            line = [ln for ln in out.splitlines() if ln.startswith(b.path + " ")]
            assert line and line[0].rstrip().endswith("ok"), out
        assert "onto 3 boards" in out, out
        # a second run compares and writes nothing
        p = flash("--json", *sum((["--port", b.path] for b in bs), []))
        rep = json.loads(p.stdout)
        assert p.returncode == 0 and [r["blocks_written"] for r in rep] == [0, 0, 0], rep
        assert all(r["ok"] and r["verified"] and r["rom_checked"] for r in rep), rep
    finally:
        close_all(bs)


def one_failing_board_never_stops_the_others():
    # the middle board drops its link mid-write (after 12000 bytes received)
    bs = boards((), ("--fault", "disconnect@12000"), ())
    try:
        p = flash("--json", *sum((["--port", b.path] for b in bs), []))
        err = p.stderr.decode()
        assert p.returncode == 1, (p.returncode, err)
        assert "1 of 3 boards failed: %s" % bs[1].path in err, err
        rep = json.loads(p.stdout)
        assert [r["port"] for r in rep] == [b.path for b in bs], rep
        assert [r["ok"] for r in rep] == [True, False, True], rep
        assert rep[1]["error"] and not rep[1]["verified"], rep[1]
        assert bs[0].holds(IMG) and bs[2].holds(IMG)
        assert not bs[1].holds(IMG)
    finally:
        close_all(bs)


def junit_has_one_testcase_per_board():
    bs = boards((), ())
    try:
        missing = os.path.join(TMP, "no-such-port")
        p = flash("--format", "junit", "--port", bs[0].path, "--port", missing, "--port", bs[1].path)
        assert p.returncode == 1, p.stderr
        assert missing in p.stderr.decode()
        suite = ET.fromstring(p.stdout).find("testsuite")
        cases = suite.findall("testcase")
        assert suite.get("tests") == "3" and suite.get("failures") == "1", p.stdout
        assert [c.get("name") for c in cases] == [bs[0].path, missing, bs[1].path]
        assert [c.find("failure") is not None for c in cases] == [False, True, False]
        assert "no-such-port" in cases[1].find("failure").get("message")
    finally:
        close_all(bs)


def all_finds_boards_by_usb_id():
    bs = boards((), (), ())
    try:
        ports = os.path.join(TMP, "ports-all.txt")
        with open(ports, "w") as f:   # two MicroPython boards and one other USB device
            f.write("# path vid:pid serial\n%s f055:9802 SN-A\n%s 0403:6001 FTDI-X\n%s 2e8a:0005 SN-C\n"
                    % (bs[0].path, bs[1].path, bs[2].path))
        env = dict(ENV, ROMFS_SERIAL_PORTS_FILE=ports)
        p = flash("--all", "--json", env=env)
        assert p.returncode == 0, p.stderr
        rep = json.loads(p.stdout)
        assert [(r["port"], r["serial_number"]) for r in rep] == [(bs[0].path, "SN-A"),
                                                                  (bs[2].path, "SN-C")], rep
        assert bs[0].holds(IMG) and bs[2].holds(IMG) and bs[1].erased()
        # with --board, only the board's own USB id
        with open(ports, "w") as f:
            f.write("%s 1234:abcd SN-B\n%s f055:9802 SN-A\n" % (bs[1].path, bs[0].path))
        p = flash("--all", "--board", "TEST_F4", "--format", "json", env=env)
        assert p.returncode == 0, p.stderr
        assert [r["serial_number"] for r in json.loads(p.stdout)] == ["SN-B"]
        assert bs[1].holds(IMG)
        # none connected: exit 1 naming what was looked for
        open(ports, "w").close()
        p = flash("--all", env=env)
        assert p.returncode == 1 and b"no board found on USB" in p.stderr, p.stderr
    finally:
        close_all(bs)


def refusals_before_any_board():
    bs = boards(())
    try:
        big, _ = make_app("big", 2, size=200000)
        p = subprocess.run([ROMFS, "flash", big, "--board", "TEST_F4", "--port", bs[0].path,
                            "--port", bs[0].path + "x"], capture_output=True, env=ENV)
        assert p.returncode == 1 and b"onto" not in p.stdout, (p.stdout, p.stderr)
        assert bs[0].erased(), "a refused image touched a board"
        for args, msg in [(["--all", "--port", bs[0].path], b"--all or --port"),
                          (["--loop", "--json"], b"--loop"),
                          (["--log", "x.log", "--port", bs[0].path], b"--log FILE is for --loop"),
                          (["--via", "dfu", "--board", "TEST_F4", "--port", "a", "--port", "b"],
                           b"--via repl only"),
                          (["--port", bs[0].path, "--port", bs[0].path], b"given twice"),
                          (["--format", "xml", "--port", bs[0].path], b"--format"),
                          (["--format", "junit", "--board", "TEST_F4"], b"--port (repeatable) or --all")]:
            p = flash(*args)
            assert p.returncode == 2 and msg in p.stderr, (args, p.returncode, p.stderr)
        assert bs[0].erased()
    finally:
        close_all(bs)


# ---- the production loop -----------------------------------------------------------

class Loop:
    def __init__(self, *args, ports_file):
        self.log = os.path.join(TMP, "loop-%d.jsonl" % time.monotonic_ns())
        env = dict(ENV, ROMFS_SERIAL_PORTS_FILE=ports_file, ROMFS_LOOP_POLL_MS="100")
        self.out = open(os.path.join(TMP, "loop.out"), "w+")
        self.proc = subprocess.Popen([ROMFS, "flash", APP, "--loop", "--log", self.log,
                                      "--timeout", "3000"] + list(args),
                                     stdout=self.out, stderr=subprocess.PIPE, env=env)

    def lines(self):
        self.out.seek(0)
        return [ln for ln in self.out.read().splitlines() if ln]

    def wait_lines(self, n, timeout=30):
        deadline = time.monotonic() + timeout
        while len(self.lines()) < n:
            assert self.proc.poll() is None, "loop exited: %s" % self.proc.stderr.read()
            assert time.monotonic() < deadline, "waiting for %d lines: %s" % (n, self.lines())
            time.sleep(0.05)
        return self.lines()

    def stop(self, sig):
        """Signal the loop; its exit status, stderr and stdout lines."""
        self.proc.send_signal(sig)
        rc = self.proc.wait(60)
        err = self.proc.stderr.read().decode()
        self.proc.stderr.close()
        lines = self.lines()
        self.out.close()
        return rc, err, lines

    def log_lines(self):
        with open(self.log) as f:
            return [json.loads(ln) for ln in f]


def write_ports(path, entries):
    with open(path + ".tmp", "w") as f:
        for port, serial in entries:
            f.write("%s f055:9802 %s\n" % (port, serial))
    os.replace(path + ".tmp", path)


def loop_writes_each_new_board_once():
    bs = boards((), (), ("--fault", "disconnect@12000"), ())
    ports = os.path.join(TMP, "ports-loop.txt")
    write_ports(ports, [(bs[0].path, "SN0")])
    loop = Loop(ports_file=ports)
    try:
        assert loop.wait_lines(1)[0].startswith("PASS %s serial SN0: " % bs[0].path)
        assert bs[0].holds(IMG)
        # a board that stays plugged in is not written again
        write_ports(ports, [(bs[0].path, "SN0"), (bs[1].path, "SN1")])
        assert loop.wait_lines(2)[1].startswith("PASS %s serial SN1" % bs[1].path)
        time.sleep(0.6)
        assert len(loop.lines()) == 2, loop.lines()
        # unplugged mid-write: a FAIL line, and the loop goes on
        write_ports(ports, [(bs[0].path, "SN0"), (bs[1].path, "SN1"), (bs[2].path, "SN2")])
        fail = loop.wait_lines(3)[2]
        assert fail.startswith("FAIL %s serial SN2: " % bs[2].path), fail
        write_ports(ports, [(bs[0].path, "SN0"), (bs[3].path, "SN3")])
        assert loop.wait_lines(4)[3].startswith("PASS %s serial SN3" % bs[3].path)
        # SN0 goes away and comes back: written again (up to date: nothing to write)
        write_ports(ports, [(bs[3].path, "SN3")])
        time.sleep(1.0)   # ten looks at the ports: the loop has seen SN0 go
        write_ports(ports, [(bs[3].path, "SN3"), (bs[0].path, "SN0")])
        again = loop.wait_lines(5)[4]
        assert again.startswith("PASS %s serial SN0: 0 of " % bs[0].path), again
        rc, err, _ = loop.stop(signal.SIGTERM)
        assert rc == 143, (rc, err)
        assert "4 passed, 1 failed" in err, err
        log = loop.log_lines()
        sha = hashlib.sha256(IMG).hexdigest()
        assert [(e["serial_number"], e["result"]) for e in log] == [
            ("SN0", "pass"), ("SN1", "pass"), ("SN2", "fail"), ("SN3", "pass"), ("SN0", "pass")], log
        for e in log:
            assert e["image_sha256"] == sha and e["time"].endswith("Z") and e["port"], e
            assert (e["error"] is None) == (e["result"] == "pass"), e
        assert log[0]["blocks_written"] == log[0]["blocks_in_image"] > 0 and log[4]["blocks_written"] == 0
    finally:
        if loop.proc.poll() is None:
            loop.proc.kill()
            loop.proc.wait()
        close_all(bs)


def loop_finishes_a_running_write_on_sigint():
    bs = boards(("--baud", "115200"),)   # about 3 s for this image on a 115200 baud link
    ports = os.path.join(TMP, "ports-int.txt")
    write_ports(ports, [(bs[0].path, "SLOW")])
    loop = Loop(ports_file=ports)
    try:
        while not loop.proc.stderr.readline().startswith(b"romfs: writing /dev"):
            assert loop.proc.poll() is None, "the loop ended before it found the board"
        time.sleep(0.5)   # the job is under way; the whole write takes seconds
        assert loop.lines() == [], "finished too fast to test an interrupted write"
        rc, err, lines = loop.stop(signal.SIGINT)
        assert rc == 130, (rc, err)
        assert len(lines) == 1 and lines[0].startswith("PASS %s serial SLOW" % bs[0].path), (lines, err)
        assert bs[0].holds(IMG)
        assert [e["result"] for e in loop.log_lines()] == ["pass"]
    finally:
        if loop.proc.poll() is None:
            loop.proc.kill()
            loop.proc.wait()
        close_all(bs)


def loop_second_sigint_abandons_the_write():
    bs = boards(("--baud", "38400"),)   # the data take about 1.5 s on this link
    ports = os.path.join(TMP, "ports-int2.txt")
    write_ports(ports, [(bs[0].path, "SLOW")])
    loop = Loop(ports_file=ports)
    try:
        deadline = time.monotonic() + 30
        while True:   # until blocks after the header block are being programmed
            with open(bs[0].flash, "rb") as f:
                f.seek(4096)
                if f.read().strip(b"\xff"):
                    break
            assert time.monotonic() < deadline and loop.proc.poll() is None, "no write began"
            time.sleep(0.02)
        loop.proc.send_signal(signal.SIGINT)
        time.sleep(0.05)
        rc, err, lines = loop.stop(signal.SIGINT)
        assert rc == -signal.SIGINT and lines == [], (rc, lines, err)
        time.sleep(0.5)   # the board takes in what reached it before the cut
        with open(bs[0].flash, "rb") as f:
            head = f.read(3)
        # the header block was erased first and is written last: no half image mounts
        assert head != IMG[:3], "a cut write left a mountable header"
    finally:
        if loop.proc.poll() is None:
            loop.proc.kill()
            loop.proc.wait()
        close_all(bs)


try:
    rc = run([several_ports_write_every_board, one_failing_board_never_stops_the_others,
              junit_has_one_testcase_per_board, all_finds_boards_by_usb_id,
              refusals_before_any_board, loop_writes_each_new_board_once,
              loop_finishes_a_running_write_on_sigint, loop_second_sigint_abandons_the_write])
finally:
    shutil.rmtree(TMP, ignore_errors=True)
sys.exit(rc)
