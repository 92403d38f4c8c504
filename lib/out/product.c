/* product.c: firmware and a ROMFS image as one file for a board, checked against the
 * board's flash map (see out/product.h). */
#include "out/product.h"
#include "base/range.h"
#include "boards/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool romfs_board_firmware_start(const struct romfs_board *b, uint64_t *start)
{
    if (b->text_region) {
        *start = b->text_start;
        return true;
    }
    bool found = false;
    for (size_t i = 0; i < b->n_areas; i++) {
        const struct romfs_flash_area *a = &b->areas[i];
        const struct romfs_flash_device *d = romfs_board_device(b, a->device);
        if (a->kind == ROMFS_AREA_FIRMWARE && d && d->mmap && (!found || a->start < *start)) {
            *start = a->start;
            found = true;
        }
    }
    return found;
}

/* A range of the board's flash, for the "inside the flash" check. */
struct span {
    uint64_t lo, hi;
};

static size_t add_span(struct span *v, size_t n, size_t max, uint64_t lo, uint64_t size)
{
    if (size && n < max && lo + size > lo)
        v[n++] = (struct span){ lo, lo + size };
    return n;
}

/* The board's flash as sorted, joined ranges: its memory-mapped devices, else the older
 * fields (flash base and size, flash regions, text region, memory-mapped partitions). */
static size_t flash_spans(const struct romfs_board *b, struct span *v, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < b->n_devices; i++)
        if (b->devices[i].mmap)
            n = add_span(v, n, max, b->devices[i].base, b->devices[i].size);
    if (n == 0) {
        n = add_span(v, n, max, b->flash_base, b->flash_size);
        for (size_t i = 0; i < b->n_flash; i++)
            n = add_span(v, n, max, b->flash[i].origin, b->flash[i].length);
        if (b->text_region)
            n = add_span(v, n, max, b->text_start, b->text_size);
        for (size_t i = 0; i < b->n_partitions; i++)
            if (b->partitions[i].mmap)
                n = add_span(v, n, max, b->partitions[i].start, b->partitions[i].size);
    }
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && v[j - 1].lo > v[j].lo; j--) {
            struct span t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m && v[i].lo <= v[m - 1].hi) {
            if (v[i].hi > v[m - 1].hi)
                v[m - 1].hi = v[i].hi;
        } else {
            v[m++] = v[i];
        }
    }
    return m;
}

static int outside_flash(const struct romfs_board *b, const struct romfs_segment *g, const struct span *v,
                         size_t n, struct romfs_error *err)
{
    char list[400] = "";
    size_t used = 0;
    for (size_t i = 0; i < n && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s0x%08llx..0x%08llx", i ? ", " : "",
                                 (unsigned long long)v[i].lo, (unsigned long long)v[i].hi);
    return romfs_set_error(err, ROMFS_ERR_INVAL, "%s 0x%08llx..0x%08llx is outside board %s's flash (%s)", g->what,
                           (unsigned long long)g->address, (unsigned long long)(g->address + g->size), b->name,
                           n ? list : "none recorded");
}

static int overlaps(const struct romfs_segment *g, uint64_t lo, uint64_t size, const char *what, const char *board,
                    struct romfs_error *err)
{
    if (!size || !(g->address < lo + size && lo < g->address + g->size))
        return ROMFS_OK;
    return romfs_set_error(err, ROMFS_ERR_INVAL, "%s 0x%08llx..0x%08llx overlaps board %s's %s 0x%08llx..0x%08llx",
                           g->what, (unsigned long long)g->address, (unsigned long long)(g->address + g->size),
                           board, what, (unsigned long long)lo, (unsigned long long)(lo + size));
}

/* One firmware piece against the board: inside its flash, off every partition and every
 * area that is not firmware. */
static int check_piece(const struct romfs_board *b, const struct romfs_segment *g, const struct span *v, size_t n,
                       struct romfs_error *err)
{
    bool inside = false;
    for (size_t i = 0; i < n && !inside; i++)
        inside = g->address >= v[i].lo && g->address + g->size <= v[i].hi;
    if (!inside)
        return outside_flash(b, g, v, n, err);
    char what[160];
    int rc = ROMFS_OK;
    for (size_t i = 0; i < b->n_partitions && !rc; i++) {
        const struct romfs_partition *p = &b->partitions[i];
        snprintf(what, sizeof what, "ROMFS partition %d%s%s", p->index, p->core ? " of " : "", p->core ? p->core : "");
        rc = overlaps(g, p->start, p->size, what, b->name, err);
    }
    for (size_t i = 0; i < b->n_areas && !rc; i++) {
        const struct romfs_flash_area *a = &b->areas[i];
        const struct romfs_flash_device *d = romfs_board_device(b, a->device);
        if (a->kind == ROMFS_AREA_FIRMWARE || a->kind == ROMFS_AREA_ROMFS || !d || !d->mmap)
            continue;
        snprintf(what, sizeof what, "%s area %s", romfs_area_kind_name(a->kind), a->name ? a->name : "");
        rc = overlaps(g, a->start, a->size, what, b->name, err);
    }
    return rc;
}

