/* dfu_target.h: a struct romfs_target (flash/flash.h) over a DfuSe interface (transport/dfu.h).
 * erase() erases exactly the DfuSe sectors the range covers (sectors may differ in size),
 * refusing sectors the layout marks not erasable/writable; prog() is set address + DNLOAD;
 * read() is UPLOAD. */
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

/* The device to look for: --device VID:PID (NULL: the board's "dfu" usb id, then ST's
 * 0483:df11, which the STM32 system bootloader and mboot both use), --serial (NULL: any),
 * --alt (-1: the board's alt if it has a DfuSe layout covering the partition, else the
 * alt whose layout covers it). board may be NULL. ROMFS_ERR_INVAL on a bad VID:PID. */
int romfs_dfu_match_init(struct romfs_dfu_match *m, const struct romfs_board *board,
                         const char *device, const char *serial, int alt, struct romfs_error *err);

/* Open the device again and leave DFU to run the firmware (`romfs flash --reset` after
 * the target is closed). jump_address 0: the start of the interface's first sector. */
int romfs_dfu_leave_device(const struct romfs_dfu_match *m, uint64_t address,
                           uint32_t jump_address, struct romfs_error *err);

/* The session under a DFU target (statistics, raw access in tests). */
struct romfs_dfu *romfs_dfu_target_session(struct romfs_target *t);

#endif
