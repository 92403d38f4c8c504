#!/usr/bin/env bash
# romfs pack: trees, alignment, determinism, round trips, and every kind of bad input.
. "$(dirname "$0")/lib.sh"

# A tree with nested and empty dirs, empty and binary files.
make_app() {
    mkdir -p "$1/lib/pkg" "$1/empty_dir" "$1/assets"
    printf 'import pkg\nprint("hi")\n' > "$1/main.py"
    printf '' > "$1/empty.txt"
    printf 'X = 1\n' > "$1/lib/pkg/__init__.py"
    head -c 3000 /dev/urandom > "$1/assets/logo.bin"
    head -c 77 /dev/urandom > "$1/assets/odd.bin"
}

# no stray temporaries or outputs next to OUT
no_partial_output() {
    assert_file_absent "$1"
    ! ls "$1".tmp-* >/dev/null 2>&1 || fail "temporary file left: $(ls "$1".tmp-*)"
}

pack_default_name_and_read_back() {
    make_app app
    $ROMFS pack app -q
    [ -f app.romfs ] || fail "app.romfs not written"
    python3 "$PY_READER" app.romfs --check-align 4 > listing
    grep -q '^file main.py ' listing
    grep -q '^dir empty_dir$' listing
    grep -q '^file empty.txt 0 ' listing
    $ROMFS verify app.romfs --against app -q
}

round_trip_extract_identical() {
    make_app app
    head -c $((4 * 1024 * 1024)) /dev/urandom > app/assets/big.bin
    $ROMFS pack app -o app.romfs -q
    $ROMFS extract app.romfs out -q
    diff -r app out
    python3 "$PY_READER" app.romfs --extract out2
    diff -r app out2
}

names_255_bytes_and_utf8() {
    mkdir src
    long=$(printf 'n%.0s' $(seq 1 255))
    printf 'long' > "src/$long"
    printf 'u' > "src/grüße-été.txt"
    $ROMFS pack src -o s.romfs -q
    $ROMFS extract s.romfs out -q
    diff -r src out
    got=$($ROMFS cat s.romfs "$long")
    [ "$got" = long ]
}

thousand_entries_in_one_dir() {
    mkdir src
    for i in $(seq 1 1000); do printf '%d' "$i" > "src/f$i"; done
    $ROMFS pack src -o s.romfs -q
    $ROMFS ls s.romfs > ls.txt
    [ "$(wc -l < ls.txt)" = 1000 ]
    python3 "$PY_READER" s.romfs > listing
    [ "$(grep -c '^file ' listing)" = 1000 ]
    # sorted by name bytes: f1, f10, f100, f1000, f101 ...
    head -4 ls.txt | tr '\n' ' ' | grep -q '^f1 f10 f100 f1000 '
}

every_alignment_honoured() {
    make_app app
    for a in 1 2 4 8 16 64 256 4096; do
        $ROMFS pack app -o a$a.romfs --align $a -q
        python3 "$PY_READER" a$a.romfs --check-align $a > /dev/null
        $ROMFS verify a$a.romfs --against app -q
    done
    $ROMFS info a4096.romfs --json > info.json
    python3 -c 'import json,sys; assert json.load(open("info.json"))["min_data_alignment"] >= 4096'
}

align_rules_per_file() {
    make_app app
    $ROMFS pack app -o r.romfs --align 2 --align-rule '*.bin=4096' --align-rule 'assets/odd.bin=512' -q
    $ROMFS ls -l r.romfs assets > l
    off_logo=$(awk '/logo.bin/ {print $3}' l); off_odd=$(awk '/odd.bin/ {print $3}' l)
    [ $((off_logo % 4096)) = 0 ] || fail "logo.bin at $off_logo"
    [ $((off_odd % 512)) = 0 ] || fail "odd.bin at $off_odd"
    [ $((off_odd % 4096)) != 0 ] || [ $((off_odd % 512)) = 0 ]
    python3 "$PY_READER" r.romfs --check-align 2 > /dev/null
    expect_exit 2 $ROMFS pack app -o x.romfs --align-rule '*.bin=3'
    expect_stderr "power of two"
    expect_exit 2 $ROMFS pack app -o x.romfs --align 12
    no_partial_output x.romfs
}

deterministic_whatever_mtime_order_umask_locale() {
    mkdir a b
    for f in z y x; do printf "$f" > a/$f; done; mkdir a/d; printf q > a/d/q
    for f in x d y z; do if [ $f = d ]; then mkdir b/d; printf q > b/d/q; else printf "$f" > b/$f; fi; done
    touch -d '2001-01-01' b/x b/d
    (umask 077; LC_ALL=C $ROMFS pack a -o a.romfs --reproducible -q)
    (umask 000; LC_ALL=C.UTF-8 $ROMFS pack b -o b.romfs -q)
    same_bytes a.romfs b.romfs
}

