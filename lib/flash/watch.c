/* flash/watch.c: romfs_flash_watch, the edit-save-run loop (see watch.h).
 *
 * One thread, one poll(2) over the directory watch and the serial port: what the module
 * prints is passed on while the next burst of saves is gathered. A round packs first,
 * with the module still running, so a tree that does not pack leaves it running; only
 * then is the module stopped (Ctrl-C, and its output read to the raw prompt), and the
 * image written over the same raw-REPL session. */
#include "flash/watch.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/cancel.h"
#include "base/clock.h"
#include "base/dirwatch.h"
#include "format/format.h"

#define DEBOUNCE_MS 100
#define STOP_MS 2000
#define MAX_SEEN 64          /* distinct changed paths remembered per burst */

struct watch {
    struct romfs_flash_job job;           /* the caller's, resetting always with a module */
    const struct romfs_watch_options *o;
    struct romfs_flash_link link;         /* open while link.ses */
    struct romfs_dirwatch *dw;
    uint8_t *last;                        /* the image written last */
    size_t last_len;
    bool running;                         /* the module runs on the board */
    bool prepared;                        /* the board, idle, got what the next write needs */
    bool raised;                          /* ... and has printed to its error stream */
    unsigned rounds;
    char *cache_rel;                      /* the mpy-cross cache, when inside DIR */
    bool cache_resolved;
    /* the burst being gathered: each path, and whether it came and went within it (an
       editor's temporary file, which counts for nothing) */
    struct seen {
        char *path;
        bool created, removed;
    } seen[MAX_SEEN];
    unsigned n_seen;
    char last_seen[PATH_MAX];
};

bool romfs_module_name_valid(const char *name)
{
    bool start = true;
    for (const char *p = name; *p; p++) {
        char c = *p;
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (c == '.' && !start) {
            start = true;
        } else if (alpha || (!start && c >= '0' && c <= '9')) {
            start = false;
        } else {
            return false;
        }
    }
    return *name && !start;
}

static struct romfs_repl *repl_of(struct watch *w)
{
    return romfs_repl_session_repl(w->link.ses);
}

static void close_link(struct watch *w)
{
    romfs_flash_link_close(&w->link);
    w->running = false;
}

/* ---- what the directory watch ignores ------------------------------------------------ */

/* The mpy-cross cache's path below DIR, when it is inside DIR: its writes are no edits.
 * (Looked up until the cache exists: the first pack may create it.) */
static void resolve_cache(struct watch *w)
{
    const char *cache = w->o->pack ? w->o->pack->mpy_cache : NULL;
    if (w->cache_resolved || !cache)
        return;
    char *d = realpath(w->o->dir, NULL), *c = realpath(cache, NULL);
    if (d && c) {
        size_t n = strlen(d);
        w->cache_resolved = true;
        if (strncmp(c, d, n) == 0 && c[n] == '/')
            w->cache_rel = strdup(c + n + 1);
    }
    free(d);
    free(c);
}

static bool ignored(void *ctx, const char *rel, bool is_dir)
{
    struct watch *w = ctx;
    (void)is_dir;
    static const struct romfs_pack_options defaults = { 0 };
    if (romfs_pack_excludes(w->o->pack ? w->o->pack : &defaults, rel))
        return true;
    resolve_cache(w);
    size_t n = w->cache_rel ? strlen(w->cache_rel) : 0;
    return n && strncmp(rel, w->cache_rel, n) == 0 && (rel[n] == '/' || rel[n] == 0);
}

/* ---- the module ------------------------------------------------------------------------ */

static void pass_output(void *ctx, int stream, const char *data, size_t len)
{
    struct watch *w = ctx;
    if (stream == 2)
        w->raised = true;
    if (w->o->on_output)
        w->o->on_output(w->o->ctx, stream, data, len);
}

/* After our own Ctrl-C: the module's last output still counts, its KeyboardInterrupt
   traceback does not. */
static void pass_stdout(void *ctx, int stream, const char *data, size_t len)
{
    struct watch *w = ctx;
    if (stream == 1 && w->o->on_output)
        w->o->on_output(w->o->ctx, stream, data, len);
}

