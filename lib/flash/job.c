/* flash/job.c: input loading and pre-write refusals shared by every flash transport. */
#include "flash/job.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/file.h"
#include "format/format.h"
#include "image/pack.h"

int romfs_flash_load_input(const char *path, uint8_t **image, size_t *len, bool *packed,
                           struct romfs_error *err)
{
    return romfs_flash_load_input_with(path, NULL, image, len, packed, err);
}

int romfs_flash_load_input_with(const char *path, const struct romfs_pack_options *popt,
                                uint8_t **image, size_t *len, bool *packed,
                                struct romfs_error *err)
{
    struct stat st;
    *image = NULL;
    *len = 0;
    *packed = false;
    if (stat(path, &st) != 0)
        return romfs_set_errno(err, errno == ENOENT ? ROMFS_ERR_NOENT : ROMFS_ERR_IO, errno,
                               "cannot open %s", path);
    int rc;
    if (S_ISDIR(st.st_mode)) {
        static const struct romfs_pack_options defaults = { 0 };
        struct romfs_pack_result res;
        memset(&res, 0, sizeof res);
        rc = romfs_pack_dir(path, NULL, popt ? popt : &defaults, &res, image, err);
        if (rc == ROMFS_OK)
            *len = (size_t)res.output_size;
        romfs_pack_result_free(&res);
        if (rc != ROMFS_OK)
            return romfs_error_prefix(err, "packing %s", path);
        *packed = true;
    } else {
        rc = romfs_read_file(path, image, len, err);
        if (rc != ROMFS_OK)
            return rc;
    }
    struct romfs_image img;
    rc = romfs_image_open(&img, *image, *len, err);
    if (rc == ROMFS_OK)
        rc = romfs_image_verify(&img, NULL, err);
    if (rc != ROMFS_OK) {
        free(*image);
        *image = NULL;
        return romfs_error_prefix(err, "%s is not a valid ROMFS image", path);
    }
    return ROMFS_OK;
}

int romfs_flash_check_device(const struct romfs_target *t, const char *board_name,
                             const struct romfs_partition *bp, size_t image_len,
                             struct romfs_error *err)
{
    if (bp && bp->size != t->size)
        return romfs_set_error_need(err, ROMFS_ERR_MISMATCH, ROMFS_NEED_RIGHT_BOARD,
                               "the device's ROMFS partition %d is %llu bytes but board %s's is "
                               "%llu bytes: another board, or firmware with another layout; "
                               "nothing was written", bp->index, (unsigned long long)t->size,
                               board_name, (unsigned long long)bp->size);
    if (image_len > t->size)
        return romfs_set_error(err, ROMFS_ERR_FBIG,
                               "image is %zu bytes, %llu more than the device's %s partition of "
                               "%llu bytes; nothing was written", image_len,
                               (unsigned long long)(image_len - t->size), t->name,
                               (unsigned long long)t->size);
    return ROMFS_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The image's top-level names, sorted (each malloc'd, in a malloc'd array). */
static int top_level_names(const uint8_t *image, size_t len, char ***names, size_t *n,
                           struct romfs_error *err)
{
    *names = NULL;
    *n = 0;
    struct romfs_image img;
    int rc = romfs_image_open(&img, image, len, err);
    if (rc != ROMFS_OK)
        return rc;
    struct romfs_dir_iter it;
    romfs_dir_begin(&img, NULL, &it);
    struct romfs_entry e;
    while ((rc = romfs_dir_next(&it, &e, err)) == 1) {
        char **nl = realloc(*names, (*n + 1) * sizeof *nl);
        char *name = nl ? strndup((const char *)e.name, e.name_len) : NULL;
        if (nl)
            *names = nl;
        if (!name) {
            rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
            break;
        }
        (*names)[(*n)++] = name;
    }
    if (rc == 0 && *n)
        qsort(*names, *n, sizeof **names, cmp_str);
    return rc < 0 ? rc : ROMFS_OK;
}

int romfs_flash_compare_top_level(const uint8_t *image, size_t len,
                                  const struct romfs_rom_listing *rom, struct romfs_error *err)
{
    char **names;
    size_t n;
    int rc = top_level_names(image, len, &names, &n, err);
    size_t i = 0, j = 0;
    while (rc == ROMFS_OK && (i < n || j < rom->n)) {
        int c = i == n ? 1 : j == rom->n ? -1 : strcmp(names[i], rom->entries[j].path);
        if (c == 0) {
            i++, j++;
        } else if (c < 0) {
            rc = romfs_set_error(err, ROMFS_ERR_MISMATCH, "after the soft reset /rom lacks "
                                 "'%s', which the image holds (%zu entries on the device, "
                                 "%zu in the image)", names[i], rom->n, n);
        } else {
            rc = romfs_set_error(err, ROMFS_ERR_MISMATCH, "after the soft reset /rom lists "
                                 "'%s', which the image does not hold (%zu entries on the "
                                 "device, %zu in the image)", rom->entries[j].path, rom->n, n);
        }
    }
    for (size_t k = 0; k < n; k++)
        free(names[k]);
    free(names);
    return rc;
}
