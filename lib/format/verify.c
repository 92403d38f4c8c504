/* format/verify.c: strict verification of a whole image, with statistics.
 *
 * Stricter than VfsRom on purpose (it is what `romfs verify` and `romfs check` stand on):
 * every record lies inside its parent, no unused records, the image size is even, names
 * are usable as file names and unique within their directory, every file has data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/format.h"
#include "base/text.h"

#define MAX_DEPTH 256

struct span {
    size_t lo, hi;
};

struct spans {
    struct span *s;
    size_t n, cap;
};

struct verify_state {
    const struct romfs_image *img;
    struct romfs_stats *stats;
    struct romfs_error *err;
    char path[4096];
    struct spans pads;        /* padding records */
    struct spans data;        /* indirect file data: often inside padding records */
};

static int spans_add(struct verify_state *st, struct spans *sp, size_t lo, size_t hi)
{
    if (sp->n == sp->cap) {
        size_t cap = sp->cap ? 2 * sp->cap : 32;
        struct span *ns = realloc(sp->s, cap * sizeof *ns);
        if (!ns)
            return romfs_set_error(st->err, ROMFS_ERR_NOMEM, "out of memory");
        sp->s = ns;
        sp->cap = cap;
    }
    sp->s[sp->n++] = (struct span){ lo, hi };
    return ROMFS_OK;
}

