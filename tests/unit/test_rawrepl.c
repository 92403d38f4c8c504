/* test_rawrepl.c: the raw REPL client against exact byte transcripts.
 *
 * A scripted "device" thread sits on the other end of a socketpair: for each step it
 * reads exactly the bytes the host must send (compared byte for byte; optionally also
 * checking that nothing more arrives, which is how raw-paste flow control is tested)
 * and answers with the bytes a MicroPython board sends (docs/reference/repl.rst). */
#include <pthread.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport/rawrepl.h"
#include "unit.h"

struct step {
    const char *expect;   /* bytes the host must send next (NULL: none) */
    size_t elen;
    const char *reply;    /* bytes the device answers */
    size_t rlen;
    bool then_quiet;      /* the host must send nothing more for 100 ms */
};
#define S(e, r) { e, sizeof(e) - 1, r, sizeof(r) - 1, false }
#define SQ(e, r) { e, sizeof(e) - 1, r, sizeof(r) - 1, true }
#define R(r) { NULL, 0, r, sizeof(r) - 1, false }
#define END { NULL, 0, NULL, 0, false }

struct device {
    int fd;
    const struct step *steps;
    char failure[512];
};

static bool read_exact(int fd, char *buf, size_t len, int timeout_ms)
{
    size_t got = 0;
    while (got < len) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, timeout_ms) <= 0)
            return false;
        ssize_t n = read(fd, buf + got, len - got);
        if (n <= 0)
            return false;
        got += (size_t)n;
    }
    return true;
}

static void *device_main(void *arg)
{
    struct device *d = arg;
    for (const struct step *s = d->steps; s->expect || s->reply; s++) {
        if (s->expect && s->elen) {
            char buf[4096];
            if (!read_exact(d->fd, buf, s->elen, 2000)) {
                snprintf(d->failure, sizeof d->failure, "step %d: host sent too little",
                         (int)(s - d->steps));
                break;
            }
            if (memcmp(buf, s->expect, s->elen) != 0) {
                snprintf(d->failure, sizeof d->failure, "step %d: host sent other bytes (%.*s)",
                         (int)(s - d->steps), (int)s->elen, buf);
                break;
            }
            if (s->then_quiet) {
                struct pollfd p = { .fd = d->fd, .events = POLLIN };
                if (poll(&p, 1, 100) > 0) {
                    snprintf(d->failure, sizeof d->failure,
                             "step %d: host sent more than the device allowed", (int)(s - d->steps));
                    break;
                }
            }
        }
        if (s->rlen && write(d->fd, s->reply, s->rlen) != (ssize_t)s->rlen)
            break;
    }
    /* keep the link open until the host is done (it closes its end) */
    char c;
    while (read(d->fd, &c, 1) > 0) {
    }
    return NULL;
}

struct harness {
    int fds[2];
    pthread_t thread;
    struct device dev;
    struct romfs_serial *s;
};

static void harness_start(struct harness *h, const struct step *steps)
{
    memset(h, 0, sizeof *h);
    socketpair(AF_UNIX, SOCK_STREAM, 0, h->fds);
    h->dev.fd = h->fds[1];
    h->dev.steps = steps;
    pthread_create(&h->thread, NULL, device_main, &h->dev);
    romfs_serial_from_fd(h->fds[0], false, &h->s, NULL);
}

static void harness_stop(struct harness *h)
{
    romfs_serial_close(h->s);
    shutdown(h->fds[0], SHUT_RDWR);
    close(h->fds[0]);
    pthread_join(h->thread, NULL);
    close(h->fds[1]);
}

