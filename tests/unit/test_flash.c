/* test_flash.c: romfs_flash_image() against an in-memory NOR flash model.
 *
 * The model behaves like flash: erase sets 0xff, programming can only clear bits (a
 * write over unerased bytes ANDs, i.e. corrupts), geometry is enforced. Faults: a power
 * cut after N operations (the cut operation is applied only in part: a program call up
 * to a write-unit boundary, an erase leaves its first block half garbage), a bit flip
 * on one programmed byte. As in littlefs's power-loss tests, the image is written with a
 * cut at every operation in turn; after each cut the partition must hold either the old
 * image whole, the new image whole, or no ROMFS header at all, and a re-run must
 * complete it. */
#include "flash/flash.h"
#include "base/digest.h"
#include "unit.h"

#define HEADER0 0xd2
#define HEADER1 0xcd
#define HEADER2 0x31

struct model {
    uint8_t *mem;
    uint64_t size;
    uint32_t erase_size, write_size;
    long ops;             /* erase/prog operations performed */
    long cut_after;       /* power cut during operation number cut_after (1-based); 0 = never */
    bool dead;            /* power is gone: every call fails */
    long flip_at_prog;    /* flip a bit in this prog call's data (1-based); 0 = never */
    long progs, erases, hash_calls, reads, range_calls;
    uint64_t bytes_programmed;
};

static int model_fault(struct model *m, struct romfs_error *err)
{
    (void)m;
    return romfs_set_error(err, ROMFS_ERR_IO, "model: power is off");
}

/* Returns 1 if this operation is the one the power cut interrupts. */
static int model_begin(struct model *m)
{
    m->ops++;
    if (m->cut_after && m->ops == m->cut_after) {
        m->dead = true;
        return 1;
    }
    return 0;
}

static int m_erase(void *ctx, uint64_t off, uint64_t len, struct romfs_error *err)
{
    struct model *m = ctx;
    if (m->dead)
        return model_fault(m, err);
    if (off % m->erase_size || len % m->erase_size || off + len > m->size)
        return romfs_set_error(err, ROMFS_ERR_INVAL, "model: unaligned erase %llx+%llx",
                               (unsigned long long)off, (unsigned long long)len);
    m->erases++;
    if (model_begin(m)) {
        /* torn erase: the first block is left half erased, half garbage */
        for (uint64_t i = 0; i < m->erase_size; i++)
            m->mem[off + i] = i < m->erase_size / 2 ? 0xff : (uint8_t)(i * 37);
        return model_fault(m, err);
    }
    memset(m->mem + off, 0xff, len);
    return ROMFS_OK;
}

static int m_prog(void *ctx, uint64_t off, const void *buf, size_t len, struct romfs_error *err)
{
    struct model *m = ctx;
    if (m->dead)
        return model_fault(m, err);
    if (off % m->write_size || len % m->write_size || off + len > m->size)
        return romfs_set_error(err, ROMFS_ERR_INVAL, "model: unaligned prog %llx+%zx",
                               (unsigned long long)off, len);
    m->progs++;
    size_t n = len;
    int cut = model_begin(m);
    if (cut) /* torn program: a prefix of whole write units lands (possibly none) */
        n = (len / m->write_size / 2) * m->write_size;
    const uint8_t *src = buf;
    for (size_t i = 0; i < n; i++)
        m->mem[off + i] &= src[i];
    if (m->flip_at_prog && m->progs == m->flip_at_prog)
        m->mem[off + len / 2] ^= 0x10;
    m->bytes_programmed += n;
    return cut ? model_fault(m, err) : ROMFS_OK;
}

static int m_read(void *ctx, uint64_t off, void *buf, size_t len, struct romfs_error *err)
{
    struct model *m = ctx;
    if (m->dead)
        return model_fault(m, err);
    m->reads++;
    memcpy(buf, m->mem + off, len);
    return ROMFS_OK;
}

static int m_hash(void *ctx, uint64_t off, uint64_t len, uint8_t (*out)[32],
                  struct romfs_error *err)
{
    struct model *m = ctx;
    if (m->dead)
        return model_fault(m, err);
    m->hash_calls++;
    for (uint64_t i = 0; i < len / m->erase_size; i++)
        romfs_sha256(m->mem + off + i * m->erase_size, m->erase_size, out[i]);
    return ROMFS_OK;
}

