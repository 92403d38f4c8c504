/* boards/import_esp32.c: esp32 boards: flash size and partition table from the board's
 * sdkconfig files (the defaults in order, then sdkconfig.board), and the flash map from
 * that table: the second-stage bootloader (at the IDF target's offset) and the partition
 * table below the first partition, the firmware (ota_0, else factory), the writable
 * filesystem (the "vfs" or "ffat" data partition, else what main.c adds: from the end of the
 * last partition to the end of flash), everything else reserved. ROMFS comes from a table
 * with a data partition labelled romfs, chosen at build time; romfs_option says so. */
#define _GNU_SOURCE
#include "boards/import_internal.h"
#include "boards/esp32.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct sdk {
    uint64_t flash;             /* CONFIG_ESPTOOLPY_FLASHSIZE_<N>MB */
    char *flash_src;            /* its file:line */
    char *table;                /* CONFIG_PARTITION_TABLE_CUSTOM_FILENAME (port-relative) */
    char *table_src;
};

/* Apply one sdkconfig file (port-relative) on top of s. */
static void apply_sdkconfig(struct importer *imp, const char *rel, struct sdk *s)
{
    char *path = imp_path(imp, "ports/esp32/%s", rel);
    char *t = path ? imp_read_text(path) : NULL;
    free(path);
    int line = 1;
    for (const char *p = t; p && *p; line++) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        unsigned mb;
        char yes;
        if (sscanf(p, "CONFIG_ESPTOOLPY_FLASHSIZE_%uMB=%c", &mb, &yes) == 2 && yes == 'y') {
            s->flash = (uint64_t)mb * M;
            free(s->flash_src);
            s->flash_src = imp_printf("ports/esp32/%s:%d", rel, line);
        }
        if (!strncmp(p, "CONFIG_PARTITION_TABLE_CUSTOM_FILENAME=\"", 40)) {
            const char *q = p + 40;
            size_t k = 0;
            while (q + k < p + len && q[k] != '"')
                k++;
            free(s->table);
            s->table = strndup(q, k);
            free(s->table_src);
            s->table_src = imp_printf("ports/esp32/%s:%d", rel, line);
        }
        p = eol ? eol + 1 : NULL;
    }
    free(t);
}

/* SDKCONFIG_DEFAULTS entries of cmake text (set or list(APPEND)), applied in order. */
static void apply_defaults(struct importer *imp, const char *text, struct sdk *s)
{
    for (const char *p = text; p && (p = strstr(p, "SDKCONFIG_DEFAULTS")); p += 18) {
        const char *end = strchr(p, ')');
        if (!end)
            break;
        for (const char *q = p + 18; q < end;) {
            while (q < end && isspace((unsigned char)*q))
                q++;
            size_t k = 0;
            while (q + k < end && !isspace((unsigned char)q[k]))
                k++;
            if (k > 7 && !strncmp(q, "boards/", 7)) {
                char *rel = strndup(q, k);
                if (rel)
                    apply_sdkconfig(imp, rel, s);
                free(rel);
            }
            q += k;
        }
    }
}

/* Where the IDF target's ROM loads the second-stage bootloader from (ESP-IDF
   components/bootloader/Kconfig.projbuild, BOOTLOADER_OFFSET_IN_FLASH). */
static uint32_t bootloader_offset(const char *target)
{
    if (!strcasecmp(target, "esp32") || !strcasecmp(target, "esp32s2"))
        return 0x1000;
    if (!strcasecmp(target, "esp32c5") || !strcasecmp(target, "esp32p4"))
        return 0x2000;
    return 0;
}

#define PARTITION_TABLE_OFFSET 0x8000u /* CONFIG_PARTITION_TABLE_OFFSET's default */

