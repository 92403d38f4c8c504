/* boards/import_ports2.c: samd, nrf, renesas-ra, alif, esp8266 and qemu importers. */
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

static const struct mcu_geometry nrf_mcus[] = {
    { "nrf51822", 0, 256 * K, 1 * K, 4, NULL, "target/nrf51.cfg", "nrf51" },
    { "nrf52832", 0, 512 * K, 4 * K, 4, NULL, "target/nrf52.cfg", "nrf52" },
    { "nrf52840", 0, 1 * M, 4 * K, 4, NULL, "target/nrf52.cfg", "nrf52840" },
    { "nrf9160", 0, 1 * M, 4 * K, 4, NULL, NULL, "nrf91" },
};

/* Renesas RA code flash: RA4 2 KiB blocks; RA6 8x8 KiB then 32 KiB blocks. Write size
   is the 4 bytes vfs.rom_ioctl reports (the port buffers hardware program units). */
static const struct mcu_geometry ra_mcus[] = {
    { "RA4M1", 0, 256 * K, 2 * K, 4, NULL, NULL, NULL },
    { "RA4W1", 0, 512 * K, 2 * K, 4, NULL, NULL, NULL },
    { "RA6M1", 0, 512 * K, 32 * K, 4, "8*8,15*32", NULL, NULL },
    { "RA6M2", 0, 1 * M, 32 * K, 4, "8*8,31*32", NULL, NULL },
    { "RA6M5", 0, 2 * M, 32 * K, 4, "8*8,62*32", NULL, NULL },
};

/* Common tail for ports whose partitions come from _micropy_hw_romfs_partN_* symbols. */
static int finish_ld_board(struct importer *imp, struct board_ctx *c, struct romfs_board *b,
                           const struct mcu_geometry *g, const char *const *text_names, const char *device,
                           bool *found)
{
    int rc = imp_ctx_link(imp, c, b, text_names);
    if (!rc && g)
        rc = imp_apply_geometry(b, g);
    *found = false;
    for (int idx = 0; !rc && idx < 2; idx++) {
        bool f;
        uint32_t erase = g ? g->erase : 4096, write = g ? g->write : 4;
        rc = imp_partition_from_ld(imp, b, &c->res, idx, erase, write, true, device, &f);
        if (!rc && f && g && b->n_erase_map) {
            struct romfs_partition *p = &b->partitions[b->n_partitions - 1];
            p->erase_block = romfs_board_erase_block_at(b, p->start);
        }
        *found = *found || f;
    }
    return rc;
}

/* ---------------- samd ---------------- */

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
                rc = finish_ld_board(imp, &c, b, FIND_MCU(samd_mcus, cmsis), text_names, NULL, &found);
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

/* ---------------- nrf ---------------- */

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
            rc = finish_ld_board(imp, &c, b, FIND_MCU(nrf_mcus, sub), text_names, NULL, &found);
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

/* ---------------- renesas-ra ---------------- */

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
            rc = finish_ld_board(imp, &c, b, FIND_MCU(ra_mcus, mcu), text_names, NULL, &found);
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

/* ---------------- alif ---------------- */

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

/* ---------------- esp8266 ---------------- */

