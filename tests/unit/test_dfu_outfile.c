/* test_dfu_outfile.c: the file-format builders' edge cases (the formats themselves are
 * checked end to end by independent readers and dfu-util in tests/cli/test_convert.sh),
 * and mboot's multi-segment DfuSe layout. */
#include "unit.h"

#include "transport/dfu.h"
#include "out/outfile.h"

static void test_dfu_crc_vector(void)
{
    /* CRC-32 of "123456789" is 0xCBF43926; the DFU suffix stores it uninverted */
    CHECK_EQ_U(romfs_dfu_crc((const uint8_t *)"123456789", 9), 0x340BC6D9);
    CHECK_EQ_U(romfs_dfu_crc(NULL, 0), 0xffffffff);
}

static void test_dfu_file_layout(void)
{
    uint8_t img[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
    struct romfs_dfu_file_options o = { 0x08020000, 0x0483, 0xdf11, 1, "ROMFS" };
    uint8_t *f;
    size_t n;
    CHECK(romfs_dfu_file_build(img, sizeof img, &o, &f, &n, NULL) == ROMFS_OK);
    CHECK_EQ_U(n, 11 + 274 + 8 + 10 + 16);
    CHECK_MEM(f, "DfuSe\x01", 6);
    CHECK_EQ_U(f[6] | f[7] << 8, n - 16);
    CHECK_MEM(f + 11, "Target\x01\x01\0\0\0ROMFS\0", 17);
    CHECK_EQ_U(f[285] | f[286] << 8 | f[287] << 16 | (uint32_t)f[288] << 24, 0x08020000);
    CHECK_MEM(f + 293, img, sizeof img);
    CHECK_MEM(f + n - 8, "UFD\x10", 4);
    uint32_t crc = romfs_dfu_crc(f, n - 4);
    CHECK_EQ_U(f[n - 4] | f[n - 3] << 8 | f[n - 2] << 16 | (uint32_t)f[n - 1] << 24, crc);
    free(f);
    o.address = 0xfffffff8;
    CHECK(romfs_dfu_file_build(img, sizeof img, &o, &f, &n, NULL) == ROMFS_ERR_RANGE);
}

static void test_uf2_edges(void)
{
    uint8_t img[300];
    memset(img, 0xab, sizeof img);
    uint8_t *f;
    size_t n;
    CHECK(romfs_uf2_build(img, sizeof img, 0x10000080, 0xe48bff56, &f, &n, NULL) == ROMFS_ERR_INVAL);
    CHECK(romfs_uf2_build(img, sizeof img, 0x10000100, 0xe48bff56, &f, &n, NULL) == ROMFS_OK);
    CHECK_EQ_U(n, 1024);
    CHECK_EQ_U(f[512 + 12] | f[512 + 13] << 8, 0x0200);  /* second block at +256 */
    CHECK_EQ_U(f[512 + 32 + 43], 0xab);
    CHECK_EQ_U(f[512 + 32 + 44], 0xff);                  /* tail padded as erased flash */
    CHECK_EQ_U(f[512 + 32 + 300], 0x00);                 /* unused block area is zero */
    free(f);
}

static void test_uf2_families(void)
{
    uint32_t id = 0;
    CHECK(romfs_uf2_family("RP2040", &id, NULL) == ROMFS_OK && id == 0xe48bff56);
    CHECK(romfs_uf2_family("RP2350", &id, NULL) == ROMFS_OK && id == 0xe48bff57);
    CHECK(romfs_uf2_family("rp2350-arm-s", &id, NULL) == ROMFS_OK && id == 0xe48bff59);
    CHECK(romfs_uf2_family("SAMD21G18A", &id, NULL) == ROMFS_OK && id == 0x68ed2b88);
    CHECK(romfs_uf2_family("SAMD51J19A", &id, NULL) == ROMFS_OK && id == 0x55114460);
    CHECK(romfs_uf2_family("NRF52840", &id, NULL) == ROMFS_OK && id == 0xada52840);
    CHECK(romfs_uf2_family("nrf52832", &id, NULL) == ROMFS_OK && id == 0x1b57745f);
    CHECK(romfs_uf2_family("0x1234abcd", &id, NULL) == ROMFS_OK && id == 0x1234abcd);
    CHECK(romfs_uf2_family("STM32H743", &id, NULL) == ROMFS_ERR_NOENT);
    CHECK(romfs_uf2_family("0x", &id, NULL) == ROMFS_ERR_NOENT);
    CHECK(romfs_uf2_family("dataflash", &id, NULL) == ROMFS_ERR_NOENT);
}

static void test_ihex_empty_and_eof(void)
{
    uint8_t *f;
    size_t n;
    CHECK(romfs_ihex_build(NULL, 0, 0x1000, &f, &n, NULL) == ROMFS_OK);
    CHECK_EQ_U(n, 12);
    CHECK_MEM(f, ":00000001FF\n", 12);
    free(f);
    uint8_t b[1] = { 0x42 };
    CHECK(romfs_ihex_build(b, 1, 0x0800fffe, &f, &n, NULL) == ROMFS_OK);
    CHECK_MEM(f, ":020000040800F2\n:01FFFE0042C0\n:00000001FF\n", n);
    free(f);
}

/* PYBD_SF2's mboot: one alt string naming internal flash and two QSPI flashes. */
static void test_mboot_pybd_layout(void)
{
    struct romfs_dfuse_layout l;
    CHECK(romfs_dfuse_layout_parse("@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg"
                                   "/0x80000000/64*32Kg/0x90000000/64*32Kg", &l, NULL) == ROMFS_OK);
    CHECK_EQ_U(l.n_runs, 5);
    uint32_t start, size;
    CHECK(romfs_dfuse_layout_sector(&l, 0x90012345, &start, &size, NULL));
    CHECK_EQ_U(start, 0x90010000);
    CHECK_EQ_U(size, 32 * 1024);
    CHECK(!romfs_dfuse_layout_sector(&l, 0x90200000, NULL, NULL, NULL));
}

int main(void)
{
    RUN(test_dfu_crc_vector);
    RUN(test_dfu_file_layout);
    RUN(test_uf2_edges);
    RUN(test_uf2_families);
    RUN(test_ihex_empty_and_eof);
    RUN(test_mboot_pybd_layout);
    UNIT_EXIT();
}
