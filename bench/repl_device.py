#!/usr/bin/env python3
"""repl_device.py ROMFS PORT LABEL: `romfs flash --via repl` end to end on one board,
every figure against the link rate measured on that board in the same run.

PORT is a real MicroPython board (or MicroPython's qemu port on a pty), or a simulated
board the caller started. Wall times are whole commands (connect to final /rom check),
medians of ROUNDS runs; the cases alternate so a host that slows down slows all alike.

  link       bench/linkrate.py: bytes/s the board's stdin accepts into a buffer
  full       --full write of a realistic ~128 KiB app (bench/apptree.py); against
             (bytes romfs sent on the connection / link rate)        goal <= 1.3x
  mpremote   $MPREMOTE (a command, e.g. "python3 .../tools/mpremote/mpremote.py"):
             `connect PORT romfs deploy IMAGE` of the same image, side by side with
             the full write                                           goal >= 1.5x
  unchanged  the same image again                                     goal <= 0.5 s
  one-file   one 2 KiB file changed, same size; against the full write  goal >= 5x
Env: BENCH_QUICK=1 one round and a 32 KiB app; BENCH_ROUNDS=N.
"""
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

ROMFS, PORT, LABEL = sys.argv[1], sys.argv[2], sys.argv[3]
HERE = os.path.dirname(os.path.abspath(__file__))
QUICK = os.environ.get("BENCH_QUICK") == "1"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1" if QUICK else "5"))
MPREMOTE = os.environ.get("MPREMOTE", "")


def timed(cmd):
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, timeout=600)
    secs = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit("bench: %s failed (%d): %s" % (" ".join(cmd[:3]), p.returncode,
                                                p.stderr.decode(errors="replace")[-400:]))
    return secs, p.stdout


def flash(image, *args):
    secs, out = timed([ROMFS, "flash", image, "--port", PORT, "--json", "--timeout", "20000"] + list(args))
    return secs, json.loads(out)


def main():
    work = tempfile.mkdtemp(prefix="romfs-bench-device.")
    link_bytes = 16384 if QUICK else 65536
    p = subprocess.run([sys.executable, os.path.join(HERE, "linkrate.py"), PORT, str(link_bytes)],
                       capture_output=True, timeout=300)
    if p.returncode != 0:
        sys.exit(p.stderr.decode())
    rate = float(p.stdout.split()[-2])
    print("%s: link %.0f B/s (%d bytes into a buffer on the board)" % (LABEL, rate, link_bytes))

    app, edit = os.path.join(work, "app"), os.path.join(work, "edit")
    size = 28 * 1024 if QUICK else 120 * 1024
    for d in (app, edit):
        subprocess.run([sys.executable, os.path.join(HERE, "apptree.py"), d, str(size), "7"], check=True)
    settings = os.path.join(edit, "lib", "settings.py")
    data = bytearray(open(settings, "rb").read())
    data[100:110] = b"edited0123"
    open(settings, "wb").write(bytes(data))
    img, img2 = os.path.join(work, "app.romfs"), os.path.join(work, "edit.romfs")
    subprocess.run([ROMFS, "pack", app, "-o", img, "-q"], check=True)
    subprocess.run([ROMFS, "pack", edit, "-o", img2, "-q"], check=True)

    full, sent, mpr, same, one = [], [], [], [], []
    for _ in range(ROUNDS):
        if MPREMOTE:
            s, _ = timed(shlex.split(MPREMOTE) + ["connect", PORT, "romfs", "deploy", img])
            mpr.append(s)
        s, rep = flash(img, "--full")
        full.append(s)
        sent.append(rep["session_bytes_out"])
        s, rep = flash(img)
        assert rep["blocks_written"] == 0, rep
        same.append(s)
        s, rep = flash(img2)
        one.append(s)
        one_blocks = "%d/%d" % (rep["blocks_written"], rep["blocks_in_image"])
        flash(img)
    med = statistics.median
    isz = os.path.getsize(img)
    wire = med(sent)
    print("%s: image %d B; full write %.2f s (%d rounds, min %.2f), %d B sent = %.2f s at the link "
          "rate: %.2fx the link (goal <= 1.3)" % (LABEL, isz, med(full), ROUNDS, min(full), wire,
                                                   wire / rate, med(full) / (wire / rate)))
    if mpr:
        print("%s: mpremote romfs deploy %.2f s: romfs --full is %.2fx faster (goal >= 1.5)"
              % (LABEL, med(mpr), med(mpr) / med(full)))
    else:
        print("%s: mpremote: SKIP (set MPREMOTE to its command to compare side by side)" % LABEL)
    print("%s: unchanged re-run %.2f s (goal <= 0.5)" % (LABEL, med(same)))
    print("%s: one 2 KiB file changed (same size), blocks %s: %.2f s, %.1fx faster than the full "
          "write (goal >= 5)" % (LABEL, one_blocks, med(one), med(full) / med(one)))
    subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