/* the break-in: CR, then ROMFS_REPL_BREAK_BYTES Ctrl-C */
#define C3x10 "\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03"
#define BREAK_IN "\r" C3x10 C3x10 C3x10 C3x10 C3x10 C3x10 C3x10 C3x10 C3x10 C3x10
_Static_assert(sizeof BREAK_IN - 1 == 1 + ROMFS_REPL_BREAK_BYTES, "BREAK_IN is the tool's break-in");
/* first the quick way in: two Ctrl-C and a Ctrl-A, as a board at its REPL answers them */
#define QUICK_IN "\r\x03\x03\r\x01"
/* then one print whose answer is read to its end: the link is in step */
#define SYNC S("print('rfsyncT')\x04", "OKrfsyncT\r\n\x04\x04>")
#define ENTER S(QUICK_IN, "\r\n>>> \r\n>>> \r\nraw REPL; CTRL-B to exit\r\n>"), SYNC
/* a board that does not answer those (busy): the long break-in follows */
#define ENTER_BUSY                                                                       \
    S(QUICK_IN, ""), S(BREAK_IN, "\r\n>>> \r\n>>> "), S("\r\x01", "\r\nraw REPL; CTRL-B to exit\r\n>"), SYNC

static const struct romfs_repl_options fast = { .timeout_ms = 500 };

static void test_raw_paste_exec_docs_example(void)
{
    static const struct step steps[] = {
        ENTER,
        S("\x05" "A\x01", "R\x01\x80\x00\x01"),
        S("print(123)\x04", "\x04"),
        R("123\r\n\x04\x04>"),
        END,
    };
    struct harness h;
    harness_start(&h, steps);
    struct romfs_repl *r = NULL;
    struct romfs_error err = { 0 };
    struct romfs_buf out = { 0 }, eout = { 0 };
    int rc = romfs_repl_open(h.s, &fast, &r, &err);
    if (rc == ROMFS_OK)
        rc = romfs_repl_exec(r, "print(123)", 10, &out, &eout, 0, &err);
    if (r)
        free(r);  /* not romfs_repl_close: the script expects no Ctrl-B */
    harness_stop(&h);
    CHECK_EQ_U(rc, ROMFS_OK);
    CHECK(h.dev.failure[0] == 0);
    CHECK_EQ_U(out.len, 5);
    CHECK_MEM(out.data, "123\r\n", 5);
    CHECK_EQ_U(eout.len, 0);
    romfs_buf_free(&out);
    romfs_buf_free(&eout);
}

static void test_raw_paste_respects_window(void)
{
    /* window increment 8, no extra grant: host may send 8 bytes, then must wait */
    static const struct step steps[] = {
        ENTER,
        SQ("\x05" "A\x01", "R\x01\x08\x00"),
        SQ("x=1234;y", "\x01"),
        SQ("=5678;z=", "\x01"),
        S("x+y\x04", "\x04"),
        R("\x04\x04>"),
        END,
    };
    struct harness h;
    harness_start(&h, steps);
    struct romfs_repl *r = NULL;
    struct romfs_error err = { 0 };
    int rc = romfs_repl_open(h.s, &fast, &r, &err);
    if (rc == ROMFS_OK)
        rc = romfs_repl_exec(r, "x=1234;y=5678;z=x+y", 19, NULL, NULL, 0, &err);
    CHECK(r && romfs_repl_uses_raw_paste(r));
    CHECK_EQ_U(romfs_repl_window(r), 8);
    free(r);
    harness_stop(&h);
    if (h.dev.failure[0])
        printf("    device: %s\n", h.dev.failure);
    CHECK_EQ_U(rc, ROMFS_OK);
    CHECK(h.dev.failure[0] == 0);
}

