/* out/outfile.h: an image placed at an address, as files other flashing tools take.
 *
 *  - DfuSe .dfu (ST UM0391): prefix "DfuSe", one target prefix "Target" (alt setting,
 *    name), one image element (address, size, bytes), DFU suffix (bcdDevice 0xffff,
 *    idProduct, idVendor, bcdDFU 0x011a, "UFD", length 16, CRC32 of all bytes before
 *    it). Accepted by dfu-util -D, dfu-suffix --check, dfu-prefix --check, STM32CubeProgrammer.
 *  - UF2 (Microsoft's format): 512-byte blocks, magic 0x0A324655 / 0x9E5D5157 / 0x0AB16F30,
 *    256-byte payloads at consecutive addresses, flag 0x2000 with the family id.
 *  - Intel HEX: 16-byte data records, type 04 extended linear address records whenever
 *    the upper 16 address bits change, type 01 end of file.
 *
 * The builders fill a malloc'd buffer (*out, *out_len; free() it). The writers write
 * path atomically: a temporary file in the same directory renamed into place, so a
 * failure leaves no partial output. */
#ifndef ROMFS_OUTFILE_H
#define ROMFS_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/file.h"
#include "out/segments.h"

#define ROMFS_UF2_MAGIC_START0 0x0A324655u
#define ROMFS_UF2_MAGIC_START1 0x9E5D5157u
#define ROMFS_UF2_MAGIC_END 0x0AB16F30u
#define ROMFS_UF2_FLAG_FAMILY 0x00002000u
#define ROMFS_UF2_PAYLOAD 256

struct romfs_dfu_file_options {
    uint32_t address;      /* where the image goes (the partition's start) */
    uint16_t vid, pid;     /* the device the file is for (suffix idVendor/idProduct);
                              0xffff matches any */
    uint8_t alt;           /* target's alternate setting (0: internal flash) */
    const char *target_name; /* NULL: "ST..." as ST's tools write */
};

/* A DfuSe file holding image[0..len) at o->address. ROMFS_ERR_RANGE if it passes 4 GiB. */
int romfs_dfu_file_build(const uint8_t *image, size_t len, const struct romfs_dfu_file_options *o,
                         uint8_t **out, size_t *out_len, struct romfs_error *err);
int romfs_write_dfu_file(const uint8_t *image, size_t len, const struct romfs_dfu_file_options *o,
                         const char *path, struct romfs_error *err);

/* The DFU suffix CRC: CRC-32 (zlib's polynomial) without the final inversion. */
uint32_t romfs_dfu_crc(const uint8_t *data, size_t len);

/* UF2 blocks for image[0..len) at address (a multiple of 256) with family_id; the last
 * payload is padded with 0xff (erased flash). */
int romfs_uf2_build(const uint8_t *image, size_t len, uint32_t address, uint32_t family_id,
                    uint8_t **out, size_t *out_len, struct romfs_error *err);
int romfs_write_uf2_file(const uint8_t *image, size_t len, uint32_t address, uint32_t family_id,
                         const char *path, struct romfs_error *err);

/* A UF2 family id by name ("rp2040", "rp2350", "rp2350-arm-s", "rp2350-riscv", "samd21",
 * "samd51", "nrf52840", "absolute", "data", or a number like 0xe48bff56) or by MCU name
 * from boards.json ("RP2040", "SAMD51J19A", "NRF52840", ...). "rp2350" is the absolute
 * family 0xe48bff57 (data written at its address, not a boot image). ROMFS_ERR_NOENT if
 * unknown. */
int romfs_uf2_family(const char *name, uint32_t *family_id, struct romfs_error *err);

/* Intel HEX for image[0..len) at address. */
int romfs_ihex_build(const uint8_t *image, size_t len, uint32_t address, uint8_t **out,
                     size_t *out_len, struct romfs_error *err);
int romfs_write_ihex_file(const uint8_t *image, size_t len, uint32_t address, const char *path,
                          struct romfs_error *err);

/* ---- several segments (firmware and ROMFS in one file), and reading them back -------- */

/* The same formats for every segment of segs (sorted by address, not overlapping): Intel
 * HEX records in address order; UF2 blocks for each 256-byte page any segment touches
 * (bytes no segment covers are 0xff, erased flash), all with family_id, numbered in one
 * sequence; a DfuSe file with one target (o->alt) holding one element per segment
 * (o->address unused). */