static int m_hash_range(void *ctx, uint64_t off, uint64_t len, uint8_t out[32], struct romfs_error *err)
{
    struct model *m = ctx;
    if (m->dead)
        return model_fault(m, err);
    m->range_calls++;
    romfs_sha256(m->mem + off, len, out);
    return ROMFS_OK;
}

static void model_init(struct model *m, struct romfs_target *t, uint64_t size, uint32_t es,
                       uint32_t ws, uint32_t max_transfer, bool with_hash)
{
    memset(m, 0, sizeof *m);
    m->size = size;
    m->erase_size = es;
    m->write_size = ws;
    m->mem = malloc(size);
    memset(m->mem, 0xff, size);
    memset(t, 0, sizeof *t);
    t->name = "model";
    t->ctx = m;
    t->size = size;
    t->erase_size = es;
    t->write_size = ws;
    t->max_transfer = max_transfer;
    t->read = m_read;
    t->erase = m_erase;
    t->prog = m_prog;
    t->hash_blocks = with_hash ? m_hash : NULL;
}

static void model_reset_counters(struct model *m)
{
    m->ops = m->progs = m->erases = m->hash_calls = m->reads = m->range_calls = 0;
    m->bytes_programmed = 0;
    m->cut_after = m->flip_at_prog = 0;
    m->dead = false;
}

/* A pseudo image: ROMFS header bytes, then deterministic content. */
static uint8_t *make_image(size_t len, unsigned seed)
{
    uint8_t *img = malloc(len);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        img[i] = (uint8_t)x;
    }
    img[0] = HEADER0;
    img[1] = HEADER1;
    img[2] = HEADER2;
    return img;
}

static bool has_header(const struct model *m)
{
    return m->mem[0] == HEADER0 && m->mem[1] == HEADER1 && m->mem[2] == HEADER2;
}

static void test_fresh_write_and_tail_padding(void)
{
    struct model m;
    struct romfs_target t;
    model_init(&m, &t, 64 * 1024, 4096, 8, 1024, true);
    size_t len = 3 * 4096 + 100;  /* tail not a multiple of write_size */
    uint8_t *img = make_image(len, 1);
    struct romfs_flash_report rep;
    struct romfs_error err = { 0 };
    int rc = romfs_flash_image(&t, img, len, NULL, &rep, &err);
    CHECK_EQ_U(rc, ROMFS_OK);
    CHECK_MEM(m.mem, img, len);
    for (size_t i = len; i < m.size; i++)
        CHECK_EQ_U(m.mem[i], 0xff);
    CHECK_EQ_U(rep.blocks_in_image, 4);
    CHECK_EQ_U(rep.blocks_written, 4);
    CHECK_EQ_U(rep.bytes_programmed, 3 * 4096 + 104);
    CHECK(rep.verified);
    free(img);
    free(m.mem);
}

static void test_incremental_writes_only_changed_blocks(void)
{
    struct model m;
    struct romfs_target t;
    model_init(&m, &t, 256 * 1024, 4096, 4, 0, true);
    size_t len = 200 * 1024;
    uint8_t *img = make_image(len, 2);
    struct romfs_error err = { 0 };
    struct romfs_flash_report rep;
    CHECK_EQ_U(romfs_flash_image(&t, img, len, NULL, &rep, &err), ROMFS_OK);
    /* unchanged: nothing written, one hash round trip */
    model_reset_counters(&m);
    CHECK_EQ_U(romfs_flash_image(&t, img, len, NULL, &rep, &err), ROMFS_OK);
    CHECK_EQ_U(rep.blocks_written, 0);
    CHECK_EQ_U(m.erases + m.progs, 0);
    CHECK_EQ_U(m.hash_calls, 1);
    CHECK(rep.verified);
    /* one byte changes in block 20: block 20 and the header block are rewritten */
    img[20 * 4096 + 7] ^= 0x55;
    model_reset_counters(&m);
    CHECK_EQ_U(romfs_flash_image(&t, img, len, NULL, &rep, &err), ROMFS_OK);
    CHECK_EQ_U(rep.blocks_written, 2);
    CHECK_EQ_U(m.bytes_programmed, 2 * 4096);
    CHECK_MEM(m.mem, img, len);
    /* --full rewrites everything */
    struct romfs_flash_options opt = { .full = true };
    model_reset_counters(&m);
    CHECK_EQ_U(romfs_flash_image(&t, img, len, &opt, &rep, &err), ROMFS_OK);
    CHECK_EQ_U(rep.blocks_written, 50);
    CHECK_MEM(m.mem, img, len);
    free(img);
    free(m.mem);
}

