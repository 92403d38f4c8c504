/* boards/import_mboot.c: the DfuSe interface of MicroPython's own stm32 bootloader, mboot,
 * for each board that has it ("dfu"."mboot" in boards.json): its USB VID:PID and the
 * memory layout string its one DFU interface (alt 0) reports, each with where it comes from.
 *
 * mboot (ports/stm32/mboot/main.c) builds that string as the internal flash layout of the
 * MCU family (INTERNAL_FLASH_LAYOUT, chosen by #if defined(STM32F4) ...; STM32H5 fills the
 * sector count in at run time; STM32N6 has none) followed by the board's
 * MBOOT_SPIFLASH_LAYOUT and MBOOT_SPIFLASH2_LAYOUT (external SPI/QSPI flash mboot maps to
 * an address range; "" when absent), e.g. for PYBD_SF2
 * "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg/0x80000000/64*32Kg/0x90000000/64*32Kg".
 * Its VID:PID is MBOOT_USB_VID/PID, by default BOOTLOADER_DFU_USB_VID/PID (mboot/Makefile,
 * which a board's mpconfigboard.mk may set). All of it is read from the tree: the board's
 * header and mboot/main.c go through the small preprocessor below (#if/#ifdef/#elif/#else,
 * #define, #undef, #include "..." of headers in the tree), with what mboot's build defines
 * (BUILDING_MBOOT=1, the CMSIS MCU and its family); tests compare with `cc -E`.
 *
 * A board has mboot when its header configures it (MBOOT_* defines) or its make fragment
 * builds differently with USE_MBOOT=1; "optional" (the default build has none) is said in
 * the source. A board whose MCU mboot has no internal layout for gets no entry: mboot does
 * not build for it (FLASH_LAYOUT_STR names an undefined INTERNAL_FLASH_LAYOUT). */
#include "boards/import_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a small C preprocessor: object-like macros and conditionals ----------------------- */

struct cmac {
    char *name, *body, *file;  /* body: replacement text, comments removed, trimmed */
    int line;                  /* 0: defined by the build */
    bool fn;                   /* function-like (never expanded here) */
};

struct cmacs {
    struct cmac *v;
    size_t n;
};

static const struct cmac *cm_find(const struct cmacs *d, const char *name, size_t len)
{
    for (size_t i = 0; i < d->n; i++)
        if (strlen(d->v[i].name) == len && strncmp(d->v[i].name, name, len) == 0)
            return &d->v[i];
    return NULL;
}

static void cm_undef(struct cmacs *d, const char *name)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->v[i].name, name) == 0) {
            free(d->v[i].name);
            free(d->v[i].body);
            free(d->v[i].file);
            d->v[i] = d->v[--d->n];
            return;
        }
}

static int cm_define(struct cmacs *d, const char *name, const char *body, bool fn, const char *file, int line)
{
    cm_undef(d, name);
    struct cmac *nv = realloc(d->v, (d->n + 1) * sizeof *nv);
    if (!nv)
        return ROMFS_ERR_NOMEM;
    d->v = nv;
    struct cmac m = { strdup(name), strdup(body), strdup(file), line, fn };
    if (!m.name || !m.body || !m.file) {
        free(m.name);
        free(m.body);
        free(m.file);
        return ROMFS_ERR_NOMEM;
    }
    d->v[d->n++] = m;
    return ROMFS_OK;
}

static void cm_free(struct cmacs *d)
{
    while (d->n)
        cm_undef(d, d->v[d->n - 1].name);
    free(d->v);
    d->v = NULL;
}

/* #if expressions: integers, macros (evaluated recursively; unknown names are 0),
 * defined X / defined(X), and C's unary, binary and ?: operators. A macro whose body is
 * no integer expression (a string, a pointer) makes the expression unknown (ok = false). */
struct ev {
    const struct cmacs *d;
    const char *p;
    int depth;
    bool ok;
};

static int64_t ev_cond(struct ev *e);

static void ev_ws(struct ev *e)
{
    while (isspace((unsigned char)*e->p))
        e->p++;
}

