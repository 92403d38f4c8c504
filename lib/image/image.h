/* image/image.h: image files on disk: load, extract safely, compare with a directory. */
#ifndef ROMFS_IMAGE_H
#define ROMFS_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "format/format.h"
#include "image/pack.h"

/* A whole image file in memory (mapped read-only, or read when it cannot be mapped;
 * "-" reads standard input). */
struct romfs_image_file {
    uint8_t *data;
    size_t size;
    int mapped;
};

/* Load path and open it as an image (romfs_image_open). Errors name the path. */
int romfs_image_load(const char *path, struct romfs_image_file *file, struct romfs_image *img,
                     struct romfs_error *err);
void romfs_image_file_close(struct romfs_image_file *file);

struct romfs_extract_stats {
    uint64_t dirs, files, bytes;
    uint64_t unchanged;     /* files already in dest with the image's bytes (not rewritten) */
};

struct romfs_extract_options {
    bool force;             /* replace existing regular files whose bytes differ */
};

/* Write the tree below `dir` (NULL: the whole image) into dest (created if missing);
 * opt may be NULL (no force). Everything is checked before anything is written, so a
 * refused image leaves dest as it was: names that are empty, ".", "..", or contain '/'
 * or NUL, and a name twice in one directory, are ROMFS_ERR_CORRUPT naming the path; an
 * existing file whose bytes differ is ROMFS_ERR_EXIST unless opt->force (an identical
 * one is left alone); a symlink, or a non-directory where a directory goes, is
 * ROMFS_ERR_EXIST even with force (symlinks are never followed, nothing is written
 * outside dest). Each file is written to a temporary name and renamed into place; if a
 * write fails (disk full), the files and directories this call created are removed. */
int romfs_extract(const struct romfs_image *img, const struct romfs_entry *dir, const char *dest,
                  const struct romfs_extract_options *opt, struct romfs_extract_stats *stats,
                  struct romfs_error *err);

/* Whether the image holds exactly the tree of `dir` as pack would read it with `opt`
 * (excludes; mpy-cross is not applied): the same directories, files and bytes. On a
 * difference returns ROMFS_ERR_MISMATCH: a count, then one line per differing path (up
 * to 32) saying what differs. */
int romfs_image_compare_dir(const struct romfs_image *img, const char *dir,
                            const struct romfs_pack_options *opt, struct romfs_error *err);

#endif
