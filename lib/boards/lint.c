/* boards/lint.c: flash layout lint (boards/lint.h). */
#define _GNU_SOURCE
#include "boards/lint_internal.h"
#include "ld/ldscript.h"
#include "base/range.h"

#include <ctype.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void romfs_lint_report_free(struct romfs_lint_report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        struct romfs_lint_finding *f = &r->findings[i];
        free(f->board);
        free(f->check);
        free(f->region_a);
        free(f->region_b);
        free(f->message);
        free(f->device);
        free(f->source_a);
        free(f->source_b);
    }
    free(r->findings);
    memset(r, 0, sizeof *r);
}

int lint_add(struct romfs_lint_report *r, struct romfs_error *err, const struct romfs_board *b, const char *check,
             int severity, const char *ra, const char *rb, uint64_t addr, uint64_t bytes, const char *fmt, ...)
{
    struct romfs_lint_finding *nf = realloc(r->findings, (r->n + 1) * sizeof *nf);
    if (!nf)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    r->findings = nf;
    struct romfs_lint_finding *f = &nf[r->n];
    memset(f, 0, sizeof *f);
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    f->board = strdup(b->name ? b->name : "?");
    f->check = strdup(check);
    f->severity = severity;
    f->region_a = strdup(ra);
    f->region_b = rb ? strdup(rb) : NULL;
    f->address = addr;
    f->bytes = bytes;
    f->message = msg;
    r->n++;
    if (!f->board || !f->check || !f->region_a || (rb && !f->region_b) || !msg)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    if (severity == ROMFS_LINT_ERROR)
        r->n_errors++;
    else
        r->n_warnings++;
    return ROMFS_OK;
}

int lint_set_where(struct romfs_lint_finding *f, struct romfs_error *err, const char *device, const char *source_a,
                   const char *source_b)
{
    f->device = device ? strdup(device) : NULL;
    f->source_a = source_a ? strdup(source_a) : NULL;
    f->source_b = source_b ? strdup(source_b) : NULL;
    if ((device && !f->device) || (source_a && !f->source_a) || (source_b && !f->source_b))
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    return ROMFS_OK;
}

/* A range past 2^64 reports as running to the very end. */
uint64_t lint_end(uint64_t origin, uint64_t length)
{
    uint64_t end;
    return romfs_range_end(origin, length, &end) ? end : UINT64_MAX;
}


static bool contains(const struct romfs_region *outer, const struct romfs_region *inner)
{
    return outer->origin <= inner->origin &&
           lint_end(inner->origin, inner->length) <= lint_end(outer->origin, outer->length);
}

static bool name_has(const char *name, const char *word)
{
    char up[128];
    size_t i = 0;
    for (; name[i] && i + 1 < sizeof up; i++)
        up[i] = (char)toupper((unsigned char)name[i]);
    up[i] = 0;
    return strstr(up, word) != NULL;
}

static bool is_bootloader(const struct romfs_region *r)
{
    size_t n = strlen(r->name);
    return name_has(r->name, "BOOT") || (n >= 3 && strcasecmp(r->name + n - 3, "_BL") == 0) ||
           name_has(r->name, "BOOTLOADER") || name_has(r->name, "MBR");
}

/* A region describing all of the device flash contains the others by design. */
static bool is_whole(const struct romfs_board *b, const struct romfs_region *r)
{
    size_t inside = 0;
    for (size_t i = 0; i < b->n_flash; i++)
        if (&b->flash[i] != r && b->flash[i].length && contains(r, &b->flash[i]))
            inside++;
    return inside > 0;
}

static const struct romfs_region *find_region(const struct romfs_board *b, const char *name)
{
    for (size_t i = 0; name && i < b->n_flash; i++)
        if (strcmp(b->flash[i].name, name) == 0)
            return &b->flash[i];
    return NULL;
}

