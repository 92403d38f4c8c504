#!/bin/bash
# bench_fleet.sh [BUILD_DIR]: `romfs flash --port P1 ... --port PN` on N simulated boards.
#
# N = 1, 2, 4 and 8 `romfs sim` boards, each its own process and pty, each link limited
# to 115200 baud by the simulator (--baud 115200: every byte costs the device 10 bit
# times, as on a UART, so the boards are link-bound like real ones). One image of about
# 64 KiB (source, a font, incompressible photo bytes: about 40 KiB deflated) is written
# in full (--full) to all N at once, with the usual verify and soft reset + /rom check.
# Reported: wall time, wall time / the time of one board (goal <= 1.3 at N = 8), and the
# host CPU seconds (user + system) of the romfs process per board. The simulators' own
# CPU (python3, one per board) is not counted; on a small machine they compete with
# romfs for the cores, which the ratio includes. BENCH_FLEET_BAUD=0 removes the link
# limit: then the simulators' CPU, not the links, sets the pace (not a goal).
set -eu
build=${1:-${ROMFS_BUILD:-build}}
ROMFS=$(cd "$build" && pwd)/romfs
BAUD=${BENCH_FLEET_BAUD:-115200}
work=$(mktemp -d "${TMPDIR:-/tmp}/romfs-bench-fleet.XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

python3 - "$work/app" <<'EOF'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(14)
def write(path, data):
    p = os.path.join(root, path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    open(p, "wb").write(data)
src = "".join("def handler_%d(value, limit=%d):\n    if value > limit:\n        return value - limit\n"
              "    return limit * %d\n\n" % (i, rnd.randint(0, 999), rnd.randint(2, 9)) for i in range(180))
write("main.py", src.encode())
write("lib/__init__.py", b"")
write("lib/config.py", b"".join(b"SETTING_%d = %d\n" % (i, rnd.randint(0, 1 << 16)) for i in range(300)))
write("assets/photo.jpg", rnd.randbytes(30 * 1024))
write("assets/font.bin", bytes(rnd.choice((0, 0x18, 0x3c, 0x7e, 0xff)) for _ in range(14 * 1024)))
EOF
"$ROMFS" pack "$work/app" -o "$work/app.romfs" -q
isz=$(stat -c %s "$work/app.romfs")
dsz=$(python3 -c "import sys,zlib; c=zlib.compressobj(9,zlib.DEFLATED,-15); d=open(sys.argv[1],'rb').read(); print(len(c.compress(d)+c.flush()))" "$work/app.romfs")

start_sims() {  # start_sims N: sets ports (the --port arguments)
    ports=()
    for i in $(seq "$1"); do
        rm -f "$work/ready$i"
        "$ROMFS" sim --flash "$work/flash$i.bin" --baud "$BAUD" --ready-file "$work/ready$i" \
            >/dev/null 2>"$work/sim$i.err" &
        pids+=($!)
    done
    for i in $(seq "$1"); do
        for _ in $(seq 200); do [ -s "$work/ready$i" ] && break; sleep 0.05; done
        ports+=(--port "$(cat "$work/ready$i")")
    done
}
stop_sims() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    pids=()
    rm -f "$work"/flash*.bin*
}

echo "== bench_fleet: romfs flash on N simulated boards at once ($BAUD baud links, sim --baud $BAUD)"
printf 'image %d B (deflated %d B); one link moves %d B/s, so one board needs >= %.2f s of wire time\n' \
    "$isz" "$dsz" $((BAUD / 10)) "$(python3 -c "print($dsz / ($BAUD / 10))")"
printf '%3s %9s %13s %15s %10s\n' N "wall s" "wall/1 board" "host CPU ms/bd" "result"
one=
for n in 1 2 4 8; do
    start_sims "$n"
    set +e
    # wall time and the romfs process's own user + system CPU (getrusage of the child)
    python3 - "$work/time" "$ROMFS" flash "$work/app.romfs" "${ports[@]}" --full --json \
        --timeout 20000 > "$work/out.json" 2>"$work/err" <<'PY'
import resource, subprocess, sys, time
t0 = time.monotonic()
rc = subprocess.call(sys.argv[2:])
wall = time.monotonic() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1], "w").write("%.3f %.4f %.4f\n" % (wall, ru.ru_utime, ru.ru_stime))
sys.exit(rc)
PY
    rc=$?
    set -e
    stop_sims
    read -r wall user sys < <(tail -1 "$work/time")
    ok=$(python3 -c "import json; r=json.load(open('$work/out.json')); r = r if isinstance(r, list) else [r]; print('%d/%d ok' % (sum(x['ok'] for x in r), len(r)))" 2>/dev/null || echo "no output")
    [ "$rc" = 0 ] || { echo "flash failed ($rc):"; cat "$work/err"; }
    [ -n "$one" ] || one=$wall
    printf '%3d %9.2f %13.2f %15.1f %10s\n' "$n" "$wall" "$(python3 -c "print($wall / $one)")" \
        "$(python3 -c "print(1000 * ($user + $sys) / $n)")" "$ok"
done
echo "goal: wall/1 board <= 1.3 at N = 8"
