/* flash/swd.h: a flash target (flash/flash.h) that writes a ROMFS partition over SWD
 * through a GDB server: a running one (gdb://HOST:PORT, QEMU, J-Link), a Black Magic
 * Probe (serial:/dev/ttyACM0), or OpenOCD / pyOCD started for the occasion.
 *
 * When the server publishes a memory map, the partition is checked against it: a flash
 * region is written with vFlashErase/vFlashWrite/vFlashDone using the map's block size,
 * a RAM region with X/M. Without a memory map the partition is taken to be RAM (QEMU's
 * emulated boards, RAM-loaded firmware) unless mode says flash. */
#ifndef ROMFS_SWD_H
#define ROMFS_SWD_H

#include <stdbool.h>
#include <stdint.h>

#include "flash/flash.h"
#include "transport/gdbremote.h"
#include "flash/probe.h"

enum romfs_swd_mode {
    ROMFS_SWD_AUTO,   /* from the server's memory map; RAM writes when there is none */
    ROMFS_SWD_FLASH,  /* vFlash* requests (the server must know the flash) */
    ROMFS_SWD_RAM,    /* X / M memory writes */
};

struct romfs_swd_options {
    const char *probe;          /* gdb://HOST:PORT, HOST:PORT, serial:PATH, openocd, pyocd */
    struct romfs_probe_config probe_config;  /* target scripts for openocd / pyocd */
    uint64_t address;           /* absolute address of the partition */
    uint64_t size;              /* partition size in bytes */
    uint32_t erase_block;       /* boards.json erase block; 0: the memory map's, else 4096 */
    uint32_t write_block;       /* program granularity; 0: 4 */
    enum romfs_swd_mode mode;
    int timeout_ms;             /* per reply (0: 5000; vFlashErase of big sectors may need more) */
};

/* What the session found out, for reports. */
struct romfs_swd_info {
    char server[160];           /* the GDB server address used */
    bool flash;                 /* vFlash* (true) or X/M memory writes (false) */
    bool memory_map;            /* the server published a memory map and it was checked */
    uint32_t erase_size;        /* erase block used */
    size_t packet_size;         /* the server's PacketSize */
};

/* Connect (starting openocd/pyocd if asked), check the partition against the server's
 * memory map, and fill *t. Fails with ROMFS_ERR_MISMATCH when the memory map disagrees
 * with the partition (outside every region, in ROM, unaligned to the flash blocks, or a
 * board erase block smaller than the server's). Release with t->close (which detaches,
 * leaving the target running, if romfs_swd_target_finish was not called). */
int romfs_swd_target_open(const struct romfs_swd_options *opt, struct romfs_target *t,
                          struct romfs_swd_info *info, struct romfs_error *err);

/* The same on an already connected and handshaken client (tests); takes ownership of g. */
int romfs_swd_target_open_gdb(struct romfs_gdb *g, const struct romfs_swd_options *opt,
                              struct romfs_target *t, struct romfs_swd_info *info,
                              struct romfs_error *err);

/* Compare the server's qCRC of the partition's first len bytes with image's CRC.
 * *checked is false when the server has no qCRC (not an error). ROMFS_ERR_MISMATCH when
 * they differ. */
int romfs_swd_target_crc_check(struct romfs_target *t, const uint8_t *image, size_t len,
                               bool *checked, struct romfs_error *err);

/* End the session: with reset false, detach so the target runs on; with reset true, reset
 * the target first (reset_command as a monitor command; NULL: "reset run" for OpenOCD,
 * "reset" for pyOCD, otherwise "reset" then QEMU's "system_reset"). */
int romfs_swd_target_finish(struct romfs_target *t, bool reset, const char *reset_command,
                            struct romfs_error *err);

#endif
