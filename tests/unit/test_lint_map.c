/* test_lint_map.c: lint on a board's flash map. Every rule fires on a bad map and stays
 * quiet on the good one beside it; the boards of the seed's two bugs and of MicroPython's
 * git history are maps written here from the addresses of the files named in each test
 * (facts only). */
#include "unit.h"

#include "boards/db.h"
#include "boards/lint.h"

#define K 1024ull
#define M (1024ull * 1024ull)

#define DEV(n, b, s, m) { .name = (n), .base = (b), .size = (s), .mmap = (m), .source = "dev.h:1: " n }
#define AREA(k, d, n, s, z) { .kind = (k), .device = (d), .name = (n), .start = (s), .size = (z), .romfs_index = -1, \
                              .source = "map.ld:1: " n }
#define ROM(d, n, i, s, z) { .kind = ROMFS_AREA_ROMFS, .device = (d), .name = (n), .start = (s), .size = (z), \
                             .romfs_index = (i), .source = "map.ld:2: " n }
#define FS(d, n, bd, s, z) { .kind = ROMFS_AREA_FS, .device = (d), .name = (n), .start = (s), .size = (z), \
                             .romfs_index = -1, .blockdev = (bd), .source = "mpconfigboard.h:3: " n }
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static struct romfs_board board(const char *name, const char *port, struct romfs_flash_device *d, size_t nd,
                                struct romfs_flash_area *a, size_t na)
{
    struct romfs_board b;
    memset(&b, 0, sizeof b);
    b.name = (char *)name;
    b.port = (char *)port;
    b.devices = d;
    b.n_devices = nd;
    b.areas = a;
    b.n_areas = na;
    b.dfu_alt = -1;
    return b;
}

static struct romfs_lint_report report;

/* Lint b with the floor given (0: the default) and return how many findings there are. */
static size_t lint(const struct romfs_board *b, uint64_t floor)
{
    romfs_lint_report_free(&report);
    struct romfs_lint_options o = { .fs_floor = floor ? floor : ROMFS_LINT_FS_FLOOR_DEFAULT };
    struct romfs_error err;
    if (romfs_lint_board_with(b, &o, &report, &err) != ROMFS_OK)
        return (size_t)-1;
    for (size_t i = 0; i < report.n; i++)
        printf("    %s: %s [%s]\n", report.findings[i].severity == ROMFS_LINT_ERROR ? "error" : "warning",
               report.findings[i].message, report.findings[i].check);
    return report.n;
}

/* The finding with this check id, or NULL. */
static const struct romfs_lint_finding *found(const char *check)
{
    for (size_t i = 0; i < report.n; i++)
        if (strcmp(report.findings[i].check, check) == 0)
            return &report.findings[i];
    return NULL;
}

/* ---- a good map ---- */

/* PYBD_SF2-like: mboot and the firmware in internal flash, firmware and ROMFS on the
 * memory-mapped QSPI flash, the filesystem on the SPI flash. */
static struct romfs_flash_device good_dev[] = {
    DEV("internal", 0x08000000, 512 * K, true), DEV("qspi", 0x90000000, 2 * M, true), DEV("spi", 0, 2 * M, false),
};
static struct romfs_flash_area good_map[] = {
    AREA(ROMFS_AREA_BOOTLOADER, "internal", "mboot", 0x08000000, 32 * K),
    AREA(ROMFS_AREA_FIRMWARE, "internal", "FLASH_APP", 0x08008000, 480 * K),
    AREA(ROMFS_AREA_FIRMWARE, "qspi", "FLASH_EXT", 0x90000000, 1 * M),
    ROM("qspi", "FLASH_ROMFS", 0, 0x90100000, 1 * M),
    FS("spi", "vfs", "spibdev", 0, 2 * M),
};

static void good_map_is_quiet(void)
{
    struct romfs_board b = board("GOOD", "stm32", good_dev, COUNT(good_dev), good_map, COUNT(good_map));
    CHECK_EQ_U(lint(&b, 0), 0);
    CHECK_EQ_U(report.n_errors + report.n_warnings, 0);
}

/* ---- overlaps ---- */

/* GARATRONIC_PYMATE_CORE8ADI8DOSC as added in MicroPython 43efed3f3a: ROMFS part0 is the
 * whole FLASH_QSPI region (f412_qspi.ld: 0x90000000, 1024K) and the filesystem is spi_bdev
 * on the same QSPI chip, MICROPY_HW_BDEV_SPIFLASH_SIZE_BYTES = (1 << 23) / 8 = 1 MiB from
 * offset 0 (mpconfigboard.h). */
