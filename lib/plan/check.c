/* check.c: an image against a ROMFS partition (see plan/check.h for the checks). */
#include "plan/check.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/format.h"

static const char *const check_names[ROMFS_CHECK_COUNT] = {
    "structure", "fits", "erase", "write", "alignment", "mmap",
};

const char *romfs_check_name(enum romfs_check_id id)
{
    return (unsigned)id < ROMFS_CHECK_COUNT ? check_names[id] : "?";
}

/* Largest power of two dividing v, capped (v == 0 is divisible by everything). */
static uint64_t pow2_dividing(uint64_t v, uint64_t cap)
{
    if (v == 0)
        return cap;
    uint64_t low = v & (~v + 1);
    return low < cap ? low : cap;
}

static const char *plural(uint64_t n)
{
    return n == 1 ? "" : "s";
}

static void set_item(struct romfs_check_result *res, enum romfs_check_id id,
                     enum romfs_report_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void set_item(struct romfs_check_result *res, enum romfs_check_id id,
                     enum romfs_report_status st, const char *fmt, ...)
{
    struct romfs_check_item *it = &res->items[id];
    it->status = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->message, sizeof it->message, fmt, ap);
    va_end(ap);
}

/* The erase-map run containing addr, or NULL. */
static const struct romfs_erase_range *erase_run_at(const struct romfs_check_target *t, uint64_t addr)
{
    for (size_t i = 0; i < t->n_erase_map; i++) {
        const struct romfs_erase_range *r = &t->erase_map[i];
        if (r->block && addr >= r->start && addr - r->start < r->size)
            return r;
    }
    return NULL;
}

/* Start of the erase block containing addr; *block receives its size (0 if unknown). */
static uint64_t erase_block_floor(const struct romfs_check_target *t, uint64_t addr, uint64_t *block)
{
    const struct romfs_erase_range *r = erase_run_at(t, addr);
    if (r) {
        *block = r->block;
        return r->start + (addr - r->start) / r->block * r->block;
    }
    *block = t->erase_block;
    return t->erase_block ? addr / t->erase_block * t->erase_block : addr;
}

/* ---- alignment walk ------------------------------------------------------------ */

struct align_walk {
    const struct romfs_check_target *t;
    uint64_t cap;
    size_t max_listed;
    uint64_t files, misaligned, max_asked;
    char *detail;
    size_t detail_len;
    bool oom;
    char first_path[160];
    uint64_t first_asked, first_addr;
};

static void append_detail(struct align_walk *w, const char *line)
{
    size_t n = strlen(line);
    char *grown = realloc(w->detail, w->detail_len + n + 2);
    if (!grown) {
        w->oom = true;
        return;
    }
    w->detail = grown;
    if (w->detail_len)
        w->detail[w->detail_len++] = '\n';
    memcpy(w->detail + w->detail_len, line, n + 1);
    w->detail_len += n;
}

static int align_visit(void *ctx, const char *path, const struct romfs_entry *e, int depth)
{
    (void)depth;
    struct align_walk *w = ctx;
    if (e->type != ROMFS_ENTRY_FILE)
        return 0;
    w->files++;
    if (e->data_size == 0)
        return 0;
    uint64_t asked = pow2_dividing(e->data_offset, w->cap);
    if (asked > w->max_asked)
        w->max_asked = asked;
    uint64_t addr = w->t->start + e->data_offset;
    if (addr % asked == 0)
        return 0;
    if (w->misaligned == 0) {
        snprintf(w->first_path, sizeof w->first_path, "%s", path);
        w->first_asked = asked;
        w->first_addr = addr;
    }
    w->misaligned++;
    if (w->misaligned <= w->max_listed) {
        char line[512];
        snprintf(line, sizeof line,
                 "%s: data at image offset 0x%" PRIx64 " (aligned to %" PRIu64 ") lands at 0x%08"
                 PRIx64 ", aligned only to %" PRIu64,
                 path, e->data_offset, asked, addr, pow2_dividing(addr, w->cap));
        append_detail(w, line);
    } else if (w->misaligned == w->max_listed + 1) {
        append_detail(w, "... (more files not listed)");
    }
    return 0;
}

/* ---- the checks ------------------------------------------------------------------ */

