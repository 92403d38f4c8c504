# lib.sh: sourced by tests/cli/test_*.sh. Each test is a shell function run in a
# subshell with `set -e -o pipefail`; `t NAME` runs it and prints "PASS NAME",
# "FAIL NAME" or "SKIP NAME: reason". Any failing command fails the test, also one
# left of a pipe, except a bare `! cmd` (bash never exits on a negated command):
# write `! cmd || fail "why"`. A command inside `[ "$(cmd)" = ... ]` or `local x=$(cmd)`
# is not checked by set -e: assign first (`x=$(cmd)`), then compare.
# A test that cannot run here calls `skip "reason"`: it is reported and counted as a
# skip, never as a pass. The script exits non-zero if any test failed.
#
# Environment from tests/run.sh: ROMFS (binary under test), ROMFS_SOURCE_DIR (repo).
set -u
set -o pipefail
: "${ROMFS:?ROMFS must name the romfs binary}"
: "${ROMFS_SOURCE_DIR:?}"
TESTS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/romfs-test.XXXXXX")
TESTS_FAILED=0
trap 'rm -rf "$TESTS_TMP"; [ "$TESTS_FAILED" = 0 ] || exit 1' EXIT
FIXTURES="$ROMFS_SOURCE_DIR/tests/fixtures"
# mpy-cross's outputs are cached in $XDG_CACHE_HOME/romfs/mpy: the tests' own, not the user's
export XDG_CACHE_HOME="$TESTS_TMP/xdg-cache"
PY_READER="$ROMFS_SOURCE_DIR/tests/tools/romfs_reader.py"

# t FUNCTION: run one test function, report it.
t() {
    local name=$1 log="$TESTS_TMP/$1.log"
    local dir="$TESTS_TMP/$1.d"
    mkdir -p "$dir"
    export TESTS_SKIP_FILE="$TESTS_TMP/$1.skip"
    # Not inside `if` or `&&`: bash ignores set -e there, and every assertion but the
    # last would go unnoticed.
    (set -e -o pipefail; cd "$dir"; "$name") >"$log" 2>&1
    local rc=$?
    if [ "$rc" = 0 ]; then
        echo "PASS $name"
    elif [ "$rc" = 77 ] && [ -s "$TESTS_SKIP_FILE" ]; then
        echo "SKIP $name: $(head -n 1 "$TESTS_SKIP_FILE")"
    else
        TESTS_FAILED=$((TESTS_FAILED + 1))
        echo "FAIL $name (exit status $rc)"
        sed 's/^/    /' "$log" | tail -n 40
    fi
}

fail() { echo "assertion failed: $*" >&2; return 1; }

# skip REASON: end the current test as skipped (it cannot run here: a tool or module
# is missing). Counted and shown with its reason by tests/run.sh, never as a pass.
skip() { echo "$*" > "$TESTS_SKIP_FILE"; exit 77; }

# expect_exit CODE CMD...: run CMD, require exit status CODE; its stdout is in out.txt,
# its stderr in err.txt.
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
