/* boards/db_internal.h: private to lib/boards. The JSON helpers boards.json's parser and
 * serialiser share, and the flash map's part of both (boards/flashmap.c). */
#ifndef ROMFS_BOARDS_DB_INTERNAL_H
#define ROMFS_BOARDS_DB_INTERNAL_H

#include "boards/db.h"
#include "base/buf.h"

#include <cJSON.h>
#include <stdbool.h>
#include <stdint.h>

struct parse_ctx {
    const char *what;         /* file name for messages */
    const char *board;        /* current board, for messages */
    struct romfs_error *err;
};

/* ROMFS_ERR_CORRUPT with "FILE: board B: message". */
int db_schema_error(struct parse_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Readers of one member of obj: absent is fine unless required; a wrong type is a schema
 * error naming the key. Numbers may be JSON integers or "0x..." strings. */
int db_get_u64(struct parse_ctx *c, const cJSON *obj, const char *key, bool required, uint64_t *out);
int db_get_u32(struct parse_ctx *c, const cJSON *obj, const char *key, bool required, uint32_t *out);
int db_get_str(struct parse_ctx *c, const cJSON *obj, const char *key, bool required, char **out);
int db_get_bool(struct parse_ctx *c, const cJSON *obj, const char *key, bool *out);
/* The member key when it is an object, else NULL. */
const cJSON *db_get_obj(const cJSON *obj, const char *key);
/* The member key as an array (*arr NULL and *n 0 when absent). */
int db_array_of(struct parse_ctx *c, const cJSON *obj, const char *key, const cJSON **arr, size_t *n);

/* Writers: a JSON string; ", \"key\": value" pieces (nothing for a NULL string). */
void db_sb_str(struct romfs_buf *s, const char *text);
void db_sb_kv_str(struct romfs_buf *s, bool *first, const char *key, const char *value);
void db_sb_kv_hex(struct romfs_buf *s, bool *first, const char *key, uint64_t v);
void db_sb_kv_int(struct romfs_buf *s, bool *first, const char *key, uint64_t v);

/* The board's "devices", "map" and "dfu"."mboot" members into b (boards/flashmap.c). */
int db_parse_flashmap(struct parse_ctx *c, const cJSON *board_json, struct romfs_board *b);
/* The same members as boards.json writes them (each starting ",\n      "). */
void db_emit_flashmap(struct romfs_buf *s, const struct romfs_board *b);
/* Free what db_parse_flashmap allocated. */
void db_free_flashmap(struct romfs_board *b);

#endif
