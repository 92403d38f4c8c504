/* base/range.c: checked address arithmetic (see range.h). */
#include "base/range.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

bool romfs_add_u64(uint64_t a, uint64_t b, uint64_t *sum)
{
    if (b > UINT64_MAX - a)
        return false;
    *sum = a + b;
    return true;
}

bool romfs_mul_u64(uint64_t a, uint64_t b, uint64_t *product)
{
    if (a != 0 && b > UINT64_MAX / a)
        return false;
    *product = a * b;
    return true;
}

bool romfs_align_up(uint64_t v, uint64_t align, uint64_t *out)
{
    if (align <= 1) {
        *out = v;
        return true;
    }
    uint64_t rem = v % align;
    if (rem == 0) {
        *out = v;
        return true;
    }
    return romfs_add_u64(v, align - rem, out);
}

uint64_t romfs_align_down(uint64_t v, uint64_t align)
{
    return align <= 1 ? v : v - v % align;
}

bool romfs_range_end(uint64_t start, uint64_t size, uint64_t *end)
{
    return romfs_add_u64(start, size, end);
}

bool romfs_range_fits_bits(uint64_t start, uint64_t size, unsigned bits)
{
    if (bits == 0 || bits >= 64)
        return size <= UINT64_MAX - start + 1 || start == 0; /* start + size <= 2^64 */
    uint64_t space = (uint64_t)1 << bits;
    return start <= space && size <= space - start;
}

bool romfs_range_within(uint64_t start, uint64_t size, uint64_t outer, uint64_t outer_size)
{
    uint64_t end, outer_end;
    if (!romfs_range_end(start, size, &end) || !romfs_range_end(outer, outer_size, &outer_end))
        return false;
    return start >= outer && end <= outer_end;
}

bool romfs_ranges_overlap(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size)
{
    if (a_size == 0 || b_size == 0)
        return false;
    /* a's first byte at or after b's and inside b, or the other way round */
    return a >= b ? a - b < b_size : b - a < a_size;
}

int romfs_range_check(uint64_t start, uint64_t size, unsigned bits, const char *what,
                      struct romfs_error *err)
{
    if (romfs_range_fits_bits(start, size, bits))
        return ROMFS_OK;
    return romfs_set_error(err, ROMFS_ERR_RANGE,
                           "%s: 0x%08" PRIx64 " + 0x%" PRIx64 " (%" PRIu64 " bytes) ends past the %u-bit address space",
                           what, start, size, size, bits == 0 ? 64 : bits);
}

bool romfs_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)s[0]))
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno == ERANGE || end == s || *end != '\0')
        return false;
    *out = v;
    return true;
}
