/* repl_target.c: a ROMFS partition on a MicroPython board as a struct romfs_target.
 *
 * Two ways of moving bytes (flash/repl.h): the serve loop (templates/device/serve.py),
 * where erase/write/hash/read requests are pipelined as raw bytes on the device's stdin,
 * in the protocol of templates/device/serve_protocol.def (flash/serve_protocol.h, made by
 * the build: SERVE_* here, _RF_* on the device); and one exec per request with an
 * encoding the device can decode. Offsets and lengths are 64-bit on both paths. Contiguous prog()
 * calls are gathered into batches of up to BATCH_MAX bytes, compressed as one raw
 * deflate stream (window 2**DEFLATE_WBITS, which the device must allocate). */
#include "flash/repl_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "flash/serve_protocol.h"
#include "base/cancel.h"

#define BATCH_MAX (32u * 1024u)      /* serve loop: most bytes per write request */
#define BATCH_MIN (4u * 1024u)       /* ... and fewest, on a board with a small heap */
#define EXEC_CHUNK (4u * 1024u)      /* exec path: bytes per exec (as mpremote) */
#define DEFLATE_WBITS 12             /* 4 KiB window on the device */
#define DEFLATE_WBITS_ROOMY 14       /* 16 KiB, where the heap gives 96 KiB at once: two */
#define ROOMY_HEAP (96u * 1024u)     /* batches, the window and a chunk fit */
#define LOOP_SLACK 64                /* device buffer: a batch, or its deflated form, + this */
#define LOOP_WINDOW 1024             /* serve loop: data grant size (2 in flight) */

_Static_assert(SERVE_HEADER == 1 + 3 * SERVE_FIELD, "serve_protocol.def: HEADER is 1 + 3 * FIELD");
/* a client's break-in must complete any read the loop is in, and outwait its idle limit */
_Static_assert(ROMFS_REPL_BREAK_BYTES > SERVE_PIECE,
               "rawrepl.h: the break-in burst must complete any piece the loop is reading");
_Static_assert(ROMFS_REPL_BUSY_WAIT_MS > SERVE_IDLE_MS, "rawrepl.h: wait longer than the loop's idle limit");
_Static_assert(SERVE_FIELD == sizeof(uint64_t), "serve_protocol.def: numbers travel as 64-bit");

struct repl_target {
    struct romfs_repl_session *ses;
    struct romfs_repl *r;
    int part;
    bool object_api;
    int transfer;
    bool serving;         /* the serve loop runs on the device */
    uint32_t batch_max;   /* bytes per write request (from the device's free heap) */
    int wbits;            /* serve loop: deflate window 2**wbits (from the free heap too) */
    unsigned window;      /* serve: flow-control grant size */
    uint64_t credit;      /* serve: data bytes the device will accept now */
    bool in_payload;      /* serve: sending data the loop asked for */
    uint32_t write_size;
    uint32_t erase_size;
    uint8_t *batch;       /* pending contiguous program data */
    uint64_t batch_off;
    size_t batch_len;
    uint64_t payload;
    uint64_t wire_out0, wire_in0;
};

/* ---- serve loop ----------------------------------------------------------------- */

/* The request named by a serve-loop op number, as repl_exception.c names it. */
static const char *serve_op_name(long op)
{
    switch (op) {
    case SERVE_OP_ERASE: return "erase";
    case SERVE_OP_WRITE: return "write";
    case SERVE_OP_HASH: return "hash";
    case SERVE_OP_READ: return "read";
    case SERVE_OP_SYNC: return "finish";
    default: return "command";
    }
}

static int serve_error(struct repl_target *rt, struct romfs_error *err)
{
    /* the device raised: it says which op failed at which offset ("OP OFFSET" on stdout),
       then comes its traceback; after that, back to a clean prompt */
    struct romfs_error e2 = { 0 };
    struct romfs_buf out = { 0 };
    int rc = romfs_repl_finish(rt->r, &out, NULL, SERVE_ERROR_MS, &e2);
    rt->serving = false;
    long op = 0;
    unsigned long long at = 0;
    bool where = out.data && sscanf(out.data, "%ld %llu", &op, &at) == 2;
    romfs_buf_free(&out);
    if (rc == ROMFS_ERR_DEVICE) {
        romfs_set_error(err, ROMFS_ERR_DEVICE, "%s", e2.msg);
        romfs_repl_note_exception(rt->ses, where ? serve_op_name(op) : "command", where, at);
    } else {
        romfs_set_error(err, ROMFS_ERR_DEVICE, "the device's write loop failed (%s)", e2.msg);
    }
    romfs_repl_recover(rt->r, NULL);
    return ROMFS_ERR_DEVICE;
}

