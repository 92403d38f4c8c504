/* test_segments.c: reading firmware files back into (address, bytes) segments (Intel
 * HEX, UF2, DfuSe; each format's edge cases and damage), writing several segments, and
 * one product of firmware and ROMFS checked against a board's flash map. The formats end
 * to end, against objcopy, dfu-suffix and readers written from the specifications, are
 * in tests/cli/test_convert_firmware.sh. */
#include "unit.h"

#include "romfs.h"

#include <stdlib.h>
#include <unistd.h>

static int parse_text(int (*fn)(const uint8_t *, size_t, const char *, struct romfs_segments *, struct romfs_error *),
                      const char *text, struct romfs_segments *s, struct romfs_error *err)
{
    memset(s, 0, sizeof *s);
    return fn((const uint8_t *)text, strlen(text), "t.hex", s, err);
}

static void ihex_records_and_bases(void)
{
    struct romfs_segments s;
    struct romfs_error err = { 0 };
    /* 04: base 0x0800_0000; two contiguous records make one segment; 02: segment base
       0x1000 * 16 = 0x10000; 05: start address, nothing to write; 01: end */
    const char *hex = ":020000040800F2\n"
                      ":0400000001020304F2\n"
                      ":020004000506EF\n"
                      ":020000021000EC\n"
                      ":01000100AA54\n"
                      ":0400000508000101ED\n"
                      ":00000001FF\n"
                      ":01000000BB44\n";   /* after the end: ignored */
    int rc = parse_text(romfs_ihex_parse, hex, &s, &err);
    if (rc)
        printf("    %s\n", err.msg);
    CHECK(rc == ROMFS_OK);
    CHECK_EQ_U(s.n, 2);
    CHECK_EQ_U(s.v[0].address, 0x08000000);
    CHECK_EQ_U(s.v[0].size, 6);
    CHECK_MEM(s.v[0].data, "\1\2\3\4\5\6", 6);
    CHECK_EQ_U(s.v[1].address, 0x10001);
    CHECK_EQ_U(s.v[1].data[0], 0xaa);
    romfs_segments_free(&s);

    CHECK(parse_text(romfs_ihex_parse, ":0400000001020304F3\n:00000001FF\n", &s, &err) == ROMFS_ERR_CORRUPT);
    CHECK(strstr(err.msg, "t.hex: line 1: checksum does not match"));
    romfs_segments_free(&s);
    CHECK(parse_text(romfs_ihex_parse, "\n:0400000001020304F2\n", &s, &err) == ROMFS_ERR_CORRUPT);
    CHECK(strstr(err.msg, "no end-of-file record"));
    romfs_segments_free(&s);
    CHECK(parse_text(romfs_ihex_parse, ":00000001FF\n", &s, &err) == ROMFS_OK && s.n == 0);
    CHECK(parse_text(romfs_ihex_parse, ":0500000001020304F2\n", &s, &err) == ROMFS_ERR_CORRUPT);
    CHECK(strstr(err.msg, "line 1 is not an Intel HEX record"));
    CHECK(parse_text(romfs_ihex_parse, ":00000007F9\n", &s, &err) == ROMFS_ERR_CORRUPT);
    CHECK(strstr(err.msg, "unknown record type 07"));
    romfs_segments_free(&s);
}

