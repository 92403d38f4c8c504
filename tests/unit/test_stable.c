/* test_stable.c: laying a tree out against the image it replaces (image/stable.h).
 * Every result is read back with the library's reader and compared with the tree, and
 * erase blocks are counted here, independently of the summary the layout returns. */
#include "romfs.h"
#include "unit.h"

#define MAX_FILES 320

struct tfile {
    char path[64];
    uint8_t *data;
    size_t size;
};

struct ttree {
    struct tfile f[MAX_FILES];
    size_t n;
};

static uint32_t rng = 12345;

static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void set_file(struct ttree *t, const char *path, size_t size)
{
    struct tfile *f = NULL;
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->f[i].path, path) == 0)
            f = &t->f[i];
    if (!f) {
        f = &t->f[t->n++];
        snprintf(f->path, sizeof f->path, "%s", path);
        f->data = NULL;
        f->size = 0;
    }
    f->data = realloc(f->data, size + 1);
    for (size_t i = 0; i < size; i++)
        f->data[i] = (uint8_t)next_rand();
    f->size = size;
}

static void grow_file(struct ttree *t, size_t i, size_t by)
{
    t->f[i].data = realloc(t->f[i].data, t->f[i].size + by + 1);
    memset(t->f[i].data + t->f[i].size, 'g', by);
    t->f[i].size += by;
}

static void remove_file(struct ttree *t, size_t i)
{
    free(t->f[i].data);
    t->f[i] = t->f[--t->n];
}

static void free_tree(struct ttree *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->f[i].data);
    t->n = 0;
}

/* 200 files of 0.5 to 4 KiB in 7 directories, one of them (index 0) exactly 2 KiB. */
static void make_tree(struct ttree *t)
{
    rng = 777;
    t->n = 0;
    set_file(t, "d3/two.py", 2048);
    for (int i = 1; i < 200; i++) {
        char p[64];
        snprintf(p, sizeof p, "d%d/f%03d.py", i % 7, i);
        set_file(t, p, 512 + next_rand() % (4096 - 512));
    }
}

static struct romfs_node *dir_for(struct romfs_tree *tree, const char *path)
{
    struct romfs_node *node = romfs_tree_root(tree);
    const char *p = path, *slash;
    while ((slash = strchr(p, '/'))) {
        struct romfs_node *child = NULL;
        for (size_t i = 0; i < romfs_node_child_count(node); i++) {
            size_t nl;
            const char *name = romfs_node_name(romfs_node_child(node, i), &nl);
            if (nl == (size_t)(slash - p) && memcmp(name, p, nl) == 0)
                child = romfs_node_child(node, i);
        }
        if (!child)
            child = romfs_tree_add_dir(tree, node, p, (size_t)(slash - p), NULL);
        node = child;
        p = slash + 1;
    }
    return node;
}

static struct romfs_tree *build(struct ttree *t, uint32_t align)
{
    struct romfs_tree *tree = romfs_tree_new();
    for (size_t i = 0; i < t->n; i++) {
        const char *base = strrchr(t->f[i].path, '/');
        base = base ? base + 1 : t->f[i].path;
        romfs_tree_add_file(tree, dir_for(tree, t->f[i].path), base, strlen(base), t->f[i].size,
                            align, &t->f[i], NULL);
    }
    uint64_t size;
    if (romfs_tree_layout(tree, &size, NULL) != ROMFS_OK) {
        romfs_tree_free(tree);
        return NULL;
    }
    return tree;
}

static int content(void *ctx, const struct romfs_node *n, romfs_sink_fn write, void *wctx,
                   struct romfs_error *err)
{
    (void)ctx;
    const struct tfile *f = romfs_node_user(n);
    return write(wctx, f->data, f->size, err);
}

struct membuf {
    uint8_t *p;
    size_t n;
};

static int to_mem(void *ctx, const void *data, size_t len, struct romfs_error *err)
{
    (void)err;
    struct membuf *m = ctx;
    m->p = realloc(m->p, m->n + len);
    memcpy(m->p + m->n, data, len);
    m->n += len;
    return ROMFS_OK;
}

