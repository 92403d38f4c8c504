#!/usr/bin/env python3
"""linkrate.py PORT [BYTES]: the link itself, measured on the device.

Enters the raw REPL on PORT (a serial port or pty), starts a program that reads BYTES
bytes from sys.stdin.buffer into a preallocated buffer (keyboard interrupt off, so every
byte value is data), sends that many random bytes as fast as the link takes them, and
prints the rate at which the board's stdin accepted them:

    link BYTES bytes in SECONDS s = RATE B/s

That rate is the ceiling of anything sent to a board over its REPL; the REPL
benchmarks report their times against it. Exit status 1 if the board does not answer.
"""
import os
import select
import sys
import termios
import time
import tty


def read_until(fd, marker, timeout):
    got = b""
    end = time.monotonic() + timeout
    while marker not in got:
        left = end - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return got
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return got
        if not chunk:
            return got
        got += chunk
    return got


def main():
    port = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 65536
    fd = os.open(port, os.O_RDWR | os.O_NOCTTY)
    try:
        if os.isatty(fd):
            tty.setraw(fd)
            termios.tcflush(fd, termios.TCIFLUSH)
        os.write(fd, b"\r\x03\x03\r\x01")
        if b"raw REPL; CTRL-B to exit\r\n>" not in read_until(fd, b"raw REPL; CTRL-B to exit\r\n>", 5):
            sys.exit("linkrate: %s: no raw REPL prompt" % port)
        code = ("import sys, micropython, gc\ngc.collect()\nb = bytearray(%d)\nm = memoryview(b)\n"
                "micropython.kbd_intr(-1)\nprint('go')\nk = 0\n"
                "while k < %d:\n    k += sys.stdin.buffer.readinto(m[k:])\n"
                "micropython.kbd_intr(3)\nprint('got', k)\ndel b, m\ngc.collect()\n" % (n, n))
        os.write(fd, code.encode() + b"\x04")
        if b"go" not in read_until(fd, b"go\r\n", 10):
            sys.exit("linkrate: %s: the reading program did not start" % port)
        data = os.urandom(n)
        t0 = time.monotonic()
        off = 0
        while off < n:
            select.select([], [fd], [], 5)
            off += os.write(fd, data[off:off + 1024])
        answer = read_until(fd, b"got %d" % n, 120)
        secs = time.monotonic() - t0
        if b"got %d" % n not in answer:
            sys.exit("linkrate: %s: the board did not receive all %d bytes" % (port, n))
        read_until(fd, b"\x04>", 5)
        os.write(fd, b"\r\x02")
        print("link %d bytes in %.3f s = %.0f B/s" % (n, secs, n / secs))
    finally:
        os.close(fd)


if __name__ == "__main__":
    main()
