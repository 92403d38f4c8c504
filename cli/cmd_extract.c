/* cmd_extract.c: romfs extract IMAGE DEST [PATH] */
#include <getopt.h>

#include "image_args.h"

CLI_COMMAND(extract, "write an image's tree into a directory");

static const char extract_help[] =
    "usage: romfs extract IMAGE DEST [PATH] [--force] [-q]\n"
    "\n"
    "Write the files of a ROMFS image (or of its directory PATH) below DEST, which is\n"
    "created if missing. Safe on untrusted images: everything is checked before anything\n"
    "is written, so a refused image leaves DEST as it was. Names that are empty, '.',\n"
    "'..', or contain '/' or NUL, and a name twice in one directory, are refused;\n"
    "nothing is written outside DEST, and symlinks already in DEST are never followed.\n"
    "An existing file with the image's bytes is left alone; one that differs is refused.\n"
    "\n"
    "  -f, --force   replace existing regular files whose bytes differ\n"
    "  -q, --quiet   print nothing on success\n"
    "\n"
    "A write that fails removes again what this run created.\n";

int cmd_extract(int argc, char **argv)
{
    static const struct option opts[] = {
        { "quiet", no_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' },
        { "force", no_argument, NULL, 'f' },
        { NULL, 0, NULL, 0 },
    };
    bool quiet = false;
    struct romfs_extract_options opt = { .force = false };
    int c;
    struct cli_options cli = { .command = "extract", .shortopts = "qfh", .longopts = opts,
                                .help_text = extract_help, .argc = argc, .argv = argv };
    while ((c = cli_next_option(&cli)) > 0) {
        switch (c) {
        case 'q': quiet = true; break;
        case 'f': opt.force = true; break;
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
        rc = romfs_extract(&img, &dir, argv[optind + 1], &opt, &stats, &err);
    romfs_image_file_close(&file);
    if (rc)
        return cli_fail(&err);
    if (!quiet)
        printf("extracted %llu file%s (%llu already there), %llu dir%s, %llu bytes into %s\n",
               (unsigned long long)stats.files, stats.files == 1 ? "" : "s",
               (unsigned long long)stats.unchanged, (unsigned long long)stats.dirs,
               stats.dirs == 1 ? "" : "s", (unsigned long long)stats.bytes, argv[optind + 1]);
    return EXIT_OK;
}
