/* boards/db.c: boards.json loading, lookup and deterministic serialisation (cJSON). */
#include "boards/db.h"
#include "base/buf.h"
#include "base/suggest.h"
#include "base/range.h"
#include "base/file.h"
#include "base/template.h"

#include <cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- freeing ---- */

void romfs_board_free(struct romfs_board *b)
{
    if (!b)
        return;
    free(b->name);
    free(b->port);
    free(b->mcu);
    free(b->variant);
    for (size_t i = 0; i < b->n_flash; i++) {
        free(b->flash[i].name);
        free(b->flash[i].attrs);
    }
    free(b->flash);
    for (size_t i = 0; i < b->n_partitions; i++) {
        free(b->partitions[i].source);
        free(b->partitions[i].region);
        free(b->partitions[i].device);
        free(b->partitions[i].core);
        free(b->partitions[i].link);
    }
    free(b->partitions);
    free(b->repl_usb);
    free(b->dfu_usb);
    free(b->dfu_layout);
    free(b->dfu_kind);
    free(b->openocd_target);
    free(b->pyocd_target);
    free(b->erase_map);
    free(b->text_region);
    free(b->fs_region);
    free(b->romfs_option);
    free(b->linker_scripts);
    memset(b, 0, sizeof *b);
}

void romfs_boards_free(struct romfs_boards *db)
{
    if (!db)
        return;
    for (size_t i = 0; i < db->n; i++)
        romfs_board_free(&db->boards[i]);
    free(db->boards);
    free(db->micropython_version);
    free(db->micropython_commit);
    memset(db, 0, sizeof *db);
}

/* ---- lookup ---- */

const struct romfs_board *romfs_boards_find(const struct romfs_boards *db, const char *name)
{
    if (!db || !name)
        return NULL;
    for (size_t i = 0; i < db->n; i++)
        if (db->boards[i].name && strcasecmp(db->boards[i].name, name) == 0)
            return &db->boards[i];
    return NULL;
}

struct romfs_partition *romfs_board_add_partition(struct romfs_board *b)
{
    struct romfs_partition *np = realloc(b->partitions, (b->n_partitions + 1) * sizeof *np);
    if (!np)
        return NULL;
    b->partitions = np;
    struct romfs_partition *p = &np[b->n_partitions++];
    memset(p, 0, sizeof *p);
    return p;
}

const char *romfs_boards_suggest(const struct romfs_boards *db, const char *name)
{
    struct romfs_suggest s;
    romfs_suggest_init(&s, name);
    for (size_t i = 0; db && i < db->n; i++)
        romfs_suggest_consider(&s, db->boards[i].name);
    return s.best;
}

const struct romfs_board *romfs_boards_lookup(const struct romfs_boards *db, const char *name,
                                              struct romfs_error *err)
{
    const struct romfs_board *b = romfs_boards_find(db, name);
    if (b)
        return b;
    const char *close = romfs_boards_suggest(db, name);
    if (close)
        romfs_set_error(err, ROMFS_ERR_NOENT, "unknown board '%s' (did you mean '%s'?)", name, close);
    else
        romfs_set_error(err, ROMFS_ERR_NOENT, "unknown board '%s'", name);
    romfs_error_need(err, ROMFS_NEED_BOARD_NAME);
    return NULL;
}

const struct romfs_partition *romfs_board_partition(const struct romfs_board *b, int index)
{
    if (!b)
        return NULL;
    for (size_t i = 0; i < b->n_partitions; i++)
        if (b->partitions[i].index == index)
            return &b->partitions[i];
    return NULL;
}

const struct romfs_partition *romfs_board_partition_core(const struct romfs_board *b, int index,
                                                         const char *core)
{
    if (!core)
        return romfs_board_partition(b, index);
    for (size_t i = 0; b && i < b->n_partitions; i++)
        if (b->partitions[i].index == index && b->partitions[i].core &&
            strcasecmp(b->partitions[i].core, core) == 0)
            return &b->partitions[i];
    return NULL;
}

