# test_sim_strict.py: `romfs sim` fails where a real MicroPython board fails. Each test
# pins one behaviour of MicroPython's own code (named in the test) that an easier
# simulator would get wrong: bytes paths, a finite receive buffer, raw-paste's early
# end on a syntax error, a reset when the port is opened, boot.py/main.py on every
# reset, and what Ctrl-C can and cannot interrupt.
import json
import os
import select
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simlib import Sim, make_image, run  # noqa: E402

TMP = tempfile.mkdtemp(prefix="romfs-simstrict.")
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"


def flash_file(name, tree, size=64 * 1024):
    """A partition image file holding the ROMFS image of tree (for --flash)."""
    path = os.path.join(TMP, name)
    img = make_image(tree)
    with open(path, "wb") as f:
        f.write(img + b"\xff" * (size - len(img)))
    return path


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


def bytes_paths_give_bytes_names():
    # extmod/vfs.c lookup_path hands the filesystem the path in the caller's type and
    # vfs_rom.c's ilistdir gives names of that type: listing /rom with a bytes path
    # gives bytes names (the simulator used to raise TypeError).
    path = flash_file("bytes.bin", {"a.py": b"x = 1\n", "lib": {"m.py": b"y = 2\n"}})
    s = Sim("--partition-size", "64K", "--flash", path)
    try:
        s.raw()
        assert s.eval('__import__("os").listdir(b"/rom")') == [b"a.py", b"lib"]
        assert s.eval('list(__import__("os").ilistdir(b"/rom/lib"))') == [(b"m.py", 0x8000, 0, 6)]
        assert s.eval('__import__("os").listdir("/rom")') == ["a.py", "lib"]
        assert s.eval('__import__("os").listdir(b"/")') == [b"rom"]
        assert s.eval('__import__("os").stat(b"/rom/lib/m.py")[6]') == 6
        assert s.eval('open(b"/rom/a.py").read()') == "x = 1\n"
        assert s.eval('open(b"/rom/a.py", "rb").read()') == b"x = 1\n"
    finally:
        s.close()


# -- the receive buffer ------------------------------------------------------------------

COUNT_INPUT = (b"import sys, time, select\ntime.sleep(0.5)\np = select.poll()\n"
               b"p.register(sys.stdin, select.POLLIN)\nn = 0\nwhile p.poll(300):\n"
               b"    sys.stdin.buffer.read(1)\n    n += 1\nprint(n)\n")


def received_while_busy(s, n):
    """Send n bytes while the device sleeps (busy, not reading), then let it count
    what it received."""
    s.write(COUNT_INPUT + b"\x04")
    s.expect(b"OK")
    s.write(b"a" * n)
    out = s.read_until(b"\x04>", timeout=10)
    assert out.endswith(b"\r\n\x04\x04>"), out
    return int(out.split(b"\r\n")[0])


def receive_buffer_overflows_while_busy():
    # A port's stdin ring buffer is finite and its receive interrupt drops what does
    # not fit (ports/stm32/uart.c, ports/esp32/uart.c ringbuf_put): 1000 bytes sent to
    # a device that does not read leave 259 (stm32's 260-byte UART REPL rxbuf) or what
    # --rx-buffer says; the simulator used to keep them all.
    stats = os.path.join(TMP, "rx-stats.json")
    s = Sim("--stats", stats)
    try:
        s.raw()
        assert received_while_busy(s, 1000) == 259
        assert json.load(open(stats))["rx_dropped"] == 1000 - 259
        # A device that reads as the bytes come loses nothing, however many.
        s.write(b"import sys\nprint(len(sys.stdin.buffer.read(3000)))\x04")
        s.expect(b"OK")
        s.write(b"b" * 3000)
        assert s.read_until(b"\x04>") == b"3000\r\n\x04\x04>"
        # Neither does the raw REPL, which reads all the time: 5000 bytes of code.
        out, err = s.exec(b"x = 0\n" + b"x += 1\n" * 700 + b"print(x)\n")
        assert (out, err) == (b"700\r\n", b""), (out, err)
    finally:
        s.close()
    for args, kept in ((["--rx-buffer", "100"], 100), (["--rx-buffer", "0"], 1000),
                       (["--mp-port", "rp2"], 511)):
        s = Sim(*args)
        try:
            s.raw()
            assert received_while_busy(s, 1000) == kept, args
        finally:
            s.close()


