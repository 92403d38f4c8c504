/* gdbremote.c: GDB remote serial protocol client, the packet layer (packets, checksums,
 * acks, no-ack mode, RLE, requests and their error replies). Memory, flash and target
 * control requests are in gdbremote_ops.c; connecting, the handshake and attaching in
 * gdbremote_connect.c, which uses both. */
#include "transport/gdbremote.h"
#include "transport/gdbremote_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport/serial.h"
#include "base/clock.h"

#define GDB_DEFAULT_TIMEOUT_MS 5000
#define GDB_DEFAULT_PACKET_SIZE 400  /* what GDB assumes without a PacketSize feature */
#define GDB_MAX_REPLY (4u << 20)     /* refuse replies larger than this */
#define GDB_MAX_RETRIES 5

static const char hex_digits[] = "0123456789abcdef";

int gdb_hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* ---- transport ---- */

static int transport_write(struct romfs_gdb *g, const uint8_t *data, size_t len,
                           struct romfs_error *err)
{
    if (g->port) {
        int rc = romfs_serial_write(g->port, data, len, g->timeout_ms, err);
        if (rc < 0)
            return romfs_error_prefix(err, "%s", g->name);
        g->stats.bytes_sent += len;
        return ROMFS_OK;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = send(g->fd, data + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == ENOTSOCK)
            n = write(g->fd, data + done, len - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                struct pollfd p = { .fd = g->fd, .events = POLLOUT };
                if (poll(&p, 1, g->timeout_ms) <= 0)
                    return romfs_set_error(err, ROMFS_ERR_TIMEOUT,
                                           "%s: timed out sending to the GDB server", g->name);
                continue;
            }
            return romfs_set_errno(err, ROMFS_ERR_IO, errno, "%s: send failed", g->name);
        }
        done += (size_t)n;
    }
    g->stats.bytes_sent += len;
    return ROMFS_OK;
}

/* Fill the input buffer; waits at most until deadline (ms, monotonic). */
static int transport_fill(struct romfs_gdb *g, long long deadline, struct romfs_error *err)
{
    if (g->rx_pos == g->rx_len)
        g->rx_pos = g->rx_len = 0;
    long long left = deadline - romfs_now_ms();
    if (left <= 0)
        return romfs_set_error(err, ROMFS_ERR_TIMEOUT,
                               "%s: no reply from the GDB server within %d ms", g->name,
                               g->timeout_ms);
    size_t space = sizeof g->rx - g->rx_len;
    ssize_t n;
    if (g->port) {
        int r = romfs_serial_read(g->port, g->rx + g->rx_len, space,
                                  left > 1000000 ? 1000000 : (int)left, err);
        if (r < 0)
            return romfs_error_prefix(err, "%s", g->name);
        n = r;
    } else {
        struct pollfd p = { .fd = g->fd, .events = POLLIN };
        int pr = poll(&p, 1, (int)left);
        if (pr < 0) {
            if (errno == EINTR)
                return ROMFS_OK;
            return romfs_set_errno(err, ROMFS_ERR_IO, errno, "%s: poll failed", g->name);
        }
        if (pr == 0) {
            n = 0;
        } else {
            n = read(g->fd, g->rx + g->rx_len, space);
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return ROMFS_OK;
            if (n < 0)
                return romfs_set_errno(err, ROMFS_ERR_IO, errno, "%s: read failed", g->name);
            if (n == 0)
                return romfs_set_error(err, ROMFS_ERR_IO,
                                       "%s: the GDB server closed the connection", g->name);
        }
    }
    if (n == 0)
        return romfs_now_ms() >= deadline
                   ? romfs_set_error(err, ROMFS_ERR_TIMEOUT,
                                     "%s: no reply from the GDB server within %d ms", g->name,
                                     g->timeout_ms)
                   : ROMFS_OK;
    g->rx_len += (size_t)n;
    g->stats.bytes_received += (uint64_t)n;
    return ROMFS_OK;
}

static int next_byte(struct romfs_gdb *g, long long deadline, struct romfs_error *err)
{
    while (g->rx_pos == g->rx_len) {
        int rc = transport_fill(g, deadline, err);
        if (rc < 0)
            return rc;
    }
    return g->rx[g->rx_pos++];
}

int gdb_send_raw(struct romfs_gdb *g, const uint8_t *data, size_t len, struct romfs_error *err)
{
    return transport_write(g, data, len, err);
}

/* ---- framing ---- */

size_t romfs_gdb_unescape(uint8_t *data, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '}') {
            if (++i == len)
                return (size_t)-1;
            data[o++] = data[i] ^ 0x20;
        } else {
            data[o++] = data[i];
        }
    }
    return o;
}