uint32_t romfs_board_erase_block_at(const struct romfs_board *b, uint64_t addr)
{
    if (!b)
        return 0;
    for (size_t i = 0; i < b->n_erase_map; i++) {
        const struct romfs_erase_range *r = &b->erase_map[i];
        if (addr >= r->start && addr - r->start < r->size)
            return r->block;
    }
    for (size_t i = 0; i < b->n_partitions; i++) {
        const struct romfs_partition *p = &b->partitions[i];
        if (addr >= p->start && addr - p->start < p->size)
            return p->erase_block;
    }
    return b->erase_block;
}

/* ---- parsing ---- */

struct parse_ctx {
    const char *what;         /* file name for messages */
    const char *board;        /* current board, for messages */
    struct romfs_error *err;
};

static int schema_error(struct parse_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int schema_error(struct parse_ctx *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->board)
        return romfs_set_error(c->err, ROMFS_ERR_CORRUPT, "%s: board %s: %s", c->what, c->board, msg);
    return romfs_set_error(c->err, ROMFS_ERR_CORRUPT, "%s: %s", c->what, msg);
}

/* A number given as a JSON integer or as a string "0x..."/decimal. */
static int get_u64(struct parse_ctx *c, const cJSON *obj, const char *key, bool required, uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return schema_error(c, "missing \"%s\"", key);
        return ROMFS_OK;
    }
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d < 0 || d > 9007199254740992.0 || d != (double)(uint64_t)d)
            return schema_error(c, "\"%s\" is not a non-negative integer", key);
        *out = (uint64_t)d;
        return ROMFS_OK;
    }
    if (cJSON_IsString(v) && v->valuestring[0] && !isspace((unsigned char)v->valuestring[0]) &&
        v->valuestring[0] != '-' && v->valuestring[0] != '+') {
        errno = 0;
        char *end;
        unsigned long long x = strtoull(v->valuestring, &end, 0);
        if (!errno && *end == 0) {
            *out = x;
            return ROMFS_OK;
        }
    }
    return schema_error(c, "\"%s\" must be an integer or a \"0x...\" string", key);
}

static int get_u32(struct parse_ctx *c, const cJSON *obj, const char *key, bool required, uint32_t *out)
{
    uint64_t v = *out;
    int rc = get_u64(c, obj, key, required, &v);
    if (rc)
        return rc;
    if (v > UINT32_MAX)
        return schema_error(c, "\"%s\" is out of range", key);
    *out = (uint32_t)v;
    return ROMFS_OK;
}

static int get_str(struct parse_ctx *c, const cJSON *obj, const char *key, bool required, char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return schema_error(c, "missing \"%s\"", key);
        return ROMFS_OK;
    }
    if (!cJSON_IsString(v))
        return schema_error(c, "\"%s\" must be a string", key);
    free(*out);
    *out = strdup(v->valuestring);
    if (!*out)
        return romfs_set_error(c->err, ROMFS_ERR_NOMEM, "out of memory");
    return ROMFS_OK;
}

static int get_bool(struct parse_ctx *c, const cJSON *obj, const char *key, bool *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v))
        return ROMFS_OK;
    if (!cJSON_IsBool(v))
        return schema_error(c, "\"%s\" must be true or false", key);
    *out = cJSON_IsTrue(v);
    return ROMFS_OK;
}

static const cJSON *get_obj(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsObject(v) ? v : NULL;
}

static int array_of(struct parse_ctx *c, const cJSON *obj, const char *key, const cJSON **arr, size_t *n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *arr = NULL;
    *n = 0;
    if (!v || cJSON_IsNull(v))
        return ROMFS_OK;
    if (!cJSON_IsArray(v))
        return schema_error(c, "\"%s\" must be an array", key);
    *arr = v;
    *n = (size_t)cJSON_GetArraySize(v);
    return ROMFS_OK;
}

static bool is_pow2(uint64_t x)
{
    return x && !(x & (x - 1));
}

