/* image_args.c: shared IMAGE handling for ls, cat, extract, info, verify. */
#include "image_args.h"

int cli_load_image(const char *path, struct romfs_image_file *file, struct romfs_image *img)
{
    struct romfs_error err = { 0 };
    int rc = romfs_image_load(path, file, img, &err);
    return rc ? cli_fail(&err) : EXIT_OK;
}

void cli_print_name(FILE *out, const uint8_t *name, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uint8_t c = name[i];
        if (c < 0x20 || c == 0x7f || c == '\\')
            fprintf(out, "\\x%02x", c);
        else
            fputc(c, out);
    }
}
