#!/usr/bin/env bash
# bench_watch.sh [BUILD_DIR]: the edit-save-run loop against `romfs sim` at 115200 baud.
#
# A 200-module app (main.py imports the module that is edited and prints its EDIT line;
# the modules are generated MicroPython-like source, about 1.5 KiB each), and a one-line
# change to one module. Measured in the same run, each from the moment before the file is
# written (or the command started) to the moment the module's new line reaches romfs's
# standard output:
#   - full write:  romfs flash APP --full --run main       (connect, every block, reset, run)
#   - one-shot:    romfs flash APP --run main after the edit (a new connection, the blocks
#                  that changed, reset, run)
#   - watch:       romfs flash APP --watch --run main, the save seen, packed, written,
#                  reset, run (seven edits two seconds apart; median and each). main.py
#                  ends by itself, so the board is idle between saves and has been sent
#                  what the next write needs; a module that runs on gets it after the save
#                  (the round then also sends the write helper, ~4.5 KiB): measured too,
#                  with main.py looping after its line
# With mpy-cross (MPY_CROSS=PATH, or mpy-cross on $PATH), also the watch loop with
# --mpy-cross, cache on and off, save -> round written (the simulator runs no .mpy).
# BENCH_QUICK=1: 20 modules over an unlimited link, two edits. ROMFS_BENCH_PORT=PORT: on
# that board (a real one, or MicroPython's qemu port) instead of the simulator.
set -eu
build=${1:-${ROMFS_BUILD:-build}}
ROMFS=$(cd "$build" && pwd)/romfs
export ROMFS
exec python3 - "$@" <<'PY'
import os, re, shutil, signal, statistics, subprocess, sys, tempfile, threading, time

ROMFS = os.environ["ROMFS"]
QUICK = os.environ.get("BENCH_QUICK", "0") == "1"
MODULES = 20 if QUICK else 200
BAUD = "0" if QUICK else os.environ.get("BENCH_WATCH_BAUD", "115200")
EDITS = 2 if QUICK else 7
work = tempfile.mkdtemp(prefix="romfs-bench-watch.")
app = os.path.join(work, "app")
words = ("sensor reading value buffer index count timer pin state config network packet "
         "display pixel color width height offset length data result error retry delay").split()


def module(i):
    lines = ['"""Module %d: %s."""' % (i, " ".join(words[(i + k) % len(words)] for k in range(8))),
             "import time", "", "EDIT = 100", ""]
    k = 0
    while sum(len(l) + 1 for l in lines) < 1500:
        a, b = words[(i + k) % len(words)], words[(i * 7 + k) % len(words)]
        lines += ["def %s_%s_%d(%s, limit=%d):" % (a, b, k, a, 100 + k),
                  "    # %s %s" % (b, a),
                  "    if %s > limit:" % a,
                  "        return %s * %d + %d" % (a, k + 2, i),
                  "    return None", ""]
        k += 1
    return "\n".join(lines) + "\n"


os.makedirs(os.path.join(app, "lib"))
open(os.path.join(app, "lib", "__init__.py"), "w").close()
for i in range(MODULES):
    with open(os.path.join(app, "lib", "m%03d.py" % i), "w") as f:
        f.write(module(i))
