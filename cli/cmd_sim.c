/* cmd_sim.c: `romfs sim`, a simulated MicroPython device on a pseudo-terminal. */
#define _GNU_SOURCE   /* asprintf */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "flash/sim.h"

CLI_COMMAND(sim, "run a simulated MicroPython device on a pseudo-terminal");

static void usage(FILE *out)
{
    fprintf(out,
"usage: romfs sim [--board BOARD] [--flash FILE] [--api ioctl|object] [--baud N]\n"
"                 [--fault SPEC] [--ready-file FILE] [--log FILE] [OPTIONS]\n"
"\n"
"Runs a simulated MicroPython device behind a pseudo-terminal: prints the pty path\n"
"(first line of stdout, e.g. /dev/pts/7) and runs until SIGTERM or SIGINT. Point any\n"
"REPL client at that path (romfs flash --via repl --port PATH, mpremote connect PATH).\n"
"\n"
"The device speaks MicroPython's friendly REPL, raw REPL and raw-paste mode byte for\n"
"byte (docs/reference/repl.rst), really runs the Python it is sent, with vfs (rom_ioctl,\n"
"VfsRom, mount), os, io, binascii, deflate, hashlib, sys, machine, micropython, gc,\n"
"time; /rom is mounted from partition 0 at boot and after each soft reset. Its flash\n"
"erases to 0xff in erase blocks and programs with AND (bits only clear), in write units.\n"
"\n"
"It fails where a board fails: its receive buffer is the port's stdin ring buffer and\n"
"drops what does not fit while the device is busy (not reading its input); raw-paste\n"
"code is parsed as it arrives, so a syntax error ends the transfer early; Ctrl-C\n"
"schedules one KeyboardInterrupt, raised at the next bytecode or in a blocking wait\n"
"(sleep, stdin read, poll), never inside a C function (print, rom_ioctl, ...); every\n"
"reset runs boot.py, then main.py if the REPL is the friendly one, from the current\n"
"directory (--fs); an ESP board resets when its port is opened; bytes paths give bytes\n"
"names.\n"
"\n"
"It does not model: timing (the device runs as fast as the host; flash erases and\n"
"writes take no time, --baud paces the line only), memory (no heap limit, no\n"
"MemoryError), MicroPython's own compiler (the code runs on python3, which accepts\n"
"syntax MicroPython rejects: check device code with mpy-cross), .mpy files, native\n"
"code, threads, hardware modules (Pin, UART, network), or the port's frozen modules.\n"
"\n"
"Device:\n"
"  --board BOARD         geometry, port and MCU from the board database (boards.json);\n"
"                        default: one 128 KiB partition, 4 KiB erase blocks (stm32-like)\n"
"  --partition-size N    size of partition 0 (K/M suffixes, 0x.. hex)\n"
"  --erase-block N       erase block of partition 0\n"
"  --write-block N       write unit of partition 0 (writes must be aligned to it)\n"
"  --partition SIZE[:ERASE[:WRITE]]  add a partition (repeatable; --board adds its own)\n"
"  --flash FILE          persist partition 0 in FILE (created erased; partition N>0 in\n"
"                        FILE.N), so a soft reset or restart mounts what was written\n"
"  --api ioctl|object    vfs.rom_ioctl(2) gives a memoryview with rom_ioctl(3..6) (stm32,\n"
"                        alif, renesas-ra, esp8266, qemu, samd with external flash) or a\n"
"                        block-device object with ioctl/readblocks/writeblocks (rp2,\n"
"                        esp32, mimxrt, nrf, samd with its filesystem in MCU flash);\n"
"                        default: the board's (boards.json), else its port's\n"
"  --mp-port NAME --mcu NAME --board-name NAME  MicroPython port (stm32, rp2, ...), MCU\n"
"                        and board name the device reports\n"
"  --arch ARCH           sys.implementation._mpy architecture (armv6m, armv7emsp, ...)\n"
"  --mpy-version N       .mpy version in sys.implementation._mpy (default 6)\n"
"  --no-romfs            firmware without vfs.rom_ioctl\n"
"  --start-raw           boot into the raw REPL\n"
"  --fs DIR              the board's own filesystem is this host directory, mounted\n"
"                        where the port mounts it (/flash on stm32, renesas-ra and\n"
"                        mimxrt, current directory there; / elsewhere) and writable;\n"
"                        boot.py and main.py run from it at every reset\n"
"  --reset-on-open, --no-reset-on-open\n"
"                        reset the device each time a host opens the pty (boot ROM\n"
"                        text, --boot-time during which input is lost, then the\n"
"                        friendly REPL), as ESP boards reset by DTR/RTS; default on\n"
"                        for esp32 and esp8266. A pty has no modem lines: the open is\n"
"                        the event\n"
"  --boot-time SECONDS   from a reset until the device listens (default 0.3, an\n"
"                        ESP32's; longer for big firmware images or PSRAM)\n"
"  --device-time SPEC    the device's own time, during which it reads nothing:\n"
"                        inflate=US,hash=US,write=US (microseconds per KiB),\n"
"                        erase=MS (milliseconds per block), or the preset qemu (as\n"
"                        measured on MicroPython's qemu port); default: none\n"
"  --polled-uart         Ctrl-C never interrupts running code: the UART is polled, as on\n"
"                        MicroPython's qemu port (real boards interrupt from the UART/USB\n"
"                        receive interrupt)\n"
"\n"
"Protocol variants (to test a client's fallbacks):\n"
"  --raw-paste on|off|absent   off: answer \"R\\x00\" (raw-paste refused); absent: firmware\n"
"                        that predates raw-paste (the request is taken as code)\n"
"  --raw-paste-window N  flow-control window increment (default 128, as MicroPython's\n"
"                        256-byte stdin buffer gives; some nrf boards use 32)\n"
"  --without MOD[.ATTR]  remove a module or attribute (repeatable), e.g. deflate,\n"
"                        binascii.a2b_base64, hashlib, bytes.fromhex\n"
"  --no-deflate          = --without deflate\n"
"  --no-base64           = --without binascii.a2b_base64 --without binascii.b2a_base64\n"
"  --no-fromhex          = --without bytes.fromhex\n"
"\n"
"Link:\n"
"  --baud N              limit both directions to N/10 bytes per second (a UART)\n"
"  --rx-buffer N         bytes the receive buffer holds; what arrives while it is full\n"
"                        and the device busy is lost (default: the port's, 259 on\n"
"                        stm32 and esp32, 511 on rp2; 0: unbounded, never lost)\n"
"  --fault SPEC          inject faults; SPEC is a comma list of KIND@N[:ARG] (repeatable):\n"
"      disconnect@N        after N bytes received, finish processing them, then drop\n"
"                          the link (the simulator exits; --flash keeps what was written)\n"
"      stall@N:SECONDS     after N bytes received, stop reading and answering for SECONDS\n"
"      flip-rx@N[:BIT]     flip bit BIT (default 0) of received byte N (0-based)\n"
"      flip-write@N[:BIT]  flip bit BIT of the N-th byte (0-based, over all flash writes)\n"
"                          while it is programmed\n"
"      flip-flash@OFF[:BIT] after the first write covering offset OFF of partition 0,\n"
"                          flip that bit in flash (for verify-failure tests)\n"
"      cut-write@N         power cut in the N-th flash write call (1-based): half of it\n"
"                          is programmed, then the simulator exits\n"
"      cut-erase@N         power cut in the N-th block erase (1-based): half the block\n"
"                          is erased, then the simulator exits\n"
"      fail-write@N[:ERRNO] the N-th flash write call (1-based) fails with OSError\n"
"                          ERRNO (default 5, EIO), programming nothing: writeblocks\n"
"                          raises it, vfs.rom_ioctl(4) returns -ERRNO\n"
"      fail-erase@N[:ERRNO] the N-th block erase (1-based) fails the same way\n"
"\n"
"Harness:\n"
"  --background          start the device in the background, print its pty path once\n"
"                        it is at its prompt, and return (stop it with kill)\n"
"  --pid-file FILE       with --background: write the device's process id to FILE\n"
"  --ready-file FILE     write the pty path to FILE once the device is at its prompt\n"
"  --log FILE            append a timestamped transcript of both directions\n"
"  --stats FILE          JSON after every executed command: rx_bytes, tx_bytes,\n"
"                        rx_dropped, rx_lost_in_reset, erases, erased_blocks, writes,\n"
"                        written_bytes, soft_resets, hard_resets\n"
"  --code-log FILE       append every program the device is given (REPL, raw-paste,\n"
"                        exec()) as a JSON line, to check it with mpy-cross\n"
"\n"
"Example:\n"
"  port=$(romfs sim --board PYBD_SF2 --flash dev.bin --background --pid-file sim.pid)\n"
"  romfs flash app/ --board PYBD_SF2 --via repl --port \"$port\"\n"
"  kill \"$(cat sim.pid)\"\n"
"\n"
"Needs python3 (ROMFS_PYTHON overrides).\n");
}

