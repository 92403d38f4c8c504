/* flash/job.h: what every `romfs flash --via X` shares around romfs_flash_image():
 * turning IMAGE|DIR into image bytes, and refusing a write whose image does not suit the
 * board or the device before anything is erased. */
#ifndef ROMFS_FLASHJOB_H
#define ROMFS_FLASHJOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boards/db.h"
#include "base/error.h"
#include "flash/flash.h"
#include "image/pack.h"

/* path is an image file or a directory (packed in memory with default options). On
 * success *image is malloc'd, *packed says whether a directory was packed. The image's
 * structure is verified strictly: ROMFS_ERR_CORRUPT names the offset. */
int romfs_flash_load_input(const char *path, uint8_t **image, size_t *len, bool *packed,
                           struct romfs_error *err);

/* The same, packing a directory with `opt` (NULL: the defaults), e.g. with mpy-cross. */
int romfs_flash_load_input_with(const char *path, const struct romfs_pack_options *opt,
                                uint8_t **image, size_t *len, bool *packed,
                                struct romfs_error *err);

/* Refuse (ROMFS_ERR_MISMATCH / ROMFS_ERR_FBIG) when the device's partition differs from
 * the board's (size, erase block: a wrong --board or a different firmware layout), or the
 * image does not fit the device's partition. board_part may be NULL (no --board). */
int romfs_flash_check_device(const struct romfs_target *t, const char *board_name,
                             const struct romfs_partition *board_part, size_t image_len,
                             struct romfs_error *err);

/* The image's top-level names, sorted, '\n'-separated (malloc'd, NUL-terminated). */
int romfs_flash_top_level_names(const uint8_t *image, size_t len, char **names,
                                struct romfs_error *err);

#endif
