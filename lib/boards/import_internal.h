/* boards/import_internal.h: internals shared by board_import*.c (not installed API). */
#ifndef ROMFS_BOARD_IMPORT_PRIV_H
#define ROMFS_BOARD_IMPORT_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boards/db.h"
#include "ld/ldscript.h"
#include "boards/import_mk_internal.h"

#define IMP_MAX_LIST 16

struct importer {
    const char *tree;             /* MicroPython tree root */
    struct romfs_boards *db;
    size_t cap;
    struct romfs_error *err;
    char *link;                   /* link arguments of the last evaluated build (for partitions) */
    struct romfs_ld_cpp_cache *cpp_cache; /* preprocessor output shared by the boards of a port */
    char *failed_board;           /* the board whose scripts failed (set with the error) */
    char **skip;                  /* boards left out after failing, as "port/board" */
    size_t n_skip;
};

/* What a port's Makefile gives the linker for one board build. */
struct ld_build {
    const char *port;                         /* "stm32" */
    char *scripts[IMP_MAX_LIST]; size_t n_scripts;     /* port-relative paths */
    char *defsyms[IMP_MAX_LIST]; size_t n_defsyms;     /* "NAME=EXPR" */
    char *defines[IMP_MAX_LIST]; size_t n_defines;     /* "NAME=VALUE" for cpp */
    char *search[IMP_MAX_LIST]; size_t n_search;       /* port-relative -L dirs */
    char *incdirs[IMP_MAX_LIST]; size_t n_incdirs;     /* port-relative -I dirs for cpp */
    bool preprocess;
    bool defsyms_last;                        /* ld run directly: --defsym after -T (samd) */
};

