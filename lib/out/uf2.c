/* uf2.c: UF2 files (github.com/microsoft/uf2): 512-byte blocks of 256-byte payloads. */
#include "out/outfile.h"
#include "base/range.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

int romfs_uf2_build(const uint8_t *image, size_t len, uint32_t address, uint32_t family_id,
                    uint8_t **out, size_t *out_len, struct romfs_error *err)
{
    if (address % ROMFS_UF2_PAYLOAD)
        return romfs_set_error(err, ROMFS_ERR_INVAL,
                               "UF2: address 0x%08x is not a multiple of %d", (unsigned)address,
                               ROMFS_UF2_PAYLOAD);
    if (!romfs_range_fits_bits(address, len, ROMFS_ADDRESS_BITS))
        return romfs_set_error(err, ROMFS_ERR_RANGE,
                               "UF2: %zu bytes at 0x%08x pass the 4 GiB address space", len,
                               (unsigned)address);
    static uint8_t erased[1] = { 0xff };   /* an empty image still makes a valid (erased) block */
    struct romfs_segment g = { .address = address, .data = len ? (uint8_t *)image : erased, .size = len ? len : 1 };
    struct romfs_segments one = { &g, 1 };
    return romfs_uf2_build_segments(&one, family_id, out, out_len, err);
}

/* The 256-byte pages the segments touch, ascending, without repeats (segs sorted, not
 * overlapping; pages has room for each segment's size / 256 + 2). */
static size_t pages_of(const struct romfs_segments *segs, uint64_t *pages)
{
    size_t n = 0;
    for (size_t k = 0; k < segs->n; k++) {
        const struct romfs_segment *g = &segs->v[k];
        for (uint64_t a = g->address / ROMFS_UF2_PAYLOAD * ROMFS_UF2_PAYLOAD; a < g->address + g->size;
             a += ROMFS_UF2_PAYLOAD)
            if (n == 0 || pages[n - 1] < a)
                pages[n++] = a;
    }
    return n;
}

int romfs_uf2_build_segments(const struct romfs_segments *segs, uint32_t family_id, uint8_t **out,
                             size_t *out_len, struct romfs_error *err)
{
    for (size_t k = 0; k < segs->n; k++)
        if (!romfs_range_fits_bits(segs->v[k].address, segs->v[k].size, ROMFS_ADDRESS_BITS))
            return romfs_set_error(err, ROMFS_ERR_RANGE, "UF2: %zu bytes of %s at 0x%08llx pass the 4 GiB "
                                   "address space", segs->v[k].size, segs->v[k].what,
                                   (unsigned long long)segs->v[k].address);
    /* count first (pages of consecutive segments may coincide), then fill */
    size_t upper = 0;
    for (size_t k = 0; k < segs->n; k++)
        upper += segs->v[k].size / ROMFS_UF2_PAYLOAD + 2;
    uint64_t *pages = malloc((upper ? upper : 1) * sizeof *pages);
    if (!pages)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory for UF2 output");
    size_t nblocks = pages_of(segs, pages);
    uint8_t *f = calloc(nblocks ? nblocks : 1, 512);
    if (!f) {
        free(pages);
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory for %zu UF2 blocks", nblocks);
    }
    size_t k = 0;
    for (size_t i = 0; i < nblocks; i++) {
        uint8_t *b = f + i * 512;
        put32(b + 0, ROMFS_UF2_MAGIC_START0);
        put32(b + 4, ROMFS_UF2_MAGIC_START1);
        put32(b + 8, ROMFS_UF2_FLAG_FAMILY);
        put32(b + 12, (uint32_t)pages[i]);
        put32(b + 16, ROMFS_UF2_PAYLOAD);
        put32(b + 20, (uint32_t)i);
        put32(b + 24, (uint32_t)nblocks);
        put32(b + 28, family_id);
        memset(b + 32, 0xff, ROMFS_UF2_PAYLOAD);   /* what no segment covers: erased flash */
        put32(b + 508, ROMFS_UF2_MAGIC_END);
        /* the segments intersecting this page (segments and pages both ascend) */
        while (k < segs->n && segs->v[k].address + segs->v[k].size <= pages[i])
            k++;
        for (size_t j = k; j < segs->n && segs->v[j].address < pages[i] + ROMFS_UF2_PAYLOAD; j++) {
            const struct romfs_segment *g = &segs->v[j];
            uint64_t lo = g->address > pages[i] ? g->address : pages[i];
            uint64_t hi = g->address + g->size < pages[i] + ROMFS_UF2_PAYLOAD ? g->address + g->size
                                                                              : pages[i] + ROMFS_UF2_PAYLOAD;
            if (hi > lo)
                memcpy(b + 32 + (lo - pages[i]), g->data + (lo - g->address), (size_t)(hi - lo));
        }
    }
    free(pages);
    *out = f;
    *out_len = nblocks * 512;
    return ROMFS_OK;
}

