/* flash.c: romfs_flash_image(), the one writer behind every flash target.
 *
 * Steps: hash the image per erase block (tail padded with 0xff, as erased flash reads);
 * ask the target for its per-block hashes (one round trip with hash_blocks, else read
 * and hash); pick the blocks that differ (all with opt->full). If any block changes,
 * block 0 joins the set and the order is torn-write safe:
 *   1. erase block 0            -> the old header is gone, nothing mounts
 *   2. erase + program every other changed block, in runs
 *   3. verify those blocks      -> a mismatch stops here, block 0 still erased
 *   4. program block 0 but its first write unit, verify it with that unit still erased
 *      (no header yet), then program the first unit, sync, verify block 0; if only that
 *      last check fails, erase block 0 again so the bad block never mounts
 * A cut anywhere before 4 completes leaves no ROMFS header; a re-run finds the blocks
 * already written equal and writes only the rest plus block 0. */
#include "flash/flash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/digest.h"

/* Erase calls cover at most this many bytes (or one block if blocks are larger), so a
 * slow device never sits in one long erase past a transport timeout. */
#define ERASE_RUN_MAX (64u * 1024u)

struct writer {
    struct romfs_target *t;
    const struct romfs_flash_options *opt;
    const uint8_t *padded;      /* image, 0xff to the end of its last block */
    uint64_t nblocks;
    uint64_t prog_len;          /* image length rounded up to write_size */
    uint64_t total_work;        /* bytes to program, for progress */
    uint64_t done_work;
};

static void progress(struct writer *w, const char *phase, uint64_t done, uint64_t total)
{
    if (w->opt && w->opt->progress)
        w->opt->progress(w->opt->progress_ctx, phase, done, total);
}

static bool is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

/* Device hashes of blocks [first, first+count) into out; via hash_blocks or read. */
static int device_hashes(struct writer *w, uint64_t first, uint64_t count, uint8_t (*out)[32],
                         const char *phase, struct romfs_error *err)
{
    struct romfs_target *t = w->t;
    uint64_t bs = t->erase_size;
    if (t->hash_blocks) {
        progress(w, phase, 0, count * bs);
        int rc = t->hash_blocks(t->ctx, first * bs, count * bs, out, err);
        if (rc == ROMFS_OK)
            progress(w, phase, count * bs, count * bs);
        return rc;
    }
    if (!t->read)
        return romfs_set_error(err, ROMFS_ERR_UNSUPPORTED,
                               "%s target can neither read nor hash its flash", t->name);
    size_t chunk = t->max_transfer ? t->max_transfer : t->erase_size;
    if (chunk > bs)
        chunk = bs;
    uint8_t *buf = malloc(chunk);
    if (!buf)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    for (uint64_t b = 0; b < count; b++) {
        struct romfs_sha256 sha;
        romfs_sha256_init(&sha);
        for (uint64_t off = 0; off < bs; off += chunk) {
            int rc = t->read(t->ctx, (first + b) * bs + off, buf, chunk, err);
            if (rc != ROMFS_OK) {
                romfs_sha256_final(&sha, out[b]);
                free(buf);
                return rc;
            }
            romfs_sha256_update(&sha, buf, chunk);
        }
        romfs_sha256_final(&sha, out[b]);
        progress(w, phase, (b + 1) * bs, count * bs);
    }
    free(buf);
    return ROMFS_OK;
}

/* Whether the device's whole image range hashes as the image does: one short answer for
 * the common re-run that changes nothing. *rc is set when asking failed; theirs receives
 * the device's hash. */
static bool range_unchanged(struct writer *w, uint8_t theirs[32], int *rc, struct romfs_error *err)
{
    uint64_t len = w->nblocks * w->t->erase_size;
    uint8_t mine[32];
    progress(w, "compare", 0, len);
    *rc = w->t->hash_range(w->t->ctx, 0, len, theirs, err);
    if (*rc != ROMFS_OK) {
        romfs_error_prefix(err, "%s: reading what the partition holds", w->t->name);
        return false;
    }
    romfs_sha256(w->padded, len, mine);
    if (memcmp(mine, theirs, 32) != 0)
        return false;
    progress(w, "compare", len, len);
    return true;
}

/* When the device's hash of the image range (theirs) is that of what the caller expects
 * there, the expected bytes' block hashes into dev: no block hash travels. */