/* Take in what the running module printed, waiting up to timeout_ms; report its end. */
static int take_output(struct watch *w, int timeout_ms, struct romfs_error *err)
{
    int rc = romfs_repl_stream(repl_of(w), timeout_ms, pass_output, w, err);
    if (rc == 0)
        return ROMFS_OK;
    if (rc == ROMFS_ERR_CANCELED)
        return rc;
    w->running = false;
    if (rc == 1)
        rc = w->raised ? ROMFS_ERR_DEVICE : ROMFS_OK;
    else
        close_link(w);   /* the board went away */
    if (w->o->on_run_end)
        w->o->on_run_end(w->o->ctx, w->o->run_module, rc, err);
    return rc == ROMFS_ERR_DEVICE ? ROMFS_OK : rc;
}

/* Stop the running module: Ctrl-C, then its output up to the raw prompt. A module that
 * does not stop (it catches KeyboardInterrupt, or the port polls its UART only between
 * programs) gets the full break-in; a board that still does not answer is let go. */
static int stop_module(struct watch *w, struct romfs_error *err)
{
    if (!w->running)
        return ROMFS_OK;
    struct romfs_repl *r = repl_of(w);
    int stop_ms = w->o->stop_ms > 0 ? w->o->stop_ms : STOP_MS;
    int rc = romfs_repl_write(r, "\x03", 1, err);
    double deadline = romfs_now_s() + 4.0 * stop_ms / 1000;
    while (rc == ROMFS_OK && romfs_now_s() < deadline) {
        rc = romfs_repl_stream(r, stop_ms, pass_stdout, w, err);
        if (rc == 1)
            break;
        if (rc == 0)   /* silent for stop_ms after Ctrl-C */
            rc = ROMFS_ERR_TIMEOUT;
    }
    if (rc == ROMFS_ERR_CANCELED)
        return rc;
    w->running = false;
    if (rc != 1 && romfs_repl_recover(r, err) != ROMFS_OK) {
        close_link(w);
        return romfs_error_prefix(err, "stopping %s", w->o->run_module);
    }
    return ROMFS_OK;
}

static int start_module(struct watch *w, struct romfs_error *err)
{
    char code[300];
    int n = snprintf(code, sizeof code, "import %s", w->o->run_module);
    w->raised = false;
    int rc = romfs_repl_exec_start(repl_of(w), code, (size_t)n, err);
    if (rc != ROMFS_OK)
        return romfs_error_prefix(err, "starting %s", w->o->run_module);
    w->running = true;
    return ROMFS_OK;
}

/* ---- the burst of changes ------------------------------------------------------------ */

static void forget_burst(struct watch *w)
{
    for (unsigned i = 0; i < w->n_seen; i++)
        free(w->seen[i].path);
    w->n_seen = 0;
    w->last_seen[0] = 0;
}

static void note_change(struct watch *w, const char *path, enum romfs_dirwatch_kind kind)
{
    unsigned i = 0;
    while (i < w->n_seen && strcmp(w->seen[i].path, path) != 0)
        i++;
    if (i == w->n_seen) {
        if (i == MAX_SEEN || !(w->seen[i].path = strdup(path)))
            return;   /* counted no more */
        w->seen[i].created = kind == ROMFS_DIRWATCH_CREATED;
        w->n_seen++;
    }
    w->seen[i].removed = kind == ROMFS_DIRWATCH_REMOVED;
}

/* The burst's changes that count (not those that came and went) for the round report. */
static void sum_burst(struct watch *w, unsigned *n)
{
    *n = 0;
    for (unsigned i = 0; i < w->n_seen; i++)
        if (!(w->seen[i].created && w->seen[i].removed)) {
            ++*n;
            snprintf(w->last_seen, sizeof w->last_seen, "%s", w->seen[i].path);
        }
}

/* ---- one round ------------------------------------------------------------------------- */

static int pack(struct watch *w, uint8_t **image, size_t *len, struct romfs_watch_round *r,
                struct romfs_error *err)
{
    static const struct romfs_pack_options defaults = { 0 };
    struct romfs_pack_options popt = w->o->pack ? *w->o->pack : defaults;
    struct stat st;
    if (!w->o->watch && stat(w->o->dir, &st) == 0 && !S_ISDIR(st.st_mode)) {   /* an image */
        bool packed;
        int rc = romfs_flash_load_input(w->o->dir, image, len, &packed, err);
        r->image_size = *len;
        return rc;
    }
    /* the image written last is what the board holds: laid out against it, unchanged
       files keep their offsets and fewer erase blocks change (image/stable.h) */
    if (w->last) {
        popt.base_image = w->last;
        popt.base_image_size = w->last_len;
    }
    struct romfs_pack_result res;
    double t0 = romfs_now_s();
    int rc = romfs_pack_dir(w->o->dir, NULL, &popt, &res, image, err);
    r->pack_seconds = romfs_now_s() - t0;
    if (rc == ROMFS_OK) {
        *len = (size_t)res.output_size;
        r->image_size = *len;
        r->compiled = res.compiled;
        r->mpy_cached = res.mpy_cached;
    }
    romfs_pack_result_free(&res);
    struct romfs_image img;
    if (rc == ROMFS_OK && ((rc = romfs_image_open(&img, *image, *len, err)) != ROMFS_OK ||
                           (rc = romfs_image_verify(&img, NULL, err)) != ROMFS_OK)) {
        free(*image);
        *image = NULL;
    }
    return rc == ROMFS_OK ? rc : romfs_error_prefix(err, "packing %s", w->o->dir);
}

