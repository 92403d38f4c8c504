/* net_serial.c: serial ports on other hosts, behind the struct romfs_serial API.
 *
 * socket://HOST:PORT is a raw TCP connection (ser2net's plain accepter, most serial
 * servers): bytes pass unchanged and the server's own settings apply.
 * rfc2217://HOST:PORT is telnet (RFC 854) with the COM-PORT-OPTION (RFC 2217): the client
 * offers WILL COM-PORT-OPTION, asks for BINARY and SUPPRESS-GO-AHEAD both ways, then sets
 * the baud rate, 8 data bits, no parity, 1 stop bit and no flow control, and waits for the
 * server to confirm the baud rate. On the wire 0xFF (IAC) is doubled in both directions;
 * other options the server proposes are refused (DONT / WONT), subnegotiations other than
 * COM-PORT replies are skipped. Data that arrives while negotiating is kept for reads.
 *
 * Writes use send(MSG_NOSIGNAL): a server that went away is an error, not SIGPIPE. */
#include "transport/serial_internal.h"
#include "base/clock.h"

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

enum {
    T_SE = 240, T_NOP = 241, T_SB = 250, T_WILL = 251, T_WONT = 252, T_DO = 253, T_DONT = 254,
    T_IAC = 255,
    OPT_BINARY = 0, OPT_SGA = 3, OPT_COM_PORT = 44,
    /* COM-PORT-OPTION commands, client to server; the server answers with 100 + command */
    CPO_SET_BAUDRATE = 1, CPO_SET_DATASIZE = 2, CPO_SET_PARITY = 3, CPO_SET_STOPSIZE = 4,
    CPO_SET_CONTROL = 5,
    CPO_PARITY_NONE = 1, CPO_STOPSIZE_1 = 1, CPO_CONTROL_NONE = 1,
};

enum tn_state { TN_DATA, TN_IAC, TN_OPTION, TN_SB, TN_SB_IAC };

#define NET_CONNECT_MS 5000   /* default; net_serial_reachable gives its own */
#define NET_NEGOTIATE_MS 3000

struct net_serial {
    bool telnet;                 /* rfc2217:// */
    enum tn_state state;
    uint8_t verb;                /* WILL/WONT/DO/DONT awaiting its option byte */
    uint8_t sb[64];              /* subnegotiation being received */
    size_t sb_len;
    bool us[256], him[256];      /* options enabled on our side / the server's */
    bool asked_us[256], asked_him[256];  /* we proposed it and await the answer */
    bool com_port_refused;
    bool baud_confirmed;
    uint32_t server_baud;
    uint8_t pending[4096];       /* data decoded while negotiating or polling */
    size_t pending_pos, pending_len;
    int send_error;              /* errno of a failed reply, reported on the next call */
};

bool net_serial_is_url(const char *path)
{
    return strncmp(path, "socket://", 9) == 0 || strncmp(path, "rfc2217://", 10) == 0;
}

