/* test_diff.c: romfs_diff_images (lib/image/diff.c). */
#include <cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "romfs.h"
#include "unit.h"

struct membuf {
    uint8_t *data;
    size_t len, cap;
};

static int mem_sink(void *ctx, const void *data, size_t len, struct romfs_error *err)
{
    struct membuf *m = ctx;
    if (m->len + len > m->cap) {
        size_t cap = (m->len + len) * 2 + 64;
        uint8_t *nd = realloc(m->data, cap);
        if (!nd)
            return romfs_set_error(err, ROMFS_ERR_NOMEM, "oom");
        m->data = nd;
        m->cap = cap;
    }
    memcpy(m->data + m->len, data, len);
    m->len += len;
    return ROMFS_OK;
}

static int content_fn(void *ctx, const struct romfs_node *file, romfs_sink_fn write,
                      void *write_ctx, struct romfs_error *err)
{
    (void)ctx;
    return write(write_ctx, romfs_node_user(file), romfs_node_size(file), err);
}

/* spec: "path=content" entries; a path ending in '/' is a directory; "d/x=..." puts x
   in directory d (created on first use, one level). */
static uint8_t *build(const char *const *spec, size_t n, uint32_t align, size_t *size)
{
    struct romfs_error err = { 0 };
    struct romfs_tree *tree = romfs_tree_new();
    struct romfs_node *root = romfs_tree_root(tree);
    struct romfs_node *dirs[8];
    char dir_names[8][32];
    size_t n_dirs = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = spec[i];
        const char *slash = strchr(s, '/');
        struct romfs_node *parent = root;
        if (slash) {
            size_t dl = (size_t)(slash - s);
            size_t k = 0;
            while (k < n_dirs && (strlen(dir_names[k]) != dl || strncmp(dir_names[k], s, dl) != 0))
                k++;
            if (k == n_dirs) {
                snprintf(dir_names[k], sizeof dir_names[k], "%.*s", (int)dl, s);
                dirs[k] = romfs_tree_add_dir(tree, root, s, dl, &err);
                n_dirs++;
            }
            parent = dirs[k];
            s = slash + 1;
            if (!*s)
                continue;
        }
        const char *eq = strchr(s, '=');
        romfs_tree_add_file(tree, parent, s, (size_t)(eq - s), strlen(eq + 1), align, (void *)(eq + 1), &err);
    }
    uint64_t image_size;
    struct membuf m = { 0 };
    if (romfs_tree_layout(tree, &image_size, &err) || romfs_tree_emit(tree, mem_sink, &m, content_fn, NULL, &err)) {
        printf("    build: %s\n", err.msg);
        free(m.data);
        m.data = NULL;
    }
    romfs_tree_free(tree);
    *size = m.len;
    return m.data;
}

static const struct romfs_diff_entry *find(const struct romfs_diff *d, const char *path)
{
    for (size_t i = 0; i < d->n_entries; i++)
        if (strcmp(d->entries[i].path, path) == 0)
            return &d->entries[i];
    return NULL;
}

static void identical_images(void)
{
    static const char *const s[] = { "main.py=print(1)\n", "lib/u.py=X=1\n" };
    size_t na, nb;
    uint8_t *a = build(s, 2, 4, &na), *b = build(s, 2, 4, &nb);
    struct romfs_diff d;
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_diff_images(a, na, "a", b, nb, "b", &d, &err), ROMFS_OK);
    CHECK(!romfs_diff_has_changes(&d));
    CHECK_EQ_U(d.unchanged_files, 2);
    CHECK(!d.layout_differs);
    romfs_diff_free(&d);
    free(a);
    free(b);
}

static void added_removed_changed(void)
{
    static const char *const old[] = { "main.py=print(1)\n", "gone.txt=bye", "lib/u.py=X=1\n", "same=s" };
    static const char *const new[] = { "main.py=print(22)\n", "lib/u.py=X=1\n", "lib/v.py=Y", "new/", "same=s" };
    size_t na, nb;
    uint8_t *a = build(old, 4, 4, &na), *b = build(new, 5, 4, &nb);
    struct romfs_diff d;
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_diff_images(a, na, "a", b, nb, "b", &d, &err), ROMFS_OK);
    CHECK(romfs_diff_has_changes(&d));
    CHECK_EQ_U(d.added, 2);      /* lib/v.py, new/ */
    CHECK_EQ_U(d.removed, 1);    /* gone.txt */
    CHECK_EQ_U(d.changed, 1);    /* main.py */
    CHECK_EQ_U(d.unchanged_files, 2);
    const struct romfs_diff_entry *e = find(&d, "main.py");
    CHECK(e && e->change == ROMFS_DIFF_CHANGED);
    CHECK_EQ_U(e->old_size, 9);
    CHECK_EQ_U(e->new_size, 10);
    uint8_t want[32];
    romfs_sha256("print(22)\n", 10, want);
    CHECK_MEM(e->new_sha256, want, 32);
    e = find(&d, "gone.txt");
    CHECK(e && e->change == ROMFS_DIFF_REMOVED && e->old_size == 3);
    e = find(&d, "lib/v.py");
    CHECK(e && e->change == ROMFS_DIFF_ADDED && e->new_size == 1);
    e = find(&d, "new");
    CHECK(e && e->change == ROMFS_DIFF_ADDED && e->is_dir);
    /* sorted by path */
    for (size_t i = 1; i < d.n_entries; i++)
        CHECK(strcmp(d.entries[i - 1].path, d.entries[i].path) < 0);
    /* and the reverse direction mirrors it */
    struct romfs_diff r;
    CHECK_EQ_U(romfs_diff_images(b, nb, "b", a, na, "a", &r, &err), ROMFS_OK);
    CHECK_EQ_U(r.added, 1);
    CHECK_EQ_U(r.removed, 2);
    CHECK_EQ_U(r.changed, 1);
    romfs_diff_free(&r);
    romfs_diff_free(&d);
    free(a);
    free(b);
}