/* --background: start the device, print its pty path once it is at its prompt, exit. */
static int run_in_background(int n, char **args, const char *pid_file)
{
    /* The device must not hold our stderr open (whoever waits for us would wait for it
     * too): it writes its messages to an unlinked temporary file, which we show if it
     * fails to start. */
    char log_path[4096];
    snprintf(log_path, sizeof log_path, "%s/romfs-sim-stderr.XXXXXX", romfs_tmpdir());
    int log_fd = mkstemp(log_path);
    if (log_fd < 0) {
        cli_error("cannot create a temporary file: %s", strerror(errno));
        return EXIT_FAIL;
    }
    unlink(log_path);
    fflush(stderr);
    int saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    dup2(log_fd, STDERR_FILENO);
    struct romfs_error err = {0};
    struct romfs_sim_process sim;
    int rc = romfs_sim_spawn(n, args, 20000, &sim, &err);
    dup2(saved, STDERR_FILENO);
    close(saved);
    if (rc != ROMFS_OK) {
        char buf[4096];
        ssize_t got = pread(log_fd, buf, sizeof buf - 1, 0);
        if (got > 0)
            fwrite(buf, 1, (size_t)got, stderr);
        close(log_fd);
        return cli_fail(&err);
    }
    close(log_fd);
    if (pid_file) {
        FILE *f = fopen(pid_file, "w");
        if (!f || fprintf(f, "%ld\n", (long)sim.pid) < 0 || fclose(f) != 0) {
            cli_error("cannot write %s: %s", pid_file, strerror(errno));
            romfs_sim_stop(&sim);
            return EXIT_USAGE;
        }
    }
    printf("%s\n", sim.pty);
    fflush(stdout);
    return EXIT_OK;
}