/* An exec request failed: when the device raised, note what was asked and where. */
static int failed(struct repl_target *rt, int rc, const char *op, bool has_offset, uint64_t off)
{
    if (rc == ROMFS_ERR_DEVICE)
        romfs_repl_note_exception(rt->ses, op, has_offset, off);
    return rc;
}

/* Handle one byte from the device while serving: a data grant (stale ones, from a
 * payload already sent, are ignored), or an error marker. */
static int serve_byte(struct repl_target *rt, uint8_t c, struct romfs_error *err)
{
    if (c == SERVE_GRANT) {
        if (rt->in_payload)
            rt->credit += rt->window;
        return ROMFS_OK;
    }
    if (c == SERVE_FAILED)
        return serve_error(rt, err);
    return romfs_set_error(err, ROMFS_ERR_PROTOCOL,
                           "unexpected byte 0x%02x from the device's write loop", c);
}

/* Act on whatever the device has sent already, without waiting. */
static int serve_poll(struct repl_target *rt, struct romfs_error *err)
{
    while (romfs_repl_input_waiting(rt->r)) {
        uint8_t c;
        int n = romfs_repl_read(rt->r, &c, 1, 0, err);
        if (n < 0)
            return n;
        if (n == 0)
            break;
        int rc = serve_byte(rt, c, err);
        if (rc != ROMFS_OK)
            return rc;
    }
    return ROMFS_OK;
}

/* Read one byte, waiting up to timeout_ms. */
static int read_byte(struct repl_target *rt, uint8_t *c, int timeout_ms, const char *what,
                     struct romfs_error *err)
{
    int n = romfs_repl_read(rt->r, c, 1, timeout_ms, err);
    if (n < 0)
        return n;
    if (n == 0)
        return romfs_set_error(err, ROMFS_ERR_TIMEOUT, "no answer from the device within %d ms "
                               "(waiting for %s)", timeout_ms, what);
    return ROMFS_OK;
}

static int serve_send(struct repl_target *rt, const void *data, size_t len, struct romfs_error *err)
{
    const uint8_t *p = data;
    while (len) {
        while (rt->credit == 0 || romfs_repl_input_waiting(rt->r)) {
            uint8_t c;
            int rc = read_byte(rt, &c, romfs_repl_timeout_ms(rt->r), "flow control", err);
            if (rc == ROMFS_OK)
                rc = serve_byte(rt, c, err);
            if (rc != ROMFS_OK)
                return rc;
        }
        size_t n = len < rt->credit ? len : (size_t)rt->credit;
        int rc = romfs_repl_write(rt->r, p, n, err);
        if (rc != ROMFS_OK)
            return rc;
        p += n;
        len -= n;
        rt->credit -= n;
    }
    return ROMFS_OK;
}

/* Whether byte c travels escaped (serve_protocol.def: 0x01..0x05 and ESCAPE). */
static bool must_escape(uint8_t c)
{
    return (c >= 0x01 && c <= 0x05) || c == SERVE_ESCAPE;
}

size_t repl_serve_escape(const uint8_t *in, size_t len, uint8_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (must_escape(in[i])) {
            out[o++] = SERVE_ESCAPE;
            out[o++] = in[i] ^ 0x40;
        } else {
            out[o++] = in[i];
        }
    }
    return o;
}

void repl_serve_header(uint8_t h[SERVE_HEADER], char op, uint64_t a, uint64_t b, uint64_t c)
{
    const uint64_t v[3] = { a, b, c };
    h[0] = (uint8_t)op;
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < SERVE_FIELD; k++)
            h[1 + SERVE_FIELD * i + k] = (uint8_t)(v[i] >> (8 * k));
}

/* A command header: sent without flow control (the loop reads headers whenever it is
 * idle; at most one waits while it erases or writes). */
