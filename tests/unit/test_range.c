/* test_range.c: checked address arithmetic (base/range.h) at the 32- and 64-bit edges. */
#include <stdint.h>

#include "base/range.h"
#include "unit.h"

static void add_and_mul_refuse_to_wrap(void)
{
    uint64_t v = 7;
    CHECK(romfs_add_u64(UINT64_MAX - 1, 1, &v) && v == UINT64_MAX);
    v = 7;
    CHECK(!romfs_add_u64(UINT64_MAX, 1, &v));
    CHECK(v == 7);
    CHECK(!romfs_add_u64(0xFFFFFFFFFFFFFFF0ull, 0x100, &v));
    CHECK(romfs_mul_u64(0x100000000ull, 0xFFFFFFFFull, &v) && v == 0xFFFFFFFF00000000ull);
    CHECK(!romfs_mul_u64(0x100000000ull, 0x100000000ull, &v));
    CHECK(romfs_mul_u64(0, UINT64_MAX, &v) && v == 0);
}

static void align(void)
{
    uint64_t v = 0;
    CHECK(romfs_align_up(0x1001, 0x1000, &v) && v == 0x2000);
    CHECK(romfs_align_up(0x2000, 0x1000, &v) && v == 0x2000);
    CHECK(romfs_align_up(5, 0, &v) && v == 5);
    CHECK(romfs_align_up(10, 3, &v) && v == 12);
    CHECK(!romfs_align_up(UINT64_MAX - 5, 0x1000, &v));
    CHECK(romfs_align_down(0x1fff, 0x1000) == 0x1000);
    CHECK(romfs_align_down(7, 0) == 7);
}

static void fits_bits(void)
{
    CHECK(romfs_range_fits_bits(0xFFFF0000u, 0x10000, 32));       /* ends exactly at 4 GiB */
    CHECK(!romfs_range_fits_bits(0xFFFF0000u, 0x10001, 32));
    CHECK(!romfs_range_fits_bits(0xFFFFF000u, 0x100000, 32));     /* the STM32 partition */
    CHECK(romfs_range_fits_bits(0x100000000ull, 0, 32));         /* empty, at the very end */
    CHECK(!romfs_range_fits_bits(0x100000001ull, 0, 32));
    CHECK(romfs_range_fits_bits(0, UINT64_MAX, 64));
    CHECK(romfs_range_fits_bits(1, UINT64_MAX, 64));             /* ends exactly at 2^64 */
    CHECK(!romfs_range_fits_bits(2, UINT64_MAX, 64));
    CHECK(!romfs_range_fits_bits(0xFFFFFFFFFFFFFFF0ull, 0x100, 64));
    CHECK(romfs_range_fits_bits(0xFFFFFFFFFFFFFFF0ull, 0x10, 0)); /* 0 means 64 */
}

static void within_and_overlap(void)
{
    CHECK(romfs_range_within(0x08020000, 0x20000, 0x08000000, 0x100000));
    CHECK(!romfs_range_within(0x080F0000, 0x20000, 0x08000000, 0x100000));
    CHECK(!romfs_range_within(0xFFFFFFFFFFFFFFF0ull, 0x100, 0, 0x100));   /* wraps: inside nothing */
    CHECK(!romfs_range_within(0xFFFFFFFFFFFFFFF0ull, 0x100, 0xFFFFFFFFFFFFFF00ull, 0xFF));
    CHECK(romfs_ranges_overlap(0x1000, 0x1000, 0x1FFF, 1));
    CHECK(!romfs_ranges_overlap(0x1000, 0x1000, 0x2000, 1));
    CHECK(!romfs_ranges_overlap(0x1000, 0, 0x1000, 0x1000));
    CHECK(romfs_ranges_overlap(0xFFFFFFFFFFFFFF00ull, 0x100, 0xFFFFFFFFFFFFFFF0ull, 0x10));
}

static void check_names_what(void)
{
    struct romfs_error err = {0};
    CHECK(romfs_range_check(0x08000000, 0x100000, 32, "x", &err) == ROMFS_OK);
    CHECK(romfs_range_check(0xFFFFF000u, 0x100000, 32, "boards.json PYBD partition 0", &err) == ROMFS_ERR_RANGE);
    CHECK(strstr(err.msg, "boards.json PYBD partition 0: 0xfffff000 + 0x100000") != NULL);
    CHECK(strstr(err.msg, "32-bit address space") != NULL);
}

static void parse_numbers_over_64_bits_fail(void)
{
    uint64_t v = 0;
    CHECK(romfs_parse_u64("0xffffffffffffffff", &v) && v == UINT64_MAX);
    CHECK(romfs_parse_u64("18446744073709551615", &v) && v == UINT64_MAX);
    CHECK(!romfs_parse_u64("0x800000000000000000", &v));
    CHECK(!romfs_parse_u64("18446744073709551616", &v));
    CHECK(!romfs_parse_u64("-1", &v));
    CHECK(!romfs_parse_u64(" 1", &v));
    CHECK(!romfs_parse_u64("1k", &v));
    CHECK(!romfs_parse_u64("", &v));
}

int main(void)
{
    RUN(add_and_mul_refuse_to_wrap);
    RUN(align);
    RUN(fits_bits);
    RUN(within_and_overlap);
    RUN(check_names_what);
    RUN(parse_numbers_over_64_bits_fail);
    UNIT_EXIT();
}
