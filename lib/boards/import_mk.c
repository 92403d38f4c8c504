/* boards/import_mk.c: the GNU make subset MicroPython board files use (boards/import_mk_internal.h). */
#include "boards/import_mk_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

static char *trim_dup(const char *t, size_t n)
{
    while (n && isspace((unsigned char)*t)) {
        t++;
        n--;
    }
    while (n && isspace((unsigned char)t[n - 1]))
        n--;
    return strndup(t, n);
}

/* ---- variables ---- */

static struct romfs_mkvar *find(const struct romfs_mkvars *vars, const char *name)
{
    for (size_t i = 0; i < vars->n; i++)
        if (strcmp(vars->v[i].name, name) == 0)
            return &vars->v[i];
    return NULL;
}

static int set_var(struct romfs_mkvars *vars, const char *name, char *value_owned, bool simple)
{
    if (!value_owned)
        return ROMFS_ERR_NOMEM;
    struct romfs_mkvar *v = find(vars, name);
    if (v) {
        free(v->value);
        v->value = value_owned;
        v->simple = simple;
        return ROMFS_OK;
    }
    if (vars->n == vars->cap) {
        size_t cap = vars->cap ? vars->cap * 2 : 32;
        struct romfs_mkvar *nv = realloc(vars->v, cap * sizeof *nv);
        if (!nv) {
            free(value_owned);
            return ROMFS_ERR_NOMEM;
        }
        vars->v = nv;
        vars->cap = cap;
    }
    char *n = strdup(name);
    if (!n) {
        free(value_owned);
        return ROMFS_ERR_NOMEM;
    }
    vars->v[vars->n++] = (struct romfs_mkvar){ n, value_owned, simple };
    return ROMFS_OK;
}

int romfs_mk_set(struct romfs_mkvars *vars, const char *name, const char *value)
{
    return set_var(vars, name, strdup(value), false);
}

bool romfs_mk_defined(const struct romfs_mkvars *vars, const char *name)
{
    return find(vars, name) != NULL;
}

void romfs_mk_free(struct romfs_mkvars *vars)
{
    for (size_t i = 0; i < vars->n; i++) {
        free(vars->v[i].name);
        free(vars->v[i].value);
    }
    free(vars->v);
    memset(vars, 0, sizeof *vars);
}

/* ---- expansion ---- */

static void expand_into(const struct romfs_mkvars *vars, const char *text, size_t len,
                        struct romfs_buf *out, int depth);

static char *expand_n(const struct romfs_mkvars *vars, const char *text, size_t len, int depth)
{
    struct romfs_buf s = { 0 };
    expand_into(vars, text, len, &s, depth);
    return romfs_buf_take(&s);
}

/* Split args of a function call at top-level commas (max n). Returns count. */
static size_t split_args(const char *t, size_t len, const char **starts, size_t *lens, size_t max)
{
    size_t n = 0, depth = 0, begin = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && (t[i] == '(' || t[i] == '{'))
            depth++;
        else if (i < len && (t[i] == ')' || t[i] == '}'))
            depth--;
        if (i == len || (t[i] == ',' && depth == 0 && n + 1 < max)) {
            starts[n] = t + begin;
            lens[n] = i - begin;
            n++;
            begin = i + 1;
        }
    }
    return n;
}

/* The next whitespace-separated word of *text: sets *word to its start, moves *text past
 * it and returns its length (0 when only white space is left). */
static size_t next_word(const char **text, const char **word)
{
    const char *p = *text;
    while (*p && isspace((unsigned char)*p))
        p++;
    size_t n = 0;
    while (p[n] && !isspace((unsigned char)p[n]))
        n++;
    *word = p;
    *text = p + n;
    return n;
}

static bool word_in(const char *word, size_t wlen, const char *patterns)
{
    const char *p, *rest = patterns;
    for (size_t n; (n = next_word(&rest, &p)) != 0;) {
        const char *pct = memchr(p, '%', n);
        if (pct) {
            size_t pre = (size_t)(pct - p), suf = n - pre - 1;
            if (wlen >= pre + suf && memcmp(word, p, pre) == 0 && memcmp(word + wlen - suf, pct + 1, suf) == 0)
                return true;
        } else if (n == wlen && memcmp(word, p, n) == 0) {
            return true;
        }
    }
    return false;
}