static void check_fits(const struct romfs_check_target *t, struct romfs_check_result *res)
{
    uint64_t len = res->write_size;
    res->used_percent = t->size ? (double)len * 100.0 / (double)t->size : 100.0;
    char also[96] = "";
    if (res->image_size && res->image_size != len)
        snprintf(also, sizeof also, " (image record %" PRIu64 " bytes + %" PRIu64 " bytes after it)",
                 res->image_size, len - res->image_size);
    if (len > t->size) {
        uint64_t over = len - t->size;
        set_item(res, ROMFS_CHECK_FITS, ROMFS_REPORT_FAIL,
                 "image is %" PRIu64 " bytes%s, %" PRIu64 " byte%s more than the %" PRIu64
                 "-byte partition at 0x%08" PRIx64 " (%.1f%%)",
                 len, also, over, plural(over), t->size, t->start, res->used_percent);
        return;
    }
    res->free_bytes = t->size - len;
    set_item(res, ROMFS_CHECK_FITS, ROMFS_REPORT_PASS,
             "uses %" PRIu64 " of %" PRIu64 " bytes (%.1f%%)%s, %" PRIu64 " bytes free",
             len, t->size, res->used_percent, also, res->free_bytes);
}

static void check_erase(const struct romfs_check_target *t, struct romfs_check_result *res)
{
    uint64_t block;
    uint64_t lo = erase_block_floor(t, t->start, &block);
    if (!block) {
        set_item(res, ROMFS_CHECK_ERASE, ROMFS_REPORT_SKIP, "erase block size unknown for %s", t->board);
        return;
    }
    if (lo != t->start) {
        set_item(res, ROMFS_CHECK_ERASE, ROMFS_REPORT_FAIL,
                 "partition start 0x%08" PRIx64 " is not on a %" PRIu64
                 "-byte erase-block boundary: erasing it erases %" PRIu64
                 " bytes before the partition (from 0x%08" PRIx64 ")",
                 t->start, block, t->start - lo, lo);
        return;
    }
    uint64_t end = t->start + res->write_size;        /* exclusive */
    uint64_t last_block;
    uint64_t last = erase_block_floor(t, end - 1, &last_block);
    if (!last_block) {
        set_item(res, ROMFS_CHECK_ERASE, ROMFS_REPORT_SKIP,
                 "erase block size unknown at 0x%08" PRIx64, end - 1);
        return;
    }
    uint64_t erase_end = last + last_block;
    uint64_t part_end = t->start + t->size;
    res->erase_end = erase_end;
    if (erase_end > part_end) {
        uint64_t over = erase_end - part_end;
        set_item(res, ROMFS_CHECK_ERASE, ROMFS_REPORT_FAIL,
                 "image end 0x%08" PRIx64 " rounded up to the %" PRIu64 "-byte erase block is 0x%08"
                 PRIx64 ", %" PRIu64 " byte%s past the partition end 0x%08" PRIx64,
                 end, last_block, erase_end, over, plural(over), part_end);
        return;
    }
    uint64_t blocks_bytes = erase_end - t->start;
    set_item(res, ROMFS_CHECK_ERASE, ROMFS_REPORT_PASS,
             "erases 0x%08" PRIx64 "..0x%08" PRIx64 " (%" PRIu64 " bytes, erase block %" PRIu64
             "), inside the partition",
             t->start, erase_end, blocks_bytes, last_block);
}

static void check_write(const struct romfs_check_target *t, struct romfs_check_result *res)
{
    uint64_t wb = t->write_block;
    if (!wb) {
        set_item(res, ROMFS_CHECK_WRITE, ROMFS_REPORT_SKIP, "write unit unknown for %s", t->board);
        return;
    }
    if (t->start % wb) {
        set_item(res, ROMFS_CHECK_WRITE, ROMFS_REPORT_FAIL,
                 "partition start 0x%08" PRIx64 " is not a multiple of the %" PRIu64 "-byte write unit",
                 t->start, wb);
        return;
    }
    uint64_t units = (res->write_size + wb - 1) / wb;
    uint64_t padded = units * wb;
    if (padded > t->size) {
        set_item(res, ROMFS_CHECK_WRITE, ROMFS_REPORT_FAIL,
                 "image rounded up to whole %" PRIu64 "-byte write units is %" PRIu64
                 " bytes, %" PRIu64 " more than the partition",
                 wb, padded, padded - t->size);
        return;
    }
    set_item(res, ROMFS_CHECK_WRITE, ROMFS_REPORT_PASS,
             "%" PRIu64 " write unit%s of %" PRIu64 " byte%s (%" PRIu64 " bytes of 0xff padding in the last)",
             units, plural(units), wb, plural(wb), padded - res->write_size);
}

