/* ld/parse.c: reading GNU ld scripts into a statement list (parser for
 * expressions and statements, INCLUDE, --defsym; the lexer is ld/lex.c).
 * Evaluation is in ld/eval.c.
 *
 * The lexer follows ld's two name rules: inside expressions a name is
 * [A-Za-z_.][A-Za-z0-9_.$]*, at statement level ld also glues - + = [ ] / \ ~
 * into names (so `a-b = 1;` assigns the symbol "a-b" and `x=5;` is a syntax
 * error). Where the two readings would give different numbers (`x = a-b;`) the
 * script is refused with file:line instead of guessing. */
#include "ld/ldscript_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define skip_space ld_lex_skip_space
#define peek ld_peek
#define next ld_next
#define tok_is ld_tok_is
#define is_op ld_is_op
#define syntax_error ld_syntax_error
#define expect_op ld_expect_op

#define LD_MAX_EXPR_DEPTH 200
/* The evaluator recurses once per level of the expression tree, and a flat chain
 * `a + b + c ...` is as tall as it is long: cap the height so that no script can
 * exhaust the stack. MicroPython's scripts use fewer than 10 levels. */
#define LD_MAX_EXPR_HEIGHT 1000

/* ---- expressions ---- */

static struct ld_expr *new_expr(struct ld_reader *r, enum ld_expr_kind kind)
{
    struct ld_expr *e = ld_arena_alloc(r->prog, sizeof *e);
    if (e)
        e->kind = kind;
    else
        romfs_set_error(r->err, ROMFS_ERR_NOMEM, "out of memory");
    return e;
}

static const char *tok_str(struct ld_reader *r, const struct token *t)
{
    const char *s = ld_arena_strndup(r->prog, t->text, t->len);
    if (!s)
        romfs_set_error(r->err, ROMFS_ERR_NOMEM, "out of memory");
    return s;
}

static int parse_expr(struct ld_reader *r, struct lexer *lx, struct ld_expr **out);

/* Record e's height (operator levels; leaves are 0) from its operands;
 * refuse a tree taller than LD_MAX_EXPR_HEIGHT. */
static int set_height(struct ld_reader *r, struct lexer *lx, int line, struct ld_expr *e)
{
    int h = 0;
    if (e->a && e->a->height > h)
        h = e->a->height;
    if (e->b && e->b->height > h)
        h = e->b->height;
    if (e->c && e->c->height > h)
        h = e->c->height;
    e->height = h + 1;
    if (e->height > LD_MAX_EXPR_HEIGHT)
        return romfs_set_error(r->err, ROMFS_ERR_UNSUPPORTED,
                               "%s:%d: expression too long: more than %d operators in a chain or nested",
                               lx->file, line, LD_MAX_EXPR_HEIGHT);
    return ROMFS_OK;
}

static int binary_prec(const struct token *t)
{
    if (t->type != T_OP)
        return 0;
    switch (t->op) {
    case LD_OP_OROR: return 1;
    case LD_OP_ANDAND: return 2;
    case '|': return 3;
    case '&': return 5;
    case LD_OP_EQ: case LD_OP_NE: return 6;
    case '<': case '>': case LD_OP_LE: case LD_OP_GE: return 7;
    case LD_OP_LSHIFT: case LD_OP_RSHIFT: return 8;
    case '+': case '-': return 9;
    case '*': case '/': case '%': return 10;
    default: return 0;
    }
}

/* Skip a parenthesised argument list whose '(' has been consumed. */
static int skip_balanced(struct ld_reader *r, struct lexer *lx, enum lex_mode mode, int open, int close)
{
    int depth = 1;
    struct token t;
    while (depth > 0) {
        int rc = next(r, lx, mode, &t);
        if (rc)
            return rc;
        if (t.type == T_EOF)
            return syntax_error(r, lx, &t, close == ')' ? "expected ')'" : "expected '}'");
        if (is_op(&t, open))
            depth++;
        else if (is_op(&t, close))
            depth--;
    }
    return ROMFS_OK;
}

static const char *const layout_functions[] = {
    "ADDR", "SIZEOF", "LOADADDR", "ALIGNOF", "NEXT", "BLOCK", "CONSTANT", "SEGMENT_START",
    "DATA_SEGMENT_ALIGN", "DATA_SEGMENT_END", "DATA_SEGMENT_RELRO_END", NULL,
};

