/* boards/import_cdef.c: the macros a board's C configuration headers leave defined, and
 * their integer values (see import_cdef_internal.h). */
#define _GNU_SOURCE
#include "boards/import_cdef_internal.h"
#include "base/error.h"
#include "base/file.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 8       /* #include nesting */
#define MAX_EXPAND 32     /* macro expansion nesting */
#define MAX_TOKENS 512
#define MAX_COND 64

/* ---- the macro table ---- */

const struct imp_cdef *imp_cdefs_find(const struct imp_cdefs *d, const char *name)
{
    for (size_t i = d->n; i-- > 0;)
        if (strcmp(d->v[i].name, name) == 0)
            return &d->v[i];
    return NULL;
}

static void undef(struct imp_cdefs *d, const char *name)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->v[i].name, name) == 0) {
            free(d->v[i].name);
            free(d->v[i].body);
            free(d->v[i].file);
            memmove(&d->v[i], &d->v[i + 1], (d->n - i - 1) * sizeof d->v[i]);
            d->n--;
            return;
        }
}

static int define(struct imp_cdefs *d, const char *name, const char *body, bool fn, const char *file, int line)
{
    undef(d, name);
    struct imp_cdef *nv = realloc(d->v, (d->n + 1) * sizeof *nv);
    if (!nv)
        return ROMFS_ERR_NOMEM;
    d->v = nv;
    struct imp_cdef *m = &d->v[d->n];
    m->name = strdup(name);
    m->body = strdup(body);
    m->file = strdup(file ? file : "");
    m->line = line;
    m->function_like = fn;
    if (!m->name || !m->body || !m->file) {
        free(m->name);
        free(m->body);
        free(m->file);
        return ROMFS_ERR_NOMEM;
    }
    d->n++;
    return ROMFS_OK;
}

int imp_cdefs_define(struct imp_cdefs *d, const char *name, const char *body, const char *file, int line)
{
    return define(d, name, body, false, file, line);
}

void imp_cdefs_free(struct imp_cdefs *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].name);
        free(d->v[i].body);
        free(d->v[i].file);
    }
    free(d->v);
    d->v = NULL;
    d->n = 0;
}

/* ---- expressions ---- */

enum tok_kind { T_NUM, T_ID, T_OP, T_BAD };

struct tok {
    enum tok_kind kind;
    int64_t num;
    char text[64];   /* identifier or operator */
};

struct toks {
    struct tok t[MAX_TOKENS];
    size_t n;
    bool bad;        /* something that is no integer constant (string, ->, overflow...) */
};

static bool ident_start(int c)
{
    return isalpha(c) || c == '_';
}

static bool ident_char(int c)
{
    return isalnum(c) || c == '_';
}

static void push(struct toks *ts, struct tok t)
{
    if (ts->n >= MAX_TOKENS)
        ts->bad = true;
    else
        ts->t[ts->n++] = t;
}