static void same_size_different_content(void)
{
    static const char *const x[] = { "f=aaaa" };
    static const char *const y[] = { "f=aaab" };
    size_t na, nb;
    uint8_t *a = build(x, 1, 4, &na), *b = build(y, 1, 4, &nb);
    struct romfs_diff d;
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_diff_images(a, na, "a", b, nb, "b", &d, &err), ROMFS_OK);
    CHECK_EQ_U(d.changed, 1);
    CHECK_EQ_U(d.entries[0].old_size, d.entries[0].new_size);
    romfs_diff_free(&d);
    free(a);
    free(b);
}

static void type_change_is_remove_and_add(void)
{
    static const char *const x[] = { "thing=file" };
    static const char *const y[] = { "thing/" };
    size_t na, nb;
    uint8_t *a = build(x, 1, 4, &na), *b = build(y, 1, 4, &nb);
    struct romfs_diff d;
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_diff_images(a, na, "a", b, nb, "b", &d, &err), ROMFS_OK);
    CHECK_EQ_U(d.removed, 1);
    CHECK_EQ_U(d.added, 1);
    CHECK_EQ_U(d.n_entries, 2);
    romfs_diff_free(&d);
    free(a);
    free(b);
}

static void layout_only_difference(void)
{
    static const char *const s[] = { "a.bin=0123456789", "b.bin=xyz" };
    size_t na, nb;
    uint8_t *a = build(s, 2, 1, &na), *b = build(s, 2, 64, &nb);
    struct romfs_diff d;
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_diff_images(a, na, "a", b, nb, "b", &d, &err), ROMFS_OK);
    CHECK(!romfs_diff_has_changes(&d));
    CHECK(d.layout_differs);
    romfs_diff_free(&d);
    /* a signed copy: no file differs, the signature is noted */
    struct romfs_key *key;
    uint8_t *sgn;
    size_t ns;
    CHECK_EQ_U(romfs_key_generate(&key, &err), ROMFS_OK);
    CHECK_EQ_U(romfs_sign_image(a, na, key, &sgn, &ns, NULL, &err), ROMFS_OK);
    romfs_key_free(key);
    CHECK_EQ_U(romfs_diff_images(a, na, "a", sgn, ns, "s", &d, &err), ROMFS_OK);
    CHECK(!romfs_diff_has_changes(&d));
    CHECK(!d.old_signed && d.new_signed);
    romfs_diff_free(&d);
    free(sgn);
    free(a);
    free(b);
}

static void invalid_image_names_it(void)
{
    static const char *const s[] = { "a=1" };
    size_t na;
    uint8_t *a = build(s, 1, 4, &na);
    uint8_t junk[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    struct romfs_diff d;
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_diff_images(a, na, "a.romfs", junk, sizeof junk, "junk.romfs", &d, &err), ROMFS_ERR_CORRUPT);
    CHECK(strstr(err.msg, "junk.romfs"));
    free(a);
}

static void json_is_valid_and_complete(void)
{
    static const char *const x[] = { "keep=1", "old=22" };
    static const char *const y[] = { "keep=1", "n\xff.bin=333" };
    size_t na, nb;
    uint8_t *a = build(x, 2, 4, &na), *b = build(y, 2, 4, &nb);
    struct romfs_diff d;
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_diff_images(a, na, "a", b, nb, "b", &d, &err), ROMFS_OK);
    char *text;
    CHECK_EQ_U(romfs_diff_to_json(&d, "a", "b", &text, &err), ROMFS_OK);
    cJSON *j = cJSON_Parse(text);
    CHECK(j);
    CHECK(cJSON_IsFalse(cJSON_GetObjectItem(j, "identical")));
    CHECK_EQ_U(cJSON_GetObjectItem(j, "added")->valuedouble, 1);
    CHECK_EQ_U(cJSON_GetObjectItem(j, "removed")->valuedouble, 1);
    cJSON *entries = cJSON_GetObjectItem(j, "entries");
    CHECK_EQ_U(cJSON_GetArraySize(entries), 2);
    cJSON *added = cJSON_GetArrayItem(entries, 0); /* "n\xff.bin" < "old" */
    CHECK(strcmp(cJSON_GetObjectItem(added, "path")->valuestring, "n\\xff.bin") == 0);
    CHECK(strcmp(cJSON_GetObjectItem(added, "change")->valuestring, "added") == 0);
    CHECK_EQ_U(cJSON_GetObjectItem(added, "new_size")->valuedouble, 3);
    CHECK(!cJSON_GetObjectItem(added, "old_size"));
    cJSON *removed = cJSON_GetArrayItem(entries, 1);
    CHECK_EQ_U(cJSON_GetObjectItem(removed, "size_delta")->valuedouble + 2, 0);
    CHECK_EQ_U(strlen(cJSON_GetObjectItem(removed, "old_sha256")->valuestring), 64);
    cJSON_Delete(j);
    free(text);
    romfs_diff_free(&d);
    free(a);
    free(b);
}

int main(void)
{
    RUN(identical_images);
    RUN(added_removed_changed);
    RUN(same_size_different_content);
    RUN(type_change_is_remove_and_add);
    RUN(layout_only_difference);
    RUN(invalid_image_names_it);
    RUN(json_is_valid_and_complete);
    UNIT_EXIT();
}