static void romfs_on_the_filesystem_block_device(void)
{
    struct romfs_flash_device d[] = { DEV("internal", 0x08000000, 512 * K, true),
                                      DEV("qspi", 0x90000000, 1 * M, true) };
    struct romfs_flash_area bad[] = {
        AREA(ROMFS_AREA_FIRMWARE, "internal", "FLASH_APP", 0x08000000, 512 * K),
        ROM("qspi", "FLASH_QSPI", 0, 0x90000000, 1 * M),
        FS("qspi", "spi_bdev", "spibdev", 0x90000000, 1 * M),
    };
    struct romfs_board b = board("GARATRONIC_PYMATE_CORE8ADI8DOSC", "stm32", d, 2, bad, 3);
    CHECK_EQ_U(lint(&b, 0), 1);
    const struct romfs_lint_finding *f = found("romfs-on-fs");
    CHECK(f && f->severity == ROMFS_LINT_ERROR);
    CHECK_EQ_U(f->address, 0x90000000);
    CHECK_EQ_U(f->bytes, 1 * M);
    CHECK(strcmp(f->device, "qspi") == 0);
    CHECK(strcmp(f->source_a, "map.ld:2: FLASH_QSPI") == 0 && strcmp(f->source_b, "mpconfigboard.h:3: spi_bdev") == 0);
    CHECK(strstr(f->message, "GARATRONIC_PYMATE_CORE8ADI8DOSC") && strstr(f->message, "FLASH_QSPI") &&
          strstr(f->message, "spibdev") && strstr(f->message, "map.ld:2") && strstr(f->message, "mpconfigboard.h:3"));
    /* the same board with the ROMFS moved to the upper half and the filesystem kept below */
    bad[1].start = 0x90080000;
    bad[1].size = 512 * K;
    bad[2].size = 512 * K;
    CHECK_EQ_U(lint(&b, 0), 0);
}

/* The seed's VK_RA6M5 bug: FLASH_ROMFS at 0xA0000 with LENGTH 0xA0000 (0x60000 was meant)
 * runs 256 KiB into FLASH_FS at 0x100000. */
static void vk_ra6m5_romfs_into_the_filesystem(void)
{
    struct romfs_flash_device d[] = { DEV("internal", 0, 2 * M, true) };
    struct romfs_flash_area a[] = {
        AREA(ROMFS_AREA_FIRMWARE, "internal", "FLASH", 0, 0xA0000),
        ROM("internal", "FLASH_ROMFS", 0, 0xA0000, 0xA0000),
        FS("internal", "FLASH_FS", "flashbdev", 0x100000, 0x100000),
    };
    struct romfs_board b = board("VK_RA6M5", "renesas-ra", d, 1, a, 3);
    CHECK_EQ_U(lint(&b, 0), 1);
    const struct romfs_lint_finding *f = found("romfs-on-fs");
    CHECK(f);
    CHECK_EQ_U(f->address, 0x100000);
    CHECK_EQ_U(f->bytes, 0x40000);
    a[1].size = 0x60000;
    CHECK_EQ_U(lint(&b, 0), 0);
}

/* The seed's ARDUINO_PORTENTA_C33 bug: FLASH at 0 on top of the 64K FLASH_BOOT. */
static void portenta_c33_firmware_on_the_bootloader(void)
{
    struct romfs_flash_device d[] = { DEV("internal", 0, 2 * M, true) };
    struct romfs_flash_area a[] = {
        AREA(ROMFS_AREA_BOOTLOADER, "internal", "FLASH_BOOT", 0, 0x10000),
        AREA(ROMFS_AREA_FIRMWARE, "internal", "FLASH", 0, 0xB0000),
        ROM("internal", "FLASH_ROMFS", 0, 0xC0000, 0x40000),
        FS("internal", "FLASH_FS", "flashbdev", 0x100000, 0x100000),
    };
    struct romfs_board b = board("ARDUINO_PORTENTA_C33", "renesas-ra", d, 1, a, 4);
    CHECK_EQ_U(lint(&b, 0), 1);
    const struct romfs_lint_finding *f = found("firmware-on-bootloader");
    CHECK(f && f->severity == ROMFS_LINT_ERROR);
    CHECK_EQ_U(f->bytes, 0x10000);
    a[1].start = 0x10000;
    CHECK_EQ_U(lint(&b, 0), 0);
}

