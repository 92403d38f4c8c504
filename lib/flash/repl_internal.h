/* repl_internal.h: the REPL session shared by repl_query.c and repl_target.c. */
#ifndef ROMFS_REPL_INTERNAL_H
#define ROMFS_REPL_INTERNAL_H

#include "flash/repl.h"
#include "flash/serve_protocol.h"

struct romfs_repl_session {
    struct romfs_serial *serial;
    struct romfs_repl *repl;
    unsigned caps;
    long long mpy;
    uint64_t mem_free;      /* the largest block the device's heap could give at session
                               start (a multiple of 16 KiB up to 128 KiB, or a power of
                               two below); 0 unknown */
    char platform[32];
    int n_partitions;
    bool serve_loaded;      /* serve.py has been sent */
    bool plain_code;        /* the device could not inflate code: send it as text */
    bool helper_lost;       /* a soft reset forgot helper.py (list.py was sent again) */
    bool target_busy;       /* a target owns the session */
    struct romfs_device_exception exception;  /* the last one noted (op "" when none) */
};

/* Send the template `name` for execution, preceded by the Python text prelude (NULL: none),
 * as one exec; comment lines and blank lines are stripped, indentation is shortened. */
/* Raw deflate (window 2**wbits) of in[0..len) into a malloc'd *out; ROMFS_ERR_NOMEM. */
int repl_deflate_raw(const uint8_t *in, size_t len, int wbits, uint8_t **out, size_t *out_len);
/* Append d[0..n) as base64 text (an allocation failure sticks in b). */
void repl_put_base64(struct romfs_buf *b, const uint8_t *d, size_t n);

/* The same for several templates (names NULL-terminated) in one paste. */
int repl_send_templates(struct romfs_repl_session *ses, const char *prelude, const char *const *names,
                        struct romfs_error *err);
int repl_send_template(struct romfs_repl_session *ses, const char *prelude, const char *name,
                       struct romfs_error *err);

/* Decode 2*n hex digits from hex[0..hex_len) into out[0..n); -1 when there are fewer or
 * one is not a hex digit. */
int repl_hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t n);

/* The serve loop's command header: op, then a, b and c as SERVE_FIELD-byte little-endian
 * numbers (templates/device/serve_protocol.def). */
void repl_serve_header(uint8_t h[SERVE_HEADER], char op, uint64_t a, uint64_t b, uint64_t c);

/* Escape in[0..len) for the serve loop into out (room for 2*len bytes): 0x01..0x05 and
 * SERVE_ESCAPE become SERVE_ESCAPE, byte ^ 0x40. Returns the length written. */
size_t repl_serve_escape(const uint8_t *in, size_t len, uint8_t *out);

/* exec code given printf-style; stdout into out (may be NULL). */
int repl_execf(struct romfs_repl_session *ses, struct romfs_buf *out, int timeout_ms,
               struct romfs_error *err, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