EDITED = os.path.join(app, "lib", "m%03d.py" % (MODULES // 2))
with open(os.path.join(app, "main.py"), "w") as f:
    f.write("import lib.m%03d as m\nprint('edit', m.EDIT)\n" % (MODULES // 2))


def edit(n):
    text = open(EDITED).read()
    with open(EDITED, "w") as f:
        f.write(re.sub(r"^EDIT = \d+", "EDIT = %d" % n, text, flags=re.M))


ready = os.path.join(work, "ready")
if os.environ.get("ROMFS_BENCH_PORT"):   # a real board (or MicroPython's qemu port)
    with open(ready, "w") as f:
        f.write(os.environ["ROMFS_BENCH_PORT"])
    sim = subprocess.Popen(["sleep", "100000"])
else:
    sim = subprocess.Popen([ROMFS, "sim", "--partition-size", "2M", "--erase-block", "4K", "--baud", BAUD,
                            "--flash", os.path.join(work, "flash.bin"), "--ready-file", ready],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(400):
    if os.path.exists(ready) and open(ready).read().strip():
        break
    time.sleep(0.05)
port = open(ready).read().strip()


class Run:
    """romfs flash ARGS, with the time each stdout line and stderr line arrived."""

    def __init__(self, *args):
        self.t0 = time.monotonic()
        self.p = subprocess.Popen([ROMFS, "flash", app, "--port", port, "--timeout", "20000"] + list(args),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines = {"out": [], "err": []}
        self.cv = threading.Condition()
        for s, n in ((self.p.stdout, "out"), (self.p.stderr, "err")):
            threading.Thread(target=self.pump, args=(s, n), daemon=True).start()

    def pump(self, stream, name):
        for line in stream:
            with self.cv:
                self.lines[name].append((time.monotonic(), line.decode(errors="replace").rstrip()))
                self.cv.notify_all()

    def wait(self, name, pattern, after=0, timeout=600):
        """The time of the first `name` line matching pattern that came after `after`."""
        end = time.monotonic() + timeout
        with self.cv:
            while True:
                for t, l in self.lines[name]:
                    if t >= after and re.search(pattern, l):
                        return t, l
                if time.monotonic() > end:
                    raise SystemExit("bench_watch: no %r; stderr:\n%s" % (
                        pattern, "\n".join(l for _, l in self.lines["err"])))
                self.cv.wait(0.5)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
        return self.p.wait(60)


def blocks(line):
    m = re.search(r"(\d+ of \d+) erase blocks written \(([^)]*) sent\)", line)
    return "%s blocks, %s sent" % m.groups() if m else "?"


try:
    img = os.path.join(work, "app.romfs")
    subprocess.run([ROMFS, "pack", app, "-o", img, "-q"], check=True)
    link = "unlimited link" if BAUD == "0" else "%s baud" % BAUD
    where = ("the board on %s" % port if os.environ.get("ROMFS_BENCH_PORT")
             else "simulator at %s" % link)
    print("== bench_watch: %d modules, image %d B, %s" % (MODULES, os.path.getsize(img), where))

    edit(101)
    r = Run("--full", "--run", "main")
    t, _ = r.wait("out", r"^edit 101$")
    full = t - r.t0
    _, round1 = r.wait("err", r"^romfs: \[1\]")
    r.stop()
    print("full write + run:     %6.2f s  (%s)" % (full, blocks(round1)))

    edit(102)
    r = Run("--run", "main")
    t, _ = r.wait("out", r"^edit 102$")
    oneshot = t - r.t0
    _, round1 = r.wait("err", r"^romfs: \[1\]")
    r.stop()
    print("one-shot after edit:  %6.2f s  (%s)" % (oneshot, blocks(round1)))

    r = Run("--watch", "--run", "main")
    r.wait("out", r"^edit 102$")
    times = []
    for k in range(EDITS):
        n = 103 + k
        time.sleep(0.3 if QUICK else 2.0)   # saves come seconds apart, as a person makes them
        t_save = time.monotonic()
        edit(n)
        t, _ = r.wait("out", r"^edit %d$" % n, after=t_save)
        _, rl = r.wait("err", r"^romfs: \[%d\]" % (k + 2), after=t_save)
        times.append(t - t_save)
        print("watch, save -> output: %6.2f s  (%s; the round's own figure %s)" % (
            times[-1], blocks(rl), re.search(r"\(([\d.]+ s)\)$", rl).group(1)))
    rc = r.stop()
    assert rc == 130, rc
    med = statistics.median(times)
    print("watch median %.2f s over %d edits: %.1fx faster than the full write, %.1fx than one-shot"
          % (med, EDITS, full / med, oneshot / med))

    # a module that runs on (a main loop): stopped by Ctrl-C at the save, and the board
    # gets the write helper only then
    with open(os.path.join(app, "main.py"), "w") as f:
        f.write("import time\nimport lib.m%03d as m\nprint('edit', m.EDIT)\nwhile True:\n"
                "    time.sleep(0.1)\n" % (MODULES // 2))
    r = Run("--watch", "--run", "main")
    r.wait("out", r"^edit %d$" % (102 + EDITS))
    times = []
    for k in range(3 if not QUICK else 1):
        n = 150 + k
        time.sleep(0.3 if QUICK else 2.0)
        t_save = time.monotonic()
        edit(n)
        t, _ = r.wait("out", r"^edit %d$" % n, after=t_save)
        _, rl = r.wait("err", r"^romfs: \[%d\]" % (k + 2), after=t_save)
        times.append(t - t_save)
        print("watch, module running on, save -> output: %6.2f s  (%s)" % (times[-1], blocks(rl)))
    assert r.stop() == 130
    print("watch median with the module running on: %.2f s" % statistics.median(times))
    with open(os.path.join(app, "main.py"), "w") as f:
        f.write("import lib.m%03d as m\nprint('edit', m.EDIT)\n" % (MODULES // 2))

    mpy = os.environ.get("MPY_CROSS") or shutil.which("mpy-cross")
    if mpy:
        cache = os.path.join(work, "mpy-cache")
        for label, extra in (("cache on ", ["--mpy-cache", cache]), ("cache off", ["--no-mpy-cache"])):
            r = Run("--watch", "--mpy-cross=" + mpy, *extra)
            r.wait("err", r"^romfs: \[1\]")
            t_save = time.monotonic()
            edit(200)
            t, rl = r.wait("err", r"^romfs: \[2\]", after=t_save)
            r.stop()
            comp = re.search(r"; (\d+ \.py compiled \(\d+ from the mpy-cross cache\))", rl)
            print("watch --mpy-cross, %s: save -> written %6.2f s (%s)" % (
                label, t - t_save, comp.group(1) if comp else "?"))
            edit(102)
    else:
        print("(no mpy-cross: set MPY_CROSS=PATH for the --mpy-cross figures)")
finally:
    sim.terminate()
    sim.wait()
    shutil.rmtree(work, ignore_errors=True)
PY
