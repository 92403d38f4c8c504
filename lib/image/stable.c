/* image/stable.c: a layout that stays put (see stable.h): read the base, read the new
 * tree, find which files keep their data, choose the layout, check the result. The
 * layouts themselves are written by stable_write.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/sign.h"
#include "image/stable_internal.h"

const char *romfs_stable_mode_name(enum romfs_stable_mode mode)
{
    switch (mode) {
    case ROMFS_STABLE_SAME: return "same";
    case ROMFS_STABLE_PATCHED: return "patched";
    case ROMFS_STABLE_REWRITTEN: return "rewritten";
    case ROMFS_STABLE_FRESH: return "fresh";
    }
    return "?";
}

const char *romfs_stable_why_text(enum romfs_stable_why why)
{
    switch (why) {
    case ROMFS_STABLE_WHY_NONE: return "";
    case ROMFS_STABLE_WHY_MOSTLY_CHANGED: return "more than half of the data changed";
    case ROMFS_STABLE_WHY_DEAD_SPACE: return "the kept layout would be over twice the size";
    case ROMFS_STABLE_WHY_HEADER: return "the base's length field is too narrow for the new size";
    case ROMFS_STABLE_WHY_SIZE_LIMIT: return "only a fresh layout fits the size limit";
    }
    return "";
}

uint64_t romfs_blocks_differing(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
                                uint32_t block, uint64_t *total)
{
    if (!block)
        block = ROMFS_STABLE_BLOCK;
    size_t longer = a_len > b_len ? a_len : b_len;
    uint64_t n = (longer + block - 1) / block, differ = 0;
    for (uint64_t k = 0; k < n; k++) {
        for (size_t i = (size_t)k * block; i < (size_t)(k + 1) * block; i++) {
            uint8_t x = i < a_len ? a[i] : 0xff, y = i < b_len ? b[i] : 0xff;
            if (x != y) {
                differ++;
                break;
            }
        }
    }
    if (total)
        *total = n;
    return differ;
}

/* ---- the base ----------------------------------------------------------------------- */

static int add_entry(struct st_entry **list, size_t *n, const char *path, bool dir)
{
    struct st_entry *nl = realloc(*list, (*n + 1) * sizeof *nl);
    if (!nl)
        return ROMFS_ERR_NOMEM;
    *list = nl;
    if (!(nl[*n].path = strdup(path)))
        return ROMFS_ERR_NOMEM;
    nl[(*n)++].dir = dir;
    return ROMFS_OK;
}

struct base_walk {
    struct st_ctx *c;
    const struct romfs_image *img;
};

static int visit_base(void *ctx, const char *path, const struct romfs_entry *e, int depth)
{
    (void)depth;
    struct base_walk *w = ctx;
    struct st_ctx *c = w->c;
    if (add_entry(&c->be, &c->n_be, path, e->type == ROMFS_ENTRY_DIR))
        return romfs_set_error(c->err, ROMFS_ERR_NOMEM, "out of memory");
    if (e->type != ROMFS_ENTRY_FILE)
        return 0;
    struct st_base_file *nb = realloc(c->bf, (c->n_bf + 1) * sizeof *nb);
    if (!nb)
        return romfs_set_error(c->err, ROMFS_ERR_NOMEM, "out of memory");
    c->bf = nb;
    struct st_base_file *b = &nb[c->n_bf];
    memset(b, 0, sizeof *b);
    if (!(b->path = strdup(path)))
        return romfs_set_error(c->err, ROMFS_ERR_NOMEM, "out of memory");
    c->n_bf++;
    b->abs = (size_t)e->data_offset;
    b->off = e->data_offset - c->p0;
    b->size = e->data_size;
    b->content = e->content_start;
    b->end = e->content_end;
    b->indirect = e->data_indirect;
    romfs_sha256(romfs_entry_data(w->img, e), (size_t)e->data_size, b->sha);
    return 0;
}

