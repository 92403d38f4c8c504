/* boards/db.c: boards.json loading, lookup and deterministic serialisation (cJSON). */
#include "boards/db.h"
#include "boards/db_internal.h"
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
        free(b->partitions[i].api);
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
    db_free_flashmap(b);
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
    free(db->source);
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

static bool is_pow2(uint64_t x)
{
    return x && !(x & (x - 1));
}

static int parse_partition(struct parse_ctx *c, const cJSON *j, struct romfs_partition *p)
{
    int rc;
    uint64_t index = 0;
    if (!cJSON_IsObject(j))
        return db_schema_error(c, "romfs entries must be objects");
    if ((rc = db_get_u64(c, j, "index", true, &index)) || (rc = db_get_u64(c, j, "start", true, &p->start)) ||
        (rc = db_get_u64(c, j, "size", true, &p->size)) ||
        (rc = db_get_u32(c, j, "erase_block", true, &p->erase_block)) ||
        (rc = db_get_u32(c, j, "write_block", true, &p->write_block)) || (rc = db_get_bool(c, j, "mmap", &p->mmap)) ||
        (rc = db_get_str(c, j, "source", false, &p->source)) || (rc = db_get_str(c, j, "region", false, &p->region)) ||
        (rc = db_get_str(c, j, "device", false, &p->device)) || (rc = db_get_str(c, j, "core", false, &p->core)) ||
        (rc = db_get_str(c, j, "link", false, &p->link)) || (rc = db_get_str(c, j, "api", false, &p->api)))
        return rc;
    if (index > 15)
        return db_schema_error(c, "partition index %" PRIu64 " out of range", index);
    p->index = (int)index;
    if (!is_pow2(p->erase_block) || !is_pow2(p->write_block))
        return db_schema_error(c, "partition %d: erase_block and write_block must be powers of two", p->index);
    if (p->size == 0)
        return db_schema_error(c, "partition %d: empty extent", p->index);
    if (!romfs_range_fits_bits(p->start, p->size, ROMFS_ADDRESS_BITS))
        return db_schema_error(c, "partition %d: 0x%08" PRIx64 " + 0x%" PRIx64 " ends past the %d-bit address space",
                            p->index, p->start, p->size, ROMFS_ADDRESS_BITS);
    return ROMFS_OK;
}

