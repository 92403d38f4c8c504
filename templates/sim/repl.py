# repl.py: the simulated device's REPL, byte for byte as MicroPython's
# shared/runtime/pyexec.c (non-event-driven ports: stm32, rp2, esp32, ...) behaves:
#
# friendly REPL  banner, ">>> " prompt, echo, Ctrl-A raw REPL, Ctrl-B banner again,
#                Ctrl-C new prompt, Ctrl-D soft reset, Ctrl-E paste mode
# raw REPL       "raw REPL; CTRL-B to exit\r\n>" ; bytes collect until Ctrl-D, then "OK",
#                stdout, "\x04", exception text, "\x04", ">" ; Ctrl-D on an empty line is
#                "OK\r\n" + soft reset; Ctrl-C clears the line; Ctrl-B back to friendly
# raw-paste      "\x05A\x01" at an empty raw prompt: "R\x01" + 16-bit LE window increment +
#                "\x01"; one "\x01" per window of bytes consumed; Ctrl-D ends: "\x04", then
#                output "\x04" exception "\x04" ">" (no "OK"). Mode "off" answers "R\x00";
#                mode "absent" (firmware older than raw-paste) treats the bytes as code.
# soft reset     "MPY: soft reboot\r\n", fresh interpreter, /rom mounted again, REPL in
#                the same mode (raw stays raw).

import codeop
import re

from device import NORMAL, EXCEPTION, FORCED_EXIT
from link import LinkClosed

FRIENDLY, RAW = 0, 1
CTRL_A, CTRL_B, CTRL_C, CTRL_D, CTRL_E = 1, 2, 3, 4, 5
RAW_CONTROL = re.compile(rb"[\x01-\x04]")
PASTE_CONTROL = re.compile(rb"[\x03\x04]")