static void every_pair_of_kinds_is_checked(void)
{
    struct romfs_flash_device d[] = { DEV("internal", 0, 1 * M, true) };
    struct romfs_flash_area a[] = {
        AREA(ROMFS_AREA_FIRMWARE, "internal", "FLASH_TEXT", 0x1000, 0x80000),
        ROM("internal", "FLASH_ROMFS", 0, 0x81000, 0x40000),
        FS("internal", "vfs", "flashbdev", 0xC1000, 0x30000),
        AREA(ROMFS_AREA_RESERVED, "internal", "nvs", 0xF1000, 0x4000),
    };
    struct romfs_board b = board("PAIRS", "nrf", d, 1, a, 4);
    CHECK_EQ_U(lint(&b, 0), 0);
    /* ROMFS in the last 4K of the region the firmware is linked into: only a firmware that
       grows that far overwrites it, and the link does not stop one (a warning) */
    a[1].start = 0x80000;
    CHECK_EQ_U(lint(&b, 0), 1);
    const struct romfs_lint_finding *f = found("romfs-overlaps-firmware");
    CHECK(f && f->bytes == 0x1000 && f->severity == ROMFS_LINT_WARNING);
    CHECK(strstr(f->message, "larger than 520192 bytes (508 KiB)"));
    /* a ROMFS under the firmware's start is overwritten by every firmware (an error) */
    a[1].start = 0;
    a[1].size = 0x2000;
    CHECK_EQ_U(lint(&b, 0), 1);
    f = found("romfs-overlaps-firmware");
    CHECK(f && f->severity == ROMFS_LINT_ERROR && f->address == 0x1000);
    a[1].start = 0x81000;
    a[1].size = 0x40000;
    a[2].start = 0x80000;   /* the filesystem on the firmware's tail and the ROMFS */
    a[2].size = 0x71000;
    CHECK_EQ_U(lint(&b, 0), 2);
    CHECK(found("fs-overlaps-firmware") && found("fs-overlaps-firmware")->severity == ROMFS_LINT_WARNING);
    CHECK(found("romfs-on-fs") && found("romfs-on-fs")->severity == ROMFS_LINT_ERROR);
    a[2].start = 0xC1000;
    a[2].size = 0x31000;    /* the filesystem 4K into the reserved nvs */
    CHECK_EQ_U(lint(&b, 0), 1);
    CHECK(found("overlap") && found("overlap")->address == 0xF1000);
    a[2].size = 0x30000;
    a[3].kind = ROMFS_AREA_BOOTLOADER;   /* a bootloader at the end of flash */
    a[3].start = 0xE0000;
    a[3].size = 0x20000;
    CHECK_EQ_U(lint(&b, 0), 1);
    CHECK(found("fs-on-bootloader") && found("fs-on-bootloader")->bytes == 0x11000);
    a[2].size = 0x1f000;
    a[1].start = 0xC1000;   /* ROMFS and filesystem swapped: the ROMFS on the bootloader */
    a[1].size = 0x20000;
    a[2].start = 0x81000;
    a[2].size = 0x40000;
    CHECK_EQ_U(lint(&b, 0), 1);
    CHECK(found("romfs-on-bootloader") && found("romfs-on-bootloader")->bytes == 0x1000);
}

/* Alif: the HP core's ROMFS part1 and the HE core's part0 are the one MRAM_FS range (both
 * cores read the same ROMFS): no finding. A range one core's firmware and another core's
 * ROMFS both claim is one. */
