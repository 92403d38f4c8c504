/* file.c: whole-file reads and atomic writes. */
#include "base/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int romfs_read_file(const char *path, uint8_t **data, size_t *size, struct romfs_error *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return romfs_set_errno(err, errno == ENOENT ? ROMFS_ERR_NOENT : ROMFS_ERR_IO, errno,
                               "cannot open %s", path);
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap + 1);
    int failed = 0, saved = 0;
    while (buf) {
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            failed = ferror(f);
            saved = errno;
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    if (!buf)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory reading %s", path);
    if (failed) {
        free(buf);
        return romfs_set_errno(err, saved == EISDIR ? ROMFS_ERR_ISDIR : ROMFS_ERR_IO, saved,
                               "cannot read %s", path);
    }
    buf[len] = '\0';
    *data = buf;
    *size = len;
    return ROMFS_OK;
}

int romfs_write_file_atomic(const char *path, const uint8_t *data, size_t len,
                            struct romfs_error *err)
{
    if (strcmp(path, "-") == 0) {
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
            return romfs_set_errno(err, ROMFS_ERR_IO, errno, "cannot write to standard output");
        return ROMFS_OK;
    }
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    snprintf(tmp, plen + 16, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return romfs_set_errno(err, e == ENOENT ? ROMFS_ERR_NOENT : ROMFS_ERR_IO, e,
                               "cannot create %s", path);
    }
    int rc = ROMFS_OK;
    for (size_t done = 0; done < len;) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc = romfs_set_errno(err, errno == ENOSPC ? ROMFS_ERR_NOSPC : ROMFS_ERR_IO, errno,
                                 "cannot write %s", path);
            break;
        }
        done += (size_t)w;
    }
    mode_t mask = umask(0);
    umask(mask);
    if (rc == ROMFS_OK && fchmod(fd, 0666 & ~mask) != 0)
        rc = romfs_set_errno(err, ROMFS_ERR_IO, errno, "cannot set the mode of %s", path);
    if (close(fd) != 0 && rc == ROMFS_OK)
        rc = romfs_set_errno(err, errno == ENOSPC ? ROMFS_ERR_NOSPC : ROMFS_ERR_IO, errno,
                             "cannot write %s", path);
    if (rc == ROMFS_OK && rename(tmp, path) != 0)
        rc = romfs_set_errno(err, errno == EISDIR ? ROMFS_ERR_ISDIR : ROMFS_ERR_IO, errno,
                             "cannot create %s", path);
    if (rc)
        unlink(tmp);
    free(tmp);
    return rc;
}
