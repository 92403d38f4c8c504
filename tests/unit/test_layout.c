/* test_layout.c: flash layout planning with hand-worked numbers, uniform and STM32-style
 * non-uniform sectors, and the MEMORY fragment template. */
#include "unit.h"

#include "plan/layout.h"

/* nRF52840-like: 1 MiB at 0, 4K pages, firmware linked from 0x1000. */
static struct romfs_board nrf_board(void)
{
    struct romfs_board b;
    memset(&b, 0, sizeof b);
    b.name = "FIX_NRF";
    b.port = "nrf";
    b.mcu = "NRF52840";
    b.flash_base = 0;
    b.flash_size = 0x100000;
    b.erase_block = 4096;
    b.write_block = 4;
    b.text_region = "FLASH_TEXT";
    b.text_start = 0x1000;
    b.text_size = 0xAF000;
    b.fs_region = "FLASH_USER";
    b.fs_start = 0xF0000;
    b.fs_size = 0x10000;
    return b;
}

static const struct romfs_erase_range f4_map[] = {
    { 0x08000000, 0x10000, 0x4000 },
    { 0x08010000, 0x10000, 0x10000 },
    { 0x08020000, 0xE0000, 0x20000 },
};

/* STM32F405-like: 1 MiB, sectors 4 x 16K, 64K, 7 x 128K. */
static struct romfs_board f4_board(void)
{
    struct romfs_board b;
    memset(&b, 0, sizeof b);
    b.name = "FIX_F4";
    b.port = "stm32";
    b.flash_base = 0x08000000;
    b.flash_size = 0x100000;
    b.erase_block = 0x20000;
    b.erase_map = (struct romfs_erase_range *)f4_map;
    b.n_erase_map = 3;
    b.text_start = 0x08000000;
    b.text_size = 0x100000;
    return b;
}

static void test_uniform_plan(void)
{
    struct romfs_board b = nrf_board();
    struct romfs_layout_request req = { .romfs_size = 256 * 1024, .fs_size_given = true,
                                        .fs_size = 64 * 1024, .firmware_size_given = true,
                                        .firmware_size = 0x5A123, .firmware_source = "fw.elf" };
    struct romfs_layout_plan p;
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_layout_plan(&b, &req, &p, &err), ROMFS_OK);
    /* fs 0xF0000..0x100000; ROMFS 0xB0000 + 0x40000; firmware 0x1000..0xB0000; the
       firmware ends at 0x5B123, rounded up to 0x5C000: 0x54000 bytes to grow. */
    CHECK_EQ_U(p.fs.start, 0xF0000);
    CHECK_EQ_U(p.fs.size, 0x10000);
    CHECK_EQ_U(p.romfs.start, 0xB0000);
    CHECK_EQ_U(p.romfs.size, 0x40000);
    CHECK_EQ_U(p.firmware.start, 0x1000);
    CHECK_EQ_U(p.firmware.size, 0xAF000);
    CHECK_EQ_U(p.firmware_needed_end, 0x5C000);
    CHECK_EQ_U(p.firmware_free, 0x54000);
    CHECK_EQ_U(p.romfs_erase_block, 4096);

    /* A ROMFS size that is not whole pages grows to whole pages. */
    req.romfs_size = 0x3F001;
    CHECK_EQ_U(romfs_layout_plan(&b, &req, &p, &err), ROMFS_OK);
    CHECK_EQ_U(p.romfs.start, 0xB0000);
    CHECK_EQ_U(p.romfs.size, 0x40000);

    /* Alignment beyond the erase block: 0xF0000 - 0x3F000 = 0xB1000 -> 0xB0000 at 64K. */
    req.romfs_size = 0x3F000;
    CHECK_EQ_U(romfs_layout_plan(&b, &req, &p, &err), ROMFS_OK);
    CHECK_EQ_U(p.romfs.start, 0xB1000);
    req.align = 0x10000;
    CHECK_EQ_U(romfs_layout_plan(&b, &req, &p, &err), ROMFS_OK);
    CHECK_EQ_U(p.romfs.start, 0xB0000);
}

static void test_refuses_with_shortfall(void)
{
    struct romfs_board b = nrf_board();
    struct romfs_layout_request req = { .romfs_size = 0xA0000, .fs_size_given = true,
                                        .fs_size = 0x10000, .firmware_size_given = true,
                                        .firmware_size = 0x5A123, .firmware_source = "fw.elf" };
    struct romfs_layout_plan p;
    struct romfs_error err = { 0 };
    /* ROMFS would start at 0xF0000 - 0xA0000 = 0x50000, the firmware needs up to 0x5C000. */
    CHECK_EQ_U(romfs_layout_plan(&b, &req, &p, &err), ROMFS_ERR_FBIG);
    CHECK(strstr(err.msg, "does not fit by 49152 bytes") != NULL);
    /* 49152 bytes less ROMFS fits exactly, with nothing to spare. */
    req.romfs_size = 0xA0000 - 49152;
    CHECK_EQ_U(romfs_layout_plan(&b, &req, &p, &err), ROMFS_OK);
    CHECK_EQ_U(p.firmware_free, 0);
    /* Larger than the whole span. */
    req.romfs_size = 0x200000;
    CHECK_EQ_U(romfs_layout_plan(&b, &req, &p, &err), ROMFS_ERR_FBIG);
    CHECK(strstr(err.msg, "does not fit") != NULL);
    /* Without a firmware size the text region counts whole (0x1000 + 0xAF000 = 0xB0000). */
    req.firmware_size_given = false;
    req.romfs_size = 0x40000;
    CHECK_EQ_U(romfs_layout_plan(&b, &req, &p, &err), ROMFS_OK);
    CHECK_EQ_U(p.firmware_free, 0);
    req.romfs_size = 0x41000;
    CHECK_EQ_U(romfs_layout_plan(&b, &req, &p, &err), ROMFS_ERR_FBIG);
    CHECK(strstr(err.msg, "does not fit by 4096 bytes") != NULL);
    CHECK(strstr(err.msg, "FLASH_TEXT region") != NULL);
}

