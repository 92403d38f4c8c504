/* boards/import_stm32_map.c: an stm32 board's flash map: the internal flash (its size from
 * the part number in MICROPY_HW_MCU_NAME or the linker scripts' extent, its sectors per
 * family), external QSPI/OSPI/SPI flash from the board's C configuration, the bootloader
 * below TEXT0_ADDR (mboot or the vendor's), the firmware's regions (the scripts'
 * REGION_ALIAS of FLASH_ISR/FLASH_COMMON/FLASH_APP, TEXT1_ADDR), and the filesystem: the
 * internal flash storage symbols, or the SPI-flash block device. */
#define _GNU_SOURCE
#include "boards/import_internal.h"
#include "boards/import_cdef_internal.h"
#include "boards/import_stm32_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STM32_FLASH 0x08000000u
#define STM32_QSPI 0x90000000u   /* QUADSPI / OCTOSPI1 memory-mapped bank (reference manuals) */
#define STM32_XSPI 0x70000000u   /* STM32N6 XSPI2 memory-mapped (reference manual) */

/* Flash size letter of an ST part number (STM32 + 4 family chars + pin letter + this). */
static uint64_t size_letter(char c)
{
    switch (c) {
    case '4': return 16 * K;
    case '6': return 32 * K;
    case '8': return 64 * K;
    case 'B': return 128 * K;
    case 'Z': return 192 * K;
    case 'C': return 256 * K;
    case 'D': return 384 * K;
    case 'E': return 512 * K;
    case 'F': return 768 * K;
    case 'G': return 1 * M;
    case 'H': return 1536 * K;
    case 'I': return 2 * M;
    case 'J': return 4 * M;
    default: return 0;
    }
}

/* Sector layout of a family (reference manuals): sizes in KiB, a leading run then a
   repeated size to the end of each bank; banks: 2 when the device has two banks. */
struct family {
    const char *prefix;     /* CMSIS_MCU prefix */
    const char *head;       /* "count*KiB,..." at the start of each bank, or "" */
    unsigned rest_kib;      /* the size of the remaining sectors */
    unsigned write;         /* rom_ioctl's minimum write for internal flash */
    uint64_t dual_at;       /* device size from which there are two banks (0: never) */
};

static const struct family families[] = {
    { "STM32F0", "", 2, 16, 0 },
    { "STM32F72", "4*16,1*64", 128, 16, 0 }, { "STM32F73", "4*16,1*64", 128, 16, 0 },
    { "STM32F7", "4*32,1*128", 256, 16, 0 },
    { "STM32F4", "4*16,1*64", 128, 16, 2 * M },
    { "STM32G0", "", 2, 16, 0 }, { "STM32G4", "", 2, 16, 0 },
    { "STM32H5", "", 8, 16, 0 },
    { "STM32H7A", "", 8, 16, 0 }, { "STM32H7B", "", 8, 16, 0 },
    { "STM32H7", "", 128, 32, 0 },
    { "STM32L0", "", 0, 16, 0 }, /* 128-byte pages: see below */
    { "STM32L1", "", 0, 16, 0 }, /* 256-byte pages */
    { "STM32L4", "", 2, 16, 0 },
    { "STM32U5", "", 8, 16, 0 },
    { "STM32WB", "", 4, 16, 0 }, { "STM32WL", "", 2, 16, 0 },
};