static bool ev_eat(struct ev *e, const char *op)
{
    ev_ws(e);
    size_t n = strlen(op);
    if (strncmp(e->p, op, n) != 0)
        return false;
    if (n == 1) {   /* "<" is not the start of "<<" or "<=", "&" not of "&&", "!" not of "!=" */
        char c = op[0], next = e->p[1];
        if (((c == '<' || c == '>') && (next == c || next == '=')) || ((c == '&' || c == '|') && next == c) ||
            (c == '!' && next == '='))
            return false;
    }
    e->p += n;
    return true;
}

static int64_t ev_primary(struct ev *e)
{
    ev_ws(e);
    const char *p = e->p;
    if (ev_eat(e, "(")) {
        int64_t v = ev_cond(e);
        if (!ev_eat(e, ")"))
            e->ok = false;
        return v;
    }
    if (ev_eat(e, "!"))
        return !ev_primary(e);
    if (ev_eat(e, "~"))
        return ~ev_primary(e);
    if (ev_eat(e, "-"))
        return -ev_primary(e);
    if (ev_eat(e, "+"))
        return ev_primary(e);
    if (isdigit((unsigned char)*p)) {
        char *end;
        int64_t v = (int64_t)strtoull(p, &end, 0);
        while (*end == 'u' || *end == 'U' || *end == 'l' || *end == 'L')
            end++;
        e->p = end;
        return v;
    }
    if (isalpha((unsigned char)*p) || *p == '_') {
        const char *s = p;
        while (isalnum((unsigned char)*p) || *p == '_')
            p++;
        e->p = p;
        if ((size_t)(p - s) == 7 && strncmp(s, "defined", 7) == 0) {
            bool paren = ev_eat(e, "(");
            ev_ws(e);
            const char *n = e->p;
            while (isalnum((unsigned char)*e->p) || *e->p == '_')
                e->p++;
            int64_t v = cm_find(e->d, n, (size_t)(e->p - n)) != NULL;
            if (paren && !ev_eat(e, ")"))
                e->ok = false;
            return v;
        }
        const struct cmac *m = cm_find(e->d, s, (size_t)(p - s));
        if (!m)
            return 0;
        if (m->fn || e->depth > 32 || !*m->body) {
            e->ok = false;
            return 0;
        }
        struct ev sub = { e->d, m->body, e->depth + 1, true };
        int64_t v = ev_cond(&sub);
        ev_ws(&sub);
        if (!sub.ok || *sub.p)
            e->ok = false;
        return v;
    }
    e->ok = false;
    return 0;
}

static int64_t ev_binary(struct ev *e, int level)
{
    static const char *const ops[][4] = {
        { "||" }, { "&&" }, { "|" }, { "^" }, { "&" }, { "==", "!=" },
        { "<=", ">=", "<", ">" }, { "<<", ">>" }, { "+", "-" }, { "*", "/", "%" },
    };
    if (level == (int)(sizeof ops / sizeof ops[0]))
        return ev_primary(e);
    int64_t v = ev_binary(e, level + 1);
    for (;;) {
        const char *op = NULL;
        for (int k = 0; k < 4 && ops[level][k] && !op; k++)
            if (ev_eat(e, ops[level][k]))
                op = ops[level][k];
        if (!op)
            return v;
        int64_t r = ev_binary(e, level + 1);
        if (!strcmp(op, "||")) v = v || r;
        else if (!strcmp(op, "&&")) v = v && r;
        else if (!strcmp(op, "|")) v |= r;
        else if (!strcmp(op, "^")) v ^= r;
        else if (!strcmp(op, "&")) v &= r;
        else if (!strcmp(op, "==")) v = v == r;
        else if (!strcmp(op, "!=")) v = v != r;
        else if (!strcmp(op, "<=")) v = v <= r;
        else if (!strcmp(op, ">=")) v = v >= r;
        else if (!strcmp(op, "<")) v = v < r;
        else if (!strcmp(op, ">")) v = v > r;
        else if (!strcmp(op, "<<")) v = r >= 0 && r < 63 ? v << r : 0;
        else if (!strcmp(op, ">>")) v = r >= 0 && r < 63 ? v >> r : 0;
        else if (!strcmp(op, "+")) v += r;
        else if (!strcmp(op, "-")) v -= r;
        else if (!strcmp(op, "*")) v *= r;
        else if (r == 0) e->ok = false;
        else if (!strcmp(op, "/")) v /= r;
        else v %= r;
    }
}

