/* layout.c: firmware / ROMFS / filesystem boundaries in a board's flash (see
 * plan/layout.h for the rules). */
#include "plan/layout.h"

#include <ctype.h>
#include <cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/range.h"
#include "base/template.h"

#define LAYOUT_TEMPLATE "ld/romfs_memory.ld.in"

/* Start of the erase block containing addr, and its size (0 if unknown). */

/* A MEMORY region name for the fragment: the board's own when it is a linker identifier,
 * else `fallback` (rp2/esp32 entries describe their regions in words). */
static const char *ld_region_name(const char *name, const char *fallback)
{
    if (!name || !*name || !(isalpha((unsigned char)name[0]) || name[0] == '_'))
        return fallback;
    for (const char *c = name; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '_' && *c != '.')
            return fallback;
    return name;
}

static uint64_t erase_floor(const struct romfs_board *b, uint64_t addr, uint64_t *block)
{
    for (size_t i = 0; i < b->n_erase_map; i++) {
        const struct romfs_erase_range *r = &b->erase_map[i];
        if (r->block && addr >= r->start && addr - r->start < r->size) {
            *block = r->block;
            return r->start + (addr - r->start) / r->block * r->block;
        }
    }
    *block = b->erase_block;
    /* Erase blocks are aligned to absolute addresses: flash is mapped at addresses
       aligned to at least its erase block, even where a board's flash region starts
       after a header (mimxrt's 0x60000400). */
    return b->erase_block ? addr / b->erase_block * b->erase_block : addr;
}

static uint64_t erase_ceil(const struct romfs_board *b, uint64_t addr)
{
    uint64_t block;
    uint64_t lo = erase_floor(b, addr, &block);
    return lo == addr || !block ? addr : lo + block;
}

static uint32_t erase_at(const struct romfs_board *b, uint64_t addr)
{
    uint64_t block;
    erase_floor(b, addr, &block);
    return (uint32_t)block;
}

/* Round addr down to an erase boundary that is also a multiple of align. */
static uint64_t floor_aligned(const struct romfs_board *b, uint64_t addr, uint64_t align)
{
    for (int guard = 0; guard < 64; guard++) {
        uint64_t block, next = erase_floor(b, addr, &block);
        if (align > 1)
            next -= next % align;
        if (next == addr)
            break;
        addr = next;
    }
    return addr;
}

static const char *kib(uint64_t n, char *buf, size_t size)
{
    if (n % (1024 * 1024) == 0 && n)
        snprintf(buf, size, "%" PRIu64 "M", n / (1024 * 1024));
    else if (n % 1024 == 0 && n)
        snprintf(buf, size, "%" PRIu64 "K", n / 1024);
    else
        snprintf(buf, size, "%" PRIu64 " bytes", n);
    return buf;
}

/* When a plan does not fit, a firmware size measured from a build may make it fit. */
static enum romfs_need fit_need(const struct romfs_layout_plan *plan)
{
    return plan->firmware_estimated ? ROMFS_NEED_FIRMWARE_SIZE : ROMFS_NEED_NOTHING;
}

/* The board keeps its ROMFS in a flash device of its own (stm32's QSPI/OSPI): plan the
 * ROMFS there, inside the MEMORY region it has now; firmware and filesystem stay. */