/* Set the internal flash's erase map from its family when the MCU table had none. */
static int family_geometry(struct romfs_board *b, const char *cmsis, uint64_t size)
{
    const struct family *f = NULL;
    for (size_t i = 0; !f && i < sizeof families / sizeof families[0]; i++)
        if (strncasecmp(cmsis, families[i].prefix, strlen(families[i].prefix)) == 0)
            f = &families[i];
    if (!f || !size)
        return ROMFS_OK;
    b->flash_base = STM32_FLASH;
    b->flash_size = size;
    b->write_block = f->write;
    if (!strncasecmp(cmsis, "STM32L0", 7) || !strncasecmp(cmsis, "STM32L1", 7)) {
        b->erase_block = !strncasecmp(cmsis, "STM32L0", 7) ? 128 : 256;
        return ROMFS_OK;
    }
    b->erase_block = f->rest_kib * K;
    if (!*f->head)
        return ROMFS_OK;
    unsigned banks = f->dual_at && size >= f->dual_at ? 2 : 1;
    uint64_t bank = size / banks, addr = STM32_FLASH;
    for (unsigned k = 0; k < banks; k++) {
        uint64_t used = 0;
        for (const char *p = f->head; *p;) {
            unsigned count, kib;
            int n = 0;
            if (sscanf(p, "%u*%u%n", &count, &kib, &n) != 2)
                return ROMFS_ERR_CORRUPT;
            struct romfs_erase_range *m = realloc(b->erase_map, (b->n_erase_map + 1) * sizeof *m);
            if (!m)
                return ROMFS_ERR_NOMEM;
            b->erase_map = m;
            m[b->n_erase_map++] = (struct romfs_erase_range){ addr + used, (uint64_t)count * kib * K, kib * K };
            used += (uint64_t)count * kib * K;
            p += n;
            if (*p == ',')
                p++;
        }
        if (bank > used) {
            struct romfs_erase_range *m = realloc(b->erase_map, (b->n_erase_map + 1) * sizeof *m);
            if (!m)
                return ROMFS_ERR_NOMEM;
            b->erase_map = m;
            m[b->n_erase_map++] = (struct romfs_erase_range){ addr + used, bank - used, f->rest_kib * K };
        }
        addr += bank;
    }
    return ROMFS_OK;
}

/* The internal flash's size: the part number's size letter, else the end of the highest
   internal-flash MEMORY region of the scripts. */
static uint64_t internal_size(struct importer *imp, const struct romfs_board *b, const struct imp_cdefs *d,
                              const struct romfs_ld_result *res, char **src)
{
    const struct imp_cdef *m = imp_cdefs_find(d, "MICROPY_HW_MCU_NAME");
    *src = NULL;
    if (m) {
        const char *q = strchr(m->body, '"');
        /* "STM32F405RG": family F405, pins R, size G */
        if (q && strncmp(q + 1, "STM32", 5) == 0 && strlen(q + 1) >= 12 && q[11] != '"') {
            uint64_t size = size_letter(q[11]);
            if (size) {
                *src = imp_printf("%s:%d: MICROPY_HW_MCU_NAME %.*s (ST part number: size letter '%c')", m->file,
                                  m->line, (int)strcspn(q, " \t"), q, q[11]);
                return size;
            }
        }
    }
    /* the FLASH region ("entire flash" by the scripts' convention) and regions above it
       (a filesystem past its end); not a region that starts inside it and overruns it */
    const struct romfs_ld_region *flash = romfs_ld_find_region(res, "FLASH");
    uint64_t end = flash && flash->origin == STM32_FLASH ? flash->origin + flash->length : 0;
    const struct romfs_ld_region *top = end ? flash : NULL;
    for (size_t i = 0; i < res->n_regions; i++) {
        const struct romfs_ld_region *r = &res->regions[i];
        bool inside = flash && r->origin >= flash->origin && r->origin < flash->origin + flash->length;
        if (r->origin >= STM32_FLASH && r->origin < STM32_FLASH + 0x02000000u && r->origin + r->length > end &&
            (!r->attrs || !strchr(r->attrs, 'w')) && !inside) {
            end = r->origin + r->length;
            top = r;
        }
    }
    if (top)
        *src = imp_printf("%s:%d: %s (the end of the highest internal-flash region)",
                          imp_tree_relative(imp, top->file), top->line, top->name);
    (void)b;
    return end > STM32_FLASH ? end - STM32_FLASH : 0;
}

/* The target of REGION_ALIAS("alias", TARGET) in the build's scripts, or NULL. */
static char *region_alias(struct importer *imp, const struct ld_build *lb, const char *alias)
{
    char pat[64];
    snprintf(pat, sizeof pat, "REGION_ALIAS(\"%s\",", alias);
    for (size_t i = 0; i < lb->n_scripts; i++) {
        char *path = imp_path(imp, "ports/stm32/%s", lb->scripts[i]);
        char *text = path ? imp_read_text(path) : NULL;
        free(path);
        const char *p = text ? strstr(text, pat) : NULL;
        char *out = NULL;
        if (p) {
            p += strlen(pat);
            while (*p == ' ')
                p++;
            out = strndup(p, strcspn(p, " )"));
        }
        free(text);
        if (out)
            return out;
    }
    return NULL;
}

