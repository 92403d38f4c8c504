/* base/error.h: error codes and the message buffer every libromfs call fills.
 *
 * Every fallible function returns ROMFS_OK (0) or a negative romfs_err code and,
 * when given a non-NULL struct romfs_error, writes a one-line message naming the
 * file, board or byte offset involved. libromfs never prints and never exits. */
#ifndef ROMFS_ERROR_H
#define ROMFS_ERROR_H

#include <stddef.h>

enum romfs_err {
    ROMFS_OK = 0,
    ROMFS_ERR_NOENT = -2,      /* no such file, path, board or partition */
    ROMFS_ERR_IO = -5,         /* an operating-system read/write failed */
    ROMFS_ERR_ACCESS = -13,    /* an input file or directory may not be read (permissions) */
    ROMFS_ERR_NOMEM = -12,     /* out of memory */
    ROMFS_ERR_EXIST = -17,     /* already exists */
    ROMFS_ERR_NOTDIR = -20,    /* a path component is not a directory */
    ROMFS_ERR_ISDIR = -21,     /* a directory where a file was expected */
    ROMFS_ERR_INVAL = -22,     /* invalid argument or option value */
    ROMFS_ERR_FBIG = -27,      /* does not fit (image larger than limit/partition) */
    ROMFS_ERR_NOSPC = -28,     /* no space left on the output device */
    ROMFS_ERR_RANGE = -34,     /* a number out of range */
    ROMFS_ERR_UNSUPPORTED = -95, /* valid input this version cannot handle */
    ROMFS_ERR_TIMEOUT = -110,  /* a device or program did not answer in time */
    ROMFS_ERR_CORRUPT = -84,   /* malformed input: image, script, JSON, reply */
    ROMFS_ERR_PROTOCOL = -71,  /* a device broke its protocol */
    ROMFS_ERR_DEVICE = -19,    /* no such device, or the device reported an error */
    ROMFS_ERR_MISMATCH = -74,  /* verification or check failed (data differs) */
    ROMFS_ERR_TOOL = -8,       /* an external program failed or is missing */
    ROMFS_ERR_CANCELED = -125, /* interrupted by the caller */
};

/* What the caller could supply to get past an error. libromfs describes the problem in
 * msg and never names the tool's options; the tool turns `need` into its own advice
 * ("choose one with --port"). */
enum romfs_need {
    ROMFS_NEED_NOTHING = 0,
    ROMFS_NEED_BOARD_NAME,       /* a board name the database has */
    ROMFS_NEED_PORT,             /* which serial port, of several or none found */
    ROMFS_NEED_PROBE,            /* which debug probe / GDB server */
    ROMFS_NEED_OPENOCD_TARGET,   /* an OpenOCD target script for this board */
    ROMFS_NEED_PYOCD_TARGET,     /* a pyOCD target name for this board */
    ROMFS_NEED_RESET_COMMAND,    /* the monitor command that resets this target */
    ROMFS_NEED_EXCLUDE,          /* a file to leave out of the image (or rename) */
    ROMFS_NEED_MPY_CROSS,        /* where the mpy-cross program is */
    ROMFS_NEED_FORCE,            /* permission to replace an existing file */
    ROMFS_NEED_ADDRESS,          /* the partition's address */
    ROMFS_NEED_PARTITION,        /* the partition's address and size */
    ROMFS_NEED_UF2_FAMILY,       /* a UF2 family id */
    ROMFS_NEED_FIRMWARE_BUILD,   /* a firmware build (ELF or linker scripts) that has ROMFS */
    ROMFS_NEED_FIRMWARE_SIZE,    /* the firmware's size (a built ELF, or a number) */
    ROMFS_NEED_SIGNATURE,        /* an image signed with the key */
    ROMFS_NEED_RIGHT_BOARD,      /* a board entry that matches the connected device */
};

#define ROMFS_ERROR_MSG_MAX 1024

struct romfs_error {
    int code;                          /* last romfs_err code, 0 if none */
    char msg[ROMFS_ERROR_MSG_MAX];     /* human-readable, no trailing newline */
    enum romfs_need need;              /* what would get past it; reset by every set_error */
};

/* Fill err (if non-NULL) with code and a printf-style message; returns code. */
int romfs_set_error(struct romfs_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like romfs_set_error, appending ": strerror(errno_value)". */
int romfs_set_errno(struct romfs_error *err, int code, int errno_value, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* romfs_set_error that also records what the caller could supply to get past it. */
int romfs_set_error_need(struct romfs_error *err, int code, enum romfs_need need, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Record what the caller could supply to get past the error already in err; returns
 * err->code (so `return romfs_error_need(err, ROMFS_NEED_PORT);` reads naturally). */
int romfs_error_need(struct romfs_error *err, enum romfs_need need);

/* Prefix err->msg with "prefix: " (used to add context while unwinding); returns err->code. */
int romfs_error_prefix(struct romfs_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The code for an errno from opening or reading an input: ENOENT -> NOENT, EACCES and
 * EPERM -> ACCESS, EISDIR -> ISDIR, ENOTDIR -> NOTDIR, anything else -> IO. */
int romfs_input_errno_code(int errno_value);

/* A short constant name for a code, e.g. "corrupt" for ROMFS_ERR_CORRUPT. */
const char *romfs_strerror(int code);

#endif
