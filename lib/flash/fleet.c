/* flash/fleet.c: many boards at once (a thread per board) and the production loop.
 *
 * Each thread runs romfs_flash_job_run() on its own copy of the job with its own port; it
 * shares only the image (read-only) and the progress lock. Everything a REPL job calls is
 * reentrant: no static buffers, strtok_r/strerror_r, per-session state, per-call hashes. */
#include "flash/fleet.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "plan/check.h"
#include "transport/serial.h"

int romfs_fleet_usb_ids(const struct romfs_board *board, struct romfs_usb_id **ids, size_t *n,
                        struct romfs_error *err)
{
    size_t common = 0;
    while (romfs_micropython_usb_ids[common].what)
        common++;
    *ids = calloc(common + 1, sizeof **ids);
    *n = 0;
    if (!*ids)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    if (board && board->repl_usb) {
        if (!romfs_usb_id_parse(board->repl_usb, &(*ids)[0])) {
            free(*ids);
            *ids = NULL;
            return romfs_set_error(err, ROMFS_ERR_CORRUPT, "board %s: bad repl usb id '%s' "
                                   "(want VID:PID)", board->name, board->repl_usb);
        }
        (*ids)[0].what = board->name;
        *n = 1;
        return ROMFS_OK;
    }
    memcpy(*ids, romfs_micropython_usb_ids, common * sizeof **ids);
    *n = common;
    return ROMFS_OK;
}

int romfs_fleet_find(const struct romfs_board *board, struct romfs_fleet_board **boards,
                     size_t *n, struct romfs_error *err)
{
    *boards = NULL;
    *n = 0;
    struct romfs_usb_id *ids;
    size_t n_ids;
    int rc = romfs_fleet_usb_ids(board, &ids, &n_ids, err);
    if (rc != ROMFS_OK)
        return rc;
    struct romfs_port_info *ports = NULL;
    size_t n_ports = 0;
    rc = romfs_serial_list(ids, n_ids, &ports, &n_ports, err);
    if (rc == ROMFS_OK && n_ports == 0) {
        char what[64] = "MicroPython's USB ids";
        if (board && board->repl_usb)
            snprintf(what, sizeof what, "%s's USB id %s", board->name, board->repl_usb);
        rc = romfs_set_error_need(err, ROMFS_ERR_DEVICE, ROMFS_NEED_PORT,
                                  "no board found on USB (looked for %s)", what);
    }
    if (rc == ROMFS_OK && !(*boards = calloc(n_ports, sizeof **boards)))
        rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    for (size_t i = 0; rc == ROMFS_OK && i < n_ports; i++) {
        (*boards)[i].index = i;
        snprintf((*boards)[i].port, sizeof (*boards)[i].port, "%s", ports[i].path);
        snprintf((*boards)[i].serial_number, sizeof (*boards)[i].serial_number, "%s",
                 ports[i].serial_number);
    }
    if (rc == ROMFS_OK)
        *n = n_ports;
    free(ports);
    free(ids);
    return rc;
}

int romfs_fleet_boards_for_ports(const char *const *ports, size_t n,
                                 struct romfs_fleet_board **boards, struct romfs_error *err)
{
    *boards = calloc(n ? n : 1, sizeof **boards);
    if (!*boards)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    struct romfs_port_info *usb = NULL;
    size_t n_usb = 0;
    struct romfs_error ignored = { 0 };
    romfs_serial_list(NULL, 0, &usb, &n_usb, &ignored);  /* no USB list: no serial numbers */
    for (size_t i = 0; i < n; i++) {
        struct romfs_fleet_board *b = &(*boards)[i];
        b->index = i;
        snprintf(b->port, sizeof b->port, "%s", ports[i]);
        for (size_t k = 0; k < n_usb; k++)
            if (strcmp(usb[k].path, ports[i]) == 0)
                snprintf(b->serial_number, sizeof b->serial_number, "%s", usb[k].serial_number);
        for (size_t k = 0; k < i; k++)
            if (strcmp((*boards)[k].port, b->port) == 0) {
                int rc = romfs_set_error(err, ROMFS_ERR_INVAL, "port %s is given twice", b->port);
                free(usb);
                free(*boards);
                *boards = NULL;
                return rc;
            }
    }
    free(usb);
    return ROMFS_OK;
}

/* The image against the board's partition, once before any board is opened (each job
   checks again, which costs nothing next to a write, and keeps the job self-contained). */
static int check_board_once(const struct romfs_flash_job *job, const uint8_t *image, size_t len,
                            struct romfs_error *err)
{
    if (job->via != ROMFS_VIA_REPL)
        return romfs_set_error(err, ROMFS_ERR_INVAL, "several boards at once are written over "
                               "the REPL only, not over %s", romfs_via_name(job->via));
    if (!job->board)
        return ROMFS_OK;
    struct romfs_check_target target;
    struct romfs_check_result check;
    int rc = romfs_check_target_from_board(job->board, job->partition, &target, err);
    if (rc == ROMFS_OK) {
        rc = romfs_check_image(image, len, &target, NULL, &check, err);
        romfs_check_result_free(&check);
    }
    return rc;
}

