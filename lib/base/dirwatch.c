/* base/dirwatch.c: changes below a directory, from Linux inotify (see dirwatch.h).
 *
 * One watch per directory, each remembered with its path relative to the root. inotify
 * gives a directory the same watch descriptor however it is reached (a symlink, a move),
 * so a descriptor already known is not descended again: a symlink loop ends there, and a
 * renamed directory just gets its new path. */
#include "base/dirwatch.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifdef __linux__

#include <dirent.h>
#include <sys/inotify.h>
#include <unistd.h>

#define DIR_EVENTS (IN_CLOSE_WRITE | IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_FROM | \
                    IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

struct watched {
    int wd;
    char *rel;          /* "" for the root */
};

struct romfs_dirwatch {
    int fd;
    char *root;
    romfs_dirwatch_ignore_fn ignore;
    void *ctx;
    struct watched *dirs;
    size_t n, cap;
    int root_wd;
    /* events read but not yet handed out */
    _Alignas(struct inotify_event) uint8_t buf[16 * 1024];
    size_t pos, len;
};

static struct watched *find_wd(struct romfs_dirwatch *w, int wd)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->dirs[i].wd == wd)
            return &w->dirs[i];
    return NULL;
}

static char *join_rel(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 2);
    if (p)
        snprintf(p, la + lb + 2, "%s%s%s", a, la ? "/" : "", b);
    return p;
}

/* A watched directory was reached again as `to`: when its old path is gone it was moved,
 * and it and those below it get new paths (a second path to it, a symlink, changes
 * nothing). */
static int rename_tree(struct romfs_dirwatch *w, const char *from_rel, const char *to, struct romfs_error *err)
{
    char *from = strdup(from_rel);
    if (!from)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    size_t lf = strlen(from);
    int rc = ROMFS_OK;
    char *old = join_rel(w->root, from);
    struct stat st;
    bool moved = lf && old && !(stat(old, &st) == 0 && S_ISDIR(st.st_mode));
    free(old);
    for (size_t i = 0; moved && rc == ROMFS_OK && i < w->n; i++) {
        const char *r = w->dirs[i].rel;
        if (strncmp(r, from, lf) != 0 || (r[lf] != '/' && r[lf] != 0))
            continue;
        char *n = malloc(strlen(to) + strlen(r + lf) + 1);
        if (!n) {
            rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
            break;
        }
        strcpy(n, to);
        strcat(n, r + lf);
        free(w->dirs[i].rel);
        w->dirs[i].rel = n;
    }
    free(from);
    return rc;
}

/* Watch the directory rel and, unless already watched, everything below it. */
static int add_tree(struct romfs_dirwatch *w, const char *rel, struct romfs_error *err)
{
    char *path = rel[0] ? join_rel(w->root, rel) : strdup(w->root);
    if (!path)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    int wd = inotify_add_watch(w->fd, path, DIR_EVENTS);
    if (wd < 0) {
        int e = errno;
        int rc = ROMFS_OK;
        if (e == ENOSPC)
            rc = romfs_set_error(err, ROMFS_ERR_NOSPC, "cannot watch %s: the system's limit on "
                                 "watched directories is reached (fs.inotify.max_user_watches)",
                                 path);
        else if (!rel[0])
            rc = romfs_set_errno(err, e == ENOENT ? ROMFS_ERR_NOENT : e == ENOTDIR ? ROMFS_ERR_NOTDIR
                                 : ROMFS_ERR_IO, e, "cannot watch %s", path);
        /* a directory below that vanished (or cannot be read) meanwhile is not an error */
        free(path);
        return rc;
    }
    struct watched *known = find_wd(w, wd);
    if (known) {   /* reached again: a symlink to a directory above, or a directory moved */
        free(path);
        return rename_tree(w, known->rel, rel, err);
    }
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 16;
        struct watched *d = realloc(w->dirs, cap * sizeof *d);
        if (!d) {
            free(path);
            return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
        }
        w->dirs = d;
        w->cap = cap;
    }
    char *r = strdup(rel);
    if (!r) {
        free(path);
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    }
    w->dirs[w->n++] = (struct watched){ wd, r };
    if (!rel[0])
        w->root_wd = wd;
    DIR *d = opendir(path);
    int rc = ROMFS_OK;
    struct dirent *de;
    while (d && rc == ROMFS_OK && (de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (de->d_type != DT_DIR && de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
            continue;
        char *child = join_rel(rel, de->d_name);
        char *full = child ? join_rel(w->root, child) : NULL;
        struct stat st;
        if (!child || !full)
            rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
        else if (stat(full, &st) == 0 && S_ISDIR(st.st_mode) &&
                 !(w->ignore && w->ignore(w->ctx, child, true)))
            rc = add_tree(w, child, err);
        free(child);
        free(full);
    }
    if (d)
        closedir(d);
    free(path);
    return rc;
}

int romfs_dirwatch_open(const char *dir, romfs_dirwatch_ignore_fn ignore, void *ctx,
                        struct romfs_dirwatch **out, struct romfs_error *err)
{
    *out = NULL;
    struct stat st;
    if (stat(dir, &st) != 0)
        return romfs_set_errno(err, errno == ENOENT ? ROMFS_ERR_NOENT : ROMFS_ERR_IO, errno,
                               "cannot watch %s", dir);
    if (!S_ISDIR(st.st_mode))
        return romfs_set_error(err, ROMFS_ERR_NOTDIR, "cannot watch %s: not a directory", dir);
    struct romfs_dirwatch *w = calloc(1, sizeof *w);
    if (!w || !(w->root = strdup(dir))) {
        free(w);
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    }
    w->ignore = ignore;
    w->ctx = ctx;
    w->root_wd = -1;
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->fd < 0) {
        int e = errno;
        romfs_dirwatch_close(w);
        return romfs_set_errno(err, e == EMFILE ? ROMFS_ERR_NOSPC : ROMFS_ERR_IO, e,
                               "cannot watch %s (inotify)", dir);
    }
    int rc = add_tree(w, "", err);
    if (rc != ROMFS_OK) {
        romfs_dirwatch_close(w);
        return rc;
    }
    *out = w;
    return ROMFS_OK;
}

