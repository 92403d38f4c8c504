# modules.py: the MicroPython modules the simulated device offers to the code it runs.
#
# Each is a fresh module object built per soft reset and placed in the device's own
# sys.modules; host modules (the real os, sys, io...) never reach device code. They
# behave as MicroPython's do where a flashing tool can tell the difference: vfs.rom_ioctl
# return codes, hashlib objects without hexdigest that refuse use after digest(),
# DeflateIO honouring its window size, sys.stdin.buffer reads that block until the
# buffer is full, binascii.b2a_base64 with its trailing newline.

import binascii as _binascii
import collections as _collections
import hashlib as _hashlib
import io as _io
import time as _time
import types
import zlib as _zlib

from ccall import c_class
import devtime
from vfsrom import VfsRom, oserror, EINVAL, ENOENT, EROFS
from flash import FlashError, FlashIOError

# mp_native_arch numbers from MicroPython's py/persistentcode.h (MPY version 6.3).
ARCHS = ["none", "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp",
         "armv7emdp", "xtensa", "xtensawin", "rv32imc", "rv64imc"]
MPY_VERSION = 6
MPY_SUB_VERSION = 3


def mpy_header_int(arch_name, version=MPY_VERSION, sub=MPY_SUB_VERSION):
    arch = ARCHS.index(arch_name)
    return version | ((sub | (arch << 2)) << 8)


def _module(name, **attrs):
    m = types.ModuleType(name)
    for k, v in attrs.items():
        setattr(m, k, v)
    return m


# -- partitions as the device APIs show them ----------------------------------------

@c_class
class FlashPartitionObject:
    """Object-style partition (rp2.Flash, esp32.Partition, mimxrt/nrf flash objects):
    the extended block protocol with erase-block-sized blocks."""

    def __init__(self, part):
        self._part = part

    def _sim_buffer(self):
        return self._part.view

    def ioctl(self, op, arg):
        p = self._part
        if op in (1, 2, 3):          # init, deinit, sync
            return 0
        if op == 4:                  # block count
            return p.block_count()
        if op == 5:                  # block size
            return p.erase_block
        if op == 6:                  # erase block `arg`
            try:
                p.erase_block_at(arg)
            except FlashIOError as e:
                return -e.errno
            except FlashError:
                return -EINVAL
            return 0
        return None

    def readblocks(self, block, buf, offset=0):
        p = self._part
        start = block * p.erase_block + offset
        try:
            data = p.read(start, len(buf))
        except FlashError:
            raise oserror(EINVAL)
        buf[:] = data

    def writeblocks(self, block, buf, offset=None):
        p = self._part
        start = block * p.erase_block + (offset or 0)
        data = bytes(buf)
        try:
            if offset is None:
                # A simple write erases the blocks it covers first.
                nblocks = (len(data) + p.erase_block - 1) // p.erase_block
                for b in range(block, block + nblocks):
                    p.erase_block_at(b)
            p.program(start, data)
        except FlashIOError as e:
            raise oserror(e.errno)
        except FlashError:
            raise oserror(EINVAL)

    def __repr__(self):
        return "<Partition %d size=%d block=%d>" % (self._part.index, self._part.size,
                                                    self._part.erase_block)


# Ports whose vfs.rom_ioctl(3) takes (id, len) only: ports/esp8266/vfs_rom_ioctl.c and
# ports/renesas-ra/storage.c erase from the partition start for len bytes.
ERASE_FROM_START_PORTS = ("esp8266", "renesas-ra")


