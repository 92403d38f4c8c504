/* boards/import_board.c: what every port importer shares about one board: its MCU's
 * flash geometry, its mpconfigboard.mk / .h / CMake text, and linking its scripts. */
#include "boards/import_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>

const struct mcu_geometry *imp_find_mcu(const struct mcu_geometry *t, size_t n, const char *mcu)
{
    for (size_t i = 0; mcu && i < n; i++)
        if (strncasecmp(mcu, t[i].prefix, strlen(t[i].prefix)) == 0)
            return &t[i];
    return NULL;
}


/* Fill geometry and SWD targets from a table row; sectors become an erase map. */
int imp_apply_geometry(struct romfs_board *b, const struct mcu_geometry *g)
{
    b->flash_base = g->base;
    b->flash_size = g->size;
    b->erase_block = g->erase;
    b->write_block = g->write;
    b->openocd_target = imp_strdup(g->openocd);
    b->pyocd_target = imp_strdup(g->pyocd);
    if (g->sectors) {
        uint64_t addr = g->base;
        for (const char *p = g->sectors; *p;) {
            unsigned count = 0, kib = 0;
            int used = 0;
            if (sscanf(p, "%u*%u%n", &count, &kib, &used) != 2)
                return ROMFS_ERR_CORRUPT;
            struct romfs_erase_range *nm = realloc(b->erase_map, (b->n_erase_map + 1) * sizeof *nm);
            if (!nm)
                return ROMFS_ERR_NOMEM;
            b->erase_map = nm;
            nm[b->n_erase_map++] = (struct romfs_erase_range){ addr, (uint64_t)count * kib * K, kib * K };
            addr += (uint64_t)count * kib * K;
            p += used;
            if (*p == ',')
                p++;
        }
    }
    return ROMFS_OK;
}

char *imp_mk_get(const struct romfs_mkvars *v, const char *name)
{
    char *s = romfs_mk_get(v, name);
    return s ? s : strdup("");
}

bool imp_define_true(const char *header, const char *name)
{
    uint64_t v = 0;
    return imp_header_number(header, name, &v) && v != 0;
}

/* REPL USB id: the board header's MICROPY_HW_USB_VID/PID if numeric, else the port's. */
char *imp_repl_usb(const char *header, uint64_t vid, uint64_t pid)
{
    uint64_t v, p;
    if (imp_header_number(header, "MICROPY_HW_USB_VID", &v))
        vid = v;
    if (imp_header_number(header, "MICROPY_HW_USB_PID", &p))
        pid = p;
    return imp_usb_id(vid, pid);
}

void imp_ctx_free(struct board_ctx *c)
{
    romfs_mk_free(&c->vars);
    free(c->header);
    ld_build_free(&c->lb);
    romfs_ld_result_free(&c->res);
    memset(c, 0, sizeof *c);
}

/* A board header's text with each `#include "boards/..."` line (a header of another
   board, relative to the port directory, as PYBD_SF3 includes PYBD_SF2's) replaced by
   that header's text, so a define it gives and the board does not override is seen. */
static char *read_board_header(struct importer *imp, const char *port, const char *path, int depth)
{
    char *text = imp_read_text(path);
    if (!text || depth >= 4)
        return text;
    size_t cap = strlen(text) + 1, len = 0;
    char *out = malloc(cap);
    for (const char *p = text; out && *p;) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) + 1 : strlen(p);
        char inc[256];
        char *sub = NULL;
        if (sscanf(p, " #include \"%255[^\"\n]\"", inc) == 1 && strncmp(inc, "boards/", 7) == 0) {
            char *ipath = imp_path(imp, "ports/%s/%s", port, inc);
            sub = ipath ? read_board_header(imp, port, ipath, depth + 1) : NULL;
            free(ipath);
        }
        const char *add = sub ? sub : p;
        size_t addn = sub ? strlen(sub) : n;
        if (len + addn + 2 > cap) {
            cap = (len + addn + 2) * 2;
            char *nb = realloc(out, cap);
            if (!nb) {
                free(out);
                out = NULL;
            }
            out = nb;
        }
        if (out) {
            memcpy(out + len, add, addn);
            len += addn;
            if (sub)
                out[len++] = '\n';
            out[len] = 0;
        }
        free(sub);
        p += n;
    }
    free(text);
    return out;
}

