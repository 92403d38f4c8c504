/* pack_mpy.h (internal to pack): running mpy-cross over many files in parallel. */
#ifndef ROMFS_PACK_MPY_H
#define ROMFS_PACK_MPY_H

#include <stddef.h>

#include "base/error.h"

struct mpy_job {
    const char *source;       /* the .py file to read */
    const char *source_name;  /* name recorded in the .mpy (-s) and used in messages */
    char *output;             /* filled: the compiled .mpy's path (in the work directory) */
};

/* Compile every job with `program args... -o OUT -s NAME SOURCE`, at most `parallel` at once,
 * into work_dir. On failure returns ROMFS_ERR_TOOL with mpy-cross's own message (which
 * names the file and line); a missing program is ROMFS_ERR_TOOL naming it. */
int mpy_compile_all(const char *program, const char *const *args, size_t n_args,
                    struct mpy_job *jobs, size_t n_jobs, unsigned parallel, const char *work_dir,
                    struct romfs_error *err);

#endif
