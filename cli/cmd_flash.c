/* cmd_flash.c: `romfs flash IMAGE|DIR --via repl|...`: check, write, verify, confirm.
 *
 * The shared part (load or pack, board checks, romfs_flash_image, report) is transport
 * independent; each --via is one entry in `vias` whose open() fills a struct romfs_target
 * from its lib constructor, check() refuses a device that does not suit, and finish()
 * confirms the result on the device (REPL: soft reset and list /rom). */
#include <cJSON.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include "cli.h"
#include "boards/db.h"
#include "plan/check.h"
#include "flash/dfu_target.h"
#include "flash/job.h"
#include "flash/repl.h"
#include "flash_main.h"
#include "pack_args.h"
#include "flash_swd.h"

CLI_COMMAND(flash, "write an image (or a directory, packed first) to a board's ROMFS partition");

struct flash_args {
    const char *input;
    const char *board_name;
    const char *via;
    const char *port;
    uint32_t baud;
    int partition;
    bool full, no_reset, quiet, json, no_raw_paste;
    const char *dfu_device, *dfu_serial;   /* --via dfu: --device VID:PID, --serial S */
    int dfu_alt;                           /* --alt N, -1 by address */
    bool dfu_reset;                        /* --reset: leave DFU afterwards */
    int transfer;              /* enum romfs_transfer */
    int api;                   /* enum romfs_partition_api */
    int timeout_ms;
    const struct romfs_board *board;   /* NULL without --board */
    const struct romfs_partition *board_part;
    struct flash_swd_args swd;         /* --via swd options (cli/flash_swd.c) */
};

/* What a transport contributes; state lives behind `state`. */
struct via {
    const char *name;
    int (*open)(struct flash_args *a, void **state, struct romfs_target *t, struct romfs_error *err);
    /* refuse before anything is erased (device report vs board, .mpy, ...) */
    int (*check)(struct flash_args *a, void *state, struct romfs_target *t, const uint8_t *image,
                 size_t len, struct romfs_error *err);
    /* after a successful write: confirm; `confirm` receives a line for the report */
    int (*finish)(struct flash_args *a, void *state, const uint8_t *image, size_t len,
                  char *confirm, size_t confirm_cap, struct romfs_error *err);
    void (*stats)(void *state, struct romfs_target *t, cJSON *json, char *line, size_t cap);
    void (*close)(void *state);
};

/* ---- --via repl ---------------------------------------------------------------- */

struct repl_state {
    struct romfs_serial *serial;
    struct romfs_repl_session *ses;
    long long mpy;
    char port[256];
};

static int repl_open(struct flash_args *a, void **state, struct romfs_target *t,
                     struct romfs_error *err)
{
    struct repl_state *st = calloc(1, sizeof *st);
    if (!st)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    *state = st;
    int rc = ROMFS_OK;
    if (a->port)
        snprintf(st->port, sizeof st->port, "%s", a->port);
    else
        rc = romfs_repl_find_port(a->board ? a->board->repl_usb : NULL, st->port, sizeof st->port, err);
    struct romfs_repl_options ro = { .timeout_ms = a->timeout_ms, .no_raw_paste = a->no_raw_paste };
    if (rc == ROMFS_OK)
        rc = romfs_serial_open(st->port, a->baud, &st->serial, err);
    if (rc == ROMFS_OK)
        rc = romfs_repl_session_open(st->serial, &ro, &st->ses, err);
    struct romfs_device_info info;
    if (rc == ROMFS_OK)
        rc = romfs_repl_query(st->ses, false, &info, err);
    if (rc != ROMFS_OK)
        return rc;
    st->mpy = info.mpy;
    struct romfs_repl_target_options to = {
        .partition = a->partition,
        .api = a->api,
        .transfer = a->transfer,
        .write_size = a->board_part ? a->board_part->write_block : 0,
    };
    return romfs_repl_target_open(st->ses, &to, t, err);
}

