/* cmd_check.c: `romfs check IMAGE --board BOARD...`: parse, run lib/plan/check.c, print. */
#include "cli.h"
#include "pack_args.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "plan/check.h"
#include "plan/report.h"

CLI_COMMAND(check, "check an image against a board's ROMFS partition");

static void usage(FILE *out)
{
    fprintf(out,
"usage: romfs check IMAGE --board BOARD [--board BOARD...] [--partition N|all]\n"
"                   [--elf FIRMWARE | --partition-table TABLE | --ld SCRIPT [--ld SCRIPT...]\n"
"                    [-L DIR] [--defsym N=EXPR] [--cpp] [-D NAME[=VALUE]]]\n"
"                   [--format text|json|junit|github]\n"
"\n"
"Check a ROMFS image against the ROMFS partition of one or more boards:\n"
"  structure  the image is a valid ROMFS filesystem (strict verify)\n"
"  fits       its bytes fit the partition; usage in bytes and percent\n"
"  erase      the partition start is on an erase-block boundary and the image end,\n"
"             rounded up to its erase block (non-uniform sectors honoured), is inside\n"
"  write      the partition start is a multiple of the write unit, and whole units fit\n"
"  alignment  every file's data keeps, at partition start + offset, the alignment it\n"
"             has in the image (the largest power of two dividing its offset, up to\n"
"             --align-cap, default 4096): fails when the partition start is less aligned\n"
"  mmap       the partition is memory-mapped, so VfsRom can use file data in place\n"
"A check whose inputs are unknown is reported as skipped.\n"
"\n"
"Where the partition comes from (strongest first):\n"
"  --elf FIRMWARE   the _micropy_hw_romfs_partN_start/_size symbols of a built firmware;\n"
"                   with --board, that board supplies erase/write unit and mapping\n"
"  --partition-table TABLE\n"
"                   esp32: the data partition labelled 'romfs' of an ESP-IDF partition\n"
"                   table, CSV (partitions-4MiB-romfs.csv) or binary (partition-table.bin,\n"
"                   MD5 checked), told apart by content; its start is a flash offset the\n"
"                   port maps at run time; erase block 4096, write unit from --board\n"
"                   (an esp32 board) or 4\n"
"  --ld SCRIPT      linker scripts, evaluated as ld would (repeat in -T order); -L DIR\n"
"                   for INCLUDE, --defsym NAME=EXPR, --cpp to preprocess with -D defines\n"
"  --board BOARD    boards.json (embedded; $ROMFS_BOARDS names another file); may repeat\n"
"\n"
"Options:\n"
"  --partition N    partition index (default 0); 'all' checks every partition of a board\n"
"  --core CORE      multi-core boards (alif): the partition of that core's build\n"
"  --format F       text (default), json, junit (JUnit XML for CI), github (workflow\n"
"                   annotations: ::error file=IMAGE,title=...::message)\n"
"  --align-cap N    largest alignment inferred from a file's offset (default 4096)\n"
"  -o FILE          write the report to FILE instead of standard output\n"
"\n"
"Exits 1 when a check fails.\n"
"Example: romfs check app.romfs --board PYBD_SF2 --board ARDUINO_NANO_33_BLE_SENSE --format junit\n"
"         romfs check app.romfs --partition-table partitions-4MiB-romfs.csv --board ESP32_GENERIC\n");
}

#define MAX_LIST 1024   /* values per repeatable option */

struct check_args {
    const char *image;
    const char *boards[MAX_LIST]; size_t n_boards;
    const char *scripts[MAX_LIST]; size_t n_scripts;
    const char *dirs[MAX_LIST]; size_t n_dirs;
    const char *defsyms[MAX_LIST]; size_t n_defsyms;
    const char *defines[MAX_LIST]; size_t n_defines;
    const char *elf;
    const char *table;
    const char *core;
    const char *output;
    bool cpp;
    bool all_partitions;
    int partition;
    enum romfs_report_format format;
    struct romfs_check_options opt;
};

static bool push(const char **list, size_t *n, const char *value)
{
    if (*n >= MAX_LIST)
        return false;
    list[(*n)++] = value;
    return true;
}