static int fail(struct romfs_watch_round *r, const char *where, int rc, const struct romfs_error *err)
{
    r->rc = rc;
    r->err = err;
    r->failed_in = where;
    return rc;
}

/* One round; its outcome goes to on_round (not when the user is stopping everything). */
static int round_run(struct watch *w, double t_seen, struct romfs_error *err)
{
    struct romfs_watch_round r = { .number = ++w->rounds };
    if (r.number > 1) {
        sum_burst(w, &r.n_changed);
        r.changed = w->last_seen;
    }
    struct romfs_flash_job_result res;
    memset(&res, 0, sizeof res);
    uint8_t *image = NULL;
    size_t len = 0;
    int rc = pack(w, &image, &len, &r, err);
    if (rc != ROMFS_OK) {
        fail(&r, "pack", rc, err);
        r.still_running = w->running;
    }
    if (rc == ROMFS_OK && (rc = stop_module(w, err)) != ROMFS_OK)
        fail(&r, "run", rc, err);
    if (rc == ROMFS_OK && !w->o->run_module && w->last && len == w->last_len &&
        memcmp(image, w->last, len) == 0) {
        r.unchanged = true;
    } else if (rc == ROMFS_OK) {
        if (!w->link.ses && (rc = romfs_flash_link_open(&w->job, &w->link, err)) != ROMFS_OK)
            fail(&r, "connect", rc, err);
        if (rc == ROMFS_OK) {
            r.job = &res;
            w->job.expected = w->last;   /* checked on the device before it is trusted */
            w->job.expected_len = w->last_len;
            rc = romfs_flash_job_run_on(&w->job, &w->link, image, len, &res, err);
            w->prepared = false;   /* the soft reset forgot it */
            if (rc != ROMFS_OK) {
                fail(&r, "write", rc, err);
                close_link(w);   /* whatever state it is in, the next round starts afresh */
            }
        }
        if (rc == ROMFS_OK) {
            free(w->last);
            w->last = image;
            w->last_len = len;
            image = NULL;
        }
        if (rc == ROMFS_OK && w->o->run_module && (rc = start_module(w, err)) != ROMFS_OK) {
            fail(&r, "run", rc, err);
            close_link(w);
        }
        r.running = rc == ROMFS_OK && w->running;
    }
    free(image);
    r.seconds = romfs_now_s() - t_seen;
    if (!romfs_cancelled() && w->o->on_round)
        w->o->on_round(w->o->ctx, &r);
    return rc;
}

/* ---- waiting ------------------------------------------------------------------------------- */

/* Pass the module's output on until a burst of changes has come and gone quiet for the
 * debounce time (*t_seen: when its first change came), or until the module ended and
 * nothing is watched. */
