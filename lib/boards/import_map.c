/* boards/import_map.c: building a board's flash map in the importer: devices, areas from
 * linker MEMORY regions and symbols or from configuration values, each with its source,
 * and the finishing touches every port shares (ROMFS areas from the partitions, each
 * partition's API, the legacy "fs" fields, the order of the map). */
#define _GNU_SOURCE
#include "boards/import_internal.h"
#include "base/range.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct romfs_flash_device *imp_map_device(struct importer *imp, struct romfs_board *b, const char *name,
                                          uint64_t base, uint64_t size, uint32_t erase, uint32_t write, bool mmap,
                                          const char *source)
{
    struct romfs_flash_device *d = (struct romfs_flash_device *)romfs_board_device(b, name);
    if (!d)
        d = romfs_board_add_device(b);
    else {
        free(d->name);
        free(d->source);
    }
    if (!d) {
        romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    d->name = strdup(name);
    d->base = mmap ? base : 0;
    d->size = size;
    d->erase_block = erase;
    d->write_block = write;
    d->mmap = mmap;
    d->source = imp_strdup(source);
    if (!d->name || (source && !d->source)) {
        romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return d;
}

int imp_map_area(struct importer *imp, struct romfs_board *b, enum romfs_area_kind kind, const char *device,
                 const char *name, uint64_t start, uint64_t size, const char *blockdev, const char *source)
{
    if (!size)
        return ROMFS_OK;
    struct romfs_flash_area *a = romfs_board_add_area(b);
    if (!a)
        return romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    a->kind = kind;
    a->device = strdup(device);
    a->name = imp_strdup(name);
    a->start = start;
    a->size = size;
    a->blockdev = imp_strdup(blockdev);
    a->source = imp_strdup(source);
    if (!a->device || (name && !a->name) || (blockdev && !a->blockdev) || (source && !a->source))
        return romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    return ROMFS_OK;
}

int imp_map_region(struct importer *imp, struct romfs_board *b, const struct romfs_ld_result *res,
                   enum romfs_area_kind kind, const char *device, const char *region, const char *name,
                   const char *blockdev, bool *found)
{
    const struct romfs_ld_region *r = romfs_ld_find_region(res, region);
    if (found)
        *found = r && r->length;
    if (!r || !r->length)
        return ROMFS_OK;
    char *src = imp_printf("%s:%d: %s", imp_tree_relative(imp, r->file), r->line, region);
    if (!src)
        return romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    int rc = imp_map_area(imp, b, kind, device, name ? name : region, r->origin, r->length, blockdev, src);
    free(src);
    return rc;
}

int imp_map_fs_no_room(struct importer *imp, struct romfs_board *b, const struct romfs_ld_result *res,
                       const char *device, const char *start_sym, const char *size_sym, const char *name,
                       const char *blockdev)
{
    uint64_t start, size;
    /* a size of 2^40 or more is a negative one that wrapped (as imp_map_symbols reads it) */
    if (romfs_ld_find_symbol(res, start_sym, &start) != ROMFS_OK ||
        romfs_ld_find_symbol(res, size_sym, &size) != ROMFS_OK || (size && size < (1ull << 40)) ||
        start >= (1ull << ROMFS_ADDRESS_BITS))
        return ROMFS_OK;
    const struct romfs_ld_symbol *s = romfs_ld_symbol_record(res, start_sym);
    char *src = imp_printf("%s:%d: %s + %s", imp_tree_relative(imp, s->file), s->line, start_sym, size_sym);
    struct romfs_flash_area *a = src ? romfs_board_add_area(b) : NULL;
    if (!a) {
        free(src);
        return romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    }
    a->kind = ROMFS_AREA_FS;
    a->device = strdup(device);
    a->name = imp_strdup(name);
    a->start = start;
    a->size = 0;
    a->blockdev = imp_strdup(blockdev);
    a->source = src;
    if (!a->device || (name && !a->name) || (blockdev && !a->blockdev))
        return romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    return ROMFS_OK;
}

int imp_map_symbols(struct importer *imp, struct romfs_board *b, const struct romfs_ld_result *res,
                    enum romfs_area_kind kind, const char *device, const char *start_sym, const char *end_sym,
                    bool end_is_size, const char *name, const char *blockdev, bool *found)
{
    uint64_t start = 0, end = 0;
    if (found)
        *found = false;
    bool literal = strncmp(start_sym, "0x", 2) == 0;
    if (literal)
        start = strtoull(start_sym, NULL, 16);
    if ((!literal && romfs_ld_find_symbol(res, start_sym, &start) != ROMFS_OK) ||
        romfs_ld_find_symbol(res, end_sym, &end) != ROMFS_OK)
        return ROMFS_OK;
    uint64_t size = end_is_size ? end : end - start;
    if (!end_is_size && end < start)
        return ROMFS_OK;
    if (size == 0 || size >= (1ull << 40)) /* a negative size: none */
        return ROMFS_OK;
    const struct romfs_ld_symbol *s = romfs_ld_symbol_record(res, literal ? end_sym : start_sym);
    char *src = imp_printf("%s:%d: %s %s %s", imp_tree_relative(imp, s->file), s->line, start_sym,
                           end_is_size ? "+" : "..", end_sym);
    if (!src)
        return romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    int rc = imp_map_area(imp, b, kind, device, name, start, size, blockdev, src);
    free(src);
    if (found)
        *found = rc == ROMFS_OK;
    return rc;
}

int imp_config(struct importer *imp, struct romfs_board *b, const char *name, uint64_t value, const char *file,
               int line)
{
    for (size_t i = 0; i < b->n_config; i++)
        if (strcmp(b->config[i].name, name) == 0) {
            char *src = line > 0 ? imp_printf("%s:%d", file, line) : imp_strdup(file);
            free(b->config[i].source);
            b->config[i].source = src;
            b->config[i].value = value;
            return src || !file ? ROMFS_OK : romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
        }
    struct romfs_config_value *v = romfs_board_add_config(b);
    if (!v)
        return romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    v->name = strdup(name);
    v->value = value;
    v->source = line > 0 ? imp_printf("%s:%d", file, line) : imp_strdup(file);
    if (!v->name || (file && !v->source))
        return romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    return ROMFS_OK;
}

/* Areas in the order of their devices, then by start (a larger area first), then kind. */
static size_t device_rank(const struct romfs_board *board, const char *name)
{
    for (size_t i = 0; i < board->n_devices; i++)
        if (strcmp(board->devices[i].name, name) == 0)
            return i;
    return board->n_devices;
}

static int cmp_area(const void *x, const void *y, void *ctx)
{
    const struct romfs_flash_area *a = x, *b = y;
    size_t da = device_rank(ctx, a->device), db = device_rank(ctx, b->device);
    if (da != db)
        return da < db ? -1 : 1;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    if (a->romfs_index != b->romfs_index)
        return a->romfs_index < b->romfs_index ? -1 : 1;
    return strcmp(a->core ? a->core : "", b->core ? b->core : "");
}

int imp_map_finish(struct importer *imp, struct romfs_board *b, const char *api)
{
    for (size_t i = 0; i < b->n_partitions; i++) {
        struct romfs_partition *p = &b->partitions[i];
        if (api && !p->api && !(p->api = strdup(api)))
            return romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
        const char *dev = p->device ? p->device : "internal";
        if (!romfs_board_device(b, dev) &&
            !imp_map_device(imp, b, dev, p->mmap ? p->start : 0, 0, p->erase_block, p->write_block, p->mmap, NULL))
            return imp->err->code;
        char name[16];
        snprintf(name, sizeof name, "romfs%d", p->index);
        int rc = imp_map_area(imp, b, ROMFS_AREA_ROMFS, dev, name, p->start, p->size, NULL, p->source);
        if (rc)
            return rc;
        struct romfs_flash_area *a = &b->areas[b->n_areas - 1];
        a->romfs_index = p->index;
        if (p->core && !(a->core = strdup(p->core)))
            return romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    }
    /* the writable filesystem on the main flash, for the readers of the "fs" member */
    for (size_t i = 0; !b->fs_region && !b->fs_size && i < b->n_areas; i++) {
        const struct romfs_flash_area *a = &b->areas[i];
        const struct romfs_flash_device *d = romfs_board_device(b, a->device);
        if (a->kind != ROMFS_AREA_FS || !d || !d->mmap || d->base != b->flash_base || a->core)
            continue;
        b->fs_region = strdup(a->name ? a->name : "fs");
        b->fs_start = a->start;
        b->fs_size = a->size;
        if (!b->fs_region)
            return romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    }
    if (b->n_areas > 1)
        qsort_r(b->areas, b->n_areas, sizeof *b->areas, cmp_area, b);
    return ROMFS_OK;
}