/* Split text into tokens (no expansion). */
static void lex(const char *s, struct toks *ts)
{
    static const char *const ops[] = { "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "->", "##" };
    while (*s) {
        if (isspace((unsigned char)*s)) {
            s++;
            continue;
        }
        struct tok t = { 0 };
        if (isdigit((unsigned char)*s)) {
            char *end;
            unsigned long long v = strtoull(s, &end, 0);
            while (*end == 'u' || *end == 'U' || *end == 'l' || *end == 'L')
                end++;
            if (ident_char((unsigned char)*end) || *end == '.')
                ts->bad = true; /* floats, bad suffixes */
            t.kind = T_NUM;
            t.num = (int64_t)v;
            s = end;
        } else if (ident_start((unsigned char)*s)) {
            size_t n = 0;
            while (ident_char((unsigned char)s[n]))
                n++;
            if (n >= sizeof t.text)
                ts->bad = true;
            t.kind = T_ID;
            snprintf(t.text, sizeof t.text, "%.*s", (int)n, s);
            s += n;
        } else if (*s == '"' || *s == '\'') {
            ts->bad = true;
            return;
        } else {
            t.kind = T_OP;
            size_t k = 0;
            for (; k < sizeof ops / sizeof ops[0]; k++)
                if (strncmp(s, ops[k], 2) == 0)
                    break;
            if (k < sizeof ops / sizeof ops[0]) {
                memcpy(t.text, s, 2);
                s += 2;
                if (k >= 8)
                    ts->bad = true; /* -> and ## */
            } else {
                t.text[0] = *s++;
            }
        }
        push(ts, t);
    }
}

/* Expand text into out, replacing object-like macros (not those being expanded: `active`). */
static void expand(const struct imp_cdefs *d, const char *text, bool in_if, struct toks *out, const char **active,
                   int depth)
{
    struct toks *raw = calloc(1, sizeof *raw);
    if (!raw || depth > MAX_EXPAND) {
        out->bad = true;
        free(raw);
        return;
    }
    lex(text, raw);
    if (raw->bad)
        out->bad = true;
    for (size_t i = 0; i < raw->n && !out->bad; i++) {
        struct tok t = raw->t[i];
        if (t.kind != T_ID) {
            push(out, t);
            continue;
        }
        if (in_if && strcmp(t.text, "defined") == 0) {
            size_t k = i + 1;
            bool paren = k < raw->n && raw->t[k].kind == T_OP && raw->t[k].text[0] == '(';
            if (paren)
                k++;
            if (k >= raw->n || raw->t[k].kind != T_ID) {
                out->bad = true;
                break;
            }
            struct tok v = { .kind = T_NUM, .num = imp_cdefs_find(d, raw->t[k].text) != NULL };
            if (paren) {
                k++;
                if (k >= raw->n || raw->t[k].kind != T_OP || raw->t[k].text[0] != ')') {
                    out->bad = true;
                    break;
                }
            }
            push(out, v);
            i = k;
            continue;
        }
        bool busy = false;
        for (int a = 0; a < depth; a++)
            busy = busy || strcmp(active[a], t.text) == 0;
        const struct imp_cdef *m = busy ? NULL : imp_cdefs_find(d, t.text);
        if (m && m->function_like) {
            out->bad = true; /* never expanded */
            break;
        }
        if (m) {
            active[depth] = m->name;
            expand(d, m->body, in_if, out, active, depth + 1);
            continue;
        }
        push(out, t);
    }
    free(raw);
}

struct parser {
    const struct toks *ts;
    size_t at;
    bool in_if;
    bool bad;
};

static const struct tok *peek(struct parser *p)
{
    return p->at < p->ts->n ? &p->ts->t[p->at] : NULL;
}

static bool is_op(const struct tok *t, const char *op)
{
    return t && t->kind == T_OP && strcmp(t->text, op) == 0;
}

static bool accept(struct parser *p, const char *op)
{
    if (is_op(peek(p), op)) {
        p->at++;
        return true;
    }
    return false;
}

static bool type_word(const char *w)
{
    static const char *const words[] = { "uint8_t", "uint16_t", "uint32_t", "uint64_t", "int8_t", "int16_t",
                                         "int32_t", "int64_t", "uintptr_t", "intptr_t", "size_t", "int",
                                         "unsigned", "signed", "long", "short", "char", "mp_uint_t", "mp_int_t" };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(w, words[i]) == 0)
            return true;
    return false;
}

static int64_t cond_expr(struct parser *p);

static int64_t primary(struct parser *p)
{
    const struct tok *t = peek(p);
    if (!t) {
        p->bad = true;
        return 0;
    }
    if (t->kind == T_NUM) {
        p->at++;
        return t->num;
    }
    if (t->kind == T_ID) {
        p->at++;
        if (!p->in_if)
            p->bad = true; /* a name that is no macro has no value */
        if (is_op(peek(p), "("))
            p->bad = true; /* a function call */
        return 0;
    }
    if (accept(p, "(")) {
        int64_t v = cond_expr(p);
        if (!accept(p, ")"))
            p->bad = true;
        return v;
    }
    p->bad = true;
    return 0;
}