static int parse_partition(struct parse_ctx *c, const cJSON *j, struct romfs_partition *p)
{
    int rc;
    uint64_t index = 0;
    if (!cJSON_IsObject(j))
        return schema_error(c, "romfs entries must be objects");
    if ((rc = get_u64(c, j, "index", true, &index)) || (rc = get_u64(c, j, "start", true, &p->start)) ||
        (rc = get_u64(c, j, "size", true, &p->size)) ||
        (rc = get_u32(c, j, "erase_block", true, &p->erase_block)) ||
        (rc = get_u32(c, j, "write_block", true, &p->write_block)) || (rc = get_bool(c, j, "mmap", &p->mmap)) ||
        (rc = get_str(c, j, "source", false, &p->source)) || (rc = get_str(c, j, "region", false, &p->region)) ||
        (rc = get_str(c, j, "device", false, &p->device)) || (rc = get_str(c, j, "core", false, &p->core)) ||
        (rc = get_str(c, j, "link", false, &p->link)))
        return rc;
    if (index > 15)
        return schema_error(c, "partition index %" PRIu64 " out of range", index);
    p->index = (int)index;
    if (!is_pow2(p->erase_block) || !is_pow2(p->write_block))
        return schema_error(c, "partition %d: erase_block and write_block must be powers of two", p->index);
    if (p->size == 0)
        return schema_error(c, "partition %d: empty extent", p->index);
    if (!romfs_range_fits_bits(p->start, p->size, ROMFS_ADDRESS_BITS))
        return schema_error(c, "partition %d: 0x%08" PRIx64 " + 0x%" PRIx64 " ends past the %d-bit address space",
                            p->index, p->start, p->size, ROMFS_ADDRESS_BITS);
    return ROMFS_OK;
}

