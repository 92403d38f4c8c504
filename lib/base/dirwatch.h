/* base/dirwatch.h: noticing that files below a directory changed (Linux inotify).
 *
 * Every directory below DIR is watched, new ones as they appear, except those the
 * caller's ignore function leaves out; a file written, created, removed or renamed (in
 * or out) below DIR is a change, reported with its path relative to DIR. Nothing is
 * waited for here: the caller polls romfs_dirwatch_fd() beside its other descriptors
 * and drains the changes with romfs_dirwatch_next(). Elsewhere than Linux,
 * romfs_dirwatch_open() fails with ROMFS_ERR_UNSUPPORTED. */
#ifndef ROMFS_DIRWATCH_H
#define ROMFS_DIRWATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

struct romfs_dirwatch;

/* Whether the entry rel (relative to DIR, '/'-separated) is of no interest: an ignored
 * directory is not watched at all, an ignored file's changes are not reported. */
typedef bool (*romfs_dirwatch_ignore_fn)(void *ctx, const char *rel, bool is_dir);

/* Watch dir and the directories below it (ignore may be NULL: nothing is ignored).
 * ROMFS_ERR_NOENT / _NOTDIR for dir, ROMFS_ERR_NOSPC when the system's limit on watches
 * (fs.inotify.max_user_watches) is reached, ROMFS_ERR_UNSUPPORTED off Linux. */
int romfs_dirwatch_open(const char *dir, romfs_dirwatch_ignore_fn ignore, void *ctx,
                        struct romfs_dirwatch **out, struct romfs_error *err);

/* The descriptor that becomes readable when changes are pending. */
int romfs_dirwatch_fd(const struct romfs_dirwatch *w);

/* What happened to an entry. */
enum romfs_dirwatch_kind {
    ROMFS_DIRWATCH_WRITTEN,   /* written to (or "" below: the system lost track) */
    ROMFS_DIRWATCH_CREATED,   /* created, or renamed into its place */
    ROMFS_DIRWATCH_REMOVED,   /* removed, or renamed away */
};

/* The next pending change, without waiting: 1 with its path (relative to dir; "" when the
 * system lost track of what changed: anything may have) in path[0..cap) and what
 * happened in *kind, 0 when none is pending, or a negative error (ROMFS_ERR_NOENT when
 * dir itself was removed or moved away). Changes to ignored entries are skipped. */
int romfs_dirwatch_next(struct romfs_dirwatch *w, char *path, size_t cap,
                        enum romfs_dirwatch_kind *kind, struct romfs_error *err);

void romfs_dirwatch_close(struct romfs_dirwatch *w);

#endif