static int parse_board(struct parse_ctx *c, const cJSON *j, struct romfs_board *b)
{
    int rc;
    const cJSON *arr;
    size_t n;
    if (!cJSON_IsObject(j))
        return db_schema_error(c, "\"boards\" entries must be objects");
    if ((rc = db_get_str(c, j, "board", true, &b->name)))
        return rc;
    c->board = b->name;
    b->dfu_alt = -1;
    if ((rc = db_get_str(c, j, "port", true, &b->port)) || (rc = db_get_str(c, j, "mcu", false, &b->mcu)) ||
        (rc = db_get_str(c, j, "variant", false, &b->variant)) ||
        (rc = db_get_str(c, j, "romfs_option", false, &b->romfs_option)))
        return rc;

    const cJSON *flash = db_get_obj(j, "flash");
    if (flash) {
        if ((rc = db_get_u64(c, flash, "base", false, &b->flash_base)) ||
            (rc = db_get_u64(c, flash, "size", false, &b->flash_size)) ||
            (rc = db_get_u32(c, flash, "erase_block", false, &b->erase_block)) ||
            (rc = db_get_u32(c, flash, "write_block", false, &b->write_block)))
            return rc;
        if (!romfs_range_fits_bits(b->flash_base, b->flash_size, ROMFS_ADDRESS_BITS))
            return db_schema_error(c, "flash 0x%08" PRIx64 " + 0x%" PRIx64 " ends past the %d-bit address space",
                                b->flash_base, b->flash_size, ROMFS_ADDRESS_BITS);
        if ((rc = db_array_of(c, flash, "erase_map", &arr, &n)))
            return rc;
        if (n) {
            b->erase_map = calloc(n, sizeof *b->erase_map);
            if (!b->erase_map)
                return romfs_set_error(c->err, ROMFS_ERR_NOMEM, "out of memory");
            b->n_erase_map = n;
            for (size_t i = 0; i < n; i++) {
                const cJSON *e = cJSON_GetArrayItem(arr, (int)i);
                if (!cJSON_IsObject(e))
                    return db_schema_error(c, "erase_map entries must be objects");
                if ((rc = db_get_u64(c, e, "start", true, &b->erase_map[i].start)) ||
                    (rc = db_get_u64(c, e, "size", true, &b->erase_map[i].size)) ||
                    (rc = db_get_u32(c, e, "block", true, &b->erase_map[i].block)))
                    return rc;
                if (!romfs_range_fits_bits(b->erase_map[i].start, b->erase_map[i].size, ROMFS_ADDRESS_BITS))
                    return db_schema_error(c, "erase_map entry %zu ends past the %d-bit address space", i,
                                        ROMFS_ADDRESS_BITS);
            }
        }
    }
    if ((rc = db_array_of(c, j, "regions", &arr, &n)))
        return rc;
    if (n) {
        b->flash = calloc(n, sizeof *b->flash);
        if (!b->flash)
            return romfs_set_error(c->err, ROMFS_ERR_NOMEM, "out of memory");
        b->n_flash = n;
        for (size_t i = 0; i < n; i++) {
            const cJSON *e = cJSON_GetArrayItem(arr, (int)i);
            if (!cJSON_IsObject(e))
                return db_schema_error(c, "regions entries must be objects");
            if ((rc = db_get_str(c, e, "name", true, &b->flash[i].name)) ||
                (rc = db_get_u64(c, e, "origin", true, &b->flash[i].origin)) ||
                (rc = db_get_u64(c, e, "length", true, &b->flash[i].length)) ||
                (rc = db_get_str(c, e, "attrs", false, &b->flash[i].attrs)))
                return rc;
            if (!romfs_range_fits_bits(b->flash[i].origin, b->flash[i].length, ROMFS_ADDRESS_BITS))
                return db_schema_error(c, "region %s ends past the %d-bit address space", b->flash[i].name,
                                    ROMFS_ADDRESS_BITS);
        }
    }
    const cJSON *text = db_get_obj(j, "text");
    if (text && ((rc = db_get_str(c, text, "region", false, &b->text_region)) ||
                 (rc = db_get_u64(c, text, "start", false, &b->text_start)) ||
                 (rc = db_get_u64(c, text, "size", false, &b->text_size))))
        return rc;
    const cJSON *fs = db_get_obj(j, "fs");
    if (fs && ((rc = db_get_str(c, fs, "region", false, &b->fs_region)) ||
               (rc = db_get_u64(c, fs, "start", false, &b->fs_start)) ||
               (rc = db_get_u64(c, fs, "size", false, &b->fs_size))))
        return rc;
    if (!romfs_range_fits_bits(b->text_start, b->text_size, ROMFS_ADDRESS_BITS) ||
        !romfs_range_fits_bits(b->fs_start, b->fs_size, ROMFS_ADDRESS_BITS))
        return db_schema_error(c, "text or fs extent ends past the %d-bit address space", ROMFS_ADDRESS_BITS);
    if ((rc = db_array_of(c, j, "romfs", &arr, &n)))
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
                    return db_schema_error(c, "partition index %d appears twice", b->partitions[i].index);
    }
    const cJSON *repl = db_get_obj(j, "repl");
    if (repl && (rc = db_get_str(c, repl, "usb", false, &b->repl_usb)))
        return rc;
    const cJSON *dfu = db_get_obj(j, "dfu");
    if (dfu) {
        uint64_t alt = 0;
        if ((rc = db_get_str(c, dfu, "usb", !db_get_obj(dfu, "mboot"), &b->dfu_usb)) || (rc = db_get_u64(c, dfu, "alt", false, &alt)) ||
            (rc = db_get_str(c, dfu, "kind", false, &b->dfu_kind)) ||
            (rc = db_get_str(c, dfu, "layout", false, &b->dfu_layout)))
            return rc;
        if (alt > 255)
            return db_schema_error(c, "dfu alt %" PRIu64 " out of range", alt);
        b->dfu_alt = (int)alt;
    }
    const cJSON *swd = db_get_obj(j, "swd");
    if (swd && ((rc = db_get_str(c, swd, "openocd", false, &b->openocd_target)) ||
                (rc = db_get_str(c, swd, "pyocd", false, &b->pyocd_target))))
        return rc;
    const cJSON *uf2 = db_get_obj(j, "uf2");
    if (uf2) {
        if ((rc = db_get_u32(c, uf2, "family", true, &b->uf2_family)))
            return rc;
        b->has_uf2 = true;
    }
    if ((rc = db_array_of(c, j, "linker_scripts", &arr, &n)))
        return rc;
    if (n) {
        size_t len = 1;
        for (size_t i = 0; i < n; i++) {
            const cJSON *s = cJSON_GetArrayItem(arr, (int)i);
            if (!cJSON_IsString(s))
                return db_schema_error(c, "linker_scripts entries must be strings");
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
    if ((rc = db_parse_flashmap(c, j, b)))
        return rc;
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
        rc = db_schema_error(&c, "top level must be an object");
        goto out;
    }
    const cJSON *mp = db_get_obj(root, "micropython");
    if (mp && ((rc = db_get_str(&c, mp, "version", false, &out->micropython_version)) ||
               (rc = db_get_str(&c, mp, "commit", false, &out->micropython_commit))))
        goto out;
    if ((rc = db_array_of(&c, root, "boards", &boards, &n)))
        goto out;
    if (!boards) {
        rc = db_schema_error(&c, "missing \"boards\" array");
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
                rc = db_schema_error(&c, "board %s appears twice", out->boards[i].name);
                goto out;
            }
    }
    if (!(out->source = strdup(c.what)))
        rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
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