static int check_alignment(const struct romfs_image *img, const struct romfs_check_target *t,
                           uint64_t cap, size_t max_listed, struct romfs_check_result *res)
{
    struct align_walk w = { .t = t, .cap = cap, .max_listed = max_listed };
    struct romfs_error werr = { 0 };
    int rc = romfs_image_walk(img, NULL, align_visit, &w, &werr);
    res->max_asked_align = w.max_asked;
    res->misaligned = w.misaligned;
    res->alignment_detail = w.detail;
    if (w.oom)
        return ROMFS_ERR_NOMEM;
    if (rc < 0) {
        set_item(res, ROMFS_CHECK_ALIGNMENT, ROMFS_REPORT_FAIL, "cannot walk the image: %s", werr.msg);
        return ROMFS_OK;
    }
    if (w.misaligned) {
        set_item(res, ROMFS_CHECK_ALIGNMENT, ROMFS_REPORT_FAIL,
                 "%" PRIu64 " of %" PRIu64 " file%s lose their alignment at partition start 0x%08"
                 PRIx64 " (aligned to %" PRIu64 "): %s asks for %" PRIu64 " but lands at 0x%08" PRIx64,
                 w.misaligned, w.files, plural(w.files), t->start, res->start_align, w.first_path,
                 w.first_asked, w.first_addr);
        return ROMFS_OK;
    }
    if (w.max_asked == 0)
        set_item(res, ROMFS_CHECK_ALIGNMENT, ROMFS_REPORT_PASS, "no file data to align");
    else
        set_item(res, ROMFS_CHECK_ALIGNMENT, ROMFS_REPORT_PASS,
                 "all %" PRIu64 " file%s keep their data alignment (up to %" PRIu64
                 ") at partition start 0x%08" PRIx64,
                 w.files, plural(w.files), w.max_asked, t->start);
    return ROMFS_OK;
}

static void check_mmap(const struct romfs_check_target *t, struct romfs_check_result *res)
{
    if (t->mmap < 0)
        set_item(res, ROMFS_CHECK_MMAP, ROMFS_REPORT_SKIP,
                 "not known whether partition %d of %s is memory-mapped", t->index, t->board);
    else if (t->mmap == 2)
        set_item(res, ROMFS_CHECK_MMAP, ROMFS_REPORT_PASS,
                 "mapped by the port at run time from flash offset 0x%08" PRIx64
                 " (64K MMU pages): VfsRom uses file data in place", t->start);
    else if (t->mmap)
        set_item(res, ROMFS_CHECK_MMAP, ROMFS_REPORT_PASS,
                 "memory-mapped at 0x%08" PRIx64 ": VfsRom uses file data in place", t->start);
    else
        set_item(res, ROMFS_CHECK_MMAP, ROMFS_REPORT_FAIL,
                 "partition %d of %s (0x%08" PRIx64 ") is not memory-mapped: VfsRom mounts only "
                 "a readable buffer, so this image cannot be used from there",
                 t->index, t->board, t->start);
}

int romfs_check_image(const uint8_t *data, size_t len, const struct romfs_check_target *target,
                      const struct romfs_check_options *opt, struct romfs_check_result *res,
                      struct romfs_error *err)
{
    memset(res, 0, sizeof *res);
    res->target = *target;
    const struct romfs_check_target *t = &res->target;
    uint64_t cap = opt && opt->align_cap ? opt->align_cap : ROMFS_CHECK_DEFAULT_ALIGN_CAP;
    size_t max_listed = opt && opt->max_listed ? opt->max_listed : 20;
    res->write_size = len;
    res->start_align = pow2_dividing(t->start, (uint64_t)1 << 31);

    struct romfs_image img;
    struct romfs_stats stats = { 0 };
    struct romfs_error ierr = { 0 };
    bool valid = false;
    if (romfs_image_open(&img, data, len, &ierr) == ROMFS_OK) {
        res->image_size = img.payload_end;
        if (romfs_image_verify(&img, &stats, &ierr) == ROMFS_OK)
            valid = true;
    }
    res->files = stats.files;
    if (valid)
        set_item(res, ROMFS_CHECK_STRUCTURE, ROMFS_REPORT_PASS,
                 "valid ROMFS image: %" PRIu64 " bytes, %" PRIu64 " file%s, %" PRIu64 " director%s",
                 stats.image_size, stats.files, plural(stats.files), stats.dirs,
                 stats.dirs == 1 ? "y" : "ies");
    else
        set_item(res, ROMFS_CHECK_STRUCTURE, ROMFS_REPORT_FAIL, "not a valid ROMFS image: %s", ierr.msg);

