/* image/stable_write.c: the layouts of stable.h. Free space is a set of payload ranges;
 * PATCHED rewrites changed files' records in place, REWRITTEN and FRESH write one block
 * of metadata, all between padding records that hold the file data:
 *
 *   [padding: 0 .. Ms, when Ms > 0] [metadata: Ms .. Me] [padding: Me .. payload end]
 *
 * Every byte this file does not write keeps the base's value, so a layout that changes
 * little differs from the base in few blocks. */
#include <stdlib.h>
#include <string.h>

#include "image/stable_internal.h"

/* ---- free space --------------------------------------------------------------------- */

static int space_insert(struct st_space *s, size_t at, uint64_t lo, uint64_t hi)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        struct st_range *nr = realloc(s->r, cap * sizeof *nr);
        if (!nr)
            return ROMFS_ERR_NOMEM;
        s->r = nr;
        s->cap = cap;
    }
    memmove(s->r + at + 1, s->r + at, (s->n - at) * sizeof *s->r);
    s->r[at] = (struct st_range){ lo, hi };
    s->n++;
    return ROMFS_OK;
}

int st_space_add(struct st_space *s, uint64_t lo, uint64_t hi)
{
    if (lo >= hi)
        return ROMFS_OK;
    size_t i = 0;
    while (i < s->n && s->r[i].hi < lo)
        i++;
    size_t j = i;
    while (j < s->n && s->r[j].lo <= hi) {   /* overlapping or touching: merge */
        lo = s->r[j].lo < lo ? s->r[j].lo : lo;
        hi = s->r[j].hi > hi ? s->r[j].hi : hi;
        j++;
    }
    if (j == i)
        return space_insert(s, i, lo, hi);
    s->r[i] = (struct st_range){ lo, hi };
    memmove(s->r + i + 1, s->r + j, (s->n - j) * sizeof *s->r);
    s->n -= j - i - 1;
    return ROMFS_OK;
}

int st_space_remove(struct st_space *s, uint64_t lo, uint64_t hi)
{
    for (size_t i = 0; lo < hi && i < s->n;) {
        struct st_range r = s->r[i];
        if (r.hi <= lo || r.lo >= hi) {
            i++;
        } else if (r.lo < lo && r.hi > hi) {
            s->r[i].hi = lo;
            return space_insert(s, i + 1, hi, r.hi);
        } else if (r.lo < lo) {
            s->r[i++].hi = lo;
        } else if (r.hi > hi) {
            s->r[i++].lo = hi;
        } else {
            memmove(s->r + i, s->r + i + 1, (s->n - i - 1) * sizeof *s->r);
            s->n--;
        }
    }
    return ROMFS_OK;
}

bool st_space_is_free(const struct st_space *s, uint64_t lo, uint64_t hi)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->r[i].lo <= lo && hi <= s->r[i].hi)
            return true;
    return false;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

uint64_t st_space_fit(const struct st_space *s, uint64_t size, uint32_t align, uint64_t p0,
                      uint32_t block, uint64_t below, bool whole_block)
{
    for (size_t i = 0; i < s->n; i++) {
        uint64_t at = align_up(p0 + s->r[i].lo, align);
        if (whole_block && size <= block && at % block + size > block)
            at = align_up(at, block);
        uint64_t off = at - p0, limit = s->r[i].hi < below ? s->r[i].hi : below;
        if (off < limit && size <= limit - off)
            return off;
    }
    return ST_NONE;
}

uint64_t st_space_total(const struct st_space *s, uint64_t below)
{
    uint64_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->r[i].lo < below)
            n += (s->r[i].hi < below ? s->r[i].hi : below) - s->r[i].lo;
    return n;
}

void st_space_free(struct st_space *s)
{
    free(s->r);
    memset(s, 0, sizeof *s);
}

/* Take [lo, hi) out of the free space; returns how many of its bytes were free. */
static uint64_t space_cut(struct st_space *s, uint64_t lo, uint64_t hi, int *rc)
{
    uint64_t before = st_space_total(s, ST_NONE);
    *rc = st_space_remove(s, lo, hi);
    return before - st_space_total(s, ST_NONE);
}

/* ---- records -------------------------------------------------------------------------- */

/* A padding record of exactly n >= 2 bytes at p (its payload keeps what is there), its
 * length field `width` bytes wide when n allows, else as short as possible. */
