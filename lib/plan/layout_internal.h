/* plan/layout_internal.h: the working flash map the layout planner shares out
 * (layout_map.c builds it, layout.c plans in it, layout_render.c prints the result). */
#ifndef ROMFS_LAYOUT_INTERNAL_H
#define ROMFS_LAYOUT_INTERNAL_H

#include "plan/layout.h"

#define LAY_MAX_DEVICES 8

struct lay_device {
    const char *name;
    uint64_t base, size;      /* addresses of the areas on it (base 0 when not mapped) */
    uint32_t erase_block;     /* 0: unknown */
    bool mmap;
    bool main;                /* the board's main flash: its sector map applies */
};

struct lay_area {
    enum romfs_area_kind kind;
    int dev;                  /* index into lay_map.dev */
    const char *name;         /* never NULL */
    uint64_t start, size;
    int romfs_index;          /* ROMFS: the partition index; else -1 */
    const char *blockdev;     /* FS: how the firmware reaches it */
    bool implicit;            /* esp32: a filesystem made at boot from the flash after the
                                 last partition, not a row of the table */
    bool unknown;             /* not recorded in boards.json (never free) */
    bool esp32_row;           /* esp32: a table row whose type/subtype are known */
    uint8_t esp32_type, esp32_subtype;
    uint32_t esp32_flags;
};

struct lay_map {
    struct lay_device dev[LAY_MAX_DEVICES]; size_t n_dev;
    struct lay_area *areas; size_t n_areas;   /* sorted by device, then start */
    bool from_fields;         /* built from the fields before the flash map */
    const char *table_name;   /* esp32: the partition table the map came from, or NULL */
};

/* The board's flash map for planning: boards.json's map when the board has one, else one
 * built from the older fields; for esp32 with req->partition_table, the map of that
 * table. ROMFS_ERR_INVAL (message naming the board) when there is no flash geometry. */
int lay_map_build(const struct romfs_board *b, const struct romfs_layout_request *req,
                  struct lay_map *m, struct romfs_error *err);
void lay_map_free(struct lay_map *m);

/* The port's style (how ROMFS is placed and configured). */
enum romfs_layout_style lay_style(const struct romfs_board *b);

/* Erase blocks on device d of board b: the block holding addr (start and size), the
 * first boundary at or above addr, the size at addr. An unknown erase block counts as 1. */
uint64_t lay_erase_floor(const struct romfs_board *b, const struct lay_device *d, uint64_t addr,
                         uint64_t *block);
uint64_t lay_erase_ceil(const struct romfs_board *b, const struct lay_device *d, uint64_t addr);
uint32_t lay_erase_at(const struct romfs_board *b, const struct lay_device *d, uint64_t addr);

/* n as "256K", "1M" or "N bytes" into buf. */
const char *lay_size(uint64_t n, char *buf, size_t size);

/* A MEMORY region name for a fragment: name when it is a linker identifier, else fallback. */
const char *lay_ld_name(const char *name, const char *fallback);

#endif