static int parse_board(struct parse_ctx *c, const cJSON *j, struct romfs_board *b)
{
    int rc;
    const cJSON *arr;
    size_t n;
    if (!cJSON_IsObject(j))
        return schema_error(c, "\"boards\" entries must be objects");
    if ((rc = get_str(c, j, "board", true, &b->name)))
        return rc;
    c->board = b->name;
    b->dfu_alt = -1;
    if ((rc = get_str(c, j, "port", true, &b->port)) || (rc = get_str(c, j, "mcu", false, &b->mcu)) ||
        (rc = get_str(c, j, "variant", false, &b->variant)) ||
        (rc = get_str(c, j, "romfs_option", false, &b->romfs_option)))
        return rc;

    const cJSON *flash = get_obj(j, "flash");
    if (flash) {
        if ((rc = get_u64(c, flash, "base", false, &b->flash_base)) ||
            (rc = get_u64(c, flash, "size", false, &b->flash_size)) ||
            (rc = get_u32(c, flash, "erase_block", false, &b->erase_block)) ||
            (rc = get_u32(c, flash, "write_block", false, &b->write_block)))
            return rc;
        if (!romfs_range_fits_bits(b->flash_base, b->flash_size, ROMFS_ADDRESS_BITS))
            return schema_error(c, "flash 0x%08" PRIx64 " + 0x%" PRIx64 " ends past the %d-bit address space",
                                b->flash_base, b->flash_size, ROMFS_ADDRESS_BITS);
        if ((rc = array_of(c, flash, "erase_map", &arr, &n)))
            return rc;
        if (n) {
            b->erase_map = calloc(n, sizeof *b->erase_map);
            if (!b->erase_map)
                return romfs_set_error(c->err, ROMFS_ERR_NOMEM, "out of memory");
            b->n_erase_map = n;
            for (size_t i = 0; i < n; i++) {
                const cJSON *e = cJSON_GetArrayItem(arr, (int)i);
                if (!cJSON_IsObject(e))
                    return schema_error(c, "erase_map entries must be objects");
                if ((rc = get_u64(c, e, "start", true, &b->erase_map[i].start)) ||
                    (rc = get_u64(c, e, "size", true, &b->erase_map[i].size)) ||
                    (rc = get_u32(c, e, "block", true, &b->erase_map[i].block)))
                    return rc;
                if (!romfs_range_fits_bits(b->erase_map[i].start, b->erase_map[i].size, ROMFS_ADDRESS_BITS))
                    return schema_error(c, "erase_map entry %zu ends past the %d-bit address space", i,
                                        ROMFS_ADDRESS_BITS);
            }
        }
    }
    if ((rc = array_of(c, j, "regions", &arr, &n)))
        return rc;
    if (n) {
        b->flash = calloc(n, sizeof *b->flash);
        if (!b->flash)
            return romfs_set_error(c->err, ROMFS_ERR_NOMEM, "out of memory");
        b->n_flash = n;
        for (size_t i = 0; i < n; i++) {
            const cJSON *e = cJSON_GetArrayItem(arr, (int)i);
            if (!cJSON_IsObject(e))
                return schema_error(c, "regions entries must be objects");
            if ((rc = get_str(c, e, "name", true, &b->flash[i].name)) ||
                (rc = get_u64(c, e, "origin", true, &b->flash[i].origin)) ||
                (rc = get_u64(c, e, "length", true, &b->flash[i].length)) ||
                (rc = get_str(c, e, "attrs", false, &b->flash[i].attrs)))
                return rc;
            if (!romfs_range_fits_bits(b->flash[i].origin, b->flash[i].length, ROMFS_ADDRESS_BITS))
                return schema_error(c, "region %s ends past the %d-bit address space", b->flash[i].name,
                                    ROMFS_ADDRESS_BITS);
        }
    }
    const cJSON *text = get_obj(j, "text");
    if (text && ((rc = get_str(c, text, "region", false, &b->text_region)) ||
                 (rc = get_u64(c, text, "start", false, &b->text_start)) ||
                 (rc = get_u64(c, text, "size", false, &b->text_size))))
        return rc;
    const cJSON *fs = get_obj(j, "fs");
    if (fs && ((rc = get_str(c, fs, "region", false, &b->fs_region)) ||
               (rc = get_u64(c, fs, "start", false, &b->fs_start)) ||
               (rc = get_u64(c, fs, "size", false, &b->fs_size))))
        return rc;
    if (!romfs_range_fits_bits(b->text_start, b->text_size, ROMFS_ADDRESS_BITS) ||
        !romfs_range_fits_bits(b->fs_start, b->fs_size, ROMFS_ADDRESS_BITS))
        return schema_error(c, "text or fs extent ends past the %d-bit address space", ROMFS_ADDRESS_BITS);
    if ((rc = array_of(c, j, "romfs", &arr, &n)))
        return rc;
    if (n) {
        b->partitions = calloc(n, sizeof *b->partitions);
        if (!b->partitions)
            return romfs_set_error(c->err, ROMFS_ERR_NOMEM, "out of memory");
        b->n_partitions = n;
        for (size_t i = 0; i < n; i++)
            if ((rc = parse_partition(c, cJSON_GetArrayItem(arr, (int)i), &b->partitions[i])))
                return rc;
        for (size_t i = 0; i < n; i++)
            for (size_t k = i + 1; k < n; k++)
                if (b->partitions[i].index == b->partitions[k].index &&
                    !(b->partitions[i].core && b->partitions[k].core &&
                      strcmp(b->partitions[i].core, b->partitions[k].core) != 0))
                    return schema_error(c, "partition index %d appears twice", b->partitions[i].index);
    }
    const cJSON *repl = get_obj(j, "repl");
    if (repl && (rc = get_str(c, repl, "usb", false, &b->repl_usb)))
        return rc;
    const cJSON *dfu = get_obj(j, "dfu");
    if (dfu) {
        uint64_t alt = 0;
        if ((rc = get_str(c, dfu, "usb", true, &b->dfu_usb)) || (rc = get_u64(c, dfu, "alt", false, &alt)) ||
            (rc = get_str(c, dfu, "kind", false, &b->dfu_kind)) ||
            (rc = get_str(c, dfu, "layout", false, &b->dfu_layout)))
            return rc;
        if (alt > 255)
            return schema_error(c, "dfu alt %" PRIu64 " out of range", alt);
        b->dfu_alt = (int)alt;
    }
    const cJSON *swd = get_obj(j, "swd");
    if (swd && ((rc = get_str(c, swd, "openocd", false, &b->openocd_target)) ||
                (rc = get_str(c, swd, "pyocd", false, &b->pyocd_target))))
        return rc;
    const cJSON *uf2 = get_obj(j, "uf2");
    if (uf2) {
        if ((rc = get_u32(c, uf2, "family", true, &b->uf2_family)))
            return rc;
        b->has_uf2 = true;
    }
    if ((rc = array_of(c, j, "linker_scripts", &arr, &n)))
        return rc;
    if (n) {
        size_t len = 1;
        for (size_t i = 0; i < n; i++) {
            const cJSON *s = cJSON_GetArrayItem(arr, (int)i);
            if (!cJSON_IsString(s))
                return schema_error(c, "linker_scripts entries must be strings");
            len += strlen(s->valuestring) + 1;
        }
        b->linker_scripts = calloc(1, len);
        if (!b->linker_scripts)
            return romfs_set_error(c->err, ROMFS_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
            if (i)
                strcat(b->linker_scripts, " ");
            strcat(b->linker_scripts, cJSON_GetArrayItem(arr, (int)i)->valuestring);
        }
    }
    c->board = NULL;
    return ROMFS_OK;
}

