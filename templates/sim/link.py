# link.py: the simulated device's serial link, a pseudo-terminal.
#
# The host opens the pty's slave side (its path is what `romfs sim` prints); the device
# owns the master. A reader thread moves bytes from the master into the device's
# receive buffer, at most baud/10 bytes per second when a baud rate is set (like a
# UART: 10 bits per byte), applying link faults (disconnect, stall, bit flips) at
# exact byte counts. While the device runs code with keyboard interrupt enabled, the
# interrupt character is not queued but raises KeyboardInterrupt in the device, as
# MicroPython's UART/USB receive interrupt does. Output is throttled the same way.
# An optional transcript logs every chunk in both directions with a timestamp.

import errno
import os
import select
import threading
import time
import tty


class LinkClosed(Exception):
    """The device must stop: a disconnect fault fired."""


class Link:
    def __init__(self, baud=0, faults=None, log_path=None, polled=False):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.rate = baud / 10.0 if baud else 0.0
        self.faults = faults
        self.cond = threading.Condition()
        self.buf = bytearray()
        self.rx_count = 0
        self.tx_count = 0
        self.interrupt_char = -1
        self.polled = polled        # a port that polls its UART: Ctrl-C never interrupts code
        self.on_interrupt = None    # called with the lock held when the interrupt char arrives
        self.pending_interrupt = False
        self.dying = False          # a disconnect fault fired: exit once the input is consumed
        self.stall_until = 0.0
        self.tx_lock = threading.Lock()
        self.tx_clock = 0.0
        self.rx_clock = 0.0
        self.t0 = time.monotonic()
        self.log = open(log_path, "a", buffering=1) if log_path else None
        self.thread = threading.Thread(target=self._reader, name="link-rx", daemon=True)

    def start(self):
        self.thread.start()

    def _log(self, direction, data):
        if self.log is not None:
            self.log.write("%.6f %s %r\n" % (time.monotonic() - self.t0, direction, bytes(data)))

    # -- receive side (reader thread) ------------------------------------------
    def _reader(self):
        chunk_max = 65536
        if self.rate:
            chunk_max = max(16, min(65536, int(self.rate / 50)))
        while True:
            now = time.monotonic()
            if self.stall_until > now:
                time.sleep(self.stall_until - now)
                continue
            try:
                r, _, _ = select.select([self.master], [], [], 0.5)
                if not r:
                    continue
                data = os.read(self.master, chunk_max)
            except OSError as e:
                if e.errno in (errno.EIO, errno.EAGAIN, errno.EINTR):
                    time.sleep(0.01)
                    continue
                raise
            if not data:
                time.sleep(0.01)
                continue
            if self.rate:
                # The line clock runs on through short scheduling delays (a UART's bytes
                # are back to back); after a real pause it restarts from now.
                now = time.monotonic()
                start = self.rx_clock if now - self.rx_clock < 0.05 else now
                self.rx_clock = start + len(data) / self.rate
                delay = self.rx_clock - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            self._receive(bytearray(data))

    def _receive(self, data):
        while data:
            fault = self.faults.next_rx_fault(self.rx_count) if self.faults else None
            # flip-rx targets byte N itself; stall and disconnect happen as soon as
            # N bytes are in.
            end = self.rx_count + len(data)
            if fault is not None and (fault[1] < end or (fault[0] != "flip-rx" and fault[1] == end)):
                cut = fault[1] - self.rx_count
                kind = fault[0]
                if kind == "flip-rx":
                    data[cut] ^= 1 << fault[2]
                    self.faults.take(fault)
                    continue
                if kind == "stall":
                    # Frozen from the moment the N-th byte is in: even the answer to
                    # the bytes already received waits.
                    self.stall_until = time.monotonic() + fault[2]
                self._deliver(data[:cut])
                data = data[cut:]
                self.faults.take(fault)
                if kind == "stall":
                    time.sleep(max(0.0, self.stall_until - time.monotonic()))
                    continue
                # disconnect: nothing more arrives; the device finishes what it has.
                with self.cond:
                    self.dying = True
                    self.cond.notify_all()
                threading.Timer(3.0, self._die_now).start()
                while True:
                    time.sleep(3600)
            self._deliver(data)
            return

    def _deliver(self, data):
        if not data:
            return
        self._log("host>", data)
        with self.cond:
            self.rx_count += len(data)
            ic = -1 if self.polled else self.interrupt_char
            if ic >= 0 and ic in data:
                parts = bytes(data).split(bytes([ic]))
                for i, part in enumerate(parts):
                    self.buf += part
                    if i < len(parts) - 1:
                        self.pending_interrupt = True
                        if self.on_interrupt is not None:
                            self.on_interrupt()
            else:
                self.buf += data
            self.cond.notify_all()

    def _die_now(self):
        os._exit(0)

    # -- receive side (device thread) --------------------------------------------
    def _wait(self, interruptible):
        """Wait for input with the lock held. Raises KeyboardInterrupt for a pending
        interrupt when interruptible, LinkClosed when a disconnect fault has fired and
        everything received has been consumed."""
        while not self.buf:
            if interruptible and self.pending_interrupt:
                self.pending_interrupt = False
                raise KeyboardInterrupt()
            if self.dying:
                raise LinkClosed()
            self.cond.wait(0.5)

    def read_chunk(self, limit=65536, interruptible=False):
        """Block until at least one byte is available; return up to `limit` bytes."""
        with self.cond:
            self._wait(interruptible)
            n = min(limit, len(self.buf))
            out = bytes(self.buf[:n])
            del self.buf[:n]
            return out

    def read_byte(self, interruptible=False):
        return self.read_chunk(1, interruptible)[0]

    def read_exact(self, n, interruptible=True):
        """Read exactly n bytes (MicroPython's sys.stdin.buffer.read/readinto block
        until the whole buffer is filled)."""
        out = bytearray()
        while len(out) < n:
            out += self.read_chunk(n - len(out), interruptible)
        return bytes(out)

    def unread(self, data):
        """Put bytes back at the front of the receive buffer."""
        if data:
            with self.cond:
                self.buf[0:0] = data

    def available(self):
        with self.cond:
            return len(self.buf)

    def wait_readable(self, seconds):
        """Wait up to `seconds` (None: for ever) for received bytes; True when some are
        there. Raises KeyboardInterrupt if the interrupt char arrives (select.poll on
        MicroPython runs the event hook, which raises pending exceptions)."""
        deadline = None if seconds is None else time.monotonic() + seconds
        with self.cond:
            while not self.buf:
                if self.pending_interrupt:
                    self.pending_interrupt = False
                    raise KeyboardInterrupt()
                if self.dying:
                    raise LinkClosed()
                left = 0.5 if deadline is None else deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 0.5))
            return True

    def wait_interruptible(self, seconds):
        """Sleep up to `seconds`; raise KeyboardInterrupt if the interrupt char arrives."""
        deadline = time.monotonic() + seconds
        with self.cond:
            while True:
                if self.pending_interrupt:
                    self.pending_interrupt = False
                    raise KeyboardInterrupt()
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self.cond.wait(min(left, 0.5))

    # -- transmit side -------------------------------------------------------------
    def write(self, data):
        if not data:
            return
        data = bytes(data)
        with self.tx_lock:
            now = time.monotonic()
            if self.stall_until > now:
                time.sleep(self.stall_until - now)
            if self.rate:
                now = time.monotonic()
                start = self.tx_clock if now - self.tx_clock < 0.05 else now
                self.tx_clock = start + len(data) / self.rate
                delay = self.tx_clock - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            self._log("dev>", data)
            self.tx_count += len(data)
            view = memoryview(data)
            deadline = time.monotonic() + 10.0
            while view:
                try:
                    _, w, _ = select.select([], [self.master], [], 0.5)
                    if w:
                        n = os.write(self.master, view)
                        view = view[n:]
                        continue
                except OSError as e:
                    if e.errno not in (errno.EAGAIN, errno.EINTR):
                        return
                if time.monotonic() > deadline:
                    return  # nobody reads: drop output like a USB CDC port with no host
