/* format/writer.c: varuints, and the tree -> image writer (layout, then streaming emit).
 *
 * Layout. Every record starts with its kind and a length varuint, so a record's header
 * size depends on its payload size, which depends on the padding needed to align file
 * data, which depends on absolute offsets: a cycle. We break it with a fixpoint over the
 * widths of the length varuints. A forward pass places every record with the current
 * widths and inserts the padding each file needs; then each record's needed width is
 * computed from its payload; widths that are too small grow and the pass repeats. Widths
 * never shrink (a wider varuint is legal: leading 0x80 bytes), so the loop terminates.
 * The one exception is the image's own length without alignment: nothing depends on
 * absolute offsets then, so it is recomputed from each pass's payload (see below), and
 * it settles once the nested widths have.
 * Padding of one byte is a padded data-length varuint; of two or more, a padding record.
 *
 * Without alignment no padding is inserted and every varuint is minimal, giving the
 * bytes of MicroPython's mpremote `romfs build`, including its rule for an odd total:
 * one 0x80 before the image length. With alignment that rule would shift every offset,
 * so an odd total gets a 3-byte padding record at the end of the payload instead. */
#include <stdlib.h>
#include <string.h>

#include "format/format.h"

#define MAX_LAYOUT_PASSES 64

struct romfs_node {
    bool is_dir;
    char *name;
    size_t name_len;
    uint64_t size;         /* files */
    uint32_t align;        /* files */
    void *user;
    struct romfs_node **children;
    size_t n_children, cap_children;
    /* layout */
    uint64_t pad_before;   /* bytes of padding record placed before this record (0 or >= 2) */
    size_t len_width;      /* width of this record's length varuint */
    size_t data_len_width; /* files: width of the data record's length varuint */
    uint64_t payload_len;  /* this record's payload length */
    uint64_t data_offset;  /* files: offset of the data bytes in the image */
};

struct romfs_tree {
    struct romfs_node root;  /* name unused; len_width/payload_len are the image record's */
    bool aligned;            /* some non-empty file needs alignment > 1 */
    uint64_t trailing_pad;   /* 0 or 3: padding record ending the payload (aligned mode) */
    uint64_t image_size;
    bool laid_out;
};

size_t romfs_varuint_size(uint64_t v)
{
    size_t n = 1;
    while (v >>= 7)
        n++;
    return n;
}

size_t romfs_varuint_encode(uint64_t v, size_t width, uint8_t *out)
{
    size_t min = romfs_varuint_size(v);
    if (width < min)
        width = min;
    for (size_t i = 0; i < width; i++) {
        size_t shift = 7 * (width - 1 - i);
        uint8_t group = shift < 64 ? (uint8_t)((v >> shift) & 0x7f) : 0;
        out[i] = (uint8_t)(group | (i + 1 < width ? 0x80 : 0));
    }
    return width;
}

int romfs_varuint_decode(const uint8_t *p, size_t avail, uint64_t *value, size_t *used)
{
    uint64_t v = 0;
    for (size_t i = 0; i < avail; i++) {
        if (v >> 57)
            return ROMFS_ERR_RANGE;     /* another 7 bits would overflow 64 */
        v = (v << 7) | (p[i] & 0x7f);
        if (!(p[i] & 0x80)) {
            *value = v;
            *used = i + 1;
            return ROMFS_OK;
        }
    }
    return ROMFS_ERR_CORRUPT;
}

/* ---- tree construction ------------------------------------------------------ */

struct romfs_tree *romfs_tree_new(void)
{
    struct romfs_tree *tree = calloc(1, sizeof *tree);
    if (tree)
        tree->root.is_dir = true;
    return tree;
}

static void free_node_children(struct romfs_node *node)
{
    for (size_t i = 0; i < node->n_children; i++) {
        free_node_children(node->children[i]);
        free(node->children[i]->name);
        free(node->children[i]);
    }
    free(node->children);
}

void romfs_tree_free(struct romfs_tree *tree)
{
    if (!tree)
        return;
    free_node_children(&tree->root);
    free(tree);
}

struct romfs_node *romfs_tree_root(struct romfs_tree *tree)
{
    return &tree->root;
}

