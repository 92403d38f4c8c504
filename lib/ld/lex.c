/* ld/lex.c: the statement arena and the lexer for GNU ld scripts.
 *
 * The lexer follows ld's two name rules: inside expressions a name is
 * [A-Za-z_.][A-Za-z0-9_.$]*, at statement level ld also glues - + = [ ] / \ ~
 * into names (so `a-b = 1;` assigns the symbol "a-b" and `x=5;` is a syntax
 * error). Where the two readings would give different numbers (`x = a-b;`) the
 * script is refused with file:line instead of guessing. */
#include "ld/ldscript_internal.h"

#include "base/range.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena and program ---- */

struct ld_chunk { struct ld_chunk *next; size_t used, cap; _Alignas(16) unsigned char data[]; };

void *ld_arena_alloc(struct ld_program *p, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    struct ld_chunk *c = p->chunks;
    if (!c || c->cap - c->used < size) {
        size_t cap = size > 32768 ? size : 32768;
        c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->cap = cap;
        c->used = 0;
        c->next = p->chunks;
        p->chunks = c;
    }
    void *r = c->data + c->used;
    c->used += size;
    memset(r, 0, size);
    return r;
}

const char *ld_arena_strndup(struct ld_program *p, const char *s, size_t n)
{
    char *r = ld_arena_alloc(p, n + 1);
    if (r) {
        memcpy(r, s, n);
        r[n] = '\0';
    }
    return r;
}

struct ld_stmt *ld_program_add(struct ld_program *p)
{
    if (p->n_stmts == p->cap_stmts) {
        size_t cap = p->cap_stmts ? p->cap_stmts * 2 : 64;
        struct ld_stmt *s = realloc(p->stmts, cap * sizeof *s);
        if (!s)
            return NULL;
        p->stmts = s;
        p->cap_stmts = cap;
    }
    struct ld_stmt *s = &p->stmts[p->n_stmts++];
    memset(s, 0, sizeof *s);
    return s;
}

void ld_program_free(struct ld_program *p)
{
    free(p->stmts);
    while (p->chunks) {
        struct ld_chunk *n = p->chunks->next;
        free(p->chunks);
        p->chunks = n;
    }
    memset(p, 0, sizeof *p);
}

/* ---- lexer ---- */

static bool name_start(int c) { return isalpha(c) || c == '_' || c == '.'; }
static bool name_char(int c) { return isalnum(c) || c == '_' || c == '.' || c == '$'; }
static bool script_name_char(int c)
{
    return name_char(c) || c == '-' || c == '+' || c == '=' || c == '[' || c == ']' ||
           c == '/' || c == '\\' || c == '~';
}

static int lex_error(struct ld_reader *r, struct lexer *lx, int line, int code, const char *fmt,
                     const char *arg, size_t arglen)
{
    char buf[200];
    snprintf(buf, sizeof buf, fmt, (int)(arglen > 60 ? 60 : arglen), arg ? arg : "");
    return romfs_set_error(r->err, code, "%s:%d: %s", lx->file, line, buf);
}

/* Skip blanks, comments and (for preprocessed text) cpp line markers. */
int ld_lex_skip_space(struct ld_reader *r, struct lexer *lx)
{
    while (lx->pos < lx->len) {
        char c = lx->text[lx->pos];
        if (c == '\n') {
            lx->line++;
            lx->pos++;
            lx->at_line_start = true;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            lx->pos++;
        } else if (c == '/' && lx->pos + 1 < lx->len && lx->text[lx->pos + 1] == '*') {
            int start_line = lx->line;
            size_t p = lx->pos + 2;
            while (p + 1 < lx->len && !(lx->text[p] == '*' && lx->text[p + 1] == '/')) {
                if (lx->text[p] == '\n')
                    lx->line++;
                p++;
            }
            if (p + 1 >= lx->len)
                return lex_error(r, lx, start_line, ROMFS_ERR_CORRUPT, "unterminated comment%.*s", "", 0);
            lx->pos = p + 2;
        } else if (c == '#' && lx->cpp_markers && lx->at_line_start) {
            size_t p = lx->pos + 1, eol = p;
            while (eol < lx->len && lx->text[eol] != '\n')
                eol++;
            while (p < eol && lx->text[p] == ' ')
                p++;
            if (p < eol && isdigit((unsigned char)lx->text[p])) {
                long n = strtol(lx->text + p, NULL, 10);
                while (p < eol && isdigit((unsigned char)lx->text[p]))
                    p++;
                while (p < eol && lx->text[p] == ' ')
                    p++;
                if (p < eol && lx->text[p] == '"') {
                    size_t q = p + 1;
                    while (q < eol && lx->text[q] != '"')
                        q++;
                    const char *f = ld_arena_strndup(r->prog, lx->text + p + 1, q - p - 1);
                    if (!f)
                        return romfs_set_error(r->err, ROMFS_ERR_NOMEM, "out of memory");
                    lx->file = f;
                }
                lx->line = (int)n - 1; /* the newline that ends the marker adds one */
            }
            lx->pos = eol;
        } else {
            lx->at_line_start = false;
            return ROMFS_OK;
        }
    }
    return ROMFS_OK;
}

