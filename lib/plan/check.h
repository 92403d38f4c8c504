/* plan/check.h: checking a ROMFS image against a board's ROMFS partition.
 *
 * A target is one partition: its start, size, erase and write granularity and whether
 * it is memory-mapped, taken from boards.json, a firmware ELF's symbols or linker
 * scripts. romfs_check_image() runs every check on an image in memory and records each
 * outcome; romfs_check_add_to_report() turns the outcome into a report suite.
 *
 * The checks (names as they appear in reports):
 *   structure  the image is one valid ROMFS filesystem record (romfs_image_verify).
 *   fits       the bytes to write (the whole buffer, including any padding after the
 *              image record) fit the partition; reports usage in bytes and percent.
 *   erase      erasing for the write stays inside the partition: the partition start is
 *              on an erase-block boundary and the image end, rounded up to the erase
 *              block that contains it (non-uniform sector maps honoured), is not past the
 *              partition end.
 *   write      the partition start is a multiple of the write (program) unit and the
 *              image rounded up to whole write units fits.
 *   alignment  every non-empty file keeps, at its absolute address (partition start +
 *              data offset), the alignment the image asked for. Rule: the alignment a
 *              file asked for is the largest power of two dividing its data offset in
 *              the image, capped at align_cap (default 4096); it is kept when the
 *              absolute address is a multiple of it. This fails exactly when the
 *              partition start is less aligned than a file's data inside the image.
 *   mmap       the partition is memory-mapped (MicroPython's VfsRom takes a buffer and
 *              uses file data in place; extmod/vfs_rom.c).
 * A check whose inputs are unknown (e.g. no erase block from an ELF-only target) is
 * skipped, never passed; erase and write are skipped when the image does not fit. */
#ifndef ROMFS_CHECK_H
#define ROMFS_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boards/db.h"
#include "base/error.h"
#include "ld/ldscript.h"
#include "plan/report.h"

#define ROMFS_CHECK_DEFAULT_ALIGN_CAP 4096

/* One partition to check against. */
struct romfs_check_target {
    char board[128];        /* board name or other label, e.g. "PYBD_SF2", "firmware.elf" */
    int index;              /* partition index (part0, part1) */
    uint64_t start;         /* absolute address (or device offset when mmap == 0) */
    uint64_t size;          /* bytes */
    uint32_t erase_block;   /* bytes; 0 = unknown (erase check skipped) */
    uint32_t write_block;   /* bytes; 0 = unknown (write check skipped) */
    int mmap;               /* 1 memory-mapped at start, 2 mapped by the port at run time
                               with start a flash offset (esp32: esp_partition_mmap() maps
                               64K MMU pages, so offsets keep their alignment), 0 not
                               mapped, -1 unknown */
    const struct romfs_erase_range *erase_map; size_t n_erase_map;  /* borrowed; non-uniform
                               sectors (absolute addresses), or NULL: erase_block everywhere */
    char source[512];       /* where start/size came from, for messages */
    char core[32];          /* multi-core boards: the core whose build has it, or "" */
};

enum romfs_check_id {
    ROMFS_CHECK_STRUCTURE,
    ROMFS_CHECK_FITS,
    ROMFS_CHECK_ERASE,
    ROMFS_CHECK_WRITE,
    ROMFS_CHECK_ALIGNMENT,
    ROMFS_CHECK_MMAP,
    ROMFS_CHECK_COUNT
};

struct romfs_check_options {
    uint32_t align_cap;     /* largest alignment inferred from an offset; 0 = 4096 */
    size_t max_listed;      /* misaligned files named in the detail; 0 = 20 */
};

struct romfs_check_item {
    enum romfs_report_status status;
    char message[512];
};

struct romfs_check_result {
    struct romfs_check_target target;
    struct romfs_check_item items[ROMFS_CHECK_COUNT];
    uint64_t write_size;     /* bytes that would be written (the buffer length) */
    uint64_t image_size;     /* the image record (0 if unreadable) */
    uint64_t files;          /* files in the image (when structure passed) */
    uint64_t free_bytes;     /* partition bytes left after write_size (0 if it does not fit) */
    double used_percent;     /* write_size / partition size * 100 */
    uint64_t erase_end;      /* absolute end of the erased range (0 if erase unknown) */
    uint64_t max_asked_align;/* strongest alignment any file asked for (capped) */
    uint64_t start_align;    /* largest power of two dividing the partition start (capped at 2^31) */
    uint64_t misaligned;     /* files whose alignment is lost */
    char *alignment_detail;  /* malloc'd lines "path: ..." for misaligned files, or NULL */
    size_t failed;           /* checks that failed */
};

/* Name of a check ("structure", "fits", ...). */
const char *romfs_check_name(enum romfs_check_id id);

/* Run every check of data[0..len) against target into *res (always filled; free with
 * romfs_check_result_free). opt may be NULL. Returns ROMFS_OK when nothing failed;
 * otherwise err holds the first failure ("BOARD partition N: message") and the code is
 * ROMFS_ERR_FBIG when the image does not fit (fits or erase failed), ROMFS_ERR_CORRUPT
 * when the image is invalid, ROMFS_ERR_MISMATCH for the other checks. ROMFS_ERR_NOMEM
 * without memory. */
