/* boards/import_cdef_internal.h: a board's C configuration headers as the preprocessor
 * leaves them, as far as the importer needs: which object-like macros are defined at the
 * end (after #if/#ifdef/#ifndef/#elif/#else/#endif, #define, #undef and the #include "..."
 * files found in the tree), where each was defined, and the integer value a macro expands
 * to. Not a C preprocessor: function-like macros are recorded but never expanded, and an
 * expression using one, a pointer, a string or an unknown name has no value. The tests
 * check every value the importer takes from here against `cc -E`. Private to boards/. */
#ifndef ROMFS_BOARDS_IMPORT_CDEF_H
#define ROMFS_BOARDS_IMPORT_CDEF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct imp_cdef {
    char *name;
    char *body;            /* replacement text: comments removed, continuations joined, trimmed */
    char *file;            /* tree-relative path of the file that defined it, or what set it */
    int line;              /* line of the #define (0 when set by the build, e.g. -D) */
    bool function_like;
};

struct imp_cdefs {
    struct imp_cdef *v;
    size_t n;
};

/* Read TREE/rel (a header) with the preprocessor's conditional logic, adding to and
 * removing from d. `#include "x"` is looked up beside the including file, then in each of
 * incdirs (tree-relative, NULL-terminated; may be NULL); one not found is skipped, as are
 * <...> includes. ROMFS_OK, ROMFS_ERR_NOENT when rel itself cannot be read,
 * ROMFS_ERR_NOMEM. */
int imp_cdefs_read(struct imp_cdefs *d, const char *tree, const char *rel, const char *const *incdirs);

/* Define NAME as BODY (as -DNAME=BODY would), recording file/line as its origin. */
int imp_cdefs_define(struct imp_cdefs *d, const char *name, const char *body, const char *file, int line);

/* The definition of name in effect, or NULL. */
const struct imp_cdef *imp_cdefs_find(const struct imp_cdefs *d, const char *name);

/* The integer value NAME expands to; false when undefined or not an integer constant
 * expression of defined object-like macros. */
bool imp_cdefs_value(const struct imp_cdefs *d, const char *name, int64_t *out);

/* The value of a C integer expression over d's macros; in_if: as #if reads it (defined(),
 * unknown names are 0). */
bool imp_cdefs_eval(const struct imp_cdefs *d, const char *expr, bool in_if, int64_t *out);

void imp_cdefs_free(struct imp_cdefs *d);

#endif
