/* format/format.h: the MicroPython ROMFS (VfsRom) image format.
 *
 * An image is one record of kind ROMFS_KIND_FILESYSTEM (bytes d2 cd 31), whose payload
 * holds records: varuint kind, varuint payload length, payload. Directories (4) and
 * files (5) hold a varuint name length, the name, then nested records; a file's first
 * data record (2 verbatim, 3 indirect = varuint size + varuint offset from the start of
 * the filesystem payload) is its content. Varuints are big-endian 7-bit groups, high
 * bit set on all but the last byte; leading 0x80 bytes are padding. No file system
 * access happens here: the writer takes a tree description and a content callback,
 * the reader takes bytes in memory. */
#ifndef ROMFS_FORMAT_H
#define ROMFS_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

enum romfs_kind {
    ROMFS_KIND_UNUSED = 0,
    ROMFS_KIND_PADDING = 1,
    ROMFS_KIND_DATA_VERBATIM = 2,
    ROMFS_KIND_DATA_INDIRECT = 3,
    ROMFS_KIND_DIRECTORY = 4,
    ROMFS_KIND_FILE = 5,
    ROMFS_KIND_FILESYSTEM = 0x14a6b1,
};

#define ROMFS_VARUINT_MAX 10   /* bytes in the longest minimal uint64 encoding */

/* ---- varuint ---------------------------------------------------------------- */

/* Bytes in the minimal encoding of v (1..10). */
size_t romfs_varuint_size(uint64_t v);

/* Encode v into out using exactly `width` bytes (width >= romfs_varuint_size(v), at most
 * 16; extra bytes are leading 0x80 padding). width 0 means minimal. Returns bytes written. */
size_t romfs_varuint_encode(uint64_t v, size_t width, uint8_t *out);

/* Decode a varuint from p[0..avail). On success stores the value and the bytes consumed
 * and returns ROMFS_OK; ROMFS_ERR_CORRUPT if it runs past avail (truncated),
 * ROMFS_ERR_RANGE if its value exceeds 64 bits. */
int romfs_varuint_decode(const uint8_t *p, size_t avail, uint64_t *value, size_t *used);

/* ---- writer: describe a tree, lay it out, stream it ------------------------ */

struct romfs_tree;
struct romfs_node;

/* A new empty tree (the root directory only), or NULL without memory. */
struct romfs_tree *romfs_tree_new(void);
void romfs_tree_free(struct romfs_tree *tree);
struct romfs_node *romfs_tree_root(struct romfs_tree *tree);

/* Add a directory or a file of `size` bytes named name[0..name_len) to `parent`.
 * `align` is the required alignment of the file's data offset in the image (a power
 * of two, 1 = none). `user` is handed back to the content callback. Names are copied.
 * Returns the node, or NULL (err filled) on bad arguments or no memory. Names are not
 * validated here beyond being non-empty; the caller (pack) validates them. */
struct romfs_node *romfs_tree_add_dir(struct romfs_tree *tree, struct romfs_node *parent,
                                      const char *name, size_t name_len, struct romfs_error *err);
struct romfs_node *romfs_tree_add_file(struct romfs_tree *tree, struct romfs_node *parent,
                                       const char *name, size_t name_len, uint64_t size,
                                       uint32_t align, void *user, struct romfs_error *err);

/* Node accessors. Offsets are valid after romfs_tree_layout. */
bool romfs_node_is_dir(const struct romfs_node *node);
const char *romfs_node_name(const struct romfs_node *node, size_t *name_len);
uint64_t romfs_node_size(const struct romfs_node *node);        /* file bytes */
uint32_t romfs_node_align(const struct romfs_node *node);
uint64_t romfs_node_data_offset(const struct romfs_node *node); /* from image start */
void *romfs_node_user(const struct romfs_node *node);
size_t romfs_node_child_count(const struct romfs_node *node);
struct romfs_node *romfs_node_child(const struct romfs_node *node, size_t i); /* sorted after layout */

/* Sort every directory by name bytes and place every record: file data offsets honour
 * each file's alignment (empty files need none). With no alignment above 1 the bytes are
 * exactly those of MicroPython's mpremote `romfs build`. Fails with ROMFS_ERR_EXIST on a
 * duplicate name in one directory. Returns ROMFS_OK and the image size in *image_size. */
int romfs_tree_layout(struct romfs_tree *tree, uint64_t *image_size, struct romfs_error *err);

/* Where the writer sends bytes; returns ROMFS_OK or a negative code (err filled). */
typedef int (*romfs_sink_fn)(void *sink_ctx, const void *data, size_t len, struct romfs_error *err);

/* Produce the contents of `file`: call write(write_ctx, ...) with exactly
 * romfs_node_size(file) bytes in total, in as many pieces as suits. */