static int esp32_map(struct importer *imp, struct romfs_board *b, const struct sdk *s, const char *target)
{
    int rc = imp_map_device(imp, b, "spi", 0, s->flash, 4 * K, 4, false, s->flash_src) ? ROMFS_OK : imp->err->code;
    if (!rc && s->flash_src)
        rc = imp_config(imp, b, "CONFIG_ESPTOOLPY_FLASHSIZE", s->flash, s->flash_src, 0);
    if (rc || !s->table)
        return rc;
    char *rel = imp_printf("ports/esp32/%s", s->table);
    char *path = rel ? imp_path(imp, "%s", rel) : NULL;
    char *text = path ? imp_read_text(path) : NULL;
    free(path);
    struct romfs_esp32_table t = { 0 };
    if (!text) {
        free(rel);
        return ROMFS_OK; /* a partial tree */
    }
    rc = romfs_esp32_table_parse_csv(text, strlen(text), rel, &t, imp->err);
    free(text);
    if (rc) {
        imp_board_failed(imp, b->name);
        free(rel);
        romfs_esp32_table_free(&t);
        return romfs_error_prefix(imp->err, "esp32 board %s", b->name);
    }
    uint32_t bl = bootloader_offset(target), first = UINT32_MAX, end = 0;
    bool has_ota0 = false, has_fs = false;
    for (size_t i = 0; i < t.n; i++) {
        first = t.parts[i].offset < first ? t.parts[i].offset : first;
        end = t.parts[i].offset + t.parts[i].size > end ? t.parts[i].offset + t.parts[i].size : end;
        has_ota0 = has_ota0 || (t.parts[i].type == ROMFS_ESP32_TYPE_APP && t.parts[i].subtype == 0x10);
    }
    char *src = imp_printf("ESP-IDF: the %s ROM loads the bootloader from 0x%x; the partition table at 0x%x "
                           "(CONFIG_PARTITION_TABLE_OFFSET default)", target, (unsigned)bl, PARTITION_TABLE_OFFSET);
    if (!src)
        rc = romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    if (!rc)
        rc = imp_map_area(imp, b, ROMFS_AREA_BOOTLOADER, "spi", "bootloader", bl, PARTITION_TABLE_OFFSET - bl, NULL, src);
    if (!rc)
        rc = imp_map_area(imp, b, ROMFS_AREA_RESERVED, "spi", "partition table", PARTITION_TABLE_OFFSET,
                          (first != UINT32_MAX ? first : PARTITION_TABLE_OFFSET + 0x1000) - PARTITION_TABLE_OFFSET, NULL,
                          src);
    free(src);
    for (size_t i = 0; !rc && i < t.n; i++) {
        const struct romfs_esp32_part *p = &t.parts[i];
        enum romfs_area_kind kind = ROMFS_AREA_RESERVED;
        const char *bdev = NULL;
        if (p->type == ROMFS_ESP32_TYPE_APP &&
            ((has_ota0 && p->subtype == 0x10) || (!has_ota0 && p->subtype == 0x00)))
            kind = ROMFS_AREA_FIRMWARE;
        else if (p->type == ROMFS_ESP32_TYPE_DATA && (!strcmp(p->label, "vfs") || !strcmp(p->label, "ffat"))) {
            kind = ROMFS_AREA_FS;
            bdev = "esp32.Partition";
            has_fs = true;
        } else if (p->type == ROMFS_ESP32_TYPE_DATA && !strcmp(p->label, "romfs"))
            continue; /* a partition (imp_map_finish adds its area) */
        src = imp_printf("%s:%d: %s", rel, p->line, p->label);
        rc = src ? imp_map_area(imp, b, kind, "spi", p->label, p->offset, p->size, bdev, src)
                 : romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
        free(src);
    }
    if (!rc && !has_fs && s->flash > end) {
        src = imp_printf("ports/esp32/main.c: \"vfs\" from the end of the last partition of %s to the end of flash "
                         "(the chip's physical size at run time; here CONFIG_ESPTOOLPY_FLASHSIZE)", rel);
        rc = src ? imp_map_area(imp, b, ROMFS_AREA_FS, "spi", "vfs", end, s->flash - end, "esp32.Partition", src)
                 : romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
        free(src);
    }
    free(rel);
    romfs_esp32_table_free(&t);
    return rc;
}

int imp_port_esp32(struct importer *imp)
{
    char **boards;
    size_t n;
    int rc = imp_list_boards(imp, "esp32", "mpconfigboard.cmake", &boards, &n);
    for (size_t i = 0; !rc && i < n; i++) {
        char *path = imp_path(imp, "ports/esp32/boards/%s/mpconfigboard.cmake", boards[i]);
        char *text = path ? imp_read_text(path) : NULL;
        free(path);
        if (!text)
            continue;
        /* include(boards/mpconfigboard_<target>_common.cmake) first, then the board's own */
        char *common = NULL;
        const char *inc = strstr(text, "include(boards/");
        if (inc) {
            size_t k = strcspn(inc + 8, ")");
            char *rel = strndup(inc + 8, k);
            char *cpath = rel ? imp_path(imp, "ports/esp32/%s", rel) : NULL;
            common = cpath ? imp_read_text(cpath) : NULL;
            free(rel);
            free(cpath);
        }
        char *target = imp_cmake_set(text, "IDF_TARGET");
        if (!target && common)
            target = imp_cmake_set(common, "IDF_TARGET");
        struct sdk s = { 0 };
        if (common)
            apply_defaults(imp, common, &s);
        apply_defaults(imp, text, &s);
        char *bsdk = imp_printf("boards/%s/sdkconfig.board", boards[i]);
        if (bsdk)
            apply_sdkconfig(imp, bsdk, &s);
        free(bsdk);
        struct romfs_board *b = imp_new_board(imp, "esp32", boards[i]);
        rc = b ? ROMFS_OK : imp->err->code;
        if (!rc) {
            b->mcu = target ? strdup(target) : strdup("esp32");
            for (char *q = b->mcu; q && *q; q++)
                *q = (char)toupper((unsigned char)*q);
            b->flash_base = 0; /* partition offsets are flash offsets */
            b->flash_size = s.flash;
            b->erase_block = 4 * K;
            b->write_block = 4;
            b->romfs_option = imp_printf("MICROPY_VFS_ROM and a partition table with a data partition labelled romfs "
                                         "(e.g. partitions-4MiB-romfs.csv); default table: %s, no ROMFS partition",
                                         s.table ? s.table : "?");
            rc = esp32_map(imp, b, &s, target ? target : "esp32");
        }
        if (!rc) /* esp32_partition.c: rom_ioctl(2) returns the esp32.Partition object */
            rc = imp_map_finish(imp, b, "object");
        free(s.flash_src);
        free(s.table);
        free(s.table_src);
        free(target);
        free(common);
        free(text);
    }
    imp_free_list(boards, n);
    return rc;
}
