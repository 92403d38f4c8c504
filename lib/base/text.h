/* base/text.h: the one rule for untrusted text (names from an image, a device or a
 * file) on its way to a terminal or a log.
 *
 * Bytes that a terminal would act on, and bytes that are not valid UTF-8, become a
 * visible \xHH escape: C0 controls (ESC, BEL, CR, newline, ...), DEL, the C1 controls
 * U+0080..U+009F (as \xc2\xHH), and every byte of a malformed, overlong or surrogate
 * sequence. Valid printable UTF-8 passes unchanged. JSON and JUnit output keep their
 * own escaping (cJSON, XML entities); this is for text. */
#ifndef ROMFS_TEXT_H
#define ROMFS_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum romfs_escape_mode {
    ROMFS_ESCAPE_NAME,     /* a name on one line: newline and tab escaped too, and '\' as
                              \x5c, so every escape is unambiguous */
    ROMFS_ESCAPE_LINE,     /* a message on one line: newline and tab escaped, '\' kept */
    ROMFS_ESCAPE_MESSAGE,  /* a message that may span lines (a device's traceback, a
                              tool's output): newline and tab kept, CR LF becomes LF */
};

/* A malloc'd, NUL-terminated escaped copy of text[0..len); NULL if out of memory. */
char *romfs_escape_text(const char *text, size_t len, enum romfs_escape_mode mode);

/* Escape text[0..len) into buf (cap bytes, NUL-terminated, cut at a whole escape or
 * character if it does not fit) and return buf: for names inside error messages. */
const char *romfs_escape_to(char *buf, size_t cap, const char *text, size_t len, enum romfs_escape_mode mode);

/* Write text[0..len) escaped to out (for writers that print as they go). */
void romfs_fputs_escaped(FILE *out, const char *text, size_t len, enum romfs_escape_mode mode);

/* Escaping text that arrives in pieces (what a running program prints): a CR LF or a
 * UTF-8 sequence cut between two pieces is held back until the next piece completes it,
 * so it is judged whole. Zero-initialise, set mode. */
struct romfs_escape_stream {
    enum romfs_escape_mode mode;
    unsigned char held[4];
    size_t n_held;
};

/* Escape what is held and text[0..len) as far as it can be judged now (all of it when
 * final) into a malloc'd, NUL-terminated string of *out_len bytes; NULL if out of memory
 * (what was held is then dropped). */
char *romfs_escape_stream(struct romfs_escape_stream *s, const char *text, size_t len, bool final,
                          size_t *out_len);

#endif
