/* boards/import.c: boards.json from a MicroPython tree: shared helpers and the driver. */
#define _GNU_SOURCE
#include "boards/import.h"
#include "base/file.h"
#include "boards/import_internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

char *imp_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

char *imp_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *out = NULL;
    if (vasprintf(&out, fmt, ap) < 0)
        out = NULL;
    va_end(ap);
    return out;
}

char *imp_path(const struct importer *imp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *rel = NULL;
    if (vasprintf(&rel, fmt, ap) < 0)
        rel = NULL;
    va_end(ap);
    if (!rel)
        return NULL;
    char *full = imp_printf("%s/%s", imp->tree, rel);
    free(rel);
    return full;
}

char *imp_read_text(const char *path)
{
    uint8_t *data;
    size_t size;
    return romfs_read_file(path, &data, &size, NULL) == ROMFS_OK ? (char *)data : NULL;
}

char *imp_usb_id(uint64_t vid, uint64_t pid)
{
    return imp_printf("%04x:%04x", (unsigned)vid & 0xffff, (unsigned)pid & 0xffff);
}

bool imp_header_number(const char *header, const char *name, uint64_t *out)
{
    if (!header)
        return false;
    char *v = romfs_c_define(header, name);
    bool ok = v && romfs_mk_number(v, out);
    free(v);
    return ok;
}

void ld_build_free(struct ld_build *b)
{
    for (size_t i = 0; i < b->n_scripts; i++)
        free(b->scripts[i]);
    for (size_t i = 0; i < b->n_defsyms; i++)
        free(b->defsyms[i]);
    for (size_t i = 0; i < b->n_defines; i++)
        free(b->defines[i]);
    for (size_t i = 0; i < b->n_search; i++)
        free(b->search[i]);
    for (size_t i = 0; i < b->n_incdirs; i++)
        free(b->incdirs[i]);
    memset(b, 0, sizeof *b);
}

int ld_build_add(char **list, size_t *n, const char *fmt, ...)
{
    if (*n >= IMP_MAX_LIST)
        return ROMFS_ERR_RANGE;
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    if (!s)
        return ROMFS_ERR_NOMEM;
    list[(*n)++] = s;
    return ROMFS_OK;
}

int ld_build_add_words(char **list, size_t *n, const char *words)
{
    for (const char *p = words; *p;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        size_t k = 0;
        while (p[k] && !isspace((unsigned char)p[k]))
            k++;
        if (!k)
            break;
        int rc = ld_build_add(list, n, "%.*s", (int)k, p);
        if (rc)
            return rc;
        p += k;
    }
    return ROMFS_OK;
}

/* The build as linker arguments (the format of romfs_partition.link). */
static char *link_args(const struct ld_build *b)
{
    size_t len = 16;
    for (size_t i = 0; i < b->n_defines; i++)
        len += strlen(b->defines[i]) + 4;
    for (size_t i = 0; i < b->n_incdirs; i++)
        len += strlen(b->incdirs[i]) + 4;
    for (size_t i = 0; i < b->n_defsyms; i++)
        len += strlen(b->defsyms[i]) + 10;
    for (size_t i = 0; i < b->n_search; i++)
        len += strlen(b->search[i]) + 4;
    for (size_t i = 0; i < b->n_scripts; i++)
        len += strlen(b->scripts[i]) + 4;
    char *s = calloc(1, len), *p = s;
    if (!s)
        return NULL;
#define ADD(...) (p += snprintf(p, len - (size_t)(p - s), __VA_ARGS__))
    if (b->preprocess)
        ADD("-E ");
    for (size_t i = 0; i < b->n_defines; i++)
        ADD("-D %s ", b->defines[i]);
    for (size_t i = 0; i < b->n_incdirs; i++)
        ADD("-I %s ", b->incdirs[i]);
    for (size_t i = 0; !b->defsyms_last && i < b->n_defsyms; i++)
        ADD("--defsym %s ", b->defsyms[i]);
    for (size_t i = 0; i < b->n_search; i++)
        ADD("-L %s ", b->search[i]);
    for (size_t i = 0; i < b->n_scripts; i++)
        ADD("-T %s ", b->scripts[i]);
    for (size_t i = 0; b->defsyms_last && i < b->n_defsyms; i++)
        ADD("--defsym %s ", b->defsyms[i]);
#undef ADD
    if (p > s)
        p[-1] = '\0';
    return s;
}

