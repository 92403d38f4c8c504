# ccall.py: the simulator's stand-ins for MicroPython's C functions are atomic.
#
# On a board, print(), vfs.rom_ioctl(), hashlib, a stream's read... are C code: a
# Ctrl-C that arrives meanwhile only schedules a KeyboardInterrupt, raised when the
# function returns (or inside it where it blocks waiting: stdin reads, poll, sleep run
# the event hook, see link.py). The simulator writes those functions in Python, which
# CPython could interrupt between any two of their bytecodes; c_function and c_class
# mark them so that the link defers the interrupt to their return instead.

import functools
import os
import types

PROGRAM_DIR = os.path.dirname(os.path.abspath(__file__))
_link = []


def bind(link):
    """The link whose keyboard interrupts the wrapped functions defer."""
    _link[:] = [link]


def c_function(fn):
    """fn, made atomic with respect to keyboard interrupts (idempotent)."""
    if getattr(fn, "_sim_c", False):
        return fn

    @functools.wraps(fn)
    def call(*args, **kwargs):
        if not _link:
            return fn(*args, **kwargs)
        link = _link[0]
        link.c_enter()
        returned = False
        try:
            result = fn(*args, **kwargs)
            returned = True
        finally:
            link.c_leave(returned)
        return result

    call._sim_c = True
    return call


def c_class(cls):
    """Make every method defined in cls atomic (a class decorator)."""
    for name, value in list(vars(cls).items()):
        if isinstance(value, types.FunctionType):
            setattr(cls, name, c_function(value))
    return cls


def is_simulator_code(obj):
    """Whether obj is a function or bound method written in the simulator's files."""
    fn = obj.__func__ if isinstance(obj, types.MethodType) else obj
    code = getattr(fn, "__code__", None)
    return code is not None and os.path.dirname(os.path.abspath(code.co_filename)) == PROGRAM_DIR
