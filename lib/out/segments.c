/* segments.c: a flash image as (address, bytes) segments, and reading a firmware file of
 * any of the formats into them (see out/segments.h). */
#include "out/segments.h"
#include "out/outfile.h"
#include "base/file.h"
#include "ld/elf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int romfs_segments_add(struct romfs_segments *s, uint64_t address, const uint8_t *data, size_t size,
                       uint32_t uf2_family, const char *what, struct romfs_error *err)
{
    if (size == 0)
        return ROMFS_OK;
    if (address + size < address)
        return romfs_set_error(err, ROMFS_ERR_RANGE, "%s: %zu bytes at 0x%llx pass the address space",
                               what, size, (unsigned long long)address);
    struct romfs_segment *last = s->n ? &s->v[s->n - 1] : NULL;
    if (last && last->address + last->size == address && last->uf2_family == uf2_family &&
        strncmp(last->what, what, sizeof last->what - 1) == 0) {
        if (last->size + size > last->cap) {
            size_t cap = last->cap * 2 > last->size + size ? last->cap * 2 : last->size + size;
            uint8_t *nd = realloc(last->data, cap);
            if (!nd)
                return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory reading %s", what);
            last->data = nd;
            last->cap = cap;
        }
        memcpy(last->data + last->size, data, size);
        last->size += size;
        return ROMFS_OK;
    }
    struct romfs_segment *nv = realloc(s->v, (s->n + 1) * sizeof *nv);
    if (!nv)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory reading %s", what);
    s->v = nv;
    struct romfs_segment *g = &s->v[s->n];
    memset(g, 0, sizeof *g);
    g->data = malloc(size);
    if (!g->data)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory for %zu bytes of %s", size, what);
    memcpy(g->data, data, size);
    g->address = address;
    g->size = g->cap = size;
    g->uf2_family = uf2_family;
    snprintf(g->what, sizeof g->what, "%s", what);
    s->n++;
    return ROMFS_OK;
}

void romfs_segments_sort(struct romfs_segments *s)
{
    for (size_t i = 1; i < s->n; i++)   /* insertion sort: stable, and n is small */
        for (size_t j = i; j > 0 && s->v[j - 1].address > s->v[j].address; j--) {
            struct romfs_segment t = s->v[j];
            s->v[j] = s->v[j - 1];
            s->v[j - 1] = t;
        }
}

int romfs_segments_check_overlap(const struct romfs_segments *s, struct romfs_error *err)
{
    for (size_t i = 0; i < s->n; i++)
        for (size_t j = i + 1; j < s->n; j++) {
            const struct romfs_segment *a = &s->v[i], *b = &s->v[j];
            if (a->address < b->address + b->size && b->address < a->address + a->size)
                return romfs_set_error(err, ROMFS_ERR_INVAL,
                                       "%s 0x%08llx..0x%08llx overlaps %s 0x%08llx..0x%08llx", a->what,
                                       (unsigned long long)a->address, (unsigned long long)(a->address + a->size),
                                       b->what, (unsigned long long)b->address,
                                       (unsigned long long)(b->address + b->size));
        }
    return ROMFS_OK;
}

bool romfs_segments_span(const struct romfs_segments *s, uint64_t *lo, uint64_t *hi)
{
    if (!s->n)
        return false;
    *lo = UINT64_MAX;
    *hi = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i].address < *lo)
            *lo = s->v[i].address;
        if (s->v[i].address + s->v[i].size > *hi)
            *hi = s->v[i].address + s->v[i].size;
    }
    return true;
}

uint64_t romfs_segments_bytes(const struct romfs_segments *s)
{
    uint64_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += s->v[i].size;
    return n;
}

void romfs_segments_free(struct romfs_segments *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].data);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

const char *romfs_fw_format_name(enum romfs_fw_format f)
{
    switch (f) {
    case ROMFS_FW_IHEX: return "Intel HEX";
    case ROMFS_FW_UF2: return "UF2";
    case ROMFS_FW_DFU: return "DfuSe";
    case ROMFS_FW_ELF: return "ELF";
    default: return "raw binary";
    }
}