static int64_t ev_cond(struct ev *e)
{
    int64_t c = ev_binary(e, 0);
    if (!ev_eat(e, "?"))
        return c;
    int64_t a = ev_cond(e);
    if (!ev_eat(e, ":"))
        e->ok = false;
    int64_t b = ev_cond(e);
    return c ? a : b;
}

/* The value of an #if expression; unknown ones count as false. */
static bool cm_if(const struct cmacs *d, const char *expr)
{
    struct ev e = { d, expr, 0, true };
    int64_t v = ev_cond(&e);
    ev_ws(&e);
    return e.ok && !*e.p && v != 0;
}

/* One logical line of text (continuations joined, comments removed) into buf; *in_comment
 * carries a block comment across lines. Returns the start of the next line. */
static const char *logical_line(const char *p, char *buf, size_t cap, bool *in_comment, int *lines)
{
    size_t n = 0;
    char quote = 0;
    *lines = 0;
    while (*p) {
        if (*p == '\n') {
            ++*lines;
            p++;
            if (n && buf[n - 1] == '\\') {
                n--;
                continue;
            }
            break;
        }
        if (*in_comment) {
            if (p[0] == '*' && p[1] == '/') {
                *in_comment = false;
                p += 2;
                if (n + 1 < cap)
                    buf[n++] = ' ';
            } else {
                p++;
            }
            continue;
        }
        if (quote) {
            if (*p == '\\' && p[1] && p[1] != '\n' && n + 1 < cap)
                buf[n++] = *p++;
            else if (*p == quote)
                quote = 0;
        } else if (*p == '"' || *p == '\'') {
            quote = *p;
        } else if (p[0] == '/' && p[1] == '*') {
            *in_comment = true;
            p += 2;
            continue;
        } else if (p[0] == '/' && p[1] == '/') {
            while (*p && *p != '\n')
                p++;
            continue;
        }
        if (n + 1 < cap)
            buf[n++] = *p;
        p++;
    }
    while (n && isspace((unsigned char)buf[n - 1]))
        buf[--n] = 0;
    buf[n] = 0;
    return p;
}

struct scan {
    struct importer *imp;
    struct cmacs *d;
    bool follow;          /* follow #include "..." found in the tree */
    const char *incdir;   /* tree-relative directory for #include "..." after the file's own */
};

