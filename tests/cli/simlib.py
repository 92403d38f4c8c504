# simlib.py: helpers for the `romfs sim` tests: start a simulator, talk to its pty
# with exact byte expectations, build ROMFS images from the format rules.
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import tty

ROMFS = os.environ.get("ROMFS")
if not ROMFS:
    sys.exit("ROMFS must name the romfs binary")


class Sim:
    """A running `romfs sim` and an open connection to its pty."""

    def __init__(self, *args, env=None, connect=True):
        self.dir = tempfile.mkdtemp(prefix="romfs-simtest.")
        self.ready = os.path.join(self.dir, "ready")
        self.log = os.path.join(self.dir, "log")
        e = dict(os.environ)
        if env:
            e.update(env)
        self.proc = subprocess.Popen([ROMFS, "sim", "--ready-file", self.ready, "--log", self.log]
                                     + [str(a) for a in args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e)
        self.fd = None
        try:
            line = self.proc.stdout.readline().decode().strip()
            if not line.startswith("/dev/"):
                err = self.proc.stderr.read().decode()
                raise AssertionError("sim did not print a pty path: %r %s" % (line, err))
            self.path = line
            deadline = time.monotonic() + 10
            while not os.path.exists(self.ready):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("sim not ready: %s" % self.proc.stderr.read().decode())
                time.sleep(0.01)
            assert open(self.ready).read().strip() == self.path
        except BaseException:
            self.close()
            raise
        if connect:
            self.connect()

    def connect(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd)   # flushes what the device printed before we connected

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(5)
        self.proc.stdout.close()
        self.proc.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, data):
        os.write(self.fd, data)

    def read(self, n, timeout=5.0):
        """Exactly n bytes (fewer only on timeout or a closed link)."""
        out = b""
        deadline = time.monotonic() + timeout
        while len(out) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([self.fd], [], [], left)
            if not r:
                break
            try:
                chunk = os.read(self.fd, n - len(out))
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        return out

    def read_until(self, marker, timeout=5.0):
        out = b""
        deadline = time.monotonic() + timeout
        while not out.endswith(marker):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timeout waiting for %r; got %r" % (marker, out[-300:]))
            r, _, _ = select.select([self.fd], [], [], left)
            if not r:
                continue
            try:
                chunk = os.read(self.fd, 1)
            except OSError:
                raise AssertionError("link closed waiting for %r; got %r" % (marker, out[-300:]))
            if not chunk:
                raise AssertionError("link closed waiting for %r" % marker)
            out += chunk
        return out

    def quiet(self, timeout=0.3):
        """Whatever arrives within timeout (for 'nothing more is sent' checks)."""
        out = b""
        while True:
            r, _, _ = select.select([self.fd], [], [], timeout)
            if not r:
                return out
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:
                return out
            if not chunk:
                return out
            out += chunk

    def expect(self, want, timeout=5.0):
        got = self.read(len(want), timeout)
        if got != want:
            raise AssertionError("expected %r\n      got %r" % (want, got))

    def raw(self):
        """Enter the raw REPL from a fresh connection."""
        self.write(b"\r\x03")
        self.quiet(0.2)
        self.write(b"\r\x01")
        self.read_until(b"raw REPL; CTRL-B to exit\r\n>")

    def exec(self, code, timeout=10.0):
        """Plain raw-mode exec: returns (stdout, stderr) with '\\r\\n' kept."""
        if isinstance(code, str):
            code = code.encode()
        self.write(code + b"\x04")
        self.expect(b"OK", timeout)
        out = self.read_until(b"\x04", timeout)[:-1]
        err = self.read_until(b"\x04", timeout)[:-1]
        self.expect(b">", timeout)
        return out, err

    def eval(self, expr):
        out, err = self.exec("print(repr(%s))" % expr)
        if err:
            raise AssertionError("device raised: %s" % err.decode())
        return eval(out.decode().strip())

    def ok(self, code):
        out, err = self.exec(code)
        if err:
            raise AssertionError("device raised: %s" % err.decode())
        return out


# -- ROMFS images, from the format rules (DESIGN.md) ---------------------------------------

def varuint(n):
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def record(kind, payload):
    return varuint(kind) + varuint(len(payload)) + payload


def tree_records(tree):
    out = b""
    for name in sorted(tree):
        value = tree[name]
        nb = name.encode()
        if isinstance(value, dict):
            out += record(4, varuint(len(nb)) + nb + tree_records(value))
        else:
            out += record(5, varuint(len(nb)) + nb + record(2, value))
    return out


def make_image(tree):
    """An mpremote-style ROMFS image of a {name: bytes | dict} tree."""
    payload = tree_records(tree)
    head = b"\xd2\xcd\x31"
    length = varuint(len(payload))
    img = head + length + payload
    if len(img) % 2:
        img = head + b"\x80" + length + payload
    return img


# -- test runner ----------------------------------------------------------------------------

class Skip(Exception):
    """Raised by skip(): the test cannot run here (a tool or module is missing)."""


def skip(reason):
    """End the current test as skipped, with its reason: reported and counted by
    tests/run.sh as a skip, never as a pass."""
    raise Skip(reason)


def run(tests):
    failed = 0
    only = sys.argv[1:]
    for fn in tests:
        if only and fn.__name__ not in only:
            continue
        try:
            fn()
            print("PASS %s" % fn.__name__, flush=True)
        except Skip as e:
            print("SKIP %s: %s" % (fn.__name__, e), flush=True)
        except Exception:
            failed += 1
            print("FAIL %s" % fn.__name__, flush=True)
            for line in traceback.format_exc().splitlines():
                print("    " + line)
    return 1 if failed else 0
