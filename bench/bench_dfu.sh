#!/bin/bash
# bench_dfu.sh [BUILD_DIR]: `romfs flash --via dfu`'s write path (romfs_flash_image over the
# DfuSe target) against the DfuSe device model, STM32F4 sector map, in virtual device time
# (the sum of the bwPollTimeout the device asked for: erase ~8 ms/KiB, program ~1 ms per
# 256 bytes), USB control transfers and erases. Baseline in the same run: a full write
# (every block erased and programmed); compared: re-running with the image unchanged, and
# with one byte changed (only the changed block and the header block are rewritten).
set -eu
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(mktemp "${TMPDIR:-/tmp}/romfs-bench-dfu.XXXXXX")
trap 'rm -f "$bin"' EXIT
cc -std=c11 -D_DEFAULT_SOURCE -O2 -I"$root/lib" -I"$root/tests/unit" "$root/bench/dfu_model_bench.c" \
   "$build/libromfs.a" $(pkg-config --libs libcjson libusb-1.0 libserialport libelf zlib) \
   -lmbedcrypto -lpthread -o "$bin"
echo "== bench_dfu"
sizes="262144 700000"
[ "${BENCH_QUICK:-0}" = 1 ] && sizes="65536"
for size in $sizes; do
    "$bin" "$size"
done