/* Preprocess TREE/rel into s->d. ROMFS_ERR_NOENT when rel cannot be read. */
static int scan_file(struct scan *s, const char *rel, int depth)
{
    char *path = imp_path(s->imp, "%s", rel);
    char *text = path ? imp_read_text(path) : NULL;
    free(path);
    if (!text)
        return ROMFS_ERR_NOENT;
    enum { MAXC = 64 };
    bool active[MAXC + 1] = { true }, taken[MAXC + 1] = { true };
    int level = 0, line = 1, rc = ROMFS_OK;
    bool in_comment = false;
    static char buf[8192];  /* the importer runs on one thread */
    for (const char *p = text; *p && rc == ROMFS_OK;) {
        int at = line, nl;
        p = logical_line(p, buf, sizeof buf, &in_comment, &nl);
        line += nl;
        char *q = buf;
        while (isspace((unsigned char)*q))
            q++;
        if (*q != '#')
            continue;
        q++;
        while (isspace((unsigned char)*q))
            q++;
        char *word = q;
        while (isalpha((unsigned char)*q))
            q++;
        size_t wl = (size_t)(q - word);
        while (isspace((unsigned char)*q))
            q++;
#define IS(w) (wl == strlen(w) && strncmp(word, w, wl) == 0)
        bool on = active[level];
        if (IS("if") || IS("ifdef") || IS("ifndef")) {
            if (level == MAXC)
                break;
            bool v = false;
            if (on) {
                if (IS("if")) {
                    v = cm_if(s->d, q);
                } else {
                    size_t l = 0;
                    while (isalnum((unsigned char)q[l]) || q[l] == '_')
                        l++;
                    v = (cm_find(s->d, q, l) != NULL) == IS("ifdef");
                }
            }
            level++;
            active[level] = on && v;
            taken[level] = !on || v;
        } else if (IS("elif") && level) {
            bool v = !taken[level] && active[level - 1] && cm_if(s->d, q);
            active[level] = v;
            taken[level] = taken[level] || v;
        } else if (IS("else") && level) {
            active[level] = !taken[level] && active[level - 1];
            taken[level] = true;
        } else if (IS("endif") && level) {
            level--;
        } else if (!on) {
            continue;
        } else if (IS("define")) {
            char *name = q;
            while (isalnum((unsigned char)*q) || *q == '_')
                q++;
            bool fn = *q == '(';
            char save = *q;
            *q = 0;
            char *body = q + (save ? 1 : 0);
            if (fn)
                body = strchr(body, ')') ? strchr(body, ')') + 1 : body + strlen(body);
            while (isspace((unsigned char)*body))
                body++;
            if (*name)
                rc = cm_define(s->d, name, body, fn, rel, at);
        } else if (IS("undef")) {
            char *name = q;
            while (isalnum((unsigned char)*q) || *q == '_')
                q++;
            *q = 0;
            cm_undef(s->d, name);
        } else if (IS("include") && s->follow && *q == '"' && depth < 8) {
            char *end = strchr(q + 1, '"');
            if (!end)
                continue;
            *end = 0;
            const char *slash = strrchr(rel, '/');
            char *beside = imp_printf("%.*s%s", slash ? (int)(slash - rel + 1) : 0, rel, q + 1);
            char *inc = imp_printf("%s/%s", s->incdir, q + 1);
            if (!beside || !inc)
                rc = ROMFS_ERR_NOMEM;
            else if (scan_file(s, beside, depth + 1) == ROMFS_ERR_NOENT)
                (void)scan_file(s, inc, depth + 1);   /* not in the tree: skipped, as <...> */
            free(beside);
            free(inc);
        }
#undef IS
    }
    free(text);
    return rc;
}

/* ---- mboot's layout -------------------------------------------------------------------- */

struct expansion {
    char text[512];        /* the string literal(s) the macro expands to, concatenated */
    char source[768];      /* "file:line: NAME" of each macro that gave text, "; "-separated */
    bool ok;               /* false: an undefined name or something not a string */
};

/* Name macro m ("file:line: NAME") in x's source. */
static void add_source(struct expansion *x, const struct cmac *m)
{
    size_t n = strlen(x->source);
    snprintf(x->source + n, sizeof x->source - n, "%s%s:%d: %s", n ? "; " : "", m->file, m->line, m->name);
}

/* Expand the replacement text `body` to a string: string literals are concatenated,
 * macro names expanded; "(c ? "A" : "B")" (chosen at run time) gives A, and the source
 * says B is the other choice. */