/* A target that hashes a whole range: an unchanged re-run costs that one answer and no
 * per-block hashes; a change still finds exactly the changed blocks. */
static void test_range_hash_answers_an_unchanged_rerun(void)
{
    struct model m;
    struct romfs_target t;
    model_init(&m, &t, 256 * 1024, 4096, 4, 0, true);
    t.hash_range = m_hash_range;
    size_t len = 100 * 1024 + 5;
    uint8_t *img = make_image(len, 9);
    struct romfs_error err = { 0 };
    struct romfs_flash_report rep;
    CHECK_EQ_U(romfs_flash_image(&t, img, len, NULL, &rep, &err), ROMFS_OK);
    CHECK_EQ_U(rep.blocks_written, 26);
    model_reset_counters(&m);
    CHECK_EQ_U(romfs_flash_image(&t, img, len, NULL, &rep, &err), ROMFS_OK);
    CHECK_EQ_U(rep.blocks_written, 0);
    CHECK_EQ_U(m.range_calls, 1);
    CHECK_EQ_U(m.hash_calls, 0);
    CHECK(rep.verified);
    /* the tail past the image (block padding) counts: a stray byte there is a change */
    m.mem[len + 3] = 0;
    model_reset_counters(&m);
    CHECK_EQ_U(romfs_flash_image(&t, img, len, NULL, &rep, &err), ROMFS_OK);
    CHECK_EQ_U(rep.blocks_written, 2);
    CHECK_EQ_U(m.mem[len + 3], 0xff);
    img[50 * 1024] ^= 1;
    model_reset_counters(&m);
    CHECK_EQ_U(romfs_flash_image(&t, img, len, NULL, &rep, &err), ROMFS_OK);
    CHECK_EQ_U(rep.blocks_written, 2);
    CHECK_EQ_U(m.range_calls, 1);
    CHECK_MEM(m.mem, img, len);
    /* a failing range hash is an error, never "unchanged" */
    model_reset_counters(&m);
    m.dead = true;
    CHECK(romfs_flash_image(&t, img, len, NULL, &rep, &err) != ROMFS_OK);
    CHECK(!rep.verified);
    free(img);
    free(m.mem);
}

/* What the caller believes the partition holds (the image it wrote last) spares the
 * per-block hashes when the device's one range hash confirms it, and is never trusted
 * when it does not: a block changed behind the caller's back is still found. */
static void test_expected_content_spares_block_hashes_once_confirmed(void)
{
    struct model m;
    struct romfs_target t;
    model_init(&m, &t, 256 * 1024, 4096, 4, 0, true);
    t.hash_range = m_hash_range;
    size_t len = 100 * 1024 + 5;
    uint8_t *a = make_image(len, 3), *b = make_image(len, 3);
    b[20 * 4096 + 1] ^= 1;
    struct romfs_error err = { 0 };
    struct romfs_flash_report rep;
    CHECK_EQ_U(romfs_flash_image(&t, a, len, NULL, &rep, &err), ROMFS_OK);
    /* without a belief: the block hashes are asked for */
    model_reset_counters(&m);
    CHECK_EQ_U(romfs_flash_image(&t, b, len, NULL, &rep, &err), ROMFS_OK);
    long asked = m.hash_calls;
    CHECK_EQ_U(rep.blocks_written, 2);
    CHECK_EQ_U(romfs_flash_image(&t, a, len, NULL, &rep, &err), ROMFS_OK);
    /* believing the device holds a: one hash call fewer, the same two blocks */
    struct romfs_flash_options opt = { .expected = a, .expected_len = len };
    model_reset_counters(&m);
    CHECK_EQ_U(romfs_flash_image(&t, b, len, &opt, &rep, &err), ROMFS_OK);
    CHECK_EQ_U(m.hash_calls, asked - 1);
    CHECK_EQ_U(m.range_calls, 1);
    CHECK_EQ_U(rep.blocks_written, 2);
    CHECK(rep.verified);
    CHECK_MEM(m.mem, b, len);
    /* a wrong belief: block 10 changed on the device; the range hash gives it away */
    uint8_t *p = &m.mem[10 * 4096 + 9];
    while (!*p)
        p++;
    *p &= (uint8_t)(*p - 1);   /* one bit cleared, as flash does */
    opt.expected = b;
    model_reset_counters(&m);
    CHECK_EQ_U(romfs_flash_image(&t, a, len, &opt, &rep, &err), ROMFS_OK);
    CHECK_EQ_U(m.hash_calls, asked);
    CHECK_EQ_U(rep.blocks_written, 3);
    CHECK_MEM(m.mem, a, len);
    /* a belief shorter than the image counts the rest as erased: here it is not */
    opt.expected = a;
    opt.expected_len = 50 * 1024;
    model_reset_counters(&m);
    CHECK_EQ_U(romfs_flash_image(&t, b, len, &opt, &rep, &err), ROMFS_OK);
    CHECK_EQ_U(m.hash_calls, asked);
    CHECK_MEM(m.mem, b, len);
    free(a);
    free(b);
    free(m.mem);
}