static void put_pad(uint8_t *p, uint64_t n, size_t width)
{
    size_t lw = 1;
    if (width && n >= 1 + width)
        lw = width;
    while (romfs_varuint_size(n - 1 - lw) > lw)
        lw++;
    p[0] = ROMFS_KIND_PADDING;
    romfs_varuint_encode(n - 1 - lw, lw, p + 1);
}

/* Fill a file record's nested records [lo, hi) with its data, verbatim and aligned,
 * followed by padding. False when it does not fit. */
static bool put_verbatim(uint8_t *img, size_t lo, size_t hi, const struct st_file *f)
{
    size_t ms = romfs_varuint_size(f->size);
    for (size_t lead = 0; lead <= (size_t)f->align + 2 && lo + lead < hi; lead++) {
        for (size_t w = ms; lead != 1 && w <= ms + 2; w++) {
            size_t d = lo + lead + 1 + w;
            if (d > hi || f->size > hi - d || (f->size && d % f->align))
                continue;
            size_t rest = hi - d - (size_t)f->size;
            if (rest == 1)
                continue;
            if (lead)
                put_pad(img + lo, lead, 0);
            img[lo + lead] = ROMFS_KIND_DATA_VERBATIM;
            romfs_varuint_encode(f->size, w, img + lo + lead + 1);
            if (f->size)
                memcpy(img + d, f->data, (size_t)f->size);
            if (rest)
                put_pad(img + d + f->size, rest, 0);
            return true;
        }
    }
    return false;
}

/* Fill [lo, hi) with an indirect data record (size and offset W bytes wide when there is
 * room) and padding. False when it does not fit. */
static bool put_indirect(uint8_t *img, size_t lo, size_t hi, uint64_t size, uint64_t off,
                         size_t W)
{
    size_t r = hi - lo, ms = romfs_varuint_size(size), mo = romfs_varuint_size(off);
    size_t ws = ms > W ? ms : W, wo = mo > W ? mo : W;
    if (2 + ws + wo > r) {
        ws = ms;
        wo = mo;
    }
    if (2 + ws + wo > r)
        return false;
    size_t rest = r - 2 - ws - wo;
    if (rest == 1) {
        wo++;
        rest = 0;
    }
    img[lo] = ROMFS_KIND_DATA_INDIRECT;
    img[lo + 1] = (uint8_t)(ws + wo);
    romfs_varuint_encode(size, ws, img + lo + 2);
    romfs_varuint_encode(off, wo, img + lo + 2 + ws);
    if (rest)
        put_pad(img + hi - rest, rest, 0);
    return true;
}

static uint64_t node_payload(const struct romfs_node *n, uint32_t W)
{
    size_t nl;
    romfs_node_name(n, &nl);
    uint64_t p = romfs_varuint_size(nl) + nl;
    if (!romfs_node_is_dir(n))
        return p + 2 + 2 * (uint64_t)W;    /* 03, its length, size, offset */
    return p + st_meta_size(n, W);
}

uint64_t st_meta_size(const struct romfs_node *dir, uint32_t W)
{
    uint64_t n = 0;
    for (size_t i = 0; i < romfs_node_child_count(dir); i++) {
        uint64_t p = node_payload(romfs_node_child(dir, i), W);
        n += 1 + romfs_varuint_size(p) + p;
    }
    return n;
}

uint64_t st_meta_slack(uint64_t meta_len)
{
    return meta_len / 4 + 128;
}

struct meta_writer {
    const struct st_ctx *c;
    uint8_t *p;
    size_t file;    /* files in tree order, as c->nf */
};

static void put_meta(struct meta_writer *m, const struct romfs_node *dir)
{
    uint32_t W = m->c->W;
    for (size_t i = 0; i < romfs_node_child_count(dir); i++) {
        const struct romfs_node *n = romfs_node_child(dir, i);
        size_t nl;
        const char *name = romfs_node_name(n, &nl);
        *m->p++ = romfs_node_is_dir(n) ? ROMFS_KIND_DIRECTORY : ROMFS_KIND_FILE;
        m->p += romfs_varuint_encode(node_payload(n, W), 0, m->p);
        m->p += romfs_varuint_encode(nl, 0, m->p);
        memcpy(m->p, name, nl);
        m->p += nl;
        if (romfs_node_is_dir(n)) {
            put_meta(m, n);
            continue;
        }
        const struct st_file *f = &m->c->nf[m->file++];
        uint64_t off = f->pin >= 0 ? m->c->bf[f->pin].off : f->size ? f->off : 0;
        *m->p++ = ROMFS_KIND_DATA_INDIRECT;
        *m->p++ = (uint8_t)(2 * W);
        m->p += romfs_varuint_encode(f->size, W, m->p);
        m->p += romfs_varuint_encode(off, W, m->p);
    }
}

