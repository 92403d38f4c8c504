/* cmd_query.c: `romfs query`: the ROMFS partitions of a connected MicroPython board. */
#include <cJSON.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#include "base/text.h"
#include "flash/repl.h"

CLI_COMMAND(query, "show a connected board's ROMFS partitions and the images in them");

static void usage(FILE *out)
{
    fprintf(out,
            "usage: romfs query [--port PORT] [--baud N] [--json] [--list]\n"
            "\n"
            "Asks a MicroPython board over its REPL about its ROMFS partitions: for each, its\n"
            "size and erase block size, the device API (rom_ioctl memoryview or partition\n"
            "object), whether it holds a valid ROMFS image, the image's size, and the SHA-256\n"
            "of the image computed on the device (compare with `romfs info IMAGE`).\n"
            "\n"
            "  -p, --port PORT   serial port (a USB CDC device, UART adapter or pty, e.g. the\n"
            "                    one `romfs sim` prints); without it the board is looked for\n"
            "                    by MicroPython's USB VID:PIDs\n"
            "      --baud N      baud rate for UART boards (default 115200)\n"
            "      --timeout MS  longest silence accepted from the device (default 5000)\n"
            "      --json        machine-readable output\n"
            "      --list        also list every file under /rom, as the device sees it\n"
            "  -h, --help        this help\n"
            "\n");
}

static void hex(const uint8_t *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static cJSON *files_to_json(const struct romfs_rom_listing *files)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < files->n; i++) {
        const struct romfs_rom_entry *e = &files->entries[i];
        cJSON *o = cJSON_CreateObject();
        char path[4200];
        snprintf(path, sizeof path, "%s%s", e->path, e->is_dir ? "/" : "");
        cJSON_AddStringToObject(o, "path", path);
        cJSON_AddStringToObject(o, "type", e->is_dir ? "dir" : "file");
        if (!e->is_dir)
            cJSON_AddNumberToObject(o, "size", (double)e->size);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static void print_json(const struct romfs_device_info *info, const char *port,
                       const struct romfs_rom_listing *files)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "port", port);
    cJSON_AddStringToObject(root, "platform", info->platform);
    cJSON_AddNumberToObject(root, "mpy", (double)info->mpy);
    cJSON_AddBoolToObject(root, "romfs", (info->caps & ROMFS_CAP_ROM_IOCTL) != 0);
    cJSON *parts = cJSON_AddArrayToObject(root, "partitions");
    for (int i = 0; i < info->n_partitions; i++) {
        const struct romfs_device_partition *p = &info->partitions[i];
        cJSON *o = cJSON_CreateObject();
        char h[65];
        cJSON_AddNumberToObject(o, "index", p->index);
        cJSON_AddNumberToObject(o, "size", (double)p->size);
        cJSON_AddNumberToObject(o, "block_size", p->block_size);
        cJSON_AddStringToObject(o, "api", p->object_api ? "object" : "rom_ioctl");
        cJSON_AddBoolToObject(o, "valid", p->valid);
        if (p->valid)
            cJSON_AddNumberToObject(o, "image_size", (double)p->image_size);
        if (p->has_sha256) {
            hex(p->sha256, 32, h);
            cJSON_AddStringToObject(o, "sha256", h);
        }
        hex(p->head, 16, h);
        cJSON_AddStringToObject(o, "head", h);
        cJSON_AddItemToArray(parts, o);
    }
    if (files)
        cJSON_AddItemToObject(root, "rom_files", files_to_json(files));
    char *text = cJSON_Print(root);
    puts(text);
    free(text);
    cJSON_Delete(root);
}

