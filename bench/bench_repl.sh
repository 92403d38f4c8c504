#!/bin/bash
# bench_repl.sh [BUILD_DIR]: `romfs flash --via repl` against `romfs sim`.
#
# On a generated, realistic app tree (Python source in main.py and a lib/ package, a
# JSON config, and binary assets: photos that do not compress, a bitmap font and PCM
# sound that do), packed to about 256 KiB and 1 MiB:
#   - full write at 115200 baud and over an unlimited link: wall time and bytes on the
#     wire (host -> device, counted by the simulator), against the link's limit:
#     image bytes / link rate, and deflated image bytes / link rate;
#   - re-write of the 1 MiB image after one 2 KiB file changed (same size, and grown by
#     100 bytes): wall time, bytes and erase blocks, against the full write.
# Goals (issue 4): wire bytes <= 1.15x the deflated image; full write <= 1.3x the link
# limit of the deflated image; one-file re-write >= 20x faster than the full write.
set -eu
# the interpreter itself, not a version manager's shim: it is started dozens of times
PY=$(python3 -c 'import sys; print(sys.executable)')
build=${1:-${ROMFS_BUILD:-build}}
ROMFS=$(cd "$build" && pwd)/romfs
work=$(mktemp -d "${TMPDIR:-/tmp}/romfs-bench-repl.XXXXXX")
sim_pid=
cleanup() { [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

gen_tree() {  # gen_tree DIR TARGET_BYTES SEED
    "$PY" - "$@" <<'EOF'
import math, os, random, sys, json
root, target, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)
words = ("sensor reading value buffer index count timer pin state config network packet "
         "display pixel color width height offset length data result error retry delay "
         "update handler callback event queue message level threshold sample rate channel "
         "voltage current motor speed angle position target button press release led").split()
def ident():
    return "_".join(rnd.choice(words) for _ in range(rnd.randint(1, 3)))
def py_module(size):
    out = ['"""%s."""' % " ".join(rnd.choice(words) for _ in range(12)).capitalize(), "",
           "import time", "from machine import Pin", ""]
    while sum(len(l) + 1 for l in out) < size:
        if rnd.random() < 0.3:
            cls = ident().title().replace("_", "")
            out += ["class %s:" % cls,
                    '    """%s."""' % " ".join(rnd.choice(words) for _ in range(8)).capitalize(),
                    "    def __init__(self, %s=%d):" % (ident(), rnd.randint(0, 999)),
                    "        self.%s = %s" % (ident(), rnd.randint(0, 99)),
                    "        self.%s = []" % ident(), ""]
        name, arg = ident(), ident()
        out += ["def %s(%s, %s=None):" % (name, arg, ident()),
                "    # %s" % " ".join(rnd.choice(words) for _ in range(rnd.randint(3, 9))),
                "    if %s > %d:" % (arg, rnd.randint(0, 4096)),
                "        return %s * %d + %d" % (arg, rnd.randint(2, 64), rnd.randint(0, 255)),
                "    for i in range(%d):" % rnd.randint(1, 32),
                "        time.sleep_ms(%d)" % rnd.randint(1, 100),
                "    print('%s', %s)" % (" ".join(rnd.choice(words) for _ in range(3)), arg),
                "    return None", ""]
    return ("\n".join(out) + "\n").encode()
def write(path, data):
    p = os.path.join(root, path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
text = target * 45 // 100
photos = target * 25 // 100
font = target * 15 // 100
sound = target - text - photos - font
write("main.py", py_module(3000))
write("boot.py", b"import gc\ngc.collect()\n")
settings = py_module(1900)[:2048]
settings += b"#" * (2048 - len(settings) - 1) + b"\n"
write("lib/settings.py", settings)            # the 2 KiB file the re-write bench changes
write("lib/__init__.py", b"")
n = max(4, text // 6000)
for i in range(n):
    write("lib/%s_%02d.py" % (rnd.choice(words), i), py_module(text // n))
write("config.json", json.dumps({ident(): rnd.randint(0, 1000) for _ in range(40)}, indent=2).encode())
for i in range(3):
    write("assets/photo%d.jpg" % i, rnd.randbytes(photos // 3))
glyphs = bytearray()
while len(glyphs) < font:
    row = rnd.choice((0x00, 0x18, 0x3c, 0x66, 0x7e, 0xc3, 0xff, 0x81))
    glyphs += bytes([row]) * rnd.randint(1, 4)
write("assets/font8x16.bin", bytes(glyphs[:font]))
pcm = bytes(int(128 + 100 * math.sin(i / 7.0) + rnd.randint(-6, 6)) & 0xff for i in range(sound))
write("assets/chime.pcm", pcm)
EOF
}

deflated_size() { "$PY" -c "import sys,zlib; c=zlib.compressobj(9,zlib.DEFLATED,-15); d=open(sys.argv[1],'rb').read(); print(len(c.compress(d)+c.flush()))" "$1"; }
now() { date +%s.%N; }

start_sim() {  # start_sim FLASH_FILE BAUD
    rm -f "$work/ready" "$work/stats.json"
    "$ROMFS" sim --partition-size 2M --erase-block 4K --flash "$1" --baud "$2" \
        --ready-file "$work/ready" --stats "$work/stats.json" >/dev/null 2>"$work/sim.err" &
    sim_pid=$!
    for _ in $(seq 200); do [ -s "$work/ready" ] && break; sleep 0.05; done
    port=$(cat "$work/ready")
}
stop_sim() { kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; sim_pid=; }
rx_bytes() { "$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['rx_bytes'])" "$work/stats.json"; }

# run_flash IMAGE ARGS...: sets secs, wire (host->device bytes for this run), blocks
run_flash() {
    local before; before=$(rx_bytes 2>/dev/null || echo 0)
    local t0; t0=$(now)
    "$ROMFS" flash "$@" --port "$port" --no-reset --json --timeout 20000 > "$work/out.json"
    secs=$("$PY" -c "print('%.3f' % ($(now) - $t0))")
    wire=$(( $(rx_bytes) - before ))
    blocks=$("$PY" -c "import json; d=json.load(open('$work/out.json')); print('%d/%d' % (d['blocks_written'], d['blocks_in_image']))")
}

ratio() { "$PY" -c "print('%.2f' % ($1 / $2))"; }

# BENCH_QUICK=1: one 32 KiB image over an unlimited link, the same steps (full write,
# one-file re-writes, aligned re-write) in a few seconds.
sizes="256K 1M"; big=1M; bauds=${BENCH_REPL_BAUDS:-115200 0}
if [ "${BENCH_QUICK:-0}" = 1 ]; then sizes="32K"; big=32K; bauds=${BENCH_REPL_BAUDS:-0}; fi

echo "== bench_repl: romfs flash --via repl against romfs sim (realistic app tree)"
for size in $sizes; do
    case $size in 32K) bytes=$((28 * 1024)) ;; 256K) bytes=$((230 * 1024)) ;; 1M) bytes=$((940 * 1024)) ;; esac
    gen_tree "$work/app$size" "$bytes" 7
    "$ROMFS" pack "$work/app$size" -o "$work/app$size.romfs" -q
done

for baud in $bauds; do
    link=$([ "$baud" = 0 ] && echo "unlimited" || echo "$baud baud")
    for size in $sizes; do
        img="$work/app$size.romfs"
        isz=$(stat -c %s "$img"); dsz=$(deflated_size "$img")
        rm -f "$work/flash.bin"
        start_sim "$work/flash.bin" "$baud"
        run_flash "$img" --full
        full_secs=$secs; full_wire=$wire
        printf '%-10s %-4s full write: image %d B (deflated %d B): %s s, %d B on the wire\n' \
            "$link" "$size" "$isz" "$dsz" "$secs" "$wire"
        printf '           wire/deflated %s (goal <= 1.15), wire/image %s\n' \
            "$(ratio "$wire" "$dsz")" "$(ratio "$wire" "$isz")"
        if [ "$baud" != 0 ]; then
            rate=$((baud / 10))
            printf '           link limit: image %.2f s, deflated %.2f s; time/deflated-limit %s (goal <= 1.3), time/image-limit %s\n' \
                "$(ratio "$isz" "$rate")" "$(ratio "$dsz" "$rate")" \
                "$(ratio "$secs" "$(ratio "$dsz" "$rate")")" "$(ratio "$secs" "$(ratio "$isz" "$rate")")"
        fi
        if [ "$size" = "$big" ]; then
            for change in same grown; do
                cp -r "$work/app$big" "$work/edit"
                "$PY" - "$work/edit/lib/settings.py" "$change" <<'EOF'
import sys
p, how = sys.argv[1], sys.argv[2]
d = bytearray(open(p, "rb").read())
d[100:110] = b"edited0123"
if how == "grown":
    d += b"# grown by a hundred bytes " + b"x" * 72 + b"\n"
open(p, "wb").write(bytes(d))
EOF
                "$ROMFS" pack "$work/edit" -o "$work/edit.romfs" -q
                run_flash "$work/edit.romfs"
                printf '           re-write, one 2 KiB file %-5s: %s s, %d B on the wire, blocks %s; %sx faster than full (goal >= 20)\n' \
                    "$change" "$secs" "$wire" "$blocks" "$(ratio "$full_secs" "$secs")"
                run_flash "$img"   # back to the original for the next case
                rm -rf "$work/edit" "$work/edit.romfs"
            done
        fi
        if [ "$size" = "$big" ]; then
            # The same growth with every .py aligned to the erase block (0xff slack after
            # each): later files no longer move. Costs flash space, hardly any wire bytes.
            cp -r "$work/app$big" "$work/edit"
            printf '# grown by a hundred bytes %072d\n' 0 >> "$work/edit/lib/settings.py"
            "$ROMFS" pack "$work/app$big" -o "$work/al1.romfs" -q --align-rule '*.py=4096'
            "$ROMFS" pack "$work/edit" -o "$work/al2.romfs" -q --align-rule '*.py=4096'
            run_flash "$work/al1.romfs"
            run_flash "$work/al2.romfs"
            printf '           re-write, one 2 KiB file grown, .py aligned to 4 KiB: %s s, %d B on the wire, blocks %s; %sx faster than full; image %d B (+%s%%)\n' \
                "$secs" "$wire" "$blocks" "$(ratio "$full_secs" "$secs")" "$(stat -c %s "$work/al1.romfs")" \
                "$("$PY" -c "print('%.1f' % (100.0 * $(stat -c %s "$work/al1.romfs") / $isz - 100))")"
            rm -rf "$work/edit"
        fi
        stop_sim
    done
done
