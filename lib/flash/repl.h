/* flash/repl.h: a MicroPython board's ROMFS partitions over its REPL.
 *
 * A session enters the raw REPL, sends the helper Python (templates/device/helper.py)
 * and learns what the device can do. From it: romfs_repl_query() reports the ROMFS
 * partitions (size, erase block size, API, whether each holds a valid image, its size
 * and the SHA-256 the device computes of it), and romfs_repl_target_open() turns one
 * partition into a struct romfs_target for romfs_flash_image().
 *
 * Transfer: the fast path sends raw bytes (raw deflate when the device has
 * deflate.DeflateIO) to a small receive loop on the device (templates/device/serve.py)
 * that reads sys.stdin.buffer with the keyboard interrupt disabled, flow-controlled with
 * the device's raw-paste window; erase, write and hash requests are pipelined through
 * it (its wire protocol: templates/device/serve_protocol.def, 64-bit offsets and
 * lengths). Devices without that get one exec per chunk: deflate+base64, base64, hex, or a
 * bytes literal, whichever they allow (as mpremote detects). */
#ifndef ROMFS_REPL_H
#define ROMFS_REPL_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "flash/flash.h"
#include "transport/rawrepl.h"
#include "transport/serial.h"

enum romfs_transfer {
    ROMFS_TRANSFER_AUTO = 0,
    ROMFS_TRANSFER_RAW_DEFLATE,    /* receive loop, raw deflate */
    ROMFS_TRANSFER_RAW,            /* receive loop, plain bytes */
    ROMFS_TRANSFER_DEFLATE_BASE64, /* exec per chunk: DeflateIO(a2b_base64(...)) */
    ROMFS_TRANSFER_BASE64,         /* exec per chunk: a2b_base64(...) */
    ROMFS_TRANSFER_HEX,            /* exec per chunk: bytes.fromhex(...) */
    ROMFS_TRANSFER_REPR,           /* exec per chunk: a bytes literal */
};
/* "raw-deflate", "raw", "deflate-base64", "base64", "hex", "repr", "auto"; -1 if unknown. */
int romfs_transfer_parse(const char *name);
const char *romfs_transfer_name(int transfer);

enum romfs_partition_api {
    ROMFS_API_AUTO = 0,
    ROMFS_API_ROM_IOCTL,  /* vfs.rom_ioctl(3/4/5) on a memoryview partition */
    ROMFS_API_OBJECT,     /* partition object: ioctl(4/5/6), readblocks/writeblocks */
};

/* Device capabilities (bits). */
enum {
    ROMFS_CAP_HASHLIB = 1 << 0,
    ROMFS_CAP_BINASCII = 1 << 1,
    ROMFS_CAP_DEFLATE = 1 << 2,
    ROMFS_CAP_BYTESIO = 1 << 3,
    ROMFS_CAP_KBD_INTR = 1 << 4,
    ROMFS_CAP_STDIO_BUFFER = 1 << 5,
    ROMFS_CAP_FROMHEX = 1 << 6,
    ROMFS_CAP_ROM_IOCTL = 1 << 7,
};

#define ROMFS_REPL_MAX_PARTITIONS 8

struct romfs_device_partition {
    int index;
    uint64_t size;             /* bytes */
    uint32_t block_size;       /* erase block size the device reports */
    bool object_api;           /* partition object (ioctl/writeblocks) vs memoryview */
    uint8_t head[16];          /* its first bytes */
    bool valid;                /* starts with a ROMFS header whose image fits the partition */
    uint64_t image_size;       /* bytes of the image record, if valid */
    bool has_sha256;
    uint8_t sha256[32];        /* of the image's bytes, computed on the device */
};

struct romfs_device_info {
    unsigned caps;                 /* ROMFS_CAP_* */
    long long mpy;                 /* sys.implementation._mpy, 0 if absent */
    char platform[32];             /* sys.platform */
    int n_partitions;              /* vfs.rom_ioctl(1); 0 if ROMFS is not enabled */
    struct romfs_device_partition partitions[ROMFS_REPL_MAX_PARTITIONS];
};

struct romfs_repl_session;

/* Enter the raw REPL on s, send the helper, read the capabilities. s stays the caller's. */
int romfs_repl_session_open(struct romfs_serial *s, const struct romfs_repl_options *opt,
                            struct romfs_repl_session **out, struct romfs_error *err);
/* Leave the raw REPL and free the session (not the serial link). */
void romfs_repl_session_close(struct romfs_repl_session *ses);
struct romfs_repl *romfs_repl_session_repl(struct romfs_repl_session *ses);

/* Capabilities, .mpy word, platform and partitions (with image SHA-256 if want_hash). */
int romfs_repl_query(struct romfs_repl_session *ses, bool want_hash, struct romfs_device_info *info,
                     struct romfs_error *err);

struct romfs_repl_target_options {
    int partition;                 /* vfs.rom_ioctl(2, N) */
    enum romfs_partition_api api;  /* AUTO: whatever the device offers */
    int transfer;                  /* enum romfs_transfer */
    uint32_t write_size;           /* program granularity; 0 means 256 */
};

