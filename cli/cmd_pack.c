/* cmd_pack.c: romfs pack DIR [-o OUT] ... */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "cli.h"
#include "flash/dfu_target.h"
#include "pack_args.h"

CLI_COMMAND(pack, "build a ROMFS image from a directory");

static const char pack_help[] =
    "usage: romfs pack DIR [-o OUT] [options]\n"
    "\n"
    "Build a MicroPython ROMFS (VfsRom) image from the tree below DIR. Entries are\n"
    "sorted by name bytes; empty directories and empty files are kept; the output\n"
    "depends only on names, contents and options (not mtimes, inode order, umask or\n"
    "locale). OUT is written to a temporary file and renamed: a failed pack leaves\n"
    "no output behind.\n"
    "\n"
    "  -o, --output OUT        image file (default DIR.romfs; '-' for standard output)\n"
    "      --align N           align every file's data offset to N bytes (power of two;\n"
    "                          default 4, so word loads from mapped flash never fault)\n"
    "      --align-rule GLOB=N per-file alignment, e.g. '*.bin=4096' (repeatable; later\n"
    "                          rules win; GLOB matches the path below DIR, or the base\n"
    "                          name when it has no '/')\n"
    "      --exclude GLOB      leave out matching files and directories (repeatable)\n"
    "      --no-default-excludes\n"
    "                          also pack .git .hg .svn __pycache__ *.pyc .DS_Store\n"
    "                          Thumbs.db *.swp *~ (left out by default)\n"
    "      --mpy-cross[=PATH]  compile each .py to .mpy with mpy-cross (PATH, or\n"
    "                          'mpy-cross' on $PATH); a .mpy beside a .py wins and the\n"
    "                          .py is left out; DIR is never written to\n"
    "      --mpy-cross-arg ARG pass ARG to mpy-cross, e.g. -march=armv6m (repeatable);\n"
    "                          with --board, -march= is the board's CPU unless given\n"
    "      --mpy-cache DIR     keep mpy-cross's outputs in DIR by the hash of each .py,\n"
    "                          its name, mpy-cross and its arguments, so an unchanged\n"
    "                          .py is not compiled again (default: $XDG_CACHE_HOME/romfs/mpy\n"
    "                          or ~/.cache/romfs/mpy; a damaged entry is compiled anew)\n"
    "      --no-mpy-cache      compile every .py, keep nothing\n"
    "  -j, --jobs N            parallel compiles (default: all cores)\n"
    "      --pad-to N          pad the output with 0xff to a multiple of N bytes\n"
    "      --size-limit N      fail if the image is larger than N bytes\n"
    "      --base OLD          lay the image out against OLD, the image it replaces (what\n"
    "                          the board holds): unchanged files keep their data offsets,\n"
    "                          changed ones are patched in place or go to free space, so\n"
    "                          a flash write touches few erase blocks. The image may grow\n"
    "                          by slack: less than 4 KiB each time it has to grow, plus a\n"
    "                          quarter of the metadata and 128 bytes when that is\n"
    "                          rewritten. When more than half of the data changed the\n"
    "                          layout is fresh (metadata first, then data); a second\n"
    "                          summary line says what was kept. OLD is read whole into\n"
    "                          memory, and so is the new image\n"
    "      --reproducible      the default, made explicit: same tree, same bytes\n"
    "      --tree              print the tree as it is packed\n"
    "      --json              print a JSON summary (files, dirs, sizes, SHA-256)\n"
    "      --manifest FILE     write every file's path, data offset, size and SHA-256\n"
    "      --board BOARD       check the image against BOARD's ROMFS partition (as\n"
    "                          `romfs check` does) and write nothing unless it passes\n"
    "      --partition N       which of the board's partitions (default 0)\n"
    "      --dfu OUT.dfu, --uf2 OUT.uf2, --hex OUT.hex\n"
    "                          also write the image placed at the partition's address\n"
    "                          (--board) or at --address ADDR, as `romfs convert` does\n"
    "  -q, --quiet             print nothing on success\n"
    "\n"
    "Sizes accept 0x hex and K/M suffixes (1024-based). With --align 1 and no\n"
    "mpy-cross the image is byte-identical to mpremote's `romfs build`.\n"
    "Exits 1 on a write failure or when the image passes a size limit.\n"
    "\n"
    "Example: romfs pack app -o packed.romfs --tree\n"
    "         romfs pack app --base packed.romfs -o next.romfs\n";

enum {
    OPT_REPRODUCIBLE = 256, OPT_TREE, OPT_JSON, OPT_MANIFEST, OPT_BOARD, OPT_PARTITION, OPT_DFU,
    OPT_UF2, OPT_HEX, OPT_ADDRESS,
};

