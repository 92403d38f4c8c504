/* test_sign.c: image signatures (lib/image/sign.c): record layout, tamper detection, keys. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "romfs.h"
#include "unit.h"

/* ---- building small images in memory ------------------------------------------ */

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

/* Content of a file: its user pointer is a NUL-terminated string, or a length-coded
   pattern when it starts with '#' (e.g. "#300" = 300 bytes of a counting pattern). */
static int content_fn(void *ctx, const struct romfs_node *file, romfs_sink_fn write,
                      void *write_ctx, struct romfs_error *err)
{
    (void)ctx;
    const char *text = romfs_node_user(file);
    uint64_t size = romfs_node_size(file);
    if (text[0] != '#')
        return write(write_ctx, text, size, err);
    for (uint64_t i = 0; i < size; i++) {
        uint8_t b = (uint8_t)(i * 7 + 3);
        int rc = write(write_ctx, &b, 1, err);
        if (rc)
            return rc;
    }
    return ROMFS_OK;
}

static uint64_t content_size(const char *text)
{
    return text[0] == '#' ? strtoull(text + 1, NULL, 10) : strlen(text);
}

/* names[i] / contents[i]; a name with a '/' puts the file in directory "lib". */
static uint8_t *build_image(const char *const *names, const char *const *contents, size_t n,
                            uint32_t align, size_t *size)
{
    struct romfs_error err = {0};
    struct romfs_tree *tree = romfs_tree_new();
    struct romfs_node *root = romfs_tree_root(tree), *lib = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *name = names[i];
        struct romfs_node *parent = root;
        if (strncmp(name, "lib/", 4) == 0) {
            if (!lib)
                lib = romfs_tree_add_dir(tree, root, "lib", 3, &err);
            parent = lib;
            name += 4;
        }
        romfs_tree_add_file(tree, parent, name, strlen(name), content_size(contents[i]), align,
                            (void *)contents[i], &err);
    }
    uint64_t image_size;
    struct membuf m = {0};
    if (romfs_tree_layout(tree, &image_size, &err) != ROMFS_OK ||
        romfs_tree_emit(tree, mem_sink, &m, content_fn, NULL, &err) != ROMFS_OK) {
        printf("    build_image: %s\n", err.msg);
        free(m.data);
        m.data = NULL;
    }
    romfs_tree_free(tree);
    *size = m.len;
    return m.data;
}

static uint8_t *small_image(size_t *size)
{
    static const char *const names[] = { "boot.py", "lib/util.py", "data.bin" };
    static const char *const contents[] = { "print('hi')\n", "X = 1\n", "#40" };
    return build_image(names, contents, 3, 4, size);
}

/* ---- listing an image: every entry's path, type and bytes -------------------- */

struct listing {
    char text[8192];          /* "path type size:" per entry, offsets left out */
    size_t len;
    uint64_t offsets[16];     /* data offsets of the first files, in walk order */
    size_t n_offsets;
};

static int list_visit(void *ctx, const char *path, const struct romfs_entry *e, int depth)
{
    (void)depth;
    struct listing *l = ctx;
    int n = snprintf(l->text + l->len, sizeof l->text - l->len, "%s %s %llu:", path,
                     e->type == ROMFS_ENTRY_DIR ? "dir" : "file", (unsigned long long)e->data_size);
    l->len += (size_t)n;
    if (e->type == ROMFS_ENTRY_FILE && l->n_offsets < 16)
        l->offsets[l->n_offsets++] = e->data_offset;
    return 0;
}

static int list_image(const uint8_t *data, size_t size, struct listing *l, uint8_t digest[32])
{
    struct romfs_image img;
    struct romfs_error err = {0};
    memset(l, 0, sizeof *l);
    if (romfs_image_open(&img, data, size, &err) != ROMFS_OK)
        return -1;
    if (romfs_image_walk(&img, NULL, list_visit, l, &err) != ROMFS_OK)
        return -1;
    /* digest of all file contents in walk order */
    struct romfs_sha256 h;
    romfs_sha256_init(&h);
    const char *paths[] = { "boot.py", "lib/util.py", "data.bin", "big.bin" };
    for (size_t i = 0; i < 4; i++) {
        struct romfs_entry e;
        if (romfs_lookup(&img, paths[i], &e, &err) == ROMFS_OK)
            romfs_sha256_update(&h, romfs_entry_data(&img, &e), (size_t)e.data_size);
    }
    romfs_sha256_final(&h, digest);
    return 0;
}