/* ---- shared steps ----------------------------------------------------------------------- */

/* The base's bytes up to what is kept (a signature of other bytes is not). */
static int out_copy_base(const struct st_ctx *c, struct st_out *o, bool whole)
{
    o->len = c->p0 + (whole ? c->lb : c->lb_keep);
    if (!(o->img = malloc((size_t)o->len)))
        return romfs_set_error(c->err, ROMFS_ERR_NOMEM, "out of memory");
    memcpy(o->img, c->base, (size_t)o->len);
    return ROMFS_OK;
}

static int out_grow(const struct st_ctx *c, struct st_out *o, uint64_t len)
{
    if (len <= o->len)
        return ROMFS_OK;
    if (len > SIZE_MAX / 2)
        return romfs_set_error(c->err, ROMFS_ERR_FBIG, "image of %llu bytes is too large",
                               (unsigned long long)len);
    uint8_t *ni = realloc(o->img, (size_t)len);
    if (!ni)
        return romfs_set_error(c->err, ROMFS_ERR_NOMEM, "out of memory");
    memset(ni + o->len, 0, (size_t)(len - o->len));
    o->img = ni;
    o->len = len;
    return ROMFS_OK;
}

/* The payload length for content up to `need`: the image end rounded up to a block
 * (the slack), unless that would pass the size limit. */
static uint64_t round_payload(const struct st_ctx *c, size_t p0, uint64_t need)
{
    uint64_t end = p0 + need, r = align_up(end, c->block);
    if (c->opt->size_limit && r > c->opt->size_limit)
        r = end + (end & 1);
    return r - p0;
}

/* New data for f: free space inside the image first (within one block if it fits in
 * one), then past its end (there too within one block, unless that passes the limit). */
static uint64_t place(const struct st_ctx *c, const struct st_space *s, const struct st_file *f,
                      size_t p0, uint64_t inside)
{
    bool whole = f->size <= c->block;
    uint64_t off = whole ? st_space_fit(s, f->size, f->align, p0, c->block, inside, true) : ST_NONE;
    if (off == ST_NONE)
        off = st_space_fit(s, f->size, f->align, p0, c->block, inside, false);
    if (off == ST_NONE)
        off = st_space_fit(s, f->size, f->align, p0, c->block, ST_NONE, whole);
    if (whole && c->opt->size_limit && p0 + off + f->size > c->opt->size_limit)
        off = st_space_fit(s, f->size, f->align, p0, c->block, ST_NONE, false);
    return off;
}

/* Its own old place, when the new data fits there (same size or less, or room after). */
static uint64_t in_place(const struct st_ctx *c, const struct st_space *s, const struct st_file *f,
                         size_t p0)
{
    if (f->same < 0)
        return ST_NONE;
    uint64_t off = c->bf[f->same].off;
    return (p0 + off) % f->align == 0 && st_space_is_free(s, off, off + f->size) ? off : ST_NONE;
}

static bool overlaps(uint64_t a, uint64_t an, uint64_t b, uint64_t bn)
{
    return a < b + bn && b < a + an;
}

/* ---- PATCHED ------------------------------------------------------------------------------ */

/* Keep no data that lies in a record rewritten here (a file whose data moved away from
 * a verbatim record another file kept): the rewrite would clobber it. */
static void unpin_clobbered(struct st_ctx *c)
{
    for (bool again = true; again;) {
        again = false;
        for (size_t j = 0; j < c->n_nf; j++) {
            const struct st_file *g = &c->nf[j];
            if (g->pin >= 0 && g->pin == g->same)
                continue;   /* its record stays */
            const struct st_base_file *r = &c->bf[g->same];
            for (size_t i = 0; i < c->n_nf; i++) {
                struct st_file *f = &c->nf[i];
                if (f->pin >= 0 && f->size &&
                    overlaps(c->bf[f->pin].abs, f->size, r->content, r->end - r->content)) {
                    f->pin = -1;
                    again = true;
                }
            }
        }
    }
}