    check_fits(t, res);
    if (res->items[ROMFS_CHECK_FITS].status == ROMFS_REPORT_FAIL) {
        /* Erase and write ranges of an image that does not fit say nothing new. */
        set_item(res, ROMFS_CHECK_ERASE, ROMFS_REPORT_SKIP, "image does not fit the partition");
        set_item(res, ROMFS_CHECK_WRITE, ROMFS_REPORT_SKIP, "image does not fit the partition");
    } else {
        if (len == 0)
            set_item(res, ROMFS_CHECK_ERASE, ROMFS_REPORT_SKIP, "nothing to erase");
        else
            check_erase(t, res);
        check_write(t, res);
    }
    if (!valid) {
        set_item(res, ROMFS_CHECK_ALIGNMENT, ROMFS_REPORT_SKIP, "image is not valid");
    } else if (t->mmap == 0) {
        set_item(res, ROMFS_CHECK_ALIGNMENT, ROMFS_REPORT_SKIP,
                 "partition is not memory-mapped: file data is not used in place");
    } else if (check_alignment(&img, t, cap, max_listed, res) != ROMFS_OK) {
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory checking alignment");
    }
    check_mmap(t, res);

    int code = ROMFS_OK;
    for (int i = 0; i < ROMFS_CHECK_COUNT; i++) {
        if (res->items[i].status != ROMFS_REPORT_FAIL)
            continue;
        if (res->failed++ == 0) {
            code = i == ROMFS_CHECK_STRUCTURE ? ROMFS_ERR_CORRUPT
                 : (i == ROMFS_CHECK_FITS || i == ROMFS_CHECK_ERASE) ? ROMFS_ERR_FBIG
                 : ROMFS_ERR_MISMATCH;
            romfs_set_error(err, code, "%s partition %d: %s: %s", t->board, t->index,
                            check_names[i], res->items[i].message);
        }
    }
    return code;
}

void romfs_check_result_free(struct romfs_check_result *res)
{
    if (!res)
        return;
    free(res->alignment_detail);
    res->alignment_detail = NULL;
}

int romfs_check_add_to_report(const struct romfs_check_result *res, const char *image_name,
                              struct romfs_report *report)
{
    const struct romfs_check_target *t = &res->target;
    char name[200];
    if (t->core[0])
        snprintf(name, sizeof name, "%s partition %d (core %s)", t->board, t->index, t->core);
    else
        snprintf(name, sizeof name, "%s partition %d", t->board, t->index);
    struct romfs_report_suite *s = romfs_report_add_suite(report, name, image_name);
    if (!s)
        return ROMFS_ERR_NOMEM;
    char desc[900], eb[24] = "unknown", wu[24] = "unknown";
    if (t->erase_block)
        snprintf(eb, sizeof eb, "%" PRIu32, t->erase_block);
    if (t->write_block)
        snprintf(wu, sizeof wu, "%" PRIu32, t->write_block);
    snprintf(desc, sizeof desc, "0x%08" PRIx64 "..0x%08" PRIx64 " (%" PRIu64 " bytes), erase block %s"
             ", write unit %s, %s; from %s",
             t->start, t->start + t->size, t->size, eb, wu,
             t->mmap < 0 ? "mapping unknown" : t->mmap == 2 ? "mapped at run time"
                 : t->mmap ? "memory-mapped" : "not memory-mapped",
             t->source);
    romfs_report_set_description(report, s, desc);
    char hex[24];
    snprintf(hex, sizeof hex, "0x%08" PRIx64, t->start);
    romfs_report_add_property(report, s, "board", t->board);
    romfs_report_add_property_u64(report, s, "partition", (uint64_t)t->index);
    if (t->core[0])
        romfs_report_add_property(report, s, "core", t->core);
    romfs_report_add_property(report, s, "source", t->source);
    romfs_report_add_property(report, s, "start_hex", hex);
    romfs_report_add_property_u64(report, s, "start", t->start);
    romfs_report_add_property_u64(report, s, "size", t->size);
    romfs_report_add_property_u64(report, s, "erase_block", t->erase_block);
    romfs_report_add_property_u64(report, s, "write_block", t->write_block);
    romfs_report_add_property(report, s, "mmap", t->mmap < 0 ? "unknown" : t->mmap == 2 ? "runtime"
                                                 : t->mmap ? "yes" : "no");
    romfs_report_add_property_u64(report, s, "write_size", res->write_size);
    romfs_report_add_property_u64(report, s, "image_size", res->image_size);
    romfs_report_add_property_u64(report, s, "free_bytes", res->free_bytes);
    romfs_report_add_property_double(report, s, "used_percent", res->used_percent);
    romfs_report_add_property_u64(report, s, "max_asked_align", res->max_asked_align);
    romfs_report_add_property_u64(report, s, "misaligned_files", res->misaligned);
    for (int i = 0; i < ROMFS_CHECK_COUNT; i++)
        romfs_report_add_case(report, s, check_names[i], res->items[i].status,
                              i == ROMFS_CHECK_ALIGNMENT ? res->alignment_detail : NULL,
                              "%s", res->items[i].message);
    return report->out_of_memory ? ROMFS_ERR_NOMEM : ROMFS_OK;
}

