/* dfu.h: USB DFU 1.1 with ST's DfuSe extensions (AN3156).
 *
 * Two layers, each usable alone:
 *  - struct romfs_dfu_usb: one DFU interface of one USB device, as control transfers.
 *    dfu_usb.c implements it with libusb; tests put a DfuSe device model behind it.
 *  - romfs_dfu_* / romfs_dfuse_*: the DFU requests and state machine (DNLOAD, UPLOAD,
 *    GETSTATUS, CLRSTATUS, GETSTATE, ABORT; bwPollTimeout honoured; manifestation) and
 *    the DfuSe commands (set address pointer 0x21, page erase 0x41, read via UPLOAD
 *    wBlockNum >= 2, leave DFU). Device errors are reported by their DFU names
 *    ("errVERIFY", "dfuERROR").
 * flash/dfu_target.h builds a flash target (struct romfs_target) on them. */
#ifndef ROMFS_DFU_H
#define ROMFS_DFU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* ---- DFU 1.1 constants -------------------------------------------------------------- */

enum romfs_dfu_request {
    ROMFS_DFU_DETACH = 0, ROMFS_DFU_DNLOAD = 1, ROMFS_DFU_UPLOAD = 2, ROMFS_DFU_GETSTATUS = 3,
    ROMFS_DFU_CLRSTATUS = 4, ROMFS_DFU_GETSTATE = 5, ROMFS_DFU_ABORT = 6,
};

enum romfs_dfu_state {
    ROMFS_DFU_APP_IDLE = 0, ROMFS_DFU_APP_DETACH = 1, ROMFS_DFU_IDLE = 2,
    ROMFS_DFU_DNLOAD_SYNC = 3, ROMFS_DFU_DNBUSY = 4, ROMFS_DFU_DNLOAD_IDLE = 5,
    ROMFS_DFU_MANIFEST_SYNC = 6, ROMFS_DFU_MANIFEST = 7, ROMFS_DFU_MANIFEST_WAIT_RESET = 8,
    ROMFS_DFU_UPLOAD_IDLE = 9, ROMFS_DFU_ERROR = 10,
};

enum romfs_dfu_status {
    ROMFS_DFU_OK = 0, ROMFS_DFU_ERR_TARGET = 1, ROMFS_DFU_ERR_FILE = 2, ROMFS_DFU_ERR_WRITE = 3,
    ROMFS_DFU_ERR_ERASE = 4, ROMFS_DFU_ERR_CHECK_ERASED = 5, ROMFS_DFU_ERR_PROG = 6,
    ROMFS_DFU_ERR_VERIFY = 7, ROMFS_DFU_ERR_ADDRESS = 8, ROMFS_DFU_ERR_NOTDONE = 9,
    ROMFS_DFU_ERR_FIRMWARE = 10, ROMFS_DFU_ERR_VENDOR = 11, ROMFS_DFU_ERR_USBR = 12,
    ROMFS_DFU_ERR_POR = 13, ROMFS_DFU_ERR_UNKNOWN = 14, ROMFS_DFU_ERR_STALLEDPKT = 15,
};

/* DfuSe commands, sent as DNLOAD wBlockNum 0. */
enum { ROMFS_DFUSE_CMD_GET = 0x00, ROMFS_DFUSE_CMD_SET_ADDRESS = 0x21,
       ROMFS_DFUSE_CMD_ERASE = 0x41, ROMFS_DFUSE_CMD_READ_UNPROTECT = 0x92 };

/* bmAttributes of the DFU functional descriptor. */
enum { ROMFS_DFU_CAN_DNLOAD = 1, ROMFS_DFU_CAN_UPLOAD = 2, ROMFS_DFU_MANIFEST_TOLERANT = 4,
       ROMFS_DFU_WILL_DETACH = 8 };

/* "dfuDNBUSY", "dfuERROR", ... ("state N" for unknown values; static storage). */
const char *romfs_dfu_state_name(int state);
/* "OK", "errVERIFY", "errWRITE", ... ("status N" for unknown values). */
const char *romfs_dfu_status_name(int status);

/* ---- the USB side ------------------------------------------------------------------ */

/* One DFU interface (with its alternate setting already selected) of one device. */
struct romfs_dfu_usb {
    void *ctx;
    /* A class control transfer to the DFU interface: `in` selects device-to-host.
       Returns the bytes transferred (>= 0) or a negative code with err filled:
       ROMFS_ERR_PROTOCOL when the device stalled the request (message says "stalled"),
       ROMFS_ERR_TIMEOUT when it did not answer within timeout_ms, ROMFS_ERR_DEVICE when
       it is gone (disconnected or reset). */
    int (*control)(void *ctx, bool in, uint8_t request, uint16_t value, uint8_t *data,
                   uint16_t length, unsigned timeout_ms, struct romfs_error *err);
    /* Wait ms milliseconds (the device's bwPollTimeout). NULL: nanosleep. */
    void (*sleep_ms)(void *ctx, uint32_t ms);
    /* Release the device. May be NULL. */
    void (*close)(void *ctx);

