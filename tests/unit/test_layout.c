/* test_layout.c: ROMFS layout planning with hand-worked numbers: on boards described
 * only by the older boards.json fields, and on flash maps of each port family (stm32 with
 * STM32 sectors, nrf, rp2, samd, esp32 partition tables); the filesystem kept by default,
 * moved only when asked; refusals that say where and why; each port's own output. */
#include "unit.h"

#include "plan/layout.h"

static struct romfs_layout_plan P;
static struct romfs_error E;

/* Plan into P (the previous plan freed first). */
static int plan(const struct romfs_board *b, const struct romfs_layout_request *r)
{
    romfs_layout_plan_free(&P);
    memset(&E, 0, sizeof E);
    return romfs_layout_plan(b, r, &P, &E);
}

/* ---- boards with only the older fields ---------------------------------------------- */

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

/* STM32F405-like: 1 MiB, sectors 4 x 16K, 64K, 7 x 128K, the firmware region all of it. */
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
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    /* The filesystem (asked for at the size it has) stays at the top, 0xF0000..0x100000;
       ROMFS 0xB0000 + 0x40000; firmware 0x1000..0xB0000; the firmware ends at 0x5B123,
       rounded up to 0x5C000: 0x54000 bytes to grow. */
    CHECK_EQ_U(P.fs.start, 0xF0000);
    CHECK_EQ_U(P.fs.size, 0x10000);
    CHECK(!P.fs_moved);
    CHECK_EQ_U(P.romfs.start, 0xB0000);
    CHECK_EQ_U(P.romfs.size, 0x40000);
    CHECK_EQ_U(P.firmware.start, 0x1000);
    CHECK_EQ_U(P.firmware.size, 0xAF000);
    CHECK_EQ_U(P.firmware_needed_end, 0x5C000);
    CHECK_EQ_U(P.firmware_free, 0x54000);
    CHECK_EQ_U(P.romfs_erase_block, 4096);

    /* A ROMFS size that is not whole pages grows to whole pages. */
    req.romfs_size = 0x3F001;
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    CHECK_EQ_U(P.romfs.start, 0xB0000);
    CHECK_EQ_U(P.romfs.size, 0x40000);

    /* Alignment beyond the erase block: 0xF0000 - 0x3F000 = 0xB1000 -> 0xB0000 at 64K. */
    req.romfs_size = 0x3F000;
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    CHECK_EQ_U(P.romfs.start, 0xB1000);
    req.align = 0x10000;
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    CHECK_EQ_U(P.romfs.start, 0xB0000);
}

static void test_refuses_with_shortfall(void)
{
    struct romfs_board b = nrf_board();
    struct romfs_layout_request req = { .romfs_size = 0xA0000, .fs_size_given = true,
                                        .fs_size = 0x10000, .firmware_size_given = true,
                                        .firmware_size = 0x5A123, .firmware_source = "fw.elf" };
    /* ROMFS would start at 0xF0000 - 0xA0000 = 0x50000, the firmware needs up to 0x5C000. */
    CHECK_EQ_U(plan(&b, &req), ROMFS_ERR_FBIG);
    CHECK(strstr(E.msg, "does not fit by 49152 bytes") != NULL);
    CHECK(strstr(E.msg, "board FIX_NRF") != NULL && strstr(E.msg, "device internal") != NULL);
    CHECK(strstr(E.msg, "at most 592K") != NULL);
    CHECK(strstr(E.msg, "a smaller firmware") != NULL);
    /* 49152 bytes less ROMFS fits exactly, with nothing to spare. */
    req.romfs_size = 0xA0000 - 49152;
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    CHECK_EQ_U(P.firmware_free, 0);
    /* Larger than the whole flash. */
    req.romfs_size = 0x200000;
    CHECK_EQ_U(plan(&b, &req), ROMFS_ERR_FBIG);
    CHECK(strstr(E.msg, "does not fit") != NULL);
    /* Keeping the filesystem, a measured firmware leaves 0x5C000..0xF0000. */
    req.fs_size_given = false;
    req.romfs_size = 0x94000;
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    CHECK_EQ_U(P.romfs.start, 0x5C000);
    CHECK_EQ_U(P.firmware.size, 0x5B000);
    req.romfs_size = 0x95000;
    CHECK_EQ_U(plan(&b, &req), ROMFS_ERR_FBIG);
    CHECK(strstr(E.msg, "does not fit by 4096 bytes") != NULL);
    CHECK(strstr(E.msg, "below the filesystem") != NULL);
    CHECK(strstr(E.msg, "a filesystem size (moving the filesystem FLASH_USER at 0x000f0000, 64K, which must then "
                        "be reformatted") != NULL);
}

