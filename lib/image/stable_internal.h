/* image/stable_internal.h: what stable.c (the base, the new tree, the choice of layout)
 * and stable_write.c (free space, patching, rewriting) share. Offsets named `off` are
 * from the start of the filesystem payload, as in indirect data records; positions in
 * an image buffer are absolute. */
#ifndef ROMFS_STABLE_INTERNAL_H
#define ROMFS_STABLE_INTERNAL_H

#include "base/digest.h"
#include "image/stable.h"

#define ST_NONE ((uint64_t)-1)
#define ST_NOFIT 1        /* an attempt that cannot be made; the caller tries the next */

/* ---- free space: sorted, disjoint [lo, hi) ranges; hi may be ST_NONE (unbounded) ---- */

struct st_range {
    uint64_t lo, hi;
};

struct st_space {
    struct st_range *r;
    size_t n, cap;
};

int st_space_add(struct st_space *s, uint64_t lo, uint64_t hi);     /* ROMFS_OK / NOMEM */
int st_space_remove(struct st_space *s, uint64_t lo, uint64_t hi);  /* ROMFS_OK / NOMEM */
bool st_space_is_free(const struct st_space *s, uint64_t lo, uint64_t hi);
/* Lowest off with [off, off+size) free and below `below`, (p0 + off) % align == 0 and,
 * when whole_block, [off, off+size) inside one block of the image; ST_NONE if none. */
uint64_t st_space_fit(const struct st_space *s, uint64_t size, uint32_t align, uint64_t p0,
                      uint32_t block, uint64_t below, bool whole_block);
uint64_t st_space_total(const struct st_space *s, uint64_t below);
void st_space_free(struct st_space *s);

/* ---- the base and the new tree ------------------------------------------------------ */

struct st_base_file {
    char *path;
    uint64_t off, size;          /* its data */
    size_t abs;                  /* its data's position in the base */
    size_t content, end;         /* its record's nested records: [content, end) */
    bool indirect;
    uint8_t sha[ROMFS_SHA256_SIZE];
};

struct st_file {
    const struct romfs_node *node;
    char *path;
    uint64_t size;
    uint32_t align;
    uint8_t *data;               /* contents (NULL when empty) */
    uint8_t sha[ROMFS_SHA256_SIZE];
    long same;                   /* base file at this path, or -1 */
    long match;                  /* base file whose data equals this file's, or -1 */
    long pin;                    /* this attempt: base file whose data it keeps, or -1 */
    uint64_t off;                /* this attempt: where its new data goes */
};

struct st_entry {
    char *path;
    bool dir;
};

struct st_ctx {
    const struct romfs_stable_options *opt;
    struct romfs_error *err;
    struct romfs_tree *tree;
    uint32_t block, W;           /* W: width of offsets and sizes in new records */
    /* the base */
    const uint8_t *base;
    size_t p0, hw;               /* payload start, header length width */
    uint64_t lb;                 /* payload length */
    uint64_t lb_keep;            /* what is kept once anything changes: lb, or less the
                                    signature record ending it (signed for other bytes) */
    struct st_base_file *bf;
    size_t n_bf;
    struct st_entry *be;
    size_t n_be;
    uint64_t meta_lo, meta_hi;   /* top-level directory and file records (hi 0: none) */
    struct st_range *pads;       /* top-level padding records' payloads */
    uint64_t *pad_starts;        /* where each of those records begins */
    size_t n_pads;
    /* the new tree */
    struct st_file *nf;
    size_t n_nf;
    struct st_entry *ne;
    size_t n_ne;
    size_t hw_fresh;
};

/* One attempt's image. */
struct st_out {
    uint8_t *img;
    uint64_t len;                /* image size */
    uint64_t free_bytes;
    uint64_t files_written, bytes_written;
};

/* Bytes of the metadata block (every record of the tree, file data indirect). */
uint64_t st_meta_size(const struct romfs_node *dir, uint32_t W);
/* Room kept after freshly written metadata of meta_len bytes. */
uint64_t st_meta_slack(uint64_t meta_len);

/* The PATCHED layout (SAME when no file changed). ROMFS_OK, ST_NOFIT (a record too small
 * for its new data record, or a header too narrow), or an error. */
int st_patch(struct st_ctx *c, struct st_out *o);
/* The REWRITTEN layout (fresh false) or the FRESH one. ROMFS_OK, ST_NOFIT (the base's
 * header too narrow), or an error. */
int st_rewrite(struct st_ctx *c, bool fresh, struct st_out *o);

#endif
