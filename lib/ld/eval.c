/* ld/eval.c: evaluating parsed linker-script statements the way GNU ld
 * does for absolute symbols and MEMORY regions.
 *
 * What ld does (checked against arm-none-eabi-ld in tests/unit/test_ldscript_ld.c):
 * - values are 64-bit (bfd_vma); / and % are signed, comparisons unsigned, shift
 *   counts wrap modulo 64; an ELF32 output keeps the low 32 bits;
 * - statements run in order (--defsym ones where they stand on the command line),
 *   and the whole script runs several times: a symbol read before its assignment
 *   gets the value of the previous run, i.e. its final value;
 * - DEFINED(x) is true only if x was assigned earlier in the same run, which is why
 *   `x = DEFINED(x) ? x : 5;` keeps a --defsym given before the script but not after;
 * - MEMORY ORIGIN/LENGTH are evaluated after the assignments, from final values;
 * - ?: evaluates only the chosen branch;
 * - PROVIDE(x = e) defines x only if nothing else defines it (the first PROVIDE wins);
 * - inside an output section, numbers are section-relative, and `.`, ADDR() and
 *   friends need a real link: such symbols are "not evaluable", with the reason. */
#include "ld/ldscript_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/range.h"

#define LD_MAX_PASSES 12

enum vstate { V_OK, V_NOTEVAL, V_ERROR };

struct val {
    enum vstate st;
    uint64_t v;
    const char *why;      /* arena string for NOTEVAL / ERROR */
};

struct sym {
    const char *name;
    struct val cur, prev;
    int assigned_pass, prev_assigned_pass;
    const char *file;
    int line;
    bool plain;           /* some plain (non-PROVIDE) assignment targets it */
    bool provide;         /* its current value came from PROVIDE */
    int provide_pass;     /* pass in which a PROVIDE last applied */
    size_t order;
};

struct region {
    const struct ld_stmt *stmt;
    struct val origin, length;
};

struct eval {
    struct ld_program *prog;
    struct romfs_error *err;
    struct sym *syms;
    size_t n_syms;
    size_t *hash;         /* index + 1, 0 = empty */
    size_t hash_cap;
    struct region *regions;
    size_t n_regions;
    const struct ld_stmt **aliases;
    size_t n_aliases;
    int pass;
    bool final;
    int rc;               /* first fatal error in the final pass */
};

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603ull;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static struct sym *sym_find(struct eval *ev, const char *name)
{
    size_t i = hash_str(name) & (ev->hash_cap - 1);
    while (ev->hash[i]) {
        struct sym *s = &ev->syms[ev->hash[i] - 1];
        if (strcmp(s->name, name) == 0)
            return s;
        i = (i + 1) & (ev->hash_cap - 1);
    }
    return NULL;
}

static struct sym *sym_add(struct eval *ev, const char *name)
{
    struct sym *s = sym_find(ev, name);
    if (s)
        return s;
    size_t i = hash_str(name) & (ev->hash_cap - 1);
    while (ev->hash[i])
        i = (i + 1) & (ev->hash_cap - 1);
    s = &ev->syms[ev->n_syms];
    memset(s, 0, sizeof *s);
    s->name = name;
    s->order = ev->n_syms;
    ev->hash[i] = ++ev->n_syms;
    return s;
}

static struct val noteval(struct eval *ev, const char *fmt, const char *a, const char *b)
{
    char buf[300];
    snprintf(buf, sizeof buf, fmt, a, b ? b : "");
    struct val v = {V_NOTEVAL, 0, ld_arena_strndup(ev->prog, buf, strlen(buf))};
    if (!v.why)
        v.why = "out of memory";
    return v;
}

static struct val num(uint64_t v)
{
    struct val r = {V_OK, v, NULL};
    return r;
}

static const struct ld_stmt *region_stmt(struct eval *ev, const char *name, struct region **out)
{
    for (int hop = 0; hop < 8; hop++) {
        for (size_t i = 0; i < ev->n_regions; i++) {
            if (strcmp(ev->regions[i].stmt->name, name) == 0) {
                *out = &ev->regions[i];
                return ev->regions[i].stmt;
            }
        }
        const char *target = NULL;
        for (size_t i = 0; i < ev->n_aliases; i++)
            if (strcmp(ev->aliases[i]->name, name) == 0)
                target = ev->aliases[i]->name2;
        if (!target)
            return NULL;
        name = target;
    }
    return NULL;
}