/* Send all of data[0..len) within timeout_ms (raw bytes, already escaped). */
static int send_all(struct romfs_serial *s, const uint8_t *data, size_t len, int timeout_ms,
                    struct romfs_error *err)
{
    long long deadline = romfs_now_ms() + timeout_ms;
    while (len) {
        long long left = deadline - romfs_now_ms();
        int r = serial_wait_fd(s, POLLOUT, left < 0 ? 0 : (int)left, err);
        if (r < 0)
            return r;
        if (r == 0)
            return romfs_set_error(err, ROMFS_ERR_TIMEOUT,
                                   "serial port %s: the server accepted no data for %d ms",
                                   s->path, timeout_ms);
        ssize_t n = send(s->fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return romfs_set_errno(err, ROMFS_ERR_IO, errno, "writing to %s (the connection "
                                   "dropped)", s->path);
        data += n;
        len -= (size_t)n;
    }
    return ROMFS_OK;
}

/* A telnet command the decoder sends back (a reply to the server's negotiation). Replies
 * are tiny; a failure is remembered and reported by the next read or write. */
static void send_command(struct romfs_serial *s, uint8_t verb, uint8_t option)
{
    uint8_t cmd[3] = { T_IAC, verb, option };
    struct romfs_error ignored = { 0 };
    if (s->net->send_error == 0 && send_all(s, cmd, 3, 1000, &ignored) != ROMFS_OK)
        s->net->send_error = EPIPE;
}

static bool we_will(uint8_t option)
{
    return option == OPT_BINARY || option == OPT_SGA || option == OPT_COM_PORT;
}

static bool server_may(uint8_t option)
{
    return option == OPT_BINARY || option == OPT_SGA;
}

/* One WILL/WONT/DO/DONT from the server. A state that is already in place gets no
 * answer (that is what keeps two telnet peers from acknowledging each other forever). */
static void on_option(struct romfs_serial *s, uint8_t verb, uint8_t opt)
{
    struct net_serial *n = s->net;
    switch (verb) {
    case T_WILL:
        if (server_may(opt)) {
            if (!n->him[opt] && !n->asked_him[opt])
                send_command(s, T_DO, opt);
            n->him[opt] = true;
        } else {
            send_command(s, T_DONT, opt);
        }
        n->asked_him[opt] = false;
        break;
    case T_WONT:
        if (n->him[opt] && !n->asked_him[opt])
            send_command(s, T_DONT, opt);
        n->him[opt] = false;
        n->asked_him[opt] = false;
        break;
    case T_DO:
        if (we_will(opt)) {
            if (!n->us[opt] && !n->asked_us[opt])
                send_command(s, T_WILL, opt);
            n->us[opt] = true;
        } else {
            send_command(s, T_WONT, opt);
        }
        n->asked_us[opt] = false;
        break;
    case T_DONT:
        if (n->us[opt] && !n->asked_us[opt])
            send_command(s, T_WONT, opt);
        n->us[opt] = false;
        n->asked_us[opt] = false;
        if (opt == OPT_COM_PORT)
            n->com_port_refused = true;
        break;
    }
}

static void on_subnegotiation(struct net_serial *n)
{
    if (n->sb_len >= 2 && n->sb[0] == OPT_COM_PORT && n->sb[1] == 100 + CPO_SET_BAUDRATE &&
        n->sb_len >= 6) {
        n->baud_confirmed = true;
        n->server_baud = (uint32_t)n->sb[2] << 24 | (uint32_t)n->sb[3] << 16 |
                         (uint32_t)n->sb[4] << 8 | n->sb[5];
    }
    /* other COM-PORT answers, line/modem state notifications, other options: nothing
       a byte stream to a MicroPython board needs */
}

/* Decode in[0..len) received from the server: data bytes go to out (room for len), the
 * telnet commands are handled. Returns the number of data bytes. */
static size_t telnet_decode(struct romfs_serial *s, const uint8_t *in, size_t len, uint8_t *out)
{
    struct net_serial *n = s->net;
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t b = in[i];
        switch (n->state) {
        case TN_DATA:
            if (b == T_IAC)
                n->state = TN_IAC;
            else
                out[k++] = b;
            break;
        case TN_IAC:
            if (b == T_IAC) {
                out[k++] = b;
                n->state = TN_DATA;
            } else if (b >= T_WILL) {
                n->verb = b;
                n->state = TN_OPTION;
            } else if (b == T_SB) {
                n->sb_len = 0;
                n->state = TN_SB;
            } else {
                n->state = TN_DATA;   /* NOP, GA, AYT, BRK, ...: nothing to do */
            }
            break;
        case TN_OPTION:
            on_option(s, n->verb, b);
            n->state = TN_DATA;
            break;
        case TN_SB:
            if (b == T_IAC)
                n->state = TN_SB_IAC;
            else if (n->sb_len < sizeof n->sb)
                n->sb[n->sb_len++] = b;
            break;
        case TN_SB_IAC:
            if (b == T_IAC) {
                if (n->sb_len < sizeof n->sb)
                    n->sb[n->sb_len++] = b;
                n->state = TN_SB;
            } else {
                if (b == T_SE)
                    on_subnegotiation(n);
                n->state = TN_DATA;   /* SE, or a broken subnegotiation: drop it */
            }
            break;
        }
    }
    return k;
}

/* Receive what is there (waiting up to timeout_ms for the first bytes) and decode it into
 * out[0..max). Returns data bytes (0: none, maybe only telnet commands) or <0. */
