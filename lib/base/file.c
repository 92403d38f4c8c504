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

int romfs_write_all(int fd, const void *data, size_t len, const char *name,
                    struct romfs_error *err)
{
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;
            return romfs_set_errno(err, e == ENOSPC ? ROMFS_ERR_NOSPC : ROMFS_ERR_IO, e,
                                   "cannot write %s", name);
        }
        p += w;
        len -= (size_t)w;
    }
    return ROMFS_OK;
}

int romfs_atomic_open(struct romfs_atomic_file *f, const char *path, struct romfs_error *err)
{
    f->fd = -1;
    f->path = path;
    size_t n = strlen(path) + 16;
    f->tmp = malloc(n);
    if (!f->tmp)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    snprintf(f->tmp, n, "%s.tmp-XXXXXX", path);
    f->fd = mkstemp(f->tmp);
    if (f->fd < 0) {
        int e = errno;
        free(f->tmp);
        f->tmp = NULL;
        return romfs_set_errno(err, e == ENOENT ? ROMFS_ERR_NOENT : ROMFS_ERR_IO, e,
                               "cannot create %s", path);
    }
    return ROMFS_OK;
}

void romfs_atomic_abort(struct romfs_atomic_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    if (f->tmp)
        unlink(f->tmp);
    free(f->tmp);
    f->fd = -1;
    f->tmp = NULL;
}

int romfs_atomic_commit(struct romfs_atomic_file *f, unsigned mode, bool sync,
                        struct romfs_error *err)
{
    int rc = ROMFS_OK;
    if (mode == 0) {
        mode_t mask = umask(0);
        umask(mask);
        mode = 0666 & ~mask;
    }
    if (fchmod(f->fd, (mode_t)mode) != 0)
        rc = romfs_set_errno(err, ROMFS_ERR_IO, errno, "cannot set the mode of %s", f->path);
    if (rc == ROMFS_OK && sync && fsync(f->fd) != 0 && errno != EINVAL)
        rc = romfs_set_errno(err, errno == ENOSPC ? ROMFS_ERR_NOSPC : ROMFS_ERR_IO, errno,
                             "cannot write %s", f->path);
    if (close(f->fd) != 0 && rc == ROMFS_OK)
        rc = romfs_set_errno(err, errno == ENOSPC ? ROMFS_ERR_NOSPC : ROMFS_ERR_IO, errno,
                             "cannot write %s", f->path);
    f->fd = -1;
    if (rc == ROMFS_OK && rename(f->tmp, f->path) != 0)
        rc = romfs_set_errno(err, errno == EISDIR ? ROMFS_ERR_ISDIR : ROMFS_ERR_IO, errno,
                             "cannot create %s", f->path);
    if (rc != ROMFS_OK)
        unlink(f->tmp);
    free(f->tmp);
    f->tmp = NULL;
    return rc;
}

int romfs_write_file_atomic(const char *path, const uint8_t *data, size_t len,
                            struct romfs_error *err)
{
    if (strcmp(path, "-") == 0) {
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
            return romfs_set_errno(err, ROMFS_ERR_IO, errno, "cannot write to standard output");
        return ROMFS_OK;
    }
    struct romfs_atomic_file f;
    int rc = romfs_atomic_open(&f, path, err);
    if (rc != ROMFS_OK)
        return rc;
    rc = romfs_write_all(f.fd, data, len, path, err);
    if (rc != ROMFS_OK) {
        romfs_atomic_abort(&f);
        return rc;
    }
    return romfs_atomic_commit(&f, 0, false, err);
}

const char *romfs_tmpdir(void)
{
    const char *tmp = getenv("TMPDIR");
    return tmp && *tmp ? tmp : "/tmp";
}