static int wait_for_changes(struct watch *w, double *t_seen, struct romfs_error *err)
{
    int debounce = w->o->debounce_ms > 0 ? w->o->debounce_ms : DEBOUNCE_MS;
    double last = 0;
    bool seen = false;
    forget_burst(w);
    for (;;) {
        if (romfs_cancelled())
            return romfs_set_error(err, ROMFS_ERR_CANCELED, "interrupted");
        if (!w->dw && !w->running)
            return ROMFS_OK;
        if (w->dw && w->link.ses && !w->running && !w->prepared && !seen) {
            /* the board is idle (the module ended, or none runs): what the next write
               needs goes now, not after the next save */
            struct romfs_error e = { 0 };
            w->prepared = true;
            int rc = romfs_repl_session_prepare(w->link.ses, w->job.repl.transfer, &e);
            if (rc == ROMFS_ERR_CANCELED)
                return romfs_set_error(err, rc, "interrupted");
            if (rc != ROMFS_OK)
                close_link(w);   /* the next round connects afresh, and says what is wrong */
            continue;
        }
        /* output already buffered is taken first, but a module that never stops printing
           must not keep the changes (or the end of the burst) from being seen */
        bool buffered = w->running && romfs_repl_input_waiting(repl_of(w));
        if (buffered) {
            int rc = take_output(w, 0, err);
            if (rc != ROMFS_OK && (!w->o->watch || rc == ROMFS_ERR_CANCELED))
                return rc;   /* (watching, a board gone is reported; the next change reconnects) */
            if (!w->running)
                continue;
        }
        struct pollfd p[2];
        int n = 0;
        if (w->dw)
            p[n++] = (struct pollfd){ .fd = romfs_dirwatch_fd(w->dw), .events = POLLIN };
        if (w->running)
            p[n++] = (struct pollfd){ .fd = romfs_serial_poll_fd(w->link.serial), .events = POLLIN };
        int timeout = -1;
        if (seen) {
            timeout = (int)((last + debounce / 1000.0 - romfs_now_s()) * 1000) + 1;
            if (timeout <= 0)
                return ROMFS_OK;
        }
        if (buffered)
            timeout = 0;
        int k = poll(p, (nfds_t)n, timeout);
        if (k < 0 && errno != EINTR)
            return romfs_set_errno(err, ROMFS_ERR_IO, errno, "waiting for changes in %s", w->o->dir);
        if (k <= 0)
            continue;
        if (w->dw && p[0].revents) {
            char path[PATH_MAX];
            enum romfs_dirwatch_kind kind;
            int rc;
            while ((rc = romfs_dirwatch_next(w->dw, path, sizeof path, &kind, err)) == 1) {
                if (!seen)
                    *t_seen = romfs_now_s();
                seen = true;
                last = romfs_now_s();
                note_change(w, path, kind);
            }
            if (rc < 0)
                return rc;
        }
        if (w->running && p[n - 1].revents) {
            int rc = take_output(w, 0, err);
            if (rc != ROMFS_OK && (!w->o->watch || rc == ROMFS_ERR_CANCELED))
                return rc;
        }
    }
}

/* ---- the loop -------------------------------------------------------------------------- */

int romfs_flash_watch(const struct romfs_flash_job *job, const struct romfs_watch_options *o,
                      struct romfs_error *err)
{
    if (job->via != ROMFS_VIA_REPL)
        return romfs_set_error(err, ROMFS_ERR_INVAL, "watching and running a module work over "
                               "the REPL only");
    if (o->run_module && !romfs_module_name_valid(o->run_module))
        return romfs_set_error(err, ROMFS_ERR_INVAL, "'%s' is not a module name (such as main "
                               "or app.main)", o->run_module);
    struct watch w = { .job = *job, .o = o };
    if (o->run_module)
        w.job.repl.always_reset = true;
    double t0 = romfs_now_s();
    int rc = ROMFS_OK;
    if (o->watch)
        rc = romfs_dirwatch_open(o->dir, ignored, &w, &w.dw, err);
    if (rc == ROMFS_OK) {
        rc = round_run(&w, t0, err);
        if (o->watch && rc != ROMFS_ERR_CANCELED)
            rc = ROMFS_OK;   /* a failed round: the next change tries again */
    }
    int module_rc = ROMFS_OK;
    while (rc == ROMFS_OK) {
        double t_seen = romfs_now_s();
        rc = wait_for_changes(&w, &t_seen, err);
        if (rc != ROMFS_OK || !o->watch)
            break;
        rc = round_run(&w, t_seen, err);
        if (rc != ROMFS_ERR_CANCELED)
            rc = ROMFS_OK;
    }
    if (rc == ROMFS_OK && !o->watch && w.raised)
        module_rc = romfs_set_error(err, ROMFS_ERR_DEVICE, "%s raised an exception", o->run_module);
    if (romfs_cancelled() && rc == ROMFS_OK)
        rc = romfs_set_error(err, ROMFS_ERR_CANCELED, "interrupted");
    if (w.running)   /* stopping everything: Ctrl-C, and the session's Ctrl-B follows */
        romfs_repl_write(repl_of(&w), "\x03", 1, NULL);
    close_link(&w);
    romfs_dirwatch_close(w.dw);
    forget_burst(&w);
    free(w.last);
    free(w.cache_rel);
    return rc != ROMFS_OK ? rc : module_rc;
}