static void cores_may_share_one_romfs(void)
{
    struct romfs_flash_device d[] = { DEV("mram", 0x80000000, 0x580000, true) };
    struct romfs_flash_area a[] = {
        AREA(ROMFS_AREA_FIRMWARE, "mram", "MRAM_HP", 0x80020000, 0x300000),
        AREA(ROMFS_AREA_FIRMWARE, "mram", "MRAM_HE", 0x80320000, 0x15e000),
        ROM("mram", "MRAM_FS", 1, 0x8047e000, 0x100000),
        ROM("mram", "MRAM_FS", 0, 0x8047e000, 0x100000),
    };
    a[0].core = a[2].core = "M55_HP";
    a[1].core = a[3].core = "M55_HE";
    struct romfs_board b = board("ALIF_ENSEMBLE", "alif", d, 1, a, 4);
    CHECK_EQ_U(lint(&b, 0), 0);
    a[1].size = 0x15f000;   /* the HE firmware's region 4K into the shared ROMFS */
    CHECK_EQ_U(lint(&b, 0), 2);
    CHECK(found("romfs-overlaps-firmware"));
    a[1].size = 0x15e000;
    a[2].start = a[3].start = 0x8047e000;
    a[1].start = 0x8047f000;                /* the HE firmware starting inside the shared ROMFS */
    a[1].size = 0x1000;
    CHECK_EQ_U(lint(&b, 0), 2);
    CHECK(found("romfs-overlaps-firmware") && found("romfs-overlaps-firmware")->severity == ROMFS_LINT_ERROR);
    a[1].start = 0x80320000;
    a[1].size = 0x15e000;
    a[3].size = 0x80000;    /* the cores disagree on where the shared ROMFS ends */
    CHECK_EQ_U(lint(&b, 0), 1);
    CHECK(found("overlap"));
}

/* nRF: the MBR is the first 4K of the SoftDevice's range; both are the bootloader. */
static void a_bootloader_inside_another_is_one(void)
{
    struct romfs_flash_device d[] = { DEV("internal", 0, 1 * M, true) };
    struct romfs_flash_area a[] = {
        AREA(ROMFS_AREA_BOOTLOADER, "internal", "SoftDevice s140", 0, 0x26000),
        AREA(ROMFS_AREA_BOOTLOADER, "internal", "MBR", 0, 0x1000),
        AREA(ROMFS_AREA_FIRMWARE, "internal", "FLASH_TEXT", 0x26000, 0x80000),
    };
    struct romfs_board b = board("NRF", "nrf", d, 1, a, 3);
    CHECK_EQ_U(lint(&b, 0), 0);
    a[1].start = 0x25000;   /* one sticking out of the other is an overlap */
    a[1].size = 0x2000;
    CHECK_EQ_U(lint(&b, 0), 2);
    CHECK(found("overlap") && found("firmware-on-bootloader"));
}

/* ---- the filesystem's room ---- */

/* SAMD_GENERIC_D51X20 as MicroPython c07b178dbd ("samd: Add support for VfsRom filesystem
 * for SAMD21 and SAMD51") left it, and as it still is: samd51x20a.ld has _flashsize 1024K,
 * _bootloader 16K, FLASH at 0x4000 of LENGTH _codesize; mpconfigboard.mk sets
 * MICROPY_HW_CODESIZE 752K and MICROPY_HW_ROMFS_BYTES 256K; so ROMFS is 0xC0000..0x100000,
 * _oflash_fs = 0x100000 and _sflash_fs = 1024K - 752K - 16K - 256K = 0. The board has no
 * SPI flash (MICROPY_HW_MCUFLASH): its filesystem is squeezed to nothing. Before that
 * commit (c07b178dbd^) the filesystem was the 256K from 0xC0000. */
static void samd_generic_d51x20_filesystem_squeezed_to_nothing(void)
{
    struct romfs_flash_device d[] = { DEV("internal", 0, 1024 * K, true) };
    struct romfs_flash_area after[] = {
        AREA(ROMFS_AREA_BOOTLOADER, "internal", "UF2 bootloader", 0, 16 * K),
        AREA(ROMFS_AREA_FIRMWARE, "internal", "FLASH", 0x4000, 752 * K),
        ROM("internal", "romfs", 0, 0xC0000, 256 * K),
        FS("internal", "flash_fs", "samd_flash", 0x100000, 0),
    };
    struct romfs_board b = board("SAMD_GENERIC_D51X20", "samd", d, 1, after, 4);
    CHECK_EQ_U(lint(&b, 0), 1);
    const struct romfs_lint_finding *f = found("fs-no-room");
    CHECK(f && f->severity == ROMFS_LINT_ERROR);
    CHECK_EQ_U(f->address, 0x100000);
    CHECK(strstr(f->message, "ROMFS part0") && strstr(f->message, "0 bytes"));
    struct romfs_flash_area before[] = {
        AREA(ROMFS_AREA_BOOTLOADER, "internal", "UF2 bootloader", 0, 16 * K),
        AREA(ROMFS_AREA_FIRMWARE, "internal", "FLASH", 0x4000, 752 * K),
        FS("internal", "flash_fs", "samd_flash", 0xC0000, 256 * K),
    };
    b = board("SAMD_GENERIC_D51X20", "samd", d, 1, before, 3);
    CHECK_EQ_U(lint(&b, 0), 0);
}

