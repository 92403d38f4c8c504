/* base/cancel.h: asking libromfs to give up what it is waiting for.
 *
 * A tool that catches SIGINT/SIGTERM calls romfs_cancel() from its handler (it is
 * async-signal-safe). Every wait of the serial transport then ends with
 * ROMFS_ERR_CANCELED, and the REPL target, when it sees the request, stops the device's
 * write loop with Ctrl-C before the session closes, so the board is left at its REPL. */
#ifndef ROMFS_CANCEL_H
#define ROMFS_CANCEL_H

/* Record a request to stop; why is the signal number (or any non-zero value). */
void romfs_cancel(int why);

/* 0, or the `why` of the first romfs_cancel() call. */
int romfs_cancelled(void);

#endif