static struct val eval_expr(struct eval *ev, const struct ld_expr *e);

static struct val sym_value(struct eval *ev, const char *name)
{
    struct sym *s = sym_find(ev, name);
    if (!s)
        return noteval(ev, "uses %s, which no script or symbol definition assigns (an object file may define it)", name, NULL);
    struct val v;
    if (s->assigned_pass == ev->pass)
        v = s->cur;
    else if (s->prev_assigned_pass == ev->pass - 1 && ev->pass > 1)
        v = s->prev;
    else
        return noteval(ev, "uses %s before any assignment to it%s", name, NULL);
    if (v.st == V_NOTEVAL)
        return noteval(ev, "uses %s, which %s", name, v.why);
    return v;
}

/* The functions of two arguments share binary()'s operand checks; their codes lie above
 * every ld_op code (ldscript_internal.h). */
enum { FN_ALIGN = 1024, FN_MIN, FN_MAX };

static struct val binary(struct eval *ev, int op, struct val a, struct val b)
{
    if (a.st != V_OK)
        return a;
    if (b.st != V_OK)
        return b;
    uint64_t x = a.v, y = b.v;
    switch (op) {
    case '+': return num(x + y);
    case '-': return num(x - y);
    case '*': return num(x * y);
    case '/': case '%':
        if (y == 0) {
            struct val r = {V_ERROR, 0, op == '/' ? "division by zero" : "% by zero"};
            return r;
        }
        if ((int64_t)y == -1) /* INT64_MIN / -1 must not trap; the result wraps */
            return num(op == '/' ? (uint64_t)0 - x : 0);
        return num(op == '/' ? (uint64_t)((int64_t)x / (int64_t)y) : (uint64_t)((int64_t)x % (int64_t)y));
    case LD_OP_LSHIFT: return num(x << (y & 63));
    case LD_OP_RSHIFT: return num(x >> (y & 63));
    case '&': return num(x & y);
    case '|': return num(x | y);
    case LD_OP_EQ: return num(x == y);
    case LD_OP_NE: return num(x != y);
    case '<': return num(x < y);
    case '>': return num(x > y);
    case LD_OP_LE: return num(x <= y);
    case LD_OP_GE: return num(x >= y);
    case LD_OP_ANDAND: return num(x && y);
    case LD_OP_OROR: return num(x || y);
    case FN_ALIGN: return y <= 1 ? a : num((x + y - 1) / y * y);
    case FN_MIN: return num(x < y ? x : y);
    case FN_MAX: return num(x > y ? x : y);
    default: return noteval(ev, "unknown operator%s%s", "", NULL);
    }
}

static struct val region_value(struct eval *ev, const struct ld_expr *e)
{
    struct region *reg = NULL;
    if (!region_stmt(ev, e->name, &reg)) {
        struct val r = {V_ERROR, 0, NULL};
        r.why = noteval(ev, "%s(%s): no such MEMORY region", e->kind == LD_E_ORIGIN ? "ORIGIN" : "LENGTH", e->name).why;
        return r;
    }
    struct val v = e->kind == LD_E_ORIGIN ? reg->origin : reg->length;
    if (v.st == V_OK)
        return v;
    return noteval(ev, "uses region %s, which is not known yet%s", e->name, NULL);
}

