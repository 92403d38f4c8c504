#!/bin/sh
# deps.sh install|ensure PACKAGE...
#   install: install every listed Debian package that is missing.
#   ensure:  the same, but says nothing when all are present (used by make test/demo).
set -u
mode=$1; shift

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    if [ "$mode" = ensure ]; then
        echo "romfs: not a Debian-like system; cannot check packages, building with what is installed" >&2
        exit 0
    fi
    echo "romfs: 'make deps' installs Debian packages with apt-get, which this system lacks." >&2
    echo "Install the equivalents of: $*" >&2
    exit 1
fi

missing=""
for p in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done

if [ -z "$missing" ]; then
    [ "$mode" = install ] && echo "romfs: all build, test and demo packages are installed"
    exit 0
fi

echo "romfs: installing missing Debian packages:$missing"
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "romfs: not root and no sudo; run as root: apt-get install$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null || { echo "romfs: apt-get update failed" >&2; exit 1; }
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
    { echo "romfs: apt-get install$missing failed" >&2; exit 1; }
echo "romfs: installed$missing"
