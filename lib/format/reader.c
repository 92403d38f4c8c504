/* format/reader.c: the bounds-checked image reader and the strict verifier.
 *
 * Acceptance follows MicroPython's VfsRom: the mount checks only the header and that the
 * image length lies within the buffer; records are then read lazily, unknown kinds and
 * padding are skipped, an unused (kind 0) or truncated record is corruption. Unlike
 * VfsRom, every nested record is checked against its parent's end, so a hostile image
 * is reported (with its byte offset) instead of read out of bounds. */
#include <stdlib.h>
#include <string.h>

#include "format/format.h"
#include "base/text.h"

#define MAX_DEPTH 256

int romfs_image_open(struct romfs_image *img, const uint8_t *data, size_t size,
                     struct romfs_error *err)
{
    memset(img, 0, sizeof *img);
    if (size < 4)
        return romfs_set_error(err, ROMFS_ERR_CORRUPT,
                               "not a ROMFS image: %zu bytes, at least 4 needed", size);
    if (data[0] != 0xd2 || data[1] != 0xcd || data[2] != 0x31)
        return romfs_set_error(err, ROMFS_ERR_CORRUPT,
                               "not a ROMFS image: header is %02x %02x %02x, expected d2 cd 31",
                               data[0], data[1], data[2]);
    uint64_t len;
    size_t used;
    if (romfs_varuint_decode(data + 3, size - 3, &len, &used))
        return romfs_set_error(err, ROMFS_ERR_CORRUPT,
                               "image length at offset 3 is truncated or too large");
    size_t start = 3 + used;
    if (len > size - start)
        return romfs_set_error(err, ROMFS_ERR_CORRUPT,
                               "image length %llu at offset 3 runs past the %zu bytes available "
                               "(truncated image?)", (unsigned long long)len, size);
    img->data = data;
    img->size = size;
    img->payload_start = start;
    img->payload_end = start + (size_t)len;
    return ROMFS_OK;
}

void romfs_dir_begin(const struct romfs_image *img, const struct romfs_entry *dir,
                     struct romfs_dir_iter *it)
{
    it->img = img;
    it->pos = dir ? dir->content_start : img->payload_start;
    it->end = dir ? dir->content_end : img->payload_end;
}

/* Read one record header at *pos within [.., end). On success *kind, *content (payload
 * start) and *next (payload end) are set and *pos is left at the payload. */
static int read_record(const struct romfs_image *img, size_t *pos, size_t end, uint64_t *kind,
                       size_t *next, struct romfs_error *err)
{
    size_t start = *pos, used;
    uint64_t len;
    int rc = romfs_varuint_decode(img->data + *pos, end - *pos, kind, &used);
    if (rc)
        return romfs_set_error(err, ROMFS_ERR_CORRUPT, rc == ROMFS_ERR_RANGE ? "record kind at offset %zu is over 64 bits"
                               : "truncated record kind at offset %zu", start);
    *pos += used;
    rc = romfs_varuint_decode(img->data + *pos, end - *pos, &len, &used);
    if (rc)
        return romfs_set_error(err, ROMFS_ERR_CORRUPT, rc == ROMFS_ERR_RANGE ? "record length at offset %zu is over 64 bits"
                               : "truncated record length at offset %zu", start);
    *pos += used;
    if (len > end - *pos)
        return romfs_set_error(err, ROMFS_ERR_CORRUPT,
                               "record at offset %zu (kind %llu, length %llu) runs past its "
                               "parent's end at offset %zu", start, (unsigned long long)*kind,
                               (unsigned long long)len, end);
    if (*kind == ROMFS_KIND_UNUSED)
        return romfs_set_error(err, ROMFS_ERR_CORRUPT, "unused record (kind 0) at offset %zu",
                               start);
    *next = *pos + (size_t)len;
    return ROMFS_OK;
}

/* Find a file's data: the first data record among its nested records. */
static int find_file_data(const struct romfs_image *img, struct romfs_entry *e,
                          struct romfs_error *err)
{
    size_t pos = e->content_start;
    while (pos < e->content_end) {
        uint64_t kind;
        size_t next;
        int rc = read_record(img, &pos, e->content_end, &kind, &next, err);
        if (rc)
            return rc;
        if (kind == ROMFS_KIND_DATA_VERBATIM) {
            e->data_offset = pos;
            e->data_size = next - pos;
            e->data_indirect = false;
            return ROMFS_OK;
        }
        if (kind == ROMFS_KIND_DATA_INDIRECT) {
            uint64_t size, offset;
            size_t used;
            if (romfs_varuint_decode(img->data + pos, next - pos, &size, &used) ||
                romfs_varuint_decode(img->data + pos + used, next - pos - used, &offset, &used))
                return romfs_set_error(err, ROMFS_ERR_CORRUPT,
                                       "truncated indirect data record at offset %zu", pos);
            uint64_t payload = img->payload_end - img->payload_start;
            if (offset > payload || size > payload - offset)
                return romfs_set_error(err, ROMFS_ERR_CORRUPT,
                                       "indirect data at offset %zu (%llu bytes at payload offset "
                                       "%llu) lies outside the image", pos,
                                       (unsigned long long)size, (unsigned long long)offset);
            e->data_offset = img->payload_start + offset;
            e->data_size = size;
            e->data_indirect = true;
            return ROMFS_OK;
        }
        pos = next;
    }
    char shown[256];
    return romfs_set_error(err, ROMFS_ERR_CORRUPT, "file '%s' at offset %zu has no data record",
                           romfs_escape_to(shown, sizeof shown, (const char *)e->name, e->name_len,
                                           ROMFS_ESCAPE_NAME),
                           e->record_offset);
}