/* ROMFS only in variants whose LD_FILES script defines the romfs symbols. */
int imp_port_esp8266(struct importer *imp)
{
    char **boards;
    size_t n;
    int rc = imp_list_boards(imp, "esp8266", "mpconfigboard.mk", &boards, &n);
    for (size_t i = 0; !rc && i < n; i++) {
        char *dir = imp_path(imp, "ports/esp8266/boards/%s", boards[i]);
        static const char *const variants[] = { "FLASH_2M_ROMFS", "FLASH_1M", "FLASH_512K", NULL };
        for (size_t v = 0; !rc && dir && variants[v]; v++) {
            char *vmk = imp_printf("%s/mpconfigvariant_%s.mk", dir, variants[v]);
            FILE *probe = vmk ? fopen(vmk, "r") : NULL;
            if (probe)
                fclose(probe);
            if (!probe) {
                free(vmk);
                continue;
            }
            struct board_ctx c;
            rc = imp_ctx_read(imp, &c, "esp8266", boards[i]);
            if (!rc)
                rc = romfs_mk_read(&c.vars, vmk, imp->err);
            free(vmk);
            char *ld_files = imp_mk_get(&c.vars, "LD_FILES");
            char *name = imp_printf("%s-%s", boards[i], variants[v]);
            struct romfs_board *b = rc ? NULL : imp_new_board(imp, "esp8266", name);
            if (!rc && !b)
                rc = imp->err->code;
            if (!rc) {
                b->mcu = strdup("ESP8266");
                b->variant = strdup(variants[v]);
                rc = ld_build_add_words(c.lb.scripts, &c.lb.n_scripts, *ld_files ? ld_files : "boards/esp8266_2m.ld");
            }
            bool found = false;
            if (!rc) {
                static const char *const text_names[] = { "irom0_0_seg", NULL };
                static const struct mcu_geometry esp8266 = { "ESP8266", 0x40200000u, 2 * M, 4 * K, 4, NULL, NULL, NULL };
                rc = finish_ld_board(imp, &c, b, &esp8266, text_names, "spi", &found);
                /* flash is mapped at 0x40200000 for its first 1 MiB only */
                for (size_t k = 0; !rc && k < b->n_partitions; k++)
                    b->partitions[k].mmap = b->partitions[k].start + b->partitions[k].size <= 0x40300000u;
            }
            if (!rc && !found)
                imp_drop_last(imp);
            free(ld_files);
            free(name);
            imp_ctx_free(&c);
        }
        free(dir);
    }
    imp_free_list(boards, n);
    return rc;
}

/* ---------------- qemu ---------------- */

/* Partitions are make variables turned into C defines (Makefile: MICROPY_HW_ROMFS_PARTn_START/SIZE),
   in emulated memory that -device loader fills; no flash to erase. */
int imp_port_qemu(struct importer *imp)
{
    char **boards;
    size_t n;
    int rc = imp_list_boards(imp, "qemu", "mpconfigboard.mk", &boards, &n);
    for (size_t i = 0; !rc && i < n; i++) {
        struct board_ctx c;
        if ((rc = imp_ctx_read(imp, &c, "qemu", boards[i])))
            break;
        struct romfs_board *b = NULL;
        for (int idx = 0; !rc && idx < 2; idx++) {
            char sv[48], zv[48];
            snprintf(sv, sizeof sv, "MICROPY_HW_ROMFS_PART%d_START", idx);
            snprintf(zv, sizeof zv, "MICROPY_HW_ROMFS_PART%d_SIZE", idx);
            char *s = imp_mk_get(&c.vars, sv), *z = imp_mk_get(&c.vars, zv);
            uint64_t start, size;
            if (romfs_mk_number(s, &start) && romfs_mk_number(z, &size) && size) {
                if (!b) {
                    b = imp_new_board(imp, "qemu", boards[i]);
                    char *ld = imp_mk_get(&c.vars, "LDSCRIPT");
                    if (b) {
                        b->mcu = imp_mk_get(&c.vars, "QEMU_MACHINE");
                        if (b->mcu && !*b->mcu) {
                            free(b->mcu);
                            b->mcu = NULL;
                        }
                        if (*ld)
                            b->linker_scripts = imp_printf("ports/qemu/%s", ld);
                    }
                    free(ld);
                }
                char *src = imp_printf("ports/qemu/boards/%s/mpconfigboard.mk: %s, %s", boards[i], sv, zv);
                if (!b || !src || !imp_add_partition(imp, b, idx, start, size, 4096, 4, true, "ram", NULL, src))
                    rc = imp->err->code ? imp->err->code : romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
                free(src);
            }
            free(s);
            free(z);
        }
        imp_ctx_free(&c);
    }
    imp_free_list(boards, n);
    return rc;
}