size_t romfs_gdb_escape(const uint8_t *src, size_t len, uint8_t *dst, size_t dst_cap,
                        size_t *dst_len)
{
    size_t i = 0, o = 0;
    for (; i < len; i++) {
        uint8_t c = src[i];
        bool esc = c == '#' || c == '$' || c == '}' || c == '*';
        if (o + (esc ? 2u : 1u) > dst_cap)
            break;
        if (esc) {
            dst[o++] = '}';
            dst[o++] = c ^ 0x20;
        } else {
            dst[o++] = c;
        }
    }
    *dst_len = o;
    return i;
}

/* Expand run-length encoding ("X*n" repeats X n-29 more times) of a checked payload. */
static int rle_expand(const uint8_t *p, size_t n, uint8_t **out, size_t *out_len,
                      struct romfs_error *err)
{
    size_t cap = n + 1, o = 0;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory for a GDB reply");
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '*') {
            buf[o++] = p[i];
            continue;
        }
        if (o == 0 || i + 1 == n || p[i + 1] < 29 + 3 || p[i + 1] > 126) {
            free(buf);
            return romfs_set_error(err, ROMFS_ERR_CORRUPT,
                                   "bad run-length encoding at byte %zu of a GDB reply", i);
        }
        size_t repeat = (size_t)(p[++i] - 29);
        if (o + repeat + (n - i) + 1 > cap) {
            if (o + repeat + n > GDB_MAX_REPLY) {
                free(buf);
                return romfs_set_error(err, ROMFS_ERR_CORRUPT, "GDB reply too large");
            }
            cap = o + repeat + n + 1;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory for a GDB reply");
            }
            buf = nb;
        }
        memset(buf + o, buf[o - 1], repeat);
        o += repeat;
    }
    buf[o] = 0;
    *out = buf;
    *out_len = o;
    return ROMFS_OK;
}

static uint8_t checksum(const uint8_t *p, size_t n)
{
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += p[i];
    return (uint8_t)sum;
}

int romfs_gdb_decode_frame(const uint8_t *data, size_t len, size_t *consumed, uint8_t **out,
                           size_t *out_len, struct romfs_error *err)
{
    size_t start = 0;
    while (start < len && data[start] != '$')
        start++;
    if (start == len) {
        *consumed = len;
        return 0;
    }
    size_t hash = start + 1;
    while (hash < len && data[hash] != '#')
        hash++;
    if (hash + 2 >= len) {
        *consumed = start;
        return 0;
    }
    *consumed = hash + 3;
    int hi = gdb_hex_value(data[hash + 1]), lo = gdb_hex_value(data[hash + 2]);
    const uint8_t *payload = data + start + 1;
    size_t n = hash - start - 1;
    if (hi < 0 || lo < 0 || checksum(payload, n) != (uint8_t)(hi << 4 | lo))
        return romfs_set_error(err, ROMFS_ERR_CORRUPT, "GDB packet with a bad checksum");
    int rc = rle_expand(payload, n, out, out_len, err);
    return rc < 0 ? rc : 1;
}

static int ensure_cap(uint8_t **buf, size_t *cap, size_t need, struct romfs_error *err)
{
    if (need <= *cap)
        return ROMFS_OK;
    size_t ncap = *cap ? *cap : 256;
    while (ncap < need)
        ncap *= 2;
    uint8_t *nb = realloc(*buf, ncap);
    if (!nb)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory for a GDB packet");
    *buf = nb;
    *cap = ncap;
    return ROMFS_OK;
}

int gdb_send_packet(struct romfs_gdb *g, const void *payload, size_t len, struct romfs_error *err)
{
    int rc = ensure_cap(&g->tx, &g->tx_cap, len + 4, err);
    if (rc < 0)
        return rc;
    g->tx[0] = '$';
    memcpy(g->tx + 1, payload, len);
    uint8_t sum = checksum(payload, len);
    g->tx[len + 1] = '#';
    g->tx[len + 2] = (uint8_t)hex_digits[sum >> 4];
    g->tx[len + 3] = (uint8_t)hex_digits[sum & 15];
    for (int attempt = 0;; attempt++) {
        if ((rc = transport_write(g, g->tx, len + 4, err)) < 0)
            return rc;
        g->stats.packets_sent++;
        if (g->no_ack)
            return ROMFS_OK;
        long long deadline = romfs_now_ms() + g->timeout_ms;
        for (;;) {
            int c = next_byte(g, deadline, err);
            if (c < 0)
                return romfs_error_prefix(err, "waiting for the acknowledgement");
            if (c == '+')
                return ROMFS_OK;
            if (c == '$') {       /* a reply without an ack: take it as acknowledged */
                g->rx_pos--;
                return ROMFS_OK;
            }
            if (c == '-')
                break;
        }
        if (attempt + 1 >= GDB_MAX_RETRIES)
            return romfs_set_error(err, ROMFS_ERR_PROTOCOL,
                                   "%s: the GDB server refused a packet %d times (checksum errors)",
                                   g->name, GDB_MAX_RETRIES);
        g->stats.retransmits++;
    }
}