static void test_fallback_plain_raw_on_R00(void)
{
    static const struct step steps[] = {
        ENTER,
        S("\x05" "A\x01", "R\x00>"),
        S("print(1)\x04", "OK1\r\n\x04\x04>"),
        /* once refused, raw-paste is not tried again on this connection */
        S("print(2)\x04", "OK2\r\n\x04\x04>"),
        END,
    };
    struct harness h;
    harness_start(&h, steps);
    struct romfs_repl *r = NULL;
    struct romfs_error err = { 0 };
    struct romfs_buf out = { 0 };
    int rc = romfs_repl_open(h.s, &fast, &r, &err);
    if (rc == ROMFS_OK)
        rc = romfs_repl_exec(r, "print(1)", 8, &out, NULL, 0, &err);
    if (rc == ROMFS_OK)
        rc = romfs_repl_exec(r, "print(2)", 8, &out, NULL, 0, &err);
    CHECK(r && !romfs_repl_uses_raw_paste(r));
    free(r);
    harness_stop(&h);
    CHECK_EQ_U(rc, ROMFS_OK);
    CHECK(h.dev.failure[0] == 0);
    CHECK_EQ_U(out.len, 6);
    CHECK_MEM(out.data, "1\r\n2\r\n", 6);
    romfs_buf_free(&out);
}

static void test_fallback_plain_raw_on_old_firmware(void)
{
    /* firmware without raw-paste treats Ctrl-A as re-entering raw REPL: "raw REPL..." */
    static const struct step steps[] = {
        ENTER,
        S("\x05" "A\x01", "raw REPL; CTRL-B to exit\r\n>"),
        S("print(1)\x04", "OK1\r\n\x04\x04>"),
        END,
    };
    struct harness h;
    harness_start(&h, steps);
    struct romfs_repl *r = NULL;
    struct romfs_error err = { 0 };
    struct romfs_buf out = { 0 };
    int rc = romfs_repl_open(h.s, &fast, &r, &err);
    if (rc == ROMFS_OK)
        rc = romfs_repl_exec(r, "print(1)", 8, &out, NULL, 0, &err);
    free(r);
    harness_stop(&h);
    CHECK_EQ_U(rc, ROMFS_OK);
    CHECK(h.dev.failure[0] == 0);
    CHECK_MEM(out.data, "1\r\n", 3);
    romfs_buf_free(&out);
}

static void test_exception_keeps_streams_apart(void)
{
    static const struct step steps[] = {
        ENTER,
        S("\x05" "A\x01", "R\x01\x80\x00\x01"),
        S("print('a');1/0\x04", "\x04"),
        R("a\r\n\x04Traceback (most recent call last):\r\n  File \"<stdin>\", line 1, in "
          "<module>\r\nZeroDivisionError: divide by zero\r\n\x04>"),
        S("\r\x02", "\r\n>>> "),
        END,
    };
    struct harness h;
    harness_start(&h, steps);
    struct romfs_repl *r = NULL;
    struct romfs_error err = { 0 };
    struct romfs_buf out = { 0 }, eout = { 0 };
    int rc = romfs_repl_open(h.s, &fast, &r, &err);
    if (rc == ROMFS_OK)
        rc = romfs_repl_exec(r, "print('a');1/0", 14, &out, &eout, 0, &err);
    /* the message is one line, the traceback's last; the whole traceback is kept */
    size_t tb_len = 0;
    const char *tb = r ? romfs_repl_last_exception(r, &tb_len) : NULL;
    CHECK(tb && tb_len > 9 && strncmp(tb, "Traceback", 9) == 0 && strstr(tb, "<module>"));
    char line[64];
    CHECK(r && strcmp(romfs_repl_exception_line(r, line, sizeof line),
                      "ZeroDivisionError: divide by zero") == 0);
    romfs_repl_close(r);
    usleep(50000);
    harness_stop(&h);
    CHECK_EQ_U(rc, ROMFS_ERR_DEVICE);
    CHECK(strcmp(err.msg, "exception on the device: \"ZeroDivisionError: divide by zero\"") == 0);
    CHECK(strchr(err.msg, '\n') == NULL && strstr(err.msg, "Traceback") == NULL);
    CHECK_EQ_U(out.len, 3);
    CHECK_MEM(out.data, "a\r\n", 3);
    CHECK(strncmp(eout.data, "Traceback", 9) == 0);
    romfs_buf_free(&out);
    romfs_buf_free(&eout);
}

/* A board that says nothing to the quick way in (a program reading stdin, or a port
 * whose Ctrl-C does not interrupt code) gets the long break-in, and then works. */
