/* cmd_flash.c: `romfs flash IMAGE|DIR --via repl|dfu|swd`: options into a flash job
 * (lib/flash/job.h), the job's result onto the terminal or as JSON. */
#include <cJSON.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "cli.h"
#include "boards/db.h"
#include "flash/job.h"
#include "flash_main.h"
#include "pack_args.h"
#include "base/clock.h"
#include "base/text.h"
#include "flash_many.h"
#include "flash_watch.h"

CLI_COMMAND(flash, "write an image (or a directory, packed first) to a board's ROMFS partition");

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

static void on_progress(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    struct progress *p = ctx;
    if (!p->enabled)
        return;
    double t = romfs_now_s();
    /* One line, redrawn in place: a phase that starts or comes back (the header block is
       written and verified last) replaces the previous one instead of adding a line. */
    if (p->last_phase != phase)
        p->last_phase = phase;
    else if (done < total && t - p->last_draw < 0.1)
        return;
    p->last_draw = t;
    int width = 30, fill = total ? (int)((double)done / (double)total * width) : width;
    char bar[40];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    double el = t - phase_start(p, phase, t), rate = el > 0 ? (double)done / el : 0;
    double eta = rate > 0 ? (double)(total - done) / rate : 0;
    /* \033[K clears what a longer previous phase left on the line */
    fprintf(stderr, "\r%-7s [%s] %7.1f/%.1f KiB %7.1f KiB/s ETA %d:%02d\033[K", phase, bar,
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
            "(--board) and against what the device reports (partition size, .mpy version\n"
            "and architecture); a mismatch is refused. Erase block and write unit are the\n"
            "stricter of the board entry's and the device's (the summary says which); an\n"
            "image that cannot be written with them is refused. Then only the erase blocks\n"
            "that differ are written (per-block SHA-256 computed on the device), the header\n"
            "block is erased first and written last after the rest verified, so a cut write\n"
            "never leaves a mountable half-image and a re-run completes it. The written range\n"
            "is verified by SHA-256 on the device. Finally the board is soft-reset and /rom\n"
            "must list the image's top-level entries (a run that changed nothing skips the\n"
            "reset when /rom, still mounted, lists them already).\n"
            "\n"
            "  -b, --board BOARD    board from the database (`romfs boards`); may be left out\n"
            "                       with --port: the device's own report is then the reference\n"
            "      --via repl       how to reach the board (default: repl, the USB/UART REPL)\n"
            "  -p, --port PORT      serial port (or pty), or socket://HOST:PORT (raw TCP) or\n"
            "                       rfc2217://HOST:PORT (telnet RFC 2217), e.g. ser2net;\n"
            "                       default: found by USB VID:PID. Repeat it to write several\n"
            "                       boards at once\n"
            "      --all            every connected board (by USB VID:PID: the board's with\n"
            "                       --board, else MicroPython's), written at once\n"
            "      --loop           production loop: write each board that is plugged in (or,\n"
            "                       with --port, each port when it becomes reachable), print\n"
            "                       PASS/FAIL with its USB serial number, until Ctrl-C/SIGTERM\n"
            "      --log FILE       (--loop) append a JSON line per board: time, port,\n"
            "                       serial_number, image_sha256, blocks_written, result, error\n"
            "      --baud N         baud rate for UART boards (default 115200)\n"
            "      --partition N    ROMFS partition index (default 0)\n"
            "      --full           write every block, not only those that differ\n"
            "      --no-reset       do not soft-reset and check /rom afterwards\n"
            "      --run MODULE     after the soft reset import MODULE (e.g. main, app.main) and\n"
            "                       show what it prints until it ends (its traceback on\n"
            "                       stderr; exit 1 if it raised); escaped but for plain text\n"
            "      --watch          (Linux) keep watching DIR: on every save pack it again, write\n"
            "                       the blocks that changed (laid out against the image\n"
            "                       before, as --base does), soft-reset and --run the module\n"
            "                       again, over one connection kept open. A burst of saves (an\n"
            "                       editor's temporary file and rename) is one round; what the\n"
            "                       pack leaves out (--exclude, *~, .git, ...) starts none. A\n"
            "                       tree that does not pack leaves the module running; Ctrl-C\n"
            "                       stops it and ends (exit 130), the board at its REPL\n"
            "      --transfer MODE  auto (default), raw-deflate, raw (a receive loop on the\n"
            "                       device reading raw bytes), deflate-base64, base64, hex, repr\n"
            "                       (one exec per chunk)\n"
            "      --api API        auto (default), rom_ioctl, object: the device partition API\n"
            "      --no-raw-paste   use plain raw REPL mode only\n"
            "      --timeout MS     longest silence accepted from the device (default 5000)\n"
            "      --via dfu        USB DFU bootloader (STM32 system bootloader, mboot): erases\n"
            "                       only the DfuSe sectors the image needs, reads back to verify;\n"
            "                       a partition on external flash (PYBD's QSPI) needs mboot\n"
            "      --device VID:PID (dfu) the DFU device (default: the id of the board's\n"
            "                       bootloader that reaches the partition, then 0483:df11)\n"
            "      --serial S       (dfu) only the device with this USB serial number\n"
            "      --alt N          (dfu) alternate setting (default: the one whose DfuSe\n"
            "                       memory layout covers the partition)\n"
            "      --reset          (dfu) leave DFU mode afterwards and start the firmware\n"
            "      --via swd        a debug probe's GDB server; options below\n"
            "      --align N, --exclude GLOB, --mpy-cross[=PATH], --mpy-cross-arg ARG,\n"
            "      --mpy-cache DIR, --no-mpy-cache, ...\n"
            "                       how a DIR is packed, as for `romfs pack`; with --mpy-cross\n"
            "                       mpy-cross gets -march= for --board's CPU or, without\n"
            "                       --board, for the device's own sys.implementation._mpy;\n"
            "                       its outputs are cached, so a save compiles one file\n"
            "      --base OLD       pack a DIR against OLD, the image the board holds now:\n"
            "                       unchanged files keep their offsets, so few erase blocks\n"
            "                       differ and are written (`romfs pack --help`)\n"
            "      --require-signed --key PUB.pem\n"
            "                       refuse, before opening the device, an image that is not\n"
            "                       signed by this key ('romfs sign'; --key alone implies it)\n"
            "  -q, --quiet          no progress bar, no summary\n"
            "  -v, --verbose        when the device raises an exception, also show its whole\n"
            "                       traceback (the message gives its last line)\n"
            "      --json           summary as JSON on stdout (several boards: an array)\n"
            "      --format F       text (default), json, or junit (several boards: one\n"
            "                       testcase per board)\n"
            "  -h, --help           this help\n"
            "\n"
            "Several boards: exit status 1 if any of them failed. --loop: 130 after SIGINT,\n"
            "143 after SIGTERM (running writes are finished first; a second signal cuts them).\n");
    fprintf(out,
            "\n"
            "--via swd: through a debug probe's GDB server (romfs speaks the GDB remote protocol).\n"
            "The partition is checked against the server's memory map; flash is written with\n"
            "vFlashErase/vFlashWrite, RAM (and servers without a memory map, such as QEMU) with\n"
            "X/M memory writes, verified by reading back (and the server's qCRC where offered).\n"
            "Afterwards the target is left running (detach), or reset with --reset.\n"
            "      --probe P        gdb://HOST:PORT   a running GDB server (OpenOCD, pyOCD,\n"
            "                                         J-Link, QEMU -gdb tcp::PORT)\n"
            "                       serial:/dev/ttyACM0  a Black Magic Probe\n"
            "                       openocd | pyocd   start that server with the board's target\n"
            "                                         (boards.json) on a free 127.0.0.1 port\n"
            "                       openocd-program   run openocd's `program FILE ADDR verify\n"
            "                                         reset exit` instead\n"
            "      --address A      partition start (default: the board's)\n"
            "      --size N         partition size (default: the board's)\n"
            "      --erase-block N  erase block (default: the board's or the memory map's)\n"
            "      --swd-mode M     auto (default: from the memory map), flash or ram\n"
            "      --reset          (swd) reset the target after writing (monitor reset)\n"
            "      --reset-command C  the monitor command that resets (default: per server)\n"
            "      --openocd-target S     OpenOCD script, e.g. target/stm32f4x.cfg\n"
            "      --openocd-interface S  e.g. interface/stlink.cfg (default: stlink for\n"
            "                             STM32, else cmsis-dap)\n"
            "      --pyocd-target NAME    pyOCD target name\n"
            "\n"
            "Examples:\n"
            "  romfs flash app/ --board PYBD_SF2 --run main     # write, reset, show what main prints\n"
            "  romfs flash app/ --board PYBD_SF2 --watch --run main   # Ctrl-C ends it: exits 130\n");
}

