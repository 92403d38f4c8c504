/* cmd_extract.c: romfs extract IMAGE DEST [PATH] */
#include <getopt.h>

#include "image_args.h"

CLI_COMMAND(extract, "write an image's tree into a directory");

static const char extract_help[] =
    "usage: romfs extract IMAGE DEST [PATH] [-q]\n"
    "\n"
    "Write the files of a ROMFS image (or of its directory PATH) below DEST, which is\n"
    "created if missing. Safe on untrusted images: names that are empty, '.', '..',\n"
    "or contain '/' or NUL are refused, nothing is written outside DEST, and symlinks\n"
    "already in DEST are never followed. Existing regular files are replaced.\n";

int cmd_extract(int argc, char **argv)
{
    static const struct option opts[] = {
        { "quiet", no_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool quiet = false;
    int c;
    struct cli_options cli = { .command = "extract", .shortopts = "qh", .longopts = opts,
                                .help_text = extract_help, .argc = argc, .argv = argv };
    while ((c = cli_next_option(&cli)) > 0) {
        switch (c) {
        case 'q': quiet = true; break;
        default: return cli_usage_error("extract", "unknown option");
        }
    }
    if (c == CLI_OPTIONS_EXIT)
        return cli.exit_code;
    if (argc - optind < 2 || argc - optind > 3)
        return cli_usage_error("extract", "expected IMAGE DEST [PATH]");
    struct romfs_image_file file;
    struct romfs_image img;
    int status = cli_load_image(argv[optind], &file, &img);
    if (status)
        return status;
    struct romfs_error err = { 0 };
    struct romfs_entry dir;
    int rc = romfs_lookup(&img, argc - optind == 3 ? argv[optind + 2] : "", &dir, &err);
    if (!rc && dir.type != ROMFS_ENTRY_DIR)
        rc = romfs_set_error(&err, ROMFS_ERR_NOTDIR, "%s: not a directory in the image",
                             argv[optind + 2]);
    struct romfs_extract_stats stats;
    if (!rc)
        rc = romfs_extract(&img, &dir, argv[optind + 1], &stats, &err);
    romfs_image_file_close(&file);
    if (rc)
        return cli_fail(&err);
    if (!quiet)
        printf("extracted %llu files, %llu dirs, %llu bytes into %s\n",
               (unsigned long long)stats.files, (unsigned long long)stats.dirs,
               (unsigned long long)stats.bytes, argv[optind + 1]);
    return EXIT_OK;
}
