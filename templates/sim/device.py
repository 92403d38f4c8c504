# device.py: the simulated device's Python environment: its builtins, import system,
# module table, /rom mount, code execution with keyboard interrupt, and MicroPython-
# style exception printing. repl.py drives it from the serial link.

import builtins as _builtins
import ctypes
import json
import os
import sys
import threading
import traceback
import types

import ccall
import modules
from link import DeviceKeyboardInterrupt, HardReset
from modules import Stdin, Stdout, FlashPartitionObject
from vfsdir import VfsDir
from vfsrom import MountTable, VfsRom

PROGRAM_DIR = os.path.dirname(os.path.abspath(__file__))

NORMAL, EXCEPTION, FORCED_EXIT = 0, 1, 2


class SoftReset(BaseException):
    """Raised by machine.soft_reset(): leaves the running code, then the device reboots."""


class _MemoryviewMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, memoryview)


class device_memoryview(metaclass=_MemoryviewMeta):
    """memoryview() that also accepts object-style partitions (they have the buffer
    protocol on a real device)."""

    def __new__(cls, obj):
        if hasattr(obj, "_sim_buffer"):
            obj = obj._sim_buffer()
        return memoryview(obj)


class _BytesMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, bytes)

    def __getattribute__(cls, name):
        if name == "fromhex":
            raise AttributeError("type object 'bytes' has no attribute 'fromhex'")
        return getattr(bytes, name) if name not in ("__new__", "__call__") else type.__getattribute__(cls, name)


class bytes_without_fromhex(metaclass=_BytesMeta):
    def __new__(cls, *args):
        return bytes(*args)