static int digit_value(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return 99;
}

/* Digits in base; *too_big set (and false returned) for a number over 64 bits, which
 * ld would wrap silently: here it is an input error. */
static bool parse_digits(const char *s, size_t n, unsigned base, uint64_t *out, bool *too_big)
{
    uint64_t v = 0;
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        int d = digit_value((unsigned char)s[i]);
        if (d >= (int)base)
            return false;
        if (!romfs_mul_u64(v, base, &v) || !romfs_add_u64(v, (uint64_t)d, &v)) {
            *too_big = true;
            return false;
        }
    }
    *out = v;
    return true;
}

/* Numbers as ld reads them: 0x.. hex, $.. hex, leading 0 octal, decimal, a K/M
 * (x1024, x1048576) suffix, or an h/o/b/d radix suffix. */
static int lex_number(struct ld_reader *r, struct lexer *lx, struct token *t)
{
    const char *s = lx->text + lx->pos;
    size_t n = 0;
    if (s[0] == '$')
        n = 1;
    while (lx->pos + n < lx->len && isalnum((unsigned char)s[n]))
        n++;
    t->type = T_NUM;
    t->text = s;
    t->len = n;
    lx->pos += n;
    uint64_t v = 0, scale = 1;
    size_t digits = n;
    bool ok, too_big = false;
    char last = s[n - 1];
    if (s[0] == '$') {
        ok = parse_digits(s + 1, n - 1, 16, &v, &too_big);
    } else if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        if (last == 'K' || last == 'k') { scale = 1024; digits--; }
        else if (last == 'M' || last == 'm') { scale = 1024 * 1024; digits--; }
        ok = parse_digits(s + 2, digits - 2, 16, &v, &too_big);
    } else {
        unsigned base = 0;
        switch (last) {
        case 'K': case 'k': scale = 1024; digits--; break;
        case 'M': case 'm': scale = 1024 * 1024; digits--; break;
        case 'h': case 'H': base = 16; digits--; break;
        case 'o': case 'O': base = 8; digits--; break;
        case 'b': case 'B': base = 2; digits--; break;
        case 'd': case 'D': base = 10; digits--; break;
        default: break;
        }
        if (base == 0)
            base = (digits > 1 && s[0] == '0') ? 8 : 10;
        ok = parse_digits(s, digits, base, &v, &too_big);
    }
    if (ok && !romfs_mul_u64(v, scale, &v))
        too_big = true;
    if (too_big)
        return lex_error(r, lx, lx->line, ROMFS_ERR_RANGE, "number '%.*s' does not fit in 64 bits", s, n);
    if (!ok)
        return lex_error(r, lx, lx->line, ROMFS_ERR_CORRUPT, "invalid number '%.*s'", s, n);
    t->num = v;
    return ROMFS_OK;
}

static const struct { const char *s; int op; } multi_ops[] = {
    {"<<=", LD_OP_LSHIFT_ASSIGN}, {">>=", LD_OP_RSHIFT_ASSIGN},
    {"+=", LD_OP_ADD_ASSIGN}, {"-=", LD_OP_SUB_ASSIGN}, {"*=", LD_OP_MUL_ASSIGN},
    {"/=", LD_OP_DIV_ASSIGN}, {"&=", LD_OP_AND_ASSIGN}, {"|=", LD_OP_OR_ASSIGN},
    {"<<", LD_OP_LSHIFT}, {">>", LD_OP_RSHIFT}, {"==", LD_OP_EQ}, {"!=", LD_OP_NE},
    {"<=", LD_OP_LE}, {">=", LD_OP_GE}, {"&&", LD_OP_ANDAND}, {"||", LD_OP_OROR},
};