# -- raw-paste: compiled as it arrives -------------------------------------------------------

def input_waiting(s):
    return bool(select.select([s.fd], [], [], 0)[0])


def paste(s, code):
    """Send code in raw-paste mode as mpremote does (transport_serial.py raw_paste_write):
    obey the window, stop when the device ends reception. Returns the bytes sent."""
    s.write(b"\x05A\x01")
    s.expect(b"R\x01")
    window = int.from_bytes(s.read(2), "little")
    s.expect(b"\x01")
    remain, sent = 2 * window, 0
    while sent < len(code):
        while remain == 0 or input_waiting(s):
            b = s.read(1)
            if b == b"\x01":
                remain += window
            elif b == b"\x04":
                s.write(b"\x04")     # acknowledge the early end
                return sent
            else:
                raise AssertionError("unexpected %r during raw-paste" % b)
        n = min(remain, len(code) - sent)
        s.write(code[sent:sent + n])
        sent += n
        remain -= n
    s.write(b"\x04")
    tail = s.read_until(b"\x04")
    assert tail.replace(b"\x01", b"") == b"\x04", tail
    return sent


@with_sim()
def raw_paste_syntax_error_ends_reception_early(s):
    # pyexec.c: the lexer reads the pasted code from stdin as the parser needs it, so a
    # syntax error on line 2 ends reception at once (mp_reader_stdin_close sends "\x04"
    # and drops input until the host's Ctrl-D), long before the host is done sending.
    # The simulator used to take all 4 KiB first.
    s.raw()
    code = b"x = 1\ny = = 2\n" + b"z = 3\n" * 700
    sent = paste(s, code)
    assert sent < len(code) // 4, sent
    s.expect(b"\x04Traceback (most recent call last):\r\n  File \"<stdin>\", line 2\r\n"
             b"SyntaxError: invalid syntax\r\n\x04>")
    assert s.exec("print(6 * 7)") == (b"42\r\n", b"")
    # An error only the compiler finds ('return' outside a function) comes after the
    # whole code is in, as the parse succeeds; and valid code is never cut.
    code = b"z = 3\n" * 700 + b"return 5\n"
    assert paste(s, code) == len(code)
    out = s.read_until(b"\x04>")
    assert out.startswith(b"\x04Traceback") and b"SyntaxError" in out, out
    code = b"def f(x):\n    return [\n" + b"        x,\n" * 300 + b"    ]\nprint(len(f(1)))\n"
    assert paste(s, code) == len(code)
    assert s.read_until(b"\x04>") == b"300\r\n\x04\x04>"


# -- reset when the port is opened ----------------------------------------------------------

def reopen(s):
    os.close(s.fd)
    s.fd = None
    time.sleep(0.1)
    s.connect()


