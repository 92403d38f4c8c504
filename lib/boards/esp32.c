/* boards/esp32.c: ESP-IDF partition tables (CSV and binary) and their romfs partition. */
#define _GNU_SOURCE
#include "boards/esp32.h"

#include "base/range.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/md5.h>

#define TABLE_OFFSET 0x8000u   /* ESP-IDF default CONFIG_PARTITION_TABLE_OFFSET */
#define ENTRY_SIZE 32u

void romfs_esp32_table_free(struct romfs_esp32_table *t)
{
    free(t->parts);
    memset(t, 0, sizeof *t);
}

void romfs_partition_clear(struct romfs_partition *p)
{
    free(p->source);
    free(p->region);
    free(p->device);
    free(p->core);
    free(p->link);
    memset(p, 0, sizeof *p);
}

static struct romfs_esp32_part *add_part(struct romfs_esp32_table *t)
{
    struct romfs_esp32_part *n = realloc(t->parts, (t->n + 1) * sizeof *n);
    if (!n)
        return NULL;
    t->parts = n;
    memset(&n[t->n], 0, sizeof *n);
    return &n[t->n++];
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Partitions must not overlap, nor overlap the table itself. */
static int check_layout(const struct romfs_esp32_table *t, const char *what, struct romfs_error *err)
{
    for (size_t i = 0; i < t->n; i++) {
        const struct romfs_esp32_part *a = &t->parts[i];
        if (!romfs_range_fits_bits(a->offset, a->size, ROMFS_ADDRESS_BITS))
            return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s:%d: partition '%s' runs past 4 GiB", what, a->line,
                                   a->label);
        if (romfs_ranges_overlap(a->offset, a->size, TABLE_OFFSET, 0x1000))
            return romfs_set_error(err, ROMFS_ERR_CORRUPT,
                                   "%s:%d: partition '%s' at 0x%x overlaps the partition table at 0x%x", what,
                                   a->line, a->label, (unsigned)a->offset, TABLE_OFFSET);
        for (size_t j = 0; j < i; j++) {
            const struct romfs_esp32_part *b = &t->parts[j];
            if (romfs_ranges_overlap(a->offset, a->size, b->offset, b->size))
                return romfs_set_error(err, ROMFS_ERR_CORRUPT,
                                       "%s:%d: partition '%s' (0x%x+0x%x) overlaps '%s' (0x%x+0x%x)", what, a->line,
                                       a->label, (unsigned)a->offset, (unsigned)a->size, b->label,
                                       (unsigned)b->offset, (unsigned)b->size);
        }
    }
    return ROMFS_OK;
}

int romfs_esp32_table_parse_bin(const uint8_t *data, size_t len, const char *what, struct romfs_esp32_table *out,
                                struct romfs_error *err)
{
    memset(out, 0, sizeof *out);
    out->binary = true;
    for (size_t pos = 0;; pos += ENTRY_SIZE) {
        if (pos + ENTRY_SIZE > len || pos + ENTRY_SIZE > ROMFS_ESP32_TABLE_MAX)
            return romfs_set_error(err, ROMFS_ERR_CORRUPT,
                                   "%s: entry %zu: partition table has no end marker (0xFF entry) within %zu bytes",
                                   what, pos / ENTRY_SIZE, pos);
        const uint8_t *e = data + pos;
        if (e[0] == 0xFF && e[1] == 0xFF) {
            for (size_t k = 2; k < ENTRY_SIZE; k++)
                if (e[k] != 0xFF)
                    return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: entry %zu: end marker not all 0xFF", what,
                                           pos / ENTRY_SIZE);
            break;
        }
        if (e[0] == 0xEB && e[1] == 0xEB) {
            for (size_t k = 2; k < 16; k++)
                if (e[k] != 0xFF)
                    return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: entry %zu: malformed MD5 entry", what,
                                           pos / ENTRY_SIZE);
            unsigned char md5[16];
            if (mbedtls_md5_ret(data, pos, md5) != 0)
                return romfs_set_error(err, ROMFS_ERR_TOOL, "%s: MD5 failed", what);
            if (memcmp(md5, e + 16, 16) != 0)
                return romfs_set_error(err, ROMFS_ERR_CORRUPT,
                                       "%s: entry %zu: MD5 of the table does not match (table corrupted)", what,
                                       pos / ENTRY_SIZE);
            out->has_md5 = true;
            continue;
        }
        /* ESP-IDF's magic 0x50AA is stored little-endian: an entry starts AA 50. */
        if (e[0] != 0xAA || e[1] != 0x50)
            return romfs_set_error(err, ROMFS_ERR_CORRUPT,
                                   "%s: entry %zu: bad magic bytes %02x %02x (expected aa 50, ESP-IDF's 0x50AA)",
                                   what, pos / ENTRY_SIZE, e[0], e[1]);
        if (out->has_md5)
            return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: entry %zu: partition after the MD5 entry", what,
                                   pos / ENTRY_SIZE);
        struct romfs_esp32_part *p = add_part(out);
        if (!p)
            return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
        p->type = e[2];
        p->subtype = e[3];
        p->offset = le32(e + 4);
        p->size = le32(e + 8);
        memcpy(p->label, e + 12, 16);
        p->label[16] = 0;
        p->flags = le32(e + 28);
        p->line = (int)(pos / ENTRY_SIZE);
    }
    return check_layout(out, what, err);
}

