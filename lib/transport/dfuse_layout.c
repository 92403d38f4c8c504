/* dfuse_layout.c: the DfuSe memory layout string of an alternate setting, e.g.
 * "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg" (ST UM0424 / AN3156):
 * a name, then one or more "/ADDRESS/COUNT*SIZE<unit><attr>,..." segments. */
#include "transport/dfu.h"

#include <string.h>

static int bad(struct romfs_error *err, const char *text, const char *p, const char *why)
{
    return romfs_set_error(err, ROMFS_ERR_CORRUPT,
                           "DfuSe layout \"%.120s\": %s at offset %zu", text, why,
                           (size_t)(p - text));
}

/* Decimal, or hex after 0x. At most 0xffffffff. */
static bool parse_number(const char **pp, bool allow_hex, uint64_t *out)
{
    const char *p = *pp;
    uint64_t v = 0;
    int base = 10, digits = 0;
    if (allow_hex && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    for (;; p++, digits++) {
        int c = (unsigned char)*p, dv;
        if (c >= '0' && c <= '9')
            dv = c - '0';
        else if (base == 16 && c >= 'a' && c <= 'f')
            dv = c - 'a' + 10;
        else if (base == 16 && c >= 'A' && c <= 'F')
            dv = c - 'A' + 10;
        else
            break;
        v = v * (uint64_t)base + (uint64_t)dv;
        if (v > 0xffffffffull)
            return false;
    }
    if (digits == 0)
        return false;
    *pp = p;
    *out = v;
    return true;
}

int romfs_dfuse_layout_parse(const char *text, struct romfs_dfuse_layout *out,
                             struct romfs_error *err)
{
    memset(out, 0, sizeof *out);
    if (!text)
        return romfs_set_error(err, ROMFS_ERR_CORRUPT, "no DfuSe layout string");
    const char *p = text;
    if (*p != '@')
        return bad(err, text, p, "expected '@' (not a DfuSe memory layout)");
    p++;
    const char *name = p;
    while (*p && *p != '/')
        p++;
    const char *name_end = p;
    while (name < name_end && *name == ' ')
        name++;
    while (name_end > name && name_end[-1] == ' ')
        name_end--;
    size_t nlen = (size_t)(name_end - name);
    if (nlen >= sizeof out->name)
        nlen = sizeof out->name - 1;
    memcpy(out->name, name, nlen);
    out->name[nlen] = '\0';
    if (*p != '/')
        return bad(err, text, p, "expected '/' and a start address");

    while (*p == '/') {
        p++;
        uint64_t addr;
        if (!parse_number(&p, true, &addr))
            return bad(err, text, p, "expected a start address");
        if (*p != '/')
            return bad(err, text, p, "expected '/' after the address");
        p++;
        for (;;) {
            uint64_t count, size;
            if (!parse_number(&p, false, &count) || count == 0)
                return bad(err, text, p, "expected a sector count");
            if (*p != '*')
                return bad(err, text, p, "expected '*'");
            p++;
            if (!parse_number(&p, false, &size) || size == 0)
                return bad(err, text, p, "expected a sector size");
            switch (*p) {
            case 'K': size *= 1024; p++; break;
            case 'M': size *= 1024 * 1024; p++; break;
            case 'B': case ' ': p++; break;
            default: break;
            }
            if (*p < 'a' || *p > 'g')
                return bad(err, text, p, "expected a sector type letter a..g");
            uint8_t attrs = (uint8_t)(*p - 'a' + 1);
            p++;
            if (size > 0xffffffffull || addr + count * size > 0x100000000ull)
                return bad(err, text, p, "sectors run past the 4 GiB address space");
            if (out->n_runs == ROMFS_DFUSE_MAX_RUNS)
                return bad(err, text, p, "too many sector runs");
            out->runs[out->n_runs++] = (struct romfs_dfuse_run){
                (uint32_t)addr, (uint32_t)count, (uint32_t)size, attrs };
            addr += count * size;
            while (*p == ' ')
                p++;
            if (*p != ',')
                break;
            p++;
        }
    }
    while (*p == ' ' || *p == '\r' || *p == '\n')
        p++;
    if (*p)
        return bad(err, text, p, "unexpected character");

    /* Sort by start (segments may be listed in any order), then refuse overlaps. */
    for (size_t i = 1; i < out->n_runs; i++)
        for (size_t j = i; j > 0 && out->runs[j - 1].start > out->runs[j].start; j--) {
            struct romfs_dfuse_run tmp = out->runs[j];
            out->runs[j] = out->runs[j - 1];
            out->runs[j - 1] = tmp;
        }
    for (size_t i = 1; i < out->n_runs; i++) {
        const struct romfs_dfuse_run *a = &out->runs[i - 1];
        if ((uint64_t)a->start + (uint64_t)a->count * a->size > out->runs[i].start)
            return romfs_set_error(err, ROMFS_ERR_CORRUPT,
                                   "DfuSe layout \"%.120s\": sectors at 0x%08x overlap", text,
                                   (unsigned)out->runs[i].start);
    }
    return ROMFS_OK;
}

bool romfs_dfuse_layout_sector(const struct romfs_dfuse_layout *l, uint64_t address,
                               uint32_t *start, uint32_t *size, uint8_t *attrs)
{
    for (size_t i = 0; i < l->n_runs; i++) {
        const struct romfs_dfuse_run *r = &l->runs[i];
        uint64_t end = (uint64_t)r->start + (uint64_t)r->count * r->size;
        if (address >= r->start && address < end) {
            uint64_t k = (address - r->start) / r->size;
            if (start)
                *start = (uint32_t)(r->start + k * r->size);
            if (size)
                *size = r->size;
            if (attrs)
                *attrs = r->attrs;
            return true;
        }
    }
    return false;
}
