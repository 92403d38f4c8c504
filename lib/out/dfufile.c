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

int romfs_dfu_file_build_segments(const struct romfs_segments *segs, const struct romfs_dfu_file_options *o,
                                  uint8_t **out, size_t *out_len, struct romfs_error *err)
{
    size_t elements = 0;
    for (size_t k = 0; k < segs->n; k++) {
        const struct romfs_segment *g = &segs->v[k];
        if (!romfs_range_fits_bits(g->address, g->size, ROMFS_ADDRESS_BITS))
            return romfs_set_error(err, ROMFS_ERR_RANGE,
                                   "DfuSe file: %zu bytes of %s at 0x%08llx pass the 4 GiB address space",
                                   g->size, g->what, (unsigned long long)g->address);
        elements += ELEMENT_HEADER_LEN + g->size;
    }
    size_t body = PREFIX_LEN + TARGET_PREFIX_LEN + elements;
    size_t total = body + SUFFIX_LEN;
    if (body > 0xffffffffu)
        return romfs_set_error(err, ROMFS_ERR_RANGE, "DfuSe file: %zu bytes is more than the format holds", body);
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
    put32(p + 266, (uint32_t)elements); /* dwTargetSize */
    put32(p + 270, (uint32_t)segs->n); /* dwNbElements */
    p += TARGET_PREFIX_LEN;
    for (size_t k = 0; k < segs->n; k++) {
        put32(p, (uint32_t)segs->v[k].address);
        put32(p + 4, (uint32_t)segs->v[k].size);
        memcpy(p + 8, segs->v[k].data, segs->v[k].size);
        p += ELEMENT_HEADER_LEN + segs->v[k].size;
    }
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

int romfs_dfu_file_build(const uint8_t *image, size_t len, const struct romfs_dfu_file_options *o,
                         uint8_t **out, size_t *out_len, struct romfs_error *err)
{
    if (!romfs_range_fits_bits(o->address, len, ROMFS_ADDRESS_BITS))
        return romfs_set_error(err, ROMFS_ERR_RANGE,
                               "DfuSe file: %zu bytes at 0x%08x pass the 4 GiB address space",
                               len, (unsigned)o->address);
    /* one element, even an empty one */
    struct romfs_segment g = { .address = o->address, .data = (uint8_t *)image, .size = len };
    snprintf(g.what, sizeof g.what, "image");
    struct romfs_segments one = { &g, 1 };
    return romfs_dfu_file_build_segments(&one, o, out, out_len, err);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int romfs_dfu_file_parse(const uint8_t *f, size_t len, const char *what, struct romfs_segments *out,
                         struct romfs_error *err)
{
    if (len < PREFIX_LEN + SUFFIX_LEN || memcmp(f, "DfuSe", 5) != 0 || f[5] != 1)
        return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: no DfuSe prefix (\"DfuSe\", version 1)", what);
    const uint8_t *sfx = f + len - SUFFIX_LEN;
    if (memcmp(sfx + 8, "UFD", 3) != 0 || sfx[11] != SUFFIX_LEN)
        return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: no DFU suffix (\"UFD\", length 16) at its end", what);
    uint32_t crc = get32(sfx + 12), want = romfs_dfu_crc(f, len - 4);
    if (crc != want)
        return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: DFU suffix CRC 0x%08x, the file's is 0x%08x: damaged",
                               what, (unsigned)crc, (unsigned)want);
    size_t body = len - SUFFIX_LEN;
    if (get32(f + 6) != body)
        return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: DFUImageSize %u, but the file holds %zu bytes before "
                               "its suffix", what, (unsigned)get32(f + 6), body);
    size_t p = PREFIX_LEN;
    for (unsigned t = 0; t < f[10]; t++) {
        if (body - p < TARGET_PREFIX_LEN || memcmp(f + p, "Target", 6) != 0)
            return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: target %u (offset %zu): no \"Target\" prefix", what,
                                   t, p);
        uint32_t tsize = get32(f + p + 266), nelem = get32(f + p + 270);
        p += TARGET_PREFIX_LEN;
        if (tsize > body - p)
            return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: target %u: %u bytes run past the file", what, t,
                                   (unsigned)tsize);
        size_t tend = p + tsize;
        for (uint32_t e = 0; e < nelem; e++) {
            if (tend - p < ELEMENT_HEADER_LEN || get32(f + p + 4) > tend - p - ELEMENT_HEADER_LEN)
                return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: target %u element %u (offset %zu) runs past "
                                       "its target", what, t, (unsigned)e, p);
            uint32_t addr = get32(f + p), esize = get32(f + p + 4);
            int rc = romfs_segments_add(out, addr, f + p + ELEMENT_HEADER_LEN, esize, 0, what, err);
            if (rc)
                return rc;
            p += ELEMENT_HEADER_LEN + esize;
        }
        if (p != tend)
            return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: target %u: its elements hold %zu bytes, not %u",
                                   what, t, p - (tend - tsize), (unsigned)tsize);
    }
    if (p != body)
        return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: %zu bytes after the last target", what, body - p);
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