/* ---- keys ---------------------------------------------------------------------- */

static struct romfs_key *key_a, *key_b;

static void setup_keys(void)
{
    struct romfs_error err = {0};
    if (romfs_key_generate(&key_a, &err) != ROMFS_OK || romfs_key_generate(&key_b, &err) != ROMFS_OK) {
        printf("FAIL setup_keys: %s\n", err.msg);
        exit(1);
    }
}

/* ---- tests --------------------------------------------------------------------- */

static void sign_then_verify(void)
{
    size_t size, ssize;
    uint8_t *img = small_image(&size), *signed_img;
    CHECK(img);
    struct romfs_error err = {0};
    struct romfs_signature_info info, vinfo;
    int rc = romfs_sign_image(img, size, key_a, &signed_img, &ssize, &info, &err);
    if (rc)
        printf("    %s\n", err.msg);
    CHECK_EQ_U(rc, ROMFS_OK);
    CHECK(info.present);
    CHECK_EQ_U(ssize % 2, 0);
    CHECK_EQ_U(info.image_size, ssize);
    CHECK_EQ_U(info.signed_size, ssize - ROMFS_SIG_SIZE);
    CHECK(ssize >= size + 2 + ROMFS_SIG_PAYLOAD_SIZE);
    CHECK_EQ_U(romfs_signature_verify(signed_img, ssize, key_a, &vinfo, &err), ROMFS_OK);
    CHECK_EQ_U(vinfo.algorithm, ROMFS_SIG_ALG_ECDSA_P256_SHA256);
    CHECK_MEM(vinfo.key_id, info.key_id, ROMFS_SIG_KEY_ID_SIZE);
    CHECK_MEM(vinfo.digest, info.digest, 32);
    /* the record is literally there, at the end, as documented */
    CHECK_MEM(signed_img + info.record_offset + (ssize - info.record_offset - 2 - ROMFS_SIG_PAYLOAD_SIZE == 1 ? 3 : 2),
              ROMFS_SIG_MAGIC, 8);
    CHECK_EQ_U(signed_img[info.record_offset], 1);
    free(img);
    free(signed_img);
}

static void signed_image_reads_identically(void)
{
    size_t size, ssize;
    uint8_t *img = small_image(&size), *signed_img;
    struct romfs_error err = {0};
    CHECK_EQ_U(romfs_sign_image(img, size, key_a, &signed_img, &ssize, NULL, &err), ROMFS_OK);
    struct listing before, after;
    uint8_t d1[32], d2[32];
    CHECK_EQ_U(list_image(img, size, &before, d1), 0);
    CHECK_EQ_U(list_image(signed_img, ssize, &after, d2), 0);
    CHECK(strcmp(before.text, after.text) == 0);   /* same names and sizes */
    CHECK(strstr(before.text, "lib/util.py file 6"));
    /* data keeps its 4-byte alignment (it moves only when the header must grow) */
    CHECK_EQ_U(before.n_offsets, 3);
    CHECK_EQ_U(after.n_offsets, 3);
    for (size_t i = 0; i < 3; i++) {
        CHECK_EQ_U(after.offsets[i] % 4, 0);
        CHECK_EQ_U(after.offsets[i] - before.offsets[i], after.offsets[0] - before.offsets[0]);
    }
    CHECK_MEM(d1, d2, 32);
    /* strict verification accepts the signed image */
    struct romfs_image im;
    struct romfs_stats st1, st2;
    CHECK_EQ_U(romfs_image_open(&im, img, size, &err), ROMFS_OK);
    CHECK_EQ_U(romfs_image_verify(&im, &st1, &err), ROMFS_OK);
    CHECK_EQ_U(romfs_image_open(&im, signed_img, ssize, &err), ROMFS_OK);
    CHECK_EQ_U(romfs_image_verify(&im, &st2, &err), ROMFS_OK);
    CHECK_EQ_U(st1.files, st2.files);
    CHECK_EQ_U(st1.min_data_alignment, st2.min_data_alignment);
    free(img);
    free(signed_img);
}