/* Two segments in one 256-byte page and a third far away, through UF2 and back. */
static void uf2_pages_round_trip(void)
{
    uint8_t a[10], b[300], c[5];
    memset(a, 0x11, sizeof a);
    memset(b, 0x22, sizeof b);
    memset(c, 0x33, sizeof c);
    struct romfs_segments in = { 0 }, out = { 0 };
    struct romfs_error err = { 0 };
    CHECK(romfs_segments_add(&in, 0x1010, a, sizeof a, 0, "a", &err) == ROMFS_OK);
    CHECK(romfs_segments_add(&in, 0x1080, b, sizeof b, 0, "b", &err) == ROMFS_OK);
    CHECK(romfs_segments_add(&in, 0x20000, c, sizeof c, 0, "c", &err) == ROMFS_OK);
    uint8_t *f;
    size_t n;
    CHECK(romfs_uf2_build_segments(&in, 0x55114460, &f, &n, &err) == ROMFS_OK);
    CHECK_EQ_U(n, 3 * 512);   /* pages 0x1000, 0x1100, 0x20000 */
    CHECK(romfs_uf2_parse(f, n, "t.uf2", &out, &err) == ROMFS_OK);
    /* 0x1000..0x1200 is one run (a, b and the erased bytes around them), then c's page */
    CHECK_EQ_U(out.n, 2);
    CHECK_EQ_U(out.v[0].address, 0x1000);
    CHECK_EQ_U(out.v[0].size, 512);
    CHECK_EQ_U(out.v[0].uf2_family, 0x55114460);
    CHECK_EQ_U(out.v[0].data[0x0f], 0xff);
    CHECK_EQ_U(out.v[0].data[0x10], 0x11);
    CHECK_EQ_U(out.v[0].data[0x1a], 0xff);
    CHECK_EQ_U(out.v[0].data[0x80], 0x22);
    CHECK_EQ_U(out.v[0].data[0x80 + 299], 0x22);
    CHECK_EQ_U(out.v[0].data[0x80 + 300], 0xff);
    CHECK_EQ_U(out.v[1].address, 0x20000);
    romfs_segments_free(&out);
    /* a "not main flash" block is skipped; damaged magic names the block and offset */
    f[512 + 8] |= 0x01;
    CHECK(romfs_uf2_parse(f, n, "t.uf2", &out, &err) == ROMFS_OK);
    CHECK_EQ_U(romfs_segments_bytes(&out), 512);
    romfs_segments_free(&out);
    f[1024 + 510] ^= 1;
    CHECK(romfs_uf2_parse(f, n, "t.uf2", &out, &err) == ROMFS_ERR_CORRUPT);
    CHECK(strstr(err.msg, "t.uf2: block 2 (offset 1024): bad UF2 magic numbers"));
    romfs_segments_free(&out);
    CHECK(romfs_uf2_parse(f, n - 1, "t.uf2", &out, &err) == ROMFS_ERR_CORRUPT);
    f[8] = 0x00;
    f[9] = 0x10;   /* file container */
    CHECK(romfs_uf2_parse(f, 512, "t.uf2", &out, &err) == ROMFS_ERR_UNSUPPORTED);
    romfs_segments_free(&out);
    free(f);
    romfs_segments_free(&in);
}

static void dfu_elements_round_trip(void)
{
    uint8_t a[1000], b[3];
    for (size_t i = 0; i < sizeof a; i++)
        a[i] = (uint8_t)i;
    memcpy(b, "xyz", 3);
    struct romfs_segments in = { 0 }, out = { 0 };
    struct romfs_error err = { 0 };
    CHECK(romfs_segments_add(&in, 0x08008000, a, sizeof a, 0, "a", &err) == ROMFS_OK);
    CHECK(romfs_segments_add(&in, 0x90100000, b, sizeof b, 0, "b", &err) == ROMFS_OK);
    struct romfs_dfu_file_options o = { 0, 0x0483, 0xdf11, 0, NULL };
    uint8_t *f;
    size_t n;
    CHECK(romfs_dfu_file_build_segments(&in, &o, &f, &n, &err) == ROMFS_OK);
    CHECK_EQ_U(f[11 + 270], 2);   /* dwNbElements */
    CHECK(romfs_dfu_file_parse(f, n, "t.dfu", &out, &err) == ROMFS_OK);
    CHECK_EQ_U(out.n, 2);
    CHECK_EQ_U(out.v[0].address, 0x08008000);
    CHECK_MEM(out.v[0].data, a, sizeof a);
    CHECK_EQ_U(out.v[1].address, 0x90100000);
    CHECK_MEM(out.v[1].data, "xyz", 3);
    romfs_segments_free(&out);
    f[400] ^= 1;
    CHECK(romfs_dfu_file_parse(f, n, "t.dfu", &out, &err) == ROMFS_ERR_CORRUPT);
    CHECK(strstr(err.msg, "t.dfu: DFU suffix CRC"));
    f[400] ^= 1;
    CHECK(romfs_dfu_file_parse(f, n - 1, "t.dfu", &out, &err) == ROMFS_ERR_CORRUPT);
    CHECK(romfs_dfu_file_parse((const uint8_t *)"DfuSf", 5, "t.dfu", &out, &err) == ROMFS_ERR_CORRUPT);
    romfs_segments_free(&out);
    free(f);
    romfs_segments_free(&in);
}

