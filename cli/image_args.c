/* image_args.c: shared IMAGE handling for ls, cat, extract, info, verify. */
#include "image_args.h"

#include "base/text.h"

int cli_load_image(const char *path, struct romfs_image_file *file, struct romfs_image *img)
{
    struct romfs_error err = { 0 };
    int rc = romfs_image_load(path, file, img, &err);
    return rc ? cli_fail(&err) : EXIT_OK;
}

void cli_print_name(FILE *out, const uint8_t *name, size_t len)
{
    romfs_fputs_escaped(out, (const char *)name, len, ROMFS_ESCAPE_NAME);
}
