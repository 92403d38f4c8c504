/* boards/import.h: build boards.json from a MicroPython source tree.
 *
 * Every board directory of the tree's ports/PORT/boards is imported, with or without
 * ROMFS. For each the importer works out what the port's build hands the linker
 * (linker scripts, --defsym values, C-preprocessor defines, -L directories), evaluates
 * those scripts with the linker-script evaluator (ld/ldscript.h), reads the board's C
 * configuration headers with their conditionals (boards/import_cdef_internal.h), its
 * make, CMake and sdkconfig files and esp32 partition tables, and records the ROMFS
 * partitions (the _micropy_hw_romfs_partN_start/_size symbols, or
 * MICROPY_HW_ROMFS_PARTN_* make variables on qemu) and their API, the flash map
 * (devices; bootloaders, firmware, ROMFS, filesystem, reserved areas, each with its
 * source), the configuration values it rests on, the flash MEMORY regions, flash
 * geometry and how to reach the board. rp2 and esp32 boards have ROMFS only by build
 * option (romfs_option says which). The result is deterministic: boards sorted by port
 * then name. */
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

/* Import every board from the MicroPython tree at `tree` into *out (zeroed first;
 * free with romfs_boards_free, also after an error). Errors: ROMFS_ERR_NOENT (not a
 * MicroPython tree), any linker-script evaluation error (prefixed with the board).
 * A board whose scripts fail is left out and the others are imported: then the result
 * is ROMFS_ERR_CORRUPT, err names every board left out (one per line, file:line), and
 * *out holds the rest (out->n may be 0). */
int romfs_boards_import(const char *tree, const struct romfs_import_options *opt, struct romfs_boards *out,
                        struct romfs_error *err);

#endif
