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

/* ---- outputs written all or nothing ---- */

struct romfs_output_item {
    char *path;
    char *tmp;          /* staged temporary beside path; NULL for a direct write */
    uint8_t *data;      /* copy kept for a direct write ("-", a device, a FIFO) */
    size_t len;
};

void romfs_output_set_init(struct romfs_output_set *s)
{
    memset(s, 0, sizeof *s);
}

static int write_all(int fd, const uint8_t *data, size_t len)
{
    for (size_t done = 0; done < len;) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno;
        done += (size_t)w;
    }
    return 0;
}

static int io_code(int e)
{
    return e == ENOSPC ? ROMFS_ERR_NOSPC : e == ENOENT ? ROMFS_ERR_NOENT : e == EISDIR ? ROMFS_ERR_ISDIR : ROMFS_ERR_IO;
}

/* Write data to a new temporary file beside path; *tmp_out gets its name. */
static int stage_temp(const char *path, const uint8_t *data, size_t len, char **tmp_out, struct romfs_error *err)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    snprintf(tmp, plen + 16, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return romfs_set_errno(err, io_code(e), e, "cannot create %s", path);
    }
    int rc = ROMFS_OK, e = write_all(fd, data, len);
    if (e)
        rc = romfs_set_errno(err, io_code(e), e, "cannot write %s", path);
    mode_t mask = umask(0);
    umask(mask);
    if (rc == ROMFS_OK && fchmod(fd, 0666 & ~mask) != 0)
        rc = romfs_set_errno(err, ROMFS_ERR_IO, errno, "cannot set the mode of %s", path);
    if (close(fd) != 0 && rc == ROMFS_OK)
        rc = romfs_set_errno(err, io_code(errno), errno, "cannot write %s", path);
    if (rc) {
        unlink(tmp);
        free(tmp);
        return rc;
    }
    *tmp_out = tmp;
    return ROMFS_OK;
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
        rc = stage_temp(path, data, len, &it->tmp, err);
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
        if (s->items[i].tmp)
            unlink(s->items[i].tmp);
        free(s->items[i].tmp);
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
        if (it->tmp)
            continue;
        if (strcmp(it->path, "-") == 0) {
            if (fwrite(it->data, 1, it->len, stdout) != it->len || fflush(stdout) != 0)
                rc = romfs_set_errno(err, io_code(errno), errno, "cannot write to standard output");
            continue;
        }
        int fd = open(it->path, O_WRONLY | O_CLOEXEC);
        int e = fd < 0 ? errno : write_all(fd, it->data, it->len);
        if (fd >= 0 && close(fd) != 0 && !e)
            e = errno;
        if (e)
            rc = romfs_set_errno(err, io_code(e), e, "cannot write %s", it->path);
    }
    for (size_t i = 0; i < s->n && rc == ROMFS_OK; i++) {
        struct romfs_output_item *it = &s->items[i];
        if (!it->tmp)
            continue;
        if (rename(it->tmp, it->path) != 0)
            rc = romfs_set_errno(err, io_code(errno), errno, "cannot create %s", it->path);
        else {
            free(it->tmp);
            it->tmp = NULL;
        }
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