static void test_busy_board_gets_the_long_break_in(void)
{
    static const struct step steps[] = {
        ENTER_BUSY,
        S("\x05" "A\x01", "R\x01\x80\x00\x01"),
        S("print(1)\x04", "\x04"),
        R("1\r\n\x04\x04>"),
        END,
    };
    struct harness h;
    harness_start(&h, steps);
    struct romfs_repl *r = NULL;
    struct romfs_error err = { 0 };
    struct romfs_buf out = { 0 };
    int rc = romfs_repl_open(h.s, &fast, &r, &err);
    if (rc == ROMFS_OK)
        rc = romfs_repl_exec(r, "print(1)", 8, &out, NULL, 0, &err);
    free(r);
    harness_stop(&h);
    CHECK_EQ_U(rc, ROMFS_OK);
    CHECK(h.dev.failure[0] == 0);
    CHECK_EQ_U(out.len, 3);
    romfs_buf_free(&out);
}

static void test_board_reset_by_the_open_gets_a_second_try(void)
{
    /* An ESP32 reset by the port being opened prints its boot ROM text, hears nothing
       until MicroPython runs, then prompts: the Ctrl-A was lost, so the host tries again
       (it used to give up: "not a MicroPython device"). */
    static const struct step steps[] = {
        S(QUICK_IN, "ets Jul 29 2019 12:21:46\r\n\r\nrst:0x1 (POWERON_RESET)\r\n"),
        S(BREAK_IN, ""),
        S("\r\x01", "MicroPython v1.25.0 on 2025-04-15; Generic ESP32 module with ESP32\r\n"
                    "Type \"help()\" for more information.\r\n>>> "),
        S(BREAK_IN, "\r\n>>> \r\n>>> "),
        S("\r\x01", "\r\nraw REPL; CTRL-B to exit\r\n>"),
        SYNC,
        S("\x05" "A\x01", "R\x01\x80\x00\x01"),
        S("print(1)\x04", "\x04"),
        R("1\r\n\x04\x04>"),
        END,
    };
    struct harness h;
    harness_start(&h, steps);
    struct romfs_repl *r = NULL;
    struct romfs_error err = { 0 };
    struct romfs_buf out = { 0 };
    int rc = romfs_repl_open(h.s, &fast, &r, &err);
    if (rc == ROMFS_OK)
        rc = romfs_repl_exec(r, "print(1)", 8, &out, NULL, 0, &err);
    free(r);
    harness_stop(&h);
    CHECK_EQ_U(rc, ROMFS_OK);
    CHECK(h.dev.failure[0] == 0);
    CHECK_EQ_U(out.len, 3);
    romfs_buf_free(&out);
}

static void test_no_answer(void)
{
    static const struct step steps[] = { END };
    struct harness h;
    harness_start(&h, steps);
    struct romfs_repl *r = NULL;
    struct romfs_error err = { 0 };
    int rc = romfs_repl_open(h.s, &fast, &r, &err);
    harness_stop(&h);
    CHECK_EQ_U(rc, ROMFS_ERR_TIMEOUT);
    CHECK(strstr(err.msg, "no answer") != NULL);
    CHECK(r == NULL);
}

static void test_not_micropython(void)
{
    static const struct step steps[] = {
        S(QUICK_IN, "ERROR\r\n"),
        S(BREAK_IN, "ERROR\r\n"),
        S("\r\x01", "ERROR\r\n"),
        END,
    };
    struct harness h;
    harness_start(&h, steps);
    struct romfs_repl *r = NULL;
    struct romfs_error err = { 0 };
    int rc = romfs_repl_open(h.s, &fast, &r, &err);
    harness_stop(&h);
    CHECK_EQ_U(rc, ROMFS_ERR_PROTOCOL);
    CHECK(strstr(err.msg, "not a MicroPython device") != NULL);
    CHECK(strstr(err.msg, "ERROR") != NULL);
}

