/* boards/import_ports.c: per-port knowledge of how MicroPython's Makefiles link each
 * board (scripts, --defsym, cpp defines, -L), plus per-MCU flash geometry and the
 * ways to reach a board. Facts (addresses, sizes, ids) only; no MicroPython code. */
#include "boards/import_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>



/* STM32: sector maps from the reference manuals; write size is what vfs.rom_ioctl
   reports for internal flash (16). */
static const struct mcu_geometry stm32_mcus[] = {
    { "STM32F412", 0x08000000, 1 * M, 128 * K, 16, "4*16,1*64,7*128", "target/stm32f4x.cfg", "stm32f412xg" },
    { "STM32F722", 0x08000000, 512 * K, 128 * K, 16, "4*16,1*64,3*128", "target/stm32f7x.cfg", "stm32f722xx" },
    { "STM32F733", 0x08000000, 512 * K, 128 * K, 16, "4*16,1*64,3*128", "target/stm32f7x.cfg", "stm32f733xx" },
    { "STM32F767", 0x08000000, 2 * M, 256 * K, 16, "4*32,1*128,7*256", "target/stm32f7x.cfg", "stm32f767zi" },
    { "STM32H723", 0x08000000, 1 * M, 128 * K, 32, NULL, "target/stm32h7x.cfg", "stm32h723zgtx" },
    { "STM32H743", 0x08000000, 2 * M, 128 * K, 32, NULL, "target/stm32h7x.cfg", "stm32h743xx" },
    { "STM32H747", 0x08000000, 2 * M, 128 * K, 32, NULL, "target/stm32h7x_dual_bank.cfg", "stm32h747xihx" },
    { "STM32N657", 0x70000000, 32 * M, 4 * K, 4, NULL, NULL, "stm32n657x0hxq" },
};

const struct mcu_geometry *imp_find_mcu(const struct mcu_geometry *t, size_t n, const char *mcu)
{
    for (size_t i = 0; mcu && i < n; i++)
        if (strncasecmp(mcu, t[i].prefix, strlen(t[i].prefix)) == 0)
            return &t[i];
    return NULL;
}
#define FIND_MCU(table, mcu) imp_find_mcu(table, sizeof table / sizeof table[0], mcu)

/* Fill geometry and SWD targets from a table row; sectors become an erase map. */
int imp_apply_geometry(struct romfs_board *b, const struct mcu_geometry *g)
{
    b->flash_base = g->base;
    b->flash_size = g->size;
    b->erase_block = g->erase;
    b->write_block = g->write;
    b->openocd_target = imp_strdup(g->openocd);
    b->pyocd_target = imp_strdup(g->pyocd);
    if (g->sectors) {
        uint64_t addr = g->base;
        for (const char *p = g->sectors; *p;) {
            unsigned count = 0, kib = 0;
            int used = 0;
            if (sscanf(p, "%u*%u%n", &count, &kib, &used) != 2)
                return ROMFS_ERR_CORRUPT;
            struct romfs_erase_range *nm = realloc(b->erase_map, (b->n_erase_map + 1) * sizeof *nm);
            if (!nm)
                return ROMFS_ERR_NOMEM;
            b->erase_map = nm;
            nm[b->n_erase_map++] = (struct romfs_erase_range){ addr, (uint64_t)count * kib * K, kib * K };
            addr += (uint64_t)count * kib * K;
            p += used;
            if (*p == ',')
                p++;
        }
    }
    return ROMFS_OK;
}

/* DfuSe layout string of the internal flash, from the erase map (as ST's bootloader
   describes it, e.g. "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,03*128Kg"). */
static char *dfuse_layout(const struct romfs_board *b)
{
    char buf[256];
    int n = snprintf(buf, sizeof buf, "@Internal Flash  /0x%08llx/", (unsigned long long)b->flash_base);
    if (b->n_erase_map) {
        for (size_t i = 0; i < b->n_erase_map; i++)
            n += snprintf(buf + n, sizeof buf - (size_t)n, "%s%02u*%03uKg", i ? "," : "",
                          (unsigned)(b->erase_map[i].size / b->erase_map[i].block),
                          (unsigned)(b->erase_map[i].block / K));
    } else {
        snprintf(buf + n, sizeof buf - (size_t)n, "%02u*%03uKg", (unsigned)(b->flash_size / b->erase_block),
                 (unsigned)(b->erase_block / K));
    }
    return strdup(buf);
}