enum { OPT_NO_MPY = 300 };

#define PACK_OPTIONS \
    { "output", required_argument, NULL, 'o' }, \
    CLI_PACK_LONG_OPTIONS, \
    { "jobs", required_argument, NULL, 'j' }, \
    { "reproducible", no_argument, NULL, OPT_REPRODUCIBLE }, \
    { "tree", no_argument, NULL, OPT_TREE }, \
    { "json", no_argument, NULL, OPT_JSON }, \
    { "manifest", required_argument, NULL, OPT_MANIFEST }, \
    { "board", required_argument, NULL, OPT_BOARD }, \
    { "partition", required_argument, NULL, OPT_PARTITION }, \
    { "dfu", required_argument, NULL, OPT_DFU }, \
    { "uf2", required_argument, NULL, OPT_UF2 }, \
    { "hex", required_argument, NULL, OPT_HEX }, \
    { "address", required_argument, NULL, OPT_ADDRESS }, \
    { "quiet", no_argument, NULL, 'q' }, \
    { "help", no_argument, NULL, 'h' }

static const struct option pack_options[] = { PACK_OPTIONS, { NULL, 0, NULL, 0 } };
/* `romfs build` adds mpremote's --mpy/-m and --no-mpy. */
static const struct option build_options[] = {
    PACK_OPTIONS,
    { "mpy", no_argument, NULL, 'm' },
    { "no-mpy", no_argument, NULL, OPT_NO_MPY },
    { NULL, 0, NULL, 0 },
};

struct tree_printer {
    FILE *out;
    bool last[256];
};

static void print_tree_entry(void *ctx, const char *path, const char *name, int depth,
                             bool is_dir, bool is_last, uint64_t size, const char *note)
{
    (void)path;
    (void)size;
    struct tree_printer *tp = ctx;
    for (int d = 0; d < depth && d < 256; d++)
        fputs(tp->last[d] ? "    " : "|   ", tp->out);
    if (note)   /* compiled: show where it came from, as `src.py -> src.mpy` */
        fprintf(tp->out, "%s %s -> %s\n", is_last ? "\\--" : "|--", note, name);
    else
        fprintf(tp->out, "%s %s%s\n", is_last ? "\\--" : "|--", name, is_dir ? "/" : "");
    if (depth < 256)
        tp->last[depth] = is_last;
}

static int stage_manifest(struct romfs_output_set *outs, const char *path, const char *image,
                          const struct romfs_pack_result *r, struct romfs_error *err)
{
    cJSON *root = cJSON_CreateObject();
    char hex[2 * ROMFS_SHA256_SIZE + 1];
    cJSON_AddStringToObject(root, "image", image);
    cJSON_AddNumberToObject(root, "image_bytes", (double)r->image_size);
    romfs_sha256_hex(r->sha256, hex);
    cJSON_AddStringToObject(root, "sha256", hex);
    cJSON *files = cJSON_AddArrayToObject(root, "files");
    for (size_t i = 0; i < r->n_files; i++) {
        const struct romfs_packed_file *f = &r->file_list[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "path", f->path);
        cJSON_AddStringToObject(o, "source", f->source);
        cJSON_AddNumberToObject(o, "offset", (double)f->data_offset);
        cJSON_AddNumberToObject(o, "size", (double)f->size);
        cJSON_AddNumberToObject(o, "align", f->align);
        romfs_sha256_hex(f->sha256, hex);
        cJSON_AddStringToObject(o, "sha256", hex);
        cJSON_AddItemToArray(files, o);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    int rc = romfs_output_stage(outs, path, (const uint8_t *)text, strlen(text), err);
    free(text);
    return rc;
}

static void add_base_json(cJSON *o, const char *base, const struct romfs_stable_summary *b);

static void print_json_summary(FILE *out, const char *image, const char *base,
                               const struct romfs_pack_result *r)
{
    char hex[2 * ROMFS_SHA256_SIZE + 1];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "output", image);
    cJSON_AddNumberToObject(o, "files", (double)r->files);
    cJSON_AddNumberToObject(o, "dirs", (double)r->dirs);
    cJSON_AddNumberToObject(o, "compiled", (double)r->compiled);
    cJSON_AddNumberToObject(o, "mpy_cached", (double)r->mpy_cached);
    cJSON_AddNumberToObject(o, "data_bytes", (double)r->data_bytes);
    cJSON_AddNumberToObject(o, "image_bytes", (double)r->image_size);
    cJSON_AddNumberToObject(o, "output_bytes", (double)r->output_size);
    cJSON_AddNumberToObject(o, "overhead", (double)(r->image_size - r->data_bytes));
    romfs_sha256_hex(r->sha256, hex);
    cJSON_AddStringToObject(o, "sha256", hex);
    if (r->used_base)
        add_base_json(o, base, &r->base);
    char *text = cJSON_Print(o);
    fprintf(out, "%s\n", text);
    free(text);
    cJSON_Delete(o);
}