/* One line about how the board was reached, for the summary. */
static void describe_link(const struct romfs_flash_job *job, const struct romfs_flash_job_result *r,
                          char *line, size_t cap)
{
    switch (job->via) {
    case ROMFS_VIA_REPL:
        snprintf(line, cap, "%s, transfer %s, %llu bytes sent, %llu received", r->port,
                 romfs_transfer_name(r->repl.transfer), (unsigned long long)r->repl.wire_bytes_out,
                 (unsigned long long)r->repl.wire_bytes_in);
        break;
    case ROMFS_VIA_DFU:
        snprintf(line, cap, "%s%s%s%s, %llu DFU requests, %llu ms waiting on the device", r->dfu.device,
                 r->dfu.bootloader ? " (" : "", r->dfu.bootloader ? r->dfu.bootloader : "",
                 r->dfu.bootloader ? ")" : "", (unsigned long long)r->dfu.requests,
                 (unsigned long long)r->dfu.waited_ms);
        break;
    case ROMFS_VIA_SWD:
        if (r->swd_program)
            snprintf(line, cap, "via openocd program (%s)", r->openocd_target ? r->openocd_target : "?");
        else
            snprintf(line, cap, "GDB server %s, %s, erase block %u, PacketSize %zu%s", r->swd.server,
                     r->swd.flash ? "vFlash writes" : "memory writes (X/M)", r->swd.erase_size,
                     r->swd.packet_size,
                     r->swd.memory_map ? ", partition matches the server's memory map" : "");
        break;
    }
}