/* Change every byte of a signed image, one at a time, in two ways: verification must
   fail every time. */
static void tamper_any_byte_fails(void)
{
    size_t size, ssize;
    uint8_t *img = small_image(&size), *signed_img;
    struct romfs_error err = {0};
    CHECK_EQ_U(romfs_sign_image(img, size, key_a, &signed_img, &ssize, NULL, &err), ROMFS_OK);
    static const uint8_t flips[] = { 0x01, 0x80 };
    for (size_t f = 0; f < sizeof flips; f++) {
        for (size_t i = 0; i < ssize; i++) {
            signed_img[i] ^= flips[f];
            int rc = romfs_signature_verify(signed_img, ssize, key_a, NULL, &err);
            signed_img[i] ^= flips[f];
            if (rc == ROMFS_OK)
                printf("    byte %zu ^ 0x%02x still verifies\n", i, flips[f]);
            CHECK(rc != ROMFS_OK);
        }
    }
    CHECK_EQ_U(romfs_signature_verify(signed_img, ssize, key_a, NULL, &err), ROMFS_OK);
    free(img);
    free(signed_img);
}

static void wrong_key_fails_clearly(void)
{
    size_t size, ssize;
    uint8_t *img = small_image(&size), *signed_img;
    struct romfs_error err = {0};
    CHECK_EQ_U(romfs_sign_image(img, size, key_a, &signed_img, &ssize, NULL, &err), ROMFS_OK);
    CHECK_EQ_U(romfs_signature_verify(signed_img, ssize, key_b, NULL, &err), ROMFS_ERR_MISMATCH);
    CHECK(strstr(err.msg, "signed by key"));
    uint8_t ida[8], idb[8];
    char hexa[17], hexb[17];
    romfs_key_id(key_a, ida);
    romfs_key_id(key_b, idb);
    romfs_key_id_hex(ida, hexa);
    romfs_key_id_hex(idb, hexb);
    CHECK(strstr(err.msg, hexa) && strstr(err.msg, hexb));
    /* A forged record claiming key b's id still fails: the signature is a's. */
    struct romfs_signature_info info;
    CHECK_EQ_U(romfs_signature_find(signed_img, ssize, &info, &err), ROMFS_OK);
    memcpy(signed_img + info.signed_size - ROMFS_SIG_KEY_ID_SIZE, idb, 8);
    CHECK_EQ_U(romfs_signature_verify(signed_img, ssize, key_b, NULL, &err), ROMFS_ERR_MISMATCH);
    CHECK(strstr(err.msg, "modified after signing"));
    free(img);
    free(signed_img);
}

static void unsigned_image_is_refused(void)
{
    size_t size;
    uint8_t *img = small_image(&size);
    struct romfs_error err = {0};
    struct romfs_signature_info info;
    CHECK_EQ_U(romfs_signature_find(img, size, &info, &err), ROMFS_OK);
    CHECK(!info.present);
    CHECK_EQ_U(romfs_signature_verify(img, size, key_a, NULL, &err), ROMFS_ERR_MISMATCH);
    CHECK(strstr(err.msg, "not signed"));
    free(img);
}

/* Shorten the signature record by `cut` bytes, fixing the record and image lengths so
   the image is otherwise well-formed. */
static size_t truncate_signature(uint8_t *s, size_t ssize, size_t cut)
{
    struct romfs_signature_info info;
    romfs_signature_find(s, ssize, &info, NULL);
    size_t rec = info.record_offset;
    /* rewrite record: 01, minimal length varuint, shortened body */
    uint8_t body[ROMFS_SIG_PAYLOAD_SIZE];
    size_t body_start = ssize - ROMFS_SIG_PAYLOAD_SIZE;
    memcpy(body, s + body_start, sizeof body);
    size_t p = rec;
    s[p++] = 1;
    size_t len = ROMFS_SIG_PAYLOAD_SIZE - cut;
    s[p++] = (uint8_t)len;
    memcpy(s + p, body, len);
    p += len;
    if (p % 2)
        s[rec + 1] = 0x80, s[rec + 2] = (uint8_t)len, memmove(s + rec + 3, body, len), p++;
    size_t header = 3, width = 0;
    uint64_t old;
    romfs_varuint_decode(s + 3, ssize - 3, &old, &width);
    romfs_varuint_encode(p - header - width, width, s + 3);
    return p;
}