/* Without a measured firmware its region may shrink: the plan says so. */
static void test_unmeasured_firmware_shrinks(void)
{
    struct romfs_board b = nrf_board();
    struct romfs_layout_request req = { .romfs_size = 0x41000 };
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    CHECK(P.firmware_estimated);
    CHECK_EQ_U(P.romfs.start, 0xAF000);
    CHECK_EQ_U(P.firmware.size, 0xAE000);
    CHECK_EQ_U(P.firmware_before.size, 0xAF000);
    CHECK(P.from == ROMFS_LAYOUT_FROM_FIRMWARE);
    /* It keeps one erase block at least. */
    req.romfs_size = 0xEF000 - 0x1000;
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    CHECK_EQ_U(P.firmware.size, 0x1000);
    req.romfs_size += 0x1000;
    CHECK_EQ_U(plan(&b, &req), ROMFS_ERR_FBIG);
    CHECK(strstr(E.msg, "does not fit by 4096 bytes") != NULL);
}

static void test_nonuniform_sectors(void)
{
    struct romfs_board b = f4_board();
    struct romfs_layout_request req = { .romfs_size = 100 * 1024, .firmware_size_given = true,
                                        .firmware_size = 0x3F000 };
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    /* No filesystem: ROMFS in the last 128K sector; firmware ends in the first 128K
       sector (0x0803F000), which it must own whole: up to 0x08040000. */
    CHECK_EQ_U(P.fs.size, 0);
    CHECK_EQ_U(P.romfs.start, 0x080E0000);
    CHECK_EQ_U(P.romfs.size, 0x20000);
    CHECK_EQ_U(P.romfs_erase_block, 0x20000);
    CHECK_EQ_U(P.firmware_needed_end, 0x08040000);
    CHECK_EQ_U(P.firmware_free, 0xA0000);
    /* 768K fits exactly from 0x08040000; one byte more needs one more 128K sector. */
    req.romfs_size = 0xC0000;
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    CHECK_EQ_U(P.romfs.start, 0x08040000);
    req.romfs_size = 0xC0001;
    CHECK_EQ_U(plan(&b, &req), ROMFS_ERR_FBIG);
    CHECK(strstr(E.msg, "does not fit by 131072 bytes") != NULL);
    CHECK(strstr(E.msg, "at most 768K") != NULL);
    /* Firmware ending inside the 16K sectors rounds to a 16K boundary. */
    req.romfs_size = 0xE0000 + 0x4000;
    req.firmware_size = 0x9000;
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    CHECK_EQ_U(P.romfs.start, 0x08010000);  /* 0x0801C000 rounds down to the 64K sector */
    CHECK_EQ_U(P.romfs_erase_block, 0x10000);
    CHECK_EQ_U(P.firmware_needed_end, 0x0800C000);
}

/* Seeed XIAO nRF52840-like: a bootloader sits above the filesystem at 0xF4000, which the
 * older fields do not record: nothing above the filesystem counts as free. */
static void test_leaves_unknown_flash_alone(void)
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
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    CHECK_EQ_U(P.flash_end, 0xB4000);
    CHECK(strcmp(P.span_end_source, "the filesystem FLASH_USER") == 0);
    CHECK_EQ_U(P.fs.start, 0xB4000);
    CHECK_EQ_U(P.romfs.start, 0x74000);   /* exactly today's layout */
    CHECK_EQ_U(P.firmware.size, 0x73000);
    /* More ROMFS than the flash below the filesystem: the flash above 0xF4000 is not
       offered, however much there is. */
    req.romfs_size = 0xB4000;
    CHECK_EQ_U(plan(&b, &req), ROMFS_ERR_FBIG);
    /* Growing the filesystem to 0x50000 keeps its top (0xF4000) and moves ROMFS down by
       0x10000: a firmware measured to fill its region no longer fits. */
    req.romfs_size = 0x40000;
    req.fs_size_given = true;
    req.fs_size = 0x50000;
    req.firmware_size_given = true;
    req.firmware_size = 0x73000;
    CHECK_EQ_U(plan(&b, &req), ROMFS_ERR_FBIG);
    CHECK(strstr(E.msg, "does not fit by 65536 bytes") != NULL);
    req.firmware_size = 0x60000;
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    CHECK(P.fs_moved);
    CHECK_EQ_U(P.fs.start, 0xA4000);
    CHECK_EQ_U(P.romfs.start, 0x64000);
    CHECK_EQ_U(P.firmware.size, 0x63000);
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
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    CHECK(P.romfs_external);
    CHECK(strcmp(P.device, "qspi") == 0);
    CHECK_EQ_U(P.romfs.start, 0x90100000);
    CHECK_EQ_U(P.romfs.size, 300 * 1024 + 4096);
    CHECK_EQ_U(P.firmware.start, 0x08008000);
    CHECK_EQ_U(P.firmware.size, 0x78000);
    CHECK_EQ_U(P.fs.size, 0);
    req.romfs_size = 0x100000 + 1;
    CHECK_EQ_U(plan(&b, &req), ROMFS_ERR_FBIG);
    CHECK(strstr(E.msg, "does not fit by 4096 bytes") != NULL);
    CHECK(strstr(E.msg, "device qspi (0x90100000..0x90200000)") != NULL);
    req.romfs_size = 0x1000;
    req.fs_size_given = true;
    CHECK_EQ_U(plan(&b, &req), ROMFS_ERR_INVAL);
    CHECK(strstr(E.msg, "filesystem size does not apply") != NULL);
}