def opening_the_port_resets_esp32():
    # ESP32 boards wire the USB-UART bridge's DTR/RTS to EN/GPIO0: a host opening the
    # port resets the board. It prints its boot ROM text, hears nothing until
    # MicroPython runs (what is sent meanwhile is lost), and starts in the friendly
    # REPL. The simulator used to keep running as if nothing happened.
    s = Sim("--board", "ESP32_GENERIC", connect=False)
    try:
        for _ in range(2):      # every open resets it
            s.connect()
            s.write(b"\r\x01")  # lost: the board is starting
            out = s.read_until(b">>> ", timeout=5)
            assert b"rst:0x1 (POWERON_RESET)" in out, out
            assert out.endswith(b"MicroPython v1.29.0-preview.sim on 2025-01-01; ESP32_GENERIC with ESP32\r\n"
                                b'Type "help()" for more information.\r\n>>> '), out
            assert s.quiet() == b""
            s.write(b"\r\x01")
            s.read_until(RAW_BANNER)
            assert s.exec("x = 5") == (b"", b"")
            reopen(s)
            s.read_until(b">>> ", timeout=5)
            s.write(b"\r\x01")
            s.read_until(RAW_BANNER)
            out, err = s.exec("print(x)")   # a fresh interpreter
            assert b"NameError" in err, err
            os.close(s.fd)
            s.fd = None
            time.sleep(0.1)
    finally:
        s.close()
    # stm32 boards (USB CDC, or an ST-Link UART without DTR wiring) do not reset.
    s = Sim("--mp-port", "stm32")
    try:
        s.raw()
        assert s.exec("x = 5") == (b"", b"")
        reopen(s)
        s.raw()
        assert s.eval("x") == 5
    finally:
        s.close()
    # --reset-on-open / --no-reset-on-open decide for any port.
    for args, resets in ((["--board", "ESP32_GENERIC", "--no-reset-on-open"], False),
                         (["--reset-on-open"], True)):
        s = Sim(*args, connect=False)
        try:
            s.connect()
            time.sleep(0.5)
            s.write(b"\r")
            out = s.read_until(b">>> ")
            assert (b"MicroPython v" in out) == resets, (args, out)
        finally:
            s.close()


# -- boot.py and main.py -----------------------------------------------------------------------

MAIN_LOOP = b"import time\nprint('main start')\nwhile True:\n    time.sleep_ms(10)\n"


def board_fs(name, files):
    d = os.path.join(TMP, name)
    os.makedirs(d)
    for fname, data in files.items():
        with open(os.path.join(d, fname), "wb") as f:
            f.write(data)
    return d


def soft_reset_runs_boot_and_main():
    # ports/stm32/main.c: after every reset the board mounts its filesystem on /flash
    # and makes it the current directory, runs boot.py, then main.py only if the REPL
    # is the friendly one (boardctrl_run_main_py); a main.py that loops for ever holds
    # the board until a client's Ctrl-C. The simulator ran neither.
    fs = board_fs("fs-main", {"boot.py": b"print('boot ran')\n", "main.py": MAIN_LOOP})
    s = Sim("--fs", fs)
    try:
        time.sleep(0.2)
        s.write(b"\x03")
        out = s.read_until(b">>> ")
        assert out.startswith(b'Traceback (most recent call last):\r\n  File "main.py", line 4, in <module>\r\n'
                              b"KeyboardInterrupt: \r\nMicroPython v"), out
        # Ctrl-D at the friendly prompt: soft reboot, boot.py, main.py again.
        s.write(b"\x04")
        s.expect(b"\r\nMPY: soft reboot\r\nboot ran\r\nmain start\r\n")
        s.write(b"\x03")
        s.read_until(b">>> ")
        # From the raw REPL (what mpremote and romfs use): boot.py, not main.py.
        s.write(b"\x01")
        s.read_until(RAW_BANNER)
        s.write(b"\x04")
        s.expect(b"OK\r\nMPY: soft reboot\r\nboot ran\r\n" + RAW_BANNER)
        assert s.eval("__import__('os').getcwd()") == "/flash"
        assert s.eval("__import__('sys').path") == ["", ".frozen", "/flash", "/flash/lib"]
        # machine.soft_reset() in the raw REPL: the same.
        s.write(b"import machine\nmachine.soft_reset()\x04")
        s.expect(b"OK\x04\x04MPY: soft reboot\r\nboot ran\r\n" + RAW_BANNER)
        # The filesystem is writable: a main.py written now runs at the next reset.
        s.ok("f = open('main.py', 'w')\nf.write('print(\"new main\")')\nf.close()")
        s.write(b"\x02")
        s.read_until(b">>> ")
        s.write(b"\x04")
        s.expect(b"\r\nMPY: soft reboot\r\nboot ran\r\nnew main\r\n")
        assert open(os.path.join(fs, "main.py")).read() == 'print("new main")'
    finally:
        s.close()
    # A main.py on /rom is not run: boot.py and main.py are looked up in the current
    # directory (pyexec_file_if_exists), and /rom is only on sys.path.
    path = flash_file("rom-main.bin", {"main.py": b"print('rom main ran')\n"})
    s = Sim("--partition-size", "64K", "--flash", path)
    try:
        s.write(b"\x04")
        out = s.read_until(b">>> ")
        assert b"MPY: soft reboot" in out and b"rom main ran" not in out, out
    finally:
        s.close()


