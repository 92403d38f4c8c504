/* layout_result.c: what a placement of the ROMFS means: the plan filled in (every area
 * of the device after it, what changed, where the room came from), or, when nothing
 * fits, the refusal that says what is where and what would make room (plan/layout.h). */
#include "plan/layout_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_area_start(const void *x, const void *y)
{
    const struct romfs_layout_area *a = x, *b = y;
    uint64_t sa = a->size ? a->start : a->old_start, sb = b->size ? b->start : b->old_start;
    return sa < sb ? -1 : sa > sb;
}

static enum romfs_layout_change change_of(uint64_t start, uint64_t size, uint64_t old_start, uint64_t old_size)
{
    if (!old_size)
        return size ? ROMFS_LAYOUT_NEW : ROMFS_LAYOUT_SAME;
    if (!size)
        return ROMFS_LAYOUT_REMOVED;
    if (start != old_start)
        return ROMFS_LAYOUT_MOVED;
    return size != old_size ? ROMFS_LAYOUT_RESIZED : ROMFS_LAYOUT_SAME;
}

/* The planned device's areas after the plan. */
static int list_areas(struct ctx *c, int di)
{
    struct romfs_layout_plan *plan = c->plan;
    plan->areas = calloc(c->m->n_areas + 2, sizeof *plan->areas);
    if (!plan->areas)
        return romfs_set_error(c->err, ROMFS_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < c->m->n_areas; i++) {
        const struct lay_area *a = &c->m->areas[i];
        if (a->dev != di || a == c->romfs0)
            continue;
        struct romfs_layout_area *o = &plan->areas[plan->n_areas++];
        *o = (struct romfs_layout_area){ .kind = a->kind, .name = a->name, .start = a->start, .size = a->size,
                                         .old_start = a->start, .old_size = a->size, .esp32_row = a->esp32_row,
                                         .esp32_type = a->esp32_type, .esp32_subtype = a->esp32_subtype,
                                         .esp32_flags = a->esp32_flags };
        if (a == c->fw) {
            o->size = plan->firmware.size;
        } else if (a == c->fs) {
            o->start = plan->fs.size ? plan->fs.start : a->start;
            o->size = plan->fs.size;
        }
        o->change = change_of(o->start, o->size, o->old_start, o->old_size);
    }
    if (!c->fs && plan->fs.size) {
        struct romfs_layout_area *o = &plan->areas[plan->n_areas++];
        *o = (struct romfs_layout_area){ .kind = ROMFS_AREA_FS, .name = plan->fs.name, .start = plan->fs.start,
                                         .size = plan->fs.size, .change = ROMFS_LAYOUT_NEW,
                                         .esp32_row = c->style == ROMFS_LAYOUT_ESP32, .esp32_type = 1,
                                         .esp32_subtype = 0x81 };
    }
    struct romfs_layout_area *o = &plan->areas[plan->n_areas++];
    bool here = c->romfs0 && c->romfs0->dev == di;
    *o = (struct romfs_layout_area){ .kind = ROMFS_AREA_ROMFS, .name = plan->romfs.name, .start = plan->romfs.start,
                                     .size = plan->romfs.size, .old_start = here ? c->romfs0->start : 0,
                                     .old_size = here ? c->romfs0->size : 0,
                                     .esp32_row = c->style == ROMFS_LAYOUT_ESP32, .esp32_type = ROMFS_ESP32_TYPE_DATA,
                                     .esp32_subtype = here && c->romfs0->esp32_row ? c->romfs0->esp32_subtype
                                                                                  : ROMFS_ESP32_SUBTYPE_ROMFS,
                                     .esp32_flags = here ? c->romfs0->esp32_flags : 0 };
    o->change = change_of(o->start, o->size, o->old_start, o->old_size);
    qsort(plan->areas, plan->n_areas, sizeof *plan->areas, by_area_start);
    return ROMFS_OK;
}

static const char *kind_words(enum romfs_area_kind kind)
{
    switch (kind) {
    case ROMFS_AREA_BOOTLOADER: return "the bootloader ";
    case ROMFS_AREA_FIRMWARE: return "the firmware ";
    case ROMFS_AREA_ROMFS: return "the ROMFS partition ";
    case ROMFS_AREA_FS: return "the filesystem ";
    default: return "";
    }
}

