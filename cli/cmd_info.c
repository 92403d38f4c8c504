/* cmd_info.c: romfs info IMAGE [--json] */
#include <getopt.h>
#include <stdlib.h>

#include <cJSON.h>

#include "image_args.h"

CLI_COMMAND(info, "print an image's sizes, counts, alignment and SHA-256");

static const char info_help[] =
    "usage: romfs info IMAGE [--json]\n"
    "\n"
    "Print the image size and payload size, directory and file counts, file data\n"
    "bytes, overhead (everything that is not file data) and padding within it, the\n"
    "smallest alignment of any file's data offset, and the SHA-256 of the image (the\n"
    "filesystem record, without any bytes that follow it in the file).\n";

int cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'J' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool json = false;
    int c;
    struct cli_options cli = { .command = "info", .shortopts = "h", .longopts = opts,
                                .help_text = info_help, .argc = argc, .argv = argv };
    while ((c = cli_next_option(&cli)) > 0) {
        switch (c) {
        case 'J': json = true; break;
        default: return cli_usage_error("info", "unknown option");
        }
    }
    if (c == CLI_OPTIONS_EXIT)
        return cli.exit_code;
    if (argc - optind != 1)
        return cli_usage_error("info", "expected IMAGE");
    struct romfs_image_file file;
    struct romfs_image img;
    int status = cli_load_image(argv[optind], &file, &img);
    if (status)
        return status;
    struct romfs_error err = { 0 };
    struct romfs_stats s;
    int rc = romfs_image_verify(&img, &s, &err);
    uint8_t digest[ROMFS_SHA256_SIZE];
    char hex[2 * ROMFS_SHA256_SIZE + 1];
    romfs_sha256(img.data, img.payload_end, digest);
    romfs_sha256_hex(digest, hex);
    struct romfs_signature_info sig;   /* whether a signature record ends the image */
    if (romfs_signature_find(file.data, file.size, &sig, NULL) != ROMFS_OK)
        sig.present = false;
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "image", argv[optind]);
        cJSON_AddNumberToObject(o, "image_bytes", (double)s.image_size);
        cJSON_AddNumberToObject(o, "file_bytes", (double)img.size);
        cJSON_AddNumberToObject(o, "payload_bytes", (double)s.payload_size);
        cJSON_AddNumberToObject(o, "dirs", (double)s.dirs);
        cJSON_AddNumberToObject(o, "files", (double)s.files);
        cJSON_AddNumberToObject(o, "data_bytes", (double)s.data_bytes);
        cJSON_AddNumberToObject(o, "overhead", (double)s.overhead_bytes);
        cJSON_AddNumberToObject(o, "padding", (double)s.padding_bytes);
        cJSON_AddNumberToObject(o, "min_data_alignment", (double)s.min_data_alignment);
        cJSON_AddNumberToObject(o, "indirect_files", (double)s.indirect_files);
        cJSON_AddStringToObject(o, "sha256", hex);
        cJSON_AddBoolToObject(o, "signed", sig.present);
        if (sig.present) {
            char id[2 * ROMFS_SIG_KEY_ID_SIZE + 1];
            romfs_key_id_hex(sig.key_id, id);
            cJSON_AddStringToObject(o, "signed_by", id);
        }
        cJSON_AddBoolToObject(o, "valid", rc == ROMFS_OK);
        if (rc)
            cJSON_AddStringToObject(o, "error", err.msg);
        char *text = cJSON_Print(o);
        printf("%s\n", text);
        free(text);
        cJSON_Delete(o);
    } else {
        char a[64], b[64], d[64], e[64];
        printf("image:          %s\n", argv[optind]);
        printf("image size:     %s\n", cli_human_size(s.image_size, a, sizeof a));
        if (img.size != s.image_size)
            printf("file size:      %s (bytes after the image are not part of it)\n",
                   cli_human_size(img.size, b, sizeof b));
        printf("payload size:   %s\n", cli_human_size(s.payload_size, b, sizeof b));
        printf("directories:    %llu\n", (unsigned long long)s.dirs);
        printf("files:          %llu\n", (unsigned long long)s.files);
        printf("data bytes:     %s\n", cli_human_size(s.data_bytes, d, sizeof d));
        printf("overhead:       %s, of which padding ", cli_human_size(s.overhead_bytes, e, sizeof e));
        printf("%s\n", cli_human_size(s.padding_bytes, e, sizeof e));
        if (s.min_data_alignment)
            printf("data alignment: %llu (smallest power of two dividing every file's offset)\n",
                   (unsigned long long)s.min_data_alignment);
        printf("sha256:         %s\n", hex);
        if (sig.present) {
            char id[2 * ROMFS_SIG_KEY_ID_SIZE + 1];
            romfs_key_id_hex(sig.key_id, id);
            printf("signature:      %s by key %s, over %zu bytes ('romfs verify --key' checks it)\n",
                   romfs_sig_alg_name(sig.algorithm), id, sig.signed_size);
        } else {
            printf("signature:      none\n");
        }
    }
    romfs_image_file_close(&file);
    return rc ? cli_fail(&err) : EXIT_OK;
}
