# test_sim_repl.py: `romfs sim` speaks MicroPython's REPL protocols byte for byte
# (docs/reference/repl.rst, shared/runtime/pyexec.c): exact transcripts.
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tty

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simlib import Sim, ROMFS, run  # noqa: E402

RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"


def with_sim(*args, **kw):
    def wrap(fn):
        def test():
            s = Sim(*args, **kw)
            try:
                fn(s)
            finally:
                s.close()
        test.__name__ = fn.__name__
        return test
    return wrap


@with_sim()
def raw_paste_documented_example(s):
    # repl.rst: from a new line at the friendly REPL, b"\x01\x05A\x01print(123)\x04"
    # gets b"\r\nraw REPL; CTRL-B to exit\r\n>R\x01\x80\x00\x01\x04123\r\n\x04\x04>".
    s.write(b"\r")
    s.expect(b"\r\n>>> ")
    s.write(b"\x01\x05A\x01print(123)\x04")
    s.expect(b"\r\nraw REPL; CTRL-B to exit\r\n>R\x01\x80\x00\x01\x04123\r\n\x04\x04>")
    assert s.quiet() == b""


@with_sim()
def raw_repl_transcript(s):
    s.write(b"\r\x03")
    s.expect(b"\r\n>>> \r\n>>> ")
    s.write(b"\r\x01")
    s.expect(b"\r\n>>> \r\n" + RAW_BANNER)
    s.write(b"print('a'); print('b')\x04")
    s.expect(b"OKa\r\nb\r\n\x04\x04>")
    # An exception: stdout, \x04, the traceback, \x04.
    s.write(b"print(1)\nx = 1/0\x04")
    s.expect(b"OK1\r\n\x04Traceback (most recent call last):\r\n"
             b'  File "<stdin>", line 2, in <module>\r\n'
             b"ZeroDivisionError: division by zero\r\n\x04>")
    # Ctrl-A in raw mode re-announces; Ctrl-C clears the line being collected.
    s.write(b"print(5)\x03print(6)\x04")
    s.expect(b"OK6\r\n\x04\x04>")
    s.write(b"\x01")
    s.expect(RAW_BANNER)
    # A syntax error.
    s.write(b"def\x04")
    s.expect(b"OK\x04Traceback (most recent call last):\r\n"
             b'  File "<stdin>", line 1\r\nSyntaxError: invalid syntax\r\n\x04>')
    # The namespace persists between commands, as on a device.
    s.write(b"v = 41\x04")
    s.expect(b"OK\x04\x04>")
    s.write(b"print(v + 1)\x04")
    s.expect(b"OK42\r\n\x04\x04>")
    # Ctrl-D on an empty raw line: "OK\r\n", soft reboot, back in the raw REPL; the
    # namespace is gone.
    s.write(b"\x04")
    s.expect(b"OK\r\nMPY: soft reboot\r\n" + RAW_BANNER)
    s.write(b"print(v)\x04")
    out = s.read_until(b"\x04>")
    assert b"NameError" in out, out
    # Ctrl-B: back to the friendly REPL with its banner.
    s.write(b"\x02")
    out = s.read_until(b">>> ")
    assert out.startswith(b"\r\nMicroPython v1.") and b'Type "help()" for more information.\r\n>>> ' in out, out


@with_sim()
def friendly_repl_transcript(s):
    s.write(b"\r")
    s.expect(b"\r\n>>> ")
    s.write(b"1+2\r")
    s.expect(b"1+2\r\n3\r\n>>> ")
    s.write(b"for i in range(2):\r")
    s.expect(b"for i in range(2):\r\n... ")
    s.write(b"  print(i)\r\r")
    s.expect(b"  print(i)\r\n... \r\n0\r\n1\r\n>>> ")
    # Ctrl-C cancels a half-typed line.
    s.write(b"abc\x03")
    s.expect(b"abc\r\n>>> ")
    # Paste mode.
    s.write(b"\x05")
    s.expect(b"\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== ")
    s.write(b"x = 7\rprint(x * 6)\x04")
    s.expect(b"x = 7\r\n=== print(x * 6)\r\n42\r\n>>> ")
    # Ctrl-D at an empty prompt: soft reboot, banner again.
    s.write(b"\x04")
    out = s.read_until(b">>> ")
    assert out.startswith(b"\r\nMPY: soft reboot\r\nMicroPython v"), out