static void test_read_fallback_without_hash_blocks(void)
{
    struct model m;
    struct romfs_target t;
    model_init(&m, &t, 32 * 1024, 1024, 256, 256, false);
    size_t len = 5000;
    uint8_t *img = make_image(len, 3);
    struct romfs_error err = { 0 };
    struct romfs_flash_report rep;
    CHECK_EQ_U(romfs_flash_image(&t, img, len, NULL, &rep, &err), ROMFS_OK);
    CHECK_MEM(m.mem, img, len);
    CHECK(m.reads > 0);
    img[4500] ^= 1;
    model_reset_counters(&m);
    CHECK_EQ_U(romfs_flash_image(&t, img, len, NULL, &rep, &err), ROMFS_OK);
    CHECK_EQ_U(rep.blocks_written, 2);
    CHECK_MEM(m.mem, img, len);
    free(img);
    free(m.mem);
}

static void test_verify_failure_leaves_no_header(void)
{
    struct model m;
    struct romfs_target t;
    model_init(&m, &t, 64 * 1024, 4096, 8, 4096, true);
    size_t len = 40000;
    uint8_t *old = make_image(len, 4), *img = make_image(len, 5);
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_flash_image(&t, old, len, NULL, NULL, &err), ROMFS_OK);
    model_reset_counters(&m);
    m.flip_at_prog = 3;  /* a bit flips in the third program call (a body block) */
    int rc = romfs_flash_image(&t, img, len, NULL, NULL, &err);
    CHECK_EQ_U(rc, ROMFS_ERR_MISMATCH);
    CHECK(strstr(err.msg, "verification failed") != NULL);
    CHECK(!has_header(&m));
    /* a re-run repairs it */
    model_reset_counters(&m);
    CHECK_EQ_U(romfs_flash_image(&t, img, len, NULL, NULL, &err), ROMFS_OK);
    CHECK_MEM(m.mem, img, len);
    free(old);
    free(img);
    free(m.mem);
}

static void test_header_block_verify_failure_erases_header(void)
{
    struct model m;
    struct romfs_target t;
    model_init(&m, &t, 64 * 1024, 4096, 8, 4096, true);
    size_t len = 20000;  /* 5 blocks: body progs 1..4, then block 0 body, then its header unit */
    uint8_t *img = make_image(len, 9);
    struct romfs_error err = { 0 };
    m.flip_at_prog = 5;  /* block 0's body, written after the other blocks verified */
    int rc = romfs_flash_image(&t, img, len, NULL, NULL, &err);
    CHECK_EQ_U(rc, ROMFS_ERR_MISMATCH);
    CHECK(strstr(err.msg, "erase block 0") != NULL);
    CHECK(!has_header(&m));
    model_reset_counters(&m);
    CHECK_EQ_U(romfs_flash_image(&t, img, len, NULL, NULL, &err), ROMFS_OK);
    CHECK_MEM(m.mem, img, len);
    free(img);
    free(m.mem);
}