int gdb_recv_packet(struct romfs_gdb *g, long long timeout_ms, struct romfs_error *err)
{
    long long deadline = romfs_now_ms() + timeout_ms;
    for (int attempt = 0;; attempt++) {
        int c;
        do {  /* skip acks and noise until a frame starts ('%' notifications too) */
            c = next_byte(g, deadline, err);
            if (c < 0)
                return c;
        } while (c != '$' && c != '%');
        bool notification = c == '%';
        size_t n = 0;
        for (;;) {
            c = next_byte(g, deadline, err);
            if (c < 0)
                return c;
            if (c == '#')
                break;
            if (n + 1 > GDB_MAX_REPLY)
                return romfs_set_error(err, ROMFS_ERR_PROTOCOL, "%s: reply larger than %u bytes",
                                       g->name, GDB_MAX_REPLY);
            int rc = ensure_cap(&g->raw, &g->raw_cap, n + 1, err);
            if (rc < 0)
                return rc;
            g->raw[n++] = (uint8_t)c;
        }
        int hi = next_byte(g, deadline, err);
        if (hi < 0)
            return hi;
        int lo = next_byte(g, deadline, err);
        if (lo < 0)
            return lo;
        g->stats.packets_received++;
        bool good = gdb_hex_value(hi) >= 0 && gdb_hex_value(lo) >= 0 &&
                    checksum(g->raw, n) == (uint8_t)(gdb_hex_value(hi) << 4 | gdb_hex_value(lo));
        if (notification)
            continue;  /* non-stop notifications are not used; never acked */
        if (!good) {
            if (g->no_ack)
                return romfs_set_error(err, ROMFS_ERR_PROTOCOL,
                                       "%s: reply with a bad checksum (no-ack mode, cannot retry)",
                                       g->name);
            if (attempt + 1 >= GDB_MAX_RETRIES)
                return romfs_set_error(err, ROMFS_ERR_PROTOCOL,
                                       "%s: %d replies in a row with bad checksums", g->name,
                                       GDB_MAX_RETRIES);
            g->stats.retransmits++;
            int rc = transport_write(g, (const uint8_t *)"-", 1, err);
            if (rc < 0)
                return rc;
            continue;
        }
        if (!g->no_ack) {
            int rc = transport_write(g, (const uint8_t *)"+", 1, err);
            if (rc < 0)
                return rc;
        }
        uint8_t *expanded;
        size_t elen;
        int rc = rle_expand(g->raw, n, &expanded, &elen, err);
        if (rc < 0)
            return romfs_error_prefix(err, "%s", g->name);
        free(g->reply);
        g->reply = expanded;
        g->reply_len = elen;
        return ROMFS_OK;
    }
}

/* A short printable description of a request for messages. */
void gdb_describe(const void *cmd, size_t len, char *out, size_t cap)
{
    const uint8_t *p = cmd;
    size_t o = 0;
    for (size_t i = 0; i < len && o + 4 < cap; i++) {
        if ((p[i] == ':' && (p[0] == 'X' || (len > 6 && memcmp(p, "vFlashW", 7) == 0))) ||
            (p[0] == 'M' && p[i] == ':')) {
            break;
        }
        if (i >= 48) {
            out[o++] = '.'; out[o++] = '.'; out[o++] = '.';
            break;
        }
        out[o++] = (p[i] >= 32 && p[i] < 127) ? (char)p[i] : '?';
    }
    out[o] = 0;
}

static bool is_console_packet(const uint8_t *p, size_t n)
{
    if (n < 3 || p[0] != 'O' || (n - 1) % 2)
        return false;
    for (size_t i = 1; i < n; i++)
        if (gdb_hex_value(p[i]) < 0)
            return false;
    return true;
}

/* A stop reply ("T05...", "S05", "W00", "X09"). */
static bool is_stop_packet(const uint8_t *p, size_t n)
{
    return n >= 3 && (p[0] == 'T' || p[0] == 'S' || p[0] == 'W' || p[0] == 'X') &&
           gdb_hex_value(p[1]) >= 0 && gdb_hex_value(p[2]) >= 0;
}

/* Requests whose answer is a stop reply. */
static bool expects_stop_reply(const uint8_t *cmd, size_t len)
{
    return len > 0 && (cmd[0] == '?' || cmd[0] == 'c' || cmd[0] == 's' || cmd[0] == 'C' ||
                       cmd[0] == 'S' || (len > 5 && memcmp(cmd, "vCont", 5) == 0) ||
                       (len > 7 && memcmp(cmd, "vAttach", 7) == 0));
}

