/* flash/job.h: one flash job, whatever the way to the board: refuse an image that does
 * not suit the board or the device before anything is erased, open the device (REPL,
 * DFU or SWD), write with romfs_flash_image(), confirm on the device, and report what
 * happened as data. The tool only parses options into a struct romfs_flash_job and
 * prints the struct romfs_flash_job_result. */
#ifndef ROMFS_FLASHJOB_H
#define ROMFS_FLASHJOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boards/db.h"
#include "base/error.h"
#include "flash/flash.h"
#include "flash/repl.h"
#include "flash/swd.h"
#include "image/pack.h"

struct romfs_dfu_match;
struct romfs_dfu_usb;

/* path is an image file or a directory (packed in memory with default options). On
 * success *image is malloc'd, *packed says whether a directory was packed. The image's
 * structure is verified strictly: ROMFS_ERR_CORRUPT names the offset. */
int romfs_flash_load_input(const char *path, uint8_t **image, size_t *len, bool *packed,
                           struct romfs_error *err);

/* The same, packing a directory with `opt` (NULL: the defaults), e.g. with mpy-cross. */
int romfs_flash_load_input_with(const char *path, const struct romfs_pack_options *opt,
                                uint8_t **image, size_t *len, bool *packed,
                                struct romfs_error *err);

/* Refuse (ROMFS_ERR_MISMATCH / ROMFS_ERR_FBIG) when the device's partition size differs
 * from the board's (a wrong --board or a different firmware layout), or the image does
 * not fit the device's partition. board_part may be NULL (no --board). Erase blocks and
 * write units that differ are not refused here: the job writes with the stricter of the
 * two (struct romfs_flash_units) and refuses only an image that cannot be written so. */
int romfs_flash_check_device(const struct romfs_target *t, const char *board_name,
                             const struct romfs_partition *board_part, size_t image_len,
                             struct romfs_error *err);

/* Whether the device's /rom lists exactly the image's top-level names. ROMFS_OK when it
 * does; ROMFS_ERR_MISMATCH naming the first name one has and the other lacks. */
int romfs_flash_compare_top_level(const uint8_t *image, size_t len,
                                  const struct romfs_rom_listing *rom, struct romfs_error *err);

/* ---- one job ------------------------------------------------------------------------ */

enum romfs_via {
    ROMFS_VIA_REPL,   /* the MicroPython REPL over a serial port */
    ROMFS_VIA_DFU,    /* a USB DFU bootloader (DfuSe: STM32 system bootloader, mboot) */
    ROMFS_VIA_SWD,    /* a debug probe's GDB server */
};

/* "repl", "dfu", "swd" -> enum romfs_via; -1 for anything else. */
int romfs_via_parse(const char *name);
const char *romfs_via_name(enum romfs_via via);

struct romfs_flash_job {
    enum romfs_via via;
    const struct romfs_board *board;  /* NULL: the device's own report is the reference
                                         (REPL), or swd.address/size say where (SWD) */
    const char *boards_source;        /* where the board entry was read, for messages (a
                                         boards.json path, "boards.json (built in)"); NULL:
                                         "the board database" */
    int partition;                    /* ROMFS partition index */
    bool full;                        /* write every block, not only those that differ */
    bool reset;                       /* DFU: leave DFU and start the firmware; SWD: reset
                                         the target (the REPL resets unless repl.no_reset) */
    int timeout_ms;                   /* longest silence from the device; 0: default */
    romfs_progress_fn progress;       /* may be NULL */
    void *progress_ctx;
    const uint8_t *expected;          /* what the partition is believed to hold (see
                                         romfs_flash_options.expected); may be NULL */
    size_t expected_len;
    struct {
        const char *port;             /* NULL: found by USB VID:PID (the board's first) */
        uint32_t baud;                /* 0: 115200 */
        bool no_raw_paste;
        int transfer;                 /* enum romfs_transfer */
        int api;                      /* enum romfs_partition_api */
        bool no_reset;                /* no soft reset and /rom check afterwards */
        bool always_reset;            /* soft-reset even when nothing was written (the
                                         watch loop runs its program on a fresh board) */
    } repl;
    struct {
        const char *device;           /* "VID:PID", NULL: the id of the board's bootloader
                                         that reaches the partition, then 0483:df11 */
        const char *serial;           /* NULL: any */
        int alt;                      /* -1: the alternate setting covering the partition */
        /* Open the USB side instead of libusb (tests put a DfuSe device model here);
           NULL: romfs_dfu_usb_open. Same contract as romfs_dfu_usb_open. */
        int (*usb_open)(void *ctx, const struct romfs_dfu_match *m, uint64_t address,
                        struct romfs_dfu_usb *out, struct romfs_error *err);
        void *usb_ctx;
    } dfu;
    struct {
        const char *probe;            /* gdb://HOST:PORT, serial:PATH, openocd, pyocd,
                                         openocd-program */
        uint64_t address, size;       /* 0: the board's partition */
        uint32_t erase_block;         /* 0: the board's, or the memory map's */
        const char *reset_command;    /* NULL: the server's usual one */
        enum romfs_swd_mode mode;
        const char *openocd_target, *openocd_interface, *pyocd_target;  /* NULL: the board's */
    } swd;
};

