#!/usr/bin/env bash
# romfs pack --base OLD: unchanged files keep their data offsets, so a flash write
# touches few erase blocks. Every image is checked with `romfs verify --against` and
# with the independent reader (tests/tools/romfs_reader.py); erase blocks are counted
# here, not taken from the tool's summary.
. "$(dirname "$0")/lib.sh"

# make_tree DIR: 200 files of 0.5 to 4 KiB in 7 directories, d3/two.py exactly 2 KiB.
make_tree() {
    python3 - "$1" <<'EOF'
import os, random, sys
r = random.Random(11)
root = sys.argv[1]
for i in range(1, 200):
    d = os.path.join(root, "d%d" % (i % 7))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%03d.py" % i), "wb") as f:
        f.write(bytes(r.randrange(256) for _ in range(r.randint(512, 4096))))
with open(os.path.join(root, "d3", "two.py"), "wb") as f:
    f.write(b"# two\n" + b"x" * 2041 + b"\n")
EOF
}

grow() { python3 -c "open('$1','ab').write(b'#' * ${2:-100})"; }

# blocks A B: 4 KiB blocks that differ, the shorter image padded with 0xff (erased flash)
blocks() {
    python3 - "$1" "$2" <<'EOF'
import sys
a, b = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
n = (max(len(a), len(b)) + 4095) // 4096
a, b = a.ljust(n * 4096, b"\xff"), b.ljust(n * 4096, b"\xff")
print(sum(a[k * 4096:(k + 1) * 4096] != b[k * 4096:(k + 1) * 4096] for k in range(n)))
EOF
}

# reads_back IMAGE DIR: strict verify against DIR, and the independent reader's extract
reads_back() {
    $ROMFS verify "$1" --against "$2" -q
    rm -rf rb.out
    python3 "$PY_READER" "$1" --extract rb.out
    diff -r "$2" rb.out
    python3 "$PY_READER" "$1" --check-align 4 > /dev/null
}

# offsets IMAGE: "SHA256 OFFSET" per file, for comparing where data sits
offsets() { python3 "$PY_READER" "$1" | awk '$1 == "file" && $3 > 0 { print $5, $4 }' | sort; }

# kept_in_place OLD NEW: every file whose bytes OLD holds sits at the same offset in NEW
kept_in_place() {
    offsets "$1" > old.off
    offsets "$2" > new.off
    join old.off new.off | awk '$2 != $3 { bad = 1; print "moved:", $0 } END { exit bad }'
}

# fresh_image DIR OUT: the metadata-first layout, packed against an empty image
fresh_image() {
    mkdir -p empty
    $ROMFS pack empty -o empty.romfs -q
    $ROMFS pack "$1" --base empty.romfs -o "$2" -q
}

grown_file_changes_at_most_three_blocks() {
    make_tree app
    fresh_image app v1.romfs
    reads_back v1.romfs app
    grow app/d3/two.py
    $ROMFS pack app --base v1.romfs -o v2.romfs -q
    reads_back v2.romfs app
    kept_in_place v1.romfs v2.romfs
    n=$(blocks v1.romfs v2.romfs)
    [ "$n" -le 3 ] || fail "$n blocks differ"
    # and the next edit, against that image
    grow app/d5/f012.py
    $ROMFS pack app --base v2.romfs -o v3.romfs -q
    reads_back v3.romfs app
    kept_in_place v2.romfs v3.romfs
    n=$(blocks v2.romfs v3.romfs)
    [ "$n" -le 3 ] || fail "$n blocks differ on the second edit"
}

grown_file_against_a_plain_image() {
    make_tree app
    $ROMFS pack app -o v1.romfs -q
    grow app/d3/two.py
    $ROMFS pack app -o plain.romfs -q
    $ROMFS pack app --base v1.romfs -o v2.romfs -q
    reads_back v2.romfs app
    kept_in_place v1.romfs v2.romfs
    n=$(blocks v1.romfs v2.romfs)
    plain=$(blocks v1.romfs plain.romfs)
    # the header, the file's record, the end: 4 at most (the plain layout moves ~half)
    [ "$n" -le 4 ] || fail "$n blocks differ"
    [ "$plain" -gt 20 ] || fail "the plain layout changed only $plain blocks"
}