int romfs_product_build(const struct romfs_product_options *o, struct romfs_product *out, struct romfs_error *err)
{
    memset(out, 0, sizeof *out);
    const struct romfs_board *b = o->board;
    const struct romfs_partition *part = romfs_board_partition(b, o->partition);
    if (!part)
        return romfs_set_error_need(err, ROMFS_ERR_NOENT, ROMFS_NEED_ADDRESS, "board %s has no ROMFS partition %d",
                                    b->name, o->partition);
    if (o->image_len > part->size)
        return romfs_set_error(err, ROMFS_ERR_FBIG, "image of %zu bytes does not fit board %s partition %d "
                               "(%llu bytes)", o->image_len, b->name, o->partition, (unsigned long long)part->size);
    uint64_t bin_at = o->firmware_address;
    bool has_bin = o->has_firmware_address || romfs_board_firmware_start(b, &bin_at);
    int rc = romfs_segments_read_file(o->firmware, has_bin, bin_at, &out->segs, &out->fw_format, err);
    if (rc)
        return rc;
    out->fw_segments = out->segs.n;
    out->fw_bytes = romfs_segments_bytes(&out->segs);
    romfs_segments_span(&out->segs, &out->fw_lo, &out->fw_hi);
    romfs_segments_sort(&out->segs);
    for (size_t i = 0; i < out->segs.n; i++) {
        uint32_t f = out->segs.v[i].uf2_family;
        if (f && out->fw_uf2_family && f != out->fw_uf2_family)
            return romfs_set_error(err, ROMFS_ERR_UNSUPPORTED, "%s holds blocks of two UF2 families (0x%08x and "
                                   "0x%08x)", o->firmware, (unsigned)out->fw_uf2_family, (unsigned)f);
        if (f)
            out->fw_uf2_family = f;
    }
    struct span v[64];
    size_t n = flash_spans(b, v, sizeof v / sizeof v[0]);
    for (size_t i = 0; i < out->segs.n && !rc; i++)
        rc = check_piece(b, &out->segs.v[i], v, n, err);
    if (rc == ROMFS_OK && (rc = romfs_segments_check_overlap(&out->segs, err)))
        romfs_error_prefix(err, "%s", o->firmware);
    out->romfs_address = part->start;
    out->partition_size = part->size;
    if (rc == ROMFS_OK)
        rc = romfs_segments_add(&out->segs, part->start, o->image, o->image_len, 0, "ROMFS image", err);
    if (rc == ROMFS_OK) {
        romfs_segments_sort(&out->segs);
        rc = romfs_segments_check_overlap(&out->segs, err);
    }
    return rc;
}

bool romfs_product_uf2_family(const struct romfs_product *prod, const struct romfs_placement *p, uint32_t *family)
{
    if (p->uf2_family_given || (!prod->fw_uf2_family && p->has_uf2_family)) {
        *family = p->uf2_family;
        return true;
    }
    *family = prod->fw_uf2_family;
    return prod->fw_uf2_family != 0;
}

/* Stage a built buffer (when rc is ROMFS_OK) and free it. */
static int stage(struct romfs_output_set *set, const char *path, int rc, uint8_t *buf, size_t n,
                 struct romfs_error *err)
{
    if (rc == ROMFS_OK)
        rc = romfs_output_stage(set, path, buf, n, err);
    free(buf);
    return rc;
}

int romfs_write_product_outfiles(const struct romfs_product *prod, const struct romfs_placement *p,
                                 const struct romfs_outfile_paths *paths, struct romfs_error *err)
{
    if (paths->bin)
        return romfs_set_error(err, ROMFS_ERR_INVAL, "a raw binary cannot hold firmware and ROMFS at separate "
                               "addresses (0x%08llx and 0x%08llx); write Intel HEX, UF2 or DfuSe",
                               (unsigned long long)prod->fw_lo, (unsigned long long)prod->romfs_address);
    uint32_t family = 0;
    if (paths->uf2 && !romfs_product_uf2_family(prod, p, &family))
        return romfs_set_error_need(err, ROMFS_ERR_INVAL, ROMFS_NEED_UF2_FAMILY, "no UF2 family known for %s",
                                    p->what);
    struct romfs_output_set set;
    romfs_output_set_init(&set);
    int rc = ROMFS_OK;
    uint8_t *buf = NULL;
    size_t n = 0;
    if (paths->dfu) {
        struct romfs_dfu_file_options o = { 0, p->vid, p->pid, p->alt, NULL };
        rc = romfs_dfu_file_build_segments(&prod->segs, &o, &buf, &n, err);
        rc = stage(&set, paths->dfu, rc, rc ? NULL : buf, n, err);
    }
    if (rc == ROMFS_OK && paths->uf2) {
        rc = romfs_uf2_build_segments(&prod->segs, family, &buf, &n, err);
        rc = stage(&set, paths->uf2, rc, rc ? NULL : buf, n, err);
    }
    if (rc == ROMFS_OK && paths->hex) {
        rc = romfs_ihex_build_segments(&prod->segs, &buf, &n, err);
        rc = stage(&set, paths->hex, rc, rc ? NULL : buf, n, err);
    }
    if (rc) {
        romfs_output_abort(&set);
        return rc;
    }
    return romfs_output_commit(&set, err);
}

void romfs_product_free(struct romfs_product *prod)
{
    romfs_segments_free(&prod->segs);
}