/* Top-level records: where the directory and file records lie, and the padding. */
static int scan_top_level(struct st_ctx *c, const struct romfs_image *img)
{
    size_t pos = img->payload_start, end = img->payload_end;
    while (pos < end) {
        uint64_t kind, len;
        size_t used, start = pos;
        romfs_varuint_decode(img->data + pos, end - pos, &kind, &used);   /* verified */
        pos += used;
        romfs_varuint_decode(img->data + pos, end - pos, &len, &used);
        pos += used;
        size_t next = pos + (size_t)len;
        if (kind == ROMFS_KIND_DIRECTORY || kind == ROMFS_KIND_FILE) {
            if (!c->meta_hi)
                c->meta_lo = start - c->p0;
            c->meta_hi = next - c->p0;
        } else if (kind == ROMFS_KIND_PADDING) {
            struct st_range *np = realloc(c->pads, (c->n_pads + 1) * sizeof *np);
            uint64_t *ns = np ? realloc(c->pad_starts, (c->n_pads + 1) * sizeof *ns) : NULL;
            if (np)
                c->pads = np;
            if (!ns)
                return romfs_set_error(c->err, ROMFS_ERR_NOMEM, "out of memory");
            c->pad_starts = ns;
            c->pads[c->n_pads] = (struct st_range){ pos - c->p0, next - c->p0 };
            c->pad_starts[c->n_pads++] = start - c->p0;
        }
        pos = next;
    }
    return ROMFS_OK;
}

static int read_base(struct st_ctx *c)
{
    const struct romfs_stable_options *o = c->opt;
    const char *name = o->base_name ? o->base_name : "base image";
    struct romfs_image img;
    int rc = romfs_image_open(&img, o->base, o->base_size, c->err);
    if (rc)
        return romfs_error_prefix(c->err, "%s", name);
    if ((rc = romfs_image_verify(&img, NULL, c->err)))
        return romfs_error_prefix(c->err, "%s: not a valid ROMFS image", name);
    c->base = o->base;
    c->p0 = img.payload_start;
    c->hw = img.payload_start - 3;
    c->lb = img.payload_end - img.payload_start;
    struct base_walk w = { c, &img };
    if ((rc = romfs_image_walk(&img, NULL, visit_base, &w, c->err)))
        return rc;
    if ((rc = scan_top_level(c, &img)))
        return rc;
    struct romfs_signature_info sig;
    c->lb_keep = c->lb;
    if (romfs_signature_find(o->base, img.payload_end, &sig, NULL) == ROMFS_OK && sig.present &&
        c->n_pads && c->pad_starts[c->n_pads - 1] == sig.record_offset - c->p0) {
        c->lb_keep = sig.record_offset - c->p0;   /* `romfs sign` appends a new one there */
        c->n_pads--;
    }
    return ROMFS_OK;
}

/* ---- the new tree ------------------------------------------------------------------- */

struct grab {
    uint8_t *buf;
    uint64_t size, got;
};

static int grab_bytes(void *ctx, const void *data, size_t len, struct romfs_error *err)
{
    (void)err;
    struct grab *g = ctx;
    if (g->got < g->size)
        memcpy(g->buf + g->got, data, g->got + len <= g->size ? len : (size_t)(g->size - g->got));
    g->got += len;
    return ROMFS_OK;
}

struct reading {
    romfs_content_fn content;
    void *ctx;
};

static int read_new(struct st_ctx *c, const struct reading *rd, const struct romfs_node *dir,
                    const char *prefix)
{
    for (size_t i = 0; i < romfs_node_child_count(dir); i++) {
        const struct romfs_node *n = romfs_node_child(dir, i);
        size_t nl;
        const char *name = romfs_node_name(n, &nl);
        size_t pl = strlen(prefix);
        char *path = malloc(pl + nl + 2);
        if (!path)
            return romfs_set_error(c->err, ROMFS_ERR_NOMEM, "out of memory");
        snprintf(path, pl + nl + 2, "%s%s%s", prefix, pl ? "/" : "", name);
        int rc = add_entry(&c->ne, &c->n_ne, path, romfs_node_is_dir(n));
        if (rc) {
            free(path);
            return romfs_set_error(c->err, rc, "out of memory");
        }
        if (romfs_node_is_dir(n)) {
            rc = read_new(c, rd, n, path);
            free(path);
            if (rc)
                return rc;
            continue;
        }
        struct st_file *nf = realloc(c->nf, (c->n_nf + 1) * sizeof *nf);
        if (!nf) {
            free(path);
            return romfs_set_error(c->err, ROMFS_ERR_NOMEM, "out of memory");
        }
        c->nf = nf;
        struct st_file *f = &nf[c->n_nf++];
        memset(f, 0, sizeof *f);
        f->node = n;
        f->path = path;
        f->size = romfs_node_size(n);
        f->align = romfs_node_align(n);
        f->same = f->match = f->pin = -1;
        if (f->size > 0) {
            struct grab g = { malloc((size_t)f->size), f->size, 0 };
            if (!(f->data = g.buf))
                return romfs_set_error(c->err, ROMFS_ERR_NOMEM, "out of memory reading %s", path);
            if ((rc = rd->content(rd->ctx, n, grab_bytes, &g, c->err)))
                return rc;
            if (g.got != f->size)
                return romfs_set_error(c->err, ROMFS_ERR_MISMATCH,
                                       "%s: size changed while packing (%llu bytes expected, "
                                       "%llu read)", path, (unsigned long long)f->size,
                                       (unsigned long long)g.got);
        }
        romfs_sha256(f->data ? f->data : (const uint8_t *)"", (size_t)f->size, f->sha);
    }
    return ROMFS_OK;
}

