/* boards/flashmap.c: a board's flash map in boards.json: its flash devices ("devices"),
 * what lies on them ("map"), mboot's DFU layout ("dfu"."mboot"), and the free space. */
#include "boards/db_internal.h"
#include "base/range.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {
    [ROMFS_AREA_BOOTLOADER] = "bootloader",
    [ROMFS_AREA_FIRMWARE] = "firmware",
    [ROMFS_AREA_ROMFS] = "romfs",
    [ROMFS_AREA_FS] = "fs",
    [ROMFS_AREA_RESERVED] = "reserved",
};

const char *romfs_area_kind_name(enum romfs_area_kind kind)
{
    return (unsigned)kind < sizeof kind_names / sizeof kind_names[0] ? kind_names[kind] : "?";
}

const struct romfs_flash_device *romfs_board_device(const struct romfs_board *b, const char *name)
{
    for (size_t i = 0; name && i < b->n_devices; i++)
        if (strcmp(b->devices[i].name, name) == 0)
            return &b->devices[i];
    return NULL;
}

struct romfs_flash_area *romfs_board_add_area(struct romfs_board *b)
{
    struct romfs_flash_area *a = realloc(b->areas, (b->n_areas + 1) * sizeof *a);
    if (!a)
        return NULL;
    b->areas = a;
    a = &b->areas[b->n_areas++];
    memset(a, 0, sizeof *a);
    a->romfs_index = -1;
    return a;
}

struct romfs_flash_device *romfs_board_add_device(struct romfs_board *b)
{
    struct romfs_flash_device *d = realloc(b->devices, (b->n_devices + 1) * sizeof *d);
    if (!d)
        return NULL;
    b->devices = d;
    d = &b->devices[b->n_devices++];
    memset(d, 0, sizeof *d);
    return d;
}

struct romfs_config_value *romfs_board_add_config(struct romfs_board *b)
{
    struct romfs_config_value *v = realloc(b->config, (b->n_config + 1) * sizeof *v);
    if (!v)
        return NULL;
    b->config = v;
    v = &b->config[b->n_config++];
    memset(v, 0, sizeof *v);
    return v;
}

const struct romfs_config_value *romfs_board_config(const struct romfs_board *b, const char *name)
{
    for (size_t i = 0; name && i < b->n_config; i++)
        if (strcmp(b->config[i].name, name) == 0)
            return &b->config[i];
    return NULL;
}

static int by_start(const void *x, const void *y)
{
    const struct romfs_free_range *a = x, *b = y;
    return a->start < b->start ? -1 : a->start > b->start;
}

size_t romfs_board_free_space(const struct romfs_board *b, const char *device, struct romfs_free_range *out,
                              size_t max)
{
    const struct romfs_flash_device *d = romfs_board_device(b, device);
    if (!d || !d->size)
        return 0;
    uint64_t lo = d->mmap ? d->base : 0, hi = lo + d->size;
    struct romfs_free_range *used = calloc(b->n_areas ? b->n_areas : 1, sizeof *used);
    if (!used)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < b->n_areas; i++)
        if (strcmp(b->areas[i].device, device) == 0)
            used[n++] = (struct romfs_free_range){ b->areas[i].start, b->areas[i].size };
    qsort(used, n, sizeof *used, by_start);
    size_t found = 0;
    uint64_t at = lo;
    for (size_t i = 0; i <= n && at < hi; i++) {
        uint64_t next = i < n ? used[i].start : hi;
        if (next > hi)
            next = hi;
        if (next > at) {
            if (found < max)
                out[found] = (struct romfs_free_range){ at, next - at };
            found++;
        }
        if (i < n && used[i].start + used[i].size > at)
            at = used[i].start + used[i].size;
    }
    free(used);
    return found;
}

/* ---- boards.json ---- */

static int parse_device(struct parse_ctx *c, const cJSON *j, struct romfs_flash_device *d)
{
    int rc;
    if (!cJSON_IsObject(j))
        return db_schema_error(c, "\"devices\" entries must be objects");
    if ((rc = db_get_str(c, j, "name", true, &d->name)) || (rc = db_get_u64(c, j, "base", false, &d->base)) ||
        (rc = db_get_u64(c, j, "size", false, &d->size)) ||
        (rc = db_get_u32(c, j, "erase_block", false, &d->erase_block)) ||
        (rc = db_get_u32(c, j, "write_block", false, &d->write_block)) ||
        (rc = db_get_bool(c, j, "mmap", &d->mmap)) || (rc = db_get_str(c, j, "source", false, &d->source)))
        return rc;
    if (!romfs_range_fits_bits(d->base, d->size, ROMFS_ADDRESS_BITS))
        return db_schema_error(c, "device %s ends past the %d-bit address space", d->name, ROMFS_ADDRESS_BITS);
    return ROMFS_OK;
}

