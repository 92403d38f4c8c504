/* pack_args.h: the packing options `romfs pack` and `romfs ci` share. */
#ifndef ROMFS_CLI_PACK_ARGS_H
#define ROMFS_CLI_PACK_ARGS_H

#include "cli.h"

enum {
    CLI_OPT_ALIGN = 1000, CLI_OPT_ALIGN_RULE, CLI_OPT_EXCLUDE, CLI_OPT_NO_DEFAULT_EXCLUDES,
    CLI_OPT_MPY_CROSS, CLI_OPT_MPY_CROSS_ARG, CLI_OPT_PAD_TO, CLI_OPT_SIZE_LIMIT, CLI_OPT_BASE,
    CLI_OPT_MPY_CACHE, CLI_OPT_NO_MPY_CACHE,
};

/* Entries for a struct option table. */
#define CLI_PACK_LONG_OPTIONS \
    { "align", required_argument, NULL, CLI_OPT_ALIGN }, \
    { "align-rule", required_argument, NULL, CLI_OPT_ALIGN_RULE }, \
    { "exclude", required_argument, NULL, CLI_OPT_EXCLUDE }, \
    { "no-default-excludes", no_argument, NULL, CLI_OPT_NO_DEFAULT_EXCLUDES }, \
    { "mpy-cross", optional_argument, NULL, CLI_OPT_MPY_CROSS }, \
    { "mpy-cross-arg", required_argument, NULL, CLI_OPT_MPY_CROSS_ARG }, \
    { "pad-to", required_argument, NULL, CLI_OPT_PAD_TO }, \
    { "size-limit", required_argument, NULL, CLI_OPT_SIZE_LIMIT }, \
    { "base", required_argument, NULL, CLI_OPT_BASE }, \
    { "mpy-cache", required_argument, NULL, CLI_OPT_MPY_CACHE }, \
    { "no-mpy-cache", no_argument, NULL, CLI_OPT_NO_MPY_CACHE }

/* opt plus the arrays its pointers refer to. */
struct cli_pack_args {
    struct romfs_pack_options opt;
    struct romfs_align_rule *rules;
    const char **excludes, **mpy_args;
    char march[48];     /* "-march=ARCH" when one was added */
    char cache[4096];   /* the mpy-cross cache's usual folder */
};

/* Room for up to argc repeated options; opt.align starts at 4, opt.mpy_cache at the
 * usual folder (romfs_mpy_cache_default). false without memory. */
bool cli_pack_args_init(struct cli_pack_args *a, int argc);
void cli_pack_args_free(struct cli_pack_args *a);

/* Apply getopt's result c (with its argument) if it is a packing option: returns 1 when
 * handled, 0 when c is not one, -1 on a bad value (a usage message for `romfs cmd` was
 * printed). May modify arg (GLOB=N is split in place). */
int cli_pack_args_option(struct cli_pack_args *a, int c, char *arg, const char *cmd);

/* `romfs pack` (build false) or mpremote's `romfs build` (build true: --align 1,
 * --no-default-excludes, .py compiled when mpy-cross is on $PATH, --mpy/--no-mpy);
 * both in cli/cmd_pack.c. Returns the exit code. */
int cli_pack_main(int argc, char **argv, bool build);

/* Whether a --mpy-cross-arg=-march=... was given. */
bool cli_pack_args_has_march(const struct cli_pack_args *a);
/* Pass -march=ARCH to mpy-cross (room for it was made by cli_pack_args_init). */
void cli_pack_args_add_march(struct cli_pack_args *a, const char *arch);
/* Unless a -march was given, add board_name's CPU architecture (boards/arch.h), or warn
 * that it is unknown. Returns an exit code (EXIT_OK, or a failure loading boards.json;
 * an unknown board is left to the caller's own check). */
int cli_pack_args_board_march(struct cli_pack_args *a, const char *board_name, const char *cmd);

/* Write report r as fmt to path ("-" or NULL: standard output), atomically. */
int cli_write_report(const struct romfs_report *r, enum romfs_report_format fmt, const char *path,
                     struct romfs_error *err);

#endif