/* ---- which data stays ----------------------------------------------------------------- */

/* Sort keys (qsort has no context argument, so each carries what it compares). */
struct by_path_key {
    const char *path;
    size_t i;
};

struct by_content_key {
    uint64_t size;
    const uint8_t *sha;
    size_t i;
};

static int by_path(const void *a, const void *b)
{
    return strcmp(((const struct by_path_key *)a)->path, ((const struct by_path_key *)b)->path);
}

static int content_cmp(uint64_t size_a, const uint8_t *sha_a, uint64_t size_b, const uint8_t *sha_b)
{
    if (size_a != size_b)
        return size_a < size_b ? -1 : 1;
    return memcmp(sha_a, sha_b, ROMFS_SHA256_SIZE);
}

static int by_content(const void *a, const void *b)
{
    const struct by_content_key *x = a, *y = b;
    int d = content_cmp(x->size, x->sha, y->size, y->sha);
    return d ? d : (x->i < y->i ? -1 : 1);   /* then base order */
}

static bool same_bytes(const struct st_ctx *c, const struct st_file *f, const struct st_base_file *b)
{
    return f->size == b->size && memcmp(f->sha, b->sha, sizeof f->sha) == 0 &&
           (f->size == 0 || memcmp(f->data, c->base + b->abs, (size_t)f->size) == 0);
}

static bool keeps_alignment(const struct st_ctx *c, const struct st_file *f, const struct st_base_file *b)
{
    return f->size == 0 || (c->p0 + b->off) % f->align == 0;
}

/* Each file keeps its own path's data when that is unchanged, else the data of another
 * base file with the same bytes (a move or a copy), each base file's data used once. */
