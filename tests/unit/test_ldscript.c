/* test_ldscript.c: the evaluator's API contracts that the ld comparison cannot
 * show: not-evaluable symbols answer with file:line, INCLUDE can be disabled,
 * text input, defsym ordering switch, 32-bit reporting, error messages. The
 * values themselves are proven against arm-none-eabi-ld in test_ldscript_ld.c. */
#include <stdio.h>
#include <string.h>

#include "ld/ldscript.h"
#include "unit.h"

static int eval(const char *text, const struct romfs_ld_input *opts, struct romfs_ld_result *res,
                struct romfs_error *err)
{
    return romfs_ld_evaluate_text("t.ld", text, strlen(text), opts, res, err);
}

static void test_section_dependent_symbol_is_an_error_with_location(void)
{
    struct romfs_ld_result r;
    struct romfs_error err = {0};
    CHECK(eval("MEMORY { RAM : ORIGIN = 0x20000000, LENGTH = 64K }\n"
               "SECTIONS {\n .bss : {\n  _ebss = .;\n } > RAM\n}\n"
               "_heap_start = _ebss;\n_heap_end = ORIGIN(RAM) + LENGTH(RAM);\n", NULL, &r, &err) == ROMFS_OK);
    uint64_t v = 0;
    CHECK(romfs_ld_find_symbol(&r, "_heap_end", &v) == ROMFS_OK);
    CHECK_EQ_U(v, 0x20010000);
    CHECK(romfs_ld_find_symbol(&r, "_heap_start", &v) == ROMFS_ERR_UNSUPPORTED);
    CHECK(romfs_ld_lookup_symbol(&r, "_heap_start", &v, &err) == ROMFS_ERR_UNSUPPORTED);
    CHECK(strstr(err.msg, "t.ld:7:") != NULL);
    CHECK(strstr(err.msg, "_ebss") != NULL);
    CHECK(romfs_ld_find_symbol(&r, "nothing", &v) == ROMFS_ERR_NOENT);
    CHECK(romfs_ld_lookup_symbol(&r, "nothing", &v, &err) == ROMFS_ERR_NOENT);
    romfs_ld_result_free(&r);
    romfs_ld_result_free(&r); /* safe twice */
}

static void test_region_that_needs_a_link_is_an_error(void)
{
    struct romfs_ld_result r;
    struct romfs_error err = {0};
    CHECK(eval("SECTIONS { .text : { _etext = .; } }\nMEMORY {\n FLASH : ORIGIN = _etext, LENGTH = 4K\n}\n",
               NULL, &r, &err) == ROMFS_ERR_CORRUPT);
    CHECK(strstr(err.msg, "t.ld:3:") != NULL && strstr(err.msg, "FLASH") != NULL);
    CHECK(r.n_regions == 0 && r.n_symbols == 0);
}

static void test_unsupported_constructs_name_the_line(void)
{
    struct romfs_ld_result r;
    struct romfs_error err = {0};
    CHECK(eval("a = 1;\nb = a-c;\n", NULL, &r, &err) == ROMFS_ERR_UNSUPPORTED);
    CHECK(strstr(err.msg, "t.ld:2:") != NULL);
    CHECK(eval("a = 1;\nb = FOO(a);\n", NULL, &r, &err) == ROMFS_ERR_UNSUPPORTED);
    CHECK(strstr(err.msg, "t.ld:2:") != NULL && strstr(err.msg, "FOO") != NULL);
    CHECK(eval("a = 1;\n\nb = a ^ 2;\n", NULL, &r, &err) != ROMFS_OK);
    CHECK(strstr(err.msg, "t.ld:3:") != NULL);
    CHECK(eval("/* open comment\n", NULL, &r, &err) == ROMFS_ERR_CORRUPT);
    CHECK(eval("a = 09;\n", NULL, &r, &err) == ROMFS_ERR_CORRUPT);
}

