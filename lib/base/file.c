/* file.c: whole-file reads and atomic writes. */
#include "base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int romfs_read_file(const char *path, uint8_t **data, size_t *size, struct romfs_error *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return romfs_set_errno(err, romfs_input_errno_code(errno), errno,
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
        return romfs_set_errno(err, romfs_input_errno_code(saved), saved,
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

static int io_code(int e)
{
    return e == ENOSPC ? ROMFS_ERR_NOSPC : e == ENOENT ? ROMFS_ERR_NOENT : e == EISDIR ? ROMFS_ERR_ISDIR
                                                                                      : ROMFS_ERR_IO;
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
        return romfs_set_errno(err, io_code(e), e, "cannot create %s", path);
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

int romfs_atomic_finish(struct romfs_atomic_file *f, unsigned mode, bool sync,
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
        rc = romfs_set_errno(err, io_code(errno), errno, "cannot write %s", f->path);
    if (close(f->fd) != 0 && rc == ROMFS_OK)
        rc = romfs_set_errno(err, io_code(errno), errno, "cannot write %s", f->path);
    f->fd = -1;
    if (rc != ROMFS_OK)
        romfs_atomic_abort(f);
    return rc;
}

int romfs_atomic_rename(struct romfs_atomic_file *f, struct romfs_error *err)
{
    int rc = ROMFS_OK;
    if (rename(f->tmp, f->path) != 0)
        rc = romfs_set_errno(err, io_code(errno), errno, "cannot create %s", f->path);
    if (rc != ROMFS_OK)
        unlink(f->tmp);
    free(f->tmp);
    f->tmp = NULL;
    return rc;
}

int romfs_atomic_commit(struct romfs_atomic_file *f, unsigned mode, bool sync,
                        struct romfs_error *err)
{
    int rc = romfs_atomic_finish(f, mode, sync, err);
    return rc != ROMFS_OK ? rc : romfs_atomic_rename(f, err);
}

const char *romfs_tmpdir(void)
{
    const char *tmp = getenv("TMPDIR");
    return tmp && *tmp ? tmp : "/tmp";
}

/* ---- outputs written all or nothing ---- */

struct romfs_output_item {
    char *path;
    struct romfs_atomic_file file;  /* staged temporary beside path; tmp NULL for a direct write */
    uint8_t *data;      /* copy kept for a direct write ("-", a device, a FIFO) */
    size_t len;
};

void romfs_output_set_init(struct romfs_output_set *s)
{
    memset(s, 0, sizeof *s);
}

int romfs_output_stage(struct romfs_output_set *s, const char *path, const uint8_t *data, size_t len,
                       struct romfs_error *err)
{
    struct romfs_output_item *items = realloc(s->items, (s->n + 1) * sizeof *items);
    if (!items)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    s->items = items;
    struct romfs_output_item *it = &items[s->n];
    memset(it, 0, sizeof *it);
    it->file.fd = -1;
    if (!(it->path = strdup(path)))
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    struct stat st;
    bool direct = strcmp(path, "-") == 0 || (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode));
    int rc = ROMFS_OK;
    if (direct) {
        /* Standard output, a device or a FIFO cannot be replaced by a rename (and must
           not be: renaming over /dev/null replaces the device): written at commit. */
        it->data = malloc(len ? len : 1);
        if (!it->data)
            rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
        else
            memcpy(it->data, data, len);
        it->len = len;
    } else {
        it->file.path = it->path;
        rc = romfs_atomic_open(&it->file, path, err);
        if (rc == ROMFS_OK && (rc = romfs_write_all(it->file.fd, data, len, path, err)) != ROMFS_OK)
            romfs_atomic_abort(&it->file);
        else if (rc == ROMFS_OK)
            rc = romfs_atomic_finish(&it->file, 0, false, err);
        it->file.path = it->path;   /* romfs_atomic_open borrowed the caller's string */
    }
    if (rc) {
        free(it->path);
        free(it->data);
        return rc;
    }
    s->n++;
    return ROMFS_OK;
}

void romfs_output_abort(struct romfs_output_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->items[i].file.tmp)
            romfs_atomic_abort(&s->items[i].file);
        free(s->items[i].path);
        free(s->items[i].data);
    }
    free(s->items);
    memset(s, 0, sizeof *s);
}

int romfs_output_commit(struct romfs_output_set *s, struct romfs_error *err)
{
    int rc = ROMFS_OK;
    /* Direct writes first: they are the ones that can still fail (a full device). */
    for (size_t i = 0; i < s->n && rc == ROMFS_OK; i++) {
        struct romfs_output_item *it = &s->items[i];
        if (it->file.tmp)
            continue;
        if (strcmp(it->path, "-") == 0) {
            if (fwrite(it->data, 1, it->len, stdout) != it->len || fflush(stdout) != 0)
                rc = romfs_set_errno(err, io_code(errno), errno, "cannot write to standard output");
            continue;
        }
        int fd = open(it->path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            rc = romfs_set_errno(err, io_code(errno), errno, "cannot write %s", it->path);
        else if ((rc = romfs_write_all(fd, it->data, it->len, it->path, err)) == ROMFS_OK && close(fd) != 0)
            rc = romfs_set_errno(err, io_code(errno), errno, "cannot write %s", it->path);
        else if (rc != ROMFS_OK)
            close(fd);
    }
    for (size_t i = 0; i < s->n && rc == ROMFS_OK; i++) {
        struct romfs_output_item *it = &s->items[i];
        if (it->file.tmp)
            rc = romfs_atomic_rename(&it->file, err);
    }
    romfs_output_abort(s);
    return rc;
}

int romfs_write_file_atomic(const char *path, const uint8_t *data, size_t len,
                            struct romfs_error *err)
{
    struct romfs_output_set s;
    romfs_output_set_init(&s);
    int rc = romfs_output_stage(&s, path, data, len, err);
    if (rc) {
        romfs_output_abort(&s);
        return rc;
    }
    return romfs_output_commit(&s, err);
}