static void truncated_signature_fails_clearly(void)
{
    size_t size, ssize;
    uint8_t *img = small_image(&size), *signed_img;
    struct romfs_error err = {0};
    CHECK_EQ_U(romfs_sign_image(img, size, key_a, &signed_img, &ssize, NULL, &err), ROMFS_OK);
    size_t tsize = truncate_signature(signed_img, ssize, 20);
    struct romfs_image im;
    CHECK_EQ_U(romfs_image_open(&im, signed_img, tsize, &err), ROMFS_OK); /* still an image */
    CHECK_EQ_U(romfs_signature_verify(signed_img, tsize, key_a, NULL, &err), ROMFS_ERR_CORRUPT);
    CHECK(strstr(err.msg, "truncated"));
    CHECK(strstr(err.msg, "62 bytes, expected 82"));
    /* a file cut short (the last bytes of the signature missing) is no image at all */
    CHECK(romfs_signature_verify(signed_img, ssize - 10, key_a, NULL, &err) != ROMFS_OK);
    /* signing the damaged image replaces the damaged record */
    uint8_t *resigned;
    size_t rsize;
    CHECK_EQ_U(romfs_sign_image(signed_img, tsize, key_a, &resigned, &rsize, NULL, &err), ROMFS_OK);
    CHECK_EQ_U(romfs_signature_verify(resigned, rsize, key_a, NULL, &err), ROMFS_OK);
    CHECK_EQ_U(rsize, ssize);
    free(resigned);
    free(img);
    free(signed_img);
}

static void unknown_algorithm_fails_clearly(void)
{
    size_t size, ssize;
    uint8_t *img = small_image(&size), *signed_img;
    struct romfs_error err = {0};
    CHECK_EQ_U(romfs_sign_image(img, size, key_a, &signed_img, &ssize, NULL, &err), ROMFS_OK);
    size_t alg_at = ssize - ROMFS_SIG_SIZE - ROMFS_SIG_KEY_ID_SIZE - 1;
    CHECK_EQ_U(signed_img[alg_at], 1);
    signed_img[alg_at] = 7;
    CHECK_EQ_U(romfs_signature_verify(signed_img, ssize, key_a, NULL, &err), ROMFS_ERR_UNSUPPORTED);
    CHECK(strstr(err.msg, "unknown signature algorithm 7"));
    signed_img[alg_at] = ROMFS_SIG_ALG_ED25519;
    CHECK_EQ_U(romfs_signature_verify(signed_img, ssize, key_a, NULL, &err), ROMFS_ERR_UNSUPPORTED);
    CHECK(strstr(err.msg, "Ed25519"));
    signed_img[alg_at] = 1;
    signed_img[alg_at - 1] = 9; /* record version */
    CHECK_EQ_U(romfs_signature_verify(signed_img, ssize, key_a, NULL, &err), ROMFS_ERR_UNSUPPORTED);
    CHECK(strstr(err.msg, "version 9"));
    free(img);
    free(signed_img);
}

static void resign_replaces_and_is_deterministic(void)
{
    size_t size, s1, s2, s3;
    uint8_t *img = small_image(&size), *a1, *a2, *b1;
    struct romfs_error err = {0};
    CHECK_EQ_U(romfs_sign_image(img, size, key_a, &a1, &s1, NULL, &err), ROMFS_OK);
    CHECK_EQ_U(romfs_sign_image(a1, s1, key_a, &a2, &s2, NULL, &err), ROMFS_OK);
    CHECK_EQ_U(s1, s2);
    CHECK_MEM(a1, a2, s1);     /* RFC 6979: same key, same image, same bytes */
    CHECK_EQ_U(romfs_sign_image(a1, s1, key_b, &b1, &s3, NULL, &err), ROMFS_OK);
    CHECK_EQ_U(s3, s1);        /* replaced, not appended */
    CHECK_EQ_U(romfs_signature_verify(b1, s3, key_b, NULL, &err), ROMFS_OK);
    CHECK_EQ_U(romfs_signature_verify(b1, s3, key_a, NULL, &err), ROMFS_ERR_MISMATCH);
    CHECK_MEM(a1, b1, s1 - ROMFS_SIG_SIZE - ROMFS_SIG_KEY_ID_SIZE); /* all before key id equal */
    free(img);
    free(a1);
    free(a2);
    free(b1);
}