static int parse_area(struct parse_ctx *c, const struct romfs_board *b, const cJSON *j, struct romfs_flash_area *a)
{
    int rc;
    char *kind = NULL;
    uint64_t index = UINT64_MAX;
    a->romfs_index = -1;
    if (!cJSON_IsObject(j))
        return db_schema_error(c, "\"map\" entries must be objects");
    if ((rc = db_get_str(c, j, "kind", true, &kind)))
        return rc;
    size_t k = 0;
    while (k < sizeof kind_names / sizeof kind_names[0] && strcmp(kind_names[k], kind) != 0)
        k++;
    if (k == sizeof kind_names / sizeof kind_names[0]) {
        rc = db_schema_error(c, "map kind \"%s\" is not one of bootloader, firmware, romfs, fs, reserved", kind);
        free(kind);
        return rc;
    }
    free(kind);
    a->kind = (enum romfs_area_kind)k;
    if ((rc = db_get_str(c, j, "device", true, &a->device)) || (rc = db_get_str(c, j, "name", false, &a->name)) ||
        (rc = db_get_u64(c, j, "start", true, &a->start)) || (rc = db_get_u64(c, j, "size", true, &a->size)) ||
        (rc = db_get_u64(c, j, "index", false, &index)) || (rc = db_get_str(c, j, "core", false, &a->core)) ||
        (rc = db_get_str(c, j, "blockdev", false, &a->blockdev)) ||
        (rc = db_get_str(c, j, "source", false, &a->source)))
        return rc;
    if (index != UINT64_MAX) {
        if (index > 15)
            return db_schema_error(c, "map: romfs index %" PRIu64 " out of range", index);
        a->romfs_index = (int)index;
    }
    if (a->kind == ROMFS_AREA_ROMFS && a->romfs_index < 0)
        return db_schema_error(c, "map: a romfs area needs its \"index\"");
    if (!romfs_board_device(b, a->device))
        return db_schema_error(c, "map: area on unknown device \"%s\"", a->device);
    if ((a->size == 0 && a->kind != ROMFS_AREA_FS) || !romfs_range_fits_bits(a->start, a->size, ROMFS_ADDRESS_BITS))
        return db_schema_error(c, "map: area %s at 0x%08" PRIx64 " is empty or ends past the address space",
                               a->name ? a->name : kind_names[a->kind], a->start);
    return ROMFS_OK;
}

int db_parse_flashmap(struct parse_ctx *c, const cJSON *j, struct romfs_board *b)
{
    int rc;
    const cJSON *arr;
    size_t n;
    if ((rc = db_array_of(c, j, "devices", &arr, &n)))
        return rc;
    for (size_t i = 0; i < n; i++) {
        struct romfs_flash_device *d = romfs_board_add_device(b);
        if (!d)
            return romfs_set_error(c->err, ROMFS_ERR_NOMEM, "out of memory");
        if ((rc = parse_device(c, cJSON_GetArrayItem(arr, (int)i), d)))
            return rc;
        for (size_t k = 0; k + 1 < b->n_devices; k++)
            if (strcmp(b->devices[k].name, d->name) == 0)
                return db_schema_error(c, "device %s appears twice", d->name);
    }
    if ((rc = db_array_of(c, j, "map", &arr, &n)))
        return rc;
    for (size_t i = 0; i < n; i++) {
        struct romfs_flash_area *a = romfs_board_add_area(b);
        if (!a)
            return romfs_set_error(c->err, ROMFS_ERR_NOMEM, "out of memory");
        if ((rc = parse_area(c, b, cJSON_GetArrayItem(arr, (int)i), a)))
            return rc;
    }
    if ((rc = db_array_of(c, j, "config", &arr, &n)))
        return rc;
    for (size_t i = 0; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(arr, (int)i);
        struct romfs_config_value *v = romfs_board_add_config(b);
        if (!v)
            return romfs_set_error(c->err, ROMFS_ERR_NOMEM, "out of memory");
        if (!cJSON_IsObject(e))
            return db_schema_error(c, "\"config\" entries must be objects");
        if ((rc = db_get_str(c, e, "name", true, &v->name)) || (rc = db_get_u64(c, e, "value", true, &v->value)) ||
            (rc = db_get_str(c, e, "source", false, &v->source)))
            return rc;
    }
    if ((rc = db_get_str(c, j, "link", false, &b->link)))
        return rc;
    const cJSON *dfu = db_get_obj(j, "dfu");
    const cJSON *mboot = dfu ? db_get_obj(dfu, "mboot") : NULL;
    if (mboot && ((rc = db_get_str(c, mboot, "usb", true, &b->mboot_usb)) ||
                  (rc = db_get_str(c, mboot, "layout", false, &b->mboot_layout)) ||
                  (rc = db_get_str(c, mboot, "source", false, &b->mboot_source))))
        return rc;
    return ROMFS_OK;
}

