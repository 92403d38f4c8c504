/* ldscript_internal.h: shared between ld/parse.c (reading scripts into
 * statements) and ld/eval.c (evaluating them). Not a public header. */
#ifndef ROMFS_LDSCRIPT_INTERNAL_H
#define ROMFS_LDSCRIPT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "ld/ldscript.h"

/* Multi-character operators; single-character ones are their own char code. */
enum {
    LD_OP_LSHIFT = 256, LD_OP_RSHIFT, LD_OP_EQ, LD_OP_NE, LD_OP_LE, LD_OP_GE,
    LD_OP_ANDAND, LD_OP_OROR,
    LD_OP_ADD_ASSIGN, LD_OP_SUB_ASSIGN, LD_OP_MUL_ASSIGN, LD_OP_DIV_ASSIGN,
    LD_OP_LSHIFT_ASSIGN, LD_OP_RSHIFT_ASSIGN, LD_OP_AND_ASSIGN, LD_OP_OR_ASSIGN,
};

enum ld_expr_kind {
    LD_E_NUM, LD_E_SYM, LD_E_DOT, LD_E_UNARY, LD_E_BINARY, LD_E_COND,
    LD_E_ORIGIN, LD_E_LENGTH, LD_E_DEFINED, LD_E_ALIGN, LD_E_MIN, LD_E_MAX,
    LD_E_ABSOLUTE, LD_E_LOG2CEIL,
    LD_E_LAYOUT, /* ADDR, SIZEOF, LOADADDR, ...: needs section placement; name = function */
};

struct ld_expr {
    enum ld_expr_kind kind;
    int op;                       /* LD_E_UNARY / LD_E_BINARY operator */
    uint64_t num;
    const char *name;             /* symbol, region or function name */
    struct ld_expr *a, *b, *c;    /* operands (ALIGN(x) has only a) */
    int height;                   /* operator levels: 0 for a leaf, else 1 + the tallest operand's */
};

enum ld_stmt_kind {
    LD_S_ASSIGN,     /* name op e (op '=' or a compound operator) */
    LD_S_PROVIDE,    /* PROVIDE / PROVIDE_HIDDEN (name = e) */
    LD_S_REGION,     /* MEMORY entry: name, attrs, e = origin, e2 = length */
    LD_S_ALIAS,      /* REGION_ALIAS("name", name2) */
    LD_S_ASSERT,     /* ASSERT(e, "name") */
};

enum ld_context { LD_CTX_TOP, LD_CTX_SECTIONS, LD_CTX_OUTPUT_SECTION };

struct ld_stmt {
    enum ld_stmt_kind kind;
    int op;
    const char *name, *name2;
    struct ld_expr *e, *e2;
    const char *file;
    int line;
    enum ld_context ctx;
    const char *section;          /* output section being described (LD_CTX_OUTPUT_SECTION) */
};

struct ld_program {
    struct ld_stmt *stmts;
    size_t n_stmts, cap_stmts;
    /* arena of nodes and strings, freed together */
    struct ld_chunk *chunks;
};

void *ld_arena_alloc(struct ld_program *p, size_t size);
const char *ld_arena_strndup(struct ld_program *p, const char *s, size_t n);
struct ld_stmt *ld_program_add(struct ld_program *p);
void ld_program_free(struct ld_program *p);

/* What a piece of script text is parsed as (top level, or the inside of a block,
 * for INCLUDE inside MEMORY / SECTIONS / an output section). */
enum ld_parse_mode { LD_PM_TOP, LD_PM_MEMORY, LD_PM_SECTIONS, LD_PM_BODY };

struct ld_reader {
    struct ld_program *prog;
    const struct romfs_ld_input *in;
    struct romfs_error *err;
    const char **extra_dirs;     /* SEARCH_DIR() entries (arena strings) */
    size_t n_extra_dirs, cap_extra_dirs;
    int depth;                   /* INCLUDE nesting */
    char *open_scripts[17];      /* the files being read, outermost first (realpath or as
                                    given; malloc'd): an INCLUDE of one of them is a loop */
    /* Called by the parser for INCLUDE: find, read (and preprocess if asked) the file and
       parse it in mode. The loader (load.c) sets it, so the parser never calls upward. */
    int (*include)(struct ld_reader *r, const char *from_file, int line, const char *name,
                   enum ld_parse_mode mode, const char *section);
    int expr_depth;
};

/* Parse text (named file in messages) in mode, appending statements (ld/parse.c). */
int ld_parse_text(struct ld_reader *r, const char *file, const char *text, size_t len,
                  bool cpp_markers, enum ld_parse_mode mode, const char *section);

/* Parse one --defsym "NAME=EXPR" as an assignment (ld/parse.c). */
int ld_parse_defsym(struct ld_reader *r, const char *def, int index);


/* ---- lexer (ld/lex.c), used by the parser (ld/parse.c) ---- */
enum tok_type { T_EOF, T_NAME, T_NUM, T_STR, T_OP };
enum lex_mode { M_EXPR, M_SCRIPT, M_SKIM /* inside output sections: file patterns */ };

struct token {
    enum tok_type type;
    int op;
    const char *text;
    size_t len;
    uint64_t num;
    int line;
};


struct lexer {
    const char *text;
    size_t len, pos;
    const char *file;            /* arena string */
    int line;
    bool cpp_markers;            /* honour `# N "file"` lines from the preprocessor */
    bool at_line_start;
    struct token peeked;
    size_t peek_pos, peek_end;
    int peek_line, peek_end_line;
    const char *peek_end_file;
    enum lex_mode peek_mode;
    bool has_peek;
};

int ld_lex_skip_space(struct ld_reader *r, struct lexer *lx);
int ld_peek(struct ld_reader *r, struct lexer *lx, enum lex_mode mode, struct token *t);
int ld_next(struct ld_reader *r, struct lexer *lx, enum lex_mode mode, struct token *t);
bool ld_tok_is(const struct token *t, const char *word);
bool ld_is_op(const struct token *t, int op);
int ld_syntax_error(struct ld_reader *r, struct lexer *lx, const struct token *t, const char *what);
int ld_expect_op(struct ld_reader *r, struct lexer *lx, int op, const char *what);

/* Evaluate a parsed program (ld/eval.c). */
int ld_evaluate_program(struct ld_program *p, unsigned address_bits,
                        struct romfs_ld_result *out, struct romfs_error *err);

#endif
