/* ihex.c: Intel HEX output with extended linear address (type 04) records. */
#include "out/outfile.h"
#include "base/range.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_DATA 16

/* Append one record ":LLAAAATT...CC\n" at *pos. */
static size_t record(char *out, uint8_t type, uint16_t addr, const uint8_t *data, uint8_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    uint8_t sum = (uint8_t)(n + (addr >> 8) + (addr & 0xff) + type);
    char *p = out;
    *p++ = ':';
    uint8_t head[4] = { n, (uint8_t)(addr >> 8), (uint8_t)addr, type };
    for (int i = 0; i < 4; i++) {
        *p++ = hex[head[i] >> 4];
        *p++ = hex[head[i] & 15];
    }
    for (uint8_t i = 0; i < n; i++) {
        sum = (uint8_t)(sum + data[i]);
        *p++ = hex[data[i] >> 4];
        *p++ = hex[data[i] & 15];
    }
    sum = (uint8_t)(0x100 - sum);
    *p++ = hex[sum >> 4];
    *p++ = hex[sum & 15];
    *p++ = '\n';
    return (size_t)(p - out);
}

int romfs_ihex_build_segments(const struct romfs_segments *segs, uint8_t **out, size_t *out_len,
                              struct romfs_error *err)
{
    size_t cap = 16;
    for (size_t k = 0; k < segs->n; k++) {
        const struct romfs_segment *g = &segs->v[k];
        if (!romfs_range_fits_bits(g->address, g->size, ROMFS_ADDRESS_BITS))
            return romfs_set_error(err, ROMFS_ERR_RANGE,
                                   "Intel HEX: %zu bytes of %s at 0x%08llx pass the 4 GiB address space",
                                   g->size, g->what, (unsigned long long)g->address);
        /* every data record: 11 + 2*16 + 1 chars; one 04 record per 64 KiB (plus the first) */
        cap += (g->size / RECORD_DATA + 2) * (12 + 2 * RECORD_DATA) + (g->size / 65536 + 2) * 16;
    }
    char *buf = malloc(cap), *p = buf;
    if (!buf)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory for Intel HEX output");
    uint32_t upper = 0;
    bool have_upper = false;
    for (size_t k = 0; k < segs->n; k++) {
        const struct romfs_segment *g = &segs->v[k];
        size_t off = 0, len = g->size;
        while (off < len) {
            uint32_t a = (uint32_t)g->address + (uint32_t)off;
            if (!have_upper || (a >> 16) != upper) {
                upper = a >> 16;
                have_upper = true;
                uint8_t ela[2] = { (uint8_t)(upper >> 8), (uint8_t)upper };
                p += record(p, 0x04, 0, ela, 2);
            }
            /* a record never crosses a 64 KiB boundary */
            size_t room = 0x10000 - (a & 0xffff);
            size_t n = len - off;
            if (n > RECORD_DATA)
                n = RECORD_DATA;
            if (n > room)
                n = room;
            p += record(p, 0x00, (uint16_t)(a & 0xffff), g->data + off, (uint8_t)n);
            off += n;
        }
    }
    p += record(p, 0x01, 0, NULL, 0);
    *out = (uint8_t *)buf;
    *out_len = (size_t)(p - buf);
    return ROMFS_OK;
}

int romfs_ihex_build(const uint8_t *image, size_t len, uint32_t address, uint8_t **out,
                     size_t *out_len, struct romfs_error *err)
{
    struct romfs_segment g = { .address = address, .data = (uint8_t *)image, .size = len };
    snprintf(g.what, sizeof g.what, "image");
    struct romfs_segments one = { &g, len ? 1 : 0 };
    return romfs_ihex_build_segments(&one, out, out_len, err);
}

static int hex_value(const char *p, size_t n, uint32_t *out)
{
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)p[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return 0;
}

int romfs_ihex_parse(const uint8_t *text, size_t len, const char *what, struct romfs_segments *out,
                     struct romfs_error *err)
{
    const char *p = (const char *)text, *end = p + len;
    uint32_t base = 0;
    int line = 0;
    bool eof = false;
    while (p < end && !eof) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        line++;
        const char *q = p;
        p = nl ? nl + 1 : end;
        while (le > q && (le[-1] == '\r' || le[-1] == ' ' || le[-1] == '\t'))
            le--;
        while (q < le && (*q == ' ' || *q == '\t'))
            q++;
        if (q == le)
            continue;
        uint32_t n, addr, type, v;
        if (*q != ':' || le - q < 11 || hex_value(q + 1, 2, &n) || hex_value(q + 3, 4, &addr) ||
            hex_value(q + 7, 2, &type) || (size_t)(le - q) != 11 + 2 * (size_t)n)
            return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: line %d is not an Intel HEX record", what, line);
        uint8_t data[255];
        uint32_t sum = n + (addr >> 8) + (addr & 0xff) + type;
        for (uint32_t i = 0; i <= n; i++) {
            if (hex_value(q + 9 + 2 * i, 2, &v))
                return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: line %d: not a hex digit", what, line);
            if (i < n)
                data[i] = (uint8_t)v;
            sum += v;
        }
        if (sum & 0xff)
            return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: line %d: checksum does not match", what, line);
        int rc = ROMFS_OK;
        switch (type) {
        case 0x00:
            rc = romfs_segments_add(out, (uint64_t)base + addr, data, n, 0, what, err);
            break;
        case 0x01:
            eof = true;
            break;
        case 0x02:   /* extended segment address: base = value * 16 */
        case 0x04:   /* extended linear address: base = value << 16 */
            if (n != 2)
                return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: line %d: address record of %u bytes", what,
                                       line, (unsigned)n);
            base = (uint32_t)(data[0] << 8 | data[1]) << (type == 0x02 ? 4 : 16);
            break;
        case 0x03:   /* start addresses: where execution starts, nothing to write */
        case 0x05:
            break;
        default:
            return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: line %d: unknown record type %02x", what, line,
                                   (unsigned)type);
        }
        if (rc)
            return rc;
    }
    if (!eof)
        return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: no end-of-file record (type 01): cut short?", what);
    return ROMFS_OK;
}

int romfs_write_ihex_file(const uint8_t *image, size_t len, uint32_t address, const char *path,
                          struct romfs_error *err)
{
    uint8_t *buf;
    size_t n;
    int rc = romfs_ihex_build(image, len, address, &buf, &n, err);
    if (rc)
        return rc;
    rc = romfs_write_file_atomic(path, buf, n, err);
    free(buf);
    return rc;
}
