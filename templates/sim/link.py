# link.py: the simulated device's serial link, a pseudo-terminal.
#
# The host opens the pty's slave side (its path is what `romfs sim` prints); the device
# owns the master. A reader thread (the UART/USB receive interrupt) moves bytes from the
# master into the device's receive buffer, at most baud/10 bytes per second when a baud
# rate is set (like a UART: 10 bits per byte), applying link faults (disconnect, stall,
# bit flips) at exact byte counts. Output is throttled the same way. An optional
# transcript logs every chunk in both directions with a timestamp.
#
# The receive buffer is a port's stdin ring buffer: finite (rx_cap bytes; 0: unbounded).
# While the device reads its input (the REPL, or code blocked in a stdin read or poll)
# it keeps up with the line: bytes wait on the wire until there is room. While it is
# busy (running code that has not read input for BUSY_AFTER seconds) bytes that do not
# fit are dropped, as a ring buffer's interrupt handler drops them (ports/*/mphalport.c,
# ports/stm32/uart.c); raw-paste's window and the write loop's grants exist for this.
#
# Keyboard interrupt: while the device runs code with the interrupt char enabled, that
# char is not queued; it schedules one KeyboardInterrupt (py/scheduler.c
# mp_sched_keyboard_interrupt), raised at the next check: between two bytecodes of the
# device's code, in a blocking wait (stdin read, poll, sleep: they run the event hook),
# or when the simulated C function running (print, rom_ioctl, ...) returns: C code is
# never cut in the middle. With --reset-on-open the link watches the pty: the host
# opening it resets the device (an ESP board's DTR/RTS auto-reset), see watch_open.

import errno
import os
import select
import threading
import time
import tty

# A device that has not read its input for this long is busy: bytes beyond the
# receive buffer are lost. (Short gaps between reads are the host's and the
# simulator's scheduling, not the device's doing.)
BUSY_AFTER = 0.05


class LinkClosed(Exception):
    """The device must stop: a disconnect fault fired."""


class HardReset(BaseException):
    """The device is reset (the host opened the port of a board that resets on open)."""


class DeviceKeyboardInterrupt(KeyboardInterrupt):
    """The KeyboardInterrupt the interrupt char schedules. Creating it means it has been
    raised in the device (so it is no longer pending)."""
    link = None

    def __init__(self, *args):
        super().__init__(*args)
        if DeviceKeyboardInterrupt.link is not None:
            DeviceKeyboardInterrupt.link.async_kbd = False


DeviceKeyboardInterrupt.__name__ = DeviceKeyboardInterrupt.__qualname__ = "KeyboardInterrupt"