/* ---- one board's thread -------------------------------------------------------------- */

struct shared {
    const struct romfs_flash_job *job;
    const uint8_t *image;
    size_t len;
    romfs_fleet_progress_fn progress;
    void *ctx;
    pthread_mutex_t lock;   /* around progress calls */
};

struct worker {
    struct shared *sh;
    struct romfs_fleet_board *board;
    pthread_t thread;
    bool running;           /* a thread was started (and must be joined) */
    atomic_bool done;       /* the thread has finished its job */
};

static void worker_progress(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    struct worker *w = ctx;
    pthread_mutex_lock(&w->sh->lock);
    w->sh->progress(w->sh->ctx, w->board->index, phase, done, total);
    pthread_mutex_unlock(&w->sh->lock);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct romfs_fleet_board *b = w->board;
    struct romfs_flash_job job = *w->sh->job;
    job.repl.port = b->port;
    job.progress = w->sh->progress ? worker_progress : NULL;
    job.progress_ctx = w;
    memset(&b->err, 0, sizeof b->err);
    double t0 = romfs_now_s();
    b->rc = romfs_flash_job_run(&job, w->sh->image, w->sh->len, &b->result, &b->err);
    b->seconds = romfs_now_s() - t0;
    atomic_store(&w->done, true);
    return NULL;
}

static int worker_start(struct worker *w, struct romfs_error *err)
{
    atomic_init(&w->done, false);
    int e = pthread_create(&w->thread, NULL, worker_main, w);
    if (e != 0) {
        w->board->rc = romfs_set_errno(&w->board->err, ROMFS_ERR_IO, e, "cannot start a "
                                       "thread for %s", w->board->port);
        if (err)
            *err = w->board->err;
        return w->board->rc;
    }
    w->running = true;
    return ROMFS_OK;
}

static void worker_join(struct worker *w)
{
    if (w->running)
        pthread_join(w->thread, NULL);
    w->running = false;
}

int romfs_fleet_run(const struct romfs_flash_job *job, const uint8_t *image, size_t len,
                    struct romfs_fleet_board *boards, size_t n, romfs_fleet_progress_fn progress,
                    void *ctx, struct romfs_error *err)
{
    int rc = check_board_once(job, image, len, err);
    if (rc != ROMFS_OK)
        return rc;
    struct shared sh = { .job = job, .image = image, .len = len, .progress = progress, .ctx = ctx };
    struct worker *w = calloc(n ? n : 1, sizeof *w);
    if (!w)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&sh.lock, NULL);
    int start_rc = ROMFS_OK;
    for (size_t i = 0; i < n; i++) {
        boards[i].index = i;
        boards[i].rc = ROMFS_OK;
        w[i].sh = &sh;
        w[i].board = &boards[i];
        if (start_rc == ROMFS_OK)
            start_rc = worker_start(&w[i], NULL);
        else   /* out of threads: the rest fail with the same error, none is left unsaid */
            boards[i].rc = romfs_set_error(&boards[i].err, start_rc, "not started: %s",
                                           boards[i - 1].err.msg);
    }
    for (size_t i = 0; i < n; i++)
        worker_join(&w[i]);
    pthread_mutex_destroy(&sh.lock);
    free(w);

    size_t failed = 0, used = 0;
    char list[ROMFS_ERROR_MSG_MAX / 2] = "";
    for (size_t i = 0; i < n; i++) {
        if (boards[i].rc == ROMFS_OK)
            continue;
        failed++;
        if (used < sizeof list) {
            int k = snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "",
                             boards[i].port);
            if (k > 0)
                used += (size_t)k;
        }
    }
    if (failed)
        return romfs_set_error(err, ROMFS_ERR_DEVICE, "%zu of %zu boards failed: %s", failed, n,
                               list);
    return ROMFS_OK;
}

/* ---- the production loop ------------------------------------------------------------ */

/* A board the loop knows: being written, or written and still connected. */
struct slot {
    struct romfs_fleet_board board;
    struct worker w;
    bool finished;           /* reported; waits for the board to go away */
    bool present;            /* seen in the latest scan */
};

struct seen {
    char port[256];
    char serial_number[128];
};

/* Whether a job is writing on port now. */
static bool busy(struct slot *const *slots, size_t n_slots, const char *port)
{
    for (size_t i = 0; i < n_slots; i++)
        if (!slots[i]->finished && strcmp(slots[i]->board.port, port) == 0)
            return true;
    return false;
}

/* The boards present now: the USB scan, or those of the fixed ports that are reachable
   (a port being written is present without a look: a second connection to a network
   server would disturb it). */