static int serve_command(struct repl_target *rt, char op, uint64_t a, uint64_t b, uint64_t c,
                         struct romfs_error *err)
{
    uint8_t h[SERVE_HEADER], wire[2 * SERVE_HEADER];
    repl_serve_header(h, op, a, b, c);
    size_t n = repl_serve_escape(h, sizeof h, wire);
    int rc = serve_poll(rt, err);
    return rc != ROMFS_OK ? rc : romfs_repl_write(rt->r, wire, n, err);
}

/* Wait for the reply marker `mark` (handling grants meanwhile). */
static int serve_wait(struct repl_target *rt, uint8_t mark, int timeout_ms, const char *what,
                      struct romfs_error *err)
{
    for (;;) {
        uint8_t c;
        int rc = read_byte(rt, &c, timeout_ms, what, err);
        if (rc != ROMFS_OK)
            return rc;
        if (c == mark)
            return ROMFS_OK;
        rc = serve_byte(rt, c, err);
        if (rc != ROMFS_OK)
            return rc;
    }
}

/* Data for the command just sent: wait until the loop asks for it, then send it under
 * its grants. */
static int serve_payload(struct repl_target *rt, const void *data, size_t len,
                         struct romfs_error *err)
{
    int rc = serve_wait(rt, SERVE_READY, romfs_repl_timeout_ms(rt->r), "the write loop to ask for data",
                        err);
    if (rc != ROMFS_OK)
        return rc;
    rt->in_payload = true;
    rt->credit = 2 * (uint64_t)rt->window;
    rc = serve_send(rt, data, len, err);
    rt->in_payload = false;
    rt->credit = 0;
    return rc;
}

static int serve_start(struct repl_target *rt, struct romfs_error *err)
{
    if (rt->serving)
        return ROMFS_OK;
    int rc;
    if (!rt->ses->serve_loaded) {
        rc = repl_send_template(rt->ses, SERVE_PROTOCOL_PY, "device/serve.py", err);
        if (rc != ROMFS_OK)
            return rc;
        rt->ses->serve_loaded = true;
    }
    unsigned piece = SERVE_PIECE;
    char code[96];
    int n = snprintf(code, sizeof code, "_rf_serve(%u,%d,%u,%u)", rt->window, rt->wbits,
                     rt->batch_max + LOOP_SLACK, piece);
    rc = romfs_repl_exec_start(rt->r, code, (size_t)n, err);
    if (rc != ROMFS_OK)
        return rc;
    rt->serving = true;
    rt->credit = 0;
    rt->in_payload = false;
    return serve_wait(rt, SERVE_READY, romfs_repl_timeout_ms(rt->r), "the write loop to start", err);
}

static int serve_stop(struct repl_target *rt, struct romfs_error *err)
{
    if (!rt->serving)
        return ROMFS_OK;
    int rc = serve_command(rt, SERVE_OP_STOP, 0, 0, 0, err);
    if (rc == ROMFS_OK)
        rc = serve_wait(rt, SERVE_STOPPED, romfs_repl_timeout_ms(rt->r), "the end of the write loop", err);
    if (rc != ROMFS_OK)
        return rc;
    rt->serving = false;
    return romfs_repl_finish(rt->r, NULL, NULL, 0, err);
}

/* ---- encodings for the exec path -------------------------------------------------- */

int repl_deflate_raw(const uint8_t *in, size_t len, int wbits, uint8_t **out, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 9, Z_DEFLATED, -wbits, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return ROMFS_ERR_NOMEM;
    size_t cap = deflateBound(&z, (uLong)len) + 16;
    *out = malloc(cap);
    if (!*out) {
        deflateEnd(&z);
        return ROMFS_ERR_NOMEM;
    }
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = *out;
    z.avail_out = (uInt)cap;
    int zr = deflate(&z, Z_FINISH);
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    if (zr != Z_STREAM_END) {
        free(*out);
        return ROMFS_ERR_NOMEM;
    }
    return ROMFS_OK;
}

/* The data encoders of the exec path: each appends d[0..n) as the text inside a Python
 * literal; an allocation failure sticks in b (checked once by exec_write). */
void repl_put_base64(struct romfs_buf *b, const uint8_t *d, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0) |
                     (i + 2 < n ? d[i + 2] : 0);
        char q[4] = { tab[v >> 18], tab[(v >> 12) & 63], i + 1 < n ? tab[(v >> 6) & 63] : '=',
                      i + 2 < n ? tab[v & 63] : '=' };
        romfs_buf_append(b, q, 4);
    }
}

