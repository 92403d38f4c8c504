/* boards/lint_map.c: lint on a board's flash map (boards/lint.h): overlapping areas, the
 * filesystem's room, areas past their device, ROMFS that must be memory-mapped, and values
 * recorded from two sources that differ. */
#define _GNU_SOURCE
#include "boards/lint_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct ctx {
    const struct romfs_board *b;
    const struct romfs_lint_options *o;
    struct romfs_lint_report *r;
    struct romfs_error *err;
};

/* Ports whose ROMFS is mapped into memory at run time, so the flash it lies on need not be
 * mapped at a fixed address: esp32 (ports/esp32/esp32_partition.c maps the partition with
 * esp_partition_mmap when vfs.rom_ioctl hands it out). */
static bool maps_at_run_time(const char *port)
{
    return port && strcmp(port, "esp32") == 0;
}

static const char *kind_word(enum romfs_area_kind k)
{
    switch (k) {
    case ROMFS_AREA_BOOTLOADER: return "bootloader";
    case ROMFS_AREA_FIRMWARE: return "firmware";
    case ROMFS_AREA_ROMFS: return "ROMFS";
    case ROMFS_AREA_FS: return "filesystem";
    default: return "reserved area";
    }
}

/* "ROMFS part0 (FLASH_ROMFS) [M55_HP]", "filesystem vfs (spibdev)", "bootloader mboot". */
static const char *label(const struct romfs_flash_area *a, char *buf, size_t n)
{
    char core[48] = "";
    /* a name that starts with the kind's word says it once: "bootloader (nano_bootloader)" */
    const char *name = a->name, *word = kind_word(a->kind);
    if (name && strncasecmp(name, word, strlen(word)) == 0) {
        name += strlen(word);
        while (*name == ' ')
            name++;
        if (!*name)
            name = NULL;
    }
    if (a->core)
        snprintf(core, sizeof core, " [%s]", a->core);
    if (a->kind == ROMFS_AREA_ROMFS)
        snprintf(buf, n, "ROMFS part%d%s%s%s%s", a->romfs_index, a->name ? " (" : "", a->name ? a->name : "",
                 a->name ? ")" : "", core);
    else if (a->kind == ROMFS_AREA_FS)
        snprintf(buf, n, "filesystem%s%s%s%s%s%s", name ? " " : "", name ? name : "", a->blockdev ? " (" : "",
                 a->blockdev ? a->blockdev : "", a->blockdev ? ")" : "", core);
    else
        snprintf(buf, n, "%s%s%s%s", kind_word(a->kind), name ? " " : "", name ? name : "", core);
    return buf;
}

/* "262144 bytes (256 KiB)", "1000 bytes". */
static const char *bytes(uint64_t v, char *buf, size_t n)
{
    if (v >= 1024 && v % (1024 * 1024) == 0)
        snprintf(buf, n, "%" PRIu64 " bytes (%" PRIu64 " MiB)", v, v >> 20);
    else if (v >= 1024 && v % 1024 == 0)
        snprintf(buf, n, "%" PRIu64 " bytes (%" PRIu64 " KiB)", v, v >> 10);
    else
        snprintf(buf, n, "%" PRIu64 " byte%s", v, v == 1 ? "" : "s");
    return buf;
}

static const char *src(const char *s)
{
    return s ? s : "source not recorded";
}

static bool same_range(const struct romfs_flash_area *a, const struct romfs_flash_area *b)
{
    return a->start == b->start && a->size == b->size;
}

static bool contains(const struct romfs_flash_area *outer, const struct romfs_flash_area *inner)
{
    return outer->start <= inner->start && lint_end(inner->start, inner->size) <= lint_end(outer->start, outer->size);
}

static bool str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Two records of one thing: the same ROMFS partition (index and core), or the filesystem of
 * the same block device. */
static bool same_thing(const struct romfs_flash_area *a, const struct romfs_flash_area *b)
{
    if (a->kind != b->kind)
        return false;
    if (a->kind == ROMFS_AREA_ROMFS)
        return a->romfs_index == b->romfs_index && str_eq(a->core, b->core);
    if (a->kind == ROMFS_AREA_FS)
        return a->blockdev && b->blockdev && strcmp(a->blockdev, b->blockdev) == 0 && str_eq(a->core, b->core);
    return false;
}

