# main.py: `romfs sim`, a simulated MicroPython device on a pseudo-terminal.
#
# romfs embeds this program (templates/sim/*.py), writes it to a private directory and
# runs it with python3; `romfs sim --help` documents the options. The first line on
# stdout is the pty path the host should open; the device then runs until SIGTERM or
# SIGINT (or until a disconnect / power-cut fault fires).

import argparse
import json
import os
import shutil
import signal
import sys
import time

sys.dont_write_bytecode = True
PROGRAM_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, PROGRAM_DIR)

import device as device_mod  # noqa: E402
import faults as faults_mod  # noqa: E402
import flash as flash_mod  # noqa: E402
import link as link_mod  # noqa: E402
import modules  # noqa: E402
import repl as repl_mod  # noqa: E402

PLATFORMS = {"stm32": "pyboard", "rp2": "rp2", "esp32": "esp32", "esp8266": "esp8266",
             "mimxrt": "mimxrt", "samd": "samd", "nrf": "nrf", "renesas-ra": "renesas-ra",
             "alif": "alif", "qemu": "qemu", "unix": "linux"}
OBJECT_API_PORTS = ("rp2", "esp32", "mimxrt", "nrf")
# Bytes a port's stdin ring buffer holds (a ringbuf of N bytes holds N - 1): stm32's
# UART REPL rxbuf is 260 (ports/stm32/main.c MICROPY_HW_UART_REPL_RXBUF), esp32's
# stdin_ringbuf_array 260, esp8266's 256, samd's MICROPY_HW_STDIN_BUFFER_LEN 128,
# rp2/mimxrt/nrf/renesas-ra's 512. qemu polls an emulated UART that never overflows.
RX_BUFFER = {"stm32": 259, "esp32": 259, "esp8266": 255, "samd": 127, "rp2": 511,
             "mimxrt": 511, "nrf": 511, "renesas-ra": 511, "qemu": 0, "unix": 0}
# Ports whose boards reset when a host opens the port (USB-UART bridge with DTR/RTS
# wired to EN/GPIO0).
RESET_ON_OPEN_PORTS = ("esp32", "esp8266")
# Where a port mounts its own filesystem (ports/stm32/main.c, ports/renesas-ra/main.c,
# ports/mimxrt/modules/_boot.py: /flash; esp32, rp2, samd, esp8266: /).
FS_MOUNT = {"stm32": "/flash", "renesas-ra": "/flash", "mimxrt": "/flash"}


def default_arch(port, mcu):
    """The native architecture MicroPython builds for this port/MCU (sys.implementation._mpy)."""
    m = (mcu or "").upper()
    if port == "stm32":
        if m.startswith(("STM32F0", "STM32G0", "STM32L0", "STM32C0")):
            return "armv6m"
        if m.startswith(("STM32H7", "STM32F76", "STM32F77", "STM32N6")):
            return "armv7emdp"
        return "armv7emsp"
    if port == "rp2":
        return "armv6m" if m.startswith("RP2040") or not m else "armv7emsp"
    if port == "samd":
        return "armv6m" if m.startswith("SAMD21") else "armv7emsp"
    if port == "nrf":
        return "armv6m" if m.startswith("NRF51") else "armv7emsp"
    if port == "mimxrt":
        return "armv7emdp"
    if port == "esp8266":
        return "xtensa"
    if port == "esp32":
        return "rv32imc" if m.startswith(("ESP32C", "ESP32H", "ESP32P")) else "xtensawin"
    if port == "alif":
        return "armv7emdp"
    if port == "renesas-ra":
        return "armv7emsp"
    if port == "unix":
        return "x64"
    return "armv7m"


def parse_partition(text):
    parts = text.split(":")
    if not 1 <= len(parts) <= 3:
        raise argparse.ArgumentTypeError("expected SIZE[:ERASE[:WRITE]], got '%s'" % text)
    try:
        vals = [faults_mod.parse_number(p) for p in parts]
    except (ValueError, IndexError):
        raise argparse.ArgumentTypeError("bad number in '%s'" % text)
    return vals


def size_arg(text):
    try:
        v = faults_mod.parse_number(text)
    except (ValueError, IndexError):
        raise argparse.ArgumentTypeError("not a size: '%s'" % text)
    if v <= 0:
        raise argparse.ArgumentTypeError("must be positive: '%s'" % text)
    return v