@with_sim()
def raw_paste_flow_control(s):
    s.raw()
    s.write(b"\x05A\x01")
    s.expect(b"R\x01")
    window = int.from_bytes(s.read(2), "little")
    assert window == 128
    s.expect(b"\x01")
    # Code of 1000 bytes, sent obeying the window: the device grants one more window
    # (one \x01) per 128 bytes it consumes: 1000 // 128 = 7 grants.
    code = b"x = 0\n" + b"x += 1\n" * 140 + b"print(x)\n"
    assert len(code) == 995
    remain = 2 * window
    grants = 0
    sent = 0
    while sent < len(code):
        if remain == 0:
            b = s.read(1)
            assert b == b"\x01", b
            grants += 1
            remain += window
        n = min(remain, len(code) - sent)
        s.write(code[sent:sent + n])
        sent += n
        remain -= n
    s.write(b"\x04")
    tail = s.read_until(b"\x04")   # remaining grants, then the end-of-data \x04
    grants += tail.count(b"\x01")
    assert tail.replace(b"\x01", b"") == b"\x04", tail
    assert grants == len(code) // window, (grants, len(code))
    out = s.read_until(b">")
    assert out == b"%d\r\n\x04\x04>" % code.count(b"x += 1"), out


@with_sim()
def raw_paste_interrupted_and_errors(s):
    s.raw()
    # Ctrl-C while receiving: end marker, then KeyboardInterrupt with no traceback.
    s.write(b"\x05A\x01")
    s.expect(b"R\x01\x80\x00\x01")
    s.write(b"print(1)\x03")
    s.expect(b"\x04\x04KeyboardInterrupt: \r\n\x04>")
    # Exception inside raw-paste: "\x04" end marker, then output \x04 traceback \x04 >.
    s.write(b"\x05A\x01")
    s.expect(b"R\x01\x80\x00\x01")
    s.write(b"print('x')\nraise ValueError('bad')\x04")
    s.expect(b"\x04x\r\n\x04Traceback (most recent call last):\r\n"
             b'  File "<stdin>", line 2, in <module>\r\nValueError: bad\r\n\x04>')
    # An unknown raw-paste command byte: "R\x00".
    s.write(b"\x05B\x01")
    s.expect(b"R\x00>")


@with_sim("--raw-paste", "off")
def raw_paste_refused(s):
    s.raw()
    s.write(b"\x05A\x01")
    s.expect(b"R\x00>")
    assert s.exec("print(2*21)") == (b"42\r\n", b"")


@with_sim("--raw-paste", "absent")
def raw_paste_absent_old_firmware(s):
    # Firmware without raw-paste: Ctrl-A resets the raw REPL; the client reads "ra".
    s.raw()
    s.write(b"\x05A\x01")
    s.expect(b"raw REPL; CTRL-B to exit\r\n>")
    assert s.exec("print(1)") == (b"1\r\n", b"")


@with_sim("--raw-paste-window", "32")
def raw_paste_window_option(s):
    s.raw()
    s.write(b"\x05A\x01")
    s.expect(b"R\x01\x20\x00\x01")
    s.write(b"print(3)\x04")
    s.expect(b"\x043\r\n\x04\x04>")


@with_sim()
def ctrl_c_interrupts_running_code(s):
    s.raw()
    s.write(b"while True:\n  pass\x04")
    s.expect(b"OK")
    time.sleep(0.2)
    s.write(b"\x03")
    out = s.read_until(b"\x04>")
    assert out.startswith(b"\x04Traceback (most recent call last):\r\n"), out
    assert out.endswith(b"KeyboardInterrupt: \r\n\x04>"), out
    # time.sleep is interruptible too.
    s.write(b"import time\ntime.sleep(30)\x04")
    s.expect(b"OK")
    time.sleep(0.2)
    s.write(b"\x03")
    out = s.read_until(b"\x04>", timeout=3)
    assert b"KeyboardInterrupt" in out, out


