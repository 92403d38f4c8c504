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

board=PYBD_SF2   # stm32: 1 MiB ROMFS partition in memory-mapped QSPI flash, 4 KiB erase blocks
step "The board's ROMFS partition, from boards.json" "$romfs" boards show "$board"
step "Check the image against it" "$romfs" check "$work/app.romfs" --board "$board"

printf '\n\033[1m== Start a simulated %s on a pseudo-terminal\033[0m\n' "$board"
port=$("$romfs" sim --board "$board" --flash "$work/flash.bin" --background --pid-file "$work/sim.pid")
trap 'kill "$(cat "$work/sim.pid")" 2>/dev/null' EXIT
echo "simulated $board on $port"

step "Write the app to it over the raw REPL (pack, check, write, verify, soft reset)" \
    "$romfs" flash examples/app --board "$board" --via repl --port "$port"
step "List it back from the device (its own VfsRom at /rom)" \
    "$romfs" query --port "$port" --list
step "Flash again: nothing changed, so nothing is written" \
    "$romfs" flash examples/app --board "$board" --via repl --port "$port"
