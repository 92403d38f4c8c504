/* boards/import_renesas_ra.c: Renesas RA boards (renesas-ra port): code flash block maps. */
#include "boards/import_internal.h"
#include "boards/import_cdef_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Renesas RA code flash: RA4 2 KiB blocks; RA6 8x8 KiB then 32 KiB blocks. Write size
   is the 4 bytes vfs.rom_ioctl reports (the port buffers hardware program units). */
static const struct mcu_geometry ra_mcus[] = {
    { "RA4M1", 0, 256 * K, 2 * K, 4, NULL, NULL, NULL },
    { "RA4W1", 0, 512 * K, 2 * K, 4, NULL, NULL, NULL },
    { "RA6M1", 0, 512 * K, 32 * K, 4, "8*8,15*32", NULL, NULL },
    { "RA6M2", 0, 1 * M, 32 * K, 4, "8*8,31*32", NULL, NULL },
    { "RA6M5", 0, 2 * M, 32 * K, 4, "8*8,62*32", NULL, NULL },
};

/* The flash map: code flash (size from the MCU table), FLASH_BOOT (a bootloader region
   the script names), FLASH (firmware), ROMFS, and the internal flash storage
   (_micropy_hw_internal_flash_storage_start/_end) when MICROPY_HW_ENABLE_INTERNAL_FLASH_STORAGE. */
static int ra_map(struct importer *imp, struct romfs_board *b, const struct board_ctx *c, const char *board,
                  const struct mcu_geometry *g)
{
    const struct romfs_ld_result *res = &c->res;
    char *src = g ? imp_printf("%s: %u KiB of code flash (datasheet)", g->prefix, (unsigned)(g->size / K)) : NULL;
    int rc = imp_map_device(imp, b, "internal", 0, g ? g->size : 0, g ? g->erase : 0, g ? g->write : 0, true, src)
                 ? ROMFS_OK
                 : imp->err->code;
    free(src);
    for (size_t i = 0; !rc && i < res->n_regions; i++) {
        const char *n = res->regions[i].name;
        size_t l = strlen(n);
        if ((l > 3 && !strcmp(n + l - 3, "_BL")) || (l > 5 && !strcmp(n + l - 5, "_BOOT")))
            rc = imp_map_region(imp, b, res, ROMFS_AREA_BOOTLOADER, "internal", n, NULL, NULL, NULL);
    }
    if (!rc)
        rc = imp_map_region(imp, b, res, ROMFS_AREA_FIRMWARE, "internal", "FLASH", NULL, NULL, NULL);
    struct imp_cdefs d = { 0 };
    char *hrel = imp_printf("ports/renesas-ra/boards/%s/mpconfigboard.h", board);
    const char *const inc[] = { "ports/renesas-ra", NULL };
    int r2 = hrel ? imp_cdefs_read(&d, imp->tree, hrel, inc) : ROMFS_ERR_NOMEM;
    if (r2 != ROMFS_ERR_NOMEM)
        r2 = imp_cdefs_read(&d, imp->tree, "ports/renesas-ra/mpconfigboard_common.h", inc);
    free(hrel);
    if (!rc && r2 == ROMFS_ERR_NOMEM)
        rc = romfs_set_error(imp->err, r2, "out of memory");
    int64_t on = 1;
    const struct imp_cdef *m = imp_cdefs_find(&d, "MICROPY_HW_ENABLE_INTERNAL_FLASH_STORAGE");
    if (!rc && m && imp_cdefs_value(&d, m->name, &on))
        rc = imp_config(imp, b, m->name, (uint64_t)on, m->file, m->line);
    if (!rc && on)
        rc = imp_map_symbols(imp, b, res, ROMFS_AREA_FS, "internal", "_micropy_hw_internal_flash_storage_start",
                             "_micropy_hw_internal_flash_storage_end", false, "filesystem", "flashbdev", NULL);
    imp_cdefs_free(&d);
    return rc ? rc : imp_map_finish(imp, b, "memoryview");
}

int imp_port_renesas_ra(struct importer *imp)
{
    char **boards;
    size_t n;
    int rc = imp_list_boards(imp, "renesas-ra", "mpconfigboard.mk", &boards, &n);
    for (size_t i = 0; !rc && i < n; i++) {
        struct board_ctx c;
        if ((rc = imp_ctx_read(imp, &c, "renesas-ra", boards[i])))
            break;
        char *mcu = imp_mk_get(&c.vars, "CMSIS_MCU"), *ld_files = imp_mk_get(&c.vars, "LD_FILES");
        struct romfs_board *b = imp_new_board(imp, "renesas-ra", boards[i]);
        rc = b ? ROMFS_OK : imp->err->code;
        if (!rc) {
            b->mcu = strdup(mcu);
            rc = ld_build_add_words(c.lb.scripts, &c.lb.n_scripts, ld_files);
        }
        if (!rc)
            rc = ld_build_add(c.lb.search, &c.lb.n_search, "boards");
        if (!rc)
            rc = ld_build_add(c.lb.defsyms, &c.lb.n_defsyms, "_estack_reserve=8");
        bool found = false;
        const struct mcu_geometry *g = FIND_MCU(ra_mcus, mcu);
        if (!rc) {
            static const char *const text_names[] = { "FLASH", NULL };
            rc = imp_finish_ld_board(imp, &c, b, g, text_names, NULL, &found);
        }
        if (!rc) {
            imp_set_fs(b, &c.res, "FLASH_FS");
            if (imp_define_true(c.header, "MICROPY_HW_ENABLE_USBDEV"))
                b->repl_usb = imp_repl_usb(c.header, MP_VID, MP_PID_CDC_MSC);
            (void)found;
            rc = ra_map(imp, b, &c, boards[i], g);
        }
        free(mcu);
        free(ld_files);
        imp_ctx_free(&c);
    }
    imp_free_list(boards, n);
    return rc;
}