static int parse_function_call(struct ld_reader *r, struct lexer *lx, const struct token *name,
                               struct ld_expr **out);

/* A function call nests like a bracket: ALIGN(ALIGN(ALIGN(... counts toward the limit. */
static int parse_function(struct ld_reader *r, struct lexer *lx, const struct token *name,
                          struct ld_expr **out)
{
    if (++r->expr_depth > LD_MAX_EXPR_DEPTH)
        return romfs_set_error(r->err, ROMFS_ERR_UNSUPPORTED, "%s:%d: expression nested too deeply", lx->file,
                               name->line);
    int rc = parse_function_call(r, lx, name, out);
    r->expr_depth--;
    return rc;
}

static int parse_function_call(struct ld_reader *r, struct lexer *lx, const struct token *name,
                               struct ld_expr **out)
{
    struct token t;
    int rc;
    const char *fn = tok_str(r, name);
    if (!fn)
        return ROMFS_ERR_NOMEM;
    if ((rc = next(r, lx, M_EXPR, &t)))  /* '(' */
        return rc;
    for (int i = 0; layout_functions[i]; i++) {
        if (strcmp(fn, layout_functions[i]) == 0) {
            struct ld_expr *e = new_expr(r, LD_E_LAYOUT);
            if (!e)
                return ROMFS_ERR_NOMEM;
            e->name = fn;
            *out = e;
            return skip_balanced(r, lx, M_EXPR, '(', ')');
        }
    }
    enum ld_expr_kind kind;
    int nargs = 1;
    bool name_arg = false;
    if (!strcmp(fn, "ORIGIN")) { kind = LD_E_ORIGIN; name_arg = true; }
    else if (!strcmp(fn, "LENGTH")) { kind = LD_E_LENGTH; name_arg = true; }
    else if (!strcmp(fn, "DEFINED")) { kind = LD_E_DEFINED; name_arg = true; }
    else if (!strcmp(fn, "ALIGN")) kind = LD_E_ALIGN;
    else if (!strcmp(fn, "MIN")) { kind = LD_E_MIN; nargs = 2; }
    else if (!strcmp(fn, "MAX")) { kind = LD_E_MAX; nargs = 2; }
    else if (!strcmp(fn, "ABSOLUTE")) kind = LD_E_ABSOLUTE;
    else if (!strcmp(fn, "LOG2CEIL")) kind = LD_E_LOG2CEIL;
    else if (!strcmp(fn, "ASSERT")) { kind = LD_E_ABSOLUTE; nargs = -1; }
    else
        return romfs_set_error(r->err, ROMFS_ERR_UNSUPPORTED,
                               "%s:%d: unknown function %s() in expression", lx->file, name->line, fn);
    struct ld_expr *e = new_expr(r, kind);
    if (!e)
        return ROMFS_ERR_NOMEM;
    e->name = fn;
    if (name_arg) {
        if ((rc = next(r, lx, M_EXPR, &t)))
            return rc;
        if (t.type != T_NAME)
            return syntax_error(r, lx, &t, "expected a name");
        if (!(e->name = tok_str(r, &t)))
            return ROMFS_ERR_NOMEM;
    } else {
        if ((rc = parse_expr(r, lx, &e->a)))
            return rc;
        if (nargs == -1) { /* ASSERT(exp, "message") in an expression yields exp */
            if ((rc = expect_op(r, lx, ',', "expected ',' in ASSERT")))
                return rc;
            if ((rc = next(r, lx, M_EXPR, &t)))
                return rc;
            if (t.type != T_STR)
                return syntax_error(r, lx, &t, "expected a string");
        } else if (nargs == 2 || kind == LD_E_ALIGN) {
            if ((rc = peek(r, lx, M_EXPR, &t)))
                return rc;
            if (nargs == 2 || is_op(&t, ',')) {
                if ((rc = expect_op(r, lx, ',', "expected ','")))
                    return rc;
                if ((rc = parse_expr(r, lx, &e->b)))
                    return rc;
            }
        }
    }
    *out = e;
    if ((rc = set_height(r, lx, name->line, e)))
        return rc;
    return expect_op(r, lx, ')', "expected ')'");
}

