/* ld/ldscript.h: a GNU ld linker-script evaluator for the parts of a script
 * that fix addresses without a link: MEMORY regions and absolute symbols.
 *
 * It reads scripts the way MicroPython's ports pass them to the linker (several
 * -T scripts in order, -L directories for INCLUDE, --defsym NAME=EXPR ahead of
 * every script, optional C preprocessing) and computes every MEMORY region and
 * every symbol assignment whose value does not depend on section placement.
 * Symbols that do depend on it (`.`, ADDR(), SIZEOF(), section-relative
 * values, ...) are recorded as "not evaluable" with the reason, so looking one
 * up is an error naming file:line instead of a silently wrong number.
 * Constructs the evaluator does not understand at all are an error with
 * file:line (ROMFS_ERR_UNSUPPORTED or ROMFS_ERR_CORRUPT). The tests check the
 * values against arm-none-eabi-ld on the same scripts. */
#ifndef ROMFS_LDSCRIPT_H
#define ROMFS_LDSCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

struct romfs_ld_region {
    char *name;               /* e.g. "FLASH_ROMFS" */
    uint64_t origin, length;  /* as the linker computes ORIGIN()/LENGTH() */
    char *attrs;              /* the text between parentheses, e.g. "rx", or "" */
    char *file;               /* script that declared it */
    int line;                 /* line of the declaration (1-based) */
};

struct romfs_ld_symbol {
    char *name;
    uint64_t value;           /* valid only when evaluable */
    char *file;               /* script (or "--defsym") of the assignment that decided it */
    int line;
    bool evaluable;           /* false: depends on section layout; see why */
    bool provide;             /* assigned by PROVIDE/PROVIDE_HIDDEN only */
    char *why;                /* when !evaluable: e.g. "uses '.' (location counter)" */
};

struct romfs_ld_input {
    const char *const *scripts; size_t n_scripts;          /* -T scripts, in command-line order */
    const char *const *search_dirs; size_t n_search_dirs;  /* -L dirs for INCLUDE */
    const char *const *defsyms; size_t n_defsyms;          /* "NAME=EXPR" (--defsym); gcc's driver puts -Wl,--defsym ahead of every -T script */
    const char *const *cpp_defines; size_t n_cpp_defines;  /* "NAME" or "NAME=VALUE", for scripts run through the C preprocessor */
    bool preprocess;          /* run scripts through `cc -E -x c` first (cpp as an external program; $CC honoured) */
    const char *const *cpp_include_dirs; size_t n_cpp_include_dirs; /* -I for the preprocessor (relative
                                 ones are taken from base_dir), e.g. "." for alif's #include "mcu/..." */
    bool no_include_files;    /* INCLUDE is an error (for fuzzing and untrusted text) */
    bool defsyms_last;        /* ld run directly with --defsym after the -T scripts (samd's
                                 Makefile): defsyms are then evaluated after the scripts */
    const char *base_dir;     /* the directory the linker runs in (a port's directory):
                                 relative scripts and INCLUDEs are looked up there first; NULL = cwd */
    unsigned address_bits;    /* 32: report values modulo 2^32 as an ELF32 link does; 0 = 64 */
    struct romfs_ld_cpp_cache *cpp_cache; /* optional: reuse preprocessor output for an identical
                                 command line (same script, defines, -I dirs) across evaluations */
};

/* A cache of C-preprocessor output, for evaluating many boards in one process (the
 * scripts must not change while it is in use). NULL without memory. */
struct romfs_ld_cpp_cache *romfs_ld_cpp_cache_new(void);
void romfs_ld_cpp_cache_free(struct romfs_ld_cpp_cache *cache);

struct romfs_ld_result {
    struct romfs_ld_region *regions; size_t n_regions;  /* in declaration order */
    struct romfs_ld_symbol *symbols; size_t n_symbols;  /* in first-assignment order; last value wins */
};

/* Evaluate in->scripts (in order, after in->defsyms) into *out, which the caller
 * frees with romfs_ld_result_free() (also on error; *out is always initialised).
 * Errors: ROMFS_ERR_NOENT (script or INCLUDE not found), ROMFS_ERR_CORRUPT (syntax
 * error, undefined symbol or region in an expression that MEMORY needs, division by
 * zero), ROMFS_ERR_UNSUPPORTED (a construct it cannot evaluate), ROMFS_ERR_TOOL
 * (the preprocessor failed). Messages start with "file:line: ". */
int romfs_ld_evaluate(const struct romfs_ld_input *in, struct romfs_ld_result *out,
                      struct romfs_error *err);

/* Evaluate one script given as text (name is used in messages and to resolve a
 * relative INCLUDE). opts may be NULL; its scripts/preprocess fields are ignored;
 * its defsyms are applied first, search_dirs serve INCLUDE. */
int romfs_ld_evaluate_text(const char *name, const char *text, size_t len,
                           const struct romfs_ld_input *opts, struct romfs_ld_result *out,
                           struct romfs_error *err);

/* The region called name (exact, case-sensitive), or NULL. */
const struct romfs_ld_region *romfs_ld_find_region(const struct romfs_ld_result *r, const char *name);

/* The symbol record called name, evaluable or not, or NULL. */
const struct romfs_ld_symbol *romfs_ld_symbol_record(const struct romfs_ld_result *r, const char *name);

/* *value = the symbol's value: ROMFS_OK, or ROMFS_ERR_NOENT if never assigned. A
 * symbol that is assigned but not evaluable returns ROMFS_ERR_UNSUPPORTED (use
 * romfs_ld_lookup_symbol for a message). */
int romfs_ld_find_symbol(const struct romfs_ld_result *r, const char *name, uint64_t *value);

/* Like romfs_ld_find_symbol, filling err with "file:line: symbol NAME ..." on failure. */
int romfs_ld_lookup_symbol(const struct romfs_ld_result *r, const char *name, uint64_t *value,
                           struct romfs_error *err);

/* Free everything in *r and zero it. Safe on a zeroed or already-freed result. */
void romfs_ld_result_free(struct romfs_ld_result *r);

#endif
