/* ihex.c: Intel HEX output with extended linear address (type 04) records. */
#include "out/outfile.h"
#include "base/range.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

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

int romfs_ihex_build(const uint8_t *image, size_t len, uint32_t address, uint8_t **out,
                     size_t *out_len, struct romfs_error *err)
{
    if (!romfs_range_fits_bits(address, len, ROMFS_ADDRESS_BITS))
        return romfs_set_error(err, ROMFS_ERR_RANGE,
                               "Intel HEX: %zu bytes at 0x%08x pass the 4 GiB address space",
                               len, (unsigned)address);
    /* Every data record: 11 + 2*16 + 1 chars; one 04 record per 64 KiB (plus the first). */
    size_t cap = (len / RECORD_DATA + 2) * (12 + 2 * RECORD_DATA) + (len / 65536 + 2) * 16 + 16;
    char *buf = malloc(cap), *p = buf;
    if (!buf)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory for Intel HEX output");
    uint32_t upper = 0;
    bool have_upper = false;
    size_t off = 0;
    while (off < len) {
        uint32_t a = address + (uint32_t)off;
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
        p += record(p, 0x00, (uint16_t)(a & 0xffff), image + off, (uint8_t)n);
        off += n;
    }
    p += record(p, 0x01, 0, NULL, 0);
    *out = (uint8_t *)buf;
    *out_len = (size_t)(p - buf);
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