unchanged_tree_is_the_base() {
    make_tree app
    $ROMFS pack app -o plain.romfs -q
    $ROMFS pack app --base plain.romfs -o again.romfs -q
    same_bytes plain.romfs again.romfs
    fresh_image app fresh.romfs
    $ROMFS pack app --base fresh.romfs -o again2.romfs -q
    same_bytes fresh.romfs again2.romfs
    # the base may be the output itself
    cp fresh.romfs inplace.romfs
    grow app/d1/f001.py
    $ROMFS pack app --base inplace.romfs -o inplace.romfs -q
    reads_back inplace.romfs app
    kept_in_place fresh.romfs inplace.romfs
}

file_removed_added_and_directory_renamed() {
    for start in plain fresh; do
        rm -rf app ./*.romfs
        make_tree app
        if [ $start = plain ]; then $ROMFS pack app -o v1.romfs -q; else fresh_image app v1.romfs; fi
        rm app/d2/f002.py
        $ROMFS pack app --base v1.romfs -o v2.romfs -q
        reads_back v2.romfs app
        kept_in_place v1.romfs v2.romfs
        printf 'added\n' > app/d4/new.txt
        head -c 3000 /dev/urandom > app/top.bin
        $ROMFS pack app --base v2.romfs -o v3.romfs -q
        reads_back v3.romfs app
        kept_in_place v2.romfs v3.romfs
        mv app/d6 app/renamed
        $ROMFS pack app --base v3.romfs -o v4.romfs --json > v4.json
        reads_back v4.romfs app
        kept_in_place v3.romfs v4.romfs   # by content: the renamed files did not move
        python3 -c "import json; b = json.load(open('v4.json'))['base']; assert b['layout'] == 'rewritten' and b['files_written'] == 0, b"
        if [ $start = fresh ]; then
            n=$(blocks v3.romfs v4.romfs)
            [ "$n" -le 3 ] || fail "renaming a directory changed $n blocks"
        fi
    done
}

summary_says_what_was_kept() {
    make_tree app
    $ROMFS pack app -o v1.romfs -q
    grow app/d3/two.py
    expect_exit 0 $ROMFS pack app --base v1.romfs -o v2.romfs
    expect_stdout "packed 200 files, 7 directories into v2.romfs"
    expect_stdout "against v1.romfs: records patched in place: 199 files kept in place"
    expect_stdout "1 written (2.1 KiB)"
    n=$(blocks v1.romfs v2.romfs)
    expect_stdout "; $n of "
    expect_exit 0 $ROMFS pack app --base v2.romfs -o v3.romfs --json
    python3 - <<'EOF'
import json
b = json.load(open("out.txt"))["base"]
assert b["image"] == "v2.romfs" and b["layout"] == "same" and b["blocks_changed"] == 0, b
EOF
    # more than half of the data new: a fresh layout, and the summary says why
    for f in app/d0/*.py app/d1/*.py app/d2/*.py app/d4/*.py app/d5/*.py; do grow "$f" 1; done
    expect_exit 0 $ROMFS pack app --base v2.romfs -o v4.romfs
    expect_stdout "fresh layout (more than half of the data changed)"
    reads_back v4.romfs app
    expect_exit 0 $ROMFS pack app --base v2.romfs -o v5.romfs -q
    [ ! -s out.txt ] || fail "-q printed: $(cat out.txt)"
    same_bytes v4.romfs v5.romfs   # deterministic
}

bad_base_is_refused_by_name() {
    make_tree app
    echo "not an image" > text.romfs
    expect_exit 2 $ROMFS pack app --base text.romfs -o out.romfs
    expect_stderr "text.romfs: not a ROMFS image"
    assert_file_absent out.romfs
    $ROMFS pack app -o good.romfs -q
    head -c 5000 good.romfs > cut.romfs
    expect_exit 2 $ROMFS pack app --base cut.romfs -o out.romfs
    expect_stderr "cut.romfs"
    expect_stderr "truncated"
    assert_file_absent out.romfs
    python3 -c "
d = bytearray(open('good.romfs','rb').read()); d[6] = 0
open('bad.romfs','wb').write(d)"
    expect_exit 2 $ROMFS pack app --base bad.romfs -o out.romfs
    expect_stderr "bad.romfs: not a valid ROMFS image"
    assert_file_absent out.romfs
    expect_exit 2 $ROMFS pack app --base missing.romfs -o out.romfs
    expect_stderr "missing.romfs"
    assert_file_absent out.romfs
    ! ls out.romfs.tmp-* >/dev/null 2>&1 || fail "temporary file left"
}

diff_info_and_ls_read_it() {
    make_tree app
    fresh_image app v1.romfs
    grow app/d3/two.py
    rm app/d0/f007.py
    $ROMFS pack app --base v1.romfs -o v2.romfs -q
    expect_exit 1 $ROMFS diff v1.romfs v2.romfs
    expect_stdout "M d3/two.py"
    expect_stdout "- d0/f007.py"
    [ "$(grep -c '^[-+M] ' out.txt)" = 2 ] || fail "diff lists more: $(cat out.txt)"
    expect_exit 0 $ROMFS info v2.romfs --json
    python3 - <<'EOF'
import json
i = json.load(open("out.txt"))
assert i["valid"] and i["files"] == 199 and i["indirect_files"] == 199, i
# padding is the free room, not the data the padding records hold
assert i["padding"] < 16384, i
EOF
    $ROMFS ls -lR v2.romfs > ls.txt
    grep -q 'two.py' ls.txt
    $ROMFS cat v2.romfs d3/two.py > two.out
    cmp two.out app/d3/two.py
}

flash_with_base_writes_few_blocks() {
    make_tree app
    fresh_image app v1.romfs
    port=$($ROMFS sim --partition-size 1M --erase-block 4K --flash flash.bin --background \
        --pid-file sim.pid)
    trap 'kill "$(cat sim.pid)" 2>/dev/null' EXIT
    $ROMFS flash v1.romfs --port "$port" --no-reset -q
    grow app/d3/two.py
    $ROMFS flash app --base v1.romfs --port "$port" --no-reset --json > fl.json
    python3 - <<'EOF'
import json
d = json.load(open("fl.json"))
# the header block is always among the written ones
assert d["blocks_written"] <= 3, d
EOF
    $ROMFS pack app --base v1.romfs -o v2.romfs -q
    head -c "$(stat -c %s v2.romfs)" flash.bin > device.romfs
    same_bytes v2.romfs device.romfs
}

# MicroPython itself mounts the images (a unix port built in $MICROPYTHON_TREE).
micropython_reads_them() {
    mp="${MICROPYTHON_TREE:-}/ports/unix/build-standard/micropython"
    [ -n "${MICROPYTHON_TREE:-}" ] || skip "MICROPYTHON_TREE not set"
    [ -x "$mp" ] || skip "no unix port built in \$MICROPYTHON_TREE (ports/unix/build-standard)"
    cat > walk.py <<'EOF'
import sys, vfs, os, hashlib, binascii
vfs.mount(vfs.VfsRom(open(sys.argv[1], "rb").read()), "/rom")
def walk(d):
    for name, typ, _, size in sorted(os.ilistdir(d)):
        p = d + "/" + name
        if typ == 0x4000:
            walk(p)
        else:
            b = open(p, "rb").read()
            assert len(b) == size
            print(p[5:], size, binascii.hexlify(hashlib.sha256(b).digest()).decode())
walk("/rom")
EOF
    make_tree app
    $ROMFS pack app -o v1.romfs -q
    grow app/d3/two.py
    $ROMFS pack app --base v1.romfs -o v2.romfs -q   # patched
    mv app/d6 app/e6
    $ROMFS pack app --base v2.romfs -o v3.romfs -q   # rewritten
    for img in v2 v3; do
        "$mp" walk.py $img.romfs > $img.mp
        python3 "$PY_READER" $img.romfs | awk '$1 == "file" { print $2, $3, $5 }' | sort > $img.py
        sort $img.mp | diff - $img.py
        [ "$(wc -l < $img.mp)" = 200 ]
    done
}

t grown_file_changes_at_most_three_blocks
t grown_file_against_a_plain_image
t unchanged_tree_is_the_base
t file_removed_added_and_directory_renamed
t summary_says_what_was_kept
t bad_base_is_refused_by_name
t diff_info_and_ls_read_it
t flash_with_base_writes_few_blocks
t micropython_reads_them