char *imp_mk_get(const struct romfs_mkvars *v, const char *name)
{
    char *s = romfs_mk_get(v, name);
    return s ? s : strdup("");
}

bool imp_define_true(const char *header, const char *name)
{
    uint64_t v = 0;
    return imp_header_number(header, name, &v) && v != 0;
}

/* REPL USB id: the board header's MICROPY_HW_USB_VID/PID if numeric, else the port's. */
char *imp_repl_usb(const char *header, uint64_t vid, uint64_t pid)
{
    uint64_t v, p;
    if (imp_header_number(header, "MICROPY_HW_USB_VID", &v))
        vid = v;
    if (imp_header_number(header, "MICROPY_HW_USB_PID", &p))
        pid = p;
    return imp_usb_id(vid, pid);
}


void imp_ctx_free(struct board_ctx *c)
{
    romfs_mk_free(&c->vars);
    free(c->header);
    ld_build_free(&c->lb);
    romfs_ld_result_free(&c->res);
    memset(c, 0, sizeof *c);
}

/* A board header's text with each `#include "boards/..."` line (a header of another
   board, relative to the port directory, as PYBD_SF3 includes PYBD_SF2's) replaced by
   that header's text, so a define it gives and the board does not override is seen. */
static char *read_board_header(struct importer *imp, const char *port, const char *path, int depth)
{
    char *text = imp_read_text(path);
    if (!text || depth >= 4)
        return text;
    size_t cap = strlen(text) + 1, len = 0;
    char *out = malloc(cap);
    for (const char *p = text; out && *p;) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) + 1 : strlen(p);
        char inc[256];
        char *sub = NULL;
        if (sscanf(p, " #include \"%255[^\"\n]\"", inc) == 1 && strncmp(inc, "boards/", 7) == 0) {
            char *ipath = imp_path(imp, "ports/%s/%s", port, inc);
            sub = ipath ? read_board_header(imp, port, ipath, depth + 1) : NULL;
            free(ipath);
        }
        const char *add = sub ? sub : p;
        size_t addn = sub ? strlen(sub) : n;
        if (len + addn + 2 > cap) {
            cap = (len + addn + 2) * 2;
            char *nb = realloc(out, cap);
            if (!nb) {
                free(out);
                out = NULL;
            }
            out = nb;
        }
        if (out) {
            memcpy(out + len, add, addn);
            len += addn;
            if (sub)
                out[len++] = '\n';
            out[len] = 0;
        }
        free(sub);
        p += n;
    }
    free(text);
    return out;
}

int imp_ctx_read(struct importer *imp, struct board_ctx *c, const char *port, const char *board)
{
    memset(c, 0, sizeof *c);
    c->lb.port = port;
    char *mk = imp_path(imp, "ports/%s/boards/%s/mpconfigboard.mk", port, board);
    char *h = imp_path(imp, "ports/%s/boards/%s/mpconfigboard.h", port, board);
    if (!mk || !h) {
        free(mk);
        free(h);
        return romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    }
    int rc = romfs_mk_set(&c->vars, "BOARD", board);
    if (!rc)
        rc = romfs_mk_set(&c->vars, "BOARD_DIR", "boards/$(BOARD)");
    if (!rc)
        rc = romfs_mk_read(&c->vars, mk, imp->err);
    c->header = read_board_header(imp, port, h, 0);
    free(mk);
    free(h);
    return rc;
}

/* Evaluate, take regions, and set the text region (first that exists). */
int imp_ctx_link(struct importer *imp, struct board_ctx *c, struct romfs_board *b, const char *const *text_names)
{
    int rc = imp_evaluate(imp, &c->lb, b->name, &c->res);
    if (rc)
        return rc;
    if ((rc = imp_take_regions(imp, b, &c->res)) || (rc = imp_set_scripts(b, &c->lb)))
        return rc;
    for (size_t i = 0; text_names && text_names[i]; i++)
        if (imp_set_text(b, &c->res, text_names[i]) == ROMFS_OK)
            break;
    return ROMFS_OK;
}