static void put_hex(struct romfs_buf *b, const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        romfs_buf_printf(b, "%02x", d[i]);
}

static void put_repr(struct romfs_buf *b, const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (d[i] >= 0x20 && d[i] < 0x7f && d[i] != '\\' && d[i] != '\'')
            romfs_buf_append(b, &d[i], 1);
        else
            romfs_buf_printf(b, "\\x%02x", d[i]);
    }
}

/* One exec writing d[0..n) at off in the session's encoding. */
static int exec_write(struct repl_target *rt, uint64_t off, const uint8_t *d, size_t n,
                      struct romfs_error *err)
{
    struct romfs_buf code = { 0 };
    uint8_t *z = NULL;
    size_t zn = 0;
    romfs_buf_printf(&code, "_rf_w(%llu,", (unsigned long long)off);
    switch (rt->transfer) {
    case ROMFS_TRANSFER_DEFLATE_BASE64:
        if (repl_deflate_raw(d, n, DEFLATE_WBITS, &z, &zn) != ROMFS_OK) {
            romfs_buf_free(&code);
            return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory compressing");
        }
        romfs_buf_puts(&code, "DeflateIO(BytesIO(a2b_base64(b'");
        repl_put_base64(&code, z, zn);
        romfs_buf_printf(&code, "')),RAW,%d).read())", DEFLATE_WBITS);
        free(z);
        break;
    case ROMFS_TRANSFER_BASE64:
        romfs_buf_puts(&code, "a2b_base64(b'");
        repl_put_base64(&code, d, n);
        romfs_buf_puts(&code, "'))");
        break;
    case ROMFS_TRANSFER_HEX:
        romfs_buf_puts(&code, "bytes.fromhex('");
        put_hex(&code, d, n);
        romfs_buf_puts(&code, "'))");
        break;
    default:
        romfs_buf_puts(&code, "b'");
        put_repr(&code, d, n);
        romfs_buf_puts(&code, "')");
        break;
    }
    int rc = code.failed ? romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory")
                         : romfs_repl_exec(rt->r, code.data, code.len, NULL, NULL, 0, err);
    romfs_buf_free(&code);
    return failed(rt, rc, "write", true, off);
}

/* ---- batching and the target callbacks ------------------------------------------- */

static int flush_batch(struct repl_target *rt, struct romfs_error *err)
{
    if (!rt->batch_len)
        return ROMFS_OK;
    const uint8_t *d = rt->batch;
    size_t n = rt->batch_len;
    uint64_t off = rt->batch_off;
    rt->batch_len = 0;
    int rc = ROMFS_OK;
    if (rt->transfer == ROMFS_TRANSFER_RAW_DEFLATE || rt->transfer == ROMFS_TRANSFER_RAW) {
        rc = serve_start(rt, err);
        uint8_t *z = NULL;
        size_t zn = n;
        if (rc == ROMFS_OK && rt->transfer == ROMFS_TRANSFER_RAW_DEFLATE &&
            repl_deflate_raw(d, n, rt->wbits, &z, &zn) != ROMFS_OK)
            rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory compressing");
        if (rc == ROMFS_OK && (!z || zn >= n)) {  /* incompressible: send as is */
            free(z);
            z = NULL;
            zn = n;
        }
        /* on the wire escaped: the header gives the escaped length */
        uint8_t *wire = rc == ROMFS_OK ? malloc(2 * zn + 1) : NULL;
        size_t wn = 0;
        if (rc == ROMFS_OK && !wire)
            rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
        if (rc == ROMFS_OK)
            wn = repl_serve_escape(z ? z : d, zn, wire);
        if (rc == ROMFS_OK)
            rc = serve_command(rt, SERVE_OP_WRITE, off, n, wn, err);
        if (rc == ROMFS_OK)
            rc = serve_payload(rt, wire, wn, err);
        free(wire);
        free(z);
    } else {
        for (size_t k = 0; rc == ROMFS_OK && k < n; k += EXEC_CHUNK)
            rc = exec_write(rt, off + k, d + k, n - k < EXEC_CHUNK ? n - k : EXEC_CHUNK, err);
    }
    if (rc == ROMFS_OK)
        rt->payload += n;
    return rc;
}

