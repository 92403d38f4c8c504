/* ci.c: one CI run: pack (if a directory), verify, check every board, check the
 * signature; everything recorded in one report (plan/ci.h). */
#include "plan/ci.h"
#include "base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boards/db.h"
#include "format/format.h"
#include "image/sign.h"
#include "base/clock.h"

/* Record the first failure's message in err (the caller's summary line). */
static void note_failure(struct romfs_error *err, bool *have_failure, const char *what,
                         const struct romfs_error *e)
{
    if (*have_failure)
        return;
    *have_failure = true;
    if (what)
        romfs_set_error(err, ROMFS_ERR_MISMATCH, "%s: %s", what, e->msg);
    else
        romfs_set_error(err, ROMFS_ERR_MISMATCH, "%s", e->msg);
}

/* Pack the directory (and, asked to, a second time to compare, and sign). Cases go to
   suite s. On success *image holds the bytes to check. */
static void run_pack(const char *dir, const struct romfs_ci_options *opt, struct romfs_report *report,
                     struct romfs_report_suite *s, uint8_t **image, size_t *size, bool *failed,
                     struct romfs_error *err)
{
    struct romfs_pack_options defaults = { 0 };
    const struct romfs_pack_options *popt = opt->pack ? opt->pack : &defaults;
    struct romfs_pack_result pr;
    struct romfs_error e = { 0 };
    double t0 = romfs_now_s();
    memset(&pr, 0, sizeof pr);
    int code = romfs_pack_dir(dir, NULL, popt, &pr, image, &e);
    if (code != ROMFS_OK) {
        romfs_report_add_case(report, s, "pack", ROMFS_REPORT_FAIL, NULL, "%s", e.msg);
        romfs_report_set_seconds(s, romfs_now_s() - t0);
        note_failure(err, failed, "pack", &e);
        *image = NULL;
        return;
    }
    *size = (size_t)pr.output_size;
    romfs_report_add_case(report, s, "pack", ROMFS_REPORT_PASS, NULL,
                          "packed %llu files, %llu dirs (%llu data bytes) into %llu bytes%s",
                          (unsigned long long)pr.files, (unsigned long long)pr.dirs,
                          (unsigned long long)pr.data_bytes, (unsigned long long)pr.output_size,
                          pr.compiled ? ", .py compiled with mpy-cross" : "");
    romfs_report_set_seconds(s, romfs_now_s() - t0);
    romfs_pack_result_free(&pr);

    if (opt->check_reproducible) {
        uint8_t *again = NULL;
        struct romfs_pack_result pr2;
        memset(&pr2, 0, sizeof pr2);
        t0 = romfs_now_s();
        code = romfs_pack_dir(dir, NULL, popt, &pr2, &again, &e);
        if (code != ROMFS_OK) {
            romfs_report_add_case(report, s, "reproducible", ROMFS_REPORT_FAIL, NULL,
                                  "second pack failed: %s", e.msg);
            note_failure(err, failed, "reproducible", &e);
        } else if (pr2.output_size != *size || memcmp(again, *image, *size) != 0) {
            size_t at = 0;
            while (at < *size && at < pr2.output_size && again[at] == (*image)[at])
                at++;
            romfs_report_add_case(report, s, "reproducible", ROMFS_REPORT_FAIL, NULL,
                                  "packing the same tree twice gave different bytes (first "
                                  "difference at offset %zu): did a file change while packing?", at);
            romfs_set_error(&e, ROMFS_ERR_MISMATCH, "packing twice gave different bytes");
            note_failure(err, failed, "reproducible", &e);
        } else {
            romfs_report_add_case(report, s, "reproducible", ROMFS_REPORT_PASS, NULL,
                                  "a second pack of the same tree gave the same %zu bytes", *size);
        }
        romfs_report_set_seconds(s, romfs_now_s() - t0);
        romfs_pack_result_free(&pr2);
        free(again);
    }

    if (opt->sign_key_path) {
        struct romfs_key *key = NULL;
        uint8_t *signed_image = NULL;
        size_t signed_size = 0;
        struct romfs_signature_info info;
        code = romfs_key_load(opt->sign_key_path, true, &key, &e);
        if (code == ROMFS_OK)
            code = romfs_sign_image(*image, *size, key, &signed_image, &signed_size, &info, &e);
        romfs_key_free(key);
        if (code != ROMFS_OK) {
            romfs_report_add_case(report, s, "sign", ROMFS_REPORT_FAIL, NULL, "%s", e.msg);
            note_failure(err, failed, "sign", &e);
        } else {
            char hex[2 * ROMFS_SIG_KEY_ID_SIZE + 1];
            romfs_key_id_hex(info.key_id, hex);
            romfs_report_add_case(report, s, "sign", ROMFS_REPORT_PASS, NULL,
                                  "signed with key %s (%s), image now %zu bytes", hex,
                                  romfs_sig_alg_name(info.algorithm), signed_size);
            free(*image);
            *image = signed_image;
            *size = signed_size;
        }
    }
    if (opt->image_out && *image) {
        code = romfs_write_file_atomic(opt->image_out, *image, *size, &e);
        if (code != ROMFS_OK) {
            romfs_report_add_case(report, s, "write", ROMFS_REPORT_FAIL, NULL, "%s", e.msg);
            note_failure(err, failed, "write", &e);
        }
    }
}