/* ---- flash maps -------------------------------------------------------------------- */

#define DEV(n, base, size, eb, mm) { (char *)(n), base, size, eb, 4, mm, NULL }
#define AREA(k, dev, n, start, size, idx) { k, (char *)(dev), (char *)(n), start, size, idx, NULL, NULL, NULL }

static const struct romfs_erase_range f446_sectors[] = {
    { 0x08000000, 0x10000, 0x4000 },
    { 0x08010000, 0x10000, 0x10000 },
    { 0x08020000, 0x60000, 0x20000 },
};
static struct romfs_flash_device f446_devices[] = { DEV("internal", 0x08000000, 0x80000, 0x20000, true) };
static struct romfs_flash_area f446_areas[] = {
    AREA(ROMFS_AREA_RESERVED, "internal", "FLASH_START", 0x08000000, 0x4000, -1),
    AREA(ROMFS_AREA_FS, "internal", "FLASH_FS", 0x08004000, 0x10000, -1),
    AREA(ROMFS_AREA_FIRMWARE, "internal", "FLASH_TEXT", 0x08020000, 0x60000, -1),
};

/* NUCLEO_F446RE (stm32f411.ld): the filesystem in sectors 1..3 and 16K of sector 4, the
 * firmware in sectors 5..7; nothing free but the rest of sector 4. */
static struct romfs_board f446_board(void)
{
    struct romfs_board b;
    memset(&b, 0, sizeof b);
    b.name = "MAP_F446";
    b.port = "stm32";
    b.mcu = "STM32F446xx";
    b.flash_base = 0x08000000;
    b.flash_size = 0x80000;
    b.erase_block = 0x20000;
    b.erase_map = (struct romfs_erase_range *)f446_sectors;
    b.n_erase_map = 3;
    b.devices = f446_devices;
    b.n_devices = 1;
    b.areas = f446_areas;
    b.n_areas = 3;
    return b;
}

static void test_stm32_map(void)
{
    struct romfs_board b = f446_board();
    /* Not measured: the last 128K sector, from the firmware (384K -> 256K). */
    struct romfs_layout_request req = { .romfs_size = 128 * 1024 };
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    CHECK_EQ_U(P.romfs.start, 0x08060000);
    CHECK_EQ_U(P.romfs.size, 0x20000);
    CHECK_EQ_U(P.firmware.start, 0x08020000);
    CHECK_EQ_U(P.firmware.size, 0x40000);
    CHECK(P.from == ROMFS_LAYOUT_FROM_FIRMWARE && P.firmware_estimated);
    CHECK(!P.fs_moved && P.fs.start == 0x08004000 && P.fs.size == 0x10000);
    /* Measured at 200K the firmware ends in sector 6 and keeps it: no room to spare. */
    req.firmware_size_given = true;
    req.firmware_size = 0x32000;
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    CHECK_EQ_U(P.romfs.start, 0x08060000);
    CHECK_EQ_U(P.firmware_free, 0);
    /* At 300K it reaches into sector 7: no room, and the message says where things are. */
    req.firmware_size = 0x4B000;
    CHECK_EQ_U(plan(&b, &req), ROMFS_ERR_FBIG);
    CHECK(strstr(E.msg, "board MAP_F446: does not fit by") != NULL);
    CHECK(strstr(E.msg, "device internal (0x08000000..0x08080000)") != NULL);
    CHECK(strstr(E.msg, "free: 0x08014000..0x08020000 (48K)") != NULL);
    CHECK(strstr(E.msg, "the firmware FLASH_TEXT (0x08020000..0x08080000) needs up to 0x08080000") != NULL);
    CHECK(strstr(E.msg, "moving the filesystem FLASH_FS at 0x08004000, 64K") != NULL);
    /* A smaller filesystem keeps its start and frees sectors 2..4 (96K) for the ROMFS. */
    req.fs_size_given = true;
    req.fs_size = 16 * 1024;
    req.romfs_size = 64 * 1024;
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    CHECK(P.fs_moved && P.from == ROMFS_LAYOUT_FROM_FS);
    CHECK_EQ_U(P.fs.start, 0x08004000);
    CHECK_EQ_U(P.fs.size, 0x4000);
    CHECK_EQ_U(P.romfs.start, 0x08008000);
    CHECK_EQ_U(P.romfs.size, 0x18000);
    CHECK_EQ_U(P.firmware.size, 0x60000);
    /* The fragment keeps the filesystem region by its name. */
    char *ld = romfs_layout_render(&P);
    CHECK(ld != NULL);
    int ok = strstr(ld, "FLASH_FS (rw) : ORIGIN = 0x08004000, LENGTH = 0x00004000") != NULL &&
             strstr(ld, "FLASH_ROMFS (r) : ORIGIN = 0x08008000, LENGTH = 0x00018000") != NULL &&
             strstr(ld, "REFORMAT") != NULL;
    free(ld);
    CHECK(ok);
}