class Repl:
    def __init__(self, device):
        self.device = device
        self.link = device.link
        self.cfg = device.cfg
        self.mode = FRIENDLY
        self.soft_resets = 0

    def tx(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.link.write(data)

    def banner(self):
        c = self.cfg
        self.tx("MicroPython v%s on %s; %s with %s\r\n" % (c.release, c.build_date, c.machine_name, c.mcu))
        self.tx('Type "help()" for more information.\r\n')

    def run(self, on_ready=None):
        first = True
        while True:
            try:
                if self.mode == RAW:
                    ret = self.raw_repl(on_ready if first else None)
                else:
                    ret = self.friendly_repl(on_ready if first else None)
            except LinkClosed:
                return
            first = False
            if ret == FORCED_EXIT:
                self.soft_reset()

    def soft_reset(self):
        self.tx("MPY: soft reboot\r\n")
        self.soft_resets += 1
        self.device.stats["soft_resets"] = self.soft_resets
        self.device.reset_state()

    # -- raw REPL ----------------------------------------------------------------------
    def raw_repl(self, on_ready=None):
        self.tx("raw REPL; CTRL-B to exit\r\n")
        line = bytearray()
        self.tx(">")
        if on_ready:
            on_ready()
        while True:
            chunk = self.link.read_chunk()
            m = RAW_CONTROL.search(chunk)
            if m is None:
                line += chunk
                continue
            i = m.start()
            line += chunk[:i]
            self.link.unread(chunk[i + 1:])
            c = chunk[i]
            if c == CTRL_A:
                if (len(line) == 2 and line[0] == CTRL_E and self.cfg.raw_paste != "absent"):
                    ret = self.raw_paste(line[1])
                    if ret == FORCED_EXIT:
                        return ret
                    line = bytearray()
                    self.tx(">")
                    continue
                self.tx("raw REPL; CTRL-B to exit\r\n")
                line = bytearray()
                self.tx(">")
            elif c == CTRL_B:
                self.tx("\r\n")
                self.mode = FRIENDLY
                return NORMAL
            elif c == CTRL_C:
                line = bytearray()
            else:   # Ctrl-D: input finished
                self.tx("OK")
                if not line:
                    self.tx("\r\n")
                    return FORCED_EXIT
                ret = self.device.execute(_decode(line), "exec", print_eof=True)
                if ret == FORCED_EXIT:
                    return ret
                line = bytearray()
                self.tx(">")

    def raw_paste(self, command):
        if command != ord("A") or self.cfg.raw_paste == "off":
            self.tx(b"R\x00")
            return NORMAL
        self.tx(b"R\x01")
        window = self.cfg.raw_paste_window
        self.tx(bytes([window & 0xFF, window >> 8, 0x01]))
        remain = window
        source = bytearray()
        while True:
            chunk = self.link.read_chunk(remain)
            m = PASTE_CONTROL.search(chunk)
            if m is not None:
                source += chunk[:m.start()]
                self.link.unread(chunk[m.start() + 1:])
                self.tx(b"\x04")
                if chunk[m.start()] == CTRL_C:
                    # The reader raises KeyboardInterrupt with no traceback.
                    self.tx(b"\x04")
                    self.tx(b"KeyboardInterrupt: \r\n")
                    self.tx(b"\x04")
                    return EXCEPTION
                break
            source += chunk
            remain -= len(chunk)
            if remain == 0:
                self.tx(b"\x01")
                remain = window
        return self.device.execute(_decode(source), "exec", print_eof=True)

    # -- friendly REPL -----------------------------------------------------------------
    def friendly_repl(self, on_ready=None):
        self.banner()
        first = True
        while True:
            kind, line = self.readline(">>> ", on_ready if first else None)
            first = False
            if kind == CTRL_A:
                self.tx("\r\n")
                self.mode = RAW
                return NORMAL
            if kind == CTRL_B:
                self.tx("\r\n")
                self.banner()
                continue
            if kind == CTRL_C:
                self.tx("\r\n")
                continue
            if kind == CTRL_D:
                self.tx("\r\n")
                return FORCED_EXIT
            if kind == CTRL_E:
                ret = self.paste_mode()
                if ret == FORCED_EXIT:
                    return ret
                continue
            if not line:
                continue
            source = line
            cancelled = False
            while _needs_more(source):
                kind, more = self.readline("... ")
                if kind == CTRL_C:
                    self.tx("\r\n")
                    cancelled = True
                    break
                if kind == CTRL_D:
                    break
                source += "\n" + more
                if not more.strip():
                    break
            if cancelled:
                continue
            ret = self.device.execute(source + "\n", "single")
            if ret == FORCED_EXIT:
                return ret

    def paste_mode(self):
        self.tx("\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== ")
        buf = bytearray()
        while True:
            c = self.link.read_byte()
            if c == CTRL_C:
                self.tx("\r\n")
                return NORMAL
            if c == CTRL_D:
                self.tx("\r\n")
                break
            buf.append(c)
            if c == 13:
                self.tx("\r\n=== ")
            else:
                self.tx(bytes([c]))
        return self.device.execute(_decode(buf).replace("\r\n", "\n").replace("\r", "\n"), "exec")

    def readline(self, prompt, on_ready=None):
        """MicroPython's readline: echo, backspace, Ctrl-A..E on an empty line and Ctrl-C
        return (kind, ''); Enter returns (0, line)."""
        self.tx(prompt)
        if on_ready:
            on_ready()
        line = bytearray()
        last = 0
        escape = 0
        while True:
            c = self.link.read_byte()
            prev, last = last, c
            if escape == 1:     # ESC seen: "[" or "O" starts a sequence
                escape = 2 if c in (0x5B, 0x4F) else 0
                continue
            if escape == 2:     # parameters until the final byte
                if not (0x30 <= c <= 0x3F):
                    escape = 0
                continue
            if CTRL_A <= c <= CTRL_E and not line:
                return c, ""
            if c == CTRL_C:
                return c, ""
            if c == 13 or (c == 10 and prev != 13):
                self.tx("\r\n")
                return 0, _decode(line)
            if c == 10:
                continue
            if c == 27:
                escape = 1
                continue
            if c in (8, 127):
                if line:
                    del line[-1]
                    self.tx(b"\x08\x1b[K")
                continue
            if c >= 32 or c == 9:
                line.append(c)
                self.tx(bytes([c]))


def _decode(data):
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        return bytes(data).decode("latin-1")


def _needs_more(source):
    """Whether the friendly REPL shows a "... " continuation prompt."""
    try:
        return codeop.compile_command(source, "<stdin>", "single") is None
    except (SyntaxError, ValueError, OverflowError):
        return False