static void call_function(const struct romfs_mkvars *vars, const char *fn, size_t fnlen, const char *args,
                          size_t alen, struct romfs_buf *out, int depth)
{
    const char *a[3];
    size_t al[3];
#define FN(name) (fnlen == strlen(name) && memcmp(fn, name, fnlen) == 0)
    if (FN("if")) {
        size_t n = split_args(args, alen, a, al, 3);
        char *cond = expand_n(vars, a[0], al[0], depth + 1);
        char *c = cond ? trim_dup(cond, strlen(cond)) : NULL;
        bool yes = c && *c;
        free(cond);
        free(c);
        if (yes && n > 1)
            expand_into(vars, a[1], al[1], out, depth + 1);
        else if (!yes && n > 2)
            expand_into(vars, a[2], al[2], out, depth + 1);
    } else if (FN("filter") || FN("filter-out")) {
        bool keep_match = FN("filter");
        if (split_args(args, alen, a, al, 2) < 2)
            return;
        char *pat = expand_n(vars, a[0], al[0], depth + 1);
        char *text = expand_n(vars, a[1], al[1], depth + 1);
        if (pat && text) {
            bool first = true;
            const char *p, *rest = text;
            for (size_t n; (n = next_word(&rest, &p)) != 0;) {
                if (word_in(p, n, pat) == keep_match) {
                    if (!first)
                        romfs_buf_puts(out, " ");
                    romfs_buf_append(out, p, n);
                    first = false;
                }
            }
        }
        free(pat);
        free(text);
    } else if (FN("subst")) {
        if (split_args(args, alen, a, al, 3) < 3)
            return;
        char *from = expand_n(vars, a[0], al[0], depth + 1);
        char *to = expand_n(vars, a[1], al[1], depth + 1);
        char *text = expand_n(vars, a[2], al[2], depth + 1);
        if (from && to && text) {
            size_t fl = strlen(from);
            for (const char *p = text; *p;) {
                if (fl && strncmp(p, from, fl) == 0) {
                    romfs_buf_puts(out, to);
                    p += fl;
                } else {
                    romfs_buf_append(out, p++, 1);
                }
            }
        }
        free(from);
        free(to);
        free(text);
    } else if (FN("strip") || FN("notdir") || FN("firstword")) {
        char *text = expand_n(vars, args, alen, depth + 1);
        bool first = true;
        const char *p, *rest = text ? text : "";
        for (size_t n; (n = next_word(&rest, &p)) != 0;) {
            const char *w = p;
            size_t wn = n;
            if (FN("notdir")) {
                const char *slash = NULL;
                for (size_t i = 0; i < n; i++)
                    if (p[i] == '/')
                        slash = p + i;
                if (slash) {
                    wn = n - (size_t)(slash + 1 - p);
                    w = slash + 1;
                }
            }
            if (!first)
                romfs_buf_puts(out, " ");
            romfs_buf_append(out, w, wn);
            first = false;
            if (FN("firstword"))
                break;
        }
        free(text);
    }
    /* shell, wildcard, abspath, ...: nothing */
#undef FN
}

static void expand_into(const struct romfs_mkvars *vars, const char *text, size_t len,
                        struct romfs_buf *out, int depth)
{
    if (depth > 32)
        return;
    for (size_t i = 0; i < len; i++) {
        if (text[i] != '$') {
            romfs_buf_append(out, text + i, 1);
            continue;
        }
        if (i + 1 >= len)
            break;
        char open = text[i + 1];
        if (open == '$') {
            romfs_buf_puts(out, "$");
            i++;
            continue;
        }
        if (open != '(' && open != '{') {
            /* $X single-letter variable */
            char name[2] = { open, 0 };
            const struct romfs_mkvar *v = find(vars, name);
            if (v)
                expand_into(vars, v->value, strlen(v->value), out, depth + 1);
            i++;
            continue;
        }
        char close = open == '(' ? ')' : '}';
        size_t j = i + 2, nest = 1;
        for (; j < len; j++) {
            if (text[j] == open)
                nest++;
            else if (text[j] == close && --nest == 0)
                break;
        }
        if (j >= len)
            break; /* unterminated: drop */
        const char *inner = text + i + 2;
        size_t ilen = j - (i + 2);
        size_t fnlen = 0;
        while (fnlen < ilen && (isalnum((unsigned char)inner[fnlen]) || inner[fnlen] == '-'))
            fnlen++;
        if (fnlen < ilen && (inner[fnlen] == ' ' || inner[fnlen] == '\t')) {
            size_t k = fnlen;
            while (k < ilen && isspace((unsigned char)inner[k]))
                k++;
            call_function(vars, inner, fnlen, inner + k, ilen - k, out, depth);
        } else {
            char *name = expand_n(vars, inner, ilen, depth + 1);
            if (name) {
                /* $(VAR:a=b) substitution references are not used by board files. */
                const struct romfs_mkvar *v = find(vars, name);
                if (v)
                    expand_into(vars, v->value, strlen(v->value), out, depth + 1);
            }
            free(name);
        }
        i = j;
    }
}

