/* image/compare.c: does an image hold exactly a directory's tree and bytes?
 * The directory is packed into memory with the same walk pack uses (so excludes and
 * name rules agree), and the two images are compared entry by entry. */
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "base/buf.h"

struct listed {
    char *path;
    int type;
    const uint8_t *data;
    uint64_t size;
};

struct listing {
    struct listed *items;
    size_t n, cap;
    const struct romfs_image *img;
};

static int list_entry(void *ctx, const char *path, const struct romfs_entry *e, int depth)
{
    (void)depth;
    struct listing *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct listed *ni = realloc(l->items, cap * sizeof *ni);
        if (!ni)
            return ROMFS_ERR_NOMEM;
        l->items = ni;
        l->cap = cap;
    }
    struct listed *it = &l->items[l->n];
    if (!(it->path = strdup(path)))
        return ROMFS_ERR_NOMEM;
    it->type = e->type;
    it->data = e->type == ROMFS_ENTRY_FILE ? romfs_entry_data(l->img, e) : NULL;
    it->size = e->type == ROMFS_ENTRY_FILE ? e->data_size : 0;
    l->n++;
    return 0;
}

static int compare_listed(const void *a, const void *b)
{
    return strcmp(((const struct listed *)a)->path, ((const struct listed *)b)->path);
}

static int list_image(const struct romfs_image *img, struct listing *l, struct romfs_error *err)
{
    memset(l, 0, sizeof *l);
    l->img = img;
    int rc = romfs_image_walk(img, NULL, list_entry, l, err);
    if (rc == ROMFS_ERR_NOMEM)
        romfs_set_error(err, rc, "out of memory");
    if (!rc)
        qsort(l->items, l->n, sizeof *l->items, compare_listed);
    return rc;
}

static void free_listing(struct listing *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].path);
    free(l->items);
}

int romfs_image_compare_dir(const struct romfs_image *img, const char *dir,
                            const struct romfs_pack_options *opt, struct romfs_error *err)
{
    struct romfs_pack_options o = opt ? *opt : (struct romfs_pack_options){ 0 };
    o.mpy_cross = NULL;
    o.on_entry = NULL;
    o.align = 1;
    o.n_align_rules = 0;
    o.pad_to = 0;
    o.size_limit = 0;
    o.digest = o.file_digests = o.to_fd = false;
    struct romfs_pack_result res;
    uint8_t *packed = NULL;
    int rc = romfs_pack_dir(dir, NULL, &o, &res, &packed, err);
    if (rc)
        return rc;
    romfs_pack_result_free(&res);
    struct romfs_image want_img;
    struct listing want = { 0 }, have = { 0 };
    rc = romfs_image_open(&want_img, packed, res.output_size, err);
    if (!rc)
        rc = list_image(&want_img, &want, err);
    if (!rc)
        rc = list_image(img, &have, err);
    /* every difference, one per line (the first few dozen), so one run shows them all */
    const char *sep = dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/";
    struct romfs_buf f = { 0 };
    size_t differences = 0;
    size_t i = 0, k = 0;
    while (!rc && (i < want.n || k < have.n)) {
        int c = i == want.n ? 1 : k == have.n ? -1 : strcmp(want.items[i].path, have.items[k].path);
        bool same = false;
        if (++differences > 32) {
            /* counted below, not listed */
        } else if (c < 0) {
            romfs_buf_printf(&f, "%s%s%s is missing from the image\n", dir, sep, want.items[i].path);
        } else if (c > 0) {
            romfs_buf_printf(&f, "/%s is in the image but not in %s\n", have.items[k].path, dir);
        } else if (want.items[i].type != have.items[k].type) {
            romfs_buf_printf(&f, "/%s is a %s in the image but a %s in %s\n", have.items[k].path,
                    have.items[k].type == ROMFS_ENTRY_DIR ? "directory" : "file",
                    want.items[i].type == ROMFS_ENTRY_DIR ? "directory" : "file", dir);
        } else if (want.items[i].size != have.items[k].size) {
            romfs_buf_printf(&f, "/%s has %llu bytes in the image, %llu in %s\n", have.items[k].path,
                    (unsigned long long)have.items[k].size, (unsigned long long)want.items[i].size, dir);
        } else if (want.items[i].size &&
                   memcmp(want.items[i].data, have.items[k].data, (size_t)want.items[i].size) != 0) {
            size_t at = 0;
            while (want.items[i].data[at] == have.items[k].data[at])
                at++;
            romfs_buf_printf(&f, "/%s differs from %s%s%s at byte %zu\n", have.items[k].path, dir, sep,
                    want.items[i].path, at);
        } else {
            same = true;
        }
        if (same)
            differences--;
        if (c <= 0)
            i++;
        if (c >= 0)
            k++;
    }
    if (!rc && differences) {
        if (differences > 32)
            romfs_buf_printf(&f, "... and %zu more differences\n", differences - 32);
        while (f.len && f.data[f.len - 1] == '\n')
            f.data[--f.len] = 0;
        rc = f.failed ? romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory")
                      : romfs_set_error(err, ROMFS_ERR_MISMATCH, "%zu difference%s between the image "
                                        "and %s:\n%s", differences, differences == 1 ? "" : "s", dir,
                                        f.data);
    }
    romfs_buf_free(&f);
    free_listing(&want);
    free_listing(&have);
    free(packed);
    return rc;
}