static int repl_check(struct flash_args *a, void *state, struct romfs_target *t,
                      const uint8_t *image, size_t len, struct romfs_error *err)
{
    (void)a;
    (void)t;
    struct repl_state *st = state;
    return romfs_check_mpy_compat(image, len, st->mpy, err);
}

static int repl_finish(struct flash_args *a, void *state, const uint8_t *image, size_t len,
                       char *confirm, size_t cap, struct romfs_error *err)
{
    struct repl_state *st = state;
    if (a->no_reset) {
        snprintf(confirm, cap, "not reset (--no-reset)");
        return ROMFS_OK;
    }
    char *want = NULL;
    int rc = romfs_flash_top_level_names(image, len, &want, err);
    if (rc != ROMFS_OK)
        return rc;
    struct romfs_buf got = { 0 };
    rc = romfs_repl_reset_and_list_rom(st->ses, &got, err);
    if (rc == ROMFS_OK) {
        /* compare line by line, ignoring \r */
        size_t k = 0;
        for (size_t i = 0; i < got.len; i++)
            if (got.data[i] != '\r')
                got.data[k++] = got.data[i];
        while (k && got.data[k - 1] == '\n')
            k--;
        got.data[k] = 0;
        if (strcmp(got.data, want) != 0)
            rc = romfs_set_error(err, ROMFS_ERR_MISMATCH,
                                 "after the soft reset /rom lists \"%s\", the image holds \"%s\"",
                                 got.data, want);
        else
            snprintf(confirm, cap, "soft reset; /rom lists the image's %s",
                     *want ? "top-level entries" : "(empty) root");
    }
    romfs_buf_free(&got);
    free(want);
    return rc;
}

static void repl_stats(void *state, struct romfs_target *t, cJSON *json, char *line, size_t cap)
{
    (void)state;
    struct romfs_repl_stats s;
    romfs_repl_target_stats(t, &s);
    if (json) {
        cJSON_AddStringToObject(json, "transfer", romfs_transfer_name(s.transfer));
        cJSON_AddNumberToObject(json, "wire_bytes_out", (double)s.wire_bytes_out);
        cJSON_AddNumberToObject(json, "wire_bytes_in", (double)s.wire_bytes_in);
    }
    snprintf(line, cap, "transfer %s, %llu bytes sent, %llu received",
             romfs_transfer_name(s.transfer), (unsigned long long)s.wire_bytes_out,
             (unsigned long long)s.wire_bytes_in);
}

static void repl_close(void *state)
{
    struct repl_state *st = state;
    if (!st)
        return;
    romfs_repl_session_close(st->ses);
    romfs_serial_close(st->serial);
    free(st);
}

/* ---- --via dfu (lib/transport/dfu.h: USB DFU 1.1 + DfuSe) ----------------------------- */

struct dfu_state {
    struct romfs_dfu_match match;
};

static int dfu_open(struct flash_args *a, void **state, struct romfs_target *t,
                    struct romfs_error *err)
{
    if (!a->board_part)
        return romfs_set_error(err, ROMFS_ERR_INVAL, "--via dfu needs --board BOARD (the "
                               "partition's address and the board's DFU id come from it)");
    struct dfu_state *st = calloc(1, sizeof *st);
    if (!st)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    *state = st;
    int rc = romfs_dfu_match_init(&st->match, a->board, a->dfu_device, a->dfu_serial,
                                  a->dfu_alt, err);
    if (rc == ROMFS_OK && a->board->dfu_layout &&
        (rc = romfs_dfu_check_partition(a->board->dfu_layout, a->board_part->start,
                                        a->board_part->size, NULL, err)))
        romfs_error_prefix(err, "board %s", a->board->name);
    struct romfs_dfu_target_options o = { .address = a->board_part->start,
                                          .size = a->board_part->size,
                                          .write_size = a->board_part->write_block };
    return rc ? rc : romfs_dfu_target_open(&st->match, &o, t, err);
}

static int dfu_check(struct flash_args *a, void *state, struct romfs_target *t,
                     const uint8_t *image, size_t len, struct romfs_error *err)
{
    (void)a, (void)state, (void)t, (void)image, (void)len, (void)err;
    return ROMFS_OK;
}