static int receive(struct romfs_serial *s, uint8_t *out, size_t max, int timeout_ms,
                   struct romfs_error *err)
{
    int r = serial_wait_fd(s, POLLIN, timeout_ms, err);
    if (r <= 0)
        return r;
    uint8_t raw[4096];
    ssize_t got = recv(s->fd, s->net->telnet ? raw : out, max < sizeof raw ? max : sizeof raw,
                       MSG_DONTWAIT);
    if (got < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (got < 0)
        return romfs_set_errno(err, ROMFS_ERR_IO, errno, "serial port %s: the connection "
                               "dropped", s->path);
    if (got == 0)
        return romfs_set_error(err, ROMFS_ERR_IO, "serial port %s: the server closed the "
                               "connection (the device disconnected?)", s->path);
    size_t k = s->net->telnet ? telnet_decode(s, raw, (size_t)got, out) : (size_t)got;
    if (s->net->send_error)
        return romfs_set_error(err, ROMFS_ERR_IO, "serial port %s: the server closed the "
                               "connection during the telnet negotiation (its serial device "
                               "busy or absent?)", s->path);
    return (int)k;
}

/* Read decoded data into the pending buffer until done(n) or timeout. */
static int negotiate_until(struct romfs_serial *s, bool (*done)(const struct net_serial *),
                           const char *waiting_for, struct romfs_error *err)
{
    struct net_serial *n = s->net;
    long long deadline = romfs_now_ms() + NET_NEGOTIATE_MS;
    while (!done(n)) {
        long long left = deadline - romfs_now_ms();
        if (left <= 0)
            return romfs_set_error(err, ROMFS_ERR_TIMEOUT, "%s: no RFC 2217 answer within %d "
                                   "ms waiting for %s (is it a telnet rfc2217 port?)", s->path,
                                   NET_NEGOTIATE_MS, waiting_for);
        if (n->pending_len == sizeof n->pending) {   /* keep unread data, make room */
            memmove(n->pending, n->pending + n->pending_pos, n->pending_len - n->pending_pos);
            n->pending_len -= n->pending_pos;
            n->pending_pos = 0;
            if (n->pending_len == sizeof n->pending)
                return romfs_set_error(err, ROMFS_ERR_PROTOCOL, "%s: more than %zu bytes of "
                                       "data before the RFC 2217 negotiation ended", s->path,
                                       sizeof n->pending);
        }
        int r = receive(s, n->pending + n->pending_len, sizeof n->pending - n->pending_len,
                        (int)left, err);
        if (r < 0)
            return r;
        n->pending_len += (size_t)r;
    }
    return ROMFS_OK;
}

static bool com_port_answered(const struct net_serial *n)
{
    return n->us[OPT_COM_PORT] || n->com_port_refused;
}

static bool baud_answered(const struct net_serial *n)
{
    return n->baud_confirmed;
}

/* IAC SB COM-PORT-OPTION cmd value... IAC SE, with IAC in the value doubled. */
static int send_com_port(struct romfs_serial *s, uint8_t cmd, const uint8_t *value, size_t len,
                         struct romfs_error *err)
{
    uint8_t buf[32];
    size_t k = 0;
    buf[k++] = T_IAC;
    buf[k++] = T_SB;
    buf[k++] = OPT_COM_PORT;
    buf[k++] = cmd;
    for (size_t i = 0; i < len; i++) {
        buf[k++] = value[i];
        if (value[i] == T_IAC)
            buf[k++] = T_IAC;
    }
    buf[k++] = T_IAC;
    buf[k++] = T_SE;
    return send_all(s, buf, k, 1000, err);
}

static int rfc2217_negotiate(struct romfs_serial *s, uint32_t baud, struct romfs_error *err)
{
    struct net_serial *n = s->net;
    static const uint8_t offer[] = {
        T_IAC, T_WILL, OPT_BINARY, T_IAC, T_DO, OPT_BINARY, T_IAC, T_WILL, OPT_SGA,
        T_IAC, T_DO, OPT_SGA, T_IAC, T_WILL, OPT_COM_PORT,
    };
    n->asked_us[OPT_BINARY] = n->asked_him[OPT_BINARY] = true;
    n->asked_us[OPT_SGA] = n->asked_him[OPT_SGA] = true;
    n->asked_us[OPT_COM_PORT] = true;
    int rc = send_all(s, offer, sizeof offer, 1000, err);
    if (rc == ROMFS_OK)
        rc = negotiate_until(s, com_port_answered, "the COM-PORT-OPTION", err);
    if (rc != ROMFS_OK)
        return rc;
    if (n->com_port_refused)
        return romfs_set_error(err, ROMFS_ERR_PROTOCOL, "%s: the server refused the RFC 2217 "
                               "COM-PORT-OPTION (a plain telnet port? use socket:// for raw "
                               "TCP)", s->path);
    uint8_t b[4] = { (uint8_t)(baud >> 24), (uint8_t)(baud >> 16), (uint8_t)(baud >> 8),
                     (uint8_t)baud };
    uint8_t v8 = 8, parity = CPO_PARITY_NONE, stop = CPO_STOPSIZE_1, control = CPO_CONTROL_NONE;
    rc = send_com_port(s, CPO_SET_BAUDRATE, b, 4, err);
    if (rc == ROMFS_OK)
        rc = send_com_port(s, CPO_SET_DATASIZE, &v8, 1, err);
    if (rc == ROMFS_OK)
        rc = send_com_port(s, CPO_SET_PARITY, &parity, 1, err);
    if (rc == ROMFS_OK)
        rc = send_com_port(s, CPO_SET_STOPSIZE, &stop, 1, err);
    if (rc == ROMFS_OK)
        rc = send_com_port(s, CPO_SET_CONTROL, &control, 1, err);
    if (rc == ROMFS_OK)
        rc = negotiate_until(s, baud_answered, "the baud rate to be confirmed", err);
    return rc;
}

/* Split "scheme://HOST:PORT" ("[v6]:PORT" too) into host and port. */
static int parse_url(const char *url, char *host, size_t host_cap, char *port, size_t port_cap,
                     struct romfs_error *err)
{
    const char *p = strstr(url, "://") + 3, *colon;
    if (*p == '[') {
        const char *close = strchr(p, ']');
        if (!close || close[1] != ':')
            goto bad;
        if ((size_t)(close - p - 1) >= host_cap)
            goto bad;
        memcpy(host, p + 1, (size_t)(close - p - 1));
        host[close - p - 1] = 0;
        colon = close + 1;
    } else {
        colon = strrchr(p, ':');
        if (!colon || colon == p || (size_t)(colon - p) >= host_cap)
            goto bad;
        memcpy(host, p, (size_t)(colon - p));
        host[colon - p] = 0;
    }
    const char *q = colon + 1;
    size_t plen = strspn(q, "0123456789");
    if (plen == 0 || q[plen] || plen >= port_cap || atoi(q) < 1 || atoi(q) > 65535)
        goto bad;
    memcpy(port, q, plen + 1);
    return ROMFS_OK;
bad:
    return romfs_set_error(err, ROMFS_ERR_INVAL, "'%s' is not a network serial port: expected "
                           "socket://HOST:PORT or rfc2217://HOST:PORT (no options)", url);
}

/* Connect a TCP socket to host:port within NET_CONNECT_MS; the fd is non-blocking. */
static int tcp_connect(struct romfs_serial *s, const char *host, const char *port,
                       int timeout_ms, struct romfs_error *err)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0)
        return romfs_set_error(err, ROMFS_ERR_NOENT, "%s: cannot resolve %s: %s", s->path, host,
                               gai_strerror(gai));
    int last_errno = ECONNREFUSED;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                        ai->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        int r = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (r != 0 && errno == EINPROGRESS) {
            struct pollfd p = { .fd = fd, .events = POLLOUT };
            int w;
            while ((w = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
                ;
            int so = 0;
            socklen_t sl = sizeof so;
            if (w == 0)
                so = ETIMEDOUT;
            else if (w < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl) != 0)
                so = errno;
            r = so ? -1 : 0;
            errno = so;
        }
        if (r == 0) {
            int one = 1;   /* the REPL's small request/answer exchanges must not wait */
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
            s->fd = fd;
            freeaddrinfo(res);
            return ROMFS_OK;
        }
        last_errno = errno;
        close(fd);
    }
    freeaddrinfo(res);
    return romfs_set_errno(err, last_errno == ECONNREFUSED ? ROMFS_ERR_NOENT : ROMFS_ERR_IO,
                           last_errno, "cannot connect to serial port %s", s->path);
}