static void expand(const struct cmacs *d, const char *body, struct expansion *x, int depth)
{
    const char *p = body;
    while (x->ok && *p) {
        if (isspace((unsigned char)*p)) {
            p++;
        } else if (*p == '"') {
            const char *end = strchr(p + 1, '"');
            if (!end) {
                x->ok = false;
                break;
            }
            size_t n = strlen(x->text);
            snprintf(x->text + n, sizeof x->text - n, "%.*s", (int)(end - p - 1), p + 1);
            p = end + 1;
        } else if (*p == '(' && strchr(p, '?')) {
            const char *a = strchr(strchr(p, '?'), '"'), *ae = a ? strchr(a + 1, '"') : NULL;
            const char *b = ae ? strchr(ae + 1, '"') : NULL, *be = b ? strchr(b + 1, '"') : NULL;
            if (!be) {
                x->ok = false;
                break;
            }
            size_t n = strlen(x->text);
            snprintf(x->text + n, sizeof x->text - n, "%.*s", (int)(ae - a - 1), a + 1);
            n = strlen(x->source);
            snprintf(x->source + n, sizeof x->source - n, " (chosen at run time; the other choice: %.*s)",
                     (int)(be - b + 1), b);
            p = strchr(be, ')') ? strchr(be, ')') + 1 : be + 1;
        } else if (isalpha((unsigned char)*p) || *p == '_') {
            const char *s = p;
            while (isalnum((unsigned char)*p) || *p == '_')
                p++;
            const struct cmac *m = cm_find(d, s, (size_t)(p - s));
            if (!m || m->fn || depth > 16) {
                x->ok = false;
                break;
            }
            bool literal = m->body[0] == '"' || m->body[0] == '(';
            if (literal && m->body[0] == '"' && m->body[1] == '"')
                continue;   /* "" adds nothing and is not worth naming */
            if (literal)
                add_source(x, m);
            expand(d, m->body, x, depth + 1);
        } else {
            x->ok = false;
        }
    }
}

/* The line of make text where NAME is first assigned ("NAME =", "?=", ":="), 0 if none. */
static int mk_line(const char *text, const char *name)
{
    int line = 1;
    size_t nl = strlen(name);
    for (const char *p = text; p && *p; line++) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, name, nl) == 0 && (p[nl] == ' ' || p[nl] == '?' || p[nl] == '=' || p[nl] == ':'))
            return line;
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return 0;
}

/* -DBOOTLOADER_DFU_USB_VID/PID as mboot's Makefile passes them: the board's make fragment
 * (included first), else the Makefile's own "?=" defaults; each with the line that set it. */
static int define_dfu_ids(struct importer *imp, const struct board_ctx *c, const char *board, struct cmacs *d)
{
    static const char *const names[] = { "BOOTLOADER_DFU_USB_VID", "BOOTLOADER_DFU_USB_PID" };
    char *bmk_path = imp_path(imp, "ports/stm32/boards/%s/mpconfigboard.mk", board);
    char *mk_path = imp_path(imp, "ports/stm32/mboot/Makefile");
    char *bmk = bmk_path ? imp_read_text(bmk_path) : NULL, *mk = mk_path ? imp_read_text(mk_path) : NULL;
    char *bfile = imp_printf("ports/stm32/boards/%s/mpconfigboard.mk", board);
    int rc = bfile ? ROMFS_OK : ROMFS_ERR_NOMEM;
    for (size_t i = 0; i < 2 && !rc; i++) {
        char *v = imp_mk_get(&c->vars, names[i]);
        uint64_t n;
        int line = bmk ? mk_line(bmk, names[i]) : 0;
        if (romfs_mk_number(v, &n) && line) {
            rc = cm_define(d, names[i], v, false, bfile, line);
        } else if (mk && (line = mk_line(mk, names[i]))) {
            const char *p = mk;
            for (int l = 1; p && l < line; l++)
                p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL;
            p = p ? strchr(p, '=') : NULL;
            char val[32] = "";
            if (p && sscanf(p + 1, " %31s", val) == 1 && romfs_mk_number(val, &n))
                rc = cm_define(d, names[i], val, false, "ports/stm32/mboot/Makefile", line);
        }
        free(v);
    }
    free(bmk_path);
    free(mk_path);
    free(bmk);
    free(mk);
    free(bfile);
    return rc;
}

/* The STM32H5's internal layout has its sector count filled in at run time from the chip's
 * flash size (FLASH_SIZE / 8 KiB sectors). The flash size of the parts MicroPython's H5
 * boards use (RM0481: the STM32H573 line has 2 Mbytes). */
static uint64_t h5_flash_size(const char *cmsis)
{
    return strncmp(cmsis, "STM32H573", 9) == 0 ? 2 * M : 0;
}

static int set_mboot(struct importer *imp, struct romfs_board *b, const char *usb, const char *layout,
                     const char *source)
{
    b->mboot_usb = strdup(usb);
    b->mboot_layout = layout ? strdup(layout) : NULL;
    b->mboot_source = strdup(source);
    if (!b->mboot_usb || (layout && !b->mboot_layout) || !b->mboot_source)
        return romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    return ROMFS_OK;
}

