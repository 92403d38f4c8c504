/* image/diff.h: which files differ between two ROMFS images (for `romfs diff`).
 *
 * Both images are verified strictly (romfs_image_verify), walked, and their entries
 * matched by full path. A file is "changed" when its content differs (compared by
 * SHA-256), whatever its offset or alignment in either image. An entry whose type
 * changed (file <-> directory) counts as removed and added. Entries come out sorted by
 * path bytes. Image-level differences that change no file (layout, alignment, padding,
 * a signature record) are reported separately in layout_differs / *_signed. */
#ifndef ROMFS_DIFF_H
#define ROMFS_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"
#include "base/error.h"

enum romfs_diff_change {
    ROMFS_DIFF_ADDED = 1,     /* only in B */
    ROMFS_DIFF_REMOVED = 2,   /* only in A */
    ROMFS_DIFF_CHANGED = 3,   /* a file in both, contents differ */
};

struct romfs_diff_entry {
    char *path;                         /* '/'-separated, no leading slash */
    enum romfs_diff_change change;
    bool is_dir;
    uint64_t old_size, new_size;        /* file bytes in A / B (0 when absent or a dir) */
    uint8_t old_sha256[ROMFS_SHA256_SIZE], new_sha256[ROMFS_SHA256_SIZE]; /* files present */
};

struct romfs_diff {
    struct romfs_diff_entry *entries;
    size_t n_entries;
    size_t added, removed, changed;     /* counts of entries by change */
    size_t unchanged_files;             /* files present in both with equal content */
    uint64_t old_image_size, new_image_size;   /* the image records */
    uint64_t old_data_bytes, new_data_bytes;   /* sum of file sizes */
    bool layout_differs;                /* image bytes differ though no entry does */
    bool old_signed, new_signed;        /* ends in a romfs signature record */
};

/* Compare images a and b (names used in messages). Returns ROMFS_OK and fills *out
 * (free with romfs_diff_free) whether or not they differ; ROMFS_ERR_CORRUPT naming the
 * image when one is not a valid ROMFS image; ROMFS_ERR_NOMEM. */
int romfs_diff_images(const uint8_t *a, size_t a_size, const char *a_name,
                      const uint8_t *b, size_t b_size, const char *b_name,
                      struct romfs_diff *out, struct romfs_error *err);

/* Whether any entry differs (the `romfs diff` exit status is 1 then). */
bool romfs_diff_has_changes(const struct romfs_diff *d);

/* The diff as JSON text (malloc'd, NUL-terminated): {"a","b","identical","added",
 * "removed","changed","unchanged","layout_differs","a_signed","b_signed","a_image_size",
 * "b_image_size","entries":[{"path","change","type","old_size","new_size","size_delta",
 * "old_sha256","new_sha256"}]}. Returns ROMFS_OK or ROMFS_ERR_NOMEM. */
int romfs_diff_to_json(const struct romfs_diff *d, const char *a_name, const char *b_name,
                       char **json, struct romfs_error *err);

void romfs_diff_free(struct romfs_diff *d);

#endif