static struct val eval_expr(struct eval *ev, const struct ld_expr *e)
{
    struct val a, b;
    switch (e->kind) {
    case LD_E_NUM: return num(e->num);
    case LD_E_SYM: return sym_value(ev, e->name);
    case LD_E_DOT: return noteval(ev, "uses '.', the location counter, which needs a real link%s%s", "", NULL);
    case LD_E_LAYOUT: return noteval(ev, "uses %s(), which depends on section placement%s", e->name, NULL);
    case LD_E_UNARY:
        a = eval_expr(ev, e->a);
        if (a.st != V_OK)
            return a;
        switch (e->op) {
        case '-': return num((uint64_t)0 - a.v);
        case '!': return num(!a.v);
        case '~': return num(~a.v);
        default: return a;
        }
    case LD_E_BINARY:
        a = eval_expr(ev, e->a);
        b = eval_expr(ev, e->b);
        return binary(ev, e->op, a, b);
    case LD_E_COND:
        a = eval_expr(ev, e->a);
        if (a.st != V_OK)
            return a;
        return eval_expr(ev, a.v ? e->b : e->c);
    case LD_E_ORIGIN: case LD_E_LENGTH:
        return region_value(ev, e);
    case LD_E_DEFINED: {
        struct sym *s = sym_find(ev, e->name);
        return num(s && s->assigned_pass == ev->pass);
    }
    case LD_E_ALIGN: case LD_E_MIN: case LD_E_MAX:
        if (e->kind == LD_E_ALIGN && !e->b)
            return noteval(ev, "uses ALIGN(%s), which aligns '.', the location counter%s", "x", NULL);
        a = eval_expr(ev, e->a);
        b = eval_expr(ev, e->b);
        return binary(ev, e->kind == LD_E_ALIGN ? FN_ALIGN : e->kind == LD_E_MIN ? FN_MIN : FN_MAX,
                      a, b);
    case LD_E_ABSOLUTE:
        return eval_expr(ev, e->a);
    case LD_E_LOG2CEIL: {
        a = eval_expr(ev, e->a);
        if (a.st != V_OK)
            return a;
        uint64_t r = 0;
        while (r < 64 && ((uint64_t)1 << r) < a.v)
            r++;
        return num(r);
    }
    }
    return noteval(ev, "unknown expression%s%s", "", NULL);
}

static int fatal(struct eval *ev, const struct ld_stmt *s, const char *what, const char *why)
{
    if (ev->rc == ROMFS_OK)
        ev->rc = romfs_set_error(ev->err, ROMFS_ERR_CORRUPT, "%s:%d: %s%s%s", s->file, s->line, what,
                                 why ? ": " : "", why ? why : "");
    return ev->rc;
}

static void assign(struct eval *ev, const struct ld_stmt *s, struct sym *sym, struct val v, bool provide)
{
    if (v.st == V_ERROR && ev->final)
        fatal(ev, s, "cannot evaluate", v.why);
    sym->cur = v;
    sym->assigned_pass = ev->pass;
    sym->file = s->file;
    sym->line = s->line;
    sym->provide = provide;
}

static void run_statement(struct eval *ev, const struct ld_stmt *s)
{
    struct sym *sym;
    struct val v;
    switch (s->kind) {
    case LD_S_ASSIGN:
        if (strcmp(s->name, ".") == 0)
            return;
        sym = sym_find(ev, s->name);
        v = eval_expr(ev, s->e);
        if (s->op != '=') {
            static const int ops[] = {'+', '-', '*', '/', LD_OP_LSHIFT, LD_OP_RSHIFT, '&', '|'};
            v = binary(ev, ops[s->op - LD_OP_ADD_ASSIGN], sym_value(ev, s->name), v);
        }
        if (v.st == V_OK && s->ctx == LD_CTX_OUTPUT_SECTION && s->e->kind != LD_E_ABSOLUTE)
            v = noteval(ev, "is assigned inside output section %s, where ld makes values section-relative%s",
                        s->section, NULL);
        assign(ev, s, sym, v, false);
        return;
    case LD_S_PROVIDE:
        sym = sym_find(ev, s->name);
        if (sym->plain || sym->provide_pass == ev->pass)
            return;
        v = eval_expr(ev, s->e);
        if (v.st == V_OK && s->ctx == LD_CTX_OUTPUT_SECTION && s->e->kind != LD_E_ABSOLUTE)
            v = noteval(ev, "is assigned inside output section %s, where ld makes values section-relative%s",
                        s->section, NULL);
        sym->provide_pass = ev->pass;
        assign(ev, s, sym, v, true);
        return;
    case LD_S_ASSERT:
        if (!ev->final)
            return;
        v = eval_expr(ev, s->e);
        if (v.st == V_OK && v.v == 0)
            fatal(ev, s, "ASSERT failed", s->name);
        return;
    case LD_S_REGION:
    case LD_S_ALIAS:
        return;
    }
}

/* MEMORY is evaluated once all assignments of a pass have run. */
static void eval_regions(struct eval *ev)
{
    for (size_t i = 0; i < ev->n_regions; i++) {
        struct region *reg = &ev->regions[i];
        reg->origin = eval_expr(ev, reg->stmt->e);
        reg->length = eval_expr(ev, reg->stmt->e2);
        if (ev->final) {
            char what[200];
            if (reg->origin.st != V_OK) {
                snprintf(what, sizeof what, "MEMORY region %s: ORIGIN cannot be computed", reg->stmt->name);
                fatal(ev, reg->stmt, what, reg->origin.why);
            } else if (reg->length.st != V_OK) {
                snprintf(what, sizeof what, "MEMORY region %s: LENGTH cannot be computed", reg->stmt->name);
                fatal(ev, reg->stmt, what, reg->length.why);
            }
        }
    }
}