static void test_soft_reset_and_leave(void)
{
    static const struct step steps[] = {
        ENTER,
        S("\x04", "OK\r\nMPY: soft reboot\r\nboot.py says hi\r\nraw REPL; CTRL-B to exit\r\n>"),
        S("\r\x02", "\r\nMicroPython v1.26\r\n>>> "),
        END,
    };
    struct harness h;
    harness_start(&h, steps);
    struct romfs_repl *r = NULL;
    struct romfs_error err = { 0 };
    struct romfs_buf boot = { 0 };
    int rc = romfs_repl_open(h.s, &fast, &r, &err);
    if (rc == ROMFS_OK)
        rc = romfs_repl_soft_reset(r, &boot, 0, &err);
    romfs_repl_close(r);
    usleep(50000);
    harness_stop(&h);
    CHECK_EQ_U(rc, ROMFS_OK);
    CHECK(h.dev.failure[0] == 0);
    CHECK(boot.data && strstr(boot.data, "boot.py says hi") != NULL);
    romfs_buf_free(&boot);
}

static void test_raw_paste_early_end(void)
{
    /* the device stops reception (\x04) mid-code; the host acknowledges with \x04 */
    static const struct step steps[] = {
        ENTER,
        SQ("\x05" "A\x01", "R\x01\x04\x00"),
        SQ("abcd", "\x04"),
        S("\x04", "\x04Traceback:\r\nSyntaxError: invalid syntax\r\n\x04>"),
        S("\r\x02", "\r\n>>> "),
        END,
    };
    struct harness h;
    harness_start(&h, steps);
    struct romfs_repl *r = NULL;
    struct romfs_error err = { 0 };
    int rc = romfs_repl_open(h.s, &fast, &r, &err);
    if (rc == ROMFS_OK)
        rc = romfs_repl_exec(r, "abcdefgh", 8, NULL, NULL, 0, &err);
    romfs_repl_close(r);
    usleep(50000);
    harness_stop(&h);
    if (h.dev.failure[0])
        printf("    device: %s\n", h.dev.failure);
    CHECK_EQ_U(rc, ROMFS_ERR_DEVICE);
    CHECK(strstr(err.msg, "SyntaxError") != NULL);
}

static void test_usb_id_parse_and_known_ids(void)
{
    struct romfs_usb_id id;
    CHECK(romfs_usb_id_parse("f055:9800", &id));
    CHECK_EQ_U(id.vid, 0xf055);
    CHECK_EQ_U(id.pid, 0x9800);
    CHECK(romfs_usb_id_parse("2E8A:0005", &id));
    CHECK_EQ_U(id.vid, 0x2e8a);
    CHECK(!romfs_usb_id_parse("f055", &id));
    CHECK(!romfs_usb_id_parse("f055:9800x", &id));
    CHECK(!romfs_usb_id_parse("10000:1", &id));
    CHECK(!romfs_usb_id_parse(NULL, &id));
    bool pyboard = false;
    for (size_t i = 0; romfs_micropython_usb_ids[i].what; i++)
        pyboard |= romfs_micropython_usb_ids[i].vid == 0xf055 && romfs_micropython_usb_ids[i].pid == 0x9800;
    CHECK(pyboard);
}

int main(void)
{
    romfs_repl_test_sync_mark("rfsyncT");
    RUN(test_raw_paste_exec_docs_example);
    RUN(test_raw_paste_respects_window);
    RUN(test_fallback_plain_raw_on_R00);
    RUN(test_fallback_plain_raw_on_old_firmware);
    RUN(test_exception_keeps_streams_apart);
    RUN(test_busy_board_gets_the_long_break_in);
    RUN(test_board_reset_by_the_open_gets_a_second_try);
    RUN(test_no_answer);
    RUN(test_not_micropython);
    RUN(test_soft_reset_and_leave);
    RUN(test_raw_paste_early_end);
    RUN(test_usb_id_parse_and_known_ids);
    UNIT_EXIT();
}