/* SPARKFUN_SAMD51_THING_PLUS in the same commit gets the same arithmetic (752K + 256K +
 * 16K of 1024K), but it sets MICROPY_HW_SPIFLASH: its filesystem is on the SPI flash and
 * the MCU flash has none (samd51x20a.ld says so). Nothing to report. */
static void samd_with_spi_flash_has_no_mcu_filesystem(void)
{
    struct romfs_flash_device d[] = { DEV("internal", 0, 1024 * K, true), DEV("spi", 0, 4 * M, false) };
    struct romfs_flash_area a[] = {
        AREA(ROMFS_AREA_BOOTLOADER, "internal", "UF2 bootloader", 0, 16 * K),
        AREA(ROMFS_AREA_FIRMWARE, "internal", "FLASH", 0x4000, 752 * K),
        ROM("internal", "romfs", 0, 0xC0000, 256 * K),
        FS("spi", "spiflash", "samd_spiflash", 0, 4 * M),
    };
    struct romfs_board b = board("SPARKFUN_SAMD51_THING_PLUS", "samd", d, 2, a, 4);
    CHECK_EQ_U(lint(&b, 0), 0);
}

/* ARDUINO_NANO_33_BLE_SENSE as MicroPython 610552010d ("nrf: Add support for VfsRom
 * filesystem") left it: memory.ld puts the application after the SoftDevice
 * (s140_6.1.1.ld: _sd_size 0x26000), then the ROMFS (nrf52840_1M_256k.ld: 256K), then the
 * 64K filesystem, at the end of the 1M flash: ROMFS 0xB0000..0xF0000. The board's
 * nano_bootloader.ld says `_flash_start = 0xe0000;` and its deploy.md that the Arduino
 * bootloader is relocated to the end of the flash: it starts at 0xE0000, inside the ROMFS
 * (its size is not in the tree; 4K here, the least it can be). Before that commit the same
 * bytes were only the tail of the application region (a warning). */
static void nano_33_ble_romfs_on_the_relocated_bootloader(void)
{
    struct romfs_flash_device d[] = { DEV("internal", 0, 1 * M, true) };
    struct romfs_flash_area after[] = {
        AREA(ROMFS_AREA_BOOTLOADER, "internal", "SoftDevice s140 6.1.1", 0, 0x26000),
        AREA(ROMFS_AREA_FIRMWARE, "internal", "FLASH_TEXT", 0x26000, 0x8A000),
        ROM("internal", "romfs0", 0, 0xB0000, 256 * K),
        AREA(ROMFS_AREA_BOOTLOADER, "internal", "Arduino bootloader", 0xE0000, 4 * K),
        FS("internal", "filesystem", "flashbdev", 0xF0000, 64 * K),
    };
    struct romfs_board b = board("ARDUINO_NANO_33_BLE_SENSE", "nrf", d, 1, after, 5);
    CHECK_EQ_U(lint(&b, 0), 1);
    const struct romfs_lint_finding *f = found("romfs-on-bootloader");
    CHECK(f && f->severity == ROMFS_LINT_ERROR && f->address == 0xE0000);
    struct romfs_flash_area before[] = {
        AREA(ROMFS_AREA_BOOTLOADER, "internal", "SoftDevice s140 6.1.1", 0, 0x26000),
        AREA(ROMFS_AREA_FIRMWARE, "internal", "FLASH_TEXT", 0x26000, 0xCA000),
        AREA(ROMFS_AREA_BOOTLOADER, "internal", "Arduino bootloader", 0xE0000, 4 * K),
        FS("internal", "filesystem", "flashbdev", 0xF0000, 64 * K),
    };
    b = board("ARDUINO_NANO_33_BLE_SENSE", "nrf", d, 1, before, 4);
    CHECK_EQ_U(lint(&b, 0), 1);
    CHECK(report.n_errors == 0 && found("firmware-on-bootloader"));
}

/* EK_RA4M1's 36 KiB filesystem (ra4m1_ek.ld FLASH_FS) is below the default floor: a
 * warning, gone when the floor is lower. */
