/* layout.c: planning a ROMFS partition in a board's flash map (see plan/layout.h for the
 * rules): where the room comes from, what moves, and why a plan is refused. */
#include "plan/layout_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/range.h"
#include "ld/elf.h"

bool lay_rest_style(enum romfs_layout_style style)
{
    return style == ROMFS_LAYOUT_RP2 || style == ROMFS_LAYOUT_NRF || style == ROMFS_LAYOUT_MIMXRT ||
           style == ROMFS_LAYOUT_SAMD;
}

/* ---- the pieces of a device -------------------------------------------------------- */

static int by_lo(const void *x, const void *y)
{
    const struct piece *a = x, *b = y;
    return a->lo < b->lo ? -1 : a->lo > b->lo;
}

/* The pieces of device di that hold one of `mask`, by address, adjacent ones merged.
 * Returns how many (c->pieces has room for every area plus four). */
size_t lay_runs(struct ctx *c, int di, int mask)
{
    const struct lay_device *d = &c->m->dev[di];
    size_t n = 0;
    uint64_t at = d->base, end = d->base + d->size;
    for (size_t i = 0; i <= c->m->n_areas; i++) {
        const struct lay_area *a = i < c->m->n_areas ? &c->m->areas[i] : NULL;
        if (a && a->dev != di)
            continue;
        uint64_t next = a ? a->start : end;
        if ((mask & P_FREE) && next > at && d->size) {
            uint64_t lo = at < c->min_addr ? c->min_addr : at;
            if (next > lo)
                c->pieces[n++] = (struct piece){ lo, next < end ? next : end, P_FREE };
        }
        if (a && lay_area_end(a) > at)
            at = lay_area_end(a);
    }
    if ((mask & P_ROMFS) && c->romfs0 && c->romfs0->dev == di)
        c->pieces[n++] = (struct piece){ c->romfs0->start, lay_area_end(c->romfs0), P_ROMFS };
    if ((mask & P_TAIL) && c->fw && c->fw->dev == di && c->fw_floor < lay_area_end(c->fw))
        c->pieces[n++] = (struct piece){ c->fw_floor, lay_area_end(c->fw), P_TAIL };
    if ((mask & P_FS) && c->fs && c->fs->dev == di && c->fs->size)
        c->pieces[n++] = (struct piece){ c->fs->start, lay_area_end(c->fs), P_FS };
    /* The current ROMFS, the firmware's tail and the filesystem never lend flash that
       another area of the map claims too (overlapping areas are for lint to report). */
    for (size_t i = 0; i < c->m->n_areas; i++) {
        const struct lay_area *a = &c->m->areas[i];
        if (a->dev != di || !a->size || a == c->fw || a == c->romfs0 || (a == c->fs && (mask & P_FS)))
            continue;
        for (size_t k = 0, had = n; k < had; k++) {
            struct piece *p = &c->pieces[k];
            uint64_t lo = a->start, hi = lay_area_end(a);
            if (hi <= p->lo || lo >= p->hi)
                continue;
            if (lo > p->lo && hi < p->hi)
                c->pieces[n++] = (struct piece){ hi, p->hi, p->kind };
            if (lo > p->lo)
                p->hi = lo;
            else
                p->lo = hi < p->hi ? hi : p->hi;
        }
    }
    qsort(c->pieces, n, sizeof *c->pieces, by_lo);
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        if (c->pieces[i].lo >= c->pieces[i].hi)
            continue;
        if (out && c->pieces[out - 1].hi >= c->pieces[i].lo) {
            if (c->pieces[i].hi > c->pieces[out - 1].hi)
                c->pieces[out - 1].hi = c->pieces[i].hi;
            c->pieces[out - 1].kind |= c->pieces[i].kind;
        } else {
            c->pieces[out++] = c->pieces[i];
        }
    }
    return out;
}

/* The run of `mask` pieces on device di holding [lo, hi) (lo == hi: touching lo). */
static bool run_holding(struct ctx *c, int di, int mask, uint64_t lo, uint64_t hi, struct piece *out)
{
    size_t n = lay_runs(c, di, mask);
    for (size_t i = 0; i < n; i++)
        if (c->pieces[i].lo <= lo && hi <= c->pieces[i].hi) {
            *out = c->pieces[i];
            return true;
        }
    return false;
}