def make_rom_ioctl(device):
    cfg = device.cfg

    def rom_ioctl(cmd, *args):
        parts = device.partitions
        if cmd == 1:
            return len(parts)
        if not args:
            return -EINVAL
        rid = args[0]
        if not (isinstance(rid, int) and 0 <= rid < len(parts)):
            return -EINVAL
        p = parts[rid]
        if cmd == 2:
            return device.partition_objects[rid]
        if cfg.api == "object":
            return -EINVAL
        if cmd == 3:
            if len(args) < 2:
                return -EINVAL
            if len(args) == 2 or cfg.port in ERASE_FROM_START_PORTS:
                # esp8266 and renesas-ra read only (id, len): the erase always starts at
                # the partition's start, and a third argument is taken as the length
                offset, length = 0, args[1]
            else:
                offset, length = args[1], args[2]
            if offset < 0 or length < 0 or offset + length > p.size:
                return -EINVAL
            try:
                p.erase_stepping(offset, length)
            except FlashIOError as e:
                return -e.errno
            return p.write_block
        if cmd == 4:
            if len(args) < 3:
                return -EINVAL
            try:
                p.program(args[1], memoryview(args[2]))
            except FlashIOError as e:
                return -e.errno
            except FlashError:
                return -EINVAL
            return 0
        if cmd == 5:
            # stm32 does not implement WRITE_COMPLETE and answers -EINVAL.
            return -EINVAL if cfg.port == "stm32" else 0
        if cmd == 6:
            return p.erase_block
        return -EINVAL

    return rom_ioctl


# -- vfs, os ------------------------------------------------------------------------

def make_vfs(device):
    t = device.mounts
    m = _module("vfs", mount=lambda obj, path, readonly=False, mkfs=False: t.mount(obj, path, readonly, mkfs),
                umount=t.umount, VfsRom=VfsRom)
    if device.cfg.has_romfs:
        m.rom_ioctl = make_rom_ioctl(device)
    return m


def make_os(device):
    t = device.mounts
    cfg = device.cfg
    uname_t = _collections.namedtuple("uname_result", "sysname nodename release version machine")

    def uname():
        return uname_t(cfg.platform, cfg.platform, cfg.release, cfg.version_text, cfg.machine)

    def urandom(n):
        import os as _host_os
        return _host_os.urandom(n)

    return _module("os", uname=uname, listdir=t.listdir, ilistdir=t.ilistdir, stat=t.stat,
                   statvfs=t.statvfs, getcwd=t.getcwd, chdir=t.chdir,
                   mkdir=lambda path: t.call("mkdir", path), remove=lambda path: t.call("remove", path),
                   rmdir=lambda path: t.call("rmdir", path), rename=t.rename, sep="/", urandom=urandom,
                   dupterm=lambda *a: None, sync=lambda: None,
                   mount=lambda obj, path, readonly=False, mkfs=False: t.mount(obj, path, readonly, mkfs),
                   umount=t.umount, VfsRom=VfsRom)


# -- stdio --------------------------------------------------------------------------

@c_class
class StdinBuffer:
    def __init__(self, link):
        self._link = link

    def read(self, n=-1):
        if n is None or n < 0:
            n = max(1, self._link.available())
        return self._link.read_exact(n)

    def readinto(self, buf, n=None):
        mv = memoryview(buf).cast("B")
        n = len(mv) if n is None else min(n, len(mv))
        mv[:n] = self._link.read_exact(n)
        return n


@c_class
class Stdin:
    def __init__(self, link):
        self.buffer = StdinBuffer(link)
        self._link = link

    def read(self, n=-1):
        return self.buffer.read(n).decode("utf-8", "replace").replace("\r", "\n")

    def readline(self):
        out = bytearray()
        while True:
            c = self._link.read_byte(True)
            if c == 13:
                c = 10
            out.append(c)
            if c == 10:
                return out.decode("utf-8", "replace")

    def readinto(self, buf):
        return self.buffer.readinto(buf)


@c_class
class StdoutBuffer:
    def __init__(self, link):
        self._link = link

    def write(self, data):
        data = bytes(data)
        self._link.write(data)
        return len(data)

    def flush(self):
        pass


@c_class
class Stdout:
    """Text output: '\\n' goes out as '\\r\\n', as mp_hal_stdout_tx_strn_cooked does."""

    def __init__(self, link):
        self.buffer = StdoutBuffer(link)
        self._link = link

    def write(self, text):
        if isinstance(text, (bytes, bytearray, memoryview)):
            data = bytes(text)
        else:
            data = str(text).encode("utf-8", "replace")
        self._link.write(data.replace(b"\n", b"\r\n"))
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return False


# -- sys, machine, micropython, gc, time ------------------------------------------------