static int64_t unary(struct parser *p)
{
    if (accept(p, "-"))
        return -unary(p);
    if (accept(p, "+"))
        return unary(p);
    if (accept(p, "!"))
        return !unary(p);
    if (accept(p, "~"))
        return ~unary(p);
    if (is_op(peek(p), "(")) {
        /* a cast applies to the unary expression after it */
        size_t k = p->at + 1;
        while (k < p->ts->n && p->ts->t[k].kind == T_ID && type_word(p->ts->t[k].text))
            k++;
        if (k > p->at + 1 && k < p->ts->n && is_op(&p->ts->t[k], ")")) {
            p->at = k + 1;
            return unary(p);
        }
    }
    return primary(p);
}

static int64_t binary(struct parser *p, int level)
{
    static const char *const levels[][4] = {
        { "||" }, { "&&" }, { "|" }, { "^" }, { "&" }, { "==", "!=" }, { "<", ">", "<=", ">=" },
        { "<<", ">>" }, { "+", "-" }, { "*", "/", "%" },
    };
    if (level == (int)(sizeof levels / sizeof levels[0]))
        return unary(p);
    int64_t v = binary(p, level + 1);
    for (;;) {
        const char *op = NULL;
        for (int k = 0; k < 4 && levels[level][k]; k++)
            if (is_op(peek(p), levels[level][k]))
                op = levels[level][k];
        if (!op)
            return v;
        p->at++;
        int64_t r = binary(p, level + 1);
        if (!strcmp(op, "||")) v = v || r;
        else if (!strcmp(op, "&&")) v = v && r;
        else if (!strcmp(op, "|")) v |= r;
        else if (!strcmp(op, "^")) v ^= r;
        else if (!strcmp(op, "&")) v &= r;
        else if (!strcmp(op, "==")) v = v == r;
        else if (!strcmp(op, "!=")) v = v != r;
        else if (!strcmp(op, "<")) v = v < r;
        else if (!strcmp(op, ">")) v = v > r;
        else if (!strcmp(op, "<=")) v = v <= r;
        else if (!strcmp(op, ">=")) v = v >= r;
        else if (!strcmp(op, "<<")) v = (r < 0 || r > 62) ? (p->bad = true, 0) : (int64_t)((uint64_t)v << r);
        else if (!strcmp(op, ">>")) v = (r < 0 || r > 63) ? (p->bad = true, 0) : v >> r;
        else if (!strcmp(op, "+")) v += r;
        else if (!strcmp(op, "-")) v -= r;
        else if (!strcmp(op, "*")) v *= r;
        else if (r == 0) p->bad = true;
        else if (!strcmp(op, "/")) v /= r;
        else v %= r;
    }
}

static int64_t cond_expr(struct parser *p)
{
    int64_t c = binary(p, 0);
    if (!accept(p, "?"))
        return c;
    int64_t a = cond_expr(p);
    if (!accept(p, ":"))
        p->bad = true;
    int64_t b = cond_expr(p);
    return c ? a : b;
}

bool imp_cdefs_eval(const struct imp_cdefs *d, const char *expr, bool in_if, int64_t *out)
{
    struct toks *ts = calloc(1, sizeof *ts);
    if (!ts)
        return false;
    const char *active[MAX_EXPAND + 2];
    expand(d, expr, in_if, ts, active, 0);
    struct parser p = { .ts = ts, .in_if = in_if };
    int64_t v = ts->bad || !ts->n ? 0 : cond_expr(&p);
    bool ok = !ts->bad && ts->n && !p.bad && p.at == ts->n;
    free(ts);
    if (ok)
        *out = v;
    return ok;
}

bool imp_cdefs_value(const struct imp_cdefs *d, const char *name, int64_t *out)
{
    const struct imp_cdef *m = imp_cdefs_find(d, name);
    return m && !m->function_like && imp_cdefs_eval(d, name, false, out);
}

/* ---- reading headers ---- */

