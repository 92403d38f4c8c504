/* base/range.h: checked address arithmetic, one place for every module.
 *
 * Addresses, sizes and offsets come from linker scripts, boards.json, partition
 * tables and command lines; none of them may wrap. A range is [start, start + size)
 * with the end exclusive. MicroPython's ROMFS targets are 32-bit MCUs: a partition
 * must end at or below 2^32 (ROMFS_ADDRESS_BITS). */
#ifndef ROMFS_RANGE_H
#define ROMFS_RANGE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

#define ROMFS_ADDRESS_BITS 32

/* *sum = a + b; false (and *sum untouched) if it does not fit 64 bits. */
bool romfs_add_u64(uint64_t a, uint64_t b, uint64_t *sum);

/* *product = a * b; false (and *product untouched) if it does not fit 64 bits. */
bool romfs_mul_u64(uint64_t a, uint64_t b, uint64_t *product);

/* *out = v rounded up to a multiple of align (align 0 or 1: v itself); false if that
 * does not fit 64 bits. align need not be a power of two. */
bool romfs_align_up(uint64_t v, uint64_t align, uint64_t *out);

/* v rounded down to a multiple of align (align 0 or 1: v itself). */
uint64_t romfs_align_down(uint64_t v, uint64_t align);

/* *end = start + size, the exclusive end; false if it passes 2^64. */
bool romfs_range_end(uint64_t start, uint64_t size, uint64_t *end);

/* True if [start, start + size) lies within an address space of `bits` bits (1..64):
 * start + size <= 2^bits, computed without wrapping. */
bool romfs_range_fits_bits(uint64_t start, uint64_t size, unsigned bits);

/* True if [start, start + size) lies inside [outer, outer + outer_size), without
 * wrapping; a range that itself wraps is never inside anything. */
bool romfs_range_within(uint64_t start, uint64_t size, uint64_t outer, uint64_t outer_size);

/* True if the two ranges share at least one byte (empty ranges share none). */
bool romfs_ranges_overlap(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size);

/* Check that [start, start + size) fits a `bits`-bit address space; otherwise
 * ROMFS_ERR_RANGE with "WHAT: 0xSTART + 0xSIZE ends at/after ... past the N-bit
 * address space" (what names the file, board or partition). */
int romfs_range_check(uint64_t start, uint64_t size, unsigned bits, const char *what,
                      struct romfs_error *err);

/* Parse a whole string as an unsigned number: decimal, 0x hex, or 0 octal (as strtoull
 * with base 0, but no sign, no leading space, nothing after). false if empty, malformed
 * or more than 64 bits: a number that does not fit is an input error, never wrapped. */
bool romfs_parse_u64(const char *s, uint64_t *out);

#endif
