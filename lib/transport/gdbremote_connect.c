/* gdbremote_connect.c: opening a GDB remote session: TCP (gdb://HOST:PORT) or a serial
 * GDB server such as a Black Magic Probe (serial:/dev/ttyACM0), the qSupported handshake,
 * and, on serial probes, the SWD scan and attach to the first target. */
#include "transport/gdbremote.h"
#include "transport/gdbremote_internal.h"

#include <errno.h>
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

static int connect_tcp(const char *host, const char *port, int timeout_ms, int *out_fd,
                       const char *name, struct romfs_error *err)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0)
        return romfs_set_error(err, ROMFS_ERR_NOENT, "%s: cannot resolve '%s': %s", name, host,
                               gai_strerror(gai));
    int last_errno = ECONNREFUSED, fd = -1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        if (errno == EINPROGRESS) {
            struct pollfd p = { .fd = fd, .events = POLLOUT };
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            int pr = poll(&p, 1, timeout_ms);
            if (pr > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
                break;
            last_errno = pr == 0 ? ETIMEDOUT : soerr ? soerr : errno;
        } else {
            last_errno = errno;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return romfs_set_errno(err, last_errno == ETIMEDOUT ? ROMFS_ERR_TIMEOUT : ROMFS_ERR_DEVICE,
                               last_errno, "cannot connect to the GDB server at %s", name);
    /* Small packets must leave at once: without TCP_NODELAY each request waits for the
       delayed ack of the previous one (~40 ms per packet on Linux). */
    int one = 1;
    const char *nagle = getenv("ROMFS_GDB_NAGLE");  /* "1": leave Nagle on (benchmarks only) */
    if (!nagle || strcmp(nagle, "1") != 0)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *out_fd = fd;
    return ROMFS_OK;
}

static int open_serial(struct romfs_gdb *g, const char *path, struct romfs_error *err)
{
    /* romfs_serial: libserialport for real ports, raw termios for ptys (tests) */
    int rc = romfs_serial_open(path, 115200, &g->port, err);
    if (rc < 0)
        g->port = NULL;
    return rc;
}

/* Over a serial probe: scan SWD and attach to the first target found. */
static int attach_first_target(struct romfs_gdb *g, struct romfs_error *err)
{
    int rc = romfs_gdb_monitor(g, "swdp_scan", err);
    if (rc < 0 && (rc = romfs_gdb_monitor(g, "swd_scan", err)) < 0)
        return romfs_error_prefix(err, "scanning for a target over SWD");
    const char *r;
    size_t n;
    if ((rc = romfs_gdb_request(g, "vAttach;1", 9, &r, &n, err)) < 0)
        return rc;
    if (!gdb_is_stop_reply((const uint8_t *)r, n)) {
        gdb_error_reply(g, "vAttach;1", 9, r, n, err);
        return romfs_error_prefix(err, "attaching to the first target found by the SWD scan");
    }
    return ROMFS_OK;
}

int romfs_gdb_connect(const char *spec, int timeout_ms, struct romfs_gdb **out,
                      struct romfs_error *err)
{
    const char *rest = spec;
    bool serial = false;
    if (strncmp(spec, "gdb://", 6) == 0 || strncmp(spec, "tcp://", 6) == 0)
        rest = spec + 6;
    else if (strncmp(spec, "serial:", 7) == 0)
        rest = spec + 7, serial = true;
    else if (strncmp(spec, "/dev/", 5) == 0)
        serial = true;
    struct romfs_gdb *g = gdb_alloc(spec, timeout_ms);
    if (!g)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    int rc;
    if (serial) {
        rc = open_serial(g, rest, err);
    } else {
        char host[256];
        const char *colon = strrchr(rest, ':');
        const char *port = colon ? colon + 1 : "";
        size_t hlen = colon ? (size_t)(colon - rest) : 0;
        if (!colon || hlen == 0 || hlen >= sizeof host || !*port ||
            strspn(port, "0123456789") != strlen(port)) {
            romfs_gdb_close(g);
            return romfs_set_error(err, ROMFS_ERR_INVAL,
                                   "bad GDB server address '%s' (expected gdb://HOST:PORT or "
                                   "serial:/dev/ttyACM0)", spec);
        }
        memcpy(host, rest, hlen);
        host[hlen] = 0;
        if (host[0] == '[' && hlen > 2 && host[hlen - 1] == ']') {  /* [::1]:3333 */
            memmove(host, host + 1, hlen - 2);
            host[hlen - 2] = 0;
        }
        rc = connect_tcp(host, port, g->timeout_ms, &g->fd, spec, err);
    }
    if (rc == ROMFS_OK)
        rc = romfs_gdb_handshake(g, err);
    if (rc == ROMFS_OK && serial)
        rc = attach_first_target(g, err);
    if (rc < 0) {
        romfs_gdb_close(g);
        return rc;
    }
    *out = g;
    return ROMFS_OK;
}


static bool feature_is(const char *f, size_t n, const char *name)
{
    return strlen(name) == n && memcmp(f, name, n) == 0;
}

int romfs_gdb_handshake(struct romfs_gdb *g, struct romfs_error *err)
{
    const char *reply;
    size_t n;
    static const char qsupported[] = "qSupported:multiprocess-;swbreak+;hwbreak+";
    int rc = romfs_gdb_request(g, qsupported, strlen(qsupported), &reply, &n, err);
    if (rc < 0)
        return romfs_error_prefix(err, "handshake with %s", g->name);
    bool offers_no_ack = false;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && reply[j] != ';')
            j++;
        const char *f = reply + i;
        size_t flen = j - i;
        if (flen > 11 && memcmp(f, "PacketSize=", 11) == 0) {
            size_t v = 0;
            for (size_t k = 11; k < flen && v < (1u << 24); k++) {
                int d = gdb_hex_value(f[k]);
                if (d < 0) {
                    v = 0;
                    break;
                }
                v = v * 16 + (size_t)d;
            }
            if (v >= 64 && v < (1u << 24))
                g->packet_size = v;
        } else if (feature_is(f, flen, "qXfer:memory-map:read+")) {
            g->has_memory_map = true;
        } else if (feature_is(f, flen, "QStartNoAckMode+")) {
            offers_no_ack = true;
        }
        i = j + 1;
    }
    if (offers_no_ack && g->want_no_ack && !g->no_ack) {
        rc = romfs_gdb_request(g, "QStartNoAckMode", 15, &reply, &n, err);
        if (rc < 0)
            return romfs_error_prefix(err, "handshake with %s", g->name);
        if (n == 2 && memcmp(reply, "OK", 2) == 0)
            g->no_ack = true;
    }
    rc = romfs_gdb_request(g, "?", 1, &reply, &n, err);
    if (rc < 0)
        return romfs_error_prefix(err, "handshake with %s", g->name);
    return ROMFS_OK;
}