int romfs_boards_parse(const char *text, size_t len, const char *what, struct romfs_boards *out,
                       struct romfs_error *err)
{
    memset(out, 0, sizeof *out);
    struct parse_ctx c = { what ? what : "boards.json", NULL, err };
    const char *endp = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &endp, false);
    if (!root) {
        size_t at = endp && endp >= text ? (size_t)(endp - text) : 0;
        return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: invalid JSON near byte %zu", c.what, at);
    }
    int rc = ROMFS_OK;
    const cJSON *boards;
    size_t n = 0;
    if (!cJSON_IsObject(root)) {
        rc = schema_error(&c, "top level must be an object");
        goto out;
    }
    const cJSON *mp = get_obj(root, "micropython");
    if (mp && ((rc = get_str(&c, mp, "version", false, &out->micropython_version)) ||
               (rc = get_str(&c, mp, "commit", false, &out->micropython_commit))))
        goto out;
    if ((rc = array_of(&c, root, "boards", &boards, &n)))
        goto out;
    if (!boards) {
        rc = schema_error(&c, "missing \"boards\" array");
        goto out;
    }
    out->boards = calloc(n ? n : 1, sizeof *out->boards);
    if (!out->boards) {
        rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        out->n = i + 1;
        if ((rc = parse_board(&c, cJSON_GetArrayItem(boards, (int)i), &out->boards[i])))
            goto out;
        for (size_t k = 0; k < i; k++)
            if (strcasecmp(out->boards[k].name, out->boards[i].name) == 0) {
                c.board = NULL;
                rc = schema_error(&c, "board %s appears twice", out->boards[i].name);
                goto out;
            }
    }
out:
    cJSON_Delete(root);
    if (rc)
        romfs_boards_free(out);
    return rc;
}

int romfs_boards_load(const char *path, struct romfs_boards *out, struct romfs_error *err)
{
    memset(out, 0, sizeof *out);
    if (!path || !*path) {
        const char *env = getenv("ROMFS_BOARDS");
        if (env && *env)
            path = env;
    }
    if (!path) {
        size_t len = 0;
        const char *text = romfs_template("boards.json", &len);
        if (!text)
            return romfs_set_error(err, ROMFS_ERR_NOENT, "no boards.json embedded in this build");
        return romfs_boards_parse(text, len, "boards.json (built in)", out, err);
    }
    uint8_t *buf;
    size_t len;
    int rc = romfs_read_file(path, &buf, &len, err);
    if (rc)
        return rc;
    rc = romfs_boards_parse((const char *)buf, len, path, out, err);
    free(buf);
    return rc;
}

/* ---- serialisation: a fixed, reviewable layout ---- */

/* Every piece goes into one buffer whose failure mark sticks (base/buf.h), checked once
 * at the end by romfs_buf_take. */

static void sb_str(struct romfs_buf *s, const char *text)
{
    romfs_buf_printf(s, "\"");
    for (const unsigned char *q = (const unsigned char *)text; *q; q++) {
        if (*q == '"' || *q == '\\')
            romfs_buf_printf(s, "\\%c", *q);
        else if (*q < 0x20)
            romfs_buf_printf(s, "\\u%04x", *q);
        else
            romfs_buf_printf(s, "%c", *q);
    }
    romfs_buf_printf(s, "\"");
}

