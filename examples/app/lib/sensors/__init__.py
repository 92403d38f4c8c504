# A tiny sensor package: a pseudo-random reading source.
_state = 12345


def read():
    global _state
    _state = (_state * 1103515245 + 12345) & 0x7FFFFFFF
    return (_state >> 16) % 100