def boot_error_skips_main():
    # boardctrl_run_boot_py: a boot.py that raises prints its traceback and main.py is
    # skipped (safe mode); on ports that mount their filesystem at / (esp32, rp2) the
    # files are looked up there, and /lib is on sys.path after /rom.
    fs = board_fs("fs-bad-boot", {"boot.py": b"print('booting')\nraise ValueError('bad boot')\n",
                                  "main.py": b"print('main ran')\n"})
    s = Sim("--fs", fs, "--mp-port", "rp2")
    try:
        s.write(b"\x04")
        out = s.read_until(b">>> ")
        assert b"booting\r\nTraceback (most recent call last):\r\n  File \"boot.py\", line 2, in <module>\r\n" \
               b"ValueError: bad boot\r\nMicroPython v" in out, out
        assert b"main ran" not in out, out
        s.raw()
        assert s.eval("__import__('os').getcwd()") == "/"
        assert s.eval("sorted(__import__('os').listdir('/'))") == ["boot.py", "main.py"]
        assert s.eval("__import__('sys').path") == ["", ".frozen", "/lib"]
    finally:
        s.close()


# -- what Ctrl-C interrupts ------------------------------------------------------------------

def ctrl_c_waits_for_c_code():
    # The interrupt char only schedules a KeyboardInterrupt (py/scheduler.c); it is
    # raised at the next bytecode or in a wait that runs the event hook, never in the
    # middle of C code: a UART print (ports/stm32/uart.c uart_tx_data waits on TXE
    # without the hook) goes out whole. The simulator cut it short.
    s = Sim("--baud", "9600")
    try:
        s.raw()
        s.write(b"print('x' * 2000)\nprint('after')\x04")
        s.expect(b"OK")
        time.sleep(0.5)
        s.write(b"\x03")
        out = s.read_until(b"\x04>", timeout=10)
        assert out.startswith(b"x" * 2000 + b"\r\n\x04Traceback (most recent call last):\r\n"), out[:50]
        assert out.endswith(b"KeyboardInterrupt: \r\n\x04>") and b"after" not in out, out[-200:]
    finally:
        s.close()


@with_sim()
def ctrl_c_is_one_exception(s):
    # One Ctrl-C is one KeyboardInterrupt: code that catches it and goes on (sleeps,
    # reads) is not interrupted a second time. Several Ctrl-C before the check are
    # still one. The simulator raised it again in the handler's sleep.
    s.raw()
    s.write(b"import time\ntry:\n    while True:\n        pass\nexcept KeyboardInterrupt:\n"
            b"    time.sleep(0.3)\n    print('handled')\n\x04")
    s.expect(b"OK")
    time.sleep(0.3)
    s.write(b"\x03\x03\x03")
    assert s.read_until(b"\x04>") == b"handled\r\n\x04\x04>"
    # Blocking waits are interrupted: time.sleep, a stdin read, poll.
    for code in (b"import time\ntime.sleep(30)", b"import sys\nsys.stdin.buffer.read(10)",
                 b"import sys, select\np = select.poll()\np.register(sys.stdin, select.POLLIN)\np.poll(30000)"):
        s.write(code + b"\x04")
        s.expect(b"OK")
        time.sleep(0.3)
        s.write(b"\x03")
        out = s.read_until(b"\x04>", timeout=3)
        assert out.endswith(b"KeyboardInterrupt: \r\n\x04>"), (code, out)


if __name__ == "__main__":
    try:
        sys.exit(run([bytes_paths_give_bytes_names, receive_buffer_overflows_while_busy,
                      raw_paste_syntax_error_ends_reception_early, opening_the_port_resets_esp32,
                      soft_reset_runs_boot_and_main, boot_error_skips_main, ctrl_c_waits_for_c_code,
                      ctrl_c_is_one_exception]))
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