/* ", "key": "value"" when value is set. */
static void sb_kv_str(struct romfs_buf *s, bool *first, const char *key, const char *value)
{
    if (!value)
        return;
    romfs_buf_printf(s, "%s\"%s\": ", *first ? "" : ", ", key);
    sb_str(s, value);
    *first = false;
}

static void sb_kv_hex(struct romfs_buf *s, bool *first, const char *key, uint64_t v)
{
    romfs_buf_printf(s, "%s\"%s\": \"0x%08" PRIx64 "\"", *first ? "" : ", ", key, v);
    *first = false;
}

static void sb_kv_int(struct romfs_buf *s, bool *first, const char *key, uint64_t v)
{
    romfs_buf_printf(s, "%s\"%s\": %" PRIu64, *first ? "" : ", ", key, v);
    *first = false;
}

/* One board object as boards.json writes it, without its closing brace. */
static void emit_board(struct romfs_buf *s, const struct romfs_board *b)
{
    bool f = true;
    romfs_buf_printf(s, "    {\n      ");
    sb_kv_str(s, &f, "board", b->name);
    sb_kv_str(s, &f, "port", b->port);
    sb_kv_str(s, &f, "mcu", b->mcu);
    sb_kv_str(s, &f, "variant", b->variant);
    romfs_buf_printf(s, ",\n      \"flash\": {");
    f = true;
    sb_kv_hex(s, &f, "base", b->flash_base);
    sb_kv_hex(s, &f, "size", b->flash_size);
    sb_kv_int(s, &f, "erase_block", b->erase_block);
    sb_kv_int(s, &f, "write_block", b->write_block);
    if (b->n_erase_map) {
        romfs_buf_printf(s, ", \"erase_map\": [");
        for (size_t i = 0; i < b->n_erase_map; i++) {
            bool g = true;
            romfs_buf_printf(s, "%s{", i ? ", " : "");
            sb_kv_hex(s, &g, "start", b->erase_map[i].start);
            sb_kv_hex(s, &g, "size", b->erase_map[i].size);
            sb_kv_int(s, &g, "block", b->erase_map[i].block);
            romfs_buf_printf(s, "}");
        }
        romfs_buf_printf(s, "]");
    }
    romfs_buf_printf(s, "}");
    if (b->text_region || b->text_size) {
        romfs_buf_printf(s, ",\n      \"text\": {");
        f = true;
        sb_kv_str(s, &f, "region", b->text_region);
        sb_kv_hex(s, &f, "start", b->text_start);
        sb_kv_hex(s, &f, "size", b->text_size);
        romfs_buf_printf(s, "}");
    }
    if (b->fs_region || b->fs_size) {
        romfs_buf_printf(s, ",\n      \"fs\": {");
        f = true;
        sb_kv_str(s, &f, "region", b->fs_region);
        sb_kv_hex(s, &f, "start", b->fs_start);
        sb_kv_hex(s, &f, "size", b->fs_size);
        romfs_buf_printf(s, "}");
    }
    romfs_buf_printf(s, ",\n      \"romfs\": [");
    for (size_t i = 0; i < b->n_partitions; i++) {
        const struct romfs_partition *p = &b->partitions[i];
        romfs_buf_printf(s, "%s\n        {", i ? "," : "");
        f = true;
        sb_kv_int(s, &f, "index", (uint64_t)p->index);
        sb_kv_hex(s, &f, "start", p->start);
        sb_kv_hex(s, &f, "size", p->size);
        sb_kv_int(s, &f, "erase_block", p->erase_block);
        sb_kv_int(s, &f, "write_block", p->write_block);
        romfs_buf_printf(s, ", \"mmap\": %s", p->mmap ? "true" : "false");
        sb_kv_str(s, &f, "core", p->core);
        sb_kv_str(s, &f, "device", p->device);
        sb_kv_str(s, &f, "region", p->region);
        sb_kv_str(s, &f, "source", p->source);
        sb_kv_str(s, &f, "link", p->link);
        romfs_buf_printf(s, "}");
    }
    romfs_buf_printf(s, "%s]", b->n_partitions ? "\n      " : "");
    if (b->romfs_option) {
        romfs_buf_printf(s, ",\n      ");
        f = true;
        sb_kv_str(s, &f, "romfs_option", b->romfs_option);
    }
    if (b->n_flash) {
        romfs_buf_printf(s, ",\n      \"regions\": [");
        for (size_t i = 0; i < b->n_flash; i++) {
            const struct romfs_region *r = &b->flash[i];
            romfs_buf_printf(s, "%s\n        {", i ? "," : "");
            f = true;
            sb_kv_str(s, &f, "name", r->name);
            sb_kv_hex(s, &f, "origin", r->origin);
            sb_kv_hex(s, &f, "length", r->length);
            sb_kv_str(s, &f, "attrs", r->attrs);
            romfs_buf_printf(s, "}");
        }
        romfs_buf_printf(s, "\n      ]");
    }
    if (b->linker_scripts) {
        romfs_buf_printf(s, ",\n      \"linker_scripts\": [");
        const char *q = b->linker_scripts;
        bool first = true;
        while (*q) {
            while (*q == ' ')
                q++;
            size_t n = strcspn(q, " ");
            if (!n)
                break;
            char *one = strndup(q, n);
            if (!one) {
                s->failed = true;
                return;
            }
            romfs_buf_printf(s, "%s", first ? "" : ", ");
            sb_str(s, one);
            free(one);
            first = false;
            q += n;
        }
        romfs_buf_printf(s, "]");
    }
    if (b->repl_usb) {
        romfs_buf_printf(s, ",\n      \"repl\": {");
        f = true;
        sb_kv_str(s, &f, "usb", b->repl_usb);
        romfs_buf_printf(s, "}");
    }
    if (b->dfu_usb) {
        romfs_buf_printf(s, ",\n      \"dfu\": {");
        f = true;
        sb_kv_str(s, &f, "usb", b->dfu_usb);
        sb_kv_int(s, &f, "alt", (uint64_t)(b->dfu_alt < 0 ? 0 : b->dfu_alt));
        sb_kv_str(s, &f, "kind", b->dfu_kind);
        sb_kv_str(s, &f, "layout", b->dfu_layout);
        romfs_buf_printf(s, "}");
    }
    if (b->openocd_target || b->pyocd_target) {
        romfs_buf_printf(s, ",\n      \"swd\": {");
        f = true;
        sb_kv_str(s, &f, "openocd", b->openocd_target);
        sb_kv_str(s, &f, "pyocd", b->pyocd_target);
        romfs_buf_printf(s, "}");
    }
    if (b->has_uf2) {
        romfs_buf_printf(s, ",\n      \"uf2\": {");
        f = true;
        sb_kv_hex(s, &f, "family", b->uf2_family);
        romfs_buf_printf(s, "}");
    }
}

