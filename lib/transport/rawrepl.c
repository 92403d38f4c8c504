/* rawrepl.c: the raw REPL client (protocol facts from MicroPython's docs/reference/repl.rst). */
#include "transport/rawrepl.h"
#include "base/clock.h"
#include "base/text.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CTRL_A "\x01"
#define CTRL_B "\x02"
#define CTRL_C "\x03"
#define CTRL_D "\x04"
#define BANNER "raw REPL; CTRL-B to exit\r\n"
#define PLAIN_RAW_CHUNK 256

enum paste_state { PASTE_UNKNOWN, PASTE_YES, PASTE_NO };

struct romfs_repl {
    struct romfs_serial *s;
    int timeout_ms;
    enum paste_state paste;
    unsigned window;          /* raw-paste window increment */
    bool last_exec_paste;
    struct romfs_buf exception;   /* the traceback of the last program, if it raised */
    uint8_t rbuf[4096];       /* bytes read from the link, not yet consumed */
    size_t rpos, rlen;
    int run_part;             /* romfs_repl_stream: which part of the reply comes next */
    long long deadline;       /* read_until gives up at this romfs_now_ms() (0: never) */
};

/* The parts of a reply as romfs_repl_stream() meets them. */
enum { PART_STDOUT, PART_STDERR, PART_PROMPT, PART_DONE };

/* ---- buffered reading ---------------------------------------------------------- */

static int fill(struct romfs_repl *r, int timeout_ms, struct romfs_error *err)
{
    if (r->rpos < r->rlen)
        return (int)(r->rlen - r->rpos);
    r->rpos = r->rlen = 0;
    int n = romfs_serial_read(r->s, r->rbuf, sizeof r->rbuf, timeout_ms, err);
    if (n > 0)
        r->rlen = (size_t)n;
    return n;
}

int romfs_repl_read(struct romfs_repl *r, void *buf, size_t max, int timeout_ms,
                    struct romfs_error *err)
{
    int n = fill(r, timeout_ms, err);
    if (n <= 0)
        return n;
    size_t k = (size_t)n < max ? (size_t)n : max;
    memcpy(buf, r->rbuf + r->rpos, k);
    r->rpos += k;
    return (int)k;
}

int romfs_repl_read_full(struct romfs_repl *r, void *buf, size_t n, int timeout_ms, size_t *got,
                         struct romfs_error *err)
{
    uint8_t *p = buf;
    for (*got = 0; *got < n;) {
        int k = romfs_repl_read(r, p + *got, n - *got, timeout_ms, err);
        if (k < 0)
            return k;
        if (k == 0)
            break;
        *got += (size_t)k;
    }
    return ROMFS_OK;
}

bool romfs_repl_input_waiting(struct romfs_repl *r)
{
    return r->rpos < r->rlen || romfs_serial_input_waiting(r->s);
}

int romfs_repl_write(struct romfs_repl *r, const void *data, size_t len, struct romfs_error *err)
{
    int t = r->timeout_ms + (int)(len / 8);  /* a slow UART needs time for big writes */
    return romfs_serial_write(r->s, data, len, t, err);
}

/* Read until `marker` has arrived (it is consumed too). Everything before it goes to
 * `into` (may be NULL). ROMFS_ERR_TIMEOUT after timeout_ms of silence. */
static int read_until(struct romfs_repl *r, const char *marker, size_t mlen, struct romfs_buf *into,
                      int timeout_ms, const char *what, struct romfs_error *err)
{
    size_t matched = 0;
    struct romfs_buf tmp = { 0 };
    for (;;) {
        int n = fill(r, timeout_ms, err);
        if (n < 0) {
            romfs_buf_free(&tmp);
            return n;
        }
        if (n == 0 || (r->deadline && romfs_now_ms() > r->deadline)) {
            romfs_buf_free(&tmp);
            return romfs_set_error(err, ROMFS_ERR_TIMEOUT, "%s: no answer within %d ms waiting for %s",
                                   romfs_serial_path(r->s), timeout_ms, what);
        }
        while (r->rpos < r->rlen) {
            uint8_t c = r->rbuf[r->rpos++];
            if (c == (uint8_t)marker[matched]) {
                if (++matched == mlen) {
                    romfs_buf_free(&tmp);
                    return ROMFS_OK;
                }
                continue;
            }
            /* mismatch: the matched prefix was data; re-check c against the start */
            if (into && matched && romfs_buf_append(into, marker, matched) != ROMFS_OK)
                goto nomem;
            matched = 0;
            if (c == (uint8_t)marker[0]) {
                matched = 1;
                if (mlen == 1)
                    return ROMFS_OK;
                continue;
            }
            if (into && romfs_buf_append(into, &c, 1) != ROMFS_OK)
                goto nomem;
        }
    }
nomem:
    romfs_buf_free(&tmp);
    return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
}

