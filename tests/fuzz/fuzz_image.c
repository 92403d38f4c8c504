/* fuzz_image.c: the image reader on arbitrary bytes: open, verify, walk, look up, and
 * read every file; nothing may read outside the buffer or crash. */
#include <stdlib.h>
#include <string.h>

#include "romfs.h"

static int visit(void *ctx, const char *path, const struct romfs_entry *e, int depth)
{
    const struct romfs_image *img = ctx;
    (void)depth;
    if (e->type == ROMFS_ENTRY_FILE) {
        const uint8_t *p = romfs_entry_data(img, e);
        volatile uint8_t sum = 0;
        for (uint64_t i = 0; i < e->data_size; i++)
            sum ^= p[i];
        struct romfs_entry again;
        struct romfs_error err;
        romfs_lookup(img, path, &again, &err);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a private copy so reads past the end are caught exactly */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    struct romfs_image img;
    struct romfs_error err;
    if (romfs_image_open(&img, copy, size, &err) == ROMFS_OK) {
        struct romfs_stats stats;
        romfs_image_verify(&img, &stats, &err);
        romfs_image_walk(&img, NULL, visit, &img, &err);
        struct romfs_entry e;
        romfs_lookup(&img, "lib/a/b", &e, &err);
    }
    free(copy);
    return 0;
}