/* The plain (mpremote) layout, as `romfs pack` without --base. */
static uint8_t *plain(struct ttree *t, uint32_t align, size_t *len)
{
    struct romfs_tree *tree = build(t, align);
    struct membuf m = { NULL, 0 };
    romfs_tree_emit(tree, to_mem, &m, content, NULL, NULL);
    romfs_tree_free(tree);
    *len = m.n;
    return m.p;
}

static int stable(struct ttree *t, uint32_t align, const uint8_t *base, size_t base_len,
                  uint64_t size_limit, struct romfs_stable_result *res, struct romfs_error *err)
{
    struct romfs_tree *tree = build(t, align);
    struct romfs_stable_options o = { base, base_len, "old.romfs", 0, size_limit };
    int rc = romfs_stable_layout(tree, &o, content, NULL, res, err);
    romfs_tree_free(tree);
    return rc;
}

/* Whether img holds exactly the tree t (files, bytes, alignment), strictly valid. */
static bool reads_back(const uint8_t *img, size_t len, const struct ttree *t, uint32_t align)
{
    struct romfs_image im;
    struct romfs_stats st;
    if (romfs_image_open(&im, img, len, NULL) || romfs_image_verify(&im, &st, NULL))
        return false;
    if (st.files != t->n)
        return false;
    for (size_t i = 0; i < t->n; i++) {
        struct romfs_entry e;
        if (romfs_lookup(&im, t->f[i].path, &e, NULL) || e.type != ROMFS_ENTRY_FILE ||
            e.data_size != t->f[i].size ||
            memcmp(romfs_entry_data(&im, &e), t->f[i].data, t->f[i].size) ||
            (t->f[i].size && e.data_offset % align))
            return false;
    }
    return true;
}

static uint64_t offset_of(const uint8_t *img, size_t len, const char *path)
{
    struct romfs_image im;
    struct romfs_entry e;
    if (romfs_image_open(&im, img, len, NULL) || romfs_lookup(&im, path, &e, NULL))
        return (uint64_t)-1;
    return e.data_offset;
}

/* 4 KiB blocks that differ, the shorter image padded with 0xff (erased flash). */
static unsigned blocks_differing(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
    size_t n = (na > nb ? na : nb), blocks = (n + 4095) / 4096;
    unsigned differ = 0;
    for (size_t k = 0; k < blocks; k++)
        for (size_t i = k * 4096; i < (k + 1) * 4096; i++)
            if ((i < na ? a[i] : 0xff) != (i < nb ? b[i] : 0xff)) {
                differ++;
                break;
            }
    return differ;
}

/* Every file of t whose bytes the base had at the same path sits where the base had it. */
static bool unchanged_files_stay(const uint8_t *base, size_t nb, const uint8_t *img, size_t ni,
                                 const struct ttree *old, const struct ttree *t)
{
    for (size_t i = 0; i < t->n; i++)
        for (size_t j = 0; j < old->n; j++)
            if (strcmp(t->f[i].path, old->f[j].path) == 0 && t->f[i].size == old->f[j].size &&
                t->f[i].size && memcmp(t->f[i].data, old->f[j].data, t->f[i].size) == 0 &&
                offset_of(base, nb, t->f[i].path) != offset_of(img, ni, t->f[i].path))
                return false;
    return true;
}

static void copy_tree(struct ttree *dst, const struct ttree *src)
{
    dst->n = src->n;
    for (size_t i = 0; i < src->n; i++) {
        dst->f[i] = src->f[i];
        dst->f[i].data = malloc(src->f[i].size + 1);
        memcpy(dst->f[i].data, src->f[i].data, src->f[i].size);
    }
}

/* A metadata-first image of t: laid out against an image that holds none of it. */
static uint8_t *fresh(struct ttree *t, size_t *len)
{
    struct ttree none = { .n = 0 };
    size_t elen;
    uint8_t *empty = plain(&none, 4, &elen);
    struct romfs_stable_result r;
    int rc = stable(t, 4, empty, elen, 0, &r, NULL);
    free(empty);
    if (rc || r.summary.mode != ROMFS_STABLE_FRESH)
        return NULL;
    *len = (size_t)r.summary.image_size;
    uint8_t *img = r.image;
    r.image = NULL;
    romfs_stable_result_free(&r);
    return img;
}