static int config_c(struct importer *imp, struct romfs_board *b, const struct imp_cdefs *d, const char *name,
                    int64_t value)
{
    const struct imp_cdef *m = imp_cdefs_find(d, name);
    return imp_config(imp, b, name, (uint64_t)value, m ? m->file : "?", m ? m->line : 0);
}

/* A value of the C configuration, recorded; false when undefined or not a number. */
static bool cval(struct importer *imp, struct romfs_board *b, const struct imp_cdefs *d, const char *name,
                 int64_t *v, int *rc)
{
    if (!imp_cdefs_value(d, name, v))
        return false;
    if (!*rc)
        *rc = config_c(imp, b, d, name, *v);
    return true;
}

/* An external flash device: qspi/ospi (memory-mapped, size from ..._SIZE_BITS_LOG2) or spi. */
static int external_device(struct importer *imp, struct romfs_board *b, const struct imp_cdefs *d, const char *dev)
{
    if (romfs_board_device(b, dev))
        return ROMFS_OK;
    int rc = ROMFS_OK;
    int64_t log2 = 0;
    char *src = NULL;
    uint64_t size = 0, base = 0;
    bool mmap = false;
    if (!strcmp(dev, "qspi") || !strcmp(dev, "ospi")) {
        const char *def = dev[0] == 'q' ? "MICROPY_HW_QSPIFLASH_SIZE_BITS_LOG2" : "MICROPY_HW_OSPIFLASH_SIZE_BITS_LOG2";
        if (cval(imp, b, d, def, &log2, &rc) && log2 > 3 && log2 < 40) {
            const struct imp_cdef *m = imp_cdefs_find(d, def);
            size = (1ull << log2) / 8;
            src = imp_printf("%s:%d: %s", m->file, m->line, def);
        }
        base = STM32_QSPI;
        mmap = true;
    } else if (!strcmp(dev, "xspi")) {
        if (cval(imp, b, d, "MICROPY_HW_XSPIFLASH_SIZE_BITS_LOG2", &log2, &rc) && log2 > 3 && log2 < 40) {
            const struct imp_cdef *m = imp_cdefs_find(d, "MICROPY_HW_XSPIFLASH_SIZE_BITS_LOG2");
            size = (1ull << log2) / 8;
            src = imp_printf("%s:%d: MICROPY_HW_XSPIFLASH_SIZE_BITS_LOG2", m->file, m->line);
        }
        base = STM32_XSPI;
        mmap = true;
    }
    if (!rc && !imp_map_device(imp, b, dev, base, size, 4096, 4, mmap, src))
        rc = imp->err->code;
    free(src);
    return rc;
}