struct cond {
    bool active;     /* lines here are processed */
    bool taken;      /* a branch of this #if was already active */
    bool parent;     /* the enclosing level is active */
};

struct reader {
    struct imp_cdefs *d;
    const char *tree;
    const char *const *incdirs;
    struct cond stack[MAX_COND];
    int depth;
};

static bool active(const struct reader *r)
{
    return r->depth == 0 || r->stack[r->depth - 1].active;
}

/* The text of a file with comments blanked (newlines kept) and continuations joined onto
   the first line (the lines they took are left empty, so line numbers stay). */
static char *clean(char *t)
{
    size_t n = strlen(t);
    char *o = malloc(n + 1);
    if (!o)
        return NULL;
    size_t w = 0;
    size_t pending_nl = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i] == '/' && t[i + 1] == '*') {
            o[w++] = ' ';
            for (i += 2; i < n && !(t[i] == '*' && t[i + 1] == '/'); i++)
                if (t[i] == '\n')
                    pending_nl++;
            i++;
            continue;
        }
        if (t[i] == '/' && t[i + 1] == '/') {
            while (i < n && t[i] != '\n')
                i++;
            i--;
            continue;
        }
        if (t[i] == '"') { /* strings are copied as they are */
            o[w++] = t[i++];
            while (i < n && t[i] != '"' && t[i] != '\n') {
                if (t[i] == '\\' && i + 1 < n)
                    o[w++] = t[i++];
                o[w++] = t[i++];
            }
            if (i < n)
                o[w++] = t[i];
            continue;
        }
        if (t[i] == '\\' && t[i + 1] == '\n') {
            pending_nl++;
            i++;
            continue;
        }
        if (t[i] == '\n') {
            o[w++] = '\n';
            for (; pending_nl; pending_nl--)
                o[w++] = '\n';
            continue;
        }
        o[w++] = t[i];
    }
    o[w] = 0;
    return o;
}

static char *dir_of(const char *rel)
{
    const char *slash = strrchr(rel, '/');
    return slash ? strndup(rel, (size_t)(slash - rel)) : strdup("");
}

static bool exists(const char *tree, const char *rel)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", tree, rel) < 0)
        return false;
    FILE *f = fopen(p, "r");
    free(p);
    if (f)
        fclose(f);
    return f != NULL;
}

/* "a/b/../c" -> "a/c" in place */
static void normalise(char *path)
{
    char *p;
    while ((p = strstr(path, "/../"))) {
        char *start = p;
        while (start > path && start[-1] != '/')
            start--;
        memmove(start, p + 4, strlen(p + 4) + 1);
    }
    while (strncmp(path, "./", 2) == 0)
        memmove(path, path + 2, strlen(path + 2) + 1);
}

static int read_file(struct reader *r, const char *rel, int depth);

