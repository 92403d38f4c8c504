/* boards/import_renesas_ra.c: Renesas RA boards (renesas-ra port): code flash block maps. */
#include "boards/import_internal.h"

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
        if (!rc) {
            static const char *const text_names[] = { "FLASH", NULL };
            rc = imp_finish_ld_board(imp, &c, b, FIND_MCU(ra_mcus, mcu), text_names, NULL, &found);
        }
        if (!rc) {
            imp_set_fs(b, &c.res, "FLASH_FS");
            if (imp_define_true(c.header, "MICROPY_HW_ENABLE_USBDEV"))
                b->repl_usb = imp_repl_usb(c.header, MP_VID, MP_PID_CDC_MSC);
            if (!found)
                imp_drop_last(imp);
        }
        free(mcu);
        free(ld_files);
        imp_ctx_free(&c);
    }
    imp_free_list(boards, n);
    return rc;
}