    uint16_t transfer_size;   /* wTransferSize: largest DNLOAD/UPLOAD block, > 0 */
    uint8_t attributes;       /* bmAttributes (ROMFS_DFU_CAN_DNLOAD, ...) */
    uint16_t dfu_version;     /* bcdDFUVersion: 0x0110 DFU 1.1, 0x011a DfuSe */
    bool per_block_address;   /* DfuSe: set the address pointer before every block and
                                 always use wBlockNum 2 (twice the requests, but right
                                 even when transfer_size is a guess: the device places
                                 block n at pointer + (n - 2) * its own wTransferSize) */
    char layout[256];         /* the alternate setting's name string: the DfuSe memory
                                 layout ("@Internal Flash  /0x08000000/04*016Kg,...") */
    char description[160];    /* "0483:df11 serial 3276... alt 0" for messages */
};

/* ---- the protocol ------------------------------------------------------------------ */

struct romfs_dfu_status_reply {
    uint8_t status;           /* enum romfs_dfu_status */
    uint32_t poll_timeout_ms; /* bwPollTimeout: wait this long before the next request */
    uint8_t state;            /* enum romfs_dfu_state */
    uint8_t string_index;     /* iString */
};

struct romfs_dfu {
    struct romfs_dfu_usb usb;     /* owned: usb.close is called by romfs_dfu_close */
    unsigned timeout_ms;          /* per control transfer; 0 means 5000 */
    uint32_t busy_limit_ms;       /* longest total bwPollTimeout waited for one request before
                                     giving up with ROMFS_ERR_TIMEOUT; 0 means 60000 */
    uint64_t waited_ms;           /* statistics: total bwPollTimeout waited */
    uint64_t requests;            /* statistics: control transfers made */
    uint32_t dfuse_address;       /* the DfuSe address pointer as last set (valid if set) */
    bool dfuse_address_set;
    bool needs_recovery;          /* a request failed: the next DfuSe operation first
                                     brings the device back to dfuIDLE */
};

/* Start a session over usb (moved into d; the caller's copy must not be closed). */
void romfs_dfu_init(struct romfs_dfu *d, const struct romfs_dfu_usb *usb);
/* Close the USB side. Safe to call twice. */
void romfs_dfu_close(struct romfs_dfu *d);

/* The DFU requests, one control transfer each. */
int romfs_dfu_get_status(struct romfs_dfu *d, struct romfs_dfu_status_reply *out,
                         struct romfs_error *err);
int romfs_dfu_get_state(struct romfs_dfu *d, uint8_t *state, struct romfs_error *err);
int romfs_dfu_clear_status(struct romfs_dfu *d, struct romfs_error *err);
int romfs_dfu_abort(struct romfs_dfu *d, struct romfs_error *err);

/* Bring the device to dfuIDLE from dfuERROR (CLRSTATUS), dfuDNLOAD-IDLE/dfuUPLOAD-IDLE
 * (ABORT). Fails with ROMFS_ERR_DEVICE naming the state when it cannot (e.g. appIDLE). */
int romfs_dfu_make_idle(struct romfs_dfu *d, struct romfs_error *err);

/* DNLOAD block `block` with len bytes (len <= transfer_size), then GETSTATUS, waiting
 * bwPollTimeout each time, until the device leaves dfuDNBUSY/dfuDNLOAD-SYNC. Success
 * when it reaches dfuDNLOAD-IDLE. A status other than OK is reported by name, with the
 * state, and the device is brought out of dfuERROR with CLRSTATUS. */
int romfs_dfu_download_block(struct romfs_dfu *d, uint16_t block, const uint8_t *data,
                             uint16_t len, struct romfs_error *err);

/* UPLOAD block `block` of up to len bytes into data; *got receives the bytes returned. */
int romfs_dfu_upload_block(struct romfs_dfu *d, uint16_t block, uint8_t *data, uint16_t len,
                           size_t *got, struct romfs_error *err);

/* Manifestation: zero-length DNLOAD, then GETSTATUS through dfuMANIFEST-SYNC/dfuMANIFEST.
 * Succeeds when the device returns to dfuIDLE (manifestation tolerant), reaches
 * dfuMANIFEST-WAIT-RESET, or drops off the bus (it reset itself, as DfuSe's leave does). */