class Implementation(tuple):
    """sys.implementation: a tuple with named fields, as MicroPython's attrtuple."""

    def __new__(cls, name, version, machine, mpy):
        t = tuple.__new__(cls, (name, version, machine, mpy))
        return t

    name = property(lambda self: self[0])
    version = property(lambda self: self[1])
    _machine = property(lambda self: self[2])
    _mpy = property(lambda self: self[3])

    def __repr__(self):
        return "(name='%s', version=%r, _machine='%s', _mpy=%d)" % self


def make_sys(device):
    cfg = device.cfg
    impl = Implementation("micropython", (cfg.version[0], cfg.version[1], cfg.version[2], cfg.prerelease),
                          cfg.machine, mpy_header_int(cfg.arch, cfg.mpy_version, cfg.mpy_sub_version))

    def exit(code=None):
        raise SystemExit(code)

    def print_exception(exc, file=None):
        (file or device.stdout).write(device.format_exception(exc))

    m = _module("sys", implementation=impl, platform=cfg.platform, byteorder="little",
                maxsize=2 ** 31 - 1, version="3.4.0; MicroPython v%s on %s" % (cfg.release, cfg.build_date),
                version_info=(3, 4, 0), path=["", ".frozen"], argv=[], modules=device.sys_modules,
                stdin=device.stdin, stdout=device.stdout, stderr=device.stdout, exit=exit,
                print_exception=print_exception)
    return m


def make_machine(device):
    cfg = device.cfg

    def soft_reset():
        device.request_soft_reset()

    def reset():
        device.request_soft_reset()

    def unique_id():
        return _hashlib.sha256(cfg.board.encode()).digest()[:12]

    return _module("machine", soft_reset=soft_reset, reset=reset, unique_id=unique_id,
                   freq=lambda *a: cfg.freq, idle=lambda: None,
                   disable_irq=lambda: 0, enable_irq=lambda state=0: None,
                   reset_cause=lambda: 5, SOFT_RESET=5, PWRON_RESET=1, HARD_RESET=2)


def make_micropython(device):
    def kbd_intr(c):
        device.link.interrupt_char = c

    def mem_info(verbose=None):
        device.stdout.write("stack: 1024 out of 15360\nGC: total: 102400, used: 4096, free: 98304\n")

    def identity(f):
        return f

    return _module("micropython", const=lambda x: x, kbd_intr=kbd_intr, opt_level=lambda *a: 0,
                   mem_info=mem_info, qstr_info=lambda *a: None, stack_use=lambda: 1024,
                   heap_lock=lambda: 0, heap_unlock=lambda: 0,
                   alloc_emergency_exception_buf=lambda n: None,
                   schedule=lambda f, a: f(a), native=identity, viper=identity)


def make_gc():
    state = {"enabled": True}
    return _module("gc", collect=lambda: None, mem_free=lambda: 98304, mem_alloc=lambda: 4096,
                   enable=lambda: state.update(enabled=True),
                   disable=lambda: state.update(enabled=False),
                   isenabled=lambda: state["enabled"], threshold=lambda *a: -1)


def make_select(device):
    """select.poll over the device's stdin (the only stream the simulator can poll):
    readable when the link holds received bytes."""
    POLLIN, POLLOUT, POLLERR, POLLHUP = 1, 4, 8, 16

    @c_class
    class Poll:
        def __init__(self):
            self._objs = []

        def register(self, obj, mask=POLLIN | POLLOUT):
            self.unregister(obj)
            self._objs.append((obj, mask))

        def modify(self, obj, mask):
            self.register(obj, mask)

        def unregister(self, obj):
            self._objs = [(o, m) for o, m in self._objs if o is not obj]

        def poll(self, timeout=-1):
            want = [(o, m) for o, m in self._objs if isinstance(o, (Stdin, StdinBuffer))]
            out = [(o, POLLOUT) for o, m in self._objs if m & POLLOUT]
            if out:
                return out
            if not want:
                return []
            seconds = None if timeout is None or timeout < 0 else timeout / 1000.0
            if device.link.wait_readable(seconds):
                return [(o, POLLIN) for o, m in want if m & POLLIN]
            return []

        def ipoll(self, timeout=-1, flags=0):
            return iter(self.poll(timeout))

    return _module("select", poll=Poll, POLLIN=POLLIN, POLLOUT=POLLOUT, POLLERR=POLLERR,
                   POLLHUP=POLLHUP)


