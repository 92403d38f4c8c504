/* boards/import_samd.c: Microchip SAMD21/SAMD51 boards (samd port). */
#include "boards/import_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct mcu_geometry samd_mcus[] = {
    { "SAMD21", 0, 256 * K, 256, 4, NULL, "target/at91samdXX.cfg", NULL },
    { "SAMD51P20", 0, 1 * M, 8 * K, 4, NULL, "target/atsame5x.cfg", NULL },
    { "SAMD51J20", 0, 1 * M, 8 * K, 4, NULL, "target/atsame5x.cfg", NULL },
    { "SAMD51", 0, 512 * K, 8 * K, 4, NULL, "target/atsame5x.cfg", NULL },
};

int imp_port_samd(struct importer *imp)
{
    char **boards;
    size_t n;
    int rc = imp_list_boards(imp, "samd", "mpconfigboard.mk", &boards, &n);
    for (size_t i = 0; !rc && i < n; i++) {
        struct board_ctx c;
        if ((rc = imp_ctx_read(imp, &c, "samd", boards[i])))
            break;
        char *series = imp_mk_get(&c.vars, "MCU_SERIES");
        char *lower = strdup(series);
        for (char *q = lower; q && *q; q++)
            *q = (char)(*q >= 'A' && *q <= 'Z' ? *q + 32 : *q);
        /* Makefile: include mcu/$(MCU_SERIES_LOWER)/mpconfigmcu.mk after the board's */
        char *mcu_mk = lower ? imp_path(imp, "ports/samd/mcu/%s/mpconfigmcu.mk", lower) : NULL;
        /* a board without ROMFS by default may have a named variant with it (QTPY SPIFLASH) */
        char *vpath = imp_path(imp, "ports/samd/boards/%s/mpconfigvariant_SPIFLASH.mk", boards[i]);
        char *vtext = vpath ? imp_read_text(vpath) : NULL;
        bool use_variant = false;
        if (vtext && mcu_mk) {
            struct romfs_mkvars probe = { 0 };
            for (size_t k = 0; k < c.vars.n; k++)
                romfs_mk_set(&probe, c.vars.v[k].name, c.vars.v[k].value);
            char *bytes_s = NULL;
            uint64_t bytes0 = 0;
            if (romfs_mk_read(&probe, mcu_mk, imp->err) == ROMFS_OK) {
                bytes_s = imp_mk_get(&probe, "MICROPY_HW_ROMFS_BYTES");
                use_variant = !(romfs_mk_number(bytes_s, &bytes0) && bytes0);
            }
            free(bytes_s);
            romfs_mk_free(&probe);
        }
        rc = ROMFS_OK;
        if (use_variant)
            rc = romfs_mk_apply(&c.vars, vpath, vtext, imp->err);
        free(vpath);
        free(vtext);
        if (!rc)
            rc = mcu_mk ? romfs_mk_read(&c.vars, mcu_mk, imp->err) : ROMFS_ERR_NOMEM;
        free(mcu_mk);
        free(lower);
        char *codesize = imp_mk_get(&c.vars, "MICROPY_HW_CODESIZE"), *romfs = imp_mk_get(&c.vars, "MICROPY_HW_ROMFS_BYTES");
        char *cmsis = imp_mk_get(&c.vars, "CMSIS_MCU"), *ld_files = imp_mk_get(&c.vars, "LD_FILES");
        uint64_t bytes = 0;
        if (!rc && romfs_mk_number(romfs, &bytes) && bytes) {
            char *bname = imp_printf("%s%s", boards[i], use_variant ? "-SPIFLASH" : "");
            struct romfs_board *b = bname ? imp_new_board(imp, "samd", bname) : NULL;
            free(bname);
            rc = b ? ROMFS_OK : imp->err->code;
            if (!rc) {
                b->mcu = strdup(cmsis);
                b->variant = use_variant ? strdup("SPIFLASH") : NULL;
                rc = ld_build_add_words(c.lb.scripts, &c.lb.n_scripts, ld_files);
            }
            /* samd's Makefile runs $(LD) itself: -T scripts, then the --defsym options */
            c.lb.defsyms_last = true;
            if (!rc)
                rc = ld_build_add(c.lb.defsyms, &c.lb.n_defsyms, "_codesize=%s", codesize);
            if (!rc)
                rc = ld_build_add(c.lb.defsyms, &c.lb.n_defsyms, "_micropy_hw_romfs_part0_size=%s", romfs);
            bool found = false;
            if (!rc) {
                static const char *const text_names[] = { "FLASH", NULL };
                rc = imp_finish_ld_board(imp, &c, b, FIND_MCU(samd_mcus, cmsis), text_names, NULL, &found);
            }
            if (!rc) {
                uint64_t fs_start, fs_size;
                if (romfs_ld_find_symbol(&c.res, "_oflash_fs", &fs_start) == ROMFS_OK &&
                    romfs_ld_find_symbol(&c.res, "_sflash_fs", &fs_size) == ROMFS_OK && fs_size &&
                    fs_size < (1ull << 40)) {
                    /* 0 or negative: the board keeps its filesystem on external SPI flash */
                    b->fs_region = strdup("_oflash_fs/_sflash_fs");
                    b->fs_start = fs_start;
                    b->fs_size = fs_size > (1ull << 40) ? 0 : fs_size; /* negative: none */
                }
                b->repl_usb = imp_repl_usb(c.header, MP_VID, MP_PID_CDC);
                b->has_uf2 = true;
                b->uf2_family = strncasecmp(cmsis, "SAMD21", 6) == 0 ? UF2_SAMD21 : UF2_SAMD51;
                if (!found)
                    imp_drop_last(imp);
            }
        }
        free(series);
        free(codesize);
        free(romfs);
        free(cmsis);
        free(ld_files);
        imp_ctx_free(&c);
    }
    imp_free_list(boards, n);
    return rc;
}