int romfs_ci_run(const char *input, const struct romfs_ci_options *opt,
                 struct romfs_report *report, struct romfs_ci_result *result,
                 struct romfs_error *err)
{
    memset(result, 0, sizeof *result);
    struct stat st;
    if (stat(input, &st) != 0)
        return romfs_set_errno(err, romfs_input_errno_code(errno), errno,
                               "cannot open %s", input);
    /* Boards first: a misspelt board is a usage error, found before any work. */
    struct romfs_boards db;
    memset(&db, 0, sizeof db);
    int code = ROMFS_OK;
    if (opt->n_boards > 0) {
        code = romfs_boards_load(opt->boards_path, &db, err);
        if (code != ROMFS_OK)
            return code;
        for (size_t i = 0; i < opt->n_boards; i++) {
            if (!romfs_boards_lookup(&db, opt->boards[i], err)) {
                romfs_boards_free(&db);
                return err ? err->code : ROMFS_ERR_NOENT;
            }
        }
    }

    bool failed = false;
    uint8_t *image = NULL;
    size_t size = 0;
    struct romfs_report_suite *s = romfs_report_add_suite(report, "image", input);
    if (!s) {
        romfs_boards_free(&db);
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    }
    struct romfs_error e = { 0 };
    if (S_ISDIR(st.st_mode)) {
        result->packed = true;
        run_pack(input, opt, report, s, &image, &size, &failed, err);
    } else {
        code = romfs_read_file(input, &image, &size, &e);
        if (code != ROMFS_OK) {
            romfs_report_add_case(report, s, "read", ROMFS_REPORT_FAIL, NULL, "%s", e.msg);
            note_failure(err, &failed, "read", &e);
        }
    }

    struct romfs_image img;
    struct romfs_stats stats;
    memset(&stats, 0, sizeof stats);
    if (!image) {
        romfs_report_add_case(report, s, "structure", ROMFS_REPORT_SKIP, NULL, "no image to check");
    } else {
        result->image_size = size;
        romfs_sha256(image, size, result->sha256);
        char hex[2 * ROMFS_SHA256_SIZE + 1];
        romfs_sha256_hex(result->sha256, hex);
        romfs_report_add_property_u64(report, s, "size", size);
        romfs_report_add_property(report, s, "sha256", hex);
        code = romfs_image_open(&img, image, size, &e);
        if (code == ROMFS_OK)
            code = romfs_image_verify(&img, &stats, &e);
        if (code != ROMFS_OK) {
            romfs_report_add_case(report, s, "structure", ROMFS_REPORT_FAIL, NULL, "%s", e.msg);
            note_failure(err, &failed, "structure", &e);
        } else {
            result->files = stats.files;
            romfs_report_add_property_u64(report, s, "files", stats.files);
            romfs_report_add_property_u64(report, s, "dirs", stats.dirs);
            romfs_report_add_case(report, s, "structure", ROMFS_REPORT_PASS, NULL,
                                  "valid ROMFS image: %llu bytes, %llu file%s, %llu director%s",
                                  (unsigned long long)stats.image_size,
                                  (unsigned long long)stats.files, stats.files == 1 ? "" : "s",
                                  (unsigned long long)stats.dirs, stats.dirs == 1 ? "y" : "ies");
        }
        struct romfs_signature_info info;
        if (romfs_signature_find(image, size, &info, NULL) == ROMFS_OK && info.present) {
            char id[2 * ROMFS_SIG_KEY_ID_SIZE + 1];
            romfs_key_id_hex(info.key_id, id);
            romfs_report_add_property(report, s, "signed_by", id);
        }
    }
    if (opt->key_path) {
        if (!image) {
            romfs_report_add_case(report, s, "signature", ROMFS_REPORT_SKIP, NULL, "no image to check");
        } else {
            struct romfs_signature_info info;
            code = romfs_signature_check(image, size, NULL, opt->key_path, &info, &e);
            if (code != ROMFS_OK) {
                romfs_report_add_case(report, s, "signature", ROMFS_REPORT_FAIL, NULL, "%s", e.msg);
                note_failure(err, &failed, "signature", &e);
            } else {
                char id[2 * ROMFS_SIG_KEY_ID_SIZE + 1];
                romfs_key_id_hex(info.key_id, id);
                romfs_report_add_case(report, s, "signature", ROMFS_REPORT_PASS, NULL,
                                      "good %s signature by key %s over %zu bytes",
                                      romfs_sig_alg_name(info.algorithm), id, info.signed_size);
            }
        }
    }

    for (size_t i = 0; i < opt->n_boards; i++) {
        const struct romfs_board *b = romfs_boards_find(&db, opt->boards[i]);
        struct romfs_check_target t;
        code = romfs_check_target_from_board(b, opt->partition, &t, &e);
        if (code != ROMFS_OK || !image) {
            char name[200];
            snprintf(name, sizeof name, "%s partition %d", b->name, opt->partition);
            struct romfs_report_suite *bs = romfs_report_add_suite(report, name, input);
            if (!bs)
                break;
            if (code == ROMFS_OK)
                romfs_set_error(&e, ROMFS_ERR_MISMATCH, "no image to check (see the image suite)");
            romfs_report_add_case(report, bs, "partition", ROMFS_REPORT_FAIL, NULL, "%s", e.msg);
            note_failure(err, &failed, b->name, &e);
            continue;
        }
        struct romfs_check_result res;
        code = romfs_check_image(image, size, &t, opt->check, &res, &e);
        if (code != ROMFS_OK)
            note_failure(err, &failed, NULL, &e); /* e names board and partition */
        romfs_check_add_to_report(&res, input, report);
        romfs_check_result_free(&res);
    }
    free(image);
    romfs_boards_free(&db);
    romfs_report_count(report, &result->passed, &result->failed, &result->skipped);
    if (report->out_of_memory)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory building the report");
    if (result->failed > 0 || failed) {
        if (!failed)
            romfs_set_error(err, ROMFS_ERR_MISMATCH, "%zu checks failed", result->failed);
        if (err)
            err->code = ROMFS_ERR_MISMATCH;
        return ROMFS_ERR_MISMATCH;
    }
    return ROMFS_OK;
}
