/* test_board_esp32.c: ESP-IDF partition tables, CSV and binary, and the romfs
 * partition MicroPython's esp32 port mounts (type data, label "romfs"). The binary
 * tables are built here byte by byte as ESP-IDF lays them out, with the MD5 entry
 * computed by mbedTLS. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <stdlib.h>

#include <mbedtls/md5.h>

#include "boards/esp32.h"
#include "unit.h"

/* the rows of MicroPython's partitions-4MiB-romfs.csv at 1c3c201, plus a fat "vfs" row */
static const char csv_4mib_romfs[] =
    "# Name,   Type, SubType, Offset,  Size, Flags\n"
    "nvs,      data, nvs,     0x9000,  0x6000,\n"
    "phy_init, data, phy,     0xf000,  0x1000,\n"
    "factory,  app,  factory, 0x10000, 0x1D0000,\n"
    "romfs,    data, 0x8f,    0x1E0000, 0x20000,\n"
    "vfs,      data, fat,     0x200000, 0x200000,\n";

static void put_entry(uint8_t *e, uint8_t type, uint8_t subtype, uint32_t off, uint32_t size, const char *label,
                      uint32_t flags)
{
    memset(e, 0, 32);
    e[0] = 0xAA; e[1] = 0x50; /* ESP-IDF's MAGIC_BYTES: 0x50AA little-endian */
    e[2] = type; e[3] = subtype;
    for (int i = 0; i < 4; i++) {
        e[4 + i] = (uint8_t)(off >> (8 * i));
        e[8 + i] = (uint8_t)(size >> (8 * i));
        e[28 + i] = (uint8_t)(flags >> (8 * i));
    }
    strncpy((char *)e + 12, label, 16);
}

/* nvs, factory, romfs (subtype 0x8f at 0x1E0000+128K), vfs; MD5 entry; terminator */
static size_t build_bin(uint8_t *t, bool with_md5)
{
    memset(t, 0xFF, ROMFS_ESP32_TABLE_MAX);
    put_entry(t + 0, 1, 0x02, 0x9000, 0x6000, "nvs", 0);
    put_entry(t + 32, 0, 0x00, 0x10000, 0x1D0000, "factory", 0);
    put_entry(t + 64, 1, 0x8f, 0x1E0000, 0x20000, "romfs", 0);
    put_entry(t + 96, 1, 0x81, 0x200000, 0x200000, "vfs", 2);
    size_t n = 128;
    if (with_md5) {
        t[n] = 0xEB; t[n + 1] = 0xEB;      /* bytes 2..15 stay 0xFF */
        mbedtls_md5_ret(t, n, t + n + 16);
        n += 32;
    }
    return n;
}

static void csv_romfs_partition(void)
{
    struct romfs_esp32_table t;
    struct romfs_error err = {0};
    CHECK(romfs_esp32_table_parse_csv(csv_4mib_romfs, strlen(csv_4mib_romfs), "p.csv", &t, &err) == ROMFS_OK);
    CHECK_EQ_U(t.n, 5);
    CHECK_EQ_U(t.parts[2].type, ROMFS_ESP32_TYPE_APP);
    CHECK_EQ_U(t.parts[2].size, 0x1D0000);
    CHECK_EQ_U(t.parts[4].subtype, 0x81);
    struct romfs_partition p;
    CHECK(romfs_esp32_table_romfs(&t, "p.csv", &p, &err) == ROMFS_OK);
    CHECK_EQ_U(p.start, 0x1E0000);
    CHECK_EQ_U(p.size, 0x20000);
    CHECK_EQ_U(p.erase_block, 4096);
    CHECK(!p.mmap);
    CHECK(strstr(p.source, "p.csv:5:") && strstr(p.source, "0x8f"));
    romfs_partition_clear(&p);
    romfs_esp32_table_free(&t);
}

static void csv_empty_offsets_and_suffixes(void)
{
    /* offsets follow the previous partition: data to 4K, app to 64K, first at 0x9000 */
    const char *csv = "nvs, data, nvs, , 24K\n"
                      "phy_init, data, phy, , 4K\n"
                      "factory, app, factory, , 1M\n"
                      "romfs, data, 0x8f, , 64K\n"
                      "ota_1, app, ota_1, , 1M\n";
    struct romfs_esp32_table t;
    struct romfs_error err = {0};
    CHECK(romfs_esp32_table_parse_csv(csv, strlen(csv), "e.csv", &t, &err) == ROMFS_OK);
    CHECK_EQ_U(t.parts[0].offset, 0x9000);
    CHECK_EQ_U(t.parts[1].offset, 0xf000);
    CHECK_EQ_U(t.parts[2].offset, 0x10000);
    CHECK_EQ_U(t.parts[3].offset, 0x110000);
    CHECK_EQ_U(t.parts[3].size, 0x10000);
    CHECK_EQ_U(t.parts[4].offset, 0x120000);
    CHECK_EQ_U(t.parts[4].subtype, 0x11);
    romfs_esp32_table_free(&t);
}