static bool serve_mode(const struct repl_target *rt)
{
    return rt->transfer == ROMFS_TRANSFER_RAW_DEFLATE || rt->transfer == ROMFS_TRANSFER_RAW;
}

static int t_erase(void *ctx, uint64_t off, uint64_t len, struct romfs_error *err)
{
    struct repl_target *rt = ctx;
    int rc = flush_batch(rt, err);
    if (rc != ROMFS_OK)
        return rc;
    if (serve_mode(rt)) {
        rc = serve_start(rt, err);
        return rc != ROMFS_OK ? rc : serve_command(rt, SERVE_OP_ERASE, off, len, rt->write_size,
                                                   err);
    }
    rc = repl_execf(rt->ses, NULL, SERVE_ERASE_MS, err, "_rf_erase(%llu,%llu,%u)",
                    (unsigned long long)off, (unsigned long long)len, rt->write_size);
    return failed(rt, rc, "erase", true, off);
}

static int t_prog(void *ctx, uint64_t off, const void *buf, size_t len, struct romfs_error *err)
{
    struct repl_target *rt = ctx;
    if (rt->batch_len && (off != rt->batch_off + rt->batch_len || rt->batch_len + len > rt->batch_max)) {
        int rc = flush_batch(rt, err);
        if (rc != ROMFS_OK)
            return rc;
    }
    if (len > rt->batch_max)
        return romfs_set_error(err, ROMFS_ERR_INVAL, "program request of %zu bytes too large", len);
    if (!rt->batch_len)
        rt->batch_off = off;
    memcpy(rt->batch + rt->batch_len, buf, len);
    rt->batch_len += len;
    return ROMFS_OK;
}

static int t_sync(void *ctx, struct romfs_error *err)
{
    struct repl_target *rt = ctx;
    int rc = flush_batch(rt, err);
    if (rc != ROMFS_OK)
        return rc;
    if (serve_mode(rt) && rt->serving)
        return serve_command(rt, SERVE_OP_SYNC, 0, 0, 0, err);
    return failed(rt, repl_execf(rt->ses, NULL, 0, err, "_rf_sync()"), "finish", false, 0);
}

/* Serve loop: a request answered by REPLY and n bytes, which go to out. */
static int serve_ask(struct repl_target *rt, char op, uint64_t off, uint64_t len, uint64_t arg,
                     const char *what, void *out, size_t n, struct romfs_error *err)
{
    int timeout_ms = romfs_repl_timeout_ms(rt->r);
    size_t got = 0;
    int rc = serve_start(rt, err);
    if (rc == ROMFS_OK)
        rc = serve_command(rt, op, off, len, arg, err);
    if (rc == ROMFS_OK)
        rc = serve_wait(rt, SERVE_REPLY, timeout_ms, what, err);
    if (rc == ROMFS_OK)
        rc = romfs_repl_read_full(rt->r, out, n, timeout_ms, &got, err);
    if (rc == ROMFS_OK && got < n)
        rc = romfs_set_error(err, ROMFS_ERR_TIMEOUT, "the device stopped answering mid-reply");
    return rc;
}

static int t_hash(void *ctx, uint64_t off, uint64_t len, uint8_t (*out)[32], struct romfs_error *err)
{
    struct repl_target *rt = ctx;
    int rc = flush_batch(rt, err);
    if (rc != ROMFS_OK)
        return rc;
    uint64_t nblocks = len / rt->erase_size;
    if (serve_mode(rt))
        return serve_ask(rt, SERVE_OP_HASH, off, len, rt->erase_size, "block hashes", out,
                         nblocks * 32, err);
    struct romfs_buf txt = { 0 };
    rc = repl_execf(rt->ses, &txt, SERVE_HASH_MS, err, "_rf_hex(%llu,%llu,%u)",
                    (unsigned long long)off, (unsigned long long)len, rt->erase_size);
    failed(rt, rc, "hash", true, off);
    const char *p = txt.data;
    for (uint64_t i = 0; rc == ROMFS_OK && i < nblocks; i++) {
        while (p && (*p == '\r' || *p == '\n'))
            p++;
        if (!p || repl_hex_decode(p, strlen(p), out[i], 32) != 0)
            rc = romfs_set_error(err, ROMFS_ERR_PROTOCOL, "device sent %llu block hashes, "
                                 "expected %llu", (unsigned long long)i, (unsigned long long)nblocks);
        else
            p += 64;
    }
    romfs_buf_free(&txt);
    return rc;
}