static struct romfs_node *add_node(struct romfs_tree *tree, struct romfs_node *parent,
                                   const char *name, size_t name_len, struct romfs_error *err)
{
    if (!parent || !parent->is_dir) {
        romfs_set_error(err, ROMFS_ERR_INVAL, "parent of '%.*s' is not a directory",
                        (int)name_len, name);
        return NULL;
    }
    if (name_len == 0) {
        romfs_set_error(err, ROMFS_ERR_INVAL, "empty name");
        return NULL;
    }
    if (parent->n_children == parent->cap_children) {
        size_t cap = parent->cap_children ? parent->cap_children * 2 : 8;
        struct romfs_node **nc = realloc(parent->children, cap * sizeof *nc);
        if (!nc)
            goto nomem;
        parent->children = nc;
        parent->cap_children = cap;
    }
    struct romfs_node *node = calloc(1, sizeof *node);
    char *copy = malloc(name_len + 1);
    if (!node || !copy) {
        free(node);
        free(copy);
        goto nomem;
    }
    memcpy(copy, name, name_len);
    copy[name_len] = '\0';
    node->name = copy;
    node->name_len = name_len;
    node->align = 1;
    parent->children[parent->n_children++] = node;
    tree->laid_out = false;
    return node;
nomem:
    romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory adding '%.*s'", (int)name_len, name);
    return NULL;
}

struct romfs_node *romfs_tree_add_dir(struct romfs_tree *tree, struct romfs_node *parent,
                                      const char *name, size_t name_len, struct romfs_error *err)
{
    struct romfs_node *node = add_node(tree, parent, name, name_len, err);
    if (node)
        node->is_dir = true;
    return node;
}

struct romfs_node *romfs_tree_add_file(struct romfs_tree *tree, struct romfs_node *parent,
                                       const char *name, size_t name_len, uint64_t size,
                                       uint32_t align, void *user, struct romfs_error *err)
{
    if (align == 0 || (align & (align - 1))) {
        romfs_set_error(err, ROMFS_ERR_INVAL, "alignment %u of '%.*s' is not a power of two",
                        align, (int)name_len, name);
        return NULL;
    }
    struct romfs_node *node = add_node(tree, parent, name, name_len, err);
    if (node) {
        node->size = size;
        node->align = align;
        node->user = user;
    }
    return node;
}

bool romfs_node_is_dir(const struct romfs_node *node) { return node->is_dir; }
uint64_t romfs_node_size(const struct romfs_node *node) { return node->size; }
uint32_t romfs_node_align(const struct romfs_node *node) { return node->align; }
uint64_t romfs_node_data_offset(const struct romfs_node *node) { return node->data_offset; }
void *romfs_node_user(const struct romfs_node *node) { return node->user; }
size_t romfs_node_child_count(const struct romfs_node *node) { return node->n_children; }

const char *romfs_node_name(const struct romfs_node *node, size_t *name_len)
{
    if (name_len)
        *name_len = node->name_len;
    return node->name;
}

struct romfs_node *romfs_node_child(const struct romfs_node *node, size_t i)
{
    return i < node->n_children ? node->children[i] : NULL;
}

/* ---- layout ---------------------------------------------------------------- */

static int compare_names(const void *a, const void *b)
{
    const struct romfs_node *x = *(struct romfs_node *const *)a;
    const struct romfs_node *y = *(struct romfs_node *const *)b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    if (c)
        return c;
    return x->name_len < y->name_len ? -1 : x->name_len > y->name_len;
}

/* Sort, reject duplicates, note whether alignment is needed, set minimal widths. */
static int prepare(struct romfs_tree *tree, struct romfs_node *dir, struct romfs_error *err)
{
    if (dir->n_children > 1)
        qsort(dir->children, dir->n_children, sizeof *dir->children, compare_names);
    for (size_t i = 0; i < dir->n_children; i++) {
        struct romfs_node *c = dir->children[i];
        if (i > 0 && compare_names(&dir->children[i - 1], &dir->children[i]) == 0)
            return romfs_set_error(err, ROMFS_ERR_EXIST, "duplicate name '%s' in one directory",
                                   c->name);
        c->len_width = 1;
        c->data_len_width = romfs_varuint_size(c->size);
        c->pad_before = 0;
        if (c->is_dir) {
            int rc = prepare(tree, c, err);
            if (rc)
                return rc;
        } else if (c->align > 1 && c->size > 0) {
            tree->aligned = true;
        }
    }
    return ROMFS_OK;
}