/* Apply a board make file, following its `include boards/...` lines (port-relative, as make
   runs in the port directory: NUCLEO_H743ZI2 includes NUCLEO_H743ZI's file). */
static int read_mk(struct importer *imp, struct romfs_mkvars *vars, const char *port, const char *path, int depth)
{
    char *text = imp_read_text(path);
    if (!text)
        return romfs_mk_read(vars, path, imp->err); /* its error */
    int rc = ROMFS_OK;
    char *chunk = text;
    for (char *p = text; !rc && p && *p;) {
        char *eol = strchr(p, '\n');
        char inc[256];
        if (depth < 4 && sscanf(p, "include %255s", inc) == 1 && strncmp(inc, "boards/", 7) == 0) {
            *p = 0;
            rc = romfs_mk_apply(vars, path, chunk, imp->err);
            char *ipath = imp_path(imp, "ports/%s/%s", port, inc);
            if (!rc)
                rc = ipath ? read_mk(imp, vars, port, ipath, depth + 1) : ROMFS_ERR_NOMEM;
            free(ipath);
            chunk = eol ? eol + 1 : p + strlen(p);
        }
        p = eol ? eol + 1 : NULL;
    }
    if (!rc && *chunk)
        rc = romfs_mk_apply(vars, path, chunk, imp->err);
    free(text);
    return rc;
}

int imp_ctx_read(struct importer *imp, struct board_ctx *c, const char *port, const char *board)
{
    memset(c, 0, sizeof *c);
    c->lb.port = port;
    char *mk = imp_path(imp, "ports/%s/boards/%s/mpconfigboard.mk", port, board);
    char *h = imp_path(imp, "ports/%s/boards/%s/mpconfigboard.h", port, board);
    if (!mk || !h) {
        free(mk);
        free(h);
        return romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    }
    int rc = romfs_mk_set(&c->vars, "BOARD", board);
    if (!rc)
        rc = romfs_mk_set(&c->vars, "BOARD_DIR", "boards/$(BOARD)");
    if (!rc)
        rc = read_mk(imp, &c->vars, port, mk, 0);
    c->header = read_board_header(imp, port, h, 0);
    free(mk);
    free(h);
    return rc;
}

/* Evaluate, take regions, and set the text region (first that exists). */
int imp_ctx_link(struct importer *imp, struct board_ctx *c, struct romfs_board *b, const char *const *text_names)
{
    int rc = imp_evaluate(imp, &c->lb, b->name, &c->res);
    if (rc)
        return rc;
    if (!b->link && imp->link && !(b->link = strdup(imp->link)))
        return romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    if ((rc = imp_take_regions(imp, b, &c->res)) || (rc = imp_set_scripts(b, &c->lb)))
        return rc;
    for (size_t i = 0; text_names && text_names[i]; i++)
        if (imp_set_text(b, &c->res, text_names[i]) == ROMFS_OK)
            break;
    return ROMFS_OK;
}

/* Common tail for ports whose partitions come from _micropy_hw_romfs_partN_* symbols. */
int imp_finish_ld_board(struct importer *imp, struct board_ctx *c, struct romfs_board *b,
                           const struct mcu_geometry *g, const char *const *text_names, const char *device,
                           bool *found)
{
    int rc = imp_ctx_link(imp, c, b, text_names);
    if (!rc && g)
        rc = imp_apply_geometry(b, g);
    *found = false;
    for (int idx = 0; !rc && idx < 2; idx++) {
        bool f;
        uint32_t erase = g ? g->erase : 4096, write = g ? g->write : 4;
        rc = imp_partition_from_ld(imp, b, &c->res, idx, erase, write, true, device, &f);
        if (!rc && f && g && b->n_erase_map) {
            struct romfs_partition *p = &b->partitions[b->n_partitions - 1];
            p->erase_block = romfs_board_erase_block_at(b, p->start);
        }
        *found = *found || f;
    }
    return rc;
}