char *romfs_mk_expand(const struct romfs_mkvars *vars, const char *text)
{
    return expand_n(vars, text, strlen(text), 0);
}

char *romfs_mk_get(const struct romfs_mkvars *vars, const char *name)
{
    const struct romfs_mkvar *v = find(vars, name);
    if (!v)
        return strdup("");
    char *e = romfs_mk_expand(vars, v->value);
    if (!e)
        return NULL;
    char *t = trim_dup(e, strlen(e));
    free(e);
    return t;
}

/* ---- reading ---- */

/* Evaluate an ifeq/ifneq argument list: "(a,b)" or "'a' 'b'" / "\"a\" \"b\"". */
static int cond_equal(const struct romfs_mkvars *vars, const char *arg, bool *equal)
{
    const char *a, *b;
    size_t al, bl;
    while (isspace((unsigned char)*arg))
        arg++;
    if (*arg == '(') {
        size_t len = strlen(arg);
        while (len && isspace((unsigned char)arg[len - 1]))
            len--;
        if (len < 2 || arg[len - 1] != ')')
            return -1;
        const char *parts[2];
        size_t pl[2];
        if (split_args(arg + 1, len - 2, parts, pl, 2) != 2)
            return -1;
        a = parts[0];
        al = pl[0];
        b = parts[1];
        bl = pl[1];
    } else if (*arg == '"' || *arg == '\'') {
        char q = *arg;
        const char *e = strchr(arg + 1, q);
        if (!e)
            return -1;
        a = arg + 1;
        al = (size_t)(e - a);
        const char *r = e + 1;
        while (isspace((unsigned char)*r))
            r++;
        if (*r != '"' && *r != '\'')
            return -1;
        q = *r;
        e = strchr(r + 1, q);
        if (!e)
            return -1;
        b = r + 1;
        bl = (size_t)(e - b);
    } else {
        return -1;
    }
    char *ea = expand_n(vars, a, al, 0), *eb = expand_n(vars, b, bl, 0);
    if (!ea || !eb) {
        free(ea);
        free(eb);
        return ROMFS_ERR_NOMEM;
    }
    /* make strips leading blanks of the first and trailing of the second in (a,b) form;
       board files rely on "$(X), 236K" comparing equal to "236K". */
    char *ta = trim_dup(ea, strlen(ea)), *tb = trim_dup(eb, strlen(eb));
    *equal = ta && tb && strcmp(ta, tb) == 0;
    free(ea);
    free(eb);
    free(ta);
    free(tb);
    return 0;
}

struct cond {
    bool active;     /* this branch's lines are applied */
    bool taken;      /* some branch of this if-chain has been active */
    bool parent;     /* enclosing context active */
};

static int eval_condition(const struct romfs_mkvars *vars, const char *line, bool *result, bool *is_cond)
{
    *is_cond = true;
    if (strncmp(line, "ifeq", 4) == 0 && (isspace((unsigned char)line[4]) || line[4] == '(')) {
        bool eq;
        if (cond_equal(vars, line + 4, &eq))
            return -1;
        *result = eq;
    } else if (strncmp(line, "ifneq", 5) == 0 && (isspace((unsigned char)line[5]) || line[5] == '(')) {
        bool eq;
        if (cond_equal(vars, line + 5, &eq))
            return -1;
        *result = !eq;
    } else if ((strncmp(line, "ifdef", 5) == 0 && isspace((unsigned char)line[5])) ||
               (strncmp(line, "ifndef", 6) == 0 && isspace((unsigned char)line[6]))) {
        bool negate = line[2] == 'n';   /* "ifndef" */
        const char *arg = line + (negate ? 6 : 5);
        char *n = trim_dup(arg, strlen(arg));
        char *e = n ? romfs_mk_expand(vars, n) : NULL;
        char *name = e ? trim_dup(e, strlen(e)) : NULL;
        char *val = name ? romfs_mk_get(vars, name) : NULL;
        *result = (val && *val) != negate;
        free(n);
        free(e);
        free(name);
        free(val);
    } else {
        *is_cond = false;
    }
    return 0;
}

