/* cmd_cat.c: romfs cat IMAGE PATH */
#include <string.h>

#include "image_args.h"

CLI_COMMAND(cat, "write a file from an image to standard output");

static const char cat_help[] =
    "usage: romfs cat IMAGE PATH\n"
    "\n"
    "Write the bytes of the file PATH in a ROMFS image to standard output.\n";

int cmd_cat(int argc, char **argv)
{
    static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 } };
    struct cli_options cli = { .command = "cat", .shortopts = "h", .longopts = opts,
                               .help_text = cat_help, .argc = argc, .argv = argv };
    int c = cli_next_option(&cli);
    if (c == CLI_OPTIONS_EXIT)
        return cli.exit_code;
    if (argc - optind != 2)
        return cli_usage_error("cat", "expected IMAGE PATH");
    argv += optind - 1;
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
