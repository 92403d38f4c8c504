/* boards/import_mimxrt.c: NXP i.MX RT boards (mimxrt port), linked from the port's
 * preprocessed linker scripts with the board's flash configuration. */
#include "boards/import_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The flash map on the FlexSPI flash (common.ld's MEMORY): the boot header (m_flash_config,
   m_ivt), the firmware (m_interrupts, m_text), ROMFS, the filesystem (m_vfs) and what a
   board reserves at the end (m_reserved: Teensy's recovery image). */
static int mimxrt_map(struct importer *imp, struct romfs_board *b, const struct board_ctx *c, const char *board,
                      uint32_t erase)
{
    const struct romfs_ld_result *res = &c->res;
    char *mk = imp_printf("ports/mimxrt/boards/%s/mpconfigboard.mk", board);
    const char *files[] = { mk, "ports/mimxrt/Makefile", NULL };
    static const char *const vars[] = { "MICROPY_HW_FLASH_SIZE", "MICROPY_HW_ROMFS_BYTES", "MICROPY_HW_FLASH_RESERVED" };
    int rc = mk ? ROMFS_OK : romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    for (size_t k = 0; !rc && k < 3; k++) {
        char *v = imp_mk_get(&c->vars, vars[k]);
        if (k == 1 && !*v) {
            free(v);
            v = strdup("0x40000"); /* the Makefile's default for an empty value */
        }
        rc = v ? imp_config_mk(imp, b, vars[k], v, files) : ROMFS_ERR_NOMEM;
        free(v);
    }
    free(mk);
    const struct romfs_config_value *fs = romfs_board_config(b, "MICROPY_HW_FLASH_SIZE");
    const struct romfs_ld_symbol *fstart = romfs_ld_symbol_record(res, "flash_start");
    uint64_t base = b->flash_base;
    if (fstart && fstart->evaluable)
        base = fstart->value; /* the FlexSPI window (the boot header may start 0x400 into it) */
    char *src = fs && fstart ? imp_printf("%s: MICROPY_HW_FLASH_SIZE at %s:%d: flash_start", fs->source,
                                          imp_tree_relative(imp, fstart->file), fstart->line)
                             : NULL;
    if (!rc && !imp_map_device(imp, b, "qspi", base, fs ? fs->value : 0, erase, 4, true, src))
        rc = imp->err->code;
    free(src);
    static const struct {
        const char *region;
        enum romfs_area_kind kind;
        const char *blockdev;
    } areas[] = {
        { "m_flash_config", ROMFS_AREA_BOOTLOADER, NULL }, { "m_ivt", ROMFS_AREA_BOOTLOADER, NULL },
        { "m_interrupts", ROMFS_AREA_FIRMWARE, NULL },     { "m_text", ROMFS_AREA_FIRMWARE, NULL },
        { "m_vfs", ROMFS_AREA_FS, "mimxrt_flash" },        { "m_reserved", ROMFS_AREA_RESERVED, NULL },
    };
    for (size_t k = 0; !rc && k < sizeof areas / sizeof areas[0]; k++)
        rc = imp_map_region(imp, b, res, areas[k].kind, "qspi", areas[k].region, NULL, areas[k].blockdev, NULL);
    return rc ? rc : imp_map_finish(imp, b, "object");
}

int imp_port_mimxrt(struct importer *imp)
{
    char **boards;
    size_t n;
    int rc = imp_list_boards(imp, "mimxrt", "mpconfigboard.mk", &boards, &n);
    for (size_t i = 0; !rc && i < n; i++) {
        struct board_ctx c;
        if ((rc = imp_ctx_read(imp, &c, "mimxrt", boards[i])))
            break;
        char *series = imp_mk_get(&c.vars, "MCU_SERIES"), *variant = imp_mk_get(&c.vars, "MCU_VARIANT");
        char *type = imp_mk_get(&c.vars, "MICROPY_HW_FLASH_TYPE"), *fsize = imp_mk_get(&c.vars, "MICROPY_HW_FLASH_SIZE");
        char *romfs = imp_mk_get(&c.vars, "MICROPY_HW_ROMFS_BYTES"), *reserved = imp_mk_get(&c.vars, "MICROPY_HW_FLASH_RESERVED");
        char *uf2 = imp_mk_get(&c.vars, "USE_UF2_BOOTLOADER"), *ld_files = imp_mk_get(&c.vars, "LD_FILES");
        /* Makefile: MICROPY_HW_ROMFS_BYTES defaults to 0x40000 when the board leaves it empty */
        if (!*romfs) {
            free(romfs);
            romfs = strdup("0x40000");
        }
        uint64_t romfs_bytes = 0, flash_size = 0;
        bool has_romfs = romfs_mk_number(romfs, &romfs_bytes); /* 0: a board without ROMFS */
        const char *base = strcmp(type, "internal") == 0 ? "0x70000000" : "0x60000000";
        if (has_romfs) {
            struct romfs_board *b = imp_new_board(imp, "mimxrt", boards[i]);
            rc = b ? ROMFS_OK : imp->err->code;
            if (!rc) {
                b->mcu = strdup(series);
                if (*ld_files)
                    rc = ld_build_add_words(c.lb.scripts, &c.lb.n_scripts, ld_files);
                else if (!(rc = ld_build_add(c.lb.scripts, &c.lb.n_scripts, "boards/%s.ld", series)))
                    rc = ld_build_add(c.lb.scripts, &c.lb.n_scripts, "boards/common.ld");
            }
            c.lb.preprocess = true; /* $(CC) -E -x c $(LDDEFINES) $(LD_FILES) */
            if (!rc)
                rc = ld_build_add(c.lb.defines, &c.lb.n_defines, "MICROPY_HW_FLASH_BASE=%s", base);
            if (!rc)
                rc = ld_build_add(c.lb.defines, &c.lb.n_defines, "MICROPY_HW_FLASH_SIZE=%s", fsize);
            if (!rc)
                rc = ld_build_add(c.lb.defines, &c.lb.n_defines, "MICROPY_HW_ROMFS_BYTES=%s", romfs);
            if (!rc && *reserved)
                rc = ld_build_add(c.lb.defines, &c.lb.n_defines, "MICROPY_HW_FLASH_RESERVED=%s", reserved);
            if (!rc) {
                static const char *const text_names[] = { "m_text", NULL };
                rc = imp_ctx_link(imp, &c, b, text_names);
            }
            bool hyper = strcmp(type, "qspi_hyper_flash") == 0;
            uint32_t erase = hyper ? 256 * K : 4 * K;
            bool found = false;
            if (!rc && romfs_bytes)
                rc = imp_partition_from_ld(imp, b, &c.res, 0, erase, 4, true, "qspi", &found);
            if (!rc) {
                imp_set_fs(b, &c.res, "m_vfs");
                romfs_mk_number(fsize, &flash_size);
                const struct romfs_ld_region *cfg = romfs_ld_find_region(&c.res, "m_flash_config");
                b->flash_base = cfg ? cfg->origin : strtoull(base, NULL, 16); /* RT1170 maps FlexSPI at 0x30000000 */
                b->flash_size = flash_size;
                b->erase_block = erase;
                b->write_block = 4;
                b->repl_usb = imp_repl_usb(c.header, MP_VID, MP_PID_CDC);
                if (strcmp(uf2, "1") == 0) {
                    b->has_uf2 = true;
                    b->uf2_family = UF2_MIMXRT10XX;
                }
                /* pyOCD built-in target names */
                static const char *const pyocd_names[][2] = {
                    { "MIMXRT1011", "mimxrt1010" }, { "MIMXRT1015", "mimxrt1015" }, { "MIMXRT1021", "mimxrt1020" },
                    { "MIMXRT1062", "mimxrt1060" }, { "MIMXRT1064", "mimxrt1064" }, { "MIMXRT1176", "mimxrt1170_cm7" },
                };
                for (size_t k = 0; k < sizeof pyocd_names / sizeof pyocd_names[0]; k++)
                    if (strcmp(series, pyocd_names[k][0]) == 0)
                        b->pyocd_target = strdup(pyocd_names[k][1]);
                if (strcmp(series, "MIMXRT1052") == 0)
                    b->pyocd_target = strdup(hyper ? "mimxrt1050_hyperflash" : "mimxrt1050_quadspi");
                if (!rc)
                    rc = mimxrt_map(imp, b, &c, boards[i], erase);
            }
        }
        free(series);
        free(variant);
        free(type);
        free(fsize);
        free(romfs);
        free(reserved);
        free(uf2);
        free(ld_files);
        imp_ctx_free(&c);
    }
    imp_free_list(boards, n);
    return rc;
}