default_excludes_and_exclude() {
    make_app app
    mkdir -p app/.git app/lib/__pycache__
    printf x > app/.git/HEAD; printf x > app/lib/__pycache__/m.pyc; printf x > app/notes.txt~
    $ROMFS pack app -o a.romfs --exclude 'assets' -q
    $ROMFS ls -R a.romfs > a.txt
    grep -q '^main.py$' a.txt || fail "a.romfs lists no main.py"
    ! grep -E '\.git|__pycache__|~$|assets' a.txt || fail "excluded entries packed"
    $ROMFS pack app -o b.romfs --no-default-excludes -q
    $ROMFS ls -R b.romfs > b.txt
    grep -q '^.git/HEAD$' b.txt
}

tree_json_and_manifest() {
    make_app app
    $ROMFS pack app -o a.romfs --tree > tree.txt
    grep -q '^|-- assets/$' tree.txt
    grep -q '^\\-- main.py$' tree.txt
    $ROMFS pack app -o a.romfs --json --manifest m.json > s.json
    python3 - a.romfs s.json m.json <<'PY'
import hashlib, json, sys
img = open(sys.argv[1], 'rb').read()
s = json.load(open(sys.argv[2])); m = json.load(open(sys.argv[3]))
assert s['image_bytes'] == len(img), s
assert s['sha256'] == hashlib.sha256(img).hexdigest()
assert s['files'] == 5 and s['dirs'] == 4, s
assert s['data_bytes'] + s['overhead'] == s['image_bytes']
for f in m['files']:
    data = img[f['offset']:f['offset'] + f['size']]
    assert hashlib.sha256(data).hexdigest() == f['sha256'], f
    assert f['offset'] % f['align'] == 0 or f['size'] == 0
assert [f['path'] for f in m['files']] == sorted(f['path'] for f in m['files'])
PY
}

pad_to_and_size_limit() {
    make_app app
    $ROMFS pack app -o p.romfs --pad-to 4K -q
    [ $(($(stat -c %s p.romfs) % 4096)) = 0 ]
    $ROMFS verify p.romfs -q
    $ROMFS info p.romfs --json > info.json
    size=$(python3 -c 'import json,sys; print(json.load(open("info.json"))["image_bytes"])')
    tail -c +$((size + 1)) p.romfs | tr -d '\377' | wc -c | grep -qx 0
    expect_exit 1 $ROMFS pack app -o s.romfs --size-limit 1000
    expect_stderr "over the size limit"
    no_partial_output s.romfs
}

stdout_output() {
    make_app app
    $ROMFS pack app -o - -q > s.romfs
    $ROMFS pack app -o f.romfs -q
    same_bytes s.romfs f.romfs
}

symlinks_followed_and_loops_refused() {
    make_app app
    ln -s main.py app/alias.py
    ln -s lib app/lib2
    $ROMFS pack app -o a.romfs -q
    $ROMFS cat a.romfs alias.py > alias.out
    same_bytes alias.out app/main.py
    $ROMFS ls a.romfs lib2/pkg > ls.txt
    grep -qx '__init__.py' ls.txt
    ln -s .. app/lib/up
    expect_exit 2 $ROMFS pack app -o b.romfs
    expect_stderr "symlink loop"
    expect_stderr "app/lib/up"
    no_partial_output b.romfs
    rm app/lib/up; ln -s nowhere app/dangling
    expect_exit 2 $ROMFS pack app -o b.romfs
    expect_stderr "app/dangling"
    no_partial_output b.romfs
}

bad_dir_arguments() {
    expect_exit 2 $ROMFS pack missing -o x.romfs
    expect_stderr "missing"
    printf x > file
    expect_exit 2 $ROMFS pack file -o x.romfs
    expect_stderr "not a directory"
    no_partial_output x.romfs
    make_app app
    expect_exit 2 $ROMFS pack app -o app/lib/self.romfs
    expect_stderr "inside the source directory"
    no_partial_output app/lib/self.romfs
    expect_exit 2 $ROMFS pack app -o no/such/dir/x.romfs
    expect_exit 2 $ROMFS pack
    expect_stderr "DIR is missing"
}