static void test_nonuniform_sectors(void)
{
    struct romfs_board b = f4_board();
    struct romfs_layout_request req = { .romfs_size = 100 * 1024, .firmware_size_given = true,
                                        .firmware_size = 0x3F000 };
    struct romfs_layout_plan p;
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_layout_plan(&b, &req, &p, &err), ROMFS_OK);
    /* No filesystem: ROMFS in the last 128K sector; firmware ends in the first 128K
       sector (0x0803F000), which it must own whole: up to 0x08040000. */
    CHECK_EQ_U(p.fs.size, 0);
    CHECK_EQ_U(p.romfs.start, 0x080E0000);
    CHECK_EQ_U(p.romfs.size, 0x20000);
    CHECK_EQ_U(p.romfs_erase_block, 0x20000);
    CHECK_EQ_U(p.firmware_needed_end, 0x08040000);
    CHECK_EQ_U(p.firmware_free, 0xA0000);
    /* 768K fits exactly from 0x08040000; one byte more needs one more 128K sector. */
    req.romfs_size = 0xC0000;
    CHECK_EQ_U(romfs_layout_plan(&b, &req, &p, &err), ROMFS_OK);
    CHECK_EQ_U(p.romfs.start, 0x08040000);
    req.romfs_size = 0xC0001;
    CHECK_EQ_U(romfs_layout_plan(&b, &req, &p, &err), ROMFS_ERR_FBIG);
    CHECK(strstr(err.msg, "does not fit by 131072 bytes") != NULL);
    /* Firmware ending inside the 16K sectors rounds to a 16K boundary. */
    req.romfs_size = 0xE0000 + 0x4000;
    req.firmware_size = 0x9000;
    CHECK_EQ_U(romfs_layout_plan(&b, &req, &p, &err), ROMFS_OK);
    CHECK_EQ_U(p.romfs.start, 0x08010000);  /* 0x0801C000 rounds down to the 64K sector */
    CHECK_EQ_U(p.romfs_erase_block, 0x10000);
    CHECK_EQ_U(p.firmware_needed_end, 0x0800C000);
}

/* Seeed XIAO nRF52840-like: a bootloader sits above the filesystem at 0xF4000. The plan
 * shares out only 0x1000..0xF4000 (what firmware, ROMFS and filesystem use today). */
static void test_leaves_bootloader_alone(void)
{
    struct romfs_board b = nrf_board();
    b.text_size = 0x73000;
    b.fs_start = 0xB4000;
    b.fs_size = 0x40000;
    struct romfs_partition part = { .index = 0, .start = 0x74000, .size = 0x40000,
                                    .erase_block = 4096, .write_block = 4, .mmap = true };
    b.partitions = &part;
    b.n_partitions = 1;
    struct romfs_layout_request req = { .romfs_size = 0x40000 };
    struct romfs_layout_plan p;
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_layout_plan(&b, &req, &p, &err), ROMFS_OK);
    CHECK_EQ_U(p.flash_end, 0xF4000);
    CHECK(strcmp(p.span_end_source, "the end of the current filesystem") == 0);
    CHECK_EQ_U(p.fs.start, 0xB4000);
    CHECK_EQ_U(p.romfs.start, 0x74000);   /* exactly today's layout */
    CHECK_EQ_U(p.firmware.size, 0x73000);
    /* Growing the filesystem to 0x50000 moves ROMFS down by 0x10000: the firmware region
       (0x73000 from 0x1000, ending 0x74000) no longer fits. */
    req.fs_size_given = true;
    req.fs_size = 0x50000;
    CHECK_EQ_U(romfs_layout_plan(&b, &req, &p, &err), ROMFS_ERR_FBIG);
    CHECK(strstr(err.msg, "does not fit by 65536 bytes") != NULL);
}

