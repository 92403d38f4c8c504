/* flash/watch.h: the edit-save-run loop (`romfs flash DIR --watch --run MODULE`).
 *
 * A round packs DIR, writes the erase blocks that changed over one REPL connection kept
 * open between rounds, soft-resets the board and imports the module, whose output is
 * handed on as it arrives. Watching DIR, every burst of saves (an editor writes a
 * temporary file, renames it, writes a backup: one burst) starts the next round: the
 * new image is packed while the module still runs, then the module is stopped with
 * Ctrl-C and the round goes on as the first. Changes to what the pack leaves out
 * (its excludes) and to an mpy-cross cache inside DIR start no round. */
#ifndef ROMFS_WATCH_H
#define ROMFS_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "flash/job.h"
#include "image/pack.h"
#include "transport/rawrepl.h"

/* What became of one round. */
struct romfs_watch_round {
    unsigned number;              /* 1: the write at the start; then one per burst of changes */
    const char *changed;          /* a path below DIR that changed ("" when the system lost
                                     track of which, or only temporary files came and
                                     went); NULL in round 1. A file name: untrusted,
                                     escape it before printing */
    unsigned n_changed;           /* distinct paths that changed in the burst (a file
                                     created and removed again within it not counted) */
    int rc;                       /* ROMFS_OK, or why the round failed (err says more) */
    const struct romfs_error *err;
    const char *failed_in;        /* "pack", "connect", "write" or "run" when rc != ROMFS_OK */
    bool still_running;           /* the pack failed and the module of the round before
                                     runs on */
    bool unchanged;               /* the image is the one written last, and nothing was
                                     to be run: nothing was done */
    size_t image_size;
    uint64_t compiled, mpy_cached;   /* .py files compiled by mpy-cross, taken from its cache */
    const struct romfs_flash_job_result *job;   /* the write, when it was reached */
    double pack_seconds;          /* packing DIR */
    double seconds;               /* from the first change seen (round 1: from the start) to
                                     the module running (or the write confirmed) */
    bool running;                 /* the module was started */
};

struct romfs_watch_options {
    const char *dir;                          /* the tree to pack (and watch); without
                                                 watch also an image file, written as is */
    const struct romfs_pack_options *pack;    /* how it is packed; NULL: the defaults */
    const char *run_module;                   /* NULL: nothing is run; else a module name
                                                 (dotted), imported after each reset */
    bool watch;                               /* false: one round, then until the module ends */
    int debounce_ms;                          /* quiet time that ends a burst; 0: 100 */
    int stop_ms;                              /* silence after Ctrl-C before the module is
                                                 taken for stuck (then a harder break-in);
                                                 0: 2000 */
    /* After each round. */
    void (*on_round)(void *ctx, const struct romfs_watch_round *round);
    /* What the module prints, as it arrives (stream 1: its output, 2: its traceback). */
    romfs_repl_output_fn on_output;
    /* The module ended by itself: rc ROMFS_OK, or ROMFS_ERR_DEVICE when it raised (its
       traceback came as stream 2), or the error that cut the connection (err says). */
    void (*on_run_end)(void *ctx, const char *module, int rc, const struct romfs_error *err);
    void *ctx;
};

/* Whether name is a module name `import` takes (dotted identifiers). */
bool romfs_module_name_valid(const char *name);

/* Run the loop for job (over the REPL). A failed round is reported and the loop waits
 * for the next change (the connection is opened anew after a failed write). Returns
 * ROMFS_ERR_CANCELED after romfs_cancel() (Ctrl-C), with the running module interrupted
 * and the board left at its REPL; or an error that ends watching (DIR removed, no way to
 * watch it: ROMFS_ERR_UNSUPPORTED off Linux). Without o->watch it returns after the
 * first round: that round's error, or once the module ended: ROMFS_OK, or
 * ROMFS_ERR_DEVICE when it raised. */
int romfs_flash_watch(const struct romfs_flash_job *job, const struct romfs_watch_options *o,
                      struct romfs_error *err);

#endif