static int plan_external(const struct romfs_board *b, const struct romfs_partition *p0,
                         const struct romfs_layout_request *req, struct romfs_layout_plan *plan,
                         struct romfs_error *err)
{
    char a[32], c[32];
    if (req->fs_size_given)
        return romfs_set_error(err, ROMFS_ERR_INVAL,
                               "board %s keeps its ROMFS in %s flash at 0x%08" PRIx64 ": the internal "
                               "flash layout (and its filesystem) does not change, so a filesystem size does not apply",
                               b->name, p0->device ? p0->device : "external", p0->start);
    uint64_t avail_end = p0->start + p0->size;
    const char *region = p0->region;
    for (size_t i = 0; i < b->n_flash; i++) {
        const struct romfs_region *r = &b->flash[i];
        if (p0->start >= r->origin && p0->start - r->origin < r->length &&
            (!p0->region || (r->name && strcmp(r->name, p0->region) == 0))) {
            if (r->origin + r->length > avail_end)
                avail_end = r->origin + r->length;
            region = r->name;
        }
    }
    uint64_t eb = p0->erase_block ? p0->erase_block : 1;
    uint64_t size;
    if (!romfs_align_up(req->romfs_size, eb, &size))
        return romfs_set_error(err, ROMFS_ERR_RANGE, "board %s: ROMFS size too large", b->name);
    plan->romfs_external = true;
    plan->romfs.name = region ? region : "FLASH_ROMFS";
    plan->romfs.start = p0->start;
    plan->romfs.size = size;
    plan->romfs_erase_block = (uint32_t)eb;
    plan->flash_start = p0->start;
    plan->flash_end = avail_end;
    snprintf(plan->span_end_source, sizeof plan->span_end_source, "the end of %s",
             region ? region : "the ROMFS region");
    if (size > avail_end - p0->start)
        return romfs_set_error_need(err, ROMFS_ERR_FBIG, fit_need(plan),
                               "board %s: does not fit by %" PRIu64 " bytes: a %s ROMFS in %s flash "
                               "region %s at 0x%08" PRIx64 " which holds %s",
                               b->name, size - (avail_end - p0->start), kib(size, a, sizeof a),
                               p0->device ? p0->device : "external", plan->romfs.name, p0->start,
                               kib(avail_end - p0->start, c, sizeof c));
    plan->firmware.name = ld_region_name(b->text_region, "FLASH_APP");
    plan->firmware.start = b->text_size ? b->text_start : b->flash_base;
    plan->firmware.size = b->text_size ? b->text_size : b->flash_size;
    if (req->firmware_size_given) {
        plan->firmware_used = req->firmware_size;
        snprintf(plan->firmware_source, sizeof plan->firmware_source, "%s",
                 req->firmware_source ? req->firmware_source : "given size");
    } else {
        plan->firmware_used = plan->firmware.size;
        plan->firmware_estimated = true;
        snprintf(plan->firmware_source, sizeof plan->firmware_source,
                 "the whole %s region of its linker script (an upper bound)",
                 plan->firmware.name);
    }
    plan->firmware_needed_end = plan->firmware.start + plan->firmware_used + req->headroom;
    if (plan->firmware_needed_end > plan->firmware.start + plan->firmware.size)
        return romfs_set_error_need(err, ROMFS_ERR_FBIG, fit_need(plan),
                               "board %s: the firmware (%s) is %" PRIu64 " bytes larger than its %s region",
                               b->name, plan->firmware_source,
                               plan->firmware_needed_end - plan->firmware.start - plan->firmware.size,
                               plan->firmware.name);
    plan->firmware_free = plan->firmware.start + plan->firmware.size - plan->firmware_needed_end;
    if (b->fs_size) {
        plan->fs.name = ld_region_name(b->fs_region, "FLASH_FS");
        plan->fs.start = b->fs_start;
        plan->fs.size = b->fs_size;
        plan->fs_erase_block = erase_at(b, b->fs_start);
    }
    return ROMFS_OK;
}

int romfs_layout_plan(const struct romfs_board *b, const struct romfs_layout_request *req,
                      struct romfs_layout_plan *plan, struct romfs_error *err)
{
    memset(plan, 0, sizeof *plan);
    plan->board = b;
    if (!b->flash_size || (!b->erase_block && !b->n_erase_map))
        return romfs_set_error(err, ROMFS_ERR_INVAL,
                               "board %s has no flash geometry (size and erase block) in boards.json",
                               b->name);
    if (!req->romfs_size)
        return romfs_set_error(err, ROMFS_ERR_INVAL, "ROMFS size must be more than 0");
    if (req->align & (req->align - 1))
        return romfs_set_error(err, ROMFS_ERR_INVAL, "alignment %u is not a power of two", req->align);
    /* Every sum below stays far from wrapping when each term fits the address space. */
    if (!romfs_range_fits_bits(0, req->romfs_size, ROMFS_ADDRESS_BITS) ||
        !romfs_range_fits_bits(0, req->headroom, ROMFS_ADDRESS_BITS))
        return romfs_set_error(err, ROMFS_ERR_RANGE, "board %s: ROMFS size or headroom passes the %d-bit address space",
                               b->name, ROMFS_ADDRESS_BITS);