def make_time(device):
    t0 = _time.monotonic()

    def sleep(s):
        device.link.wait_interruptible(s)

    def ticks_ms():
        return int((_time.monotonic() - t0) * 1000) & 0x3FFFFFFF

    def ticks_us():
        return int((_time.monotonic() - t0) * 1000000) & 0x3FFFFFFF

    def ticks_diff(a, b):
        return ((a - b + 0x20000000) & 0x3FFFFFFF) - 0x20000000

    return _module("time", sleep=sleep, sleep_ms=lambda ms: sleep(ms / 1000.0),
                   sleep_us=lambda us: sleep(us / 1e6), ticks_ms=ticks_ms, ticks_us=ticks_us,
                   ticks_cpu=ticks_us, ticks_diff=ticks_diff,
                   ticks_add=lambda a, b: (a + b) & 0x3FFFFFFF,
                   time=lambda: int(_time.time()), time_ns=_time.time_ns,
                   localtime=lambda s=None: _time.localtime(s)[:8],
                   gmtime=lambda s=None: _time.gmtime(s)[:8],
                   mktime=lambda t: int(_time.mktime(tuple(t[:8]) + (-1,))))


# -- binascii, hashlib, deflate, io ------------------------------------------------------

def make_binascii():
    def b2a_base64(data, newline=True):
        out = _binascii.b2a_base64(bytes(data), newline=newline)
        return out

    def a2b_base64(data):
        if isinstance(data, str):
            data = data.encode()
        try:
            return _binascii.a2b_base64(bytes(data))
        except _binascii.Error:
            raise ValueError("invalid padding")

    def hexlify(data, sep=None):
        if sep is None:
            return _binascii.hexlify(bytes(data))
        return _binascii.hexlify(bytes(data), sep)

    def unhexlify(data):
        try:
            return _binascii.unhexlify(data)
        except _binascii.Error:
            raise ValueError("odd-length string")

    def crc32(data, value=0):
        return _binascii.crc32(bytes(data), value)

    return _module("binascii", b2a_base64=b2a_base64, a2b_base64=a2b_base64, hexlify=hexlify,
                   unhexlify=unhexlify, crc32=crc32)


@c_class
class _Hash:
    _algo = None

    def __init__(self, data=None):
        self._h = _hashlib.new(self._algo)
        self._final = False
        if data is not None:
            self.update(data)

    def update(self, data):
        if self._final:
            raise ValueError("hash is final")
        data = bytes(data) if not isinstance(data, (bytes, bytearray, memoryview)) else data
        devtime.spend("hash", len(data))
        self._h.update(data)

    def digest(self):
        if self._final:
            raise ValueError("hash is final")
        self._final = True
        return self._h.digest()


class sha256(_Hash):
    _algo = "sha256"


class sha1(_Hash):
    _algo = "sha1"


class md5(_Hash):
    _algo = "md5"


def make_hashlib():
    return _module("hashlib", sha256=sha256, sha1=sha1, md5=md5)


AUTO, RAW, ZLIB, GZIP = 0, 1, 2, 3
DEFAULT_WBITS = 8


