/* image/extract.c: write an image's tree into a directory, safely.
 *
 * Two passes. The first reads the whole (sub)tree and the destination without writing:
 * names, duplicates, what already exists (a symlink is never followed, an existing file
 * must hold the image's bytes unless force). Only if all of it passes does the second
 * pass write, each file to a temporary name renamed into place; it records what it
 * creates, so a write failure (disk full) removes it again. */
#include "image/image.h"
#include "base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DEPTH 256

struct created {
    char *rel;      /* path below dest */
    bool is_dir;
};

struct extract {
    const struct romfs_image *img;
    bool force;
    struct romfs_extract_stats *stats;
    struct romfs_error *err;
    const char *dest;
    int root_fd;
    struct created *made;
    size_t n_made, cap_made;
};

/* Where an entry is: its path in the image, and below dest. */
struct where {
    char rel[8192];     /* below dest (also the image path below the extracted dir) */
};

static int name_is_safe(const struct romfs_entry *e)
{
    if (e->name_len == 0 || memchr(e->name, '/', e->name_len) || memchr(e->name, 0, e->name_len))
        return 0;
    if ((e->name_len == 1 && e->name[0] == '.') ||
        (e->name_len == 2 && e->name[0] == '.' && e->name[1] == '.'))
        return 0;
    return 1;
}

static int compare_entries(const void *a, const void *b)
{
    const struct romfs_entry *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    if (c)
        return c;
    return x->name_len < y->name_len ? -1 : x->name_len > y->name_len;
}

static int join_rel(char *out, size_t cap, const char *parent, const struct romfs_entry *e,
                    struct romfs_error *err)
{
    int n = snprintf(out, cap, "%s%s%.*s", parent, *parent ? "/" : "", (int)e->name_len,
                     (const char *)e->name);
    if (n < 0 || (size_t)n >= cap)
        return romfs_set_error(err, ROMFS_ERR_UNSUPPORTED, "path too long at offset %zu",
                               e->record_offset);
    return ROMFS_OK;
}

/* Whether the regular file `name` in dirfd holds exactly data[0..size). */
static bool same_bytes_at(int dirfd, const char *name, const uint8_t *data, uint64_t size)
{
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    bool same = fstat(fd, &st) == 0 && (uint64_t)st.st_size == size;
    uint8_t buf[65536];
    for (uint64_t done = 0; same && done < size;) {
        size_t want = size - done < sizeof buf ? (size_t)(size - done) : sizeof buf;
        ssize_t r = read(fd, buf, want);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || memcmp(buf, data + done, (size_t)r) != 0)
            same = false;
        else
            done += (uint64_t)r;
    }
    close(fd);
    return same;
}

/* ---- pass 1: check everything, write nothing -------------------------------- */

