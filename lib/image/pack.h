/* image/pack.h: pack a directory tree into a ROMFS image file.
 *
 * Walks the directory (sizes first), optionally compiles .py to .mpy with the mpy-cross
 * program into a private temporary directory (the source tree is never written), lays
 * the image out and streams file contents into OUT.tmp, then renames it to OUT. On any
 * failure no OUT (and no temporary) is left behind. Output bytes depend only on the
 * tree's names and contents and the options: not on mtimes, inode order, umask or locale. */
#ifndef ROMFS_PACK_H
#define ROMFS_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"
#include "base/error.h"
#include "image/stable.h"

struct romfs_align_rule {
    const char *glob;    /* fnmatch(3) pattern, matched against the path below DIR
                            ("lib/x.bin") and, if it has no '/', against the base name */
    uint32_t align;      /* power of two */
};

/* Default excludes, documented in `romfs pack --help`. NULL-terminated. */
extern const char *const romfs_default_excludes[];

struct romfs_pack_options {
    uint32_t align;                            /* data alignment, power of two; 0 means 4 */
    const struct romfs_align_rule *align_rules; /* later rules win */
    size_t n_align_rules;
    const char *const *excludes;               /* globs, as for align rules; a matching
                                                  directory is skipped whole */
    size_t n_excludes;
    bool no_default_excludes;
    const char *mpy_cross;                     /* NULL: off; else the program to run */
    bool keep_py_beside_mpy;                   /* with mpy_cross: a .py with a .mpy beside it
                                                  is packed as that .py, uncompiled, next to
                                                  the .mpy (mpremote's rule), instead of
                                                  being left out */
    bool mpy_name_is_path;                     /* with mpy_cross: the source name recorded
                                                  in each .mpy (-s) is the path mpy-cross
                                                  reads, DIR/lib/x.py, as in mpremote's
                                                  call, not the path below DIR (lib/x.py) */
    const char *const *mpy_cross_args;
    size_t n_mpy_cross_args;
    const char *mpy_cache;                     /* with mpy_cross: a folder (created when
                                                  missing) keeping each compiled .mpy under
                                                  the SHA-256 of its .py's bytes, its source
                                                  name, and mpy-cross's program, --version
                                                  and arguments, so an unchanged .py is not
                                                  compiled again; NULL: none. Entries are
                                                  written atomically and checked by their
                                                  own hash (a damaged one is compiled anew) */
    unsigned jobs;                             /* parallel compiles; 0 = online CPUs */
    uint64_t pad_to;                           /* pad image with 0xff to a multiple; 0 = no */
    uint64_t size_limit;                       /* fail if the image is larger; 0 = none */
    const char *base;                          /* the image this one replaces: lay out
                                                  against it (image/stable.h) so unchanged
                                                  data keeps its offsets; NULL: the plain
                                                  (mpremote) layout */
    const uint8_t *base_image;                 /* the same in memory, base_image_size bytes
                                                  (wins over base, which then only names
                                                  it); NULL: none */
    size_t base_image_size;
    bool digest;                               /* compute result->sha256 of the output */
    bool file_digests;                         /* compute each file_list[i].sha256 */
    bool to_fd;                                /* write to out_fd instead of out_path (a pipe:
                                                  no temp file; on failure the stream is cut) */
    int out_fd;
    /* Called for every entry in image order once the layout is known (for --tree);
       may be NULL. `note` is the source .py's name for a file compiled by mpy-cross,
       else NULL. */
    void (*on_entry)(void *ctx, const char *path, const char *name, int depth, bool is_dir,
                     bool is_last, uint64_t size, const char *note);
    void *on_entry_ctx;
};

struct romfs_packed_file {
    char *path;                  /* path in the image, '/'-separated, no leading slash */
    uint64_t size;
    uint64_t data_offset;        /* from image start */
    uint32_t align;              /* alignment the image asked for */
    uint8_t sha256[ROMFS_SHA256_SIZE]; /* if options.file_digests */
    char *source;                /* path of the source below DIR (the .py for a compiled .mpy) */
};

struct romfs_pack_result {
    uint64_t files, dirs, data_bytes;
    uint64_t image_size;          /* the image record itself */
    uint64_t output_size;         /* bytes written, including --pad-to padding */
    uint64_t compiled;            /* .py files compiled to .mpy */
    uint64_t mpy_cached;          /* ... of which taken from options.mpy_cache */
    uint8_t sha256[ROMFS_SHA256_SIZE];   /* of the output's bytes, if options.digest */
    struct romfs_packed_file *file_list; /* in image order */
    size_t n_files;
    bool used_base;                      /* options.base was given */
    struct romfs_stable_summary base;    /* then: what the layout kept and wrote */
};

/* Pack `dir` into `out_path` (or into memory if out_path is NULL and out_image is non-NULL:
 * *out_image receives a malloc'd copy of the output). Returns ROMFS_OK or an error naming
 * the path: ROMFS_ERR_NOENT/NOTDIR for DIR, ROMFS_ERR_INVAL for bad names or OUT inside
 * DIR, ROMFS_ERR_UNSUPPORTED for FIFOs/sockets/devices, ROMFS_ERR_CORRUPT for a symlink
 * loop, ROMFS_ERR_MISMATCH for a file that changed size, ROMFS_ERR_FBIG over size_limit,
 * ROMFS_ERR_TOOL for mpy-cross failures (message has file:line), ROMFS_ERR_NOSPC;
 * with options.base, ROMFS_ERR_NOENT/IO for that file and ROMFS_ERR_CORRUPT naming it
 * when it is not a valid ROMFS image. The base's bytes are read before OUT is written,
 * so OUT may be the base itself.
 * *result is cleared first and must be released with romfs_pack_result_free, which is
 * safe after a failure too. */
int romfs_pack_dir(const char *dir, const char *out_path, const struct romfs_pack_options *opt,
                   struct romfs_pack_result *result, uint8_t **out_image,
                   struct romfs_error *err);

void romfs_pack_result_free(struct romfs_pack_result *result);

/* The mpy-cross cache's usual folder: $XDG_CACHE_HOME/romfs/mpy, else
 * $HOME/.cache/romfs/mpy, into buf; NULL when neither variable is set (or buf is short). */
const char *romfs_mpy_cache_default(char *buf, size_t cap);

/* Whether packing with opt leaves out the entry rel (a path below DIR, '/'-separated):
 * it, or its base name, matches a default or an --exclude glob. A directory left out is
 * left out whole. */
bool romfs_pack_excludes(const struct romfs_pack_options *opt, const char *rel);

/* Whether `program` can be run: a path that is executable, or a name found on $PATH
 * (as for romfs_pack_options.mpy_cross). */
bool romfs_program_available(const char *program);

#endif