int st_patch(struct st_ctx *c, struct st_out *o)
{
    size_t p0 = c->p0, W = c->W;
    uint64_t lb = c->lb_keep, reserved = 0, tail_end = 0;
    bool changed = false;
    for (size_t i = 0; i < c->n_nf; i++) {
        c->nf[i].pin = c->nf[i].match;
        changed |= c->nf[i].match < 0 || c->nf[i].match != c->nf[i].same;
    }
    unpin_clobbered(c);
    struct st_space s = { 0 };
    int rc = ROMFS_OK;
    for (size_t k = 0; !rc && k < c->n_pads; k++)
        rc = st_space_add(&s, c->pads[k].lo, c->pads[k].hi);
    for (size_t i = 0; !rc && i < c->n_nf; i++)
        if (c->nf[i].pin >= 0)
            rc = st_space_remove(&s, c->bf[c->nf[i].pin].off, c->bf[c->nf[i].pin].off + c->nf[i].size);
    /* The start of a padding record right after the metadata is its slack, when the
     * directory and file records hold no data (the layouts written below). */
    bool meta_only = true;
    for (size_t j = 0; j < c->n_bf; j++)
        meta_only &= c->bf[j].indirect || c->bf[j].size == 0;
    for (size_t k = 0; !rc && meta_only && c->meta_hi && k < c->n_pads; k++)
        if (c->pad_starts[k] == c->meta_hi) {
            uint64_t lo = c->pads[k].lo, hi = lo + st_meta_slack(c->meta_hi - c->meta_lo);
            reserved = space_cut(&s, lo, hi < c->pads[k].hi ? hi : c->pads[k].hi, &rc);
        }
    if (!rc)
        rc = st_space_add(&s, lb + 1 + W, ST_NONE);   /* after a padding record appended */
    if (!rc && !changed) {   /* the base itself, its signature included */
        rc = out_copy_base(c, o, true);
        o->free_bytes = st_space_total(&s, lb) + reserved;
        st_space_free(&s);
        return rc;
    }
    if (!rc)
        rc = out_copy_base(c, o, false);
    for (size_t i = 0; !rc && i < c->n_nf; i++) {
        struct st_file *f = &c->nf[i];
        if (f->pin >= 0 && f->pin == f->same)
            continue;
        const struct st_base_file *b = &c->bf[f->same];
        if (f->pin >= 0) {
            if (!put_indirect(o->img, b->content, b->end, f->size, c->bf[f->pin].off, W))
                rc = ST_NOFIT;
            continue;
        }
        o->files_written += f->size > 0;
        o->bytes_written += f->size;
        if (put_verbatim(o->img, b->content, b->end, f))
            continue;
        uint64_t off = b->indirect ? in_place(c, &s, f, p0) : ST_NONE;
        if (off == ST_NONE)
            off = place(c, &s, f, p0, lb);
        if ((rc = st_space_remove(&s, off, off + f->size)))
            break;
        if (off + f->size > lb && off + f->size > tail_end)
            tail_end = off + f->size;
        if ((rc = out_grow(c, o, p0 + off + f->size)))
            break;
        memcpy(o->img + p0 + off, f->data, (size_t)f->size);
        if (!put_indirect(o->img, b->content, b->end, f->size, off, W))
            rc = ST_NOFIT;
    }
    uint64_t lp = lb;
    if (!rc && !tail_end && (p0 + lb) % 2)
        lp = lb + 3;   /* a signature record gone left the size odd: 3 bytes of padding */
    if (!rc && tail_end)
        lp = round_payload(c, p0, tail_end);
    if (!rc && lp > lb && !(rc = out_grow(c, o, p0 + lp)))
        put_pad(o->img + p0 + lb, lp - lb, tail_end ? W : 0);
    if (!rc && romfs_varuint_size(lp) > c->hw)
        rc = ST_NOFIT;
    if (!rc) {
        romfs_varuint_encode(lp, c->hw, o->img + 3);
        o->len = p0 + lp;
        o->free_bytes = st_space_total(&s, lp) + reserved;
    }
    if (rc == ROMFS_ERR_NOMEM)
        romfs_set_error(c->err, rc, "out of memory");
    st_space_free(&s);
    return rc;
}

/* ---- REWRITTEN and FRESH ---------------------------------------------------------------- */

static bool pins_clear(const struct st_space *pins, uint64_t lo, uint64_t hi)
{
    for (size_t k = 0; k < pins->n; k++)
        if (pins->r[k].lo < hi && lo < pins->r[k].hi)
            return false;
    return true;
}

/* Where the metadata (and the padding header after it, `need` bytes) goes: where the
 * base's was if it still fits, else the first gap between kept data that holds it. */
