/* boards/lint_internal.h: private to lib/boards. What lint.c (the report, MEMORY regions,
 * partitions) and lint_map.c (the flash map) share. */
#ifndef ROMFS_BOARDS_LINT_INTERNAL_H
#define ROMFS_BOARDS_LINT_INTERNAL_H

#include "boards/lint.h"

/* Append a finding to r: board b, check id, severity, the regions or areas it is about
 * (rb may be NULL), where it starts, how many bytes, and a printf-style message.
 * ROMFS_ERR_NOMEM only. */
int lint_add(struct romfs_lint_report *r, struct romfs_error *err, const struct romfs_board *b, const char *check,
             int severity, const char *ra, const char *rb, uint64_t addr, uint64_t bytes, const char *fmt, ...)
    __attribute__((format(printf, 10, 11)));

/* Give finding f its device and sources (each may be NULL). ROMFS_ERR_NOMEM only. */
int lint_set_where(struct romfs_lint_finding *f, struct romfs_error *err, const char *device, const char *source_a,
                   const char *source_b);

/* The exclusive end of [start, start + size), saturating at 2^64 - 1. */
uint64_t lint_end(uint64_t start, uint64_t size);

/* The checks on b's flash map (b->n_areas > 0). */
int lint_map(const struct romfs_board *b, const struct romfs_lint_options *o, struct romfs_lint_report *r,
             struct romfs_error *err);

#endif