/* Discard input until the link has been quiet for quiet_ms (at most max_ms in total). */
static int drain(struct romfs_repl *r, int quiet_ms, int max_ms, struct romfs_buf *seen,
                 struct romfs_error *err)
{
    uint8_t tmp[512];
    int waited = 0;
    r->rpos = r->rlen = 0;
    while (waited < max_ms) {
        int n = romfs_serial_read(r->s, tmp, sizeof tmp, quiet_ms, err);
        if (n < 0)
            return n;
        if (n == 0)
            return ROMFS_OK;
        if (seen)
            romfs_buf_append(seen, tmp, (size_t)n);
        waited += quiet_ms / 4 + 1;
    }
    return ROMFS_OK;
}

/* Printable excerpt of what a device said, for messages. */
static void excerpt(const struct romfs_buf *b, char *out, size_t cap)
{
    size_t o = 0;
    size_t start = b->len > 60 ? b->len - 60 : 0;
    for (size_t i = start; i < b->len && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)b->data[i];
        if (isprint(c) && c != '\\')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
    }
    out[o < cap ? o : cap - 1] = 0;
}

/* One try: break in, then Ctrl-A and wait up to timeout_ms for the raw REPL prompt. */
static int try_enter_raw(struct romfs_repl *r, int timeout_ms, struct romfs_buf *seen,
                         struct romfs_error *err)
{
    char brk[1 + ROMFS_REPL_BREAK_BYTES];
    brk[0] = '\r';
    memset(brk + 1, CTRL_C[0], ROMFS_REPL_BREAK_BYTES);
    int rc = romfs_repl_write(r, brk, sizeof brk, err);
    if (rc == ROMFS_OK)
        rc = drain(r, 100, 2000, seen, err);
    if (rc == ROMFS_OK)
        rc = romfs_repl_write(r, "\r" CTRL_A, 2, err);
    /* the prompt within timeout_ms in all: a device that never stops talking (a main.py
       printing for ever where Ctrl-C cannot stop it) must not hold us for ever */
    r->deadline = romfs_now_ms() + timeout_ms;
    if (rc == ROMFS_OK)
        rc = read_until(r, BANNER ">", strlen(BANNER ">"), seen, timeout_ms,
                        "the raw REPL prompt", err);
    r->deadline = 0;
    return rc;
}

/* The common case, costing no waits: a board at its REPL (friendly or raw) answers two
 * Ctrl-C and a Ctrl-A within milliseconds. Only when it does not (a program runs, perhaps
 * one that reads stdin in pieces) does the long break-in follow. Each Ctrl-C at the
 * friendly REPL prints a prompt, so the hundred of the long break-in cost a slow UART
 * (or an emulated one) half a second: they are not sent when two do. */
static int try_quick_raw(struct romfs_repl *r, struct romfs_buf *seen, struct romfs_error *err)
{
    int rc = romfs_repl_write(r, "\r" CTRL_C CTRL_C "\r" CTRL_A, 5, err);
    r->deadline = romfs_now_ms() + ROMFS_REPL_QUICK_MS;
    if (rc == ROMFS_OK)
        rc = read_until(r, BANNER ">", strlen(BANNER ">"), seen, ROMFS_REPL_QUICK_MS,
                        "the raw REPL prompt", err);
    r->deadline = 0;
    return rc;
}

static const char *test_sync_mark;  /* romfs_repl_test_sync_mark */

void romfs_repl_test_sync_mark(const char *mark)
{
    test_sync_mark = mark;
}