static int lint_overlaps(const struct romfs_board *b, struct romfs_lint_report *r, struct romfs_error *err)
{
    int rc = ROMFS_OK;
    for (size_t i = 0; !rc && i < b->n_flash; i++) {
        for (size_t k = i + 1; !rc && k < b->n_flash; k++) {
            const struct romfs_region *x = &b->flash[i], *y = &b->flash[k];
            if (!x->length || !y->length)
                continue;
            uint64_t lo = x->origin > y->origin ? x->origin : y->origin;
            uint64_t hi = lint_end(x->origin, x->length) < lint_end(y->origin, y->length) ? lint_end(x->origin, x->length)
                                                                                      : lint_end(y->origin, y->length);
            if (lo >= hi)
                continue;
            /* a region nested wholly inside another is the usual "whole flash" idiom,
               unless firmware text sits on a bootloader (checked below) */
            if (contains(x, y) || contains(y, x))
                continue;
            const struct romfs_region *first = x->origin <= y->origin ? x : y, *second = first == x ? y : x;
            bool romfs = false;
            for (size_t p = 0; p < b->n_partitions; p++)
                if (b->partitions[p].region && strcmp(b->partitions[p].region, first->name) == 0)
                    romfs = true;
            if (romfs)
                rc = lint_add(r, err, b, "romfs-overrun", ROMFS_LINT_ERROR, first->name, second->name, lo, hi - lo,
                         "%s: ROMFS region %s (0x%08" PRIx64 "..0x%08" PRIx64 ") runs %" PRIu64
                         " bytes into %s, which starts at 0x%08" PRIx64,
                         b->name, first->name, first->origin, lint_end(first->origin, first->length), hi - lo,
                         second->name, second->origin);
            else
                rc = lint_add(r, err, b, "overlap", ROMFS_LINT_ERROR, first->name, second->name, lo, hi - lo,
                         "%s: regions %s (0x%08" PRIx64 "..0x%08" PRIx64 ") and %s (0x%08" PRIx64 "..0x%08" PRIx64
                         ") overlap by %" PRIu64 " bytes at 0x%08" PRIx64,
                         b->name, first->name, first->origin, lint_end(first->origin, first->length), second->name,
                         second->origin, lint_end(second->origin, second->length), hi - lo, lo);
        }
    }
    /* firmware text on top of a bootloader */
    const struct romfs_region *text = find_region(b, b->text_region);
    for (size_t i = 0; !rc && text && i < b->n_flash; i++) {
        const struct romfs_region *bl = &b->flash[i];
        if (bl == text || !bl->length || !text->length || !is_bootloader(bl))
            continue;
        uint64_t lo = text->origin > bl->origin ? text->origin : bl->origin;
        uint64_t te = lint_end(text->origin, text->length), be = lint_end(bl->origin, bl->length);
        uint64_t hi = te < be ? te : be;
        if (lo < hi)
            rc = lint_add(r, err, b, "firmware-on-bootloader", ROMFS_LINT_ERROR, text->name, bl->name, lo, hi - lo,
                     "%s: firmware region %s starts at 0x%08" PRIx64 ", on top of bootloader region %s (0x%08" PRIx64
                     "..0x%08" PRIx64 "): %" PRIu64 " bytes of the bootloader would be overwritten; %s should start at 0x%08" PRIx64,
                     b->name, text->name, text->origin, bl->name, bl->origin, be, hi - lo, text->name, be);
    }
    return rc;
}

/* A partition against its erase blocks; without a flash map also against the MEMORY
 * regions (with one, lint_map checks where it lies). */
