/* boards/lint.h: flash layout lint for boards and linker scripts.
 *
 * GNU ld never reports overlapping MEMORY regions; this does. Findings name the
 * board, the regions and the bytes involved, with a severity: error for layouts
 * that corrupt data (overlaps, ROMFS running into the next region, firmware on a
 * bootloader, misaligned or partial erase blocks, regions past the end of flash),
 * warning for layouts that work but waste or limit (ROMFS not memory-mapped, a
 * filesystem left with no room). */
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
                               "romfs-overlaps-firmware", "fs-no-room" */
    int severity;           /* enum romfs_lint_severity */
    char *region_a;         /* first region (or "romfs partN"), never NULL */
    char *region_b;         /* second region, or NULL */
    uint64_t address;       /* where the problem starts */
    uint64_t bytes;         /* how many bytes are involved (overlap length, misalignment, ...) */
    char *message;          /* one line, names everything above */
};

struct romfs_lint_report {
    struct romfs_lint_finding *findings;
    size_t n;
    size_t n_errors, n_warnings;
};

/* Lint one board; findings are appended to *report (zero it before the first call). */
int romfs_lint_board(const struct romfs_board *b, struct romfs_lint_report *report, struct romfs_error *err);

/* Build a board description from linker scripts alone (MEMORY regions and romfs
 * symbols; no device flash size, so past-end checks are skipped). `name` labels
 * findings. scripts are evaluated in order as -T scripts; INCLUDE resolves next to
 * the first script. The board is freed with romfs_board_free. */
int romfs_lint_board_from_scripts(const char *name, const char *const *scripts, size_t n_scripts,
                                  struct romfs_board *out, struct romfs_error *err);

void romfs_lint_report_free(struct romfs_lint_report *report);

#endif