static int parse_args(int argc, char **argv, struct check_args *a)
{
    enum { OPT_BOARD = 256, OPT_PARTITION, OPT_ELF, OPT_LD, OPT_DEFSYM, OPT_CPP, OPT_FORMAT, OPT_CAP,
           OPT_CORE, OPT_TABLE };
    static const struct option longopts[] = {
        { "board", required_argument, NULL, OPT_BOARD },
        { "partition", required_argument, NULL, OPT_PARTITION },
        { "elf", required_argument, NULL, OPT_ELF },
        { "ld", required_argument, NULL, OPT_LD },
        { "defsym", required_argument, NULL, OPT_DEFSYM },
        { "cpp", no_argument, NULL, OPT_CPP },
        { "format", required_argument, NULL, OPT_FORMAT },
        { "align-cap", required_argument, NULL, OPT_CAP },
        { "core", required_argument, NULL, OPT_CORE },
        { "partition-table", required_argument, NULL, OPT_TABLE },
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    memset(a, 0, sizeof *a);
    int c;
    struct romfs_error err = { 0 };
    struct cli_options cli = { .command = "check", .shortopts = "hL:D:o:", .longopts = longopts,
                               .help = usage, .argc = argc, .argv = argv };
    while ((c = cli_next_option(&cli)) > 0) {
        bool ok = true;
        switch (c) {
        case OPT_BOARD: ok = push(a->boards, &a->n_boards, optarg); break;
        case OPT_LD: ok = push(a->scripts, &a->n_scripts, optarg); break;
        case 'L': ok = push(a->dirs, &a->n_dirs, optarg); break;
        case OPT_DEFSYM: ok = push(a->defsyms, &a->n_defsyms, optarg); break;
        case 'D': ok = push(a->defines, &a->n_defines, optarg); break;
        case OPT_CPP: a->cpp = true; break;
        case OPT_ELF: a->elf = optarg; break;
        case OPT_CORE: a->core = optarg; break;
        case OPT_TABLE: a->table = optarg; break;
        case 'o': a->output = optarg; break;
        case OPT_PARTITION: {
            if (strcmp(optarg, "all") == 0) {
                a->all_partitions = true;
                break;
            }
            uint64_t v;
            if (!cli_option_number("check", "partition", optarg, 0, 15, false, &v))
                return EXIT_USAGE;
            a->partition = (int)v;
            break;
        }
        case OPT_FORMAT:
            if (romfs_report_parse_format(optarg, &a->format, &err))
                return cli_usage_error("check", "%s", err.msg);
            break;
        case OPT_CAP: {
            uint64_t v;
            if (!cli_parse_size(optarg, &v) || v == 0 || (v & (v - 1)) || v > (1u << 30))
                return cli_usage_error("check", "--align-cap wants a power of two, not '%s'", optarg);
            a->opt.align_cap = (uint32_t)v;
            break;
        }
        default:
            return cli_usage_error("check", "unknown option or missing value: '%s'", argv[optind - 1]);
        }
        if (!ok)
            return cli_usage_error("check", "too many values for one option (at most %d)", MAX_LIST);
    }
    if (c == CLI_OPTIONS_EXIT)
        return cli.exit_code ? cli.exit_code : -1;
    if (optind >= argc)
        return cli_usage_error("check", "no IMAGE given");
    if (optind + 1 < argc)
        return cli_usage_error("check", "one IMAGE at a time ('%s' is extra)", argv[optind + 1]);
    a->image = argv[optind];
    if ((a->elf != NULL) + (a->n_scripts != 0) + (a->table != NULL) > 1)
        return cli_usage_error("check", "--elf, --ld and --partition-table each name the partition; give one");
    if (!a->n_boards && !a->elf && !a->n_scripts && !a->table)
        return cli_usage_error("check", "say where the partition is: --board, --elf or --ld (esp32: --partition-table)");
    if ((a->elf || a->n_scripts || a->table) && a->n_boards > 1)
        return cli_usage_error("check", "--elf/--ld/--partition-table describe one build: give at most one --board");
    if (a->core && (a->all_partitions || a->elf || a->n_scripts || a->table))
        return cli_usage_error("check", "--core picks one boards.json partition: not with --partition all, --elf, --ld "
                               "or --partition-table");
    if ((a->elf || a->n_scripts) && a->all_partitions)
        return cli_usage_error("check", "--partition all needs boards.json; name the index");
    if (a->table && (a->all_partitions || a->partition != 0))
        return cli_usage_error("check", "an esp32 partition table has one ROMFS partition (index 0): drop --partition");
    if (!a->n_scripts && (a->n_dirs || a->n_defsyms || a->n_defines || a->cpp))
        return cli_usage_error("check", "-L, --defsym, -D and --cpp apply to --ld scripts only");
    return 0;
}

int cmd_check(int argc, char **argv)
{
    static struct check_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;

    struct romfs_error err = { 0 };
    struct romfs_boards db = { 0 };
    if (a.n_boards && romfs_boards_load(NULL, &db, &err))
        return cli_fail(&err);
    struct romfs_ld_input ld = {
        .scripts = a.scripts, .n_scripts = a.n_scripts,
        .search_dirs = a.dirs, .n_search_dirs = a.n_dirs,
        .defsyms = a.defsyms, .n_defsyms = a.n_defsyms,
        .cpp_defines = a.defines, .n_cpp_defines = a.n_defines,
        .preprocess = a.cpp,
    };
    struct romfs_check_sources src = {
        .boards = a.boards, .n_boards = a.n_boards,
        .partition = a.partition, .all_partitions = a.all_partitions, .core = a.core,
        .elf = a.elf, .partition_table = a.table, .ld = a.n_scripts ? &ld : NULL,
    };
    struct romfs_check_target *targets = NULL;
    size_t n_targets = 0;
    struct romfs_report report;
    romfs_report_init(&report, "romfs check");
    size_t failed = 0;
    int exit_code = EXIT_OK;
    if (romfs_check_resolve(&db, &src, &targets, &n_targets, &err) != ROMFS_OK) {
        cli_print_error(&err);      /* a source that cannot be used is an input error */
        exit_code = EXIT_USAGE;
    } else if ((rc = romfs_check_file(a.image, targets, n_targets, &a.opt, &report, &failed,
                                      &err)) != ROMFS_OK) {
        cli_print_error(&err);      /* so is an unreadable image */
        exit_code = rc == ROMFS_ERR_NOMEM ? EXIT_FAIL : EXIT_USAGE;
    } else if (cli_write_report(&report, a.format, a.output, &err) != ROMFS_OK) {
        exit_code = cli_fail(&err);
    } else if (failed) {
        exit_code = EXIT_FAIL;
    }
    romfs_report_free(&report);
    free(targets);
    romfs_boards_free(&db);
    return exit_code;
}
