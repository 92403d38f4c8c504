# vfsrom.py: the simulated device's VFS: VfsRom (a ROMFS reader written from the
# format rules, independent of the C library) and MicroPython's mount table.
#
# ROMFS: varuint = big-endian 7-bit groups, high bit on all but the last byte.
# record = varuint kind, varuint length, payload. The image is one record of kind
# 0x14a6b1; inside it, 1 padding, 2 verbatim data, 3 indirect data (varuint size,
# varuint offset from the start of the image payload), 4 directory and 5 file
# (varuint name length, name, nested records; a file's first data record is its
# contents). Other kinds are skipped; kind 0 or a truncated varuint is corruption,
# which (as in MicroPython) ends a listing or makes a lookup fail.

import io

from ccall import c_class

ENOENT = 2
EIO = 5
EBADF = 9
ENODEV = 19
EINVAL = 22
EPERM = 1
EROFS = 30
EOPNOTSUPP = 95
EEXIST = 17
ENOTDIR = 20
EXDEV = 18

S_IFDIR = 0x4000
S_IFREG = 0x8000

KIND_DATA = 2
KIND_POINTER = 3
KIND_DIR = 4
KIND_FILE = 5
KIND_FILESYSTEM = 0x14A6B1

_ERRNO_NAMES = {ENOENT: "ENOENT", EIO: "EIO", EBADF: "EBADF", ENODEV: "ENODEV",
                EINVAL: "EINVAL", EPERM: "EPERM", EROFS: "EROFS", EOPNOTSUPP: "EOPNOTSUPP",
                EEXIST: "EEXIST", ENOTDIR: "ENOTDIR", EXDEV: "EXDEV"}


# CPython turns OSError(2, ...) into FileNotFoundError; MicroPython raises plain OSError.
# A subclass named "OSError" is not remapped and prints as MicroPython's does.
DeviceOSError = type("OSError", (OSError,), {"__module__": "builtins"})


def oserror(code):
    """OSError as MicroPython prints it: "[Errno 2] ENOENT", with .errno set."""
    return DeviceOSError(code, _ERRNO_NAMES.get(code, str(code)))


def _path_bytes(path):
    return path.encode("utf-8", "surrogateescape") if isinstance(path, str) else bytes(path)


def _path_str(path):
    return path if isinstance(path, str) else bytes(path).decode("utf-8", "surrogateescape")


class _Corrupt(Exception):
    pass


def _uint(mem, pos, end):
    value = 0
    while True:
        if pos >= end:
            raise _Corrupt()
        b = mem[pos]
        pos += 1
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            return value, pos


def _record(mem, pos, end):
    """(kind, payload_start, payload_end) or raises _Corrupt."""
    kind, pos = _uint(mem, pos, end)
    length, pos = _uint(mem, pos, end)
    return kind, pos, pos + length


