/* image/file.c: loading image files, extracting them safely, comparing with a directory. */
#include "image/image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int romfs_image_load(const char *path, struct romfs_image_file *file, struct romfs_image *img,
                     struct romfs_error *err)
{
    memset(file, 0, sizeof *file);
    int fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return romfs_set_errno(err, romfs_input_errno_code(errno), errno,
                               "cannot open %s", path);
    struct stat st;
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        int e = S_ISDIR(st.st_mode) ? EISDIR : errno;
        close(fd);
        return romfs_set_errno(err, romfs_input_errno_code(e), e,
                               "cannot read %s", path);
    }
    if (S_ISREG(st.st_mode) && st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) {
            file->data = p;
            file->size = (size_t)st.st_size;
            file->mapped = 1;
        }
    }
    if (!file->mapped) {
        size_t cap = 1 << 16, len = 0;
        uint8_t *buf = malloc(cap);
        for (;;) {
            if (!buf) {
                close(fd);
                return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory reading %s", path);
            }
            if (len == cap) {
                uint8_t *nb = realloc(buf, cap *= 2);
                if (!nb)
                    free(buf);
                buf = nb;
                continue;
            }
            ssize_t r = read(fd, buf + len, cap - len);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                int e = errno;
                free(buf);
                close(fd);
                return romfs_set_errno(err, romfs_input_errno_code(e), e, "cannot read %s", path);
            }
            if (r == 0)
                break;
            len += (size_t)r;
        }
        file->data = buf;
        file->size = len;
    }
    close(fd);
    int rc = romfs_image_open(img, file->data, file->size, err);
    if (rc) {
        romfs_error_prefix(err, "%s", path);
        romfs_image_file_close(file);
    }
    return rc;
}

void romfs_image_file_close(struct romfs_image_file *file)
{
    if (file->mapped)
        munmap(file->data, file->size);
    else
        free(file->data);
    memset(file, 0, sizeof *file);
}

/* ---- extract ---------------------------------------------------------------- */

static int name_is_safe(const struct romfs_entry *e)
{
    if (e->name_len == 0 || memchr(e->name, '/', e->name_len) || memchr(e->name, 0, e->name_len))
        return 0;
    if ((e->name_len == 1 && e->name[0] == '.') ||
        (e->name_len == 2 && e->name[0] == '.' && e->name[1] == '.'))
        return 0;
    return 1;
}

static int write_file_at(int dirfd, const char *name, const char *shown, const uint8_t *data,
                         uint64_t size, struct romfs_error *err)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode))
        return romfs_set_error(err, ROMFS_ERR_EXIST,
                               "%s exists and is not a regular file (%s); not replacing it", shown,
                               S_ISLNK(st.st_mode) ? "a symlink" : "a directory or special file");
    char tmp[64];
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        snprintf(tmp, sizeof tmp, ".romfs-extract.%ld.%d", (long)getpid(), attempt);
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0)
        return romfs_set_errno(err, ROMFS_ERR_IO, errno, "cannot create %s", shown);
    int rc = ROMFS_OK;
    for (uint64_t done = 0; done < size;) {
        ssize_t w = write(fd, data + done, (size_t)(size - done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc = romfs_set_errno(err, errno == ENOSPC ? ROMFS_ERR_NOSPC : ROMFS_ERR_IO, errno,
                                 "cannot write %s", shown);
            break;
        }
        done += (uint64_t)w;
    }
    if (close(fd) != 0 && !rc)
        rc = romfs_set_errno(err, ROMFS_ERR_IO, errno, "cannot write %s", shown);
    if (!rc && renameat(dirfd, tmp, dirfd, name) != 0)
        rc = romfs_set_errno(err, ROMFS_ERR_IO, errno, "cannot create %s", shown);
    if (rc)
        unlinkat(dirfd, tmp, 0);
    return rc;
}

static int open_subdir(int dirfd, const char *name, const char *shown, int *out,
                       struct romfs_error *err)
{
    if (mkdirat(dirfd, name, 0777) != 0 && errno != EEXIST)
        return romfs_set_errno(err, ROMFS_ERR_IO, errno, "cannot create directory %s", shown);
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
        return romfs_set_error(err, ROMFS_ERR_EXIST,
                               "%s exists and is not a directory (a symlink is never followed)",
                               shown);
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return romfs_set_errno(err, ROMFS_ERR_IO, errno, "cannot open directory %s", shown);
    *out = fd;
    return ROMFS_OK;
}

static int extract_dir(const struct romfs_image *img, const struct romfs_entry *dir, int dirfd,
                       const char *shown_dir, int depth, struct romfs_extract_stats *stats,
                       struct romfs_error *err)
{
    if (depth > 256)
        return romfs_set_error(err, ROMFS_ERR_CORRUPT, "directories nested too deep in the image");
    struct romfs_dir_iter it;
    struct romfs_entry e;
    romfs_dir_begin(img, dir, &it);
    int rc;
    while ((rc = romfs_dir_next(&it, &e, err)) == 1) {
        if (!name_is_safe(&e))
            return romfs_set_error(err, ROMFS_ERR_CORRUPT,
                                   "refusing the entry at offset %zu in %s: its name '%.*s' is "
                                   "empty, '.', '..' or contains '/' or NUL", e.record_offset,
                                   shown_dir, (int)e.name_len, (const char *)e.name);
        char name[4096];
        if (e.name_len >= sizeof name)
            return romfs_set_error(err, ROMFS_ERR_UNSUPPORTED, "name too long at offset %zu",
                                   e.record_offset);
        memcpy(name, e.name, e.name_len);
        name[e.name_len] = '\0';
        char shown[8192];
        snprintf(shown, sizeof shown, "%s/%s", shown_dir, name);
        if (e.type == ROMFS_ENTRY_DIR) {
            int fd = -1;
            if ((rc = open_subdir(dirfd, name, shown, &fd, err)))
                return rc;
            stats->dirs++;
            rc = extract_dir(img, &e, fd, shown, depth + 1, stats, err);
            close(fd);
        } else {
            rc = write_file_at(dirfd, name, shown, romfs_entry_data(img, &e), e.data_size, err);
            stats->files++;
            stats->bytes += e.data_size;
        }
        if (rc)
            return rc;
    }
    return rc;
}

int romfs_extract(const struct romfs_image *img, const struct romfs_entry *dir, const char *dest,
                  struct romfs_extract_stats *stats, struct romfs_error *err)
{
    struct romfs_extract_stats local;
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    if (mkdir(dest, 0777) != 0 && errno != EEXIST)
        return romfs_set_errno(err, ROMFS_ERR_IO, errno, "cannot create %s", dest);
    int fd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return romfs_set_errno(err, errno == ENOTDIR ? ROMFS_ERR_NOTDIR : ROMFS_ERR_IO, errno,
                               "cannot open %s", dest);
    int rc = extract_dir(img, dir, fd, dest, 0, stats, err);
    close(fd);
    return rc;
}
