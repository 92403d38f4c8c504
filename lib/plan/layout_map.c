/* layout_map.c: the flash map the layout planner works in: boards.json's map, one built
 * from a board's older fields, or an esp32 partition table's (see plan/layout.h). */
#include "plan/layout_internal.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ESP-IDF's partition table sits at 0x8000 (CONFIG_PARTITION_TABLE_OFFSET, which no
 * MicroPython board changes) and takes 0x1000; partitions start after it. */
#define ESP32_TABLE_END 0x9000

const char *lay_size(uint64_t n, char *buf, size_t size)
{
    if (n % (1024 * 1024) == 0 && n)
        snprintf(buf, size, "%" PRIu64 "M", n / (1024 * 1024));
    else if (n % 1024 == 0 && n)
        snprintf(buf, size, "%" PRIu64 "K", n / 1024);
    else
        snprintf(buf, size, "%" PRIu64 " bytes", n);
    return buf;
}

const char *lay_ld_name(const char *name, const char *fallback)
{
    if (!name || !*name || !(isalpha((unsigned char)name[0]) || name[0] == '_'))
        return fallback;
    for (const char *c = name; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '_' && *c != '.')
            return fallback;
    return name;
}

enum romfs_layout_style lay_style(const struct romfs_board *b)
{
    static const struct { const char *port; enum romfs_layout_style style; } ports[] = {
        { "rp2", ROMFS_LAYOUT_RP2 },   { "samd", ROMFS_LAYOUT_SAMD },     { "esp32", ROMFS_LAYOUT_ESP32 },
        { "nrf", ROMFS_LAYOUT_NRF },   { "mimxrt", ROMFS_LAYOUT_MIMXRT },
    };
    for (size_t i = 0; b->port && i < sizeof ports / sizeof ports[0]; i++)
        if (strcmp(b->port, ports[i].port) == 0)
            return ports[i].style;
    return ROMFS_LAYOUT_LD;
}

uint64_t lay_erase_floor(const struct romfs_board *b, const struct lay_device *d, uint64_t addr,
                         uint64_t *block)
{
    for (size_t i = 0; d->main && i < b->n_erase_map; i++) {
        const struct romfs_erase_range *r = &b->erase_map[i];
        if (r->block && addr >= r->start && addr - r->start < r->size) {
            *block = r->block;
            return r->start + (addr - r->start) / r->block * r->block;
        }
    }
    *block = d->erase_block ? d->erase_block : 1;
    /* Erase blocks are aligned to absolute addresses: flash is mapped at addresses
       aligned to at least its erase block, even where a board's flash region starts
       after a header (mimxrt's 0x60000400). */
    return addr / *block * *block;
}

uint64_t lay_erase_ceil(const struct romfs_board *b, const struct lay_device *d, uint64_t addr)
{
    uint64_t block;
    uint64_t lo = lay_erase_floor(b, d, addr, &block);
    return lo == addr ? addr : lo + block;
}

uint32_t lay_erase_at(const struct romfs_board *b, const struct lay_device *d, uint64_t addr)
{
    uint64_t block;
    lay_erase_floor(b, d, addr, &block);
    return (uint32_t)block;
}

static struct lay_area *add_area(struct lay_map *m, int dev, enum romfs_area_kind kind, const char *name,
                                 uint64_t start, uint64_t size)
{
    struct lay_area *a = realloc(m->areas, (m->n_areas + 1) * sizeof *a);
    if (!a)
        return NULL;
    m->areas = a;
    a = &m->areas[m->n_areas++];
    memset(a, 0, sizeof *a);
    a->kind = kind;
    a->dev = dev;
    a->name = name ? name : romfs_area_kind_name(kind);
    a->start = start;
    a->size = size;
    a->romfs_index = -1;
    return a;
}

static int by_device_start(const void *x, const void *y)
{
    const struct lay_area *a = x, *b = y;
    if (a->dev != b->dev)
        return a->dev < b->dev ? -1 : 1;
    return a->start < b->start ? -1 : a->start > b->start;
}

