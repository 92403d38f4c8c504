/* boards/import.h: build boards.json from a MicroPython source tree.
 *
 * For every port with ROMFS support the importer works out what the port's
 * Makefile hands the linker for each board (linker scripts, --defsym values,
 * C-preprocessor defines, -L directories), evaluates those scripts with the
 * linker-script evaluator (ld/ldscript.h), and records the ROMFS partitions
 * (the _micropy_hw_romfs_partN_start/_size symbols, or MICROPY_HW_ROMFS_PARTN_*
 * make variables on qemu), the flash MEMORY regions, flash geometry per MCU
 * family and how to reach the board. rp2 and esp32 boards get their flash
 * geometry only (ROMFS there is a build option). The result is deterministic:
 * boards sorted by port then name. */
#ifndef ROMFS_BOARD_IMPORT_H
#define ROMFS_BOARD_IMPORT_H

#include "boards/db.h"
#include "base/error.h"

struct romfs_import_options {
    const char *version;      /* MicroPython version string to record (NULL: read from the
                                 tree's py/mpconfig.h, plus "commit" when given) */
    const char *commit;       /* commit id to record, or NULL */
    const char *only_port;    /* import only this port (NULL: all) */
};

/* Import every ROMFS board from the MicroPython tree at `tree` into *out (zeroed first;
 * free with romfs_boards_free, also after an error). Errors: ROMFS_ERR_NOENT (not a
 * MicroPython tree), any linker-script evaluation error (prefixed with the board).
 * A board whose scripts fail is left out and the others are imported: then the result
 * is ROMFS_ERR_CORRUPT, err names every board left out (one per line, file:line), and
 * *out holds the rest (out->n may be 0). */
int romfs_boards_import(const char *tree, const struct romfs_import_options *opt, struct romfs_boards *out,
                        struct romfs_error *err);

#endif