class Device:
    def __init__(self, cfg, link, partitions):
        self.cfg = cfg
        self.link = link
        self.partitions = partitions
        self.partition_objects = []
        self.stdin = Stdin(link)
        self.stdout = Stdout(link)
        self.mounts = MountTable()
        self.sys_modules = {}
        self.namespace = {}
        self.main_thread = threading.main_thread().ident
        self.executing = False
        self.soft_reset_requested = False
        self.stats = {}
        link.on_async = self._async
        ccall.bind(link)
        self.reset_state()

    # -- state ----------------------------------------------------------------------
    def reset_state(self):
        """What a soft reset re-creates: modules, namespace, mounts, partition views."""
        self.partition_objects = []
        for p in self.partitions:
            self.partition_objects.append(FlashPartitionObject(p) if self.cfg.api == "object" else p.view)
        self.mounts = MountTable()
        self.sys_modules.clear()
        self.factories = modules.factories(self)
        for name in self.cfg.without:
            if "." not in name:
                self.factories.pop(name, None)
        self.builtins = self._make_builtins()
        self.namespace = {"__name__": "__main__", "__builtins__": self.builtins}
        self.soft_reset_requested = False
        self.mount_rom()
        self.mount_fs()

    def mount_rom(self):
        """Mount partition 0 at /rom if it holds a ROMFS (mp_vfs_mount_romfs_protected)."""
        if not self.cfg.has_romfs or not self.partitions:
            return False
        try:
            vfs = VfsRom(self.partition_objects[0])
            self.mounts.mount(vfs, "/rom")
        except (OSError, TypeError):
            return False
        sysm = self.import_module("sys")
        sysm.path.extend(["/rom", "/rom/lib"])
        return True

    def mount_fs(self):
        """Mount the board's own filesystem (--fs DIR) where the port does, after /rom
        (mp_init mounts ROMFS first): on /flash with the current directory there and
        /flash, /flash/lib on sys.path (ports/stm32/main.c), or on / with /lib on
        sys.path (ports/esp32/main.c, ports/rp2/main.c)."""
        if not self.cfg.fs_dir:
            return
        point = self.cfg.fs_mount
        self.mounts.mount(VfsDir(self.cfg.fs_dir), point)
        sysm = self.import_module("sys")
        if point == "/":
            sysm.path.append("/lib")
        else:
            self.mounts.chdir(point)
            sysm.path.extend([point, point + "/lib"])

    def _make_builtins(self):
        b = dict(vars(_builtins))
        for name in ("exit", "quit", "copyright", "credits", "license", "breakpoint",
                     "__loader__", "__spec__"):
            b.pop(name, None)
        b["__import__"] = self._import
        b["open"] = ccall.c_function(lambda path, mode="r", *a, **k: self.mounts.open(path, mode))
        b["memoryview"] = device_memoryview
        b["input"] = ccall.c_function(self._input)
        b["help"] = ccall.c_function(lambda *a: self.stdout.write("Welcome to MicroPython (romfs sim)!\n"))
        b["print"] = ccall.c_function(self._print)
        if "bytes.fromhex" in self.cfg.without:
            b["bytes"] = bytes_without_fromhex
        b["__build_class__"] = _builtins.__build_class__
        if self.cfg.code_log:
            for name in ("exec", "eval", "compile"):
                b[name] = self._logging(name, b[name])
        return b

    def _logging(self, name, fn):
        """The builtin exec/eval/compile, recording the source it is given (--code-log)."""
        def call(source, *args, **kwargs):
            if isinstance(source, (str, bytes, bytearray)):
                self.log_code(source, name + "()")
            return fn(source, *args, **kwargs)
        return call

    def log_code(self, source, origin):
        """Append one program the device was given to --code-log FILE (a JSON line)."""
        if not self.cfg.code_log:
            return
        if not isinstance(source, str):
            source = bytes(source).decode("utf-8", "surrogateescape")
        with open(self.cfg.code_log, "a") as f:
            f.write(json.dumps({"origin": origin, "source": source}) + "\n")

    def _print(self, *args, sep=" ", end="\n", file=None):
        (file or self.stdout).write(sep.join(str(a) for a in args) + end)

    def _input(self, prompt=""):
        self.stdout.write(prompt)
        return self.stdin.readline().rstrip("\n")

    # -- imports ------------------------------------------------------------------------
    def import_module(self, name):
        if name in self.sys_modules:
            return self.sys_modules[name]
        if name == "builtins":
            m = types.ModuleType("builtins")
            m.__dict__.update(self.builtins)
        elif name in self.factories:
            m = self.factories[name]()
            for w in self.cfg.without:
                mod, _, attr = w.partition(".")
                if mod == name and attr and hasattr(m, attr):
                    delattr(m, attr)
            if name not in modules.HOST_MODULES:
                # The module's functions stand for C code: atomic for Ctrl-C (ccall.py).
                for attr, value in list(vars(m).items()):
                    if callable(value) and not isinstance(value, type) and attr not in modules.CALLS_BACK \
                            and ccall.is_simulator_code(value):
                        setattr(m, attr, ccall.c_function(value))
        else:
            m = self._import_from_vfs(name)
        self.sys_modules[name] = m
        return m

    def _import_from_vfs(self, name):
        rel = name.replace(".", "/")
        sysm = self.import_module("sys") if name != "sys" else None
        for base in (sysm.path if sysm else [""]):
            for cand, is_pkg in ((rel + ".py", False), (rel + "/__init__.py", True), (rel + ".mpy", False)):
                path = (base.rstrip("/") + "/" + cand) if base else cand
                if not self.mounts.is_file(path):
                    continue
                if cand.endswith(".mpy"):
                    raise ImportError("romfs sim cannot run .mpy files: %s" % path)
                with self.mounts.open(path, "r") as f:
                    src = f.read()
                m = types.ModuleType(name)
                m.__file__ = path
                m.__dict__["__builtins__"] = self.builtins
                if is_pkg:
                    m.__path__ = [path.rsplit("/", 1)[0]]
                self.sys_modules[name] = m
                try:
                    exec(compile(src, path, "exec"), m.__dict__)
                except BaseException:
                    self.sys_modules.pop(name, None)
                    raise
                return m
        raise ImportError("no module named '%s'" % name)

    def _import(self, name, globals=None, locals=None, fromlist=(), level=0):
        if level:
            raise ImportError("relative import not supported by romfs sim")
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            self.import_module(".".join(parts[:i]))
            if i > 1:
                parent = self.sys_modules[".".join(parts[:i - 1])]
                setattr(parent, parts[i - 1], self.sys_modules[".".join(parts[:i])])
        if fromlist:
            m = self.sys_modules[name]
            for item in fromlist:
                if not hasattr(m, item) and hasattr(m, "__path__"):
                    try:
                        self._import(name + "." + item)
                    except ImportError:
                        pass
                if not hasattr(m, item):
                    raise ImportError("can't import name %s" % item)
            return m
        return self.sys_modules[parts[0]]

    # -- execution ------------------------------------------------------------------------
    def _async(self, exc):
        """Raise exc in the device thread at its next bytecode (None: cancel). Called by
        the link with its lock held."""
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.main_thread),
                                                   ctypes.py_object(exc) if exc is not None else None)

    def request_soft_reset(self):
        raise SoftReset()

    def execute(self, source, mode="exec", print_eof=False, filename="<stdin>"):
        """Compile and run source as parse_compile_execute does. Returns NORMAL,
        EXCEPTION or FORCED_EXIT (SystemExit/soft reset: the REPL then reboots).
        HardReset goes through: the REPL reboots the device."""
        link = self.link
        ret = NORMAL
        exc = None
        self.log_code(source, filename)
        try:
            code = compile(source, filename, mode, dont_inherit=True)
            returned = False
            try:
                # mp_hal_set_interrupt_char(CHAR_CTRL_C) once the code is compiled: a
                # Ctrl-C that came while compiling is an ordinary byte of input.
                with link.cond:
                    link.interrupt_char = 3
                    link.kbd_pending = link.async_kbd = False
                    link.c_depth = 0
                    self.executing = True
                saved = sys.stdout, sys.displayhook
                sys.stdout = self.stdout
                sys.displayhook = self._displayhook
                try:
                    exec(code, self.namespace)
                finally:
                    sys.stdout, sys.displayhook = saved
                returned = True
            finally:
                with link.cond:
                    self.executing = False
                    link.interrupt_char = -1
                    pending = link.kbd_pending or link.async_kbd
                    link.kbd_pending = link.async_kbd = False
                    link.c_depth = 0
                    self._async(None)
                if link.reset_requested:
                    raise HardReset()
            if returned and pending:
                # The code returned with a KeyboardInterrupt still pending:
                # mp_handle_pending raises it after the call (pyexec.c).
                raise DeviceKeyboardInterrupt()
        except HardReset:
            raise
        except (SystemExit, SoftReset):
            ret = FORCED_EXIT
        except BaseException as e:   # the device's exception, KeyboardInterrupt included
            exc = e
            ret = EXCEPTION
        if print_eof:
            link.write(b"\x04")
        if exc is not None:
            self.stdout.write(self.format_exception(exc))
        if print_eof:
            link.write(b"\x04")
        return ret

    def run_file(self, name):
        """pyexec_file_if_exists(name): run a file of the current directory if there is
        one (no file counts as success). Returns NORMAL, EXCEPTION or FORCED_EXIT."""
        if not self.mounts.is_file(name):
            return NORMAL
        try:
            with self.mounts.open(name, "r") as f:
                source = f.read()
        except OSError:
            return NORMAL
        return self.execute(source, "exec", filename=name)

    def _displayhook(self, value):
        if value is not None:
            self.namespace["_"] = value
            self.stdout.write(repr(value) + "\n")

    def format_exception(self, exc):
        """Text MicroPython prints for an uncaught exception ('\\n' line ends)."""
        lines = []
        frames = []
        for fs in traceback.extract_tb(exc.__traceback__):
            # Only the device's own code: what it was sent, and files on its VFS.
            if fs.filename != "<stdin>" and not self.mounts.is_file(fs.filename):
                continue
            frames.append(fs)
        if isinstance(exc, SyntaxError):
            lines.append("Traceback (most recent call last):\n")
            lines.append('  File "%s", line %d\n' % (exc.filename or "<stdin>", exc.lineno or 1))
            lines.append("SyntaxError: %s\n" % (exc.msg or "invalid syntax"))
            return "".join(lines)
        if frames:
            lines.append("Traceback (most recent call last):\n")
            for fs in frames:
                lines.append('  File "%s", line %d, in %s\n' % (fs.filename, fs.lineno, fs.name))
        name = type(exc).__name__
        if not exc.args:
            lines.append("%s: \n" % name)
        else:
            lines.append("%s: %s\n" % (name, exc))
        return "".join(lines)