static int parse_unary(struct ld_reader *r, struct lexer *lx, struct ld_expr **out)
{
    struct token t;
    int rc = next(r, lx, M_EXPR, &t);
    if (rc)
        return rc;
    if (t.type == T_OP && (t.op == '-' || t.op == '!' || t.op == '~' || t.op == '+')) {
        if (++r->expr_depth > LD_MAX_EXPR_DEPTH)
            return romfs_set_error(r->err, ROMFS_ERR_UNSUPPORTED, "%s:%d: expression nested too deeply", lx->file, t.line);
        struct ld_expr *e = new_expr(r, LD_E_UNARY);
        if (!e)
            return ROMFS_ERR_NOMEM;
        e->op = t.op;
        rc = parse_unary(r, lx, &e->a);
        r->expr_depth--;
        *out = e;
        return rc ? rc : set_height(r, lx, t.line, e);
    }
    if (t.type == T_NUM) {
        struct ld_expr *e = new_expr(r, LD_E_NUM);
        if (!e)
            return ROMFS_ERR_NOMEM;
        e->num = t.num;
        *out = e;
        return ROMFS_OK;
    }
    if (is_op(&t, '(')) {
        if (++r->expr_depth > LD_MAX_EXPR_DEPTH)
            return romfs_set_error(r->err, ROMFS_ERR_UNSUPPORTED, "%s:%d: expression nested too deeply", lx->file, t.line);
        rc = parse_expr(r, lx, out);
        r->expr_depth--;
        return rc ? rc : expect_op(r, lx, ')', "expected ')'");
    }
    if (t.type == T_NAME) {
        struct token n;
        if ((rc = peek(r, lx, M_EXPR, &n)))
            return rc;
        if (is_op(&n, '('))
            return parse_function(r, lx, &t, out);
        struct ld_expr *e;
        if (t.len == 1 && t.text[0] == '.') {
            e = new_expr(r, LD_E_DOT);
        } else if (tok_is(&t, "SIZEOF_HEADERS") || tok_is(&t, "sizeof_headers")) {
            e = new_expr(r, LD_E_LAYOUT);
            if (e)
                e->name = "SIZEOF_HEADERS";
        } else {
            e = new_expr(r, LD_E_SYM);
            if (e && !(e->name = tok_str(r, &t)))
                return ROMFS_ERR_NOMEM;
        }
        if (!e)
            return ROMFS_ERR_NOMEM;
        *out = e;
        return ROMFS_OK;
    }
    if (t.type == T_OP && t.op == '^')
        return romfs_set_error(r->err, ROMFS_ERR_UNSUPPORTED, "%s:%d: '^' is not accepted by GNU ld", lx->file, t.line);
    return syntax_error(r, lx, &t, "expected an expression");
}

static int parse_binary(struct ld_reader *r, struct lexer *lx, int min_prec, struct ld_expr **out)
{
    int rc = parse_unary(r, lx, out);
    if (rc)
        return rc;
    for (;;) {
        struct token t;
        if ((rc = peek(r, lx, M_EXPR, &t)))
            return rc;
        int prec = binary_prec(&t);
        if (prec == 0 || prec < min_prec)
            return ROMFS_OK;
        next(r, lx, M_EXPR, &t);
        struct ld_expr *e = new_expr(r, LD_E_BINARY);
        if (!e)
            return ROMFS_ERR_NOMEM;
        e->op = t.op;
        e->a = *out;
        if (++r->expr_depth > LD_MAX_EXPR_DEPTH)
            return romfs_set_error(r->err, ROMFS_ERR_UNSUPPORTED, "%s:%d: expression nested too deeply", lx->file, t.line);
        rc = parse_binary(r, lx, prec + 1, &e->b);
        r->expr_depth--;
        if (rc || (rc = set_height(r, lx, t.line, e)))
            return rc;
        *out = e;
    }
}

static int parse_expr(struct ld_reader *r, struct lexer *lx, struct ld_expr **out)
{
    int rc = parse_binary(r, lx, 1, out);
    if (rc)
        return rc;
    struct token t;
    if ((rc = peek(r, lx, M_EXPR, &t)))
        return rc;
    if (!is_op(&t, '?'))
        return ROMFS_OK;
    next(r, lx, M_EXPR, &t);
    if (++r->expr_depth > LD_MAX_EXPR_DEPTH)
        return romfs_set_error(r->err, ROMFS_ERR_UNSUPPORTED, "%s:%d: expression nested too deeply", lx->file, t.line);
    struct ld_expr *e = new_expr(r, LD_E_COND);
    if (!e)
        return ROMFS_ERR_NOMEM;
    e->a = *out;
    if ((rc = parse_expr(r, lx, &e->b)) || (rc = expect_op(r, lx, ':', "expected ':' in '?:'")) ||
        (rc = parse_expr(r, lx, &e->c)) || (rc = set_height(r, lx, t.line, e)))
        return rc;
    r->expr_depth--;
    *out = e;
    return ROMFS_OK;
}

