/* pack_mpy_internal.h (internal to image/): running mpy-cross over many files in
 * parallel (pack_mpy.c), and the cache of its outputs (mpy_cache.c). */
#ifndef ROMFS_PACK_MPY_H
#define ROMFS_PACK_MPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

struct mpy_job {
    const char *source;       /* the .py file to read */
    const char *source_name;  /* name recorded in the .mpy (-s) and used in messages */
    char *output;             /* filled: the compiled .mpy's path (in the work directory) */
};

/* Compile every job with `program args... -o OUT -s NAME SOURCE`, at most `parallel` at once,
 * into work_dir (OUT: work_dir/PREFIXi.mpy, i the job's index). On failure returns
 * ROMFS_ERR_TOOL with mpy-cross's own message (which names the file and line); a missing
 * program is ROMFS_ERR_TOOL naming it. */
int mpy_compile_all(const char *program, const char *const *args, size_t n_args,
                    struct mpy_job *jobs, size_t n_jobs, unsigned parallel, const char *work_dir,
                    const char *prefix, struct romfs_error *err);

/* The file `program` names: itself when it holds a '/', else the first match on $PATH,
 * into buf; false when there is none that can be run. */
bool mpy_program_path(const char *program, char *buf, size_t cap);

/* Run `program --version`: its output (up to cap-1 bytes) into buf and its wait status
 * into *status; false when it could not be run. */
bool mpy_program_version(const char *program, char *buf, size_t cap, int *status);

/* mpy_compile_all through the cache folder `cache` (NULL: no cache): jobs whose entry is
 * there and intact are copied to work_dir instead of compiled (*n_cached counts them),
 * the others compiled, then stored. A cache that cannot be read or written is passed by:
 * every job is compiled, never failed for it. */
int mpy_compile_cached(const char *cache, const char *program, const char *const *args,
                       size_t n_args, struct mpy_job *jobs, size_t n_jobs, unsigned parallel,
                       const char *work_dir, uint64_t *n_cached, struct romfs_error *err);

#endif