/* The simulator's options (templates/sim/main.py), checked here so a typo gets the same
 * message as in every other command; each is passed on as "--name" or "--name=value". */
enum { SIM_PASS = 1000, SIM_BACKGROUND = 2000, SIM_PID_FILE };
static const struct option sim_options[] = {
    { "board", required_argument, NULL, SIM_PASS + 0 }, { "board-name", required_argument, NULL, SIM_PASS + 1 },
    { "mp-port", required_argument, NULL, SIM_PASS + 2 }, { "mcu", required_argument, NULL, SIM_PASS + 3 },
    { "partition", required_argument, NULL, SIM_PASS + 4 }, { "partition-size", required_argument, NULL, SIM_PASS + 5 },
    { "erase-block", required_argument, NULL, SIM_PASS + 6 }, { "write-block", required_argument, NULL, SIM_PASS + 7 },
    { "no-romfs", no_argument, NULL, SIM_PASS + 8 }, { "flash", required_argument, NULL, SIM_PASS + 9 },
    { "api", required_argument, NULL, SIM_PASS + 10 }, { "baud", required_argument, NULL, SIM_PASS + 11 },
    { "fault", required_argument, NULL, SIM_PASS + 12 }, { "raw-paste", required_argument, NULL, SIM_PASS + 13 },
    { "raw-paste-window", required_argument, NULL, SIM_PASS + 14 }, { "without", required_argument, NULL, SIM_PASS + 15 },
    { "no-deflate", no_argument, NULL, SIM_PASS + 16 }, { "no-base64", no_argument, NULL, SIM_PASS + 17 },
    { "no-fromhex", no_argument, NULL, SIM_PASS + 18 }, { "arch", required_argument, NULL, SIM_PASS + 19 },
    { "mpy-version", required_argument, NULL, SIM_PASS + 20 }, { "mpy-sub-version", required_argument, NULL, SIM_PASS + 21 },
    { "start-raw", no_argument, NULL, SIM_PASS + 22 }, { "ready-file", required_argument, NULL, SIM_PASS + 23 },
    { "log", required_argument, NULL, SIM_PASS + 24 }, { "stats", required_argument, NULL, SIM_PASS + 25 },
    { "polled-uart", no_argument, NULL, SIM_PASS + 26 }, { "rx-buffer", required_argument, NULL, SIM_PASS + 27 },
    { "reset-on-open", no_argument, NULL, SIM_PASS + 28 }, { "no-reset-on-open", no_argument, NULL, SIM_PASS + 29 },
    { "fs", required_argument, NULL, SIM_PASS + 30 }, { "code-log", required_argument, NULL, SIM_PASS + 31 },
    { "boot-time", required_argument, NULL, SIM_PASS + 32 },
    { "device-time", required_argument, NULL, SIM_PASS + 33 },
    { "background", no_argument, NULL, SIM_BACKGROUND }, { "pid-file", required_argument, NULL, SIM_PID_FILE },
    { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
};

static int run_sim(int n, char **args, bool background, const char *pid_file);

int cmd_sim(int argc, char **argv)
{
    bool background = false;
    const char *pid_file = NULL;
    int n = 0;
    char **args = calloc((size_t)argc + 1, sizeof *args);   /* owned "--name[=value]" strings */
    if (!args) {
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    struct cli_options cli = { .command = "sim", .shortopts = "h", .longopts = sim_options,
                               .help = usage, .argc = argc, .argv = argv };
    int c, rc = EXIT_OK;
    while (rc == EXIT_OK && (c = cli_next_option(&cli)) > 0) {
        if (c == SIM_BACKGROUND) {
            background = true;
        } else if (c == SIM_PID_FILE) {
            pid_file = optarg;
        } else {
            const struct option *o = sim_options;
            while (o->val != c)   /* every value is in the table: getopt returned it */
                o++;
            if (asprintf(&args[n], "--%s%s%s", o->name, o->has_arg ? "=" : "", o->has_arg ? optarg : "") < 0) {
                args[n] = NULL;
                cli_error("out of memory");
                rc = EXIT_FAIL;
            } else {
                n++;
            }
        }
    }
    if (rc == EXIT_OK && c == CLI_OPTIONS_EXIT)
        rc = cli.exit_code;   /* --help (0) or a usage error */
    else if (rc == EXIT_OK && optind < argc)
        rc = cli_usage_error("sim", "unexpected argument '%s'", argv[optind]);
    else if (rc == EXIT_OK)
        rc = run_sim(n, args, background, pid_file);
    for (int i = 0; i < n; i++)
        free(args[i]);
    free(args);
    return rc;
}

/* Run the simulator with the pass-through arguments args[0..n). */
static int run_sim(int n, char **args, bool background, const char *pid_file)
{
    if (pid_file && !background)
        return cli_usage_error("sim", "--pid-file goes with --background");
    if (background)
        return run_in_background(n, args, pid_file);
    struct romfs_error err = {0};
    struct romfs_sim_command cmd;
    int rc = romfs_sim_command_build(n, args, &cmd, &err);
    if (rc != ROMFS_OK)
        return cli_fail(&err);
    fflush(stdout);
    execvp(cmd.argv[0], cmd.argv);
    int e = errno;
    romfs_sim_command_discard(&cmd);
    cli_error("cannot run %s for the simulator: %s (set ROMFS_PYTHON)", cmd.argv[0], strerror(e));
    romfs_sim_command_free(&cmd);
    return EXIT_FAIL;
}
