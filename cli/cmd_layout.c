/* cmd_layout.c: `romfs layout --board BOARD --romfs-size SIZE`: parse, plan (lib/plan/layout.c), print. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "ld/elf.h"
#include "plan/layout.h"

CLI_COMMAND(layout, "propose firmware / ROMFS / filesystem flash boundaries for a board");

static void usage(FILE *out)
{
    fprintf(out,
"usage: romfs layout --board BOARD --romfs-size SIZE [--fs-size SIZE]\n"
"                    [--elf FIRMWARE | --firmware-size SIZE] [--headroom SIZE]\n"
"                    [--align N] [--json] [-o FILE]\n"
"\n"
"Propose where the firmware, a ROMFS partition and the writable filesystem go in the\n"
"board's main (memory-mapped) flash, from the firmware's start to the end of flash:\n"
"the filesystem at the top, the ROMFS directly below it, the firmware region gets all\n"
"the rest (the most room to grow). Every boundary is an erase-block boundary, using\n"
"the board's sector map where the sectors differ (STM32). The layout is refused, with\n"
"the shortfall in bytes, when the firmware would reach into the ROMFS.\n"
"\n"
"Prints a linker MEMORY fragment with _micropy_hw_romfs_part0_start/_size (or JSON).\n"
"\n"
"Options:\n"
"  --board BOARD        board from boards.json ($ROMFS_BOARDS names another file)\n"
"  --romfs-size SIZE    ROMFS bytes (e.g. 256K, 1M); rounded up to whole erase blocks\n"
"  --fs-size SIZE       filesystem bytes (0 = none); default: the board's current one\n"
"  --elf FIRMWARE       the built firmware: its flash footprint is what must fit\n"
"  --firmware-size SIZE firmware footprint without an ELF; default: the whole text\n"
"                       region of the board's linker script\n"
"  --headroom SIZE      room the firmware must keep to grow (default 0)\n"
"  --align N            ROMFS start alignment beyond the erase block (power of two)\n"
"  --json               print the plan as JSON instead of the MEMORY fragment\n"
"  -o FILE              write to FILE instead of standard output\n"
"\n"
"Exits 1 when the layout does not fit.\n"
"Example: romfs layout --board ADAFRUIT_ITSYBITSY_M4_EXPRESS --romfs-size 128K --elf build/firmware.elf\n");
}

static bool size_arg(const char *opt, const char *text, uint64_t *out)
{
    if (cli_parse_size(text, out))
        return true;
    cli_usage_error("layout", "%s wants a size such as 4096, 0x1000, 64K or 1M, not '%s'", opt, text);
    return false;
}

static int write_out(const char *path, const char *text)
{
    struct romfs_error err = { 0 };
    if (romfs_write_file_atomic(path ? path : "-", (const uint8_t *)text, strlen(text), &err) != ROMFS_OK)
        return cli_fail(&err);
    return EXIT_OK;
}

int cmd_layout(int argc, char **argv)
{
    enum { OPT_BOARD = 256, OPT_ROMFS, OPT_FS, OPT_ELF, OPT_FW, OPT_HEAD, OPT_ALIGN, OPT_JSON };
    static const struct option longopts[] = {
        { "board", required_argument, NULL, OPT_BOARD },
        { "romfs-size", required_argument, NULL, OPT_ROMFS },
        { "fs-size", required_argument, NULL, OPT_FS },
        { "elf", required_argument, NULL, OPT_ELF },
        { "firmware-size", required_argument, NULL, OPT_FW },
        { "headroom", required_argument, NULL, OPT_HEAD },
        { "align", required_argument, NULL, OPT_ALIGN },
        { "json", no_argument, NULL, OPT_JSON },
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *board_name = NULL, *elf = NULL, *output = NULL;
    bool json = false, have_romfs = false;
    struct romfs_layout_request req;
    memset(&req, 0, sizeof req);
    uint64_t v;
    int c;
    struct cli_options cli = { .command = "layout", .shortopts = "ho:", .longopts = longopts,
                               .help = usage, .argc = argc, .argv = argv };
    while ((c = cli_next_option(&cli)) > 0) {
        switch (c) {
        case OPT_BOARD: board_name = optarg; break;
        case OPT_ELF: elf = optarg; break;
        case OPT_JSON: json = true; break;
        case 'o': output = optarg; break;
        case OPT_ROMFS:
            if (!size_arg("--romfs-size", optarg, &req.romfs_size))
                return EXIT_USAGE;
            have_romfs = true;
            break;
        case OPT_FS:
            if (!size_arg("--fs-size", optarg, &req.fs_size))
                return EXIT_USAGE;
            req.fs_size_given = true;
            break;
        case OPT_FW:
            if (!size_arg("--firmware-size", optarg, &req.firmware_size))
                return EXIT_USAGE;
            req.firmware_size_given = true;
            req.firmware_source = "--firmware-size";
            break;
        case OPT_HEAD:
            if (!size_arg("--headroom", optarg, &req.headroom))
                return EXIT_USAGE;
            break;
        case OPT_ALIGN:
            if (!size_arg("--align", optarg, &v))
                return EXIT_USAGE;
            if (!v || (v & (v - 1)) || v > (1u << 30))
                return cli_usage_error("layout", "--align wants a power of two, not '%s'", optarg);
            req.align = (uint32_t)v;
            break;
        default:
            return cli_usage_error("layout", "unknown option or missing value: '%s'", argv[optind - 1]);
        }
    }
    if (c == CLI_OPTIONS_EXIT)
        return cli.exit_code;
    if (optind < argc)
        return cli_usage_error("layout", "unexpected argument '%s'", argv[optind]);
    if (!board_name)
        return cli_usage_error("layout", "--board BOARD is required");
    if (!have_romfs || !req.romfs_size)
        return cli_usage_error("layout", "--romfs-size SIZE (more than 0) is required");
    if (elf && req.firmware_size_given)
        return cli_usage_error("layout", "--elf and --firmware-size both give the firmware size; give one");

    struct romfs_error err = { 0 };
    struct romfs_boards db;
    memset(&db, 0, sizeof db);
    if (romfs_boards_load(NULL, &db, &err))
        return cli_fail(&err);
    int exit_code = EXIT_OK;
    const struct romfs_board *b = romfs_boards_lookup(&db, board_name, &err);
    char source[300];
    if (!b) {
        exit_code = cli_fail(&err);
    } else if (elf) {
        struct romfs_elf_info info;
        memset(&info, 0, sizeof info);
        if (romfs_elf_read(elf, &info, &err)) {
            cli_print_error(&err);
            exit_code = EXIT_USAGE;
        } else {
            uint64_t lo = b->text_size ? b->text_start : b->flash_base;
            uint64_t end = romfs_elf_text_end_in(&info, lo, b->flash_base + b->flash_size);
            if (end <= lo) {
                cli_error("%s: no loaded section lies in %s's flash from 0x%08llx", elf, b->name,
                          (unsigned long long)lo);
                exit_code = EXIT_USAGE;
            }
            req.firmware_size_given = true;
            req.firmware_size = end - lo;
            snprintf(source, sizeof source, "%s, flash text up to 0x%08llx", elf, (unsigned long long)end);
            req.firmware_source = source;
        }
        romfs_elf_info_free(&info);
    }
    struct romfs_layout_plan plan;
    if (!exit_code && romfs_layout_plan(b, &req, &plan, &err))
        exit_code = cli_fail(&err);
    if (!exit_code) {
        char *text = json ? romfs_layout_to_json(&plan) : romfs_layout_render_ld(&plan);
        if (!text) {
            cli_error("out of memory");
            exit_code = EXIT_FAIL;
        } else {
            if (json) {
                size_t n = strlen(text);
                char *nl = realloc(text, n + 2);
                if (nl) {
                    text = nl;
                    memcpy(text + n, "\n", 2);
                }
            }
            exit_code = write_out(output, text);
            free(text);
            if (!exit_code && plan.firmware_estimated && !json)
                fprintf(stderr, "romfs: note: the plan takes the firmware to fill its whole region; "
                        "pass --elf FIRMWARE for the built size\n");
        }
    }
    romfs_boards_free(&db);
    return exit_code;
}