int net_serial_open(struct romfs_serial *s, uint32_t baud, struct romfs_error *err)
{
    char host[256], port[8];
    int rc = parse_url(s->path, host, sizeof host, port, sizeof port, err);
    if (rc != ROMFS_OK)
        return rc;
    s->net = calloc(1, sizeof *s->net);
    if (!s->net)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    s->net->telnet = strncmp(s->path, "rfc2217://", 10) == 0;
    s->own_fd = true;
    rc = tcp_connect(s, host, port, NET_CONNECT_MS, err);
    if (rc == ROMFS_OK && s->net->telnet)
        rc = rfc2217_negotiate(s, baud, err);
    if (rc != ROMFS_OK) {
        if (s->fd >= 0)
            close(s->fd);
        s->fd = -1;
        free(s->net);
        s->net = NULL;
    }
    return rc;
}

bool net_serial_reachable(const char *url, int timeout_ms)
{
    struct romfs_serial s = { .fd = -1 };
    char host[256], port[8];
    snprintf(s.path, sizeof s.path, "%s", url);
    if (parse_url(url, host, sizeof host, port, sizeof port, NULL) != ROMFS_OK ||
        tcp_connect(&s, host, port, timeout_ms, NULL) != ROMFS_OK)
        return false;
    close(s.fd);
    return true;
}