/* Fill the plan from a placement. */
int lay_fill_plan(struct ctx *c, const struct place *p, uint64_t fs_start, uint64_t fs_top)
{
    struct romfs_layout_plan *plan = c->plan;
    const struct lay_device *d = &c->m->dev[p->dev];
    bool moving = c->req->fs_size_given;
    plan->device = d->name;
    plan->device_base = d->base;
    plan->device_size = d->size;
    plan->device_mmap = d->mmap;
    plan->flash_start = p->run.lo;
    plan->flash_end = p->run.hi;
    snprintf(plan->span_end_source, sizeof plan->span_end_source, "the end of device %s", d->name);
    for (size_t i = 0; i < c->m->n_areas; i++) {
        const struct lay_area *a = &c->m->areas[i];
        if (a->dev == p->dev && a->start == p->run.hi && a != c->romfs0)
            snprintf(plan->span_end_source, sizeof plan->span_end_source, "%s%s", kind_words(a->kind), a->name);
    }
    plan->romfs.name = c->style == ROMFS_LAYOUT_ESP32 ? "romfs" : "FLASH_ROMFS";
    plan->romfs.start = p->start;
    plan->romfs.size = p->end - p->start;
    plan->romfs_erase_block = lay_erase_at(c->b, d, p->start);
    if (c->romfs0)
        plan->romfs_before = (struct romfs_layout_region){ c->romfs0->name, c->romfs0->start, c->romfs0->size };
    const struct lay_area *fw = c->fw;
    plan->firmware_on_device = fw && fw->dev == p->dev;
    plan->romfs_external = fw && fw->dev != p->dev;
    if (fw) {
        uint64_t end = lay_area_end(fw);
        bool rest = lay_rest_style(c->style);
        bool above = plan->firmware_on_device && p->start >= fw->start;
        if (above && (rest || (moving && p->run.lo <= end && end <= p->run.hi) ||
                      (p->start < end && p->end > fw->start)))
            end = p->start;
        plan->firmware = (struct romfs_layout_region){ fw->name, fw->start, end - fw->start };
        plan->firmware_before = (struct romfs_layout_region){ fw->name, fw->start, fw->size };
        if (c->measured)
            plan->firmware_free = end > c->fw_floor ? end - c->fw_floor : 0;
    }
    const struct lay_area *fs = c->fs;
    if (fs) {
        plan->fs_before = (struct romfs_layout_region){ fs->name, fs->start, fs->size };
        plan->fs = plan->fs_before;
        plan->fs_blockdev = fs->blockdev;
    }
    if (moving) {
        plan->fs = (struct romfs_layout_region){ fs ? fs->name : "FLASH_FS", fs_top > fs_start ? fs_start : 0,
                                                 fs_top - fs_start };
        if (c->style == ROMFS_LAYOUT_ESP32 && !fs)
            plan->fs.name = "vfs";
        plan->fs_moved = fs ? plan->fs.start != fs->start || plan->fs.size != fs->size : plan->fs.size > 0;
    }
    if (plan->fs.size) {
        const struct lay_device *fd = fs ? &c->m->dev[fs->dev] : d;
        plan->fs_erase_block = lay_erase_at(c->b, fd, plan->fs.start);
        /* Its MEMORY region: by its name, else the region over the range it has now. */
        const char *region = c->b->n_flash ? NULL : plan->fs.name;
        for (size_t i = 0; i < c->b->n_flash; i++) {
            const struct romfs_region *r = &c->b->flash[i];
            if (r->name && (strcmp(r->name, plan->fs.name) == 0 ||
                            (fs && r->origin == fs->start && r->length == fs->size && !region)))
                region = r->name;
        }
        if (fd->mmap && region && lay_ld_name(region, NULL) && strcmp(region, "FLASH_ROMFS") != 0 &&
            (!fw || strcmp(region, fw->name) != 0))
            plan->fs_region = region;
    }
    if (fs && moving && plan->romfs.start < lay_area_end(fs) && p->end > fs->start)
        plan->from = ROMFS_LAYOUT_FROM_FS;
    else if (fw && plan->firmware_on_device && p->start < lay_area_end(fw) && p->end > fw->start)
        plan->from = ROMFS_LAYOUT_FROM_FIRMWARE;
    else if (c->romfs0 && c->romfs0->dev == p->dev && p->start < lay_area_end(c->romfs0) && p->end > c->romfs0->start)
        plan->from = ROMFS_LAYOUT_FROM_CURRENT;
    else
        plan->from = ROMFS_LAYOUT_FROM_FREE;
    return list_areas(c, p->dev);
}

/* ---- no room ---- */

static void describe_free(struct ctx *c, int di, char *out, size_t size)
{
    char a[32];
    size_t n = lay_runs(c, di, P_FREE), used = 0;
    out[0] = 0;
    for (size_t i = 0; i < n && used + 64 < size; i++)
        used += (size_t)snprintf(out + used, size - used, "%s0x%08" PRIx64 "..0x%08" PRIx64 " (%s)", i ? ", " : "",
                                 c->pieces[i].lo, c->pieces[i].hi,
                                 lay_size(c->pieces[i].hi - c->pieces[i].lo, a, sizeof a));
    if (!n)
        snprintf(out, size, "none");
}

