/* test_check.c: image-vs-partition checks with hand-worked numbers. Images are built
 * with the format library's tree writer; partitions are written out here. */
#include "unit.h"

#include "plan/check.h"
#include "format/format.h"

struct buf {
    uint8_t *data;
    size_t len, cap;
};

static int sink(void *ctx, const void *data, size_t len, struct romfs_error *err)
{
    (void)err;
    struct buf *b = ctx;
    if (b->len + len > b->cap) {
        b->cap = (b->len + len) * 2;
        b->data = realloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    return ROMFS_OK;
}

static int content(void *ctx, const struct romfs_node *file, romfs_sink_fn write, void *wctx,
                   struct romfs_error *err)
{
    (void)ctx;
    uint64_t n = romfs_node_size(file);
    uint8_t chunk[256];
    memset(chunk, 0x5a, sizeof chunk);
    while (n) {
        size_t k = n < sizeof chunk ? (size_t)n : sizeof chunk;
        int rc = write(wctx, chunk, k, err);
        if (rc)
            return rc;
        n -= k;
    }
    return ROMFS_OK;
}

struct spec {
    const char *name;
    uint64_t size;
    uint32_t align;
};

/* Build an image of the given files in the root directory. */
static struct buf build(const struct spec *files, size_t n)
{
    struct buf b = { 0 };
    struct romfs_tree *tree = romfs_tree_new();
    for (size_t i = 0; i < n; i++)
        romfs_tree_add_file(tree, romfs_tree_root(tree), files[i].name, strlen(files[i].name),
                            files[i].size, files[i].align, NULL, NULL);
    uint64_t size = 0;
    struct romfs_error err = { 0 };
    if (romfs_tree_layout(tree, &size, &err) == ROMFS_OK)
        romfs_tree_emit(tree, sink, &b, content, NULL, &err);
    if (err.code)
        printf("    build: %s\n", err.msg);
    romfs_tree_free(tree);
    return b;
}

static struct romfs_check_target target(uint64_t start, uint64_t size, uint32_t erase,
                                        uint32_t write, int mmap)
{
    struct romfs_check_target t;
    memset(&t, 0, sizeof t);
    snprintf(t.board, sizeof t.board, "TESTBOARD");
    t.start = start;
    t.size = size;
    t.erase_block = erase;
    t.write_block = write;
    t.mmap = mmap;
    snprintf(t.source, sizeof t.source, "test");
    return t;
}

#define STATUS(res, id) ((res).items[id].status)

/* STM32F4-like: 128K sector at 0x08020000, image with a 4096-aligned asset: all pass. */
static void test_all_pass(void)
{
    struct spec files[] = { { "a.bin", 5000, 4096 }, { "b.py", 100, 4 } };
    struct buf img = build(files, 2);
    CHECK(img.len > 0);
    struct romfs_check_target t = target(0x08020000, 0x20000, 0x20000, 32, 1);
    struct romfs_check_result res;
    struct romfs_error err = { 0 };
    int rc = romfs_check_image(img.data, img.len, &t, NULL, &res, &err);
    CHECK_EQ_U(rc, ROMFS_OK);
    for (int i = 0; i < ROMFS_CHECK_COUNT; i++)
        CHECK_EQ_U(STATUS(res, i), ROMFS_REPORT_PASS);
    CHECK_EQ_U(res.failed, 0);
    CHECK_EQ_U(res.files, 2);
    CHECK_EQ_U(res.max_asked_align, 4096);
    CHECK_EQ_U(res.free_bytes, 0x20000 - img.len);
    CHECK_EQ_U(res.erase_end, 0x08040000);
    romfs_check_result_free(&res);
    free(img.data);
}

/* Partition start 0x08020200 is aligned only to 512: a file the image put at a
 * 4096-aligned offset lands at 0x08021200 (aligned to 512), a 4-aligned one keeps 4. */
static void test_misaligned_partition_start(void)
{
    struct spec files[] = { { "big.bin", 3000, 4096 }, { "small.py", 10, 4 } };
    struct buf img = build(files, 2);
    struct romfs_check_target t = target(0x08020200, 0x10000, 512, 4, 1);
    struct romfs_check_result res;
    struct romfs_error err = { 0 };
    int rc = romfs_check_image(img.data, img.len, &t, NULL, &res, &err);
    CHECK_EQ_U(rc, ROMFS_ERR_MISMATCH);
    CHECK_EQ_U(STATUS(res, ROMFS_CHECK_ALIGNMENT), ROMFS_REPORT_FAIL);
    CHECK_EQ_U(STATUS(res, ROMFS_CHECK_FITS), ROMFS_REPORT_PASS);
    CHECK_EQ_U(STATUS(res, ROMFS_CHECK_ERASE), ROMFS_REPORT_PASS);
    CHECK_EQ_U(res.misaligned, 1);
    CHECK_EQ_U(res.start_align, 512);
    CHECK_EQ_U(res.failed, 1);
    CHECK(res.alignment_detail != NULL);
    CHECK(strstr(res.alignment_detail, "big.bin: data at image offset 0x1000 (aligned to 4096) "
                                       "lands at 0x08021200, aligned only to 512") != NULL);
    CHECK(strstr(err.msg, "TESTBOARD partition 0: alignment: 1 of 2 files") != NULL);
    romfs_check_result_free(&res);

    /* The same image at a 4096-aligned start keeps everything. */
    t.start = 0x08021000;
    rc = romfs_check_image(img.data, img.len, &t, NULL, &res, &err);
    CHECK_EQ_U(rc, ROMFS_OK);
    CHECK_EQ_U(res.misaligned, 0);
    romfs_check_result_free(&res);

    /* With the cap at 512 the image asks for no more than 512: it passes at 0x08020200. */
    t.start = 0x08020200;
    struct romfs_check_options opt = { .align_cap = 512 };
    rc = romfs_check_image(img.data, img.len, &t, &opt, &res, &err);
    CHECK_EQ_U(rc, ROMFS_OK);
    CHECK_EQ_U(res.max_asked_align, 512);
    romfs_check_result_free(&res);
    free(img.data);
}

/* Image one byte larger than the partition. */
static void test_one_byte_too_big(void)
{
    struct spec files[] = { { "x", 1001, 1 } };
    struct buf img = build(files, 1);
    CHECK(img.len > 1000);
    struct romfs_check_target t = target(0x10000000, img.len - 1, 0, 0, 1);
    struct romfs_check_result res;
    struct romfs_error err = { 0 };
    int rc = romfs_check_image(img.data, img.len, &t, NULL, &res, &err);
    CHECK_EQ_U(rc, ROMFS_ERR_FBIG);
    CHECK_EQ_U(STATUS(res, ROMFS_CHECK_FITS), ROMFS_REPORT_FAIL);
    CHECK(strstr(res.items[ROMFS_CHECK_FITS].message, ", 1 byte more than the ") != NULL);
    CHECK_EQ_U(STATUS(res, ROMFS_CHECK_ERASE), ROMFS_REPORT_SKIP);
    CHECK_EQ_U(STATUS(res, ROMFS_CHECK_WRITE), ROMFS_REPORT_SKIP);
    romfs_check_result_free(&res);

    /* Exactly the partition size fits, with 0 bytes free and 100%. */
    t.size = img.len;
    rc = romfs_check_image(img.data, img.len, &t, NULL, &res, &err);
    CHECK_EQ_U(rc, ROMFS_OK);
    CHECK_EQ_U(res.free_bytes, 0);
    CHECK(res.used_percent == 100.0);
    romfs_check_result_free(&res);
    free(img.data);
}

/* 12K partition at 0x0803C000 with 8K erase blocks: an image of 0x2000 + overhead bytes
 * fits in 12K, but its end rounds up to 0x08040000, 0x1000 past the end 0x0803F000. */
static void test_erase_rounding_overflow(void)
{
    struct spec files[] = { { "f", 0x2001, 1 } };
    struct buf img = build(files, 1);
    CHECK(img.len > 0x2000 && img.len < 0x3000);
    struct romfs_check_target t = target(0x0803C000, 0x3000, 0x2000, 8, 1);
    struct romfs_check_result res;
    struct romfs_error err = { 0 };
    int rc = romfs_check_image(img.data, img.len, &t, NULL, &res, &err);
    CHECK_EQ_U(rc, ROMFS_ERR_FBIG);
    CHECK_EQ_U(STATUS(res, ROMFS_CHECK_FITS), ROMFS_REPORT_PASS);
    CHECK_EQ_U(STATUS(res, ROMFS_CHECK_ERASE), ROMFS_REPORT_FAIL);
    CHECK_EQ_U(res.erase_end, 0x08040000);
    CHECK(strstr(res.items[ROMFS_CHECK_ERASE].message,
                 "is 0x08040000, 4096 bytes past the partition end 0x0803f000") != NULL);
    romfs_check_result_free(&res);

    /* A start that is not on an erase-block boundary erases before the partition. */
    t = target(0x0803D000, 0x4000, 0x2000, 8, 1);
    rc = romfs_check_image(img.data, img.len, &t, NULL, &res, &err);
    CHECK_EQ_U(rc, ROMFS_ERR_FBIG);
    CHECK(strstr(res.items[ROMFS_CHECK_ERASE].message, "erases 4096 bytes before the partition "
                                                        "(from 0x0803c000)") != NULL);
    romfs_check_result_free(&res);
    free(img.data);
}

/* STM32F4 sector map: 4 x 16K at 0x08000000, 64K at 0x08010000, 128K from 0x08020000. */
static void test_nonuniform_sectors(void)
{
    static const struct romfs_erase_range map[] = {
        { 0x08000000, 0x10000, 0x4000 },
        { 0x08010000, 0x10000, 0x10000 },
        { 0x08020000, 0xE0000, 0x20000 },
    };
    struct spec files[] = { { "f", 0x8700, 1 } };
    struct buf img = build(files, 1);
    CHECK(img.len > 0x8000 && img.len < 0x9000);
    /* Partition 0x08008000 + 0x18000 covers 16K, 16K and the whole 64K sector. The image
     * ends in the 64K sector, so erasing goes up to 0x08020000: inside. */
    struct romfs_check_target t = target(0x08008000, 0x18000, 0x10000, 4, 1);
    t.erase_map = map;
    t.n_erase_map = 3;
    struct romfs_check_result res;
    struct romfs_error err = { 0 };
    int rc = romfs_check_image(img.data, img.len, &t, NULL, &res, &err);
    CHECK_EQ_U(rc, ROMFS_OK);
    CHECK_EQ_U(res.erase_end, 0x08020000);
    romfs_check_result_free(&res);
    /* The same partition cut to 0x10000 ends mid-sector at 0x08018000: rounding the
     * image end to its 64K sector overshoots by 0x8000. */
    t.size = 0x10000;
    rc = romfs_check_image(img.data, img.len, &t, NULL, &res, &err);
    CHECK_EQ_U(rc, ROMFS_ERR_FBIG);
    CHECK(strstr(res.items[ROMFS_CHECK_ERASE].message, "65536-byte erase block is 0x08020000, "
                                                        "32768 bytes past") != NULL);
    romfs_check_result_free(&res);
    /* A partition starting mid-16K sector. */
    t.start = 0x08006000;
    rc = romfs_check_image(img.data, img.len, &t, NULL, &res, &err);
    CHECK_EQ_U(STATUS(res, ROMFS_CHECK_ERASE), ROMFS_REPORT_FAIL);
    CHECK(strstr(res.items[ROMFS_CHECK_ERASE].message, "16384-byte erase-block boundary") != NULL);
    romfs_check_result_free(&res);
    free(img.data);
}

static void test_non_mmap_partition(void)
{
    struct spec files[] = { { "a", 10, 4 } };
    struct buf img = build(files, 1);
    struct romfs_check_target t = target(0x100000, 0x40000, 4096, 256, 0);
    struct romfs_check_result res;
    struct romfs_error err = { 0 };
    int rc = romfs_check_image(img.data, img.len, &t, NULL, &res, &err);
    CHECK_EQ_U(rc, ROMFS_ERR_MISMATCH);
    CHECK_EQ_U(STATUS(res, ROMFS_CHECK_MMAP), ROMFS_REPORT_FAIL);
    CHECK_EQ_U(STATUS(res, ROMFS_CHECK_ALIGNMENT), ROMFS_REPORT_SKIP);
    CHECK_EQ_U(res.failed, 1);
    CHECK(strstr(err.msg, "not memory-mapped") != NULL);
    romfs_check_result_free(&res);
    /* Unknown mapping is a skip, not a pass. */
    t.mmap = -1;
    rc = romfs_check_image(img.data, img.len, &t, NULL, &res, &err);
    CHECK_EQ_U(rc, ROMFS_OK);
    CHECK_EQ_U(STATUS(res, ROMFS_CHECK_MMAP), ROMFS_REPORT_SKIP);
    romfs_check_result_free(&res);
    free(img.data);
}

/* Write unit 8 at a start that is only 4-aligned; and the padding arithmetic. */
static void test_write_granularity(void)
{
    struct spec files[] = { { "a", 12, 1 } };
    struct buf img = build(files, 1);
    struct romfs_check_target t = target(0x20004, 0x1000, 0, 8, 1);
    struct romfs_check_result res;
    struct romfs_error err = { 0 };
    int rc = romfs_check_image(img.data, img.len, &t, NULL, &res, &err);
    CHECK_EQ_U(rc, ROMFS_ERR_MISMATCH);
    CHECK_EQ_U(STATUS(res, ROMFS_CHECK_WRITE), ROMFS_REPORT_FAIL);
    romfs_check_result_free(&res);
    t.start = 0x20000;
    rc = romfs_check_image(img.data, img.len, &t, NULL, &res, &err);
    CHECK_EQ_U(rc, ROMFS_OK);
    char want[96];
    uint64_t units = (img.len + 7) / 8;
    snprintf(want, sizeof want, "%llu write units of 8 bytes (%llu bytes of 0xff",
             (unsigned long long)units, (unsigned long long)(units * 8 - img.len));
    CHECK(strstr(res.items[ROMFS_CHECK_WRITE].message, want) != NULL);
    romfs_check_result_free(&res);
    free(img.data);
}

static void test_corrupt_image(void)
{
    uint8_t junk[64];
    memset(junk, 0xff, sizeof junk);
    struct romfs_check_target t = target(0x08020000, 0x20000, 0x20000, 32, 1);
    struct romfs_check_result res;
    struct romfs_error err = { 0 };
    int rc = romfs_check_image(junk, sizeof junk, &t, NULL, &res, &err);
    CHECK_EQ_U(rc, ROMFS_ERR_CORRUPT);
    CHECK_EQ_U(STATUS(res, ROMFS_CHECK_STRUCTURE), ROMFS_REPORT_FAIL);
    CHECK_EQ_U(STATUS(res, ROMFS_CHECK_ALIGNMENT), ROMFS_REPORT_SKIP);
    CHECK_EQ_U(STATUS(res, ROMFS_CHECK_FITS), ROMFS_REPORT_PASS);
    romfs_check_result_free(&res);
}

/* Trailing bytes after the image record (e.g. pack --pad-to) are written too. */
static void test_trailing_padding_counts(void)
{
    struct spec files[] = { { "a", 100, 1 } };
    struct buf img = build(files, 1);
    size_t image_len = img.len;
    img.data = realloc(img.data, 4096);
    memset(img.data + image_len, 0xff, 4096 - image_len);
    struct romfs_check_target t = target(0x08000000, 2048, 0, 0, 1);
    struct romfs_check_result res;
    struct romfs_error err = { 0 };
    int rc = romfs_check_image(img.data, 4096, &t, NULL, &res, &err);
    CHECK_EQ_U(rc, ROMFS_ERR_FBIG);
    CHECK_EQ_U(res.image_size, image_len);
    CHECK_EQ_U(STATUS(res, ROMFS_CHECK_STRUCTURE), ROMFS_REPORT_PASS);
    CHECK(strstr(res.items[ROMFS_CHECK_FITS].message, "2048 bytes more") != NULL);
    romfs_check_result_free(&res);
    free(img.data);
}

static void test_report_formats(void)
{
    struct spec files[] = { { "big.bin", 3000, 4096 } };
    struct buf img = build(files, 1);
    struct romfs_check_target t = target(0x08020200, 0x10000, 512, 4, 1);
    struct romfs_check_result res;
    struct romfs_error err = { 0 };
    romfs_check_image(img.data, img.len, &t, NULL, &res, &err);
    struct romfs_report rep;
    romfs_report_init(&rep, "romfs check");
    CHECK_EQ_U(romfs_check_add_to_report(&res, "app,1:x.romfs", &rep), ROMFS_OK);
    size_t p, f, k;
    romfs_report_count(&rep, &p, &f, &k);
    CHECK_EQ_U(p, 5);
    CHECK_EQ_U(f, 1);
    CHECK_EQ_U(k, 0);
    char *text = NULL;
    size_t len = 0;
    CHECK_EQ_U(romfs_report_render(&rep, ROMFS_REPORT_GITHUB, &text, &len, &err), ROMFS_OK);
    /* Property values escape ',' and ':'; message data escapes newlines. */
    CHECK(strstr(text, "::error file=app%2C1%3Ax.romfs,title=romfs check TESTBOARD partition 0 "
                       "alignment::TESTBOARD partition 0: 1 of 1 file lose") != NULL);
    CHECK(strstr(text, "%0Abig.bin: data at image offset") != NULL);
    CHECK(strstr(text, "::error title=romfs check::5 passed, 1 failed, 0 skipped\n") != NULL);
    free(text);
    CHECK_EQ_U(romfs_report_render(&rep, ROMFS_REPORT_JUNIT, &text, &len, &err), ROMFS_OK);
    CHECK(strstr(text, "<testsuite name=\"TESTBOARD partition 0\" tests=\"6\" failures=\"1\"") != NULL);
    CHECK(strstr(text, "<testcase classname=\"TESTBOARD partition 0\" name=\"alignment\">") != NULL);
    free(text);
    CHECK_EQ_U(romfs_report_render(&rep, ROMFS_REPORT_JSON, &text, &len, &err), ROMFS_OK);
    CHECK(strstr(text, "\"start\":\t134349312") != NULL);
    CHECK(strstr(text, "\"status\":\t\"fail\"") != NULL);
    free(text);
    CHECK_EQ_U(romfs_report_render(&rep, ROMFS_REPORT_TEXT, &text, &len, &err), ROMFS_OK);
    CHECK(strstr(text, "  FAIL alignment    1 of 1 file lose") != NULL);
    CHECK(strstr(text, "romfs check: 5 passed, 1 failed, 0 skipped\n") != NULL);
    free(text);
    romfs_report_free(&rep);
    romfs_check_result_free(&res);
    free(img.data);
}

/* Names with bytes that are not UTF-8 stay well-formed in every output. */
static void test_report_sanitises(void)
{
    struct romfs_report rep;
    romfs_report_init(&rep, "t");
    struct romfs_report_suite *s = romfs_report_add_suite(&rep, "s<&>\"", "f\xff.romfs");
    romfs_report_add_case(&rep, s, "c\x01", ROMFS_REPORT_SKIP, "line1\nline2", "m%s", "\xc3\xa9\xc3");
    CHECK(strcmp(s->file, "f\\xff.romfs") == 0);
    CHECK(strcmp(s->cases[0].name, "c\\x01") == 0);
    CHECK(strcmp(s->cases[0].message, "m\xc3\xa9\\xc3") == 0);
    char *text = NULL;
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_report_render(&rep, ROMFS_REPORT_JUNIT, &text, NULL, &err), ROMFS_OK);
    CHECK(strstr(text, "name=\"s&lt;&amp;&gt;&quot;\"") != NULL);
    CHECK(strstr(text, "<skipped message=\"m\xc3\xa9\\xc3\"/>") != NULL);
    free(text);
    enum romfs_report_format fmt;
    CHECK_EQ_U(romfs_report_parse_format("junit", &fmt, &err), ROMFS_OK);
    CHECK_EQ_U(fmt, ROMFS_REPORT_JUNIT);
    CHECK_EQ_U(romfs_report_parse_format("xml", &fmt, &err), ROMFS_ERR_INVAL);
    romfs_report_free(&rep);
}

