# test_examples.py: every `romfs ...` example in README.md and in every command's --help
# runs, against boards.json and simulated boards, and exits as documented, so examples
# cannot rot.
#
# Each fenced ```sh block of the README is one script: its lines run in order in one
# shell (so `port=$(romfs sim ...)` reaches the next line), in a folder holding what the
# examples name: app/ (examples/app), app.romfs, old.romfs and new.romfs, an esp32
# partition table as CSV and binary, build/firmware.elf and its bytes as build/firmware.bin,
# ~/micropython (a fixture tree).
# A line that talks to a board without naming a port gets the port of a simulated board
# of the board it names. Lines for hardware that is not here (--via dfu, --via swd) must
# fail as "no such device" (exit 1), never as a usage error. A `romfs flash --watch` line
# runs until Ctrl-C: it gets one (SIGINT) after WATCH_SECONDS and must exit as its comment
# documents (130). Everything else must exit 0.
import hashlib
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simlib  # noqa: E402

ROMFS = simlib.ROMFS
SRC = os.environ["ROMFS_SOURCE_DIR"]

HARDWARE = re.compile(r"--via[ =](dfu|swd)\b")
TALKS_TO_A_BOARD = re.compile(r"\bromfs (flash|query|deploy)\b")
NAMES_A_PORT = re.compile(r"--port\b|--all\b|--loop\b")
WATCHES = re.compile(r"\bromfs flash\b.*--watch\b")
WATCH_SECONDS = 8


def esp32_binary_table(rows):
    """An ESP-IDF binary partition table: 32-byte entries (magic 0x50AA stored little
    endian, type, subtype, offset, size, label, flags), an MD5 entry, 0xff padding."""
    out = b""
    for label, ptype, subtype, offset, size in rows:
        out += struct.pack("<2sBBII16sI", b"\xaa\x50", ptype, subtype, offset, size,
                           label.encode().ljust(16, b"\0"), 0)
    out += b"\xeb\xeb" + b"\xff" * 14 + hashlib.md5(out).digest()
    return out + b"\xff" * (0xc00 - len(out))


def make_sandbox(top):
    home = os.path.join(top, "home")
    os.makedirs(home)
    # ~/micropython: the real tree when MICROPYTHON_TREE names one, else the fixture tree,
    # whose FIXTURE_F412 has a layout wrong on purpose: lint finds errors in either
    tree = os.path.join(home, "micropython")
    if os.environ.get("MICROPYTHON_TREE"):
        os.symlink(os.environ["MICROPYTHON_TREE"], tree)
    else:
        shutil.copytree(os.path.join(SRC, "tests", "fixtures", "mptree"), tree, symlinks=True)
    bindir = os.path.join(top, "bin")
    os.makedirs(bindir)
    os.symlink(ROMFS, os.path.join(bindir, "romfs"))
    # mpy-cross as the examples call it: the stand-in that keeps its command-line contract
    os.symlink(os.path.join(SRC, "tests", "tools", "mpy_cross_standin.py"), os.path.join(bindir, "mpy-cross"))
    work = os.path.join(top, "sandbox")
    shutil.copytree(os.path.join(SRC, "examples", "app"), os.path.join(work, "app"))
    env = dict(os.environ, HOME=home, PATH=bindir + os.pathsep + os.environ["PATH"])
    run = lambda *a: subprocess.run(a, cwd=work, env=env, check=True, capture_output=True)
    run(ROMFS, "pack", "app", "-o", "app.romfs", "-q")
    run(ROMFS, "pack", "app", "-o", "old.romfs", "-q")
    with open(os.path.join(work, "app", "new.py"), "w") as f:
        f.write("print('new')\n")
    run(ROMFS, "pack", "app", "-o", "new.romfs", "-q")
    os.remove(os.path.join(work, "app", "new.py"))
    rows = [("nvs", 1, 2, 0x9000, 0x6000), ("phy_init", 1, 1, 0xf000, 0x1000),
            ("factory", 0, 0, 0x10000, 0x1f0000), ("romfs", 1, 0x8f, 0x200000, 0x100000),
            ("vfs", 1, 0x81, 0x300000, 0x100000)]
    with open(os.path.join(work, "partitions-4MiB-romfs.csv"), "w") as f:
        f.write("# Name, Type, SubType, Offset, Size, Flags\n")
        for label, ptype, subtype, offset, size in rows:
            f.write("%s, %s, 0x%02x, 0x%x, 0x%x,\n" % (label, "app" if ptype == 0 else "data",
                                                      subtype, offset, size))
    os.makedirs(os.path.join(work, "build", "partition_table"))
    with open(os.path.join(work, "build", "partition_table", "partition-table.bin"), "wb") as f:
        f.write(esp32_binary_table(rows))
    # A firmware ELF as a SAMD51 build with ROMFS leaves it (ADAFRUIT_ITSYBITSY_M4_EXPRESS:
    # code after the 16 KiB bootloader, the romfs symbols pointing at the partition).
    with open(os.path.join(work, "fw.ld"), "w") as f:
        f.write("MEMORY { FLASH (rx) : ORIGIN = 0x00004000, LENGTH = 400K }\n"
                "SECTIONS { .text : { *(.text*) } > FLASH }\n"
                "_micropy_hw_romfs_part0_start = 0x00070000;\n"
                "_micropy_hw_romfs_part0_size = 0x10000;\n")
    with open(os.path.join(work, "fw.s"), "w") as f:
        f.write(".text\n.space 200000\n")
    run("arm-none-eabi-as", "fw.s", "-o", "fw.o")
    run("arm-none-eabi-ld", "-T", "fw.ld", "fw.o", "-o", os.path.join("build", "firmware.elf"))
    # its bytes as a raw binary, for examples that merge firmware given as .bin
    run("arm-none-eabi-objcopy", "-O", "binary", os.path.join("build", "firmware.elf"),
        os.path.join("build", "firmware.bin"))
    return work, env