/* After a raw prompt: one plain exec of print('MARK') with a mark no earlier client
 * used, read to its end. Whatever a program or client before us left on the link (a
 * late prompt, a raw-paste answer, a traceback) is then behind us, with no waiting for
 * silence. */
static int sync_raw(struct romfs_repl *r, struct romfs_error *err)
{
    static unsigned counter;
    char mark[40], code[64];
    if (test_sync_mark)
        snprintf(mark, sizeof mark, "%s", test_sync_mark);
    else
        snprintf(mark, sizeof mark, "rfsync%llx%x", (unsigned long long)romfs_now_ms(), ++counter);
    int n = snprintf(code, sizeof code, "print('%s')" CTRL_D, mark);
    int rc = romfs_repl_write(r, code, (size_t)n, err);
    r->deadline = romfs_now_ms() + r->timeout_ms;
    if (rc == ROMFS_OK)
        rc = read_until(r, mark, strlen(mark), NULL, r->timeout_ms, "the raw REPL's answer", err);
    if (rc == ROMFS_OK)
        rc = read_until(r, CTRL_D CTRL_D ">", 3, NULL, r->timeout_ms, "the raw REPL's answer", err);
    r->deadline = 0;
    return rc;
}

static int enter_raw_unsynced(struct romfs_repl *r, struct romfs_error *err);

static int enter_raw(struct romfs_repl *r, struct romfs_error *err)
{
    int rc = enter_raw_unsynced(r, err);
    return rc == ROMFS_OK ? sync_raw(r, err) : rc;
}

static int enter_raw_unsynced(struct romfs_repl *r, struct romfs_error *err)
{
    struct romfs_buf seen = { 0 };
    int rc = try_quick_raw(r, &seen, err);
    if (rc != ROMFS_ERR_TIMEOUT) {
        romfs_buf_free(&seen);
        return rc;
    }
    romfs_buf_clear(&seen);
    int first = r->timeout_ms < 1000 ? r->timeout_ms : 1000;
    rc = try_enter_raw(r, first, &seen, err);
    bool text = false;   /* a device that answers in words is not busy: no second try */
    for (size_t i = 0; i < seen.len && !text; i++)
        text = (unsigned char)seen.data[i] >= 0x20;
    if (rc == ROMFS_ERR_TIMEOUT && !text) {
        /* busy (a program that reads stdin, e.g. a write loop left by a host that went
           away): let it notice the silence and end, then try again */
        romfs_buf_clear(&seen);
        rc = drain(r, ROMFS_REPL_BUSY_WAIT_MS, 4 * ROMFS_REPL_BUSY_WAIT_MS, &seen, err);
        if (rc == ROMFS_OK)
            rc = try_enter_raw(r, r->timeout_ms, &seen, err);
    } else if (rc == ROMFS_ERR_TIMEOUT && seen.len >= 4 && memcmp(seen.data + seen.len - 4, ">>> ", 4) == 0) {
        /* it prompts now, but never heard the Ctrl-A: it was starting up, deaf (opening
           the port resets an ESP32 board through DTR/RTS) and is at its REPL now: again */
        romfs_buf_clear(&seen);
        rc = try_enter_raw(r, r->timeout_ms, &seen, err);
    }
    if (rc == ROMFS_ERR_TIMEOUT) {
        if (seen.len == 0) {
            rc = romfs_set_error(err, ROMFS_ERR_TIMEOUT,
                                 "no answer from %s: is a MicroPython board connected there "
                                 "(and no other program using the port)?",
                                 romfs_serial_path(r->s));
        } else {
            char ex[300];
            excerpt(&seen, ex, sizeof ex);
            rc = romfs_set_error(err, ROMFS_ERR_PROTOCOL,
                                 "%s is not a MicroPython device, or its REPL is busy: Ctrl-A "
                                 "did not give the raw REPL prompt (it answered \"%s\")",
                                 romfs_serial_path(r->s), ex);
        }
    }
    romfs_buf_free(&seen);
    return rc;
}