static bool expected_hashes(struct writer *w, const uint8_t theirs[32], uint8_t (*dev)[32])
{
    const struct romfs_flash_options *o = w->opt;
    uint64_t bs = w->t->erase_size, len = w->nblocks * bs;
    if (!o || !o->expected)
        return false;
    uint8_t *exp = malloc(len), sum[32];
    if (!exp)
        return false;
    size_t n = o->expected_len < len ? o->expected_len : (size_t)len;
    memcpy(exp, o->expected, n);
    memset(exp + n, 0xff, len - n);
    romfs_sha256(exp, len, sum);
    bool same = memcmp(sum, theirs, 32) == 0;
    for (uint64_t b = 0; same && b < w->nblocks; b++)
        romfs_sha256(exp + b * bs, bs, dev[b]);
    free(exp);
    if (same)
        progress(w, "compare", len, len);
    return same;
}

/* Program image bytes [start, end) in max_transfer pieces. */
static int program_range(struct writer *w, uint64_t start, uint64_t end, struct romfs_error *err)
{
    struct romfs_target *t = w->t;
    size_t piece = t->max_transfer ? t->max_transfer : t->erase_size;
    for (uint64_t off = start; off < end; off += piece) {
        size_t n = (size_t)(end - off < piece ? end - off : piece);
        int rc = t->prog(t->ctx, off, w->padded + off, n, err);
        if (rc != ROMFS_OK)
            return romfs_error_prefix(err, "%s: writing at offset 0x%llx", t->name,
                                      (unsigned long long)off);
        w->done_work += n;
        progress(w, "write", w->done_work, w->total_work);
    }
    return ROMFS_OK;
}

/* Program the image bytes of block b (up to prog_len). Block 0 is programmed from its
 * second write unit on, and its first unit (which holds the header) after that: a cut
 * inside block 0's programming leaves no header in front of a half-written block. */
static int program_block(struct writer *w, uint64_t b, struct romfs_error *err)
{
    uint64_t start = b * w->t->erase_size, end = start + w->t->erase_size;
    if (end > w->prog_len)
        end = w->prog_len;
    if (b != 0 || end <= w->t->write_size)
        return program_range(w, start, end, err);
    int rc = program_range(w, w->t->write_size, end, err);
    return rc != ROMFS_OK ? rc : program_range(w, 0, w->t->write_size, err);
}

static int erase_run(struct writer *w, uint64_t first, uint64_t count, struct romfs_error *err)
{
    struct romfs_target *t = w->t;
    uint64_t bs = t->erase_size;
    uint64_t per_call = ERASE_RUN_MAX / bs ? ERASE_RUN_MAX / bs : 1;
    for (uint64_t b = first; b < first + count; b += per_call) {
        uint64_t n = first + count - b < per_call ? first + count - b : per_call;
        int rc = t->erase(t->ctx, b * bs, n * bs, err);
        if (rc != ROMFS_OK)
            return romfs_error_prefix(err, "%s: erasing at offset 0x%llx", t->name,
                                      (unsigned long long)(b * bs));
    }
    return ROMFS_OK;
}

/* Compare device hashes of blocks [first, first+count) that are marked in `want` with the
 * host's; ROMFS_ERR_MISMATCH naming the first differing block. */
static int verify_blocks(struct writer *w, uint64_t first, uint64_t count, const bool *want,
                         uint8_t (*host)[32], struct romfs_error *err)
{
    uint8_t (*dev)[32] = malloc(count * 32);
    if (!dev)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    int rc = device_hashes(w, first, count, dev, "verify", err);
    for (uint64_t i = 0; rc == ROMFS_OK && i < count; i++) {
        if (want[first + i] && memcmp(dev[i], host[first + i], 32) != 0)
            rc = romfs_set_error(err, ROMFS_ERR_MISMATCH,
                                 "%s: verification failed: erase block %llu (offset 0x%llx) "
                                 "differs from the image after writing",
                                 w->t->name, (unsigned long long)(first + i),
                                 (unsigned long long)((first + i) * w->t->erase_size));
    }
    free(dev);
    return rc;
}

/* Block 0 as programmed so far: everything but its first write unit, which is still
 * erased. A mismatch here is caught while the partition holds no header. */