/* Bytes a padding record of exactly n >= 2 bytes needs for its length varuint. */
static size_t padding_len_width(uint64_t n)
{
    size_t lw = 1;
    while (romfs_varuint_size(n - 1 - lw) > lw)
        lw++;
    return lw;
}

/* One forward pass over dir's children starting at *pos. Returns true if any width grew. */
static bool place(struct romfs_tree *tree, struct romfs_node *dir, uint64_t *pos)
{
    bool grew = false;
    for (size_t i = 0; i < dir->n_children; i++) {
        struct romfs_node *c = dir->children[i];
        uint64_t name_bytes = romfs_varuint_size(c->name_len) + c->name_len;
        if (c->is_dir) {
            c->pad_before = 0;
            uint64_t content = *pos + 1 + c->len_width + name_bytes;
            uint64_t end = content;
            grew |= place(tree, c, &end);
            c->payload_len = end - content + name_bytes;
            *pos = end;
        } else {
            size_t min_dw = romfs_varuint_size(c->size);
            uint64_t data = *pos + 1 + c->len_width + name_bytes + 1 + min_dw;
            uint64_t need = 0;
            if (tree->aligned && c->align > 1 && c->size > 0)
                need = (c->align - (data & (c->align - 1))) & (c->align - 1);
            c->pad_before = need >= 2 ? need : 0;
            c->data_len_width = min_dw + (need == 1);
            *pos += c->pad_before;
            c->data_offset = *pos + 1 + c->len_width + name_bytes + 1 + c->data_len_width;
            c->payload_len = name_bytes + 1 + c->data_len_width + c->size;
            *pos = c->data_offset + c->size;
        }
        size_t needed = romfs_varuint_size(c->payload_len);
        if (needed > c->len_width) {
            c->len_width = needed;
            grew = true;
        }
    }
    return grew;
}

int romfs_tree_layout(struct romfs_tree *tree, uint64_t *image_size, struct romfs_error *err)
{
    struct romfs_node *root = &tree->root;
    tree->aligned = false;
    int rc = prepare(tree, root, err);
    if (rc)
        return rc;
    root->len_width = 1;
    for (int pass = 0; pass < MAX_LAYOUT_PASSES; pass++) {
        uint64_t start = 3 + root->len_width, pos = start;
        bool grew = place(tree, root, &pos);
        uint64_t payload = pos - start;
        tree->trailing_pad = 0;
        if (tree->aligned && (start + payload) % 2)
            tree->trailing_pad = 3;   /* 01 01 00: keeps every offset before it */
        payload += tree->trailing_pad;
        size_t needed = romfs_varuint_size(payload);
        if (!tree->aligned) {
            /* Offsets do not move any width here, so the root's width is set afresh
             * from this pass's payload: minimal, plus mpremote's one 0x80 when the
             * total would be odd. Growing it monotonically instead would keep a 0x80
             * added while nested widths were still growing (2 bytes too many). */
            if ((3 + needed + payload) % 2)
                needed++;
            if (needed != root->len_width) {
                root->len_width = needed;
                grew = true;
            }
        } else if (needed > root->len_width) {
            root->len_width = needed;
            grew = true;
        }
        if (grew)
            continue;
        root->payload_len = payload;
        tree->image_size = 3 + root->len_width + payload;
        tree->laid_out = true;
        if (image_size)
            *image_size = tree->image_size;
        return ROMFS_OK;
    }
    return romfs_set_error(err, ROMFS_ERR_UNSUPPORTED, "image layout did not settle");
}

/* ---- emit ------------------------------------------------------------------- */

struct emit_state {
    romfs_sink_fn sink;
    void *sink_ctx;
    romfs_content_fn content;
    void *content_ctx;
    uint64_t written;         /* bytes of the image so far */
    uint64_t file_written;    /* bytes the current content callback delivered */
};

static int put(struct emit_state *st, const void *data, size_t len, struct romfs_error *err)
{
    st->written += len;
    return st->sink(st->sink_ctx, data, len, err);
}