static int disagree(struct ctx *c, const char *device, const char *what, const char *name_a, uint64_t start_a,
                    uint64_t size_a, const char *src_a, const char *name_b, uint64_t start_b, uint64_t size_b,
                    const char *src_b)
{
    char sa[64], sb[64];
    int rc = lint_add(c->r, c->err, c->b, "sources-disagree", ROMFS_LINT_ERROR, name_a, name_b, start_a,
                      size_a > size_b ? size_a - size_b : size_b - size_a,
                      "%s: %s is recorded twice and the two differ: 0x%08" PRIx64 "..0x%08" PRIx64 ", %s (%s) "
                      "against 0x%08" PRIx64 "..0x%08" PRIx64 ", %s (%s); the firmware uses one, the other part "
                      "of the build assumes the other",
                      c->b->name, what, start_a, lint_end(start_a, size_a), bytes(size_a, sa, sizeof sa), src(src_a),
                      start_b, lint_end(start_b, size_b), bytes(size_b, sb, sizeof sb), src(src_b));
    return rc ? rc : lint_set_where(&c->r->findings[c->r->n - 1], c->err, device, src_a, src_b);
}

/* The check id and the consequence for two overlapping areas of these kinds. */
static const char *overlap_check(enum romfs_area_kind x, enum romfs_area_kind y, const char **why)
{
#define PAIR(a, b) ((x == (a) && y == (b)) || (x == (b) && y == (a)))
    if (PAIR(ROMFS_AREA_ROMFS, ROMFS_AREA_FS)) {
        *why = "writing the ROMFS corrupts the filesystem, and formatting the filesystem erases the ROMFS";
        return "romfs-on-fs";
    }
    if (PAIR(ROMFS_AREA_FIRMWARE, ROMFS_AREA_BOOTLOADER)) {
        *why = "flashing the firmware overwrites the bootloader";
        return "firmware-on-bootloader";
    }
    if (PAIR(ROMFS_AREA_ROMFS, ROMFS_AREA_FIRMWARE)) {
        *why = "writing the ROMFS overwrites firmware code, and a firmware that fills its region overwrites the ROMFS";
        return "romfs-overlaps-firmware";
    }
    if (PAIR(ROMFS_AREA_FS, ROMFS_AREA_FIRMWARE)) {
        *why = "the filesystem's writes overwrite firmware code";
        return "fs-overlaps-firmware";
    }
    if (PAIR(ROMFS_AREA_ROMFS, ROMFS_AREA_BOOTLOADER)) {
        *why = "writing the ROMFS erases the bootloader";
        return "romfs-on-bootloader";
    }
    if (PAIR(ROMFS_AREA_FS, ROMFS_AREA_BOOTLOADER)) {
        *why = "formatting or writing the filesystem erases the bootloader";
        return "fs-on-bootloader";
    }
#undef PAIR
    *why = "writing either overwrites the other";
    return "overlap";
}

