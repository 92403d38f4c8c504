/* cmd_sign.c: `romfs sign IMAGE --key KEY.pem [-o OUT]`: append a signature record. */
#include <getopt.h>

#include "cli.h"

CLI_COMMAND(sign, "sign an image with a private key (ECDSA P-256)");

static void usage(FILE *out)
{
    fprintf(out,
            "usage: romfs sign IMAGE --key KEY.pem [-o OUT]\n"
            "\n"
            "Sign IMAGE with the private key KEY (PEM or DER, from 'romfs keygen' or OpenSSL).\n"
            "The signature goes into a padding record at the end of the image's filesystem\n"
            "record; MicroPython skips padding records, so the signed image mounts and reads\n"
            "exactly like the unsigned one. The record holds the algorithm (ECDSA P-256 with\n"
            "SHA-256), the key id and the signature over every byte that precedes the\n"
            "signature itself (header included). Re-signing replaces an existing signature.\n"
            "Check it with 'romfs verify IMAGE --key KEY.pub.pem'.\n"
            "\n"
            "Options:\n"
            "  -k, --key KEY      private key file (required)\n"
            "  -o, --output OUT   write the signed image to OUT (default: replace IMAGE,\n"
            "                     through a temporary file and rename)\n"
            "  -q, --quiet        print nothing on success\n"
            "  -h, --help         this text\n"
            "\n"
            "Signatures are deterministic (RFC 6979): the same image and key give the same\n"
            "bytes. File data keeps its offsets unless the header's length field must grow\n"
            "(then it moves by a multiple of its alignment). Padding after the image (0xff,\n"
            "from 'pack --pad-to') is kept when the signed image still fits in it.\n"
            "Ed25519 is not available: the mbedTLS this romfs uses (2.28) has no EdDSA.\n");
}

int cmd_sign(int argc, char **argv)
{
    static const struct option options[] = {
        { "key", required_argument, NULL, 'k' },
        { "output", required_argument, NULL, 'o' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *key = NULL, *out = NULL;
    bool quiet = false;
    int c;
    struct cli_options cli = { .command = "sign", .shortopts = "k:o:qh", .longopts = options,
                                .help = usage, .argc = argc, .argv = argv };
    while ((c = cli_next_option(&cli)) > 0) {
        switch (c) {
        case 'k': key = optarg; break;
        case 'o': out = optarg; break;
        case 'q': quiet = true; break;
        default: return cli_usage_error("sign", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (c == CLI_OPTIONS_EXIT)
        return cli.exit_code;
    if (optind != argc - 1)
        return cli_usage_error("sign", "expected one IMAGE");
    if (!key)
        return cli_usage_error("sign", "--key KEY.pem is required");
    const char *image = argv[optind];
    struct romfs_error err = {0};
    struct romfs_signature_info info;
    int code = romfs_sign_file(image, key, out, &info, &err);
    if (code != ROMFS_OK)
        return cli_fail(&err);
    if (!quiet) {
        char hex[2 * ROMFS_SIG_KEY_ID_SIZE + 1], digest[2 * ROMFS_SHA256_SIZE + 1];
        romfs_key_id_hex(info.key_id, hex);
        romfs_sha256_hex(info.digest, digest);
        printf("signed %s%s%s: %s, key id %s\n", image, out ? " -> " : "", out ? out : "",
               romfs_sig_alg_name(info.algorithm), hex);
        printf("  %zu bytes signed (SHA-256 %s), image %zu bytes\n", info.signed_size, digest,
               info.image_size);
        if (info.data_shift)
            printf("  the image header grew: file data moved by %zu bytes, alignment kept\n",
                   info.data_shift);
    }
    return EXIT_OK;
}
