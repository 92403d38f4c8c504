/* base/file.h: reading whole files, writing files atomically, and where temporary files go,
 * for every module. Nothing in lib/ writes a user's file any other way. */
#ifndef ROMFS_FILE_H
#define ROMFS_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* Read all of path ("-": standard input) into a malloc'd buffer followed by one NUL byte
 * (not counted in *size, so text parsers can use it directly). Errors name the path:
 * ROMFS_ERR_NOENT, ROMFS_ERR_ISDIR, ROMFS_ERR_IO, ROMFS_ERR_NOMEM. */
int romfs_read_file(const char *path, uint8_t **data, size_t *size, struct romfs_error *err);

/* Write data[0..len) to path through a temporary file beside it and a rename, so a
 * failure leaves no partial file ("-": standard output; an existing device or FIFO such
 * as /dev/null is written in place, never replaced). The file gets 0666 less the umask.
 * ROMFS_ERR_NOSPC on a full disk. */
int romfs_write_file_atomic(const char *path, const uint8_t *data, size_t len,
                            struct romfs_error *err);

/* The same in steps, for output written as it is produced: romfs_atomic_open creates
 * "PATH.tmp-XXXXXX" beside path (mode 0600 until committed) and fills f; write to f->fd
 * (romfs_write_all); then exactly one of romfs_atomic_commit or romfs_atomic_abort.
 * Until the commit, path itself is untouched. */
struct romfs_atomic_file {
    int fd;             /* the temporary file, open for writing */
    char *tmp;          /* its name (malloc'd) */
    const char *path;   /* the destination, borrowed from the caller */
};

/* ROMFS_ERR_NOENT when path's folder does not exist, ROMFS_ERR_IO, ROMFS_ERR_NOMEM. */
int romfs_atomic_open(struct romfs_atomic_file *f, const char *path, struct romfs_error *err);

/* Give the file its mode (0: 0666 less the umask; otherwise exactly mode, e.g. 0600 for a
 * private key), flush it to the disk first when sync is true, and rename it to f->path.
 * On failure the temporary file is removed (no abort needed). ROMFS_ERR_NOSPC, _ISDIR, _IO. */
int romfs_atomic_commit(struct romfs_atomic_file *f, unsigned mode, bool sync,
                        struct romfs_error *err);

/* romfs_atomic_commit in two steps, for several files that must all be complete before
 * any is renamed: finish (mode, sync, close; the temporary stays) then rename. After a
 * failed finish the temporary is removed; after a finish, rename or abort. */
int romfs_atomic_finish(struct romfs_atomic_file *f, unsigned mode, bool sync,
                        struct romfs_error *err);
int romfs_atomic_rename(struct romfs_atomic_file *f, struct romfs_error *err);

/* Close and remove the temporary file; f->path stays as it was. */
void romfs_atomic_abort(struct romfs_atomic_file *f);

/* Write all of data[0..len) to fd, resuming after interruptions and short writes.
 * Errors name `name`: ROMFS_ERR_NOSPC on a full disk, else ROMFS_ERR_IO. */
int romfs_write_all(int fd, const void *data, size_t len, const char *name,
                    struct romfs_error *err);

/* The folder for temporary files and directories: $TMPDIR when set and not empty,
 * otherwise /tmp. */
const char *romfs_tmpdir(void);

/* Several outputs of one command, written all or nothing: romfs_output_stage writes
 * each to a temporary file beside its path at once (a full disk fails there, nothing
 * replaced yet); romfs_output_commit writes the direct ones ("-", devices, FIFOs: kept
 * in memory until then) and renames every temporary into place; romfs_output_abort
 * removes the temporaries. Commit and abort both free the set. Errors name the path. */
struct romfs_output_set {
    size_t n;
    struct romfs_output_item *items;
};
void romfs_output_set_init(struct romfs_output_set *s);
int romfs_output_stage(struct romfs_output_set *s, const char *path, const uint8_t *data, size_t len,
                       struct romfs_error *err);
int romfs_output_commit(struct romfs_output_set *s, struct romfs_error *err);
void romfs_output_abort(struct romfs_output_set *s);

#endif
