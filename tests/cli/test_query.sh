#!/usr/bin/env bash
# romfs query --list: what the device's own VfsRom lists after a flash equals the image.
. "$(dirname "$0")/lib.sh"

start_sim() {
    port=$($ROMFS sim --partition-size 256K --erase-block 4K --flash flash.bin \
        --background --pid-file sim.pid)
    trap 'kill "$(cat sim.pid)" 2>/dev/null' EXIT   # each test is its own subshell
}

device_lists_what_was_flashed() {
    start_sim
    cp -r "$ROMFS_SOURCE_DIR/examples/app" app
    $ROMFS pack app -o app.romfs -q
    $ROMFS flash app.romfs --port "$port" -q
    $ROMFS query --port "$port" --list > q.txt
    sed -n '/^\/rom:$/,$p' q.txt | tail -n +2 > device.txt
    # the same listing from the image, through the host reader
    $ROMFS ls --json -R app.romfs | python3 -c '
import json, sys
for e in sorted(json.load(sys.stdin), key=lambda e: e["path"]):
    print("d 0 %s/" % e["path"] if e["type"] == "dir" else "- %d %s" % (e["size"], e["path"]))' > image.txt
    diff image.txt device.txt
    $ROMFS query --port "$port" --list --json | python3 -c '
import json, sys
q = json.load(sys.stdin)
assert q["partitions"][0]["valid"], q
assert any(f["path"] == "lib/sensors/filters.py" for f in q["rom_files"]), q'
}

no_list_without_an_image() {
    start_sim
    $ROMFS query --port "$port" --list > q.txt
    grep -q 'no valid ROMFS\|not a valid\|no ROMFS' q.txt || fail "$(cat q.txt)"
    ! grep -q '^/rom:' q.txt || fail "listed files without an image"
}

t device_lists_what_was_flashed
t no_list_without_an_image

# another tool (mpremote's romfs deploy) may leave /rom unmounted: the listing says so in
# words, exit 1, never a device traceback
unmounted_rom_is_named_not_a_traceback() {
    start_sim
    cp -r "$ROMFS_SOURCE_DIR/examples/app" app
    $ROMFS pack app -o app.romfs -q
    $ROMFS flash app.romfs --port "$port" -q
    python3 - "$port" <<'PY'
import os, sys, time, tty
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
tty.setraw(fd)
os.write(fd, b"\r\x03\x03\r\x01")
time.sleep(0.3)
os.write(fd, b"import vfs\nvfs.umount('/rom')\n\x04")
time.sleep(0.3)
os.write(fd, b"\r\x02")
time.sleep(0.2)
os.close(fd)
PY
    set +e
    $ROMFS query --port "$port" --list > q.txt 2> err.txt
    rc=$?
    set -e
    [ "$rc" = 1 ] || fail "exit $rc: $(cat err.txt)"
    grep -q 'nothing is mounted at /rom' err.txt || fail "$(cat err.txt)"
    ! grep -q 'Traceback' err.txt q.txt || fail "a device traceback reached the user"
    # and a flash of the same image mounts it again (through a soft reset)
    $ROMFS flash app.romfs --port "$port" -q
    $ROMFS query --port "$port" --list > q.txt
    grep -q '^/rom:$' q.txt || fail "$(cat q.txt)"
}

t unmounted_rom_is_named_not_a_traceback
