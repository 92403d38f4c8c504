/* image/diff.c: which files differ between two ROMFS images (image/diff.h). */
#include "image/diff.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "format/format.h"
#include "image/sign.h"

/* One entry of one image. */
struct item {
    char *path;
    bool is_dir;
    uint64_t size;
    uint8_t sha256[ROMFS_SHA256_SIZE];
};

struct listing {
    struct item *items;
    size_t n, cap;
    uint64_t data_bytes;
    const struct romfs_image *img;
    struct romfs_error *err;
};

static int collect(void *ctx, const char *path, const struct romfs_entry *e, int depth)
{
    (void)depth;
    struct listing *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct item *ni = realloc(l->items, cap * sizeof *ni);
        if (!ni)
            return romfs_set_error(l->err, ROMFS_ERR_NOMEM, "out of memory");
        l->items = ni;
        l->cap = cap;
    }
    struct item *it = &l->items[l->n];
    memset(it, 0, sizeof *it);
    it->path = strdup(path);
    if (!it->path)
        return romfs_set_error(l->err, ROMFS_ERR_NOMEM, "out of memory");
    l->n++;
    it->is_dir = e->type == ROMFS_ENTRY_DIR;
    if (!it->is_dir) {
        it->size = e->data_size;
        l->data_bytes += e->data_size;
        romfs_sha256(romfs_entry_data(l->img, e), (size_t)e->data_size, it->sha256);
    }
    return 0;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const struct item *)a)->path, ((const struct item *)b)->path);
}

static void listing_free(struct listing *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].path);
    free(l->items);
}

/* Verify, walk and sort one image's entries. */
static int list_image(const uint8_t *data, size_t size, const char *name, struct listing *l,
                      uint64_t *image_size, bool *is_signed, struct romfs_error *err)
{
    struct romfs_image img;
    memset(l, 0, sizeof *l);
    l->err = err;
    l->img = &img;
    int code = romfs_image_open(&img, data, size, err);
    if (code == ROMFS_OK)
        code = romfs_image_verify(&img, NULL, err);
    if (code == ROMFS_OK)
        code = romfs_image_walk(&img, NULL, collect, l, err);
    if (code != ROMFS_OK) {
        listing_free(l);
        return romfs_error_prefix(err, "%s", name);
    }
    if (l->n > 1)
        qsort(l->items, l->n, sizeof *l->items, by_path);
    struct romfs_signature_info sig;
    *is_signed = romfs_signature_find(data, size, &sig, NULL) == ROMFS_OK && sig.present;
    *image_size = img.payload_end;
    l->img = NULL;
    return ROMFS_OK;
}

static int add_entry(struct romfs_diff *d, size_t *cap, const struct item *old, const struct item *new,
                     enum romfs_diff_change change, struct romfs_error *err)
{
    if (d->n_entries == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        struct romfs_diff_entry *ne = realloc(d->entries, ncap * sizeof *ne);
        if (!ne)
            return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
        d->entries = ne;
        *cap = ncap;
    }
    struct romfs_diff_entry *e = &d->entries[d->n_entries];
    memset(e, 0, sizeof *e);
    const struct item *any = new ? new : old;
    e->path = strdup(any->path);
    if (!e->path)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    d->n_entries++;
    e->change = change;
    e->is_dir = any->is_dir;
    if (old) {
        e->old_size = old->size;
        memcpy(e->old_sha256, old->sha256, ROMFS_SHA256_SIZE);
    }
    if (new) {
        e->new_size = new->size;
        memcpy(e->new_sha256, new->sha256, ROMFS_SHA256_SIZE);
    }
    if (change == ROMFS_DIFF_ADDED)
        d->added++;
    else if (change == ROMFS_DIFF_REMOVED)
        d->removed++;
    else
        d->changed++;
    return ROMFS_OK;
}

int romfs_diff_images(const uint8_t *a, size_t a_size, const char *a_name,
                      const uint8_t *b, size_t b_size, const char *b_name,
                      struct romfs_diff *out, struct romfs_error *err)
{
    memset(out, 0, sizeof *out);
    struct listing la, lb;
    int code = list_image(a, a_size, a_name, &la, &out->old_image_size, &out->old_signed, err);
    if (code != ROMFS_OK)
        return code;
    code = list_image(b, b_size, b_name, &lb, &out->new_image_size, &out->new_signed, err);
    if (code != ROMFS_OK) {
        listing_free(&la);
        return code;
    }
    out->old_data_bytes = la.data_bytes;
    out->new_data_bytes = lb.data_bytes;
    size_t i = 0, j = 0, cap = 0;
    while (code == ROMFS_OK && (i < la.n || j < lb.n)) {
        int cmp = i == la.n ? 1 : j == lb.n ? -1 : strcmp(la.items[i].path, lb.items[j].path);
        if (cmp < 0) {
            code = add_entry(out, &cap, &la.items[i++], NULL, ROMFS_DIFF_REMOVED, err);
        } else if (cmp > 0) {
            code = add_entry(out, &cap, NULL, &lb.items[j++], ROMFS_DIFF_ADDED, err);
        } else {
            const struct item *x = &la.items[i++], *y = &lb.items[j++];
            if (x->is_dir != y->is_dir) {
                code = add_entry(out, &cap, x, NULL, ROMFS_DIFF_REMOVED, err);
                if (code == ROMFS_OK)
                    code = add_entry(out, &cap, NULL, y, ROMFS_DIFF_ADDED, err);
            } else if (!x->is_dir && (x->size != y->size ||
                                      memcmp(x->sha256, y->sha256, ROMFS_SHA256_SIZE) != 0)) {
                code = add_entry(out, &cap, x, y, ROMFS_DIFF_CHANGED, err);
            } else if (!x->is_dir) {
                out->unchanged_files++;
            }
        }
    }
    listing_free(&la);
    listing_free(&lb);
    if (code != ROMFS_OK) {
        romfs_diff_free(out);
        return code;
    }
    out->layout_differs = out->n_entries == 0 &&
                          (out->old_image_size != out->new_image_size ||
                           memcmp(a, b, (size_t)out->old_image_size) != 0);
    return ROMFS_OK;
}