/* The sink handed to content callbacks: counts what they deliver. */
static int content_sink(void *ctx, const void *data, size_t len, struct romfs_error *err)
{
    struct emit_state *st = ctx;
    st->file_written += len;
    return put(st, data, len, err);
}

static int put_header(struct emit_state *st, uint64_t kind, uint64_t len, size_t width,
                      struct romfs_error *err)
{
    uint8_t buf[2 * 16];
    size_t n = romfs_varuint_encode(kind, 0, buf);
    n += romfs_varuint_encode(len, width, buf + n);
    return put(st, buf, n, err);
}

static int put_padding(struct emit_state *st, uint64_t n, struct romfs_error *err)
{
    size_t lw = padding_len_width(n);
    int rc = put_header(st, ROMFS_KIND_PADDING, n - 1 - lw, lw, err);
    static const uint8_t zeros[256];
    for (uint64_t left = n - 1 - lw; rc == 0 && left > 0;) {
        size_t chunk = left < sizeof zeros ? (size_t)left : sizeof zeros;
        rc = put(st, zeros, chunk, err);
        left -= chunk;
    }
    return rc;
}

static int put_name(struct emit_state *st, const struct romfs_node *n, struct romfs_error *err)
{
    uint8_t buf[16];
    size_t k = romfs_varuint_encode(n->name_len, 0, buf);
    int rc = put(st, buf, k, err);
    return rc ? rc : put(st, n->name, n->name_len, err);
}

static int emit_dir(struct emit_state *st, const struct romfs_node *dir, struct romfs_error *err)
{
    for (size_t i = 0; i < dir->n_children; i++) {
        const struct romfs_node *c = dir->children[i];
        int rc = c->pad_before ? put_padding(st, c->pad_before, err) : ROMFS_OK;
        if (!rc)
            rc = put_header(st, c->is_dir ? ROMFS_KIND_DIRECTORY : ROMFS_KIND_FILE,
                            c->payload_len, c->len_width, err);
        if (!rc)
            rc = put_name(st, c, err);
        if (!rc && c->is_dir)
            rc = emit_dir(st, c, err);
        if (!rc && !c->is_dir) {
            rc = put_header(st, ROMFS_KIND_DATA_VERBATIM, c->size, c->data_len_width, err);
            if (!rc && st->written != c->data_offset)
                rc = romfs_set_error(err, ROMFS_ERR_UNSUPPORTED,
                                     "internal layout error at '%s'", c->name);
            if (!rc && c->size > 0) {
                st->file_written = 0;
                rc = st->content(st->content_ctx, c, content_sink, st, err);
                if (!rc && st->file_written != c->size)
                    rc = romfs_set_error(err, ROMFS_ERR_MISMATCH,
                                         "%s: size changed while packing (%llu bytes expected, "
                                         "%llu read)", c->name, (unsigned long long)c->size,
                                         (unsigned long long)st->file_written);
            }
        }
        if (rc)
            return rc;
    }
    return ROMFS_OK;
}

int romfs_tree_emit(struct romfs_tree *tree, romfs_sink_fn sink, void *sink_ctx,
                    romfs_content_fn content, void *content_ctx, struct romfs_error *err)
{
    if (!tree->laid_out)
        return romfs_set_error(err, ROMFS_ERR_INVAL, "romfs_tree_emit before romfs_tree_layout");
    struct emit_state st = { sink, sink_ctx, content, content_ctx, 0, 0 };
    static const uint8_t magic[3] = { 0xd2, 0xcd, 0x31 };
    uint8_t len[16];
    size_t n = romfs_varuint_encode(tree->root.payload_len, tree->root.len_width, len);
    int rc = put(&st, magic, 3, err);
    if (!rc)
        rc = put(&st, len, n, err);
    if (!rc)
        rc = emit_dir(&st, &tree->root, err);
    if (!rc && tree->trailing_pad)
        rc = put_padding(&st, tree->trailing_pad, err);
    if (!rc && st.written != tree->image_size)
        rc = romfs_set_error(err, ROMFS_ERR_UNSUPPORTED, "internal layout error: %llu of %llu bytes",
                             (unsigned long long)st.written, (unsigned long long)tree->image_size);
    return rc;
}