    const struct romfs_partition *p0 = romfs_board_partition(b, 0);
    if (p0 && (p0->start < b->flash_base || p0->start - b->flash_base >= b->flash_size))
        return plan_external(b, p0, req, plan, err);

    uint64_t device_end = b->flash_base + b->flash_size;
    uint64_t end_block;
    device_end = erase_floor(b, device_end, &end_block);   /* no partial block at the top */
    uint64_t fw_start = b->flash_base;
    if (b->text_size && b->text_start >= b->flash_base && b->text_start < device_end)
        fw_start = b->text_start;
    /* The span to share out ends where the board's current firmware, ROMFS and filesystem
       end: what lies above (a bootloader, reserved sectors) is left alone. */
    uint64_t flash_end = 0;
    const char *top_what = "the end of flash";
    if (b->text_size && b->text_start + b->text_size <= device_end) {
        flash_end = b->text_start + b->text_size;
        top_what = "the end of the firmware region";
    }
    for (size_t i = 0; i < b->n_partitions; i++) {
        const struct romfs_partition *p = &b->partitions[i];
        if (p->start >= fw_start && p->start + p->size <= device_end && p->start + p->size > flash_end) {
            flash_end = p->start + p->size;
            top_what = "the end of the current ROMFS";
        }
    }
    if (b->fs_size && b->fs_start >= fw_start && b->fs_start + b->fs_size <= device_end &&
        b->fs_start + b->fs_size > flash_end) {
        flash_end = b->fs_start + b->fs_size;
        top_what = "the end of the current filesystem";
    }
    if (!flash_end) {
        flash_end = device_end;
        top_what = "the end of flash";
    }
    flash_end = erase_floor(b, flash_end, &end_block);
    snprintf(plan->span_end_source, sizeof plan->span_end_source, "%s", top_what);
    plan->flash_start = fw_start;
    plan->flash_end = flash_end;

    /* Firmware footprint. */
    if (req->firmware_size_given) {
        plan->firmware_used = req->firmware_size;
        snprintf(plan->firmware_source, sizeof plan->firmware_source, "%s",
                 req->firmware_source ? req->firmware_source : "given size");
    } else if (b->text_size) {
        plan->firmware_used = b->text_size;
        plan->firmware_estimated = true;
        snprintf(plan->firmware_source, sizeof plan->firmware_source,
                 "the whole %s region of its linker script (an upper bound)",
                 b->text_region ? b->text_region : "text");
    } else {
        return romfs_set_error_need(err, ROMFS_ERR_INVAL, ROMFS_NEED_FIRMWARE_SIZE,
                                    "board %s: firmware size unknown", b->name);
    }
    uint64_t span = flash_end - fw_start;
    uint64_t want_end = fw_start + plan->firmware_used + req->headroom;
    plan->firmware_needed_end = want_end >= flash_end ? want_end : erase_ceil(b, want_end);

    /* Filesystem at the top of flash. */
    uint64_t fs_size = req->fs_size;
    if (!req->fs_size_given)
        fs_size = b->fs_region && b->fs_size && b->fs_start >= fw_start && b->fs_start < flash_end
                      ? b->fs_size : 0;
    char a[32], c[32], d[32], e[32];
    uint64_t fs_start = flash_end;
    if (fs_size) {
        if (fs_size > span)
            return romfs_set_error(err, ROMFS_ERR_FBIG,
                                   "board %s: a %s filesystem alone is %" PRIu64 " bytes more than "
                                   "the %s from 0x%08" PRIx64 " to %s",
                                   b->name, kib(fs_size, a, sizeof a), fs_size - span,
                                   kib(span, c, sizeof c), fw_start, top_what);
        fs_start = floor_aligned(b, flash_end - fs_size, 1);
    }
    plan->fs.name = ld_region_name(b->fs_region, "FLASH_FS");
    plan->fs.start = fs_start;
    plan->fs.size = flash_end - fs_start;
    plan->fs_erase_block = fs_size ? erase_at(b, fs_start) : 0;