/* dirfd: the existing destination directory for `dir`, or -1 when it does not exist yet. */
static int check_dir(struct extract *x, const struct romfs_entry *dir, int dirfd,
                     const char *rel_dir, int depth)
{
    struct romfs_error *err = x->err;
    if (depth > MAX_DEPTH)
        return romfs_set_error(err, ROMFS_ERR_CORRUPT, "directories nested too deep in the image");
    struct romfs_dir_iter it;
    struct romfs_entry e, *list = NULL;
    size_t n = 0, cap = 0;
    int rc;
    romfs_dir_begin(x->img, dir, &it);
    while ((rc = romfs_dir_next(&it, &e, err)) == 1) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            struct romfs_entry *nl = realloc(list, cap * sizeof *nl);
            if (!nl) {
                rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
                break;
            }
            list = nl;
        }
        list[n++] = e;
    }
    if (rc < 0) {
        free(list);
        return rc;
    }
    for (size_t i = 0; i < n && !rc; i++)
        if (!name_is_safe(&list[i]))
            rc = romfs_set_error(err, ROMFS_ERR_CORRUPT,
                                 "refusing the entry at offset %zu in %s%s%s: its name '%.*s' is "
                                 "empty, '.', '..' or contains '/' or NUL", list[i].record_offset,
                                 x->dest, *rel_dir ? "/" : "", rel_dir, (int)list[i].name_len,
                                 (const char *)list[i].name);
    struct romfs_entry *sorted = rc || n < 2 ? NULL : malloc(n * sizeof *sorted);
    if (!rc && n >= 2 && !sorted)
        rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    if (sorted) {
        memcpy(sorted, list, n * sizeof *sorted);
        qsort(sorted, n, sizeof *sorted, compare_entries);
        for (size_t i = 1; i < n && !rc; i++)
            if (compare_entries(&sorted[i - 1], &sorted[i]) == 0) {
                struct where w;
                if (!(rc = join_rel(w.rel, sizeof w.rel, rel_dir, &sorted[i], err)))
                    rc = romfs_set_error(err, ROMFS_ERR_CORRUPT,
                                         "the image holds '%s' twice (records at offsets %zu and "
                                         "%zu); refusing to extract either", w.rel,
                                         sorted[i - 1].record_offset, sorted[i].record_offset);
            }
        free(sorted);
    }
    for (size_t i = 0; i < n && !rc; i++) {
        const struct romfs_entry *c = &list[i];
        struct where w;
        char name[256 * 16];
        if ((rc = join_rel(w.rel, sizeof w.rel, rel_dir, c, err)))
            break;
        if (c->name_len >= sizeof name) {
            rc = romfs_set_error(err, ROMFS_ERR_UNSUPPORTED, "name too long at offset %zu",
                                 c->record_offset);
            break;
        }
        memcpy(name, c->name, c->name_len);
        name[c->name_len] = '\0';
        struct stat st;
        bool exists = dirfd >= 0 && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
        if (c->type == ROMFS_ENTRY_DIR) {
            int sub = -1;
            if (exists && !S_ISDIR(st.st_mode))
                rc = romfs_set_error(err, ROMFS_ERR_EXIST, "%s/%s exists and is not a directory "
                                     "(a symlink is never followed)", x->dest, w.rel);
            else if (exists && (sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                                                              O_CLOEXEC)) < 0)
                rc = romfs_set_errno(err, ROMFS_ERR_IO, errno, "cannot open directory %s/%s",
                                     x->dest, w.rel);
            if (!rc)
                rc = check_dir(x, c, sub, w.rel, depth + 1);
            if (sub >= 0)
                close(sub);
        } else if (exists && !S_ISREG(st.st_mode)) {
            rc = romfs_set_error(err, ROMFS_ERR_EXIST, "%s/%s exists and is not a regular file "
                                 "(%s); not replacing it", x->dest, w.rel,
                                 S_ISLNK(st.st_mode) ? "a symlink" : "a directory or special file");
        } else if (exists && !x->force &&
                   !same_bytes_at(dirfd, name, romfs_entry_data(x->img, c), c->data_size)) {
            rc = romfs_set_error(err, ROMFS_ERR_EXIST, "%s/%s exists and differs from the image's "
                                 "file; nothing was extracted (--force replaces it)", x->dest, w.rel);
        }
    }
    free(list);
    return rc;
}

/* ---- pass 2: write ----------------------------------------------------------- */

static int remember(struct extract *x, const char *rel, bool is_dir)
{
    if (x->n_made == x->cap_made) {
        size_t cap = x->cap_made ? x->cap_made * 2 : 32;
        struct created *nm = realloc(x->made, cap * sizeof *nm);
        if (!nm)
            return romfs_set_error(x->err, ROMFS_ERR_NOMEM, "out of memory");
        x->made = nm;
        x->cap_made = cap;
    }
    char *copy = strdup(rel);
    if (!copy)
        return romfs_set_error(x->err, ROMFS_ERR_NOMEM, "out of memory");
    x->made[x->n_made++] = (struct created){ copy, is_dir };
    return ROMFS_OK;
}

static int write_file_at(struct extract *x, int dirfd, const char *name, const char *rel,
                         const uint8_t *data, uint64_t size)
{
    struct romfs_error *err = x->err;
    struct stat st;
    bool existed = fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (existed && !S_ISREG(st.st_mode))   /* appeared since pass 1 */
        return romfs_set_error(err, ROMFS_ERR_EXIST, "%s/%s exists and is not a regular file; "
                               "not replacing it", x->dest, rel);
    if (existed && same_bytes_at(dirfd, name, data, size)) {
        x->stats->unchanged++;
        return ROMFS_OK;
    }
    char tmp[64];
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        snprintf(tmp, sizeof tmp, ".romfs-extract.%ld.%d", (long)getpid(), attempt);
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0)
        return romfs_set_errno(err, ROMFS_ERR_IO, errno, "cannot create %s/%s", x->dest, rel);
    char shown[8192 + 4096 + 2];
    snprintf(shown, sizeof shown, "%s/%s", x->dest, rel);
    int rc = romfs_write_all(fd, data, (size_t)size, shown, err);
    if (close(fd) != 0 && !rc)
        rc = romfs_set_errno(err, errno == ENOSPC ? ROMFS_ERR_NOSPC : ROMFS_ERR_IO, errno,
                             "cannot write %s/%s", x->dest, rel);
    if (!rc && !existed)
        rc = remember(x, rel, false);
    if (!rc && renameat(dirfd, tmp, dirfd, name) != 0) {
        rc = romfs_set_errno(err, ROMFS_ERR_IO, errno, "cannot create %s/%s", x->dest, rel);
        if (!existed)
            free(x->made[--x->n_made].rel);
    }
    if (rc)
        unlinkat(dirfd, tmp, 0);
    return rc;
}

