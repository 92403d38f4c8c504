/* plan/layout.h: planning firmware / ROMFS / filesystem boundaries in a board's flash
 * (the partition table MicroPython lacks), and printing the plan as a linker MEMORY
 * fragment (templates/ld/romfs_memory.ld.in) or JSON.
 *
 * The plan, within the board's main (memory-mapped) flash from the firmware's start
 * address to where the board's current firmware, ROMFS and filesystem end (anything
 * above, such as a bootloader or reserved sectors, is left alone; the end of flash when
 * the board data names none of them):
 *
 *   [firmware ........ | ROMFS | filesystem]            (filesystem optional)
 *
 * The filesystem takes the top of flash (start rounded down to an erase-block
 * boundary, so it is at least fs_size), the ROMFS sits directly below it (start
 * rounded down to an erase-block boundary and to `align`), and the firmware region
 * gets everything from its start up to the ROMFS: the most room to grow. Erase
 * blocks come from the board's sector map where it has one (STM32's 16K/64K/128K
 * sectors), so every boundary is a sector boundary. The plan is refused when the
 * firmware as built (ELF) or as allotted (its linker script's text region), rounded
 * up to an erase block, would reach into the ROMFS; the message says by how many
 * bytes. */
#ifndef ROMFS_LAYOUT_H
#define ROMFS_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boards/db.h"
#include "base/error.h"

struct romfs_layout_request {
    uint64_t romfs_size;      /* bytes wanted for ROMFS (> 0); rounded up to erase blocks */
    bool fs_size_given;       /* false: keep the board's current filesystem size (0 if none) */
    uint64_t fs_size;         /* bytes for the writable filesystem (0 = none) */
    bool firmware_size_given; /* firmware footprint from the caller (e.g. an ELF) */
    uint64_t firmware_size;   /* bytes from the firmware start */
    const char *firmware_source; /* says where firmware_size came from ("firmware.elf") */
    uint64_t headroom;        /* extra bytes the firmware must be able to grow (default 0) */
    uint32_t align;           /* ROMFS start alignment beyond the erase block (0 = none) */
};

struct romfs_layout_region {
    const char *name;         /* MEMORY region name (points into the board or a literal) */
    uint64_t start, size;
};

struct romfs_layout_plan {
    const struct romfs_board *board;
    uint64_t flash_start, flash_end;   /* the span planned: firmware start .. end of flash */
    struct romfs_layout_region firmware, romfs, fs;   /* fs.size == 0: no filesystem */
    uint64_t firmware_used;            /* firmware footprint used for the plan */
    uint64_t firmware_needed_end;      /* firmware start + used + headroom, rounded up to
                                          an erase block */
    char firmware_source[256];         /* where firmware_used came from */
    bool firmware_estimated;           /* firmware_used is the whole region, not a measured size */
    uint32_t romfs_erase_block, fs_erase_block; /* erase block at each region's start */
    uint64_t firmware_free;            /* romfs.start - firmware_needed_end */
    char span_end_source[64];          /* what flash_end is ("the end of the current filesystem") */
    bool romfs_external;               /* ROMFS planned in its own (external) flash device */
};

/* Plan for board b. Returns ROMFS_OK; ROMFS_ERR_INVAL for a board without flash geometry
 * or a zero ROMFS size; ROMFS_ERR_FBIG when it cannot fit ("... N bytes short ..."). */
int romfs_layout_plan(const struct romfs_board *b, const struct romfs_layout_request *req,
                      struct romfs_layout_plan *plan, struct romfs_error *err);

/* The plan as a linker MEMORY fragment with the _micropy_hw_romfs_part0_start/_size
 * symbols, from templates/ld/romfs_memory.ld.in. malloc'd, or NULL without memory. */
char *romfs_layout_render_ld(const struct romfs_layout_plan *plan);

/* The plan as JSON (malloc'd, NULL without memory). */
char *romfs_layout_to_json(const struct romfs_layout_plan *plan);

/* Fill `template` (NUL-terminated): every "@NAME@" is replaced by the value of NAME in
 * names/values; a line containing a placeholder whose value is NULL is left out whole.
 * An unknown name is kept as written. malloc'd result, NULL without memory. */
char *romfs_layout_fill_template(const char *template, const char *const *names,
                                 const char *const *values, size_t n);

#endif
