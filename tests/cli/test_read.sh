#!/usr/bin/env bash
# romfs ls / cat / extract / info / verify, including hostile images.
. "$(dirname "$0")/lib.sh"

# craft NAME.romfs from a Python expression building the payload with helpers
craft() {
    python3 - "$1" "$2" <<'PY'
import sys
def v(n):
    out = [n & 0x7f]; n >>= 7
    while n: out.insert(0, 0x80 | (n & 0x7f)); n >>= 7
    return bytes(out)
def rec(kind, payload): return v(kind) + v(len(payload)) + payload
def f(name, data): return rec(5, v(len(name)) + name + rec(2, data))
def d(name, *children): return rec(4, v(len(name)) + name + b"".join(children))
payload = eval(sys.argv[2])
img = b"\xd2\xcd\x31" + v(len(payload)) + payload
if len(img) % 2: img = b"\xd2\xcd\x31\x80" + v(len(payload)) + payload
open(sys.argv[1], "wb").write(img)
PY
}

mk_app() {
    mkdir -p app/lib/pkg app/e
    printf 'print(1)\n' > app/main.py
    printf 'Y=2\n' > app/lib/pkg/__init__.py
    head -c 5000 /dev/urandom > app/lib/blob.bin
    $ROMFS pack app -o app.romfs -q
}

ls_variants() {
    mk_app
    $ROMFS ls app.romfs > o; printf 'e/\nlib/\nmain.py\n' | diff - o
    $ROMFS ls app.romfs lib > o; printf 'blob.bin\npkg/\n' | diff - o
    $ROMFS ls -R app.romfs > o
    printf 'e/\nlib/\nlib/blob.bin\nlib/pkg/\nlib/pkg/__init__.py\nmain.py\n' | diff - o
    $ROMFS ls -R app.romfs lib/pkg > o; printf 'lib/pkg/__init__.py\n' | diff - o
    $ROMFS ls -l app.romfs lib > o; grep -E '^- +5000 0x[0-9a-f]{8}  blob.bin$' o
    $ROMFS ls --json -R app.romfs | python3 -c '
import json,sys; e = json.load(sys.stdin)
assert [x["path"] for x in e if x["type"] == "file"] == ["lib/blob.bin", "lib/pkg/__init__.py", "main.py"], e
assert all(x["offset"] % 4 == 0 for x in e if x["type"] == "file")'
    expect_exit 2 $ROMFS ls app.romfs nope
    expect_stderr "nope: no such file"
}

cat_bytes_and_errors() {
    mk_app
    $ROMFS cat app.romfs lib/blob.bin > b; same_bytes b app/lib/blob.bin
    $ROMFS cat app.romfs /main.py > m; same_bytes m app/main.py
    expect_exit 2 $ROMFS cat app.romfs lib
    expect_stderr "is a directory"
    expect_exit 2 $ROMFS cat app.romfs lib/none
}

info_figures() {
    mk_app
    $ROMFS info app.romfs --json > i.json
    python3 - app.romfs i.json <<'PY'
import hashlib, json, sys
img = open(sys.argv[1], 'rb').read(); i = json.load(open(sys.argv[2]))
assert i['image_bytes'] == len(img) and i['files'] == 3 and i['dirs'] == 3, i
assert i['data_bytes'] == 5000 + 9 + 4, i
assert i['overhead'] == len(img) - i['data_bytes']
assert i['sha256'] == hashlib.sha256(img).hexdigest()
assert i['min_data_alignment'] >= 4 and i['valid'] is True
PY
    $ROMFS info app.romfs > o; grep -q '^files: *3$' o
}

not_an_image_errors() {
    printf 'hello world' > junk
    expect_exit 2 $ROMFS ls junk
    expect_stderr "junk: not a ROMFS image"
    mk_app
    head -c 100 app.romfs > trunc.romfs
    expect_exit 2 $ROMFS info trunc.romfs
    expect_stderr "trunc.romfs"
    expect_stderr "truncated"
    expect_exit 2 $ROMFS ls missing.romfs
    expect_stderr "missing.romfs"
}

verify_strict_and_against() {
    mk_app
    $ROMFS verify app.romfs > o; grep -q 'valid ROMFS image' o
    $ROMFS verify app.romfs --against app -q
    printf 'changed' > app/main.py
    expect_exit 1 $ROMFS verify app.romfs --against app
    expect_stderr "main.py"
    rm app/main.py
    expect_exit 1 $ROMFS verify app.romfs --against app
    expect_stderr "not in app"
    craft dup.romfs 'f(b"a", b"1") + f(b"a", b"2")'
    expect_exit 2 $ROMFS verify dup.romfs
    expect_stderr "duplicate name 'a'"
    craft unused.romfs 'f(b"a", b"1") + b"\x00\x00"'
    expect_exit 2 $ROMFS verify unused.romfs
    expect_stderr "unused record"
    expect_stderr "offset"
}