/* ---- statements ---- */

static bool assign_op(const struct token *t)
{
    if (t->type != T_OP)
        return false;
    return t->op == '=' || (t->op >= LD_OP_ADD_ASSIGN && t->op <= LD_OP_OR_ASSIGN);
}

static struct ld_stmt *add_stmt(struct ld_reader *r, struct lexer *lx, enum ld_stmt_kind kind,
                                int line, enum ld_context ctx, const char *section)
{
    struct ld_stmt *s = ld_program_add(r->prog);
    if (!s) {
        romfs_set_error(r->err, ROMFS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    s->kind = kind;
    s->file = lx->file;
    s->line = line;
    s->ctx = ctx;
    s->section = section;
    return s;
}

/* NAME op expr, with NAME already read; the terminator is left to the caller. */
static int parse_assignment(struct ld_reader *r, struct lexer *lx, const struct token *name,
                            enum ld_context ctx, const char *section)
{
    struct token op;
    int rc = next(r, lx, M_EXPR, &op);
    if (rc)
        return rc;
    struct ld_stmt *s = add_stmt(r, lx, LD_S_ASSIGN, name->line, ctx, section);
    if (!s || !(s->name = tok_str(r, name)))
        return ROMFS_ERR_NOMEM;
    s->op = op.op;
    /* parse into a local: the statement array may move while parsing */
    size_t idx = r->prog->n_stmts - 1;
    struct ld_expr *e = NULL;
    if ((rc = parse_expr(r, lx, &e)))
        return rc;
    r->prog->stmts[idx].e = e;
    return ROMFS_OK;
}

/* PROVIDE(NAME = expr), PROVIDE_HIDDEN(...), HIDDEN(...): keyword already read. */
static int parse_provide(struct ld_reader *r, struct lexer *lx, const struct token *kw,
                         enum ld_context ctx, const char *section)
{
    struct token name, op;
    int rc;
    if ((rc = expect_op(r, lx, '(', "expected '('")) || (rc = next(r, lx, M_EXPR, &name)))
        return rc;
    if (name.type != T_NAME)
        return syntax_error(r, lx, &name, "expected a symbol name");
    if ((rc = next(r, lx, M_EXPR, &op)))
        return rc;
    if (!is_op(&op, '='))
        return syntax_error(r, lx, &op, "expected '='");
    bool hidden_only = tok_is(kw, "HIDDEN");
    struct ld_stmt *s = add_stmt(r, lx, hidden_only ? LD_S_ASSIGN : LD_S_PROVIDE, kw->line, ctx, section);
    if (!s || !(s->name = tok_str(r, &name)))
        return ROMFS_ERR_NOMEM;
    s->op = '=';
    size_t idx = r->prog->n_stmts - 1;
    struct ld_expr *e = NULL;
    if ((rc = parse_expr(r, lx, &e)))
        return rc;
    r->prog->stmts[idx].e = e;
    return expect_op(r, lx, ')', "expected ')'");
}

static int parse_assert(struct ld_reader *r, struct lexer *lx, const struct token *kw,
                        enum ld_context ctx, const char *section)
{
    struct token msg;
    int rc;
    if ((rc = expect_op(r, lx, '(', "expected '('")))
        return rc;
    struct ld_stmt *s = add_stmt(r, lx, LD_S_ASSERT, kw->line, ctx, section);
    if (!s)
        return ROMFS_ERR_NOMEM;
    size_t idx = r->prog->n_stmts - 1;
    struct ld_expr *e = NULL;
    if ((rc = parse_expr(r, lx, &e)) || (rc = expect_op(r, lx, ',', "expected ','")) ||
        (rc = next(r, lx, M_EXPR, &msg)))
        return rc;
    if (msg.type != T_STR)
        return syntax_error(r, lx, &msg, "expected a message string");
    r->prog->stmts[idx].e = e;
    if (!(r->prog->stmts[idx].name = tok_str(r, &msg)))
        return ROMFS_ERR_NOMEM;
    return expect_op(r, lx, ')', "expected ')'");
}

/* A file name after INCLUDE: a quoted string or a run of non-blank characters. */
static int read_file_name(struct ld_reader *r, struct lexer *lx, const char **out, int *line)
{
    int rc = skip_space(r, lx);
    if (rc)
        return rc;
    lx->has_peek = false;
    *line = lx->line;
    const char *s = lx->text + lx->pos;
    size_t n = 0, left = lx->len - lx->pos;
    if (left && s[0] == '"') {
        while (n + 1 < left && s[n + 1] != '"' && s[n + 1] != '\n')
            n++;
        if (n + 1 >= left || s[n + 1] != '"')
            return romfs_set_error(r->err, ROMFS_ERR_CORRUPT, "%s:%d: unterminated string", lx->file, *line);
        *out = ld_arena_strndup(r->prog, s + 1, n);
        lx->pos += n + 2;
    } else {
        while (n < left && !isspace((unsigned char)s[n]) && s[n] != ';' && s[n] != '}' && s[n] != ')')
            n++;
        if (n == 0)
            return romfs_set_error(r->err, ROMFS_ERR_CORRUPT, "%s:%d: syntax error: expected a file name", lx->file, *line);
        *out = ld_arena_strndup(r->prog, s, n);
        lx->pos += n;
    }
    return *out ? ROMFS_OK : romfs_set_error(r->err, ROMFS_ERR_NOMEM, "out of memory");
}

static int parse_include(struct ld_reader *r, struct lexer *lx, enum ld_parse_mode mode, const char *section)
{
    const char *name;
    int line, rc = read_file_name(r, lx, &name, &line);
    if (rc)
        return rc;
    return r->include(r, lx->file, line, name, mode, section);
}

static int parse_memory(struct ld_reader *r, struct lexer *lx, bool nested)
{
    struct token t;
    int rc;
    for (;;) {
        if ((rc = next(r, lx, M_SCRIPT, &t)))
            return rc;
        if (t.type == T_EOF && !nested)
            return ROMFS_OK;
        if (is_op(&t, '}') && nested)
            return ROMFS_OK;
        if (t.type != T_NAME)
            return syntax_error(r, lx, &t, "expected a MEMORY region");
        if (tok_is(&t, "INCLUDE")) {
            if ((rc = parse_include(r, lx, LD_PM_MEMORY, NULL)))
                return rc;
            continue;
        }
        struct ld_stmt *s = add_stmt(r, lx, LD_S_REGION, t.line, LD_CTX_TOP, NULL);
        if (!s || !(s->name = tok_str(r, &t)))
            return ROMFS_ERR_NOMEM;
        size_t idx = r->prog->n_stmts - 1;
        const char *attrs = "";
        struct token a;
        if ((rc = next(r, lx, M_EXPR, &a)))
            return rc;
        if (is_op(&a, '(')) {
            size_t start = lx->pos;
            if ((rc = skip_balanced(r, lx, M_SKIM, '(', ')')))
                return rc;
            if (!(attrs = ld_arena_strndup(r->prog, lx->text + start, lx->pos - 1 - start)))
                return romfs_set_error(r->err, ROMFS_ERR_NOMEM, "out of memory");
            if ((rc = next(r, lx, M_EXPR, &a)))
                return rc;
        }
        if (!is_op(&a, ':'))
            return syntax_error(r, lx, &a, "expected ':' after the region name");
        struct ld_expr *origin = NULL, *length = NULL;
        if ((rc = next(r, lx, M_SCRIPT, &a)))
            return rc;
        if (!(tok_is(&a, "ORIGIN") || tok_is(&a, "org") || tok_is(&a, "o")))
            return syntax_error(r, lx, &a, "expected ORIGIN, org or o");
        if ((rc = expect_op(r, lx, '=', "expected '='")) || (rc = parse_expr(r, lx, &origin)) ||
            (rc = expect_op(r, lx, ',', "expected ',' after the origin")) || (rc = next(r, lx, M_SCRIPT, &a)))
            return rc;
        if (!(tok_is(&a, "LENGTH") || tok_is(&a, "len") || tok_is(&a, "l")))
            return syntax_error(r, lx, &a, "expected LENGTH, len or l");
        if ((rc = expect_op(r, lx, '=', "expected '='")) || (rc = parse_expr(r, lx, &length)))
            return rc;
        s = &r->prog->stmts[idx];
        s->e = origin;
        s->e2 = length;
        s->name2 = attrs;
        if ((rc = peek(r, lx, M_EXPR, &a)))
            return rc;
        if (is_op(&a, ','))
            next(r, lx, M_EXPR, &a);
    }
}

static const char *const ignored_commands[] = {
    "ENTRY", "OUTPUT_FORMAT", "OUTPUT_ARCH", "TARGET", "OUTPUT", "GROUP", "INPUT", "AS_NEEDED",
    "STARTUP", "EXTERN", "NOCROSSREFS", "NOCROSSREFS_TO", "LD_FEATURE", "FORCE_COMMON_ALLOCATION",
    "INHIBIT_COMMON_ALLOCATION", "FORCE_GROUP_ALLOCATION", "CREATE_OBJECT_SYMBOLS", "CONSTRUCTORS",
    NULL,
};

static bool is_ignored_command(const struct token *t)
{
    for (int i = 0; ignored_commands[i]; i++)
        if (tok_is(t, ignored_commands[i]))
            return true;
    return false;
}

static int skip_command(struct ld_reader *r, struct lexer *lx)
{
    struct token t;
    int rc = peek(r, lx, M_SKIM, &t);
    if (rc || !is_op(&t, '('))
        return rc;
    next(r, lx, M_SKIM, &t);
    return skip_balanced(r, lx, M_SKIM, '(', ')');
}

static int parse_search_dir(struct ld_reader *r, struct lexer *lx)
{
    const char *dir;
    int line, rc;
    if ((rc = expect_op(r, lx, '(', "expected '('")) || (rc = read_file_name(r, lx, &dir, &line)))
        return rc;
    if (r->n_extra_dirs == r->cap_extra_dirs) {
        size_t cap = r->cap_extra_dirs ? r->cap_extra_dirs * 2 : 8;
        const char **d = realloc(r->extra_dirs, cap * sizeof *d);
        if (!d)
            return romfs_set_error(r->err, ROMFS_ERR_NOMEM, "out of memory");
        r->extra_dirs = d;
        r->cap_extra_dirs = cap;
    }
    r->extra_dirs[r->n_extra_dirs++] = dir;
    return expect_op(r, lx, ')', "expected ')'");
}

static int parse_block(struct ld_reader *r, struct lexer *lx, enum ld_parse_mode mode,
                       const char *section, bool nested);

/* An output section (or OVERLAY) description, its name already read. */
static int parse_output_section(struct ld_reader *r, struct lexer *lx, const struct token *name)
{
    const char *section = tok_str(r, name);
    struct token t;
    int rc, depth = 0;
    if (!section)
        return ROMFS_ERR_NOMEM;
    for (;;) { /* header: address, type, AT(lma), ALIGN(...), constraints, up to '{' */
        if ((rc = next(r, lx, M_SKIM, &t)))
            return rc;
        if (t.type == T_EOF || (depth == 0 && (is_op(&t, ';') || is_op(&t, '}'))))
            return romfs_set_error(r->err, ROMFS_ERR_UNSUPPORTED,
                                   "%s:%d: unsupported statement '%s' in SECTIONS", lx->file, name->line, section);
        if (is_op(&t, '('))
            depth++;
        else if (is_op(&t, ')'))
            depth--;
        else if (is_op(&t, '{') && depth == 0)
            break;
    }
    if ((rc = parse_block(r, lx, LD_PM_BODY, section, true)))
        return rc;
    for (;;) { /* trailer: >region AT>region :phdr =fill , */
        if ((rc = peek(r, lx, M_SKIM, &t)))
            return rc;
        if (is_op(&t, '>') || is_op(&t, ':')) {
            next(r, lx, M_SKIM, &t);
            if ((rc = next(r, lx, M_SKIM, &t)))
                return rc;
        } else if (tok_is(&t, "AT")) {
            next(r, lx, M_SKIM, &t);
            if ((rc = expect_op(r, lx, '>', "expected '>' after AT")) || (rc = next(r, lx, M_SKIM, &t)))
                return rc;
        } else if (is_op(&t, '=')) {
            next(r, lx, M_SKIM, &t);
            struct ld_expr *fill;
            if ((rc = parse_expr(r, lx, &fill)))
                return rc;
        } else if (is_op(&t, ',')) {
            next(r, lx, M_SKIM, &t);
        } else {
            return ROMFS_OK;
        }
    }
}

/* Statement terminator: ';' or ',' (optional inside output sections). */
static int parse_end(struct ld_reader *r, struct lexer *lx, enum ld_parse_mode mode)
{
    struct token t;
    int rc = peek(r, lx, M_EXPR, &t);
    if (rc)
        return rc;
    if (is_op(&t, ';') || is_op(&t, ',')) {
        next(r, lx, M_EXPR, &t);
        return ROMFS_OK;
    }
    return mode == LD_PM_BODY ? ROMFS_OK : syntax_error(r, lx, &t, "expected ';'");
}

static int parse_block(struct ld_reader *r, struct lexer *lx, enum ld_parse_mode mode,
                       const char *section, bool nested)
{
    enum ld_context ctx = mode == LD_PM_TOP ? LD_CTX_TOP
                        : mode == LD_PM_SECTIONS ? LD_CTX_SECTIONS : LD_CTX_OUTPUT_SECTION;
    enum lex_mode lm = mode == LD_PM_BODY ? M_SKIM : M_SCRIPT;
    if (mode == LD_PM_MEMORY)
        return parse_memory(r, lx, nested);
    int braces = 0;
    for (;;) {
        struct token t, n;
        int rc = next(r, lx, lm, &t);
        if (rc)
            return rc;
        if (t.type == T_EOF) {
            if (!nested)
                return ROMFS_OK;
            return syntax_error(r, lx, &t, "expected '}'");
        }
        if (is_op(&t, ';'))
            continue;
        if (is_op(&t, '}')) {
            if (braces > 0) {
                braces--;
                continue;
            }
            if (nested)
                return ROMFS_OK;
            return syntax_error(r, lx, &t, "unbalanced '}'");
        }
        if (mode == LD_PM_BODY && is_op(&t, '{')) {
            braces++;
            continue;
        }
        if (t.type != T_NAME) {
            if (mode == LD_PM_BODY)
                continue;
            return syntax_error(r, lx, &t, "expected a statement");
        }
        if (tok_is(&t, "INCLUDE")) { /* before peeking: a file name is no expression */
            if ((rc = parse_include(r, lx, mode, section)))
                return rc;
            continue;
        }
        if ((rc = peek(r, lx, mode == LD_PM_BODY ? M_SKIM : M_EXPR, &n)))
            return rc;
        if (assign_op(&n)) {
            if ((rc = parse_assignment(r, lx, &t, ctx, section)) || (rc = parse_end(r, lx, mode)))
                return rc;
        } else if ((tok_is(&t, "PROVIDE") || tok_is(&t, "PROVIDE_HIDDEN") || tok_is(&t, "HIDDEN")) &&
                   is_op(&n, '(')) {
            if ((rc = parse_provide(r, lx, &t, ctx, section)))
                return rc;
        } else if (tok_is(&t, "ASSERT") && is_op(&n, '(')) {
            if ((rc = parse_assert(r, lx, &t, ctx, section)))
                return rc;
        } else if (mode == LD_PM_BODY) {
            continue; /* file patterns, KEEP(), LONG(), FILL(), SORT() ... */
        } else if (mode == LD_PM_TOP && tok_is(&t, "MEMORY")) {
            if ((rc = expect_op(r, lx, '{', "expected '{' after MEMORY")) ||
                (rc = parse_memory(r, lx, true)))
                return rc;
        } else if (mode == LD_PM_TOP && tok_is(&t, "SECTIONS")) {
            if ((rc = expect_op(r, lx, '{', "expected '{' after SECTIONS")) ||
                (rc = parse_block(r, lx, LD_PM_SECTIONS, NULL, true)))
                return rc;
        } else if (mode == LD_PM_TOP && tok_is(&t, "REGION_ALIAS")) {
            struct token a, b;
            if ((rc = expect_op(r, lx, '(', "expected '('")) || (rc = next(r, lx, M_EXPR, &a)))
                return rc;
            if (a.type != T_STR)
                return syntax_error(r, lx, &a, "expected the alias name as a quoted string");
            if ((rc = expect_op(r, lx, ',', "expected ','")) || (rc = next(r, lx, M_EXPR, &b)))
                return rc;
            if (b.type != T_NAME)
                return syntax_error(r, lx, &b, "expected a region name");
            struct ld_stmt *s = add_stmt(r, lx, LD_S_ALIAS, t.line, ctx, NULL);
            if (!s || !(s->name = tok_str(r, &a)) || !(s->name2 = tok_str(r, &b)))
                return ROMFS_ERR_NOMEM;
            if ((rc = expect_op(r, lx, ')', "expected ')'")))
                return rc;
        } else if (tok_is(&t, "SEARCH_DIR")) {
            if ((rc = parse_search_dir(r, lx)))
                return rc;
        } else if (is_ignored_command(&t)) {
            if ((rc = skip_command(r, lx)))
                return rc;
        } else if (mode == LD_PM_TOP && (tok_is(&t, "PHDRS") || tok_is(&t, "VERSION"))) {
            if ((rc = expect_op(r, lx, '{', "expected '{'")) || (rc = skip_balanced(r, lx, M_SKIM, '{', '}')))
                return rc;
        } else if (mode == LD_PM_TOP && tok_is(&t, "INSERT")) {
            if ((rc = next(r, lx, M_SCRIPT, &n)) || (rc = next(r, lx, M_SCRIPT, &n)))
                return rc;
        } else if (mode == LD_PM_SECTIONS) {
            if ((rc = parse_output_section(r, lx, &t)))
                return rc;
        } else {
            return romfs_set_error(r->err, ROMFS_ERR_UNSUPPORTED,
                                   "%s:%d: unsupported or invalid statement '%.*s'", lx->file, t.line,
                                   (int)(t.len > 60 ? 60 : t.len), t.text);
        }
    }
}

int ld_parse_text(struct ld_reader *r, const char *file, const char *text, size_t len,
                  bool cpp_markers, enum ld_parse_mode mode, const char *section)
{
    struct lexer lx;
    memset(&lx, 0, sizeof lx);
    lx.text = text;
    lx.len = len;
    lx.file = ld_arena_strndup(r->prog, file, strlen(file));
    if (!lx.file)
        return romfs_set_error(r->err, ROMFS_ERR_NOMEM, "out of memory");
    lx.line = 1;
    lx.cpp_markers = cpp_markers;
    lx.at_line_start = true;
    if (memchr(text, '\0', len))
        return romfs_set_error(r->err, ROMFS_ERR_CORRUPT, "%s: contains a NUL byte; not a linker script", file);
    return parse_block(r, &lx, mode, section, false);
}

int ld_parse_defsym(struct ld_reader *r, const char *def, int index)
{
    const char *eq = strchr(def, '=');
    char file[32];
    snprintf(file, sizeof file, "defsym");
    if (!eq)
        return romfs_set_error(r->err, ROMFS_ERR_INVAL, "symbol definition '%s': expected NAME=EXPRESSION", def);
    const char *a = def, *b = eq;
    while (a < b && isspace((unsigned char)*a))
        a++;
    while (b > a && isspace((unsigned char)b[-1]))
        b--;
    struct lexer lx;
    memset(&lx, 0, sizeof lx);
    lx.text = eq + 1;
    lx.len = strlen(eq + 1);
    lx.file = ld_arena_strndup(r->prog, file, strlen(file));
    lx.line = index;
    if (!lx.file)
        return romfs_set_error(r->err, ROMFS_ERR_NOMEM, "out of memory");
    if (a == b)
        return romfs_set_error(r->err, ROMFS_ERR_INVAL, "symbol definition '%s': empty symbol name", def);
    struct ld_stmt *s = add_stmt(r, &lx, LD_S_ASSIGN, index, LD_CTX_TOP, NULL);
    if (!s || !(s->name = ld_arena_strndup(r->prog, a, (size_t)(b - a))))
        return romfs_set_error(r->err, ROMFS_ERR_NOMEM, "out of memory");
    s->op = '=';
    size_t idx = r->prog->n_stmts - 1;
    struct ld_expr *e = NULL;
    int rc = parse_expr(r, &lx, &e);
    if (rc)
        return romfs_error_prefix(r->err, "symbol definition '%s'", def);
    r->prog->stmts[idx].e = e;
    struct token t;
    if ((rc = next(r, &lx, M_EXPR, &t)))
        return rc;
    if (t.type != T_EOF)
        return romfs_set_error(r->err, ROMFS_ERR_CORRUPT, "symbol definition '%s': unexpected text after the expression", def);
    return ROMFS_OK;
}