def count_arg(text):
    try:
        v = faults_mod.parse_number(text)
    except (ValueError, IndexError):
        raise argparse.ArgumentTypeError("not a size: '%s'" % text)
    return v


def fault_arg(text):
    try:
        return faults_mod.parse_spec(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e))


def build_parser():
    p = argparse.ArgumentParser(prog="romfs sim", usage="romfs sim [OPTIONS] (see 'romfs sim --help')",
                                add_help=False)
    p.add_argument("--board-name", default="SIM", help="board name shown by the device")
    p.add_argument("--mp-port", dest="mp_port", default="stm32", help="MicroPython port to imitate")
    p.add_argument("--mcu", default="STM32F722", help="MCU name shown by the device")
    p.add_argument("--partition", action="append", type=parse_partition, default=[],
                   metavar="SIZE[:ERASE[:WRITE]]", help="a ROMFS partition (repeat for more)")
    p.add_argument("--partition-size", type=size_arg)
    p.add_argument("--erase-block", type=size_arg)
    p.add_argument("--write-block", type=size_arg)
    p.add_argument("--no-romfs", action="store_true", help="firmware without vfs.rom_ioctl")
    p.add_argument("--flash", metavar="FILE", help="persist partition 0 in FILE (N>0: FILE.N)")
    p.add_argument("--api", choices=("ioctl", "object"))
    p.add_argument("--baud", type=int, default=0)
    p.add_argument("--fault", type=fault_arg, action="append", default=[])
    p.add_argument("--raw-paste", choices=("on", "off", "absent"), default="on")
    p.add_argument("--raw-paste-window", type=int, default=128)
    p.add_argument("--without", action="append", default=[], metavar="MODULE[.ATTR]")
    p.add_argument("--no-deflate", action="store_true")
    p.add_argument("--no-base64", action="store_true")
    p.add_argument("--no-fromhex", action="store_true")
    p.add_argument("--arch", choices=modules.ARCHS)
    p.add_argument("--mpy-version", type=int, default=modules.MPY_VERSION)
    p.add_argument("--mpy-sub-version", type=int, default=modules.MPY_SUB_VERSION)
    p.add_argument("--start-raw", action="store_true", help="boot into the raw REPL")
    p.add_argument("--polled-uart", action="store_true",
                   help="Ctrl-C never interrupts running code (as on the qemu port)")
    p.add_argument("--rx-buffer", type=count_arg, metavar="N",
                   help="receive buffer bytes (default: the port's; 0: unbounded)")
    p.add_argument("--reset-on-open", dest="reset_on_open", action="store_true", default=None)
    p.add_argument("--no-reset-on-open", dest="reset_on_open", action="store_false")
    p.add_argument("--boot-time", type=float, default=None, metavar="SECONDS")
    p.add_argument("--device-time", metavar="SPEC")
    p.add_argument("--fs", metavar="DIR", help="the board's own filesystem: a host directory")
    p.add_argument("--ready-file", metavar="FILE")
    p.add_argument("--log", metavar="FILE")
    p.add_argument("--stats", metavar="FILE")
    p.add_argument("--code-log", metavar="FILE")
    p.add_argument("--remove-program-dir", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--announce-ready", action="store_true", help=argparse.SUPPRESS)
    return p


class Config:
    pass


def make_config(a, parser):
    c = Config()
    c.board = a.board_name
    c.port = a.mp_port
    c.mcu = a.mcu
    c.platform = PLATFORMS.get(c.port, c.port)
    c.arch = a.arch or default_arch(c.port, c.mcu)
    c.api = a.api or ("object" if c.port in OBJECT_API_PORTS else "ioctl")
    c.version = (1, 29, 0)
    c.prerelease = "preview"
    c.release = "1.29.0-preview.sim"
    c.build_date = "2025-01-01"
    c.machine_name = c.board
    c.machine = "%s with %s" % (c.board, c.mcu)
    c.version_text = "v%s on %s" % (c.release, c.build_date)
    c.freq = 168000000
    c.raw_paste = a.raw_paste
    if not 1 <= a.raw_paste_window <= 0xFFFF:
        parser.error("--raw-paste-window must be 1..65535")
    c.raw_paste_window = a.raw_paste_window
    c.mpy_version = a.mpy_version
    c.mpy_sub_version = a.mpy_sub_version
    c.has_romfs = not a.no_romfs
    c.rx_buffer = a.rx_buffer if a.rx_buffer is not None else RX_BUFFER.get(c.port, 256)
    c.reset_on_open = a.reset_on_open if a.reset_on_open is not None else c.port in RESET_ON_OPEN_PORTS
    if a.fs and not os.path.isdir(a.fs):
        parser.error("--fs %s: not a directory" % a.fs)
    c.fs_dir = a.fs
    if a.boot_time is not None and not 0 <= a.boot_time <= 60:
        parser.error("--boot-time must be 0..60 seconds")
    c.boot_time = a.boot_time
    if a.device_time:
        import devtime
        try:
            devtime.configure(a.device_time)
        except ValueError as e:
            parser.error(str(e))
    c.code_log = a.code_log
    c.fs_mount = FS_MOUNT.get(c.port, "/")
    without = list(a.without)
    if a.no_deflate:
        without.append("deflate")
    if a.no_base64:
        without += ["binascii.a2b_base64", "binascii.b2a_base64"]
    if a.no_fromhex:
        without.append("bytes.fromhex")
    c.without = without
    parts = [list(p) for p in a.partition] or [[128 * 1024, 4096, 4]]
    for p in parts:
        while len(p) < 3:
            p.append({1: 4096, 2: 4}[len(p)])
    if a.partition_size:
        parts[0][0] = a.partition_size
    if a.erase_block:
        parts[0][1] = a.erase_block
    if a.write_block:
        parts[0][2] = a.write_block
    c.partitions = parts
    return c


def main(argv):
    # Everything is imported: the private copy of the program can go, whatever happens next.
    if "--remove-program-dir" in argv:
        shutil.rmtree(PROGRAM_DIR, ignore_errors=True)
    parser = build_parser()
    a = parser.parse_args(argv)
    cfg = make_config(a, parser)
    stats = {}
    fault_items = [f for spec in a.fault for f in spec]
    link_ref = []

    def flush_on_cut():
        if link_ref:
            try:
                os.close(link_ref[0].master)
            except OSError:
                pass

    faults = faults_mod.Faults(fault_items, flush_on_cut) if fault_items else None
    partitions = []
    try:
        for i, (size, erase, write) in enumerate(cfg.partitions):
            path = None
            if a.flash:
                path = a.flash if i == 0 else "%s.%d" % (a.flash, i)
            partitions.append(flash_mod.Partition(i, size, erase, write, path, faults, stats))
    except (ValueError, OSError) as e:
        sys.stderr.write("romfs sim: %s\n" % e)
        return 2

    link = link_mod.Link(a.baud, faults, a.log, polled=a.polled_uart, rx_cap=cfg.rx_buffer,
                         watch_open=cfg.reset_on_open)
    link_ref.append(link)
    dev = device_mod.Device(cfg, link, partitions)
    dev.stats = stats
    repl = repl_mod.Repl(dev)
    if a.start_raw:
        repl.mode = repl_mod.RAW

    def stop(signum, frame):
        os._exit(0)

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, stop)

    def write_stats():
        if a.stats:
            st = dict(stats)
            st["rx_bytes"] = link.rx_count
            st["tx_bytes"] = link.tx_count
            st["rx_dropped"] = link.rx_dropped
            st["rx_lost_in_reset"] = link.rx_lost_in_reset
            tmp = a.stats + ".tmp"
            with open(tmp, "w") as f:
                json.dump(st, f)
            os.replace(tmp, a.stats)

    original_execute = dev.execute

    def execute_and_record(*args, **kw):
        ret = original_execute(*args, **kw)
        write_stats()
        return ret

    dev.execute = execute_and_record

    def ready():
        write_stats()
        if a.ready_file:
            tmp = a.ready_file + ".tmp"
            with open(tmp, "w") as f:
                f.write(link.path + "\n")
            os.replace(tmp, a.ready_file)
        if a.announce_ready:
            sys.stdout.write("ready\n")
            sys.stdout.flush()

    sys.stdout.write(link.path + "\n")
    sys.stdout.flush()
    link.start()
    repl.run(ready)
    # A disconnect fault ended the session: give the host a moment to read what the
    # device answered to the bytes it did receive, then drop the link.
    time.sleep(0.3)
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
