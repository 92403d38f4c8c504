/* plan/layout.h: planning a ROMFS partition in a board's flash map (the partition table
 * MicroPython lacks), and printing the plan in the board's port's own configuration.
 *
 * The plan works on the board's flash map (boards.json "devices" and "map": bootloaders,
 * firmware, ROMFS partitions, the writable filesystem; free space is what no area
 * covers). For a board without a map it builds one from the older fields (flash, text,
 * fs, romfs); then only the gaps between the firmware's start and the end of its
 * firmware, ROMFS and filesystem count as free (what lies outside is not known).
 *
 * Where the ROMFS goes, by default keeping the writable filesystem where and as large as
 * it is (no reformat), the planned ROMFS replacing partition 0 if the board has one:
 *   1. free space (or the current partition's place), without touching the firmware;
 *   2. the firmware's unused tail: its region shrinks. Measured from a built firmware
 *      (the end of its loaded sections) plus a margin, rounded up to an erase block; not
 *      measured, the region may shrink as far as asked and the plan says it was not
 *      measured (the build's link fails if the firmware then does not fit).
 * With a filesystem size (fs_size_given) the filesystem moves: it takes the top of the
 * run of flash it lies in (with free space, the current ROMFS and the firmware's unused
 * tail below it), the ROMFS sits directly below it and the firmware gets all the rest;
 * the filesystem must then be reformatted (fs_moved), unless it kept start and size.
 *
 * Each port places ROMFS by its own rule, which the plan follows:
 *   rp2, nrf, mimxrt   ROMFS ends where the filesystem starts, the firmware gets the
 *                      rest below (rp2_flash.c, nrf memory.ld, MIMXRT*.ld); rp2 is set by
 *                      MICROPY_HW_ROMFS_BYTES, nrf by _micropy_hw_romfs_part0_size,
 *                      mimxrt by MICROPY_HW_ROMFS_BYTES;
 *   samd               ROMFS starts where the firmware ends (MICROPY_HW_CODESIZE) and the
 *                      MCU-flash filesystem starts where it ends (samd51x19a.ld);
 *   esp32              a data partition labelled "romfs" in the partition table, in a
 *                      free gap at or above 0x9000, or at the top of the app partition,
 *                      which then ends on a 64K boundary (partitions-4MiB-romfs.csv);
 *   others (stm32, renesas-ra, alif, qemu, ...)   any free memory-mapped range: MEMORY
 *                      regions and the _micropy_hw_romfs_part0_start/_size symbols.
 * Every boundary is an erase-block boundary (the board's sector map where sectors differ). */
#ifndef ROMFS_LAYOUT_H
#define ROMFS_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boards/db.h"
#include "boards/esp32.h"
#include "base/error.h"

struct romfs_layout_request {
    uint64_t romfs_size;      /* bytes wanted for ROMFS (> 0); rounded up to erase blocks */
    bool fs_size_given;       /* false: keep the filesystem's start and size (no reformat) */
    uint64_t fs_size;         /* bytes for the writable filesystem (0 = none); moves it */
    bool firmware_size_given; /* firmware footprint from the caller */
    uint64_t firmware_size;   /* bytes from the firmware's start */
    const char *firmware_source; /* says where firmware_size came from ("--firmware-size") */
    const char *elf;          /* a built firmware: its loaded sections' end in the firmware's
                                 flash is the footprint (instead of firmware_size) */
    uint64_t headroom;        /* margin the firmware keeps above its measured end (default 0) */
    uint32_t align;           /* ROMFS start alignment beyond the erase block (0 = none) */
    const char *device;       /* plan on this flash device only (NULL: the current ROMFS
                                 partition's device, else the firmware's, then the others) */
    const struct romfs_esp32_table *partition_table; /* esp32: the table to plan in (NULL: the
                                 board's map); must outlive the plan */
    const char *partition_table_name; /* names it in messages and output */
};

/* How the port is configured, and so how the plan is printed. */
enum romfs_layout_style {
    ROMFS_LAYOUT_LD,          /* MEMORY regions and symbols (stm32, renesas-ra, alif, ...) */
    ROMFS_LAYOUT_NRF,         /* ld, ROMFS below the filesystem: _micropy_hw_romfs_part0_size */
    ROMFS_LAYOUT_MIMXRT,      /* ld, ROMFS below the filesystem: MICROPY_HW_ROMFS_BYTES (make) */
    ROMFS_LAYOUT_RP2,         /* MICROPY_HW_ROMFS_BYTES (CMake), below the filesystem */
    ROMFS_LAYOUT_SAMD,        /* MICROPY_HW_CODESIZE and MICROPY_HW_ROMFS_BYTES (make) */
    ROMFS_LAYOUT_ESP32,       /* partition table rows */
};

/* Where the ROMFS room came from. */
enum romfs_layout_from {
    ROMFS_LAYOUT_FROM_CURRENT,  /* the current ROMFS partition's place (and free space beside it) */
    ROMFS_LAYOUT_FROM_FREE,     /* free space */
    ROMFS_LAYOUT_FROM_FIRMWARE, /* the firmware's unused tail: its region shrinks */
    ROMFS_LAYOUT_FROM_FS,       /* the room the filesystem gave up (fs_size_given) */
};