bool romfs_diff_has_changes(const struct romfs_diff *d)
{
    return d->n_entries > 0;
}

void romfs_diff_free(struct romfs_diff *d)
{
    for (size_t i = 0; i < d->n_entries; i++)
        free(d->entries[i].path);
    free(d->entries);
    memset(d, 0, sizeof *d);
}

/* ---- JSON ---------------------------------------------------------------------- */

/* Names may hold any bytes but '/' and NUL; JSON strings must be UTF-8. Invalid bytes
   become the text "\xNN". Returns a malloc'd string or NULL. */
static char *json_safe(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(4 * n + 1), *o = out;
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t len = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3 : (*p >> 3) == 30 ? 4 : 0;
        bool ok = len > 0;
        for (size_t k = 1; ok && k < len; k++)
            ok = (p[k] & 0xc0) == 0x80;
        if (ok) {
            memcpy(o, p, len);
            o += len;
            p += len;
        } else {
            static const char hex[] = "0123456789abcdef";
            *o++ = '\\';
            *o++ = 'x';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
            p++;
        }
    }
    *o = 0;
    return out;
}

static bool add_string(cJSON *obj, const char *key, const char *value)
{
    char *safe = json_safe(value);
    bool ok = safe && cJSON_AddStringToObject(obj, key, safe);
    free(safe);
    return ok;
}

static const char *change_name(enum romfs_diff_change c)
{
    return c == ROMFS_DIFF_ADDED ? "added" : c == ROMFS_DIFF_REMOVED ? "removed" : "changed";
}

int romfs_diff_to_json(const struct romfs_diff *d, const char *a_name, const char *b_name,
                       char **json, struct romfs_error *err)
{
    cJSON *root = cJSON_CreateObject(), *list = NULL;
    bool ok = root && add_string(root, "a", a_name) && add_string(root, "b", b_name) &&
              cJSON_AddBoolToObject(root, "identical", !romfs_diff_has_changes(d)) &&
              cJSON_AddNumberToObject(root, "added", (double)d->added) &&
              cJSON_AddNumberToObject(root, "removed", (double)d->removed) &&
              cJSON_AddNumberToObject(root, "changed", (double)d->changed) &&
              cJSON_AddNumberToObject(root, "unchanged", (double)d->unchanged_files) &&
              cJSON_AddBoolToObject(root, "layout_differs", d->layout_differs) &&
              cJSON_AddBoolToObject(root, "a_signed", d->old_signed) &&
              cJSON_AddBoolToObject(root, "b_signed", d->new_signed) &&
              cJSON_AddNumberToObject(root, "a_image_size", (double)d->old_image_size) &&
              cJSON_AddNumberToObject(root, "b_image_size", (double)d->new_image_size) &&
              (list = cJSON_AddArrayToObject(root, "entries")) != NULL;
    for (size_t i = 0; ok && i < d->n_entries; i++) {
        const struct romfs_diff_entry *e = &d->entries[i];
        cJSON *o = cJSON_CreateObject();
        ok = o && cJSON_AddItemToArray(list, o);
        if (!ok) {
            cJSON_Delete(o);
            break;
        }
        ok = add_string(o, "path", e->path) && add_string(o, "change", change_name(e->change)) &&
             add_string(o, "type", e->is_dir ? "dir" : "file");
        if (ok && !e->is_dir) {
            char hex[2 * ROMFS_SHA256_SIZE + 1];
            bool has_old = e->change != ROMFS_DIFF_ADDED, has_new = e->change != ROMFS_DIFF_REMOVED;
            ok = (!has_old || cJSON_AddNumberToObject(o, "old_size", (double)e->old_size)) &&
                 (!has_new || cJSON_AddNumberToObject(o, "new_size", (double)e->new_size)) &&
                 cJSON_AddNumberToObject(o, "size_delta", (double)e->new_size - (double)e->old_size);
            if (ok && has_old) {
                romfs_sha256_hex(e->old_sha256, hex);
                ok = add_string(o, "old_sha256", hex);
            }
            if (ok && has_new) {
                romfs_sha256_hex(e->new_sha256, hex);
                ok = add_string(o, "new_sha256", hex);
            }
        }
    }
    char *text = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    *json = text;
    return ROMFS_OK;
}