static struct ttree A, B;

static void unchanged_tree_gives_the_base_itself(void)
{
    make_tree(&A);
    size_t nb;
    uint8_t *base = plain(&A, 4, &nb);
    struct romfs_stable_result r;
    CHECK(stable(&A, 4, base, nb, 0, &r, NULL) == ROMFS_OK);
    CHECK(r.summary.mode == ROMFS_STABLE_SAME);
    CHECK_EQ_U(r.summary.image_size, nb);
    CHECK_MEM(r.image, base, nb);
    CHECK_EQ_U(r.summary.blocks_changed, 0);
    romfs_stable_result_free(&r);
    size_t nf;
    uint8_t *fr = fresh(&A, &nf);
    CHECK(fr);
    CHECK(reads_back(fr, nf, &A, 4));
    CHECK(stable(&A, 4, fr, nf, 0, &r, NULL) == ROMFS_OK);
    CHECK(r.summary.mode == ROMFS_STABLE_SAME);
    CHECK_EQ_U(r.summary.image_size, nf);
    CHECK_MEM(r.image, fr, nf);
    romfs_stable_result_free(&r);
    free(base);
    free(fr);
    free_tree(&A);
}

/* The goal: one 2 KiB file growing by 100 bytes changes at most 3 erase blocks. */
static void grown_file_changes_at_most_three_blocks(void)
{
    make_tree(&A);
    size_t nb;
    uint8_t *base = fresh(&A, &nb);
    CHECK(base);
    copy_tree(&B, &A);
    grow_file(&B, 0, 100);
    struct romfs_stable_result r;
    CHECK(stable(&B, 4, base, nb, 0, &r, NULL) == ROMFS_OK);
    CHECK(r.summary.mode == ROMFS_STABLE_PATCHED);
    CHECK(reads_back(r.image, r.summary.image_size, &B, 4));
    CHECK(unchanged_files_stay(base, nb, r.image, r.summary.image_size, &A, &B));
    unsigned blocks = blocks_differing(base, nb, r.image, r.summary.image_size);
    CHECK(blocks <= 3);
    CHECK_EQ_U(r.summary.blocks_changed, blocks);
    CHECK_EQ_U(r.summary.files_written, 1);
    CHECK_EQ_U(r.summary.files_kept, 199);
    /* and so on, edit after edit, each image the next one's base */
    uint8_t *prev = r.image;
    size_t np = r.summary.image_size;
    r.image = NULL;
    romfs_stable_result_free(&r);
    for (int round = 0; round < 12; round++) {
        struct ttree *old = round % 2 ? &A : &B, *cur = round % 2 ? &B : &A;
        free_tree(cur);
        copy_tree(cur, old);
        grow_file(cur, next_rand() % cur->n, 100);
        CHECK(stable(cur, 4, prev, np, 0, &r, NULL) == ROMFS_OK);
        CHECK(reads_back(r.image, r.summary.image_size, cur, 4));
        CHECK(unchanged_files_stay(prev, np, r.image, r.summary.image_size, old, cur));
        CHECK(blocks_differing(prev, np, r.image, r.summary.image_size) <= 3);
        free(prev);
        prev = r.image;
        np = r.summary.image_size;
        r.image = NULL;
        romfs_stable_result_free(&r);
    }
    free(prev);
    free(base);
    free_tree(&A);
    free_tree(&B);
}

/* Against an image packed without --base: the header, the file's own record and the
 * end of the image change (the appended data may cross into one more block). */