static int match_files(struct st_ctx *c)
{
    struct by_path_key *by_p = malloc((c->n_bf + 1) * sizeof *by_p);
    struct by_content_key *by_c = malloc((c->n_bf + 1) * sizeof *by_c);
    bool *taken = calloc(c->n_bf + 1, 1);
    if (!by_p || !by_c || !taken) {
        free(by_p), free(by_c), free(taken);
        return romfs_set_error(c->err, ROMFS_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < c->n_bf; i++) {
        by_p[i] = (struct by_path_key){ c->bf[i].path, i };
        by_c[i] = (struct by_content_key){ c->bf[i].size, c->bf[i].sha, i };
    }
    qsort(by_p, c->n_bf, sizeof *by_p, by_path);
    qsort(by_c, c->n_bf, sizeof *by_c, by_content);
    for (size_t i = 0; i < c->n_nf; i++) {
        struct st_file *f = &c->nf[i];
        size_t lo = 0, hi = c->n_bf;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            int d = strcmp(by_p[mid].path, f->path);
            if (d == 0) {
                f->same = (long)by_p[mid].i;
                break;
            }
            if (d < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        struct st_base_file *b = f->same >= 0 ? &c->bf[f->same] : NULL;
        if (b && same_bytes(c, f, b) && keeps_alignment(c, f, b)) {
            f->match = f->same;
            taken[f->same] = true;
        }
    }
    for (size_t i = 0; i < c->n_nf; i++) {
        struct st_file *f = &c->nf[i];
        if (f->match >= 0 || f->size == 0)
            continue;
        size_t lo = 0, hi = c->n_bf;   /* first base file with this size and digest */
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (content_cmp(by_c[mid].size, by_c[mid].sha, f->size, f->sha) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t k = lo; k < c->n_bf; k++) {
            size_t j = by_c[k].i;
            const struct st_base_file *b = &c->bf[j];
            if (content_cmp(b->size, b->sha, f->size, f->sha))
                break;
            if (!taken[j] && keeps_alignment(c, f, b) && same_bytes(c, f, b)) {
                f->match = (long)j;
                taken[j] = true;
                break;
            }
        }
    }
    free(by_p), free(by_c), free(taken);
    return ROMFS_OK;
}

static int by_entry_path(const void *a, const void *b)
{
    const struct st_entry *x = a, *y = b;
    int d = strcmp(x->path, y->path);
    return d ? d : (int)x->dir - (int)y->dir;
}

/* Whether the new tree has exactly the base's directories and files. */
static bool same_paths(struct st_ctx *c)
{
    if (c->n_be != c->n_ne)
        return false;
    if (c->n_be == 0)
        return true;  /* two empty trees (qsort must not see their NULL arrays) */
    qsort(c->be, c->n_be, sizeof *c->be, by_entry_path);
    qsort(c->ne, c->n_ne, sizeof *c->ne, by_entry_path);
    for (size_t i = 0; i < c->n_be; i++)
        if (by_entry_path(&c->be[i], &c->ne[i]))
            return false;
    return true;
}

/* ---- choose, check, report --------------------------------------------------------------- */

/* What a fresh layout's payload would take, for the dead-space rule. */
static uint64_t fresh_estimate(const struct st_ctx *c)
{
    uint64_t meta = st_meta_size(romfs_tree_root(c->tree), c->W), n = meta + 1 + c->W + st_meta_slack(meta);
    for (size_t i = 0; i < c->n_nf; i++)
        n += c->nf[i].size + (c->nf[i].size ? c->nf[i].align - 1 : 0);
    return n;
}

/* The image must hold exactly the tree: every file's bytes at the path. Fills offsets. */
static int self_check(struct st_ctx *c, const struct st_out *o, uint64_t *offsets)
{
    struct romfs_image img;
    struct romfs_error e2;
    int rc = romfs_image_open(&img, o->img, (size_t)o->len, &e2);
    if (!rc)
        rc = romfs_image_verify(&img, NULL, &e2);
    for (size_t i = 0; !rc && i < c->n_nf; i++) {
        const struct st_file *f = &c->nf[i];
        struct romfs_entry e;
        if ((rc = romfs_lookup(&img, f->path, &e, &e2)))
            break;
        if (e.type != ROMFS_ENTRY_FILE || e.data_size != f->size ||
            (f->size && (e.data_offset % f->align ||
                         memcmp(romfs_entry_data(&img, &e), f->data, (size_t)f->size)))) {
            snprintf(e2.msg, sizeof e2.msg, "%s reads back wrong", f->path);
            rc = ROMFS_ERR_MISMATCH;
            break;
        }
        offsets[i] = e.data_offset;
    }
    if (rc)
        return romfs_set_error(c->err, ROMFS_ERR_UNSUPPORTED,
                               "internal error laying the image out against %s: %s",
                               c->opt->base_name ? c->opt->base_name : "the base", e2.msg);
    return ROMFS_OK;
}

static void out_free(struct st_out *o)
{
    free(o->img);
    memset(o, 0, sizeof *o);
}

static int choose(struct st_ctx *c, struct st_out *o, struct romfs_stable_result *res)
{
    uint64_t total = 0, kept = 0;
    bool changed = false;
    for (size_t i = 0; i < c->n_nf; i++) {
        total += c->nf[i].size;
        kept += c->nf[i].match >= 0 ? c->nf[i].size : 0;
        changed |= c->nf[i].match < 0 || c->nf[i].match != c->nf[i].same;
    }
    int rc = ST_NOFIT;
    bool same = same_paths(c);
    if (total > 0 && kept * 2 < total) {
        res->summary.why = ROMFS_STABLE_WHY_MOSTLY_CHANGED;
    } else {
        if (same) {
            res->summary.mode = changed ? ROMFS_STABLE_PATCHED : ROMFS_STABLE_SAME;
            rc = st_patch(c, o);
        }
        if (rc == ST_NOFIT) {
            out_free(o);
            res->summary.mode = ROMFS_STABLE_REWRITTEN;
            rc = st_rewrite(c, false, o);
        }
        if (rc == ST_NOFIT)
            res->summary.why = ROMFS_STABLE_WHY_HEADER;
        else if (!rc && o->len - c->p0 > 2 * fresh_estimate(c) + 2 * c->block)
            res->summary.why = ROMFS_STABLE_WHY_DEAD_SPACE;
        if (rc < 0)
            return rc;
        if (!rc && !res->summary.why && c->opt->size_limit && o->len > c->opt->size_limit) {
            struct st_out f2 = { 0 };
            if ((rc = st_rewrite(c, true, &f2)))
                return rc;
            if (f2.len <= c->opt->size_limit) {
                out_free(o);
                *o = f2;
                res->summary.mode = ROMFS_STABLE_FRESH;
                res->summary.why = ROMFS_STABLE_WHY_SIZE_LIMIT;
            } else {
                out_free(&f2);
            }
            return ROMFS_OK;
        }
        if (!rc && !res->summary.why)
            return ROMFS_OK;
    }
    out_free(o);
    res->summary.mode = ROMFS_STABLE_FRESH;
    return st_rewrite(c, true, o);
}

static void free_ctx(struct st_ctx *c)
{
    for (size_t i = 0; i < c->n_bf; i++)
        free(c->bf[i].path);
    for (size_t i = 0; i < c->n_nf; i++) {
        free(c->nf[i].path);
        free(c->nf[i].data);
    }
    for (size_t i = 0; i < c->n_be; i++)
        free(c->be[i].path);
    for (size_t i = 0; i < c->n_ne; i++)
        free(c->ne[i].path);
    free(c->bf), free(c->nf), free(c->be), free(c->ne), free(c->pads), free(c->pad_starts);
}

int romfs_stable_layout(struct romfs_tree *tree, const struct romfs_stable_options *opt,
                        romfs_content_fn content, void *content_ctx,
                        struct romfs_stable_result *res, struct romfs_error *err)
{
    memset(res, 0, sizeof *res);
    struct st_ctx c = { .opt = opt, .err = err, .tree = tree };
    c.block = opt->block ? opt->block : ROMFS_STABLE_BLOCK;
    if (c.block < 2 || (c.block & (c.block - 1)))
        return romfs_set_error(err, ROMFS_ERR_INVAL, "block size %u is not a power of two", c.block);
    struct reading rd = { content, content_ctx };
    struct st_out o = { 0 };
    int rc = read_base(&c);
    if (!rc)
        rc = read_new(&c, &rd, romfs_tree_root(tree), "");
    if (!rc)
        rc = match_files(&c);
    if (!rc) {
        /* Widths for offsets and sizes: room for anything this layout could reach. */
        uint64_t bound = c.lb + 8 * (uint64_t)c.block + 2 * st_meta_size(romfs_tree_root(tree), 10);
        for (size_t i = 0; i < c.n_nf; i++)
            bound += c.nf[i].size + c.nf[i].align;
        c.W = (uint32_t)romfs_varuint_size(bound);
        c.W = c.W < 4 ? 4 : c.W;
        c.hw_fresh = c.W;
        rc = choose(&c, &o, res);
    }
    if (!rc && !(res->offsets = calloc(c.n_nf + 1, sizeof *res->offsets)))
        rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    if (!rc)
        rc = self_check(&c, &o, res->offsets);
    if (!rc) {
        struct romfs_stable_summary *sum = &res->summary;
        res->n_offsets = c.n_nf;
        res->image = o.img;
        sum->image_size = o.len;
        sum->base_image_size = c.p0 + c.lb;
        sum->free_bytes = o.free_bytes;
        sum->files_written = o.files_written;
        sum->bytes_written = o.bytes_written;
        sum->block = c.block;
        for (size_t i = 0; i < c.n_nf; i++)
            if (c.nf[i].pin >= 0 && c.nf[i].size > 0) {
                sum->files_kept++;
                sum->bytes_kept += c.nf[i].size;
            }
        sum->blocks_changed = romfs_blocks_differing(c.base, (size_t)sum->base_image_size, o.img,
                                                     (size_t)o.len, c.block, &sum->blocks_total);
        o.img = NULL;
    }
    out_free(&o);
    free_ctx(&c);
    if (rc)
        romfs_stable_result_free(res);
    return rc;
}

void romfs_stable_result_free(struct romfs_stable_result *res)
{
    free(res->image);
    free(res->offsets);
    res->image = NULL;
    res->offsets = NULL;
    res->n_offsets = 0;
}
