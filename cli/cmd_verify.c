/* cmd_verify.c: romfs verify IMAGE [--against DIR] */
#include <getopt.h>
#include <stdlib.h>

#include "image_args.h"

CLI_COMMAND(verify, "check an image strictly, optionally against a directory");

static const char verify_help[] =
    "usage: romfs verify IMAGE [--against DIR [--exclude GLOB]... [--no-default-excludes]] [-q]\n"
    "\n"
    "Strict structural check of a ROMFS image: even size, every record inside its\n"
    "parent, no unused (kind 0) records, no empty, '.', '..' or '/'-containing names,\n"
    "no duplicate names in a directory, every file with its data inside the image.\n"
    "  --against DIR   also require the image to hold exactly DIR's tree and bytes\n"
    "                  (with pack's default excludes, unless --no-default-excludes)\n"
    "  --key PUB.pem   also require a valid signature by this key ('romfs sign';\n"
    "                  PEM or DER, public key or key pair)\n"
    "  -q, --quiet     print nothing when the image is good\n";

int cmd_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        { "against", required_argument, NULL, 'a' },
        { "exclude", required_argument, NULL, 'x' },
        { "no-default-excludes", no_argument, NULL, 'N' },
        { "quiet", no_argument, NULL, 'q' },
        { "key", required_argument, NULL, 'k' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *against = NULL, *key = NULL;
    bool quiet = false;
    struct romfs_pack_options popt = { 0 };
    const char **excludes = calloc((size_t)argc, sizeof *excludes);
    if (!excludes)
        return EXIT_FAIL;
    popt.excludes = excludes;
    int c, status = EXIT_USAGE;
    struct cli_options cli = { .command = "verify", .shortopts = "qh", .longopts = opts,
                                .help_text = verify_help, .argc = argc, .argv = argv };
    while ((c = cli_next_option(&cli)) > 0) {
        switch (c) {
        case 'a': against = optarg; break;
        case 'x': excludes[popt.n_excludes++] = optarg; break;
        case 'N': popt.no_default_excludes = true; break;
        case 'q': quiet = true; break;
        case 'k': key = optarg; break;
        default: status = cli_usage_error("verify", "unknown option"); goto done;
        }
    }
    if (c == CLI_OPTIONS_EXIT) {
        status = cli.exit_code;
        goto done;
    }
    if (argc - optind != 1) {
        status = cli_usage_error("verify", "expected IMAGE");
        goto done;
    }
    struct romfs_image_file file;
    struct romfs_image img;
    if ((status = cli_load_image(argv[optind], &file, &img)))
        goto done;
    struct romfs_error err = { 0 };
    struct romfs_stats s;
    int rc = romfs_image_verify(&img, &s, &err);
    if (rc)
        romfs_error_prefix(&err, "%s", argv[optind]);
    if (!rc && against)
        rc = romfs_image_compare_dir(&img, against, &popt, &err);
    struct romfs_signature_info sig = { 0 };
    if (!rc && key)
        rc = romfs_signature_check(img.data, img.size, argv[optind], key, &sig, &err);
    romfs_image_file_close(&file);
    if (rc) {
        status = cli_fail(&err);
        goto done;
    }
    char key_id[2 * ROMFS_SIG_KEY_ID_SIZE + 1] = "";
    if (key)
        romfs_key_id_hex(sig.key_id, key_id);
    if (!quiet)
        printf("%s: valid ROMFS image, %llu files, %llu dirs, %llu bytes%s%s%s%s%s\n", argv[optind],
               (unsigned long long)s.files, (unsigned long long)s.dirs,
               (unsigned long long)s.image_size, against ? ", identical to " : "",
               against ? against : "", key ? ", signature good (ecdsa-p256-sha256, key id " : "",
               key ? key_id : "", key ? ")" : "");
    status = EXIT_OK;
done:
    free(excludes);
    return status;
}