/* Whether the board's make fragment builds differently with USE_MBOOT=1. */
static bool mk_reacts_to_mboot(struct importer *imp, const struct board_ctx *c, const char *board)
{
    struct romfs_mkvars v = { 0 };
    char *mk = imp_path(imp, "ports/stm32/boards/%s/mpconfigboard.mk", board);
    bool differs = false;
    if (mk && !romfs_mk_set(&v, "BOARD", board) && !romfs_mk_set(&v, "BOARD_DIR", "boards/$(BOARD)") &&
        !romfs_mk_set(&v, "USE_MBOOT", "1") && !romfs_mk_read(&v, mk, NULL)) {
        static const char *const vars[] = { "USE_MBOOT", "TEXT0_ADDR", "LD_FILES" };
        char *use = romfs_mk_get(&v, "USE_MBOOT");
        differs = use && strcmp(use, "1") == 0;
        free(use);
        bool changed = false;
        for (size_t i = 1; differs && i < 3; i++) {
            char *a = romfs_mk_get(&v, vars[i]), *o = romfs_mk_get(&c->vars, vars[i]);
            changed = changed || !a || !o || strcmp(a, o) != 0;
            free(a);
            free(o);
        }
        differs = differs && changed;
    }
    free(mk);
    romfs_mk_free(&v);
    return differs;
}