/* ---- aligned boundaries ------------------------------------------------------------- */

static uint64_t floor_aligned(const struct ctx *c, const struct lay_device *d, uint64_t addr, uint64_t align)
{
    for (int guard = 0; guard < 64; guard++) {
        uint64_t block, next = lay_erase_floor(c->b, d, addr, &block);
        if (align > 1)
            next -= next % align;
        if (next == addr)
            break;
        addr = next;
    }
    return addr;
}

static uint64_t ceil_aligned(const struct ctx *c, const struct lay_device *d, uint64_t addr, uint64_t align)
{
    for (int guard = 0; guard < 64; guard++) {
        uint64_t next = lay_erase_ceil(c->b, d, addr);
        if (align > 1 && next % align)
            next += align - next % align;
        if (next == addr)
            break;
        addr = next;
    }
    return addr;
}

/* The start alignment of a ROMFS ending at the top of a run and starting at s on device
 * di: where that is above an esp32 app partition, the app ends there, on a 64K boundary
 * (as in MicroPython's partitions-4MiB-romfs.csv). */
static uint64_t start_align(const struct ctx *c, int di, uint64_t s)
{
    if (c->style == ROMFS_LAYOUT_ESP32 && c->fw && c->fw->dev == di && s > c->fw->start)
        return c->align > 0x10000 ? c->align : 0x10000;
    return c->align;
}

/* ---- placements --------------------------------------------------------------------- */


static void note_short(struct ctx *c, uint64_t by, const char *how)
{
    if (by && (!c->short_by || by <= c->short_by)) {
        c->short_by = by;
        c->short_how = how;
    }
}

/* [s, e) holds only `mask` pieces, and leaves the firmware what it needs. */
static bool fits(struct ctx *c, int di, int mask, uint64_t s, uint64_t e, struct piece *run)
{
    if (s >= e || !run_holding(c, di, mask, s, e, run))
        return false;
    return !(c->fw && c->fw->dev == di && s >= c->fw->start && s < c->fw_floor);
}

/* A ROMFS starting at (or just above) s. */
static bool place_from(struct ctx *c, int di, int mask, uint64_t s, const char *how, struct place *p)
{
    const struct lay_device *d = &c->m->dev[di];
    s = ceil_aligned(c, d, s, c->align);
    uint64_t e = lay_erase_ceil(c->b, d, s + c->size);
    struct piece run;
    if (fits(c, di, mask, s, e, &run)) {
        *p = (struct place){ di, s, e, run };
        return true;
    }
    if (run_holding(c, di, mask, s, s, &run) && e > run.hi)
        note_short(c, e - run.hi, how);
    return false;
}

/* A ROMFS ending at (or just below) e, in the run of `mask` pieces that reaches e. */
static bool place_to(struct ctx *c, int di, int mask, uint64_t e, const char *how, struct place *p)
{
    const struct lay_device *d = &c->m->dev[di];
    uint64_t block;
    e = lay_erase_floor(c->b, d, e, &block);
    if (e < c->size + d->base)
        return false;
    uint64_t s = floor_aligned(c, d, e - c->size, c->align);
    uint64_t a = start_align(c, di, s);
    if (a != c->align)
        s = floor_aligned(c, d, s, a);
    struct piece run;
    if (fits(c, di, mask, s, e, &run)) {
        *p = (struct place){ di, s, e, run };
        return true;
    }
    if (run_holding(c, di, mask, e, e, &run) && run.lo < e) {
        uint64_t lo = ceil_aligned(c, d, run.lo, c->align);
        if (c->fw && c->fw->dev == di && lo < c->fw_floor && c->fw_floor < e && s >= c->fw->start)
            lo = c->fw_floor;
        if (lo > s)
            note_short(c, lo - s, how);
    }
    return false;
}