static int compare_spans(const void *a, const void *b)
{
    const struct span *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sort and merge in place. */
static void spans_merge(struct spans *sp)
{
    if (sp->n < 2)
        return;
    qsort(sp->s, sp->n, sizeof *sp->s, compare_spans);
    size_t k = 0;
    for (size_t i = 1; i < sp->n; i++) {
        if (sp->s[i].lo <= sp->s[k].hi) {
            if (sp->s[i].hi > sp->s[k].hi)
                sp->s[k].hi = sp->s[i].hi;
        } else {
            sp->s[++k] = sp->s[i];
        }
    }
    sp->n = k + 1;
}

/* Bytes both sets cover: file data held in padding records is data, not padding. */
static uint64_t spans_overlap(struct spans *a, struct spans *b)
{
    spans_merge(a);
    spans_merge(b);
    uint64_t n = 0;
    for (size_t i = 0, j = 0; i < a->n && j < b->n;) {
        size_t lo = a->s[i].lo > b->s[j].lo ? a->s[i].lo : b->s[j].lo;
        size_t hi = a->s[i].hi < b->s[j].hi ? a->s[i].hi : b->s[j].hi;
        if (lo < hi)
            n += hi - lo;
        if (a->s[i].hi < b->s[j].hi)
            i++;
        else
            j++;
    }
    return n;
}

struct name_ref {
    const uint8_t *name;
    size_t len;
};

static int compare_name_refs(const void *a, const void *b)
{
    const struct name_ref *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->name, y->name, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Decode a varuint, counting bytes beyond the minimal encoding as padding. */
static int decode_counted(struct verify_state *st, size_t pos, size_t end, uint64_t *v,
                          size_t *used, const char *what)
{
    int rc = romfs_varuint_decode(st->img->data + pos, end - pos, v, used);
    if (rc)
        return romfs_set_error(st->err, ROMFS_ERR_CORRUPT, "%s at offset %zu %s%s%s", what, pos,
                               rc == ROMFS_ERR_RANGE ? "is over 64 bits" : "is truncated",
                               st->path[0] ? " in " : "", st->path);
    st->stats->padding_bytes += *used - romfs_varuint_size(*v);
    return ROMFS_OK;
}

/* Check the records in [pos, end); when names is non-NULL collect directory entries. */
static int verify_records(struct verify_state *st, size_t pos, size_t end, int depth,
                          bool in_file, bool *has_data);

static int check_name(struct verify_state *st, const uint8_t *name, size_t len, size_t offset)
{
    const char *why = NULL;
    if (len == 0)
        why = "is empty";
    else if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
        why = "is '.' or '..'";
    else if (memchr(name, '/', len))
        why = "contains '/'";
    else if (memchr(name, '\0', len))
        why = "contains a NUL byte";
    if (why)
        return romfs_set_error(st->err, ROMFS_ERR_CORRUPT,
                               "name of the entry at offset %zu in '/%s' %s", offset, st->path, why);
    return ROMFS_OK;
}

static int verify_entry(struct verify_state *st, uint64_t kind, size_t rec_start, size_t pos,
                        size_t next, int depth, struct name_ref *ref)
{
    uint64_t name_len;
    size_t used;
    int rc = decode_counted(st, pos, next, &name_len, &used, "name length");
    if (rc)
        return rc;
    if (name_len > next - pos - used)
        return romfs_set_error(st->err, ROMFS_ERR_CORRUPT,
                               "name of the entry at offset %zu runs past its record", rec_start);
    const uint8_t *name = st->img->data + pos + used;
    if ((rc = check_name(st, name, (size_t)name_len, rec_start)))
        return rc;
    ref->name = name;
    ref->len = (size_t)name_len;
    size_t saved = strlen(st->path);
    char shown[256];   /* st->path is for messages: names escaped (base/text.h) */
    snprintf(st->path + saved, sizeof st->path - saved, "%s%s", saved ? "/" : "",
             romfs_escape_to(shown, sizeof shown, (const char *)name, (size_t)name_len, ROMFS_ESCAPE_NAME));
    size_t content = pos + used + (size_t)name_len;
    if (kind == ROMFS_KIND_DIRECTORY) {
        st->stats->dirs++;
        rc = verify_records(st, content, next, depth + 1, false, NULL);
    } else {
        bool has_data = false;
        st->stats->files++;
        rc = verify_records(st, content, next, depth + 1, true, &has_data);
        if (!rc && !has_data)
            rc = romfs_set_error(st->err, ROMFS_ERR_CORRUPT,
                                 "file '/%s' at offset %zu has no data record", st->path, rec_start);
        if (!rc) {
            struct romfs_dir_iter it = { st->img, rec_start, next };
            struct romfs_entry e;
            rc = romfs_dir_next(&it, &e, st->err);   /* computes the data extent */
            if (rc == 1) {
                rc = ROMFS_OK;
                st->stats->data_bytes += e.data_size;
                st->stats->indirect_files += e.data_indirect;
                if (e.data_indirect && e.data_size)
                    rc = spans_add(st, &st->data, (size_t)e.data_offset,
                                   (size_t)(e.data_offset + e.data_size));
                if (e.data_size > 0) {
                    uint64_t a = e.data_offset ? (e.data_offset & (~e.data_offset + 1)) : 1u << 31;
                    if (a > (1u << 31))
                        a = 1u << 31;
                    if (st->stats->min_data_alignment == 0 || a < st->stats->min_data_alignment)
                        st->stats->min_data_alignment = a;
                }
            }
        }
    }
    st->path[saved] = '\0';
    return rc;
}

static int verify_records(struct verify_state *st, size_t pos, size_t end, int depth,
                          bool in_file, bool *has_data)
{
    if (depth > MAX_DEPTH)
        return romfs_set_error(st->err, ROMFS_ERR_CORRUPT,
                               "directories nested more than %d deep at offset %zu", MAX_DEPTH, pos);
    struct name_ref *names = NULL;
    size_t n_names = 0, cap = 0;
    int rc = ROMFS_OK;
    while (!rc && pos < end) {
        size_t rec_start = pos, used;
        uint64_t kind, len, padding_before = st->stats->padding_bytes;
        if ((rc = decode_counted(st, pos, end, &kind, &used, "record kind")))
            break;
        pos += used;
        if ((rc = decode_counted(st, pos, end, &len, &used, "record length")))
            break;
        pos += used;
        if (len > end - pos) {
            rc = romfs_set_error(st->err, ROMFS_ERR_CORRUPT,
                                 "record at offset %zu (kind %llu, length %llu) runs past its "
                                 "parent's end at offset %zu%s%s", rec_start,
                                 (unsigned long long)kind, (unsigned long long)len, end,
                                 st->path[0] ? " in /" : "", st->path);
            break;
        }
        size_t next = pos + (size_t)len;
        if (kind == ROMFS_KIND_UNUSED) {
            rc = romfs_set_error(st->err, ROMFS_ERR_CORRUPT, "unused record (kind 0) at offset %zu",
                                 rec_start);
        } else if (kind == ROMFS_KIND_PADDING) {
            /* the whole record (a padded length field is not counted twice) */
            st->stats->padding_bytes = padding_before + (next - rec_start);
            rc = spans_add(st, &st->pads, rec_start, next);
        } else if (kind == ROMFS_KIND_DATA_VERBATIM || kind == ROMFS_KIND_DATA_INDIRECT) {
            if (in_file)
                *has_data = true;
        } else if (kind == ROMFS_KIND_DIRECTORY || kind == ROMFS_KIND_FILE) {
            if (in_file) {
                rc = romfs_set_error(st->err, ROMFS_ERR_CORRUPT,
                                     "%s record at offset %zu inside file '/%s'",
                                     kind == ROMFS_KIND_FILE ? "file" : "directory", rec_start,
                                     st->path);
                break;
            }
            if (n_names == cap) {
                cap = cap ? cap * 2 : 16;
                struct name_ref *nn = realloc(names, cap * sizeof *nn);
                if (!nn) {
                    rc = romfs_set_error(st->err, ROMFS_ERR_NOMEM, "out of memory");
                    break;
                }
                names = nn;
            }
            rc = verify_entry(st, kind, rec_start, pos, next, depth, &names[n_names]);
            if (!rc)
                n_names++;
        }
        pos = next;
    }
    if (!rc && n_names > 1) {
        qsort(names, n_names, sizeof *names, compare_name_refs);
        for (size_t i = 1; i < n_names; i++)
            if (compare_name_refs(&names[i - 1], &names[i]) == 0) {
                char shown[256];
                rc = romfs_set_error(st->err, ROMFS_ERR_CORRUPT, "duplicate name '%s' in directory '/%s'",
                                     romfs_escape_to(shown, sizeof shown, (const char *)names[i].name,
                                                     names[i].len, ROMFS_ESCAPE_NAME),
                                     st->path);
                break;
            }
    }
    free(names);
    return rc;
}

int romfs_image_verify(const struct romfs_image *img, struct romfs_stats *stats,
                       struct romfs_error *err)
{
    struct romfs_stats local;
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    stats->image_size = img->payload_end;
    stats->payload_size = img->payload_end - img->payload_start;
    struct verify_state st = { img, stats, err, "", { NULL, 0, 0 }, { NULL, 0, 0 } };
    /* The image length varuint itself: padding beyond minimal. */
    stats->padding_bytes += img->payload_start - 3 - romfs_varuint_size(stats->payload_size);
    int rc = verify_records(&st, img->payload_start, img->payload_end, 0, false, NULL);
    stats->padding_bytes -= spans_overlap(&st.pads, &st.data);
    free(st.pads.s);
    free(st.data.s);
    stats->overhead_bytes = stats->image_size - stats->data_bytes;
    if (!rc && img->payload_end % 2)
        rc = romfs_set_error(err, ROMFS_ERR_CORRUPT,
                             "image size %zu is odd; ROMFS images must have an even size",
                             img->payload_end);
    return rc;
}