/* Statistics of a target's transfers. */
struct romfs_repl_stats {
    int transfer;                  /* the transfer actually used */
    uint64_t payload_bytes;        /* image bytes programmed */
    uint64_t wire_bytes_out;       /* bytes sent to the device while the target was open */
    uint64_t wire_bytes_in;
    uint64_t session_bytes_out;    /* everything sent on the connection, connect to close */
    uint64_t session_bytes_in;
};

/* Send what a target opened on ses with `transfer` will need and the device lacks (the
 * helper, forgotten by a soft reset; the write loop, for the transfers that use it), in
 * one exec: while the board is idle, so that the next write starts at once. */
int romfs_repl_session_prepare(struct romfs_repl_session *ses, int transfer, struct romfs_error *err);

/* Open partition opt->partition as a flash target (unmounting /rom first). The target's
 * callbacks use the session, which must outlive it; t->close releases the target only. */
int romfs_repl_target_open(struct romfs_repl_session *ses, const struct romfs_repl_target_options *opt,
                           struct romfs_target *t, struct romfs_error *err);
void romfs_repl_target_stats(const struct romfs_target *t, struct romfs_repl_stats *stats);

/* One entry below /rom as the device's VfsRom sees it. */
struct romfs_rom_entry {
    char *path;          /* relative to /rom, '/'-separated, no trailing '/' (raw bytes from
                            the device, NUL-terminated: escape before printing) */
    bool is_dir;
    uint64_t size;       /* files only */
};

struct romfs_rom_listing {
    struct romfs_rom_entry *entries;   /* depth first: by path bytes, '/' lowest */
    size_t n;
};

void romfs_rom_listing_free(struct romfs_rom_listing *l);

/* Soft-reset the device and list /rom's top-level entries (is_dir and size unknown: only
 * the names, sorted). */
int romfs_repl_reset_and_list_rom(struct romfs_repl_session *ses, struct romfs_rom_listing *out,
                                  struct romfs_error *err);

/* List /rom's top-level entries without a reset (a write that erased nothing leaves /rom
 * mounted as it was). */
int romfs_repl_list_rom_top(struct romfs_repl_session *ses, struct romfs_rom_listing *out,
                            struct romfs_error *err);

/* List every entry below /rom, depth first. */
int romfs_repl_list_rom(struct romfs_repl_session *ses, struct romfs_rom_listing *out,
                        struct romfs_error *err);

/* Find the board's serial port when no --port is given: USB VID:PID from board_repl_usb
 * ("f055:9800", may be NULL) and MicroPython's common ids. ROMFS_ERR_DEVICE if none,
 * ROMFS_ERR_INVAL if several match (the message lists them). */
int romfs_repl_find_port(const char *board_repl_usb, char *path, size_t path_cap,
                         struct romfs_error *err);

/* ---- exceptions on the device (repl_exception.c) ---------------------------------- */

/* An exception the device raised while a REPL target worked on it: what romfs asked of
 * it, where, and what the device said. */
struct romfs_device_exception {
    char op[16];            /* "erase", "write", "hash", "read", "finish" (vfs.rom_ioctl(5)),
                               "open", "list" (/rom after the soft reset); "" when none */
    bool has_offset;
    uint64_t offset;        /* the request's partition offset */
    char said[256];         /* the traceback's last line, escaped onto one line */
    char traceback[2048];   /* the whole traceback, raw device bytes (cut to fit): escape
                               before printing */
};

/* Note that the program which just failed on the session's device raised while doing op
 * (at partition offset `offset` when has_offset). Does nothing, and returns false, when
 * that program did not raise (a link or protocol error). */
bool romfs_repl_note_exception(struct romfs_repl_session *ses, const char *op, bool has_offset,
                               uint64_t offset);

/* The exception last noted in the session; NULL when none was. */
const struct romfs_device_exception *romfs_repl_session_exception(const struct romfs_repl_session *ses);

/* What a flash job was doing when the device raised, for romfs_device_exception_explain. */
struct romfs_exception_context {
    const char *target;     /* "repl" */
    int partition;          /* the ROMFS partition index */
    bool erased;            /* the write had begun (the old image is gone) */
    const char *board;      /* board name, or NULL */
    uint32_t erase_size, write_size;   /* units the write used (0: not reached) */
};

/* Replace err's message with one line saying what failed on the device (the request and
 * its partition offset), what the device said (x->said) and what to do: the one place a
 * device's exception becomes a message. err->code stays ROMFS_ERR_DEVICE. */
void romfs_device_exception_explain(const struct romfs_device_exception *x,
                                    const struct romfs_exception_context *c,
                                    struct romfs_error *err);

/* Check an image's .mpy files against the device's sys.implementation._mpy word:
 * ROMFS_ERR_MISMATCH naming the first file whose version or native architecture differs. */
int romfs_check_mpy_compat(const uint8_t *image, size_t len, long long device_mpy,
                           struct romfs_error *err);

#endif