/* The type and subtype ESP-IDF gives a partition MicroPython's tables name this way. */
static bool esp32_known_row(const char *name, uint8_t *type, uint8_t *subtype)
{
    static const struct { const char *name; uint8_t type, subtype; } rows[] = {
        { "nvs", 1, 0x02 },      { "phy_init", 1, 0x01 }, { "factory", 0, 0x00 }, { "ota_0", 0, 0x10 },
        { "ota_1", 0, 0x11 },    { "otadata", 1, 0x00 },  { "vfs", 1, 0x81 },     { "ffat", 1, 0x81 },
        { "romfs", 1, 0x8f },    { "coredump", 1, 0x03 }, { "nvs_key", 1, 0x04 },
    };
    for (size_t i = 0; name && i < sizeof rows / sizeof rows[0]; i++)
        if (strcmp(rows[i].name, name) == 0) {
            *type = rows[i].type;
            *subtype = rows[i].subtype;
            return true;
        }
    return false;
}

static int nomem(struct romfs_error *err)
{
    return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
}

/* boards.json's own map. */
static int from_board_map(const struct romfs_board *b, struct lay_map *m, struct romfs_error *err)
{
    for (size_t i = 0; i < b->n_devices && m->n_dev < LAY_MAX_DEVICES; i++) {
        const struct romfs_flash_device *s = &b->devices[i];
        struct lay_device *d = &m->dev[m->n_dev++];
        d->name = s->name;
        d->mmap = s->mmap;
        d->base = s->mmap ? s->base : 0;
        d->size = s->size;
        d->erase_block = s->erase_block;
        d->main = s->mmap && b->flash_size && b->flash_base >= s->base && b->flash_base - s->base < s->size;
        if (d->main && !d->erase_block)
            d->erase_block = b->erase_block;
    }
    bool esp32 = lay_style(b) == ROMFS_LAYOUT_ESP32, ota = false;
    for (size_t i = 0; esp32 && i < b->n_areas; i++)
        ota |= b->areas[i].name && strcmp(b->areas[i].name, "otadata") == 0;
    for (size_t i = 0; i < b->n_areas; i++) {
        const struct romfs_flash_area *s = &b->areas[i];
        int dev = -1;
        for (size_t k = 0; k < m->n_dev; k++)
            if (strcmp(m->dev[k].name, s->device) == 0)
                dev = (int)k;
        if (dev < 0)
            continue;
        struct lay_area *a = add_area(m, dev, s->kind, s->name, s->start, s->size);
        if (!a)
            return nomem(err);
        a->romfs_index = s->romfs_index;
        a->blockdev = s->blockdev;
        a->core = s->core;
        if (esp32) {
            a->esp32_row = esp32_known_row(s->name, &a->esp32_type, &a->esp32_subtype);
            /* The filesystem MicroPython makes at boot when the table has no "vfs" or
               "ffat" (ports/esp32/main.c) comes from no table row; a row's source is
               "TABLE.csv:LINE: label". */
            a->implicit = s->kind == ROMFS_AREA_FS &&
                          (!s->source || !strstr(s->source, ".csv:") || strstr(s->source, "main.c"));
            if (a->implicit || s->kind == ROMFS_AREA_BOOTLOADER)
                a->esp32_row = false;
            /* The app MicroPython runs is ota_0 in a table with OTA data, else factory
               (whatever its label, e.g. ARDUINO_NANO_ESP32's app0). */
            if (s->kind == ROMFS_AREA_FIRMWARE && !a->esp32_row) {
                a->esp32_row = true;
                a->esp32_type = ROMFS_ESP32_TYPE_APP;
                a->esp32_subtype = ota ? 0x10 : 0x00;
            }
        }
    }
    return ROMFS_OK;
}

/* The device holding a ROMFS partition outside the main flash (QSPI, OSPI): the linker
 * MEMORY region around it, else the partition itself. */
static int external_device(const struct romfs_board *b, const struct romfs_partition *p, struct lay_map *m)
{
    const char *name = p->device ? p->device : "external";
    for (size_t k = 0; k < m->n_dev; k++)
        if (strcmp(m->dev[k].name, name) == 0)
            return (int)k;
    if (m->n_dev == LAY_MAX_DEVICES)
        return -1;
    uint64_t lo = p->start, hi = p->start + p->size;
    for (size_t i = 0; i < b->n_flash; i++) {
        const struct romfs_region *r = &b->flash[i];
        if (p->start >= r->origin && p->start - r->origin < r->length &&
            (!p->region || (r->name && strcmp(r->name, p->region) == 0))) {
            lo = r->origin < lo ? r->origin : lo;
            hi = r->origin + r->length > hi ? r->origin + r->length : hi;
        }
    }
    struct lay_device *d = &m->dev[m->n_dev];
    memset(d, 0, sizeof *d);
    d->name = name;
    d->mmap = p->mmap;
    d->base = lo;
    d->size = hi - lo;
    d->erase_block = p->erase_block;
    return (int)m->n_dev++;
}

