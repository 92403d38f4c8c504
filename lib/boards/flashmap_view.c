/* boards/flashmap_view.c: a board's flash map device by device, as `boards show` draws it
 * (boards/db.h, romfs_board_map_view). */
#include "boards/db.h"
#include "base/range.h"

#include <stdlib.h>
#include <string.h>

static int by_start_larger_first(const void *x, const void *y)
{
    const struct romfs_flash_area *a = *(const struct romfs_flash_area *const *)x;
    const struct romfs_flash_area *b = *(const struct romfs_flash_area *const *)y;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    return 0;
}

static uint64_t end_of(uint64_t start, uint64_t size)
{
    uint64_t end;
    return romfs_range_end(start, size, &end) ? end : UINT64_MAX;
}

static int view_device(const struct romfs_board *b, const struct romfs_flash_device *d, struct romfs_device_view *v)
{
    memset(v, 0, sizeof *v);
    v->device = d;
    v->size_known = d->size != 0;
    v->areas = calloc(b->n_areas ? b->n_areas : 1, sizeof *v->areas);
    if (!v->areas)
        return ROMFS_ERR_NOMEM;
    for (size_t i = 0; i < b->n_areas; i++)
        if (strcmp(b->areas[i].device, d->name) == 0)
            v->areas[v->n_areas++] = &b->areas[i];
    qsort(v->areas, v->n_areas, sizeof *v->areas, by_start_larger_first);
    bool have = false;
    if (v->size_known) {
        v->lo = d->mmap ? d->base : 0;
        v->hi = end_of(v->lo, d->size);
        have = true;
    }
    for (size_t i = 0; i < v->n_areas; i++) {
        const struct romfs_flash_area *a = v->areas[i];
        uint64_t e = end_of(a->start, a->size);
        if (!have || a->start < v->lo)
            v->lo = a->start;
        if (!have || e > v->hi)
            v->hi = e;
        have = true;
    }
    if (!v->size_known)
        return ROMFS_OK;
    size_t n = romfs_board_free_space(b, d->name, NULL, 0);
    if (!n)
        return ROMFS_OK;
    v->free = calloc(n, sizeof *v->free);
    if (!v->free)
        return ROMFS_ERR_NOMEM;
    v->n_free = romfs_board_free_space(b, d->name, v->free, n);
    if (v->n_free > n)
        v->n_free = n;
    return ROMFS_OK;
}

int romfs_board_map_view(const struct romfs_board *b, struct romfs_map_view *out, struct romfs_error *err)
{
    memset(out, 0, sizeof *out);
    if (!b->n_devices)
        return ROMFS_OK;
    out->devices = calloc(b->n_devices, sizeof *out->devices);
    if (!out->devices)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < b->n_devices; i++) {
        out->n++;
        if (view_device(b, &b->devices[i], &out->devices[i])) {
            romfs_map_view_free(out);
            return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
        }
    }
    return ROMFS_OK;
}

void romfs_map_view_free(struct romfs_map_view *v)
{
    for (size_t i = 0; i < v->n; i++) {
        free(v->devices[i].areas);
        free(v->devices[i].free);
    }
    free(v->devices);
    memset(v, 0, sizeof *v);
}
