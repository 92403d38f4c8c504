/* pack_args.c: packing options shared by pack, build, flash and ci (with the board's
 * -march for mpy-cross); report output shared by check and ci. */
#include "pack_args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boards/arch.h"
#include "boards/db.h"

bool cli_pack_args_init(struct cli_pack_args *a, int argc)
{
    memset(a, 0, sizeof *a);
    a->rules = calloc((size_t)argc + 1, sizeof *a->rules);
    a->excludes = calloc((size_t)argc + 1, sizeof *a->excludes);
    a->mpy_args = calloc((size_t)argc + 1, sizeof *a->mpy_args);
    a->opt.align = 4;
    a->opt.align_rules = a->rules;
    a->opt.excludes = a->excludes;
    a->opt.mpy_cross_args = a->mpy_args;
    a->opt.mpy_cache = romfs_mpy_cache_default(a->cache, sizeof a->cache);
    return a->rules && a->excludes && a->mpy_args;
}

void cli_pack_args_free(struct cli_pack_args *a)
{
    free(a->rules);
    free(a->excludes);
    free(a->mpy_args);
    memset(a, 0, sizeof *a);
}

static bool parse_power_of_two(const char *text, uint32_t *out)
{
    uint64_t v;
    if (!cli_parse_size(text, &v) || v == 0 || v > (1u << 30) || (v & (v - 1)))
        return false;
    *out = (uint32_t)v;
    return true;
}

int cli_pack_args_option(struct cli_pack_args *a, int c, char *arg, const char *cmd)
{
    struct romfs_pack_options *o = &a->opt;
    switch (c) {
    case CLI_OPT_ALIGN:
        if (!parse_power_of_two(arg, &o->align))
            return cli_usage_error(cmd, "--align %s: not a power of two", arg), -1;
        return 1;
    case CLI_OPT_ALIGN_RULE: {
        char *eq = strrchr(arg, '=');
        struct romfs_align_rule *r = &a->rules[o->n_align_rules];
        if (!eq || eq == arg || !parse_power_of_two(eq + 1, &r->align))
            return cli_usage_error(cmd, "--align-rule %s: expected GLOB=N, N a power of two", arg), -1;
        *eq = '\0';
        r->glob = arg;
        o->n_align_rules++;
        return 1;
    }
    case CLI_OPT_EXCLUDE: a->excludes[o->n_excludes++] = arg; return 1;
    case CLI_OPT_NO_DEFAULT_EXCLUDES: o->no_default_excludes = true; return 1;
    case CLI_OPT_MPY_CROSS: o->mpy_cross = arg ? arg : "mpy-cross"; return 1;
    case CLI_OPT_MPY_CROSS_ARG: a->mpy_args[o->n_mpy_cross_args++] = arg; return 1;
    case CLI_OPT_MPY_CACHE: o->mpy_cache = arg; return 1;
    case CLI_OPT_NO_MPY_CACHE: o->mpy_cache = NULL; return 1;
    case CLI_OPT_BASE: o->base = arg; return 1;
    case CLI_OPT_PAD_TO:
    case CLI_OPT_SIZE_LIMIT: {
        uint64_t v;
        if (!cli_parse_size(arg, &v) || v == 0)
            return cli_usage_error(cmd, "%s %s: not a size",
                                   c == CLI_OPT_PAD_TO ? "--pad-to" : "--size-limit", arg), -1;
        *(c == CLI_OPT_PAD_TO ? &o->pad_to : &o->size_limit) = v;
        return 1;
    }
    default:
        return 0;
    }
}

bool cli_pack_args_has_march(const struct cli_pack_args *a)
{
    for (size_t i = 0; i < a->opt.n_mpy_cross_args; i++)
        if (strncmp(a->mpy_args[i], "-march=", 7) == 0)
            return true;
    return false;
}

void cli_pack_args_add_march(struct cli_pack_args *a, const char *arch)
{
    snprintf(a->march, sizeof a->march, "-march=%s", arch);
    a->mpy_args[a->opt.n_mpy_cross_args++] = a->march;
}

/* With --board and mpy-cross, and no -march among the --mpy-cross-arg values, pass the
 * board's CPU architecture: native and viper modules then import on that board. */
int cli_pack_args_board_march(struct cli_pack_args *pa, const char *board_name, const char *cmd)
{
    if (cli_pack_args_has_march(pa))
        return EXIT_OK;   /* the user's choice wins */
    struct romfs_boards db = { 0 };
    struct romfs_error err = { 0 };
    if (romfs_boards_load(NULL, &db, &err) != ROMFS_OK)
        return cli_fail(&err);
    const struct romfs_board *b = romfs_boards_find(&db, board_name);
    const char *arch = b ? romfs_board_mpy_arch(b) : NULL;
    if (arch) {
        cli_pack_args_add_march(pa, arch);
    } else if (b) {
        cli_warn("%s: cannot tell board %s's CPU architecture (port %s, mcu %s): .py files are "
                 "compiled without -march, so native and viper code will not compile; give "
                 "--mpy-cross-arg=-march=ARCH", cmd, b->name, b->port ? b->port : "?",
                 b->mcu ? b->mcu : "?");
    }
    romfs_boards_free(&db);
    return EXIT_OK;   /* an unknown board is reported by the check after packing */
}

int cli_write_report(const struct romfs_report *r, enum romfs_report_format fmt, const char *path,
                     struct romfs_error *err)
{
    if (!path || strcmp(path, "-") == 0)
        return romfs_report_write(r, fmt, stdout, err);
    char *text = NULL;
    size_t len = 0;
    int rc = romfs_report_render(r, fmt, &text, &len, err);
    if (rc == ROMFS_OK)
        rc = romfs_write_file_atomic(path, (const uint8_t *)text, len, err);
    free(text);
    return rc;
}