int romfs_dirwatch_fd(const struct romfs_dirwatch *w)
{
    return w->fd;
}

static int report(char *path, size_t cap, const char *rel)
{
    snprintf(path, cap, "%s", rel);
    return 1;
}

int romfs_dirwatch_next(struct romfs_dirwatch *w, char *path, size_t cap,
                        enum romfs_dirwatch_kind *kind, struct romfs_error *err)
{
    *kind = ROMFS_DIRWATCH_WRITTEN;
    for (;;) {
        if (w->pos >= w->len) {
            w->pos = w->len = 0;
            ssize_t n = read(w->fd, w->buf, sizeof w->buf);
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
            if (n <= 0)
                return romfs_set_errno(err, ROMFS_ERR_IO, n < 0 ? errno : EIO, "watching %s", w->root);
            w->len = (size_t)n;
        }
        const struct inotify_event *ev = (const struct inotify_event *)(w->buf + w->pos);
        w->pos += sizeof *ev + ev->len;
        if (ev->mask & IN_Q_OVERFLOW) {
            /* events were lost: directories created meanwhile are watched now */
            int rc = add_tree(w, "", err);
            return rc != ROMFS_OK ? rc : report(path, cap, "");
        }
        if (ev->wd == w->root_wd && (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)))
            return romfs_set_error(err, ROMFS_ERR_NOENT, "%s was %s", w->root,
                                   ev->mask & IN_MOVE_SELF ? "moved away" : "removed");
        struct watched *d = find_wd(w, ev->wd);
        if (ev->mask & IN_IGNORED) {   /* the directory is gone: forget its watch */
            if (d) {
                free(d->rel);
                *d = w->dirs[--w->n];
            }
            continue;
        }
        if (!d || ev->len == 0)   /* a directory's own events: its parent reports them */
            continue;
        char *rel = join_rel(d->rel, ev->name);
        if (!rel)
            return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
        bool is_dir = (ev->mask & IN_ISDIR) != 0;
        *kind = ev->mask & (IN_CREATE | IN_MOVED_TO) ? ROMFS_DIRWATCH_CREATED
                : ev->mask & (IN_DELETE | IN_MOVED_FROM) ? ROMFS_DIRWATCH_REMOVED
                : ROMFS_DIRWATCH_WRITTEN;
        int rc = 0;
        if (!(w->ignore && w->ignore(w->ctx, rel, is_dir))) {
            rc = 1;
            if (is_dir && (ev->mask & (IN_CREATE | IN_MOVED_TO))) {
                int r = add_tree(w, rel, err);   /* what it already holds is watched too */
                if (r != ROMFS_OK)
                    rc = r;
            }
            if (rc == 1)
                report(path, cap, rel);
        }
        free(rel);
        if (rc != 0)
            return rc;
    }
}

void romfs_dirwatch_close(struct romfs_dirwatch *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    for (size_t i = 0; i < w->n; i++)
        free(w->dirs[i].rel);
    free(w->dirs);
    free(w->root);
    free(w);
}

#else   /* no inotify */

struct romfs_dirwatch {
    int fd;
};

int romfs_dirwatch_open(const char *dir, romfs_dirwatch_ignore_fn ignore, void *ctx,
                        struct romfs_dirwatch **out, struct romfs_error *err)
{
    (void)ignore;
    (void)ctx;
    *out = NULL;
    return romfs_set_error(err, ROMFS_ERR_UNSUPPORTED, "cannot watch %s: watching a directory "
                           "for changes is supported on Linux only", dir);
}

int romfs_dirwatch_fd(const struct romfs_dirwatch *w)
{
    return w ? w->fd : -1;
}

int romfs_dirwatch_next(struct romfs_dirwatch *w, char *path, size_t cap,
                        enum romfs_dirwatch_kind *kind, struct romfs_error *err)
{
    (void)w;
    (void)kind;
    (void)path;
    (void)cap;
    (void)err;
    return 0;
}

void romfs_dirwatch_close(struct romfs_dirwatch *w)
{
    (void)w;
}

#endif
