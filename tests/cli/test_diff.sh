#!/bin/bash
# test_diff.sh: romfs diff between images packed from trees that differ in known ways.
. "$(dirname "$0")/lib.sh"

make_pair() {
    mkdir -p old/lib new/lib new/assets
    printf 'print("v1")\n' > old/main.py;   printf 'print("version 2")\n' > new/main.py
    printf 'X = 1\n' > old/lib/util.py;     printf 'X = 1\n' > new/lib/util.py
    printf 'bye' > old/gone.txt
    head -c 2048 /dev/zero > new/assets/logo.bin
    "$ROMFS" pack old -o old.romfs >/dev/null
    "$ROMFS" pack new -o new.romfs >/dev/null
}

test_diff_lists_changes() {
    make_pair
    expect_exit 1 "$ROMFS" diff old.romfs new.romfs
    expect_stdout "+ assets/"
    expect_stdout "+ assets/logo.bin (2.0 KiB)"
    expect_stdout "- gone.txt (3 B)"
    expect_stdout "M main.py (12 B -> 19 B, +7)"
    expect_stdout "2 added, 1 removed, 1 changed, 1 unchanged"
    ! grep -q "util.py" out.txt || fail "unchanged file listed"
}

test_diff_identical_and_layout_only() {
    make_pair
    expect_exit 0 "$ROMFS" diff old.romfs old.romfs
    expect_stdout "no file differs"
    "$ROMFS" pack old --align 256 -o old256.romfs >/dev/null
    expect_exit 0 "$ROMFS" diff old.romfs old256.romfs
    expect_stdout "note: the images' bytes differ"
}

test_diff_json() {
    make_pair
    expect_exit 1 "$ROMFS" diff --json old.romfs new.romfs
    python3 - <<'EOF'
import hashlib, json
d = json.load(open("out.txt"))
assert not d["identical"] and d["added"] == 2 and d["removed"] == 1 and d["changed"] == 1, d
by = {e["path"]: e for e in d["entries"]}
m = by["main.py"]
assert m["change"] == "changed" and m["old_size"] == 12 and m["new_size"] == 19 and m["size_delta"] == 7
assert m["new_sha256"] == hashlib.sha256(open("new/main.py", "rb").read()).hexdigest()
assert m["old_sha256"] == hashlib.sha256(open("old/main.py", "rb").read()).hexdigest()
assert by["assets"]["type"] == "dir" and by["assets"]["change"] == "added"
assert by["gone.txt"]["change"] == "removed" and "new_size" not in by["gone.txt"]
EOF
}

test_diff_errors() {
    make_pair
    expect_exit 2 "$ROMFS" diff old.romfs
    expect_exit 2 "$ROMFS" diff old.romfs missing.romfs
    expect_stderr "missing.romfs"
    echo junk > junk.romfs
    expect_exit 2 "$ROMFS" diff old.romfs junk.romfs
    expect_stderr "junk.romfs"
    expect_exit 0 "$ROMFS" diff --help
}

t test_diff_lists_changes
t test_diff_identical_and_layout_only
t test_diff_json
t test_diff_errors
