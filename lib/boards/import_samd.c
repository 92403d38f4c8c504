/* boards/import_samd.c: Microchip SAMD21/SAMD51 boards (samd port): the linker scripts as
 * the Makefile runs ld (--defsym _codesize, _micropy_hw_romfs_part0_size after the
 * scripts), and the flash map: the UF2 bootloader below ORIGIN(FLASH), the firmware, ROMFS,
 * and the filesystem either in MCU flash (_oflash_fs/_sflash_fs, MICROPY_HW_MCUFLASH) or on
 * an external (Q)SPI flash chip. */
#define _GNU_SOURCE
#include "boards/import_internal.h"
#include "boards/import_cdef_internal.h"

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

/* The board's C configuration as samd's mpconfigport.h sees it: the board header, the MCU
   header, -D options of CFLAGS, then the port's defaults. */
static int read_config(struct importer *imp, struct board_ctx *c, const char *board, const char *series_lower,
                       struct imp_cdefs *d)
{
    char *cflags = imp_mk_get(&c->vars, "CFLAGS");
    int rc = ROMFS_OK;
    for (char *p = cflags; p && (p = strstr(p, "-D"));) {
        p += 2;
        size_t n = strcspn(p, " \t");
        char *def = strndup(p, n);
        char *eq = def ? strchr(def, '=') : NULL;
        if (eq)
            *eq = 0;
        if (def && *def)
            rc = imp_cdefs_define(d, def, eq ? eq + 1 : "1", "CFLAGS (mpconfigboard.mk)", 0);
        free(def);
        p += n;
    }
    free(cflags);
    char *bdir = imp_printf("ports/samd/boards/%s", board);
    char *mdir = imp_printf("ports/samd/mcu/%s", series_lower);
    const char *const inc[] = { bdir, mdir, "ports/samd", NULL };
    if (!rc && bdir && mdir)
        rc = imp_cdefs_read(d, imp->tree, "ports/samd/mpconfigport.h", inc);
    if (rc == ROMFS_ERR_NOENT) {
        /* a partial tree (fixture) without the port header: the board's alone */
        char *h = imp_printf("%s/mpconfigboard.h", bdir);
        rc = h ? imp_cdefs_read(d, imp->tree, h, inc) : ROMFS_ERR_NOMEM;
        free(h);
        if (rc == ROMFS_ERR_NOENT)
            rc = ROMFS_OK;
    }
    free(bdir);
    free(mdir);
    return rc == ROMFS_ERR_NOMEM ? romfs_set_error(imp->err, rc, "out of memory") : rc;
}

/* Record a C define's value (from its definition's file:line). */
static int config_c(struct importer *imp, struct romfs_board *b, const struct imp_cdefs *d, const char *name,
                    uint64_t value)
{
    const struct imp_cdef *m = imp_cdefs_find(d, name);
    return imp_config(imp, b, name, value, m ? m->file : "?", m ? m->line : 0);
}

/* The size of the QSPI flash the board names (MICROPY_HW_QSPIFLASH: chip names defined in
   drivers/memory/external_flash_device.h), when every listed chip has the same size. */
static bool qspi_size(struct importer *imp, struct romfs_board *b, const struct imp_cdefs *board_defs,
                      uint64_t *size)
{
    const struct imp_cdef *q = imp_cdefs_find(board_defs, "MICROPY_HW_QSPIFLASH");
    if (!q)
        return false;
    struct imp_cdefs chips = { 0 };
    bool ok = imp_cdefs_read(&chips, imp->tree, "drivers/memory/external_flash_device.h", NULL) == ROMFS_OK;
    *size = 0;
    char *list = strdup(q->body);
    for (char *tok = list ? strtok(list, ", \t") : NULL; ok && tok; tok = strtok(NULL, ", \t")) {
        const struct imp_cdef *chip = imp_cdefs_find(&chips, tok);
        const char *ts = chip ? strstr(chip->body, ".total_size") : NULL;
        int64_t v = 0;
        char *expr = NULL;
        if (ts && (ts = strchr(ts, '='))) {
            size_t n = strcspn(ts + 1, ",}");
            expr = strndup(ts + 1, n);
        }
        ok = expr && imp_cdefs_eval(&chips, expr, false, &v) && v > 0 && (!*size || *size == (uint64_t)v);
        free(expr);
        if (ok) {
            *size = (uint64_t)v;
            char cname[96];
            snprintf(cname, sizeof cname, "%s.total_size", tok);
            ok = imp_config(imp, b, cname, *size, chip->file, chip->line) == ROMFS_OK;
        }
    }
    free(list);
    imp_cdefs_free(&chips);
    return ok && *size;
}