/* The lowest place in any run of `mask` pieces on device di. */
static bool place_lowest(struct ctx *c, int di, int mask, const char *how, struct place *p)
{
    size_t n = lay_runs(c, di, mask);
    struct piece *found = malloc((n ? n : 1) * sizeof *found);   /* place_from reuses c->pieces */
    bool ok = false;
    if (found)
        memcpy(found, c->pieces, n * sizeof *found);
    for (size_t i = 0; found && i < n && !ok; i++)
        ok = place_from(c, di, mask, found[i].lo, how, p);
    free(found);
    return ok;
}

/* ---- the plan ----------------------------------------------------------------------- */

/* The build planned for: on multi-core boards the default one (its partition 0 is listed
 * first); areas of other builds are only in the way. */
static bool of_core(const struct lay_area *a, const char *core)
{
    return !a->core || !core || strcmp(a->core, core) == 0;
}

static const struct lay_area *first_area(const struct lay_map *m, enum romfs_area_kind kind, int index,
                                         const char *core)
{
    for (size_t i = 0; i < m->n_areas; i++)
        if (m->areas[i].kind == kind && (index < 0 || m->areas[i].romfs_index == index) &&
            of_core(&m->areas[i], core))
            return &m->areas[i];
    return NULL;
}

/* The firmware's region: the one the board's text region names, else the largest on the
 * main flash (stm32's FLASH_TEXT, not its 16K FLASH_START for the vectors; PYBD's
 * FLASH_APP, not FLASH_EXT in QSPI), else the largest. */
static const struct lay_area *pick_firmware(const struct romfs_board *b, const struct lay_map *m, const char *core)
{
    const struct lay_area *best = NULL;
    for (size_t i = 0; i < m->n_areas; i++) {
        const struct lay_area *a = &m->areas[i];
        if (a->kind != ROMFS_AREA_FIRMWARE || !of_core(a, core))
            continue;
        if (b->text_region && strcmp(a->name, b->text_region) == 0)
            return a;
        bool main = m->dev[a->dev].main, best_main = best && m->dev[best->dev].main;
        if (!best || (main && !best_main) || (main == best_main && a->size > best->size))
            best = a;
    }
    return best;
}