int romfs_uf2_parse(const uint8_t *data, size_t len, const char *what, struct romfs_segments *out,
                    struct romfs_error *err)
{
    if (len == 0 || len % 512)
        return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: %zu bytes is not a whole number of 512-byte UF2 "
                               "blocks", what, len);
    for (size_t i = 0; i < len / 512; i++) {
        const uint8_t *b = data + i * 512;
        uint32_t w[8];
        for (int k = 0; k < 8; k++)
            w[k] = (uint32_t)b[4 * k] | (uint32_t)b[4 * k + 1] << 8 | (uint32_t)b[4 * k + 2] << 16 |
                   (uint32_t)b[4 * k + 3] << 24;
        uint32_t end = (uint32_t)b[508] | (uint32_t)b[509] << 8 | (uint32_t)b[510] << 16 | (uint32_t)b[511] << 24;
        if (w[0] != ROMFS_UF2_MAGIC_START0 || w[1] != ROMFS_UF2_MAGIC_START1 || end != ROMFS_UF2_MAGIC_END)
            return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: block %zu (offset %zu): bad UF2 magic numbers",
                                   what, i, i * 512);
        uint32_t flags = w[2];
        if (flags & 0x00000001u)   /* "not main flash": comments, nothing to write */
            continue;
        if (flags & 0x00001000u)
            return romfs_set_error(err, ROMFS_ERR_UNSUPPORTED, "%s: block %zu is a file container block, "
                                   "not flash contents", what, i);
        if (w[4] > 476)
            return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: block %zu: payload of %u bytes (at most 476)",
                                   what, i, (unsigned)w[4]);
        int rc = romfs_segments_add(out, w[3], b + 32, w[4], (flags & ROMFS_UF2_FLAG_FAMILY) ? w[7] : 0, what, err);
        if (rc)
            return rc;
    }
    return ROMFS_OK;
}

int romfs_write_uf2_file(const uint8_t *image, size_t len, uint32_t address, uint32_t family_id,
                         const char *path, struct romfs_error *err)
{
    uint8_t *buf;
    size_t n;
    int rc = romfs_uf2_build(image, len, address, family_id, &buf, &n, err);
    if (rc)
        return rc;
    rc = romfs_write_file_atomic(path, buf, n, err);
    free(buf);
    return rc;
}

/* Family ids from Microsoft's uf2families.json and the RP2350 datasheet / picotool. */
static const struct {
    const char *name;
    uint32_t id;
} families[] = {
    { "rp2040", 0xe48bff56 },
    { "absolute", 0xe48bff57 },        /* RP2350: written at its absolute address */
    { "data", 0xe48bff58 },            /* RP2350: data for a partition that accepts it */
    /* A ROMFS image is data at a fixed flash address, not an image to boot: for that
       picotool's maintainers recommend the absolute family (`picotool uf2 convert
       --family absolute`); MicroPython's RP2350 builds carry no partition table that
       would refuse it. rp2350-arm-s (what firmware.uf2 uses) stays available by name. */
    { "rp2350", 0xe48bff57 },
    { "rp2350-arm-s", 0xe48bff59 },
    { "rp2350-riscv", 0xe48bff5a },
    { "rp2350-arm-ns", 0xe48bff5b },
    { "samd21", 0x68ed2b88 },
    { "samd51", 0x55114460 },
    { "nrf52840", 0xada52840 },
    { "nrf52833", 0x621e937a },
    { "nrf52", 0x1b57745f },
    { "stm32f4", 0x57755a57 },
};

int romfs_uf2_family(const char *name, uint32_t *family_id, struct romfs_error *err)
{
    if (!name || !*name)
        return romfs_set_error(err, ROMFS_ERR_NOENT, "no UF2 family given");
    if (name[0] == '0' && (name[1] == 'x' || name[1] == 'X')) {
        char *end;
        unsigned long long v = strtoull(name, &end, 16);
        if (*end == '\0' && end > name + 2 && v <= 0xffffffffull) {
            *family_id = (uint32_t)v;
            return ROMFS_OK;
        }
    }
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        if (strcasecmp(name, families[i].name) == 0) {
            *family_id = families[i].id;
            return ROMFS_OK;
        }
    /* MCU names from boards.json: the longest family name that prefixes it */
    size_t best = 0;
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
        size_t n = strlen(families[i].name);
        if (n > best && strncasecmp(name, families[i].name, n) == 0 &&
            families[i].name[0] != 'a' && families[i].name[0] != 'd') {
            best = n;
            *family_id = families[i].id;
        }
    }
    if (best)
        return ROMFS_OK;
    return romfs_set_error(err, ROMFS_ERR_NOENT,
                           "unknown UF2 family '%s' (known: rp2040, rp2350, rp2350-riscv, "
                           "absolute, data, samd21, samd51, nrf52840, nrf52833, or a number "
                           "such as 0xe48bff56)", name);
}
