/* flash_watch.h: `romfs flash DIR --watch [--run MODULE]` and `romfs flash ... --run
 * MODULE`: printing what lib/flash/watch.h reports, and the module's output. */
#ifndef ROMFS_CLI_FLASH_WATCH_H
#define ROMFS_CLI_FLASH_WATCH_H

#include "cli.h"

/* Run the watch loop (watch true) or one write and run (watch false, run_module set) of
 * input packed with popt. The module's output goes to stdout (its traceback to stderr),
 * escaped; a line per round to stderr unless quiet. Returns the exit code: 130 after
 * Ctrl-C; without watch 0 when the module ended cleanly, 1 when it raised. */
int flash_watch_main(const struct romfs_flash_job *job, const char *input,
                     const struct romfs_pack_options *popt, const char *run_module, bool watch,
                     bool quiet);

#endif
