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

int main(void)
{
    RUN(terminal_controls_become_visible);
    RUN(utf8_valid_passes_invalid_escaped);
    UNIT_EXIT();
}
