/* boards/import_rp2.c: Raspberry Pi RP2040/RP2350 boards (rp2 port). The flash size is
 * PICO_FLASH_SIZE_BYTES: the board's CMake, else its pico-sdk board header (in the board
 * directory, or the SDK's, whose values the table below records with their file:line since
 * the SDK is a submodule); the map is memmap_rp2/memory_flash.incl's MEMORY (FLASH,
 * FLASH_ROMFS, FLASH_FS) linked with the sizes CMakeLists.txt passes as --defsym, plus the
 * RP2040's 256-byte boot2 at the start of flash. ROMFS is a build option
 * (MICROPY_HW_ROMFS_BYTES, default 0: none). */
#define _GNU_SOURCE
#include "boards/import_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RP2_XIP 0x10000000u

/* PICO_FLASH_SIZE_BYTES of the pico-sdk's own board headers (src/boards/include/boards/,
   SDK 2.2.0) that boards of the tree name as PICO_BOARD. */
static const struct {
    const char *board;
    unsigned mib;
    int line;
} sdk_boards[] = {
    { "adafruit_feather_rp2040", 8, 88 },       { "adafruit_itsybitsy_rp2040", 8, 91 },
    { "adafruit_qtpy_rp2040", 8, 90 },          { "arduino_nano_rp2040_connect", 16, 79 },
    { "garatronic_pybstick26_rp2040", 1, 75 },  { "machdyne_werkzeug", 1, 80 },
    { "nullbits_bit_c_pro", 4, 105 },           { "pico", 2, 77 },
    { "pico2", 4, 80 },                         { "pico2_w", 4, 79 },
    { "pico_w", 2, 76 },                        { "pimoroni_picolipo_16mb", 16, 79 },
    { "pimoroni_picolipo_4mb", 4, 79 },         { "pimoroni_tiny2040", 8, 97 },
    { "pimoroni_tiny2040_2mb", 2, 97 },         { "pololu_3pi_2040_robot", 16, 24 },
    { "pololu_zumo_2040_robot", 16, 24 },       { "seeed_xiao_rp2040", 2, 95 },
    { "seeed_xiao_rp2350", 4, 145 },            { "sparkfun_iotnode_lorawan_rp2350", 16, 80 },
    { "sparkfun_iotredboard_rp2350", 16, 90 },  { "sparkfun_promicro", 16, 80 },
    { "sparkfun_promicro_rp2350", 16, 78 },     { "sparkfun_thingplus", 16, 79 },
    { "sparkfun_thingplus_rp2350", 16, 82 },    { "sparkfun_xrp_controller", 16, 82 },
    { "waveshare_rp2040_lcd_0.96", 2, 94 },     { "waveshare_rp2040_plus_16mb", 16, 75 },
    { "waveshare_rp2040_plus_4mb", 4, 75 },     { "waveshare_rp2040_zero", 2, 73 },
    { "weact_studio_rp2040_16mb", 16, 80 },     { "weact_studio_rp2040_2mb", 2, 80 },
    { "weact_studio_rp2040_4mb", 4, 80 },       { "weact_studio_rp2040_8mb", 8, 80 },
    { "weact_studio_rp2350b_core", 16, 79 },    { "wiznet_w5100s_evb_pico", 2, 94 },
};

/* The line of `set(NAME` in text (1-based), or 0. */
static int cmake_line(const char *text, const char *name)
{
    char pat[96];
    snprintf(pat, sizeof pat, "set(%s ", name);
    const char *p = text ? strstr(text, pat) : NULL;
    int line = 1;
    for (const char *q = text; p && q < p; q++)
        line += *q == '\n';
    return p ? line : 0;
}

/* The flash size a pico-sdk board header gives (any of its three spellings), and its line. */
static bool header_flash_size(const char *text, uint64_t *size, int *line)
{
    static const char *const pats[] = { "pico_board_cmake_set_default(PICO_FLASH_SIZE_BYTES,",
                                        "pico_cmake_set_default PICO_FLASH_SIZE_BYTES =",
                                        "#define PICO_FLASH_SIZE_BYTES" };
    for (size_t k = 0; text && k < 3; k++) {
        const char *p = strstr(text, pats[k]);
        if (!p)
            continue;
        p += strlen(pats[k]);
        unsigned a = 0, b = 0, c = 0;
        uint64_t v = 0;
        if (sscanf(p, " (%u * %u * %u)", &a, &b, &c) == 3)
            v = (uint64_t)a * b * c;
        else if (!romfs_mk_number(p + strspn(p, " "), &v))
            continue;
        *size = v;
        *line = 1;
        for (const char *q = text; q < p; q++)
            *line += *q == '\n';
        return v != 0;
    }
    return false;
}