static int scan(const struct romfs_loop_options *o, struct slot *const *slots, size_t n_slots,
                struct seen **out, size_t *n, struct romfs_error *err)
{
    *out = NULL;
    *n = 0;
    if (o->n_ports) {
        *out = calloc(o->n_ports, sizeof **out);
        if (!*out)
            return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < o->n_ports; i++) {
            if (!busy(slots, n_slots, o->ports[i]) && !romfs_serial_reachable(o->ports[i], 500))
                continue;
            snprintf((*out)[*n].port, sizeof (*out)[*n].port, "%s", o->ports[i]);
            (*n)++;
        }
        return ROMFS_OK;
    }
    struct romfs_port_info *ports;
    size_t np;
    int rc = romfs_serial_list(o->ids, o->n_ids, &ports, &np, err);
    if (rc != ROMFS_OK)
        return rc;
    *out = calloc(np ? np : 1, sizeof **out);
    if (!*out) {
        free(ports);
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < np; i++) {
        snprintf((*out)[i].port, sizeof (*out)[i].port, "%s", ports[i].path);
        snprintf((*out)[i].serial_number, sizeof (*out)[i].serial_number, "%s",
                 ports[i].serial_number);
    }
    *n = np;
    free(ports);
    return ROMFS_OK;
}

static bool same_board(const struct slot *s, const struct seen *p)
{
    return strcmp(s->board.port, p->port) == 0 &&
           strcmp(s->board.serial_number, p->serial_number) == 0;
}

/* Join a finished job's thread and report it (caller's thread). */
static void reap(struct slot *s, const struct romfs_loop_options *o, struct romfs_loop_stats *st)
{
    worker_join(&s->w);
    s->finished = true;
    if (s->board.rc == ROMFS_OK)
        st->passed++;
    else
        st->failed++;
    if (o->finished)
        o->finished(o->ctx, &s->board);
}

int romfs_flash_loop(const struct romfs_flash_job *job, const uint8_t *image, size_t len,
                     const struct romfs_loop_options *o, struct romfs_loop_stats *stats,
                     struct romfs_error *err)
{
    memset(stats, 0, sizeof *stats);
    if (!o->stop)
        return romfs_set_error(err, ROMFS_ERR_INVAL, "the production loop needs a stop flag");
    int rc = check_board_once(job, image, len, err);
    if (rc != ROMFS_OK)
        return rc;
    int poll_ms = o->poll_ms > 0 ? o->poll_ms : o->n_ports ? 1000 : 250;
    struct shared sh = { .job = job, .image = image, .len = len, .progress = o->progress,
                         .ctx = o->ctx };
    pthread_mutex_init(&sh.lock, NULL);
    struct slot **slots = NULL;
    size_t n_slots = 0, next_index = 0;
    while (rc == ROMFS_OK && !*o->stop) {
        struct seen *present;
        size_t n_present;
        rc = scan(o, slots, n_slots, &present, &n_present, err);
        if (rc != ROMFS_OK)
            break;
        for (size_t i = 0; i < n_slots; i++) {
            slots[i]->present = false;
            for (size_t k = 0; k < n_present && !slots[i]->present; k++)
                slots[i]->present = same_board(slots[i], &present[k]);
            if (!slots[i]->finished && atomic_load(&slots[i]->w.done))
                reap(slots[i], o, stats);
        }
        /* a finished board that has gone away is forgotten: when it comes back it is new */
        size_t kept = 0;
        for (size_t i = 0; i < n_slots; i++) {
            if (slots[i]->finished && !slots[i]->present)
                free(slots[i]);
            else
                slots[kept++] = slots[i];
        }
        n_slots = kept;
        for (size_t k = 0; k < n_present && !*o->stop; k++) {
            bool known = false;
            for (size_t i = 0; i < n_slots && !known; i++)
                known = same_board(slots[i], &present[k]);
            if (known)
                continue;
            struct slot **grown = realloc(slots, (n_slots + 1) * sizeof *slots);
            struct slot *s = grown ? calloc(1, sizeof *s) : NULL;
            if (grown)
                slots = grown;
            if (!s) {
                rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
                break;
            }
            s->board.index = next_index++;
            snprintf(s->board.port, sizeof s->board.port, "%s", present[k].port);
            snprintf(s->board.serial_number, sizeof s->board.serial_number, "%s",
                     present[k].serial_number);
            s->present = true;
            s->w.sh = &sh;
            s->w.board = &s->board;
            slots[n_slots++] = s;
            if (o->started)
                o->started(o->ctx, &s->board);
            if (worker_start(&s->w, NULL) != ROMFS_OK)
                reap(s, o, stats);   /* reported as a failure of that board */
        }
        free(present);
        if (rc == ROMFS_OK && !*o->stop)
            romfs_sleep_ms(poll_ms);
    }
    /* stopping: running jobs are finished (cutting one short would leave a board
       half-written) and reported */
    for (size_t i = 0; i < n_slots; i++) {
        if (!slots[i]->finished)
            reap(slots[i], o, stats);
        free(slots[i]);
    }
    free(slots);
    pthread_mutex_destroy(&sh.lock);
    return rc;
}
