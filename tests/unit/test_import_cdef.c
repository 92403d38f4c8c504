/* test_import_cdef.c: the importer's reading of board configuration headers: which
 * macros a header leaves defined after its conditionals and includes, where each was
 * defined, and the integer value each expands to (or none when it is no constant). The
 * expected values are what a C preprocessor makes of the same text (tests/cli's
 * config_oracle.py checks the real tree against cc -E). */
#define _GNU_SOURCE
#include "boards/import_cdef_internal.h"
#include "romfs.h"
#include "unit.h"

#include <unistd.h>

static char dir[] = "/tmp/romfs-cdef-XXXXXX";

static void put(const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    char *slash = strrchr(path, '/');
    *slash = 0;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
    if (system(cmd) != 0)
        return;
    *slash = '/';
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static int64_t value(const struct imp_cdefs *d, const char *name)
{
    int64_t v = -12345;
    return imp_cdefs_value(d, name, &v) ? v : -12345;
}

static void conditionals_and_sources(void)
{
    put("ports/p/boards/B/mpconfigboard.h",
        "// comment with #define NOT_THIS 1\n"
        "#define ON (0)\n"
        "/* a block comment\n"
        "   #define NOR_THIS 2 */\n"
        "#if !ON\n"
        "#define SIZE_BITS (32 * 1024 * 1024)\n"
        "#define OFFSET (256 * 1024)\n"
        "#define SIZE_BYTES \\\n"
        "    (SIZE_BITS / 8 - OFFSET)\n"
        "#elif defined(ON)\n"
        "#define SIZE_BYTES (1)\n"
        "#else\n"
        "#define SIZE_BYTES (2)\n"
        "#endif\n"
        "#ifndef ON\n"
        "#define ON 5\n"
        "#endif\n"
        "#define GONE 1\n"
        "#undef GONE\n"
        "#define FN(x) ((x) + 1)\n"
        "#define USES_FN FN(2)\n"
        "#define CAST ((uint32_t)0x90000000 + (uintptr_t)16)\n"
        "#define PTR (&spi_bdev)\n"
        "#define ARROW (CHIP->size)\n"
        "#define LOG2 (23)\n"
        "#define FROM_LOG2 ((1 << LOG2) / 8)\n"
        "#define TERN (ON ? 3 : 4)\n"
        "#define HEX_SUFFIX (0x10UL)\n"
        "#include \"boards/common.h\"\n");
    put("ports/p/boards/common.h", "#ifndef DEFAULTED\n#define DEFAULTED (7)\n#endif\n#define SIZE_BITS_TWICE (SIZE_BITS * 2)\n");
    struct imp_cdefs d = { 0 };
    const char *const inc[] = { "ports/p", NULL };
    CHECK(imp_cdefs_read(&d, dir, "ports/p/boards/B/mpconfigboard.h", inc) == ROMFS_OK);
    CHECK(!imp_cdefs_find(&d, "NOT_THIS") && !imp_cdefs_find(&d, "NOR_THIS"));
    CHECK_EQ_U(value(&d, "ON"), 0);
    CHECK_EQ_U(value(&d, "SIZE_BYTES"), 4 * 1024 * 1024 - 256 * 1024);
    const struct imp_cdef *m = imp_cdefs_find(&d, "SIZE_BYTES");
    CHECK(m && strcmp(m->file, "ports/p/boards/B/mpconfigboard.h") == 0);
    CHECK_EQ_U(m->line, 8); /* the #define's line, though it continues on the next */
    CHECK_EQ_U(imp_cdefs_find(&d, "OFFSET")->line, 7);
    CHECK(!imp_cdefs_find(&d, "GONE"));
    CHECK_EQ_U(value(&d, "USES_FN"), (uint64_t)-12345); /* function-like macros are not expanded */
    CHECK(imp_cdefs_find(&d, "FN") && imp_cdefs_find(&d, "FN")->function_like);
    CHECK_EQ_U(value(&d, "CAST"), 0x90000010);
    CHECK_EQ_U(value(&d, "PTR"), (uint64_t)-12345);   /* an address is no constant */
    CHECK_EQ_U(value(&d, "ARROW"), (uint64_t)-12345); /* nor a run-time field */
    CHECK_EQ_U(value(&d, "FROM_LOG2"), 1 << 20);
    CHECK_EQ_U(value(&d, "TERN"), 4);
    CHECK_EQ_U(value(&d, "HEX_SUFFIX"), 16);
    /* the include is found from the port directory; its defaults see the board's defines */
    CHECK_EQ_U(value(&d, "DEFAULTED"), 7);
    CHECK_EQ_U(value(&d, "SIZE_BITS_TWICE"), 64 * 1024 * 1024);
    CHECK(strcmp(imp_cdefs_find(&d, "DEFAULTED")->file, "ports/p/boards/common.h") == 0);
    CHECK_EQ_U(imp_cdefs_find(&d, "DEFAULTED")->line, 2);
    imp_cdefs_free(&d);
}

static void if_expressions(void)
{
    struct imp_cdefs d = { 0 };
    CHECK(imp_cdefs_define(&d, "A", "3", "cmd", 0) == ROMFS_OK);
    int64_t v = 0;
    CHECK(imp_cdefs_eval(&d, "defined(A) && A > 2 && !defined B", true, &v) && v == 1);
    CHECK(imp_cdefs_eval(&d, "UNKNOWN == 0", true, &v) && v == 1); /* #if: unknown names are 0 */
    CHECK(!imp_cdefs_eval(&d, "UNKNOWN", false, &v));              /* a value: none */
    CHECK(!imp_cdefs_eval(&d, "A / 0", false, &v));
    CHECK(!imp_cdefs_eval(&d, "(A", false, &v));
    CHECK(!imp_cdefs_eval(&d, "\"text\"", false, &v));
    CHECK(imp_cdefs_eval(&d, "(A << 4) | 1", false, &v) && v == 49);
    CHECK(imp_cdefs_eval(&d, "-A % 2", false, &v) && v == -1);
    imp_cdefs_free(&d);
}

static void a_missing_header(void)
{
    struct imp_cdefs d = { 0 };
    CHECK(imp_cdefs_read(&d, dir, "ports/p/none.h", NULL) == ROMFS_ERR_NOENT);
    put("ports/p/inc_missing.h", "#include \"nowhere.h\"\n#include <stdint.h>\n#define X 1\n");
    CHECK(imp_cdefs_read(&d, dir, "ports/p/inc_missing.h", NULL) == ROMFS_OK);
    CHECK_EQ_U(value(&d, "X"), 1);
    imp_cdefs_free(&d);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    RUN(conditionals_and_sources);
    RUN(if_expressions);
    RUN(a_missing_header);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    UNIT_EXIT();
}