/* A map from the fields boards.json had before the flash map. Outside the run from the
 * firmware's start to the end of its firmware, ROMFS and filesystem nothing is known:
 * that flash is marked as such and never counts as free. */
static int from_fields(const struct romfs_board *b, const struct romfs_layout_request *req, struct lay_map *m,
                       struct romfs_error *err)
{
    m->from_fields = true;
    struct lay_device *d = &m->dev[m->n_dev++];
    bool esp32 = lay_style(b) == ROMFS_LAYOUT_ESP32;
    d->name = esp32 ? "spi" : "internal";
    d->mmap = !esp32;
    d->base = b->flash_base;
    d->size = b->flash_size;
    d->erase_block = b->erase_block;
    d->main = true;
    uint64_t dev_end = d->base + d->size;
    if (b->text_size && b->text_start >= d->base && b->text_start + b->text_size <= dev_end &&
        !add_area(m, 0, ROMFS_AREA_FIRMWARE, b->text_region, b->text_start, b->text_size))
        return nomem(err);
    for (size_t i = 0; i < b->n_partitions; i++) {
        const struct romfs_partition *p = &b->partitions[i];
        bool inside = p->start >= d->base && p->start - d->base < d->size && p->start + p->size <= dev_end;
        int dev = inside ? 0 : external_device(b, p, m);
        if (dev < 0)
            continue;
        struct lay_area *a = add_area(m, dev, ROMFS_AREA_ROMFS, p->region, p->start, p->size);
        if (!a)
            return nomem(err);
        a->romfs_index = p->index;
    }
    if (b->fs_size && b->fs_start >= d->base && b->fs_start + b->fs_size <= dev_end &&
        !add_area(m, 0, ROMFS_AREA_FS, b->fs_region, b->fs_start, b->fs_size))
        return nomem(err);
    if (!b->text_size) {
        /* No firmware region: with a size given, the firmware runs from the start of flash. */
        if (!req->firmware_size_given && !req->elf)
            return romfs_set_error_need(err, ROMFS_ERR_INVAL, ROMFS_NEED_FIRMWARE_SIZE,
                                        "board %s: firmware size unknown (boards.json has no firmware region)",
                                        b->name);
        uint64_t end = dev_end;
        for (size_t i = 0; i < m->n_areas; i++)
            if (m->areas[i].dev == 0 && m->areas[i].start < end)
                end = m->areas[i].start;
        if (end > d->base && !add_area(m, 0, ROMFS_AREA_FIRMWARE, "FLASH_APP", d->base, end - d->base))
            return nomem(err);
    }
    uint64_t lo = dev_end, hi = d->base;
    for (size_t i = 0; i < m->n_areas; i++)
        if (m->areas[i].dev == 0) {
            lo = m->areas[i].start < lo ? m->areas[i].start : lo;
            hi = m->areas[i].start + m->areas[i].size > hi ? m->areas[i].start + m->areas[i].size : hi;
        }
    if (lo >= hi)
        lo = d->base, hi = dev_end;
    static const char unknown[] = "not in boards.json";
    struct lay_area *a;
    if (lo > d->base) {
        if (!(a = add_area(m, 0, ROMFS_AREA_RESERVED, unknown, d->base, lo - d->base)))
            return nomem(err);
        a->unknown = true;
    }
    if (hi < dev_end) {
        if (!(a = add_area(m, 0, ROMFS_AREA_RESERVED, unknown, hi, dev_end - hi)))
            return nomem(err);
        a->unknown = true;
    }
    return ROMFS_OK;
}

/* An esp32 partition table: the bootloader and the table below 0x9000, each partition,
 * and the filesystem MicroPython makes at boot from the rest of flash when the table has
 * no "vfs" or "ffat" partition (ports/esp32/main.c). */
