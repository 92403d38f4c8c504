/* cmd_layout.c: `romfs layout --board BOARD --romfs-size SIZE`: parse, plan (lib/plan/layout.c), print. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "boards/esp32.h"
#include "plan/layout.h"

CLI_COMMAND(layout, "propose firmware / ROMFS / filesystem flash boundaries for a board");

static void usage(FILE *out)
{
    fprintf(out,
"usage: romfs layout --board BOARD --romfs-size SIZE [--fs-size SIZE]\n"
"                    [--elf FIRMWARE | --firmware-size SIZE] [--headroom SIZE]\n"
"                    [--device NAME] [--partition-table TABLE] [--align N]\n"
"                    [--json] [-o FILE]\n"
"\n"
"Plan a ROMFS partition on any board, in the board's flash map (boards.json: its flash\n"
"devices, bootloaders, firmware, ROMFS and filesystem; free space is what none covers).\n"
"\n"
"By default the writable filesystem keeps its start and size (no reformat, its files\n"
"stay); the ROMFS replaces the board's ROMFS partition if it has one and takes free\n"
"space, else the firmware's unused tail (the firmware region shrinks: measured with\n"
"--elf, it keeps what the build uses plus --headroom, rounded up to an erase block).\n"
"--fs-size moves the filesystem: it takes the top of its run of flash, the ROMFS sits\n"
"below it, the firmware gets the rest; the filesystem must then be reformatted and the\n"
"files on it are lost. Every boundary is on an erase block (STM32's sector map too).\n"
"\n"
"Prints the plan in the port's own terms, with comments saying what changes: a linker\n"
"MEMORY fragment with _micropy_hw_romfs_part0_start/_size (stm32, nrf, mimxrt,\n"
"renesas-ra, alif, ...; nrf and mimxrt also get their own value), MICROPY_HW_ROMFS_BYTES\n"
"for rp2 (ROMFS just below the filesystem), MICROPY_HW_CODESIZE and\n"
"MICROPY_HW_ROMFS_BYTES for samd, partition table rows for esp32 (a data partition\n"
"labelled romfs). --json gives the same plan for programs.\n"
"\n"
"Options:\n"
"  --board BOARD        board from boards.json ($ROMFS_BOARDS names another file)\n"
"  --romfs-size SIZE    ROMFS bytes (e.g. 256K, 1M); rounded up to whole erase blocks\n"
"  --fs-size SIZE       move the filesystem and give it SIZE (0 = none): REFORMAT\n"
"  --elf FIRMWARE       the built firmware: the end of its loaded sections in flash is\n"
"                       what the firmware needs\n"
"  --firmware-size SIZE the firmware's size without an ELF (esp32: of micropython.bin)\n"
"  --headroom SIZE      margin the firmware keeps above its measured end (default 0)\n"
"  --device NAME        plan on this flash device (internal, qspi, ...; see boards show)\n"
"  --partition-table TABLE\n"
"                       esp32: plan in this partition table (CSV or binary) instead of\n"
"                       the board's default one\n"
"  --align N            ROMFS start alignment beyond the erase block (power of two)\n"
"  --json               print the plan as JSON\n"
"  -o FILE              write to FILE instead of standard output\n"
"\n"
"Exits 1 when the ROMFS does not fit (the message says how much is free where, and\n"
"what would make room), 2 for a usage error.\n"
"Examples: romfs layout --board NUCLEO_F446RE --romfs-size 128K\n"
"          romfs layout --board RPI_PICO --romfs-size 256K\n"
"          romfs layout --board ADAFRUIT_ITSYBITSY_M4_EXPRESS --romfs-size 64K --elf build/firmware.elf\n"
"          romfs layout --board ESP32_GENERIC --partition-table partitions-4MiB-romfs.csv --romfs-size 256K\n");
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
    enum { OPT_BOARD = 256, OPT_ROMFS, OPT_FS, OPT_ELF, OPT_FW, OPT_HEAD, OPT_ALIGN, OPT_JSON, OPT_DEVICE, OPT_TABLE };
    static const struct option longopts[] = {
        { "board", required_argument, NULL, OPT_BOARD },
        { "romfs-size", required_argument, NULL, OPT_ROMFS },
        { "fs-size", required_argument, NULL, OPT_FS },
        { "elf", required_argument, NULL, OPT_ELF },
        { "firmware-size", required_argument, NULL, OPT_FW },
        { "headroom", required_argument, NULL, OPT_HEAD },
        { "align", required_argument, NULL, OPT_ALIGN },
        { "device", required_argument, NULL, OPT_DEVICE },
        { "partition-table", required_argument, NULL, OPT_TABLE },
        { "json", no_argument, NULL, OPT_JSON },
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *board_name = NULL, *output = NULL, *table_path = NULL;
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
        case OPT_ELF: req.elf = optarg; break;
        case OPT_JSON: json = true; break;
        case OPT_DEVICE: req.device = optarg; break;
        case OPT_TABLE: table_path = optarg; break;
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
    if (req.elf && req.firmware_size_given)
        return cli_usage_error("layout", "--elf and --firmware-size both give the firmware size; give one");

    struct romfs_error err = { 0 };
    struct romfs_boards db;
    struct romfs_esp32_table table;
    memset(&db, 0, sizeof db);
    memset(&table, 0, sizeof table);
    if (table_path) {
        if (romfs_esp32_table_load(table_path, &table, &err)) {
            romfs_esp32_table_free(&table);
            return cli_fail(&err);
        }
        req.partition_table = &table;
        req.partition_table_name = table_path;
    }
    int exit_code = EXIT_OK;
    if (romfs_boards_load(NULL, &db, &err))
        exit_code = cli_fail(&err);
    const struct romfs_board *b = exit_code ? NULL : romfs_boards_lookup(&db, board_name, &err);
    if (!exit_code && !b)
        exit_code = cli_fail(&err);
    struct romfs_layout_plan plan;
    memset(&plan, 0, sizeof plan);
    if (!exit_code && romfs_layout_plan(b, &req, &plan, &err)) {
        /* An ELF that cannot be read is bad input, not a layout that does not fit. */
        exit_code = req.elf && err.code != ROMFS_ERR_FBIG && err.code != ROMFS_ERR_INVAL ? (cli_print_error(&err), EXIT_USAGE)
                                                                                          : cli_fail(&err);
    }
    if (!exit_code) {
        char *text = json ? romfs_layout_to_json(&plan) : romfs_layout_render(&plan);
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
        }
        const char *fs_name = plan.fs_before.name && strcmp(plan.fs_before.name, "filesystem") ? plan.fs_before.name : NULL;
        if (!exit_code && plan.fs_moved && plan.fs.size && plan.fs_before.size)
            cli_warn("the filesystem%s%s moves (0x%08llx, %llu bytes -> 0x%08llx, %llu bytes): it must be "
                     "reformatted, and the files on it are lost; copy them off the board first",
                     fs_name ? " " : "", fs_name ? fs_name : "", (unsigned long long)plan.fs_before.start,
                     (unsigned long long)plan.fs_before.size, (unsigned long long)plan.fs.start,
                     (unsigned long long)plan.fs.size);
        else if (!exit_code && plan.fs_moved && plan.fs_before.size)
            cli_warn("the filesystem%s%s (0x%08llx, %llu bytes) is removed: the files on it are lost; copy them "
                     "off the board first", fs_name ? " " : "", fs_name ? fs_name : "",
                     (unsigned long long)plan.fs_before.start, (unsigned long long)plan.fs_before.size);
        else if (!exit_code && plan.fs_moved)
            cli_warn("a new filesystem (0x%08llx, %llu bytes) must be formatted", (unsigned long long)plan.fs.start,
                     (unsigned long long)plan.fs.size);
        if (!exit_code && plan.firmware_estimated && plan.firmware_on_device &&
            plan.firmware.size != plan.firmware_before.size && !json)
            fprintf(stderr, "romfs: note: the firmware's maximum changes from %llu to %llu bytes and its size "
                    "was not measured: pass --elf FIRMWARE (or --firmware-size) to check that the build fits\n",
                    (unsigned long long)plan.firmware_before.size, (unsigned long long)plan.firmware.size);
    }
    romfs_layout_plan_free(&plan);
    romfs_esp32_table_free(&table);
    romfs_boards_free(&db);
    return exit_code;
}