static int verify_headless_block0(struct writer *w, struct romfs_error *err)
{
    uint64_t bs = w->t->erase_size;
    uint8_t *expect = malloc(bs);
    uint8_t want[32], (*dev)[32] = malloc(32);
    int rc = expect && dev ? ROMFS_OK : romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    if (rc == ROMFS_OK) {
        memcpy(expect, w->padded, bs);
        memset(expect, 0xff, w->t->write_size);
        romfs_sha256(expect, bs, want);
        rc = device_hashes(w, 0, 1, dev, "verify", err);
    }
    if (rc == ROMFS_OK && memcmp(dev[0], want, 32) != 0)
        rc = romfs_set_error(err, ROMFS_ERR_MISMATCH,
                             "%s: verification failed: erase block 0 (offset 0x0) differs from the "
                             "image after writing (the header was not written, so nothing mounts)",
                             w->t->name);
    free(expect);
    free(dev);
    return rc;
}

static int check_target(const struct romfs_target *t, size_t len, struct romfs_error *err)
{
    if (!t->erase || !t->prog)
        return romfs_set_error(err, ROMFS_ERR_INVAL, "%s target cannot erase or program", t->name);
    if (!is_pow2(t->erase_size) || !is_pow2(t->write_size) || t->write_size > t->erase_size)
        return romfs_set_error(err, ROMFS_ERR_INVAL,
                               "%s target has a bad geometry: erase size %u, write size %u",
                               t->name, t->erase_size, t->write_size);
    if (t->size % t->erase_size)
        return romfs_set_error(err, ROMFS_ERR_INVAL,
                               "%s target: partition size %llu is not a multiple of the erase "
                               "size %u", t->name, (unsigned long long)t->size, t->erase_size);
    if (t->max_transfer && t->max_transfer % t->write_size)
        return romfs_set_error(err, ROMFS_ERR_INVAL,
                               "%s target: max transfer %u is not a multiple of the write size %u",
                               t->name, t->max_transfer, t->write_size);
    if (len > t->size)
        return romfs_set_error(err, ROMFS_ERR_FBIG,
                               "image of %zu bytes does not fit the %s partition of %llu bytes",
                               len, t->name, (unsigned long long)t->size);
    if (len == 0)
        return romfs_set_error(err, ROMFS_ERR_INVAL, "empty image");
    return ROMFS_OK;
}

int romfs_flash_image(struct romfs_target *t, const uint8_t *image, size_t len,
                      const struct romfs_flash_options *opt, struct romfs_flash_report *report,
                      struct romfs_error *err)
{
    struct romfs_flash_report local = { 0 };
    if (!report)
        report = &local;
    memset(report, 0, sizeof *report);
    report->image_size = len;
    int rc = check_target(t, len, err);
    if (rc != ROMFS_OK)
        return rc;

    uint64_t bs = t->erase_size;
    struct writer w = { .t = t, .opt = opt };
    w.nblocks = (len + bs - 1) / bs;
    w.prog_len = (len + t->write_size - 1) / t->write_size * t->write_size;
    report->blocks_in_image = w.nblocks;

    uint8_t *padded = malloc(w.nblocks * bs);
    uint8_t (*host)[32] = malloc(w.nblocks * 32);
    uint8_t (*dev)[32] = malloc(w.nblocks * 32);
    bool *changed = calloc(w.nblocks, sizeof *changed);
    if (!padded || !host || !dev || !changed) {
        rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
        goto out;
    }
    memcpy(padded, image, len);
    memset(padded + len, 0xff, w.nblocks * bs - len);
    w.padded = padded;
    for (uint64_t b = 0; b < w.nblocks; b++)
        romfs_sha256(padded + b * bs, bs, host[b]);