int romfs_repl_open(struct romfs_serial *s, const struct romfs_repl_options *opt,
                    struct romfs_repl **out, struct romfs_error *err)
{
    *out = NULL;
    struct romfs_repl *r = calloc(1, sizeof *r);
    if (!r)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    r->s = s;
    r->timeout_ms = opt && opt->timeout_ms > 0 ? opt->timeout_ms : 5000;
    r->paste = opt && opt->no_raw_paste ? PASTE_NO : PASTE_UNKNOWN;
    int rc = enter_raw(r, err);
    if (rc != ROMFS_OK) {
        free(r);
        return rc;
    }
    *out = r;
    return ROMFS_OK;
}

void romfs_repl_close(struct romfs_repl *r)
{
    if (!r)
        return;
    romfs_repl_write(r, "\r" CTRL_B, 2, NULL);
    romfs_buf_free(&r->exception);
    free(r);
}

/* Raw-paste: window handshake done, write code under flow control, then Ctrl-D. */
static int paste_write(struct romfs_repl *r, const char *code, size_t len, struct romfs_error *err)
{
    uint8_t inc[2];
    int rc;
    for (size_t got = 0; got < 2;) {
        int n = romfs_repl_read(r, inc + got, 2 - got, r->timeout_ms, err);
        if (n < 0)
            return n;
        if (n == 0)
            return romfs_set_error(err, ROMFS_ERR_TIMEOUT, "%s: no raw-paste window size",
                                   romfs_serial_path(r->s));
        got += (size_t)n;
    }
    r->window = (unsigned)inc[0] | (unsigned)inc[1] << 8;
    if (r->window == 0)
        return romfs_set_error(err, ROMFS_ERR_PROTOCOL, "%s: raw-paste window size 0",
                               romfs_serial_path(r->s));
    size_t remain = r->window, i = 0;
    while (i < len) {
        while (remain == 0 || romfs_repl_input_waiting(r)) {
            uint8_t c;
            int n = romfs_repl_read(r, &c, 1, r->timeout_ms, err);
            if (n < 0)
                return n;
            if (n == 0)
                return romfs_set_error(err, ROMFS_ERR_TIMEOUT,
                                       "%s: raw-paste flow control: no window grant within %d ms",
                                       romfs_serial_path(r->s), r->timeout_ms);
            if (c == 0x01) {
                remain += r->window;
            } else if (c == 0x04) {
                /* the device ends reception early (e.g. a syntax error): acknowledge */
                rc = romfs_repl_write(r, CTRL_D, 1, err);
                return rc != ROMFS_OK ? rc : 1;
            } else {
                return romfs_set_error(err, ROMFS_ERR_PROTOCOL,
                                       "%s: unexpected byte 0x%02x during raw-paste transfer",
                                       romfs_serial_path(r->s), c);
            }
        }
        size_t n = len - i < remain ? len - i : remain;
        rc = romfs_repl_write(r, code + i, n, err);
        if (rc != ROMFS_OK)
            return rc;
        i += n;
        remain -= n;
    }
    rc = romfs_repl_write(r, CTRL_D, 1, err);
    if (rc != ROMFS_OK)
        return rc;
    return ROMFS_OK;
}