/* Across many image sizes (odd and even totals, header varuint boundaries at 128 and
   16384 bytes), the signed image is even, keeps every data offset, and verifies. */
static void every_size_stays_even_and_in_place(void)
{
    struct romfs_error err = {0};
    static char spec[32];
    const char *names[] = { "a.bin", "big.bin" };
    const char *contents[] = { "x", spec };
    size_t sizes[] = { 0, 1, 2, 3, 30, 31, 32, 33, 40, 41, 42, 43, 100, 101, 16200, 16250,
                       16270, 16271, 16272, 16273, 16280, 16281, 16290, 16291, 16300, 16301 };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        for (uint32_t align = 1; align <= 256; align *= 4) {
            snprintf(spec, sizeof spec, "#%zu", sizes[k]);
            size_t size, ssize;
            uint8_t *img = build_image(names, contents, 2, align, &size), *s;
            if (!img)
                printf("    cannot build: size %zu align %u\n", sizes[k], align);
            CHECK(img);
            struct romfs_signature_info info;
            int rc = romfs_sign_image(img, size, key_a, &s, &ssize, &info, &err);
            if (rc != ROMFS_OK)
                printf("    size %zu align %u: %s\n", sizes[k], align, err.msg);
            CHECK_EQ_U(rc, ROMFS_OK);
            CHECK_EQ_U(ssize % 2, 0);
            CHECK_EQ_U(romfs_signature_verify(s, ssize, key_a, NULL, &err), ROMFS_OK);
            struct listing l1, l2;
            uint8_t d1[32], d2[32];
            CHECK_EQ_U(list_image(img, size, &l1, d1), 0);
            CHECK_EQ_U(list_image(s, ssize, &l2, d2), 0);
            CHECK_MEM(d1, d2, 32);
            struct romfs_image a, b;
            CHECK_EQ_U(romfs_image_open(&a, img, size, &err), ROMFS_OK);
            CHECK_EQ_U(romfs_image_open(&b, s, ssize, &err), ROMFS_OK);
            CHECK_EQ_U(romfs_image_verify(&b, NULL, &err), ROMFS_OK);
            CHECK(strcmp(l1.text, l2.text) == 0);
            CHECK_EQ_U(b.payload_start - a.payload_start + (info.data_shift > b.payload_start - a.payload_start ? info.data_shift - (b.payload_start - a.payload_start) : 0), info.data_shift);
            for (size_t i = 0; i < l1.n_offsets; i++) {
                CHECK_EQ_U(l2.offsets[i] - l1.offsets[i], info.data_shift);
                if (l1.offsets[i] % align == 0)  /* alignment kept wherever it held */
                    CHECK_EQ_U(l2.offsets[i] % align, 0);
            }
            if (romfs_varuint_size(a.payload_end - a.payload_start + 3 + ROMFS_SIG_PAYLOAD_SIZE) <=
                a.payload_start - 3)
                CHECK_EQ_U(info.data_shift, 0); /* room in the header: nothing moves */
            free(img);
            free(s);
        }
    }
}

static void trailing_padding(void)
{
    size_t size, ssize;
    uint8_t *img = small_image(&size);
    struct romfs_error err = {0};
    size_t padded = 512;
    uint8_t *buf = malloc(padded), *s;
    memcpy(buf, img, size);
    memset(buf + size, 0xff, padded - size);
    CHECK_EQ_U(romfs_sign_image(buf, padded, key_a, &s, &ssize, NULL, &err), ROMFS_OK);
    CHECK_EQ_U(ssize, padded);   /* --pad-to size kept */
    CHECK_EQ_U(romfs_signature_verify(s, ssize, key_a, NULL, &err), ROMFS_OK);
    s[ssize - 1] = 0x00;         /* a changed byte in the fill is not signed: refused */
    CHECK_EQ_U(romfs_signature_verify(s, ssize, key_a, NULL, &err), ROMFS_ERR_MISMATCH);
    CHECK(strstr(err.msg, "not 0xff"));
    buf[padded - 1] = 0x00;      /* and signing such an image is refused */
    free(s);
    CHECK_EQ_U(romfs_sign_image(buf, padded, key_a, &s, &ssize, NULL, &err), ROMFS_ERR_CORRUPT);
    free(buf);
    free(img);
}