special_files_refused() {
    make_app app
    mkfifo app/fifo
    expect_exit 2 $ROMFS pack app -o x.romfs
    expect_stderr "app/fifo is a FIFO"
    no_partial_output x.romfs
    rm app/fifo
    python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' app/sock
    expect_exit 2 $ROMFS pack app -o x.romfs
    expect_stderr "is a socket"
    rm app/sock
    ln -s /dev/null app/dev
    expect_exit 2 $ROMFS pack app -o x.romfs
    expect_stderr "character device"
    no_partial_output x.romfs
}

invalid_utf8_name_refused() {
    make_app app
    printf x > "app/bad$(printf '\377')name"
    expect_exit 2 $ROMFS pack app -o x.romfs
    expect_stderr "not valid UTF-8"
    no_partial_output x.romfs
}

unreadable_file_and_dir() {
    chmod 755 "$TESTS_TMP"   # the unprivileged user must reach the test directory
    make_app app
    chmod 000 app/assets/logo.bin
    chmod 755 . ; chmod -R a+rX app 2>/dev/null || true; chmod 000 app/assets/logo.bin
    run=( )
    [ "$(id -u)" = 0 ] && run=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    mkdir -m 777 out
    expect_exit 2 "${run[@]}" $ROMFS pack app -o out/x.romfs
    expect_stderr "app/assets/logo.bin"
    no_partial_output out/x.romfs
    chmod 644 app/assets/logo.bin; chmod 000 app/lib
    expect_exit 2 "${run[@]}" $ROMFS pack app -o out/x.romfs
    expect_stderr "app/lib"
    no_partial_output out/x.romfs
    chmod 755 app/lib
}

disk_full() {
    make_app app
    head -c 200000 /dev/urandom > app/assets/big.bin
    expect_exit 1 sh -c '"$0" pack app -o - > /dev/full' "$ROMFS"
    expect_stderr "No space left"
    mkdir small
    if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=64k tmpfs small 2>/dev/null; then
        st=0; $ROMFS pack app -o small/x.romfs 2>err.txt || st=$?
        ls -a small > left; umount small
        [ "$st" = 1 ] || fail "exit $st on a full disk"
        grep -q "No space left" err.txt || fail "$(cat err.txt)"
        ! grep -q 'x.romfs' left || fail "partial output left: $(cat left)"
    fi
}

mpy_cross_missing_is_clear() {
    make_app app
    expect_exit 1 $ROMFS pack app -o x.romfs --mpy-cross=/nonexistent/mpy-cross
    expect_stderr "not found"
    no_partial_output x.romfs
}

# mpy-cross's command-line contract (-o OUT -s NAME SRC, exit status, message naming
# file and line) stood in for by tests/tools/mpy_cross_standin.py.
mpy_cross_compiles_in_parallel_without_touching_source() {
    make_app app
    printf 'Y = 2\n' > app/lib/pkg/util.py
    printf 'precompiled' > app/lib/pkg/util.mpy
    cp -r app app.orig
    $ROMFS pack app -o a.romfs --tree --mpy-cross="$ROMFS_SOURCE_DIR/tests/tools/mpy_cross_standin.py" \
        --mpy-cross-arg=-march=armv6m -j 2 > tree.txt
    diff -r app app.orig   # the source tree is never written
    grep -q 'main.py -> main.mpy' tree.txt
    $ROMFS ls -R a.romfs > l
    grep -qx 'main.mpy' l; ! grep -q 'main.py' l || fail "main.py packed uncompiled"
    grep -qx 'lib/pkg/__init__.mpy' l
    # a .mpy beside a .py wins: packed as is, the .py left out
    got=$($ROMFS cat a.romfs lib/pkg/util.mpy)
    [ "$got" = precompiled ]
    ! grep -qx 'lib/pkg/util.py' l || fail "util.py packed beside its .mpy"
    # the stand-in records its arguments and the source name in its output
    $ROMFS cat a.romfs main.mpy > main.mpy
    grep -q 'arch=armv6m source=main.py' main.mpy
}

mpy_cross_error_names_file_and_line() {
    make_app app
    printf 'def broken(:\n' > app/lib/pkg/bad.py
    expect_exit 1 $ROMFS pack app -o x.romfs --mpy-cross="$ROMFS_SOURCE_DIR/tests/tools/mpy_cross_standin.py"
    expect_stderr 'lib/pkg/bad.py'
    expect_stderr 'line 1'
    no_partial_output x.romfs
}