static void csv_errors_name_the_line(void)
{
    struct romfs_esp32_table t;
    struct romfs_error err = {0};
    const char *overlap = "a, data, nvs, 0x9000, 0x6000\nromfs, data, 0x8f, 0xe000, 0x2000\n";
    CHECK(romfs_esp32_table_parse_csv(overlap, strlen(overlap), "o.csv", &t, &err) == ROMFS_ERR_CORRUPT);
    CHECK(strstr(err.msg, "o.csv:2:") && strstr(err.msg, "overlaps"));
    romfs_esp32_table_free(&t);
    const char *badtype = "a, dta, nvs, 0x9000, 0x6000\n";
    CHECK(romfs_esp32_table_parse_csv(badtype, strlen(badtype), "b.csv", &t, &err) == ROMFS_ERR_CORRUPT);
    CHECK(strstr(err.msg, "b.csv:1:"));
    romfs_esp32_table_free(&t);
    const char *misaligned = "factory, app, factory, 0x18000, 1M\n";
    CHECK(romfs_esp32_table_parse_csv(misaligned, strlen(misaligned), "m.csv", &t, &err) == ROMFS_ERR_CORRUPT);
    romfs_esp32_table_free(&t);
    const char *none = "nvs, data, nvs, 0x9000, 0x6000\nromfs, app, factory, 0x10000, 1M\n";
    CHECK(romfs_esp32_table_parse_csv(none, strlen(none), "n.csv", &t, &err) == ROMFS_OK);
    struct romfs_partition p;
    CHECK(romfs_esp32_table_romfs(&t, "n.csv", &p, &err) == ROMFS_ERR_NOENT); /* "romfs" but an app */
    romfs_esp32_table_free(&t);
}

static void binary_table_with_md5(void)
{
    uint8_t bin[ROMFS_ESP32_TABLE_MAX];
    build_bin(bin, true);
    struct romfs_esp32_table t;
    struct romfs_error err = {0};
    CHECK(romfs_esp32_table_parse_bin(bin, sizeof bin, "pt.bin", &t, &err) == ROMFS_OK);
    CHECK(t.has_md5 && t.binary);
    CHECK_EQ_U(t.n, 4);
    CHECK(!strcmp(t.parts[3].label, "vfs"));
    CHECK_EQ_U(t.parts[3].flags, 2);
    struct romfs_partition p;
    CHECK(romfs_esp32_table_romfs(&t, "pt.bin", &p, &err) == ROMFS_OK);
    CHECK_EQ_U(p.start, 0x1E0000);
    CHECK_EQ_U(p.size, 0x20000);
    CHECK(strstr(p.source, "entry 2"));
    romfs_partition_clear(&p);
    romfs_esp32_table_free(&t);
    /* without an MD5 entry (older ESP-IDF) it still reads */
    build_bin(bin, false);
    CHECK(romfs_esp32_table_parse_bin(bin, sizeof bin, "pt.bin", &t, &err) == ROMFS_OK);
    CHECK(!t.has_md5);
    romfs_esp32_table_free(&t);
}

static void binary_table_corruption(void)
{
    uint8_t bin[ROMFS_ESP32_TABLE_MAX];
    struct romfs_esp32_table t;
    struct romfs_error err = {0};
    build_bin(bin, true);
    bin[64 + 5] ^= 0x01; /* romfs offset changed: the MD5 no longer matches */
    CHECK(romfs_esp32_table_parse_bin(bin, sizeof bin, "pt.bin", &t, &err) == ROMFS_ERR_CORRUPT);
    CHECK(strstr(err.msg, "MD5"));
    romfs_esp32_table_free(&t);
    build_bin(bin, true);
    bin[33] = 0xAB; /* bad magic in entry 1 */
    CHECK(romfs_esp32_table_parse_bin(bin, sizeof bin, "pt.bin", &t, &err) == ROMFS_ERR_CORRUPT);
    CHECK(strstr(err.msg, "entry 1"));
    romfs_esp32_table_free(&t);
    build_bin(bin, true);
    CHECK(romfs_esp32_table_parse_bin(bin, 128, "pt.bin", &t, &err) == ROMFS_ERR_CORRUPT); /* truncated */
    romfs_esp32_table_free(&t);
}

static void load_detects_format(void)
{
    char dir[] = "/tmp/romfs-esp32-XXXXXX", path[64];
    CHECK(mkdtemp(dir));
    uint8_t bin[ROMFS_ESP32_TABLE_MAX];
    build_bin(bin, true);
    snprintf(path, sizeof path, "%s/pt.bin", dir);
    FILE *f = fopen(path, "wb");
    CHECK(f);
    fwrite(bin, 1, sizeof bin, f);
    fclose(f);
    struct romfs_esp32_table t;
    struct romfs_error err = {0};
    CHECK(romfs_esp32_table_load(path, &t, &err) == ROMFS_OK);
    CHECK(t.binary && t.n == 4);
    romfs_esp32_table_free(&t);
    remove(path);
    snprintf(path, sizeof path, "%s/p.csv", dir);
    f = fopen(path, "w");
    CHECK(f);
    fputs(csv_4mib_romfs, f);
    fclose(f);
    CHECK(romfs_esp32_table_load(path, &t, &err) == ROMFS_OK);
    CHECK(!t.binary && t.n == 5);
    romfs_esp32_table_free(&t);
    remove(path);
    rmdir(dir);
}

int main(void)
{
    RUN(csv_romfs_partition);
    RUN(csv_empty_offsets_and_suffixes);
    RUN(csv_errors_name_the_line);
    RUN(binary_table_with_md5);
    RUN(binary_table_corruption);
    RUN(load_detects_format);
    UNIT_EXIT();
}