int imp_evaluate(struct importer *imp, const struct ld_build *b, const char *board, struct romfs_ld_result *res)
{
    const char *scripts[IMP_MAX_LIST], *search[IMP_MAX_LIST + 1];
    char *portdir = imp_path(imp, "ports/%s", b->port);
    if (!portdir)
        return romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    /* Scripts and -L directories stay port-relative: the evaluator resolves them against
       base_dir (the port directory, where make runs ld), so a relative tree path works too. */
    for (size_t i = 0; i < b->n_scripts; i++)
        scripts[i] = b->scripts[i];
    /* make runs in the port directory: INCLUDE resolves there first, then -L dirs. */
    search[0] = ".";
    for (size_t i = 0; i < b->n_search; i++)
        search[i + 1] = b->search[i];
    struct romfs_ld_input in = {
        .scripts = scripts, .n_scripts = b->n_scripts,
        .search_dirs = search, .n_search_dirs = b->n_search + 1,
        .defsyms = (const char *const *)b->defsyms, .n_defsyms = b->n_defsyms,
        .cpp_defines = (const char *const *)b->defines, .n_cpp_defines = b->n_defines,
        .preprocess = b->preprocess,
        .cpp_include_dirs = (const char *const *)b->incdirs, .n_cpp_include_dirs = b->n_incdirs,
        .defsyms_last = b->defsyms_last,
        .base_dir = portdir,
        .address_bits = 32,
        .cpp_cache = imp->cpp_cache,
    };
    int rc = romfs_ld_evaluate(&in, res, imp->err);
    if (rc) {
        romfs_error_prefix(imp->err, "%s board %s", b->port, board);
        imp_board_failed(imp, board);
    }
    free(imp->link);
    imp->link = rc ? NULL : link_args(b);
    if (!rc && !imp->link)
        rc = romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    free(portdir);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Remember which board the error just set belongs to (romfs_boards_import leaves it out
 * and imports the rest). */
void imp_board_failed(struct importer *imp, const char *board)
{
    free(imp->failed_board);
    imp->failed_board = strdup(board);
}

static bool skipped(const struct importer *imp, const char *port, const char *board)
{
    size_t pl = strlen(port);
    for (size_t i = 0; i < imp->n_skip; i++)
        if (strncmp(imp->skip[i], port, pl) == 0 && imp->skip[i][pl] == '/' && strcmp(imp->skip[i] + pl + 1, board) == 0)
            return true;
    return false;
}

int imp_list_boards(struct importer *imp, const char *port, const char *marker, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    char *dir = imp_path(imp, "ports/%s/boards", port);
    if (!dir)
        return romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    DIR *d = opendir(dir);
    if (!d) {
        int rc = romfs_set_errno(imp->err, ROMFS_ERR_NOENT, errno, "cannot list %s", dir);
        free(dir);
        return rc;
    }
    size_t cap = 0;
    struct dirent *e;
    int rc = ROMFS_OK;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || skipped(imp, port, e->d_name))
            continue;
        char *m = imp_printf("%s/%s/%s", dir, e->d_name, marker);
        struct stat st;
        bool has = m && stat(m, &st) == 0 && S_ISREG(st.st_mode);
        free(m);
        if (!has)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            char **nn = realloc(*names, cap * sizeof *nn);
            if (!nn) {
                rc = ROMFS_ERR_NOMEM;
                break;
            }
            *names = nn;
        }
        (*names)[*n] = strdup(e->d_name);
        if (!(*names)[*n]) {
            rc = ROMFS_ERR_NOMEM;
            break;
        }
        (*n)++;
    }
    closedir(d);
    free(dir);
    if (rc)
        return romfs_set_error(imp->err, rc, "out of memory");
    if (*n)
        qsort(*names, *n, sizeof **names, cmp_str);
    return ROMFS_OK;
}