/* The entry point `romfs pack --board` uses: a boards.json entry by name. */
static void test_check_image_for_board(void)
{
    static const char json[] =
        "{\"schema\": 1, \"micropython\": {}, \"boards\": [{\"board\": \"B\", \"port\": \"nrf\","
        " \"romfs\": [{\"index\": 0, \"start\": \"0x2d000\", \"size\": \"0x3000\","
        " \"erase_block\": 1024, \"write_block\": 4, \"mmap\": true}]}]}";
    struct romfs_boards db;
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_boards_parse(json, strlen(json), "test", &db, &err), ROMFS_OK);
    struct spec small[] = { { "a", 100, 4 } }, big[] = { { "a", 0x3000, 4 } };
    struct buf ok = build(small, 1), over = build(big, 1);
    CHECK_EQ_U(romfs_check_image_for_board(ok.data, ok.len, &db, "b", 0, &err), ROMFS_OK);
    CHECK_EQ_U(romfs_check_image_for_board(over.data, over.len, &db, "B", 0, &err), ROMFS_ERR_FBIG);
    char want[160];
    snprintf(want, sizeof want, "B partition 0: fits: image is %zu bytes, %zu bytes more than the "
             "12288-byte partition at 0x0002d000", over.len, over.len - 0x3000);
    CHECK(strstr(err.msg, want) != NULL);
    CHECK_EQ_U(romfs_check_image_for_board(ok.data, ok.len, &db, "B", 1, &err), ROMFS_ERR_NOENT);
    CHECK_EQ_U(romfs_check_image_for_board(ok.data, ok.len, &db, "C", 0, &err), ROMFS_ERR_NOENT);
    CHECK(strstr(err.msg, "unknown board 'C'") != NULL);
    romfs_boards_free(&db);
    free(ok.data);
    free(over.data);
}

int main(void)
{
    RUN(test_all_pass);
    RUN(test_misaligned_partition_start);
    RUN(test_one_byte_too_big);
    RUN(test_erase_rounding_overflow);
    RUN(test_nonuniform_sectors);
    RUN(test_non_mmap_partition);
    RUN(test_write_granularity);
    RUN(test_corrupt_image);
    RUN(test_trailing_padding_counts);
    RUN(test_report_formats);
    RUN(test_report_sanitises);
    RUN(test_check_image_for_board);
    UNIT_EXIT();
}