int romfs_dfu_manifest(struct romfs_dfu *d, struct romfs_error *err);

/* Plain DFU 1.1 download of a whole file: blocks 0, 1, 2... then manifestation. */
int romfs_dfu_download(struct romfs_dfu *d, const uint8_t *data, size_t len,
                       struct romfs_error *err);

/* ---- DfuSe --------------------------------------------------------------------------- */

/* Set the address pointer (command 0x21). */
int romfs_dfuse_set_address(struct romfs_dfu *d, uint32_t address, struct romfs_error *err);
/* Erase the page/sector containing address (command 0x41 + address). */
int romfs_dfuse_erase_page(struct romfs_dfu *d, uint32_t address, struct romfs_error *err);
/* Write len bytes at address: set address, then DNLOAD blocks 2, 3, ... of transfer_size. */
int romfs_dfuse_write(struct romfs_dfu *d, uint32_t address, const uint8_t *data, size_t len,
                      struct romfs_error *err);
/* Read len bytes at address: set address, ABORT to dfuIDLE, UPLOAD blocks 2, 3, ...,
 * ABORT. Fails with ROMFS_ERR_PROTOCOL if the device returns short blocks. */
int romfs_dfuse_read(struct romfs_dfu *d, uint32_t address, uint8_t *data, size_t len,
                     struct romfs_error *err);
/* Leave DFU and run the firmware at address: set address, zero-length DNLOAD, GETSTATUS. */
int romfs_dfuse_leave(struct romfs_dfu *d, uint32_t address, struct romfs_error *err);

/* ---- the DfuSe memory layout ---------------------------------------------------------- */

/* Sector attribute bits (the letter a..g minus 'a' + 1). */
enum { ROMFS_DFUSE_READABLE = 1, ROMFS_DFUSE_ERASABLE = 2, ROMFS_DFUSE_WRITABLE = 4 };

/* A run of `count` equal sectors starting at `start`. */
struct romfs_dfuse_run {
    uint32_t start;
    uint32_t count;
    uint32_t size;      /* bytes per sector, > 0 */
    uint8_t attrs;      /* ROMFS_DFUSE_* bits */
};

#define ROMFS_DFUSE_MAX_RUNS 64

struct romfs_dfuse_layout {
    char name[64];      /* "Internal Flash" (trimmed) */
    size_t n_runs;
    struct romfs_dfuse_run runs[ROMFS_DFUSE_MAX_RUNS];   /* ascending, non-overlapping */
};

/* Parse "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg" (several "/0xADDR/..."
 * segments allowed; units ' ', 'B', 'K', 'M'; attributes 'a'..'g'). ROMFS_ERR_CORRUPT with
 * the offending position on malformed text, overflow past 4 GiB or overlapping runs. */
int romfs_dfuse_layout_parse(const char *text, struct romfs_dfuse_layout *out,
                             struct romfs_error *err);

/* The sector containing address: its start, size and attrs. false when none does. */
bool romfs_dfuse_layout_sector(const struct romfs_dfuse_layout *l, uint64_t address,
                               uint32_t *start, uint32_t *size, uint8_t *attrs);

/* ---- finding and opening a DFU device ---------------------------------------------------------- */

/* Which device to open. */
struct romfs_dfu_match {
    uint16_t vid[8], pid[8];  /* candidate VID:PIDs, tried in order */
    size_t n_ids;             /* 0: ROMFS_DFU_DEFAULT_IDS */
    const char *serial;       /* NULL: any; else the exact USB serial number */
    int alt;                  /* alternate setting, or -1: the first whose DfuSe layout
                                 covers the partition address */
    const char *bootloader;   /* NULL, or for the message when no device is found: which
                                 bootloader must be running and how to start it */
};

/* ST's DfuSe VID:PID, used by the STM32 system bootloader and MicroPython's mboot. */
#define ROMFS_DFU_DEFAULT_VID 0x0483
#define ROMFS_DFU_DEFAULT_PID 0xdf11

/* Parse "VID:PID" (hex, as lsusb prints it) into *vid, *pid. */
int romfs_dfu_parse_id(const char *text, uint16_t *vid, uint16_t *pid, struct romfs_error *err);

/* Open the DFU interface matching m through libusb (dfu_usb.c). `address` chooses the
 * alternate setting when m->alt is -1. With no matching device the message lists every
 * VID:PID (and serial) looked for. ROMFS_ERR_DEVICE when none, ROMFS_ERR_IO on libusb
 * failure (e.g. permission: the message says so). */
int romfs_dfu_usb_open(const struct romfs_dfu_match *m, uint64_t address,
                       struct romfs_dfu_usb *out, struct romfs_error *err);

#endif
