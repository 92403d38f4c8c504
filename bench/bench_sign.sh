#!/bin/bash
# bench_sign.sh [BUILD_DIR]: `romfs sign` and `romfs verify --key` on 64 KiB and 4 MiB
# images, against a baseline measured in the same run: `sha256sum` of the same file
# (the hashing any signature check needs) and `romfs verify` without --key (strict
# structure only). Ratios show what the ECDSA P-256 part costs on top. Median of 5 runs.
set -eu
build=${1:-build}
romfs="$build/romfs"
[ -x "$romfs" ] || { echo "bench_sign: $romfs not built" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/romfs-bench-sign.XXXXXX")
trap 'rm -rf "$work"' EXIT

# median wall time in ms of running "$@" 5 times
median_ms() {
    local times=()
    for _ in 1 2 3 4 5; do
        local t0 t1
        t0=$(date +%s%N)
        "$@" >/dev/null 2>&1
        t1=$(date +%s%N)
        times+=($(( (t1 - t0) / 1000 )))
    done
    printf '%s\n' "${times[@]}" | sort -n | sed -n 3p | awk '{ printf "%.2f", $1 / 1000 }'
}

echo "== bench_sign"
"$romfs" keygen "$work/k" >/dev/null
sizes="65536 4194304"
[ "${BENCH_QUICK:-0}" = 1 ] && sizes="65536"
for size in $sizes; do
    mkdir -p "$work/app$size"
    head -c "$size" /dev/urandom > "$work/app$size/data.bin"
    printf 'print(1)\n' > "$work/app$size/main.py"
    "$romfs" pack "$work/app$size" -o "$work/img$size.romfs" >/dev/null
    "$romfs" sign "$work/img$size.romfs" --key "$work/k.pem" -o "$work/signed$size.romfs" >/dev/null
    sha=$(median_ms sha256sum "$work/signed$size.romfs")
    struct=$(median_ms "$romfs" verify "$work/signed$size.romfs")
    sign=$(median_ms "$romfs" sign "$work/img$size.romfs" --key "$work/k.pem" -o "$work/s2.romfs")
    verify=$(median_ms "$romfs" verify "$work/signed$size.romfs" --key "$work/k.pub.pem")
    awk -v n="$size" -v sha="$sha" -v st="$struct" -v sg="$sign" -v vf="$verify" 'BEGIN {
        printf "image %8d bytes: sha256sum %6.2f ms | verify %6.2f ms | sign %6.2f ms (%.1fx sha256sum) | verify --key %6.2f ms (%.1fx sha256sum, %.1fx verify)\n",
               n, sha, st, sg, sg / sha, vf, vf / sha, vf / st }'
done