/* One SHA-256 of a range by a short exec, never the write loop: a re-run that changes
 * nothing does not send the loop at all. */
static int t_hash_range(void *ctx, uint64_t off, uint64_t len, uint8_t out[32], struct romfs_error *err)
{
    struct repl_target *rt = ctx;
    int rc = flush_batch(rt, err);
    if (rc == ROMFS_OK)
        rc = serve_stop(rt, err);
    if (rc != ROMFS_OK)
        return rc;
    struct romfs_buf txt = { 0 };
    rc = repl_execf(rt->ses, &txt, SERVE_HASH_MS, err, "print(_rf_hexs(_rf_sha(%llu,%llu)))",
                    (unsigned long long)off, (unsigned long long)len);
    failed(rt, rc, "hash", true, off);
    const char *p = txt.data;
    while (p && (*p == '\r' || *p == '\n'))
        p++;
    if (rc == ROMFS_OK && (!p || repl_hex_decode(p, strlen(p), out, 32) != 0))
        rc = romfs_set_error(err, ROMFS_ERR_PROTOCOL, "device sent no SHA-256 of the image range");
    romfs_buf_free(&txt);
    return rc;
}

static int t_read(void *ctx, uint64_t off, void *buf, size_t len, struct romfs_error *err)
{
    struct repl_target *rt = ctx;
    int rc = flush_batch(rt, err);
    if (rc != ROMFS_OK)
        return rc;
    if (serve_mode(rt))
        return serve_ask(rt, SERVE_OP_READ, off, len, 0, "flash contents", buf, len, err);
    struct romfs_buf txt = { 0 };
    rc = repl_execf(rt->ses, &txt, 0, err,
                    "print(_rf_hexs(_rf_read(%llu,%zu)))",
                    (unsigned long long)off, len);
    failed(rt, rc, "read", true, off);
    if (rc == ROMFS_OK && (!txt.data || repl_hex_decode(txt.data, txt.len, buf, len) != 0))
        rc = romfs_set_error(err, ROMFS_ERR_PROTOCOL, "device sent an unreadable flash read");
    romfs_buf_free(&txt);
    return rc;
}

static void t_close(void *ctx)
{
    struct repl_target *rt = ctx;
    struct romfs_error e = { 0 };
    if (rt->serving && romfs_cancelled()) {
        /* interrupted, perhaps in the middle of a command: Ctrl-C stops the loop wherever
           it is (it never occurs in the escaped stream), and the rest of the command is
           never written */
        rt->serving = false;
        romfs_repl_interrupt(rt->r);
    } else if (rt->serving && serve_stop(rt, &e) != ROMFS_OK) {
        rt->serving = false;
        romfs_repl_recover(rt->r, NULL);
    }
    rt->ses->target_busy = false;
    free(rt->batch);
    free(rt);
}

static int t_set_units(void *ctx, uint32_t erase_size, uint32_t write_size, struct romfs_error *err)
{
    struct repl_target *rt = ctx;
    if (!erase_size || erase_size % rt->erase_size || !write_size || erase_size % write_size)
        return romfs_set_error(err, ROMFS_ERR_INVAL, "repl: erase blocks of %u bytes and write "
                               "units of %u do not suit the device's %u-byte erase blocks",
                               erase_size, write_size, rt->erase_size);
    int rc = flush_batch(rt, err);
    if (rc == ROMFS_OK) {
        rt->erase_size = erase_size;
        rt->write_size = write_size;
    }
    return rc;
}

