# devtime.py: the device's own time. A real board spends CPU time inflating, hashing and
# programming flash, and erase time per block, while it reads nothing from its link; the
# simulated one spends it too when `--device-time` gives the costs (default: none, as
# fast as the host). The time is slept, so the receive buffer fills as on a busy board.
import time

# microseconds per KiB (inflate: of output, hash: of input, write: programmed) and
# milliseconds per erased block
COST = {"inflate": 0.0, "hash": 0.0, "write": 0.0, "erase": 0.0}

# Measured on MicroPython's qemu port (MPS2_AN385, Cortex-M3 under qemu-system-arm, its
# partition made NOR-like): hashlib.sha256 over 128 KiB in 4.6 ms, deflate.DeflateIO
# (RAW, wbits 12) of 32 KiB in 16.8 ms, rom_ioctl(4) of 64 KiB in 0.42 ms, rom_ioctl(3)
# of 16 blocks in 0.47 ms: what `--device-time qemu` stands for.
PRESETS = {"qemu": {"inflate": 524.0, "hash": 35.0, "write": 6.6, "erase": 0.03}}


def configure(spec):
    """spec: a preset name, or KIND=VALUE[,KIND=VALUE...]; raises ValueError."""
    if spec in PRESETS:
        COST.update(PRESETS[spec])
        return
    for item in spec.split(","):
        kind, sep, value = item.partition("=")
        if not sep or kind not in COST:
            raise ValueError("--device-time: %r is not KIND=VALUE with KIND one of %s, or a preset (%s)"
                             % (item, ", ".join(COST), ", ".join(PRESETS)))
        v = float(value)
        if not 0 <= v <= 1e6:
            raise ValueError("--device-time: %s out of range" % item)
        COST[kind] = v


def spend(kind, n=1):
    """Spend the device time of n bytes (inflate, hash, write) or n blocks (erase)."""
    c = COST[kind]
    if c and n:
        time.sleep(c * n / 1024.0 / 1e6 if kind != "erase" else c * n / 1e3)
