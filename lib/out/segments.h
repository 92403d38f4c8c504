/* out/segments.h: a flash image as (address, bytes) segments: what a firmware file holds
 * (.bin at a given address; Intel HEX, UF2, DfuSe and ELF files at their own addresses),
 * to be merged with a ROMFS image and written as one .hex/.uf2/.dfu (out/product.h).
 *
 * The readers live beside the writers of the same format (ihex.c, uf2.c, dfufile.c;
 * declared in out/outfile.h), because each format's constants and rules belong in one
 * place; ELF goes through ld/elf.c (libelf). They are here in out/, not in image/, because
 * image/ is about ROMFS images and these are the programmer-file formats out/ writes. */
#ifndef ROMFS_SEGMENTS_H
#define ROMFS_SEGMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

struct romfs_segment {
    uint64_t address;      /* where the first byte goes */
    uint8_t *data;         /* owned */
    size_t size;           /* > 0 */
    size_t cap;            /* allocated bytes of data */
    uint32_t uf2_family;   /* from a UF2 input: the family id its blocks carry; 0: none */
    char what[96];         /* for messages: "fw.elf .text", "fw.hex", "ROMFS image" */
};

struct romfs_segments {
    struct romfs_segment *v;
    size_t n;
};

/* Append size bytes at address (copied). When the last segment has the same `what` and
 * family and ends exactly at address, it grows instead (contiguous records of one file
 * become one segment). size 0 adds nothing. ROMFS_ERR_RANGE past 2^64, NOMEM. */
int romfs_segments_add(struct romfs_segments *s, uint64_t address, const uint8_t *data, size_t size,
                       uint32_t uf2_family, const char *what, struct romfs_error *err);

/* Sort by address (stable for equal addresses). */
void romfs_segments_sort(struct romfs_segments *s);

/* ROMFS_ERR_INVAL naming both when two segments share a byte: "fw.elf .text
 * 0x08008000..0x08020000 overlaps ROMFS image 0x08010000..0x08012000". s sorted. */
int romfs_segments_check_overlap(const struct romfs_segments *s, struct romfs_error *err);

/* Lowest address and highest end; false when empty. */
bool romfs_segments_span(const struct romfs_segments *s, uint64_t *lo, uint64_t *hi);

/* Total bytes. */
uint64_t romfs_segments_bytes(const struct romfs_segments *s);

void romfs_segments_free(struct romfs_segments *s);

/* The firmware file formats. */
enum romfs_fw_format { ROMFS_FW_BIN, ROMFS_FW_IHEX, ROMFS_FW_UF2, ROMFS_FW_DFU, ROMFS_FW_ELF };

/* "raw binary", "Intel HEX", "UF2", "DfuSe", "ELF". */
const char *romfs_fw_format_name(enum romfs_fw_format f);

/* A file's format by its content (ELF magic, "DfuSe" prefix, UF2 magic numbers, an Intel
 * HEX record), else by its name's extension (.hex/.ihex, .uf2, .dfu, .elf/.axf), else raw. */
enum romfs_fw_format romfs_fw_format_of(const char *path, const uint8_t *data, size_t len);

/* Read a firmware file into out: a raw binary at bin_address (has_bin_address false:
 * ROMFS_ERR_INVAL with need ROMFS_NEED_ADDRESS), the other formats at the addresses they
 * carry. *format (may be NULL) receives what it was read as. Errors name the file and the
 * offset or record. */
int romfs_segments_read_file(const char *path, bool has_bin_address, uint64_t bin_address,
                             struct romfs_segments *out, enum romfs_fw_format *format, struct romfs_error *err);

#endif
