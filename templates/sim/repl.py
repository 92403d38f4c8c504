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
#                output "\x04" exception "\x04" ">" (no "OK"). The code is parsed as it
#                arrives (the lexer reads stdin): a syntax error ends reception early with
#                "\x04" while the host still sends; what follows up to the host's Ctrl-D is
#                discarded, then "\x04" error "\x04" ">". Mode "off" answers "R\x00";
#                mode "absent" (firmware older than raw-paste) treats the bytes as code.
# soft reset     "MPY: soft reboot\r\n", fresh interpreter, /rom (and --fs) mounted again,
#                boot.py, then main.py if the REPL is the friendly one (boardctrl.c), then
#                the REPL in the same mode (raw stays raw).
# hard reset     (--reset-on-open: the host opened the port) the port's boot ROM text,
#                BOOT_SECONDS during which input is lost, then as a soft reset but in
#                the friendly REPL.

import ast
import codeop
import re
import time

from device import NORMAL, EXCEPTION, FORCED_EXIT
from link import HardReset, LinkClosed

FRIENDLY, RAW = 0, 1
CTRL_A, CTRL_B, CTRL_C, CTRL_D, CTRL_E = 1, 2, 3, 4, 5
RAW_CONTROL = re.compile(rb"[\x01-\x04]")
PASTE_CONTROL = re.compile(rb"[\x03\x04]")
POWER_ON, SOFT, HARD = "power-on", "soft", "hard"
# From reset until MicroPython listens (boot ROM, bootloader, image check, start-up):
# input is lost. An ESP32 takes about 0.3 s from EN to user code (measured: reset to
# app_main ~50 ms, image validation ~220 ms); --boot-time sets it.
BOOT_SECONDS = 0.3
# What a port's boot ROM prints after a reset, before MicroPython starts.
BOOT_ROM_TEXT = {
    "esp32": b"ets Jul 29 2019 12:21:46\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"
             b"configsip: 0, SPIWP:0xee\r\nmode:DIO, clock div:2\r\nentry 0x400805cc\r\n",
    # esp8266's ROM talks at 74880 baud: noise at 115200.
    "esp8266": b"\xe0\x00\x1c\x9e\x80\x0c\x8c\xe0\x9c\x0c\x0c\x8c\x80\xec\x92\x9c\x0c\r\n",
}