int romfs_ihex_build_segments(const struct romfs_segments *segs, uint8_t **out, size_t *out_len,
                              struct romfs_error *err);
int romfs_uf2_build_segments(const struct romfs_segments *segs, uint32_t family_id, uint8_t **out,
                             size_t *out_len, struct romfs_error *err);
int romfs_dfu_file_build_segments(const struct romfs_segments *segs, const struct romfs_dfu_file_options *o,
                                  uint8_t **out, size_t *out_len, struct romfs_error *err);

/* Readers, appending what a file holds to out; `what` names it in messages and segments.
 * Intel HEX: types 00 (data), 01 (end, required), 02 and 04 (address bases), 03 and 05
 * (start addresses, ignored), every checksum checked. UF2: every block's magic numbers,
 * payloads of at most 476 bytes at their addresses with their family id; "not main flash"
 * blocks skipped, file-container blocks refused. DfuSe: prefix, every target and element
 * within its sizes, suffix "UFD" and its CRC; elements of every target. ROMFS_ERR_CORRUPT
 * names the line, block or offset. */
int romfs_ihex_parse(const uint8_t *text, size_t len, const char *what, struct romfs_segments *out,
                     struct romfs_error *err);
int romfs_uf2_parse(const uint8_t *data, size_t len, const char *what, struct romfs_segments *out,
                    struct romfs_error *err);
int romfs_dfu_file_parse(const uint8_t *data, size_t len, const char *what, struct romfs_segments *out,
                         struct romfs_error *err);

/* ---- where the image goes, and all outputs at once (convert, pack) ------------------ */

struct romfs_board;

struct romfs_placement {
    uint64_t address;        /* partition start */
    uint64_t size;           /* partition size; 0 = unknown (no size check) */
    uint16_t vid, pid;       /* DFU device for the .dfu suffix (0xffff:0xffff = any) */
    uint8_t alt;             /* DFU alternate setting */
    uint32_t uf2_family;     /* valid when has_uf2_family */
    bool has_uf2_family;
    bool uf2_family_given;   /* the family was asked for (not the board's): it wins over a
                                UF2 firmware's own (out/product.h) */
    char what[96];           /* "board PYBD_SF2 partition 0" or "address 0x08020000": messages */
};

/* Placement from a boards.json entry and partition index: address and size from the
 * partition, VID:PID and alt from "dfu" (else 0483:df11 alt 0), the UF2 family from "uf2"
 * (else from the MCU name when it is a UF2 family). ROMFS_ERR_NOENT when the board has no
 * such partition (the message says to use --address). */
int romfs_placement_from_board(const struct romfs_board *b, int partition,
                               struct romfs_placement *out, struct romfs_error *err);

/* romfs_placement_from_board for a board named in a database: db_path NULL means
 * $ROMFS_BOARDS or the built-in boards.json. ROMFS_ERR_NOENT for an unknown board. */
int romfs_placement_for_board_name(const char *db_path, const char *board, int partition,
                                   struct romfs_placement *out, struct romfs_error *err);

/* Placement at an explicit address: DFU id 0483:df11 alt 0, no UF2 family, no size. */
void romfs_placement_at(uint64_t address, struct romfs_placement *out);

/* Output paths (NULL: not wanted). */
struct romfs_outfile_paths {
    const char *dfu, *uf2, *hex, *bin;
};

/* Write every requested output of image[0..len) placed at p, all or nothing. Checks
 * first (image fits the partition, address fits 32 bits, a UF2 family is known when
 * .uf2 is asked for), so a bad request writes nothing, and a failed write (a full
 * disk) replaces none of the files. */
int romfs_write_outfiles(const uint8_t *image, size_t len, const struct romfs_placement *p,
                         const struct romfs_outfile_paths *paths, struct romfs_error *err);

/* The same checks and files, staged into set (base/file.h) for the caller to commit
 * together with its own outputs (pack: the image and its manifest). */
int romfs_stage_outfiles(const uint8_t *image, size_t len, const struct romfs_placement *p,
                         const struct romfs_outfile_paths *paths, struct romfs_output_set *set,
                         struct romfs_error *err);


#endif