# count-mpy-cross: the stand-in behind a wrapper that logs every compile (its -o call;
# the --version question is not a compile) to compiles.log.
counting_mpy_cross() {
    cat > count-mpy-cross <<EOF
#!/bin/sh
case " \$* " in *" -o "*) echo "\$*" >> "$PWD/compiles.log" ;; esac
exec python3 "$ROMFS_SOURCE_DIR/tests/tools/mpy_cross_standin.py" "\$@"
EOF
    chmod +x count-mpy-cross
    : > compiles.log
}

compiles() { wc -l < compiles.log | tr -d ' '; }

mpy_cache_compiles_only_what_changed() {
    make_app app
    printf 'A = 1\n' > app/a.py
    printf 'B = 1\n' > app/lib/b.py
    counting_mpy_cross
    mc=(--mpy-cross="$PWD/count-mpy-cross" --mpy-cache "$PWD/cache")
    $ROMFS pack app -o 1.romfs "${mc[@]}" -q
    [ "$(compiles)" = 4 ] || fail "first pack: $(compiles) compiles"
    : > compiles.log
    $ROMFS pack app -o 2.romfs "${mc[@]}" -q
    [ "$(compiles)" = 0 ] || fail "unchanged tree: $(cat compiles.log)"
    cmp 1.romfs 2.romfs
    # one .py changed: one compile, and the image a pack without the cache makes
    printf 'A = 2\n' > app/a.py
    : > compiles.log
    $ROMFS pack app -o 3.romfs "${mc[@]}" --json > j
    [ "$(compiles)" = 1 ] && grep -q ' app/a.py$' compiles.log || fail "$(cat compiles.log)"
    grep -q '"compiled":[[:space:]]*4' j && grep -q '"mpy_cached":[[:space:]]*3' j || fail "$(cat j)"
    : > compiles.log
    $ROMFS pack app -o 4.romfs --mpy-cross="$PWD/count-mpy-cross" --no-mpy-cache -q
    [ "$(compiles)" = 4 ]
    cmp 3.romfs 4.romfs
    # mpy-cross's arguments are part of the key; so is the source name each .mpy records
    : > compiles.log
    $ROMFS pack app -o 5.romfs "${mc[@]}" --mpy-cross-arg=-march=armv6m -q
    [ "$(compiles)" = 4 ] || fail "another -march reused: $(compiles) compiles"
    mv app/a.py app/c.py
    : > compiles.log
    $ROMFS pack app -o 6.romfs "${mc[@]}" -q
    [ "$(compiles)" = 1 ] && grep -q ' app/c.py$' compiles.log || fail "$(cat compiles.log)"
    $ROMFS cat 6.romfs c.mpy | grep -q 'source=c.py'
}

mpy_cache_damaged_entries_are_compiled_anew() {
    make_app app
    printf 'A = 1\n' > app/a.py
    printf 'B = 1\n' > app/lib/b.py
    counting_mpy_cross
    mc=(--mpy-cross="$PWD/count-mpy-cross" --mpy-cache "$PWD/cache")
    $ROMFS pack app -o good.romfs "${mc[@]}" -q
    mapfile -t entries < <(find cache -type f | sort)
    [ "${#entries[@]}" = 4 ] || fail "${#entries[@]} cache entries"
    # a torn write, a flipped bit, foreign bytes of the same length
    truncate -s -3 "${entries[0]}"
    python3 -c 'import sys; p=sys.argv[1]; d=bytearray(open(p,"rb").read()); d[-1]^=1; open(p,"wb").write(d)' "${entries[1]}"
    head -c "$(stat -c %s "${entries[2]}")" /dev/urandom > "${entries[2]}"
    : > compiles.log
    $ROMFS pack app -o again.romfs "${mc[@]}" -q
    [ "$(compiles)" = 3 ] || fail "$(compiles) compiles after three entries were damaged"
    cmp good.romfs again.romfs
    # stored anew: the next pack compiles nothing
    : > compiles.log
    $ROMFS pack app -o third.romfs "${mc[@]}" -q
    [ "$(compiles)" = 0 ] || fail "$(cat compiles.log)"
    cmp good.romfs third.romfs
    # two packs at once share the folder (entries are renamed into place whole)
    rm -rf cache
    $ROMFS pack app -o p1.romfs "${mc[@]}" -q & p1=$!
    $ROMFS pack app -o p2.romfs "${mc[@]}" -q & p2=$!
    wait "$p1"; wait "$p2"
    cmp good.romfs p1.romfs
    cmp good.romfs p2.romfs
    ! find cache -name '*.tmp-*' | grep . || fail "temporary files left in the cache"
}