/* ---- targets --------------------------------------------------------------------- */

void romfs_check_target_from_partition(const struct romfs_board *b, const struct romfs_partition *p,
                                       struct romfs_check_target *t)
{
    memset(t, 0, sizeof *t);
    snprintf(t->board, sizeof t->board, "%s", b->name ? b->name : "?");
    t->index = p->index;
    t->start = p->start;
    t->size = p->size;
    t->erase_block = p->erase_block;
    t->write_block = p->write_block;
    t->mmap = p->mmap ? 1 : 0;
    /* esp32 records the romfs partition's flash offset (mmap false), but the port maps
       it with esp_partition_mmap() before VfsRom reads it (ports/esp32/esp32_partition.c). */
    if (!p->mmap && b->port && strcmp(b->port, "esp32") == 0)
        t->mmap = 2;
    t->erase_map = b->erase_map;
    t->n_erase_map = b->n_erase_map;
    snprintf(t->source, sizeof t->source, "boards.json: %s", p->source ? p->source : b->name);
    if (p->core)
        snprintf(t->core, sizeof t->core, "%s", p->core);
}

int romfs_check_target_from_board(const struct romfs_board *b, int index,
                                  struct romfs_check_target *t, struct romfs_error *err)
{
    memset(t, 0, sizeof *t);
    const struct romfs_partition *p = romfs_board_partition(b, index);
    if (!p) {
        char have[128] = "";
        size_t n = 0;
        for (size_t i = 0; i < b->n_partitions && n + 8 < sizeof have; i++)
            n += (size_t)snprintf(have + n, sizeof have - n, "%s%d", i ? ", " : "",
                                  b->partitions[i].index);
        if (b->n_partitions)
            return romfs_set_error(err, ROMFS_ERR_NOENT, "board %s has no ROMFS partition %d (it has %s)",
                                   b->name, index, have);
        return romfs_set_error_need(err, ROMFS_ERR_NOENT, ROMFS_NEED_FIRMWARE_BUILD,
                               "board %s has no ROMFS partition in its default build%s%s%s",
                               b->name, b->romfs_option ? " (it needs " : "",
                               b->romfs_option ? b->romfs_option : "", b->romfs_option ? ")" : "");
    }
    romfs_check_target_from_partition(b, p, t);
    return ROMFS_OK;
}

int romfs_check_image_for_board(const uint8_t *data, size_t len, const struct romfs_boards *db,
                                const char *board_name, int index, struct romfs_error *err)
{
    struct romfs_boards own;
    memset(&own, 0, sizeof own);
    if (!db) {
        int rc = romfs_boards_load(NULL, &own, err);
        if (rc)
            return rc;
        db = &own;
    }
    int rc;
    const struct romfs_board *b = romfs_boards_lookup(db, board_name, err);
    if (!b) {
        rc = err ? err->code : ROMFS_ERR_NOENT;
    } else {
        struct romfs_check_target t;
        rc = romfs_check_target_from_board(b, index, &t, err);
        if (rc == ROMFS_OK) {
            struct romfs_check_result res;
            rc = romfs_check_image(data, len, &t, NULL, &res, err);
            romfs_check_result_free(&res);
        }
    }
    romfs_boards_free(&own);
    return rc;
}
