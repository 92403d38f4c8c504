/* boards/import_nrf.c: Nordic nRF51/nRF52/nRF91 boards (nrf port). */
#include "boards/import_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct mcu_geometry nrf_mcus[] = {
    { "nrf51822", 0, 256 * K, 1 * K, 4, NULL, "target/nrf51.cfg", "nrf51" },
    { "nrf52832", 0, 512 * K, 4 * K, 4, NULL, "target/nrf52.cfg", "nrf52" },
    { "nrf52840", 0, 1 * M, 4 * K, 4, NULL, "target/nrf52.cfg", "nrf52840" },
    { "nrf9160", 0, 1 * M, 4 * K, 4, NULL, NULL, "nrf91" },
};

int imp_port_nrf(struct importer *imp)
{
    char **boards;
    size_t n;
    int rc = imp_list_boards(imp, "nrf", "mpconfigboard.mk", &boards, &n);
    for (size_t i = 0; !rc && i < n; i++) {
        struct board_ctx c;
        if ((rc = imp_ctx_read(imp, &c, "nrf", boards[i])))
            break;
        /* Makefile order: board LD_FILES, SoftDevice script (when the board sets SD),
           bootloader script, memory.ld, common.ld; LD_FILE replaces all. */
        char *sub = imp_mk_get(&c.vars, "MCU_SUB_VARIANT"), *bl = imp_mk_get(&c.vars, "BOOTLOADER");
        char *blmaj = imp_mk_get(&c.vars, "BOOTLOADER_VERSION_MAJOR"), *blmin = imp_mk_get(&c.vars, "BOOTLOADER_VERSION_MINOR");
        char *ld_files = imp_mk_get(&c.vars, "LD_FILES"), *ld_file = imp_mk_get(&c.vars, "LD_FILE");
        char *fs = imp_mk_get(&c.vars, "FS_SIZE");
        char *sd = imp_mk_get(&c.vars, "SD"), *sdver = imp_mk_get(&c.vars, "SOFTDEV_VERSION");
        struct romfs_board *b = imp_new_board(imp, "nrf", boards[i]);
        rc = b ? ROMFS_OK : imp->err->code;
        if (!rc) {
            b->mcu = strdup(sub);
            for (char *q = b->mcu; q && *q; q++)
                *q = (char)(*q >= 'a' && *q <= 'z' ? *q - 32 : *q);
            if (*ld_file) {
                rc = ld_build_add_words(c.lb.scripts, &c.lb.n_scripts, ld_file);
            } else {
                rc = ld_build_add_words(c.lb.scripts, &c.lb.n_scripts, ld_files);
                if (!rc && *sd) { /* a board that sets SD= builds with that SoftDevice by default */
                    for (char *q = sd; *q; q++)
                        *q = (char)(*q >= 'A' && *q <= 'Z' ? *q + 32 : *q);
                    rc = ld_build_add(c.lb.scripts, &c.lb.n_scripts, "boards/%s_%s.ld", sd, sdver);
                }
                if (!rc && *bl)
                    rc = ld_build_add(c.lb.scripts, &c.lb.n_scripts, "boards/%s_%s_%s.%s.x.ld", sub, bl, blmaj, blmin);
                if (!rc)
                    rc = ld_build_add(c.lb.scripts, &c.lb.n_scripts, "boards/memory.ld");
                if (!rc)
                    rc = ld_build_add(c.lb.scripts, &c.lb.n_scripts, "boards/common.ld");
            }
        }
        if (!rc)
            rc = ld_build_add(c.lb.search, &c.lb.n_search, "boards");
        if (!rc && *fs)
            rc = ld_build_add(c.lb.defsyms, &c.lb.n_defsyms, "_fs_size=%s", fs);
        bool found = false;
        if (!rc) {
            static const char *const text_names[] = { "FLASH_TEXT", NULL };
            rc = imp_finish_ld_board(imp, &c, b, FIND_MCU(nrf_mcus, sub), text_names, NULL, &found);
        }
        if (!rc) {
            uint64_t s, z;
            if (romfs_ld_find_symbol(&c.res, "_fs_start", &s) == ROMFS_OK &&
                romfs_ld_find_symbol(&c.res, "_fs_size", &z) == ROMFS_OK) {
                b->fs_region = strdup("_fs_start/_fs_size");
                b->fs_start = s;
                b->fs_size = z;
            }
            if (strcmp(sub, "nrf52840") == 0 && imp_define_true(c.header, "MICROPY_HW_USB_CDC"))
                b->repl_usb = imp_repl_usb(c.header, MP_VID, MP_PID_CDC);
            if (strcmp(boards[i], "SEEED_XIAO_NRF52") == 0) { /* Adafruit nRF52 UF2 bootloader */
                b->has_uf2 = true;
                b->uf2_family = UF2_NRF52840;
            }
            if (!found)
                imp_drop_last(imp);
        }
        free(sub);
        free(bl);
        free(blmaj);
        free(blmin);
        free(ld_files);
        free(ld_file);
        free(fs);
        free(sd);
        free(sdver);
        imp_ctx_free(&c);
    }
    imp_free_list(boards, n);
    return rc;
}