    /* ROMFS directly below. */
    if (req->romfs_size > fs_start - fw_start) {
        uint64_t short_by = plan->firmware_needed_end - fw_start + req->romfs_size - (fs_start - fw_start);
        return romfs_set_error_need(err, ROMFS_ERR_FBIG, fit_need(plan),
                               "board %s: does not fit: firmware %s (%s) + ROMFS %s + filesystem %s "
                               "need %" PRIu64 " bytes more than the %s from 0x%08" PRIx64
                               " to %s",
                               b->name, kib(plan->firmware_used, a, sizeof a), plan->firmware_source,
                               kib(req->romfs_size, c, sizeof c), kib(plan->fs.size, d, sizeof d),
                               short_by, kib(span, e, sizeof e), fw_start, top_what);
    }
    uint64_t romfs_start = floor_aligned(b, fs_start - req->romfs_size, req->align);
    plan->romfs.name = "FLASH_ROMFS";
    plan->romfs.start = romfs_start;
    plan->romfs.size = fs_start - romfs_start;
    plan->romfs_erase_block = erase_at(b, romfs_start);

    plan->firmware.name = ld_region_name(b->text_region, "FLASH_APP");
    plan->firmware.start = fw_start;
    plan->firmware.size = romfs_start - fw_start;
    if (romfs_start < fw_start || plan->firmware_needed_end > romfs_start) {
        uint64_t short_by = plan->firmware_needed_end - romfs_start;
        return romfs_set_error_need(err, ROMFS_ERR_FBIG, fit_need(plan),
                               "board %s: does not fit by %" PRIu64 " bytes: the firmware (%s from 0x%08"
                               PRIx64 ", %s) rounded up to an erase block ends at 0x%08" PRIx64
                               ", but a %s ROMFS%s%s must start at 0x%08" PRIx64,
                               b->name, short_by, kib(plan->firmware_used, a, sizeof a), fw_start,
                               plan->firmware_source, plan->firmware_needed_end,
                               kib(plan->romfs.size, c, sizeof c),
                               fs_size ? " below the filesystem of " : "",
                               fs_size ? kib(plan->fs.size, d, sizeof d) : "", romfs_start);
    }
    plan->firmware_free = romfs_start - plan->firmware_needed_end;
    return ROMFS_OK;
}

/* ---- rendering -------------------------------------------------------------------- */

/* The value of placeholder at[1..name_len], or NULL when it is not a known name. */
static const char *const *find_placeholder(const char *at, size_t name_len,
                                           const char *const *names, const char *const *values,
                                           size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (strlen(names[k]) == name_len && memcmp(names[k], at + 1, name_len) == 0)
            return &values[k];
    return NULL;
}

char *romfs_layout_fill_template(const char *template, const char *const *names,
                                 const char *const *values, size_t n)
{
    struct romfs_buf out = { 0 }, line_out = { 0 };
    for (const char *line = template; *line && !out.failed;) {
        const char *eol = strchr(line, '\n');
        size_t line_len = eol ? (size_t)(eol - line) + 1 : strlen(line);
        /* Build the filled line; drop it if a placeholder's value is NULL. */
        romfs_buf_clear(&line_out);
        bool drop = false;
        for (size_t i = 0; i < line_len && !drop;) {
            const char *at = line + i;
            const char *close = *at == '@' ? memchr(at + 1, '@', line_len - i - 1) : NULL;
            const char *const *value =
                close ? find_placeholder(at, (size_t)(close - at - 1), names, values, n) : NULL;
            if (value && !*value) {
                drop = true;
            } else if (value) {
                romfs_buf_puts(&line_out, *value);
                i += (size_t)(close - at) + 1;
            } else {
                romfs_buf_append(&line_out, at, 1);
                i++;
            }
        }
        if (!drop)
            romfs_buf_append(&out, line_out.data, line_out.len);
        out.failed |= line_out.failed;
        line += line_len;
    }
    romfs_buf_free(&line_out);
    return romfs_buf_take(&out);
}