int net_serial_write(struct romfs_serial *s, const uint8_t *data, size_t len, int timeout_ms,
                     struct romfs_error *err)
{
    if (!s->net->telnet) {
        int rc = send_all(s, data, len, timeout_ms, err);
        if (rc == ROMFS_OK)
            s->written += len;
        return rc;
    }
    long long deadline = romfs_now_ms() + timeout_ms;
    uint8_t buf[4096];
    size_t i = 0;
    while (i < len) {
        size_t k = 0, start = i;
        while (i < len && k + 2 <= sizeof buf) {
            buf[k++] = data[i];
            if (data[i++] == T_IAC)
                buf[k++] = T_IAC;
        }
        long long left = deadline - romfs_now_ms();
        int rc = send_all(s, buf, k, left < 0 ? 0 : (int)left, err);
        if (rc != ROMFS_OK)
            return rc;
        s->written += i - start;
    }
    return ROMFS_OK;
}

int net_serial_read(struct romfs_serial *s, uint8_t *buf, size_t max, int timeout_ms,
                    struct romfs_error *err)
{
    struct net_serial *n = s->net;
    if (n->pending_pos < n->pending_len) {
        size_t k = n->pending_len - n->pending_pos;
        if (k > max)
            k = max;
        memcpy(buf, n->pending + n->pending_pos, k);
        n->pending_pos += k;
        if (n->pending_pos == n->pending_len)
            n->pending_pos = n->pending_len = 0;
        s->read += k;
        return (int)k;
    }
    /* telnet commands alone are no data: keep waiting until data or the timeout */
    long long deadline = romfs_now_ms() + timeout_ms;
    for (;;) {
        long long left = deadline - romfs_now_ms();
        int r = receive(s, buf, max, left < 0 ? 0 : (int)left, err);
        if (r != 0 || left <= 0) {
            if (r > 0)
                s->read += (uint64_t)r;
            return r;
        }
    }
}

bool net_serial_input_waiting(struct romfs_serial *s)
{
    struct net_serial *n = s->net;
    if (n->pending_pos < n->pending_len)
        return true;
    if (!n->telnet) {
        struct pollfd p = { .fd = s->fd, .events = POLLIN };
        return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
    }
    /* decode what has arrived: telnet commands alone do not count as input */
    struct romfs_error ignored = { 0 };
    n->pending_pos = n->pending_len = 0;
    int r = receive(s, n->pending, sizeof n->pending, 0, &ignored);
    if (r > 0)
        n->pending_len = (size_t)r;
    return r != 0;   /* an error is "input" too: the next read reports it */
}

void net_serial_close(struct romfs_serial *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    free(s->net);
    s->net = NULL;
}
