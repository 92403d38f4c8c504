/* cmd_cat.c: romfs cat IMAGE PATH */
#include <string.h>

#include "image_args.h"

CLI_COMMAND(cat, "write a file from an image to standard output");

int cmd_cat(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs("usage: romfs cat IMAGE PATH\n\n"
              "Write the bytes of the file PATH in a ROMFS image to standard output.\n"
              "Exit status: 0 written, 2 not found, a directory, or not an image.\n", stdout);
        return EXIT_OK;
    }
    if (argc != 3)
        return cli_usage_error("cat", "expected IMAGE PATH");
    struct romfs_image_file file;
    struct romfs_image img;
    int status = cli_load_image(argv[1], &file, &img);
    if (status)
        return status;
    struct romfs_error err = { 0 };
    struct romfs_entry e;
    int rc = romfs_lookup(&img, argv[2], &e, &err);
    if (!rc && e.type != ROMFS_ENTRY_FILE)
        rc = romfs_set_error(&err, ROMFS_ERR_ISDIR, "%s: is a directory in the image", argv[2]);
    if (!rc) {
        const uint8_t *data = romfs_entry_data(&img, &e);
        if (fwrite(data, 1, (size_t)e.data_size, stdout) != e.data_size || fflush(stdout) != 0)
            rc = romfs_set_error(&err, ROMFS_ERR_IO, "cannot write to standard output");
    }
    romfs_image_file_close(&file);
    return rc ? cli_fail(&err) : EXIT_OK;
}