void db_emit_flashmap(struct romfs_buf *s, const struct romfs_board *b)
{
    bool f;
    if (b->n_devices) {
        romfs_buf_printf(s, ",\n      \"devices\": [");
        for (size_t i = 0; i < b->n_devices; i++) {
            const struct romfs_flash_device *d = &b->devices[i];
            romfs_buf_printf(s, "%s\n        {", i ? "," : "");
            f = true;
            db_sb_kv_str(s, &f, "name", d->name);
            db_sb_kv_hex(s, &f, "base", d->base);
            db_sb_kv_hex(s, &f, "size", d->size);
            db_sb_kv_int(s, &f, "erase_block", d->erase_block);
            db_sb_kv_int(s, &f, "write_block", d->write_block);
            romfs_buf_printf(s, ", \"mmap\": %s", d->mmap ? "true" : "false");
            db_sb_kv_str(s, &f, "source", d->source);
            romfs_buf_printf(s, "}");
        }
        romfs_buf_printf(s, "\n      ]");
    }
    if (b->n_areas) {
        romfs_buf_printf(s, ",\n      \"map\": [");
        for (size_t i = 0; i < b->n_areas; i++) {
            const struct romfs_flash_area *a = &b->areas[i];
            romfs_buf_printf(s, "%s\n        {", i ? "," : "");
            f = true;
            db_sb_kv_str(s, &f, "kind", romfs_area_kind_name(a->kind));
            db_sb_kv_str(s, &f, "device", a->device);
            db_sb_kv_str(s, &f, "name", a->name);
            db_sb_kv_hex(s, &f, "start", a->start);
            db_sb_kv_hex(s, &f, "size", a->size);
            if (a->romfs_index >= 0)
                db_sb_kv_int(s, &f, "index", (uint64_t)a->romfs_index);
            db_sb_kv_str(s, &f, "core", a->core);
            db_sb_kv_str(s, &f, "blockdev", a->blockdev);
            db_sb_kv_str(s, &f, "source", a->source);
            romfs_buf_printf(s, "}");
        }
        romfs_buf_printf(s, "\n      ]");
    }
    if (b->n_config) {
        romfs_buf_printf(s, ",\n      \"config\": [");
        for (size_t i = 0; i < b->n_config; i++) {
            const struct romfs_config_value *v = &b->config[i];
            romfs_buf_printf(s, "%s\n        {", i ? "," : "");
            f = true;
            db_sb_kv_str(s, &f, "name", v->name);
            db_sb_kv_hex(s, &f, "value", v->value);
            db_sb_kv_str(s, &f, "source", v->source);
            romfs_buf_printf(s, "}");
        }
        romfs_buf_printf(s, "\n      ]");
    }
    if (b->link) {
        romfs_buf_printf(s, ",\n      ");
        f = true;
        db_sb_kv_str(s, &f, "link", b->link);
    }
}

void db_free_flashmap(struct romfs_board *b)
{
    for (size_t i = 0; i < b->n_devices; i++) {
        free(b->devices[i].name);
        free(b->devices[i].source);
    }
    free(b->devices);
    for (size_t i = 0; i < b->n_areas; i++) {
        free(b->areas[i].device);
        free(b->areas[i].name);
        free(b->areas[i].core);
        free(b->areas[i].blockdev);
        free(b->areas[i].source);
    }
    free(b->areas);
    for (size_t i = 0; i < b->n_config; i++) {
        free(b->config[i].name);
        free(b->config[i].source);
    }
    free(b->config);
    free(b->link);
    free(b->mboot_usb);
    free(b->mboot_layout);
    free(b->mboot_source);
}
