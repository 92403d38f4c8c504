/* boards/import_alif.c: Alif Ensemble boards (alif port): one build per core, ROMFS in
 * OSPI flash and MRAM. */
#include "boards/import_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Each board builds twice (alif Makefile): the M55_HP core with OSPI part0 + MRAM part1,
   the M55_HE core with MRAM part0. Both builds' partitions are recorded. */
int imp_port_alif(struct importer *imp)
{
    char **boards;
    size_t n;
    int rc = imp_list_boards(imp, "alif", "mpconfigboard.mk", &boards, &n);
    for (size_t i = 0; !rc && i < n; i++) {
        struct board_ctx c;
        if ((rc = imp_ctx_read(imp, &c, "alif", boards[i])))
            break;
        char *ld_file = imp_mk_get(&c.vars, "LD_FILE"), *variant = imp_mk_get(&c.vars, "MCU_VARIANT");
        struct romfs_board *b = imp_new_board(imp, "alif", boards[i]);
        rc = b ? ROMFS_OK : imp->err->code;
        if (!rc)
            b->mcu = strdup(variant);
        static const char *const cores[] = { "M55_HP", "M55_HE" };
        for (int core = 0; !rc && core < 2; core++) {
            struct board_ctx cc = { 0 };
            cc.lb.port = "alif";
            cc.lb.preprocess = true; /* $(CPP) -P -E $(CFLAGS) board.ld.S */
            rc = ld_build_add_words(cc.lb.scripts, &cc.lb.n_scripts, *ld_file ? ld_file : "mcu/ensemble.ld.S");
            /* alif.mk: CFLAGS has -D$(MCU_CORE)=1 -DCORE_$(MCU_CORE), INC has -I. and -I$(BOARD_DIR) */
            if (!rc)
                rc = ld_build_add(cc.lb.defines, &cc.lb.n_defines, "%s=1", cores[core]);
            if (!rc)
                rc = ld_build_add(cc.lb.defines, &cc.lb.n_defines, "CORE_%s=1", cores[core]);
            if (!rc)
                rc = ld_build_add(cc.lb.incdirs, &cc.lb.n_incdirs, ".");
            if (!rc)
                rc = ld_build_add(cc.lb.incdirs, &cc.lb.n_incdirs, "boards/%s", boards[i]);
            if (!rc)
                rc = imp_evaluate(imp, &cc.lb, b->name, &cc.res);
            size_t before = b->n_partitions;
            for (int idx = 0; !rc && idx < 2; idx++) {
                bool f;
                uint64_t start = 0;
                char sn[48];
                snprintf(sn, sizeof sn, "_micropy_hw_romfs_part%d_start", idx);
                romfs_ld_find_symbol(&cc.res, sn, &start);
                bool mram = start >= 0x80000000u && start < 0x80600000u;
                rc = imp_partition_from_ld(imp, b, &cc.res, idx, mram ? 16 : 4096, mram ? 16 : 4, true,
                                           mram ? "mram" : "ospi", &f);
            }
            for (size_t k = before; !rc && k < b->n_partitions; k++)
                if (!(b->partitions[k].core = strdup(cores[core])))
                    rc = romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
            if (!rc && core == 0) {
                rc = imp_take_regions(imp, b, &cc.res);
                if (!rc)
                    rc = imp_set_scripts(b, &cc.lb);
                imp_set_text(b, &cc.res, "MRAM_HP");
                imp_set_fs(b, &cc.res, "MRAM_FS");
            }
            imp_ctx_free(&cc);
        }
        if (!rc) {
            b->flash_base = 0x80000000u; /* MRAM */
            b->flash_size = 0x580000u;
            b->erase_block = 16;
            b->write_block = 16;
            b->repl_usb = imp_repl_usb(c.header, MP_VID, MP_PID_CDC);
            if (!b->n_partitions)
                imp_drop_last(imp);
        }
        free(ld_file);
        free(variant);
        imp_ctx_free(&c);
    }
    imp_free_list(boards, n);
    return rc;
}