static struct romfs_flash_device nrf_devices[] = { DEV("internal", 0, 0x100000, 4096, true) };
static struct romfs_flash_area nrf_areas[] = {
    AREA(ROMFS_AREA_BOOTLOADER, "internal", "SoftDevice s140 6.1.1", 0, 0x26000, -1),
    AREA(ROMFS_AREA_FIRMWARE, "internal", "FLASH_TEXT", 0x26000, 0x8A000, -1),
    AREA(ROMFS_AREA_ROMFS, "internal", "romfs0", 0xB0000, 0x40000, 0),
    AREA(ROMFS_AREA_FS, "internal", "_fs_start/_fs_size", 0xF0000, 0x10000, -1),
};

/* ARDUINO_NANO_33_BLE_SENSE (nrf52840_1M_256k.ld, memory.ld): SoftDevice, application,
 * ROMFS 256K, filesystem 64K. */
static struct romfs_board nrf_map_board(void)
{
    struct romfs_board b;
    memset(&b, 0, sizeof b);
    b.name = "MAP_NRF";
    b.port = "nrf";
    b.mcu = "NRF52840";
    b.flash_size = 0x100000;
    b.erase_block = 4096;
    b.devices = nrf_devices;
    b.n_devices = 1;
    b.areas = nrf_areas;
    b.n_areas = 4;
    return b;
}

static void test_nrf_map(void)
{
    struct romfs_board b = nrf_map_board();
    /* memory.ld: ROMFS just below the filesystem, the application gets the rest. */
    struct romfs_layout_request req = { .romfs_size = 128 * 1024 };
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    CHECK_EQ_U(P.romfs.start, 0xD0000);
    CHECK_EQ_U(P.romfs.size, 0x20000);
    CHECK_EQ_U(P.firmware.size, 0xAA000);   /* grows: 0x26000..0xD0000 */
    CHECK(!P.fs_moved);
    char *text = romfs_layout_render(&P);
    CHECK(text != NULL);
    int ok = strstr(text, "_micropy_hw_romfs_part0_size = 128K;") != NULL &&
             strstr(text, "FLASH_TEXT (rx) : ORIGIN = 0x00026000, LENGTH = 0x000aa000") != NULL &&
             strstr(text, "_fs_size =") == NULL;
    free(text);
    CHECK(ok);
    /* 512K from the application: measured at 0x60000 it needs up to 0x86000. */
    req.romfs_size = 512 * 1024;
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    CHECK_EQ_U(P.romfs.start, 0x70000);
    req.firmware_size_given = true;
    req.firmware_size = 0x60000;
    CHECK_EQ_U(plan(&b, &req), ROMFS_ERR_FBIG);
    CHECK(strstr(E.msg, "does not fit by 90112 bytes") != NULL);
    /* The SoftDevice is never touched. */
    req.firmware_size_given = false;
    req.romfs_size = 0xCA000;
    CHECK_EQ_U(plan(&b, &req), ROMFS_ERR_FBIG);
}

static struct romfs_flash_device rp2_devices[] = { DEV("internal", 0x10000000, 0x200000, 4096, true) };
static struct romfs_flash_area rp2_areas[] = {
    AREA(ROMFS_AREA_FIRMWARE, "internal", "FLASH", 0x10000000, 0xA0000, -1),
    AREA(ROMFS_AREA_FS, "internal", "MICROPY_HW_FLASH_STORAGE_BYTES", 0x100A0000, 0x160000, -1),
};

/* RPI_PICO: 2M, filesystem 1408K at the top (mpconfigboard.cmake), firmware below. */
static struct romfs_board rp2_map_board(void)
{
    struct romfs_board b;
    memset(&b, 0, sizeof b);
    b.name = "MAP_PICO";
    b.port = "rp2";
    b.mcu = "RP2040";
    b.flash_base = 0x10000000;
    b.flash_size = 0x200000;
    b.erase_block = 4096;
    b.devices = rp2_devices;
    b.n_devices = 1;
    b.areas = rp2_areas;
    b.n_areas = 2;
    return b;
}