static const char *const base_mode_phrase[] = {
    [ROMFS_STABLE_SAME] = "nothing changed",
    [ROMFS_STABLE_PATCHED] = "records patched in place",
    [ROMFS_STABLE_REWRITTEN] = "metadata rewritten",
    [ROMFS_STABLE_FRESH] = "fresh layout",
};

/* The second summary line with --base: what stayed put, what the flash write will touch. */
static void print_base_summary(FILE *out, const char *base, const struct romfs_stable_summary *b)
{
    char kept[32], written[32], delta[32], free_b[32], blk[32];
    int64_t grow = (int64_t)(b->image_size - b->base_image_size);
    cli_short_size((uint64_t)(grow < 0 ? -grow : grow), delta, sizeof delta);
    fprintf(out, "against %s: %s", base, base_mode_phrase[b->mode]);
    if (b->why)
        fprintf(out, " (%s)", romfs_stable_why_text(b->why));
    fprintf(out, ": %llu file%s kept in place (%s), %llu written (%s); %llu of %llu %s blocks "
            "differ; image %s%s, %s free\n", (unsigned long long)b->files_kept,
            b->files_kept == 1 ? "" : "s", cli_short_size(b->bytes_kept, kept, sizeof kept),
            (unsigned long long)b->files_written,
            cli_short_size(b->bytes_written, written, sizeof written),
            (unsigned long long)b->blocks_changed, (unsigned long long)b->blocks_total,
            cli_short_size(b->block, blk, sizeof blk), grow ? (grow < 0 ? "-" : "+") : "",
            grow ? delta : "size unchanged", cli_short_size(b->free_bytes, free_b, sizeof free_b));
}

static void add_base_json(cJSON *o, const char *base, const struct romfs_stable_summary *b)
{
    cJSON *j = cJSON_AddObjectToObject(o, "base");
    cJSON_AddStringToObject(j, "image", base);
    cJSON_AddStringToObject(j, "layout", romfs_stable_mode_name(b->mode));
    if (b->why)
        cJSON_AddStringToObject(j, "fresh_because", romfs_stable_why_text(b->why));
    cJSON_AddNumberToObject(j, "files_kept", (double)b->files_kept);
    cJSON_AddNumberToObject(j, "bytes_kept", (double)b->bytes_kept);
    cJSON_AddNumberToObject(j, "files_written", (double)b->files_written);
    cJSON_AddNumberToObject(j, "bytes_written", (double)b->bytes_written);
    cJSON_AddNumberToObject(j, "base_image_bytes", (double)b->base_image_size);
    cJSON_AddNumberToObject(j, "free_bytes", (double)b->free_bytes);
    cJSON_AddNumberToObject(j, "block", (double)b->block);
    cJSON_AddNumberToObject(j, "blocks_changed", (double)b->blocks_changed);
    cJSON_AddNumberToObject(j, "blocks", (double)b->blocks_total);
}

static const char build_help[] =
    "usage: romfs build DIR [-o OUT] [--mpy | --no-mpy] [pack options]\n"
    "\n"
    "mpremote's `romfs build`: `romfs pack` with mpremote's defaults. The image is\n"
    "byte-identical to mpremote's (no alignment: --align 1; nothing left out:\n"
    "--no-default-excludes; OUT defaults to DIR.romfs). Each .py is compiled to .mpy\n"
    "when mpy-cross is found on $PATH (a .py with a .mpy beside it is packed as it is,\n"
    "next to that .mpy, as mpremote does); without mpy-cross the .py files are packed\n"
    "as source with a warning. Every `romfs pack` option is accepted too (--align 4,\n"
    "--board B, --mpy-cross=PATH, ...).\n"
    "\n"
    "  -o, --output OUT     image file (default DIR.romfs)\n"
    "  -m, --mpy            compile .py files with mpy-cross when found (the default)\n"
    "      --no-mpy         pack .py files as they are\n"
    "  -q, --quiet          print nothing on success (the mpy-cross warning still shows)\n"
    "\n"
    "Exits 1 on a write failure or when the image passes a size limit.\n";

/* The .dfu's VID:PID and alt: those of the board's DFU bootloader that reaches the
 * partition, as `flash --via dfu` and `convert --dfu` choose it (mboot for PYBD's QSPI). */
