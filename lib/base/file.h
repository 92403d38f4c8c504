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
 * failure leaves no partial file ("-": standard output). The file gets 0666 less the
 * umask. ROMFS_ERR_NOSPC on a full disk. */
int romfs_write_file_atomic(const char *path, const uint8_t *data, size_t len,
                            struct romfs_error *err);

#endif