class Boards:
    """One simulated board per board name the examples flash, started on demand."""

    def __init__(self):
        self.sims = {}

    def port(self, board):
        """The pty of a simulated `board`; a path that does not exist when the board
        cannot be simulated (the example then fails with the tool's own message)."""
        if board not in self.sims:
            try:
                self.sims[board] = simlib.Sim("--board", board, connect=False)
            except AssertionError:
                self.sims[board] = None
        return self.sims[board].path if self.sims[board] else "/dev/no-simulated-" + board

    def close(self):
        for s in self.sims.values():
            if s:
                s.close()


def readme_blocks():
    text = open(os.path.join(SRC, "README.md")).read()
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        lines = [l for l in block.splitlines()
                 if l.strip() and not l.lstrip().startswith("#") and not l.startswith("make ")]
        if any(re.search(r"\bromfs\b", l) for l in lines):
            yield lines


def help_blocks():
    names = subprocess.run([ROMFS, "--help"], capture_output=True, text=True).stdout
    for command in re.findall(r"^  ([a-z]+) ", names, re.M):
        text = subprocess.run([ROMFS, command, "--help"], capture_output=True, text=True).stdout
        m = re.search(r"^Examples?:(.*?)(?:\n\n|\nExit status|\Z)", text, re.S | re.M)
        if m:
            lines = [l.strip() for l in m.group(1).splitlines() if l.strip()]
            yield command, lines


def prepare(line, boards):
    """(shell line, expected exit) for one example line. A comment saying "exits N"
    documents another exit status than 0."""
    documented = re.search(r"#.*\bexits (\d+)", line)
    line = line.replace("~/", "$HOME/")
    board = re.search(r"--board[ =]([A-Z0-9_-]+)", line)
    if "/dev/ttyACM0" in line:
        line = line.replace("/dev/ttyACM0", boards.port(board.group(1) if board else "PYBD_SF2"))
    if HARDWARE.search(line):
        return line, "no device"
    if TALKS_TO_A_BOARD.search(line) and not NAMES_A_PORT.search(line):
        code, _, comment = line.partition(" #")
        port = boards.port(board.group(1) if board else "PYBD_SF2")
        line = code.rstrip() + " --port " + port + (" #" + comment if comment else "")
    if WATCHES.search(line) and not line.lstrip().startswith("timeout "):
        line = "timeout --preserve-status -s INT %d %s" % (WATCH_SECONDS, line.lstrip())
    return line, int(documented.group(1)) if documented else 0


def run_block(where, block, lines, work, env, boards):
    """Run the lines in one shell; returns a list of failure descriptions."""
    script, expected = ["set -u"], []
    for k, raw in enumerate(lines):
        i = "%d.%d" % (block, k)
        line, want = prepare(raw, boards)
        expected.append((raw, want))
        # (a newline before ')': the line may end in a comment)
        script.append("( %s\n) >out.%s 2>err.%s; echo \"$?\" > rc.%s" % (line, i, i, i))
        # assignments must reach the next line: run them in this shell too
        if re.match(r"^\w+=\$\(", line):
            script[-1] = "%s 2>err.%s; echo \"$?\" > rc.%s; echo > out.%s" % (line, i, i, i)
    subprocess.run(["bash", "-c", "\n".join(script)], cwd=work, env=env, timeout=600)
    failures = []
    for k, (raw, want) in enumerate(expected):
        i = "%d.%d" % (block, k)
        if not os.path.exists(os.path.join(work, "rc." + i)):
            failures.append("%s: `%s` did not run (the block stopped before it)" % (where, raw))
            continue
        rc = int(open(os.path.join(work, "rc." + i)).read())
        err = open(os.path.join(work, "err." + i), errors="replace").read()
        if want == "no device":   # hardware that is not here: refused as such, not as usage
            ok = rc == 1 and re.search(r"no .*device|cannot connect|not found|no DFU|openocd|pyocd",
                                       err, re.I)
            want = 1
        else:
            ok = rc == want
        if not ok:
            failures.append("%s: `%s` exited %d, documented %d\n%s" % (where, raw, rc, want,
                                                                       err.strip()[-600:]))
    return failures


def check(source):
    top = tempfile.mkdtemp(prefix="romfs-examples.")
    boards = Boards()
    try:
        work, env = make_sandbox(top)
        failures = []
        blocks = readme_blocks() if source == "readme" else help_blocks()
        n = 0
        for block, item in enumerate(blocks):
            where, lines = ("README.md", item) if source == "readme" else ("romfs %s --help" % item[0], item[1])
            n += len(lines)
            failures += run_block(where, block, lines, work, env, boards)
        assert n >= (20 if source == "readme" else 3), "only %d examples found in %s" % (n, source)
        assert not failures, "\n".join(failures)
    finally:
        boards.close()
        # simulators an example started in the background (--pid-file)
        subprocess.run(["bash", "-c", 'for f in "$1"/sandbox/*.pid; do [ -f "$f" ] && kill "$(cat "$f")"; done; true',
                        "_", top])
        shutil.rmtree(top, ignore_errors=True)


def readme_examples_run():
    check("readme")


def help_examples_run():
    check("help")


if __name__ == "__main__":
    sys.exit(simlib.run([readme_examples_run, help_examples_run]))