static void test_rp2_map(void)
{
    struct romfs_board b = rp2_map_board();
    /* rp2_flash.c: MICROPY_HW_ROMFS_BASE = storage base - MICROPY_HW_ROMFS_BYTES. */
    struct romfs_layout_request req = { .romfs_size = 256 * 1024 };
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    CHECK_EQ_U(P.romfs.start, 0x10060000);
    CHECK_EQ_U(P.romfs.size, 0x40000);
    CHECK_EQ_U(P.firmware.size, 0x60000);  /* its maximum: 640K -> 384K */
    CHECK(!P.fs_moved && P.fs.start == 0x100A0000);
    char *text = romfs_layout_render(&P);
    CHECK(text != NULL);
    int ok = strstr(text, "\nset(MICROPY_HW_ROMFS_BYTES 262144)\n") != NULL &&
             strstr(text, "set(MICROPY_HW_FLASH_STORAGE_BYTES") == NULL && strstr(text, "MEMORY") == NULL &&
             strstr(text, "shrinks from 640K") != NULL;
    free(text);
    CHECK(ok);
    /* A 1M filesystem at the top of flash: the firmware gets 768K. */
    req.fs_size_given = true;
    req.fs_size = 1024 * 1024;
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    CHECK(P.fs_moved);
    CHECK_EQ_U(P.fs.start, 0x10100000);
    CHECK_EQ_U(P.romfs.start, 0x100C0000);
    CHECK_EQ_U(P.firmware.size, 0xC0000);
    text = romfs_layout_render(&P);
    CHECK(text != NULL);
    ok = strstr(text, "\nset(MICROPY_HW_ROMFS_BYTES 262144)\nset(MICROPY_HW_FLASH_STORAGE_BYTES 1048576)\n") != NULL;
    free(text);
    CHECK(ok);
    /* All the flash below the filesystem: the firmware must keep a block. */
    req.fs_size_given = false;
    req.romfs_size = 0xA0000;
    CHECK_EQ_U(plan(&b, &req), ROMFS_ERR_FBIG);
    CHECK(strstr(E.msg, "does not fit by 4096 bytes") != NULL);
}

static struct romfs_flash_device samd_qspi_devices[] = {
    DEV("internal", 0, 0x80000, 8192, true),
    DEV("qspi", 0, 0x200000, 4096, false),
};
static struct romfs_flash_area samd_qspi_areas[] = {
    AREA(ROMFS_AREA_BOOTLOADER, "internal", "UF2 bootloader", 0, 0x4000, -1),
    AREA(ROMFS_AREA_FIRMWARE, "internal", "FLASH", 0x4000, 0x6C000, -1),
    AREA(ROMFS_AREA_ROMFS, "internal", "romfs0", 0x70000, 0x10000, 0),
    AREA(ROMFS_AREA_FS, "qspi", "spiflash", 0, 0x200000, -1),
};
static struct romfs_flash_device samd_mcu_devices[] = { DEV("internal", 0, 0x80000, 8192, true) };
static struct romfs_flash_area samd_mcu_areas[] = {
    AREA(ROMFS_AREA_BOOTLOADER, "internal", "UF2 bootloader", 0, 0x4000, -1),
    AREA(ROMFS_AREA_FIRMWARE, "internal", "FLASH", 0x4000, 0x5C000, -1),
    AREA(ROMFS_AREA_ROMFS, "internal", "romfs0", 0x60000, 0x10000, 0),
    AREA(ROMFS_AREA_FS, "internal", "_oflash_fs/_sflash_fs", 0x70000, 0x10000, -1),
};

static struct romfs_board samd_board(bool mcu_fs)
{
    struct romfs_board b;
    memset(&b, 0, sizeof b);
    b.name = mcu_fs ? "MAP_SAMD51_MCUFS" : "MAP_ITSYBITSY_M4";
    b.port = "samd";
    b.mcu = "SAMD51G19A";
    b.flash_size = 0x80000;
    b.erase_block = 8192;
    b.devices = mcu_fs ? samd_mcu_devices : samd_qspi_devices;
    b.n_devices = mcu_fs ? 1 : 2;
    b.areas = mcu_fs ? samd_mcu_areas : samd_qspi_areas;
    b.n_areas = 4;
    return b;
}

