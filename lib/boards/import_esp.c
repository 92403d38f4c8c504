/* boards/import_esp.c: esp8266 boards: linker scripts per build variant (ROMFS in the
 * FLASH_2M_ROMFS variant). The esp32 port is in import_esp32.c. */
#include "boards/import_internal.h"

#include <ctype.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ESP8266_FLASH 0x40200000u /* where the flash is mapped (its first 1 MiB readable) */

/* The flash map of one variant: the firmware image from the start of flash to
   _firmware_size (header, iram init, irom0), ROMFS, the filesystem that
   modules/flashbdev.py makes (from esp.flash_user_start(), i.e. _firmware_size plus the
   ROMFS size, one more sector when that is below 1 MiB, to 20K below the end of flash; none
   below 1 MiB of flash), and the SDK's parameters in the last 20K. The flash size is the
   variant's (-DMICROPY_ESP8266_2M: 2 MiB or more). */
static int esp8266_map(struct importer *imp, struct romfs_board *b, struct board_ctx *c, const char *vrel)
{
    const struct romfs_ld_result *res = &c->res;
    char *cflags = imp_mk_get(&c->vars, "CFLAGS");
    uint64_t size = strstr(cflags, "-DMICROPY_ESP8266_2M")     ? 2 * M
                    : strstr(cflags, "-DMICROPY_ESP8266_1M")   ? 1 * M
                    : strstr(cflags, "-DMICROPY_ESP8266_512K") ? 512 * K
                                                               : 0;
    free(cflags);
    int line = 0;
    char *path = imp_path(imp, "%s", vrel);
    char *text = path ? imp_read_text(path) : NULL;
    free(path);
    const char *hit = text ? strstr(text, "-DMICROPY_ESP8266_") : NULL;
    for (const char *q = text; hit && q <= hit; q++)
        line += q == text || q[-1] == '\n';
    free(text);
    char *src = imp_printf("%s:%d: CFLAGS -DMICROPY_ESP8266_%s", vrel, line,
                           size == 2 * M ? "2M (2 MiB or more)" : size == M ? "1M" : "512K");
    int rc = src && size ? (imp_map_device(imp, b, "spi", ESP8266_FLASH, size, 4 * K, 4, true, src) ? ROMFS_OK
                                                                                                     : imp->err->code)
                         : ROMFS_OK;
    free(src);
    uint64_t fw = 0;
    if (!rc)
        rc = imp_map_symbols(imp, b, res, ROMFS_AREA_FIRMWARE, "spi", "0x40200000", "_firmware_size", true, "firmware",
                             NULL, NULL);
    if (!rc && size && romfs_ld_find_symbol(res, "_firmware_size", &fw) == ROMFS_OK) {
        uint64_t user = fw;
        for (size_t k = 0; k < b->n_partitions; k++)
            user += b->partitions[k].size;
        uint64_t sec = user / (4 * K);
        if (sec < 256)
            sec++; /* "Reserve space for native code" */
        uint64_t end = size - 20 * K;
        if (size >= M && end > sec * 4 * K)
            rc = imp_map_area(imp, b, ROMFS_AREA_FS, "spi", "filesystem", ESP8266_FLASH + sec * 4 * K,
                              end - sec * 4 * K, "flashbdev.py",
                              "ports/esp8266/modules/flashbdev.py:38: esp.flash_user_start() .. flash size - 20K");
        if (!rc)
            rc = imp_map_area(imp, b, ROMFS_AREA_RESERVED, "spi", "SDK parameters", ESP8266_FLASH + end, 20 * K, NULL,
                              "ports/esp8266/modules/flashbdev.py:41: 20K at the flash end is reserved for SDK params");
    }
    return rc ? rc : imp_map_finish(imp, b, "memoryview");
}

/* Every variant of a board (the default mpconfigvariant.mk as the board's own name); ROMFS
   in the variants whose LD_FILES script defines the romfs symbols. */
int imp_port_esp8266(struct importer *imp)
{
    char **boards;
    size_t n;
    int rc = imp_list_boards(imp, "esp8266", "mpconfigboard.mk", &boards, &n);
    for (size_t i = 0; !rc && i < n; i++) {
        static const char *const variants[] = { "", "FLASH_2M_ROMFS", "FLASH_1M", "FLASH_512K", NULL };
        for (size_t v = 0; !rc && variants[v]; v++) {
            char *vrel = imp_printf("ports/esp8266/boards/%s/mpconfigvariant%s%s.mk", boards[i], *variants[v] ? "_" : "",
                                    variants[v]);
            char *vmk = vrel ? imp_path(imp, "%s", vrel) : NULL;
            FILE *probe = vmk ? fopen(vmk, "r") : NULL;
            if (probe)
                fclose(probe);
            if (!probe) {
                free(vmk);
                free(vrel);
                continue;
            }
            struct board_ctx c;
            rc = imp_ctx_read(imp, &c, "esp8266", boards[i]);
            if (!rc)
                rc = romfs_mk_read(&c.vars, vmk, imp->err);
            free(vmk);
            char *ld_files = imp_mk_get(&c.vars, "LD_FILES");
            char *name = *variants[v] ? imp_printf("%s-%s", boards[i], variants[v]) : strdup(boards[i]);
            struct romfs_board *b = rc || !name ? NULL : imp_new_board(imp, "esp8266", name);
            if (!rc && !b)
                rc = imp->err->code ? imp->err->code : romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
            if (!rc) {
                b->mcu = strdup("ESP8266");
                b->variant = *variants[v] ? strdup(variants[v]) : NULL;
                rc = ld_build_add_words(c.lb.scripts, &c.lb.n_scripts, *ld_files ? ld_files : "boards/esp8266_2m.ld");
            }
            bool found = false;
            if (!rc) {
                static const char *const text_names[] = { "irom0_0_seg", NULL };
                static const struct mcu_geometry esp8266 = { "ESP8266", ESP8266_FLASH, 2 * M, 4 * K, 4, NULL, NULL, NULL };
                rc = imp_finish_ld_board(imp, &c, b, &esp8266, text_names, "spi", &found);
                /* flash is mapped at 0x40200000 for its first 1 MiB only */
                for (size_t k = 0; !rc && k < b->n_partitions; k++)
                    b->partitions[k].mmap = b->partitions[k].start + b->partitions[k].size <= 0x40300000u;
            }
            if (!rc)
                rc = esp8266_map(imp, b, &c, vrel);
            if (!rc && b->devices && b->devices[0].size)
                b->flash_size = b->devices[0].size;
            free(ld_files);
            free(name);
            free(vrel);
            imp_ctx_free(&c);
        }
    }
    imp_free_list(boards, n);
    return rc;
}