mpy_cache_lives_in_the_usual_folder_unless_told() {
    make_app app
    counting_mpy_cross
    XDG_CACHE_HOME="$PWD/xdg" $ROMFS pack app -o a.romfs --mpy-cross="$PWD/count-mpy-cross" -q
    [ "$(find xdg/romfs/mpy -type f | wc -l)" = 2 ] || fail "$(find xdg)"
    (unset XDG_CACHE_HOME; HOME="$PWD/home" $ROMFS pack app -o b.romfs --mpy-cross="$PWD/count-mpy-cross" -q)
    [ "$(find home/.cache/romfs/mpy -type f | wc -l)" = 2 ] || fail "$(find home)"
    (unset XDG_CACHE_HOME; HOME="$PWD/home2" $ROMFS pack app -o c.romfs --mpy-cross="$PWD/count-mpy-cross" --no-mpy-cache -q)
    [ ! -e home2 ] || fail "--no-mpy-cache wrote $(find home2)"
}

align_1_matches_golden_image() {
    # A golden image worked out from mpremote's rules (tests/tools/romfs_oracle.py writes
    # the same bytes; test_pack_oracle.py compares thousands of random trees).
    $ROMFS pack "$FIXTURES/pack/tree" -o g.romfs --align 1 -q
    same_bytes g.romfs "$FIXTURES/pack/tree.align1.romfs"
}

mpremote_identical_with_align_1() {
    # MicroPython's own builder: tools/mpremote/mpremote/romfs.py of MICROPYTHON_TREE.
    make_app app
    python3 - "$MICROPYTHON_TREE/tools/mpremote/mpremote" app m.romfs <<'PY'
import contextlib, io, sys
sys.path.insert(0, sys.argv[1]); import romfs
with contextlib.redirect_stdout(io.StringIO()):
    data = romfs.make_romfs(sys.argv[2], mpy_cross=False)
open(sys.argv[3], 'wb').write(data)
PY
    $ROMFS pack app -o r.romfs --align 1 -q
    same_bytes m.romfs r.romfs
}

pack_checks_against_a_board() {
    make_app app
    export ROMFS_BOARDS="$FIXTURES/check/boards.json"
    $ROMFS pack app -o ok.romfs --board FIX_NRF52840 -q
    $ROMFS verify ok.romfs --against app -q
    expect_exit 1 $ROMFS pack app -o big.romfs --board FIX_TINY
    expect_stderr "FIX_TINY"
    expect_stderr "bytes more than"
    no_partial_output big.romfs
    expect_exit 2 $ROMFS pack app -o x.romfs --board NO_SUCH_BOARD
    no_partial_output x.romfs
}

pack_writes_dfu_uf2_hex_at_the_partition() {
    make_app app
    $ROMFS pack app -o a.romfs --address 0x08020000 --dfu a.dfu --hex a.hex -q
    dfu-suffix --check a.dfu > /dev/null
    arm-none-eabi-objcopy -I ihex -O binary a.hex a.bin
    same_bytes a.bin a.romfs
    arm-none-eabi-objcopy -I ihex -O srec a.hex a.srec
    grep -q '^S3..08020000' a.srec || fail "hex not placed at 0x08020000: $(head -2 a.srec)"
    expect_exit 2 $ROMFS pack app -o b.romfs --uf2 b.uf2
    expect_stderr "need --board or --address"
    no_partial_output b.romfs
}

t pack_default_name_and_read_back
t pack_checks_against_a_board
t pack_writes_dfu_uf2_hex_at_the_partition
t round_trip_extract_identical
t names_255_bytes_and_utf8
t thousand_entries_in_one_dir
t every_alignment_honoured
t align_rules_per_file
t deterministic_whatever_mtime_order_umask_locale
t default_excludes_and_exclude
t tree_json_and_manifest
t pad_to_and_size_limit
t stdout_output
t symlinks_followed_and_loops_refused
t bad_dir_arguments
t special_files_refused
t invalid_utf8_name_refused
t unreadable_file_and_dir
t disk_full
t mpy_cross_missing_is_clear
t mpy_cross_compiles_in_parallel_without_touching_source
t mpy_cross_error_names_file_and_line
t mpy_cache_compiles_only_what_changed
t mpy_cache_damaged_entries_are_compiled_anew
t mpy_cache_lives_in_the_usual_folder_unless_told
t align_1_matches_golden_image
if [ -n "${MICROPYTHON_TREE:-}" ] && [ -f "$MICROPYTHON_TREE/tools/mpremote/mpremote/romfs.py" ]; then
    t mpremote_identical_with_align_1
else
    echo "SKIP mpremote_identical_with_align_1: MICROPYTHON_TREE not set"
fi