static int check_pair(struct ctx *c, const struct romfs_flash_area *x, const struct romfs_flash_area *y)
{
    uint64_t xe = lint_end(x->start, x->size), ye = lint_end(y->start, y->size);
    uint64_t lo = x->start > y->start ? x->start : y->start, hi = xe < ye ? xe : ye;
    if (!x->size || !y->size || lo >= hi)
        return ROMFS_OK;
    /* Two cores' builds may name one range as the same kind of thing: both read one ROMFS. */
    if (x->core && y->core && strcmp(x->core, y->core) != 0 && x->kind == y->kind && same_range(x, y))
        return ROMFS_OK;
    /* A bootloader or reserved area inside another of its kind is a part of it (the nRF MBR
       inside the SoftDevice's range). */
    if (x->kind == y->kind && (x->kind == ROMFS_AREA_BOOTLOADER || x->kind == ROMFS_AREA_RESERVED) &&
        (contains(x, y) || contains(y, x)))
        return ROMFS_OK;
    char la[160], lb[160], n[64], sz[64];
    if (same_thing(x, y))
        return disagree(c, x->device, label(x, la, sizeof la), x->name ? x->name : kind_word(x->kind), x->start,
                        x->size, x->source, y->name ? y->name : kind_word(y->kind), y->start, y->size, y->source);
    const struct romfs_flash_area *a = x->start <= y->start ? x : y, *b = a == x ? y : x;
    const char *why;
    const char *check = overlap_check(a->kind, b->kind, &why);
    int rc;
    if (a->kind == ROMFS_AREA_FIRMWARE && b->start > a->start) {
        /* The firmware area is the region it is linked into, its largest size: what lies in
           its tail is overwritten only by a firmware that grows that far, and the link does
           not stop it. */
        rc = lint_add(c->r, c->err, c->b, check, ROMFS_LINT_WARNING, a->name ? a->name : kind_word(a->kind),
                      b->name ? b->name : kind_word(b->kind), lo, hi - lo,
                      "%s: %s 0x%08" PRIx64 "..0x%08" PRIx64 " (%s) reaches %s into %s 0x%08" PRIx64 "..0x%08" PRIx64
                      " (%s) on %s: a firmware image larger than %s overwrites it, and the link does not stop one",
                      c->b->name, label(a, la, sizeof la), a->start, lint_end(a->start, a->size), src(a->source),
                      bytes(hi - lo, n, sizeof n), label(b, lb, sizeof lb), b->start, lint_end(b->start, b->size),
                      src(b->source), a->device, bytes(b->start - a->start, sz, sizeof sz));
    } else {
        rc = lint_add(c->r, c->err, c->b, check, ROMFS_LINT_ERROR, a->name ? a->name : kind_word(a->kind),
                      b->name ? b->name : kind_word(b->kind), lo, hi - lo,
                      "%s: %s 0x%08" PRIx64 "..0x%08" PRIx64 " (%s) and %s 0x%08" PRIx64 "..0x%08" PRIx64
                      " (%s) overlap by %s at 0x%08" PRIx64 " on %s: %s",
                      c->b->name, label(a, la, sizeof la), a->start, lint_end(a->start, a->size), src(a->source),
                      label(b, lb, sizeof lb), b->start, lint_end(b->start, b->size), src(b->source),
                      bytes(hi - lo, n, sizeof n), lo, a->device, why);
    }
    return rc ? rc : lint_set_where(&c->r->findings[c->r->n - 1], c->err, a->device, a->source, b->source);
}

/* What takes the room of a filesystem area at `at` on its device: the area ending there
 * or covering it, preferring a ROMFS. */
static const struct romfs_flash_area *neighbour(const struct romfs_board *b, const struct romfs_flash_area *fs)
{
    const struct romfs_flash_area *best = NULL;
    for (size_t i = 0; i < b->n_areas; i++) {
        const struct romfs_flash_area *a = &b->areas[i];
        if (a == fs || !a->size || strcmp(a->device, fs->device) != 0)
            continue;
        uint64_t e = lint_end(a->start, a->size);
        if (a->start <= fs->start && e >= fs->start && (!best || a->kind == ROMFS_AREA_ROMFS))
            best = a;
    }
    return best;
}