static int apply_assignment(struct romfs_mkvars *vars, const char *line, bool *was)
{
    /* find the operator: first '=' not inside $(...) */
    size_t depth = 0;
    const char *eq = NULL;
    for (const char *p = line; *p; p++) {
        if (*p == '(' || *p == '{')
            depth++;
        else if ((*p == ')' || *p == '}') && depth)
            depth--;
        else if (*p == '=' && depth == 0) {
            eq = p;
            break;
        } else if (*p == ':' && depth == 0 && p[1] != '=') {
            break; /* a rule */
        }
    }
    *was = false;
    if (!eq || eq == line)
        return ROMFS_OK;
    char op = 0;
    const char *name_end = eq;
    if (eq > line && (eq[-1] == '?' || eq[-1] == '+' || eq[-1] == ':')) {
        op = eq[-1];
        name_end = eq - 1;
        if (op == ':' && name_end > line && name_end[-1] == ':')
            name_end--; /* ::= */
    }
    char *rawname = trim_dup(line, (size_t)(name_end - line));
    if (!rawname)
        return ROMFS_ERR_NOMEM;
    if (strncmp(rawname, "override ", 9) == 0 || strncmp(rawname, "export ", 7) == 0) {
        char *sp = strchr(rawname, ' ');
        memmove(rawname, sp + 1, strlen(sp + 1) + 1);
    }
    char *name = romfs_mk_expand(vars, rawname);
    free(rawname);
    if (!name)
        return ROMFS_ERR_NOMEM;
    char *tn = trim_dup(name, strlen(name));
    free(name);
    if (!tn)
        return ROMFS_ERR_NOMEM;
    if (!*tn || strchr(tn, ' ')) {
        free(tn);
        return ROMFS_OK;
    }
    *was = true;
    const char *val = eq + 1;
    while (*val == ' ' || *val == '\t')
        val++;
    char *value = trim_dup(val, strlen(val));
    int rc = ROMFS_OK;
    struct romfs_mkvar *old = find(vars, tn);
    if (!value) {
        rc = ROMFS_ERR_NOMEM;
    } else if (op == '?') {
        if (old)
            free(value);
        else
            rc = set_var(vars, tn, value, false);
    } else if (op == ':') {
        char *e = romfs_mk_expand(vars, value);
        free(value);
        rc = set_var(vars, tn, e, true);
    } else if (op == '+') {
        if (!old) {
            rc = set_var(vars, tn, value, false);
        } else {
            char *add = old->simple ? romfs_mk_expand(vars, value) : strdup(value);
            free(value);
            struct romfs_buf s = { 0 };
            romfs_buf_puts(&s, old->value);
            if (old->value[0] && add && add[0])
                romfs_buf_puts(&s, " ");
            if (add)
                romfs_buf_puts(&s, add);
            free(add);
            rc = set_var(vars, tn, romfs_buf_take(&s), old->simple);
        }
    } else {
        rc = set_var(vars, tn, value, false);
    }
    free(tn);
    return rc;
}

int romfs_mk_apply(struct romfs_mkvars *vars, const char *name, const char *text, struct romfs_error *err)
{
    struct cond stack[32];
    int sp = 0;
    bool active = true;
    bool in_define = false;
    const char *p = text;
    int lineno = 0;
    while (*p) {
        /* gather one logical line (backslash continuations joined with a space) */
        struct romfs_buf line = { 0 };
        bool recipe = (*p == '\t');
        int first_line = ++lineno;
        for (;;) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            size_t m = n;
            if (m && p[m - 1] == '\r')
                m--;
            bool cont = m && p[m - 1] == '\\';
            romfs_buf_append(&line, p, cont ? m - 1 : m);
            p += n + (nl ? 1 : 0);
            if (!cont || !*p)
                break;
            romfs_buf_puts(&line, " ");
            lineno++;
        }
        char *raw = romfs_buf_take(&line);
        if (!raw)
            return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
        /* strip comments (make has no string quoting; \# is rare in board files) */
        char *hash = strchr(raw, '#');
        if (hash)
            *hash = 0;
        char *t = trim_dup(raw, strlen(raw));
        free(raw);
        if (!t)
            return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
        int rc = ROMFS_OK;
        if (in_define) {
            if (strncmp(t, "endef", 5) == 0)
                in_define = false;
        } else if (!*t) {
            /* blank */
        } else if (strncmp(t, "define ", 7) == 0) {
            in_define = true;
        } else if (strcmp(t, "endif") == 0 || strncmp(t, "endif ", 6) == 0) {
            if (sp == 0)
                rc = romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s:%d: endif without if", name, first_line);
            else
                active = stack[--sp].parent;
        } else if (strcmp(t, "else") == 0 || strncmp(t, "else ", 5) == 0) {
            if (sp == 0) {
                rc = romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s:%d: else without if", name, first_line);
            } else {
                struct cond *c = &stack[sp - 1];
                const char *rest = t + 4;
                while (*rest == ' ' || *rest == '\t')
                    rest++;
                bool res = true, is_cond = false;
                if (*rest && eval_condition(vars, rest, &res, &is_cond) < 0)
                    rc = romfs_set_error(err, ROMFS_ERR_UNSUPPORTED, "%s:%d: cannot read condition", name,
                                         first_line);
                if (!c->taken && (!*rest || res)) {
                    c->active = c->taken = true;
                } else {
                    c->active = false;
                }
                active = c->parent && c->active;
            }
        } else {
            bool res = false, is_cond = false;
            if (strncmp(t, "if", 2) == 0 && eval_condition(vars, t, &res, &is_cond) < 0)
                rc = romfs_set_error(err, ROMFS_ERR_UNSUPPORTED, "%s:%d: cannot read condition", name, first_line);
            else if (is_cond) {
                if (sp == 32) {
                    rc = romfs_set_error(err, ROMFS_ERR_UNSUPPORTED, "%s:%d: conditionals nested too deeply", name,
                                         first_line);
                } else {
                    stack[sp] = (struct cond){ .active = res, .taken = res, .parent = active };
                    sp++;
                    active = active && res;
                }
            } else if (active && !recipe) {
                bool was;
                if (apply_assignment(vars, t, &was))
                    rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
            }
        }
        free(t);
        if (rc)
            return rc;
    }
    if (sp)
        return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: missing endif", name);
    return ROMFS_OK;
}

