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
#     100 bytes): wall time, bytes and erase blocks, against the full write; then the
#     same edit packed with --base (the image on the board), and a second edit of the
#     file packed with --base that image, each with the erase blocks written.
# Goals (issue 4): wire bytes <= 1.15x the deflated image; full write <= 1.3x the link
# limit of the deflated image; one-file re-write >= 20x faster than the full write.
# Goal (issue 11): one 2 KiB file grown by 100 bytes, packed with --base, writes at most
# 3 erase blocks of 4 KiB.
set -eu
# the interpreter itself, not a version manager's shim: it is started dozens of times
PY=$(python3 -c 'import sys; print(sys.executable)')
build=${1:-${ROMFS_BUILD:-build}}
ROMFS=$(cd "$build" && pwd)/romfs
work=$(mktemp -d "${TMPDIR:-/tmp}/romfs-bench-repl.XXXXXX")
sim_pid=
cleanup() { [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

gen_tree() { "$PY" "$(dirname "$0")/apptree.py" "$@"; }  # gen_tree DIR TARGET_BYTES SEED

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

# edit_file FILE same|grown [AT]: 10 bytes at offset AT (default 100) changed; grown:
# 100 bytes appended too.
edit_file() {
    "$PY" - "$1" "$2" "${3:-100}" <<'EOF'
import sys
p, how, at = sys.argv[1], sys.argv[2], int(sys.argv[3])
d = bytearray(open(p, "rb").read())
d[at:at + 10] = b"edited0123"
if how == "grown":
    d += b"# grown by a hundred bytes " + b"x" * 72 + b"\n"
open(p, "wb").write(bytes(d))
EOF
}

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
                edit_file "$work/edit/lib/settings.py" "$change"
                "$ROMFS" pack "$work/edit" -o "$work/edit.romfs" -q
                run_flash "$work/edit.romfs"
                printf '           re-write, one 2 KiB file %-5s: %s s, %d B on the wire, blocks %s; %sx faster than full (goal >= 20)\n' \
                    "$change" "$secs" "$wire" "$blocks" "$(ratio "$full_secs" "$secs")"
                # The same edit packed against the image on the board (pack --base): the
                # other files keep their offsets. Then a second edit on top of that one,
                # with it as the base (the steady state of repeated updates).
                run_flash "$img"
                "$ROMFS" pack "$work/edit" --base "$img" -o "$work/based.romfs" -q
                run_flash "$work/based.romfs"
                printf '           the same, pack --base the image on the board: %s s, %d B on the wire, blocks %s (goal <= 3)\n' \
                    "$secs" "$wire" "$blocks"
                edit_file "$work/edit/lib/settings.py" "$change" 500
                "$ROMFS" pack "$work/edit" --base "$work/based.romfs" -o "$work/based2.romfs" -q
                run_flash "$work/based2.romfs"
                printf '           and again, pack --base that image:  %s s, %d B on the wire, blocks %s (goal <= 3)\n' \
                    "$secs" "$wire" "$blocks"
                run_flash "$img"   # back to the original for the next case
                rm -rf "$work/edit" "$work/edit.romfs" "$work/based.romfs" "$work/based2.romfs"
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
