/* base/file.h: reading whole files and writing files atomically, for every module. */
#ifndef ROMFS_FILE_H
#define ROMFS_FILE_H

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
