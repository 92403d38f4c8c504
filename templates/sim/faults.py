# faults.py: fault injection for the simulated device (`romfs sim --fault SPEC`).
#
# SPEC is a comma-separated list of KIND@N[:ARG]:
#   disconnect@N       after receiving N bytes from the host, let the device finish
#                      processing them, then drop the link (the simulator exits)
#   stall@N:SECONDS    after receiving N bytes, stop reading and answering for SECONDS
#   flip-rx@N[:BIT]    flip bit BIT (default 0) of received byte number N (0-based)
#   flip-write@N[:BIT] flip bit BIT of the N-th byte (0-based, counted over all flash
#                      writes) as it is programmed
#   flip-flash@OFF[:BIT] after the first write covering offset OFF of partition 0, flip
#                      bit BIT of that flash byte (the write itself looked fine)
#   cut-write@N        power cut during the N-th flash write call (1-based): half of it
#                      is programmed, then the simulator exits
#   cut-erase@N        power cut during the N-th block erase (1-based): half the block
#                      is erased, then the simulator exits
#   fail-write@N[:ERRNO] the N-th flash write call (1-based) fails with OSError ERRNO
#                      (default 5, EIO) and programs nothing: writeblocks raises it,
#                      vfs.rom_ioctl(4) returns -ERRNO
#   fail-erase@N[:ERRNO] the N-th block erase (1-based) fails the same way and erases
#                      nothing (ioctl(6), vfs.rom_ioctl(3) return -ERRNO)
# N and OFF accept 0x.. hex and K/M suffixes (1024-based).

import os
import sys

KINDS = ("disconnect", "stall", "flip-rx", "flip-write", "flip-flash", "cut-write", "cut-erase",
         "fail-write", "fail-erase")


def parse_number(text):
    t = text.strip()
    mult = 1
    if t[-1:] in ("k", "K"):
        mult, t = 1024, t[:-1]
    elif t[-1:] in ("m", "M"):
        mult, t = 1024 * 1024, t[:-1]
    value = int(t, 0) * mult
    if value < 0:
        raise ValueError("negative")
    return value


def parse_spec(spec):
    """Return a list of (kind, n, arg) tuples; raises ValueError naming the bad item."""
    faults = []
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        kind, at, rest = item.partition("@")
        if kind not in KINDS or not at or not rest:
            raise ValueError("bad fault '%s' (expected KIND@N[:ARG], KIND one of %s)"
                             % (item, ", ".join(KINDS)))
        n_text, _, arg_text = rest.partition(":")
        try:
            n = parse_number(n_text)
            if kind == "stall":
                if not arg_text:
                    raise ValueError("stall needs :SECONDS")
                arg = float(arg_text)
                if arg < 0:
                    raise ValueError("negative")
            elif kind in ("flip-rx", "flip-write", "flip-flash"):
                arg = int(arg_text, 0) if arg_text else 0
                if not 0 <= arg <= 7:
                    raise ValueError("bit must be 0..7")
            elif kind in ("fail-write", "fail-erase"):
                arg = int(arg_text, 0) if arg_text else 5
                if not 1 <= arg <= 255:
                    raise ValueError("ERRNO must be 1..255")
            else:
                if arg_text:
                    raise ValueError("takes no :ARG")
                arg = None
            if kind in ("cut-write", "cut-erase", "fail-write", "fail-erase") and n < 1:
                raise ValueError("counts from 1")
        except ValueError as e:
            raise ValueError("bad fault '%s': %s" % (item, e))
        faults.append((kind, n, arg))
    return faults


class Faults:
    def __init__(self, items, on_power_cut):
        self.items = list(items)
        self.on_power_cut = on_power_cut
        self.writes_seen = 0
        self.erases_seen = 0
        self.flash_bytes_seen = 0
        self.fired = []

    def _fire(self, kind, n, arg):
        self.fired.append((kind, n, arg))
        try:
            self.items.remove((kind, n, arg))
        except ValueError:
            pass
        sys.stderr.write("romfs sim: fault %s@%s%s fired\n"
                         % (kind, n, "" if arg is None else ":%s" % arg))
        sys.stderr.flush()

    # -- link-side faults: the link asks where the next one lies ---------------
    def next_rx_fault(self, rx_count):
        """The earliest pending link fault at or after rx_count: (kind, n, arg) or None."""
        best = None
        for f in self.items:
            if f[0] in ("disconnect", "stall", "flip-rx") and f[1] >= rx_count:
                if best is None or f[1] < best[1]:
                    best = f
        return best

    def take(self, fault):
        self._fire(*fault)

    # -- flash-side faults ----------------------------------------------------
    def _counted(self, n, cut, fail):
        for f in self.items:
            if f[0] in (cut, fail) and f[1] == n:
                self._fire(*f)
                return "cut" if f[0] == cut else f[2]
        return None

    def this_write(self):
        """Count one flash write call: "cut" (a power cut in it), an errno it fails
        with, or None."""
        self.writes_seen += 1
        return self._counted(self.writes_seen, "cut-write", "fail-write")

    def this_erase(self):
        """Count one block erase: "cut", an errno it fails with, or None."""
        self.erases_seen += 1
        return self._counted(self.erases_seen, "cut-erase", "fail-erase")

    def corrupt_flash_write(self, data):
        start = self.flash_bytes_seen
        self.flash_bytes_seen += len(data)
        for f in list(self.items):
            if f[0] == "flip-write" and start <= f[1] < start + len(data):
                buf = bytearray(data)
                buf[f[1] - start] ^= 1 << f[2]
                data = bytes(buf)
                self._fire(*f)
        return data

    def flash_flip_in(self, part_index, offset, length):
        if part_index != 0:
            return None
        for f in list(self.items):
            if f[0] == "flip-flash" and offset <= f[1] < offset + length:
                self._fire(*f)
                return f[1], f[2]
        return None

    def power_cut(self, what):
        sys.stderr.write("romfs sim: power cut during %s\n" % what)
        sys.stderr.flush()
        self.on_power_cut()
        os._exit(0)
