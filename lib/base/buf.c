/* buf.c: the growable buffer (base/buf.h). */
#include "base/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

void romfs_buf_free(struct romfs_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}

void romfs_buf_clear(struct romfs_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* Room for `more` bytes plus the NUL; sets the failed mark when there is none. */
static int reserve(struct romfs_buf *b, size_t more)
{
    if (b->failed)
        return ROMFS_ERR_NOMEM;
    if (more > (size_t)-1 / 2 - b->len) {
        b->failed = true;
        return ROMFS_ERR_NOMEM;
    }
    size_t need = b->len + more + 1;
    if (need <= b->cap)
        return ROMFS_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    char *nd = realloc(b->data, cap);
    if (!nd) {
        b->failed = true;
        return ROMFS_ERR_NOMEM;
    }
    b->data = nd;
    b->cap = cap;
    return ROMFS_OK;
}

int romfs_buf_append(struct romfs_buf *b, const void *data, size_t len)
{
    int rc = reserve(b, len);
    if (rc != ROMFS_OK)
        return rc;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return ROMFS_OK;
}

int romfs_buf_puts(struct romfs_buf *b, const char *text)
{
    return romfs_buf_append(b, text, strlen(text));
}

int romfs_buf_printf(struct romfs_buf *b, const char *fmt, ...)
{
    if (b->failed)
        return ROMFS_ERR_NOMEM;
    /* format into the free space; only when that is too small, grow and format again */
    size_t room = b->data ? b->cap - b->len : 0;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
        if (b->data)
            b->data[b->len] = '\0';
        b->failed = true;
        return ROMFS_ERR_NOMEM;
    }
    if ((size_t)n >= room) {
        if (reserve(b, (size_t)n) != ROMFS_OK)
            return ROMFS_ERR_NOMEM;
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
    return ROMFS_OK;
}

char *romfs_buf_take(struct romfs_buf *b)
{
    if (!b->failed && !b->data)
        romfs_buf_append(b, "", 0);
    char *text = b->failed ? NULL : b->data;
    if (!text)
        free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
    return text;
}
