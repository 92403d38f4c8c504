/* repl_internal.h: the REPL session shared by device_query.c and repl_target.c. */
#ifndef ROMFS_REPL_INTERNAL_H
#define ROMFS_REPL_INTERNAL_H

#include "flash/repl.h"

struct romfs_repl_session {
    struct romfs_serial *serial;
    struct romfs_repl *repl;
    unsigned caps;
    long long mpy;
    char platform[32];
    int n_partitions;
    bool serve_loaded;      /* serve.py has been sent */
    bool target_busy;       /* a target owns the session */
};

/* Send a template (comment lines and blank lines stripped) for execution. */
int repl_send_template(struct romfs_repl_session *ses, const char *name, struct romfs_error *err);

/* exec code given printf-style; stdout into out (may be NULL). */
int repl_execf(struct romfs_repl_session *ses, struct romfs_buf *out, int timeout_ms,
               struct romfs_error *err, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
