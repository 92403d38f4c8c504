/* transport/serial_internal.h: the serial link's state, shared by serial.c (local ports)
 * and net_serial.c (socket:// and rfc2217:// URLs). Private to transport/. */
#ifndef ROMFS_SERIAL_INTERNAL_H
#define ROMFS_SERIAL_INTERNAL_H

#include <libserialport.h>

#include "transport/serial.h"

struct net_serial;   /* net_serial.c: the TCP connection and its telnet state */

struct romfs_serial {
    struct sp_port *port;   /* NULL for pty / wrapped fd / network */
    int fd;
    bool own_fd;
    char path[256];
    uint64_t written, read;
    struct net_serial *net; /* non-NULL for socket:// and rfc2217:// */
};

/* Wait for s->fd to become readable (POLLIN) or writable (POLLOUT): 1 ready, 0 timeout,
 * <0 error or hangup (err filled). */
int serial_wait_fd(struct romfs_serial *s, short events, int timeout_ms, struct romfs_error *err);

/* Whether path is a network URL (socket://, rfc2217://). */
bool net_serial_is_url(const char *path);
/* Connect s (path already set) to the URL in s->path; for rfc2217:// negotiate the
 * COM-PORT-OPTION and set baud, 8N1, no flow control. */
int net_serial_open(struct romfs_serial *s, uint32_t baud, struct romfs_error *err);
int net_serial_write(struct romfs_serial *s, const uint8_t *data, size_t len, int timeout_ms,
                     struct romfs_error *err);
int net_serial_read(struct romfs_serial *s, uint8_t *buf, size_t max, int timeout_ms,
                    struct romfs_error *err);
/* Whether the URL's server accepts a TCP connection within timeout_ms. */
bool net_serial_reachable(const char *url, int timeout_ms);
bool net_serial_input_waiting(struct romfs_serial *s);
void net_serial_close(struct romfs_serial *s);

#endif