static const char *describe_confirmation(const struct romfs_flash_job_result *r, bool *has)
{
    *has = true;
    switch (r->confirmation) {
    case ROMFS_CONFIRM_NOT_RESET: return "not reset (--no-reset)";
    case ROMFS_CONFIRM_ROM_LISTED:
        return r->image_root_empty ? "soft reset; /rom lists the image's (empty) root"
                                   : "soft reset; /rom lists the image's top-level entries";
    case ROMFS_CONFIRM_ROM_LISTED_NO_RESET:
        return r->image_root_empty ? "nothing changed, no reset; /rom lists the image's (empty) root"
                                   : "nothing changed, no reset; /rom lists the image's top-level entries";
    case ROMFS_CONFIRM_STILL_IN_DFU: return "still in DFU mode (--reset leaves it and starts the firmware)";
    case ROMFS_CONFIRM_LEFT_DFU: return "left DFU mode: the firmware is starting";
    case ROMFS_CONFIRM_SWD_DETACHED:
        return r->swd_crc_checked ? "detached; target left running; the server's qCRC matches"
                                  : "detached; target left running";
    case ROMFS_CONFIRM_SWD_RESET:
        return r->swd_crc_checked ? "target reset and running; the server's qCRC matches"
                                  : "target reset and running";
    case ROMFS_CONFIRM_OPENOCD_PROGRAM: return "written, verified and reset by openocd's program command";
    case ROMFS_CONFIRM_NONE: break;
    }
    *has = false;
    return "";
}

/* The erase block and write unit the write used, and where each came from. */
static void print_units(const struct romfs_flash_units *u)
{
    if (u->erase_size)
        printf("  erase block %u: %s\n  write unit %u: %s\n", u->erase_size, u->erase_source,
               u->write_size, u->write_source);
}

/* --verbose: the device's whole traceback, escaped, after the one-line message. */
static void print_traceback(const struct romfs_flash_job_result *r)
{
    if (!r->device_raised)
        return;
    fprintf(stderr, "romfs: the device's traceback:\n");
    const char *tb = r->exception.traceback;
    char *text = romfs_escape_text(tb, strlen(tb), ROMFS_ESCAPE_MESSAGE);
    for (const char *p = text ? text : "(out of memory)"; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        fprintf(stderr, "    %.*s\n", (int)n, p);
        p += n + (nl ? 1 : 0);
    }
    free(text);
}

