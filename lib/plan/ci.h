/* plan/ci.h: one CI run over a directory or an image (for `romfs ci`).
 *
 * Steps, each recorded as report cases (plan/report.h, so every --format of
 * `romfs check` works unchanged):
 *   suite "image" (file = the input):
 *     pack          DIR only: romfs_pack_dir into memory with the given options
 *     reproducible  DIR only: a second pack of the same tree gives the same bytes
 *     sign          DIR only, with sign_key: the packed image is signed
 *     structure     romfs_image_verify (strict)
 *     signature     with key: romfs_signature_verify against the public key
 *   one suite per board ("BOARD partition N", from romfs_check_add_to_report):
 *     structure, fits, erase, write, alignment, mmap (plan/check.h)
 * Later steps that cannot run (no image after a failed pack) are recorded as skipped
 * for the image suite and failed for each board, so a broken build never passes. */
#ifndef ROMFS_CI_H
#define ROMFS_CI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan/check.h"
#include "base/digest.h"
#include "base/error.h"
#include "image/pack.h"
#include "plan/report.h"

struct romfs_ci_options {
    const char *const *boards;      /* board names to check against (may be 0 of them) */
    size_t n_boards;
    int partition;                  /* partition index on every board (usually 0) */
    const char *boards_path;        /* boards.json; NULL: $ROMFS_BOARDS or the built-in one */
    const char *key_path;           /* public key (or pair): require a good signature; or NULL */
    const char *sign_key_path;      /* DIR input: sign the packed image with this private key */
    const struct romfs_pack_options *pack;   /* DIR input; NULL: defaults */
    const struct romfs_check_options *check; /* NULL: defaults */
    bool check_reproducible;        /* DIR input: pack twice and compare (default in CLI) */
    const char *image_out;          /* DIR input: also write the packed (signed) image here,
                                       through a temporary file and rename; or NULL */
};

struct romfs_ci_result {
    bool packed;                    /* the input was a directory */
    uint64_t image_size;            /* bytes of the image checked (0 when there is none) */
    uint8_t sha256[ROMFS_SHA256_SIZE]; /* of those bytes */
    uint64_t files;
    size_t passed, failed, skipped; /* report cases */
};

/* Run every step on `input` (a directory or an image file) into `report` (initialised by
 * the caller with romfs_report_init). Returns ROMFS_OK when no case failed,
 * ROMFS_ERR_MISMATCH when some did (the report says which; err holds the first
 * failure), or before any step: ROMFS_ERR_NOENT for a missing input or an unknown board
 * (err names it and nothing is reported), ROMFS_ERR_CORRUPT for a bad boards.json,
 * ROMFS_ERR_NOMEM. */
int romfs_ci_run(const char *input, const struct romfs_ci_options *opt,
                 struct romfs_report *report, struct romfs_ci_result *result,
                 struct romfs_error *err);

#endif
