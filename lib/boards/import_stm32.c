/* boards/import_stm32.c: stm32 boards: each board's linker scripts as the port's Makefile
 * passes them, the MCU's sector map, the system bootloader's DfuSe layout. Facts
 * (addresses, sizes, ids) only. */
#include "boards/import_stm32_internal.h"

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

/* DfuSe layout string of the internal flash, from the erase map (as ST's bootloader
   describes it, e.g. "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,03*128Kg"). */
static char *dfuse_layout(const struct romfs_board *b)
{
    if (b->erase_block < K && !b->n_erase_map)
        return NULL; /* sub-KiB pages (L0, L1): not written in KiB units */
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
        if (!imp_define_true(h, "MICROPY_HW_ROMFS_ENABLE_PART0"))
            device = NULL; /* no ROMFS: the board's flash map only */
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
            /* vectors at TEXT0_ADDR, code at TEXT1_ADDR in internal flash (common_ifs.ld):
               the code region is the one that grows */
            char *text1 = imp_mk_get(&c.vars, "TEXT1_ADDR");
            uint64_t t1 = 0;
            for (size_t k = 0; romfs_mk_number(text1, &t1) && t1 >= 0x08000000u && t1 < 0x0a000000u &&
                               k < c.res.n_regions; k++)
                if (c.res.regions[k].origin == t1 && strcmp(c.res.regions[k].name, "FLASH") != 0) {
                    imp_set_text(b, &c.res, c.res.regions[k].name);
                    break;
                }
            free(text1);
        }
        if (!rc && device) {
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
            if (!rc)
                rc = stm32_map(imp, b, &c, boards[i]);
            const struct romfs_config_value *ifs = romfs_board_config(b, "MICROPY_HW_ENABLE_INTERNAL_FLASH_STORAGE");
            if (!rc && ifs && !ifs->value && b->fs_region && !strncmp(b->fs_region, "FLASH_FS", 8)) {
                /* the board keeps its filesystem elsewhere: FLASH_FS is unused */
                free(b->fs_region);
                b->fs_region = NULL;
                b->fs_start = b->fs_size = 0;
            }
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
            if (!rc)
                rc = imp_stm32_mboot(imp, &c, b);
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