static void print_text(const struct romfs_device_info *info, const char *port)
{
    const char *platform = info->platform[0] ? info->platform : "?";   /* from the device */
    printf("%s: MicroPython on ", port);
    romfs_fputs_escaped(stdout, platform, strlen(platform), ROMFS_ESCAPE_NAME);
    if (info->mpy)
        printf(", .mpy version %lld", info->mpy & 0xff);
    printf("\n");
    if (!(info->caps & ROMFS_CAP_ROM_IOCTL)) {
        printf("ROMFS is not enabled on this device\n");
        return;
    }
    if (info->n_partitions == 0)
        printf("no ROMFS partitions\n");
    for (int i = 0; i < info->n_partitions; i++) {
        const struct romfs_device_partition *p = &info->partitions[i];
        char sz[64];
        printf("partition %d: %s, %llu blocks of %u bytes (%s API)\n", p->index,
               cli_human_size(p->size, sz, sizeof sz),
               (unsigned long long)(p->block_size ? p->size / p->block_size : 0), p->block_size,
               p->object_api ? "object" : "rom_ioctl");
        if (!p->valid) {
            char h[33];
            hex(p->head, 16, h);
            printf("  no valid ROMFS (starts %.24s...)\n", h);
            continue;
        }
        printf("  ROMFS image: %s\n", cli_human_size(p->image_size, sz, sizeof sz));
        if (p->has_sha256) {
            char h[65];
            hex(p->sha256, 32, h);
            printf("  sha256: %s\n", h);
        }
    }
}

int cmd_query(int argc, char **argv)
{
    static const struct option options[] = {
        { "port", required_argument, NULL, 'p' }, { "baud", required_argument, NULL, 'b' },
        { "timeout", required_argument, NULL, 't' }, { "json", no_argument, NULL, 'j' },
        { "list", no_argument, NULL, 'l' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    const char *port = NULL;
    uint32_t baud = 0;
    int timeout_ms = 0;
    bool json = false, list = false;
    int c;
    uint64_t v;
    struct cli_options cli = { .command = "query", .shortopts = "p:h", .longopts = options,
                                .help = usage, .argc = argc, .argv = argv };
    while ((c = cli_next_option(&cli)) > 0) {
        switch (c) {
        case 'p': port = optarg; break;
        case 'b':
            if (!cli_option_number("query", "baud", optarg, 1, 100000000, false, &v))
                return EXIT_USAGE;
            baud = (uint32_t)v;
            break;
        case 't':
            if (!cli_option_number("query", "timeout", optarg, 1, 3600000, false, &v))
                return EXIT_USAGE;
            timeout_ms = (int)v;
            break;
        case 'j': json = true; break;
        case 'l': list = true; break;
        default: return cli_usage_error("query", "unknown option");
        }
    }
    if (c == CLI_OPTIONS_EXIT)
        return cli.exit_code;
    if (optind != argc)
        return cli_usage_error("query", "unexpected argument '%s'", argv[optind]);
    struct romfs_error err = { 0 };
    char found[256];
    if (!port) {
        if (romfs_repl_find_port(NULL, found, sizeof found, &err) != ROMFS_OK)
            return cli_fail(&err);
        port = found;
    }
    cli_catch_interrupts();
    struct romfs_serial *s = NULL;
    struct romfs_repl_session *ses = NULL;
    struct romfs_repl_options ropt = { .timeout_ms = timeout_ms };
    struct romfs_device_info info;
    int rc = romfs_serial_open(port, baud, &s, &err);
    if (rc == ROMFS_OK)
        rc = romfs_repl_session_open(s, &ropt, &ses, &err);
    if (rc == ROMFS_OK)
        rc = romfs_repl_query(ses, true, &info, &err);
    struct romfs_rom_listing files = { 0 };
    if (rc == ROMFS_OK && list && info.n_partitions > 0 && info.partitions[0].valid)
        rc = romfs_repl_list_rom(ses, &files, &err);
    romfs_repl_session_close(ses);
    romfs_serial_close(s);
    if (rc != ROMFS_OK) {
        romfs_rom_listing_free(&files);
        return cli_fail(&err);
    }
    if (json) {
        print_json(&info, port, list ? &files : NULL);
    } else {
        print_text(&info, port);
        if (files.n)
            printf("/rom:\n");
        for (size_t i = 0; i < files.n; i++) {   /* names from the device, escaped; dirs end in '/' */
            const struct romfs_rom_entry *e = &files.entries[i];
            char *shown = romfs_escape_text(e->path, strlen(e->path), ROMFS_ESCAPE_MESSAGE);
            printf("%c %llu %s%s\n", e->is_dir ? 'd' : '-', (unsigned long long)e->size,
                   shown ? shown : "?", e->is_dir ? "/" : "");
            free(shown);
        }
    }
    romfs_rom_listing_free(&files);
    return EXIT_OK;
}
