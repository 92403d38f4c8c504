/* board_map.h: `romfs boards show` drawing a board's flash map: one proportional bar per
 * flash device on a terminal (board_map.c), the same as SVG (board_svg.c), the same as
 * JSON. The data (devices, the areas on them, free ranges) comes from libromfs
 * (romfs_board_map_view); this is presentation only. */
#ifndef ROMFS_CLI_BOARD_MAP_H
#define ROMFS_CLI_BOARD_MAP_H

#include <cJSON.h>
#include <stdbool.h>
#include <stdio.h>

#include "romfs.h"

/* One stretch of a device covered by the same areas. */
struct map_seg {
    uint64_t start, end;                   /* [start, end) */
    const struct romfs_flash_area *area;   /* the one area here; NULL when free or overlapped */
    size_t n_cover;                        /* 0 free (or unknown), 1 one area, more: overlap */
    size_t key;                            /* area's index in the view's areas */
    bool first;                            /* the first segment of its area (its label goes here) */
    int width;                             /* columns or pixels given to it */
};

/* The segments of one device, in address order (malloc'd; *n set), or NULL when out of
 * memory or nothing to draw (*n 0). */
struct map_seg *map_segments(const struct romfs_device_view *v, size_t *n);

/* Share `width` among the segments in proportion to their bytes, each at least `min`;
 * returns the width used (more than asked when there are many segments). */
int map_share(struct map_seg *s, size_t n, int width, int min);

/* The one-letter key of the area at index k ('a'..'z', then 'A'..'Z', then '*'). */
char map_key(size_t k);

/* "overlap a+b" for a segment where areas overlap (the keys of every area covering it). */
void map_overlap_keys(const struct romfs_device_view *v, const struct map_seg *g, char *buf, size_t cap);

/* "bootloader", "firmware", "romfs", "fs", "reserved": boards.json's words. */
const char *map_kind(const struct romfs_flash_area *a);

/* Print the map of b to out: per device a header, the bar (`width` columns, ANSI colour
 * when colour), and one line per area and free range with addresses and sizes. Prints a
 * note when b has no map. Returns EXIT_OK or EXIT_FAIL (out of memory). */
int board_map_print(FILE *out, const struct romfs_board *b, int width, bool colour);

/* The map as JSON: an array of devices, each with its areas and free ranges; NULL when out
 * of memory. */
cJSON *board_map_json(const struct romfs_board *b);

/* The map as an SVG document (malloc'd, NUL-terminated), NULL when out of memory. The same
 * board always gives the same bytes. */
char *board_map_svg(const struct romfs_board *b);

#endif