static bool is_hex_digit(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

enum romfs_fw_format romfs_fw_format_of(const char *path, const uint8_t *data, size_t len)
{
    if (len >= 4 && memcmp(data, "\x7f" "ELF", 4) == 0)
        return ROMFS_FW_ELF;
    if (len >= 5 && memcmp(data, "DfuSe", 5) == 0)
        return ROMFS_FW_DFU;
    if (len >= 512 && le32(data) == ROMFS_UF2_MAGIC_START0 && le32(data + 4) == ROMFS_UF2_MAGIC_START1)
        return ROMFS_FW_UF2;
    size_t i = 0;
    while (i < len && (data[i] == ' ' || data[i] == '\r' || data[i] == '\n' || data[i] == '\t'))
        i++;
    if (i + 11 <= len && data[i] == ':') {
        bool all = true;
        for (size_t k = 1; k < 11; k++)
            all = all && is_hex_digit(data[i + k]);
        if (all)
            return ROMFS_FW_IHEX;
    }
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (dot && (!strcasecmp(dot, ".hex") || !strcasecmp(dot, ".ihex")))
        return ROMFS_FW_IHEX;
    if (dot && !strcasecmp(dot, ".uf2"))
        return ROMFS_FW_UF2;
    if (dot && !strcasecmp(dot, ".dfu"))
        return ROMFS_FW_DFU;
    if (dot && (!strcasecmp(dot, ".elf") || !strcasecmp(dot, ".axf")))
        return ROMFS_FW_ELF;
    return ROMFS_FW_BIN;
}

static int read_elf(const char *path, struct romfs_segments *out, struct romfs_error *err)
{
    struct romfs_elf_info info;
    int rc = romfs_elf_read_contents(path, &info, err);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    for (size_t i = 0; rc == ROMFS_OK && i < info.n_loads; i++) {
        const struct romfs_elf_load *l = &info.loads[i];
        char what[96];
        snprintf(what, sizeof what, "%.60s %.30s", base, l->section);
        /* consecutive sections of one file are one piece of flash: name it by the first */
        const struct romfs_segment *last = out->n ? &out->v[out->n - 1] : NULL;
        if (last && last->address + last->size == l->lma && strncmp(last->what, base, strlen(base)) == 0)
            snprintf(what, sizeof what, "%s", last->what);
        rc = romfs_segments_add(out, l->lma, l->data, (size_t)l->size, 0, what, err);
    }
    if (rc == ROMFS_OK && info.n_loads == 0)
        rc = romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: an ELF file with nothing to load into flash", path);
    romfs_elf_info_free(&info);
    return rc;
}

int romfs_segments_read_file(const char *path, bool has_bin_address, uint64_t bin_address,
                             struct romfs_segments *out, enum romfs_fw_format *format, struct romfs_error *err)
{
    uint8_t *data;
    size_t len;
    int rc = romfs_read_file(path, &data, &len, err);
    if (rc)
        return rc;
    enum romfs_fw_format f = romfs_fw_format_of(path, data, len);
    if (format)
        *format = f;
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    switch (f) {
    case ROMFS_FW_ELF:
        rc = read_elf(path, out, err);
        break;
    case ROMFS_FW_DFU:
        rc = romfs_dfu_file_parse(data, len, base, out, err);
        break;
    case ROMFS_FW_UF2:
        rc = romfs_uf2_parse(data, len, base, out, err);
        break;
    case ROMFS_FW_IHEX:
        rc = romfs_ihex_parse(data, len, base, out, err);
        break;
    default:
        if (!has_bin_address)
            rc = romfs_set_error_need(err, ROMFS_ERR_INVAL, ROMFS_NEED_ADDRESS,
                                      "%s is a raw binary, which carries no address, and the board "
                                      "records no firmware start", path);
        else if (len == 0)
            rc = romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s is empty", path);
        else
            rc = romfs_segments_add(out, bin_address, data, len, 0, base, err);
        break;
    }
    if (rc == ROMFS_OK && out->n == 0)
        rc = romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: a %s file with no data", path, romfs_fw_format_name(f));
    free(data);
    if (rc && f != ROMFS_FW_ELF && f != ROMFS_FW_BIN && !strstr(err ? err->msg : "", base))
        romfs_error_prefix(err, "%s", path);
    return rc;
}