int imp_stm32_mboot(struct importer *imp, const struct board_ctx *c, struct romfs_board *b)
{
    struct cmacs d = { 0 };
    struct scan s = { imp, &d, true, "ports/stm32" };
    char *cmsis = imp_mk_get(&c->vars, "CMSIS_MCU"), *series = imp_mk_get(&c->vars, "MCU_SERIES");
    char *use = imp_mk_get(&c->vars, "USE_MBOOT"), *text0 = imp_mk_get(&c->vars, "TEXT0_ADDR");
    char *hdr = imp_printf("ports/stm32/boards/%s/mpconfigboard.h", b->name);
    char family[32];
    snprintf(family, sizeof family, "STM32%s", series);
    for (char *f = family; *f; f++)
        *f = (char)toupper((unsigned char)*f);
    int rc = hdr ? cm_define(&d, "BUILDING_MBOOT", "1", false, "ports/stm32/mboot/Makefile", 0) : ROMFS_ERR_NOMEM;
    if (!rc && (rc = scan_file(&s, hdr, 0)) == ROMFS_ERR_NOENT)
        rc = ROMFS_OK;   /* no header: nothing configured */
    bool configured = false;
    for (size_t i = 0; i < d.n; i++)
        configured = configured || (strncmp(d.v[i].name, "MBOOT_", 6) == 0 && d.v[i].line > 0);
    uint64_t t0 = 0x08000000;
    romfs_mk_number(text0, &t0);
    /* default: mboot is in the board's build (USE_MBOOT=1, or configured with the firmware
       placed after it); optional: only with USE_MBOOT=1 */
    bool by_default = strcmp(use, "1") == 0 || (configured && t0 != 0x08000000 && strcmp(series, "n6") != 0);
    bool optional = !by_default && (configured || mk_reacts_to_mboot(imp, c, b->name));
    if (rc || (!by_default && !optional) || !*cmsis)
        goto out;

    /* mboot/main.c as mboot's build sees it: the board's macros, -D$(CMSIS_MCU), the
       family macro the CMSIS header defines; its own #includes are not followed */
    struct scan sm = { imp, &d, false, "ports/stm32" };
    if ((rc = cm_define(&d, cmsis, "1", false, "ports/stm32/mboot/Makefile", 0)) ||
        (rc = cm_define(&d, family, "1", false, "CMSIS", 0)))
        goto out;
    if ((rc = define_dfu_ids(imp, c, b->name, &d)))
        goto out;
    if ((rc = scan_file(&sm, "ports/stm32/mboot/main.c", 0)) == ROMFS_ERR_NOENT) {
        rc = ROMFS_OK;   /* a tree without mboot */
        goto out;
    }
    if (rc)
        goto out;
    struct expansion x = { .ok = true };
    const struct cmac *str = cm_find(&d, "FLASH_LAYOUT_STR", 16);
    const struct cmac *internal = cm_find(&d, "INTERNAL_FLASH_LAYOUT", 21);
    if (str) {
        expand(&d, str->body, &x, 0);
        if (strncmp(str->body, "\"", 1) == 0 && x.ok) {   /* "@Internal Flash  " ...: STM32N6 */
            char head[256];
            int hl = snprintf(head, sizeof head, "%s:%d: FLASH_LAYOUT_STR%s", str->file, str->line,
                              *x.source ? "; " : "");
            size_t sl = strlen(x.source);
            if (hl > 0 && (size_t)hl + sl < sizeof x.source) {
                memmove(x.source + hl, x.source, sl + 1);
                memcpy(x.source, head, (size_t)hl);
            }
        }
    } else if (internal) {
        /* built at run time: INTERNAL_FLASH_LAYOUT (its "???" the sector count on STM32H5),
           then the two SPI flash layouts */
        expand(&d, "INTERNAL_FLASH_LAYOUT", &x, 0);
        char *q = strstr(x.text, "???");
        if (q && x.ok) {
            /* the chip's size (what FLASH_SIZE reads), not a linker region's */
            uint64_t size = h5_flash_size(cmsis) ? h5_flash_size(cmsis) : b->flash_size;
            if (!size || size / (8 * K) > 999) {
                x.ok = false;
            } else {
                char n[4];
                snprintf(n, sizeof n, "%03u", (unsigned)(size / (8 * K)));
                memcpy(q, n, 3);
                size_t l = strlen(x.source);
                snprintf(x.source + l, sizeof x.source - l, " (\"???\": FLASH_SIZE / 8 KiB sectors at run "
                         "time, %llu KiB on %s)", (unsigned long long)(size / K), cmsis);
            }
        }
        expand(&d, "MBOOT_SPIFLASH_LAYOUT MBOOT_SPIFLASH2_LAYOUT", &x, 0);
    } else {
        x.ok = false;
    }
    if (!x.ok)
        goto out;   /* mboot has no layout for this MCU: it does not build for it */

    /* VID:PID: main.c's MBOOT_USB_VID/PID, by default the BOOTLOADER_DFU_USB_VID/PID the
       Makefile passes (defined before main.c was read) */
    uint64_t vid = 0x0483, pid = 0xdf11;
    char usb_src[256] = "";
    const struct cmac *mv = cm_find(&d, "MBOOT_USB_VID", 13), *mp = cm_find(&d, "MBOOT_USB_PID", 13);
    if (mv && mp) {
        struct ev ea = { &d, mv->body, 0, true }, eb = { &d, mp->body, 0, true };
        int64_t v = ev_cond(&ea), q = ev_cond(&eb);
        /* the definition the value comes from: the board's, else the Makefile's */
        const struct cmac *from = strcmp(mv->file, "ports/stm32/mboot/main.c") == 0
                                      ? cm_find(&d, "BOOTLOADER_DFU_USB_VID", 22) : mv;
        if (ea.ok && eb.ok && from) {
            vid = (uint64_t)v;
            pid = (uint64_t)q;
            snprintf(usb_src, sizeof usb_src, "%s:%d: %s", from->file, from->line, from->name);
        }
    }
    char *id = imp_usb_id(vid, pid);
    char *src = imp_printf("%s; usb %s%s", x.source, *usb_src ? usb_src : "0483:df11 (ST's DfuSe id)",
                           optional ? "; optional: the default build has no mboot (USE_MBOOT=1 adds it)" : "");
    rc = id && src ? set_mboot(imp, b, id, x.text, src) : romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    free(id);
    free(src);
out:
    if (rc == ROMFS_ERR_NOMEM)
        romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    cm_free(&d);
    free(cmsis);
    free(series);
    free(use);
    free(text0);
    free(hdr);
    return rc;
}
