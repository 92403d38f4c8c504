/* outfile.c: where an image goes (board partition or explicit address), writing every
 * requested output format at once, and atomic file output. */
#include "out/outfile.h"
#include "base/range.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boards/db.h"

void romfs_placement_at(uint64_t address, struct romfs_placement *out)
{
    memset(out, 0, sizeof *out);
    out->address = address;
    out->vid = 0x0483;
    out->pid = 0xdf11;
    snprintf(out->what, sizeof out->what, "address 0x%08llx", (unsigned long long)address);
}

int romfs_placement_from_board(const struct romfs_board *b, int partition,
                               struct romfs_placement *out, struct romfs_error *err)
{
    const struct romfs_partition *p = romfs_board_partition(b, partition);
    if (!p)
        return romfs_set_error_need(err, ROMFS_ERR_NOENT, ROMFS_NEED_ADDRESS,
                               "board %s has no ROMFS partition %d in boards.json%s%s%s%s",
                               b->name, partition, !b->n_partitions && !b->romfs_option
                                   ? " (none in its default build)" : "",
                               b->romfs_option ? " (it is added by the build option " : "",
                               b->romfs_option ? b->romfs_option : "", b->romfs_option ? ")" : "");
    romfs_placement_at(p->start, out);
    out->size = p->size;
    snprintf(out->what, sizeof out->what, "board %s partition %d at 0x%08llx", b->name,
             partition, (unsigned long long)p->start);
    if (b->dfu_usb) {
        unsigned v, d;
        if (sscanf(b->dfu_usb, "%x:%x", &v, &d) == 2 && v <= 0xffff && d <= 0xffff) {
            out->vid = (uint16_t)v;
            out->pid = (uint16_t)d;
        }
        if (b->dfu_alt > 0 && b->dfu_alt < 256)
            out->alt = (uint8_t)b->dfu_alt;
    }
    if (b->has_uf2) {
        out->uf2_family = b->uf2_family;
        out->has_uf2_family = true;
    } else if (b->mcu && romfs_uf2_family(b->mcu, &out->uf2_family, NULL) == ROMFS_OK) {
        out->has_uf2_family = true;
    }
    return ROMFS_OK;
}

int romfs_placement_for_board_name(const char *db_path, const char *board, int partition,
                                   struct romfs_placement *out, struct romfs_error *err)
{
    struct romfs_boards db;
    int rc = romfs_boards_load(db_path, &db, err);
    if (rc)
        return rc;
    const struct romfs_board *b = romfs_boards_lookup(&db, board, err);
    rc = b ? romfs_placement_from_board(b, partition, out, err) : err ? err->code : ROMFS_ERR_NOENT;
    romfs_boards_free(&db);
    return rc;
}

/* Stage a built buffer (when rc is ROMFS_OK) and free it. */
static int stage_built(struct romfs_output_set *set, const char *path, int rc, uint8_t *buf, size_t n,
                       struct romfs_error *err)
{
    if (rc == ROMFS_OK)
        rc = romfs_output_stage(set, path, buf, n, err);
    free(buf);
    return rc;
}

int romfs_stage_outfiles(const uint8_t *image, size_t len, const struct romfs_placement *p,
                         const struct romfs_outfile_paths *paths, struct romfs_output_set *set,
                         struct romfs_error *err)
{
    if (p->size && len > p->size)
        return romfs_set_error(err, ROMFS_ERR_FBIG,
                               "image of %zu bytes does not fit %s (%llu bytes)", len, p->what,
                               (unsigned long long)p->size);
    if (!romfs_range_fits_bits(p->address, len, ROMFS_ADDRESS_BITS))
        return romfs_set_error(err, ROMFS_ERR_RANGE, "%zu bytes at %s pass the 4 GiB address "
                               "space of .dfu/.uf2/.hex files", len, p->what);
    if (paths->uf2 && !p->has_uf2_family)
        return romfs_set_error_need(err, ROMFS_ERR_INVAL, ROMFS_NEED_UF2_FAMILY,
                                    "no UF2 family known for %s", p->what);
    if (paths->uf2 && p->address % ROMFS_UF2_PAYLOAD)
        return romfs_set_error(err, ROMFS_ERR_INVAL, "UF2 needs a 256-byte aligned address, not %s",
                               p->what);
    int rc = ROMFS_OK;
    uint32_t a = (uint32_t)p->address;
    uint8_t *buf = NULL;
    size_t n = 0;
    if (paths->dfu) {
        struct romfs_dfu_file_options o = { a, p->vid, p->pid, p->alt, NULL };
        rc = romfs_dfu_file_build(image, len, &o, &buf, &n, err);
        rc = stage_built(set, paths->dfu, rc, rc ? NULL : buf, n, err);
    }
    if (rc == ROMFS_OK && paths->uf2) {
        rc = romfs_uf2_build(image, len, a, p->uf2_family, &buf, &n, err);
        rc = stage_built(set, paths->uf2, rc, rc ? NULL : buf, n, err);
    }
    if (rc == ROMFS_OK && paths->hex) {
        rc = romfs_ihex_build(image, len, a, &buf, &n, err);
        rc = stage_built(set, paths->hex, rc, rc ? NULL : buf, n, err);
    }
    if (rc == ROMFS_OK && paths->bin)
        rc = romfs_output_stage(set, paths->bin, image, len, err);
    return rc;
}

int romfs_write_outfiles(const uint8_t *image, size_t len, const struct romfs_placement *p,
                         const struct romfs_outfile_paths *paths, struct romfs_error *err)
{
    struct romfs_output_set set;
    romfs_output_set_init(&set);
    int rc = romfs_stage_outfiles(image, len, p, paths, &set, err);
    if (rc) {
        romfs_output_abort(&set);
        return rc;
    }
    return romfs_output_commit(&set, err);
}