static void a_small_filesystem_is_a_warning_with_a_floor(void)
{
    struct romfs_flash_device d[] = { DEV("internal", 0, 256 * K, true) };
    struct romfs_flash_area a[] = {
        AREA(ROMFS_AREA_FIRMWARE, "internal", "FLASH", 0, 0x34000),
        ROM("internal", "FLASH_ROMFS", 0, 0x34000, 0x3000),
        FS("internal", "FLASH_FS", "flashbdev", 0x37000, 0x9000),
    };
    struct romfs_board b = board("EK_RA4M1", "renesas-ra", d, 1, a, 3);
    CHECK_EQ_U(lint(&b, 0), 1);
    const struct romfs_lint_finding *f = found("fs-small");
    CHECK(f && f->severity == ROMFS_LINT_WARNING && report.n_errors == 0);
    CHECK_EQ_U(f->bytes, 36 * K);
    CHECK_EQ_U(lint(&b, 32 * K), 0);
    CHECK_EQ_U(lint(&b, 128 * K), 1);
}

/* ---- areas and their devices ---- */

/* WEACTSTUDIO_MINI_STM32H723 (MicroPython f6b148acde): weact_stm32h723.ld puts ROMFS at
 * 0x90000000 with LENGTH 8192K, while mpconfigboard.h sets
 * MICROPY_HW_OSPIFLASH_SIZE_BITS_LOG2 (23), which octospi.c turns into a 2^20-byte (1 MiB)
 * device: the C configuration and the linker script disagree by 7 MiB. */
static void area_past_the_end_of_its_device(void)
{
    struct romfs_flash_device d[] = { DEV("internal", 0x08000000, 1 * M, true), DEV("ospi", 0x90000000, 1 * M, true) };
    struct romfs_flash_area a[] = {
        AREA(ROMFS_AREA_FIRMWARE, "internal", "FLASH_APP", 0x08020000, 896 * K),
        ROM("ospi", "FLASH_ROMFS", 0, 0x90000000, 8 * M),
    };
    struct romfs_board b = board("WEACTSTUDIO_MINI_STM32H723", "stm32", d, 2, a, 2);
    CHECK_EQ_U(lint(&b, 0), 1);
    const struct romfs_lint_finding *f = found("past-device-end");
    CHECK(f && f->severity == ROMFS_LINT_ERROR);
    CHECK_EQ_U(f->address, 0x90100000);
    CHECK_EQ_U(f->bytes, 7 * M);
    CHECK(strcmp(f->source_b, "dev.h:1: ospi") == 0 && strcmp(f->source_a, "map.ld:2: FLASH_ROMFS") == 0);
    d[1].size = 8 * M;      /* LOG2 (26): the 64 Mbit chip the comment names */
    CHECK_EQ_U(lint(&b, 0), 0);
    d[1].size = 0;          /* a device of unknown size is not judged */
    CHECK_EQ_U(lint(&b, 0), 0);
    d[1].size = 8 * M;
    a[1].start = 0x8FFFF000;   /* starting before the device */
    a[1].size = 0x1000;
    CHECK_EQ_U(lint(&b, 0), 1);
    CHECK(found("past-device-end") && found("past-device-end")->address == 0x8FFFF000);
    /* LEGO_HUB_NO6 (stm32f413xg.ld): FLASH_APP at 0x08010000 with LENGTH 976K ends 16K past
       the 1024K FLASH: only a firmware larger than 960K reaches past it (a warning) */
    struct romfs_flash_device lego_dev[] = { DEV("internal", 0x08000000, 1 * M, true) };
    struct romfs_flash_area lego[] = { AREA(ROMFS_AREA_FIRMWARE, "internal", "FLASH_APP", 0x08010000, 976 * K) };
    b = board("LEGO_HUB_NO6", "stm32", lego_dev, 1, lego, 1);
    CHECK_EQ_U(lint(&b, 0), 1);
    f = found("past-device-end");
    CHECK(f && f->severity == ROMFS_LINT_WARNING && f->bytes == 16 * K);
    CHECK(strstr(f->message, "larger than 983040 bytes (960 KiB)"));
}