/* Devices and areas (after the link): see the file comment. */
static int samd_map(struct importer *imp, struct romfs_board *b, const char *board, struct board_ctx *c,
                    const struct mcu_geometry *g, const char *series_lower)
{
    const struct romfs_ld_result *res = &c->res;
    int rc = ROMFS_OK;
    uint64_t total = g ? g->size : 0;
    char *src = NULL;
    const struct romfs_ld_symbol *fsym = romfs_ld_symbol_record(res, "_flashsize");
    if (fsym && romfs_ld_find_symbol(res, "_flashsize", &total) == ROMFS_OK)
        src = imp_printf("%s:%d: _flashsize", imp_tree_relative(imp, fsym->file), fsym->line);
    else if (g)
        src = imp_printf("%s: %u KiB of flash (datasheet)", b->mcu, (unsigned)(g->size / K));
    if (!imp_map_device(imp, b, "internal", 0, total, g ? g->erase : 0, g ? g->write : 0, true, src))
        rc = imp->err->code;
    free(src);
    /* the UF2 bootloader: everything below ORIGIN(FLASH) ("_bootloader ... Must match the
       ORIGIN value of FLASH") */
    const struct romfs_ld_region *flash = romfs_ld_find_region(res, "FLASH");
    if (!rc && flash && flash->origin) {
        src = imp_printf("%s:%d: 0x0 .. ORIGIN(FLASH)", imp_tree_relative(imp, flash->file), flash->line);
        rc = src ? imp_map_area(imp, b, ROMFS_AREA_BOOTLOADER, "internal", "UF2 bootloader", 0, flash->origin, NULL, src)
                 : romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
        free(src);
    }
    if (!rc)
        rc = imp_map_region(imp, b, res, ROMFS_AREA_FIRMWARE, "internal", "FLASH", NULL, NULL, NULL);
    struct imp_cdefs d = { 0 };
    if (!rc)
        rc = read_config(imp, c, board, series_lower, &d);
    int64_t mcuflash = 1;
    bool mcu_fs = true;
    if (!rc && imp_cdefs_find(&d, "MICROPY_HW_MCUFLASH")) {
        mcu_fs = imp_cdefs_value(&d, "MICROPY_HW_MCUFLASH", &mcuflash) && mcuflash;
        rc = config_c(imp, b, &d, "MICROPY_HW_MCUFLASH", (uint64_t)mcuflash);
    } else if (!rc) {
        /* mpconfigport.h: MICROPY_HW_MCUFLASH is 1 unless a (Q)SPI flash is configured */
        mcu_fs = !imp_cdefs_find(&d, "MICROPY_HW_QSPIFLASH") &&
                 !(imp_cdefs_find(&d, "MICROPY_HW_SPIFLASH") && imp_cdefs_find(&d, "MICROPY_HW_SPIFLASH_ID"));
        /* the defines that decided it, where numeric */
        int64_t v;
        static const char *const names[] = { "MICROPY_HW_SPIFLASH", "MICROPY_HW_SPIFLASH_ID" };
        for (size_t k = 0; !rc && !mcu_fs && k < 2; k++)
            if (imp_cdefs_value(&d, names[k], &v))
                rc = config_c(imp, b, &d, names[k], (uint64_t)v);
    }
    if (!rc && mcu_fs) {
        bool room = false;
        rc = imp_map_symbols(imp, b, res, ROMFS_AREA_FS, "internal", "_oflash_fs", "_sflash_fs", true, "filesystem",
                             "samd_flash", &room);
        /* samd_flash mounts _oflash_fs/_sflash_fs even when the firmware and ROMFS left
           nothing (SAMD_GENERIC_D51X20: 1024K - 752K - 16K - 256K = 0): recorded empty */
        if (!rc && !room)
            rc = imp_map_fs_no_room(imp, b, res, "internal", "_oflash_fs", "_sflash_fs", "filesystem", "samd_flash");
    } else if (!rc) {
        /* the filesystem is the whole external chip; the MCU flash above ROMFS is unused */
        free(b->fs_region);
        b->fs_region = NULL;
        b->fs_start = b->fs_size = 0;
        uint64_t size = 0;
        bool qspi = imp_cdefs_find(&d, "MICROPY_HW_QSPIFLASH") != NULL;
        const char *dev = qspi ? "qspi" : "spi";
        bool known = qspi && qspi_size(imp, b, &d, &size);
        const struct imp_cdef *m = imp_cdefs_find(&d, qspi ? "MICROPY_HW_QSPIFLASH" : "MICROPY_HW_SPIFLASH");
        src = known ? imp_printf("%s:%d: MICROPY_HW_QSPIFLASH (chip sizes: drivers/memory/external_flash_device.h)",
                                 m->file, m->line)
                    : imp_printf("%s:%d: %s (size read from the chip at run time: ports/samd/samd_%sflash.c)",
                                 m ? m->file : "?", m ? m->line : 0, m ? m->name : dev, dev);
        if (!src || !imp_map_device(imp, b, dev, 0, size, 4096, 256, false, src))
            rc = romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
        if (!rc && known)
            rc = imp_map_area(imp, b, ROMFS_AREA_FS, dev, "filesystem", 0, size,
                              qspi ? "samd_qspiflash" : "samd_spiflash", src);
        free(src);
    }
    imp_cdefs_free(&d);
    /* samd_flash.c: ROMFS is an object when the filesystem is in MCU flash, else a memoryview */
    return rc ? rc : imp_map_finish(imp, b, mcu_fs ? "object" : "memoryview");
}

