/* boards/esp32.h: ESP-IDF partition tables (esp32 ports), as CSV source or as the
 * binary table flashed at 0x8000, and the ROMFS partition in them.
 *
 * MicroPython's esp32 port (ports/esp32/esp32_partition.c) mounts as ROMFS the first
 * partition of type `data` labelled "romfs", whatever its subtype; the tables it ships
 * (partitions-4MiB-romfs.csv) use subtype 0x8f. An image is written at that
 * partition's flash offset; the port reads it through esp_partition_mmap().
 *
 * Binary format (ESP-IDF): 32-byte little-endian entries {u16 magic 0x50AA (bytes AA 50), u8 type,
 * u8 subtype, u32 offset, u32 size, char label[16], u32 flags}; an optional MD5 entry
 * (0xEB 0xEB, 14 bytes 0xFF, the MD5 of every byte before it); an entry of all 0xFF ends
 * the table (at most 0xC00 bytes).
 * CSV format (gen_esp32part.py): "name, type, subtype, offset, size, flags" rows, '#'
 * comments, type/subtype by name or number, sizes with K/M suffixes, an empty offset
 * following the previous partition (data aligned to 4 KiB, app to 64 KiB, the first at
 * 0x9000). */
#ifndef ROMFS_BOARD_ESP32_H
#define ROMFS_BOARD_ESP32_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boards/db.h"
#include "base/error.h"

#define ROMFS_ESP32_TYPE_APP 0x00
#define ROMFS_ESP32_TYPE_DATA 0x01
#define ROMFS_ESP32_SUBTYPE_ROMFS 0x8f   /* what MicroPython's partitions-4MiB-romfs.csv uses */
#define ROMFS_ESP32_TABLE_MAX 0xC00      /* bytes reserved for the binary table */

struct romfs_esp32_part {
    char label[17];        /* NUL-terminated (16 significant bytes) */
    uint8_t type, subtype;
    uint32_t offset, size; /* flash offset and length in bytes */
    uint32_t flags;        /* bit 0 encrypted, bit 1 readonly */
    int line;              /* CSV line, or entry index (0-based) for a binary table */
};

struct romfs_esp32_table {
    struct romfs_esp32_part *parts; size_t n;
    bool binary;           /* read from the binary format */
    bool has_md5;          /* binary: an MD5 entry was present (and matched) */
};

/* Parse CSV text (len bytes; `what` names it in messages). *out is zeroed first; free
 * with romfs_esp32_table_free (also after an error). ROMFS_ERR_CORRUPT with
 * "what:line: ..." for a bad row, overlapping partitions, or misaligned offsets. */
int romfs_esp32_table_parse_csv(const char *text, size_t len, const char *what,
                                struct romfs_esp32_table *out, struct romfs_error *err);

/* Parse a binary table (data may be longer than the table, e.g. a whole flash dump
 * starting at the table). ROMFS_ERR_CORRUPT: bad magic, no terminator, MD5 mismatch
 * (the message names the entry). */
int romfs_esp32_table_parse_bin(const uint8_t *data, size_t len, const char *what,
                                struct romfs_esp32_table *out, struct romfs_error *err);

/* Read FILE and parse it as binary (first bytes AA 50, or EB EB for an
 * empty table's MD5 entry) or CSV. */
int romfs_esp32_table_load(const char *path, struct romfs_esp32_table *out, struct romfs_error *err);

/* The partition MicroPython mounts as ROMFS: type data, label "romfs". Fills *out
 * (index 0, start = flash offset, mmap false, erase_block 4096, write_block 4, device
 * "spi", source "WHAT:LINE: romfs partition (data, subtype 0x..)"); free its strings
 * with romfs_partition_clear. ROMFS_ERR_NOENT when the table has none. */
int romfs_esp32_table_romfs(const struct romfs_esp32_table *t, const char *what,
                            struct romfs_partition *out, struct romfs_error *err);

/* Free the strings of a partition filled by romfs_esp32_table_romfs and zero it. */
void romfs_partition_clear(struct romfs_partition *p);

void romfs_esp32_table_free(struct romfs_esp32_table *t);

#endif