static int lex_raw(struct ld_reader *r, struct lexer *lx, enum lex_mode mode, struct token *t)
{
    int rc = ld_lex_skip_space(r, lx);
    if (rc)
        return rc;
    memset(t, 0, sizeof *t);
    t->line = lx->line;
    if (lx->pos >= lx->len) {
        t->type = T_EOF;
        return ROMFS_OK;
    }
    const char *s = lx->text + lx->pos;
    size_t left = lx->len - lx->pos;
    unsigned char c = (unsigned char)s[0];
    if (isdigit(c) || (c == '$' && left > 1 && isxdigit((unsigned char)s[1])))
        return lex_number(r, lx, t);
    bool wild = mode == M_SKIM && (c == '*' || c == '?');
    if (name_start(c) || wild || (mode != M_EXPR && (c == '/' || c == '\\') &&
                                  !(left > 1 && s[1] == '*'))) {
        size_t n = 1;
        for (; n < left; n++) {
            unsigned char d = (unsigned char)s[n];
            if (mode == M_EXPR) {
                if (!name_char(d))
                    break;
            } else if (mode == M_SKIM) { /* file patterns: ld's wildcard characters */
                if (!(script_name_char(d) || d == '*' || d == '?' || d == ':') || d == '=')
                    break;
            } else {
                if (!script_name_char(d) || (d == '/' && n + 1 < left && s[n + 1] == '*'))
                    break;
            }
        }
        if (mode == M_EXPR && n + 1 < left && (s[n] == '-' || s[n] == '+' || s[n] == '/') &&
            (isalnum((unsigned char)s[n + 1]) || s[n + 1] == '_'))
            return lex_error(r, lx, lx->line, ROMFS_ERR_UNSUPPORTED,
                             "'%.*s' is ambiguous in ld (a name may contain - + /); put spaces around the operator",
                             s, n + 2);
        t->type = T_NAME;
        t->text = s;
        t->len = n;
        lx->pos += n;
        return ROMFS_OK;
    }
    if (c == '"') {
        size_t n = 1;
        while (n < left && s[n] != '"' && s[n] != '\n')
            n++;
        if (n >= left || s[n] != '"')
            return lex_error(r, lx, lx->line, ROMFS_ERR_CORRUPT, "unterminated string%.*s", "", 0);
        t->type = T_STR;
        t->text = s + 1;
        t->len = n - 1;
        lx->pos += n + 1;
        return ROMFS_OK;
    }
    t->type = T_OP;
    t->text = s;
    for (size_t i = 0; i < sizeof multi_ops / sizeof multi_ops[0]; i++) {
        size_t n = strlen(multi_ops[i].s);
        if (left >= n && memcmp(s, multi_ops[i].s, n) == 0) {
            t->op = multi_ops[i].op;
            t->len = n;
            lx->pos += n;
            return ROMFS_OK;
        }
    }
    if (mode != M_SKIM && (!strchr("(){};,:?=+-*/%&|~!<>[]@", c) || c == 0))
        return lex_error(r, lx, lx->line, ROMFS_ERR_CORRUPT,
                         "character '%.*s' is not valid here (GNU ld rejects it too)", s, 1);
    t->op = c;
    t->len = 1;
    lx->pos++;
    return ROMFS_OK;
}

int ld_peek(struct ld_reader *r, struct lexer *lx, enum lex_mode mode, struct token *t)
{
    if (lx->has_peek && lx->peek_pos == lx->pos && lx->peek_mode == mode) {
        *t = lx->peeked;
        return ROMFS_OK;
    }
    size_t save = lx->pos;
    int save_line = lx->line;
    const char *save_file = lx->file;
    bool save_start = lx->at_line_start;
    int rc = lex_raw(r, lx, mode, t);
    if (rc)
        return rc;
    lx->peeked = *t;
    lx->peek_end = lx->pos;
    lx->peek_end_line = lx->line;
    lx->peek_end_file = lx->file;
    lx->peek_mode = mode;
    lx->pos = save;
    lx->line = save_line;
    lx->file = save_file;
    lx->at_line_start = save_start;
    lx->peek_pos = save;
    lx->has_peek = true;
    return ROMFS_OK;
}

int ld_next(struct ld_reader *r, struct lexer *lx, enum lex_mode mode, struct token *t)
{
    int rc = ld_peek(r, lx, mode, t);
    if (rc)
        return rc;
    lx->pos = lx->peek_end;
    lx->line = lx->peek_end_line;
    lx->file = lx->peek_end_file;
    lx->at_line_start = false;
    lx->has_peek = false;
    return ROMFS_OK;
}

bool ld_tok_is(const struct token *t, const char *word)
{
    return t->type == T_NAME && t->len == strlen(word) && memcmp(t->text, word, t->len) == 0;
}

bool ld_is_op(const struct token *t, int op) { return t->type == T_OP && t->op == op; }

int ld_syntax_error(struct ld_reader *r, struct lexer *lx, const struct token *t, const char *what)
{
    char buf[300];
    if (t->type == T_EOF)
        snprintf(buf, sizeof buf, "%s, found end of file", what);
    else
        snprintf(buf, sizeof buf, "%s, found '%.*s'", what, (int)(t->len > 40 ? 40 : t->len),
                 t->text);
    return romfs_set_error(r->err, ROMFS_ERR_CORRUPT, "%s:%d: syntax error: %s", lx->file,
                           t->line, buf);
}

int ld_expect_op(struct ld_reader *r, struct lexer *lx, int op, const char *what)
{
    struct token t;
    int rc = ld_next(r, lx, M_EXPR, &t);
    if (rc)
        return rc;
    return ld_is_op(&t, op) ? ROMFS_OK : ld_syntax_error(r, lx, &t, what);
}