static int dfu_finish(struct flash_args *a, void *state, const uint8_t *image, size_t len,
                      char *confirm, size_t cap, struct romfs_error *err)
{
    (void)image, (void)len;
    struct dfu_state *st = state;
    if (!a->dfu_reset) {
        snprintf(confirm, cap, "still in DFU mode (--reset leaves it and starts the firmware)");
        return ROMFS_OK;
    }
    int rc = romfs_dfu_leave_device(&st->match, a->board_part->start, 0, err);
    if (rc == ROMFS_OK)
        snprintf(confirm, cap, "left DFU mode: the firmware is starting");
    return rc;
}

static void dfu_stats(void *state, struct romfs_target *t, cJSON *json, char *line, size_t cap)
{
    (void)state;
    struct romfs_dfu *d = romfs_dfu_target_session(t);
    if (!d)
        return;
    if (json) {
        cJSON_AddNumberToObject(json, "dfu_requests", (double)d->requests);
        cJSON_AddNumberToObject(json, "dfu_poll_wait_ms", (double)d->waited_ms);
    }
    snprintf(line, cap, "%s, %llu DFU requests, %llu ms waiting on the device",
             d->usb.description, (unsigned long long)d->requests,
             (unsigned long long)d->waited_ms);
}

static void dfu_close(void *state)
{
    free(state);
}

/* ---- --via swd (cli/flash_swd.c, lib/flash/swd.h: GDB remote protocol) ----------- */

static int swd_open(struct flash_args *a, void **state, struct romfs_target *t,
                    struct romfs_error *err)
{
    a->swd.reset = a->dfu_reset;
    return flash_swd_open(&a->swd, a->board, a->board_part, a->timeout_ms, state, t, err);
}

static int swd_check(struct flash_args *a, void *state, struct romfs_target *t,
                     const uint8_t *image, size_t len, struct romfs_error *err)
{
    (void)a, (void)state, (void)t, (void)image, (void)len, (void)err;
    return ROMFS_OK;
}

static int swd_finish(struct flash_args *a, void *state, const uint8_t *image, size_t len,
                      char *confirm, size_t cap, struct romfs_error *err)
{
    (void)a;
    return flash_swd_finish(state, image, len, confirm, cap, err);
}

static void swd_stats(void *state, struct romfs_target *t, cJSON *json, char *line, size_t cap)
{
    (void)t;
    flash_swd_stats(state, json, line, cap);
}

static const struct via vias[] = {
    { "repl", repl_open, repl_check, repl_finish, repl_stats, repl_close },
    { "dfu", dfu_open, dfu_check, dfu_finish, dfu_stats, dfu_close },
    { "swd", swd_open, swd_check, swd_finish, swd_stats, flash_swd_close },
};

/* ---- progress ------------------------------------------------------------------- */

struct progress {
    bool enabled;
    const char *phases[8];   /* phases seen, and when each was first seen: a phase that */
    double starts[8];        /* comes back (write, verify, write) keeps its rate and ETA */
    const char *last_phase;
    double last_draw;
};

