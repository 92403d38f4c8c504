/* out/product.h: one file for the whole product: a board's firmware and a ROMFS image
 * merged into one .hex, .uf2 or .dfu (`romfs convert IMAGE --board B --firmware FW`).
 *
 * The firmware comes from a raw binary (placed at the board's firmware start or a given
 * address) or from an Intel HEX, UF2, DfuSe or ELF file (their own addresses); the ROMFS
 * image goes at the board's partition. Refused, naming both ranges, before anything is
 * written: firmware on the ROMFS partition (its whole extent, not only the image's bytes),
 * on another partition, on a bootloader, filesystem or reserved area of the board's flash
 * map, or outside the board's flash (its flash devices; until the map records them, the
 * flash base and size, the flash MEMORY regions, the firmware's text region and the
 * partitions). */
#ifndef ROMFS_PRODUCT_H
#define ROMFS_PRODUCT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "out/outfile.h"
#include "out/segments.h"

struct romfs_board;

struct romfs_product_options {
    const struct romfs_board *board;  /* required */
    int partition;                    /* the ROMFS partition's index */
    const uint8_t *image;             /* the ROMFS image */
    size_t image_len;
    const char *firmware;             /* the firmware file */
    bool has_firmware_address;        /* place a raw binary at firmware_address, not at the */
    uint64_t firmware_address;        /* board's firmware start */
};

struct romfs_product {
    struct romfs_segments segs;       /* firmware pieces and the ROMFS image, by address */
    enum romfs_fw_format fw_format;   /* what the firmware file was read as */
    size_t fw_segments;               /* how many pieces the firmware has */
    uint64_t fw_bytes, fw_lo, fw_hi;  /* its bytes and its span */
    uint32_t fw_uf2_family;           /* a UF2 firmware's family id (0: none) */
    uint64_t romfs_address;           /* where the ROMFS image goes */
    uint64_t partition_size;
};

/* The board's firmware start: its text region's origin, else the first firmware area of
 * its flash map. false when it records neither. */
bool romfs_board_firmware_start(const struct romfs_board *b, uint64_t *start);

/* Read the firmware, place both, check (see above). *out is zeroed first; free it with
 * romfs_product_free, also after an error. ROMFS_ERR_INVAL for an overlap or a piece
 * outside the flash, ROMFS_ERR_FBIG when the image does not fit the partition,
 * ROMFS_ERR_NOENT for a missing partition or file, ROMFS_ERR_CORRUPT for a bad file. */
int romfs_product_build(const struct romfs_product_options *o, struct romfs_product *out,
                        struct romfs_error *err);

/* The UF2 family the product's file gets: p->uf2_family when uf2_family_given, else the
 * UF2 firmware's own family, else the board's (p->has_uf2_family). false: none known. */
bool romfs_product_uf2_family(const struct romfs_product *prod, const struct romfs_placement *p, uint32_t *family);

/* Write every requested output (.dfu with p's VID:PID and alt, .uf2, .hex; a .bin cannot
 * hold pieces at separate addresses and is refused), all or nothing. */
int romfs_write_product_outfiles(const struct romfs_product *prod, const struct romfs_placement *p,
                                 const struct romfs_outfile_paths *paths, struct romfs_error *err);

void romfs_product_free(struct romfs_product *prod);

#endif