int romfs_dir_next(struct romfs_dir_iter *it, struct romfs_entry *out, struct romfs_error *err)
{
    const struct romfs_image *img = it->img;
    while (it->pos < it->end) {
        size_t start = it->pos, pos = it->pos, next;
        uint64_t kind;
        int rc = read_record(img, &pos, it->end, &kind, &next, err);
        if (rc)
            return rc;
        it->pos = next;
        if (kind != ROMFS_KIND_DIRECTORY && kind != ROMFS_KIND_FILE)
            continue;
        uint64_t name_len;
        size_t used;
        if (romfs_varuint_decode(img->data + pos, next - pos, &name_len, &used) ||
            name_len > next - pos - used)
            return romfs_set_error(err, ROMFS_ERR_CORRUPT,
                                   "name of the entry at offset %zu runs past its record", start);
        memset(out, 0, sizeof *out);
        out->type = kind == ROMFS_KIND_DIRECTORY ? ROMFS_ENTRY_DIR : ROMFS_ENTRY_FILE;
        out->name = img->data + pos + used;
        out->name_len = (size_t)name_len;
        out->record_offset = start;
        out->content_start = pos + used + (size_t)name_len;
        out->content_end = next;
        if (out->type == ROMFS_ENTRY_FILE && (rc = find_file_data(img, out, err)))
            return rc;
        return 1;
    }
    return 0;
}

int romfs_lookup(const struct romfs_image *img, const char *path, struct romfs_entry *out,
                 struct romfs_error *err)
{
    struct romfs_entry cur;
    memset(&cur, 0, sizeof cur);
    cur.type = ROMFS_ENTRY_DIR;
    cur.name = (const uint8_t *)"";
    cur.record_offset = 0;
    cur.content_start = img->payload_start;
    cur.content_end = img->payload_end;
    const char *p = path;
    for (;;) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        size_t n = strcspn(p, "/");
        if (cur.type != ROMFS_ENTRY_DIR) {
            char shown[256];
            return romfs_set_error(err, ROMFS_ERR_NOTDIR, "%s: '%s' is not a directory", path,
                                   romfs_escape_to(shown, sizeof shown, (const char *)cur.name, cur.name_len,
                                                   ROMFS_ESCAPE_NAME));
        }
        struct romfs_dir_iter it;
        struct romfs_entry e;
        romfs_dir_begin(img, &cur, &it);
        int rc;
        while ((rc = romfs_dir_next(&it, &e, err)) == 1)
            if (e.name_len == n && memcmp(e.name, p, n) == 0)
                break;
        if (rc < 0)
            return rc;
        if (rc == 0)
            return romfs_set_error(err, ROMFS_ERR_NOENT, "%s: no such file or directory in the image",
                                   path);
        cur = e;
        p += n;
    }
    *out = cur;
    return ROMFS_OK;
}

const uint8_t *romfs_entry_data(const struct romfs_image *img, const struct romfs_entry *file)
{
    return img->data + file->data_offset;
}

/* ---- walk -------------------------------------------------------------------- */

struct path_buf {
    char *s;
    size_t len, cap;
};

static int path_push(struct path_buf *pb, const uint8_t *name, size_t n, struct romfs_error *err)
{
    size_t need = pb->len + (pb->len ? 1 : 0) + n + 1;
    if (need > pb->cap) {
        size_t cap = need * 2;
        char *s = realloc(pb->s, cap);
        if (!s)
            return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
        pb->s = s;
        pb->cap = cap;
    }
    if (pb->len)
        pb->s[pb->len++] = '/';
    memcpy(pb->s + pb->len, name, n);
    pb->len += n;
    pb->s[pb->len] = '\0';
    return ROMFS_OK;
}

static int walk_dir(const struct romfs_image *img, const struct romfs_entry *dir, int depth,
                    struct path_buf *pb, romfs_visit_fn visit, void *ctx, struct romfs_error *err)
{
    if (depth >= MAX_DEPTH)
        return romfs_set_error(err, ROMFS_ERR_CORRUPT,
                               "directories nested more than %d deep at offset %zu", MAX_DEPTH,
                               dir ? dir->record_offset : 0);
    struct romfs_dir_iter it;
    struct romfs_entry e;
    romfs_dir_begin(img, dir, &it);
    int rc;
    while ((rc = romfs_dir_next(&it, &e, err)) == 1) {
        size_t saved = pb->len;
        if ((rc = path_push(pb, e.name, e.name_len, err)))
            return rc;
        rc = visit(ctx, pb->s, &e, depth);
        if (!rc && e.type == ROMFS_ENTRY_DIR)
            rc = walk_dir(img, &e, depth + 1, pb, visit, ctx, err);
        pb->len = saved;
        pb->s[saved] = '\0';
        if (rc)
            return rc;
    }
    return rc;
}

int romfs_image_walk(const struct romfs_image *img, const struct romfs_entry *dir,
                     romfs_visit_fn visit, void *ctx, struct romfs_error *err)
{
    struct path_buf pb = { NULL, 0, 0 };
    if (path_push(&pb, (const uint8_t *)"", 0, err))
        return ROMFS_ERR_NOMEM;
    pb.len = 0;
    int rc = walk_dir(img, dir, 0, &pb, visit, ctx, err);
    free(pb.s);
    return rc;
}