static void print_json(const struct romfs_flash_job *job, const char *input, bool packed, size_t len,
                       const struct romfs_flash_job_result *r, int rc, const struct romfs_error *err,
                       bool verbose)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "ok", rc == ROMFS_OK);
    if (rc != ROMFS_OK)
        cJSON_AddStringToObject(j, "error", err->msg);
    if (r->device_raised) {
        cJSON *x = cJSON_AddObjectToObject(j, "device_exception");
        cJSON_AddStringToObject(x, "request", r->exception.op);
        if (r->exception.has_offset)
            cJSON_AddNumberToObject(x, "offset", (double)r->exception.offset);
        cJSON_AddStringToObject(x, "said", r->exception.said);
        if (verbose)
            cJSON_AddStringToObject(x, "traceback", r->exception.traceback);
    }
    if (r->units.erase_size) {
        cJSON *u = cJSON_AddObjectToObject(j, "units");
        cJSON_AddNumberToObject(u, "erase_block", r->units.erase_size);
        cJSON_AddStringToObject(u, "erase_block_from", r->units.erase_source);
        cJSON_AddNumberToObject(u, "write_unit", r->units.write_size);
        cJSON_AddStringToObject(u, "write_unit_from", r->units.write_source);
    }
    cJSON_AddStringToObject(j, "via", romfs_via_name(job->via));
    if (job->via == ROMFS_VIA_REPL) {
        cJSON_AddStringToObject(j, "transfer", romfs_transfer_name(r->repl.transfer));
        cJSON_AddNumberToObject(j, "wire_bytes_out", (double)r->repl.wire_bytes_out);
        cJSON_AddNumberToObject(j, "wire_bytes_in", (double)r->repl.wire_bytes_in);
        cJSON_AddNumberToObject(j, "session_bytes_out", (double)r->repl.session_bytes_out);
        cJSON_AddNumberToObject(j, "session_bytes_in", (double)r->repl.session_bytes_in);
    } else if (job->via == ROMFS_VIA_DFU) {
        cJSON_AddNumberToObject(j, "dfu_requests", (double)r->dfu.requests);
        cJSON_AddNumberToObject(j, "dfu_poll_wait_ms", (double)r->dfu.waited_ms);
        if (r->dfu.bootloader)
            cJSON_AddStringToObject(j, "dfu_bootloader", r->dfu.bootloader);
    } else if (r->swd_program) {
        cJSON_AddStringToObject(j, "swd_writes", "openocd-program");
    } else {
        cJSON_AddStringToObject(j, "gdb_server", r->swd.server);
        cJSON_AddStringToObject(j, "swd_writes", r->swd.flash ? "vflash" : "memory");
        cJSON_AddNumberToObject(j, "erase_block", r->swd.erase_size);
        cJSON_AddNumberToObject(j, "packet_size", (double)r->swd.packet_size);
        cJSON_AddBoolToObject(j, "memory_map_checked", r->swd.memory_map);
    }
    cJSON_AddStringToObject(j, "input", input);
    cJSON_AddBoolToObject(j, "packed", packed);
    cJSON_AddNumberToObject(j, "image_size", (double)len);
    cJSON_AddNumberToObject(j, "blocks_in_image", (double)r->write.blocks_in_image);
    cJSON_AddNumberToObject(j, "blocks_written", (double)r->write.blocks_written);
    cJSON_AddNumberToObject(j, "bytes_programmed", (double)r->write.bytes_programmed);
    cJSON_AddBoolToObject(j, "verified", r->write.verified);
    cJSON_AddStringToObject(j, "verified_by", r->swd_program ? "openocd-program"
                            : r->verified_on_device ? "device-sha256" : "read-back");
    cJSON_AddNumberToObject(j, "seconds", r->write_seconds);
    bool has;
    const char *confirm = describe_confirmation(r, &has);
    if (has)
        cJSON_AddStringToObject(j, "confirmed", confirm);
    char *text = cJSON_Print(j);
    puts(text);
    free(text);
    cJSON_Delete(j);
}