    uint8_t theirs[32];   /* the device's hash of the image range, when asked */
    bool full = opt && opt->full;
    bool no_verify = opt && opt->no_verify;
    uint64_t n_changed = 0;
    if (full) {
        for (uint64_t b = 0; b < w.nblocks; b++)
            changed[b] = true;
        n_changed = w.nblocks;
    } else if (t->hash_range && range_unchanged(&w, theirs, &rc, err)) {
        n_changed = 0;
    } else if (rc == ROMFS_OK) {
        if (!t->hash_range || !expected_hashes(&w, theirs, dev))
            rc = device_hashes(&w, 0, w.nblocks, dev, "compare", err);
        if (rc != ROMFS_OK) {
            romfs_error_prefix(err, "%s: reading what the partition holds", t->name);
            goto out;
        }
        for (uint64_t b = 0; b < w.nblocks; b++)
            if (memcmp(dev[b], host[b], 32) != 0) {
                changed[b] = true;
                n_changed++;
            }
        if (n_changed && !changed[0]) {
            changed[0] = true;  /* the header is invalidated first, rewritten last */
            n_changed++;
        }
    }
    if (rc != ROMFS_OK)
        goto out;
    if (n_changed == 0) {
        report->verified = true;  /* every block's device hash equals the image's */
        goto out;
    }
    uint64_t prefix = 0;  /* erase_from_start: the blocks the one erase covers */
    if (t->erase_from_start) {
        /* the device erases only [0, len): every block up to the last changed one is
           erased, so every one of them is rewritten */
        prefix = w.nblocks;
        while (prefix > 1 && !changed[prefix - 1])
            prefix--;
        for (uint64_t b = 0; b < prefix; b++)
            if (!changed[b]) {
                changed[b] = true;
                n_changed++;
            }
    }
    for (uint64_t b = 0; b < w.nblocks; b++)
        if (changed[b]) {
            uint64_t end = (b + 1) * bs < w.prog_len ? (b + 1) * bs : w.prog_len;
            w.total_work += end - b * bs;
        }

    /* 1. The old header goes first (with an erase-from-start device, all it erases). */
    progress(&w, "erase", 0, n_changed * bs);
    report->erased = true;
    if (t->erase_from_start) {
        rc = t->erase(t->ctx, 0, prefix * bs, err);
        if (rc != ROMFS_OK)
            romfs_error_prefix(err, "%s: erasing 0x0..0x%llx", t->name, (unsigned long long)(prefix * bs));
    } else {
        rc = erase_run(&w, 0, 1, err);
    }
    if (rc != ROMFS_OK)
        goto out;
    /* 2. Every other changed block, erased and programmed run by run. */
    uint64_t erased = 1;
    for (uint64_t b = 1; b < w.nblocks;) {
        if (!changed[b]) {
            b++;
            continue;
        }
        uint64_t run = 1;
        while (b + run < w.nblocks && changed[b + run] && run * bs < ERASE_RUN_MAX)
            run++;
        rc = t->erase_from_start ? ROMFS_OK : erase_run(&w, b, run, err);
        if (rc != ROMFS_OK)
            goto out;
        erased += run;
        progress(&w, "erase", erased * bs, n_changed * bs);
        for (uint64_t i = b; i < b + run; i++) {
            rc = program_block(&w, i, err);
            if (rc != ROMFS_OK)
                goto out;
            report->blocks_written++;
        }
        b += run;
    }
    report->bytes_programmed = w.done_work;
    /* 3. Verify the body before the header makes it mountable. */
    if (!no_verify && w.nblocks > 1) {
        uint64_t first = 1;
        while (first < w.nblocks && !changed[first])
            first++;
        uint64_t last = w.nblocks;
        while (last > first && !changed[last - 1])
            last--;
        if (last > first) {
            rc = verify_blocks(&w, first, last - first, changed, host, err);
            if (rc != ROMFS_OK)
                goto out;
        }
    }
    /* 4. The header block last: all of it but the first write unit, verified with that
     *    unit still erased (no header, so nothing mounts if it is bad), then the header. */
    if (!no_verify && w.prog_len > t->write_size) {
        uint64_t end = bs < w.prog_len ? bs : w.prog_len;
        rc = program_range(&w, t->write_size, end, err);
        if (rc == ROMFS_OK)
            rc = verify_headless_block0(&w, err);
        if (rc == ROMFS_OK)
            rc = program_range(&w, 0, t->write_size, err);
    } else {
        rc = program_block(&w, 0, err);
    }
    if (rc != ROMFS_OK)
        goto out;
    report->blocks_written++;
    report->bytes_programmed = w.done_work;
    if (t->sync) {
        rc = t->sync(t->ctx, err);
        if (rc != ROMFS_OK) {
            romfs_error_prefix(err, "%s: finishing the write", t->name);
            goto out;
        }
    }
    if (!no_verify) {
        rc = verify_blocks(&w, 0, 1, changed, host, err);
        if (rc != ROMFS_OK) {
            /* the header is in place over bad data: take it away again (best effort) */
            struct romfs_error ignored = { 0 };
            if (t->erase(t->ctx, 0, bs, &ignored) == ROMFS_OK && t->sync)
                t->sync(t->ctx, &ignored);
            goto out;
        }
        report->verified = true;
    }
out:
    free(padded);
    free(host);
    free(dev);
    free(changed);
    return rc;
}