/* The filesystem: internal flash storage (symbols) or an SPI-flash block device. */
static int stm32_fs(struct importer *imp, struct romfs_board *b, const struct imp_cdefs *d,
                    const struct romfs_ld_result *res)
{
    int rc = ROMFS_OK;
    int64_t internal = 1, seg2 = 0, v = 0;
    cval(imp, b, d, "MICROPY_HW_ENABLE_INTERNAL_FLASH_STORAGE", &internal, &rc);
    if (rc)
        return rc;
    if (internal) {
        rc = imp_map_symbols(imp, b, res, ROMFS_AREA_FS, "internal", "_micropy_hw_internal_flash_storage_start",
                             "_micropy_hw_internal_flash_storage_end", false, "filesystem", "flashbdev", NULL);
        if (!rc && cval(imp, b, d, "MICROPY_HW_ENABLE_INTERNAL_FLASH_STORAGE_SEGMENT2", &seg2, &rc) && seg2 && !rc)
            rc = imp_map_symbols(imp, b, res, ROMFS_AREA_FS, "internal", "_micropy_hw_internal_flash_storage2_start",
                                 "_micropy_hw_internal_flash_storage2_end", false, "filesystem (segment 2)",
                                 "flashbdev", NULL);
        return rc;
    }
    /* mpconfigboard_common.h: MICROPY_HW_BDEV_SPIFLASH_SIZE_BYTES at
       MICROPY_HW_BDEV_SPIFLASH_OFFSET_BYTES; or a board's own MICROPY_HW_BDEV_IOCTL over
       MICROPY_HW_SPIFLASH_SIZE_BITS at MICROPY_HW_SPIFLASH_OFFSET_BYTES (LEGO hubs). */
    int64_t size = 0, offset = 0;
    const char *size_def = NULL;
    if (imp_cdefs_find(d, "MICROPY_HW_BDEV_SPIFLASH")) {
        if (cval(imp, b, d, "MICROPY_HW_BDEV_SPIFLASH_SIZE_BYTES", &size, &rc))
            size_def = "MICROPY_HW_BDEV_SPIFLASH_SIZE_BYTES";
        cval(imp, b, d, "MICROPY_HW_BDEV_SPIFLASH_OFFSET_BYTES", &offset, &rc);
    } else if (imp_cdefs_find(d, "MICROPY_HW_BDEV_IOCTL") && cval(imp, b, d, "MICROPY_HW_SPIFLASH_SIZE_BITS", &v, &rc)) {
        size = v / 8;
        size_def = "MICROPY_HW_SPIFLASH_SIZE_BITS";
        cval(imp, b, d, "MICROPY_HW_SPIFLASH_OFFSET_BYTES", &offset, &rc);
    }
    if (rc || !size_def || size <= 0 || offset < 0)
        return rc;
    /* the bus: a board with an SPI flash (PYBD: spi_bdev) keeps its filesystem there,
       else on the QSPI or OSPI chip */
    const char *dev = imp_cdefs_find(d, "MICROPY_HW_SPIFLASH_CS")    ? "spi"
                      : imp_cdefs_find(d, "MICROPY_HW_QSPIFLASH_CS") ? "qspi"
                      : imp_cdefs_find(d, "MICROPY_HW_OSPIFLASH_CS") ? "ospi"
                      : imp_cdefs_find(d, "MICROPY_HW_XSPIFLASH_SIZE_BITS_LOG2") ? "xspi"
                                                                     : "spi";
    if ((rc = external_device(imp, b, d, dev)))
        return rc;
    struct romfs_flash_device *dv = (struct romfs_flash_device *)romfs_board_device(b, dev);
    const struct imp_cdef *m = imp_cdefs_find(d, size_def);
    char *src = imp_printf("%s:%d: %s", m->file, m->line, size_def);
    if (!src)
        return romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    if (!dv->size && !strcmp(dev, "spi")) {
        /* the chip is at least as large as the filesystem's end */
        dv->size = (uint64_t)(offset + size);
        dv->erase_block = 4096;
        dv->write_block = 256;
        dv->source = imp_printf("%s (at least: the filesystem's end)", src);
    }
    rc = imp_map_area(imp, b, ROMFS_AREA_FS, dev, "filesystem", (dv->mmap ? dv->base : 0) + (uint64_t)offset,
                      (uint64_t)size, "spibdev", src);
    free(src);
    return rc;
}

/* The device an address of the scripts lies on. */
static const char *device_at(const struct romfs_board *b, uint64_t addr)
{
    if (addr >= STM32_XSPI && addr < STM32_XSPI + 0x10000000u)
        return "xspi";
    if (addr >= STM32_QSPI && addr < STM32_QSPI + 0x10000000u)
        return romfs_board_device(b, "ospi") && !romfs_board_device(b, "qspi") ? "ospi" : "qspi";
    return "internal";
}

/* A firmware area for region name unless the map has it already. */
static int firmware_region(struct importer *imp, struct romfs_board *b, const struct romfs_ld_result *res,
                           const char *name)
{
    const struct romfs_ld_region *r = name ? romfs_ld_find_region(res, name) : NULL;
    for (size_t a = 0; r && a < b->n_areas; a++)
        if (b->areas[a].kind == ROMFS_AREA_FIRMWARE && b->areas[a].start == r->origin &&
            b->areas[a].size == r->length)
            return ROMFS_OK;
    if (!r)
        return ROMFS_OK;
    const char *dev = device_at(b, r->origin);
    int rc = romfs_board_device(b, dev) ? ROMFS_OK
             : imp_map_device(imp, b, dev, dev[0] == 'x' ? STM32_XSPI : STM32_QSPI, 0, 4096, 4, true, NULL)
                 ? ROMFS_OK
                 : imp->err->code;
    return rc ? rc : imp_map_region(imp, b, res, ROMFS_AREA_FIRMWARE, dev, name, NULL, NULL, NULL);
}