/* How the result was confirmed on the device after the write. */
enum romfs_flash_confirmation {
    ROMFS_CONFIRM_NONE,             /* not reached (the job failed before) */
    ROMFS_CONFIRM_NOT_RESET,        /* REPL: no reset was asked for */
    ROMFS_CONFIRM_ROM_LISTED,       /* REPL: soft reset; /rom lists the image's entries */
    ROMFS_CONFIRM_ROM_LISTED_NO_RESET, /* REPL: nothing written, /rom (as mounted) lists them */
    ROMFS_CONFIRM_STILL_IN_DFU,     /* DFU: the bootloader is still running */
    ROMFS_CONFIRM_LEFT_DFU,         /* DFU: left; the firmware is starting */
    ROMFS_CONFIRM_SWD_DETACHED,     /* SWD: detached; the target runs on */
    ROMFS_CONFIRM_SWD_RESET,        /* SWD: reset; the target runs */
    ROMFS_CONFIRM_OPENOCD_PROGRAM,  /* SWD: openocd's program command wrote, verified, reset */
};

/* The erase block and write unit a job wrote with: the stricter (larger) of what the
 * board entry says and what the device reports, each with where it came from. */
struct romfs_flash_units {
    uint32_t erase_size, write_size;     /* what the write used (0: not reached) */
    uint32_t board_erase, board_write;   /* the board entry's (0: no board, or unknown) */
    uint32_t device_erase, device_write; /* the device's own report (0: it does not say) */
    char erase_source[160];              /* e.g. "the device's (vfs.rom_ioctl(6)), stricter
                                            than the board entry's 4096" */
    char write_source[160];
};

struct romfs_flash_job_result {
    bool board_checked;                /* the image passed the board partition's checks */
    struct romfs_flash_units units;    /* erase block and write unit, and their sources */
    bool device_raised;                /* REPL: the device raised an exception (below) */
    struct romfs_device_exception exception;  /* what was asked, where, its traceback */
    struct romfs_flash_report write;   /* blocks, bytes, verified */
    bool verified_on_device;           /* verified by hashes computed on the device (REPL),
                                          not by reading the flash back (DFU, SWD) */
    double write_seconds;              /* the write itself, compare to verify */
    enum romfs_flash_confirmation confirmation;
    bool image_root_empty;             /* ROM_LISTED: the image has no top-level entries */
    char port[256];                    /* REPL: the serial port used */
    struct romfs_repl_stats repl;      /* REPL: transfer used, bytes on the wire */
    struct {
        char device[160];              /* the USB device and interface */
        const char *bootloader;        /* which of the board's bootloaders it is, by the
                                          layout it reports ("mboot", ...); NULL unknown */
        uint64_t requests, waited_ms;  /* DFU requests, time waiting on bwPollTimeout */
    } dfu;
    struct romfs_swd_info swd;         /* SWD: server, write method, erase block */
    bool swd_program;                  /* SWD: written by openocd's program command */
    bool swd_crc_checked;              /* SWD: the server's qCRC matched the image */
    const char *openocd_target;        /* SWD program: the target script used */
};

/* Over the REPL: the .mpy architecture the device's firmware runs (from its
 * sys.implementation._mpy), to compile a tree for the device in hand before a job writes
 * it. The device is reached as job->repl and job->board say and closed again. *arch is
 * NULL when the device reports no architecture. */
int romfs_flash_device_mpy_arch(const struct romfs_flash_job *job, const char **arch,
                                struct romfs_error *err);

/* Run one job on image[0..len): check it against job->board's partition (when a board is
 * given), open the device, refuse a device whose partition disagrees with the board or
 * is too small, write, verify, confirm. *res is filled as far as the job got, also on
 * failure. Returns ROMFS_OK or the first error (err names the board, port or device). */
int romfs_flash_job_run(const struct romfs_flash_job *job, const uint8_t *image, size_t len,
                        struct romfs_flash_job_result *res, struct romfs_error *err);

/* ---- a connection kept between jobs ------------------------------------------------ */

/* An open REPL connection to a job's board, for several jobs in a row (the watch loop):
 * the serial link, the raw-REPL session on it, what the device reported. */
struct romfs_flash_link {
    struct romfs_serial *serial;
    struct romfs_repl_session *ses;
    long long mpy;                     /* the device's sys.implementation._mpy */
    char port[256];                    /* the serial port used */
};

/* Connect to job's board over the REPL (job->repl.port, or found by USB id) and enter the
 * raw REPL. ROMFS_ERR_INVAL for a job that is not over the REPL. On failure the link is
 * closed again. */
int romfs_flash_link_open(const struct romfs_flash_job *job, struct romfs_flash_link *link,
                          struct romfs_error *err);

/* Leave the raw REPL and close the port (a link never opened, or closed, is fine). */
void romfs_flash_link_close(struct romfs_flash_link *link);

/* romfs_flash_job_run over an open link (REPL jobs only), which stays open afterwards
 * whatever happened: the caller closes it after a failure it cannot trust the
 * connection after (any error but a refusal before the write). */
int romfs_flash_job_run_on(const struct romfs_flash_job *job, struct romfs_flash_link *link,
                           const uint8_t *image, size_t len, struct romfs_flash_job_result *res,
                           struct romfs_error *err);

#endif