/* ---------------- stm32 ---------------- */

int imp_port_stm32(struct importer *imp)
{
    char **boards;
    size_t n;
    int rc = imp_list_boards(imp, "stm32", "mpconfigboard.mk", &boards, &n);
    for (size_t i = 0; !rc && i < n; i++) {
        struct board_ctx c;
        if ((rc = imp_ctx_read(imp, &c, "stm32", boards[i])))
            break;
        const char *h = c.header;
        const char *device = imp_define_true(h, "MICROPY_HW_ROMFS_ENABLE_EXTERNAL_QSPI")   ? "qspi"
                             : imp_define_true(h, "MICROPY_HW_ROMFS_ENABLE_EXTERNAL_OSPI") ? "ospi"
                             : imp_define_true(h, "MICROPY_HW_ROMFS_ENABLE_EXTERNAL_XSPI") ? "xspi"
                             : imp_define_true(h, "MICROPY_HW_ROMFS_ENABLE_INTERNAL_FLASH") ? "internal"
                                                                                         : NULL;
        if (!device || !imp_define_true(h, "MICROPY_HW_ROMFS_ENABLE_PART0")) {
            imp_ctx_free(&c);
            continue;
        }
        char *ld_files = imp_mk_get(&c.vars, "LD_FILES"), *cmsis = imp_mk_get(&c.vars, "CMSIS_MCU");
        char *text0 = imp_mk_get(&c.vars, "TEXT0_ADDR"), *isr = imp_mk_get(&c.vars, "MICROPY_HW_ENABLE_ISR_UART_FLASH_FUNCS_IN_RAM");
        char *mboot = imp_mk_get(&c.vars, "USE_MBOOT");
        char *dvid = imp_mk_get(&c.vars, "BOOTLOADER_DFU_USB_VID"), *dpid = imp_mk_get(&c.vars, "BOOTLOADER_DFU_USB_PID");
        struct romfs_board *b = imp_new_board(imp, "stm32", boards[i]);
        rc = b ? ROMFS_OK : imp->err->code;
        if (!rc) {
            size_t cl = strlen(cmsis);
            b->mcu = strndup(cmsis, cl >= 2 && cmsis[cl - 2] == 'x' ? cl - 2 : cl); /* STM32F722xx -> STM32F722 */
            if (cl >= 2 && cmsis[cl - 1] == 'x' && cmsis[cl - 2] != 'x')
                b->mcu[cl - 1] = 0; /* STM32F412Rx -> STM32F412R */
            rc = ld_build_add_words(c.lb.scripts, &c.lb.n_scripts, ld_files);
        }
        if (!rc)
            rc = ld_build_add(c.lb.defsyms, &c.lb.n_defsyms, "_estack_reserve=8");
        if (!rc)
            rc = ld_build_add(c.lb.search, &c.lb.n_search, "boards");
        if (!rc)
            rc = ld_build_add(c.lb.search, &c.lb.n_search, "%s",
                              strcmp(isr, "1") == 0 ? "boards/common_isr_ram" : "boards/common_isr_rom");
        if (!rc)
            rc = imp_ctx_link(imp, &c, b, NULL);
        if (!rc) {
            /* firmware text: the region starting at TEXT0_ADDR (default 0x08000000),
               preferring the app-specific names over the whole-flash one */
            uint64_t t0 = 0x08000000;
            romfs_mk_number(text0, &t0);
            static const char *const text_names[] = { "FLASH_APP", "FLASH_TEXT", "EXT_FLASH", "FLASH", NULL };
            for (size_t k = 0; text_names[k] && !b->text_region; k++) {
                const struct romfs_ld_region *r = romfs_ld_find_region(&c.res, text_names[k]);
                if (r && r->origin == t0)
                    imp_set_text(b, &c.res, text_names[k]);
            }
        }
        if (!rc) {
            bool external = strcmp(device, "internal") != 0;
            bool found;
            /* external SPI flash: 4 KiB erase blocks, rom_ioctl min write 4; internal: 16 */
            rc = imp_partition_from_ld(imp, b, &c.res, 0, external ? 4096 : 0, external ? 4 : 16, true,
                                       external ? device : NULL, &found);
            if (!rc && !found) {
                /* PYBD_SF6: size comes from the SPI flash chip at run time; the linker script's
                   FLASH_ROMFS region gives the extent the board is laid out for. */
                uint64_t start;
                const struct romfs_ld_region *r = NULL;
                if (romfs_ld_find_symbol(&c.res, "_micropy_hw_romfs_part0_start", &start) == ROMFS_OK)
                    for (size_t k = 0; k < c.res.n_regions; k++)
                        if (c.res.regions[k].origin == start)
                            r = &c.res.regions[k];
                if (r) {
                    const struct romfs_ld_symbol *s = romfs_ld_symbol_record(&c.res, "_micropy_hw_romfs_part0_start");
                    const char *file = s->file;
                    size_t tl = strlen(imp->tree);
                    if (strncmp(file, imp->tree, tl) == 0 && file[tl] == '/')
                        file += tl + 1;
                    char *src = imp_printf("%s:%d: _micropy_hw_romfs_part0_start, size LENGTH(%s)", file, s->line,
                                           r->name);
                    if (!src || !imp_add_partition(imp, b, 0, start, r->length, 4096, 4, true, device, r->name, src))
                        rc = romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
                    free(src);
                }
            }
            if (!rc && b->n_partitions && !external) {
                /* internal flash: the sector that covers the partition decides */
                b->partitions[0].erase_block = 0;
            }
        }
        if (!rc) {
            const struct mcu_geometry *g = FIND_MCU(stm32_mcus, b->mcu);
            if (g)
                rc = imp_apply_geometry(b, g);
            for (size_t k = 0; !rc && k < b->n_partitions; k++)
                if (!b->partitions[k].erase_block)
                    b->partitions[k].erase_block = romfs_board_erase_block_at(b, b->partitions[k].start);
            uint64_t fs;
            if (!rc && imp_set_fs(b, &c.res, "FLASH_FS") != ROMFS_OK && romfs_ld_find_symbol(&c.res, "_micropy_hw_internal_flash_storage_start", &fs) == ROMFS_OK) {
                /* storage defined by symbols only: leave fs unset */
            }
            if (!rc && imp_set_fs(b, &c.res, "EXT_FLASH_FS") != ROMFS_OK)
                (void)0;
            (void)text0;
            b->repl_usb = imp_repl_usb(h, MP_VID, MP_PID_CDC_MSC);
            if (!rc && b->flash_base == 0x08000000) {
                uint64_t v, p;
                bool custom = romfs_mk_number(dvid, &v) && romfs_mk_number(dpid, &p);
                b->dfu_usb = custom ? imp_usb_id(v, p) : strdup("0483:df11");
                b->dfu_alt = 0;
                b->dfu_kind = strdup(custom ? "vendor" : strcmp(mboot, "1") == 0 ? "mboot" : "system");
                b->dfu_layout = custom ? NULL : dfuse_layout(b);
            } else if (!rc && strcmp(mboot, "1") == 0) {
                b->dfu_usb = strdup("0483:df11");
                b->dfu_alt = 0;
                b->dfu_kind = strdup("mboot");
            }
            if (!rc && !b->n_partitions)
                imp_drop_last(imp);
        }
        free(ld_files);
        free(cmsis);
        free(text0);
        free(isr);
        free(mboot);
        free(dvid);
        free(dpid);
        imp_ctx_free(&c);
    }
    imp_free_list(boards, n);
    return rc;
}

/* ---------------- mimxrt ---------------- */

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
        bool has_romfs = romfs_mk_number(romfs, &romfs_bytes) && romfs_bytes > 0;
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
            if (!rc)
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
                if (!found)
                    imp_drop_last(imp);
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
