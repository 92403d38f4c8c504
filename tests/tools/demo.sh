#!/usr/bin/env bash
# demo.sh BUILD: what `make demo` shows. Packs the example app, lists and verifies
# the image, checks it against a real board's ROMFS partition, writes it to the
# simulated device for that board and lists it back from the device.
set -euo pipefail
build=$1
romfs="$build/romfs"
work="$build/demo"
rm -rf "$work"; mkdir -p "$work"
step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }

step "Pack the example app (4-byte aligned data, deterministic)" \
    "$romfs" pack examples/app -o "$work/app.romfs" --tree
step "List the image" "$romfs" ls -lR "$work/app.romfs"
step "Verify it strictly, and against the source tree" \
    "$romfs" verify "$work/app.romfs" --against examples/app
step "Image figures" "$romfs" info "$work/app.romfs"
