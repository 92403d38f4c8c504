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
        return romfs_set_error(err, ROMFS_ERR_MISMATCH,
                               "the device's ROMFS partition %d is %llu bytes but board %s's is "
                               "%llu bytes: wrong --board, or firmware with another layout; "
                               "nothing was written", bp->index, (unsigned long long)t->size,
                               board_name, (unsigned long long)bp->size);
    if (bp && bp->erase_block && t->erase_size != bp->erase_block && t->erase_size != t->size)
        return romfs_set_error(err, ROMFS_ERR_MISMATCH,
                               "the device's ROMFS partition %d erases in blocks of %u bytes but "
                               "board %s's in blocks of %u: wrong --board?; nothing was written",
                               bp->index, t->erase_size, board_name, bp->erase_block);
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

int romfs_flash_top_level_names(const uint8_t *image, size_t len, char **names,
                                struct romfs_error *err)
{
    struct romfs_image img;
    int rc = romfs_image_open(&img, image, len, err);
    if (rc != ROMFS_OK)
        return rc;
    struct romfs_dir_iter it;
    romfs_dir_begin(&img, NULL, &it);
    char **list = NULL;
    size_t n = 0, total = 1;
    struct romfs_entry e;
    while ((rc = romfs_dir_next(&it, &e, err)) == 1) {
        char **nl = realloc(list, (n + 1) * sizeof *nl);
        if (!nl)
            break;
        list = nl;
        list[n] = strndup((const char *)e.name, e.name_len);
        total += e.name_len + 1;
        n++;
    }
    if (rc == 1)
        rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    if (rc == 0) {
        qsort(list, n, sizeof *list, cmp_str);
        *names = malloc(total);
        if (!*names) {
            rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
        } else {
            char *p = *names;
            *p = 0;
            for (size_t i = 0; i < n; i++)
                p += sprintf(p, "%s%s", list[i], i + 1 < n ? "\n" : "");
            rc = ROMFS_OK;
        }
    }
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
    return rc;
}