static int lint_partition(const struct romfs_board *b, const struct romfs_partition *p, bool map,
                          struct romfs_lint_report *r, struct romfs_error *err)
{
    char label[64];
    snprintf(label, sizeof label, "romfs part%d%s%s", p->index, p->core ? " " : "", p->core ? p->core : "");
    const char *name = p->region ? p->region : label;
    uint64_t pend = lint_end(p->start, p->size);
    int rc = ROMFS_OK;
    uint32_t eb = p->erase_block;
    if (eb) {
        uint64_t mis = p->start % eb;
        if (mis)
            rc = lint_add(r, err, b, "romfs-unaligned", ROMFS_LINT_ERROR, name, NULL, p->start, mis,
                     "%s: %s starts at 0x%08" PRIx64 ", %" PRIu64 " bytes past a %u-byte erase block boundary",
                     b->name, name, p->start, mis, eb);
        if (!rc && p->size < eb)
            rc = lint_add(r, err, b, "romfs-too-small", ROMFS_LINT_ERROR, name, NULL, p->start, p->size,
                     "%s: %s is %" PRIu64 " bytes, smaller than one %u-byte erase block", b->name, name, p->size, eb);
        else if (!rc && p->size % eb)
            rc = lint_add(r, err, b, "romfs-partial-block", ROMFS_LINT_ERROR, name, NULL, pend - p->size % eb,
                     p->size % eb,
                     "%s: %s size %" PRIu64 " is not a whole number of %u-byte erase blocks (%" PRIu64
                     " bytes left over); erasing its last block erases what follows",
                     b->name, name, p->size, eb, p->size % eb);
    }
    /* variable sector maps: the end must fall on a sector boundary too */
    if (!rc && b->n_erase_map && (!p->device || strcmp(p->device, "internal") == 0)) {
        for (size_t i = 0; i < b->n_erase_map; i++) {
            const struct romfs_erase_range *e = &b->erase_map[i];
            if (pend > e->start && pend < e->start + e->size && (pend - e->start) % e->block) {
                rc = lint_add(r, err, b, "romfs-partial-block", ROMFS_LINT_ERROR, name, NULL, pend,
                         (pend - e->start) % e->block,
                         "%s: %s ends at 0x%08" PRIx64 " inside a %u-byte sector", b->name, name, pend, e->block);
                break;
            }
        }
    }
    if (rc || map)
        return rc;
    if (!p->mmap)
        rc = lint_add(r, err, b, "romfs-not-mmap", ROMFS_LINT_WARNING, name, NULL, p->start, p->size,
                 "%s: %s is not memory-mapped: files cannot be used in place (imported .mpy code is copied to RAM)",
                 b->name, name);
    bool internal = !p->device || strcmp(p->device, "internal") == 0;
    if (!rc && internal && b->flash_size && p->mmap &&
        (p->start < b->flash_base || pend > lint_end(b->flash_base, b->flash_size))) {
        uint64_t out = p->start < b->flash_base ? b->flash_base - p->start : pend - lint_end(b->flash_base, b->flash_size);
        rc = lint_add(r, err, b, "romfs-outside-flash", ROMFS_LINT_ERROR, name, NULL, p->start, out,
                 "%s: %s (0x%08" PRIx64 "..0x%08" PRIx64 ") lies %" PRIu64
                 " bytes outside the memory-mapped flash 0x%08" PRIx64 "..0x%08" PRIx64,
                 b->name, name, p->start, pend, out, b->flash_base, lint_end(b->flash_base, b->flash_size));
    }
    /* the partition against firmware text and any other region it is not part of */
    const struct romfs_region *own = find_region(b, p->region);
    if (!rc && own && p->size > own->length)
        rc = lint_add(r, err, b, "romfs-overrun", ROMFS_LINT_ERROR, name, NULL, lint_end(own->origin, own->length),
                 p->size - own->length, "%s: romfs part%d is %" PRIu64 " bytes but its region %s holds only %" PRIu64,
                 b->name, p->index, p->size, own->name, own->length);
    for (size_t i = 0; !rc && i < b->n_flash; i++) {
        const struct romfs_region *x = &b->flash[i];
        if (x == own || !x->length || (own && (contains(x, own) || contains(own, x))))
            continue;
        if (x->origin <= p->start && lint_end(x->origin, x->length) >= pend && is_whole(b, x))
            continue; /* the whole-flash region */
        uint64_t lo = x->origin > p->start ? x->origin : p->start;
        uint64_t xe = lint_end(x->origin, x->length);
        uint64_t hi = xe < pend ? xe : pend;
        if (lo >= hi || own)
            continue; /* region-vs-region overlaps are reported by lint_overlaps */
        bool fw = b->text_region && strcmp(x->name, b->text_region) == 0;
        rc = lint_add(r, err, b, fw ? "romfs-overlaps-firmware" : "romfs-overrun", ROMFS_LINT_ERROR, name, x->name, lo,
                 hi - lo, "%s: %s (0x%08" PRIx64 "..0x%08" PRIx64 ") overlaps %s%s by %" PRIu64 " bytes at 0x%08" PRIx64,
                 b->name, name, p->start, pend, fw ? "firmware region " : "region ", x->name, hi - lo, lo);
    }
    return rc;
}

int romfs_lint_board(const struct romfs_board *b, struct romfs_lint_report *r, struct romfs_error *err)
{
    return romfs_lint_board_with(b, NULL, r, err);
}

