/* transport/serial.h: a serial link to a MicroPython board (libserialport), with timeouts.
 *
 * A port is opened by path (a USB CDC device, a UART adapter, or a pseudo-terminal such
 * as the one `romfs sim` prints), or found by USB VID:PID. Every read and write takes a
 * timeout in milliseconds; a closed or vanished device is reported as ROMFS_ERR_IO. */
#ifndef ROMFS_SERIAL_H
#define ROMFS_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

struct romfs_serial;

/* Open `path` at `baud` (0 means 115200; ignored by USB CDC and pseudo-terminals), 8N1,
 * no flow control, raw. ROMFS_ERR_NOENT if there is no such port, ROMFS_ERR_IO if it
 * cannot be opened (the message says why, e.g. permission or busy). */
int romfs_serial_open(const char *path, uint32_t baud, struct romfs_serial **out,
                      struct romfs_error *err);

/* Wrap an already open file descriptor (a pty or socketpair end in tests). The fd is
 * closed by romfs_serial_close only if take_ownership. */
int romfs_serial_from_fd(int fd, bool take_ownership, struct romfs_serial **out,
                         struct romfs_error *err);

/* Write all len bytes within timeout_ms; ROMFS_ERR_TIMEOUT or ROMFS_ERR_IO otherwise. */
int romfs_serial_write(struct romfs_serial *s, const void *data, size_t len, int timeout_ms,
                       struct romfs_error *err);

/* Read up to max bytes, waiting at most timeout_ms for the first (0: do not wait). Returns
 * the number read (0 when nothing arrived in time) or ROMFS_ERR_IO on disconnect. */
int romfs_serial_read(struct romfs_serial *s, void *buf, size_t max, int timeout_ms,
                      struct romfs_error *err);

/* Read exactly len bytes, each within timeout_ms of the previous one; ROMFS_ERR_TIMEOUT
 * (message names `what`) if the device goes quiet. */
int romfs_serial_read_exact(struct romfs_serial *s, void *buf, size_t len, int timeout_ms,
                            const char *what, struct romfs_error *err);

/* Whether at least one byte is waiting to be read. */
bool romfs_serial_input_waiting(struct romfs_serial *s);

/* The descriptor that becomes readable when input arrives, for a caller that waits on it
 * beside descriptors of its own (poll); input may also be buffered already, which
 * romfs_serial_input_waiting() tells. */
int romfs_serial_poll_fd(const struct romfs_serial *s);

/* Bytes written to / read from the link since it was opened (for statistics). */
uint64_t romfs_serial_bytes_written(const struct romfs_serial *s);
uint64_t romfs_serial_bytes_read(const struct romfs_serial *s);

/* The path it was opened with ("fd N" for wrapped descriptors). */
const char *romfs_serial_path(const struct romfs_serial *s);

void romfs_serial_close(struct romfs_serial *s);

/* A USB identity to look for. */
struct romfs_usb_id {
    uint16_t vid, pid;
    const char *what;      /* e.g. "PYBD_SF2" or "MicroPython"; for messages */
};

/* MicroPython's own USB identities (pyboard, TinyUSB-based ports, rp2, ...): a
 * {0,0,NULL}-terminated list. */
extern const struct romfs_usb_id romfs_micropython_usb_ids[];

/* A serial port found on USB. */
struct romfs_port_info {
    char path[256];          /* e.g. /dev/ttyACM0 */
    uint16_t vid, pid;
    char serial_number[128]; /* the USB serial number ("" if the device has none) */
};

/* Every serial port whose USB VID:PID is one of ids[0..n_ids) (n_ids 0: every USB serial
 * port), in the order the system lists them, into a malloc'd *out (*n may be 0: not an
 * error). Thread-safe.
 *
 * Test seam: when the environment variable ROMFS_SERIAL_PORTS_FILE names a file, its
 * lines "PATH VID:PID [SERIAL]" ('#' starts a comment) replace the USB scan, so a test
 * can make simulated boards appear and disappear by rewriting the file. */
int romfs_serial_list(const struct romfs_usb_id *ids, size_t n_ids, struct romfs_port_info **out,
                      size_t *n, struct romfs_error *err);

/* Find serial ports whose USB VID:PID is one of ids[0..n_ids). On success path receives the
 * first match and *n_found how many matched (more than one: the caller should ask for
 * --port; `found_list` then lists them, comma separated). ROMFS_ERR_DEVICE if none. */
int romfs_serial_find(const struct romfs_usb_id *ids, size_t n_ids, char *path, size_t path_cap,
                      size_t *n_found, char *found_list, size_t list_cap, struct romfs_error *err);

/* Whether a port is there to be opened, without opening it: a local path exists, or a
 * socket:// / rfc2217:// server accepts a TCP connection within timeout_ms (which is
 * closed again at once). */
bool romfs_serial_reachable(const char *path, int timeout_ms);

/* Whether path is a network port URL (socket://HOST:PORT or rfc2217://HOST:PORT). */
bool romfs_serial_is_url(const char *path);

/* Parse "VID:PID" (hex) into id; false on junk. */
bool romfs_usb_id_parse(const char *text, struct romfs_usb_id *id);

#endif