void ld_build_free(struct ld_build *b);
int ld_build_add(char **list, size_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Split a blank-separated make value into scripts. */
int ld_build_add_words(char **list, size_t *n, const char *words);

/* Evaluate the build's scripts (paths resolved against TREE/ports/PORT). */
int imp_evaluate(struct importer *imp, const struct ld_build *b, const char *board, struct romfs_ld_result *res);

/* Path TREE/rel... (malloc'd). */
char *imp_path(const struct importer *imp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whole file as text (malloc'd) or NULL if unreadable. */
char *imp_read_text(const char *path);
/* Record that the error just set belongs to board (import leaves it out, imports the rest). */
void imp_board_failed(struct importer *imp, const char *board);
/* Sorted board directory names under TREE/ports/PORT/boards that contain `marker`
 * (less the boards left out after failing). */
int imp_list_boards(struct importer *imp, const char *port, const char *marker, char ***names, size_t *n);
void imp_free_list(char **names, size_t n);

/* A new zeroed board appended to the database (name/port set), or NULL (err set). */
struct romfs_board *imp_new_board(struct importer *imp, const char *port, const char *name);
/* Remove the last board (built but found to have no ROMFS). */
void imp_drop_last(struct importer *imp);
/* Append a partition; strings are copied. */
struct romfs_partition *imp_add_partition(struct importer *imp, struct romfs_board *b, int index, uint64_t start,
                                          uint64_t size, uint32_t erase, uint32_t write, bool mmap,
                                          const char *device, const char *region, const char *source);
/* Partition N from _micropy_hw_romfs_partN_start/_size; *found false when not assigned
 * (or size 0). */
int imp_partition_from_ld(struct importer *imp, struct romfs_board *b, const struct romfs_ld_result *res, int index,
                          uint32_t erase, uint32_t write, bool mmap, const char *device, bool *found);
/* Copy flash-like MEMORY regions (no 'w' attribute; attribute-less ones named like
 * flash/rom) into b->flash, sorted by origin. */
int imp_take_regions(struct importer *imp, struct romfs_board *b, const struct romfs_ld_result *res);
/* Set text/fs from named regions if present. */
int imp_set_text(struct romfs_board *b, const struct romfs_ld_result *res, const char *region);
int imp_set_fs(struct romfs_board *b, const struct romfs_ld_result *res, const char *region);
int imp_set_scripts(struct romfs_board *b, const struct ld_build *lb);
char *imp_strdup(const char *s);
char *imp_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "vvvv:pppp" from two numbers. */
char *imp_usb_id(uint64_t vid, uint64_t pid);
/* Read a board header define as a number (K/M suffixes, parentheses); false if absent. */
bool imp_header_number(const char *header, const char *name, uint64_t *out);

#define K 1024u
#define M (1024u * 1024u)

/* MicroPython's own USB ids (pid.codes VID 0xf055). */
#define MP_VID 0xf055
#define MP_PID_CDC_MSC 0x9800 /* stm32, renesas-ra default USB mode */
#define MP_PID_CDC 0x9802     /* TinyUSB ports: CDC only */

/* UF2 family ids (microsoft/uf2 utils/uf2families.json). */
#define UF2_SAMD21 0x68ed2b88u
#define UF2_SAMD51 0x55114460u
#define UF2_NRF52840 0xada52840u
#define UF2_MIMXRT10XX 0x4fb2d5bdu

struct mcu_geometry {
    const char *prefix;        /* matched against the board's MCU name, case-insensitive */
    uint64_t base, size;       /* device main flash */
    uint32_t erase, write;     /* uniform erase block (or largest) and write size */
    const char *sectors;       /* "count*KiB,..." non-uniform sector map, or NULL */
    const char *openocd, *pyocd;
};

struct board_ctx {
    struct romfs_mkvars vars;
    char *header;      /* mpconfigboard.h text or NULL */
    struct ld_build lb;
    struct romfs_ld_result res;
};

const struct mcu_geometry *imp_find_mcu(const struct mcu_geometry *t, size_t n, const char *mcu);
#define FIND_MCU(table, mcu) imp_find_mcu(table, sizeof table / sizeof table[0], mcu)
/* Fill geometry and SWD targets from a table row; sectors become an erase map. */
int imp_apply_geometry(struct romfs_board *b, const struct mcu_geometry *g);
/* Expanded make variable, never NULL ("" when undefined or out of memory). */
char *imp_mk_get(const struct romfs_mkvars *v, const char *name);
/* `#define NAME <nonzero number>` in the header. */
bool imp_define_true(const char *header, const char *name);
/* REPL USB id: the board header's MICROPY_HW_USB_VID/PID if numeric, else vid:pid. */
char *imp_repl_usb(const char *header, uint64_t vid, uint64_t pid);
void imp_ctx_free(struct board_ctx *c);
/* Read ports/PORT/boards/BOARD/mpconfigboard.mk (+ .h text) into c. */
int imp_ctx_read(struct importer *imp, struct board_ctx *c, const char *port, const char *board);
/* Evaluate c->lb, take regions and scripts, set the text region (first name that exists). */
int imp_ctx_link(struct importer *imp, struct board_ctx *c, struct romfs_board *b, const char *const *text_names);

/* Common tail for ports whose partitions come from _micropy_hw_romfs_partN_* symbols:
 * link, apply the MCU geometry g (may be NULL), take partitions 0 and 1. */
int imp_finish_ld_board(struct importer *imp, struct board_ctx *c, struct romfs_board *b,
                        const struct mcu_geometry *g, const char *const *text_names, const char *device,
                        bool *found);
/* The first word after `set(NAME` in CMake text (quotes stripped), or NULL. */
char *imp_cmake_set(const char *text, const char *name);
/* `#define NAME number` in text; false when absent. */
bool imp_find_number_def(const char *text, const char *name, uint64_t *out);
/* ports/PORT/boards/BOARD's CMake and header text joined (malloc'd), or NULL. */
char *imp_board_dir_text(struct importer *imp, const char *port, const char *board);

/* mboot's DFU interface (USB id, DfuSe layout, source) for stm32 board b read into c, when
 * the board has mboot (boards/import_mboot.c). */
int imp_stm32_mboot(struct importer *imp, const struct board_ctx *c, struct romfs_board *b);

/* The tree-relative form of a path the evaluator reported ("?" for NULL). */
const char *imp_tree_relative(const struct importer *imp, const char *path);

/* ---- the flash map (boards/import_map.c) ---- */

/* Add (or replace) the device called name; NULL with err set when out of memory. base
   counts only when mmap. */
struct romfs_flash_device *imp_map_device(struct importer *imp, struct romfs_board *b, const char *name,
                                          uint64_t base, uint64_t size, uint32_t erase, uint32_t write, bool mmap,
                                          const char *source);
/* Add an area (nothing when size is 0); strings are copied. */
int imp_map_area(struct importer *imp, struct romfs_board *b, enum romfs_area_kind kind, const char *device,
                 const char *name, uint64_t start, uint64_t size, const char *blockdev, const char *source);
/* A filesystem the firmware configures but that has no room left: an "fs" area of 0 bytes
   at start_sym, source "file:line: START + SIZE" like imp_map_symbols, when both symbols
   evaluate and SIZE is 0 or negative (lint reports it: boards/lint.h "fs-no-room"). */
int imp_map_fs_no_room(struct importer *imp, struct romfs_board *b, const struct romfs_ld_result *res,
                       const char *device, const char *start_sym, const char *size_sym, const char *name,
                       const char *blockdev);
/* An area covering the MEMORY region `region` (named name, or the region's name), source
   "file:line: REGION"; *found (may be NULL) says whether the region exists and is not empty. */
int imp_map_region(struct importer *imp, struct romfs_board *b, const struct romfs_ld_result *res,
                   enum romfs_area_kind kind, const char *device, const char *region, const char *name,
                   const char *blockdev, bool *found);
/* An area from start_sym (a symbol, or a "0x..." literal) to end_sym (an end address, or a
   size when end_is_size), source "file:line: START .. END" or "... START + SIZE"; nothing
   when a symbol is missing or not evaluable or the size is 0 or negative. */
int imp_map_symbols(struct importer *imp, struct romfs_board *b, const struct romfs_ld_result *res,
                    enum romfs_area_kind kind, const char *device, const char *start_sym, const char *end_sym,
                    bool end_is_size, const char *name, const char *blockdev, bool *found);
/* Record (or replace) a configuration value the map rests on, from file:line (line 0:
   file is the whole source text). */
int imp_config(struct importer *imp, struct romfs_board *b, const char *name, uint64_t value, const char *file,
               int line);
/* Record make variable name (value: its expanded text; nothing unless a number) with the
   first assignment of that value among files (tree-relative, NULL-terminated, in the order
   the Makefile reads them). */
int imp_config_mk(struct importer *imp, struct romfs_board *b, const char *name, const char *value,
                  const char *const *files);
/* Every port's last step: a ROMFS area per partition (and its device when missing), each
   partition's api (when given and not set), the "fs" member from the filesystem on the main
   flash, the map sorted by device then start. */
int imp_map_finish(struct importer *imp, struct romfs_board *b, const char *api);

/* Per-port importers, one file each (boards/import_PORT.c). */
int imp_port_stm32(struct importer *imp);
int imp_port_mimxrt(struct importer *imp);
int imp_port_samd(struct importer *imp);
int imp_port_nrf(struct importer *imp);
int imp_port_renesas_ra(struct importer *imp);
int imp_port_alif(struct importer *imp);
int imp_port_esp8266(struct importer *imp);
int imp_port_qemu(struct importer *imp);
int imp_port_rp2(struct importer *imp);
int imp_port_esp32(struct importer *imp);
int imp_port_psoc_edge(struct importer *imp);
int imp_port_cc3200(struct importer *imp);

#endif