int romfs_lint_board_with(const struct romfs_board *b, const struct romfs_lint_options *opts,
                          struct romfs_lint_report *r, struct romfs_error *err)
{
    static const struct romfs_lint_options defaults = { .fs_floor = ROMFS_LINT_FS_FLOOR_DEFAULT };
    bool map = b->n_areas > 0;
    int rc = ROMFS_OK;
    for (size_t i = 0; !rc && i < b->n_partitions; i++) {
        const struct romfs_partition *p = &b->partitions[i];
        size_t before = r->n;
        rc = lint_partition(b, p, map, r, err);
        for (size_t k = before; !rc && k < r->n; k++)
            rc = lint_set_where(&r->findings[k], err, p->device ? p->device : "internal", p->source, NULL);
    }
    if (map)
        return rc ? rc : lint_map(b, opts ? opts : &defaults, r, err);
    if (!rc)
        rc = lint_overlaps(b, r, err);
    /* regions past the end of the device flash */
    uint64_t fend = lint_end(b->flash_base, b->flash_size);
    for (size_t i = 0; !rc && b->flash_size && i < b->n_flash; i++) {
        const struct romfs_region *x = &b->flash[i];
        uint64_t xe = lint_end(x->origin, x->length);
        if (x->length && x->origin >= b->flash_base && x->origin < fend && xe > fend)
            rc = lint_add(r, err, b, "past-flash-end", ROMFS_LINT_ERROR, x->name, NULL, fend, xe - fend,
                     "%s: region %s (0x%08" PRIx64 "..0x%08" PRIx64 ") runs %" PRIu64
                     " bytes past the end of the %" PRIu64 "-byte device flash at 0x%08" PRIx64,
                     b->name, x->name, x->origin, xe, xe - fend, b->flash_size, fend);
    }
    if (!rc && b->fs_region && b->fs_size == 0)
        rc = lint_add(r, err, b, "fs-no-room", ROMFS_LINT_WARNING, b->fs_region, NULL, b->fs_start, 0,
                 "%s: the writable filesystem region %s has no room left (0 bytes)", b->name, b->fs_region);
    return rc;
}

int romfs_lint_board_from_scripts(const char *name, const char *const *scripts, size_t n_scripts,
                                  struct romfs_board *b, struct romfs_error *err)
{
    memset(b, 0, sizeof *b);
    b->dfu_alt = -1;
    char *first = n_scripts ? strdup(scripts[0]) : NULL;
    const char *dir = first ? dirname(first) : ".";
    const char *search[1] = { dir };
    struct romfs_ld_input in = { .scripts = scripts, .n_scripts = n_scripts, .search_dirs = search, .n_search_dirs = 1 };
    struct romfs_ld_result res;
    int rc = romfs_ld_evaluate(&in, &res, err);
    free(first);
    if (rc) {
        romfs_ld_result_free(&res);
        return rc;
    }
    b->name = strdup(name);
    b->port = strdup("scripts");
    b->flash = calloc(res.n_regions ? res.n_regions : 1, sizeof *b->flash);
    if (!b->name || !b->port || !b->flash) {
        romfs_ld_result_free(&res);
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < res.n_regions; i++) {
        const struct romfs_ld_region *x = &res.regions[i];
        if (x->attrs && (strchr(x->attrs, 'w') || strchr(x->attrs, 'W')))
            continue;
        struct romfs_region *d = &b->flash[b->n_flash++];
        d->name = strdup(x->name);
        d->origin = x->origin;
        d->length = x->length;
        d->attrs = x->attrs && *x->attrs ? strdup(x->attrs) : NULL;
    }
    /* firmware text: FLASH_APP / FLASH_TEXT / FLASH, the first that exists */
    static const char *const text_names[] = { "FLASH_APP", "FLASH_TEXT", "FLASH", "m_text", NULL };
    for (size_t i = 0; text_names[i] && !b->text_region; i++)
        if (romfs_ld_find_region(&res, text_names[i]))
            b->text_region = strdup(text_names[i]);
    for (int idx = 0; idx < 2; idx++) {
        char sn[48], zn[48];
        uint64_t start, size;
        snprintf(sn, sizeof sn, "_micropy_hw_romfs_part%d_start", idx);
        snprintf(zn, sizeof zn, "_micropy_hw_romfs_part%d_size", idx);
        if (romfs_ld_find_symbol(&res, sn, &start) || romfs_ld_find_symbol(&res, zn, &size) || !size)
            continue;
        struct romfs_partition *p = romfs_board_add_partition(b);
        if (!p)
            break;
        p->index = idx;
        p->start = start;
        p->size = size;
        p->mmap = true;
        p->write_block = 4;
        for (size_t i = 0; i < res.n_regions; i++)
            if (res.regions[i].origin == start && res.regions[i].length)
                p->region = strdup(res.regions[i].name);
        p->source = strdup(sn);
    }
    romfs_ld_result_free(&res);
    return ROMFS_OK;
}
