# vfsdir.py: the simulated board's own writable filesystem (`romfs sim --fs DIR`): a
# host directory, mounted where the port mounts its internal flash filesystem (/flash
# on stm32, renesas-ra and mimxrt; / elsewhere), as the VFS protocol of extmod/vfs.c
# sees it: ilistdir, stat, statvfs, open, mkdir, remove, rmdir, rename, chdir, getcwd.
# Paths never leave DIR; errors are MicroPython's OSError with an errno.

import os

from ccall import c_class
from vfsrom import oserror, S_IFDIR, S_IFREG, ENOENT, EINVAL, EIO


def _str(path):
    return path if isinstance(path, str) else bytes(path).decode("utf-8", "surrogateescape")


def _host_error(e):
    return oserror(e.errno if isinstance(e.errno, int) else EIO)


@c_class
class VfsDir:
    def __init__(self, root):
        self.root = os.path.realpath(root)
        self.cwd = "/"

    def _host(self, path):
        """The host path of an absolute path inside this filesystem (never outside it)."""
        parts = []
        for part in _str(path).split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if parts:
                    parts.pop()
                continue
            parts.append(part)
        return os.path.join(self.root, *parts)

    def mount(self, readonly, mkfs):
        if not os.path.isdir(self.root):
            raise oserror(ENOENT)

    def umount(self):
        pass

    def ilistdir(self, path):
        as_bytes = not isinstance(path, str)
        try:
            names = sorted(os.listdir(self._host(path)))
        except OSError as e:
            raise _host_error(e)
        for name in names:
            full = os.path.join(self._host(path), name)
            try:
                st = os.stat(full)
            except OSError:
                continue
            kind = S_IFDIR if os.path.isdir(full) else S_IFREG
            yield (name.encode("utf-8", "surrogateescape") if as_bytes else name, kind, 0,
                   0 if kind == S_IFDIR else st.st_size)

    def stat(self, path):
        try:
            st = os.stat(self._host(path))
        except OSError as e:
            raise _host_error(e)
        kind = S_IFDIR if os.path.isdir(self._host(path)) else S_IFREG
        t = int(st.st_mtime)
        return (kind, 0, 0, 0, 0, 0, 0 if kind == S_IFDIR else st.st_size, t, t, t)

    def statvfs(self, path):
        st = os.statvfs(self.root)
        return (st.f_bsize, st.f_frsize, st.f_blocks, st.f_bfree, st.f_bavail, 0, 0, 0, 0, 255)

    def open(self, path, mode):
        if not set(mode) <= set("rwabxt+"):
            raise oserror(EINVAL)
        try:
            return open(self._host(path), mode)
        except OSError as e:
            raise _host_error(e)

    def mkdir(self, path):
        self._call(os.mkdir, path)

    def remove(self, path):
        self._call(os.remove, path)

    def rmdir(self, path):
        self._call(os.rmdir, path)

    def rename(self, old, new):
        try:
            os.rename(self._host(old), self._host(new))
        except OSError as e:
            raise _host_error(e)

    def _call(self, fn, path):
        try:
            fn(self._host(path))
        except OSError as e:
            raise _host_error(e)

    def chdir(self, path):
        if not os.path.isdir(self._host(path)):
            raise oserror(ENOENT)
        self.cwd = "/" + "/".join(p for p in _str(path).split("/") if p)

    def getcwd(self):
        return self.cwd
