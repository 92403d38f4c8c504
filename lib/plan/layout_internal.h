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
    const char *core;         /* multi-core boards: the build it belongs to, else NULL */
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

/* ---- shared by the planner (layout.c) and its results (layout_result.c) ---- */

/* What may hold the ROMFS: free flash, the current ROMFS partition, the firmware's
 * unused tail, the filesystem (only when it moves). */
enum { P_FREE = 1, P_ROMFS = 2, P_TAIL = 4, P_FS = 8 };

struct piece {
    uint64_t lo, hi;
    int kind;
};

struct ctx {
    const struct romfs_board *b;
    const struct romfs_layout_request *req;
    struct lay_map *m;
    struct romfs_layout_plan *plan;
    struct romfs_error *err;
    enum romfs_layout_style style;
    const struct lay_area *fw, *romfs0;
    struct lay_area *fs;      /* resized in place while a plan moves it (fs_size) */
    uint64_t fs_size0;        /* its size in the map */
    uint64_t size;            /* ROMFS bytes asked for */
    uint64_t align;           /* ROMFS start alignment (request, and samd's whole K) */
    uint64_t fw_floor;        /* the firmware keeps its device up to here */
    bool measured;
    uint64_t min_addr;        /* esp32: partitions start after the table */
    bool said;                /* the error message is already set */
    uint64_t short_by;        /* the smallest shortfall of the placements tried */
    const char *short_how;    /* ... and how that placement would have taken it */
    struct piece *pieces;     /* scratch: pieces of one device */
};

struct place {
    int dev;
    uint64_t start, end;
    struct piece run;
};

static inline uint64_t lay_area_end(const struct lay_area *a)
{
    return a->start + a->size;
}

/* The pieces of device di that hold one of `mask`, by address, adjacent ones merged, in
 * c->pieces; returns how many. Flash another area of the map claims is never lent. */
size_t lay_runs(struct ctx *c, int di, int mask);

/* One attempt to place c->size bytes on the devices in order: ROMFS_OK with *p (and the
 * filesystem's new range when it moves), ROMFS_ERR_FBIG (c->short_by says by how much, and
 * c->said whether the message is set) or another error (in c->err). */
int lay_try_place(struct ctx *c, const int *order, size_t n, struct place *p, uint64_t *fs_start,
                  uint64_t *fs_top);

/* Fill c->plan from a placement (its areas allocated). */
int lay_fill_plan(struct ctx *c, const struct place *p, uint64_t fs_start, uint64_t fs_top);

/* The refusal: ROMFS_ERR_FBIG with a message naming the board, device, addresses, what is
 * free, the shortfall, the largest ROMFS that fits and what would make room. */
int lay_no_room(struct ctx *c, const int *order, size_t n);

/* rp2, nrf, mimxrt, samd: the firmware gets all flash below the ROMFS. */
bool lay_rest_style(enum romfs_layout_style style);

#endif
