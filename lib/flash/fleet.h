/* flash/fleet.h: one image onto many boards at once, and a production loop.
 *
 * romfs_fleet_run() runs one REPL flash job (flash/job.h) per board, each in its own
 * thread with its own serial port, incremental compare, verify and /rom check, and
 * returns one result per board; a board that fails never stops the others. The image
 * is packed and checked by the caller once; the jobs only read it.
 * romfs_flash_loop() waits for boards to appear (by USB VID:PID, or on fixed ports),
 * writes each new one and reports it, until the caller's stop flag is set.
 *
 * Callbacks: progress comes from the job threads but never two at a time (a lock is held
 * around each call); started/finished (loop) come from the caller's thread. */
#ifndef ROMFS_FLEET_H
#define ROMFS_FLEET_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "flash/job.h"

/* One board of a fleet: the caller fills port (and serial_number if known). */
struct romfs_fleet_board {
    size_t index;                          /* 0, 1, ...: the n-th board (loop: ever seen) */
    char port[256];                        /* serial port path or socket:// / rfc2217:// URL */
    char serial_number[128];               /* USB serial number, "" if unknown */
    int rc;                                /* ROMFS_OK or the job's error code */
    struct romfs_error err;                /* the job's error when rc != ROMFS_OK */
    struct romfs_flash_job_result result;  /* as far as the job got */
    double seconds;                        /* the whole job: open to /rom check */
};

/* Progress of board `index`: the phase and bytes as romfs_progress_fn reports them. */
typedef void (*romfs_fleet_progress_fn)(void *ctx, size_t index, const char *phase,
                                        uint64_t done, uint64_t total);

/* The USB ids a fleet looks for: the board's own REPL VID:PID when board names one,
 * otherwise MicroPython's common ids. *ids is malloc'd. */
int romfs_fleet_usb_ids(const struct romfs_board *board, struct romfs_usb_id **ids, size_t *n,
                        struct romfs_error *err);

/* Every connected board with one of those ids (see romfs_serial_list), as a malloc'd
 * array of boards with port and serial_number filled. ROMFS_ERR_DEVICE (need: a port)
 * when there is none. */
int romfs_fleet_find(const struct romfs_board *board, struct romfs_fleet_board **boards,
                     size_t *n, struct romfs_error *err);

/* Boards for the given ports (paths or URLs), with the USB serial number of each local
 * port the USB scan knows. ROMFS_ERR_INVAL when a port is given twice. *boards is
 * malloc'd. */
int romfs_fleet_boards_for_ports(const char *const *ports, size_t n,
                                 struct romfs_fleet_board **boards, struct romfs_error *err);

/* Write image[0..len) to boards[0..n) in parallel: job is copied per board with
 * repl.port = boards[i].port (job->progress is ignored; progress gets the board index).
 * The image is checked against job->board's partition once first; if it fails no board
 * is opened and that error is returned. Then fills every board's rc, err, result and
 * seconds. Returns ROMFS_OK when all passed, ROMFS_ERR_DEVICE naming each failed port
 * otherwise, ROMFS_ERR_INVAL for a job that is not over the REPL, ROMFS_ERR_NOMEM/IO if a thread cannot start (boards not started
 * then fail with that error). */
int romfs_fleet_run(const struct romfs_flash_job *job, const uint8_t *image, size_t len,
                    struct romfs_fleet_board *boards, size_t n, romfs_fleet_progress_fn progress,
                    void *ctx, struct romfs_error *err);

struct romfs_loop_options {
    const struct romfs_usb_id *ids;      /* wait for boards with these USB ids ... */
    size_t n_ids;
    const char *const *ports;            /* ... or, when n_ports > 0, on these fixed ports */
    size_t n_ports;                      /*     (paths or URLs: present when reachable) */
    int poll_ms;                         /* how often to look; 0: 250 ms (network: 1 s) */
    volatile sig_atomic_t *stop;         /* set non-zero (a signal handler) to stop; required */
    romfs_fleet_progress_fn progress;    /* may be NULL */
    void (*started)(void *ctx, const struct romfs_fleet_board *b);   /* may be NULL */
    void (*finished)(void *ctx, const struct romfs_fleet_board *b);  /* may be NULL */
    void *ctx;
};

struct romfs_loop_stats {
    uint64_t passed, failed;
};

/* The production loop: each board that appears is written once (a job per board, in
 * parallel); one that stays connected is not written again until it has gone away and
 * come back (a board is known by port and USB serial number). A board unplugged
 * mid-write is a failed job like any other. When *o->stop becomes non-zero no new job
 * starts, the running ones are finished and reported, and the loop returns ROMFS_OK.
 * Errors (before any board, or from a port scan): the image does not suit job->board,
 * ROMFS_ERR_INVAL for a job not over the REPL, a port scan that fails. */
int romfs_flash_loop(const struct romfs_flash_job *job, const uint8_t *image, size_t len,
                     const struct romfs_loop_options *o, struct romfs_loop_stats *stats,
                     struct romfs_error *err);

#endif