@c_class
class DeflateIO:
    """Decompressing stream (MicroPython's deflate.DeflateIO, read side)."""

    def __init__(self, stream, format=AUTO, wbits=0, close=False):
        if format not in (AUTO, RAW, ZLIB, GZIP):
            raise ValueError("format")
        self._stream = stream
        self._close = close
        self._format = format
        self._wbits = wbits
        self._d = None
        self._out = bytearray()
        self._eof = False

    def _decomp(self):
        if self._d is None:
            w = self._wbits
            if self._format == RAW:
                w = w or DEFAULT_WBITS
                try:
                    self._d = _zlib.decompressobj(-w)
                except ValueError:
                    self._d = _zlib.decompressobj(-max(w, 9))
            elif self._format == ZLIB:
                self._d = _zlib.decompressobj(w or 15)
            elif self._format == GZIP:
                self._d = _zlib.decompressobj(16 + (w or 15))
            else:
                self._d = _zlib.decompressobj(32 + (w or 15))
        return self._d

    def _fill(self, want):
        d = self._decomp()
        while not self._eof and (want < 0 or len(self._out) < want):
            chunk = self._stream.read(256)
            try:
                if not chunk:
                    self._out += d.flush()
                    self._eof = True
                    break
                self._out += d.decompress(chunk)
            except _zlib.error:
                raise oserror(22)
            if d.eof:
                self._eof = True

    def read(self, n=-1):
        if n is None:
            n = -1
        self._fill(n)
        if n < 0 or n >= len(self._out):
            out, self._out = bytes(self._out), bytearray()
        else:
            out = bytes(self._out[:n])
            del self._out[:n]
        devtime.spend("inflate", len(out))
        return out

    def readinto(self, buf):
        data = self.read(len(buf))
        buf[:len(data)] = data
        return len(data)

    def readline(self):
        out = bytearray()
        while True:
            c = self.read(1)
            if not c:
                break
            out += c
            if c == b"\n":
                break
        return bytes(out)

    def close(self):
        if self._close and hasattr(self._stream, "close"):
            self._stream.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def make_deflate():
    return _module("deflate", DeflateIO=DeflateIO, AUTO=AUTO, RAW=RAW, ZLIB=ZLIB, GZIP=GZIP)


def make_io(device):
    def open_(path, mode="r", *a, **k):
        return device.mounts.open(path, mode)

    return _module("io", BytesIO=_io.BytesIO, StringIO=_io.StringIO, IOBase=_io.IOBase, open=open_)


def make_errno():
    import errno as _e
    names = ["EPERM", "ENOENT", "EIO", "EBADF", "EAGAIN", "ENOMEM", "EACCES", "EEXIST",
             "ENODEV", "EISDIR", "EINVAL", "EOPNOTSUPP", "EADDRINUSE", "ECONNABORTED",
             "ECONNRESET", "ENOBUFS", "ENOTCONN", "ETIMEDOUT", "ECONNREFUSED", "EHOSTUNREACH",
             "EALREADY", "EINPROGRESS", "EROFS", "ENOTDIR"]
    m = _module("errno", errorcode={getattr(_e, n): n for n in names})
    for n in names:
        setattr(m, n, getattr(_e, n))
    return m


def make_platform(device):
    cfg = device.cfg
    return _module("platform", platform=lambda: "MicroPython-%s-%s" % (cfg.release, cfg.arch),
                   python_compiler=lambda: "", libc_ver=lambda: ("", ""))


# Host standard modules that MicroPython also has, with compatible behaviour.
HOST_MODULES = ("math", "struct", "array", "json", "re", "random", "heapq", "cmath")
# Module functions that call the device's own code (not atomic: that code can be
# interrupted as any other).
CALLS_BACK = ("schedule",)


def factories(device):
    """name -> function building the module, for the modules this device has."""
    f = {
        "vfs": lambda: make_vfs(device),
        "os": lambda: make_os(device),
        "sys": lambda: make_sys(device),
        "machine": lambda: make_machine(device),
        "micropython": lambda: make_micropython(device),
        "gc": make_gc,
        "time": lambda: make_time(device),
        "select": lambda: make_select(device),
        "binascii": make_binascii,
        "hashlib": make_hashlib,
        "deflate": make_deflate,
        "io": lambda: make_io(device),
        "errno": make_errno,
        "platform": lambda: make_platform(device),
        "collections": lambda: _module("collections", namedtuple=_collections.namedtuple,
                                       OrderedDict=_collections.OrderedDict,
                                       deque=_collections.deque),
    }
    for name in HOST_MODULES:
        f[name] = (lambda n: (lambda: __import__(n)))(name)
    return f


__all__ = ["factories", "Stdin", "Stdout", "FlashPartitionObject", "mpy_header_int", "ARCHS",
           "ENOENT", "EROFS"]