static void grown_file_against_a_plain_base(void)
{
    make_tree(&A);
    size_t nb;
    uint8_t *base = plain(&A, 4, &nb);
    copy_tree(&B, &A);
    grow_file(&B, 0, 100);
    struct romfs_stable_result r;
    CHECK(stable(&B, 4, base, nb, 0, &r, NULL) == ROMFS_OK);
    CHECK(r.summary.mode == ROMFS_STABLE_PATCHED);
    CHECK(reads_back(r.image, r.summary.image_size, &B, 4));
    CHECK(unchanged_files_stay(base, nb, r.image, r.summary.image_size, &A, &B));
    CHECK(blocks_differing(base, nb, r.image, r.summary.image_size) <= 4);
    size_t np;
    uint8_t *plain_new = plain(&B, 4, &np);
    CHECK(blocks_differing(base, nb, plain_new, np) > 20);   /* what --base avoids */
    free(plain_new);
    romfs_stable_result_free(&r);
    free(base);
    free_tree(&A);
    free_tree(&B);
}

/* A same-size edit in a plain image is written over the old bytes: one block. */
static void same_size_edit_stays_in_place(void)
{
    make_tree(&A);
    size_t nb;
    uint8_t *base = plain(&A, 4, &nb);
    copy_tree(&B, &A);
    uint64_t off = offset_of(base, nb, B.f[5].path);
    size_t at = (size_t)((4096 - off % 4096) % 4096 > 40 ? 10 : 4096 - off % 4096 + 10);
    CHECK(at + 10 < B.f[5].size);
    memcpy(B.f[5].data + at, "0123456789", 10);
    struct romfs_stable_result r;
    CHECK(stable(&B, 4, base, nb, 0, &r, NULL) == ROMFS_OK);
    CHECK(reads_back(r.image, r.summary.image_size, &B, 4));
    CHECK_EQ_U(offset_of(r.image, r.summary.image_size, B.f[5].path), off);
    CHECK_EQ_U(blocks_differing(base, nb, r.image, r.summary.image_size), 1);
    romfs_stable_result_free(&r);
    free(base);
    free_tree(&A);
    free_tree(&B);
}

/* Room appended after a plain base is used by the next edit: the image stays its size
 * (a plain base's records hold data, so none of that room is kept for metadata). */
static void appended_room_is_used_again(void)
{
    make_tree(&A);
    size_t nb;
    uint8_t *base = plain(&A, 4, &nb);
    copy_tree(&B, &A);
    grow_file(&B, 0, 100);
    struct romfs_tree *tree = build(&B, 4);
    struct romfs_stable_options o = { base, nb, "old.romfs", 65536, 0 };
    struct romfs_stable_result r1, r2;
    CHECK(romfs_stable_layout(tree, &o, content, NULL, &r1, NULL) == ROMFS_OK);
    romfs_tree_free(tree);
    CHECK_EQ_U(r1.summary.image_size % 65536, 0);   /* slack up to the block */
    size_t k = 1;
    while (k < B.n && B.f[k].size + 200 > r1.summary.free_bytes)
        k++;
    CHECK(k < B.n);
    grow_file(&B, k, 100);
    tree = build(&B, 4);
    o.base = r1.image;
    o.base_size = r1.summary.image_size;
    CHECK(romfs_stable_layout(tree, &o, content, NULL, &r2, NULL) == ROMFS_OK);
    romfs_tree_free(tree);
    CHECK(reads_back(r2.image, r2.summary.image_size, &B, 4));
    CHECK_EQ_U(r2.summary.image_size, r1.summary.image_size);
    CHECK(blocks_differing(r1.image, r1.summary.image_size, r2.image, r2.summary.image_size) <= 3);
    romfs_stable_result_free(&r1);
    romfs_stable_result_free(&r2);
    free(base);
    free_tree(&A);
    free_tree(&B);
}