/* ---- CSV ---- */

static const struct { const char *name; uint8_t type, subtype; } subtypes[] = {
    { "factory", 0, 0x00 }, { "test", 0, 0x20 },
    { "ota", 1, 0x00 }, { "phy", 1, 0x01 }, { "nvs", 1, 0x02 }, { "coredump", 1, 0x03 },
    { "nvs_keys", 1, 0x04 }, { "efuse", 1, 0x05 }, { "undefined", 1, 0x06 },
    { "esphttpd", 1, 0x80 }, { "fat", 1, 0x81 }, { "spiffs", 1, 0x82 }, { "littlefs", 1, 0x83 },
};

/* A number as gen_esp32part.py reads it: decimal or 0x hex, optional K or M suffix. */
static bool csv_number(const char *s, uint64_t *out)
{
    if (!*s)
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *s == '-')
        return false;
    uint64_t scaled = v;
    if (*end == 'k' || *end == 'K') {
        if (!romfs_mul_u64(v, 1024, &scaled))
            return false;
        end++;
    } else if (*end == 'm' || *end == 'M') {
        if (!romfs_mul_u64(v, 1024 * 1024, &scaled))
            return false;
        end++;
    }
    if (*end || scaled > 0xffffffffull)
        return false;
    *out = scaled;
    return true;
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    size_t k = 0;
    while (s[k] && isspace((unsigned char)s[k]))
        k++;
    memmove(s, s + k, n - k + 1);
}