static uint64_t meta_place(const struct st_ctx *c, const struct st_space *pins, bool fresh,
                           uint64_t need)
{
    if (!fresh && c->meta_hi && (c->meta_lo == 0 || c->meta_lo >= 2) &&
        pins_clear(pins, c->meta_lo, c->meta_lo + need))
        return c->meta_lo;
    uint64_t at = 0;
    for (size_t k = 0;; k++) {
        uint64_t start = at == 1 ? 2 : at;
        if (k == pins->n || start + need <= pins->r[k].lo)
            return start;
        at = pins->r[k].hi;
    }
}

int st_rewrite(struct st_ctx *c, bool fresh, struct st_out *o)
{
    uint32_t W = c->W;
    size_t hw = fresh ? c->hw_fresh : c->hw, p0 = 3 + hw;
    uint64_t lb = fresh ? 0 : c->lb_keep, max_end = 0, reserved = 0;
    struct st_space pins = { 0 }, s = { 0 };
    int rc = ROMFS_OK;
    for (size_t i = 0; i < c->n_nf; i++) {
        struct st_file *f = &c->nf[i];
        f->pin = fresh ? -1 : f->match;
        /* the first bytes may hold the padding record that hides the old records */
        if (f->pin >= 0 && f->size && c->bf[f->pin].off < 1 + (uint64_t)W)
            f->pin = -1;
        if (f->pin >= 0 && !rc)
            rc = st_space_add(&pins, c->bf[f->pin].off, c->bf[f->pin].off + f->size);
    }
    uint64_t meta_len = st_meta_size(romfs_tree_root(c->tree), W);
    uint64_t ms = meta_place(c, &pins, fresh, meta_len + 1 + W), me = ms + meta_len;
    if (!rc)
        rc = st_space_add(&s, 0, ST_NONE);
    for (size_t k = 0; !rc && k < pins.n; k++)
        rc = st_space_remove(&s, pins.r[k].lo, pins.r[k].hi);
    if (!rc)
        rc = st_space_remove(&s, ms, me + 1 + W);
    if (!rc && ms > 0)
        rc = st_space_remove(&s, 0, ms < 1 + W ? ms : 1 + W);
    if (!rc)
        reserved = space_cut(&s, me + 1 + W, me + 1 + W + st_meta_slack(meta_len), &rc);
    for (size_t i = 0; !rc && i < c->n_nf; i++) {
        struct st_file *f = &c->nf[i];
        if (f->pin >= 0 || f->size == 0)
            continue;
        uint64_t off = fresh ? ST_NONE : in_place(c, &s, f, p0);
        if (off == ST_NONE)
            off = fresh ? st_space_fit(&s, f->size, f->align, p0, c->block, ST_NONE, false)
                        : place(c, &s, f, p0, lb);
        rc = st_space_remove(&s, off, off + f->size);
        f->off = off;
        max_end = off + f->size > max_end ? off + f->size : max_end;
        o->files_written++;
        o->bytes_written += f->size;
    }
    if (rc == ROMFS_ERR_NOMEM)
        rc = romfs_set_error(c->err, rc, "out of memory");
    uint64_t need = me + 1 + W > lb ? me + 1 + W : lb;
    need = max_end > need ? max_end : need;
    uint64_t lp = need > lb ? round_payload(c, p0, need) : lb + (p0 + lb) % 2;   /* even */
    if (!rc && romfs_varuint_size(lp) > hw)
        rc = fresh ? romfs_set_error(c->err, ROMFS_ERR_UNSUPPORTED, "image too large") : ST_NOFIT;
    if (!rc && !fresh)
        rc = out_copy_base(c, o, false);
    if (!rc)
        rc = out_grow(c, o, p0 + lp);
    if (!rc) {
        o->img[0] = 0xd2, o->img[1] = 0xcd, o->img[2] = 0x31;
        romfs_varuint_encode(lp, hw, o->img + 3);
        if (ms > 0)
            put_pad(o->img + p0, ms, W);
        struct meta_writer m = { c, o->img + p0 + ms, 0 };
        put_meta(&m, romfs_tree_root(c->tree));
        put_pad(o->img + p0 + me, lp - me, W);
        for (size_t i = 0; i < c->n_nf; i++)
            if (c->nf[i].pin < 0 && c->nf[i].size)
                memcpy(o->img + p0 + c->nf[i].off, c->nf[i].data, (size_t)c->nf[i].size);
        o->len = p0 + lp;
        o->free_bytes = st_space_total(&s, lp) + reserved;
    }
    st_space_free(&pins);
    st_space_free(&s);
    return rc;
}