@with_sim()
def stdin_binary_with_kbd_intr_disabled(s):
    # The receive loop a flashing tool runs: raw bytes (Ctrl-C and Ctrl-D included)
    # through sys.stdin.buffer with the keyboard interrupt off.
    s.raw()
    payload = bytes(range(256)) * 8
    code = (b"import sys, micropython, hashlib\n"
            b"micropython.kbd_intr(-1)\n"
            b"buf = bytearray(1024)\nh = hashlib.sha256()\n"
            b"for i in range(2):\n  sys.stdin.buffer.readinto(buf)\n  h.update(buf)\n"
            b"micropython.kbd_intr(3)\n"
            b"print(h.digest().hex())\n")
    s.write(code + b"\x04")
    s.expect(b"OK")
    for i in range(0, len(payload), 100):
        s.write(payload[i:i + 100])
    import hashlib
    out = s.read_until(b"\x04>")
    assert out == hashlib.sha256(payload).hexdigest().encode() + b"\r\n\x04\x04>", out
    # read(n) blocks until n bytes came, stdin.buffer.read returns bytes.
    s.write(b"import sys\nprint(sys.stdin.buffer.read(5))\x04")
    s.expect(b"OK")
    s.write(b"ab\x04cd")
    s.expect(b"b'ab\\x04cd'\r\n\x04\x04>")


@with_sim("--baud", "19200")
def baud_limits_throughput(s):
    # 19200 baud = 1920 bytes/s: 1000 bytes of output take at least ~0.5 s.
    s.raw()
    t0 = time.monotonic()
    out, err = s.exec("print('y' * 1000)")
    elapsed = time.monotonic() - t0
    assert out == b"y" * 1000 + b"\r\n" and not err
    assert elapsed >= 0.45, elapsed


def usage_errors():
    for args, text in ((["--fault", "explode@3"], b"bad fault 'explode@3'"),
                       (["--no-such-option"], b"unknown option '--no-such-option'"),
                       (["--api", "mmap"], b"invalid choice"),
                       (["--board", "NO_SUCH_BOARD_XYZ"], b"NO_SUCH_BOARD_XYZ"),
                       (["--background", "--fault", "bad@1"], b"bad fault 'bad@1'")):
        p = subprocess.run([ROMFS, "sim"] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=20)
        assert p.returncode == 2, (args, p.returncode, p.stderr)
        assert text in p.stderr, (args, p.stderr)
        assert p.stdout == b"", p.stdout
    p = subprocess.run([ROMFS, "sim", "--help"], stdout=subprocess.PIPE, timeout=20)
    assert p.returncode == 0 and b"disconnect@N" in p.stdout and b"--flash FILE" in p.stdout


def stops_on_sigterm_and_cleans_up():
    # The program copy lives in a private directory under $TMPDIR, gone once it runs.
    tmp = tempfile.mkdtemp(prefix="romfs-simtmp.")
    try:
        s = Sim(connect=False, env={"TMPDIR": tmp})
        assert os.listdir(tmp) == [], os.listdir(tmp)
        s.proc.terminate()
        assert s.proc.wait(5) == 0
        s.close()
        p = subprocess.run([ROMFS, "sim", "--fault", "nope"], env=dict(os.environ, TMPDIR=tmp),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert p.returncode == 2 and os.listdir(tmp) == [], os.listdir(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def background_mode():
    d = tempfile.mkdtemp(prefix="romfs-simbg.")
    pid_file = os.path.join(d, "pid")
    p = subprocess.run([ROMFS, "sim", "--background", "--pid-file", pid_file, "--partition-size", "8K"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 0, p.stderr
    path = p.stdout.decode().strip()
    assert path.startswith("/dev/") and "\n" not in path, path
    pid = int(open(pid_file).read())
    try:
        os.kill(pid, 0)   # still running after `romfs sim` returned
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(fd)
        os.write(fd, b"\r\x01")
        got = b""
        while not got.endswith(RAW_BANNER):
            chunk = os.read(fd, 100)
            assert chunk
            got += chunk
        os.write(fd, b"print(len(__import__('vfs').rom_ioctl(2,0)))\x04")
        got = b""
        while not got.endswith(b"\x04>"):
            got += os.read(fd, 100)
        assert got == b"OK8192\r\n\x04\x04>", got
        os.close(fd)
    finally:
        os.kill(pid, signal.SIGTERM)
        shutil.rmtree(d, ignore_errors=True)
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("background simulator did not stop on SIGTERM")
    p = subprocess.run([ROMFS, "sim", "--pid-file", "x"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.returncode == 2 and b"--background" in p.stderr


if __name__ == "__main__":
    sys.exit(run([raw_paste_documented_example, raw_repl_transcript, friendly_repl_transcript,
                  raw_paste_flow_control, raw_paste_interrupted_and_errors, raw_paste_refused,
                  raw_paste_absent_old_firmware, raw_paste_window_option,
                  ctrl_c_interrupts_running_code, stdin_binary_with_kbd_intr_disabled,
                  baud_limits_throughput, usage_errors, stops_on_sigterm_and_cleans_up,
                  background_mode]))
