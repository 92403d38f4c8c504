#!/bin/sh
# bench_pack.sh: pack a generated tree of 10,000 files / ~80 MB (sizes exponentially
# distributed around 8 KB, 40 directories) and compare with `tar -cf - DIR | cat` on
# the same tree in the same run. Goals: at most 1.5x tar's time, peak RSS < 32 MiB.
set -eu
: "${ROMFS:?}"
# BENCH_QUICK=1: 300 files, one timing each (same code paths, a fraction of a second)
files=10000; runs=3
[ "${BENCH_QUICK:-0}" = 1 ] && { files=300; runs=1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/romfs-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
python3 - "$work/tree" "$files" <<'PY'
import os, random, sys
random.seed(20261123)
root = sys.argv[1]
dirs = [os.path.join(root, "d%02d" % i) for i in range(40)]
for d in dirs: os.makedirs(d)
chunk = os.urandom(1 << 20)
total = 0
files = int(sys.argv[2])
for i in range(files):
    size = min(int(random.expovariate(1 / 8192)), 1 << 20)
    off = random.randrange(0, len(chunk) - size + 1)
    with open(os.path.join(dirs[i % 40], "f%05d.bin" % i), "wb") as f:
        f.write(chunk[off:off + size])
    total += size
print("tree: %d files, 40 dirs, %.1f MB" % (files, total / 1e6))
PY
# warm the page cache so both measure the same thing
tar -cf - -C "$work" tree | cat > /dev/null

best() {  # best of $runs wall times in seconds, of the command in "$@"
    b=""
    for _ in $(seq "$runs"); do
        s=$(date +%s.%N); "$@"; e=$(date +%s.%N)
        t=$(echo "$e - $s" | bc)
        if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
    done
    echo "$b"
}
tar_pipe() { tar -cf - -C "$work" tree | cat > /dev/null; }
pack_pipe() { "$ROMFS" pack "$work/tree" -o - -q | cat > /dev/null; }
pack_file() { "$ROMFS" pack "$work/tree" -o "$work/out.romfs" -q; }

t_tar=$(best tar_pipe)
t_pipe=$(best pack_pipe)
t_file=$(best pack_file)
rss=$(/usr/bin/time -f %M "$ROMFS" pack "$work/tree" -o "$work/out.romfs" -q 2>&1 >/dev/null | tail -1)
printf 'tar -cf - | cat:            %.3f s\n' "$t_tar"
printf 'romfs pack -o - | cat:      %.3f s  (%.2fx tar; goal <= 1.5x)\n' "$t_pipe" "$(echo "$t_pipe / $t_tar" | bc -l)"
printf 'romfs pack -o FILE:         %.3f s  (%.2fx tar)\n' "$t_file" "$(echo "$t_file / $t_tar" | bc -l)"
printf 'romfs pack peak RSS:        %d KiB  (goal < 32768 KiB)\n' "$rss"
"$ROMFS" verify "$work/out.romfs" --against "$work/tree" -q
