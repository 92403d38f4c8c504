/* boards/import_nrf.c: Nordic nRF51/nRF52/nRF91 boards (nrf port). */
#include "boards/import_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The basename (without ".ld") of the first linker script of the build named like a
   bootloader's ("nrf52840_open_bootloader_1.2.x", "XIAO_bootloader"), or NULL. */
static char *bootloader_script(const struct ld_build *lb)
{
    for (size_t i = 0; i < lb->n_scripts; i++) {
        const char *base = strrchr(lb->scripts[i], '/') ? strrchr(lb->scripts[i], '/') + 1 : lb->scripts[i];
        if (strstr(base, "bootloader")) {
            size_t n = strlen(base);
            return strndup(base, n > 3 && strcmp(base + n - 3, ".ld") == 0 ? n - 3 : n);
        }
    }
    return NULL;
}

/* Flash layout (boards/memory.ld): head (MBR or SoftDevice, from _sd_size or
   _bootloader_head_size) | FLASH_TEXT | ROMFS | filesystem (_fs_start.._fs_end) | bootloader
   tail (_bootloader_tail_size). */
/* The bootloader a board's script places with _flash_start alone (the Arduino Nano 33 BLE's,
 * nano_bootloader.ld): its first 4K page, the least it takes; the source says so. */
static int nrf_bootloader_start(struct importer *imp, struct romfs_board *b, const struct romfs_ld_result *res,
                                const char *name)
{
    uint64_t at;
    if (romfs_ld_find_symbol(res, "_flash_start", &at) != ROMFS_OK)
        return ROMFS_OK;
    const struct romfs_ld_symbol *s = romfs_ld_symbol_record(res, "_flash_start");
    char *src = imp_printf("%s:%d: _flash_start + 0x1000 (the tree gives only the start: 0x1000 is its first page, "
                           "the least it takes)",
                           imp_tree_relative(imp, s->file), s->line);
    if (!src)
        return romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    int rc = imp_map_area(imp, b, ROMFS_AREA_BOOTLOADER, "internal", name, at, 4096, NULL, src);
    free(src);
    return rc;
}

static int nrf_map(struct importer *imp, struct romfs_board *b, const struct board_ctx *c, const struct mcu_geometry *g)
{
    const struct romfs_ld_result *res = &c->res;
    uint64_t flash = 0, v = 0;
    int rc = ROMFS_OK;
    const struct romfs_ld_symbol *fs = romfs_ld_symbol_record(res, "_flash_size");
    if (fs && romfs_ld_find_symbol(res, "_flash_size", &flash) == ROMFS_OK) {
        char *src = imp_printf("%s:%d: _flash_size", imp_tree_relative(imp, fs->file), fs->line);
        if (!src || !imp_map_device(imp, b, "internal", 0, flash, g ? g->erase : 0, g ? g->write : 0, true, src))
            rc = romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
        free(src);
    }
    if (rc)
        return rc;
    char *name = NULL, *blscript = bootloader_script(&c->lb);
    char *sd = imp_mk_get(&c->vars, "SD"), *sdver = imp_mk_get(&c->vars, "SOFTDEV_VERSION");
    if (romfs_ld_find_symbol(res, "_sd_size", &v) == ROMFS_OK && v) {
        /* the Makefile adds boards/$(SD)_$(SOFTDEV_VERSION).ld when SD is set */
        name = *sd ? imp_printf("SoftDevice %s %s", sd, sdver) : strdup("reserved head (_sd_size)");
        rc = name ? imp_map_symbols(imp, b, res, ROMFS_AREA_BOOTLOADER, "internal", "0x0", "_sd_size", true, name, NULL,
                                    NULL)
                  : ROMFS_ERR_NOMEM;
    } else if (romfs_ld_find_symbol(res, "_bootloader_head_size", &v) == ROMFS_OK && v) {
        rc = imp_map_symbols(imp, b, res, ROMFS_AREA_BOOTLOADER, "internal", "0x0", "_bootloader_head_size", true, "MBR",
                             NULL, NULL);
    }
    free(name);
    name = NULL;
    if (!rc)
        rc = imp_map_region(imp, b, res, ROMFS_AREA_FIRMWARE, "internal", "FLASH_TEXT", NULL, NULL, NULL);
    if (!rc)
        rc = imp_map_symbols(imp, b, res, ROMFS_AREA_FS, "internal", "_fs_start", "_fs_end", false, "filesystem",
                             "flashbdev/microbitfs", NULL);
    if (!rc && blscript) {
        name = imp_printf("bootloader (%s)", blscript);
        if (!name)
            rc = ROMFS_ERR_NOMEM;
        else if (romfs_ld_find_symbol(res, "_bootloader_tail_size", &v) == ROMFS_OK && v)
            rc = imp_map_symbols(imp, b, res, ROMFS_AREA_BOOTLOADER, "internal", "_fs_end", "_bootloader_tail_size", true,
                                 name, NULL, NULL);
        else /* ARDUINO_NANO_33_BLE_SENSE: the Arduino bootloader relocated towards the end of
                flash; the tree gives only its start (_flash_start), so it is recorded as the one
                4K page it certainly takes, not to the end of flash */
            rc = nrf_bootloader_start(imp, b, res, name);
    }
    free(name);
    free(blscript);
    free(sd);
    free(sdver);
    /* the Makefile's --defsym=_fs_size=$(FS_SIZE) */
    char *fsz = imp_mk_get(&c->vars, "FS_SIZE"), *mk = imp_printf("ports/nrf/boards/%s/mpconfigboard.mk", b->name);
    const char *files[] = { mk, NULL };
    if (!rc && *fsz && mk)
        rc = imp_config_mk(imp, b, "FS_SIZE", fsz, files);
    free(fsz);
    free(mk);
    if (rc == ROMFS_ERR_NOMEM)
        return romfs_set_error(imp->err, rc, "out of memory");
    return rc ? rc : imp_map_finish(imp, b, "object");
}

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
        const struct mcu_geometry *g = FIND_MCU(nrf_mcus, sub);
        if (!rc) {
            static const char *const text_names[] = { "FLASH_TEXT", NULL };
            rc = imp_finish_ld_board(imp, &c, b, g, text_names, NULL, &found);
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
            (void)found;
            rc = nrf_map(imp, b, &c, g);
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
