/* test_board_map.c: a board's flash map in boards.json: read, written back byte for
 * byte, refused when malformed, and its free space. */
#include "romfs.h"
#include "unit.h"

static const char map_json[] =
    "{\n  \"schema\": 1,\n  \"micropython\": {\"version\": \"v\"},\n  \"boards\": [\n"
    "    {\n"
    "      \"board\": \"B\", \"port\": \"stm32\", \"mcu\": \"STM32F722\",\n"
    "      \"flash\": {\"base\": \"0x08000000\", \"size\": \"0x00080000\", \"erase_block\": 131072, \"write_block\": 16},\n"
    "      \"romfs\": [\n"
    "        {\"index\": 0, \"start\": \"0x90100000\", \"size\": \"0x00100000\", \"erase_block\": 4096, \"write_block\": 4, "
    "\"mmap\": true, \"device\": \"qspi\", \"api\": \"memoryview\"}\n"
    "      ],\n"
    "      \"devices\": [\n"
    "        {\"name\": \"internal\", \"base\": \"0x08000000\", \"size\": \"0x00080000\", \"erase_block\": 131072, "
    "\"write_block\": 16, \"mmap\": true, \"source\": \"a.ld:3: FLASH\"},\n"
    "        {\"name\": \"qspi\", \"base\": \"0x90000000\", \"size\": \"0x00200000\", \"erase_block\": 4096, "
    "\"write_block\": 4, \"mmap\": true}\n"
    "      ],\n"
    "      \"map\": [\n"
    "        {\"kind\": \"bootloader\", \"device\": \"internal\", \"name\": \"mboot\", \"start\": \"0x08000000\", "
    "\"size\": \"0x00008000\"},\n"
    "        {\"kind\": \"firmware\", \"device\": \"internal\", \"name\": \"FLASH_APP\", \"start\": \"0x08008000\", "
    "\"size\": \"0x00070000\"},\n"
    "        {\"kind\": \"fs\", \"device\": \"qspi\", \"name\": \"vfs\", \"start\": \"0x90000000\", \"size\": "
    "\"0x00080000\", \"blockdev\": \"spibdev\", \"source\": \"mpconfigboard.h:40: MICROPY_HW_SPIFLASH_SIZE_BITS\"},\n"
    "        {\"kind\": \"romfs\", \"device\": \"qspi\", \"name\": \"romfs0\", \"start\": \"0x90100000\", \"size\": "
    "\"0x00100000\", \"index\": 0}\n"
    "      ],\n"
    "      \"config\": [\n"
    "        {\"name\": \"MICROPY_HW_SPIFLASH_SIZE_BITS\", \"value\": \"0x01000000\", \"source\": \"mpconfigboard.h:40\"}\n"
    "      ],\n"
    "      \"link\": \"-T boards/a.ld\",\n"
    "      \"dfu\": {\"usb\": \"0483:df11\", \"alt\": 0, \"kind\": \"system\", \"mboot\": {\"usb\": \"0483:df11\", "
    "\"layout\": \"@SPI Flash /0x90000000/64*32Kg\", \"source\": \"mpconfigboard.h:9: MBOOT_SPIFLASH2_LAYOUT\"}}\n"
    "    }\n  ]\n}\n";

static void map_round_trips(void)
{
    struct romfs_boards db;
    struct romfs_error err;
    CHECK_EQ_U(romfs_boards_parse(map_json, strlen(map_json), "t", &db, &err), ROMFS_OK);
    const struct romfs_board *b = &db.boards[0];
    CHECK_EQ_U(b->n_devices, 2);
    CHECK_EQ_U(b->n_areas, 4);
    CHECK(strcmp(b->partitions[0].api, "memoryview") == 0);
    CHECK(b->areas[2].kind == ROMFS_AREA_FS && strcmp(b->areas[2].blockdev, "spibdev") == 0);
    CHECK_EQ_U(b->areas[3].romfs_index, 0);
    CHECK_EQ_U(b->areas[0].romfs_index, (unsigned long long)-1);
    CHECK(strstr(b->mboot_layout, "64*32Kg") != NULL);
    CHECK_EQ_U(b->n_config, 1);
    CHECK_EQ_U(romfs_board_config(b, "MICROPY_HW_SPIFLASH_SIZE_BITS")->value, 0x01000000);
    CHECK(strcmp(b->config[0].source, "mpconfigboard.h:40") == 0);
    CHECK(strcmp(b->link, "-T boards/a.ld") == 0);
    char *again = romfs_boards_to_json(&db);
    CHECK(again != NULL);
    int same = strcmp(again, map_json) == 0;
    if (!same)
        printf("%s", again);
    free(again);
    romfs_boards_free(&db);
    CHECK(same);
}

static void free_space_is_what_no_area_covers(void)
{
    struct romfs_boards db;
    struct romfs_error err;
    CHECK_EQ_U(romfs_boards_parse(map_json, strlen(map_json), "t", &db, &err), ROMFS_OK);
    struct romfs_free_range r[4];
    size_t n = romfs_board_free_space(&db.boards[0], "internal", r, 4);
    CHECK_EQ_U(n, 1);
    CHECK_EQ_U(r[0].start, 0x08078000);
    CHECK_EQ_U(r[0].size, 0x8000);
    n = romfs_board_free_space(&db.boards[0], "qspi", r, 4);
    CHECK_EQ_U(n, 1);
    CHECK_EQ_U(r[0].start, 0x90080000);
    CHECK_EQ_U(r[0].size, 0x80000);
    CHECK_EQ_U(romfs_board_free_space(&db.boards[0], "spi", r, 4), 0);
    romfs_boards_free(&db);
}

/* Replace the first `from` in map_json by `to` and expect a refusal mentioning `says`. */
static int refused(const char *from, const char *to, const char *says)
{
    char text[sizeof map_json + 128];
    const char *at = strstr(map_json, from);
    if (!at)
        return 0;
    snprintf(text, sizeof text, "%.*s%s%s", (int)(at - map_json), map_json, to, at + strlen(from));
    struct romfs_boards db;
    struct romfs_error err;
    int rc = romfs_boards_parse(text, strlen(text), "t.json", &db, &err);
    if (rc == ROMFS_OK) {
        romfs_boards_free(&db);
        return 0;
    }
    if (!strstr(err.msg, says) || !strstr(err.msg, "board B")) {
        printf("    message: %s\n", err.msg);
        return 0;
    }
    return 1;
}

static void malformed_maps_are_refused(void)
{
    CHECK(refused("\"kind\": \"fs\"", "\"kind\": \"filesystem\"", "not one of"));
    CHECK(refused("\"device\": \"qspi\", \"name\": \"vfs\"", "\"device\": \"spi9\", \"name\": \"vfs\"",
                  "unknown device \"spi9\""));
    CHECK(refused(", \"index\": 0}\n      ],\n      \"config\"", "}\n      ],\n      \"config\"", "needs its \"index\""));
    CHECK(refused("\"size\": \"0x00008000\"", "\"size\": \"0x0\"", "empty"));
    CHECK(refused("{\"name\": \"qspi\"", "{\"name\": \"internal\"", "appears twice"));
    CHECK(refused("\"value\": \"0x01000000\", ", "", "value"));
}

int main(void)
{
    RUN(map_round_trips);
    RUN(free_space_is_what_no_area_covers);
    RUN(malformed_maps_are_refused);
    UNIT_EXIT();
}