static int exec_start_once(struct romfs_repl *r, const char *code, size_t len,
                           struct romfs_error *err)
{
    int rc;
    r->last_exec_paste = false;
    /* A device that answered nothing sensible may have been finishing what a client
       before us left running (its answer arrives late): back to a clean prompt, and ask
       once more before settling for plain raw mode. */
    for (int attempt = 0; r->paste != PASTE_NO && attempt < 2; attempt++) {
        rc = romfs_repl_write(r, "\x05" "A" "\x01", 3, err);
        if (rc != ROMFS_OK)
            return rc;
        uint8_t ans[2];
        size_t got;
        rc = romfs_repl_read_full(r, ans, 2, r->timeout_ms, &got, err);
        if (rc != ROMFS_OK)
            return rc;
        if (got == 2 && ans[0] == 'R' && ans[1] == 0x01) {
            r->paste = PASTE_YES;
            r->last_exec_paste = true;
            rc = paste_write(r, code, len, err);
            if (rc != ROMFS_OK)  /* < 0: error; 1: the device ended reception early (its
                                    error report follows as the program's output) */
                return rc < 0 ? rc : ROMFS_OK;
            /* the device acknowledges the end of data with \x04 */
            return read_until(r, CTRL_D, 1, NULL, r->timeout_ms, "the raw-paste end of data", err);
        }
        r->paste = PASTE_NO;
        if (got == 2 && ans[0] == 'R' && ans[1] == 0x00) {
            /* understood, unsupported: the device prompts again */
            rc = read_until(r, ">", 1, NULL, r->timeout_ms, "the raw REPL prompt", err);
            if (rc != ROMFS_OK)
                return rc;
        } else if (got == 2 && ans[0] == 'r' && ans[1] == 'a') {
            rc = read_until(r, "w REPL; CTRL-B to exit\r\n>", 25, NULL, r->timeout_ms,
                            "the raw REPL prompt", err);
            if (rc != ROMFS_OK)
                return rc;
        } else {
            /* no (sensible) answer: get back to a clean raw prompt; ask again, or go plain */
            rc = enter_raw(r, err);
            if (rc != ROMFS_OK)
                return rc;
            if (attempt == 0) {
                r->paste = PASTE_UNKNOWN;
                continue;
            }
        }
        break;
    }
    for (size_t i = 0; i < len; i += PLAIN_RAW_CHUNK) {
        size_t n = len - i < PLAIN_RAW_CHUNK ? len - i : PLAIN_RAW_CHUNK;
        rc = romfs_repl_write(r, code + i, n, err);
        if (rc != ROMFS_OK)
            return rc;
        if (i + n < len)
            romfs_sleep_ms(2);  /* plain raw mode has no flow control: pace the device */
    }
    rc = romfs_repl_write(r, CTRL_D, 1, err);
    if (rc != ROMFS_OK)
        return rc;
    uint8_t ok[2];
    size_t got;
    rc = romfs_repl_read_full(r, ok, 2, r->timeout_ms, &got, err);
    if (rc != ROMFS_OK)
        return rc;
    if (got < 2)
        return romfs_set_error(err, ROMFS_ERR_TIMEOUT,
                               "%s: no \"OK\" after sending code in raw REPL",
                               romfs_serial_path(r->s));
    if (ok[0] != 'O' || ok[1] != 'K')
        return romfs_set_error(err, ROMFS_ERR_PROTOCOL,
                               "%s: device did not accept code (answered 0x%02x 0x%02x, not \"OK\")",
                               romfs_serial_path(r->s), ok[0], ok[1]);
    return ROMFS_OK;
}

int romfs_repl_exec_start(struct romfs_repl *r, const char *code, size_t len,
                          struct romfs_error *err)
{
    r->run_part = PART_STDOUT;
    romfs_buf_free(&r->exception);
    int rc = exec_start_once(r, code, len, err);
    if (rc == ROMFS_ERR_PROTOCOL && err) {
        /* an answer out of turn (what a client cut off before us left behind): back to a
           clean prompt and send the code once more; it had not started */
        struct romfs_error first = *err;
        rc = enter_raw(r, err);
        if (rc == ROMFS_OK)
            rc = exec_start_once(r, code, len, err);
        if (rc != ROMFS_OK)
            *err = first;
    }
    return rc;
}

int romfs_repl_finish(struct romfs_repl *r, struct romfs_buf *out, struct romfs_buf *errout,
                      int timeout_ms, struct romfs_error *err)
{
    if (timeout_ms <= 0)
        timeout_ms = r->timeout_ms;
    struct romfs_buf e = { 0 };
    int rc = read_until(r, CTRL_D, 1, out, timeout_ms, "the end of the program's output", err);
    if (rc == ROMFS_OK)
        rc = read_until(r, CTRL_D, 1, &e, timeout_ms, "the end of the program's error output", err);
    if (rc == ROMFS_OK)
        rc = read_until(r, ">", 1, NULL, timeout_ms, "the raw REPL prompt", err);
    if (rc == ROMFS_OK && e.len) {
        if (errout)
            romfs_buf_append(errout, e.data, e.len);
        /* one line in the message (the traceback's last: what was raised), the whole
           traceback kept for whoever wants it (romfs_repl_last_exception) */
        romfs_buf_free(&r->exception);
        r->exception = e;
        memset(&e, 0, sizeof e);
        char said[256];
        const char *line = romfs_repl_exception_line(r, said, sizeof said);
        rc = romfs_set_error(err, ROMFS_ERR_DEVICE, "exception on the device: \"%s\"", line);
    }
    romfs_buf_free(&e);
    return rc;
}

