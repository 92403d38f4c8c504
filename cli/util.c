/* util.c: helpers shared by the subcommands (messages, sizes, file reading). */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("romfs: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("romfs: warning: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_exit_code(int code)
{
    switch (code) {
    case ROMFS_OK:
        return EXIT_OK;
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

int cli_fail(const struct romfs_error *err)
{
    cli_error("%s", err->msg[0] ? err->msg : romfs_strerror(err->code));
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
    if (!text || !*text || *text == '-')
        return false;
    errno = 0;
    char *end;
    uint64_t whole = strtoull(text, &end, 0);
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

int cli_read_file(const char *path, uint8_t **data, size_t *size, struct romfs_error *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return romfs_set_errno(err, errno == ENOENT ? ROMFS_ERR_NOENT : ROMFS_ERR_IO, errno,
                               "cannot open %s", path);
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        if (f != stdin)
            fclose(f);
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory reading %s", path);
    }
    for (;;) {
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                if (f != stdin)
                    fclose(f);
                return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory reading %s", path);
            }
            buf = nb;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    int failed = ferror(f);
    int saved = errno;
    if (f != stdin)
        fclose(f);
    if (failed) {
        free(buf);
        return romfs_set_errno(err, saved == EISDIR ? ROMFS_ERR_ISDIR : ROMFS_ERR_IO, saved,
                               "cannot read %s", path);
    }
    *data = buf;
    *size = len;
    return ROMFS_OK;
}

int cli_write_file_atomic(const char *path, const void *data, size_t len, struct romfs_error *err)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + 16);
    if (!tmp)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    snprintf(tmp, n + 16, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return romfs_set_errno(err, ROMFS_ERR_IO, e, "cannot create %s", path);
    }
    const uint8_t *p = data;
    int rc = ROMFS_OK;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc = romfs_set_errno(err, errno == ENOSPC ? ROMFS_ERR_NOSPC : ROMFS_ERR_IO, errno,
                                 "cannot write %s", path);
            break;
        }
        p += w;
        len -= (size_t)w;
    }
    mode_t mask = umask(0);
    umask(mask);
    if (!rc)
        fchmod(fd, 0666 & ~mask);
    if (close(fd) != 0 && !rc)
        rc = romfs_set_errno(err, ROMFS_ERR_IO, errno, "cannot write %s", path);
    if (!rc && rename(tmp, path) != 0)
        rc = romfs_set_errno(err, ROMFS_ERR_IO, errno, "cannot create %s", path);
    if (rc)
        unlink(tmp);
    free(tmp);
    return rc;
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