@c_class
class VfsRom:
    def __init__(self, memory):
        mem = memory
        if hasattr(memory, "_sim_buffer"):
            mem = memory._sim_buffer()
        try:
            mem = memoryview(mem)
        except TypeError:
            raise TypeError("object with buffer protocol required")
        self.memory = mem
        if len(mem) < 4 or bytes(mem[:3]) != b"\xd2\xcd\x31":
            raise oserror(ENODEV)
        try:
            kind, start, end = _record(mem, 0, len(mem))
        except _Corrupt:
            raise oserror(ENODEV)
        if kind != KIND_FILESYSTEM or end > len(mem):
            raise oserror(ENODEV)
        self.fs_start = start
        self.fs_end = end

    # -- lookup ---------------------------------------------------------------
    def _file_data(self, pos, end):
        """(offset, size) of a file's contents from its nested records, or None."""
        mem = self.memory
        while pos < end:
            try:
                kind, start, nxt = _record(mem, pos, end)
            except _Corrupt:
                return None
            if kind == 0:
                return None
            if kind == KIND_DATA:
                return start, nxt - start
            if kind == KIND_POINTER:
                try:
                    size, p = _uint(mem, start, nxt)
                    offset, p = _uint(mem, p, nxt)
                except _Corrupt:
                    return None
                return self.fs_start + offset, size
            pos = nxt
        return None

    def _search(self, path):
        """('dir', start, end) | ('file', offset, size) | None for a path inside the image."""
        mem = self.memory
        pos, top = self.fs_start, self.fs_end
        # MicroPython compares a path's bytes with the names, for str and bytes paths alike.
        parts = [p for p in _path_bytes(path).split(b"/") if p]
        for i, want in enumerate(parts):
            found = False
            while pos < top:
                try:
                    kind, start, nxt = _record(mem, pos, top)
                except _Corrupt:
                    return None
                if kind == 0:
                    return None
                if kind in (KIND_DIR, KIND_FILE):
                    try:
                        nlen, p = _uint(mem, start, nxt)
                    except _Corrupt:
                        return None
                    if bytes(mem[p:p + nlen]) == want:
                        if kind == KIND_DIR:
                            pos, top = p + nlen, nxt
                            found = True
                            break
                        if i != len(parts) - 1:
                            return None
                        data = self._file_data(p + nlen, nxt)
                        return None if data is None else ("file",) + data
                pos = nxt
            if not found:
                return None
        return ("dir", pos, top)

    def _entries(self, start, end):
        mem = self.memory
        pos = start
        while pos < end:
            try:
                kind, s, nxt = _record(mem, pos, end)
            except _Corrupt:
                return
            if kind == 0:
                return
            if kind in (KIND_DIR, KIND_FILE):
                try:
                    nlen, p = _uint(mem, s, nxt)
                except _Corrupt:
                    return
                name = bytes(mem[p:p + nlen])
                if kind == KIND_DIR:
                    yield name, S_IFDIR, nxt - p - nlen
                else:
                    data = self._file_data(p + nlen, nxt)
                    if data is None:
                        return
                    yield name, S_IFREG, data[1]
            pos = nxt

    # -- the VFS protocol ---------------------------------------------------------
    def mount(self, readonly, mkfs):
        if mkfs:
            raise oserror(EPERM)

    def umount(self):
        pass

    def ilistdir(self, path):
        found = self._search(path)
        if found is None or found[0] != "dir":
            raise oserror(ENOENT)
        as_str = isinstance(path, str)
        for name, mode, size in list(self._entries(found[1], found[2])):
            yield (name.decode("utf-8", "surrogateescape") if as_str else name, mode, 0, size)

    def stat(self, path):
        found = self._search(path)
        if found is None:
            raise oserror(ENOENT)
        if found[0] == "dir":
            return (S_IFDIR, 0, 0, 0, 0, 0, found[2] - found[1], 0, 0, 0)
        return (S_IFREG, 0, 0, 0, 0, 0, found[2], 0, 0, 0)

    def statvfs(self, path):
        return (1, 0, self.fs_end - self.fs_start, 0, 0, 0, 0, 0, 0, 32767)

    def open(self, path, mode):
        if any(c in mode for c in "wa+x"):
            raise oserror(EROFS)
        found = self._search(path)
        if found is None or found[0] != "file":
            raise oserror(ENOENT)
        data = bytes(self.memory[found[1]:found[1] + found[2]])
        if "b" in mode:
            return RomFileBinary(data)
        return RomFileText(data.decode("utf-8", "replace"))

    def chdir(self, path):
        if _path_str(path) != "/":
            raise oserror(EOPNOTSUPP)

    def getcwd(self):
        return ""


@c_class
class RomFileBinary(io.BytesIO):
    def write(self, data):
        raise oserror(EBADF)


@c_class
class RomFileText(io.StringIO):
    def write(self, data):
        raise oserror(EBADF)


