/* transport/rawrepl.h: MicroPython's raw REPL over a serial link (docs/reference/repl.rst).
 *
 * Interrupt (Ctrl-C twice), enter raw REPL (Ctrl-A, "raw REPL; CTRL-B to exit\r\n>"),
 * execute code in raw-paste mode ("\x05A\x01" -> "R\x01" + 16-bit LE window increment,
 * flow-controlled by "\x01" grants) or, when the device answers "R\x00", "ra..." or
 * nothing, in plain raw mode (code, Ctrl-D, "OK"). The reply is stdout, "\x04", stderr,
 * "\x04", ">": the two streams are kept apart. Soft reset (Ctrl-D at the raw prompt) and
 * leaving (Ctrl-B). Every wait has a timeout; errors say which: no answer, not a
 * MicroPython device, or an exception on the device (the traceback's last line in the
 * message, escaped; the whole traceback from romfs_repl_last_exception()). */
#ifndef ROMFS_RAWREPL_H
#define ROMFS_RAWREPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "transport/serial.h"

struct romfs_repl_options {
    int timeout_ms;      /* longest silence accepted from the device; 0 means 5000 */
    bool no_raw_paste;   /* use plain raw mode even if the device offers raw-paste */
};

struct romfs_repl;

/* Interrupt whatever runs and enter the raw REPL. ROMFS_ERR_TIMEOUT "no answer" if the
 * port stays silent, ROMFS_ERR_PROTOCOL "not a MicroPython device" if it answers
 * something else (the message shows what). The serial link stays owned by the caller. */
int romfs_repl_open(struct romfs_serial *s, const struct romfs_repl_options *opt,
                    struct romfs_repl **out, struct romfs_error *err);

/* Leave the raw REPL (Ctrl-B) and free r; the serial link is not closed. */
void romfs_repl_close(struct romfs_repl *r);

/* Tests only: the mark the connection's synchronising print uses (NULL: a fresh one). */
void romfs_repl_test_sync_mark(const char *mark);

/* Run code and wait for it to finish (timeout_ms of silence at most; 0: the default).
 * stdout/stderr (either may be NULL) receive the two streams. An exception on the device
 * returns ROMFS_ERR_DEVICE with one line in err->msg: exception on the device: "LAST LINE"
 * (the traceback's last line, escaped, e.g. "OSError: [Errno 5] EIO"). */
int romfs_repl_exec(struct romfs_repl *r, const char *code, size_t len, struct romfs_buf *out,
                    struct romfs_buf *errout, int timeout_ms, struct romfs_error *err);

/* Send code and return once the device runs it: while it runs, romfs_repl_write() feeds its
 * sys.stdin and romfs_repl_read() returns what it prints. Then call romfs_repl_finish(). */
int romfs_repl_exec_start(struct romfs_repl *r, const char *code, size_t len,
                          struct romfs_error *err);
int romfs_repl_finish(struct romfs_repl *r, struct romfs_buf *out, struct romfs_buf *errout,
                      int timeout_ms, struct romfs_error *err);

/* Raw access to the link while a program runs (buffered: bytes read past a protocol marker
 * are kept). read returns bytes read (0 on timeout) or a negative error. */
int romfs_repl_write(struct romfs_repl *r, const void *data, size_t len, struct romfs_error *err);
int romfs_repl_read(struct romfs_repl *r, void *buf, size_t max, int timeout_ms,
                    struct romfs_error *err);
bool romfs_repl_input_waiting(struct romfs_repl *r);
/* Read n bytes, allowing timeout_ms of silence before each piece; *got is how many came
 * (fewer than n when the device fell silent). ROMFS_OK or a negative error. */
int romfs_repl_read_full(struct romfs_repl *r, void *buf, size_t n, int timeout_ms, size_t *got,
                         struct romfs_error *err);

/* What a running program prints, as it arrives: stream 1 is its standard output, 2 its
 * error output (a traceback). The bytes are the device's, untrusted. */
typedef void (*romfs_repl_output_fn)(void *ctx, int stream, const char *data, size_t len);

/* Instead of romfs_repl_finish(), for a program that may run for long: pass what it has
 * printed to out (may be NULL), waiting up to timeout_ms for the first bytes. Returns 1
 * once the program has ended and the raw prompt is back (bytes after it stay buffered),
 * 0 while it still runs, or a negative error. */
int romfs_repl_stream(struct romfs_repl *r, int timeout_ms, romfs_repl_output_fn out, void *ctx,
                      struct romfs_error *err);

/* The whole traceback (stderr) of the last program run, when it raised; NULL when it did
 * not (cleared as each program starts). Raw bytes from the device, *len of them (len may be
 * NULL): escape before printing. */
const char *romfs_repl_last_exception(const struct romfs_repl *r, size_t *len);

/* The last line of that traceback (what was raised, e.g. "OSError: [Errno 5] EIO"),
 * escaped onto one line into buf; "" when there is none. Returns buf. */
const char *romfs_repl_exception_line(const struct romfs_repl *r, char *buf, size_t cap);

/* Soft-reset the device from the raw REPL and wait until it is back at the raw prompt
 * (boot output in *boot_output, if non-NULL). */
int romfs_repl_soft_reset(struct romfs_repl *r, struct romfs_buf *boot_output, int timeout_ms,
                          struct romfs_error *err);

/* Send Ctrl-C: whatever runs on the device stops (KeyboardInterrupt), and it returns to
 * the raw REPL; for giving up, so nothing is waited for. */
void romfs_repl_interrupt(struct romfs_repl *r);

/* Interrupt a program that still runs (after an error mid-transfer) and get back to the raw
 * prompt, discarding what arrives meanwhile. */
int romfs_repl_recover(struct romfs_repl *r, struct romfs_error *err);

/* Whether the last exec used raw-paste mode; its window increment (0 if not). */
bool romfs_repl_uses_raw_paste(const struct romfs_repl *r);
unsigned romfs_repl_window(const struct romfs_repl *r);
struct romfs_serial *romfs_repl_serial(struct romfs_repl *r);
/* The longest silence accepted from the device (romfs_repl_options.timeout_ms). */
int romfs_repl_timeout_ms(const struct romfs_repl *r);

#endif
/* How a client gets a busy board back: Ctrl-C BREAK_BYTES times (more than any program
 * romfs runs there reads at once, so a read that swallows them completes), then, when
 * Ctrl-A does not give the raw REPL at once, BUSY_WAIT_MS of waiting for it to go quiet
 * (longer than that program waits for a silent host) and one more try. */
#define ROMFS_REPL_BREAK_BYTES 100
/* Before that, how long a board at its REPL may take to answer two Ctrl-C and a Ctrl-A
 * (an upper bound, not a sleep: the prompt ends the wait). */
#define ROMFS_REPL_QUICK_MS 250
#define ROMFS_REPL_BUSY_WAIT_MS 3000