static bool same(struct val a, struct val b)
{
    return a.st == b.st && (a.st != V_OK || a.v == b.v);
}

static int collect(struct eval *ev, unsigned address_bits, struct romfs_ld_result *out)
{
    uint64_t mask = (address_bits && address_bits < 64) ? (((uint64_t)1 << address_bits) - 1) : ~(uint64_t)0;
    out->regions = calloc(ev->n_regions ? ev->n_regions : 1, sizeof *out->regions);
    out->symbols = calloc(ev->n_syms ? ev->n_syms : 1, sizeof *out->symbols);
    if (!out->regions || !out->symbols)
        return romfs_set_error(ev->err, ROMFS_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < ev->n_regions; i++) {
        const struct ld_stmt *s = ev->regions[i].stmt;
        struct romfs_ld_region *r = &out->regions[out->n_regions++];
        r->name = strdup(s->name);
        r->attrs = strdup(s->name2 ? s->name2 : "");
        r->file = strdup(s->file);
        r->line = s->line;
        r->origin = ev->regions[i].origin.v & mask;
        r->length = ev->regions[i].length.v & mask;
        if (!r->name || !r->attrs || !r->file)
            return romfs_set_error(ev->err, ROMFS_ERR_NOMEM, "out of memory");
        if (!romfs_range_fits_bits(r->origin, r->length, address_bits ? address_bits : 64))
            return romfs_set_error(ev->err, ROMFS_ERR_RANGE,
                                   "%s:%d: MEMORY region %s: ORIGIN 0x%" PRIx64 " + LENGTH 0x%" PRIx64
                                   " runs past the end of the %u-bit address space", s->file, s->line, s->name,
                                   r->origin, r->length, address_bits ? address_bits : 64);
    }
    for (size_t i = 0; i < ev->n_syms; i++) {
        const struct sym *s = &ev->syms[i];
        if (s->assigned_pass != ev->pass || strcmp(s->name, ".") == 0)
            continue;
        struct romfs_ld_symbol *o = &out->symbols[out->n_symbols++];
        o->name = strdup(s->name);
        o->file = strdup(s->file);
        o->line = s->line;
        o->provide = s->provide;
        o->evaluable = s->cur.st == V_OK;
        o->value = o->evaluable ? s->cur.v & mask : 0;
        o->why = o->evaluable ? NULL : strdup(s->cur.why ? s->cur.why : "cannot be evaluated");
        if (!o->name || !o->file || (!o->evaluable && !o->why))
            return romfs_set_error(ev->err, ROMFS_ERR_NOMEM, "out of memory");
    }
    return ROMFS_OK;
}

