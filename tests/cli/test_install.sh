#!/usr/bin/env bash
# make install: binary, library, headers, pkg-config file and man page land under
# DESTDIR/PREFIX, and a program builds against libromfs with pkg-config alone.
. "$(dirname "$0")/lib.sh"

install_and_build_against_libromfs() {
    dest="$PWD/root"
    make -s -C "$ROMFS_SOURCE_DIR" BUILD="$ROMFS_BUILD" PREFIX=/usr DESTDIR="$dest" install >/dev/null
    [ -x "$dest/usr/bin/romfs" ] && [ -f "$dest/usr/lib/libromfs.a" ] || fail "binary or library missing"
    [ -f "$dest/usr/include/romfs/romfs.h" ] && [ -f "$dest/usr/share/man/man1/romfs.1" ] || fail "header or man page missing"
    "$dest/usr/bin/romfs" --version | grep -q '^romfs '
    man -l "$dest/usr/share/man/man1/romfs.1" 2>/dev/null | grep -q 'romfs pack' ||
        grep -q 'pack' "$dest/usr/share/man/man1/romfs.1"
    cat > prog.c <<'C'
#include <romfs.h>
#include <stdio.h>
/* Pack a directory into memory and list it back through the reader. */
static int show(void *ctx, const char *path, const struct romfs_entry *e, int depth)
{ (void)ctx; (void)depth; printf("%s %llu\n", path, (unsigned long long)e->data_size); return 0; }
int main(int argc, char **argv)
{
    struct romfs_pack_result res; struct romfs_error err; uint8_t *img = NULL;
    struct romfs_pack_options opt = { .align = 8 };
    if (argc < 2 || romfs_pack_dir(argv[1], NULL, &opt, &res, &img, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    struct romfs_image image;
    if (romfs_image_open(&image, img, res.output_size, &err) || romfs_image_walk(&image, NULL, show, NULL, &err)) return 1;
    romfs_pack_result_free(&res);
    return 0;
}
C
    export PKG_CONFIG_PATH="$dest/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest"
    cc -std=c11 -Wall -Werror prog.c $(pkg-config --cflags romfs) $(pkg-config --libs romfs) -o prog
    mkdir -p tree/sub; printf 'hello' > tree/sub/a.txt
    ./prog tree | grep -qx 'sub/a.txt 5'
}

# README's "Building against libromfs" program compiles as written against the
# installed library and runs without leaking (LeakSanitizer), success and failure.
readme_library_example_builds_and_does_not_leak() {
    dest="$PWD/root"
    make -s -C "$ROMFS_SOURCE_DIR" BUILD="$ROMFS_BUILD" PREFIX=/usr DESTDIR="$dest" install >/dev/null
    sed -n '/^## Building against libromfs/,/^## /p' "$ROMFS_SOURCE_DIR/README.md" |
        sed -n '/^```c$/,/^```$/p' | sed '1d;$d' > app.c
    grep -q 'romfs_pack_dir' app.c || fail "no romfs_pack_dir example in README.md"
    export PKG_CONFIG_PATH="$dest/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest"
    cc -std=c11 -Wall -Wextra -Werror -g -fsanitize=address app.c \
        $(pkg-config --cflags romfs) $(pkg-config --libs romfs) -o app
    mkdir -p app.d/app/lib; printf 'print(1)\n' > app.d/app/main.py; printf 'x' > app.d/app/lib/a.txt
    (cd app.d && ASAN_OPTIONS=detect_leaks=1:exitcode=86 ../app) > out.txt 2> err.txt ||
        fail "README example failed: $(cat err.txt)"
    grep -q '^2 files in ' out.txt || fail "$(cat out.txt)"
    "$ROMFS" verify app.d/app.romfs --against app.d/app -q
    # failure path: no app/ here
    rc=0; (cd app.d/app/lib && ASAN_OPTIONS=detect_leaks=1:exitcode=86 ../../../app) 2> err2.txt || rc=$?
    assert_eq "$rc" 1 "$(cat err2.txt)"
    grep -q 'app' err2.txt || fail "$(cat err2.txt)"
}

t install_and_build_against_libromfs
t readme_library_example_builds_and_does_not_leak
