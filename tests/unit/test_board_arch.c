/* test_board_arch.c: every board in boards.json gets an mpy-cross -march that mpy-cross
 * accepts (or the table says it cannot tell), with known boards checked one by one. */
#include "romfs.h"
#include "unit.h"

static const char *const mpy_cross_archs[] = {
    "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp",
    "xtensa", "xtensawin", "rv32imc", "rv64imc", NULL,
};

static struct romfs_boards db;

static int accepted_by_mpy_cross(const char *arch)
{
    for (size_t i = 0; mpy_cross_archs[i]; i++)
        if (strcmp(arch, mpy_cross_archs[i]) == 0)
            return 1;
    return 0;
}

static void every_board_has_an_arch(void)
{
    CHECK(db.n > 100);
    size_t known = 0;
    for (size_t i = 0; i < db.n; i++) {
        const struct romfs_board *b = &db.boards[i];
        const char *arch = romfs_board_mpy_arch(b);
        if (!arch && strcmp(b->name, "POWERNV9") == 0) {
            known++; /* ppc64: its mpconfigboard.mk passes mpy-cross no -march */
            continue;
        }
        if (!arch) {
            printf("    %s (port %s, mcu %s): no architecture\n", b->name, b->port, b->mcu);
            continue;
        }
        if (!accepted_by_mpy_cross(arch))
            printf("    %s: '%s' is not an mpy-cross -march value\n", b->name, arch);
        CHECK(accepted_by_mpy_cross(arch));
        known++;
    }
    CHECK_EQ_U(known, db.n);   /* boards.json has no board the table cannot place */
}

static void known_boards(void)
{
    static const struct { const char *board, *arch; } want[] = {
        { "PYBD_SF2", "armv7emsp" },                 /* STM32F722: M7, fpv4-sp-d16 build */
        { "WEACTSTUDIO_MINI_STM32H743", "armv7emdp" }, /* H743: fpv5-d16 build */
        { "WEACTSTUDIO_MINI_STM32H723", "armv7emsp" }, /* H723: built single precision */
        { "OPENMV_N6", "armv7emdp" },
        { "ARDUINO_NANO_33_BLE_SENSE", "armv7emsp" },  /* nRF52840: M4F */
        { "ADAFRUIT_ITSYBITSY_M4_EXPRESS", "armv7emsp" },
        { "ADAFRUIT_FEATHER_M0_EXPRESS", "armv6m" },   /* SAMD21: M0+ */
        { "RPI_PICO", "armv6m" },
        { "RPI_PICO2", "armv7m" },
        { "ESP8266_GENERIC-FLASH_2M_ROMFS", "xtensa" },
        { "ESP32_GENERIC_S3", "xtensawin" },
        { "ESP32_GENERIC_C3", "rv32imc" },
        { "MIMXRT1060_EVK", "armv7emsp" },
        { "MPS2_AN385", "armv7m" },
        { "VIRT_RV64", "rv64imc" },
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        const struct romfs_board *b = romfs_boards_find(&db, want[i].board);
        if (!b)
            printf("    %s not in boards.json\n", want[i].board);
        CHECK(b);
        const char *arch = romfs_board_mpy_arch(b);
        if (!arch || strcmp(arch, want[i].arch) != 0)
            printf("    %s: %s, expected %s\n", want[i].board, arch ? arch : "NULL", want[i].arch);
        CHECK(arch && strcmp(arch, want[i].arch) == 0);
    }
}

static void unknown_port_or_mcu_says_so(void)
{
    struct romfs_board b = { .name = "X", .port = "zephyr", .mcu = "NRF52840" };
    CHECK(romfs_board_mpy_arch(&b) == NULL);
    struct romfs_board c = { .name = "Y", .port = "stm32", .mcu = NULL };
    CHECK(romfs_board_mpy_arch(&c) == NULL);
    struct romfs_board d = { .name = "Z", .port = "qemu", .mcu = "virt" };
    CHECK(romfs_board_mpy_arch(&d) == NULL);
}

static void thumb_devices_import_older_thumb_code(void)
{
    CHECK(romfs_mpy_arch_compatible("armv6m", "armv7emsp"));
    CHECK(romfs_mpy_arch_compatible("armv7m", "armv7emsp"));
    CHECK(romfs_mpy_arch_compatible("armv7emsp", "armv7emdp"));
    CHECK(!romfs_mpy_arch_compatible("armv7emdp", "armv7emsp"));
    CHECK(!romfs_mpy_arch_compatible("armv7m", "armv6m"));
    CHECK(!romfs_mpy_arch_compatible("armv6", "armv7emdp"));     /* ARM, not Thumb */
    CHECK(!romfs_mpy_arch_compatible("xtensa", "xtensawin"));
    CHECK(romfs_mpy_arch_compatible("rv32imc", "rv32imc"));
    CHECK(!romfs_mpy_arch_compatible("bogus", "bogus"));
}

int main(void)
{
    struct romfs_error err;
    if (romfs_boards_load(NULL, &db, &err) != ROMFS_OK) {
        printf("FAIL boards_load: %s\n", err.msg);
        return 1;
    }
    RUN(every_board_has_an_arch);
    RUN(known_boards);
    RUN(unknown_port_or_mcu_says_so);
    RUN(thumb_devices_import_older_thumb_code);
    romfs_boards_free(&db);
    UNIT_EXIT();
}