static int choose_transfer(unsigned caps, int wanted, struct romfs_error *err)
{
    static const struct { int transfer; unsigned needs; const char *what; } table[] = {
        { ROMFS_TRANSFER_RAW_DEFLATE,
          ROMFS_CAP_STDIO_BUFFER | ROMFS_CAP_KBD_INTR | ROMFS_CAP_DEFLATE | ROMFS_CAP_BYTESIO,
          "sys.stdin.buffer, micropython.kbd_intr, deflate.DeflateIO and io.BytesIO" },
        { ROMFS_TRANSFER_RAW, ROMFS_CAP_STDIO_BUFFER | ROMFS_CAP_KBD_INTR,
          "sys.stdin.buffer and micropython.kbd_intr" },
        { ROMFS_TRANSFER_DEFLATE_BASE64, ROMFS_CAP_DEFLATE | ROMFS_CAP_BYTESIO | ROMFS_CAP_BINASCII,
          "deflate.DeflateIO, io.BytesIO and binascii.a2b_base64" },
        { ROMFS_TRANSFER_BASE64, ROMFS_CAP_BINASCII, "binascii.a2b_base64" },
        { ROMFS_TRANSFER_HEX, ROMFS_CAP_FROMHEX, "bytes.fromhex" },
        { ROMFS_TRANSFER_REPR, 0, "" },
    };
    for (size_t i = 0; i < sizeof table / sizeof *table; i++) {
        bool ok = (caps & table[i].needs) == table[i].needs;
        if (wanted == ROMFS_TRANSFER_AUTO && ok)
            return table[i].transfer;
        if (wanted == table[i].transfer) {
            if (ok)
                return wanted;
            return romfs_set_error(err, ROMFS_ERR_DEVICE,
                                   "transfer \"%s\" needs %s, which the device lacks",
                                   romfs_transfer_name(wanted), table[i].what);
        }
    }
    return romfs_set_error(err, ROMFS_ERR_INVAL, "unknown transfer %d", wanted);
}

int romfs_repl_session_prepare(struct romfs_repl_session *ses, int transfer, struct romfs_error *err)
{
    if (ses->target_busy)
        return romfs_set_error(err, ROMFS_ERR_INVAL, "the REPL session has a target open");
    if (!(ses->caps & ROMFS_CAP_ROM_IOCTL))
        return ROMFS_OK;   /* nothing will be written: target_open says why */
    transfer = choose_transfer(ses->caps, transfer, err);
    if (transfer < 0)
        return transfer;
    bool serve = (transfer == ROMFS_TRANSFER_RAW_DEFLATE || transfer == ROMFS_TRANSFER_RAW) &&
                 !ses->serve_loaded;
    const char *names[3] = { NULL };
    size_t n = 0;
    if (ses->helper_lost)
        names[n++] = "device/helper.py";
    if (serve)
        names[n++] = "device/serve.py";
    if (n == 0)
        return ROMFS_OK;
    int rc = repl_send_templates(ses, serve ? SERVE_PROTOCOL_PY : NULL, names, err);
    if (rc == ROMFS_OK) {
        ses->helper_lost = false;
        ses->serve_loaded = ses->serve_loaded || serve;
    }
    return rc;
}

int romfs_repl_target_open(struct romfs_repl_session *ses, const struct romfs_repl_target_options *opt,
                           struct romfs_target *t, struct romfs_error *err)
{
    memset(t, 0, sizeof *t);
    if (ses->target_busy)
        return romfs_set_error(err, ROMFS_ERR_INVAL, "the REPL session already has a target open");
    if (!(ses->caps & ROMFS_CAP_ROM_IOCTL))
        return romfs_set_error(err, ROMFS_ERR_DEVICE,
                               "ROMFS is not enabled on this device (no vfs.rom_ioctl)");
    if (opt->partition < 0 || opt->partition >= ses->n_partitions)
        return romfs_set_error(err, ROMFS_ERR_NOENT, "the device has no ROMFS partition %d "
                               "(it has %d)", opt->partition, ses->n_partitions);
    int transfer = choose_transfer(ses->caps, opt->transfer, err);
    if (transfer < 0)
        return transfer;
    if (ses->helper_lost) {
        int rc = romfs_repl_session_prepare(ses, transfer, err);
        if (rc != ROMFS_OK)
            return rc;
    }
    const char *api = opt->api == ROMFS_API_ROM_IOCTL ? "rom" : opt->api == ROMFS_API_OBJECT ? "obj" : "";
    struct romfs_buf out = { 0 };
    int rc = repl_execf(ses, &out, 0, err,
                        "s,b,o=_rf_open(%d,'%s');print(s,b,int(o),_rf['w'],int(_rf['p']))",
                        opt->partition, api);
    if (rc == ROMFS_ERR_DEVICE)
        romfs_repl_note_exception(ses, "open", false, 0);
    unsigned long long size = 0;
    unsigned bs = 0, dev_ws = 0;
    int obj = 0, from_start = 0;
    if (rc == ROMFS_OK && (!out.data ||
                           sscanf(out.data, "%llu %u %d %u %d", &size, &bs, &obj, &dev_ws, &from_start) != 5 ||
                           bs == 0 || (bs & (bs - 1)) || size % bs || (dev_ws & (dev_ws - 1))))
        rc = romfs_set_error(err, ROMFS_ERR_PROTOCOL, "device reported an unusable partition "
                             "geometry: %.80s", out.data ? out.data : "(nothing)");
    romfs_buf_free(&out);
    if (rc == ROMFS_OK && transfer == ROMFS_TRANSFER_DEFLATE_BASE64)
        rc = repl_execf(ses, NULL, 0, err,
                        "from binascii import a2b_base64;from deflate import DeflateIO,RAW;"
                        "from io import BytesIO");
    else if (rc == ROMFS_OK && transfer == ROMFS_TRANSFER_BASE64)
        rc = repl_execf(ses, NULL, 0, err, "from binascii import a2b_base64");
    if (rc != ROMFS_OK)
        return romfs_error_prefix(err, "opening ROMFS partition %d", opt->partition);

