/* boards/import_esp.c: Espressif boards. esp8266: linker scripts with a ROMFS variant;
 * esp32: flash geometry only, since ROMFS comes from a partition table (a data partition
 * labelled "romfs") chosen at build time, and romfs_option says so. */
#include "boards/import_internal.h"

#include <ctype.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
                rc = imp_finish_ld_board(imp, &c, b, &esp8266, text_names, "spi", &found);
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

/* Apply sdkconfig files (port-relative) in order: flash size and partition table. */
static void apply_sdkconfig(struct importer *imp, const char *rel, uint64_t *size, char **table)
{
    char *path = imp_path(imp, "ports/esp32/%s", rel);
    char *t = path ? imp_read_text(path) : NULL;
    free(path);
    for (const char *p = t; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        unsigned mb;
        char yes;
        if (sscanf(p, "CONFIG_ESPTOOLPY_FLASHSIZE_%uMB=%c", &mb, &yes) == 2 && yes == 'y')
            *size = (uint64_t)mb * M;
        if (!strncmp(p, "CONFIG_PARTITION_TABLE_CUSTOM_FILENAME=\"", 40)) {
            const char *q = p + 40;
            size_t k = 0;
            while (q + k < p + len && q[k] != '"')
                k++;
            free(*table);
            *table = strndup(q, k);
        }
        p = eol ? eol + 1 : NULL;
    }
    free(t);
}

/* SDKCONFIG_DEFAULTS entries of cmake text (set or list(APPEND)), applied in order. */
static void apply_defaults(struct importer *imp, const char *text, uint64_t *size, char **table)
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
                    apply_sdkconfig(imp, rel, size, table);
                free(rel);
            }
            q += k;
        }
    }
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
        uint64_t size = 0;
        char *table = NULL;
        if (common)
            apply_defaults(imp, common, &size, &table);
        apply_defaults(imp, text, &size, &table);
        char *bsdk = imp_printf("boards/%s/sdkconfig.board", boards[i]);
        if (bsdk)
            apply_sdkconfig(imp, bsdk, &size, &table);
        free(bsdk);
        struct romfs_board *b = imp_new_board(imp, "esp32", boards[i]);
        rc = b ? ROMFS_OK : imp->err->code;
        if (!rc) {
            b->mcu = target ? strdup(target) : strdup("esp32");
            for (char *q = b->mcu; q && *q; q++)
                *q = (char)toupper((unsigned char)*q);
            b->flash_base = 0; /* partition offsets are flash offsets */
            b->flash_size = size;
            b->erase_block = 4 * K;
            b->write_block = 4;
            b->romfs_option = imp_printf("MICROPY_VFS_ROM and a partition table with a data partition labelled romfs "
                                         "(e.g. partitions-4MiB-romfs.csv); default table: %s, no ROMFS partition",
                                         table ? table : "?");
        }
        free(table);
        free(target);
        free(common);
        free(text);
    }
    imp_free_list(boards, n);
    return rc;
}