int ld_evaluate_program(struct ld_program *p, unsigned address_bits,
                        struct romfs_ld_result *out, struct romfs_error *err)
{
    struct eval ev = {.prog = p, .err = err};
    int rc = ROMFS_OK;
    size_t cap = 16;
    while (cap < p->n_stmts * 2 + 2)
        cap *= 2;
    ev.syms = calloc(p->n_stmts + 1, sizeof *ev.syms);
    ev.hash = calloc(cap, sizeof *ev.hash);
    ev.regions = calloc(p->n_stmts + 1, sizeof *ev.regions);
    ev.aliases = calloc(p->n_stmts + 1, sizeof *ev.aliases);
    ev.hash_cap = cap;
    if (!ev.syms || !ev.hash || !ev.regions || !ev.aliases) {
        rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < p->n_stmts; i++) {
        const struct ld_stmt *s = &p->stmts[i];
        if (s->kind == LD_S_ASSIGN || s->kind == LD_S_PROVIDE) {
            struct sym *sym = sym_add(&ev, s->name);
            if (s->kind == LD_S_ASSIGN)
                sym->plain = true;
        } else if (s->kind == LD_S_REGION) {
            struct region *dup = NULL;
            if (region_stmt(&ev, s->name, &dup)) {
                rc = romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s:%d: MEMORY region %s declared again (first at %s:%d)",
                                     s->file, s->line, s->name, dup->stmt->file, dup->stmt->line);
                goto done;
            }
            ev.regions[ev.n_regions++].stmt = s;
        } else if (s->kind == LD_S_ALIAS) {
            ev.aliases[ev.n_aliases++] = s;
        }
    }
    bool converged = false;
    for (ev.pass = 1; ev.pass <= LD_MAX_PASSES + 1; ev.pass++) {
        ev.final = converged;
        for (size_t i = 0; i < ev.n_syms; i++) {
            ev.syms[i].prev = ev.syms[i].cur;
            ev.syms[i].prev_assigned_pass = ev.syms[i].assigned_pass;
        }
        struct region *old = malloc((ev.n_regions + 1) * sizeof *old);
        if (!old) {
            rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
            goto done;
        }
        memcpy(old, ev.regions, ev.n_regions * sizeof *old);
        for (size_t i = 0; i < p->n_stmts && ev.rc == ROMFS_OK; i++)
            run_statement(&ev, &p->stmts[i]);
        if (ev.rc == ROMFS_OK)
            eval_regions(&ev);
        bool changed = ev.pass == 1;
        for (size_t i = 0; i < ev.n_syms && !changed; i++)
            changed = !same(ev.syms[i].cur, ev.syms[i].prev) ||
                      (ev.syms[i].assigned_pass == ev.pass) != (ev.syms[i].prev_assigned_pass == ev.pass - 1);
        for (size_t i = 0; i < ev.n_regions && !changed; i++)
            changed = !same(ev.regions[i].origin, old[i].origin) || !same(ev.regions[i].length, old[i].length);
        free(old);
        if (ev.rc != ROMFS_OK) {
            rc = ev.rc;
            goto done;
        }
        if (ev.final)
            break;
        if (!changed)
            converged = true;
    }
    if (!converged) {
        rc = romfs_set_error(err, ROMFS_ERR_UNSUPPORTED,
                             "linker script values do not settle after %d passes (circular assignments?)", LD_MAX_PASSES);
        goto done;
    }
    rc = collect(&ev, address_bits, out);
done:
    free(ev.syms);
    free(ev.hash);
    free(ev.regions);
    free(ev.aliases);
    if (rc != ROMFS_OK)
        romfs_ld_result_free(out);
    return rc;
}

/* ---- result access ---- */

const struct romfs_ld_region *romfs_ld_find_region(const struct romfs_ld_result *r, const char *name)
{
    for (size_t i = 0; r && name && i < r->n_regions; i++)
        if (strcmp(r->regions[i].name, name) == 0)
            return &r->regions[i];
    return NULL;
}

const struct romfs_ld_symbol *romfs_ld_symbol_record(const struct romfs_ld_result *r, const char *name)
{
    for (size_t i = 0; r && name && i < r->n_symbols; i++)
        if (strcmp(r->symbols[i].name, name) == 0)
            return &r->symbols[i];
    return NULL;
}

int romfs_ld_find_symbol(const struct romfs_ld_result *r, const char *name, uint64_t *value)
{
    const struct romfs_ld_symbol *s = romfs_ld_symbol_record(r, name);
    if (!s)
        return ROMFS_ERR_NOENT;
    if (!s->evaluable)
        return ROMFS_ERR_UNSUPPORTED;
    if (value)
        *value = s->value;
    return ROMFS_OK;
}

int romfs_ld_lookup_symbol(const struct romfs_ld_result *r, const char *name, uint64_t *value,
                           struct romfs_error *err)
{
    const struct romfs_ld_symbol *s = romfs_ld_symbol_record(r, name);
    if (!s)
        return romfs_set_error(err, ROMFS_ERR_NOENT, "symbol %s is not assigned by the linker scripts", name);
    if (!s->evaluable)
        return romfs_set_error(err, ROMFS_ERR_UNSUPPORTED, "%s:%d: symbol %s cannot be evaluated without a link: it %s",
                               s->file, s->line, name, s->why);
    if (value)
        *value = s->value;
    return ROMFS_OK;
}

void romfs_ld_result_free(struct romfs_ld_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_regions; i++) {
        free(r->regions[i].name);
        free(r->regions[i].attrs);
        free(r->regions[i].file);
    }
    for (size_t i = 0; i < r->n_symbols; i++) {
        free(r->symbols[i].name);
        free(r->symbols[i].file);
        free(r->symbols[i].why);
    }
    free(r->regions);
    free(r->symbols);
    memset(r, 0, sizeof *r);
}