static void check_structural_change(struct ttree *old, struct ttree *cur, bool fresh_base)
{
    size_t nb;
    uint8_t *base = fresh_base ? fresh(old, &nb) : plain(old, 4, &nb);
    struct romfs_stable_result r;
    CHECK(base);
    CHECK(stable(cur, 4, base, nb, 0, &r, NULL) == ROMFS_OK);
    CHECK(r.summary.mode == ROMFS_STABLE_REWRITTEN);
    CHECK(reads_back(r.image, r.summary.image_size, cur, 4));
    CHECK(unchanged_files_stay(base, nb, r.image, r.summary.image_size, old, cur));
    /* a file moved to another path keeps its data where it was, too */
    for (size_t i = 0; i < cur->n; i++)
        if (strncmp(cur->f[i].path, "moved/", 6) == 0) {
            char was[64];
            snprintf(was, sizeof was, "d2/%s", cur->f[i].path + 6);
            CHECK(offset_of(base, nb, was) == offset_of(r.image, r.summary.image_size, cur->f[i].path));
        }
    /* metadata written where it was: the data blocks stay */
    if (fresh_base)
        CHECK(blocks_differing(base, nb, r.image, r.summary.image_size) <= 3);
    romfs_stable_result_free(&r);
    free(base);
}

static void file_removed(void)
{
    for (int fb = 0; fb < 2; fb++) {
        make_tree(&A);
        copy_tree(&B, &A);
        remove_file(&B, 17);
        check_structural_change(&A, &B, fb);
        if (unit_current_failed)
            return;
        free_tree(&A);
        free_tree(&B);
    }
}

static void file_added(void)
{
    for (int fb = 0; fb < 2; fb++) {
        make_tree(&A);
        copy_tree(&B, &A);
        set_file(&B, "d4/new_module.py", 1500);
        set_file(&B, "top.txt", 7);
        check_structural_change(&A, &B, fb);
        if (unit_current_failed)
            return;
        free_tree(&A);
        free_tree(&B);
    }
}

static void directory_renamed(void)
{
    for (int fb = 0; fb < 2; fb++) {
        make_tree(&A);
        copy_tree(&B, &A);
        for (size_t i = 0; i < B.n; i++)
            if (strncmp(B.f[i].path, "d2/", 3) == 0) {
                char p[64];
                snprintf(p, sizeof p, "moved/%s", B.f[i].path + 3);
                snprintf(B.f[i].path, sizeof B.f[i].path, "%s", p);
            }
        check_structural_change(&A, &B, fb);
        if (unit_current_failed)
            return;
        free_tree(&A);
        free_tree(&B);
    }
}

/* Two files swap contents: each keeps the other's old data, which must not be clobbered
 * when the records are rewritten. */
static void swapped_contents_read_back(void)
{
    make_tree(&A);
    size_t nb;
    uint8_t *base = plain(&A, 4, &nb);
    copy_tree(&B, &A);
    struct tfile t = B.f[3];
    B.f[3].data = B.f[4].data, B.f[3].size = B.f[4].size;
    B.f[4].data = t.data, B.f[4].size = t.size;
    struct romfs_stable_result r;
    CHECK(stable(&B, 4, base, nb, 0, &r, NULL) == ROMFS_OK);
    CHECK(reads_back(r.image, r.summary.image_size, &B, 4));
    romfs_stable_result_free(&r);
    free(base);
    free_tree(&A);
    free_tree(&B);
}

static void mostly_changed_is_laid_out_fresh(void)
{
    make_tree(&A);
    size_t nb;
    uint8_t *base = plain(&A, 4, &nb);
    copy_tree(&B, &A);
    for (size_t i = 0; i < B.n; i += 3)
        set_file(&B, B.f[i].path, B.f[i].size);
    for (size_t i = 1; i < B.n; i += 3)
        set_file(&B, B.f[i].path, B.f[i].size);
    struct romfs_stable_result r;
    CHECK(stable(&B, 4, base, nb, 0, &r, NULL) == ROMFS_OK);
    CHECK(r.summary.mode == ROMFS_STABLE_FRESH);
    CHECK(r.summary.why == ROMFS_STABLE_WHY_MOSTLY_CHANGED);
    CHECK(reads_back(r.image, r.summary.image_size, &B, 4));
    CHECK_EQ_U(r.summary.image_size % 4096, 0);   /* slack: up to the next 4 KiB */
    /* the padding records' free bytes are padding, the data they hold is not */
    struct romfs_image im;
    struct romfs_stats st;
    CHECK(romfs_image_open(&im, r.image, r.summary.image_size, NULL) == ROMFS_OK);
    CHECK(romfs_image_verify(&im, &st, NULL) == ROMFS_OK);
    CHECK(st.padding_bytes >= r.summary.free_bytes && st.padding_bytes < r.summary.free_bytes + 64);
    romfs_stable_result_free(&r);
    free(base);
    free_tree(&A);
    free_tree(&B);
}

