/* image/stable.h: a layout that stays put: lay a tree out against the image it replaces.
 *
 * A flash writer rewrites only the erase blocks that differ, so an image whose unchanged
 * files keep their bytes where the previous image (the base) had them is cheap to write.
 * MicroPython's VfsRom allows it: a file's data record may be indirect (kind 3: size and
 * offset from the start of the filesystem payload), padding records (kind 1) may hold any
 * bytes, and the payload keeps its start as long as the image header keeps its width.
 * Given the base, romfs_stable_layout keeps every unchanged file's data at its offset and
 * chooses, in this order:
 *
 *   SAME      nothing changed: the base image itself.
 *   PATCHED   the same paths as the base: each changed file's own record is rewritten in
 *             place (verbatim when the new data fits there, else an indirect record plus
 *             padding) and its data goes into free space: a padding record's dead bytes,
 *             the slack, or a padding record appended at the end. No other byte moves.
 *   REWRITTEN paths were added, removed or renamed: the metadata (every directory and
 *             file record, all data indirect) is written as one block where the base's
 *             metadata was, if it fits there with its slack, else in the first free gap
 *             (a padding record at the payload start then hides the old records). The
 *             rest of the payload is padding holding the data, unchanged data in place.
 *   FRESH     the metadata first, then its slack, then the data; used when more than half
 *             of the data bytes changed, when dead bytes would make the image more than
 *             twice the fresh one, when the base header's length field is too narrow for
 *             the new size, or when only it fits a size limit.
 *
 * Slack: whenever the image has to grow, its end is rounded up to a multiple of the block
 * size (default 4096 bytes, so less than one block), and freshly written metadata is
 * followed by room for a quarter of its size plus 128 bytes. Changed data of at most one
 * block is placed so that it does not cross a block boundary when the free space allows.
 * Same tree, same base, same options: same bytes. */
#ifndef ROMFS_STABLE_H
#define ROMFS_STABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "format/format.h"

#define ROMFS_STABLE_BLOCK 4096

enum romfs_stable_mode {
    ROMFS_STABLE_SAME = 1,
    ROMFS_STABLE_PATCHED,
    ROMFS_STABLE_REWRITTEN,
    ROMFS_STABLE_FRESH,
};

/* Why FRESH was chosen. */
enum romfs_stable_why {
    ROMFS_STABLE_WHY_NONE = 0,
    ROMFS_STABLE_WHY_MOSTLY_CHANGED,  /* more than half of the data bytes are new */
    ROMFS_STABLE_WHY_DEAD_SPACE,      /* kept layout would be over twice the fresh size */
    ROMFS_STABLE_WHY_HEADER,          /* the base's image length field is too narrow */
    ROMFS_STABLE_WHY_SIZE_LIMIT,      /* only the fresh layout fits size_limit */
};

struct romfs_stable_options {
    const uint8_t *base;        /* the base image (bytes after its image record ignored) */
    size_t base_size;
    const char *base_name;      /* for messages */
    uint32_t block;             /* slack and placement block, power of two; 0 = 4096 */
    uint64_t size_limit;        /* slack never takes the image past it; 0 = none */
};

/* What a layout against a base did. */
struct romfs_stable_summary {
    enum romfs_stable_mode mode;
    enum romfs_stable_why why;
    uint64_t files_kept, bytes_kept;       /* data left at its offset in the base */
    uint64_t files_written, bytes_written; /* data written by this layout */
    uint64_t base_image_size, image_size;
    uint64_t free_bytes;         /* slack and dead bytes inside the image */
    uint64_t blocks_changed;     /* blocks that differ from the base (each side padded
                                    with 0xff to a block, as erased flash reads) */
    uint64_t blocks_total;       /* blocks of the larger of the two */
    uint32_t block;              /* the block size used */
};

struct romfs_stable_result {
    struct romfs_stable_summary summary;
    uint8_t *image;              /* malloc'd image (summary.image_size bytes) */
    uint64_t *offsets;           /* each file's data offset in the image, in the order of
                                    a depth-first walk of the sorted tree (files only) */
    size_t n_offsets;
};

/* The name of a mode ("same", "patched", "rewritten", "fresh") and a reason phrase. */
const char *romfs_stable_mode_name(enum romfs_stable_mode mode);
const char *romfs_stable_why_text(enum romfs_stable_why why);

/* Lay `tree` out against opt->base. The tree must have been laid out (romfs_tree_layout:
 * sorted, no duplicates); its files' contents come from `content` (as for
 * romfs_tree_emit; each file is read once). Alignment is each node's, counted from the
 * image start. A base that is not a valid ROMFS image is ROMFS_ERR_CORRUPT naming
 * opt->base_name; ROMFS_ERR_MISMATCH if a file's size changed while it was read;
 * ROMFS_ERR_NOMEM. *res is cleared first; free it with romfs_stable_result_free. */
int romfs_stable_layout(struct romfs_tree *tree, const struct romfs_stable_options *opt,
                        romfs_content_fn content, void *content_ctx,
                        struct romfs_stable_result *res, struct romfs_error *err);

void romfs_stable_result_free(struct romfs_stable_result *res);

/* Blocks of `block` bytes that differ between a and b, each padded with 0xff to a whole
 * block; *total gets the larger image's block count. */
uint64_t romfs_blocks_differing(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
                                uint32_t block, uint64_t *total);

#endif