void imp_free_list(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

struct romfs_board *imp_new_board(struct importer *imp, const char *port, const char *name)
{
    struct romfs_boards *db = imp->db;
    if (db->n == imp->cap) {
        size_t cap = imp->cap ? imp->cap * 2 : 64;
        struct romfs_board *nb = realloc(db->boards, cap * sizeof *nb);
        if (!nb) {
            romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
            return NULL;
        }
        db->boards = nb;
        imp->cap = cap;
    }
    struct romfs_board *b = &db->boards[db->n++];
    memset(b, 0, sizeof *b);
    free(imp->link); /* a partition's link is that of its own board's build */
    imp->link = NULL;
    b->dfu_alt = -1;
    b->port = strdup(port);
    b->name = strdup(name);
    if (!b->port || !b->name) {
        romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return b;
}

void imp_drop_last(struct importer *imp)
{
    if (imp->db->n) {
        imp->db->n--;
        romfs_board_free(&imp->db->boards[imp->db->n]);
    }
}

struct romfs_partition *imp_add_partition(struct importer *imp, struct romfs_board *b, int index, uint64_t start,
                                          uint64_t size, uint32_t erase, uint32_t write, bool mmap,
                                          const char *device, const char *region, const char *source)
{
    struct romfs_partition *p = romfs_board_add_partition(b);
    if (!p) {
        romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    p->index = index;
    p->start = start;
    p->size = size;
    p->erase_block = erase;
    p->write_block = write;
    p->mmap = mmap;
    p->device = imp_strdup(device);
    p->region = imp_strdup(region);
    p->source = imp_strdup(source);
    p->link = imp_strdup(imp->link);
    if ((source && !p->source) || (imp->link && !p->link)) {
        romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return p;
}

const char *imp_tree_relative(const struct importer *imp, const char *path)
{
    size_t n = strlen(imp->tree);
    if (path && strncmp(path, imp->tree, n) == 0 && path[n] == '/')
        return path + n + 1;
    return path ? path : "?";
}

int imp_partition_from_ld(struct importer *imp, struct romfs_board *b, const struct romfs_ld_result *res, int index,
                          uint32_t erase, uint32_t write, bool mmap, const char *device, bool *found)
{
    char sname[64], zname[64];
    snprintf(sname, sizeof sname, "_micropy_hw_romfs_part%d_start", index);
    snprintf(zname, sizeof zname, "_micropy_hw_romfs_part%d_size", index);
    *found = false;
    const struct romfs_ld_symbol *ss = romfs_ld_symbol_record(res, sname);
    const struct romfs_ld_symbol *zs = romfs_ld_symbol_record(res, zname);
    if (!ss || !zs)
        return ROMFS_OK;
    uint64_t start, size;
    int rc = romfs_ld_lookup_symbol(res, sname, &start, imp->err);
    if (!rc)
        rc = romfs_ld_lookup_symbol(res, zname, &size, imp->err);
    if (rc) {
        imp_board_failed(imp, b->name);
        return romfs_error_prefix(imp->err, "%s board %s", b->port, b->name);
    }
    if (size == 0)
        return ROMFS_OK;
    /* the MEMORY region holding the partition, if one starts there */
    const char *region = NULL;
    for (size_t i = 0; i < res->n_regions; i++)
        if (res->regions[i].origin == start && res->regions[i].length == size)
            region = res->regions[i].name;
    for (size_t i = 0; !region && i < res->n_regions; i++)
        if (res->regions[i].origin == start && res->regions[i].length)
            region = res->regions[i].name;
    char *source = imp_printf("%s:%d: %s", imp_tree_relative(imp, ss->file), ss->line, sname);
    if (!source)
        return romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    struct romfs_partition *p = imp_add_partition(imp, b, index, start, size, erase, write, mmap, device, region, source);
    free(source);
    if (!p)
        return imp->err->code;
    *found = true;
    return ROMFS_OK;
}

static int cmp_region(const void *a, const void *b)
{
    const struct romfs_region *x = a, *y = b;
    if (x->origin != y->origin)
        return x->origin < y->origin ? -1 : 1;
    if (x->length != y->length)
        return x->length > y->length ? -1 : 1;
    return strcmp(x->name, y->name);
}

static bool flash_like(const struct romfs_ld_region *r)
{
    if (r->attrs && r->attrs[0])
        return !strchr(r->attrs, 'w') && !strchr(r->attrs, 'W');
    char lower[64];
    size_t i = 0;
    for (; r->name[i] && i + 1 < sizeof lower; i++)
        lower[i] = (char)tolower((unsigned char)r->name[i]);
    lower[i] = 0;
    return strstr(lower, "flash") || strstr(lower, "rom");
}

int imp_take_regions(struct importer *imp, struct romfs_board *b, const struct romfs_ld_result *res)
{
    size_t n = 0;
    for (size_t i = 0; i < res->n_regions; i++)
        n += flash_like(&res->regions[i]);
    b->flash = calloc(n ? n : 1, sizeof *b->flash);
    if (!b->flash)
        return romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < res->n_regions; i++) {
        const struct romfs_ld_region *r = &res->regions[i];
        if (!flash_like(r))
            continue;
        struct romfs_region *d = &b->flash[b->n_flash++];
        d->name = strdup(r->name);
        d->origin = r->origin;
        d->length = r->length;
        d->attrs = r->attrs && r->attrs[0] ? strdup(r->attrs) : NULL;
        if (!d->name)
            return romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    }
    if (b->n_flash > 1)
        qsort(b->flash, b->n_flash, sizeof *b->flash, cmp_region);
    return ROMFS_OK;
}

int imp_set_text(struct romfs_board *b, const struct romfs_ld_result *res, const char *region)
{
    const struct romfs_ld_region *r = romfs_ld_find_region(res, region);
    if (!r)
        return ROMFS_ERR_NOENT;
    free(b->text_region);
    b->text_region = strdup(region);
    b->text_start = r->origin;
    b->text_size = r->length;
    return b->text_region ? ROMFS_OK : ROMFS_ERR_NOMEM;
}

int imp_set_fs(struct romfs_board *b, const struct romfs_ld_result *res, const char *region)
{
    const struct romfs_ld_region *r = romfs_ld_find_region(res, region);
    if (!r)
        return ROMFS_ERR_NOENT;
    free(b->fs_region);
    b->fs_region = strdup(region);
    b->fs_start = r->origin;
    b->fs_size = r->length;
    return b->fs_region ? ROMFS_OK : ROMFS_ERR_NOMEM;
}

int imp_set_scripts(struct romfs_board *b, const struct ld_build *lb)
{
    size_t len = 1;
    for (size_t i = 0; i < lb->n_scripts; i++)
        len += strlen(lb->port) + strlen(lb->scripts[i]) + 8;
    free(b->linker_scripts);
    b->linker_scripts = calloc(1, len);
    if (!b->linker_scripts)
        return ROMFS_ERR_NOMEM;
    for (size_t i = 0; i < lb->n_scripts; i++) {
        char *end = b->linker_scripts + strlen(b->linker_scripts);
        snprintf(end, len - (size_t)(end - b->linker_scripts), "%sports/%s/%s", i ? " " : "", lb->port,
                 lb->scripts[i]);
    }
    return ROMFS_OK;
}

/* ---- driver ---- */

static int cmp_board(const void *a, const void *b)
{
    const struct romfs_board *x = a, *y = b;
    int c = strcmp(x->port, y->port);
    return c ? c : strcmp(x->name, y->name);
}

/* "vMAJOR.MINOR.MICRO[-PRERELEASE]" from py/mpconfig.h */
static char *tree_version(const struct importer *imp)
{
    char *path = imp_path(imp, "py/mpconfig.h");
    char *text = path ? imp_read_text(path) : NULL;
    free(path);
    if (!text)
        return NULL;
    uint64_t maj = 0, min = 0, mic = 0;
    char *v = NULL;
    if (imp_header_number(text, "MICROPY_VERSION_MAJOR", &maj) && imp_header_number(text, "MICROPY_VERSION_MINOR", &min) &&
        imp_header_number(text, "MICROPY_VERSION_MICRO", &mic)) {
        char *pre = romfs_c_define(text, "MICROPY_VERSION_PRERELEASE");
        uint64_t is_pre = 0;
        bool prerelease = pre && romfs_mk_number(pre, &is_pre) && is_pre;
        free(pre);
        v = imp_printf("v%u.%u.%u%s", (unsigned)maj, (unsigned)min, (unsigned)mic, prerelease ? "-preview" : "");
    }
    free(text);
    return v;
}

static const struct {
    const char *port;
    int (*fn)(struct importer *);
} port_importers[] = {
    { "alif", imp_port_alif },       { "cc3200", imp_port_cc3200 },   { "esp32", imp_port_esp32 },
    { "esp8266", imp_port_esp8266 }, { "psoc-edge", imp_port_psoc_edge },
    { "mimxrt", imp_port_mimxrt },   { "rp2", imp_port_rp2 },
    { "nrf", imp_port_nrf },         { "qemu", imp_port_qemu },       { "renesas-ra", imp_port_renesas_ra },
    { "samd", imp_port_samd },       { "stm32", imp_port_stm32 },
};

/* The messages of the boards left out, one per line. */
struct failure_text {
    char *text;
};

static int note_failure(struct importer *imp, struct failure_text *f, const char *port)
{
    char **skip = realloc(imp->skip, (imp->n_skip + 1) * sizeof *skip);
    if (!skip)
        return romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    imp->skip = skip;
    char *entry = imp_printf("%s/%s", port, imp->failed_board);
    char *text = imp_printf("%s%s%s", f->text ? f->text : "", f->text ? "\n" : "", imp->err->msg);
    if (!entry || !text) {
        free(entry);
        free(text);
        return romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
    }
    imp->skip[imp->n_skip++] = entry;
    free(f->text);
    f->text = text;
    free(imp->failed_board);
    imp->failed_board = NULL;
    return ROMFS_OK;
}

static void import_cleanup(struct importer *imp, struct failure_text *f)
{
    imp_free_list(imp->skip, imp->n_skip);
    imp->skip = NULL;
    imp->n_skip = 0;
    free(imp->failed_board);
    imp->failed_board = NULL;
    free(f->text);
    f->text = NULL;
}

int romfs_boards_import(const char *tree, const struct romfs_import_options *opt, struct romfs_boards *out,
                        struct romfs_error *err)
{
    memset(out, 0, sizeof *out);
    struct importer imp = { .tree = tree, .db = out, .err = err };
    struct failure_text failures = { NULL };
    char *ports = imp_path(&imp, "ports");
    int rc = ROMFS_OK;
    struct stat st;
    bool ok = ports && stat(ports, &st) == 0 && S_ISDIR(st.st_mode);
    free(ports);
    if (!ok)
        return romfs_set_error(err, ROMFS_ERR_NOENT, "%s: not a MicroPython source tree (no ports/ directory)", tree);
    size_t n_ports = sizeof port_importers / sizeof port_importers[0];
    bool matched = false;
    for (size_t i = 0; i < n_ports; i++) {
        if (opt && opt->only_port && strcmp(opt->only_port, port_importers[i].port) != 0)
            continue;
        matched = true;
        char *dir = imp_path(&imp, "ports/%s/boards", port_importers[i].port);
        bool present = dir && stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
        free(dir);
        if (!present)
            continue; /* a partial tree (e.g. a fixture) need not hold every port */
        for (;;) {
            size_t before = out->n;
            imp.cpp_cache = romfs_ld_cpp_cache_new();   /* NULL only means no reuse */
            rc = port_importers[i].fn(&imp);
            romfs_ld_cpp_cache_free(imp.cpp_cache);
            imp.cpp_cache = NULL;
            free(imp.link);
            imp.link = NULL;
            /* One board's scripts failed: report it, leave it out, import the port's
               other boards again without it. */
            if (rc && rc != ROMFS_ERR_NOMEM && imp.failed_board &&
                !skipped(&imp, port_importers[i].port, imp.failed_board) &&
                (rc = note_failure(&imp, &failures, port_importers[i].port)) == ROMFS_OK) {
                for (size_t k = before; k < out->n; k++)
                    romfs_board_free(&out->boards[k]);
                out->n = before;
                continue;
            }
            break;
        }
        free(imp.failed_board);
        imp.failed_board = NULL;
        if (rc)
            break;
    }
    if (rc) {
        romfs_boards_free(out);
        import_cleanup(&imp, &failures);
        return rc;
    }
    if (opt && opt->only_port && !matched) {
        romfs_boards_free(out);
        import_cleanup(&imp, &failures);
        return romfs_set_error(err, ROMFS_ERR_INVAL, "unknown port '%s'", opt->only_port);
    }
    /* a name two ports share (qemu's MICROBIT emulates nrf's): the emulator's entry is
       called "qemu/NAME", so every name stays unique */
    for (size_t i = 0; i < out->n; i++) {
        struct romfs_board *b = &out->boards[i];
        if (strcmp(b->port, "qemu") != 0)
            continue;
        bool shared = false;
        for (size_t k = 0; k < out->n; k++)
            shared = shared || (k != i && strcasecmp(out->boards[k].name, b->name) == 0);
        char *qualified = shared ? imp_printf("qemu/%s", b->name) : NULL;
        if (qualified) {
            free(b->name);
            b->name = qualified;
        }
    }
    if (out->n > 1)
        qsort(out->boards, out->n, sizeof *out->boards, cmp_board);
    out->micropython_version = opt && opt->version ? strdup(opt->version) : tree_version(&imp);
    out->micropython_commit = opt && opt->commit ? strdup(opt->commit) : NULL;
    rc = ROMFS_OK;
    if (imp.n_skip) {
        if (imp.n_skip == 1)
            rc = romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s", failures.text);
        else
            rc = romfs_set_error(err, ROMFS_ERR_CORRUPT, "%zu boards not imported:\n%s", imp.n_skip, failures.text);
    }
    import_cleanup(&imp, &failures);
    return rc;
}
