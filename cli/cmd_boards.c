/* cmd_boards.c: `romfs boards import|list|show|lint`: the board database. */
#include "cli.h"
#include "board_map.h"
#include "base/text.h"

#include "boards/import.h"
#include "boards/lint.h"
#include "plan/check.h"

#include <cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

CLI_COMMAND(boards, "the board database: list, show, import from MicroPython, lint layouts");

static const char boards_usage[] =
    "usage: romfs boards list [--port PORT] [--romfs] [--json] [--db FILE]\n"
    "       romfs boards show BOARD [--json | --svg FILE] [--db FILE] [--partition-table TABLE]\n"
    "       romfs boards import MICROPYTHON_TREE [-o FILE] [--port PORT] [--version V] [--commit C]\n"
    "       romfs boards lint [--json] [--port PORT] [--fs-floor SIZE] [--db FILE]\n"
    "                         [MICROPYTHON_TREE | SCRIPT...]\n"
    "\n"
    "The board database (boards.json) records every MicroPython board of the tree, with or\n"
    "without a ROMFS partition: its flash map (each flash device, and on it the\n"
    "bootloaders, the firmware, the ROMFS partitions and the writable filesystem, each\n"
    "value with the file:line it came from), where each ROMFS partition is (start, size,\n"
    "erase block, write size, memory mapped or not, how MicroPython hands it out), the\n"
    "flash regions of the firmware link, and how to reach the board (REPL USB id, DFU,\n"
    "SWD targets, UF2 family). The built-in copy is used unless --db FILE or\n"
    "$ROMFS_BOARDS names another.\n"
    "\n"
    "  list     one line per board: port, name, MCU, ROMFS (yes; option: a build option\n"
    "           adds it; no), partitions\n"
    "  show     everything known about one board (name is case-insensitive), and its flash\n"
    "           map: one bar per flash device (internal, qspi, spi...) in proportion to the\n"
    "           bytes, each area lettered (bootloader #, firmware =, ROMFS %, filesystem ~,\n"
    "           reserved :, free ., overlapping X; in colour on a terminal unless NO_COLOR\n"
    "           is set), and under it each area and free range with its addresses, size\n"
    "           and source (file:line)\n"
    "  import   regenerate boards.json from a MicroPython source tree by evaluating each\n"
    "           board's linker scripts as its port's Makefile passes them; writes FILE\n"
    "           (default: stdout) atomically; a board whose scripts fail is reported\n"
    "           with file:line and left out, the rest imported, and the exit status is 2\n"
    "  lint     check flash layouts. On a board's flash map: any overlap of bootloader,\n"
    "           firmware, ROMFS, filesystem and reserved areas on one device (two cores'\n"
    "           builds may name one range as the same thing, e.g. one ROMFS both read),\n"
    "           ROMFS on the flash a filesystem's block device uses, a filesystem left\n"
    "           with no room (error) or below the floor (warning), an area past the end\n"
    "           of its device (the C configuration's size against the linker script's),\n"
    "           ROMFS on flash that is not memory-mapped where the port needs it mapped,\n"
    "           a value recorded from two sources that differ. Without a map (and for\n"
    "           linker scripts): overlapping MEMORY regions, ROMFS running into the next\n"
    "           region, firmware on top of a bootloader, ROMFS outside memory-mapped flash,\n"
    "           regions past the end of device flash. Always: ROMFS not aligned to or not\n"
    "           a whole number of erase blocks. Each finding names the board, the areas,\n"
    "           the addresses and the sources (file:line). Given a tree, lints every board\n"
    "           imported from it; given linker scripts, lints their MEMORY regions; given\n"
    "           nothing, lints the board database. Exit 1 if any error-severity finding.\n"
    "\n"
    "Options:\n"
    "  --json        machine-readable output\n"
    "  --port PORT   only boards of this port (alif, cc3200, esp32, esp8266, mimxrt, nrf,\n"
    "                psoc-edge, qemu, renesas-ra, rp2, samd, stm32)\n"
    "  --romfs       (list) only boards with a ROMFS partition in their default build\n"
    "                Example: romfs boards list --romfs --port samd\n"
    "  --db FILE     read this boards.json instead of the built-in one\n"
    "  --svg FILE    (show) write the flash map as an SVG drawing to FILE (\"-\": stdout)\n"
    "                instead of printing; the same board always gives the same file\n"
    "  --fs-floor SIZE\n"
    "                (lint) warn about a filesystem smaller than SIZE (default 64K; 0: never)\n"
    "  --partition-table TABLE\n"
    "                (show, esp32 boards) also show the ROMFS partition of this ESP-IDF\n"
    "                partition table (CSV or binary), as `romfs check --partition-table` uses it\n"
    "  -o FILE       (import) write here instead of stdout\n"
    "\n"
    "Examples:\n"
    "  romfs boards show PYBD_SF2                  # the board and its flash map\n"
    "  romfs boards show PYBD_SF2 --svg pybd.svg   # the map as a drawing\n"
    "  romfs boards show RPI_PICO --json           # devices, areas and free ranges as JSON\n"
    "  romfs boards lint --port alif               # the boards of one port in boards.json\n"
    "  romfs boards lint --port renesas-ra --fs-floor 128K --json   # filesystems under 128K warned\n";