@c_class
class MountTable:
    """MicroPython's VFS mount table and current directory (extmod/vfs.c)."""

    def __init__(self):
        self.mounts = []   # [(mount point without trailing slash, vfs object)]
        self.cwd = "/"

    def mount(self, obj, path, readonly=False, mkfs=False):
        path = self._abspath(path).rstrip("/") or "/"
        for mp, _ in self.mounts:
            if mp == path:
                raise oserror(EPERM)
        if hasattr(obj, "mount"):
            obj.mount(readonly, mkfs)
        self.mounts.append((path, obj))

    def umount(self, target):
        for i, (mp, obj) in enumerate(self.mounts):
            if (isinstance(target, str) and self._abspath(target).rstrip("/") == mp) or obj is target:
                del self.mounts[i]
                if hasattr(obj, "umount"):
                    obj.umount()
                if self.cwd == mp or self.cwd.startswith(mp + "/"):
                    self.cwd = "/"
                return
        raise oserror(EINVAL)

    def _abspath(self, path):
        path = _path_str(path)
        if not path.startswith("/"):
            path = self.cwd.rstrip("/") + "/" + path
        out = []
        for part in path.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if out:
                    out.pop()
                continue
            out.append(part)
        return "/" + "/".join(out)

    def resolve(self, path):
        """(vfs, path inside it) or (None, absolute path) for the virtual root."""
        ap = self._abspath(path)
        best = None
        for mp, obj in self.mounts:
            if mp == "/" or ap == mp or ap.startswith(mp + "/"):
                if best is None or len(mp) > len(best[0]):
                    best = (mp, obj)
        if best is None:
            return None, ap
        mp, obj = best
        inner = ap[len(mp):] if mp != "/" else ap
        inner = inner or "/"
        # The filesystem gets the path in the caller's type (str or bytes), as
        # extmod/vfs.c's lookup_path makes it: bytes paths give bytes names.
        return obj, (_path_bytes(inner) if isinstance(path, (bytes, bytearray)) else inner)

    def ilistdir(self, path=""):
        path = path or ""
        obj, inner = self.resolve(path or ".")
        as_bytes = isinstance(path, (bytes, bytearray))
        if self._abspath(path or ".") == "/":
            # The root lists the mount points in table order, then a filesystem mounted
            # at / itself (always last in extmod/vfs.c's table).
            out = []
            for mp, vfs in self._ordered():
                if mp == "/":
                    out.extend(vfs.ilistdir(b"/" if as_bytes else "/"))
                    break
                name = mp[1:]
                out.append((name.encode("utf-8", "surrogateescape") if as_bytes else name, S_IFDIR, 0))
            return iter(out)
        if obj is None:
            raise oserror(ENOENT)
        return obj.ilistdir(inner)

    def _ordered(self):
        return [m for m in self.mounts if m[0] != "/"] + [m for m in self.mounts if m[0] == "/"]

    def call(self, name, path, *args):
        """os.NAME(path, ...) on the filesystem holding path (extmod/vfs.c proxy call):
        a filesystem without that method raises AttributeError, as a VfsRom does."""
        obj, inner = self.resolve(path)
        if obj is None:
            raise oserror(ENODEV)
        method = getattr(obj, name, None)
        if method is None:
            raise AttributeError("'%s' object has no attribute '%s'" % (type(obj).__name__, name))
        return method(inner, *args)

    def rename(self, old, new):
        a, inner_old = self.resolve(old)
        b, inner_new = self.resolve(new)
        if a is None or b is not a:
            raise oserror(EXDEV)
        return self.call("rename", old, inner_new)

    def listdir(self, path=""):
        return [e[0] for e in self.ilistdir(path)]

    def stat(self, path):
        obj, inner = self.resolve(path)
        if obj is None:
            if inner == "/":
                return (S_IFDIR, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            raise oserror(ENOENT)
        return obj.stat(inner)

    def statvfs(self, path):
        obj, inner = self.resolve(path)
        if obj is None:
            return (0,) * 10
        return obj.statvfs(inner)

    def open(self, path, mode="r"):
        obj, inner = self.resolve(path)
        if obj is None:
            raise oserror(ENOENT if "r" in mode else EPERM)
        return obj.open(inner, mode)

    def chdir(self, path):
        obj, inner = self.resolve(path)
        ap = self._abspath(path)
        if obj is None:
            if ap != "/":
                raise oserror(ENOENT)
        else:
            obj.chdir(inner)
        self.cwd = ap

    def getcwd(self):
        return self.cwd

    def is_file(self, path):
        try:
            return self.stat(path)[0] == S_IFREG
        except OSError:
            return False
