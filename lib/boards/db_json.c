/* boards/db_json.c: the small JSON readers and writers boards.json's parser and
 * serialiser share (boards/db.c, boards/flashmap.c). */
#include "boards/db_internal.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int db_schema_error(struct parse_ctx *c, const char *fmt, ...)
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
int db_get_u64(struct parse_ctx *c, const cJSON *obj, const char *key, bool required, uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return db_schema_error(c, "missing \"%s\"", key);
        return ROMFS_OK;
    }
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d < 0 || d > 9007199254740992.0 || d != (double)(uint64_t)d)
            return db_schema_error(c, "\"%s\" is not a non-negative integer", key);
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
    return db_schema_error(c, "\"%s\" must be an integer or a \"0x...\" string", key);
}

int db_get_u32(struct parse_ctx *c, const cJSON *obj, const char *key, bool required, uint32_t *out)
{
    uint64_t v = *out;
    int rc = db_get_u64(c, obj, key, required, &v);
    if (rc)
        return rc;
    if (v > UINT32_MAX)
        return db_schema_error(c, "\"%s\" is out of range", key);
    *out = (uint32_t)v;
    return ROMFS_OK;
}

int db_get_str(struct parse_ctx *c, const cJSON *obj, const char *key, bool required, char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return db_schema_error(c, "missing \"%s\"", key);
        return ROMFS_OK;
    }
    if (!cJSON_IsString(v))
        return db_schema_error(c, "\"%s\" must be a string", key);
    free(*out);
    *out = strdup(v->valuestring);
    if (!*out)
        return romfs_set_error(c->err, ROMFS_ERR_NOMEM, "out of memory");
    return ROMFS_OK;
}

int db_get_bool(struct parse_ctx *c, const cJSON *obj, const char *key, bool *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v))
        return ROMFS_OK;
    if (!cJSON_IsBool(v))
        return db_schema_error(c, "\"%s\" must be true or false", key);
    *out = cJSON_IsTrue(v);
    return ROMFS_OK;
}

const cJSON *db_get_obj(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsObject(v) ? v : NULL;
}

int db_array_of(struct parse_ctx *c, const cJSON *obj, const char *key, const cJSON **arr, size_t *n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *arr = NULL;
    *n = 0;
    if (!v || cJSON_IsNull(v))
        return ROMFS_OK;
    if (!cJSON_IsArray(v))
        return db_schema_error(c, "\"%s\" must be an array", key);
    *arr = v;
    *n = (size_t)cJSON_GetArraySize(v);
    return ROMFS_OK;
}


/* ---- writing ---- */

/* Every piece goes into one buffer whose failure mark sticks (base/buf.h), checked once
 * at the end by romfs_buf_take. */

void db_sb_str(struct romfs_buf *s, const char *text)
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
void db_sb_kv_str(struct romfs_buf *s, bool *first, const char *key, const char *value)
{
    if (!value)
        return;
    romfs_buf_printf(s, "%s\"%s\": ", *first ? "" : ", ", key);
    db_sb_str(s, value);
    *first = false;
}

void db_sb_kv_hex(struct romfs_buf *s, bool *first, const char *key, uint64_t v)
{
    romfs_buf_printf(s, "%s\"%s\": \"0x%08" PRIx64 "\"", *first ? "" : ", ", key, v);
    *first = false;
}

void db_sb_kv_int(struct romfs_buf *s, bool *first, const char *key, uint64_t v)
{
    romfs_buf_printf(s, "%s\"%s\": %" PRIu64, *first ? "" : ", ", key, v);
    *first = false;
}

