/* cmd_diff.c: `romfs diff A.romfs B.romfs [--json]`: files added, removed, changed. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#include "base/text.h"

CLI_COMMAND(diff, "list the files that differ between two images");

static void usage(FILE *out)
{
    fprintf(out,
            "usage: romfs diff [--json] A.romfs B.romfs\n"
            "\n"
            "List the files that differ between images A (old) and B (new), for review:\n"
            "  + path (size)                 added in B\n"
            "  - path (size)                 removed from A\n"
            "  M path (old -> new, +delta)   content differs (compared by SHA-256)\n"
            "Directories are listed when added or removed. Files are matched by full path;\n"
            "offset, alignment and padding do not make a file \"changed\". A summary line\n"
            "follows, and a note when the images differ only in layout or signature.\n"
            "\n"
            "Options:\n"
            "  --json      one JSON object (counts, and per entry path, change, type, sizes,\n"
            "              SHA-256s) instead of text\n"
            "  -h, --help  this text\n"
            "\n"
            "Exits 1 when a file differs.\n");
}

static void print_text(const struct romfs_diff *d, const char *a, const char *b)
{
    char s1[64], s2[64];
    for (size_t i = 0; i < d->n_entries; i++) {
        const struct romfs_diff_entry *e = &d->entries[i];
        const char *slash = e->is_dir ? "/" : "";
        /* paths come from the images: escaped (base/text.h) */
        char *path = romfs_escape_text(e->path, strlen(e->path), ROMFS_ESCAPE_NAME);
        if (!path)
            continue;
        switch (e->change) {
        case ROMFS_DIFF_ADDED:
            if (e->is_dir)
                printf("+ %s/\n", path);
            else
                printf("+ %s (%s)\n", path, cli_short_size(e->new_size, s1, sizeof s1));
            break;
        case ROMFS_DIFF_REMOVED:
            if (e->is_dir)
                printf("- %s/\n", path);
            else
                printf("- %s (%s)\n", path, cli_short_size(e->old_size, s1, sizeof s1));
            break;
        case ROMFS_DIFF_CHANGED:
            printf("M %s%s (%s -> %s, %+lld)\n", path, slash,
                   cli_short_size(e->old_size, s1, sizeof s1), cli_short_size(e->new_size, s2, sizeof s2),
                   (long long)e->new_size - (long long)e->old_size);
            break;
        }
        free(path);
    }
    if (!romfs_diff_has_changes(d))
        printf("no file differs between %s and %s (%zu files)\n", a, b, d->unchanged_files);
    else
        printf("%zu added, %zu removed, %zu changed, %zu unchanged; image %llu -> %llu bytes (%+lld)\n",
               d->added, d->removed, d->changed, d->unchanged_files,
               (unsigned long long)d->old_image_size, (unsigned long long)d->new_image_size,
               (long long)d->new_image_size - (long long)d->old_image_size);
    if (d->layout_differs)
        printf("note: the images' bytes differ (layout, alignment, padding or signature): %llu vs %llu bytes\n",
               (unsigned long long)d->old_image_size, (unsigned long long)d->new_image_size);
    if (d->old_signed != d->new_signed)
        printf("note: %s is %ssigned, %s is %ssigned\n", a, d->old_signed ? "" : "not ", b,
               d->new_signed ? "" : "not ");
}

int cmd_diff(int argc, char **argv)
{
    static const struct option options[] = {
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool json = false;
    int c;
    struct cli_options cli = { .command = "diff", .shortopts = "h", .longopts = options,
                                .help = usage, .argc = argc, .argv = argv };
    while ((c = cli_next_option(&cli)) > 0) {
        switch (c) {
        case 'j': json = true; break;
        default: return cli_usage_error("diff", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (c == CLI_OPTIONS_EXIT)
        return cli.exit_code;
    if (argc - optind != 2)
        return cli_usage_error("diff", "expected two images, A and B");
    const char *a_path = argv[optind], *b_path = argv[optind + 1];
    struct romfs_error err = {0};
    uint8_t *a = NULL, *b = NULL;
    size_t a_size, b_size;
    struct romfs_diff d;
    int code = romfs_read_file(a_path, &a, &a_size, &err);
    if (code == ROMFS_OK)
        code = romfs_read_file(b_path, &b, &b_size, &err);
    if (code == ROMFS_OK)
        code = romfs_diff_images(a, a_size, a_path, b, b_size, b_path, &d, &err);
    free(a);
    free(b);
    if (code != ROMFS_OK) {
        cli_print_error(&err);
        return EXIT_USAGE; /* a missing or invalid image is an input error, not "differs" */
    }
    int rc = romfs_diff_has_changes(&d) ? EXIT_FAIL : EXIT_OK;
    if (json) {
        char *text;
        if (romfs_diff_to_json(&d, a_path, b_path, &text, &err) != ROMFS_OK) {
            romfs_diff_free(&d);
            cli_print_error(&err);
            return EXIT_USAGE;
        }
        printf("%s\n", text);
        free(text);
    } else {
        print_text(&d, a_path, b_path);
    }
    romfs_diff_free(&d);
    return rc;
}