static void test_samd_map(void)
{
    /* ItsyBitsy M4: filesystem on QSPI flash. 64K stays where the ROMFS is (CODESIZE 432K). */
    struct romfs_board b = samd_board(false);
    struct romfs_layout_request req = { .romfs_size = 64 * 1024 };
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    CHECK_EQ_U(P.romfs.start, 0x70000);
    CHECK_EQ_U(P.firmware.size, 432 * 1024);
    CHECK(P.from == ROMFS_LAYOUT_FROM_CURRENT);
    /* 128K: the ROMFS starts where the firmware ends, so CODESIZE shrinks to 368K. */
    req.romfs_size = 128 * 1024;
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    CHECK_EQ_U(P.romfs.start, 0x60000);
    CHECK_EQ_U(P.romfs.size, 0x20000);
    CHECK_EQ_U(P.firmware.size, 368 * 1024);
    char *text = romfs_layout_render(&P);
    CHECK(text != NULL);
    int ok = strstr(text, "\nMICROPY_HW_CODESIZE ?= 368K\nMICROPY_HW_ROMFS_BYTES ?= 128K\n") != NULL;
    free(text);
    CHECK(ok);
    /* A filesystem on QSPI flash (not memory-mapped) cannot give room. */
    req.fs_size_given = true;
    CHECK_EQ_U(plan(&b, &req), ROMFS_ERR_INVAL);
    CHECK(strstr(E.msg, "not memory-mapped") != NULL);

    /* SAMD51 with its filesystem in MCU flash: ROMFS stays just below it. */
    b = samd_board(true);
    req = (struct romfs_layout_request){ .romfs_size = 100 * 1024 + 1 };
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    CHECK_EQ_U(P.romfs.start, 0x56000);   /* 0x70000 - 101K = 0x56C00, down to an 8K page */
    CHECK_EQ_U(P.romfs.size, 0x1A000);
    CHECK_EQ_U(P.firmware.size, 328 * 1024);
    CHECK(!P.fs_moved && P.fs.start == 0x70000);
}

static const char esp32_csv[] =
    "# partitions-4MiBplus.csv\n"
    "nvs,      data, nvs,     0x9000,  0x6000,\n"
    "phy_init, data, phy,     0xf000,  0x1000,\n"
    "factory,  app,  factory, 0x10000, 0x1F0000,\n";

static struct romfs_board esp32_board(void)
{
    struct romfs_board b;
    memset(&b, 0, sizeof b);
    b.name = "MAP_ESP32";
    b.port = "esp32";
    b.mcu = "ESP32";
    b.flash_size = 0x400000;
    b.erase_block = 4096;
    return b;
}

/* The romfs partition of a CSV the plan printed, read back by the table reader. */
static int romfs_row(const char *csv, uint64_t *offset, uint64_t *size, uint64_t *factory)
{
    struct romfs_esp32_table t;
    struct romfs_partition p;
    struct romfs_error err;
    memset(&p, 0, sizeof p);
    int rc = romfs_esp32_table_parse_csv(csv, strlen(csv), "planned.csv", &t, &err);
    if (!rc)
        rc = romfs_esp32_table_romfs(&t, "planned.csv", &p, &err);
    for (size_t i = 0; !rc && i < t.n; i++)
        if (strcmp(t.parts[i].label, "factory") == 0)
            *factory = t.parts[i].size;
    if (!rc) {
        *offset = p.start;
        *size = p.size;
    } else {
        printf("    %s\n", err.msg);
    }
    romfs_partition_clear(&p);
    romfs_esp32_table_free(&t);
    return rc;
}

static void test_esp32_table(void)
{
    struct romfs_board b = esp32_board();
    struct romfs_esp32_table t;
    struct romfs_error err;
    CHECK_EQ_U(romfs_esp32_table_parse_csv(esp32_csv, strlen(esp32_csv), "t.csv", &t, &err), ROMFS_OK);
    /* The filesystem is made at boot after the last partition: a ROMFS after factory
       would move it. So the ROMFS takes factory's tail: partitions-4MiB-romfs.csv. */
    struct romfs_layout_request req = { .romfs_size = 128 * 1024, .partition_table = &t,
                                        .partition_table_name = "t.csv" };
    int rc = plan(&b, &req);
    if (rc)
        printf("    %s\n", E.msg);
    CHECK_EQ_U(rc, ROMFS_OK);
    CHECK_EQ_U(P.romfs.start, 0x1E0000);
    CHECK_EQ_U(P.romfs.size, 0x20000);
    CHECK_EQ_U(P.firmware.size, 0x1D0000);
    CHECK(!P.fs_moved && P.fs.start == 0x200000 && P.fs.size == 0x200000);
    char *csv = romfs_layout_render(&P);
    CHECK(csv != NULL);
    uint64_t off = 0, size = 0, factory = 0;
    rc = romfs_row(csv, &off, &size, &factory);
    int has_vfs_row = strstr(csv, "\nvfs,") != NULL;
    free(csv);
    CHECK_EQ_U(rc, ROMFS_OK);
    CHECK_EQ_U(off, 0x1E0000);
    CHECK_EQ_U(size, 0x20000);
    CHECK_EQ_U(factory, 0x1D0000);
    CHECK(!has_vfs_row);
    /* 100K still ends the app partition on a 64K boundary. */
    req.romfs_size = 100 * 1024;
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    CHECK_EQ_U(P.romfs.start, 0x1E0000);
    CHECK_EQ_U(P.romfs.size, 0x20000);
    /* An app image of 0x1D0001 bytes leaves no 128K. */
    req.romfs_size = 128 * 1024;
    req.firmware_size_given = true;
    req.firmware_size = 0x1D0001;
    CHECK_EQ_U(plan(&b, &req), ROMFS_ERR_FBIG);
    CHECK(strstr(E.msg, "device spi") != NULL);
    req.firmware_size = 0x1C0000;
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    /* A 1M filesystem: it keeps the top of flash (still made at boot), the ROMFS sits
       below it, factory gets the rest. */
    req.firmware_size_given = false;
    req.fs_size_given = true;
    req.fs_size = 0x100000;
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    CHECK(P.fs_moved);
    CHECK_EQ_U(P.fs.start, 0x300000);
    CHECK_EQ_U(P.romfs.start, 0x2E0000);
    CHECK_EQ_U(P.firmware.size, 0x2D0000);
    csv = romfs_layout_render(&P);
    CHECK(csv != NULL);
    rc = romfs_row(csv, &off, &size, &factory);
    free(csv);
    CHECK_EQ_U(rc, ROMFS_OK);
    CHECK_EQ_U(off, 0x2E0000);
    CHECK_EQ_U(factory, 0x2D0000);
    /* An ELF says nothing about an esp32 app partition. */
    req.elf = "firmware.elf";
    rc = plan(&b, &req);
    romfs_esp32_table_free(&t);
    CHECK_EQ_U(rc, ROMFS_ERR_INVAL);
}