int romfs_check_image(const uint8_t *data, size_t len, const struct romfs_check_target *target,
                      const struct romfs_check_options *opt, struct romfs_check_result *res,
                      struct romfs_error *err);

void romfs_check_result_free(struct romfs_check_result *res);

/* Append one suite "BOARD partition N" (plus " (core C)" when the target has a core) about `image_name` with one case per check and
 * the numbers as properties. Returns ROMFS_OK or ROMFS_ERR_NOMEM. */
int romfs_check_add_to_report(const struct romfs_check_result *res, const char *image_name,
                              struct romfs_report *report);

/* ---- targets ----------------------------------------------------------------- */

/* Partition `index` of board b (geometry and erase map borrowed from b, which must
 * outlive the target). ROMFS_ERR_NOENT naming the board and its partitions if absent. */
int romfs_check_target_from_board(const struct romfs_board *b, int index,
                                  struct romfs_check_target *t, struct romfs_error *err);

/* The given partition p of board b (e.g. one core's partition on a multi-core board). */
void romfs_check_target_from_partition(const struct romfs_board *b, const struct romfs_partition *p,
                                       struct romfs_check_target *t);

/* Partition `index` from a firmware ELF's _micropy_hw_romfs_partN_start/_size symbols.
 * b (may be NULL) supplies erase/write granularity and memory mapping for the board the
 * firmware was built for; without it those checks are skipped. ROMFS_ERR_NOENT if the
 * firmware has no such partition. */
int romfs_check_target_from_elf(const char *elf_path, int index, const struct romfs_board *b,
                                struct romfs_check_target *t, struct romfs_error *err);

/* Partition `index` from linker scripts (romfs_ld_evaluate on in), from the same
 * symbols; b as for the ELF. */
int romfs_check_target_from_ld(const struct romfs_ld_input *in, int index,
                               const struct romfs_board *b, struct romfs_check_target *t,
                               struct romfs_error *err);

/* The ROMFS partition of an esp32 partition table at `path` (binary when it starts with
 * 0x50 0xAA, else CSV; boards/esp32.h): the data partition labelled "romfs", as
 * the esp32 port mounts it. start is its flash offset and mmap is 2 (the port maps it
 * with esp_partition_mmap() at run time); erase block 4096 (SPI flash sector); write
 * unit from b (an esp32 board of boards.json, may be NULL) or 4. The label is b's name,
 * else the table's file name; source names the table row/entry. ROMFS_ERR_NOENT when
 * the table has no romfs partition (or the file is missing), ROMFS_ERR_CORRUPT for a
 * malformed table (bad row, bad magic, MD5 mismatch), ROMFS_ERR_INVAL when b is not an
 * esp32 board, ROMFS_ERR_RANGE when the partition ends past b's flash. */
int romfs_check_target_from_partition_table(const char *path, const struct romfs_board *b,
                                            struct romfs_check_target *t, struct romfs_error *err);

/* ---- from sources to a report ----------------------------------------------------- */

/* Where the partitions to check come from, strongest first: one build (a firmware ELF,
 * an esp32 partition table or linker scripts; boards[0], if named, supplies granularity
 * and mapping), else boards.json entries. */
struct romfs_check_sources {
    const char *const *boards;   /* board names (boards.json) */
    size_t n_boards;
    int partition;               /* partition index */
    bool all_partitions;         /* every partition of each board (boards.json only) */
    const char *core;            /* multi-core boards: the partition of this core's build */
    const char *elf;             /* firmware ELF, or NULL */
    const char *partition_table; /* esp32 partition table (CSV or binary), or NULL */
    const struct romfs_ld_input *ld;  /* linker scripts, or NULL */
};

/* The targets sources describe, into *targets (malloc'd; free()) and *n. db is the
 * loaded board database when boards are named (targets borrow from it, so it must
 * outlive them). ROMFS_ERR_NOENT for an unknown board (the message suggests the closest
 * name) or a partition a board lacks; the code of the ELF / script / table reader when
 * that source cannot be used; ROMFS_ERR_INVAL when no source is given. */
int romfs_check_resolve(const struct romfs_boards *db, const struct romfs_check_sources *src,
                        struct romfs_check_target **targets, size_t *n, struct romfs_error *err);

/* Check the image in file image_path against each of the n targets, adding one suite per
 * target to report; *failed receives the number of failed checks. ROMFS_OK when every
 * target was checked (whatever the outcome), the file's read error when it cannot be read
 * (ROMFS_ERR_NOENT, ROMFS_ERR_IO, ...), ROMFS_ERR_NOMEM. */
int romfs_check_file(const char *image_path, const struct romfs_check_target *targets, size_t n,
                     const struct romfs_check_options *opt, struct romfs_report *report,
                     size_t *failed, struct romfs_error *err);

/* For `romfs pack --board`: check data[0..len) against partition `index` of `board_name`
 * in the board database (db NULL: romfs_boards_load(NULL)). Returns ROMFS_OK when every
 * check passes, else the romfs_check_image code with err naming board, partition and
 * the failure (e.g. "image is 4097 bytes, 1 byte more than ..."). */
int romfs_check_image_for_board(const uint8_t *data, size_t len, const struct romfs_boards *db,
                                const char *board_name, int index, struct romfs_error *err);

#endif
