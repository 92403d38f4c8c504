/* base/text.c: escaping untrusted text for terminals (see text.h). */
#include "base/text.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid, printable UTF-8 sequence at p (at most n bytes), or 0 if the
 * byte at p must be escaped. */
static size_t printable_seq(const unsigned char *p, size_t n, enum romfs_escape_mode mode)
{
    unsigned c = p[0];
    if (c == '\r' && n > 1 && p[1] == '\n' && mode == ROMFS_ESCAPE_MESSAGE)
        return SIZE_MAX;                            /* dropped: the LF follows */
    if (c < 0x80) {
        if (c == '\n' || c == '\t')
            return mode == ROMFS_ESCAPE_MESSAGE ? 1 : 0;
        if (c == '\\')
            return mode == ROMFS_ESCAPE_NAME ? 0 : 1;
        return c >= 0x20 && c != 0x7f ? 1 : 0;
    }
    size_t seq = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (seq == 0 || seq > n)
        return 0;
    for (size_t i = 1; i < seq; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if (seq == 2 && c == 0xc2 && p[1] < 0xa0)
        return 0;                                   /* C1 controls U+0080..U+009F */
    if (seq == 3 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0)))
        return 0;                                   /* overlong, surrogate */
    if (seq == 4 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90)))
        return 0;                                   /* overlong, past U+10FFFF */
    return seq;
}

/* Escape into out (which has room for 4 * len + 1 bytes, or is NULL to count). */
static size_t escape_into(char *out, const unsigned char *p, size_t len, enum romfs_escape_mode mode)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t seq = printable_seq(p + i, len - i, mode);
        if (seq == SIZE_MAX) {
            i++;
            continue;
        }
        if (seq) {
            if (out)
                memcpy(out + o, p + i, seq);
            o += seq;
            i += seq;
            continue;
        }
        size_t bytes = 1;
        if (p[i] == 0xc2 && i + 1 < len && (p[i + 1] & 0xc0) == 0x80)
            bytes = 2;                              /* a C1 control: both bytes escaped */
        for (size_t k = 0; k < bytes; k++, i++) {
            if (out) {
                out[o] = '\\';
                out[o + 1] = 'x';
                out[o + 2] = hex[p[i] >> 4];
                out[o + 3] = hex[p[i] & 15];
            }
            o += 4;
        }
    }
    return o;
}

char *romfs_escape_text(const char *text, size_t len, enum romfs_escape_mode mode)
{
    const unsigned char *p = (const unsigned char *)(text ? text : "");
    if (!text)
        len = 0;
    size_t n = escape_into(NULL, p, len, mode);
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    escape_into(out, p, len, mode);
    out[n] = '\0';
    return out;
}

void romfs_fputs_escaped(FILE *out, const char *text, size_t len, enum romfs_escape_mode mode)
{
    char *e = romfs_escape_text(text, len, mode);
    if (e) {
        fputs(e, out);
        free(e);
        return;
    }
    /* out of memory: byte by byte, never raw */
    const unsigned char *p = (const unsigned char *)(text ? text : "");
    for (size_t i = 0; text && i < len; i++) {
        char one[8];
        size_t n = escape_into(one, p + i, 1, mode);
        fwrite(one, 1, n, out);
    }
}

const char *romfs_escape_to(char *buf, size_t cap, const char *text, size_t len, enum romfs_escape_mode mode)
{
    if (cap == 0)
        return buf;
    const unsigned char *p = (const unsigned char *)(text ? text : "");
    size_t o = 0;
    char piece[16];
    for (size_t i = 0; text && i < len;) {
        /* one character (or one escaped byte) at a time */
        size_t seq = printable_seq(p + i, len - i, mode);
        if (seq == SIZE_MAX) {   /* the CR of a CR LF in a message */
            i++;
            continue;
        }
        size_t take = seq ? seq : (p[i] == 0xc2 && i + 1 < len && (p[i + 1] & 0xc0) == 0x80 ? 2 : 1);
        size_t n = escape_into(piece, p + i, take, mode);
        if (o + n >= cap)
            break;
        memcpy(buf + o, piece, n);
        o += n;
        i += take;
    }
    buf[o] = '\0';
    return buf;
}

/* How many bytes at the end of p[0..n) may begin a character the next piece completes:
 * a CR (of a CR LF, in a message) or an unfinished UTF-8 sequence. */
static size_t unfinished_tail(const unsigned char *p, size_t n, enum romfs_escape_mode mode)
{
    if (n && p[n - 1] == '\r' && mode == ROMFS_ESCAPE_MESSAGE)
        return 1;
    for (size_t k = 1; k <= 3 && k <= n; k++) {
        unsigned c = p[n - k];
        if ((c & 0xc0) == 0x80)
            continue;                           /* a continuation byte: look further back */
        size_t seq = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
        return seq > k ? k : 0;
    }
    return 0;
}

char *romfs_escape_stream(struct romfs_escape_stream *s, const char *text, size_t len, bool final,
                          size_t *out_len)
{
    *out_len = 0;
    size_t n = s->n_held + len;
    unsigned char *all = malloc(n + 1);
    if (!all) {
        s->n_held = 0;
        return NULL;
    }
    memcpy(all, s->held, s->n_held);
    if (len)
        memcpy(all + s->n_held, text, len);
    size_t keep = final ? 0 : unfinished_tail(all, n, s->mode);
    size_t now = n - keep;
    memcpy(s->held, all + now, keep);
    s->n_held = keep;
    size_t o = escape_into(NULL, all, now, s->mode);
    char *out = malloc(o + 1);
    if (out) {
        escape_into(out, all, now, s->mode);
        out[o] = '\0';
        *out_len = o;
    }
    free(all);
    return out;
}