/* One build of board (variant: "SPIFLASH" or NULL). */
static int import_one(struct importer *imp, const char *board, const char *variant)
{
    struct board_ctx c;
    int rc = imp_ctx_read(imp, &c, "samd", board);
    char *vrel = variant ? imp_printf("ports/samd/boards/%s/mpconfigvariant_%s.mk", board, variant) : NULL;
    if (!rc && vrel) {
        char *vpath = imp_path(imp, "%s", vrel);
        rc = vpath ? romfs_mk_read(&c.vars, vpath, imp->err) : ROMFS_ERR_NOMEM;
        free(vpath);
    }
    char *series = imp_mk_get(&c.vars, "MCU_SERIES");
    for (char *q = series; q && *q; q++)
        *q = (char)(*q >= 'A' && *q <= 'Z' ? *q + 32 : *q);
    /* Makefile: include mcu/$(MCU_SERIES_LOWER)/mpconfigmcu.mk after the board's */
    char *mcu_rel = imp_printf("ports/samd/mcu/%s/mpconfigmcu.mk", series);
    char *mcu_mk = mcu_rel ? imp_path(imp, "%s", mcu_rel) : NULL;
    if (!rc)
        rc = mcu_mk ? romfs_mk_read(&c.vars, mcu_mk, imp->err) : ROMFS_ERR_NOMEM;
    char *codesize = imp_mk_get(&c.vars, "MICROPY_HW_CODESIZE"), *romfs = imp_mk_get(&c.vars, "MICROPY_HW_ROMFS_BYTES");
    char *cmsis = imp_mk_get(&c.vars, "CMSIS_MCU"), *ld_files = imp_mk_get(&c.vars, "LD_FILES");
    char *bname = imp_printf("%s%s%s", board, variant ? "-" : "", variant ? variant : "");
    char *brel = imp_printf("ports/samd/boards/%s/mpconfigboard.mk", board);
    struct romfs_board *b = rc || !bname ? NULL : imp_new_board(imp, "samd", bname);
    if (!rc && !b)
        rc = imp->err->code ? imp->err->code : romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    uint64_t bytes = 0;
    romfs_mk_number(romfs, &bytes);
    if (!rc) {
        b->mcu = strdup(cmsis);
        b->variant = imp_strdup(variant);
        rc = ld_build_add_words(c.lb.scripts, &c.lb.n_scripts, ld_files);
    }
    /* samd's Makefile runs $(LD) itself: -T scripts, then the --defsym options */
    c.lb.defsyms_last = true;
    if (!rc)
        rc = ld_build_add(c.lb.defsyms, &c.lb.n_defsyms, "_codesize=%s", codesize);
    if (!rc)
        rc = ld_build_add(c.lb.defsyms, &c.lb.n_defsyms, "_micropy_hw_romfs_part0_size=%s", romfs);
    bool found = false;
    const struct mcu_geometry *g = FIND_MCU(samd_mcus, cmsis);
    if (!rc) {
        static const char *const text_names[] = { "FLASH", NULL };
        rc = imp_finish_ld_board(imp, &c, b, g, text_names, NULL, &found);
    }
    if (!rc) {
        const char *files[] = { brel, vrel ? vrel : brel, mcu_rel, NULL };
        rc = imp_config_mk(imp, b, "MICROPY_HW_CODESIZE", codesize, files);
        if (!rc)
            rc = imp_config_mk(imp, b, "MICROPY_HW_ROMFS_BYTES", romfs, files);
    }
    if (!rc) {
        uint64_t fs_start, fs_size;
        if (romfs_ld_find_symbol(&c.res, "_oflash_fs", &fs_start) == ROMFS_OK &&
            romfs_ld_find_symbol(&c.res, "_sflash_fs", &fs_size) == ROMFS_OK && fs_size && fs_size < (1ull << 40)) {
            b->fs_region = strdup("_oflash_fs/_sflash_fs");
            b->fs_start = fs_start;
            b->fs_size = fs_size;
        }
        b->repl_usb = imp_repl_usb(c.header, MP_VID, MP_PID_CDC);
        b->has_uf2 = true;
        b->uf2_family = strncasecmp(cmsis, "SAMD21", 6) == 0 ? UF2_SAMD21 : UF2_SAMD51;
        rc = samd_map(imp, b, board, &c, g, series);
    }
    free(bname);
    free(brel);
    free(vrel);
    free(series);
    free(mcu_rel);
    free(mcu_mk);
    free(codesize);
    free(romfs);
    free(cmsis);
    free(ld_files);
    imp_ctx_free(&c);
    return rc;
}

int imp_port_samd(struct importer *imp)
{
    char **boards;
    size_t n;
    int rc = imp_list_boards(imp, "samd", "mpconfigboard.mk", &boards, &n);
    for (size_t i = 0; !rc && i < n; i++) {
        size_t before = imp->db->n;
        rc = import_one(imp, boards[i], NULL);
        /* a board without ROMFS by default may have a variant with it (QTPY SPIFLASH) */
        char *vpath = imp_path(imp, "ports/samd/boards/%s/mpconfigvariant_SPIFLASH.mk", boards[i]);
        FILE *probe = vpath ? fopen(vpath, "r") : NULL;
        if (probe)
            fclose(probe);
        free(vpath);
        if (!rc && probe && imp->db->n > before && !imp->db->boards[imp->db->n - 1].n_partitions)
            rc = import_one(imp, boards[i], "SPIFLASH");
    }
    imp_free_list(boards, n);
    return rc;
}
