/* fuzz_stable.c: laying a tree out against an arbitrary base image (image/stable.h).
 * The input is the base; the tree is the base's own files, edited as its last byte says
 * (one file grown or dropped, a file added, another alignment), so valid bases reach
 * every layout. A valid base must always give an image (the layout checks its result
 * itself and reports an internal error otherwise, which stops the fuzzer here); an
 * invalid one must be refused as corrupt. */
#include <stdlib.h>
#include <string.h>

#include "romfs.h"

#define MAX_FILES 64

struct file {
    const uint8_t *data;   /* the base's bytes of this file, `have` of them */
    size_t have, size;     /* size > have: filler after them (a grown file) */
};

struct build {
    struct romfs_tree *tree;
    const struct romfs_image *img;
    struct file files[MAX_FILES + 1];
    size_t n;
    unsigned edit;
    uint32_t align;
};

static const uint8_t filler[512] = { 'g' };

static struct romfs_node *find_dir(struct romfs_tree *tree, const char *path, size_t len)
{
    struct romfs_node *node = romfs_tree_root(tree);
    const char *p = path, *end = path + len;
    while (p < end) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        size_t n = slash ? (size_t)(slash - p) : (size_t)(end - p);
        struct romfs_node *next = NULL;
        for (size_t i = 0; i < romfs_node_child_count(node); i++) {
            size_t nl;
            const char *name = romfs_node_name(romfs_node_child(node, i), &nl);
            if (nl == n && memcmp(name, p, n) == 0)
                next = romfs_node_child(node, i);
        }
        if (!next || !romfs_node_is_dir(next))
            return NULL;
        node = next;
        p += n + (slash ? 1 : 0);
    }
    return node;
}

static int add_entry(void *ctx, const char *path, const struct romfs_entry *e, int depth)
{
    (void)depth;
    struct build *b = ctx;
    const char *slash = strrchr(path, '/');
    struct romfs_node *parent = find_dir(b->tree, path, slash ? (size_t)(slash - path) : 0);
    if (!parent)
        return 1;
    if (e->type == ROMFS_ENTRY_DIR)
        return romfs_tree_add_dir(b->tree, parent, (const char *)e->name, e->name_len, NULL) ? 0 : 1;
    size_t k = b->n;
    if (k == MAX_FILES || ((b->edit & 2) && k == (b->edit >> 4) % 8)) {
        b->edit &= ~2u;   /* dropped (once) */
        return 0;
    }
    struct file *f = &b->files[b->n++];
    f->data = romfs_entry_data(b->img, e);
    f->have = f->size = (size_t)e->data_size;
    if ((b->edit & 1) && k == (b->edit >> 4) % 8 + 1)
        f->size += 1 + k * 37 % sizeof filler;   /* grown */
    return romfs_tree_add_file(b->tree, parent, (const char *)e->name, e->name_len, f->size,
                               b->align, f, NULL) ? 0 : 1;
}

static int content(void *ctx, const struct romfs_node *node, romfs_sink_fn write, void *wctx,
                   struct romfs_error *err)
{
    (void)ctx;
    const struct file *f = romfs_node_user(node);
    int rc = f->have ? write(wctx, f->data, f->have, err) : ROMFS_OK;
    for (size_t left = f->size - f->have; !rc && left;) {
        size_t n = left < sizeof filler ? left : sizeof filler;
        rc = write(wctx, filler, n, err);
        left -= n;
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    struct romfs_image img;
    struct romfs_error err;
    bool valid = romfs_image_open(&img, copy, size, &err) == ROMFS_OK &&
                 romfs_image_verify(&img, NULL, &err) == ROMFS_OK;
    struct build b = { .tree = romfs_tree_new(), .img = &img, .edit = size ? copy[size - 1] : 0 };
    b.align = (b.edit & 8) ? 16 : 4;
    bool built = valid && b.tree && romfs_image_walk(&img, NULL, add_entry, &b, &err) == ROMFS_OK;
    if (built && (b.edit & 4)) {
        struct file *f = &b.files[b.n++];
        f->data = NULL;
        f->have = 0;
        f->size = 300;
        built = romfs_tree_add_file(b.tree, romfs_tree_root(b.tree), "zz-new", 6, f->size,
                                    b.align, f, NULL) != NULL;
    }
    uint64_t plain_size;
    if (built)
        built = romfs_tree_layout(b.tree, &plain_size, &err) == ROMFS_OK;
    struct romfs_stable_options o = { copy, size, "fuzz.romfs", 0, 0 };
    struct romfs_stable_result r;
    if (built) {
        int rc = romfs_stable_layout(b.tree, &o, content, NULL, &r, &err);
        if (rc == ROMFS_ERR_UNSUPPORTED)
            abort();   /* the layout's own check found a wrong image */
        romfs_stable_result_free(&r);
    } else if (!valid) {
        struct romfs_tree *empty = romfs_tree_new();
        uint64_t s;
        if (empty && romfs_tree_layout(empty, &s, &err) == ROMFS_OK &&
            romfs_stable_layout(empty, &o, content, NULL, &r, &err) != ROMFS_ERR_CORRUPT)
            abort();   /* an invalid base must be refused */
        romfs_tree_free(empty);
    }
    romfs_tree_free(b.tree);
    free(copy);
    return 0;
}