static struct romfs_flash_device alif_devices[] = {
    DEV("mram", 0x80000000, 0x580000, 16, true),
    DEV("ospi", 0xC0000000, 0x2000000, 4096, true),
};
static struct romfs_flash_area alif_areas[] = {
    AREA(ROMFS_AREA_BOOTLOADER, "mram", "MRAM_BL", 0x80000000, 0x20000, -1),
    { ROMFS_AREA_FIRMWARE, "mram", "MRAM_HP", 0x80020000, 0x300000, -1, "M55_HP", NULL, NULL },
    { ROMFS_AREA_FIRMWARE, "mram", "MRAM_HE", 0x80320000, 0x15E000, -1, "M55_HE", NULL, NULL },
    { ROMFS_AREA_ROMFS, "mram", "romfs0", 0x8047E000, 0x100000, 0, "M55_HE", NULL, NULL },
    { ROMFS_AREA_ROMFS, "mram", "romfs1", 0x8047E000, 0x100000, 1, "M55_HP", NULL, NULL },
    { ROMFS_AREA_FS, "ospi", "filesystem", 0xC0000000, 0x1000000, -1, "M55_HP", "alif.Flash", NULL },
    { ROMFS_AREA_ROMFS, "ospi", "romfs0", 0xC1000000, 0x1000000, 0, "M55_HP", NULL, NULL },
};

/* ALIF_ENSEMBLE: two builds share the MRAM; the default one (M55_HP, whose partition 0
 * boards.json lists first) keeps its ROMFS in OSPI, and the other build's areas stay. */
static void test_multicore_plans_the_default_build(void)
{
    struct romfs_board b;
    memset(&b, 0, sizeof b);
    b.name = "MAP_ALIF";
    b.port = "alif";
    struct romfs_partition parts[] = {
        { .index = 0, .start = 0xC1000000, .size = 0x1000000, .erase_block = 4096, .mmap = true, .core = "M55_HP" },
        { .index = 0, .start = 0x8047E000, .size = 0x100000, .erase_block = 16, .mmap = true, .core = "M55_HE" },
    };
    b.partitions = parts;
    b.n_partitions = 2;
    b.devices = alif_devices;
    b.n_devices = 2;
    b.areas = alif_areas;
    b.n_areas = sizeof alif_areas / sizeof alif_areas[0];
    struct romfs_layout_request req = { .romfs_size = 1024 * 1024 };
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    CHECK(P.core && strcmp(P.core, "M55_HP") == 0);
    CHECK(strcmp(P.device, "ospi") == 0);
    CHECK_EQ_U(P.romfs.start, 0xC1000000);
    CHECK_EQ_U(P.romfs.size, 0x100000);
    CHECK(strcmp(P.firmware.name, "MRAM_HP") == 0 && P.firmware.size == 0x300000);
    /* Past the OSPI's end: refused, the MRAM (the other build's) is not offered. */
    req.romfs_size = 0x1000001;
    CHECK_EQ_U(plan(&b, &req), ROMFS_ERR_FBIG);
    CHECK(strstr(E.msg, "device ospi") != NULL);
}