extract_refuses_hostile_names() {
    for bad in 'b".."' 'b"."' 'b""' 'b"a/b"' 'b"a\x00b"'; do
        craft h.romfs "f($bad, b\"pwned\")"
        expect_exit 2 $ROMFS extract h.romfs out
        expect_stderr "refusing"
    done
    craft h.romfs 'd(b"..", f(b"x", b"pwned"))'
    expect_exit 2 $ROMFS extract h.romfs out/deeper
    [ ! -e out/x ] && [ ! -e x ] || fail "wrote outside DEST"
}

extract_never_follows_symlinks() {
    mkdir outside dest
    ln -s ../outside dest/lib
    ln -s ../outside/secret dest/main.py
    mk_app
    expect_exit 2 $ROMFS extract app.romfs dest
    expect_stderr "not a directory"
    [ -z "$(ls outside)" ] || fail "wrote through a symlink: $(ls outside)"
    rm dest/lib
    expect_exit 2 $ROMFS extract app.romfs dest
    expect_stderr "symlink"
    [ -z "$(ls outside)" ] || fail "wrote through a symlink"
}

extract_subdir_and_overwrite() {
    mk_app
    mkdir out; printf old > out/blob.bin
    expect_exit 2 $ROMFS extract app.romfs out lib
    expect_stderr "out/blob.bin exists and differs"
    [ "$(cat out/blob.bin)" = old ] || fail "replaced without --force"
    assert_file_absent out/pkg
    $ROMFS extract app.romfs out lib --force -q
    same_bytes out/blob.bin app/lib/blob.bin
    same_bytes out/pkg/__init__.py app/lib/pkg/__init__.py
    ! ls out/.romfs-extract.* >/dev/null 2>&1 || fail "temporary left behind"
}

extract_keeps_local_edits_and_reruns() {
    mk_app
    $ROMFS extract app.romfs out -q
    # the same image again: every file is already there, nothing to refuse
    expect_exit 0 $ROMFS extract app.romfs out
    expect_stdout "(3 already there)"
    printf 'print("local edit")\n' > out/main.py
    expect_exit 2 $ROMFS extract app.romfs out
    expect_stderr "out/main.py exists and differs"
    expect_stderr "--force"
    grep -q 'local edit' out/main.py || fail "local edit overwritten"
    expect_exit 0 $ROMFS extract -f app.romfs out
    same_bytes out/main.py app/main.py
}

extract_refused_midway_leaves_nothing() {
    # good entries first, a hostile one last: nothing may be written at all
    craft h.romfs 'd(b"a", f(b"x", b"1"), f(b"y", b"2")) + f(b"b", b"3") + f(b"..", b"pwned")'
    expect_exit 2 $ROMFS extract h.romfs out
    expect_stderr "refusing"
    assert_file_absent out
    mkdir keep; printf mine > keep/b
    expect_exit 2 $ROMFS extract h.romfs keep
    assert_eq "$(ls -A keep)" b
    assert_eq "$(cat keep/b)" mine
    # a conflict deep in the tree, found before the first file is written
    mk_app
    mkdir -p dest/lib/pkg; printf 'mine\n' > dest/lib/pkg/__init__.py
    expect_exit 2 $ROMFS extract app.romfs dest
    expect_stderr "dest/lib/pkg/__init__.py exists and differs"
    assert_file_absent dest/main.py
    assert_file_absent dest/lib/blob.bin
}

extract_duplicate_names_are_an_error() {
    craft dup.romfs 'f(b"a", b"1") + f(b"a", b"2")'
    expect_exit 2 $ROMFS extract dup.romfs out
    expect_stderr "'a' twice"
    assert_file_absent out
    craft dup2.romfs 'f(b"top", b"0") + d(b"lib", f(b"x", b"1"), d(b"x", f(b"y", b"2")))'
    expect_exit 2 $ROMFS extract dup2.romfs out
    expect_stderr "'lib/x' twice"
    expect_stderr "offsets"
    assert_file_absent out
}

extract_write_failure_removes_what_it_made() {
    head -c 20000 /dev/urandom > big.bin
    craft w.romfs "f(b\"a\", b\"small\") + d(b\"d\", f(b\"b\", b\"small\")) + f(b\"z\", open(\"big.bin\", \"rb\").read())"
    mkdir dest; printf mine > dest/keep
    # a file size limit makes the write of z fail half way (EFBIG instead of SIGXFSZ)
    rc=0
    (trap '' XFSZ; ulimit -f 8; exec $ROMFS extract w.romfs dest) > out.txt 2> err.txt || rc=$?
    assert_eq "$rc" 1 "$(cat err.txt)"
    grep -q "cannot write dest/z" err.txt || fail "$(cat err.txt)"
    assert_eq "$(ls -A dest)" keep
    (trap '' XFSZ; ulimit -f 8; exec $ROMFS extract w.romfs new) > out.txt 2> err.txt || rc=$?
    assert_file_absent new
}

t ls_variants
t cat_bytes_and_errors
t info_figures
t not_an_image_errors
t verify_strict_and_against
t extract_refuses_hostile_names
t extract_never_follows_symlinks
t extract_subdir_and_overwrite
t extract_keeps_local_edits_and_reruns
t extract_refused_midway_leaves_nothing
t extract_duplicate_names_are_an_error
t extract_write_failure_removes_what_it_made