static void overlap_names_both(void)
{
    uint8_t x[16] = { 0 };
    struct romfs_segments s = { 0 };
    struct romfs_error err = { 0 };
    CHECK(romfs_segments_add(&s, 0x100, x, 16, 0, "fw.bin", &err) == ROMFS_OK);
    CHECK(romfs_segments_add(&s, 0x108, x, 16, 0, "ROMFS image", &err) == ROMFS_OK);
    romfs_segments_sort(&s);
    CHECK(romfs_segments_check_overlap(&s, &err) == ROMFS_ERR_INVAL);
    CHECK(strstr(err.msg, "fw.bin 0x00000100..0x00000110 overlaps ROMFS image 0x00000108..0x00000118"));
    romfs_segments_free(&s);
}

/* A board with a flash map: mboot in 0x08000000..0x08008000, the firmware after it, a
 * filesystem, the ROMFS partition in QSPI; and one with nothing but a partition. */
static const char map_json[] =
    "{\"schema\": 1, \"micropython\": {}, \"boards\": [\n"
    "{\"board\": \"B\", \"port\": \"stm32\", \"mcu\": \"STM32F722\",\n"
    " \"flash\": {\"base\": \"0x08000000\", \"size\": \"0x00080000\", \"erase_block\": 131072, \"write_block\": 16},\n"
    " \"romfs\": [{\"index\": 0, \"start\": \"0x90100000\", \"size\": \"0x00100000\", \"erase_block\": 4096,"
    " \"write_block\": 4, \"mmap\": true, \"device\": \"qspi\"}],\n"
    " \"devices\": [{\"name\": \"internal\", \"base\": \"0x08000000\", \"size\": \"0x00080000\", \"erase_block\": 131072,"
    " \"write_block\": 16, \"mmap\": true},\n"
    "   {\"name\": \"qspi\", \"base\": \"0x90000000\", \"size\": \"0x00200000\", \"erase_block\": 4096,"
    " \"write_block\": 4, \"mmap\": true}],\n"
    " \"map\": [{\"kind\": \"bootloader\", \"device\": \"internal\", \"name\": \"mboot\", \"start\": \"0x08000000\","
    " \"size\": \"0x00008000\"},\n"
    "   {\"kind\": \"firmware\", \"device\": \"internal\", \"name\": \"FLASH_APP\", \"start\": \"0x08008000\","
    " \"size\": \"0x00070000\"},\n"
    "   {\"kind\": \"fs\", \"device\": \"qspi\", \"name\": \"vfs\", \"start\": \"0x90080000\", \"size\": \"0x00080000\"},\n"
    "   {\"kind\": \"romfs\", \"device\": \"qspi\", \"name\": \"romfs0\", \"start\": \"0x90100000\", \"size\": \"0x00100000\","
    " \"index\": 0}]},\n"
    "{\"board\": \"BARE\", \"port\": \"qemu\", \"romfs\": [{\"index\": 0, \"start\": \"0x00100000\", \"size\": \"0x1000\","
    " \"erase_block\": 4096, \"write_block\": 4, \"mmap\": true}]}\n"
    "]}\n";

static char tmp[256];

/* Build a product from firmware bytes written to TMP/name. */
static int product(const struct romfs_board *b, const char *name, const void *bytes, size_t n, bool has_addr,
                   uint64_t addr, size_t image_len, struct romfs_product *p, struct romfs_error *err)
{
    char fw[300];
    snprintf(fw, sizeof fw, "%s/%s", tmp, name);
    FILE *f = fopen(fw, "wb");
    fwrite(bytes, 1, n, f);
    fclose(f);
    static uint8_t image[0x2000];
    memset(image, 0x5a, sizeof image);
    struct romfs_product_options o = { .board = b, .image = image, .image_len = image_len, .firmware = fw,
                                       .has_firmware_address = has_addr, .firmware_address = addr };
    int rc = romfs_product_build(&o, p, err);
    unlink(fw);
    return rc;
}