int stm32_map(struct importer *imp, struct romfs_board *b, struct board_ctx *c, const char *board)
{
    struct imp_cdefs d = { 0 };
    char *hrel = imp_printf("ports/stm32/boards/%s/mpconfigboard.h", board);
    const char *const inc[] = { "ports/stm32", NULL };
    int rc = hrel ? imp_cdefs_read(&d, imp->tree, hrel, inc) : ROMFS_ERR_NOMEM;
    if (rc == ROMFS_OK || rc == ROMFS_ERR_NOENT)
        rc = imp_cdefs_read(&d, imp->tree, "ports/stm32/mpconfigboard_common.h", inc);
    free(hrel);
    if (rc == ROMFS_ERR_NOENT)
        rc = ROMFS_OK; /* a partial tree (fixture) */
    if (rc)
        return romfs_set_error(imp->err, rc, "out of memory");
    const struct romfs_ld_result *res = &c->res;
    char *cmsis = imp_mk_get(&c->vars, "CMSIS_MCU"), *text0 = imp_mk_get(&c->vars, "TEXT0_ADDR");
    char *text1 = imp_mk_get(&c->vars, "TEXT1_ADDR"), *mboot = imp_mk_get(&c->vars, "USE_MBOOT");
    char *mboot0 = imp_mk_get(&c->vars, "MBOOT_TEXT0_ADDR");
    char *src = NULL;
    bool n6 = strncasecmp(cmsis, "STM32N6", 7) == 0;
    /* the internal flash (the N6 has none: it boots from XSPI flash) */
    if (!n6) {
        uint64_t size = internal_size(imp, b, &d, res, &src);
        if (!b->n_erase_map && !b->erase_block)
            rc = family_geometry(b, cmsis, size);
        if (!rc && !imp_map_device(imp, b, "internal", STM32_FLASH, size, b->erase_block, b->write_block, true, src))
            rc = imp->err->code;
        free(src);
        src = NULL;
    }
    /* external chips the board configures or the scripts name */
    if (!rc && imp_cdefs_find(&d, "MICROPY_HW_QSPIFLASH_SIZE_BITS_LOG2"))
        rc = external_device(imp, b, &d, "qspi");
    if (!rc && imp_cdefs_find(&d, "MICROPY_HW_OSPIFLASH_SIZE_BITS_LOG2"))
        rc = external_device(imp, b, &d, "ospi");
    if (!rc && n6)
        rc = external_device(imp, b, &d, "xspi");
    for (size_t i = 0; !rc && i < b->n_partitions; i++)
        if (b->partitions[i].device && strcmp(b->partitions[i].device, "internal"))
            rc = external_device(imp, b, &d, b->partitions[i].device);
    /* the firmware: the regions the common scripts alias FLASH_ISR, FLASH_COMMON and
       FLASH_APP to, else the region at TEXT0_ADDR; and the region at TEXT1_ADDR */
    static const char *const aliases[] = { "FLASH_ISR", "FLASH_COMMON", "FLASH_APP" };
    size_t before = b->n_areas;
    for (size_t k = 0; !rc && k < 3; k++) {
        char *target = region_alias(imp, &c->lb, aliases[k]);
        rc = firmware_region(imp, b, res, target);
        free(target);
    }
    if (!rc && b->n_areas == before)
        rc = firmware_region(imp, b, res, b->text_region);
    uint64_t t1 = 0;
    for (size_t i = 0; !rc && romfs_mk_number(text1, &t1) && i < res->n_regions; i++)
        if (res->regions[i].origin == t1 && res->regions[i].length) {
            rc = firmware_region(imp, b, res, res->regions[i].name);
            break;
        }
    /* bootloader regions the scripts name */
    for (size_t i = 0; !rc && i < res->n_regions; i++) {
        const char *n = res->regions[i].name;
        size_t l = strlen(n);
        if ((l > 3 && !strcmp(n + l - 3, "_BL")) || (l > 5 && !strcmp(n + l - 5, "_BOOT")))
            rc = imp_map_region(imp, b, res, ROMFS_AREA_BOOTLOADER, "internal", n, NULL, NULL, NULL);
    }
    if (!rc)
        rc = stm32_fs(imp, b, &d, res);
    /* the bootloader below TEXT0_ADDR: mboot (USE_MBOOT, or a board configuring MBOOT_*),
       a vendor's (Arduino), or a vendor's below mboot's MBOOT_TEXT0_ADDR (LEGO) */
    uint64_t t0 = 0, m0 = 0;
    if (!rc && !n6 && romfs_mk_number(text0, &t0) && t0 > STM32_FLASH && t0 < STM32_FLASH + 0x02000000u) {
        uint64_t top = t0;
        for (size_t i = 0; i < b->n_areas; i++)
            if (!strcmp(b->areas[i].device, "internal") && b->areas[i].start >= STM32_FLASH && b->areas[i].start < top)
                top = b->areas[i].start;
        bool is_mboot = !strcmp(mboot, "1");
        for (size_t i = 0; !is_mboot && strcmp(mboot, "0") && i < d.n; i++)
            is_mboot = strncmp(d.v[i].name, "MBOOT_", 6) == 0;
        char *mk = imp_printf("ports/stm32/boards/%s/mpconfigboard.mk", board);
        const char *files[] = { mk, NULL };
        rc = mk ? imp_config_mk(imp, b, "TEXT0_ADDR", text0, files) : ROMFS_ERR_NOMEM;
        const struct romfs_config_value *cv = romfs_board_config(b, "TEXT0_ADDR");
        if (!rc && romfs_mk_number(mboot0, &m0) && m0 > STM32_FLASH && m0 < top &&
            !(rc = imp_config_mk(imp, b, "MBOOT_TEXT0_ADDR", mboot0, files))) {
            const struct romfs_config_value *mv = romfs_board_config(b, "MBOOT_TEXT0_ADDR");
            src = imp_printf("%s: 0x08000000 .. MBOOT_TEXT0_ADDR", mv->source);
            rc = src ? imp_map_area(imp, b, ROMFS_AREA_BOOTLOADER, "internal", "vendor bootloader", STM32_FLASH,
                                    m0 - STM32_FLASH, NULL, src)
                     : ROMFS_ERR_NOMEM;
            free(src);
            cv = romfs_board_config(b, "TEXT0_ADDR"); /* the config array may have moved */
            src = cv ? imp_printf("%s: MBOOT_TEXT0_ADDR .. TEXT0_ADDR", cv->source) : NULL;
            if (!rc)
                rc = src ? imp_map_area(imp, b, ROMFS_AREA_BOOTLOADER, "internal", "mboot", m0, top - m0, NULL, src)
                         : ROMFS_ERR_NOMEM;
        } else if (!rc && top > STM32_FLASH) {
            src = cv ? imp_printf("%s: 0x08000000 .. %s", cv->source, top == t0 ? "TEXT0_ADDR" : "the next area")
                     : NULL;
            rc = src ? imp_map_area(imp, b, ROMFS_AREA_BOOTLOADER, "internal", is_mboot ? "mboot" : "bootloader",
                                    STM32_FLASH, top - STM32_FLASH, NULL, src)
                     : ROMFS_ERR_NOMEM;
        }
        free(src);
        free(mk);
        if (rc == ROMFS_ERR_NOMEM)
            rc = romfs_set_error(imp->err, rc, "out of memory");
    }
    if (!rc && n6 && romfs_mk_number(text0, &t0) && t0 > STM32_XSPI && t0 < STM32_XSPI + 0x10000000u) {
        /* the N6 boots mboot from the start of its XSPI flash */
        char *mk = imp_printf("ports/stm32/boards/%s/mpconfigboard.mk", board);
        const char *files[] = { mk, NULL };
        rc = mk ? imp_config_mk(imp, b, "TEXT0_ADDR", text0, files) : ROMFS_ERR_NOMEM;
        const struct romfs_config_value *cv = romfs_board_config(b, "TEXT0_ADDR");
        src = !rc && cv ? imp_printf("%s: 0x70000000 .. TEXT0_ADDR", cv->source) : NULL;
        if (!rc)
            rc = src ? imp_map_area(imp, b, ROMFS_AREA_BOOTLOADER, "xspi", !strcmp(mboot, "0") ? "bootloader" : "mboot",
                                    STM32_XSPI, t0 - STM32_XSPI, NULL, src)
                     : ROMFS_ERR_NOMEM;
        free(src);
        free(mk);
        if (rc == ROMFS_ERR_NOMEM)
            rc = romfs_set_error(imp->err, rc, "out of memory");
    }
    free(cmsis);
    free(text0);
    free(text1);
    free(mboot);
    free(mboot0);
    imp_cdefs_free(&d);
    return rc ? rc : imp_map_finish(imp, b, "memoryview");
}