static void romfs_must_be_memory_mapped(void)
{
    struct romfs_flash_device d[] = { DEV("internal", 0x08000000, 1 * M, true), DEV("spi", 0, 4 * M, false) };
    struct romfs_flash_area a[] = {
        AREA(ROMFS_AREA_FIRMWARE, "internal", "FLASH_APP", 0x08000000, 1 * M),
        ROM("spi", "romfs", 0, 0x200000, 2 * M),
        FS("spi", "vfs", "spibdev", 0, 2 * M),
    };
    struct romfs_board b = board("SPI_ROMFS", "stm32", d, 2, a, 3);
    CHECK_EQ_U(lint(&b, 0), 1);
    const struct romfs_lint_finding *f = found("romfs-not-mmap");
    CHECK(f && f->severity == ROMFS_LINT_ERROR && strcmp(f->device, "spi") == 0);
    b.port = "esp32";       /* esp32 maps the partition when vfs.rom_ioctl hands it out */
    CHECK_EQ_U(lint(&b, 0), 0);
    b.port = "stm32";
    d[1].mmap = true;
    d[1].base = 0x90000000;
    a[1].start = 0x90200000;
    a[2].start = 0x90000000;
    CHECK_EQ_U(lint(&b, 0), 0);
    /* a mapped device, but the partition the linker symbols give says it is not mapped */
    struct romfs_partition p = { .index = 0, .start = 0x90200000, .size = 2 * M, .mmap = false,
                                 .source = "x.ld:1: _micropy_hw_romfs_part0_start" };
    b.partitions = &p;
    b.n_partitions = 1;
    CHECK_EQ_U(lint(&b, 0), 1);
    CHECK(found("romfs-not-mmap"));
    p.mmap = true;
    CHECK_EQ_U(lint(&b, 0), 0);
}

/* ---- one value, two sources ---- */

static void two_sources_that_differ(void)
{
    struct romfs_flash_device d[] = { DEV("internal", 0, 1 * M, true) };
    struct romfs_flash_area a[] = {
        AREA(ROMFS_AREA_FIRMWARE, "internal", "FLASH_TEXT", 0, 0x80000),
        ROM("internal", "FLASH_ROMFS", 0, 0x80000, 0x40000),
        FS("internal", "FLASH_FS", "flashbdev", 0xC0000, 0x40000),
    };
    struct romfs_partition p = { .index = 0, .start = 0x80000, .size = 0x40000, .erase_block = 4096,
                                 .write_block = 4, .mmap = true, .source = "x.ld:7: _micropy_hw_romfs_part0_start" };
    struct romfs_board b = board("TWO", "renesas-ra", d, 1, a, 3);
    b.partitions = &p;
    b.n_partitions = 1;
    b.fs_region = "FLASH_FS";
    b.fs_start = 0xC0000;
    b.fs_size = 0x40000;
    b.text_region = "FLASH_TEXT";
    b.text_start = 0;
    b.text_size = 0x80000;
    CHECK_EQ_U(lint(&b, 0), 0);
    p.size = 0x20000;       /* the linker symbols give another ROMFS than the map */
    CHECK_EQ_U(lint(&b, 0), 1);
    const struct romfs_lint_finding *f = found("sources-disagree");
    CHECK(f && strstr(f->message, "x.ld:7") && strstr(f->message, "map.ld:2: FLASH_ROMFS"));
    p.size = 0x40000;
    b.fs_size = 0x20000;    /* the linker region of the filesystem against the map */
    CHECK_EQ_U(lint(&b, 0), 1);
    CHECK(found("sources-disagree"));
    b.fs_size = 0x40000;
    b.text_size = 0x70000;  /* the firmware region */
    CHECK_EQ_U(lint(&b, 0), 1);
    CHECK(found("sources-disagree"));
    b.text_size = 0x80000;
    /* a firmware area that leaves the region's head to a bootloader area (rp2's boot2) agrees */
    a[0].start = 0x100;
    a[0].size = 0x80000 - 0x100;
    CHECK_EQ_U(lint(&b, 0), 0);
    a[0].start = 0;
    a[0].size = 0x80000;
    /* one block device's filesystem recorded twice (C define and linker region) */
    struct romfs_flash_area twice[] = {
        a[0], a[1], a[2], FS("internal", "storage", "flashbdev", 0xC0000, 0x30000),
    };
    b.areas = twice;
    b.n_areas = 4;
    CHECK_EQ_U(lint(&b, 0), 1);
    f = found("sources-disagree");
    CHECK(f && strstr(f->message, "mpconfigboard.h:3: FLASH_FS") && strstr(f->message, "mpconfigboard.h:3: storage"));
}

/* ---- boards.json ---- */

