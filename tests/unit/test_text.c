/* test_text.c: the one escaping rule for untrusted text (base/text.h). */
#include <string.h>

#include "base/text.h"
#include "unit.h"

static int same(const char *in, size_t len, enum romfs_escape_mode mode, const char *want)
{
    char *got = romfs_escape_text(in, len, mode);
    int ok = got && strcmp(got, want) == 0;
    if (!ok)
        printf("    escape(%zu bytes) = '%s', want '%s'\n", len, got ? got : "(null)", want);
    free(got);
    return ok;
}
#define ESC(in, mode, want) same(in, sizeof in - 1, mode, want)

static void terminal_controls_become_visible(void)
{
    CHECK(ESC("a\x1b]0;title\x07z", ROMFS_ESCAPE_NAME, "a\\x1b]0;title\\x07z"));
    CHECK(ESC("\x1b[2J", ROMFS_ESCAPE_MESSAGE, "\\x1b[2J"));
    CHECK(ESC("x\ny\r\tz\x7f", ROMFS_ESCAPE_NAME, "x\\x0ay\\x0d\\x09z\\x7f"));
    CHECK(ESC("x\ny\r\tz", ROMFS_ESCAPE_MESSAGE, "x\ny\\x0d\tz"));
    CHECK(ESC("a\\b", ROMFS_ESCAPE_NAME, "a\\x5cb"));
    CHECK(ESC("a\\b", ROMFS_ESCAPE_MESSAGE, "a\\b"));
    CHECK(ESC("a\\b\nc", ROMFS_ESCAPE_LINE, "a\\b\\x0ac"));
    CHECK(ESC("Trace\r\n  x\r\n", ROMFS_ESCAPE_MESSAGE, "Trace\n  x\n"));
    CHECK(ESC("a\rb", ROMFS_ESCAPE_MESSAGE, "a\\x0db"));
    CHECK(same("a\0b", 3, ROMFS_ESCAPE_NAME, "a\\x00b"));
}

static void utf8_valid_passes_invalid_escaped(void)
{
    CHECK(ESC("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d", ROMFS_ESCAPE_NAME, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d"));
    CHECK(ESC("\xff\xfe", ROMFS_ESCAPE_NAME, "\\xff\\xfe"));
    CHECK(ESC("\xc3", ROMFS_ESCAPE_NAME, "\\xc3"));                       /* truncated */
    CHECK(ESC("\xc0\xaf", ROMFS_ESCAPE_NAME, "\\xc0\\xaf"));              /* overlong '/' */
    CHECK(ESC("\xed\xa0\x80", ROMFS_ESCAPE_NAME, "\\xed\\xa0\\x80"));     /* surrogate */
    CHECK(ESC("\xf4\x90\x80\x80", ROMFS_ESCAPE_NAME, "\\xf4\\x90\\x80\\x80")); /* past U+10FFFF */
    CHECK(ESC("\xc2\x9b" "31m", ROMFS_ESCAPE_NAME, "\\xc2\\x9b31m"));     /* C1 CSI */
    CHECK(ESC("\xc2\xa0", ROMFS_ESCAPE_NAME, "\xc2\xa0"));                /* NBSP is text */
}

/* Feed text in pieces of `step` bytes and return everything the stream produced. */
static char *stream_in_pieces(const char *in, size_t len, size_t step)
{
    struct romfs_escape_stream s = { .mode = ROMFS_ESCAPE_MESSAGE };
    static char got[512];
    size_t o = 0;
    for (size_t i = 0; i <= len; i += step) {
        size_t n = len - i < step ? len - i : step, k;
        char *piece = romfs_escape_stream(&s, in + i, n, i + step > len, &k);
        if (!piece || o + k >= sizeof got)
            return NULL;
        memcpy(got + o, piece, k);
        o += k;
        free(piece);
    }
    got[o] = 0;
    return got;
}

static void a_stream_in_pieces_escapes_as_the_whole(void)
{
    /* what a device prints: CR LF line ends, UTF-8, a terminal control, a lone CR */
    static const char text[] = "t\xc3\xa9mp 21\xe2\x84\x83\r\nok \xf0\x9f\x90\x8d\x1b[2J\r\n50%\r";
    char *whole = romfs_escape_text(text, sizeof text - 1, ROMFS_ESCAPE_MESSAGE);
    CHECK(whole);
    CHECK(strcmp(whole, "t\xc3\xa9mp 21\xe2\x84\x83\nok \xf0\x9f\x90\x8d\\x1b[2J\n50%\\x0d") == 0);
    for (size_t step = 1; step <= sizeof text; step++) {
        char *got = stream_in_pieces(text, sizeof text - 1, step);
        if (!got || strcmp(got, whole) != 0)
            printf("    pieces of %zu: '%s'\n", step, got ? got : "(null)");
        CHECK(got && strcmp(got, whole) == 0);
    }
    free(whole);
}

static void a_stream_holds_back_only_what_the_next_piece_may_complete(void)
{
    struct romfs_escape_stream s = { .mode = ROMFS_ESCAPE_MESSAGE };
    size_t n;
    char *a = romfs_escape_stream(&s, "line\r", 5, false, &n);
    CHECK(a && strcmp(a, "line") == 0 && n == 4 && s.n_held == 1);
    free(a);
    a = romfs_escape_stream(&s, "caf\xc3", 4, false, &n);   /* the CR was a lone one */
    CHECK(a && strcmp(a, "\\x0dcaf") == 0 && s.n_held == 1);
    free(a);
    a = romfs_escape_stream(&s, NULL, 0, true, &n);        /* the end: the half character */
    CHECK(a && strcmp(a, "\\xc3") == 0 && s.n_held == 0);
    free(a);
}

int main(void)
{
    RUN(terminal_controls_become_visible);
    RUN(utf8_valid_passes_invalid_escaped);
    RUN(a_stream_in_pieces_escapes_as_the_whole);
    RUN(a_stream_holds_back_only_what_the_next_piece_may_complete);
    UNIT_EXIT();
}
