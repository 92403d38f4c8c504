/* dfufile.c: DfuSe .dfu files (ST UM0391) with the DFU 1.1 suffix, and atomic output. */
#include "out/outfile.h"
#include "base/range.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define PREFIX_LEN 11
#define TARGET_PREFIX_LEN 274
#define ELEMENT_HEADER_LEN 8
#define SUFFIX_LEN 16

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

uint32_t romfs_dfu_crc(const uint8_t *data, size_t len)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    while (len) {   /* zlib takes uInt lengths */
        uInt n = len > 0x40000000u ? 0x40000000u : (uInt)len;
        crc = crc32(crc, data, n);
        data += n;
        len -= n;
    }
    return (uint32_t)crc ^ 0xffffffffu;
}

int romfs_dfu_file_build(const uint8_t *image, size_t len, const struct romfs_dfu_file_options *o,
                         uint8_t **out, size_t *out_len, struct romfs_error *err)
{
    if (!romfs_range_fits_bits(o->address, len, ROMFS_ADDRESS_BITS))
        return romfs_set_error(err, ROMFS_ERR_RANGE,
                               "DfuSe file: %zu bytes at 0x%08x pass the 4 GiB address space",
                               len, (unsigned)o->address);
    size_t element = ELEMENT_HEADER_LEN + len;
    size_t body = PREFIX_LEN + TARGET_PREFIX_LEN + element;
    size_t total = body + SUFFIX_LEN;
    uint8_t *f = calloc(1, total);
    if (!f)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory for a %zu-byte DfuSe file", total);
    uint8_t *p = f;
    memcpy(p, "DfuSe", 5);
    p[5] = 0x01;                       /* bVersion */
    put32(p + 6, (uint32_t)body);      /* DFUImageSize: the file without its suffix */
    p[10] = 1;                         /* bTargets */
    p += PREFIX_LEN;
    memcpy(p, "Target", 6);
    p[6] = o->alt;                     /* bAlternateSetting */
    put32(p + 7, 1);                   /* bTargetNamed */
    snprintf((char *)p + 11, 255, "%s", o->target_name ? o->target_name : "ST...");
    put32(p + 266, (uint32_t)element); /* dwTargetSize */
    put32(p + 270, 1);                 /* dwNbElements */
    p += TARGET_PREFIX_LEN;
    put32(p, o->address);
    put32(p + 4, (uint32_t)len);
    if (len)
        memcpy(p + 8, image, len);
    p += element;
    put16(p, 0xffff);                  /* bcdDevice: any */
    put16(p + 2, o->pid);
    put16(p + 4, o->vid);
    put16(p + 6, 0x011a);              /* bcdDFU: DfuSe */
    memcpy(p + 8, "UFD", 3);
    p[11] = SUFFIX_LEN;
    put32(p + 12, romfs_dfu_crc(f, total - 4));
    *out = f;
    *out_len = total;
    return ROMFS_OK;
}

int romfs_write_dfu_file(const uint8_t *image, size_t len, const struct romfs_dfu_file_options *o,
                         const char *path, struct romfs_error *err)
{
    uint8_t *buf;
    size_t n;
    int rc = romfs_dfu_file_build(image, len, o, &buf, &n, err);
    if (rc)
        return rc;
    rc = romfs_write_file_atomic(path, buf, n, err);
    free(buf);
    return rc;
}