/* One board object as boards.json writes it, without its closing brace. */
static void emit_board(struct romfs_buf *s, const struct romfs_board *b)
{
    bool f = true;
    romfs_buf_printf(s, "    {\n      ");
    db_sb_kv_str(s, &f, "board", b->name);
    db_sb_kv_str(s, &f, "port", b->port);
    db_sb_kv_str(s, &f, "mcu", b->mcu);
    db_sb_kv_str(s, &f, "variant", b->variant);
    romfs_buf_printf(s, ",\n      \"flash\": {");
    f = true;
    db_sb_kv_hex(s, &f, "base", b->flash_base);
    db_sb_kv_hex(s, &f, "size", b->flash_size);
    db_sb_kv_int(s, &f, "erase_block", b->erase_block);
    db_sb_kv_int(s, &f, "write_block", b->write_block);
    if (b->n_erase_map) {
        romfs_buf_printf(s, ", \"erase_map\": [");
        for (size_t i = 0; i < b->n_erase_map; i++) {
            bool g = true;
            romfs_buf_printf(s, "%s{", i ? ", " : "");
            db_sb_kv_hex(s, &g, "start", b->erase_map[i].start);
            db_sb_kv_hex(s, &g, "size", b->erase_map[i].size);
            db_sb_kv_int(s, &g, "block", b->erase_map[i].block);
            romfs_buf_printf(s, "}");
        }
        romfs_buf_printf(s, "]");
    }
    romfs_buf_printf(s, "}");
    if (b->text_region || b->text_size) {
        romfs_buf_printf(s, ",\n      \"text\": {");
        f = true;
        db_sb_kv_str(s, &f, "region", b->text_region);
        db_sb_kv_hex(s, &f, "start", b->text_start);
        db_sb_kv_hex(s, &f, "size", b->text_size);
        romfs_buf_printf(s, "}");
    }
    if (b->fs_region || b->fs_size) {
        romfs_buf_printf(s, ",\n      \"fs\": {");
        f = true;
        db_sb_kv_str(s, &f, "region", b->fs_region);
        db_sb_kv_hex(s, &f, "start", b->fs_start);
        db_sb_kv_hex(s, &f, "size", b->fs_size);
        romfs_buf_printf(s, "}");
    }
    romfs_buf_printf(s, ",\n      \"romfs\": [");
    for (size_t i = 0; i < b->n_partitions; i++) {
        const struct romfs_partition *p = &b->partitions[i];
        romfs_buf_printf(s, "%s\n        {", i ? "," : "");
        f = true;
        db_sb_kv_int(s, &f, "index", (uint64_t)p->index);
        db_sb_kv_hex(s, &f, "start", p->start);
        db_sb_kv_hex(s, &f, "size", p->size);
        db_sb_kv_int(s, &f, "erase_block", p->erase_block);
        db_sb_kv_int(s, &f, "write_block", p->write_block);
        romfs_buf_printf(s, ", \"mmap\": %s", p->mmap ? "true" : "false");
        db_sb_kv_str(s, &f, "core", p->core);
        db_sb_kv_str(s, &f, "device", p->device);
        db_sb_kv_str(s, &f, "region", p->region);
        db_sb_kv_str(s, &f, "source", p->source);
        db_sb_kv_str(s, &f, "api", p->api);
        db_sb_kv_str(s, &f, "link", p->link);
        romfs_buf_printf(s, "}");
    }
    romfs_buf_printf(s, "%s]", b->n_partitions ? "\n      " : "");
    if (b->romfs_option) {
        romfs_buf_printf(s, ",\n      ");
        f = true;
        db_sb_kv_str(s, &f, "romfs_option", b->romfs_option);
    }
    if (b->n_flash) {
        romfs_buf_printf(s, ",\n      \"regions\": [");
        for (size_t i = 0; i < b->n_flash; i++) {
            const struct romfs_region *r = &b->flash[i];
            romfs_buf_printf(s, "%s\n        {", i ? "," : "");
            f = true;
            db_sb_kv_str(s, &f, "name", r->name);
            db_sb_kv_hex(s, &f, "origin", r->origin);
            db_sb_kv_hex(s, &f, "length", r->length);
            db_sb_kv_str(s, &f, "attrs", r->attrs);
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
            db_sb_str(s, one);
            free(one);
            first = false;
            q += n;
        }
        romfs_buf_printf(s, "]");
    }
    db_emit_flashmap(s, b);
    if (b->repl_usb) {
        romfs_buf_printf(s, ",\n      \"repl\": {");
        f = true;
        db_sb_kv_str(s, &f, "usb", b->repl_usb);
        romfs_buf_printf(s, "}");
    }
    if (b->dfu_usb || b->mboot_usb) {
        romfs_buf_printf(s, ",\n      \"dfu\": {");
        f = true;
        if (b->dfu_usb) {
            db_sb_kv_str(s, &f, "usb", b->dfu_usb);
            db_sb_kv_int(s, &f, "alt", (uint64_t)(b->dfu_alt < 0 ? 0 : b->dfu_alt));
            db_sb_kv_str(s, &f, "kind", b->dfu_kind);
            db_sb_kv_str(s, &f, "layout", b->dfu_layout);
        }
        if (b->mboot_usb) {
            bool g = true;
            romfs_buf_printf(s, "%s\"mboot\": {", f ? "" : ", ");
            db_sb_kv_str(s, &g, "usb", b->mboot_usb);
            db_sb_kv_str(s, &g, "layout", b->mboot_layout);
            db_sb_kv_str(s, &g, "source", b->mboot_source);
            romfs_buf_printf(s, "}");
        }
        romfs_buf_printf(s, "}");
    }
    if (b->openocd_target || b->pyocd_target) {
        romfs_buf_printf(s, ",\n      \"swd\": {");
        f = true;
        db_sb_kv_str(s, &f, "openocd", b->openocd_target);
        db_sb_kv_str(s, &f, "pyocd", b->pyocd_target);
        romfs_buf_printf(s, "}");
    }
    if (b->has_uf2) {
        romfs_buf_printf(s, ",\n      \"uf2\": {");
        f = true;
        db_sb_kv_hex(s, &f, "family", b->uf2_family);
        romfs_buf_printf(s, "}");
    }
}

char *romfs_board_to_json(const struct romfs_board *b, const char *extra_key, const char *extra_json)
{
    struct romfs_buf s = { 0 };
    emit_board(&s, b);
    if (extra_key && extra_json) {
        romfs_buf_printf(&s, ",\n      ");
        db_sb_str(&s, extra_key);
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
    db_sb_kv_str(&s, &f, "version", db->micropython_version);
    db_sb_kv_str(&s, &f, "commit", db->micropython_commit);
    romfs_buf_printf(&s, "},\n  \"boards\": [");
    for (size_t i = 0; i < db->n; i++) {
        romfs_buf_printf(&s, "%s\n", i ? "," : "");
        emit_board(&s, &db->boards[i]);
        romfs_buf_printf(&s, "\n    }");
    }
    romfs_buf_printf(&s, "%s]\n}\n", db->n ? "\n  " : "");
    return romfs_buf_take(&s);
}