static int find_device(const struct lay_map *m, const char *name)
{
    for (size_t i = 0; i < m->n_dev; i++)
        if (strcmp(m->dev[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* The firmware's footprint: measured from an ELF, given, or not known. */
static int measure_firmware(struct ctx *c)
{
    const struct romfs_layout_request *req = c->req;
    struct romfs_layout_plan *plan = c->plan;
    const struct lay_area *fw = c->fw;
    if (req->elf && c->style == ROMFS_LAYOUT_ESP32)
        return romfs_set_error(c->err, ROMFS_ERR_INVAL,
                               "board %s: an esp32 app partition holds the image esptool makes from the ELF; "
                               "give its size (of build/micropython.bin) as the firmware size", c->b->name);
    if (!fw) {
        c->fw_floor = 0;
        return ROMFS_OK;
    }
    const struct lay_device *d = &c->m->dev[fw->dev];
    if (req->elf) {
        struct romfs_elf_info info;
        memset(&info, 0, sizeof info);
        int rc = romfs_elf_read(req->elf, &info, c->err);
        uint64_t end = rc ? 0 : romfs_elf_text_end_in(&info, fw->start, d->base + d->size);
        romfs_elf_info_free(&info);
        if (rc)
            return rc;
        if (end <= fw->start)
            return romfs_set_error(c->err, ROMFS_ERR_INVAL,
                                   "%s: no loaded section lies in board %s's firmware flash from 0x%08" PRIx64,
                                   req->elf, c->b->name, fw->start);
        plan->firmware_used = end - fw->start;
        snprintf(plan->firmware_source, sizeof plan->firmware_source, "%s, loaded sections up to 0x%08" PRIx64,
                 req->elf, end);
        c->measured = true;
    } else if (req->firmware_size_given) {
        plan->firmware_used = req->firmware_size;
        snprintf(plan->firmware_source, sizeof plan->firmware_source, "%s",
                 req->firmware_source ? req->firmware_source : "given size");
        c->measured = true;
    } else {
        plan->firmware_estimated = true;
        snprintf(plan->firmware_source, sizeof plan->firmware_source, "not measured");
    }
    uint64_t need = fw->start + (c->measured ? plan->firmware_used : 0) + (req->headroom ? req->headroom : !c->measured);
    c->fw_floor = lay_erase_ceil(c->b, d, need);
    plan->firmware_needed_end = c->measured ? c->fw_floor : fw->start;
    bool own_region = c->style == ROMFS_LAYOUT_LD || c->style == ROMFS_LAYOUT_ESP32;
    if (c->measured && own_region && !req->fs_size_given && need > lay_area_end(fw)) {
        char a[32];
        return romfs_set_error(c->err, ROMFS_ERR_FBIG,
                               "board %s: the firmware (%s%s%s) needs %" PRIu64 " bytes more than its region %s "
                               "(0x%08" PRIx64 "..0x%08" PRIx64 ", %s)",
                               c->b->name, plan->firmware_source, req->headroom ? ", with the margin" : "", "",
                               need - lay_area_end(fw), fw->name, fw->start, lay_area_end(fw), lay_size(fw->size, a, sizeof a));
    }
    return ROMFS_OK;
}

/* The device order to try: the one asked for, the current ROMFS partition's, the
 * firmware's, then (for ports that place ROMFS anywhere) every other mapped one. */
static int device_order(struct ctx *c, int *order, size_t *n)
{
    *n = 0;
    if (c->req->device) {
        int di = find_device(c->m, c->req->device);
        if (di < 0) {
            char names[256] = "";
            for (size_t i = 0; i < c->m->n_dev; i++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "", c->m->dev[i].name);
            return romfs_set_error(c->err, ROMFS_ERR_INVAL, "board %s has no flash device '%s' (it has: %s)",
                                   c->b->name, c->req->device, names);
        }
        if (c->style != ROMFS_LAYOUT_LD && c->fw && di != c->fw->dev)
            return romfs_set_error(c->err, ROMFS_ERR_INVAL,
                                   "board %s: %s places the ROMFS beside its firmware on device %s, so device %s "
                                   "does not apply", c->b->name, c->b->port, c->m->dev[c->fw->dev].name,
                                   c->req->device);
        order[(*n)++] = di;
        return ROMFS_OK;
    }
    if (c->romfs0)
        order[(*n)++] = c->romfs0->dev;
    else if (c->style != ROMFS_LAYOUT_LD && (c->fs || c->fw))
        order[(*n)++] = c->fs && c->style != ROMFS_LAYOUT_ESP32 && c->style != ROMFS_LAYOUT_SAMD ? c->fs->dev : c->fw->dev;
    else if (c->fw)
        order[(*n)++] = c->fw->dev;
    if (c->style == ROMFS_LAYOUT_LD && !c->romfs0)
        for (size_t i = 0; i < c->m->n_dev; i++)
            if (c->m->dev[i].mmap && (!*n || (int)i != order[0]))
                order[(*n)++] = (int)i;
    if (!*n && c->m->n_dev)
        order[(*n)++] = 0;
    return ROMFS_OK;
}

static bool on_fw(const struct ctx *c, int di)
{
    return c->fw && c->fw->dev == di;
}

/* Keep the filesystem: free space (or the current partition's place), then the
 * firmware's tail, by the port's rule. */
static bool plan_keep_fs(struct ctx *c, int di, struct place *p)
{
    const int nofw = P_FREE | P_ROMFS, all = P_FREE | P_ROMFS | P_TAIL;
    const struct lay_device *d = &c->m->dev[di];
    bool rest = lay_rest_style(c->style);
    if (rest && on_fw(c, di)) {
        /* The port puts ROMFS right above the firmware (which gets all flash below it)
           and, when the filesystem is on this flash, right below the filesystem. */
        if (c->fs && c->fs->dev == di)
            return place_to(c, di, all, c->fs->start, "below the filesystem", p);
        if (c->style == ROMFS_LAYOUT_SAMD && place_from(c, di, nofw, lay_area_end(c->fw), "above the firmware", p))
            return true;
        struct piece run;
        return run_holding(c, di, all, lay_area_end(c->fw), lay_area_end(c->fw), &run) &&
               place_to(c, di, all, run.hi, "from the firmware's tail", p);
    }
    if (!d->mmap && c->style != ROMFS_LAYOUT_ESP32)
        return false;
    if (c->romfs0 && c->romfs0->dev == di &&
        (place_from(c, di, nofw, c->romfs0->start, "where the ROMFS is now", p) ||
         place_to(c, di, nofw, lay_area_end(c->romfs0), "where the ROMFS is now", p)))
        return true;
    if (place_lowest(c, di, nofw, "in free space", p))
        return true;
    /* The tail runs from what the firmware needs up to the next area (a firmware region
       that spans the whole flash, as stm32l152xe.ld's FLASH, ends at the filesystem in it). */
    struct piece run;
    if (on_fw(c, di) && c->fw_floor < lay_area_end(c->fw) &&
        run_holding(c, di, all, c->fw_floor, c->fw_floor, &run) && run.hi > c->fw_floor)
        return place_to(c, di, all, run.hi, "from the firmware's tail", p);
    if (on_fw(c, di))
        note_short(c, c->size, "from the firmware's tail");
    return false;
}

/* Move the filesystem: it takes the top of its run of flash, the ROMFS sits below it. */
static int plan_move_fs(struct ctx *c, int di, struct place *p, uint64_t *fs_start, uint64_t *fs_top)
{
    const struct lay_device *d = &c->m->dev[di];
    const int all = P_FREE | P_ROMFS | P_TAIL | P_FS;
    struct piece run;
    bool found = c->fs && c->fs->dev == di ? run_holding(c, di, all, c->fs->start, lay_area_end(c->fs), &run)
               : on_fw(c, di)              ? run_holding(c, di, all, lay_area_end(c->fw), lay_area_end(c->fw), &run)
                                           : false;
    if (!found) {
        size_t n = lay_runs(c, di, all);
        for (size_t i = 0; i < n; i++)
            if (!found || c->pieces[i].hi - c->pieces[i].lo > run.hi - run.lo) {
                run = c->pieces[i];
                found = true;
            }
    }
    char a[32], s2[32];
    c->said = true;
    if (!found)
        return romfs_set_error(c->err, ROMFS_ERR_FBIG, "board %s: device %s has no room to share out", c->b->name,
                               d->name);
    uint64_t block, top = lay_erase_floor(c->b, d, run.hi, &block);
    bool rest = lay_rest_style(c->style);
    if (!rest && c->fs && c->fs->dev == di && lay_area_end(c->fs) < top) {
        /* The filesystem lies below other usable flash (stm32's small sectors under the
           firmware): it keeps its start and takes its new size there, and the ROMFS goes
           where it would with that filesystem kept. */
        uint64_t end = c->fs->start + c->req->fs_size;
        if (end > run.hi)
            return romfs_set_error(c->err, ROMFS_ERR_FBIG,
                                   "board %s: does not fit: a %s filesystem from 0x%08" PRIx64 " passes the end of "
                                   "the usable flash at 0x%08" PRIx64 " on device %s by %" PRIu64 " bytes",
                                   c->b->name, lay_size(c->req->fs_size, a, sizeof a), c->fs->start, run.hi, d->name,
                                   end - run.hi);
        c->said = false;
        *fs_start = c->fs->start;
        *fs_top = c->req->fs_size ? end : c->fs->start;
        c->fs->size = *fs_top - *fs_start;
        bool ok = plan_keep_fs(c, di, p);
        c->fs->size = c->fs_size0;
        return ok ? ROMFS_OK : ROMFS_ERR_FBIG;
    }
    uint64_t lo = ceil_aligned(c, d, run.lo, c->align);
    if (on_fw(c, di) && lo < c->fw_floor && c->fw_floor <= top && run.lo <= lay_area_end(c->fw))
        lo = c->fw_floor;
    uint64_t fs_lo = top;
    if (c->req->fs_size) {
        if (c->req->fs_size > top - lo)
            return romfs_set_error(c->err, ROMFS_ERR_FBIG,
                                   "board %s: does not fit: a %s filesystem alone is %" PRIu64 " bytes more than "
                                   "the %s from 0x%08" PRIx64 " to 0x%08" PRIx64 " on device %s",
                                   c->b->name, lay_size(c->req->fs_size, a, sizeof a), c->req->fs_size - (top - lo),
                                   lay_size(top - lo, s2, sizeof s2), lo, top, d->name);
        fs_lo = floor_aligned(c, d, top - c->req->fs_size, 1);
    }
    c->said = false;
    *fs_start = fs_lo;
    *fs_top = top;
    if (fs_lo < lo + c->size) {
        uint64_t s = fs_lo >= c->size ? floor_aligned(c, d, fs_lo - c->size, c->align) : 0;
        note_short(c, lo > s ? lo - s : c->size, "below the filesystem");
        return ROMFS_ERR_FBIG;
    }
    if (!place_to(c, di, P_FREE | P_ROMFS | P_TAIL | P_FS, fs_lo, "below the filesystem", p) || p->start < lo) {
        uint64_t s = floor_aligned(c, d, fs_lo - c->size, start_align(c, di, fs_lo - c->size));
        note_short(c, lo > s ? lo - s : 1, "below the filesystem");
        return ROMFS_ERR_FBIG;
    }
    p->run = run;
    return ROMFS_OK;
}

/* The device the filesystem moves on (fs_size_given), or an error saying why it cannot. */
static int move_device(struct ctx *c, int *di)
{
    const struct lay_area *fs = c->fs;
    *di = fs ? fs->dev : c->romfs0 ? c->romfs0->dev : c->fw ? c->fw->dev : 0;
    if (c->req->device) {
        int want = find_device(c->m, c->req->device);
        if (want < 0) {
            int order[LAY_MAX_DEVICES];
            size_t n;
            return device_order(c, order, &n);
        }
        if (fs && fs->dev != want)
            return romfs_set_error(c->err, ROMFS_ERR_INVAL,
                                   "board %s: its filesystem %s is on device %s, not %s: a filesystem size moves it "
                                   "where it is, so it does not apply to a ROMFS on %s",
                                   c->b->name, fs->name, c->m->dev[fs->dev].name, c->req->device, c->req->device);
        *di = want;
    } else if (fs && !c->m->dev[fs->dev].mmap && c->style != ROMFS_LAYOUT_ESP32) {
        *di = fs->dev;
    } else if (c->romfs0 && fs && c->romfs0->dev != fs->dev) {
        return romfs_set_error(c->err, ROMFS_ERR_INVAL,
                               "board %s keeps its ROMFS in %s flash at 0x%08" PRIx64 " and its filesystem on %s: "
                               "the filesystem does not change for a ROMFS there, so a filesystem size does not "
                               "apply (name device %s to plan the ROMFS beside the filesystem)",
                               c->b->name, c->m->dev[c->romfs0->dev].name, c->romfs0->start,
                               c->m->dev[fs->dev].name, c->m->dev[fs->dev].name);
    } else if (c->romfs0 && !fs && c->fw && c->romfs0->dev != c->fw->dev) {
        return romfs_set_error(c->err, ROMFS_ERR_INVAL,
                               "board %s keeps its ROMFS in %s flash at 0x%08" PRIx64 ": the %s flash layout (and "
                               "its filesystem) does not change, so a filesystem size does not apply",
                               c->b->name, c->m->dev[c->romfs0->dev].name, c->romfs0->start,
                               c->m->dev[c->fw->dev].name);
    }
    const struct lay_device *d = &c->m->dev[*di];
    if (!d->mmap && c->style != ROMFS_LAYOUT_ESP32)
        return romfs_set_error(c->err, ROMFS_ERR_INVAL,
                               "board %s: its filesystem is on device %s, which is not memory-mapped: a ROMFS "
                               "cannot take its room, so a filesystem size does not apply",
                               c->b->name, d->name);
    bool rest = lay_rest_style(c->style);
    if (rest && c->fw && c->fw->dev != *di)
        return romfs_set_error(c->err, ROMFS_ERR_INVAL,
                               "board %s: %s puts ROMFS between the firmware and the filesystem, which are on "
                               "different devices here (%s, %s)",
                               c->b->name, c->b->port, c->m->dev[c->fw->dev].name, d->name);
    return ROMFS_OK;
}

/* One attempt with c->size: ROMFS_OK with *p, ROMFS_ERR_FBIG (c->short_by says by how
 * much) or another error (already in c->err). */
int lay_try_place(struct ctx *c, const int *order, size_t n, struct place *p, uint64_t *fs_start,
                  uint64_t *fs_top)
{
    c->short_by = 0;
    c->short_how = NULL;
    c->said = false;
    if (c->req->fs_size_given) {
        int di, rc = move_device(c, &di);
        return rc ? rc : plan_move_fs(c, di, p, fs_start, fs_top);
    }
    for (size_t i = 0; i < n; i++)
        if (plan_keep_fs(c, order[i], p))
            return ROMFS_OK;
    return ROMFS_ERR_FBIG;
}

int romfs_layout_plan(const struct romfs_board *b, const struct romfs_layout_request *req,
                      struct romfs_layout_plan *plan, struct romfs_error *err)
{
    memset(plan, 0, sizeof *plan);
    plan->board = b;
    plan->style = lay_style(b);
    if (!req->romfs_size)
        return romfs_set_error(err, ROMFS_ERR_INVAL, "ROMFS size must be more than 0");
    if (req->align & (req->align - 1))
        return romfs_set_error(err, ROMFS_ERR_INVAL, "alignment %u is not a power of two", req->align);
    /* Every sum below stays far from wrapping when each term fits the address space. */
    if (!romfs_range_fits_bits(0, req->romfs_size, ROMFS_ADDRESS_BITS) ||
        !romfs_range_fits_bits(0, req->headroom, ROMFS_ADDRESS_BITS) ||
        (req->fs_size_given && !romfs_range_fits_bits(0, req->fs_size, ROMFS_ADDRESS_BITS)) ||
        (req->firmware_size_given && !romfs_range_fits_bits(0, req->firmware_size, ROMFS_ADDRESS_BITS)))
        return romfs_set_error(err, ROMFS_ERR_RANGE, "board %s: a size passes the %d-bit address space", b->name,
                               ROMFS_ADDRESS_BITS);
    struct lay_map m;
    int rc = lay_map_build(b, req, &m, err);
    if (rc)
        return rc;
    struct ctx c = { .b = b, .req = req, .m = &m, .plan = plan, .err = err, .style = plan->style,
                     .size = req->romfs_size, .align = req->align };
    if (c.style == ROMFS_LAYOUT_SAMD) {
        /* MICROPY_HW_CODESIZE is a number of K, and so (for a whole-K filesystem start)
           is MICROPY_HW_ROMFS_BYTES */
        c.align = c.align < 1024 ? 1024 : c.align;
        c.size = (c.size + 1023) / 1024 * 1024;
    }
    if (c.style == ROMFS_LAYOUT_ESP32)
        c.min_addr = 0x9000;
    const char *core = b->n_partitions ? b->partitions[0].core : NULL;
    plan->core = core;
    c.fw = pick_firmware(b, &m, core);
    c.fs = (struct lay_area *)first_area(&m, ROMFS_AREA_FS, -1, core);
    c.fs_size0 = c.fs ? c.fs->size : 0;
    c.romfs0 = first_area(&m, ROMFS_AREA_ROMFS, 0, core);
    c.pieces = calloc(m.n_areas * 2 + 8, sizeof *c.pieces);
    int order[LAY_MAX_DEVICES];
    size_t n = 0;
    struct place p;
    uint64_t fs_start = 0, fs_top = 0;
    if (!c.pieces)
        rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    if (!rc)
        rc = measure_firmware(&c);
    if (!rc)
        rc = device_order(&c, order, &n);
    if (!rc) {
        rc = lay_try_place(&c, order, n, &p, &fs_start, &fs_top);
        if (rc == ROMFS_ERR_FBIG && !c.said)
            rc = lay_no_room(&c, order, n);
    }
    if (!rc)
        rc = lay_fill_plan(&c, &p, fs_start, fs_top);
    free(c.pieces);
    lay_map_free(&m);
    if (rc)
        romfs_layout_plan_free(plan);
    return rc;
}

void romfs_layout_plan_free(struct romfs_layout_plan *plan)
{
    free(plan->areas);
    plan->areas = NULL;
    plan->n_areas = 0;
}
