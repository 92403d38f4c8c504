/* dfu_target.h: a struct romfs_target (flash/flash.h) over a DfuSe interface (transport/dfu.h).
 * erase() erases exactly the DfuSe sectors the range covers (sectors may differ in size),
 * refusing sectors the layout marks not erasable/writable; prog() is set address + DNLOAD;
 * read() is UPLOAD (dfu_target.c). Which of a board's DFU bootloaders (the STM32 system
 * bootloader, mboot, a vendor's) can write a partition, and how to start it (dfu_boot.c). */
#ifndef ROMFS_DFU_TARGET_H
#define ROMFS_DFU_TARGET_H

#include <stdint.h>

#include "base/error.h"
#include "flash/flash.h"
#include "transport/dfu.h"

struct romfs_dfu_target_options {
    uint64_t address;          /* partition start (absolute) */
    uint64_t size;             /* partition size in bytes */
    const char *layout;        /* DfuSe layout to use; NULL: the interface's own string */
    uint32_t write_size;       /* 0: 8 (STM32 flash programs double words at most) */
};

/* Build a romfs_target over an opened DfuSe interface (usb is moved into the target; its
 * close frees it). erase_size becomes the largest sector in the partition; the partition
 * must start and end on sector boundaries and every sector must be readable, erasable
 * and writable (ROMFS_ERR_INVAL naming the sector otherwise). */
int romfs_dfu_target_init(const struct romfs_dfu_usb *usb,
                          const struct romfs_dfu_target_options *o, struct romfs_target *t,
                          struct romfs_error *err);

/* Check offline that a partition suits a DfuSe layout as romfs_dfu_target_init would
 * (whole sectors, all readable+erasable+writable, an erase block size that fits);
 * *erase_size (may be NULL) receives that size. For a pre-flight check with the layout
 * boards.json records, before any device is touched. */
int romfs_dfu_check_partition(const char *layout, uint64_t address, uint64_t size,
                              uint32_t *erase_size, struct romfs_error *err);

/* romfs_dfu_usb_open + romfs_dfu_target_init: what `romfs flash --via dfu` uses. */
int romfs_dfu_target_open(const struct romfs_dfu_match *m,
                          const struct romfs_dfu_target_options *o, struct romfs_target *t,
                          struct romfs_error *err);

/* Leave DFU (DfuSe set address + zero-length DNLOAD) and start the firmware at
 * `jump_address` (0: the first sector of the layout). t must come from romfs_dfu_target_*. */
int romfs_dfu_target_leave(struct romfs_target *t, uint32_t jump_address,
                           struct romfs_error *err);

struct romfs_board;

/* ---- which bootloader (dfu_boot.c) ------------------------------------------------------ */

enum romfs_dfu_bootloader {
    ROMFS_DFU_BOOT_UNKNOWN,   /* the board records none, or not which */
    ROMFS_DFU_BOOT_SYSTEM,    /* the STM32 system bootloader in ROM (entered with BOOT0) */
    ROMFS_DFU_BOOT_MBOOT,     /* MicroPython's mboot (machine.bootloader(), USR at reset) */
    ROMFS_DFU_BOOT_VENDOR,    /* a board maker's own DFU bootloader (e.g. Arduino's) */
};

/* One DFU bootloader of a board, as boards.json records it. */
struct romfs_dfu_boot {
    enum romfs_dfu_bootloader kind;
    uint16_t vid, pid;        /* its USB id */
    int alt;                  /* the alternate setting whose layout holds the partition */
    char layout[256];         /* that setting's DfuSe layout string; "" when not recorded */
    bool only;                /* no other bootloader of the board reaches the partition */
    char hint[640];           /* for messages: each bootloader that reaches the partition,
                                 its USB id and how to start it ("mboot (0483:df11): run
                                 machine.bootloader() at the board's REPL, or ...") */
};

/* "the STM32 system bootloader", "mboot", ... (static text). */
const char *romfs_dfu_boot_name(enum romfs_dfu_bootloader kind);
/* How to start it on the board, e.g. "hold BOOT0 high while resetting the board". */
const char *romfs_dfu_boot_how(enum romfs_dfu_bootloader kind);

/* The bootloader of board b that can write [address, address + size): the first, in the
 * order "dfu" then mboot's interfaces, whose recorded DfuSe layout holds the range in whole
 * readable, erasable, writable sectors (romfs_dfu_check_partition); else one whose layout
 * is not recorded (the device will tell). ROMFS_ERR_INVAL when every recorded layout
 * refuses the range, naming each bootloader and its layout. b may be NULL, and a board
 * with no DFU record gives ST's 0483:df11, kind unknown. */
int romfs_dfu_boot_choose(const struct romfs_board *b, uint64_t address, uint64_t size,
                          struct romfs_dfu_boot *out, struct romfs_error *err);

/* A range a bootloader must take: whole_sectors (a partition the DFU target writes: whole
 * readable, erasable, writable sectors) or only inside erasable, writable sectors (an
 * element of a .dfu file: the bootloader erases the sectors it touches). */
struct romfs_dfu_range {
    uint64_t start, size;
    bool whole_sectors;
};

/* romfs_dfu_boot_choose for several ranges (a .dfu file of firmware and ROMFS): the first
 * bootloader whose layout takes them all. */
int romfs_dfu_boot_choose_ranges(const struct romfs_board *b, const struct romfs_dfu_range *r, size_t n,
                                 struct romfs_dfu_boot *out, struct romfs_error *err);

/* Which of b's bootloaders a device is, by the layout string it reports (the same text as
 * recorded); ROMFS_DFU_BOOT_UNKNOWN when none matches. */
enum romfs_dfu_bootloader romfs_dfu_boot_identify(const struct romfs_board *b, const char *device_layout);

/* The device to look for: --device VID:PID (NULL: boot's id, then each of the board's DFU
 * bootloaders' ids, then ST's 0483:df11), --serial (NULL: any), --alt (-1: the alternate
 * setting whose DfuSe layout covers the partition); m->bootloader points at boot->hint, so
 * boot must outlive m. board and boot may be NULL. ROMFS_ERR_INVAL on a bad VID:PID. */
int romfs_dfu_match_for(struct romfs_dfu_match *m, const struct romfs_board *b,
                        const struct romfs_dfu_boot *boot, const char *device, const char *serial, int alt,
                        struct romfs_error *err);

/* The device to look for: --device VID:PID (NULL: the board's "dfu" usb id, then ST's
 * 0483:df11, which the STM32 system bootloader and mboot both use), --serial (NULL: any),
 * --alt (-1: the board's alt if it has a DfuSe layout covering the partition, else the
 * alt whose layout covers it). board may be NULL. ROMFS_ERR_INVAL on a bad VID:PID. */
int romfs_dfu_match_init(struct romfs_dfu_match *m, const struct romfs_board *board,
                         const char *device, const char *serial, int alt, struct romfs_error *err);

/* Leave DFU on an opened interface (usb is moved in and closed) and start the firmware at
 * jump_address (0: the start of the interface's first sector). */
int romfs_dfu_leave_usb(const struct romfs_dfu_usb *usb, uint32_t jump_address, struct romfs_error *err);

/* Open the device again and leave DFU to run the firmware (`romfs flash --reset` after
 * the target is closed). jump_address 0: the start of the interface's first sector. */
int romfs_dfu_leave_device(const struct romfs_dfu_match *m, uint64_t address,
                           uint32_t jump_address, struct romfs_error *err);

/* The session under a DFU target (statistics, raw access in tests). */
struct romfs_dfu *romfs_dfu_target_session(struct romfs_target *t);

#endif
