/* cmd_keygen.c: `romfs keygen NAME`: make an ECDSA P-256 key pair for signing images. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

CLI_COMMAND(keygen, "make a key pair for signing images (NAME.pem, NAME.pub.pem)");

static void usage(FILE *out)
{
    fprintf(out,
            "usage: romfs keygen [--der] [--force] NAME\n"
            "\n"
            "Make an ECDSA P-256 key pair for 'romfs sign' and 'romfs verify --key':\n"
            "  NAME.pem      the private key (mode 0600): keep it secret, sign with it\n"
            "  NAME.pub.pem  the public key: give it to whoever verifies or flashes\n"
            "and print the key id (first 8 bytes of SHA-256 of the public key's DER), which\n"
            "signed images carry so a wrong key is named as such.\n"
            "\n"
            "Options:\n"
            "  --der      write DER instead of PEM: NAME.der and NAME.pub.der\n"
            "  --force    replace existing key files\n"
            "  -h, --help this text\n"
            "\n"
            "Keys come from the system entropy source through mbedTLS's CTR-DRBG. Signatures\n"
            "are ECDSA P-256 with SHA-256; Ed25519 is not offered because the mbedTLS this\n"
            "romfs is built with (2.28) has no EdDSA. Keys made by OpenSSL work too:\n"
            "  openssl ecparam -name prime256v1 -genkey -noout -out NAME.pem\n"
            "  openssl ec -in NAME.pem -pubout -out NAME.pub.pem\n");
}

int cmd_keygen(int argc, char **argv)
{
    static const struct option options[] = {
        { "der", no_argument, NULL, 'd' },
        { "force", no_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool der = false, force = false;
    int c;
    struct cli_options cli = { .command = "keygen", .shortopts = "h", .longopts = options,
                                .help = usage, .argc = argc, .argv = argv };
    while ((c = cli_next_option(&cli)) > 0) {
        switch (c) {
        case 'd': der = true; break;
        case 'f': force = true; break;
        default: return cli_usage_error("keygen", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (c == CLI_OPTIONS_EXIT)
        return cli.exit_code;
    if (optind != argc - 1)
        return cli_usage_error("keygen", "expected one NAME (the key files' path without extension)");
    const char *name = argv[optind];
    size_t n = strlen(name) + 16;
    char *priv = malloc(n), *pub = malloc(n);
    if (!priv || !pub) {
        free(priv);
        free(pub);
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    const char *ext = der ? "der" : "pem";
    snprintf(priv, n, "%s.%s", name, ext);
    snprintf(pub, n, "%s.pub.%s", name, ext);
    struct romfs_error err = {0};
    struct romfs_key *key = NULL;
    int code = ROMFS_OK;
    bool priv_exists = access(priv, F_OK) == 0, pub_exists = access(pub, F_OK) == 0;
    if (!force && (priv_exists || pub_exists))
        code = romfs_set_error(&err, ROMFS_ERR_EXIST, "%s already exists (use --force to replace it)",
                               priv_exists ? priv : pub);
    if (code == ROMFS_OK)
        code = romfs_key_generate(&key, &err);
    enum romfs_key_format fmt = der ? ROMFS_KEY_DER : ROMFS_KEY_PEM;
    if (code == ROMFS_OK)
        code = romfs_key_write(key, true, fmt, priv, force, &err);
    if (code == ROMFS_OK) {
        code = romfs_key_write(key, false, fmt, pub, force, &err);
        if (code != ROMFS_OK)
            unlink(priv); /* no half key pair */
    }
    int rc = EXIT_OK;
    if (code != ROMFS_OK) {
        rc = cli_fail(&err);
    } else {
        uint8_t id[ROMFS_SIG_KEY_ID_SIZE];
        char hex[2 * ROMFS_SIG_KEY_ID_SIZE + 1];
        romfs_key_id(key, id);
        romfs_key_id_hex(id, hex);
        printf("private key: %s\npublic key:  %s\nkey id:      %s (ECDSA P-256)\n", priv, pub, hex);
    }
    romfs_key_free(key);
    free(priv);
    free(pub);
    return rc;
}