/* Keeping the filesystem (the default) never touches it, on every board and size. */
static void test_keep_fs_never_touches_it(void)
{
    struct romfs_board boards[] = { nrf_board(), f446_board(), nrf_map_board(), rp2_map_board(),
                                    samd_board(false), samd_board(true) };
    int planned = 0;
    for (size_t i = 0; i < sizeof boards / sizeof boards[0]; i++)
        for (uint64_t size = 4096; size <= 0x100000; size += 0x3000) {
            struct romfs_layout_request req = { .romfs_size = size };
            int rc = plan(&boards[i], &req);
            if (rc) {
                CHECK_EQ_U(rc, ROMFS_ERR_FBIG);
                continue;
            }
            planned++;
            CHECK(!P.fs_moved);
            CHECK(P.fs.start == P.fs_before.start && P.fs.size == P.fs_before.size);
            CHECK(P.romfs.size >= size);
            for (size_t k = 0; k < P.n_areas; k++) {
                const struct romfs_layout_area *a = &P.areas[k];
                if (a->kind == ROMFS_AREA_ROMFS)
                    continue;
                CHECK(a->kind == ROMFS_AREA_FIRMWARE || a->change == ROMFS_LAYOUT_SAME);
                CHECK(P.romfs.start >= a->start + a->size || P.romfs.start + P.romfs.size <= a->start);
            }
        }
    CHECK(planned > 100);
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
    b.port = "stm32";   /* the plain fragment */
    struct romfs_layout_request req = { .romfs_size = 256 * 1024, .fs_size_given = true,
                                        .fs_size = 64 * 1024, .firmware_size_given = true,
                                        .firmware_size = 0x5A123, .firmware_source = "fw.elf" };
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    char *ld = romfs_layout_render(&P);
    CHECK(ld != NULL);
    int ok = strstr(ld, "FLASH_TEXT (rx) : ORIGIN = 0x00001000, LENGTH = 0x000af000") != NULL &&
             strstr(ld, "FLASH_ROMFS (r) : ORIGIN = 0x000b0000, LENGTH = 0x00040000") != NULL &&
             strstr(ld, "FLASH_USER (rw) : ORIGIN = 0x000f0000, LENGTH = 0x00010000") != NULL &&
             strstr(ld, "_micropy_hw_romfs_part0_start = ORIGIN(FLASH_ROMFS);") != NULL &&
             strstr(ld, "keeps its start and size") != NULL && strchr(ld, '@') == NULL;
    free(ld);
    CHECK(ok);
    char *json = romfs_layout_to_json(&P);
    CHECK(json != NULL);
    ok = strstr(json, "\"start_hex\":\t\"0x000b0000\"") != NULL && strstr(json, "\"filesystem_reformat\":\tfalse") != NULL;
    free(json);
    CHECK(ok);
    /* Without a filesystem its line disappears, and the plan says it is removed. */
    req.fs_size = 0;
    CHECK_EQ_U(plan(&b, &req), ROMFS_OK);
    CHECK(P.fs_moved);
    ld = romfs_layout_render(&P);
    CHECK(ld != NULL);
    ok = strstr(ld, "FLASH_USER (rw)") == NULL && strstr(ld, "removed") != NULL &&
         strstr(ld, "FLASH_ROMFS (r) : ORIGIN = 0x000c0000, LENGTH = 0x00040000") != NULL;
    free(ld);
    CHECK(ok);
}

static void test_bad_requests(void)
{
    struct romfs_board b = nrf_board();
    struct romfs_layout_request req = { .romfs_size = 0 };
    CHECK_EQ_U(plan(&b, &req), ROMFS_ERR_INVAL);
    req.romfs_size = 4096;
    b.flash_size = 0;
    CHECK_EQ_U(plan(&b, &req), ROMFS_ERR_INVAL);
    CHECK(strstr(E.msg, "no flash geometry") != NULL);
    b = nrf_board();
    b.text_size = 0;
    CHECK_EQ_U(plan(&b, &req), ROMFS_ERR_INVAL);
    CHECK(strstr(E.msg, "firmware size unknown") != NULL);
    b = nrf_map_board();
    req.device = "qspi";
    CHECK_EQ_U(plan(&b, &req), ROMFS_ERR_INVAL);
    CHECK(strstr(E.msg, "has no flash device 'qspi' (it has: internal)") != NULL);
}

int main(void)
{
    RUN(test_uniform_plan);
    RUN(test_refuses_with_shortfall);
    RUN(test_unmeasured_firmware_shrinks);
    RUN(test_nonuniform_sectors);
    RUN(test_leaves_unknown_flash_alone);
    RUN(test_external_romfs);
    RUN(test_stm32_map);
    RUN(test_nrf_map);
    RUN(test_rp2_map);
    RUN(test_samd_map);
    RUN(test_esp32_table);
    RUN(test_multicore_plans_the_default_build);
    RUN(test_keep_fs_never_touches_it);
    RUN(test_template_fill);
    RUN(test_render);
    RUN(test_bad_requests);
    romfs_layout_plan_free(&P);
    UNIT_EXIT();
}