class Link:
    def __init__(self, baud=0, faults=None, log_path=None, polled=False, rx_cap=0, watch_open=False):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.rate = baud / 10.0 if baud else 0.0
        self.faults = faults
        self.cond = threading.Condition()
        self.buf = bytearray()
        self.rx_cap = rx_cap        # receive buffer size; 0: unbounded
        self.rx_count = 0
        self.rx_dropped = 0         # bytes lost: the receive buffer was full
        self.rx_lost_in_reset = 0   # bytes lost while the device was being reset
        self.tx_count = 0
        self.interrupt_char = -1
        self.polled = polled        # a port that polls its UART: Ctrl-C never interrupts code
        self.on_async = None        # raise an exception asynchronously in the device thread
        self.kbd_pending = False    # a KeyboardInterrupt waits for the next check
        self.async_kbd = False      # a KeyboardInterrupt was sent to the device's bytecode
        self.c_depth = 0            # the device thread is inside a simulated C function
        self.waiting = False        # the device thread is blocked waiting for input
        self.last_read = time.monotonic()
        self.dying = False          # a disconnect fault fired: exit once the input is consumed
        self.stall_until = 0.0
        self.deaf_until = 0.0       # being reset: what arrives is lost
        self.boot_seconds = 0.0     # from a reset until the device listens
        self.reset_requested = False
        self.on_reset = None        # called (lock held) when the host's open resets the device
        self.tx_lock = threading.Lock()
        self.tx_clock = 0.0
        self.rx_clock = 0.0
        self.t0 = time.monotonic()
        self.log = open(log_path, "a", buffering=1) if log_path else None
        # Watching for the host opening the pty: only while nobody has the slave open
        # does the master see a hangup (POLLHUP), so the device must not hold it open.
        # (A pty has no modem lines: TIOCMSET/TIOCMGET fail with ENOTTY, so DTR itself
        # cannot be seen; the open is the event, as DTR/RTS rise when a host opens a port.)
        self.watch_open = watch_open
        self.connected = not watch_open
        if watch_open:
            os.close(self.slave)
            self.slave = None
        DeviceKeyboardInterrupt.link = self
        self.thread = threading.Thread(target=self._reader, name="link-rx", daemon=True)

    def start(self):
        self.thread.start()

    def _log(self, direction, data):
        if self.log is not None:
            self.log.write("%.6f %s %r\n" % (time.monotonic() - self.t0, direction, bytes(data)))

    # -- receive side (reader thread) ------------------------------------------
    def _busy(self, now):
        return not self.waiting and now - self.last_read > BUSY_AFTER

    def _room(self):
        """With the lock held: how many bytes the reader may take from the wire now
        (None: any number; what does not fit is then dropped)."""
        if not self.rx_cap or self._busy(time.monotonic()) or time.monotonic() < self.deaf_until:
            return None
        return max(0, self.rx_cap - len(self.buf))

    def _reader(self):
        chunk_max = 65536
        if self.rate:
            chunk_max = max(16, min(65536, int(self.rate / 50)))
        poller = select.poll()
        poller.register(self.master, select.POLLIN)
        while True:
            now = time.monotonic()
            if self.stall_until > now:
                time.sleep(self.stall_until - now)
                continue
            with self.cond:
                room = self._room()
                if room == 0:
                    # The device reads but has not caught up: the bytes stay on the wire
                    # until it makes room, or turns busy (then they overflow).
                    left = 0.5 if self.waiting else self.last_read + BUSY_AFTER - time.monotonic()
                    self.cond.wait(min(0.5, max(0.001, left)))
                    continue
            try:
                events = poller.poll(500)
                hangup = any(ev & select.POLLHUP for _, ev in events)
                if self.watch_open:
                    self._track_open(hangup)
                if not any(ev & select.POLLIN for _, ev in events):
                    if hangup:
                        time.sleep(0.01)
                    continue
                with self.cond:
                    room = self._room()     # the device may have turned busy, or read
                if room == 0:
                    continue
                data = os.read(self.master, min(chunk_max, room or chunk_max))
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

    def _track_open(self, hangup):
        if hangup and self.connected:
            self.connected = False
            self._log("host", b"closed the port")
        elif not hangup and not self.connected:
            self.connected = True
            self._log("host", b"opened the port: reset")
            self.request_reset()

    def request_reset(self):
        """Reset the device: whatever it runs stops at once (HardReset), and what
        arrives until it listens again (boot_seconds) is lost."""
        with self.cond:
            self.deaf_until = time.monotonic() + self.boot_seconds
            self.reset_requested = True
            self.buf.clear()
            self.kbd_pending = False
            self.cond.notify_all()
            if self.on_async is not None:
                self.on_async(HardReset)

    def reset_taken(self):
        """The device thread has caught HardReset and boots: no second one is raised."""
        with self.cond:
            self.reset_requested = False
            self.kbd_pending = False
            self.async_kbd = False
            if self.on_async is not None:
                self.on_async(None)

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
            if time.monotonic() < self.deaf_until:
                self.rx_lost_in_reset += len(data)
                self._log("lost", data)
                return
            ic = -1 if self.polled else self.interrupt_char
            parts = bytes(data).split(bytes([ic])) if ic >= 0 and ic in data else [data]
            for i, part in enumerate(parts):
                self._store(part)
                if i < len(parts) - 1:
                    self._interrupt()
            self.cond.notify_all()

    def _store(self, part):
        keep = len(part)
        if self.rx_cap:
            keep = min(keep, max(0, self.rx_cap - len(self.buf)))
        self.buf += part[:keep]
        if keep < len(part):
            self.rx_dropped += len(part) - keep
            self._log("dropped", part[keep:])

    def _interrupt(self):
        """The interrupt char arrived (lock held): schedule one KeyboardInterrupt."""
        if self.kbd_pending or self.async_kbd:
            return     # one pending exception at a time
        if self.c_depth or self.waiting or self.on_async is None:
            self.kbd_pending = True
        else:
            self.async_kbd = True
            self.on_async(DeviceKeyboardInterrupt)

    def _die_now(self):
        os._exit(0)

    # -- the device's simulated C functions -------------------------------------------
    def c_enter(self):
        with self.cond:
            self.c_depth += 1

    def c_leave(self, returned):
        """Leaving a simulated C function: a KeyboardInterrupt scheduled meanwhile is
        raised now (the next bytecode check), or after the exception already leaving."""
        with self.cond:
            self.c_depth -= 1
            if self.c_depth or not self.kbd_pending:
                return
            self.kbd_pending = False
            if not returned:
                self.async_kbd = True
                self.on_async(DeviceKeyboardInterrupt)
                return
        raise DeviceKeyboardInterrupt()

    # -- receive side (device thread) --------------------------------------------
    def _check(self, interruptible):
        """With the lock held: raise what the device must see now."""
        if self.reset_requested:
            raise HardReset()
        if interruptible and self.kbd_pending:
            self.kbd_pending = False
            raise DeviceKeyboardInterrupt()

    def _sleep(self, seconds, reading):
        """cond.wait with the device marked as waiting for input (or not)."""
        self.waiting = reading
        try:
            self.cond.wait(seconds)
        finally:
            self.waiting = False
            if reading:
                self.last_read = time.monotonic()

    def _wait(self, interruptible):
        """Wait for input with the lock held. Raises KeyboardInterrupt for a pending
        interrupt when interruptible, LinkClosed when a disconnect fault has fired and
        everything received has been consumed."""
        while True:
            self._check(interruptible)
            if self.buf:
                return
            if self.dying:
                raise LinkClosed()
            self._sleep(0.5, True)

    def read_chunk(self, limit=65536, interruptible=False):
        """Block until at least one byte is available; return up to `limit` bytes."""
        with self.cond:
            self._wait(interruptible)
            n = min(limit, len(self.buf))
            out = bytes(self.buf[:n])
            del self.buf[:n]
            self.last_read = time.monotonic()
            self.cond.notify_all()      # room for the reader
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

    def clear(self):
        """Empty the receive buffer (the device is reset: its UART starts afresh)."""
        with self.cond:
            self.buf.clear()

    def wait_readable(self, seconds):
        """Wait up to `seconds` (None: for ever) for received bytes; True when some are
        there. Raises KeyboardInterrupt if the interrupt char arrives (select.poll on
        MicroPython runs the event hook, which raises pending exceptions)."""
        deadline = None if seconds is None else time.monotonic() + seconds
        with self.cond:
            while True:
                self._check(True)
                if self.buf:
                    return True
                if self.dying:
                    raise LinkClosed()
                left = 0.5 if deadline is None else deadline - time.monotonic()
                if left <= 0:
                    return False
                self._sleep(min(left, 0.5), True)

    def wait_interruptible(self, seconds):
        """Sleep up to `seconds`; raise KeyboardInterrupt if the interrupt char arrives."""
        deadline = time.monotonic() + seconds
        with self.cond:
            while True:
                self._check(True)
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._sleep(min(left, 0.5), False)

    # -- transmit side -------------------------------------------------------------
    def write(self, data):
        if not data:
            return
        data = bytes(data)
        if not self.connected:
            self.tx_count += len(data)
            return      # a UART with nobody listening: the bytes are gone
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
