# lib.sh: sourced by tests/cli/test_*.sh. Each test is a shell function run in a
# subshell with `set -e`; `t NAME` runs it and prints "PASS NAME" or "FAIL NAME".
# Any failing command fails the test, except a bare `! cmd` (bash never exits on a
# negated command): write `! cmd || fail "why"`.
#
# Environment from tests/run.sh: ROMFS (binary under test), ROMFS_SOURCE_DIR (repo).
set -u
: "${ROMFS:?ROMFS must name the romfs binary}"
: "${ROMFS_SOURCE_DIR:?}"
TESTS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/romfs-test.XXXXXX")
trap 'rm -rf "$TESTS_TMP"' EXIT
FIXTURES="$ROMFS_SOURCE_DIR/tests/fixtures"
PY_READER="$ROMFS_SOURCE_DIR/tests/tools/romfs_reader.py"

# t FUNCTION: run one test function, report it.
t() {
    local name=$1 log="$TESTS_TMP/$1.log"
    local dir="$TESTS_TMP/$1.d"
    mkdir -p "$dir"
    # Not inside `if` or `&&`: bash ignores set -e there, and every assertion but the
    # last would go unnoticed.
    (set -e; cd "$dir"; "$name") >"$log" 2>&1
    local rc=$?
    if [ "$rc" = 0 ]; then
        echo "PASS $name"
    else
        echo "FAIL $name"
        sed 's/^/    /' "$log" | tail -n 40
    fi
}

fail() { echo "assertion failed: $*" >&2; return 1; }

# expect_exit CODE CMD...: run CMD, require exit status CODE; its stderr is in $TESTS_ERR.
expect_exit() {
    local want=$1; shift
    local got=0
    "$@" >out.txt 2>err.txt || got=$?
    if [ "$got" != "$want" ]; then
        echo "expected exit $want, got $got from: $*" >&2
        sed 's/^/  stdout: /' out.txt >&2; sed 's/^/  stderr: /' err.txt >&2
        return 1
    fi
}

# expect_stderr TEXT: the last expect_exit's stderr contains TEXT.
expect_stderr() { grep -qF -- "$1" err.txt || { echo "stderr lacks '$1':" >&2; cat err.txt >&2; return 1; }; }
# expect_stdout TEXT: the last expect_exit's stdout contains TEXT.
expect_stdout() { grep -qF -- "$1" out.txt || { echo "stdout lacks '$1':" >&2; cat out.txt >&2; return 1; }; }

assert_eq() { [ "$1" = "$2" ] || fail "'$1' != '$2' ${3:-}"; }
assert_file_absent() { [ ! -e "$1" ] || fail "$1 exists but should not"; }
same_bytes() { cmp -s "$1" "$2" || fail "$1 and $2 differ"; }