typedef int (*romfs_content_fn)(void *content_ctx, const struct romfs_node *file,
                                romfs_sink_fn write, void *write_ctx, struct romfs_error *err);

/* Stream the laid-out image to sink. Fails with ROMFS_ERR_MISMATCH if a content callback
 * delivers a byte count other than the file's size (a file that changed while packing). */
int romfs_tree_emit(struct romfs_tree *tree, romfs_sink_fn sink, void *sink_ctx,
                    romfs_content_fn content, void *content_ctx, struct romfs_error *err);

/* ---- reader ----------------------------------------------------------------- */

/* An image in memory. Accepts exactly what MicroPython's VfsRom mounts: at least 4
 * bytes, header d2 cd 31, a length whose end lies within `size` (trailing bytes after
 * the image, such as erased flash, are allowed). */
struct romfs_image {
    const uint8_t *data;      /* the buffer given to romfs_image_open */
    size_t size;              /* its length */
    size_t payload_start;     /* offset of the filesystem record's payload */
    size_t payload_end;       /* offset just past it == the image's own size */
};

int romfs_image_open(struct romfs_image *img, const uint8_t *data, size_t size,
                     struct romfs_error *err);

enum romfs_entry_type { ROMFS_ENTRY_DIR = 1, ROMFS_ENTRY_FILE = 2 };

/* One directory entry. Offsets are from the start of the image buffer. */
struct romfs_entry {
    enum romfs_entry_type type;
    const uint8_t *name;      /* not NUL-terminated */
    size_t name_len;
    size_t record_offset;     /* where the entry's record begins */
    size_t content_start;     /* after the name: nested records begin here */
    size_t content_end;       /* end of the entry's record */
    /* files only: */
    uint64_t data_offset;     /* offset of the file's bytes in the image buffer */
    uint64_t data_size;
    bool data_indirect;       /* came from an indirect (kind 3) record */
};

/* Iterates the entries of one directory, skipping padding and unknown records. */
struct romfs_dir_iter {
    const struct romfs_image *img;
    size_t pos, end;
};

/* Begin iterating `dir` (NULL for the root directory). */
void romfs_dir_begin(const struct romfs_image *img, const struct romfs_entry *dir,
                     struct romfs_dir_iter *it);

/* Next entry: returns 1 and fills *out, 0 at the end, or ROMFS_ERR_CORRUPT (err names
 * the byte offset) on an unused record, a record past its parent's end, a file without
 * a data record, or data outside the image. */
int romfs_dir_next(struct romfs_dir_iter *it, struct romfs_entry *out, struct romfs_error *err);

/* Look up a '/'-separated path ("" or "/" is the root, which yields a DIR entry with
 * the root's extent). Returns ROMFS_OK, ROMFS_ERR_NOENT, ROMFS_ERR_NOTDIR or
 * ROMFS_ERR_CORRUPT. The first entry with a matching name wins, as in VfsRom. */
int romfs_lookup(const struct romfs_image *img, const char *path, struct romfs_entry *out,
                 struct romfs_error *err);

/* Pointer to a file entry's bytes inside the image buffer. */
const uint8_t *romfs_entry_data(const struct romfs_image *img, const struct romfs_entry *file);

/* ---- strict verification and statistics ------------------------------------ */

struct romfs_stats {
    uint64_t image_size;          /* bytes of the image record */
    uint64_t payload_size;
    uint64_t dirs;                /* not counting the root */
    uint64_t files;
    uint64_t data_bytes;          /* sum of file sizes */
    uint64_t overhead_bytes;      /* image_size - data_bytes */
    uint64_t padding_bytes;       /* in padding records (less file data they hold) and
                                     padded varuints */
    uint64_t min_data_alignment;  /* largest power of two dividing every non-empty file's
                                     data offset (0 when there are none), capped at 2^31 */
    uint64_t indirect_files;
};

/* Walk the whole image strictly: even size, every record inside its parent, no unused
 * records, no empty/"."/".."/'/'-or-NUL names, no duplicate names in a directory, every
 * file with data inside the image. Fills *stats (if non-NULL) even on failure, as far as
 * it got. Returns ROMFS_OK or ROMFS_ERR_CORRUPT naming the offset and path. */
int romfs_image_verify(const struct romfs_image *img, struct romfs_stats *stats,
                       struct romfs_error *err);

/* Visit every entry depth-first in image order; `path` is the full '/'-joined path
 * (no leading slash). A non-zero return from the visitor stops the walk and is returned. */
typedef int (*romfs_visit_fn)(void *ctx, const char *path, const struct romfs_entry *entry,
                              int depth);
int romfs_image_walk(const struct romfs_image *img, const struct romfs_entry *dir,
                     romfs_visit_fn visit, void *ctx, struct romfs_error *err);

#endif
