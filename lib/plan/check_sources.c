/* check_sources.c: check targets from a firmware ELF, linker scripts or an esp32
 * partition table (the partition the user's actual build defines), with geometry from
 * the board database. */
#include "plan/check.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "base/range.h"
#include "boards/esp32.h"
#include "ld/elf.h"

static void target_geometry_from_board(struct romfs_check_target *t, const struct romfs_board *b,
                                       int index)
{
    t->erase_block = 0;
    t->write_block = 0;
    t->mmap = -1;
    if (!b)
        return;
    snprintf(t->board, sizeof t->board, "%s", b->name ? b->name : "?");
    const struct romfs_partition *p = romfs_board_partition(b, index);
    t->erase_map = b->erase_map;
    t->n_erase_map = b->n_erase_map;
    if (p && p->start == t->start) {
        t->erase_block = p->erase_block;
        t->write_block = p->write_block;
        t->mmap = p->mmap ? 1 : 0;
        return;
    }
    /* A partition the board data does not know (e.g. a custom build): the geometry of
       the main flash applies if the partition lies inside it. */
    if (b->flash_size && t->start >= b->flash_base && t->start - b->flash_base < b->flash_size) {
        t->erase_block = romfs_board_erase_block_at(b, t->start);
        t->write_block = b->write_block;
        t->mmap = 1;
    }
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int romfs_check_target_from_elf(const char *elf_path, int index, const struct romfs_board *b,
                                struct romfs_check_target *t, struct romfs_error *err)
{
    memset(t, 0, sizeof *t);
    if (index < 0 || index >= ROMFS_ELF_MAX_PARTS)
        return romfs_set_error(err, ROMFS_ERR_NOENT, "%s: no ROMFS partition %d (firmware symbols "
                               "exist for part0 and part1)", elf_path, index);
    struct romfs_elf_info info;
    memset(&info, 0, sizeof info);
    int rc = romfs_elf_read(elf_path, &info, err);
    if (rc == ROMFS_OK && !info.part[index].present)
        rc = romfs_set_error(err, ROMFS_ERR_NOENT,
                             "%s: firmware has no ROMFS partition %d (no _micropy_hw_romfs_part%d_start"
                             "/_size symbols)", elf_path, index, index);
    if (rc == ROMFS_OK) {
        snprintf(t->board, sizeof t->board, "%s", base_name(elf_path));
        t->index = index;
        t->start = info.part[index].start;
        t->size = info.part[index].size;
        snprintf(t->source, sizeof t->source, "%s: _micropy_hw_romfs_part%d_start/_size", elf_path, index);
        rc = romfs_range_check(t->start, t->size, ROMFS_ADDRESS_BITS, t->source, err);
        target_geometry_from_board(t, b, index);
    }
    romfs_elf_info_free(&info);
    return rc;
}

int romfs_check_target_from_ld(const struct romfs_ld_input *in, int index,
                               const struct romfs_board *b, struct romfs_check_target *t,
                               struct romfs_error *err)
{
    memset(t, 0, sizeof *t);
    struct romfs_ld_result r;
    memset(&r, 0, sizeof r);
    int rc = romfs_ld_evaluate(in, &r, err);
    char sym_start[64], sym_size[64];
    snprintf(sym_start, sizeof sym_start, "_micropy_hw_romfs_part%d_start", index);
    snprintf(sym_size, sizeof sym_size, "_micropy_hw_romfs_part%d_size", index);
    uint64_t start = 0, size = 0;
    if (rc == ROMFS_OK)
        rc = romfs_ld_lookup_symbol(&r, sym_start, &start, err);
    if (rc == ROMFS_OK)
        rc = romfs_ld_lookup_symbol(&r, sym_size, &size, err);
    if (rc == ROMFS_OK) {
        const char *script = in->n_scripts ? in->scripts[in->n_scripts - 1] : "script";
        snprintf(t->board, sizeof t->board, "%s", base_name(script));
        t->index = index;
        t->start = start;
        t->size = size;
        const struct romfs_ld_symbol *rec = romfs_ld_symbol_record(&r, sym_start);
        snprintf(t->source, sizeof t->source, "%s:%d: %s", rec && rec->file ? rec->file : script,
                 rec ? rec->line : 0, sym_start);
        rc = romfs_range_check(t->start, t->size, ROMFS_ADDRESS_BITS, t->source, err);
        target_geometry_from_board(t, b, index);
    } else if (rc == ROMFS_ERR_NOENT && err && strstr(err->msg, "symbol")) {
        romfs_error_prefix(err, "linker scripts define no ROMFS partition %d", index);
    }
    romfs_ld_result_free(&r);
    return rc;
}


int romfs_check_target_from_partition_table(const char *path, const struct romfs_board *b,
                                            struct romfs_check_target *t, struct romfs_error *err)
{
    memset(t, 0, sizeof *t);
    if (b && (!b->port || strcmp(b->port, "esp32") != 0))
        return romfs_set_error(err, ROMFS_ERR_INVAL,
                               "board %s is a %s board: partition tables describe esp32 boards", b->name,
                               b->port ? b->port : "non-esp32");
    struct romfs_esp32_table table;
    struct romfs_partition p;
    memset(&p, 0, sizeof p);
    int rc = romfs_esp32_table_load(path, &table, err);
    if (rc == ROMFS_OK)
        rc = romfs_esp32_table_romfs(&table, path, &p, err);
    if (rc == ROMFS_OK && b && b->flash_size && !romfs_range_within(p.start, p.size, 0, b->flash_size))
        rc = romfs_set_error(err, ROMFS_ERR_RANGE,
                             "%s: romfs partition 0x%08" PRIx64 "+0x%" PRIx64 " ends past the %" PRIu64
                             "-byte flash of board %s", path, p.start, p.size, b->flash_size, b->name);
    if (rc == ROMFS_OK) {
        snprintf(t->board, sizeof t->board, "%s", b && b->name ? b->name : base_name(path));
        t->index = 0;
        t->start = p.start;
        t->size = p.size;
        t->erase_block = 4096;   /* esp32 SPI flash sector */
        t->write_block = b && b->write_block ? b->write_block : 4;
        t->mmap = 2;             /* flash offset, mapped by esp_partition_mmap() at run time */
        snprintf(t->source, sizeof t->source, "%s", p.source ? p.source : path);
    }
    romfs_partition_clear(&p);
    romfs_esp32_table_free(&table);
    return rc;
}

/* The one target of a build (ELF, partition table or linker scripts). */
static int target_from_build(const struct romfs_boards *db, const struct romfs_check_sources *src,
                             struct romfs_check_target *t, struct romfs_error *err)
{
    const struct romfs_board *b = NULL;
    if (src->n_boards && !(b = romfs_boards_lookup(db, src->boards[0], err)))
        return err ? err->code : ROMFS_ERR_NOENT;
    if (src->partition_table)
        return romfs_check_target_from_partition_table(src->partition_table, b, t, err);
    if (src->elf)
        return romfs_check_target_from_elf(src->elf, src->partition, b, t, err);
    return romfs_check_target_from_ld(src->ld, src->partition, b, t, err);
}

int romfs_check_resolve(const struct romfs_boards *db, const struct romfs_check_sources *src,
                        struct romfs_check_target **targets, size_t *n, struct romfs_error *err)
{
    *targets = NULL;
    *n = 0;
    bool build = src->elf || src->partition_table || src->ld;
    if (!build && !src->n_boards)
        return romfs_set_error(err, ROMFS_ERR_INVAL, "no board, firmware, linker script or "
                               "partition table says where the partition is");
    /* Look every board up first, so a misspelt one is reported before any work. */
    size_t max = build ? 1 : 0;
    for (size_t i = 0; i < src->n_boards; i++) {
        const struct romfs_board *b = romfs_boards_lookup(db, src->boards[i], err);
        if (!b)
            return err ? err->code : ROMFS_ERR_NOENT;
        if (!build)
            max += src->all_partitions && b->n_partitions ? b->n_partitions : 1;
    }
    struct romfs_check_target *out = calloc(max ? max : 1, sizeof *out);
    if (!out)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    int rc = ROMFS_OK;
    size_t k = 0;
    if (build) {
        rc = target_from_build(db, src, &out[0], err);
        k = rc == ROMFS_OK ? 1 : 0;
    }
    for (size_t i = 0; !build && rc == ROMFS_OK && i < src->n_boards; i++) {
        const struct romfs_board *b = romfs_boards_find(db, src->boards[i]);
        if (src->all_partitions && b->n_partitions) {
            for (size_t p = 0; p < b->n_partitions; p++)
                romfs_check_target_from_partition(b, &b->partitions[p], &out[k++]);
        } else if (src->core) {
            const struct romfs_partition *p = romfs_board_partition_core(b, src->partition, src->core);
            if (p)
                romfs_check_target_from_partition(b, p, &out[k++]);
            else
                rc = romfs_set_error(err, ROMFS_ERR_NOENT, "board %s has no ROMFS partition %d "
                                     "for core %s", b->name, src->partition, src->core);
        } else {
            rc = romfs_check_target_from_board(b, src->all_partitions ? 0 : src->partition,
                                               &out[k], err);
            k += rc == ROMFS_OK;
        }
    }
    if (rc != ROMFS_OK) {
        free(out);
        return rc;
    }
    *targets = out;
    *n = k;
    return ROMFS_OK;
}

int romfs_check_file(const char *image_path, const struct romfs_check_target *targets, size_t n,
                     const struct romfs_check_options *opt, struct romfs_report *report,
                     size_t *failed, struct romfs_error *err)
{
    *failed = 0;
    uint8_t *image = NULL;
    size_t len = 0;
    int rc = romfs_read_file(image_path, &image, &len, err);
    for (size_t i = 0; rc == ROMFS_OK && i < n; i++) {
        struct romfs_check_result res;
        struct romfs_error check_err = { 0 };   /* a failed check is in the report, not an error */
        int code = romfs_check_image(image, len, &targets[i], opt, &res, &check_err);
        if (code == ROMFS_ERR_NOMEM) {
            if (err)
                *err = check_err;
            rc = code;
        } else if (romfs_check_add_to_report(&res, image_path, report) != ROMFS_OK) {
            rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
        }
        *failed += res.failed;
        romfs_check_result_free(&res);
    }
    free(image);
    return rc;
}