static void test_include_can_be_disabled(void)
{
    struct romfs_ld_input in = {0};
    in.no_include_files = true;
    struct romfs_ld_result r;
    struct romfs_error err = {0};
    CHECK(eval("INCLUDE /etc/passwd\n", &in, &r, &err) == ROMFS_ERR_UNSUPPORTED);
    CHECK(strstr(err.msg, "disabled") != NULL);
}

static void test_defsym_order_and_bits(void)
{
    const char *defs[] = {"fs = 0x100"};
    struct romfs_ld_input in = {0};
    in.defsyms = defs;
    in.n_defsyms = 1;
    struct romfs_ld_result r;
    struct romfs_error err = {0};
    const char *text = "x = DEFINED(fs) ? fs : 64K;\nneg = 0 - 1;\n";
    uint64_t v;
    CHECK(eval(text, &in, &r, &err) == ROMFS_OK);
    CHECK(romfs_ld_find_symbol(&r, "x", &v) == ROMFS_OK);
    CHECK_EQ_U(v, 0x100);
    CHECK(romfs_ld_find_symbol(&r, "neg", &v) == ROMFS_OK);
    CHECK_EQ_U(v, 0xffffffffffffffffull);
    romfs_ld_result_free(&r);
    in.defsyms_last = true;
    in.address_bits = 32;
    CHECK(eval(text, &in, &r, &err) == ROMFS_OK);
    CHECK(romfs_ld_find_symbol(&r, "x", &v) == ROMFS_OK);
    CHECK_EQ_U(v, 0x10000);
    CHECK(romfs_ld_find_symbol(&r, "neg", &v) == ROMFS_OK);
    CHECK_EQ_U(v, 0xffffffff);
    const struct romfs_ld_symbol *s = romfs_ld_symbol_record(&r, "fs");
    CHECK(s && strcmp(s->file, "defsym") == 0 && s->line == 1);
    romfs_ld_result_free(&r);
    const char *bad[] = {"novalue"};
    in.defsyms = bad;
    CHECK(eval(text, &in, &r, &err) == ROMFS_ERR_INVAL);
    CHECK(strstr(err.msg, "novalue") != NULL);
}

static void test_region_records(void)
{
    struct romfs_ld_result r;
    struct romfs_error err = {0};
    CHECK(eval("\nMEMORY\n{\n  FLASH_ROMFS (rx) : ORIGIN = 0x08100000, LENGTH = 1M\n}\n", NULL, &r, &err) == ROMFS_OK);
    const struct romfs_ld_region *g = romfs_ld_find_region(&r, "FLASH_ROMFS");
    CHECK(g && g->origin == 0x08100000 && g->length == 0x100000);
    CHECK(g->line == 4 && strcmp(g->file, "t.ld") == 0 && strcmp(g->attrs, "rx") == 0);
    CHECK(romfs_ld_find_region(&r, "flash_romfs") == NULL);
    romfs_ld_result_free(&r);
    CHECK(eval("MEMORY { A : ORIGIN = 0, LENGTH = 1\n A : ORIGIN = 1, LENGTH = 1 }", NULL, &r, &err) == ROMFS_ERR_CORRUPT);
}

static void test_missing_script(void)
{
    const char *scripts[] = {"no/such/script.ld"};
    struct romfs_ld_input in = {0};
    in.scripts = scripts;
    in.n_scripts = 1;
    struct romfs_ld_result r;
    struct romfs_error err = {0};
    CHECK(romfs_ld_evaluate(&in, &r, &err) == ROMFS_ERR_NOENT);
    CHECK(strstr(err.msg, "no/such/script.ld") != NULL);
}

int main(void)
{
    RUN(test_section_dependent_symbol_is_an_error_with_location);
    RUN(test_region_that_needs_a_link_is_an_error);
    RUN(test_unsupported_constructs_name_the_line);
    RUN(test_include_can_be_disabled);
    RUN(test_defsym_order_and_bits);
    RUN(test_region_records);
    RUN(test_missing_script);
    UNIT_EXIT();
}