static void keys_in_pem_and_der(void)
{
    struct romfs_error err = {0};
    char dir[] = "/tmp/romfs-test-sign.XXXXXX";
    CHECK(mkdtemp(dir));
    char priv_pem[128], pub_pem[128], priv_der[128], pub_der[128];
    snprintf(priv_pem, sizeof priv_pem, "%s/k.pem", dir);
    snprintf(pub_pem, sizeof pub_pem, "%s/k.pub.pem", dir);
    snprintf(priv_der, sizeof priv_der, "%s/k.der", dir);
    snprintf(pub_der, sizeof pub_der, "%s/k.pub.der", dir);
    CHECK_EQ_U(romfs_key_write(key_a, true, ROMFS_KEY_PEM, priv_pem, false, &err), ROMFS_OK);
    CHECK_EQ_U(romfs_key_write(key_a, false, ROMFS_KEY_PEM, pub_pem, false, &err), ROMFS_OK);
    CHECK_EQ_U(romfs_key_write(key_a, true, ROMFS_KEY_DER, priv_der, false, &err), ROMFS_OK);
    CHECK_EQ_U(romfs_key_write(key_a, false, ROMFS_KEY_DER, pub_der, false, &err), ROMFS_OK);
    CHECK_EQ_U(romfs_key_write(key_a, false, ROMFS_KEY_DER, pub_der, false, &err), ROMFS_ERR_EXIST);
    struct stat st;
    CHECK_EQ_U(stat(priv_pem, &st), 0);
    CHECK_EQ_U(st.st_mode & 0777, 0600);
    CHECK_EQ_U(stat(pub_pem, &st), 0);
    CHECK_EQ_U(st.st_mode & 0777, 0644);
    uint8_t want[8], got[8];
    romfs_key_id(key_a, want);
    const char *paths[] = { priv_pem, pub_pem, priv_der, pub_der };
    size_t size, ssize;
    uint8_t *img = small_image(&size), *s;
    CHECK_EQ_U(romfs_sign_image(img, size, key_a, &s, &ssize, NULL, &err), ROMFS_OK);
    for (int i = 0; i < 4; i++) {
        struct romfs_key *k;
        CHECK_EQ_U(romfs_key_load(paths[i], false, &k, &err), ROMFS_OK);
        romfs_key_id(k, got);
        CHECK_MEM(got, want, 8);
        CHECK_EQ_U(romfs_key_has_private(k), i % 2 == 0);
        CHECK_EQ_U(romfs_signature_verify(s, ssize, k, NULL, &err), ROMFS_OK);
        romfs_key_free(k);
    }
    /* signing needs the private half; a public key file says so */
    struct romfs_key *k;
    CHECK_EQ_U(romfs_key_load(pub_pem, true, &k, &err), ROMFS_ERR_INVAL);
    CHECK(strstr(err.msg, "public key"));
    CHECK_EQ_U(romfs_key_load(pub_der, true, &k, &err), ROMFS_ERR_INVAL);
    /* junk is not a key */
    CHECK_EQ_U(romfs_key_parse((const uint8_t *)"hello", 5, "junk", false, &k, &err), ROMFS_ERR_CORRUPT);
    CHECK(strstr(err.msg, "junk is not a PEM or DER key"));
    CHECK_EQ_U(romfs_key_load("/nonexistent/k.pem", false, &k, &err), ROMFS_ERR_NOENT);
    for (int i = 0; i < 4; i++)
        unlink(paths[i]);
    rmdir(dir);
    free(img);
    free(s);
}

int main(void)
{
    setup_keys();
    RUN(sign_then_verify);
    RUN(signed_image_reads_identically);
    RUN(tamper_any_byte_fails);
    RUN(wrong_key_fails_clearly);
    RUN(unsigned_image_is_refused);
    RUN(truncated_signature_fails_clearly);
    RUN(unknown_algorithm_fails_clearly);
    RUN(resign_replaces_and_is_deterministic);
    RUN(every_size_stays_even_and_in_place);
    RUN(trailing_padding);
    RUN(keys_in_pem_and_der);
    romfs_key_free(key_a);
    romfs_key_free(key_b);
    UNIT_EXIT();
}