static int dfu_bootloader_id(const char *board, struct romfs_placement *where, struct romfs_error *err)
{
    struct romfs_boards db;
    int rc = romfs_boards_load(NULL, &db, err);
    if (rc)
        return rc;
    const struct romfs_board *b = romfs_boards_lookup(&db, board, err);
    struct romfs_dfu_boot boot;
    rc = b ? romfs_dfu_boot_choose(b, where->address, where->size, &boot, err) : ROMFS_ERR_NOENT;
    if (rc == ROMFS_OK) {
        where->vid = boot.vid;
        where->pid = boot.pid;
        where->alt = (uint8_t)boot.alt;
    }
    romfs_boards_free(&db);
    return rc;
}

int cmd_pack(int argc, char **argv)
{
    return cli_pack_main(argc, argv, false);
}

static uint64_t count_py_sources(const struct romfs_pack_result *r)
{
    uint64_t n = 0;
    for (size_t i = 0; i < r->n_files; i++) {
        size_t len = strlen(r->file_list[i].path);
        n += len > 3 && strcmp(r->file_list[i].path + len - 3, ".py") == 0;
    }
    return n;
}

int cli_pack_main(int argc, char **argv, bool build)
{
    const char *cmd = build ? "build" : "pack";
    bool mpy = build, mpy_missing = false;
    struct cli_pack_args pa;
    const char *out = NULL, *manifest = NULL, *board = NULL;
    struct romfs_outfile_paths outfiles = { NULL, NULL, NULL, NULL };
    uint64_t address = 0, partition = 0;
    bool have_address = false;
    bool tree = false, json = false, quiet = false;
    int c, status = EXIT_USAGE;
    if (!cli_pack_args_init(&pa, argc)) {
        cli_error("out of memory");
        goto done;
    }
    if (build) {
        pa.opt.align = 1;
        pa.opt.no_default_excludes = true;
        pa.opt.keep_py_beside_mpy = true;
        pa.opt.mpy_name_is_path = true;
    }
    struct cli_options cli = { .command = build ? "build" : "pack", .shortopts = build ? "o:j:qhm" : "o:j:qh",
                               .longopts = build ? build_options : pack_options,
                               .help_text = build ? build_help : pack_help, .argc = argc, .argv = argv };
    while ((c = cli_next_option(&cli)) > 0) {
        uint64_t v;
        switch (c) {
        case 'o': out = optarg; break;
        case 'j':
            if (!cli_parse_size(optarg, &v) || v == 0 || v > 1024) {
                status = cli_usage_error(cmd, "--jobs %s: expected 1 to 1024", optarg);
                goto done;
            }
            pa.opt.jobs = (unsigned)v;
            break;
        case OPT_REPRODUCIBLE: break;
        case OPT_TREE: tree = true; break;
        case OPT_JSON: json = true; break;
        case OPT_MANIFEST: manifest = optarg; break;
        case OPT_BOARD: board = optarg; break;
        case OPT_PARTITION:
            if (!cli_parse_size(optarg, &partition) || partition > 7) {
                status = cli_usage_error(cmd, "--partition %s: expected 0 to 7", optarg);
                goto done;
            }
            break;
        case OPT_DFU: outfiles.dfu = optarg; break;
        case OPT_UF2: outfiles.uf2 = optarg; break;
        case OPT_HEX: outfiles.hex = optarg; break;
        case OPT_ADDRESS:
            if (!cli_parse_size(optarg, &address)) {
                status = cli_usage_error(cmd, "--address %s: not an address", optarg);
                goto done;
            }
            have_address = true;
            break;
        case 'q': quiet = true; break;
        case 'm': mpy = true; break;
        case OPT_NO_MPY: mpy = false; break;
        default: {
            int handled = cli_pack_args_option(&pa, c, optarg, cmd);
            if (handled == 1)
                break;
            if (handled == 0)
                status = cli_usage_error(cmd, "unknown option");
            goto done;
        }
        }
    }
    if (c == CLI_OPTIONS_EXIT) {
        status = cli.exit_code;
        goto done;
    }
    if (optind != argc - 1) {
        status = cli_usage_error(cmd, optind >= argc ? "DIR is missing" : "one DIR expected");
        goto done;
    }
    const char *dir = argv[optind];
    if (build && !mpy)
        pa.opt.mpy_cross = NULL;
    else if (build && !pa.opt.mpy_cross) {
        if (romfs_program_available("mpy-cross"))
            pa.opt.mpy_cross = "mpy-cross";
        else
            mpy_missing = true;
    }
    if (pa.opt.mpy_cross && board && (status = cli_pack_args_board_march(&pa, board, cmd)) != EXIT_OK)
        goto done;
    status = EXIT_USAGE;
    char *default_out = NULL;
    if (!out) {
        size_t n = strlen(dir);
        while (n > 1 && dir[n - 1] == '/')
            n--;
        default_out = malloc(n + 7);
        if (!default_out) {
            cli_error("out of memory");
            goto done;
        }
        memcpy(default_out, dir, n);
        strcpy(default_out + n, ".romfs");
        out = default_out;
    }
    bool to_stdout = strcmp(out, "-") == 0;
    if (to_stdout && isatty(STDOUT_FILENO)) {
        status = cli_usage_error(cmd, "refusing to write an image to a terminal");
        free(default_out);
        goto done;
    }
    FILE *report = to_stdout ? stderr : stdout;
    struct tree_printer tp = { report, { false } };
    if (tree) {
        pa.opt.on_entry = print_tree_entry;
        pa.opt.on_entry_ctx = &tp;
        fputs("/\n", report);
    }
    bool want_outfiles = outfiles.dfu || outfiles.uf2 || outfiles.hex;
    if (want_outfiles && !board && !have_address) {
        status = cli_usage_error(cmd, "--dfu/--uf2/--hex need --board or --address");
        free(default_out);
        goto done;
    }
    /* Checked or converted images, and images with a manifest, are built in memory,
       checked, and then written together with every other output, all or nothing;
       otherwise the image streams straight to OUT (a temporary renamed at the end). */
    bool in_memory = board || want_outfiles || manifest;
    pa.opt.digest = json || manifest;
    pa.opt.file_digests = manifest != NULL;
    pa.opt.to_fd = to_stdout && !in_memory;
    pa.opt.out_fd = STDOUT_FILENO;
    struct romfs_pack_result res;
    struct romfs_error err = { 0 };
    uint8_t *image = NULL;
    int rc = romfs_pack_dir(dir, to_stdout || in_memory ? NULL : out, &pa.opt, &res,
                            in_memory ? &image : NULL, &err);
    if (!rc && board)
        rc = romfs_check_image_for_board(image, (size_t)res.output_size, NULL, board,
                                         (int)partition, &err);
    struct romfs_output_set outs;
    romfs_output_set_init(&outs);
    if (!rc && in_memory)
        rc = romfs_output_stage(&outs, out, image, (size_t)res.output_size, &err);
    if (!rc && want_outfiles) {
        struct romfs_placement where;
        if (board)
            rc = romfs_placement_for_board_name(NULL, board, (int)partition, &where, &err);
        else
            romfs_placement_at(address, &where);
        if (!rc && board && outfiles.dfu)
            rc = dfu_bootloader_id(board, &where, &err);
        if (!rc)
            rc = romfs_stage_outfiles(image, (size_t)res.output_size, &where, &outfiles, &outs, &err);
    }
    if (!rc && manifest)
        rc = stage_manifest(&outs, manifest, out, &res, &err);
    if (!rc)
        rc = romfs_output_commit(&outs, &err);
    else
        romfs_output_abort(&outs);
    free(image);
    if (rc) {
        status = cli_fail(&err);
        romfs_pack_result_free(&res);   /* safe when pack itself failed */
        free(default_out);
        goto done;
    }
    status = EXIT_OK;
    uint64_t uncompiled = mpy_missing ? count_py_sources(&res) : 0;
    if (uncompiled)
        cli_warn("mpy-cross not found on $PATH: %llu .py file%s packed as source, not "
                 "precompiled (--no-mpy says that is intended)", (unsigned long long)uncompiled,
                 uncompiled == 1 ? "" : "s");
    if (json)
        print_json_summary(report, out, pa.opt.base, &res);
    else if (!quiet) {
        char size[64];
        char compiled[96] = "";
        if (res.compiled)
            snprintf(compiled, sizeof compiled, " (%llu .py compiled, %llu of them from the "
                     "mpy-cross cache)", (unsigned long long)res.compiled,
                     (unsigned long long)res.mpy_cached);
        fprintf(report, "packed %llu file%s, %llu director%s into %s: %s%s\n",
                (unsigned long long)res.files, res.files == 1 ? "" : "s",
                (unsigned long long)res.dirs, res.dirs == 1 ? "y" : "ies",
                to_stdout ? "standard output" : out, cli_human_size(res.output_size, size, sizeof size),
                compiled);
        if (res.used_base)
            print_base_summary(report, pa.opt.base, &res.base);
    }
    romfs_pack_result_free(&res);
    free(default_out);
done:
    cli_pack_args_free(&pa);
    return status;
}
