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
 * failure leaves no partial file ("-": standard output). The file gets 0666 less the
 * umask. ROMFS_ERR_NOSPC on a full disk. */
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

/* Close and remove the temporary file; f->path stays as it was. */
void romfs_atomic_abort(struct romfs_atomic_file *f);

/* Write all of data[0..len) to fd, resuming after interruptions and short writes.
 * Errors name `name`: ROMFS_ERR_NOSPC on a full disk, else ROMFS_ERR_IO. */
int romfs_write_all(int fd, const void *data, size_t len, const char *name,
                    struct romfs_error *err);

/* The folder for temporary files and directories: $TMPDIR when set and not empty,
 * otherwise /tmp. */
const char *romfs_tmpdir(void);

#endif
