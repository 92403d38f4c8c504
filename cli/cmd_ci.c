/* cmd_ci.c: `romfs ci --board B... [--key PUB.pem] DIR|IMAGE`: one command for CI. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "cli.h"
#include "pack_args.h"

CLI_COMMAND(ci, "pack, verify, check boards and signature; one report for CI");

static const char ci_help[] =
    "usage: romfs ci [--board B]... [--key PUB.pem] [--format F] [-o REPORT] DIR|IMAGE\n"
    "\n"
    "One command for a CI job. Given a directory it packs it (twice, to prove the\n"
    "build is reproducible); given an image it reads it. Then it verifies the image\n"
    "strictly, checks it against the ROMFS partition of every --board (fits, erase\n"
    "and write granularity, alignment at the partition's address, memory mapping, as\n"
    "'romfs check' does), checks its signature with --key, and writes one report.\n"
    "\n"
    "  -b, --board B         check against board B (repeatable, or B1,B2,...)\n"
    "  -p, --partition N     partition index on every board (default 0)\n"
    "      --boards FILE     board database (default: $ROMFS_BOARDS or the built-in one)\n"
    "  -k, --key PUB.pem     require a good signature by this key (PEM or DER); with a\n"
    "                        DIR only together with --sign (a packed DIR is unsigned)\n"
    "      --sign KEY.pem    DIR only: sign the packed image with this private key\n"
    "  -f, --format F        report format: text (default), json, junit, github\n"
    "  -o, --output REPORT   write the report to REPORT (default: standard output)\n"
    "      --image-out FILE  DIR only: keep the packed (signed) image as FILE\n"
    "      --no-reproducible-check\n"
    "                        DIR only: pack once, skip the second pack and compare\n"
    "Pack options for a DIR (as for 'romfs pack'): --align N, --align-rule GLOB=N,\n"
    "  --exclude GLOB, --no-default-excludes, --mpy-cross[=PATH], --mpy-cross-arg ARG,\n"
    "  --pad-to N, --size-limit N, --base OLD.\n"
    "  -q, --quiet           no summary line on standard error\n"
    "      --print-workflow  print a GitHub Actions workflow that runs romfs ci, diff,\n"
    "                        sign and verify (templates/ci/github-workflow.yml) and exit\n"
    "\n"
    "Report: suite \"image\" (pack, reproducible, sign, structure, signature) and one\n"
    "suite \"BOARD partition N\" per board (structure, fits, erase, write, alignment,\n"
    "mmap). JUnit goes to test-result viewers; github prints ::error annotations.\n"
    "A summary line \"romfs ci: N passed, N failed, N skipped\" goes to standard error.\n";

enum {
    OPT_BOARDS = 256, OPT_SIGN, OPT_IMAGE_OUT, OPT_NO_REPRO, OPT_PRINT_WORKFLOW,
};

static const struct option ci_options[] = {
    { "board", required_argument, NULL, 'b' },
    { "partition", required_argument, NULL, 'p' },
    { "boards", required_argument, NULL, OPT_BOARDS },
    { "key", required_argument, NULL, 'k' },
    { "sign", required_argument, NULL, OPT_SIGN },
    { "format", required_argument, NULL, 'f' },
    { "output", required_argument, NULL, 'o' },
    { "image-out", required_argument, NULL, OPT_IMAGE_OUT },
    { "no-reproducible-check", no_argument, NULL, OPT_NO_REPRO },
    CLI_PACK_LONG_OPTIONS,
    { "quiet", no_argument, NULL, 'q' },
    { "print-workflow", no_argument, NULL, OPT_PRINT_WORKFLOW },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

int cmd_ci(int argc, char **argv)
{
    const char **boards = calloc((size_t)argc * 8 + 1, sizeof *boards);
    struct cli_pack_args pa;
    bool pa_ok = cli_pack_args_init(&pa, argc);
    char **board_copies = calloc((size_t)argc + 1, sizeof *board_copies);
    size_t n_copies = 0;
    int status = EXIT_USAGE;
    if (!boards || !pa_ok || !board_copies) {
        cli_error("out of memory");
        status = EXIT_FAIL;
        goto done;
    }
    pa.opt.align = 0;   /* 0: pack's default, as before */
    struct romfs_ci_options opt = { 0 };
    opt.boards = boards;
    opt.pack = &pa.opt;
    opt.check_reproducible = true;
    enum romfs_report_format fmt = ROMFS_REPORT_TEXT;
    const char *report_path = NULL;
    bool quiet = false;
    struct romfs_error err = { 0 };
    int c;
    struct cli_options cli = { .command = "ci", .shortopts = "b:p:k:f:o:qh", .longopts = ci_options,
                                .help_text = ci_help, .argc = argc, .argv = argv };
    while ((c = cli_next_option(&cli)) > 0) {
        switch (c) {
        case 'b': {
            /* B1,B2 lists: split a private copy */
            char *copy = strdup(optarg);
            if (!copy) {
                cli_error("out of memory");
                status = EXIT_FAIL;
                goto done;
            }
            board_copies[n_copies++] = copy;
            for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
                if (opt.n_boards < (size_t)argc * 8)
                    boards[opt.n_boards++] = tok;
            break;
        }
        case 'p': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 0 || v > 15) {
                status = cli_usage_error("ci", "--partition %s: expected 0 to 15", optarg);
                goto done;
            }
            opt.partition = (int)v;
            break;
        }
        case OPT_BOARDS: opt.boards_path = optarg; break;
        case 'k': opt.key_path = optarg; break;
        case OPT_SIGN: opt.sign_key_path = optarg; break;
        case 'f':
            if (romfs_report_parse_format(optarg, &fmt, &err) != ROMFS_OK) {
                status = cli_usage_error("ci", "%s", err.msg);
                goto done;
            }
            break;
        case 'o': report_path = optarg; break;
        case OPT_IMAGE_OUT: opt.image_out = optarg; break;
        case OPT_NO_REPRO: opt.check_reproducible = false; break;
        case 'q': quiet = true; break;
        case OPT_PRINT_WORKFLOW: {
            size_t len;
            const char *text = romfs_template("ci/github-workflow.yml", &len);
            if (!text) {
                cli_error("no workflow template in this build");
                status = EXIT_FAIL;
            } else {
                fwrite(text, 1, len, stdout);
                status = EXIT_OK;
            }
            goto done;
        }
        case ':': status = cli_usage_error("ci", "option '%s' needs a value", argv[optind - 1]); goto done;
        default: {
            int handled = cli_pack_args_option(&pa, c, optarg, "ci");
            if (handled == 1)
                break;
            if (handled == 0)
                status = cli_usage_error("ci", "unknown option '%s'", argv[optind - 1]);
            goto done;
        }
        }
    }
    if (c == CLI_OPTIONS_EXIT) {
        status = cli.exit_code;
        goto done;
    }
    if (argc - optind != 1) {
        status = cli_usage_error("ci", "expected one DIR or IMAGE");
        goto done;
    }
    const char *input = argv[optind];
    struct stat in_st;
    if (opt.key_path && !opt.sign_key_path && stat(input, &in_st) == 0 && S_ISDIR(in_st.st_mode)) {
        /* A packed directory is never signed, so the signature check could only fail. */
        status = cli_usage_error("ci", "--key %s checks a signature, but %s is a directory and "
                                 "ci packs it unsigned: add --sign KEY.pem to sign what it packs, "
                                 "or give ci a signed image", opt.key_path, input);
        goto done;
    }
    struct romfs_report report;
    struct romfs_ci_result res;
    romfs_report_init(&report, "romfs ci");
    int code = romfs_ci_run(input, &opt, &report, &res, &err);
    if (code != ROMFS_OK && code != ROMFS_ERR_MISMATCH) {
        romfs_report_free(&report);
        cli_print_error(&err);
        status = code == ROMFS_ERR_NOMEM ? EXIT_FAIL : EXIT_USAGE;
        goto done;
    }
    struct romfs_error werr = { 0 };
    if (cli_write_report(&report, fmt, report_path, &werr) != ROMFS_OK) {
        romfs_report_free(&report);
        status = cli_fail(&werr);
        goto done;
    }
    romfs_report_free(&report);
    if (!quiet) {
        char sha[2 * ROMFS_SHA256_SIZE + 1] = "none";
        if (res.image_size)
            romfs_sha256_hex(res.sha256, sha);
        fprintf(stderr, "romfs ci: %zu passed, %zu failed, %zu skipped (image %llu bytes, sha256 %s)\n",
                res.passed, res.failed, res.skipped, (unsigned long long)res.image_size, sha);
        if (code != ROMFS_OK)
            fprintf(stderr, "romfs ci: first failure: %s\n", err.msg);
    }
    status = code == ROMFS_OK ? EXIT_OK : EXIT_FAIL;
done:
    for (size_t i = 0; board_copies && i < n_copies; i++)
        free(board_copies[i]);
    free(board_copies);
    free(boards);
    cli_pack_args_free(&pa);
    return status;
}