int romfs_gdb_request(struct romfs_gdb *g, const void *cmd, size_t len, const char **reply,
                      size_t *reply_len, struct romfs_error *err)
{
    bool want_stop = expects_stop_reply(cmd, len);
    g->console_len = 0;
    if (g->console)
        g->console[0] = 0;
    int rc = gdb_send_packet(g, cmd, len, err);
    if (rc < 0)
        goto fail;
    for (;;) {
        if ((rc = gdb_recv_packet(g, g->timeout_ms, err)) < 0)
            goto fail;
        /* QEMU announces the halt it makes on connect with an unsolicited stop reply;
           one that answers nothing we asked is dropped. */
        if (!want_stop && is_stop_packet(g->reply, g->reply_len))
            continue;
        if (!is_console_packet(g->reply, g->reply_len))
            break;
        size_t add = (g->reply_len - 1) / 2;
        if ((rc = ensure_cap((uint8_t **)&g->console, &g->console_cap, g->console_len + add + 1,
                             err)) < 0)
            goto fail;
        for (size_t i = 0; i < add; i++)
            g->console[g->console_len++] = (char)(gdb_hex_value(g->reply[1 + 2 * i]) << 4 |
                                                  gdb_hex_value(g->reply[2 + 2 * i]));
        g->console[g->console_len] = 0;
    }
    *reply = (const char *)g->reply;
    *reply_len = g->reply_len;
    return ROMFS_OK;
fail: {
        char what[64];
        gdb_describe(cmd, len, what, sizeof what);
        return romfs_error_prefix(err, "'%s'", what);
    }
}

const char *romfs_gdb_console_output(const struct romfs_gdb *g)
{
    return g->console ? g->console : "";
}

int gdb_error_reply(struct romfs_gdb *g, const void *cmd, size_t len, const char *reply,
                    size_t reply_len, struct romfs_error *err)
{
    char what[64];
    gdb_describe(cmd, len, what, sizeof what);
    if (reply_len == 0)
        return romfs_set_error(err, ROMFS_ERR_UNSUPPORTED,
                               "%s does not support '%s' (empty reply)", g->name, what);
    if (reply[0] == 'E')
        return romfs_set_error(err, ROMFS_ERR_DEVICE, "%s rejected '%s': error %.*s%s", g->name,
                               what, (int)(reply_len > 80 ? 80 : reply_len), reply,
                               reply_len >= 3 && reply[1] != '.' ? " (server error number)" : "");
    return romfs_set_error(err, ROMFS_ERR_PROTOCOL, "%s: unexpected reply '%.*s' to '%s'", g->name,
                           (int)(reply_len > 40 ? 40 : reply_len), reply, what);
}

/* ---- connection ---- */

struct romfs_gdb *gdb_alloc(const char *name, int timeout_ms)
{
    struct romfs_gdb *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    snprintf(g->name, sizeof g->name, "%s", name);
    g->fd = -1;
    g->timeout_ms = timeout_ms > 0 ? timeout_ms : GDB_DEFAULT_TIMEOUT_MS;
    g->want_no_ack = true;
    g->packet_size = GDB_DEFAULT_PACKET_SIZE;
    return g;
}

int romfs_gdb_open_fd(int fd, const char *name, int timeout_ms, struct romfs_gdb **out,
                      struct romfs_error *err)
{
    struct romfs_gdb *g = gdb_alloc(name ? name : "gdb", timeout_ms);
    if (!g) {
        close(fd);
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    }
    g->fd = fd;
    *out = g;
    return ROMFS_OK;
}

void romfs_gdb_close(struct romfs_gdb *g)
{
    if (!g)
        return;
    if (g->port)
        romfs_serial_close(g->port);
    if (g->fd >= 0)
        close(g->fd);
    free(g->tx);
    free(g->raw);
    free(g->reply);
    free(g->console);
    free(g);
}

void romfs_gdb_set_no_ack(struct romfs_gdb *g, bool enable) { g->want_no_ack = enable; }
size_t romfs_gdb_packet_size(const struct romfs_gdb *g) { return g->packet_size; }
bool romfs_gdb_no_ack_active(const struct romfs_gdb *g) { return g->no_ack; }
bool romfs_gdb_has_memory_map(const struct romfs_gdb *g) { return g->has_memory_map; }
const char *romfs_gdb_name(const struct romfs_gdb *g) { return g->name; }
void romfs_gdb_get_stats(const struct romfs_gdb *g, struct romfs_gdb_stats *out) { *out = g->stats; }