static double phase_start(struct progress *p, const char *phase, double now)
{
    for (int i = 0; i < 8; i++) {
        if (p->phases[i] && strcmp(p->phases[i], phase) == 0)
            return p->starts[i];
        if (!p->phases[i]) {
            p->phases[i] = phase;
            p->starts[i] = now;
            return now;
        }
    }
    return now;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_progress(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    struct progress *p = ctx;
    if (!p->enabled)
        return;
    double t = now_s();
    if (p->last_phase != phase) {
        if (p->last_phase)
            fputc('\n', stderr);
        p->last_phase = phase;
    } else if (done < total && t - p->last_draw < 0.1) {
        return;
    }
    p->last_draw = t;
    int width = 30, fill = total ? (int)((double)done / (double)total * width) : width;
    char bar[40];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    double el = t - phase_start(p, phase, t), rate = el > 0 ? (double)done / el : 0;
    double eta = rate > 0 ? (double)(total - done) / rate : 0;
    fprintf(stderr, "\r%-7s [%s] %7.1f/%.1f KiB %7.1f KiB/s ETA %d:%02d ", phase, bar,
            (double)done / 1024, (double)total / 1024, rate / 1024, (int)eta / 60, (int)eta % 60);
    fflush(stderr);
}

/* ---- the command ------------------------------------------------------------------ */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: romfs flash IMAGE|DIR [--board BOARD] --via repl [--port PORT] [options]\n"
            "\n"
            "Writes a ROMFS image to a board's ROMFS partition (a directory is packed first).\n"
            "Before anything is erased the image is checked against the board's partition\n"
            "(--board) and against what the device reports (partition size and erase block,\n"
            ".mpy version and architecture); a mismatch is refused. Then only the erase blocks\n"
            "that differ are written (per-block SHA-256 computed on the device), the header\n"
            "block is erased first and written last after the rest verified, so a cut write\n"
            "never leaves a mountable half-image and a re-run completes it. The written range\n"
            "is verified by SHA-256 on the device. Finally the board is soft-reset and /rom\n"
            "must list the image's top-level entries.\n"
            "\n"
            "  -b, --board BOARD    board from the database (`romfs boards`); may be left out\n"
            "                       with --port: the device's own report is then the reference\n"
            "      --via repl       how to reach the board (default: repl, the USB/UART REPL)\n"
            "  -p, --port PORT      serial port (or pty); default: found by USB VID:PID\n"
            "      --baud N         baud rate for UART boards (default 115200)\n"
            "      --partition N    ROMFS partition index (default 0)\n"
            "      --full           write every block, not only those that differ\n"
            "      --no-reset       do not soft-reset and check /rom afterwards\n"
            "      --transfer MODE  auto (default), raw-deflate, raw (a receive loop on the\n"
            "                       device reading raw bytes), deflate-base64, base64, hex, repr\n"
            "                       (one exec per chunk)\n"
            "      --api API        auto (default), rom_ioctl, object: the device partition API\n"
            "      --no-raw-paste   use plain raw REPL mode only\n"
            "      --timeout MS     longest silence accepted from the device (default 5000)\n"
            "      --via dfu        USB DFU bootloader (STM32 system bootloader, mboot): erases\n"
            "                       only the DfuSe sectors the image needs, reads back to verify\n"
            "      --device VID:PID (dfu) the DFU device (default: the board's, then 0483:df11)\n"
            "      --serial S       (dfu) only the device with this USB serial number\n"
            "      --alt N          (dfu) alternate setting (default: the one whose DfuSe\n"
            "                       memory layout covers the partition)\n"
            "      --reset          (dfu) leave DFU mode afterwards and start the firmware\n"
            "      --via swd        a debug probe's GDB server; options below\n"
            "      --align N, --exclude GLOB, --mpy-cross[=PATH], --mpy-cross-arg ARG, ...\n"
            "                       how a DIR is packed, as for `romfs pack`; with --mpy-cross\n"
            "                       mpy-cross gets -march= for --board's CPU or, without\n"
            "                       --board, for the device's own sys.implementation._mpy\n"
            "      --require-signed --key PUB.pem\n"
            "                       refuse, before opening the device, an image that is not\n"
            "                       signed by this key ('romfs sign'; --key alone implies it)\n"
            "  -q, --quiet          no progress bar, no summary\n"
            "      --json           summary as JSON on stdout\n"
            "  -h, --help           this help\n"
            "\n"
            "Exit status: 0 written and verified (or already up to date), 1 refused, failed or\n"
            "verification failed, 2 usage or input error.\n");
    flash_swd_usage(out);
}

int cmd_flash(int argc, char **argv)
{
    return cli_flash_main(argc, argv, false);
}

static int flash_main(int argc, char **argv, bool deploy, struct cli_pack_args *pa);