int romfs_mk_read(struct romfs_mkvars *vars, const char *path, struct romfs_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return romfs_set_errno(err, errno == ENOENT ? ROMFS_ERR_NOENT : ROMFS_ERR_IO, errno, "cannot open %s", path);
    struct romfs_buf s = { 0 };
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        romfs_buf_append(&s, buf, n);
    fclose(f);
    char *text = romfs_buf_take(&s);
    if (!text)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    int rc = romfs_mk_apply(vars, path, text, err);
    free(text);
    return rc;
}

bool romfs_mk_number(const char *text, uint64_t *out)
{
    if (!text)
        return false;
    while (isspace((unsigned char)*text) || *text == '(')
        text++;
    if (!isdigit((unsigned char)*text))
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(text, &end, 0);
    if (errno)
        return false;
    while (*end == 'u' || *end == 'U' || *end == 'l' || *end == 'L')
        end++;
    uint64_t mult = 1;
    if (*end == 'k' || *end == 'K') {
        mult = 1024;
        end++;
    } else if (*end == 'm' || *end == 'M') {
        mult = 1024 * 1024;
        end++;
    }
    while (isspace((unsigned char)*end) || *end == ')')
        end++;
    if (*end)
        return false;
    *out = (uint64_t)v * mult;
    return true;
}

/* If the line [p, end) is `# KEYWORD NAME...`, a pointer just past NAME, else NULL. */
static const char *directive_for(const char *p, const char *end, const char *keyword, const char *name)
{
    size_t kl = strlen(keyword), nl = strlen(name);
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p >= end || *p != '#')
        return NULL;
    p++;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if ((size_t)(end - p) <= kl || strncmp(p, keyword, kl) != 0 || (p[kl] != ' ' && p[kl] != '\t'))
        return NULL;
    p += kl;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if ((size_t)(end - p) < nl || strncmp(p, name, nl) != 0)
        return NULL;
    if (p + nl != end && p[nl] != ' ' && p[nl] != '\t' && p[nl] != '\r')
        return NULL;
    return p + nl;
}

char *romfs_c_define(const char *header_text, const char *name)
{
    /* the definition in force at the end of the text: a later #define or #undef wins
       (a board header that includes another board's and then overrides some values) */
    const char *val = NULL, *val_end = NULL;
    for (const char *p = header_text; p && *p;) {
        const char *eol = strchr(p, '\n');
        const char *end = eol ? eol : p + strlen(p);
        const char *v = directive_for(p, end, "define", name);
        if (v) {
            val = v;
            val_end = end;
        } else if (directive_for(p, end, "undef", name)) {
            val = NULL;
        }
        p = eol ? eol + 1 : NULL;
    }
    if (!val)
        return NULL;
    char *copy = strndup(val, (size_t)(val_end - val));
    if (!copy)
        return NULL;
    char *c = strstr(copy, "//");
    if (c)
        *c = 0;
    c = strstr(copy, "/*");
    if (c)
        *c = 0;
    char *t = trim_dup(copy, strlen(copy));
    free(copy);
    return t;
}