/* No room: say where, how much is missing, what is free, and what would make room. */
int lay_no_room(struct ctx *c, const int *order, size_t n)
{
    const struct lay_map *m = c->m;
    int di = n ? order[0] : 0;
    const struct lay_device *d = &m->dev[di];
    uint64_t short_by = c->short_by, want = c->size;
    const char *how = c->short_how;
    /* The largest ROMFS the same rules place. */
    uint64_t lo = 0, hi = want - 1;
    struct place p;
    uint64_t fs_start, fs_top;
    struct romfs_error saved = *c->err;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo + 1) / 2;
        c->size = mid;
        if (lay_try_place(c, order, n, &p, &fs_start, &fs_top) == ROMFS_OK)
            lo = mid;
        else
            hi = mid - 1;
    }
    uint64_t best = 0;
    if (lo) {
        c->size = lo;
        if (lay_try_place(c, order, n, &p, &fs_start, &fs_top) == ROMFS_OK)
            best = p.end - p.start;
    }
    *c->err = saved;
    c->size = want;
    char a[32], b2[32], free_text[512], fw_text[400] = "", fs_text[300] = "", other[200] = "";
    describe_free(c, di, free_text, sizeof free_text);
    if (c->fw && c->fw->dev == di)
        snprintf(fw_text, sizeof fw_text, "; the firmware %s (0x%08" PRIx64 "..0x%08" PRIx64 ")%s", c->fw->name,
                 c->fw->start, lay_area_end(c->fw), c->measured ? " needs up to 0x" : ", size not measured");
    if (c->fw && c->fw->dev == di && c->measured)
        snprintf(fw_text + strlen(fw_text), sizeof fw_text - strlen(fw_text), "%08" PRIx64 " (%s)", c->fw_floor,
                 c->plan->firmware_source);
    bool named = c->fs && strcmp(c->fs->name, "filesystem") != 0;
    if (c->fs && !c->req->fs_size_given && (m->dev[c->fs->dev].mmap || c->style == ROMFS_LAYOUT_ESP32))
        snprintf(fs_text, sizeof fs_text, "; a filesystem size (moving the filesystem%s%s at 0x%08" PRIx64
                 ", %s, which must then be reformatted: its files are lost)",
                 named ? " " : "", named ? c->fs->name : "", c->fs->start, lay_size(c->fs->size, b2, sizeof b2));
    char way[300] = "";
    for (size_t i = 0; lay_rest_style(c->style) && c->fs && c->fs->dev == di && i < m->n_areas; i++) {
        const struct lay_area *x = &m->areas[i];
        uint64_t below = c->fs->start > want ? c->fs->start - want : 0;
        if (x->dev == di && x != c->fw && x != c->romfs0 && x != c->fs && x->size && x->start < c->fs->start &&
            lay_area_end(x) > below) {
            snprintf(way, sizeof way, "; just below the filesystem, where %s puts the ROMFS, lies %s%s "
                     "(0x%08" PRIx64 "..0x%08" PRIx64 ")", c->b->port, kind_words(x->kind), x->name, x->start,
                     lay_area_end(x));
            break;
        }
    }
    for (size_t i = 0; i < m->n_dev && !c->req->device; i++) {
        if ((int)i == di || !m->dev[i].mmap || c->style != ROMFS_LAYOUT_LD)
            continue;
        uint64_t total = 0;
        size_t k = lay_runs(c, (int)i, P_FREE);
        for (size_t j = 0; j < k; j++)
            total += c->pieces[j].hi - c->pieces[j].lo;
        if (total)
            snprintf(other + strlen(other), sizeof other - strlen(other), "; device %s (%s free)", m->dev[i].name,
                     lay_size(total, b2, sizeof b2));
    }
    if (!d->mmap && c->style != ROMFS_LAYOUT_ESP32)
        snprintf(way + strlen(way), sizeof way - strlen(way), "; device %s is not memory-mapped, and a ROMFS "
                 "must be (MicroPython reads its files in place)", d->name);
    char best_text[64] = "";
    if (best)
        snprintf(best_text, sizeof best_text, " A ROMFS of at most %s fits.", lay_size(best, b2, sizeof b2));
    char remedies[700];
    snprintf(remedies, sizeof remedies, "%s%s%s", c->measured ? "; a smaller firmware" : "", fs_text, other);
    return romfs_set_error(c->err, ROMFS_ERR_FBIG,
                           "board %s: does not fit by %" PRIu64 " bytes: no room for a %s ROMFS%s%s on device %s "
                           "(0x%08" PRIx64 "..0x%08" PRIx64 "); free: %s%s%s.%s %s%s",
                           c->b->name, short_by ? short_by : want, lay_size(want, a, sizeof a), how ? " " : "",
                           how ? how : "", d->name, d->base, d->base + d->size, free_text, fw_text, way, best_text,
                           *remedies ? "More room would come from: " : "Nothing else on this board gives room.",
                           *remedies ? remedies + 2 : "");
}