/* PYBD_SF2-like: ROMFS in external QSPI; the internal layout stays. */
static void test_external_romfs(void)
{
    struct romfs_board b = nrf_board();
    b.flash_base = 0x08000000;
    b.flash_size = 0x80000;
    b.text_region = "FLASH_APP";
    b.text_start = 0x08008000;
    b.text_size = 0x78000;
    b.fs_region = NULL;
    b.fs_size = 0;
    struct romfs_region regions[] = { { "FLASH_ROMFS", 0x90100000, 0x100000, "rx" } };
    b.flash = regions;
    b.n_flash = 1;
    struct romfs_partition part = { .index = 0, .start = 0x90100000, .size = 0x100000,
                                    .erase_block = 4096, .write_block = 4, .mmap = true,
                                    .region = "FLASH_ROMFS", .device = "qspi" };
    b.partitions = &part;
    b.n_partitions = 1;
    struct romfs_layout_request req = { .romfs_size = 300 * 1024 + 1 };
    struct romfs_layout_plan p;
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_layout_plan(&b, &req, &p, &err), ROMFS_OK);
    CHECK(p.romfs_external);
    CHECK_EQ_U(p.romfs.start, 0x90100000);
    CHECK_EQ_U(p.romfs.size, 300 * 1024 + 4096);
    CHECK_EQ_U(p.firmware.start, 0x08008000);
    CHECK_EQ_U(p.firmware.size, 0x78000);
    CHECK_EQ_U(p.fs.size, 0);
    req.romfs_size = 0x100000 + 1;
    CHECK_EQ_U(romfs_layout_plan(&b, &req, &p, &err), ROMFS_ERR_FBIG);
    CHECK(strstr(err.msg, "does not fit by 4096 bytes") != NULL);
    req.romfs_size = 0x1000;
    req.fs_size_given = true;
    CHECK_EQ_U(romfs_layout_plan(&b, &req, &p, &err), ROMFS_ERR_INVAL);
}

static void test_template_fill(void)
{
    const char *names[] = { "A", "B" };
    const char *values[] = { "1", NULL };
    char *out = romfs_layout_fill_template("x=@A@;\nkeep @B@ line\n@C@ @A@@A@\nlast", names, values, 2);
    CHECK(out != NULL);
    CHECK(strcmp(out, "x=1;\n@C@ 11\nlast") == 0);
    free(out);
}

static void test_render(void)
{
    struct romfs_board b = nrf_board();
    struct romfs_layout_request req = { .romfs_size = 256 * 1024, .fs_size_given = true,
                                        .fs_size = 64 * 1024, .firmware_size_given = true,
                                        .firmware_size = 0x5A123, .firmware_source = "fw.elf" };
    struct romfs_layout_plan p;
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_layout_plan(&b, &req, &p, &err), ROMFS_OK);
    char *ld = romfs_layout_render_ld(&p);
    CHECK(ld != NULL);
    CHECK(strstr(ld, "FLASH_TEXT (rx) : ORIGIN = 0x00001000, LENGTH = 0x000af000") != NULL);
    CHECK(strstr(ld, "FLASH_ROMFS (r) : ORIGIN = 0x000b0000, LENGTH = 0x00040000") != NULL);
    CHECK(strstr(ld, "FLASH_USER (rw) : ORIGIN = 0x000f0000, LENGTH = 0x00010000") != NULL);
    CHECK(strstr(ld, "_micropy_hw_romfs_part0_start = ORIGIN(FLASH_ROMFS);") != NULL);
    CHECK(strchr(ld, '@') == NULL);
    free(ld);
    char *json = romfs_layout_to_json(&p);
    CHECK(json != NULL);
    CHECK(strstr(json, "\"start_hex\":\t\"0x000b0000\"") != NULL);
    free(json);
    /* Without a filesystem its line disappears. */
    req.fs_size = 0;
    CHECK_EQ_U(romfs_layout_plan(&b, &req, &p, &err), ROMFS_OK);
    ld = romfs_layout_render_ld(&p);
    CHECK(ld != NULL);
    CHECK(strstr(ld, "FLASH_USER") == NULL);
    CHECK(strstr(ld, "FLASH_ROMFS (r) : ORIGIN = 0x000c0000, LENGTH = 0x00040000") != NULL);
    free(ld);
}

static void test_bad_requests(void)
{
    struct romfs_board b = nrf_board();
    struct romfs_layout_request req = { .romfs_size = 0 };
    struct romfs_layout_plan p;
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_layout_plan(&b, &req, &p, &err), ROMFS_ERR_INVAL);
    req.romfs_size = 4096;
    b.flash_size = 0;
    CHECK_EQ_U(romfs_layout_plan(&b, &req, &p, &err), ROMFS_ERR_INVAL);
    CHECK(strstr(err.msg, "no flash geometry") != NULL);
    b = nrf_board();
    b.text_size = 0;
    CHECK_EQ_U(romfs_layout_plan(&b, &req, &p, &err), ROMFS_ERR_INVAL);
    CHECK(strstr(err.msg, "firmware size unknown") != NULL);
}

int main(void)
{
    RUN(test_uniform_plan);
    RUN(test_refuses_with_shortfall);
    RUN(test_nonuniform_sectors);
    RUN(test_leaves_bootloader_alone);
    RUN(test_external_romfs);
    RUN(test_template_fill);
    RUN(test_render);
    RUN(test_bad_requests);
    UNIT_EXIT();
}
