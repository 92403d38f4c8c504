/* flash/flash.h: one interface for every way of writing a ROMFS partition.
 *
 * Shaped like littlefs's struct lfs_config: a context, geometry and callbacks. The
 * REPL, DFU, GDB/SWD and simulated targets are each one implementation of it, and
 * romfs_flash_image() is the one writer: incremental, torn-write safe, verified. */
#ifndef ROMFS_FLASH_H
#define ROMFS_FLASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

struct romfs_target {
    const char *name;       /* "repl", "dfu", "swd", "sim": used in messages */
    void *ctx;              /* handed to every callback */

    uint64_t base_address;  /* absolute address of the partition's first byte (0 if unknown) */
    uint64_t size;          /* partition size in bytes; a multiple of erase_size */
    uint32_t erase_size;    /* erase granularity in bytes, a power of two; every erase()
                               offset and length is a multiple of it */
    uint32_t write_size;    /* program granularity, a power of two <= erase_size; every prog()
                               offset and length is a multiple of it (the writer pads the
                               image's tail with 0xff) */
    uint32_t max_transfer;  /* largest length the writer passes to prog()/read() at once;
                               0 means erase_size */

    bool erase_from_start;  /* erase() takes offset 0 only and erases [0, len) (esp8266's and
                               renesas-ra's vfs.rom_ioctl(3, id, len)): the writer erases
                               once, up to the last changed block, and rewrites all of it */

    /* Read len bytes at offset into buf. May be NULL when hash_blocks is provided. */
    int (*read)(void *ctx, uint64_t offset, void *buf, size_t len, struct romfs_error *err);
    /* Erase [offset, offset+len) to 0xff. */
    int (*erase)(void *ctx, uint64_t offset, uint64_t len, struct romfs_error *err);
    /* Program erased bytes [offset, offset+len) with buf. */
    int (*prog)(void *ctx, uint64_t offset, const void *buf, size_t len, struct romfs_error *err);
    /* Optional: finish a write session (vfs.rom_ioctl(5), DFU manifest, flash done). */
    int (*sync)(void *ctx, struct romfs_error *err);
    /* Optional: SHA-256 of each erase block of [offset, offset+len) into out[i] (len is a
       multiple of erase_size). Lets the writer compare with the device without reading
       every byte back over a slow link; when NULL the writer reads and hashes itself. */
    int (*hash_blocks)(void *ctx, uint64_t offset, uint64_t len, uint8_t (*out)[32],
                       struct romfs_error *err);
    /* Optional: one SHA-256 of all of [offset, offset+len) into out. Lets the writer see
       in one short answer that nothing differs before it asks for every block's hash. */
    int (*hash_range)(void *ctx, uint64_t offset, uint64_t len, uint8_t out[32], struct romfs_error *err);
    /* Optional: release the context. */
    void (*close)(void *ctx);

    /* What the device itself reports about its geometry, for the flash job to reconcile
       with the board entry (flash/run.c): 0 when the device does not say (erase_size and
       write_size are then the target's own choice: the board's value it was opened
       with, or a default). The sources name where the device said it, e.g.
       "vfs.rom_ioctl(3)" or "the DfuSe layout"; NULL when it did not. */
    uint32_t device_erase_size;
    uint32_t device_write_size;
    const char *device_erase_source;
    const char *device_write_source;
    /* Optional: from now on erase in blocks of erase_size and program in units of
       write_size (powers of two, multiples of the device's own units: the stricter of the
       board entry's and the device's). The job calls it before writing and then sets the
       two fields; a target whose callbacks do not depend on the units leaves it NULL. */
    int (*set_units)(void *ctx, uint32_t erase_size, uint32_t write_size, struct romfs_error *err);
};

/* Progress: phase is "compare", "erase", "write", "verify"; done/total in bytes. */
typedef void (*romfs_progress_fn)(void *ctx, const char *phase, uint64_t done, uint64_t total);

struct romfs_flash_options {
    bool full;                  /* write every block, not only those that differ */
    bool no_verify;             /* skip the read-back / hash verification */
    romfs_progress_fn progress; /* may be NULL */
    void *progress_ctx;
    /* What the caller believes the partition holds from its start (the image it wrote
       there last, over a connection it kept), or NULL. When the target's one hash of the
       image's range (hash_range) matches these bytes, 0xff after them, the per-block
       hashes are computed from them instead of asked of the device; otherwise they are
       asked for as usual. */
    const uint8_t *expected;
    size_t expected_len;
};

struct romfs_flash_report {
    uint64_t image_size;
    uint64_t blocks_in_image;   /* erase blocks the image covers */
    uint64_t blocks_written;    /* erase blocks erased and programmed */
    uint64_t bytes_programmed;
    bool erased;                /* an erase was asked of the target (the old image is gone) */
    bool verified;
};

/* Write image[0..len) at the start of the target's partition.
 * Torn-write safe: when any block must change, block 0 (the header) is erased first,
 * the other changed blocks are written and verified, and block 0 is written last, so an
 * interruption leaves a partition that reads as holding no ROMFS until a re-run.
 * Fails with ROMFS_ERR_FBIG if len > t->size, ROMFS_ERR_MISMATCH on failed verification. */
int romfs_flash_image(struct romfs_target *t, const uint8_t *image, size_t len,
                      const struct romfs_flash_options *opt, struct romfs_flash_report *report,
                      struct romfs_error *err);

#endif