class Repl:
    def __init__(self, device):
        self.device = device
        self.link = device.link
        self.cfg = device.cfg
        self.mode = FRIENDLY
        self.soft_resets = 0
        self.link.boot_seconds = BOOT_SECONDS if self.cfg.boot_time is None else self.cfg.boot_time

    def tx(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.link.write(data)

    def banner(self):
        c = self.cfg
        self.tx("MicroPython v%s on %s; %s with %s\r\n" % (c.release, c.build_date, c.machine_name, c.mcu))
        self.tx('Type "help()" for more information.\r\n')

    def run(self, on_ready=None):
        """Boot (power-on), run boot.py/main.py, serve the REPL; reboot on soft reset
        and hard reset, for ever (until a disconnect fault ends the link)."""
        self._ready = on_ready
        kind = POWER_ON
        while True:
            try:
                try:
                    ret = self.boot(kind)
                    while ret != FORCED_EXIT:
                        ret = self.raw_repl() if self.mode == RAW else self.friendly_repl()
                    kind = SOFT
                except HardReset:
                    self.link.reset_taken()
                    kind = HARD
            except HardReset:      # a second reset while taking the first
                self.link.reset_taken()
                kind = HARD
            except LinkClosed:
                return

    def ready(self):
        """The device is up (first prompt, or main.py starting): tell the harness once."""
        if self._ready:
            ready, self._ready = self._ready, None
            ready()

    def boot(self, kind):
        """Start MicroPython as the port's main() does: a fresh interpreter (mp_init
        mounts /rom), the board's filesystem, boot.py, then main.py when the REPL is the
        friendly one. FORCED_EXIT asks for another soft reset."""
        stats = self.device.stats
        if kind == SOFT:
            self.tx("MPY: soft reboot\r\n")
            self.soft_resets += 1
            stats["soft_resets"] = self.soft_resets
        elif kind == HARD:
            stats["hard_resets"] = stats.get("hard_resets", 0) + 1
            self.mode = FRIENDLY
            self.link.clear()
            self.tx(BOOT_ROM_TEXT.get(self.cfg.port, b""))
            time.sleep(max(0.0, self.link.deaf_until - time.monotonic()))
        elif self.cfg.port in BOOT_ROM_TEXT:
            self.tx(BOOT_ROM_TEXT[self.cfg.port])
        self.device.reset_state()
        ret = self.device.run_file("boot.py")
        if ret == FORCED_EXIT:
            return ret
        if ret == NORMAL and self.mode == FRIENDLY and self.device.mounts.is_file("main.py"):
            # boardctrl_run_main_py: not after a failed boot.py, not in the raw REPL.
            self.ready()
            ret = self.device.run_file("main.py")
            if ret == FORCED_EXIT:
                return ret
        return NORMAL

    # -- raw REPL ----------------------------------------------------------------------
    def raw_repl(self):
        self.tx("raw REPL; CTRL-B to exit\r\n")
        line = bytearray()
        self.tx(">")
        self.ready()
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
        parsed = 0
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
            # The parser reads the code as it comes: a syntax error shows before the end.
            if len(source) - parsed >= max(window, parsed // 4) and b"\n" in source[parsed:]:
                parsed = len(source)
                error = _syntax_error_so_far(source)
                if error is not None:
                    self.device.log_code(source, "<stdin>")
                    return self._paste_syntax_error(error)
        return self.device.execute(_decode(source), "exec", print_eof=True)

    def _paste_syntax_error(self, error):
        """pyexec.c on a parse error in raw-paste: mp_reader_stdin_close says "\x04" (end
        of reception), reads and drops input up to the host's Ctrl-C or Ctrl-D, then the
        usual "\x04" error "\x04"."""
        self.tx(b"\x04")
        while True:
            chunk = self.link.read_chunk()
            m = PASTE_CONTROL.search(chunk)
            if m is not None:
                self.link.unread(chunk[m.start() + 1:])
                break
        self.tx(b"\x04")
        self.device.stdout.write(self.device.format_exception(error))
        self.tx(b"\x04")
        return EXCEPTION

    # -- friendly REPL -----------------------------------------------------------------
    def friendly_repl(self):
        self.banner()
        while True:
            kind, line = self.readline(">>> ", True)
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

    def readline(self, prompt, first_prompt=False):
        """MicroPython's readline: echo, backspace, Ctrl-A..E on an empty line and Ctrl-C
        return (kind, ''); Enter returns (0, line)."""
        self.tx(prompt)
        if first_prompt:
            self.ready()
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


# Parse only (as MicroPython's parser: errors the compiler finds, such as 'return'
# outside a function, come after the whole code is in), at EOF without implied dedent,
# with "incomplete input" for code that could still go on.
_PARSE_FLAGS = ast.PyCF_ONLY_AST | getattr(codeop, "PyCF_DONT_IMPLY_DEDENT", 0x200) \
    | getattr(codeop, "PyCF_ALLOW_INCOMPLETE_INPUT", 0x4000)


def _syntax_error_so_far(source):
    """The SyntaxError in the complete lines of a partly received program that no
    continuation can fix, or None."""
    cut = bytes(source).rfind(b"\n")
    if cut < 0:
        return None
    try:
        compile(_decode(source[:cut + 1]), "<stdin>", "exec", _PARSE_FLAGS, dont_inherit=True)
    except SyntaxError as e:
        return None if "incomplete input" in str(e) else e
    except (ValueError, OverflowError):
        return None
    return None


def _needs_more(source):
    """Whether the friendly REPL shows a "... " continuation prompt."""
    try:
        return codeop.compile_command(source, "<stdin>", "single") is None
    except (SyntaxError, ValueError, OverflowError):
        return False
