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
    size_t nblocks = (len + ROMFS_UF2_PAYLOAD - 1) / ROMFS_UF2_PAYLOAD;
    if (nblocks == 0)
        nblocks = 1;   /* an empty image still makes a valid (erased) block */
    uint8_t *f = calloc(nblocks, 512);
    if (!f)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory for %zu UF2 blocks", nblocks);
    for (size_t i = 0; i < nblocks; i++) {
        uint8_t *b = f + i * 512;
        size_t off = i * ROMFS_UF2_PAYLOAD;
        size_t n = off < len ? (len - off < ROMFS_UF2_PAYLOAD ? len - off : ROMFS_UF2_PAYLOAD) : 0;
        put32(b + 0, ROMFS_UF2_MAGIC_START0);
        put32(b + 4, ROMFS_UF2_MAGIC_START1);
        put32(b + 8, ROMFS_UF2_FLAG_FAMILY);
        put32(b + 12, address + (uint32_t)off);
        put32(b + 16, ROMFS_UF2_PAYLOAD);
        put32(b + 20, (uint32_t)i);
        put32(b + 24, (uint32_t)nblocks);
        put32(b + 28, family_id);
        memset(b + 32, 0xff, ROMFS_UF2_PAYLOAD);
        if (n)
            memcpy(b + 32, image + off, n);
        put32(b + 508, ROMFS_UF2_MAGIC_END);
    }
    *out = f;
    *out_len = nblocks * 512;
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
