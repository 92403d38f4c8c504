/* boards/import_alif.c: Alif Ensemble boards (alif port): one build per core, ROMFS in
 * OSPI flash and MRAM. */
#include "boards/import_internal.h"
#include "boards/import_cdef_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The flash map: MRAM (MRAM_BL bootloader, MRAM_HP and MRAM_HE the two cores' firmware,
   MRAM_FS a ROMFS partition, MRAM_TOC the boot table of contents) and the OSPI flash (the
   filesystem at MICROPY_HW_FLASH_STORAGE_BASE_ADDR, then ROMFS), read through the OSPI
   XIP window the HP core's ROMFS partition lies in. */
static int alif_map(struct importer *imp, struct romfs_board *b, const struct romfs_ld_result *res, const char *board)
{
    /* MRAM: from 0x80000000 to the end of the highest MRAM_* region (MRAM_TOC, the last) */
    const struct romfs_ld_region *top = NULL;
    for (size_t i = 0; i < res->n_regions; i++)
        if (!strncmp(res->regions[i].name, "MRAM_", 5) &&
            (!top || res->regions[i].origin + res->regions[i].length > top->origin + top->length))
            top = &res->regions[i];
    char *msrc = top ? imp_printf("%s:%d: %s (MRAM: from 0x80000000 to this region's end)",
                                  imp_tree_relative(imp, top->file), top->line, top->name)
                     : NULL;
    int rc = imp_map_device(imp, b, "mram", 0x80000000u, top ? top->origin + top->length - 0x80000000u : 0, 16, 16,
                            true, msrc)
                 ? ROMFS_OK
                 : imp->err->code;
    free(msrc);
    static const struct {
        const char *region, *core;
        enum romfs_area_kind kind;
    } areas[] = {
        { "MRAM_BL", NULL, ROMFS_AREA_BOOTLOADER }, { "MRAM_HP", "M55_HP", ROMFS_AREA_FIRMWARE },
        { "MRAM_HE", "M55_HE", ROMFS_AREA_FIRMWARE }, { "MRAM_TOC", NULL, ROMFS_AREA_RESERVED },
    };
    for (size_t k = 0; !rc && k < sizeof areas / sizeof areas[0]; k++) {
        bool found = false;
        rc = imp_map_region(imp, b, res, areas[k].kind, "mram", areas[k].region, NULL, NULL, &found);
        if (!rc && found && areas[k].core && !(b->areas[b->n_areas - 1].core = strdup(areas[k].core)))
            rc = romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    }
    struct imp_cdefs d = { 0 };
    char *hrel = imp_printf("ports/alif/boards/%s/mpconfigboard.h", board);
    const char *const inc[] = { "ports/alif", NULL };
    if (!rc && (!hrel || imp_cdefs_read(&d, imp->tree, hrel, inc) == ROMFS_ERR_NOMEM))
        rc = romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    free(hrel);
    int64_t chip = 0, fs = 0, at = 0;
    const struct romfs_partition *p = NULL;
    for (size_t i = 0; i < b->n_partitions; i++)
        if (b->partitions[i].device && !strcmp(b->partitions[i].device, "ospi"))
            p = &b->partitions[i];
    if (!rc && p && imp_cdefs_value(&d, "MICROPY_HW_FLASH_STORAGE_BYTES", &chip) &&
        imp_cdefs_value(&d, "MICROPY_HW_FLASH_STORAGE_FS_BYTES", &fs) &&
        imp_cdefs_value(&d, "MICROPY_HW_FLASH_STORAGE_BASE_ADDR", &at)) {
        static const char *const names[] = { "MICROPY_HW_FLASH_STORAGE_BYTES", "MICROPY_HW_FLASH_STORAGE_FS_BYTES",
                                             "MICROPY_HW_FLASH_STORAGE_BASE_ADDR" };
        const int64_t vals[] = { chip, fs, at };
        for (size_t k = 0; !rc && k < 3; k++) {
            const struct imp_cdef *m = imp_cdefs_find(&d, names[k]);
            rc = imp_config(imp, b, names[k], (uint64_t)vals[k], m->file, m->line);
        }
        /* OSPI0 maps at 0xA0000000, OSPI1 at 0xC0000000: the window ROMFS lies in */
        uint64_t base = p->start & ~0x0fffffffull;
        const struct imp_cdef *m = imp_cdefs_find(&d, "MICROPY_HW_FLASH_STORAGE_BYTES");
        char *src = imp_printf("%s:%d: MICROPY_HW_FLASH_STORAGE_BYTES, in the OSPI XIP window at 0x%08llx", m->file,
                               m->line, (unsigned long long)base);
        if (!rc && (!src || !imp_map_device(imp, b, "ospi", base, (uint64_t)chip, 4096, 4, true, src)))
            rc = imp->err->code ? imp->err->code : romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
        free(src);
        m = imp_cdefs_find(&d, "MICROPY_HW_FLASH_STORAGE_FS_BYTES");
        src = imp_printf("%s:%d: MICROPY_HW_FLASH_STORAGE_BASE_ADDR + MICROPY_HW_FLASH_STORAGE_FS_BYTES", m->file,
                         m->line);
        if (!rc)
            rc = src ? imp_map_area(imp, b, ROMFS_AREA_FS, "ospi", "filesystem", base + (uint64_t)at, (uint64_t)fs,
                                    "alif.Flash", src)
                     : romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
        if (!rc)
            b->areas[b->n_areas - 1].core = strdup("M55_HP");
        free(src);
    }
    imp_cdefs_free(&d);
    return rc ? rc : imp_map_finish(imp, b, "memoryview");
}

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
            if (!rc && core == 0 && !b->link && imp->link && !(b->link = strdup(imp->link)))
                rc = romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
            if (!rc && core == 0) {
                rc = imp_take_regions(imp, b, &cc.res);
                if (!rc)
                    rc = imp_set_scripts(b, &cc.lb);
                imp_set_text(b, &cc.res, "MRAM_HP");
                imp_set_fs(b, &cc.res, "MRAM_FS");
            }
            if (!rc && core == 1)
                rc = alif_map(imp, b, &cc.res, boards[i]);
            imp_ctx_free(&cc);
        }
        if (!rc) {
            b->flash_base = 0x80000000u; /* MRAM */
            b->flash_size = 0x580000u;
            b->erase_block = 16;
            b->write_block = 16;
            b->repl_usb = imp_repl_usb(c.header, MP_VID, MP_PID_CDC);

        }
        free(ld_file);
        free(variant);
        imp_ctx_free(&c);
    }
    imp_free_list(boards, n);
    return rc;
}