static int from_esp32_table(const struct romfs_board *b, const struct romfs_layout_request *req,
                            struct lay_map *m, struct romfs_error *err)
{
    const struct romfs_esp32_table *t = req->partition_table;
    m->table_name = req->partition_table_name ? req->partition_table_name : "the partition table";
    uint64_t flash = 0;
    for (size_t i = 0; i < b->n_devices; i++)
        if (!b->devices[i].mmap && b->devices[i].size > flash)
            flash = b->devices[i].size;
    if (!flash)
        flash = b->flash_size;
    uint64_t top = ESP32_TABLE_END;
    for (size_t i = 0; i < t->n; i++)
        if ((uint64_t)t->parts[i].offset + t->parts[i].size > top)
            top = (uint64_t)t->parts[i].offset + t->parts[i].size;
    if (top > flash) {
        if (flash)
            return romfs_set_error(err, ROMFS_ERR_INVAL,
                                   "%s: its partitions end at 0x%08" PRIx64 ", past board %s's %" PRIu64 " bytes of flash",
                                   m->table_name, top, b->name, flash);
        flash = top;
    }
    struct lay_device *d = &m->dev[m->n_dev++];
    d->name = "spi";
    d->size = flash;
    d->erase_block = 4096;
    d->main = true;
    if (!add_area(m, 0, ROMFS_AREA_BOOTLOADER, "bootloader and partition table", 0, ESP32_TABLE_END))
        return nomem(err);
    bool has_fs = false, has_fw = false, has_ota0 = false;
    for (size_t i = 0; i < t->n; i++)
        has_ota0 |= t->parts[i].type == ROMFS_ESP32_TYPE_APP && t->parts[i].subtype == 0x10;
    for (size_t i = 0; i < t->n; i++) {
        const struct romfs_esp32_part *p = &t->parts[i];
        enum romfs_area_kind kind = ROMFS_AREA_RESERVED;
        bool data = p->type == ROMFS_ESP32_TYPE_DATA;
        /* The app MicroPython runs: ota_0 in an OTA table, else factory. */
        if (p->type == ROMFS_ESP32_TYPE_APP && !has_fw && p->subtype == (has_ota0 ? 0x10 : 0x00)) {
            kind = ROMFS_AREA_FIRMWARE;
            has_fw = true;
        } else if (data && (strcmp(p->label, "vfs") == 0 || strcmp(p->label, "ffat") == 0) && !has_fs) {
            kind = ROMFS_AREA_FS;
            has_fs = true;
        } else if (data && strcmp(p->label, "romfs") == 0) {
            kind = ROMFS_AREA_ROMFS;
        }
        struct lay_area *a = add_area(m, 0, kind, p->label, p->offset, p->size);
        if (!a)
            return nomem(err);
        a->romfs_index = kind == ROMFS_AREA_ROMFS ? 0 : -1;
        a->blockdev = kind == ROMFS_AREA_FS ? "esp32 partition" : NULL;
        a->esp32_row = true;
        a->esp32_type = p->type;
        a->esp32_subtype = p->subtype;
        a->esp32_flags = p->flags;
    }
    if (!has_fs && flash > top) {
        struct lay_area *a = add_area(m, 0, ROMFS_AREA_FS, "vfs", top, flash - top);
        if (!a)
            return nomem(err);
        a->implicit = true;
        a->blockdev = "esp32 partition made at boot";
    }
    return ROMFS_OK;
}

int lay_map_build(const struct romfs_board *b, const struct romfs_layout_request *req, struct lay_map *m,
                  struct romfs_error *err)
{
    memset(m, 0, sizeof *m);
    int rc;
    if (req->partition_table) {
        if (lay_style(b) != ROMFS_LAYOUT_ESP32)
            return romfs_set_error(err, ROMFS_ERR_INVAL,
                                   "board %s (%s) has no partition table: only esp32 boards do", b->name,
                                   b->port ? b->port : "unknown port");
        rc = from_esp32_table(b, req, m, err);
    } else if (b->n_devices) {
        rc = from_board_map(b, m, err);
    } else if (lay_style(b) == ROMFS_LAYOUT_ESP32) {
        return romfs_set_error(err, ROMFS_ERR_INVAL,
                               "board %s: boards.json has no flash map for it; give the partition table to plan in",
                               b->name);
    } else {
        if (!b->flash_size || (!b->erase_block && !b->n_erase_map))
            return romfs_set_error(err, ROMFS_ERR_INVAL,
                                   "board %s has no flash geometry (size and erase block) in boards.json", b->name);
        rc = from_fields(b, req, m, err);
    }
    if (rc) {
        lay_map_free(m);
        return rc;
    }
    qsort(m->areas, m->n_areas, sizeof *m->areas, by_device_start);
    return ROMFS_OK;
}

void lay_map_free(struct lay_map *m)
{
    free(m->areas);
    memset(m, 0, sizeof *m);
}
