/* boards/import_rp2.c: Raspberry Pi RP2040/RP2350 boards (rp2 port): flash geometry only,
 * since ROMFS is a build option (MICROPY_HW_ROMFS_BYTES, placed just below the
 * filesystem). A flash size that lives in the pico-sdk's board headers (not part of the
 * tree) is recorded as 0 = unknown. */
#include "boards/import_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int imp_port_rp2(struct importer *imp)
{
    char **boards;
    size_t n;
    int rc = imp_list_boards(imp, "rp2", "mpconfigboard.cmake", &boards, &n);
    for (size_t i = 0; !rc && i < n; i++) {
        char *text = imp_board_dir_text(imp, "rp2", boards[i]);
        if (!text) {
            rc = romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
            break;
        }
        /* board header named after PICO_BOARD inside the board directory */
        char *pico_board = imp_cmake_set(text, "PICO_BOARD"), *platform = imp_cmake_set(text, "PICO_PLATFORM");
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
            if (!imp_find_number_def(text, "PICO_FLASH_SIZE_BYTES", &size) && pico_board) {
                /* the Raspberry Pi boards' flash, a fact of their pico-sdk headers */
                if (!strcmp(pico_board, "pico") || !strcmp(pico_board, "pico_w"))
                    size = 2 * M;
                else if (!strcmp(pico_board, "pico2") || !strcmp(pico_board, "pico2_w"))
                    size = 4 * M;
            }
            char *st = imp_cmake_set(text, "MICROPY_HW_FLASH_STORAGE_BYTES");
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