static void test_rejects_bad_input(void)
{
    struct model m;
    struct romfs_target t;
    model_init(&m, &t, 16 * 1024, 4096, 8, 0, true);
    uint8_t *img = make_image(20000, 6);
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_flash_image(&t, img, 20000, NULL, NULL, &err), ROMFS_ERR_FBIG);
    CHECK(strstr(err.msg, "does not fit") != NULL);
    CHECK_EQ_U(m.ops, 0);
    t.erase_size = 3000;
    CHECK_EQ_U(romfs_flash_image(&t, img, 100, NULL, NULL, &err), ROMFS_ERR_INVAL);
    t.erase_size = 4096;
    t.max_transfer = 12;
    CHECK_EQ_U(romfs_flash_image(&t, img, 100, NULL, NULL, &err), ROMFS_ERR_INVAL);
    CHECK_EQ_U(m.ops, 0);
    free(img);
    free(m.mem);
}

/* The power-loss test: for each geometry, cut at operation 1, 2, ... until a run completes
 * without reaching the cut; after every cut check the invariant and complete with a re-run. */
static void power_cut_sweep(uint32_t es, uint32_t ws, uint32_t mt, size_t old_len, size_t new_len,
                            bool change_few, bool with_hash)
{
    struct model m;
    struct romfs_target t;
    model_init(&m, &t, 64 * 1024, es, ws, mt, with_hash);
    uint8_t *old = make_image(old_len, 7);
    uint8_t *img = make_image(new_len, change_few ? 7 : 8);
    if (change_few) {
        img[new_len / 2] ^= 0xff;
        img[new_len - 1] ^= 0x01;
    }
    struct romfs_error err = { 0 };
    long cuts = 0;
    for (long cut = 1;; cut++) {
        /* start from the old image */
        memset(m.mem, 0xff, m.size);
        memcpy(m.mem, old, old_len);
        model_reset_counters(&m);
        m.cut_after = cut;
        int rc = romfs_flash_image(&t, img, new_len, NULL, NULL, &err);
        if (!m.dead) {
            CHECK_EQ_U(rc, ROMFS_OK);
            CHECK_MEM(m.mem, img, new_len);
            break;
        }
        cuts++;
        CHECK(rc != ROMFS_OK);
        bool old_whole = memcmp(m.mem, old, old_len) == 0;
        bool new_whole = memcmp(m.mem, img, new_len) == 0;
        if (!old_whole && !new_whole && has_header(&m)) {
            printf("    cut at operation %ld left a mountable half-written image\n", cut);
            CHECK(false);
        }
        model_reset_counters(&m);
        rc = romfs_flash_image(&t, img, new_len, NULL, NULL, &err);
        CHECK_EQ_U(rc, ROMFS_OK);
        CHECK_MEM(m.mem, img, new_len);
        CHECK(has_header(&m));
        CHECK(cut < 10000);
    }
    CHECK(cuts > 0);
    free(old);
    free(img);
    free(m.mem);
}

static void test_power_cut_every_write_full_change(void)
{
    power_cut_sweep(4096, 8, 1024, 30000, 41000, false, true);
}

static void test_power_cut_every_write_few_blocks(void)
{
    power_cut_sweep(4096, 4, 4096, 41000, 41000, true, true);
}

static void test_power_cut_every_write_byte_units(void)
{
    power_cut_sweep(1024, 1, 256, 9000, 5000, false, true);
}

static void test_power_cut_every_write_read_only_target(void)
{
    power_cut_sweep(2048, 16, 512, 12000, 12000, true, false);
}

int main(void)
{
    RUN(test_fresh_write_and_tail_padding);
    RUN(test_incremental_writes_only_changed_blocks);
    RUN(test_range_hash_answers_an_unchanged_rerun);
    RUN(test_expected_content_spares_block_hashes_once_confirmed);
    RUN(test_read_fallback_without_hash_blocks);
    RUN(test_verify_failure_leaves_no_header);
    RUN(test_header_block_verify_failure_erases_header);
    RUN(test_rejects_bad_input);
    RUN(test_power_cut_every_write_full_change);
    RUN(test_power_cut_every_write_few_blocks);
    RUN(test_power_cut_every_write_byte_units);
    RUN(test_power_cut_every_write_read_only_target);
    UNIT_EXIT();
}