char *romfs_layout_render_ld(const struct romfs_layout_plan *p)
{
    const char *tmpl = romfs_template(LAYOUT_TEMPLATE, NULL);
    if (!tmpl)
        return NULL;
    char fw_o[24], fw_l[24], ro_o[24], ro_l[24], fs_o[24], fs_l[24], used[64], eb[32], fb[64];
    snprintf(fw_o, sizeof fw_o, "0x%08" PRIx64, p->firmware.start);
    snprintf(fw_l, sizeof fw_l, "0x%08" PRIx64, p->firmware.size);
    snprintf(ro_o, sizeof ro_o, "0x%08" PRIx64, p->romfs.start);
    snprintf(ro_l, sizeof ro_l, "0x%08" PRIx64, p->romfs.size);
    snprintf(fs_o, sizeof fs_o, "0x%08" PRIx64, p->fs.start);
    snprintf(fs_l, sizeof fs_l, "0x%08" PRIx64, p->fs.size);
    snprintf(used, sizeof used, "%" PRIu64, p->firmware_used);
    snprintf(eb, sizeof eb, "%" PRIu32, p->romfs_erase_block);
    snprintf(fb, sizeof fb, "%" PRIu64, p->firmware_free);
    bool fs = p->fs.size > 0;
    const char *names[] = { "BOARD", "PORT", "MCU", "FIRMWARE_SOURCE", "FIRMWARE_USED", "FIRMWARE_FREE",
                            "ERASE_BLOCK", "TEXT_REGION", "FIRMWARE_ORIGIN", "FIRMWARE_LENGTH",
                            "ROMFS_ORIGIN", "ROMFS_LENGTH", "FS_REGION", "FS_ORIGIN", "FS_LENGTH" };
    const char *values[] = { p->board->name, p->board->port ? p->board->port : "?",
                             p->board->mcu ? p->board->mcu : "?", p->firmware_source, used, fb, eb,
                             p->firmware.name, fw_o, fw_l, ro_o, ro_l,
                             fs ? p->fs.name : NULL, fs ? fs_o : NULL, fs ? fs_l : NULL };
    return romfs_layout_fill_template(tmpl, names, values, sizeof names / sizeof names[0]);
}

static cJSON *region_json(const struct romfs_layout_region *r, uint32_t erase)
{
    cJSON *o = cJSON_CreateObject();
    char hex[24];
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "region", r->name);
    cJSON_AddNumberToObject(o, "start", (double)r->start);
    snprintf(hex, sizeof hex, "0x%08" PRIx64, r->start);
    cJSON_AddStringToObject(o, "start_hex", hex);
    cJSON_AddNumberToObject(o, "size", (double)r->size);
    cJSON_AddNumberToObject(o, "end", (double)(r->start + r->size));
    if (erase)
        cJSON_AddNumberToObject(o, "erase_block", erase);
    return o;
}

char *romfs_layout_to_json(const struct romfs_layout_plan *p)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    cJSON_AddStringToObject(root, "board", p->board->name);
    if (p->board->port)
        cJSON_AddStringToObject(root, "port", p->board->port);
    cJSON_AddNumberToObject(root, "flash_start", (double)p->flash_start);
    cJSON_AddNumberToObject(root, "flash_end", (double)p->flash_end);
    cJSON_AddStringToObject(root, "flash_end_is", p->span_end_source);
    cJSON_AddBoolToObject(root, "romfs_external", p->romfs_external);
    cJSON *fw = region_json(&p->firmware, 0);
    if (fw) {
        cJSON_AddNumberToObject(fw, "used", (double)p->firmware_used);
        cJSON_AddStringToObject(fw, "used_source", p->firmware_source);
        cJSON_AddNumberToObject(fw, "free", (double)p->firmware_free);
        cJSON_AddItemToObject(root, "firmware", fw);
    }
    cJSON_AddItemToObject(root, "romfs", region_json(&p->romfs, p->romfs_erase_block));
    if (p->fs.size)
        cJSON_AddItemToObject(root, "filesystem", region_json(&p->fs, p->fs_erase_block));
    else
        cJSON_AddNullToObject(root, "filesystem");
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}
