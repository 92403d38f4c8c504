#!/usr/bin/env bash
# mpremote's words: `romfs build` gives mpremote's bytes (tests/tools/romfs_oracle.py writes
# mpremote's rules), compiles .py when mpy-cross is on $PATH and warns when it is not;
# `romfs deploy` is `romfs flash`, finding the device as mpremote does.
. "$(dirname "$0")/lib.sh"
ORACLE="$ROMFS_SOURCE_DIR/tests/tools/romfs_oracle.py"
STANDIN="$ROMFS_SOURCE_DIR/tests/tools/mpy_cross_standin.py"
PY_DIR=$(dirname "$(command -v python3)")

make_tree() {
    mkdir -p "$1/lib" "$1/.git" "$1/empty"
    printf 'print("main")\n' > "$1/main.py"
    printf 'X = 1\n' > "$1/lib/util.py"
    printf 'precompiled' > "$1/lib/util.mpy"
    printf '' > "$1/empty.txt"
    printf 'ref: refs/heads/main\n' > "$1/.git/HEAD"      # mpremote excludes nothing
    head -c 129 /dev/zero > "$1/a~"
}

# A $PATH with python3 and, if asked, an mpy-cross; never a system mpy-cross.
path_with() {
    mkdir -p bin
    if [ "${1:-}" = mpy-cross ]; then
        ln -sf "$STANDIN" bin/mpy-cross
    fi
    echo "$PWD/bin:$PY_DIR:/usr/bin:/bin"
}

build_without_mpy_cross_is_mpremote_bytes_and_warns() {
    make_tree app
    p=$(path_with)
    PATH=$p command -v mpy-cross && fail "an mpy-cross is on the test PATH"
    PATH=$p expect_exit 0 $ROMFS build app
    expect_stderr "mpy-cross not found"
    expect_stderr "2 .py files"
    python3 "$ORACLE" app want.romfs
    same_bytes app.romfs want.romfs
    $ROMFS ls -R app.romfs > ls.txt
    grep -q 'main.py' ls.txt && grep -q '.git/HEAD' ls.txt || fail "$(cat ls.txt)"
}

build_no_mpy_is_quiet_and_o_names_the_output() {
    make_tree app
    p=$(path_with mpy-cross)
    PATH=$p expect_exit 0 $ROMFS build --no-mpy app -o out.romfs
    [ ! -s err.txt ] || fail "unexpected stderr: $(cat err.txt)"
    python3 "$ORACLE" app want.romfs
    same_bytes out.romfs want.romfs
    assert_file_absent app.romfs
}

build_compiles_with_mpy_cross_on_path() {
    make_tree app
    p=$(path_with mpy-cross)
    PATH=$p expect_exit 0 $ROMFS build -m app
    [ ! -s err.txt ] || fail "unexpected stderr: $(cat err.txt)"
    $ROMFS ls -R app.romfs > ls.txt
    grep -q 'main.mpy' ls.txt || fail "main.py not compiled: $(cat ls.txt)"
    ! grep -q 'main.py' ls.txt || fail "main.py packed as source: $(cat ls.txt)"
    # mpremote's rule: a .py with a .mpy beside it is packed as is, next to the .mpy
    grep -q 'lib/util.py' ls.txt || fail "lib/util.py left out: $(cat ls.txt)"
    [ "$($ROMFS cat app.romfs lib/util.mpy)" = precompiled ] || fail "lib/util.mpy replaced"
    # mpremote runs `mpy-cross app/main.py`: the .mpy records that name
    $ROMFS cat app.romfs main.mpy | grep -q 'source=app/main.py' || fail "not mpremote's source name"
    [ ! -e app/main.mpy ] || fail "the source tree was written to"
    # the rest is still mpremote's layout: no alignment, nothing excluded
    $ROMFS verify app.romfs -q
}

build_usage_errors() {
    expect_exit 2 $ROMFS build
    expect_stderr "DIR is missing"
    expect_exit 2 $ROMFS build no_such_dir
    assert_file_absent no_such_dir.romfs
    expect_exit 0 $ROMFS build --help
    expect_stdout "mpremote"
}

deploy_is_flash_without_board_or_port_needed() {
    port=$($ROMFS sim --partition-size 256K --erase-block 4K --flash flash.bin \
        --background --pid-file sim.pid)
    trap 'kill "$(cat sim.pid)" 2>/dev/null' EXIT
    make_tree app
    rm app/lib/util.mpy    # not a real .mpy: the device check would refuse it
    expect_exit 0 $ROMFS deploy app --port "$port" -q
    $ROMFS query --port "$port" --list > q.txt
    grep -q 'main.py' q.txt || fail "deployed tree not on the device: $(cat q.txt)"
    $ROMFS build --no-mpy app -q
    expect_exit 0 $ROMFS deploy app.romfs --port "$port"
    expect_stdout "app.romfs"
    $ROMFS query --port "$port" --list > q2.txt
    grep -q '.git/HEAD' q2.txt || fail "the built image is not on the device: $(cat q2.txt)"
    expect_exit 0 $ROMFS deploy --help
    expect_stdout "romfs deploy"
}

deploy_looks_for_the_board_itself() {
    # flash wants --board or --port; deploy, like mpremote, looks for the board on USB
    # (there is none here) instead of refusing its usage.
    make_tree app
    expect_exit 2 $ROMFS flash app
    expect_stderr "give --board BOARD, or --port PORT"
    ! $ROMFS deploy app > out.txt 2> err.txt || fail "deploy found a board on a test machine"
    ! grep -q "give --board" err.txt || fail "deploy refused like flash: $(cat err.txt)"
    grep -qi "board\|port\|device" err.txt || fail "no word about the missing board: $(cat err.txt)"
    cat err.txt
}

t build_without_mpy_cross_is_mpremote_bytes_and_warns
t build_no_mpy_is_quiet_and_o_names_the_output
t build_compiles_with_mpy_cross_on_path
t build_usage_errors
t deploy_is_flash_without_board_or_port_needed
t deploy_looks_for_the_board_itself
