/* cancel.c: one process-wide "give up" request, set from a signal handler. */
#include "base/cancel.h"

#include <signal.h>

static volatile sig_atomic_t cancel_why;

void romfs_cancel(int why)
{
    if (!cancel_why)
        cancel_why = why ? why : 1;
}

int romfs_cancelled(void)
{
    return cancel_why;
}