static int usage_ok(void)
{
    fputs(boards_usage, stdout);
    fputs(cli_exit_status_help, stdout);
    return EXIT_OK;
}

struct opts {
    const char *port, *db, *out, *version, *commit, *table, *svg;
    bool json, romfs;
    bool have_floor;
    uint64_t fs_floor;
    char **args;     /* operands, borrowed from argv */
    int n_args;
};

static void boards_help(FILE *out)
{
    fputs(boards_usage, out);
}

/* argv[0] is the subcommand; its options and operands follow. */
static int parse_opts(const char *sub, int argc, char **argv, struct opts *o, bool *help)
{
    enum { O_JSON = 256, O_PORT, O_DB, O_TABLE, O_VERSION, O_COMMIT, O_ROMFS, O_SVG, O_FLOOR };
    static const struct option longopts[] = {
        { "json", no_argument, NULL, O_JSON }, { "port", required_argument, NULL, O_PORT },
        { "db", required_argument, NULL, O_DB }, { "output", required_argument, NULL, 'o' },
        { "partition-table", required_argument, NULL, O_TABLE },
        { "version", required_argument, NULL, O_VERSION },
        { "commit", required_argument, NULL, O_COMMIT }, { "romfs", no_argument, NULL, O_ROMFS },
        { "svg", required_argument, NULL, O_SVG }, { "fs-floor", required_argument, NULL, O_FLOOR },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    memset(o, 0, sizeof *o);
    *help = false;
    char command[64];
    snprintf(command, sizeof command, "boards %s", sub);
    struct cli_options cli = { .command = command, .shortopts = "o:h", .longopts = longopts,
                               .help = boards_help, .argc = argc, .argv = argv };
    int c;
    while ((c = cli_next_option(&cli)) > 0) {
        switch (c) {
        case O_JSON: o->json = true; break;
        case O_PORT: o->port = optarg; break;
        case O_DB: o->db = optarg; break;
        case 'o': o->out = optarg; break;
        case O_TABLE: o->table = optarg; break;
        case O_VERSION: o->version = optarg; break;
        case O_COMMIT: o->commit = optarg; break;
        case O_ROMFS: o->romfs = true; break;
        case O_SVG: o->svg = optarg; break;
        case O_FLOOR:
            if (!cli_option_number(command, "--fs-floor", optarg, 0, UINT32_MAX, true, &o->fs_floor))
                return EXIT_USAGE;
            o->have_floor = true;
            break;
        }
    }
    if (c == CLI_OPTIONS_EXIT) {
        *help = cli.exit_code == EXIT_OK;
        return cli.exit_code;
    }
    o->args = argv + optind;
    o->n_args = argc - optind;
    return EXIT_OK;
}

static const char *hx(char *buf, size_t n, uint64_t v)
{
    snprintf(buf, n, "0x%08" PRIx64, v);
    return buf;
}

/* ---- list ---- */

/* "yes": a ROMFS partition in the default build; "option": a build option adds one; "no". */
static const char *romfs_word(const struct romfs_board *b)
{
    return b->n_partitions ? "yes" : b->romfs_option ? "option" : "no";
}

static bool listed(const struct opts *o, const struct romfs_board *b)
{
    return (!o->port || strcasecmp(o->port, b->port) == 0) && (!o->romfs || b->n_partitions);
}

static int do_list(const struct opts *o, const struct romfs_boards *db)
{
    if (o->json) {
        cJSON *arr = cJSON_CreateArray();
        for (size_t i = 0; i < db->n; i++) {
            const struct romfs_board *b = &db->boards[i];
            if (!listed(o, b))
                continue;
            cJSON *j = cJSON_CreateObject();
            cJSON_AddStringToObject(j, "board", b->name);
            cJSON_AddStringToObject(j, "port", b->port);
            if (b->mcu)
                cJSON_AddStringToObject(j, "mcu", b->mcu);
            cJSON_AddStringToObject(j, "romfs", romfs_word(b));
            cJSON_AddNumberToObject(j, "partitions", (double)b->n_partitions);
            cJSON_AddItemToArray(arr, j);
        }
        char *s = cJSON_Print(arr);
        cJSON_Delete(arr);
        if (!s)
            return cli_usage_error("boards", "out of memory");
        puts(s);
        free(s);
        return EXIT_OK;
    }
    size_t shown = 0;
    for (size_t i = 0; i < db->n; i++) {
        const struct romfs_board *b = &db->boards[i];
        if (!listed(o, b))
            continue;
        printf("%-11s %-36s %-16s %s%*s", b->port, b->name, b->mcu ? b->mcu : "-", romfs_word(b),
               b->n_partitions ? 6 - (int)strlen(romfs_word(b)) : 0, "");
        for (size_t k = 0; k < b->n_partitions; k++) {
            const struct romfs_partition *p = &b->partitions[k];
            char sz[64];
            printf(" part%d%s%s@0x%08" PRIx64 "+%s", p->index, p->core ? "/" : "", p->core ? p->core : "", p->start,
                   cli_human_size(p->size, sz, sizeof sz));
        }
        printf("\n");
        shown++;
    }
    bool port_known = false;
    for (size_t i = 0; o->port && i < db->n; i++)
        port_known = port_known || strcasecmp(o->port, db->boards[i].port) == 0;
    if (!shown && o->port && !port_known) {
        /* the ports the database has, and the closest to what was typed */
        char ports[512] = "";
        struct romfs_suggest sug;
        romfs_suggest_init(&sug, o->port);
        for (size_t i = 0; i < db->n; i++) {
            const char *port = db->boards[i].port;
            if (i && strcmp(port, db->boards[i - 1].port) == 0)
                continue;   /* boards are sorted by port */
            romfs_suggest_consider(&sug, port);
            size_t n = strlen(ports);
            snprintf(ports + n, sizeof ports - n, "%s%s", n ? ", " : "", port);
        }
        if (sug.best)
            cli_error("no boards for port '%s' (did you mean '%s'?); the ports are: %s", o->port, sug.best, ports);
        else
            cli_error("no boards for port '%s'; the ports are: %s", o->port, ports);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* ---- show ---- */

/* Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
static bool use_colour(void)
{
    const char *no = getenv("NO_COLOR");
    return isatty(STDOUT_FILENO) && !(no && *no);
}

/* The bar's width: the terminal's, else $COLUMNS, else 80; at most 120. */
static int terminal_width(void)
{
    int cols = 0;
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
        cols = ws.ws_col;
    const char *env = getenv("COLUMNS");
    if (!cols && env)
        cols = atoi(env);
    if (cols < 40)
        cols = cols ? 40 : 80;
    return cols > 120 ? 120 : cols;
}

static int show_svg(const struct opts *o, const struct romfs_board *b)
{
    if (o->json)
        return cli_usage_error("boards", "--svg and --json are two outputs; choose one");
    char *svg = board_map_svg(b);
    if (!svg)
        return cli_usage_error("boards", "out of memory");
    struct romfs_error err = { 0 };
    int rc = romfs_write_file_atomic(o->svg, (const uint8_t *)svg, strlen(svg), &err);
    free(svg);
    if (rc)
        return cli_fail(&err);
    if (strcmp(o->svg, "-") != 0)
        fprintf(stderr, "romfs: wrote the flash map of %s to %s\n", b->name, o->svg);
    return EXIT_OK;
}

static int do_show(const struct opts *o, const struct romfs_boards *db)
{
    if (o->n_args != 1)
        return cli_usage_error("boards", "show needs exactly one BOARD");
    struct romfs_error err = { 0 };
    const struct romfs_board *b = romfs_boards_lookup(db, o->args[0], &err);
    if (!b)
        return cli_fail(&err);
    struct romfs_check_target table_part;
    if (o->table && romfs_check_target_from_partition_table(o->table, b, &table_part, &err)) {
        cli_print_error(&err);
        return EXIT_USAGE;
    }
    if (o->svg)
        return show_svg(o, b);
    if (o->json) {
        /* the board as boards.json holds it, its flash map device by device (areas and free
           ranges, as the text draws it), and the partition table's ROMFS when given */
        char *text = romfs_board_to_json(b, NULL, NULL);
        cJSON *j = text ? cJSON_Parse(text) : NULL;
        free(text);
        cJSON *map = j ? board_map_json(b) : NULL;
        if (!map) {
            cJSON_Delete(j);
            return cli_usage_error("boards", "out of memory");
        }
        cJSON_AddItemToObject(j, "flash_map", map);
        if (o->table) {
            cJSON *t = cJSON_AddObjectToObject(j, "partition_table_romfs");
            char hexs[32];
            cJSON_AddStringToObject(t, "table", o->table);
            cJSON_AddStringToObject(t, "start", hx(hexs, sizeof hexs, table_part.start));
            cJSON_AddNumberToObject(t, "size", (double)table_part.size);
            cJSON_AddNumberToObject(t, "erase_block", table_part.erase_block);
            cJSON_AddNumberToObject(t, "write_block", table_part.write_block);
            cJSON_AddStringToObject(t, "mmap", "runtime");
            cJSON_AddStringToObject(t, "source", table_part.source);
        }
        char *out = cJSON_Print(j);
        cJSON_Delete(j);
        if (!out)
            return cli_usage_error("boards", "out of memory");
        puts(out);
        free(out);
        return EXIT_OK;
    }
    char a[32], c[32], sz[64];
    printf("board:        %s\nport:         %s\n", b->name, b->port);
    if (b->mcu)
        printf("mcu:          %s\n", b->mcu);
    if (b->variant)
        printf("variant:      %s\n", b->variant);
    if (b->flash_size)
        printf("flash:        %s, %s, erase %u, write %u\n", hx(a, sizeof a, b->flash_base),
               cli_human_size(b->flash_size, sz, sizeof sz), b->erase_block, b->write_block);
    for (size_t i = 0; i < b->n_erase_map; i++)
        printf("  sectors:    %s..%s of %u\n", hx(a, sizeof a, b->erase_map[i].start),
               hx(c, sizeof c, b->erase_map[i].start + b->erase_map[i].size), b->erase_map[i].block);
    if (b->text_region)
        printf("firmware:     %s %s, %s\n", b->text_region, hx(a, sizeof a, b->text_start),
               cli_human_size(b->text_size, sz, sizeof sz));
    if (b->fs_region)
        printf("filesystem:   %s %s, %s\n", b->fs_region, hx(a, sizeof a, b->fs_start),
               cli_human_size(b->fs_size, sz, sizeof sz));
    if (!b->n_partitions)
        printf("romfs:        none in the default build%s%s\n", b->romfs_option ? "; enable with " : "",
               b->romfs_option ? b->romfs_option : "");
    if (o->table) {
        printf("romfs part0 (table): %s..%s, %s, erase %u, write %u, flash offset mapped at run time\n",
               hx(a, sizeof a, table_part.start), hx(c, sizeof c, table_part.start + table_part.size),
               cli_human_size(table_part.size, sz, sizeof sz), table_part.erase_block, table_part.write_block);
        printf("  source:     %s\n", table_part.source);
    }
    for (size_t i = 0; i < b->n_partitions; i++) {
        const struct romfs_partition *p = &b->partitions[i];
        printf("romfs part%d%s%s: %s..%s, %s, erase %u, write %u, %s%s%s\n", p->index, p->core ? " " : "",
               p->core ? p->core : "", hx(a, sizeof a, p->start), hx(c, sizeof c, p->start + p->size),
               cli_human_size(p->size, sz, sizeof sz), p->erase_block, p->write_block,
               p->mmap ? "memory-mapped" : "not memory-mapped", p->device ? ", " : "", p->device ? p->device : "");
        if (p->source)
            printf("  source:     %s\n", p->source);
    }
    for (size_t i = 0; i < b->n_flash; i++)
        printf("region:       %-18s %s..%s %s\n", b->flash[i].name, hx(a, sizeof a, b->flash[i].origin),
               hx(c, sizeof c, b->flash[i].origin + b->flash[i].length), b->flash[i].attrs ? b->flash[i].attrs : "");
    if (b->linker_scripts)
        printf("ld scripts:   %s\n", b->linker_scripts);
    if (b->repl_usb)
        printf("repl usb:     %s\n", b->repl_usb);
    if (b->dfu_usb)
        printf("dfu:          %s alt %d (%s)%s%s\n", b->dfu_usb, b->dfu_alt, b->dfu_kind ? b->dfu_kind : "?",
               b->dfu_layout ? " " : "", b->dfu_layout ? b->dfu_layout : "");
    if (b->mboot_usb)
        printf("dfu (mboot):  %s alt 0 %s\n", b->mboot_usb, b->mboot_layout ? b->mboot_layout : "(layout unknown)");
    if (b->openocd_target || b->pyocd_target)
        printf("swd:          openocd %s, pyocd %s\n", b->openocd_target ? b->openocd_target : "-",
               b->pyocd_target ? b->pyocd_target : "-");
    if (b->has_uf2)
        printf("uf2 family:   0x%08x\n", b->uf2_family);
    return board_map_print(stdout, b, terminal_width(), use_colour());
}

/* ---- import ---- */

static int do_import(const struct opts *o)
{
    if (o->n_args != 1)
        return cli_usage_error("boards", "import needs exactly one MICROPYTHON_TREE");
    struct romfs_import_options io = { .version = o->version, .commit = o->commit, .only_port = o->port };
    struct romfs_boards db;
    struct romfs_error err = { 0 };
    int rc = romfs_boards_import(o->args[0], &io, &db, &err);
    if (rc && db.n == 0) {
        romfs_boards_free(&db);
        return cli_fail(&err);
    }
    /* Boards left out are reported (after the output) and make the exit status 2;
       the others are written. */
    int left_out = rc;
    struct romfs_error left_out_err = err;
    char *text = romfs_boards_to_json(&db);
    size_t n = db.n;
    romfs_boards_free(&db);
    if (!text)
        return cli_usage_error("boards", "out of memory");
    if (o->out && strcmp(o->out, "-") != 0) {
        rc = romfs_write_file_atomic(o->out, (const uint8_t *)text, strlen(text), &err);
        free(text);
        if (rc)
            return cli_fail(&err);
        fprintf(stderr, "romfs: wrote %zu boards to %s\n", n, o->out);
        return left_out ? cli_fail(&left_out_err) : EXIT_OK;
    }
    fputs(text, stdout);
    free(text);
    return left_out ? cli_fail(&left_out_err) : EXIT_OK;
}

static int cmd_boards_lint(const struct opts *o);

int cmd_boards(int argc, char **argv)
{
    if (argc < 2 && cli_option_lister) {   /* `romfs completion`: the options of every subcommand */
        struct opts o;
        bool help;
        char *none[] = { "list", NULL };
        return parse_opts("list", 1, none, &o, &help);
    }
    if (argc < 2)
        return cli_usage_error("boards", "missing subcommand (list, show, import, lint)");
    const char *sub = argv[1];
    struct opts o;
    bool help;
    if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0)
        return usage_ok();
    int rc = parse_opts(sub, argc - 1, argv + 1, &o, &help);
    if (rc || help)
        return rc;
    if (o.table && strcmp(sub, "show") != 0) {
        rc = cli_usage_error("boards", "--partition-table applies to 'boards show' only");
    } else if (o.svg && strcmp(sub, "show") != 0) {
        rc = cli_usage_error("boards", "--svg applies to 'boards show' only");
    } else if (o.have_floor && strcmp(sub, "lint") != 0) {
        rc = cli_usage_error("boards", "--fs-floor applies to 'boards lint' only");
    } else if (strcmp(sub, "import") == 0) {
        rc = do_import(&o);
    } else if (strcmp(sub, "lint") == 0) {
        rc = cmd_boards_lint(&o);
    } else if (strcmp(sub, "list") == 0 || strcmp(sub, "show") == 0) {
        struct romfs_boards db;
        struct romfs_error err = { 0 };
        if (romfs_boards_load(o.db, &db, &err))
            return cli_fail(&err);
        rc = strcmp(sub, "list") == 0 ? do_list(&o, &db) : do_show(&o, &db);
        romfs_boards_free(&db);
    } else {
        rc = cli_usage_error("boards", "unknown subcommand '%s' (list, show, import, lint)", sub);
    }
    return rc;
}

/* ---- lint ---- */

static void print_findings(const struct romfs_lint_report *r, bool json, size_t n_boards)
{
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddNumberToObject(root, "boards", (double)n_boards);
        cJSON_AddNumberToObject(root, "errors", (double)r->n_errors);
        cJSON_AddNumberToObject(root, "warnings", (double)r->n_warnings);
        cJSON *arr = cJSON_AddArrayToObject(root, "findings");
        for (size_t i = 0; i < r->n; i++) {
            const struct romfs_lint_finding *f = &r->findings[i];
            cJSON *j = cJSON_CreateObject();
            char a[32];
            cJSON_AddStringToObject(j, "board", f->board);
            cJSON_AddStringToObject(j, "check", f->check);
            cJSON_AddStringToObject(j, "severity", f->severity == ROMFS_LINT_ERROR ? "error" : "warning");
            cJSON_AddStringToObject(j, "region", f->region_a);
            if (f->region_b)
                cJSON_AddStringToObject(j, "other_region", f->region_b);
            cJSON_AddStringToObject(j, "address", hx(a, sizeof a, f->address));
            cJSON_AddNumberToObject(j, "bytes", (double)f->bytes);
            cJSON_AddStringToObject(j, "message", f->message);
            if (f->device)
                cJSON_AddStringToObject(j, "device", f->device);
            if (f->source_a)
                cJSON_AddStringToObject(j, "source", f->source_a);
            if (f->source_b)
                cJSON_AddStringToObject(j, "other_source", f->source_b);
            cJSON_AddItemToArray(arr, j);
        }
        char *s = cJSON_Print(root);
        cJSON_Delete(root);
        if (s)
            puts(s);
        free(s);
        return;
    }
    for (size_t i = 0; i < r->n; i++) {
        const struct romfs_lint_finding *f = &r->findings[i];
        char *msg = romfs_escape_text(f->message, strlen(f->message), ROMFS_ESCAPE_LINE);
        printf("%s: %s [%s]\n", f->severity == ROMFS_LINT_ERROR ? "error" : "warning", msg ? msg : f->message,
               f->check);
        free(msg);
    }
    printf("%zu board%s checked: %zu error%s, %zu warning%s\n", n_boards, n_boards == 1 ? "" : "s", r->n_errors,
           r->n_errors == 1 ? "" : "s", r->n_warnings, r->n_warnings == 1 ? "" : "s");
}

static int cmd_boards_lint(const struct opts *o)
{
    struct romfs_boards db = { 0 };
    struct romfs_error err = { 0 };
    struct romfs_lint_report report = { 0 };
    struct romfs_board scripts_board;
    bool from_scripts = false;
    struct romfs_lint_options lo = { .fs_floor = o->have_floor ? o->fs_floor : ROMFS_LINT_FS_FLOOR_DEFAULT };
    int rc;
    if (o->n_args == 0) {
        rc = romfs_boards_load(o->db, &db, &err);
    } else {
        char probe[4096];
        snprintf(probe, sizeof probe, "%s/ports", o->args[0]);
        if (o->n_args == 1 && access(probe, F_OK) == 0) {
            struct romfs_import_options io = { .only_port = o->port };
            rc = romfs_boards_import(o->args[0], &io, &db, &err);
        } else {
            rc = romfs_lint_board_from_scripts(o->args[0], (const char *const *)o->args, (size_t)o->n_args,
                                               &scripts_board, &err);
            from_scripts = true;
            if (!rc) {
                db.boards = &scripts_board;
                db.n = 1;
            }
        }
    }
    if (rc) {
        if (from_scripts)
            romfs_board_free(&scripts_board);
        return cli_fail(&err);
    }
    size_t n_boards = 0;
    for (size_t i = 0; !rc && i < db.n; i++) {
        if (o->port && !from_scripts && strcasecmp(o->port, db.boards[i].port) != 0)
            continue;
        n_boards++;
        rc = romfs_lint_board_with(&db.boards[i], &lo, &report, &err);
    }
    if (from_scripts) {
        romfs_board_free(&scripts_board);
        db.boards = NULL;
        db.n = 0;
    }
    romfs_boards_free(&db);
    if (rc) {
        romfs_lint_report_free(&report);
        return cli_fail(&err);
    }
    print_findings(&report, o->json, n_boards);
    int code = report.n_errors ? EXIT_FAIL : EXIT_OK;
    romfs_lint_report_free(&report);
    return code;
}