const char *romfs_repl_last_exception(const struct romfs_repl *r, size_t *len)
{
    if (len)
        *len = r->exception.len;
    return r->exception.len ? (const char *)r->exception.data : NULL;
}

const char *romfs_repl_exception_line(const struct romfs_repl *r, char *buf, size_t cap)
{
    const char *t = (const char *)r->exception.data;
    size_t end = r->exception.len;
    while (end && (t[end - 1] == '\n' || t[end - 1] == '\r' || t[end - 1] == ' '))
        end--;
    size_t start = end;
    while (start && t[start - 1] != '\n' && t[start - 1] != '\r')
        start--;
    while (start < end && t[start] == ' ')
        start++;
    return romfs_escape_to(buf, cap, t ? t + start : "", end - start, ROMFS_ESCAPE_LINE);
}

int romfs_repl_exec(struct romfs_repl *r, const char *code, size_t len, struct romfs_buf *out,
                    struct romfs_buf *errout, int timeout_ms, struct romfs_error *err)
{
    int rc = romfs_repl_exec_start(r, code, len, err);
    if (rc != ROMFS_OK)
        return rc;
    return romfs_repl_finish(r, out, errout, timeout_ms, err);
}

int romfs_repl_stream(struct romfs_repl *r, int timeout_ms, romfs_repl_output_fn out, void *ctx,
                      struct romfs_error *err)
{
    if (r->run_part == PART_DONE)
        return 1;
    int n = fill(r, timeout_ms, err);
    if (n <= 0)
        return n;
    while (r->rpos < r->rlen && r->run_part != PART_DONE) {
        const uint8_t *p = r->rbuf + r->rpos;
        size_t avail = r->rlen - r->rpos;
        if (r->run_part == PART_PROMPT) {   /* nothing but the prompt is expected here */
            r->rpos++;
            if (*p == '>')
                r->run_part = PART_DONE;
            continue;
        }
        const uint8_t *end = memchr(p, 0x04, avail);
        size_t k = end ? (size_t)(end - p) : avail;
        if (k && out)
            out(ctx, r->run_part == PART_STDOUT ? 1 : 2, (const char *)p, k);
        r->rpos += k;
        if (end) {
            r->rpos++;
            r->run_part++;
        }
    }
    return r->run_part == PART_DONE;
}

int romfs_repl_soft_reset(struct romfs_repl *r, struct romfs_buf *boot_output, int timeout_ms,
                          struct romfs_error *err)
{
    if (timeout_ms <= 0)
        timeout_ms = r->timeout_ms;
    int rc = romfs_repl_write(r, CTRL_D, 1, err);
    if (rc == ROMFS_OK)
        rc = read_until(r, "soft reboot\r\n", 13, NULL, timeout_ms, "\"soft reboot\"", err);
    if (rc == ROMFS_OK)
        rc = read_until(r, BANNER ">", strlen(BANNER ">"), boot_output, timeout_ms,
                        "the raw REPL prompt after soft reset", err);
    return rc;
}

void romfs_repl_interrupt(struct romfs_repl *r)
{
    romfs_repl_write(r, CTRL_C, 1, NULL);
    r->rpos = r->rlen = 0;
}

int romfs_repl_recover(struct romfs_repl *r, struct romfs_error *err)
{
    return enter_raw(r, err);
}

bool romfs_repl_uses_raw_paste(const struct romfs_repl *r)
{
    return r->last_exec_paste;
}

unsigned romfs_repl_window(const struct romfs_repl *r)
{
    return r->paste == PASTE_YES ? r->window : 0;
}

struct romfs_serial *romfs_repl_serial(struct romfs_repl *r)
{
    return r->s;
}

int romfs_repl_timeout_ms(const struct romfs_repl *r)
{
    return r->timeout_ms;
}