/* A filesystem of 0 bytes can be recorded (lint must see it); no other area can be empty. */
static void an_empty_filesystem_is_recorded(void)
{
    static const char text[] =
        "{\"schema\": 1, \"boards\": [{\"board\": \"S\", \"port\": \"samd\",\n"
        " \"devices\": [{\"name\": \"internal\", \"base\": \"0x0\", \"size\": \"0x100000\", \"mmap\": true}],\n"
        " \"map\": [{\"kind\": \"romfs\", \"device\": \"internal\", \"start\": \"0xC0000\", \"size\": \"0x40000\", "
        "\"index\": 0},\n  {\"kind\": \"fs\", \"device\": \"internal\", \"start\": \"0x100000\", \"size\": \"0x0\"}]}]}";
    struct romfs_boards db;
    struct romfs_error err;
    CHECK_EQ_U(romfs_boards_parse(text, strlen(text), "t", &db, &err), ROMFS_OK);
    CHECK_EQ_U(db.boards[0].n_areas, 2);
    CHECK_EQ_U(lint(&db.boards[0], 0), 1);
    CHECK(found("fs-no-room"));
    romfs_boards_free(&db);
    char bad[sizeof text];
    memcpy(bad, text, sizeof text);
    char *at = strstr(bad, "\"size\": \"0x40000\"");
    memcpy(at, "\"size\": \"0x00000\"", strlen("\"size\": \"0x00000\""));
    CHECK(romfs_boards_parse(bad, strlen(bad), "t", &db, &err) == ROMFS_ERR_CORRUPT);
    CHECK(strstr(err.msg, "empty"));
}

/* The view boards show draws: areas by start, free ranges, the span widened to an area
 * past the device. */
static void the_map_view(void)
{
    struct romfs_flash_device d[] = { DEV("internal", 0x08000000, 512 * K, true), DEV("spi", 0, 0, false) };
    struct romfs_flash_area a[] = {
        AREA(ROMFS_AREA_FIRMWARE, "internal", "FLASH_APP", 0x08008000, 448 * K),
        AREA(ROMFS_AREA_BOOTLOADER, "internal", "mboot", 0x08000000, 16 * K),
        FS("spi", "vfs", "spibdev", 0x1000, 0x2000),
    };
    struct romfs_board b = board("VIEW", "stm32", d, 2, a, 3);
    struct romfs_map_view v;
    struct romfs_error err;
    CHECK_EQ_U(romfs_board_map_view(&b, &v, &err), ROMFS_OK);
    CHECK_EQ_U(v.n, 2);
    CHECK_EQ_U(v.devices[0].n_areas, 2);
    CHECK(strcmp(v.devices[0].areas[0]->name, "mboot") == 0);
    CHECK_EQ_U(v.devices[0].n_free, 2);
    CHECK_EQ_U(v.devices[0].free[0].start, 0x08004000);
    CHECK_EQ_U(v.devices[0].free[0].size, 16 * K);
    CHECK_EQ_U(v.devices[0].free[1].start, 0x08078000);
    CHECK_EQ_U(v.devices[0].lo, 0x08000000);
    CHECK_EQ_U(v.devices[0].hi, 0x08080000);
    CHECK(!v.devices[1].size_known);
    CHECK_EQ_U(v.devices[1].n_free, 0);
    CHECK_EQ_U(v.devices[1].lo, 0x1000);
    CHECK_EQ_U(v.devices[1].hi, 0x3000);
    romfs_map_view_free(&v);
    a[0].size = 0x80000;    /* past the end: the span grows to show it */
    CHECK_EQ_U(romfs_board_map_view(&b, &v, &err), ROMFS_OK);
    CHECK_EQ_U(v.devices[0].hi, 0x08088000);
    CHECK_EQ_U(v.devices[0].n_free, 1);
    romfs_map_view_free(&v);
}

int main(void)
{
    RUN(good_map_is_quiet);
    RUN(romfs_on_the_filesystem_block_device);
    RUN(vk_ra6m5_romfs_into_the_filesystem);
    RUN(portenta_c33_firmware_on_the_bootloader);
    RUN(every_pair_of_kinds_is_checked);
    RUN(cores_may_share_one_romfs);
    RUN(a_bootloader_inside_another_is_one);
    RUN(samd_generic_d51x20_filesystem_squeezed_to_nothing);
    RUN(samd_with_spi_flash_has_no_mcu_filesystem);
    RUN(nano_33_ble_romfs_on_the_relocated_bootloader);
    RUN(a_small_filesystem_is_a_warning_with_a_floor);
    RUN(area_past_the_end_of_its_device);
    RUN(romfs_must_be_memory_mapped);
    RUN(two_sources_that_differ);
    RUN(an_empty_filesystem_is_recorded);
    RUN(the_map_view);
    romfs_lint_report_free(&report);
    UNIT_EXIT();
}
