/* boards/import_mk_internal.h: the small subset of GNU make that MicroPython board files use
 * (mpconfigboard.mk, mpconfigmcu.mk, mpconfigvariant*.mk), and C #define lines of
 * mpconfigboard.h. Used by the board importer; not a make implementation.
 *
 * Supported: VAR = / ?= / := / += value, line continuations, comments, ifeq/ifneq
 * (both "(a,b)" and quoted forms), ifdef/ifndef, else [if...], endif, define/endef
 * (skipped), rule and recipe lines (skipped), $(VAR)/${VAR} expansion and the
 * functions if, filter, filter-out, subst, strip, notdir, firstword, word.
 * $(shell ...) and unknown functions expand to nothing. */
#ifndef ROMFS_MKVARS_H
#define ROMFS_MKVARS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

struct romfs_mkvar {
    char *name;
    char *value;        /* raw text for recursive (=) variables, expanded for := */
    bool simple;        /* defined with := */
};

struct romfs_mkvars {
    struct romfs_mkvar *v;
    size_t n, cap;
};

/* Set NAME to VALUE (raw) as `=` would. */
int romfs_mk_set(struct romfs_mkvars *vars, const char *name, const char *value);

/* Read a make fragment and apply its assignments to vars. Missing file: ROMFS_ERR_NOENT. */
int romfs_mk_read(struct romfs_mkvars *vars, const char *path, struct romfs_error *err);

/* Apply make text (name used in messages). */
int romfs_mk_apply(struct romfs_mkvars *vars, const char *name, const char *text, struct romfs_error *err);

/* Whether NAME is defined (even as empty). */
bool romfs_mk_defined(const struct romfs_mkvars *vars, const char *name);

/* NAME fully expanded and stripped of surrounding blanks (malloc'd, "" when undefined);
 * NULL only when out of memory. */
char *romfs_mk_get(const struct romfs_mkvars *vars, const char *name);

/* TEXT with $(...) expanded (malloc'd). */
char *romfs_mk_expand(const struct romfs_mkvars *vars, const char *text);

void romfs_mk_free(struct romfs_mkvars *vars);

/* Parse a make/C number with optional K/M suffix ("256K", "0x40000", "1M"). */
bool romfs_mk_number(const char *text, uint64_t *out);

/* The value text of `#define NAME value` in a C header as it stands at the end of
 * the text (a later #define replaces an earlier one, #undef NAME removes it; no
 * #if evaluation), comments stripped, surrounding blanks trimmed; malloc'd. NULL if
 * absent. */
char *romfs_c_define(const char *header_text, const char *name);

#endif
