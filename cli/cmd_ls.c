/* cmd_ls.c: romfs ls IMAGE [PATH] [-l] [-R] [--json] */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "image_args.h"

CLI_COMMAND(ls, "list the files in an image");

static const char ls_help[] =
    "usage: romfs ls IMAGE [PATH] [-l] [-R] [--json]\n"
    "\n"
    "List a directory of a ROMFS image (the root by default).\n"
    "  -l, --long     type, size and data offset of each entry\n"
    "  -R, --recursive\n"
    "                 list every directory below PATH, with full paths\n"
    "      --json     a JSON array of {path, type, size, offset}\n";

struct ls_state {
    bool long_format, json;
    const char *prefix;
    cJSON *array;
};

static void print_entry(struct ls_state *st, const char *path, const struct romfs_entry *e)
{
    bool dir = e->type == ROMFS_ENTRY_DIR;
    if (st->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "path", path);
        cJSON_AddStringToObject(o, "type", dir ? "dir" : "file");
        if (!dir) {
            cJSON_AddNumberToObject(o, "size", (double)e->data_size);
            cJSON_AddNumberToObject(o, "offset", (double)e->data_offset);
        }
        cJSON_AddItemToArray(st->array, o);
        return;
    }
    if (st->long_format) {
        if (dir)
            printf("d %10s %10s  ", "-", "-");
        else
            printf("- %10llu 0x%08llx  ", (unsigned long long)e->data_size,
                   (unsigned long long)e->data_offset);
    }
    cli_print_name(stdout, (const uint8_t *)path, strlen(path));
    fputs(dir ? "/\n" : "\n", stdout);
}

static int visit(void *ctx, const char *path, const struct romfs_entry *e, int depth)
{
    (void)depth;
    struct ls_state *st = ctx;
    size_t n = strlen(st->prefix) + strlen(path) + 2;
    char *full = malloc(n);
    if (!full)
        return ROMFS_ERR_NOMEM;
    snprintf(full, n, "%s%s%s", st->prefix, st->prefix[0] ? "/" : "", path);
    print_entry(st, full, e);
    free(full);
    return 0;
}

int cmd_ls(int argc, char **argv)
{
    static const struct option opts[] = {
        { "long", no_argument, NULL, 'l' }, { "recursive", no_argument, NULL, 'R' },
        { "json", no_argument, NULL, 'J' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct ls_state st = { false, false, "", NULL };
    bool recursive = false;
    int c;
    struct cli_options cli = { .command = "ls", .shortopts = "lRh", .longopts = opts,
                                .help_text = ls_help, .argc = argc, .argv = argv };
    while ((c = cli_next_option(&cli)) > 0) {
        switch (c) {
        case 'l': st.long_format = true; break;
        case 'R': recursive = true; break;
        case 'J': st.json = true; break;
        default: return cli_usage_error("ls", "unknown option");
        }
    }
    if (c == CLI_OPTIONS_EXIT)
        return cli.exit_code;
    if (optind >= argc || argc - optind > 2)
        return cli_usage_error("ls", "expected IMAGE [PATH]");
    struct romfs_image_file file;
    struct romfs_image img;
    int status = cli_load_image(argv[optind], &file, &img);
    if (status)
        return status;
    const char *path = optind + 1 < argc ? argv[optind + 1] : "";
    struct romfs_error err = { 0 };
    struct romfs_entry dir;
    int rc = romfs_lookup(&img, path, &dir, &err);
    if (st.json)
        st.array = cJSON_CreateArray();
    while (*path == '/')
        path++;
    char *prefix = strdup(path);
    if (prefix) {
        size_t n = strlen(prefix);
        while (n && prefix[n - 1] == '/')
            prefix[--n] = '\0';
    }
    st.prefix = recursive && prefix ? prefix : "";
    if (rc == ROMFS_OK && dir.type == ROMFS_ENTRY_FILE) {
        print_entry(&st, prefix ? prefix : path, &dir);
    } else if (rc == ROMFS_OK && recursive) {
        rc = romfs_image_walk(&img, &dir, visit, &st, &err);
    } else if (rc == ROMFS_OK) {
        struct romfs_dir_iter it;
        struct romfs_entry e;
        romfs_dir_begin(&img, &dir, &it);
        while ((rc = romfs_dir_next(&it, &e, &err)) == 1) {
            char name[4096];
            snprintf(name, sizeof name, "%.*s", (int)e.name_len, (const char *)e.name);
            print_entry(&st, name, &e);
        }
    }
    if (st.json) {
        char *text = cJSON_Print(st.array);
        if (rc >= 0)
            printf("%s\n", text);
        free(text);
        cJSON_Delete(st.array);
    }
    free(prefix);
    romfs_image_file_close(&file);
    if (rc == ROMFS_ERR_NOMEM)
        romfs_set_error(&err, rc, "out of memory");
    return rc < 0 ? cli_fail(&err) : EXIT_OK;
}