static void same_input_same_bytes(void)
{
    make_tree(&A);
    size_t nb;
    uint8_t *base = plain(&A, 4, &nb);
    copy_tree(&B, &A);
    grow_file(&B, 9, 300);
    remove_file(&B, 20);
    set_file(&B, "d1/zz.bin", 999);
    struct romfs_stable_result r1, r2;
    CHECK(stable(&B, 4, base, nb, 0, &r1, NULL) == ROMFS_OK);
    CHECK(stable(&B, 4, base, nb, 0, &r2, NULL) == ROMFS_OK);
    CHECK_EQ_U(r1.summary.image_size, r2.summary.image_size);
    CHECK_MEM(r1.image, r2.image, r1.summary.image_size);
    romfs_stable_result_free(&r1);
    romfs_stable_result_free(&r2);
    free(base);
    free_tree(&A);
    free_tree(&B);
}

static void alignment_is_honoured(void)
{
    make_tree(&A);
    size_t nb;
    uint8_t *base = plain(&A, 64, &nb);
    copy_tree(&B, &A);
    grow_file(&B, 0, 100);
    struct romfs_stable_result r;
    CHECK(stable(&B, 64, base, nb, 0, &r, NULL) == ROMFS_OK);
    CHECK(reads_back(r.image, r.summary.image_size, &B, 64));
    CHECK(unchanged_files_stay(base, nb, r.image, r.summary.image_size, &A, &B));
    romfs_stable_result_free(&r);
    /* asked for more than the base had: data that does not meet it moves */
    CHECK(stable(&B, 512, base, nb, 0, &r, NULL) == ROMFS_OK);
    CHECK(reads_back(r.image, r.summary.image_size, &B, 512));
    romfs_stable_result_free(&r);
    free(base);
    free_tree(&A);
    free_tree(&B);
}

static void bad_base_is_refused_by_name(void)
{
    make_tree(&A);
    struct romfs_stable_result r;
    struct romfs_error err = { 0 };
    static const uint8_t text[] = "hello, this is no image";
    CHECK(stable(&A, 4, text, sizeof text, 0, &r, &err) == ROMFS_ERR_CORRUPT);
    CHECK(strstr(err.msg, "old.romfs"));
    CHECK(strstr(err.msg, "not a ROMFS image"));
    size_t nb;
    uint8_t *base = plain(&A, 4, &nb);
    CHECK(stable(&A, 4, base, nb / 2, 0, &r, &err) == ROMFS_ERR_CORRUPT);   /* truncated */
    CHECK(strstr(err.msg, "old.romfs"));
    struct romfs_image im;
    CHECK(romfs_image_open(&im, base, nb, NULL) == ROMFS_OK);
    base[im.payload_start] = 0;   /* the first record: kind 0, unused */
    CHECK(stable(&A, 4, base, nb, 0, &r, &err) == ROMFS_ERR_CORRUPT);
    CHECK(strstr(err.msg, "old.romfs: not a valid ROMFS image"));
    CHECK(strstr(err.msg, "unused record"));
    free(base);
    free_tree(&A);
}

/* A base too small for the new size in its length field: a fresh layout. */
static void narrow_header_is_laid_out_fresh(void)
{
    A.n = 0;
    set_file(&A, "a.txt", 40);
    set_file(&A, "b.txt", 40);
    set_file(&A, "c.txt", 10);
    size_t nb;
    uint8_t *base = plain(&A, 1, &nb);
    CHECK(nb < 128 && !(base[3] & 0x80));   /* a one-byte length */
    copy_tree(&B, &A);
    grow_file(&B, 2, 60);
    struct romfs_stable_result r;
    CHECK(stable(&B, 1, base, nb, 0, &r, NULL) == ROMFS_OK);
    CHECK(r.summary.mode == ROMFS_STABLE_FRESH);
    CHECK(r.summary.why == ROMFS_STABLE_WHY_HEADER);
    CHECK(reads_back(r.image, r.summary.image_size, &B, 1));
    romfs_stable_result_free(&r);
    free(base);
    free_tree(&A);
    free_tree(&B);
}