    /* A batch costs the device two blocks of its size at once (the loop's buffer, and
       the copy the inflater reads from): at most half the largest block it can give. */
    uint32_t batch = BATCH_MAX;
    while (batch > BATCH_MIN && ses->mem_free && (uint64_t)batch * 2 > ses->mem_free)
        batch /= 2;
    struct repl_target *rt = calloc(1, sizeof *rt);
    if (rt) {
        rt->batch_max = batch;
        rt->wbits = ses->mem_free >= ROOMY_HEAP ? DEFLATE_WBITS_ROOMY : DEFLATE_WBITS;
        rt->batch = malloc(batch);
    }
    if (!rt || !rt->batch) {
        free(rt);
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    }
    rt->ses = ses;
    rt->r = ses->repl;
    rt->part = opt->partition;
    rt->object_api = obj != 0;
    rt->transfer = transfer;
    rt->window = LOOP_WINDOW;
    rt->erase_size = bs;
    /* the device's own write unit where it reports one (vfs.rom_ioctl(3)); else the one
       the caller knows (the board's), else 256 */
    uint32_t ws = dev_ws ? dev_ws : opt->write_size ? opt->write_size : 256;
    if (ws > bs)
        ws = bs;
    rt->write_size = ws;
    rt->wire_out0 = romfs_serial_bytes_written(ses->serial);
    rt->wire_in0 = romfs_serial_bytes_read(ses->serial);
    ses->target_busy = true;

    *t = (struct romfs_target){
        .name = "repl",
        .ctx = rt,
        .size = size,
        .erase_size = bs,
        .write_size = ws,
        .max_transfer = bs < rt->batch_max ? bs : rt->batch_max,
        .erase_from_start = from_start != 0,
        .erase = t_erase,
        .prog = t_prog,
        .sync = t_sync,
        .read = t_read,
        .set_units = t_set_units,
        /* rom_ioctl(6) or ioctl(5) gave the erase block (a device without rom_ioctl(6)
           gives none: the whole partition is then the target's unit) */
        .device_erase_size = bs != size ? bs : 0,
        .device_erase_source = bs != size ? (obj ? "the partition object's ioctl(5)" : "vfs.rom_ioctl(6)")
                                          : NULL,
        .device_write_size = dev_ws,
        .device_write_source = dev_ws ? "vfs.rom_ioctl(3)" : NULL,
    };
    if (ses->caps & ROMFS_CAP_HASHLIB) {
        t->hash_blocks = t_hash;
        t->hash_range = t_hash_range;
    }
    t->close = t_close;
    return ROMFS_OK;
}

void romfs_repl_target_stats(const struct romfs_target *t, struct romfs_repl_stats *stats)
{
    const struct repl_target *rt = t->ctx;
    memset(stats, 0, sizeof *stats);
    stats->transfer = rt->transfer;
    stats->payload_bytes = rt->payload;
    stats->wire_bytes_out = romfs_serial_bytes_written(rt->ses->serial) - rt->wire_out0;
    stats->wire_bytes_in = romfs_serial_bytes_read(rt->ses->serial) - rt->wire_in0;
}
