/* boards/lint.h: flash layout lint for boards and linker scripts.
 *
 * GNU ld never reports overlapping MEMORY regions; this does. A board with a flash map
 * (boards/db.h: devices and the areas on them) is checked on the map: any two of
 * bootloader, firmware, ROMFS, filesystem and reserved areas on one device overlapping
 * (areas of different cores on a multi-core board may share one range when they are the
 * same kind of thing: both cores read one ROMFS), a ROMFS on the flash range a filesystem's
 * block device uses, a filesystem left with no room or below a floor, an area past the end
 * of its device (the C configuration's device size against the linker script's area), a
 * ROMFS on flash that is not memory-mapped where the port needs it mapped, and a value
 * recorded from two sources that differ (the ROMFS partition from the linker symbols
 * against the map, the filesystem's or firmware's linker region against the map). A board
 * without a map, and linker scripts alone, are checked on their MEMORY regions. Every
 * board's ROMFS partitions are checked against their erase blocks.
 *
 * Findings name the board, the areas, the addresses and the sources (file:line), with a
 * severity: error for layouts that corrupt data or cannot work (overlaps, ROMFS running
 * into the next region, firmware on a bootloader, misaligned or partial erase blocks,
 * areas past the end of their flash, a filesystem with no room, a ROMFS that must be
 * mapped and is not, disagreeing sources), warning for layouts that work but risk, waste
 * or limit: an area lying in the tail of the region the firmware is linked into (only a
 * firmware that grows that far overwrites it, and the link does not stop one), a
 * filesystem below the floor, and without a map a ROMFS not memory-mapped. */
#ifndef ROMFS_BOARD_LINT_H
#define ROMFS_BOARD_LINT_H

#include <stdint.h>

#include "boards/db.h"
#include "base/error.h"

enum romfs_lint_severity { ROMFS_LINT_WARNING = 1, ROMFS_LINT_ERROR = 2 };

struct romfs_lint_finding {
    char *board;            /* board name (or script name) */
    char *check;            /* stable id: "overlap", "romfs-overrun", "firmware-on-bootloader",
                               "romfs-unaligned", "romfs-partial-block", "romfs-too-small",
                               "romfs-not-mmap", "romfs-outside-flash", "past-flash-end",
                               "romfs-overlaps-firmware", "fs-no-room"; on a flash map also
                               "romfs-on-fs", "fs-overlaps-firmware", "romfs-on-bootloader",
                               "fs-on-bootloader", "fs-small",
                               "past-device-end", "sources-disagree" */
    int severity;           /* enum romfs_lint_severity */
    char *region_a;         /* first region (or "romfs partN"), never NULL */
    char *region_b;         /* second region, or NULL */
    uint64_t address;       /* where the problem starts */
    uint64_t bytes;         /* how many bytes are involved (overlap length, misalignment, ...) */
    char *message;          /* one line, names everything above */
    /* added with the flash map (NULL when unknown or not from a map): */
    char *device;           /* the flash device the areas lie on */
    char *source_a;         /* where region_a comes from ("file:line: symbol") */
    char *source_b;         /* where region_b (or the other value) comes from */
};

struct romfs_lint_report {
    struct romfs_lint_finding *findings;
    size_t n;
    size_t n_errors, n_warnings;
};

/* What lint may be told. */
struct romfs_lint_options {
    uint64_t fs_floor;      /* a filesystem smaller than this (and not 0) is a warning
                               ("fs-small"); 0: no floor */
};

/* The floor romfs_lint_board uses: 64 KiB. */
#define ROMFS_LINT_FS_FLOOR_DEFAULT (64u * 1024u)

/* Lint one board; findings are appended to *report (zero it before the first call).
 * opts NULL: the defaults. Returns ROMFS_ERR_NOMEM only. */
int romfs_lint_board_with(const struct romfs_board *b, const struct romfs_lint_options *opts,
                          struct romfs_lint_report *report, struct romfs_error *err);

/* romfs_lint_board_with with the default options. */
int romfs_lint_board(const struct romfs_board *b, struct romfs_lint_report *report, struct romfs_error *err);

/* Build a board description from linker scripts alone (MEMORY regions and romfs
 * symbols; no device flash size, so past-end checks are skipped). `name` labels
 * findings. scripts are evaluated in order as -T scripts; INCLUDE resolves next to
 * the first script. The board is freed with romfs_board_free. */
int romfs_lint_board_from_scripts(const char *name, const char *const *scripts, size_t n_scripts,
                                  struct romfs_board *out, struct romfs_error *err);

void romfs_lint_report_free(struct romfs_lint_report *report);

#endif