static int check_fs_room(struct ctx *c, const struct romfs_flash_area *a)
{
    char la[160], lb[160], n[64], f[64];
    int rc = ROMFS_OK;
    if (a->size == 0) {
        const struct romfs_flash_area *by = neighbour(c->b, a);
        char took[400] = "";
        if (by)
            snprintf(took, sizeof took, "; %s 0x%08" PRIx64 "..0x%08" PRIx64 " (%s) takes the room before it",
                     label(by, lb, sizeof lb), by->start, lint_end(by->start, by->size), src(by->source));
        rc = lint_add(c->r, c->err, c->b, "fs-no-room", ROMFS_LINT_ERROR, a->name ? a->name : "filesystem",
                      by && by->name ? by->name : NULL, a->start, 0,
                      "%s: %s at 0x%08" PRIx64 " on %s has no room: 0 bytes (%s)%s; the firmware finds no "
                      "filesystem to mount and cannot create one",
                      c->b->name, label(a, la, sizeof la), a->start, a->device, src(a->source), took);
        if (!rc)
            rc = lint_set_where(&c->r->findings[c->r->n - 1], c->err, a->device, a->source, by ? by->source : NULL);
    } else if (c->o->fs_floor && a->size < c->o->fs_floor) {
        rc = lint_add(c->r, c->err, c->b, "fs-small", ROMFS_LINT_WARNING, a->name ? a->name : "filesystem", NULL,
                      a->start, a->size,
                      "%s: %s 0x%08" PRIx64 "..0x%08" PRIx64 " on %s is %s (%s), below the %s floor",
                      c->b->name, label(a, la, sizeof la), a->start, lint_end(a->start, a->size), a->device,
                      bytes(a->size, n, sizeof n), src(a->source), bytes(c->o->fs_floor, f, sizeof f));
        if (!rc)
            rc = lint_set_where(&c->r->findings[c->r->n - 1], c->err, a->device, a->source, NULL);
    }
    return rc;
}

static int check_on_device(struct ctx *c, const struct romfs_flash_area *a)
{
    const struct romfs_flash_device *d = romfs_board_device(c->b, a->device);
    if (!d || !d->size || !a->size)
        return ROMFS_OK;
    uint64_t lo = d->mmap ? d->base : 0, hi = lint_end(lo, d->size), e = lint_end(a->start, a->size);
    if (a->start >= lo && e <= hi)
        return ROMFS_OK;
    char la[160], n[64], ds[64], fit[64];
    bool before = a->start < lo;
    uint64_t out = before ? lo - a->start : e - hi;
    if (!before && a->kind == ROMFS_AREA_FIRMWARE && a->start < hi) {
        /* only a firmware that grows past the end reaches it: a warning, as in check_pair */
        int rc = lint_add(c->r, c->err, c->b, "past-device-end", ROMFS_LINT_WARNING, a->name ? a->name : "firmware",
                          d->name, hi, out,
                          "%s: %s 0x%08" PRIx64 "..0x%08" PRIx64 " (%s) runs %s past the end of device %s, which is "
                          "0x%08" PRIx64 "..0x%08" PRIx64 ", %s (%s): a firmware image larger than %s does not fit, "
                          "and the link does not stop one",
                          c->b->name, label(a, la, sizeof la), a->start, e, src(a->source), bytes(out, n, sizeof n),
                          d->name, lo, hi, bytes(d->size, ds, sizeof ds), src(d->source),
                          bytes(hi - a->start, fit, sizeof fit));
        return rc ? rc : lint_set_where(&c->r->findings[c->r->n - 1], c->err, d->name, a->source, d->source);
    }
    int rc = lint_add(c->r, c->err, c->b, "past-device-end", ROMFS_LINT_ERROR, a->name ? a->name : kind_word(a->kind),
                      d->name, before ? a->start : hi, out,
                      "%s: %s 0x%08" PRIx64 "..0x%08" PRIx64 " (%s) %s %s %s device %s, which is 0x%08" PRIx64
                      "..0x%08" PRIx64 ", %s (%s)",
                      c->b->name, label(a, la, sizeof la), a->start, e, src(a->source), before ? "starts" : "runs",
                      bytes(out, n, sizeof n), before ? "before" : "past the end of", d->name, lo, hi,
                      bytes(d->size, ds, sizeof ds), src(d->source));
    return rc ? rc : lint_set_where(&c->r->findings[c->r->n - 1], c->err, d->name, a->source, d->source);
}

