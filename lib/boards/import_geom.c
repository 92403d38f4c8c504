/* boards/import_geom.c: rp2 and esp32 boards, which get ROMFS only through a build
 * option (rp2: MICROPY_HW_ROMFS_BYTES, placed just below the filesystem; esp32:
 * MICROPY_VFS_ROM and a partition table with a data partition labelled "romfs").
 * Their entries carry flash geometry and no partition (romfs_option says how to get
 * one), so `romfs layout` can plan and `romfs check --elf`/--partition-table can check.
 * Only what the MicroPython tree states is recorded: a flash size that lives in the
 * pico-sdk's board headers (not part of the tree) is 0 = unknown. */
#include "boards/import_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first word after `set(NAME` in cmake text (quotes stripped), or NULL. */
static char *cmake_set(const char *text, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = text; p && (p = strstr(p, "set(")); p += 4) {
        const char *q = p + 4;
        while (*q == ' ')
            q++;
        if (strncmp(q, name, nl) != 0 || !(q[nl] == ' ' || q[nl] == '\t'))
            continue;
        if (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
            continue; /* e.g. "unset(" */
        q += nl;
        while (*q == ' ' || *q == '\t' || *q == '"')
            q++;
        size_t n = strcspn(q, " \t\")\n#");
        return n ? strndup(q, n) : NULL;
    }
    return NULL;
}

/* NAME=VALUE or `#define NAME VALUE` anywhere in text, as a number. */
static bool find_number_def(const char *text, const char *name, uint64_t *out)
{
    if (!text)
        return false;
    char *v = romfs_c_define(text, name);
    bool ok = v && romfs_mk_number(v, out);
    free(v);
    if (ok)
        return true;
    char pat[96];
    snprintf(pat, sizeof pat, "%s=", name);
    const char *p = strstr(text, pat);
    if (!p)
        return false;
    p += strlen(pat);
    size_t n = strcspn(p, " \t\")\n");
    char *num = strndup(p, n);
    ok = num && romfs_mk_number(num, out);
    free(num);
    return ok;
}

/* Concatenated text of every file in the board directory (cmake and headers). */
static char *board_dir_text(struct importer *imp, const char *port, const char *board)
{
    static const char *const names[] = { "mpconfigboard.cmake", "mpconfigboard.h", NULL };
    char *all = strdup("");
    for (size_t i = 0; all && names[i]; i++) {
        char *path = imp_path(imp, "ports/%s/boards/%s/%s", port, board, names[i]);
        char *t = path ? imp_read_text(path) : NULL;
        free(path);
        if (!t)
            continue;
        char *n = imp_printf("%s%s\n", all, t);
        free(all);
        free(t);
        all = n;
    }
    return all;
}

/* ---------------- rp2 ---------------- */

int imp_port_rp2(struct importer *imp)
{
    char **boards;
    size_t n;
    int rc = imp_list_boards(imp, "rp2", "mpconfigboard.cmake", &boards, &n);
    for (size_t i = 0; !rc && i < n; i++) {
        char *text = board_dir_text(imp, "rp2", boards[i]);
        if (!text) {
            rc = romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
            break;
        }
        /* board header named after PICO_BOARD inside the board directory */
        char *pico_board = cmake_set(text, "PICO_BOARD"), *platform = cmake_set(text, "PICO_PLATFORM");
        if (pico_board) {
            char *hpath = imp_path(imp, "ports/rp2/boards/%s/%s.h", boards[i], pico_board);
            char *h = hpath ? imp_read_text(hpath) : NULL;
            free(hpath);
            if (h) {
                char *t2 = imp_printf("%s%s", text, h);
                free(text);
                text = t2;
                free(h);
            }
        }
        struct romfs_board *b = text ? imp_new_board(imp, "rp2", boards[i]) : NULL;
        rc = b ? ROMFS_OK : romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
        if (!rc) {
            bool rp2350 = (platform && strncmp(platform, "rp2350", 6) == 0) ||
                          (pico_board && strstr(pico_board, "2350")) ||
                          (pico_board && strncmp(pico_board, "pico2", 5) == 0);
            b->mcu = strdup(rp2350 ? "RP2350" : "RP2040");
            uint64_t size = 0, storage = 0;
            if (!find_number_def(text, "PICO_FLASH_SIZE_BYTES", &size) && pico_board) {
                /* the Raspberry Pi boards' flash, a fact of their pico-sdk headers */
                if (!strcmp(pico_board, "pico") || !strcmp(pico_board, "pico_w"))
                    size = 2 * M;
                else if (!strcmp(pico_board, "pico2") || !strcmp(pico_board, "pico2_w"))
                    size = 4 * M;
            }
            char *st = cmake_set(text, "MICROPY_HW_FLASH_STORAGE_BYTES");
            if (!(st && romfs_mk_number(st, &storage)))
                storage = 1408 * K; /* mpconfigport.h default */
            free(st);
            b->flash_base = 0x10000000u;
            b->flash_size = size;
            b->erase_block = 4 * K;
            b->write_block = 256;
            if (size > storage) {
                b->fs_region = strdup("MICROPY_HW_FLASH_STORAGE_BYTES");
                b->fs_start = b->flash_base + size - storage;
                b->fs_size = storage;
                b->text_region = strdup("flash below the filesystem");
                b->text_start = b->flash_base;
                b->text_size = size - storage;
            }
            b->romfs_option = strdup("MICROPY_HW_ROMFS_BYTES (build option, default 0: no ROMFS partition; "
                                     "when set, ROMFS sits just below the filesystem)");
            b->repl_usb = strdup("2e8a:0005");
            b->has_uf2 = true;
            b->uf2_family = rp2350 ? 0xe48bff59u : 0xe48bff56u;
            b->openocd_target = strdup(rp2350 ? "target/rp2350.cfg" : "target/rp2040.cfg");
            b->pyocd_target = strdup(rp2350 ? "rp2350" : "rp2040");
        }
        free(pico_board);
        free(platform);
        free(text);
    }
    imp_free_list(boards, n);
    return rc;
}

/* ---------------- esp32 ---------------- */

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
        char *target = cmake_set(text, "IDF_TARGET");
        if (!target && common)
            target = cmake_set(common, "IDF_TARGET");
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