static int directive(struct reader *r, const char *rel, int lineno, const char *p, int depth)
{
    char word[16];
    size_t n = 0;
    while (ident_char((unsigned char)*p) && n + 1 < sizeof word)
        word[n++] = *p++;
    word[n] = 0;
    while (*p == ' ' || *p == '\t')
        p++;
    bool on = active(r);
    if (!strcmp(word, "if") || !strcmp(word, "ifdef") || !strcmp(word, "ifndef")) {
        if (r->depth >= MAX_COND)
            return ROMFS_ERR_RANGE;
        bool v = false;
        if (on) {
            if (word[2] == 0) {
                int64_t x = 0;
                v = imp_cdefs_eval(r->d, p, true, &x) && x != 0;
            } else {
                char name[128];
                size_t k = 0;
                while (ident_char((unsigned char)p[k]) && k + 1 < sizeof name) {
                    name[k] = p[k];
                    k++;
                }
                name[k] = 0;
                v = (imp_cdefs_find(r->d, name) != NULL) == (word[2] == 'd');
            }
        }
        r->stack[r->depth++] = (struct cond){ .active = on && v, .taken = on && v, .parent = on };
    } else if (!strcmp(word, "elif") || !strcmp(word, "else")) {
        if (!r->depth)
            return ROMFS_OK;
        struct cond *c = &r->stack[r->depth - 1];
        bool v = false;
        if (c->parent && !c->taken) {
            int64_t x = 0;
            v = word[1] == 's' || (imp_cdefs_eval(r->d, p, true, &x) && x != 0);
        }
        c->active = v;
        c->taken = c->taken || v;
    } else if (!strcmp(word, "endif")) {
        if (r->depth)
            r->depth--;
    } else if (!on) {
        return ROMFS_OK;
    } else if (!strcmp(word, "define")) {
        char name[128];
        size_t k = 0;
        while (ident_char((unsigned char)p[k]) && k + 1 < sizeof name) {
            name[k] = p[k];
            k++;
        }
        name[k] = 0;
        if (!k)
            return ROMFS_OK;
        bool fn = p[k] == '(';
        const char *body = p + k;
        if (fn)
            body = strchr(body, ')') ? strchr(body, ')') + 1 : "";
        while (*body == ' ' || *body == '\t')
            body++;
        char *b = strdup(body);
        if (!b)
            return ROMFS_ERR_NOMEM;
        size_t bl = strlen(b);
        while (bl && isspace((unsigned char)b[bl - 1]))
            b[--bl] = 0;
        int rc = define(r->d, name, b, fn, rel, lineno);
        free(b);
        return rc;
    } else if (!strcmp(word, "undef")) {
        char name[128];
        size_t k = 0;
        while (ident_char((unsigned char)p[k]) && k + 1 < sizeof name) {
            name[k] = p[k];
            k++;
        }
        name[k] = 0;
        undef(r->d, name);
    } else if (!strcmp(word, "include") && *p == '"' && depth < MAX_DEPTH) {
        const char *end = strchr(p + 1, '"');
        if (!end)
            return ROMFS_OK;
        char *inc = strndup(p + 1, (size_t)(end - p - 1));
        char *here = dir_of(rel);
        char *path = NULL;
        int rc = ROMFS_OK;
        if (!inc || !here)
            rc = ROMFS_ERR_NOMEM;
        if (!rc && asprintf(&path, "%s%s%s", here, *here ? "/" : "", inc) >= 0) {
            normalise(path);
            for (size_t i = 0; !exists(r->tree, path) && r->incdirs && r->incdirs[i]; i++) {
                free(path);
                path = NULL;
                if (asprintf(&path, "%s%s%s", r->incdirs[i], *r->incdirs[i] ? "/" : "", inc) < 0)
                    break;
                normalise(path);
            }
            if (path && exists(r->tree, path))
                rc = read_file(r, path, depth + 1);
        }
        free(path);
        free(inc);
        free(here);
        return rc == ROMFS_ERR_NOENT ? ROMFS_OK : rc;
    }
    return ROMFS_OK;
}

static int read_file(struct reader *r, const char *rel, int depth)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s", r->tree, rel) < 0)
        return ROMFS_ERR_NOMEM;
    uint8_t *data;
    size_t size;
    int rc = romfs_read_file(path, &data, &size, NULL);
    free(path);
    if (rc)
        return ROMFS_ERR_NOENT;
    char *text = clean((char *)data);
    free(data);
    if (!text)
        return ROMFS_ERR_NOMEM;
    int lineno = 1;
    rc = ROMFS_OK;
    for (char *p = text; !rc && *p;) {
        char *eol = strchr(p, '\n');
        if (eol)
            *eol = 0;
        const char *q = p;
        while (*q == ' ' || *q == '\t')
            q++;
        if (*q == '#') {
            q++;
            while (*q == ' ' || *q == '\t')
                q++;
            rc = directive(r, rel, lineno, q, depth);
        }
        lineno++;
        if (!eol)
            break;
        p = eol + 1;
    }
    free(text);
    return rc;
}

int imp_cdefs_read(struct imp_cdefs *d, const char *tree, const char *rel, const char *const *incdirs)
{
    struct reader r = { .d = d, .tree = tree, .incdirs = incdirs };
    return read_file(&r, rel, 0);
}