static void product_against_the_flash_map(void)
{
    snprintf(tmp, sizeof tmp, "%s/romfs-segments.XXXXXX", romfs_tmpdir());
    CHECK(mkdtemp(tmp) != NULL);
    struct romfs_boards db;
    struct romfs_error err = { 0 };
    CHECK(romfs_boards_parse(map_json, strlen(map_json), "t", &db, &err) == ROMFS_OK);
    const struct romfs_board *b = romfs_boards_find(&db, "B"), *bare = romfs_boards_find(&db, "BARE");
    uint8_t fw[0x3000];
    memset(fw, 0xa5, sizeof fw);
    struct romfs_product p;
    uint64_t start = 0;
    CHECK(romfs_board_firmware_start(b, &start) && start == 0x08008000);   /* the map's firmware area */
    /* a .bin at the firmware start: firmware, then the image at the partition */
    CHECK(product(b, "fw.bin", fw, sizeof fw, false, 0, 100, &p, &err) == ROMFS_OK);
    CHECK_EQ_U(p.segs.n, 2);
    CHECK_EQ_U(p.segs.v[0].address, 0x08008000);
    CHECK_EQ_U(p.segs.v[1].address, 0x90100000);
    CHECK_EQ_U(p.segs.v[1].size, 100);
    CHECK(p.fw_format == ROMFS_FW_BIN);
    romfs_product_free(&p);
    /* over mboot */
    CHECK(product(b, "fw.bin", fw, sizeof fw, true, 0x07fff000 + 0x1000, 100, &p, &err) ==
          ROMFS_ERR_INVAL);
    CHECK(strstr(err.msg, "fw.bin 0x08000000..0x08003000 overlaps board B's bootloader area mboot "
                          "0x08000000..0x08008000"));
    romfs_product_free(&p);
    /* over the filesystem */
    CHECK(product(b, "fw.bin", fw, sizeof fw, true, 0x9007f000, 100, &p, &err) == ROMFS_ERR_INVAL);
    CHECK(strstr(err.msg, "overlaps board B's fs area vfs 0x90080000..0x90100000"));
    romfs_product_free(&p);
    /* on the partition past the image's bytes: still the partition */
    CHECK(product(b, "fw.bin", fw, sizeof fw, true, 0x90180000, 100, &p, &err) == ROMFS_ERR_INVAL);
    CHECK(strstr(err.msg, "overlaps board B's ROMFS partition 0 0x90100000..0x90200000"));
    romfs_product_free(&p);
    /* between the devices */
    CHECK(product(b, "fw.bin", fw, sizeof fw, true, 0x60000000, 100, &p, &err) == ROMFS_ERR_INVAL);
    CHECK(strstr(err.msg, "is outside board B's flash (0x08000000..0x08080000, 0x90000000..0x90200000)"));
    romfs_product_free(&p);
    /* the image larger than the partition */
    CHECK(product(bare, "fw.bin", fw, 16, true, 0x0, 0x2000, &p, &err) == ROMFS_ERR_FBIG);
    romfs_product_free(&p);
    /* no firmware start recorded: a raw binary needs an address */
    CHECK(!romfs_board_firmware_start(bare, &start));
    CHECK(product(bare, "fw.bin", fw, 16, false, 0, 100, &p, &err) == ROMFS_ERR_INVAL);
    CHECK(err.need == ROMFS_NEED_ADDRESS);
    romfs_product_free(&p);
    /* an Intel HEX firmware needs none; BARE's flash is only its partition, so elsewhere
       is outside */
    const char *hex = ":0400000001020304F2\n:00000001FF\n";
    CHECK(product(bare, "fw.hex", hex, strlen(hex), false, 0, 100, &p, &err) == ROMFS_ERR_INVAL);
    CHECK(strstr(err.msg, "is outside board BARE's flash (0x00100000..0x00101000)"));
    romfs_product_free(&p);
    romfs_boards_free(&db);
    rmdir(tmp);
}

int main(void)
{
    RUN(ihex_records_and_bases);
    RUN(uf2_pages_round_trip);
    RUN(dfu_elements_round_trip);
    RUN(overlap_names_both);
    RUN(product_against_the_flash_map);
    UNIT_EXIT();
}
