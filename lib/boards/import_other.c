/* boards/import_other.c: the ports without ROMFS support whose boards boards.json still
 * lists, with what their tree gives of the flash map: psoc-edge (the filesystem on the
 * QSPI flash, from the board's C configuration; the firmware's linker script is in the
 * BSP submodule) and cc3200 (code and filesystem are files of the SimpleLink file system
 * on the serial flash: no addresses to map). */
#define _GNU_SOURCE
#include "boards/import_internal.h"
#include "boards/import_cdef_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int imp_port_psoc_edge(struct importer *imp)
{
    char **boards;
    size_t n;
    int rc = imp_list_boards(imp, "psoc-edge", "mpconfigboard.mk", &boards, &n);
    for (size_t i = 0; !rc && i < n; i++) {
        struct romfs_board *b = imp_new_board(imp, "psoc-edge", boards[i]);
        if (!b) {
            rc = imp->err->code;
            break;
        }
        b->mcu = strdup("PSE84");
        struct imp_cdefs d = { 0 };
        char *rel = imp_printf("ports/psoc-edge/boards/%s/mpconfigboard.h", boards[i]);
        const char *const inc[] = { "ports/psoc-edge", NULL };
        if (!rel || imp_cdefs_read(&d, imp->tree, rel, inc) == ROMFS_ERR_NOMEM)
            rc = romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
        free(rel);
        int64_t base = 0, size = 0, sector = 0, page = 0;
        const struct imp_cdef *mb = imp_cdefs_find(&d, "EXT_FLASH_BASE"), *ms = imp_cdefs_find(&d, "EXT_FLASH_SIZE");
        /* psoc_edge_qspi_flash.c: the filesystem is EXT_FLASH_SIZE bytes at EXT_FLASH_BASE */
        if (!rc && mb && ms && imp_cdefs_value(&d, "EXT_FLASH_BASE", &base) &&
            imp_cdefs_value(&d, "EXT_FLASH_SIZE", &size) && base >= 0 && size > 0) {
            imp_cdefs_value(&d, "EXT_FLASH_SECTOR_SIZE", &sector);
            imp_cdefs_value(&d, "EXT_FLASH_PAGE_SIZE", &page);
            rc = imp_config(imp, b, "EXT_FLASH_BASE", (uint64_t)base, mb->file, mb->line);
            if (!rc)
                rc = imp_config(imp, b, "EXT_FLASH_SIZE", (uint64_t)size, ms->file, ms->line);
            char *src = imp_printf("%s:%d: EXT_FLASH_BASE + EXT_FLASH_SIZE (at least: the filesystem's end)", ms->file,
                                   ms->line);
            if (!rc && (!src || !imp_map_device(imp, b, "qspi", 0, (uint64_t)(base + size), (uint32_t)sector,
                                                (uint32_t)page, false, src)))
                rc = imp->err->code ? imp->err->code : romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
            free(src);
            src = imp_printf("%s:%d: EXT_FLASH_BASE, EXT_FLASH_SIZE", ms->file, ms->line);
            if (!rc)
                rc = src ? imp_map_area(imp, b, ROMFS_AREA_FS, "qspi", "filesystem", (uint64_t)base, (uint64_t)size,
                                        "psoc_edge.QSPI_Flash", src)
                         : romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
            free(src);
        }
        imp_cdefs_free(&d);
        if (!rc)
            rc = imp_map_finish(imp, b, NULL);
    }
    imp_free_list(boards, n);
    return rc;
}

int imp_port_cc3200(struct importer *imp)
{
    char **boards;
    size_t n;
    int rc = imp_list_boards(imp, "cc3200", "mpconfigboard.h", &boards, &n);
    for (size_t i = 0; !rc && i < n; i++) {
        struct romfs_board *b = imp_new_board(imp, "cc3200", boards[i]);
        if (!b) {
            rc = imp->err->code;
            break;
        }
        b->mcu = strdup("CC3200");
    }
    imp_free_list(boards, n);
    return rc;
}