static int write_dir(struct extract *x, const struct romfs_entry *dir, int dirfd,
                     const char *rel_dir)
{
    struct romfs_dir_iter it;
    struct romfs_entry e;
    int rc;
    romfs_dir_begin(x->img, dir, &it);
    while ((rc = romfs_dir_next(&it, &e, x->err)) == 1) {
        struct where w;
        char name[256 * 16];
        if ((rc = join_rel(w.rel, sizeof w.rel, rel_dir, &e, x->err)))
            return rc;
        memcpy(name, e.name, e.name_len);   /* lengths were checked in pass 1 */
        name[e.name_len] = '\0';
        if (e.type == ROMFS_ENTRY_DIR) {
            if (mkdirat(dirfd, name, 0777) == 0)
                rc = remember(x, w.rel, true);
            else if (errno != EEXIST)
                rc = romfs_set_errno(x->err, ROMFS_ERR_IO, errno, "cannot create directory %s/%s",
                                     x->dest, w.rel);
            int fd = rc ? -1 : openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (!rc && fd < 0)
                rc = romfs_set_errno(x->err, ROMFS_ERR_EXIST, errno, "cannot open directory %s/%s "
                                     "(a symlink is never followed)", x->dest, w.rel);
            x->stats->dirs++;
            if (!rc)
                rc = write_dir(x, &e, fd, w.rel);
            if (fd >= 0)
                close(fd);
        } else {
            rc = write_file_at(x, dirfd, name, w.rel, romfs_entry_data(x->img, &e), e.data_size);
            x->stats->files++;
            x->stats->bytes += e.data_size;
        }
        if (rc)
            return rc;
    }
    return rc;
}

int romfs_extract(const struct romfs_image *img, const struct romfs_entry *dir, const char *dest,
                  const struct romfs_extract_options *opt, struct romfs_extract_stats *stats,
                  struct romfs_error *err)
{
    struct romfs_extract_stats local;
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof *stats);
    struct extract x = { img, opt && opt->force, stats, err, dest, -1, NULL, 0, 0 };
    struct stat st;
    bool dest_exists = lstat(dest, &st) == 0;
    if (dest_exists && !S_ISDIR(st.st_mode))
        return romfs_set_error(err, S_ISLNK(st.st_mode) ? ROMFS_ERR_EXIST : ROMFS_ERR_NOTDIR,
                               "%s exists and is not a directory%s", dest,
                               S_ISLNK(st.st_mode) ? " (a symlink is never followed)" : "");
    int fd = dest_exists ? open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
    if (dest_exists && fd < 0)
        return romfs_set_errno(err, ROMFS_ERR_IO, errno, "cannot open %s", dest);
    int rc = check_dir(&x, dir, fd, "", 0);
    if (!rc && !dest_exists) {
        if (mkdir(dest, 0777) != 0)
            rc = romfs_set_errno(err, errno == ENOENT ? ROMFS_ERR_NOENT : ROMFS_ERR_IO, errno,
                                 "cannot create %s", dest);
        else if ((fd = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
            rc = romfs_set_errno(err, ROMFS_ERR_IO, errno, "cannot open %s", dest);
    }
    x.root_fd = fd;
    if (!rc)
        rc = write_dir(&x, dir, fd, "");
    /* On failure undo what this call created, newest first. */
    for (size_t i = x.n_made; i-- > 0;) {
        if (rc)
            unlinkat(fd, x.made[i].rel, x.made[i].is_dir ? AT_REMOVEDIR : 0);
        free(x.made[i].rel);
    }
    free(x.made);
    if (fd >= 0)
        close(fd);
    if (rc && !dest_exists)
        rmdir(dest);
    return rc;
}
