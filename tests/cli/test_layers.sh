#!/usr/bin/env bash
# The architecture as ARCHITECTURE.md states it: lib/ folders include only the folders
# below them, private headers (*_internal.h) stay inside their folder, cli/ reaches lib/
# only through public headers, and no source file grows past the size a reader can hold.
. "$(dirname "$0")/lib.sh"
src() { cd "$ROMFS_SOURCE_DIR"; }

# folder: the folders it may include besides itself (ARCHITECTURE.md, "Layers").
allowed() {
    case $1 in
        base)      echo "" ;;
        format)    echo "base" ;;
        ld)        echo "base" ;;
        transport) echo "base" ;;
        image)     echo "format base" ;;
        boards)    echo "ld base" ;;
        plan)      echo "boards image ld format base" ;;
        out)       echo "boards ld base" ;;
        flash)     echo "plan transport boards image format base" ;;
        *)         echo "UNKNOWN" ;;
    esac
}

lib_folders_include_only_lower_layers() {
    src
    bad=0
    for f in lib/*/*.[ch]; do
        dir=$(basename "$(dirname "$f")")
        ok=$(allowed "$dir")
        [ "$ok" != UNKNOWN ] || { echo "$f: folder '$dir' is not in the layer table" >&2; bad=1; continue; }
        for inc in $(sed -n 's|^#include "\([a-z_]*\)/.*|\1|p' "$f" | sort -u); do
            [ "$inc" = "$dir" ] && continue
            case " $ok " in *" $inc "*) ;; *) echo "$f includes $inc/ (a $dir file may use: ${ok:-nothing})" >&2; bad=1 ;; esac
        done
    done
    [ $bad = 0 ]
}

private_headers_stay_in_their_folder() {
    src
    bad=0
    for f in $(git ls-files '*.c' '*.h'); do
        for inc in $(sed -n 's|^#include "\([a-z_]*/[a-z_0-9]*_internal\.h\)".*|\1|p' "$f"); do
            case "$f" in
                lib/"$(dirname "$inc")"/*) ;;
                tests/unit/*|tests/fuzz/*) ;;   # white-box tests may look inside
                *) echo "$f includes the private header $inc" >&2; bad=1 ;;
            esac
        done
    done
    [ $bad = 0 ]
}

lib_never_prints_or_exits() {
    src
    # lib/ returns data and errors; only cli/ talks to the user.
    ! git grep -nE '\b(printf|puts|perror|exit|abort)\(|\bstderr\b' -- 'lib/*.c' |
        grep -vE '^\S+:[0-9]+:\s*(/?\*|//)' | grep . >&2 ||
        fail "lib/ prints or exits (above)"
}

every_lib_source_is_built_and_small() {
    src
    for f in $(git ls-files 'lib/*.c' 'lib/*.h' 'cli/*.c' 'cli/*.h'); do
        n=$(wc -l < "$f")
        [ "$n" -le 850 ] || fail "$f has $n lines (keep files under about 800)"
    done
    [ -z "$(git ls-files 'lib/*.c' | grep -v '^lib/[a-z]*/[a-z_0-9]*\.c$')" ] ||
        fail "a lib/ source outside the layer folders"
}

t lib_folders_include_only_lower_layers
t private_headers_stay_in_their_folder
t lib_never_prints_or_exits
t every_lib_source_is_built_and_small