char *imp_cmake_set(const char *text, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = text; p && (p = strstr(p, "set(")); p += 4) {
        const char *q = p + 4;
        while (*q == ' ')
            q++;
        if (strncmp(q, name, nl) != 0 || !(q[nl] == ' ' || q[nl] == '\t'))
            continue;
        if (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
            continue; /* e.g. "unset(" */
        q += nl;
        while (*q == ' ' || *q == '\t' || *q == '"')
            q++;
        size_t n = strcspn(q, " \t\")\n#");
        return n ? strndup(q, n) : NULL;
    }
    return NULL;
}

/* NAME=VALUE or `#define NAME VALUE` anywhere in text, as a number. */
bool imp_find_number_def(const char *text, const char *name, uint64_t *out)
{
    if (!text)
        return false;
    char *v = romfs_c_define(text, name);
    bool ok = v && romfs_mk_number(v, out);
    free(v);
    if (ok)
        return true;
    char pat[96];
    snprintf(pat, sizeof pat, "%s=", name);
    const char *p = strstr(text, pat);
    if (!p)
        return false;
    p += strlen(pat);
    size_t n = strcspn(p, " \t\")\n");
    char *num = strndup(p, n);
    ok = num && romfs_mk_number(num, out);
    free(num);
    return ok;
}

/* Concatenated text of every file in the board directory (cmake and headers). */
char *imp_board_dir_text(struct importer *imp, const char *port, const char *board)
{
    static const char *const names[] = { "mpconfigboard.cmake", "mpconfigboard.h", NULL };
    char *all = strdup("");
    for (size_t i = 0; all && names[i]; i++) {
        char *path = imp_path(imp, "ports/%s/boards/%s/%s", port, board, names[i]);
        char *t = path ? imp_read_text(path) : NULL;
        free(path);
        if (!t)
            continue;
        char *n = imp_printf("%s%s\n", all, t);
        free(all);
        free(t);
        all = n;
    }
    return all;
}

/* Record a make variable's value with the first assignment of it, in the files the
   Makefile reads (board, variant, MCU), that gives this value. */
int imp_config_mk(struct importer *imp, struct romfs_board *b, const char *name, const char *value,
                  const char *const *files)
{
    uint64_t v;
    if (!romfs_mk_number(value, &v))
        return ROMFS_OK;
    for (size_t f = 0; files[f]; f++) {
        char *path = imp_path(imp, "%s", files[f]);
        char *text = path ? imp_read_text(path) : NULL;
        free(path);
        int line = 1;
        for (const char *p = text; p && *p; line++) {
            const char *eol = strchr(p, '\n');
            size_t len = eol ? (size_t)(eol - p) : strlen(p);
            char *l = strndup(p, len);
            char *q = l;
            while (q && (*q == ' ' || *q == '\t'))
                q++;
            size_t nl = strlen(name);
            bool hit = false;
            if (q && strncmp(q, name, nl) == 0) {
                char *r = q + nl;
                while (*r == ' ' || *r == '\t')
                    r++;
                if (*r == '?' || *r == ':' || *r == '+')
                    r++;
                uint64_t got;
                if (*r == '=') {
                    r++;
                    while (*r == ' ' || *r == '\t')
                        r++;
                    char *hash = strchr(r, '#');
                    if (hash)
                        *hash = 0;
                    size_t rl = strlen(r);
                    while (rl && (r[rl - 1] == ' ' || r[rl - 1] == '\t' || r[rl - 1] == '\r'))
                        r[--rl] = 0;
                    hit = romfs_mk_number(r, &got) && got == v;
                }
            }
            free(l);
            if (hit) {
                free(text);
                return imp_config(imp, b, name, v, files[f], line);
            }
            p = eol ? eol + 1 : NULL;
        }
        free(text);
    }
    return imp_config(imp, b, name, v, "(the port's Makefile)", 0);
}

