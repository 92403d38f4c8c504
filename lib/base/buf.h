/* base/buf.h: a growable byte buffer, kept NUL-terminated so text can be built in it. */
#ifndef ROMFS_BUF_H
#define ROMFS_BUF_H

#include <stdbool.h>
#include <stddef.h>

/* Zero-initialise ({ 0 }) before use; data stays NULL until the first append.
 * After one allocation failure `failed` sticks: later appends do nothing and return
 * ROMFS_ERR_NOMEM, so a builder may append many pieces and check once at the end. */
struct romfs_buf {
    char *data;     /* len bytes followed by a NUL (not counted), or NULL when nothing was added */
    size_t len;     /* bytes held */
    size_t cap;     /* bytes allocated */
    bool failed;    /* an append ran out of memory */
};

/* Free the storage and leave b empty (and no longer failed). */
void romfs_buf_free(struct romfs_buf *b);

/* Forget the contents but keep the storage (and the failed mark). */
void romfs_buf_clear(struct romfs_buf *b);

/* Append data[0..len) (len may be 0: the buffer then still gets storage, so data is
 * non-NULL). ROMFS_OK, or ROMFS_ERR_NOMEM when b failed now or before. */
int romfs_buf_append(struct romfs_buf *b, const void *data, size_t len);

/* Append the NUL-terminated text. Same returns as romfs_buf_append. */
int romfs_buf_puts(struct romfs_buf *b, const char *text);

/* Append printf-formatted text. Same returns as romfs_buf_append (an encoding error of
 * vsnprintf counts as a failure). */
int romfs_buf_printf(struct romfs_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Hand the contents over as a malloc'd NUL-terminated string ("" when empty) and leave b
 * empty; NULL (and everything freed) when any append failed or memory runs out now. */
char *romfs_buf_take(struct romfs_buf *b);

#endif