int romfs_esp32_table_parse_csv(const char *text, size_t len, const char *what, struct romfs_esp32_table *out,
                                struct romfs_error *err)
{
    memset(out, 0, sizeof *out);
    uint64_t next = TABLE_OFFSET + 0x1000u;
    int line = 0;
    for (size_t pos = 0; pos < len;) {
        size_t eol = pos;
        while (eol < len && text[eol] != '\n')
            eol++;
        line++;
        char buf[512];
        size_t n = eol - pos;
        if (n >= sizeof buf)
            return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s:%d: line too long", what, line);
        memcpy(buf, text + pos, n);
        buf[n] = 0;
        pos = eol + 1;
        if (memchr(buf, 0, n))
            return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s:%d: NUL byte in a CSV line", what, line);
        char *hash = strchr(buf, '#');
        if (hash)
            *hash = 0;
        trim(buf);
        if (!buf[0])
            continue;
        char *field[6] = { 0 };
        size_t nf = 0;
        for (char *p = buf; nf < 6;) {
            field[nf++] = p;
            char *c = strchr(p, ',');
            if (!c)
                break;
            *c = 0;
            p = c + 1;
        }
        for (size_t i = 0; i < nf; i++)
            trim(field[i]);
        if (nf < 5)
            return romfs_set_error(err, ROMFS_ERR_CORRUPT,
                                   "%s:%d: expected name, type, subtype, offset, size[, flags]", what, line);
        struct romfs_esp32_part *p = add_part(out);
        if (!p)
            return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
        p->line = line;
        if (strlen(field[0]) > 16 || !field[0][0])
            return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s:%d: partition name '%s' empty or longer than 16",
                                   what, line, field[0]);
        strcpy(p->label, field[0]);
        uint64_t v;
        if (!strcasecmp(field[1], "app"))
            p->type = ROMFS_ESP32_TYPE_APP;
        else if (!strcasecmp(field[1], "data"))
            p->type = ROMFS_ESP32_TYPE_DATA;
        else if (csv_number(field[1], &v) && v <= 0xfe)
            p->type = (uint8_t)v;
        else
            return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s:%d: unknown partition type '%s'", what, line,
                                   field[1]);
        bool known = false;
        for (size_t i = 0; i < sizeof subtypes / sizeof subtypes[0] && !known; i++)
            if (subtypes[i].type == p->type && !strcasecmp(subtypes[i].name, field[2])) {
                p->subtype = subtypes[i].subtype;
                known = true;
            }
        unsigned ota;
        char extra;
        if (!known && p->type == ROMFS_ESP32_TYPE_APP && sscanf(field[2], "ota_%u%c", &ota, &extra) == 1 && ota < 16) {
            p->subtype = (uint8_t)(0x10 + ota);
            known = true;
        }
        if (!known && field[2][0] == 0 && p->type == ROMFS_ESP32_TYPE_DATA)
            known = true; /* empty data subtype: 0 */
        if (!known && csv_number(field[2], &v) && v <= 0xfe) {
            p->subtype = (uint8_t)v;
            known = true;
        }
        if (!known)
            return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s:%d: unknown subtype '%s' for type '%s'", what, line,
                                   field[2], field[1]);
        uint32_t align = p->type == ROMFS_ESP32_TYPE_APP ? 0x10000u : 0x1000u;
        if (field[3][0]) {
            if (!csv_number(field[3], &v))
                return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s:%d: bad offset '%s'", what, line, field[3]);
            if (v % align)
                return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s:%d: offset 0x%llx of '%s' not aligned to 0x%x",
                                       what, line, (unsigned long long)v, p->label, (unsigned)align);
        } else if (!romfs_align_up(next, align, &v) || v > 0xffffffffull) {
            return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s:%d: partition '%s' would start past 4 GiB", what,
                                   line, p->label);
        }
        p->offset = (uint32_t)v;
        uint64_t size;
        if (!csv_number(field[4], &size) || size == 0)
            return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s:%d: bad size '%s'", what, line, field[4]);
        p->size = (uint32_t)size;
        next = (uint64_t)p->offset + size;
        if (nf == 6 && field[5][0]) {
            char *save = NULL;
            for (char *f = strtok_r(field[5], ":", &save); f; f = strtok_r(NULL, ":", &save)) {
                trim(f);
                if (!strcasecmp(f, "encrypted"))
                    p->flags |= 1;
                else if (!strcasecmp(f, "readonly"))
                    p->flags |= 2;
                else if (*f)
                    return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s:%d: unknown flag '%s'", what, line, f);
            }
        }
    }
    if (!out->n)
        return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: no partitions", what);
    return check_layout(out, what, err);
}

int romfs_esp32_table_load(const char *path, struct romfs_esp32_table *out, struct romfs_error *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return romfs_set_errno(err, errno == ENOENT ? ROMFS_ERR_NOENT : ROMFS_ERR_IO, errno, "%s", path);
    size_t cap = 1 << 16;
    uint8_t *buf = malloc(cap);
    size_t n = buf ? fread(buf, 1, cap, f) : 0;
    bool more = buf && n == cap && fgetc(f) != EOF;
    fclose(f);
    if (!buf)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    int rc;
    if (n >= 2 && ((buf[0] == 0xAA && buf[1] == 0x50) || (buf[0] == 0xEB && buf[1] == 0xEB)))
        rc = romfs_esp32_table_parse_bin(buf, n, path, out, err);
    else if (more)
        rc = romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: neither a binary partition table nor a CSV one", path);
    else
        rc = romfs_esp32_table_parse_csv((const char *)buf, n, path, out, err);
    free(buf);
    return rc;
}

int romfs_esp32_table_romfs(const struct romfs_esp32_table *t, const char *what, struct romfs_partition *out,
                            struct romfs_error *err)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < t->n; i++) {
        const struct romfs_esp32_part *p = &t->parts[i];
        if (p->type != ROMFS_ESP32_TYPE_DATA || strcmp(p->label, "romfs") != 0)
            continue;
        out->index = 0;
        out->start = p->offset;
        out->size = p->size;
        out->erase_block = 4096;
        out->write_block = 4;
        out->mmap = false; /* a flash offset; the port maps it with esp_partition_mmap() */
        out->device = strdup("spi");
        int r = t->binary ? asprintf(&out->source, "%s: entry %d: romfs partition (data, subtype 0x%02x)", what,
                                     p->line, p->subtype)
                          : asprintf(&out->source, "%s:%d: romfs partition (data, subtype 0x%02x)", what, p->line,
                                     p->subtype);
        if (r < 0)
            out->source = NULL;
        if (!out->device || !out->source) {
            romfs_partition_clear(out);
            return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
        }
        return ROMFS_OK;
    }
    return romfs_set_error(err, ROMFS_ERR_NOENT, "%s: no partition of type data labelled \"romfs\"", what);
}