static void slack_stops_at_the_size_limit(void)
{
    make_tree(&A);
    size_t nb;
    uint8_t *base = plain(&A, 4, &nb);
    copy_tree(&B, &A);
    grow_file(&B, 0, 100);
    struct romfs_stable_result r;
    CHECK(stable(&B, 4, base, nb, 0, &r, NULL) == ROMFS_OK);
    uint64_t roomy = r.summary.image_size;
    romfs_stable_result_free(&r);
    uint64_t limit = nb + 2200;
    CHECK(roomy > limit);
    CHECK(stable(&B, 4, base, nb, limit, &r, NULL) == ROMFS_OK);
    CHECK(r.summary.image_size <= limit);
    CHECK(r.summary.mode == ROMFS_STABLE_PATCHED);
    CHECK(reads_back(r.image, r.summary.image_size, &B, 4));
    romfs_stable_result_free(&r);
    free(base);
    free_tree(&A);
    free_tree(&B);
}

/* A signed base: the same tree keeps the signature, a changed one carries none. */
static void signature_of_a_changed_base_is_dropped(void)
{
    make_tree(&A);
    size_t nb, ns;
    uint8_t *base = plain(&A, 4, &nb), *signed_base;
    struct romfs_key *key;
    CHECK(romfs_key_generate(&key, NULL) == ROMFS_OK);
    CHECK(romfs_sign_image(base, nb, key, &signed_base, &ns, NULL, NULL) == ROMFS_OK);
    struct romfs_stable_result r;
    struct romfs_signature_info sig;
    CHECK(stable(&A, 4, signed_base, ns, 0, &r, NULL) == ROMFS_OK);
    CHECK_MEM(r.image, signed_base, ns);
    romfs_stable_result_free(&r);
    copy_tree(&B, &A);
    memset(B.f[7].data, 'x', 16);
    CHECK(stable(&B, 4, signed_base, ns, 0, &r, NULL) == ROMFS_OK);
    CHECK(reads_back(r.image, r.summary.image_size, &B, 4));
    CHECK(romfs_signature_find(r.image, r.summary.image_size, &sig, NULL) == ROMFS_OK);
    CHECK(!sig.present);
    CHECK(r.summary.image_size < ns);   /* the stale signature record is gone */
    /* signed again, the new signature takes the old one's place */
    uint8_t *resigned;
    size_t nr;
    CHECK(romfs_sign_image(r.image, r.summary.image_size, key, &resigned, &nr, NULL, NULL) == ROMFS_OK);
    CHECK(nr <= ns + 4);
    CHECK(blocks_differing(signed_base, ns, resigned, nr) <= 3);
    free(resigned);
    romfs_key_free(key);
    romfs_stable_result_free(&r);
    free(base);
    free(signed_base);
    free_tree(&A);
    free_tree(&B);
}

int main(void)
{
    RUN(unchanged_tree_gives_the_base_itself);
    RUN(grown_file_changes_at_most_three_blocks);
    RUN(grown_file_against_a_plain_base);
    RUN(same_size_edit_stays_in_place);
    RUN(appended_room_is_used_again);
    RUN(file_removed);
    RUN(file_added);
    RUN(directory_renamed);
    RUN(swapped_contents_read_back);
    RUN(mostly_changed_is_laid_out_fresh);
    RUN(same_input_same_bytes);
    RUN(alignment_is_honoured);
    RUN(bad_base_is_refused_by_name);
    RUN(narrow_header_is_laid_out_fresh);
    RUN(slack_stops_at_the_size_limit);
    RUN(signature_of_a_changed_base_is_dropped);
    UNIT_EXIT();
}