/* What the plan does to an area. */
enum romfs_layout_change {
    ROMFS_LAYOUT_SAME,        /* unchanged */
    ROMFS_LAYOUT_NEW,         /* did not exist */
    ROMFS_LAYOUT_RESIZED,     /* same start, other size (a firmware region, a ROMFS) */
    ROMFS_LAYOUT_MOVED,       /* other start (and maybe size) */
    ROMFS_LAYOUT_REMOVED,     /* gone (a filesystem of size 0) */
};

struct romfs_layout_region {
    const char *name;         /* MEMORY region / partition name (points into the board, the
                                 partition table or a literal) */
    uint64_t start, size;
};

/* One area of the planned device, after the plan. */
struct romfs_layout_area {
    enum romfs_area_kind kind;
    const char *name;         /* "FLASH_TEXT", "factory", "nvs", ... (never NULL) */
    uint64_t start, size;     /* after the plan (size 0 when removed) */
    uint64_t old_start, old_size; /* before (old_size 0 when new) */
    enum romfs_layout_change change;
    bool esp32_row;           /* esp32: a partition table row (type/subtype below are known) */
    uint8_t esp32_type, esp32_subtype;
    uint32_t esp32_flags;
};

struct romfs_layout_plan {
    const struct romfs_board *board;
    enum romfs_layout_style style;
    enum romfs_layout_from from;
    const char *core;                  /* multi-core boards: the build planned for (its
                                          partition 0 comes first in boards.json), else NULL */
    const char *device;                /* the flash device the ROMFS is planned on */
    uint64_t device_base, device_size; /* its address range (offsets when not mapped) */
    bool device_mmap;
    uint64_t flash_start, flash_end;   /* the run of flash the ROMFS was taken from */
    char span_end_source[96];          /* what bounds it above ("the filesystem FLASH_FS") */
    struct romfs_layout_region firmware, romfs, fs;   /* after the plan; fs.size 0: none */
    struct romfs_layout_region firmware_before, romfs_before, fs_before; /* size 0: none */
    const char *fs_blockdev;           /* how the firmware reaches its filesystem, or NULL */
    const char *fs_region;             /* the filesystem's MEMORY region (its name, or the
                                          region of the firmware link over the same range),
                                          NULL when it has none: then no fragment line */
    bool firmware_on_device;           /* the firmware lies on the planned device */
    bool fs_moved;                     /* the filesystem changes start or size: reformat */
    uint64_t firmware_used;            /* measured (or given) footprint; 0 when not measured */
    bool firmware_estimated;           /* not measured: the plan may shrink the firmware's
                                          region below what the build needs */
    uint64_t firmware_needed_end;      /* start + used + headroom, rounded up to an erase
                                          block (firmware start when not measured) */
    char firmware_source[256];         /* where firmware_used came from */
    uint64_t firmware_free;            /* room left to grow: firmware end - needed end */
    uint32_t romfs_erase_block, fs_erase_block; /* erase block at each region's start */
    bool romfs_external;               /* on another device than the firmware */
    struct romfs_layout_area *areas; size_t n_areas; /* the planned device, by start */
};

/* Plan for board b. Returns ROMFS_OK (release with romfs_layout_plan_free);
 * ROMFS_ERR_INVAL for a board without flash geometry, a zero ROMFS size, an option that
 * does not apply to this board (the message says why); ROMFS_ERR_FBIG when there is no
 * room: the message names the board, the device and its addresses, the free space, how
 * much is missing ("does not fit by N bytes") and what would make room. An unreadable
 * ELF gives its own error. The plan is zeroed first and freed after an error. */
int romfs_layout_plan(const struct romfs_board *b, const struct romfs_layout_request *req,
                      struct romfs_layout_plan *plan, struct romfs_error *err);

/* Release what a plan owns (its areas) and zero it. */
void romfs_layout_plan_free(struct romfs_layout_plan *plan);

/* The plan in the port's own configuration, for people (comments explain every change):
 * a linker MEMORY fragment with _micropy_hw_romfs_part0_start/_size
 * (templates/ld/romfs_memory.ld.in; nrf and mimxrt also give their own value), CMake for
 * rp2, make for samd, partition table CSV for esp32. malloc'd, or NULL without memory. */
char *romfs_layout_render(const struct romfs_layout_plan *plan);

/* The plan as a linker MEMORY fragment (every style; esp32's has no meaning for a
 * linker). malloc'd, or NULL without memory. */
char *romfs_layout_render_ld(const struct romfs_layout_plan *plan);

/* The plan as JSON (malloc'd, NULL without memory): board, device, the regions after
 * and before, what changed, whether the filesystem must be reformatted, and the port's
 * configuration values and text. */
char *romfs_layout_to_json(const struct romfs_layout_plan *plan);

/* Fill `template` (NUL-terminated): every "@NAME@" is replaced by the value of NAME in
 * names/values; a line containing a placeholder whose value is NULL is left out whole.
 * An unknown name is kept as written. malloc'd result, NULL without memory. */
char *romfs_layout_fill_template(const char *template, const char *const *names,
                                 const char *const *values, size_t n);

#endif