struct rp2_files {
    char *rel[3];   /* board cmake, default variant cmake, board header (tree-relative) */
    char *text[3];
};

static void files_free(struct rp2_files *f)
{
    for (int i = 0; i < 3; i++) {
        free(f->rel[i]);
        free(f->text[i]);
    }
}

/* A CMake variable of the board (the variant's file is read after the board's, as
   CMakeLists.txt includes it), with its file:line. */
static char *cmake_var(const struct rp2_files *f, const char *name, const char **file, int *line)
{
    char *v = NULL;
    for (int i = 0; i < 2; i++) {
        char *x = f->text[i] ? imp_cmake_set(f->text[i], name) : NULL;
        if (x) {
            free(v);
            v = x;
            *file = f->rel[i];
            *line = cmake_line(f->text[i], name);
        }
    }
    return v;
}

static int rp2_board(struct importer *imp, const char *board)
{
    struct rp2_files f = { 0 };
    f.rel[0] = imp_printf("ports/rp2/boards/%s/mpconfigboard.cmake", board);
    f.rel[1] = imp_printf("ports/rp2/boards/%s/mpconfigvariant.cmake", board);
    for (int i = 0; i < 2; i++) {
        char *p = f.rel[i] ? imp_path(imp, "%s", f.rel[i]) : NULL;
        f.text[i] = p ? imp_read_text(p) : NULL;
        free(p);
    }
    const char *file = NULL;
    int line = 0;
    char *pico_board = cmake_var(&f, "PICO_BOARD", &file, &line);
    char *platform = cmake_var(&f, "PICO_PLATFORM", &file, &line);
    if (!pico_board) { /* CMakeLists.txt: string(TOLOWER ${MICROPY_BOARD} PICO_BOARD) */
        pico_board = strdup(board);
        for (char *q = pico_board; q && *q; q++)
            *q = (char)tolower((unsigned char)*q);
    }
    struct romfs_board *b = pico_board ? imp_new_board(imp, "rp2", board) : NULL;
    int rc = b ? ROMFS_OK : imp->err->code ? imp->err->code : romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    bool rp2350 = (platform && strncmp(platform, "rp2350", 6) == 0) || strstr(pico_board ? pico_board : "", "2350") ||
                  (pico_board && strncmp(pico_board, "pico2", 5) == 0);
    uint64_t size = 0, storage = 0;
    char *src = NULL;
    if (!rc) {
        b->mcu = strdup(rp2350 ? "RP2350" : "RP2040");
        /* the flash size: CMake, else the board header in the board directory
           (PICO_BOARD_HEADER_DIRS; mpconfigboard.h too), else the SDK's */
        char *v = cmake_var(&f, "PICO_FLASH_SIZE_BYTES", &file, &line);
        if (v && romfs_mk_number(v, &size))
            rc = imp_config(imp, b, "PICO_FLASH_SIZE_BYTES", size, file, line);
        free(v);
        /* (the board directory's header takes precedence: PICO_BOARD_HEADER_DIRS) */
        for (int k = 0; !rc && !size && k < 3; k++) {
            if (k == 1) {
                for (size_t t = 0; !rc && !size && t < sizeof sdk_boards / sizeof sdk_boards[0]; t++)
                    if (!strcmp(sdk_boards[t].board, pico_board)) {
                        size = (uint64_t)sdk_boards[t].mib * M;
                        char *sdk = imp_printf("pico-sdk src/boards/include/boards/%s.h", pico_board);
                        rc = sdk ? imp_config(imp, b, "PICO_FLASH_SIZE_BYTES", size, sdk, sdk_boards[t].line)
                                 : ROMFS_ERR_NOMEM;
                        free(sdk);
                    }
                continue;
            }
            /* last: a C define in mpconfigboard.h (what the C code sees, not CMake) */
            f.rel[2] = imp_printf("ports/rp2/boards/%s/%s.h", board, k == 0 ? pico_board : "mpconfigboard");
            char *p = f.rel[2] ? imp_path(imp, "%s", f.rel[2]) : NULL;
            f.text[2] = p ? imp_read_text(p) : NULL;
            free(p);
            if (header_flash_size(f.text[2], &size, &line))
                rc = imp_config(imp, b, "PICO_FLASH_SIZE_BYTES", size, f.rel[2], line);
            free(f.rel[2]);
            free(f.text[2]);
            f.rel[2] = f.text[2] = NULL;
        }
        v = cmake_var(&f, "MICROPY_HW_FLASH_STORAGE_BYTES", &file, &line);
        if (!rc && v && romfs_mk_number(v, &storage))
            rc = imp_config(imp, b, "MICROPY_HW_FLASH_STORAGE_BYTES", storage, file, line);
        free(v);
    }
    if (!rc) {
        b->flash_base = RP2_XIP;
        b->flash_size = size;
        b->erase_block = 4 * K;
        b->write_block = 256;
        const struct romfs_config_value *cv = romfs_board_config(b, "PICO_FLASH_SIZE_BYTES");
        src = cv ? imp_printf("%s: PICO_FLASH_SIZE_BYTES", cv->source) : NULL;
        if (!imp_map_device(imp, b, "qspi", RP2_XIP, size, 4 * K, 256, true, src))
            rc = imp->err->code;
        free(src);
        src = NULL;
    }
    /* CMakeLists.txt: -Wl,--defsym=__micropy_flash_size__=${PICO_FLASH_SIZE_BYTES},
       __micropy_flash_storage_bytes__, __micropy_romfs_bytes__ (default 0); the SDK links
       memmap_rp2/memory_flash.incl for its MEMORY */
    struct board_ctx c = { 0 };
    c.lb.port = "rp2";
    if (!rc && size && storage) {
        rc = ld_build_add(c.lb.defsyms, &c.lb.n_defsyms, "__micropy_flash_size__=%llu", (unsigned long long)size);
        if (!rc)
            rc = ld_build_add(c.lb.defsyms, &c.lb.n_defsyms, "__micropy_flash_storage_bytes__=%llu",
                              (unsigned long long)storage);
        if (!rc)
            rc = ld_build_add(c.lb.defsyms, &c.lb.n_defsyms, "__micropy_romfs_bytes__=0");
        if (!rc)
            rc = ld_build_add(c.lb.scripts, &c.lb.n_scripts, "memmap_rp2/memory_flash.incl");
        if (!rc)
            rc = imp_ctx_link(imp, &c, b, NULL);
        const struct romfs_ld_region *flash = romfs_ld_find_region(&c.res, "FLASH");
        const struct romfs_ld_region *rom = romfs_ld_find_region(&c.res, "FLASH_ROMFS");
        if (!rc && flash && rom) {
            imp_set_text(b, &c.res, "FLASH");
            uint64_t boot2 = rp2350 ? 0 : 256; /* the RP2040 bootrom runs 256 bytes of boot2 first */
            if (boot2)
                rc = imp_map_area(imp, b, ROMFS_AREA_BOOTLOADER, "qspi", "boot2", RP2_XIP, boot2, NULL,
                                  "RP2040 datasheet 2.8.1: the bootrom loads a 256-byte boot2 from the start of flash");
            src = imp_printf("%s:%d: 0x%08llx .. ORIGIN(FLASH_ROMFS)", imp_tree_relative(imp, flash->file),
                             flash->line, (unsigned long long)(RP2_XIP + boot2));
            if (!rc)
                rc = src ? imp_map_area(imp, b, ROMFS_AREA_FIRMWARE, "qspi", "FLASH", RP2_XIP + boot2,
                                        rom->origin - RP2_XIP - boot2, NULL, src)
                         : ROMFS_ERR_NOMEM;
            free(src);
        }
        if (!rc)
            rc = imp_map_region(imp, b, &c.res, ROMFS_AREA_FS, "qspi", "FLASH_FS", "FLASH_FS", "rp2.Flash", NULL);
        if (!rc)
            imp_set_fs(b, &c.res, "FLASH_FS");
    }
    imp_ctx_free(&c);
    if (!rc) {
        b->romfs_option = strdup("MICROPY_HW_ROMFS_BYTES (build option, default 0: no ROMFS partition; "
                                 "when set, ROMFS sits just below the filesystem)");
        b->repl_usb = strdup("2e8a:0005");
        b->has_uf2 = true;
        b->uf2_family = rp2350 ? 0xe48bff59u : 0xe48bff56u;
        b->openocd_target = strdup(rp2350 ? "target/rp2350.cfg" : "target/rp2040.cfg");
        b->pyocd_target = strdup(rp2350 ? "rp2350" : "rp2040");
        rc = imp_map_finish(imp, b, "object");
    }
    if (rc == ROMFS_ERR_NOMEM && !imp->err->code)
        rc = romfs_set_error(imp->err, rc, "out of memory");
    free(pico_board);
    free(platform);
    files_free(&f);
    return rc;
}

int imp_port_rp2(struct importer *imp)
{
    char **boards;
    size_t n;
    int rc = imp_list_boards(imp, "rp2", "mpconfigboard.cmake", &boards, &n);
    for (size_t i = 0; !rc && i < n; i++)
        rc = rp2_board(imp, boards[i]);
    imp_free_list(boards, n);
    return rc;
}