int cli_flash_main(int argc, char **argv, bool deploy)
{
    struct cli_pack_args pa;
    if (!cli_pack_args_init(&pa, argc)) {
        cli_pack_args_free(&pa);
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    int status = flash_main(argc, argv, deploy, &pa);
    cli_pack_args_free(&pa);
    return status;
}

/* With mpy-cross and no -march given: the board's CPU; else, over the REPL, the
 * device's own sys.implementation._mpy, which needs the device open before packing. */
static bool wants_device_arch(const struct flash_args *a, const struct cli_pack_args *pa)
{
    struct stat st;
    return pa->opt.mpy_cross && !cli_pack_args_has_march(pa) && !a->board_name &&
           strcmp(a->via, "repl") == 0 && stat(a->input, &st) == 0 && S_ISDIR(st.st_mode);
}

static int flash_main(int argc, char **argv, bool deploy, struct cli_pack_args *pa)
{
    const char *cmd = deploy ? "deploy" : "flash";
    enum { O_VIA = 256, O_BAUD, O_PART, O_FULL, O_NORESET, O_JSON, O_TRANSFER, O_API, O_NOPASTE,
           O_TIMEOUT, O_DFU_DEVICE, O_DFU_SERIAL, O_DFU_ALT, O_DFU_RESET, O_REQUIRE_SIGNED, O_KEY };
    static const struct option options[] = {
        { "board", required_argument, NULL, 'b' }, { "via", required_argument, NULL, O_VIA },
        { "port", required_argument, NULL, 'p' }, { "baud", required_argument, NULL, O_BAUD },
        { "partition", required_argument, NULL, O_PART }, { "full", no_argument, NULL, O_FULL },
        { "no-reset", no_argument, NULL, O_NORESET }, { "quiet", no_argument, NULL, 'q' },
        { "json", no_argument, NULL, O_JSON }, { "transfer", required_argument, NULL, O_TRANSFER },
        { "api", required_argument, NULL, O_API }, { "no-raw-paste", no_argument, NULL, O_NOPASTE },
        { "timeout", required_argument, NULL, O_TIMEOUT }, { "help", no_argument, NULL, 'h' },
        { "device", required_argument, NULL, O_DFU_DEVICE },
        { "serial", required_argument, NULL, O_DFU_SERIAL },
        { "alt", required_argument, NULL, O_DFU_ALT }, { "reset", no_argument, NULL, O_DFU_RESET },
        { "require-signed", no_argument, NULL, O_REQUIRE_SIGNED },
        { "key", required_argument, NULL, O_KEY },
        FLASH_SWD_LONG_OPTIONS,
        CLI_PACK_LONG_OPTIONS,
        { NULL, 0, NULL, 0 },
    };
    struct flash_args a = { .via = "repl", .dfu_alt = -1 };
    const char *signed_by = NULL;   /* --key: the public key the image must be signed by */
    bool require_signed = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "b:p:qh", options, NULL)) != -1) {
        switch (c) {
        case 'b': a.board_name = optarg; break;
        case O_VIA: a.via = optarg; break;
        case 'p': a.port = optarg; break;
        case O_BAUD: a.baud = (uint32_t)strtoul(optarg, NULL, 0); break;
        case O_PART: a.partition = atoi(optarg); break;
        case O_FULL: a.full = true; break;
        case O_NORESET: a.no_reset = true; break;
        case 'q': a.quiet = true; break;
        case O_JSON: a.json = true; break;
        case O_TRANSFER:
            a.transfer = romfs_transfer_parse(optarg);
            if (a.transfer < 0)
                return cli_usage_error(cmd, "unknown --transfer '%s'", optarg);
            break;
        case O_API:
            if (strcmp(optarg, "auto") == 0)
                a.api = ROMFS_API_AUTO;
            else if (strcmp(optarg, "rom_ioctl") == 0)
                a.api = ROMFS_API_ROM_IOCTL;
            else if (strcmp(optarg, "object") == 0)
                a.api = ROMFS_API_OBJECT;
            else
                return cli_usage_error(cmd, "unknown --api '%s'", optarg);
            break;
        case O_NOPASTE: a.no_raw_paste = true; break;
        case O_TIMEOUT: a.timeout_ms = atoi(optarg); break;
        case O_DFU_DEVICE: a.dfu_device = optarg; break;
        case O_DFU_SERIAL: a.dfu_serial = optarg; break;
        case O_DFU_ALT: a.dfu_alt = atoi(optarg); break;
        case O_DFU_RESET: a.dfu_reset = true; break;
        case O_REQUIRE_SIGNED: require_signed = true; break;
        case O_KEY: signed_by = optarg; break;
        case 'h':
            if (deploy)
                fputs("usage: romfs deploy IMAGE|DIR [--board BOARD] [--port PORT] [options]\n"
                      "\n"
                      "mpremote's `romfs deploy`: `romfs flash` under mpremote's word, and like\n"
                      "mpremote it needs neither --board nor --port: the one MicroPython board\n"
                      "connected over USB is found, and its own report of its partitions is the\n"
                      "reference. A DIR is packed as `romfs flash` packs it. Every `romfs flash`\n"
                      "option is accepted:\n\n", stdout);
            usage(stdout);
            return EXIT_OK;
        default: {
            int swd = flash_swd_option(&a.swd, c, optarg);
            if (swd < 0)
                return EXIT_USAGE;
            if (swd == 0) {
                int packing = cli_pack_args_option(pa, c, optarg, cmd);
                if (packing < 0)
                    return EXIT_USAGE;
                if (packing == 0)
                    return cli_usage_error(cmd, "unknown option");
            }
            break;
        }
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error(cmd, optind == argc ? "IMAGE or DIR missing" : "too many arguments");
    a.input = argv[optind];
    const struct via *via = NULL;
    for (size_t i = 0; i < sizeof vias / sizeof *vias; i++)
        if (strcmp(vias[i].name, a.via) == 0)
            via = &vias[i];
    if (!via)
        return cli_usage_error(cmd, "unknown --via '%s' (available: repl, dfu, swd)", a.via);
    if (require_signed && !signed_by)
        return cli_usage_error(cmd, "--require-signed needs --key PUB.pem");
    if (!deploy && !a.board_name && !a.port && !(strcmp(a.via, "swd") == 0 && flash_swd_has_partition(&a.swd)))
        return cli_usage_error(cmd, "give --board BOARD, or --port PORT to use the device's "
                               "own report of its partitions");

    struct romfs_error err = { 0 };
    struct romfs_boards db = { 0 };
    uint8_t *image = NULL;
    size_t len = 0;
    bool packed = false;
    void *state = NULL;
    struct romfs_target t = { 0 };
    bool opened = false;
    int rc, exit_code = EXIT_OK;
    if (pa->opt.mpy_cross && a.board_name && (exit_code = cli_pack_args_board_march(pa, a.board_name, cmd)))
        return exit_code;
    if (wants_device_arch(&a, pa)) {
        /* compile for the device in hand: ask it first */
        if ((rc = via->open(&a, &state, &t, &err)) != ROMFS_OK) {
            if (t.close)
                t.close(t.ctx);
            via->close(state);
            return cli_fail(&err);
        }
        opened = true;
        const char *arch = romfs_mpy_arch_of_device(((struct repl_state *)state)->mpy);
        if (arch)
            cli_pack_args_add_march(pa, arch);
    }
    rc = romfs_flash_load_input_with(a.input, &pa->opt, &image, &len, &packed, &err);
    if (rc != ROMFS_OK) {
        exit_code = cli_fail(&err);
        goto out;
    }
    if (signed_by && (rc = romfs_signature_check(image, len, a.input, signed_by, NULL, &err))) {
        exit_code = cli_fail(&err);   /* refused before the device is opened */
        goto out;
    }
    if (a.board_name) {
        rc = romfs_boards_load(NULL, &db, &err);
        if (rc == ROMFS_OK && !(a.board = romfs_boards_find(&db, a.board_name)))
            rc = romfs_set_error(&err, ROMFS_ERR_NOENT, "unknown board %s (see `romfs boards`)",
                                 a.board_name);
        if (rc == ROMFS_OK && !(a.board_part = romfs_board_partition(a.board, a.partition)))
            rc = romfs_set_error(&err, ROMFS_ERR_NOENT, "board %s has no ROMFS partition %d",
                                 a.board->name, a.partition);
        if (rc == ROMFS_OK)
            rc = romfs_check_image_for_board(image, len, &db, a.board->name, a.partition, &err);
        if (rc != ROMFS_OK) {
            if (a.json) {
                cJSON *j = cJSON_CreateObject();
                cJSON_AddBoolToObject(j, "ok", false);
                cJSON_AddStringToObject(j, "error", err.msg);
                char *text = cJSON_Print(j);
                puts(text);
                free(text);
                cJSON_Delete(j);
            }
            exit_code = cli_fail(&err);
            goto out;
        }
    }

    if (!opened)
        rc = via->open(&a, &state, &t, &err);
    opened = false;   /* closed below, whatever happens */
    if (rc == ROMFS_OK)
        rc = romfs_flash_check_device(&t, a.board ? a.board->name : NULL, a.board_part, len, &err);
    if (rc == ROMFS_OK)
        rc = via->check(&a, state, &t, image, len, &err);
    struct progress prog = { .enabled = !a.quiet && !a.json && cli_stderr_is_tty() };
    struct romfs_flash_options fo = { .full = a.full, .progress = on_progress, .progress_ctx = &prog };
    struct romfs_flash_report rep = { 0 };
    double t0 = now_s();
    if (rc == ROMFS_OK)
        rc = romfs_flash_image(&t, image, len, &fo, &rep, &err);
    if (prog.enabled && prog.last_phase)
        fputc('\n', stderr);
    double write_s = now_s() - t0;
    char stats_line[256] = "";
    cJSON *json = a.json ? cJSON_CreateObject() : NULL;
    if (t.ctx && via->stats)
        via->stats(state, &t, json, stats_line, sizeof stats_line);
    if (t.close)
        t.close(t.ctx);
    char confirm[256] = "";
    if (rc == ROMFS_OK)
        rc = via->finish(&a, state, image, len, confirm, sizeof confirm, &err);
    via->close(state);

    if (json) {
        cJSON_AddBoolToObject(json, "ok", rc == ROMFS_OK);
        if (rc != ROMFS_OK)
            cJSON_AddStringToObject(json, "error", err.msg);
        cJSON_AddStringToObject(json, "input", a.input);
        cJSON_AddBoolToObject(json, "packed", packed);
        cJSON_AddNumberToObject(json, "image_size", (double)len);
        cJSON_AddNumberToObject(json, "blocks_in_image", (double)rep.blocks_in_image);
        cJSON_AddNumberToObject(json, "blocks_written", (double)rep.blocks_written);
        cJSON_AddNumberToObject(json, "bytes_programmed", (double)rep.bytes_programmed);
        cJSON_AddBoolToObject(json, "verified", rep.verified);
        cJSON_AddNumberToObject(json, "seconds", write_s);
        if (confirm[0])
            cJSON_AddStringToObject(json, "confirmed", confirm);
        char *text = cJSON_Print(json);
        puts(text);
        free(text);
        cJSON_Delete(json);
    }
    if (rc != ROMFS_OK) {
        exit_code = json ? cli_exit_code(rc) : cli_fail(&err);
        if (json)
            cli_error("%s", err.msg);
    } else if (!a.quiet && !a.json) {
        char sz[64];
        printf("%s: %s image, %llu of %llu erase blocks written%s, %.2f s\n", a.input,
               cli_human_size(len, sz, sizeof sz), (unsigned long long)rep.blocks_written,
               (unsigned long long)rep.blocks_in_image,
               rep.blocks_written == 0 ? " (already up to date)" : "", write_s);
        printf("  verified by SHA-256 on the device; %s\n", stats_line);
        if (confirm[0])
            printf("  %s\n", confirm);
    }
out:
    if (opened) {   /* opened early for its architecture, refused before writing */
        if (t.close)
            t.close(t.ctx);
        via->close(state);
    }
    free(image);
    romfs_boards_free(&db);
    return exit_code;
}