char *romfs_board_to_json(const struct romfs_board *b, const char *extra_key, const char *extra_json)
{
    struct romfs_buf s = { 0 };
    emit_board(&s, b);
    if (extra_key && extra_json) {
        romfs_buf_printf(&s, ",\n      ");
        sb_str(&s, extra_key);
        romfs_buf_printf(&s, ": %s", extra_json);
    }
    romfs_buf_printf(&s, "\n    }\n");
    return romfs_buf_take(&s);
}

char *romfs_boards_to_json(const struct romfs_boards *db)
{
    struct romfs_buf s = { 0 };
    bool f = true;
    romfs_buf_printf(&s, "{\n  \"schema\": 1,\n  \"micropython\": {");
    sb_kv_str(&s, &f, "version", db->micropython_version);
    sb_kv_str(&s, &f, "commit", db->micropython_commit);
    romfs_buf_printf(&s, "},\n  \"boards\": [");
    for (size_t i = 0; i < db->n; i++) {
        romfs_buf_printf(&s, "%s\n", i ? "," : "");
        emit_board(&s, &db->boards[i]);
        romfs_buf_printf(&s, "\n    }");
    }
    romfs_buf_printf(&s, "%s]\n}\n", db->n ? "\n  " : "");
    return romfs_buf_take(&s);
}