static int check_romfs(struct ctx *c, const struct romfs_flash_area *a)
{
    const struct romfs_flash_device *d = romfs_board_device(c->b, a->device);
    const struct romfs_partition *p = NULL;
    for (size_t i = 0; !p && i < c->b->n_partitions; i++)
        if (c->b->partitions[i].index == a->romfs_index && str_eq(c->b->partitions[i].core, a->core))
            p = &c->b->partitions[i];
    char la[160];
    int rc = ROMFS_OK;
    /* the partition the linker symbols give against the map */
    if (p && (p->start != a->start || p->size != a->size)) {
        char what[200];
        snprintf(what, sizeof what, "%s", label(a, la, sizeof la));
        rc = disagree(c, a->device, what, "romfs partition", p->start, p->size, p->source,
                      a->name ? a->name : "romfs area", a->start, a->size, a->source);
    }
    /* the device is mapped, and the partition (when the linker symbols give one) says so too */
    if (rc || maps_at_run_time(c->b->port) || !d || (d->mmap && (!p || p->mmap)))
        return rc;
    const char *why_src = d->mmap ? p->source : d->source;
    char why[160];
    if (d->mmap)
        snprintf(why, sizeof why, "its partition is recorded as not memory-mapped");
    else
        snprintf(why, sizeof why, "it lies on %s, which is not memory-mapped", d->name);
    rc = lint_add(c->r, c->err, c->b, "romfs-not-mmap", ROMFS_LINT_ERROR, a->name ? a->name : "romfs", d->name,
                  a->start, a->size,
                  "%s: %s at %s0x%08" PRIx64 " (%s): %s (%s); %s hands ROMFS to VfsRom as memory (a memoryview "
                  "or a flash object's buffer), so it must be",
                  c->b->name, label(a, la, sizeof la), d->mmap ? "" : "offset ", a->start, src(a->source), why,
                  src(why_src), c->b->port ? c->b->port : "the port");
    return rc ? rc : lint_set_where(&c->r->findings[c->r->n - 1], c->err, d->name, a->source, why_src);
}

/* The filesystem and firmware regions boards.json records beside the map, against it. */
static int check_legacy(struct ctx *c)
{
    const struct romfs_board *b = c->b;
    int rc = ROMFS_OK;
    for (size_t i = 0; !rc && i < b->n_areas; i++) {
        const struct romfs_flash_area *a = &b->areas[i];
        bool fs = a->kind == ROMFS_AREA_FS && b->fs_region && a->name && strcmp(a->name, b->fs_region) == 0 &&
                  (a->start != b->fs_start || a->size != b->fs_size);
        /* the firmware area may start later than its region (rp2: the 256-byte boot2 is a
           bootloader area of its own at the region's start); it must end where the region does */
        bool fw = a->kind == ROMFS_AREA_FIRMWARE && !a->core && b->text_region && a->name &&
                  strcmp(a->name, b->text_region) == 0 &&
                  (a->start < b->text_start || lint_end(a->start, a->size) != lint_end(b->text_start, b->text_size));
        if (!fs && !fw)
            continue;
        char *where = NULL;
        if (asprintf(&where, "MEMORY region %s%s%s", a->name, b->linker_scripts ? " of " : "",
                     b->linker_scripts ? b->linker_scripts : "") < 0)
            return romfs_set_error(c->err, ROMFS_ERR_NOMEM, "out of memory");
        rc = disagree(c, a->device, fs ? "the filesystem" : "the firmware", a->name, fs ? b->fs_start : b->text_start,
                      fs ? b->fs_size : b->text_size, where, a->name, a->start, a->size, a->source);
        free(where);
    }
    return rc;
}

int lint_map(const struct romfs_board *b, const struct romfs_lint_options *o, struct romfs_lint_report *r,
             struct romfs_error *err)
{
    struct ctx c = { b, o, r, err };
    int rc = ROMFS_OK;
    for (size_t i = 0; !rc && i < b->n_areas; i++)
        for (size_t k = i + 1; !rc && k < b->n_areas; k++)
            if (strcmp(b->areas[i].device, b->areas[k].device) == 0)
                rc = check_pair(&c, &b->areas[i], &b->areas[k]);
    for (size_t i = 0; !rc && i < b->n_areas; i++) {
        const struct romfs_flash_area *a = &b->areas[i];
        rc = check_on_device(&c, a);
        if (!rc && a->kind == ROMFS_AREA_FS)
            rc = check_fs_room(&c, a);
        if (!rc && a->kind == ROMFS_AREA_ROMFS)
            rc = check_romfs(&c, a);
    }
    return rc ? rc : check_legacy(&c);
}