static void deploy_usage(FILE *out)
{
    fputs("usage: romfs deploy IMAGE|DIR [--board BOARD] [--port PORT] [options]\n"
          "\n"
          "mpremote's `romfs deploy`: `romfs flash` under mpremote's word, and like\n"
          "mpremote it needs neither --board nor --port: the one MicroPython board\n"
          "connected over USB is found, and its own report of its partitions is the\n"
          "reference. A DIR is packed as `romfs flash` packs it. Every `romfs flash`\n"
          "option is accepted:\n\n", out);
    usage(out);
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

static int flash_main(int argc, char **argv, bool deploy, struct cli_pack_args *pa)
{
    const char *cmd = deploy ? "deploy" : "flash";
    enum { O_VIA = 256, O_BAUD, O_PART, O_FULL, O_NORESET, O_JSON, O_TRANSFER, O_API, O_NOPASTE,
           O_TIMEOUT, O_DFU_DEVICE, O_DFU_SERIAL, O_DFU_ALT, O_RESET, O_REQUIRE_SIGNED, O_KEY,
           O_PROBE, O_ADDRESS, O_SIZE, O_ERASE_BLOCK, O_RESET_COMMAND, O_SWD_MODE,
           O_OPENOCD_TARGET, O_OPENOCD_INTERFACE, O_PYOCD_TARGET, O_ALL, O_LOOP, O_LOG, O_FORMAT,
           O_WATCH, O_RUN };
    static const struct option options[] = {
        { "board", required_argument, NULL, 'b' }, { "via", required_argument, NULL, O_VIA },
        { "port", required_argument, NULL, 'p' }, { "baud", required_argument, NULL, O_BAUD },
        { "partition", required_argument, NULL, O_PART }, { "full", no_argument, NULL, O_FULL },
        { "no-reset", no_argument, NULL, O_NORESET }, { "quiet", no_argument, NULL, 'q' },
        { "verbose", no_argument, NULL, 'v' },
        { "json", no_argument, NULL, O_JSON }, { "transfer", required_argument, NULL, O_TRANSFER },
        { "api", required_argument, NULL, O_API }, { "no-raw-paste", no_argument, NULL, O_NOPASTE },
        { "timeout", required_argument, NULL, O_TIMEOUT }, { "help", no_argument, NULL, 'h' },
        { "device", required_argument, NULL, O_DFU_DEVICE },
        { "serial", required_argument, NULL, O_DFU_SERIAL },
        { "alt", required_argument, NULL, O_DFU_ALT }, { "reset", no_argument, NULL, O_RESET },
        { "require-signed", no_argument, NULL, O_REQUIRE_SIGNED },
        { "key", required_argument, NULL, O_KEY },
        { "probe", required_argument, NULL, O_PROBE },
        { "address", required_argument, NULL, O_ADDRESS },
        { "size", required_argument, NULL, O_SIZE },
        { "erase-block", required_argument, NULL, O_ERASE_BLOCK },
        { "reset-command", required_argument, NULL, O_RESET_COMMAND },
        { "swd-mode", required_argument, NULL, O_SWD_MODE },
        { "openocd-target", required_argument, NULL, O_OPENOCD_TARGET },
        { "openocd-interface", required_argument, NULL, O_OPENOCD_INTERFACE },
        { "pyocd-target", required_argument, NULL, O_PYOCD_TARGET },
        { "all", no_argument, NULL, O_ALL }, { "loop", no_argument, NULL, O_LOOP },
        { "log", required_argument, NULL, O_LOG }, { "format", required_argument, NULL, O_FORMAT },
        { "watch", no_argument, NULL, O_WATCH }, { "run", required_argument, NULL, O_RUN },
        CLI_PACK_LONG_OPTIONS,
        { NULL, 0, NULL, 0 },
    };
    struct romfs_flash_job job = { .via = ROMFS_VIA_REPL, .dfu.alt = -1 };
    const char *board_name = NULL, *via = "repl";
    const char *signed_by = NULL;   /* --key: the public key the image must be signed by */
    bool require_signed = false, quiet = false, json = false, all = false, loop = false;
    bool verbose = false, watch = false;
    const char *log_path = NULL, *format = NULL, *run_module = NULL;
    const char *ports[256];   /* every --port, in order */
    size_t n_ports = 0;
    int c;
    uint64_t v, size;
    struct cli_options cli = { .command = cmd, .shortopts = "b:p:qvh", .longopts = options,
                               .help = deploy ? deploy_usage : usage, .argc = argc, .argv = argv };
    while ((c = cli_next_option(&cli)) > 0) {
        switch (c) {
        case 'b': board_name = optarg; break;
        case O_VIA: via = optarg; break;
        case 'p':
            if (n_ports == sizeof ports / sizeof *ports)
                return cli_usage_error(cmd, "more than %zu --port options", n_ports);
            ports[n_ports++] = optarg;
            job.repl.port = optarg;
            break;
        case O_ALL: all = true; break;
        case O_LOOP: loop = true; break;
        case O_LOG: log_path = optarg; break;
        case O_FORMAT: format = optarg; break;
        case O_WATCH: watch = true; break;
        case O_RUN: run_module = optarg; break;
        case O_BAUD:
            if (!cli_option_number(cmd, "baud", optarg, 1, 100000000, false, &v))
                return EXIT_USAGE;
            job.repl.baud = (uint32_t)v;
            break;
        case O_PART:
            if (!cli_option_number(cmd, "partition", optarg, 0, 15, false, &v))
                return EXIT_USAGE;
            job.partition = (int)v;
            break;
        case O_FULL: job.full = true; break;
        case O_NORESET: job.repl.no_reset = true; break;
        case 'q': quiet = true; break;
        case 'v': verbose = true; break;
        case O_JSON: json = true; break;
        case O_TRANSFER:
            job.repl.transfer = romfs_transfer_parse(optarg);
            if (job.repl.transfer < 0)
                return cli_usage_error(cmd, "unknown --transfer '%s'", optarg);
            break;
        case O_API:
            if (strcmp(optarg, "auto") == 0)
                job.repl.api = ROMFS_API_AUTO;
            else if (strcmp(optarg, "rom_ioctl") == 0)
                job.repl.api = ROMFS_API_ROM_IOCTL;
            else if (strcmp(optarg, "object") == 0)
                job.repl.api = ROMFS_API_OBJECT;
            else
                return cli_usage_error(cmd, "unknown --api '%s'", optarg);
            break;
        case O_NOPASTE: job.repl.no_raw_paste = true; break;
        case O_TIMEOUT:
            if (!cli_option_number(cmd, "timeout", optarg, 1, 3600000, false, &v))
                return EXIT_USAGE;
            job.timeout_ms = (int)v;
            break;
        case O_DFU_DEVICE: job.dfu.device = optarg; break;
        case O_DFU_SERIAL: job.dfu.serial = optarg; break;
        case O_DFU_ALT:
            if (!cli_option_number(cmd, "alt", optarg, 0, 255, false, &v))
                return EXIT_USAGE;
            job.dfu.alt = (int)v;
            break;
        case O_RESET: job.reset = true; break;
        case O_REQUIRE_SIGNED: require_signed = true; break;
        case O_KEY: signed_by = optarg; break;
        case O_PROBE: job.swd.probe = optarg; break;
        case O_ADDRESS:
        case O_SIZE:
        case O_ERASE_BLOCK:
            if (!cli_option_number(cmd, c == O_ADDRESS ? "address" : c == O_SIZE ? "size" : "erase-block",
                                   optarg, 1, c == O_ERASE_BLOCK ? UINT32_MAX : UINT64_MAX, true, &size))
                return EXIT_USAGE;
            if (c == O_ADDRESS)
                job.swd.address = size;
            else if (c == O_SIZE)
                job.swd.size = size;
            else
                job.swd.erase_block = (uint32_t)size;
            break;
        case O_RESET_COMMAND: job.swd.reset_command = optarg; break;
        case O_SWD_MODE:
            if (strcmp(optarg, "auto") == 0)
                job.swd.mode = ROMFS_SWD_AUTO;
            else if (strcmp(optarg, "flash") == 0)
                job.swd.mode = ROMFS_SWD_FLASH;
            else if (strcmp(optarg, "ram") == 0)
                job.swd.mode = ROMFS_SWD_RAM;
            else
                return cli_usage_error(cmd, "--swd-mode is auto, flash or ram, not '%s'", optarg);
            break;
        case O_OPENOCD_TARGET: job.swd.openocd_target = optarg; break;
        case O_OPENOCD_INTERFACE: job.swd.openocd_interface = optarg; break;
        case O_PYOCD_TARGET: job.swd.pyocd_target = optarg; break;
        default: {
            int packing = cli_pack_args_option(pa, c, optarg, cmd);   /* how a DIR is packed */
            if (packing < 0)
                return EXIT_USAGE;
            if (packing == 0)
                return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
            break;
        }
        }
    }
    if (c == CLI_OPTIONS_EXIT)
        return cli.exit_code;
    if (optind + 1 != argc)
        return cli_usage_error(cmd, optind == argc ? "IMAGE or DIR missing" : "too many arguments");
    const char *input = argv[optind];
    int via_id = romfs_via_parse(via);
    if (via_id < 0)
        return cli_usage_error(cmd, "unknown --via '%s' (available: repl, dfu, swd)", via);
    job.via = (enum romfs_via)via_id;
    if (require_signed && !signed_by)
        return cli_usage_error(cmd, "--require-signed needs --key PUB.pem");
    enum flash_many_format fmt = json ? FLASH_MANY_JSON : FLASH_MANY_TEXT;
    if (format) {
        enum flash_many_format f = strcmp(format, "text") == 0 ? FLASH_MANY_TEXT
                                   : strcmp(format, "json") == 0 ? FLASH_MANY_JSON
                                   : strcmp(format, "junit") == 0 ? FLASH_MANY_JUNIT : (enum flash_many_format)-1;
        if ((int)f < 0 || (json && f != FLASH_MANY_JSON))
            return cli_usage_error(cmd, "--format is text, json or junit%s, not '%s'",
                                   json ? " (json with --json)" : "", format);
        fmt = f;
        json = f == FLASH_MANY_JSON;
    }
    bool many = all || n_ports > 1 || fmt == FLASH_MANY_JUNIT;
    if ((many || loop) && job.via != ROMFS_VIA_REPL)
        return cli_usage_error(cmd, "several boards (--all, --loop, more than one --port, "
                               "--format junit) are written over --via repl only");
    if (all && n_ports)
        return cli_usage_error(cmd, "give --all or --port, not both");
    if (fmt == FLASH_MANY_JUNIT && !all && !n_ports && !loop)
        return cli_usage_error(cmd, "--format junit writes a testcase per board: give "
                               "--port (repeatable) or --all");
    if (loop && (all || fmt != FLASH_MANY_TEXT))
        return cli_usage_error(cmd, "--loop writes every board that appears and prints a "
                               "PASS/FAIL line each (--log FILE for JSON lines); leave out %s",
                               all ? "--all" : "--json/--format");
    if (log_path && !loop)
        return cli_usage_error(cmd, "--log FILE is for --loop");
    if (!deploy && !board_name && !job.repl.port && !all && !loop &&
        !(job.via == ROMFS_VIA_SWD && job.swd.address && job.swd.size))
        return cli_usage_error(cmd, "give --board BOARD, or --port PORT to use the device's "
                               "own report of its partitions");
    if (watch || run_module) {
        const char *what = watch ? "--watch" : "--run";
        struct stat in;
        if (job.via != ROMFS_VIA_REPL)
            return cli_usage_error(cmd, "%s works over the REPL only (--via repl)", what);
        if (many || loop || json || fmt != FLASH_MANY_TEXT)
            return cli_usage_error(cmd, "%s is for one board: leave out --all, --loop, more "
                                   "than one --port, --json and --format", what);
        if (require_signed || signed_by)
            return cli_usage_error(cmd, "%s packs DIR anew on every change, and a packed tree is "
                                   "not signed: leave out --require-signed and --key", what);
        if (job.repl.no_reset && run_module)
            return cli_usage_error(cmd, "--run imports the module after a soft reset: leave out "
                                   "--no-reset");
        if (run_module && !romfs_module_name_valid(run_module))
            return cli_usage_error(cmd, "--run %s: not a module name (such as main or app.main)",
                                   run_module);
        if (watch && (stat(input, &in) != 0 || !S_ISDIR(in.st_mode)))
            return cli_usage_error(cmd, "--watch needs a DIR to pack and watch; %s is not one",
                                   input);
    }
    if (job.via == ROMFS_VIA_SWD && !job.swd.probe)
        return cli_usage_error(cmd, "--via swd needs --probe (gdb://HOST:PORT, serial:PATH, "
                               "openocd, pyocd or openocd-program)");
    if (job.via == ROMFS_VIA_DFU && !board_name)
        return cli_usage_error(cmd, "--via dfu needs --board BOARD (the partition's address "
                               "and the board's DFU id come from it)");

    struct romfs_error err = { 0 };
    struct romfs_boards db = { 0 };
    uint8_t *image = NULL;
    size_t len = 0;
    bool packed = false;
    int rc = ROMFS_OK;
    if (board_name && (rc = romfs_boards_load(NULL, &db, &err)) == ROMFS_OK &&
        !(job.board = romfs_boards_lookup(&db, board_name, &err)))
        rc = err.code;
    job.boards_source = db.source;
    if (rc != ROMFS_OK) {
        romfs_boards_free(&db);
        return cli_fail(&err);
    }
    /* mpy-cross compiles for the board's CPU or, without a board, for the device in hand */
    struct stat st;
    int exit_code = EXIT_OK;
    if (pa->opt.mpy_cross && board_name && (exit_code = cli_pack_args_board_march(pa, board_name, cmd))) {
        romfs_boards_free(&db);
        return exit_code;
    }
    if (pa->opt.mpy_cross && !cli_pack_args_has_march(pa) && !board_name && job.via == ROMFS_VIA_REPL &&
        stat(input, &st) == 0 && S_ISDIR(st.st_mode)) {
        const char *arch = NULL;
        rc = romfs_flash_device_mpy_arch(&job, &arch, &err);
        if (rc == ROMFS_OK && arch)
            cli_pack_args_add_march(pa, arch);
    }
    if (rc == ROMFS_OK && (watch || run_module)) {
        exit_code = flash_watch_main(&job, input, &pa->opt, run_module, watch, quiet);
        romfs_boards_free(&db);
        return exit_code;
    }
    if (rc == ROMFS_OK)
        rc = romfs_flash_load_input_with(input, &pa->opt, &image, &len, &packed, &err);
    if (rc == ROMFS_OK && signed_by)
        rc = romfs_signature_check(image, len, input, signed_by, NULL, &err);  /* before any device */
    if (rc == ROMFS_OK && (many || loop)) {
        int code;
        struct romfs_fleet_board *boards = NULL;
        size_t n = n_ports;
        if (loop) {
            code = flash_many_loop(&job, input, image, len, ports, n_ports, log_path, quiet);
        } else {
            cli_catch_interrupts();   /* every board's write loop is stopped, then exit */
            rc = all ? romfs_fleet_find(job.board, &boards, &n, &err)
                     : romfs_fleet_boards_for_ports(ports, n_ports, &boards, &err);
            code = rc != ROMFS_OK ? cli_fail(&err)
                                  : flash_many_run(&job, input, image, len, boards, n, fmt, quiet);
        }
        free(boards);
        free(image);
        romfs_boards_free(&db);
        return code;
    }
    struct progress prog = { .enabled = !quiet && !json && cli_stderr_is_tty() };
    job.progress = on_progress;
    job.progress_ctx = &prog;
    struct romfs_flash_job_result res = { 0 };
    cli_catch_interrupts();
    if (rc == ROMFS_OK)
        rc = romfs_flash_job_run(&job, image, len, &res, &err);
    if (prog.enabled && prog.last_phase)
        fputc('\n', stderr);

    if (json)
        print_json(&job, input, packed, len, &res, rc, &err, verbose);
    if (rc != ROMFS_OK) {
        exit_code = cli_fail(&err);
        if (verbose)
            print_traceback(&res);
    } else if (!quiet && !json) {
        char sz[64], link[512];
        printf("%s: %s image, %llu of %llu erase blocks written%s, %.2f s\n", input,
               cli_human_size(len, sz, sizeof sz), (unsigned long long)res.write.blocks_written,
               (unsigned long long)res.write.blocks_in_image,
               res.write.blocks_written == 0 ? " (already up to date)" : "", res.write_seconds);
        describe_link(&job, &res, link, sizeof link);
        printf("  verified %s; %s\n", res.swd_program ? "by openocd's program command"
                                     : res.verified_on_device ? "by SHA-256 on the device"
                                     : "by reading the flash back", link);
        print_units(&res.units);
        bool has;
        const char *confirm = describe_confirmation(&res, &has);
        if (has)
            printf("  %s\n", confirm);
    }
    free(image);
    romfs_boards_free(&db);
    return exit_code;
}
