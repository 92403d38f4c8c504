/* serial.c: serial ports through libserialport; pseudo-terminals through termios.
 *
 * libserialport opens, configures and enumerates real ports (it refuses ptys, which
 * have no sysfs entry), so a pty path is opened with open(2) and put in raw mode. Both
 * end up as a file descriptor, and reads/writes use poll(2) on it for timeouts. */
#include "transport/serial_internal.h"
#include "base/cancel.h"
#include "base/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

const struct romfs_usb_id romfs_micropython_usb_ids[] = {
    { 0xf055, 0x9800, "MicroPython (CDC+MSC)" },
    { 0xf055, 0x9801, "MicroPython (CDC+HID)" },
    { 0xf055, 0x9802, "MicroPython (CDC)" },
    { 0x2e8a, 0x0005, "MicroPython rp2" },
    { 0x303a, 0x4001, "MicroPython esp32 (TinyUSB)" },
    { 0, 0, NULL },
};

static int sp_fail(struct romfs_error *err, const char *what, const char *path)
{
    char *msg = sp_last_error_message();
    int code = sp_last_error_code();
    int rc = romfs_set_error(err, ROMFS_ERR_IO, "cannot %s serial port %s: %s", what, path,
                             msg ? msg : "unknown error");
    (void)code;
    if (msg)
        sp_free_error_message(msg);
    return rc;
}

static int open_with_libserialport(const char *path, uint32_t baud, struct romfs_serial *s,
                                   struct romfs_error *err)
{
    if (sp_get_port_by_name(path, &s->port) != SP_OK) {
        s->port = NULL;
        return ROMFS_ERR_NOENT;
    }
    if (sp_open(s->port, SP_MODE_READ_WRITE) != SP_OK) {
        int rc = sp_fail(err, "open", path);
        sp_free_port(s->port);
        s->port = NULL;
        return rc;
    }
    if (sp_set_baudrate(s->port, (int)baud) != SP_OK || sp_set_bits(s->port, 8) != SP_OK ||
        sp_set_parity(s->port, SP_PARITY_NONE) != SP_OK || sp_set_stopbits(s->port, 1) != SP_OK ||
        sp_set_flowcontrol(s->port, SP_FLOWCONTROL_NONE) != SP_OK) {
        int rc = sp_fail(err, "configure", path);
        sp_close(s->port);
        sp_free_port(s->port);
        s->port = NULL;
        return rc;
    }
    if (sp_get_port_handle(s->port, &s->fd) != SP_OK)
        return sp_fail(err, "use", path);
    return ROMFS_OK;
}

static speed_t baud_constant(uint32_t baud)
{
    switch (baud) {
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 230400: return B230400;
    case 460800: return B460800;
    case 921600: return B921600;
    default: return B115200;
    }
}

static int open_tty(const char *path, uint32_t baud, struct romfs_serial *s, struct romfs_error *err)
{
    int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return romfs_set_errno(err, errno == ENOENT ? ROMFS_ERR_NOENT : ROMFS_ERR_IO, errno,
                               "cannot open serial port %s", path);
    struct termios tio;
    if (tcgetattr(fd, &tio) != 0) {
        int e = errno;
        close(fd);
        return romfs_set_errno(err, ROMFS_ERR_INVAL, e, "%s is not a serial port", path);
    }
    cfmakeraw(&tio);
    cfsetispeed(&tio, baud_constant(baud));
    cfsetospeed(&tio, baud_constant(baud));
    tio.c_cc[VMIN] = 0;
    tio.c_cc[VTIME] = 0;
    if (tcsetattr(fd, TCSANOW, &tio) != 0) {
        int e = errno;
        close(fd);
        return romfs_set_errno(err, ROMFS_ERR_IO, e, "cannot configure serial port %s", path);
    }
    s->fd = fd;
    s->own_fd = true;
    return ROMFS_OK;
}

int romfs_serial_open(const char *path, uint32_t baud, struct romfs_serial **out,
                      struct romfs_error *err)
{
    *out = NULL;
    if (net_serial_is_url(path)) {
        struct romfs_serial *s = calloc(1, sizeof *s);
        if (!s)
            return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
        s->fd = -1;
        snprintf(s->path, sizeof s->path, "%s", path);
        int rc = net_serial_open(s, baud ? baud : 115200, err);
        if (rc != ROMFS_OK) {
            free(s);
            return rc;
        }
        *out = s;
        return ROMFS_OK;
    }
    struct stat st;
    if (stat(path, &st) != 0)
        return romfs_set_errno(err, errno == ENOENT ? ROMFS_ERR_NOENT : ROMFS_ERR_IO, errno,
                               "no serial port %s", path);
    if (!S_ISCHR(st.st_mode))
        return romfs_set_error(err, ROMFS_ERR_INVAL, "%s is not a serial port (not a character device)",
                               path);
    struct romfs_serial *s = calloc(1, sizeof *s);
    if (!s)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    s->fd = -1;
    snprintf(s->path, sizeof s->path, "%s", path);
    if (!baud)
        baud = 115200;
    int rc = open_with_libserialport(path, baud, s, err);
    if (rc == ROMFS_ERR_NOENT)  /* not a port libserialport knows: a pty, or a plain tty */
        rc = open_tty(path, baud, s, err);
    if (rc != ROMFS_OK) {
        free(s);
        return rc;
    }
    *out = s;
    return ROMFS_OK;
}

int romfs_serial_from_fd(int fd, bool take_ownership, struct romfs_serial **out,
                         struct romfs_error *err)
{
    struct romfs_serial *s = calloc(1, sizeof *s);
    if (!s)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    s->fd = fd;
    s->own_fd = take_ownership;
    snprintf(s->path, sizeof s->path, "fd %d", fd);
    *out = s;
    return ROMFS_OK;
}

void romfs_serial_close(struct romfs_serial *s)
{
    if (!s)
        return;
    if (s->net) {
        net_serial_close(s);
    } else if (s->port) {
        sp_close(s->port);
        sp_free_port(s->port);
    } else if (s->own_fd && s->fd >= 0) {
        close(s->fd);
    }
    free(s);
}

/* Wait for fd to become readable/writable; 1 ready, 0 timeout, <0 error/hangup. */
int serial_wait_fd(struct romfs_serial *s, short events, int timeout_ms, struct romfs_error *err)
{
    struct pollfd p = { .fd = s->fd, .events = events };
    for (;;) {
        /* a cancelled caller stops waiting for the device, but may still write to it
           (Ctrl-C to stop what runs there) */
        if ((events & POLLIN) && romfs_cancelled())
            return romfs_set_error(err, ROMFS_ERR_CANCELED, "interrupted while waiting for %s", s->path);
        int n = poll(&p, 1, timeout_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return romfs_set_errno(err, ROMFS_ERR_IO, errno, "serial port %s", s->path);
        if (n == 0)
            return 0;
        if (p.revents & (events | POLLIN))
            return 1;
        if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
            return romfs_set_error(err, ROMFS_ERR_IO, "serial port %s: the device disconnected",
                                   s->path);
        return 1;
    }
}

int romfs_serial_write(struct romfs_serial *s, const void *data, size_t len, int timeout_ms,
                       struct romfs_error *err)
{
    if (s->net)
        return net_serial_write(s, data, len, timeout_ms, err);
    const uint8_t *p = data;
    long long deadline = romfs_now_ms() + timeout_ms;
    while (len) {
        long long left = deadline - romfs_now_ms();
        if (left < 0)
            left = 0;
        int r = serial_wait_fd(s, POLLOUT, (int)left, err);
        if (r < 0)
            return r;
        if (r == 0)
            return romfs_set_error(err, ROMFS_ERR_TIMEOUT,
                                   "serial port %s: the device accepted no data for %d ms",
                                   s->path, timeout_ms);
        ssize_t n = write(s->fd, p, len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0 && (errno == EIO || errno == ENXIO || errno == ENODEV))
            /* a pty whose other end closed, a USB device unplugged */
            return romfs_set_error(err, ROMFS_ERR_IO, "serial port %s: the device disconnected",
                                   s->path);
        if (n < 0)
            return romfs_set_errno(err, ROMFS_ERR_IO, errno, "writing to serial port %s", s->path);
        p += n;
        len -= (size_t)n;
        s->written += (uint64_t)n;
    }
    return ROMFS_OK;
}

int romfs_serial_read(struct romfs_serial *s, void *buf, size_t max, int timeout_ms,
                      struct romfs_error *err)
{
    if (max == 0)
        return 0;
    if (s->net)
        return net_serial_read(s, buf, max, timeout_ms, err);
    int r = serial_wait_fd(s, POLLIN, timeout_ms, err);
    if (r <= 0)
        return r;
    for (;;) {
        ssize_t n = read(s->fd, buf, max > 65536 ? 65536 : max);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return 0;
        if (n < 0 || n == 0)  /* EIO on a pty whose other end closed; 0 = EOF */
            return romfs_set_error(err, ROMFS_ERR_IO, "serial port %s: the device disconnected",
                                   s->path);
        s->read += (uint64_t)n;
        return (int)n;
    }
}

int romfs_serial_read_exact(struct romfs_serial *s, void *buf, size_t len, int timeout_ms,
                            const char *what, struct romfs_error *err)
{
    uint8_t *p = buf;
    while (len) {
        int n = romfs_serial_read(s, p, len, timeout_ms, err);
        if (n < 0)
            return n;
        if (n == 0)
            return romfs_set_error(err, ROMFS_ERR_TIMEOUT,
                                   "serial port %s: no answer within %d ms waiting for %s",
                                   s->path, timeout_ms, what);
        p += n;
        len -= (size_t)n;
    }
    return ROMFS_OK;
}

bool romfs_serial_input_waiting(struct romfs_serial *s)
{
    if (s->net)
        return net_serial_input_waiting(s);
    struct pollfd p = { .fd = s->fd, .events = POLLIN };
    return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

int romfs_serial_poll_fd(const struct romfs_serial *s)
{
    return s->fd;
}

uint64_t romfs_serial_bytes_written(const struct romfs_serial *s)
{
    return s->written;
}

uint64_t romfs_serial_bytes_read(const struct romfs_serial *s)
{
    return s->read;
}

const char *romfs_serial_path(const struct romfs_serial *s)
{
    return s->path;
}

bool romfs_serial_is_url(const char *path)
{
    return net_serial_is_url(path);
}

bool romfs_serial_reachable(const char *path, int timeout_ms)
{
    if (net_serial_is_url(path))
        return net_serial_reachable(path, timeout_ms);
    struct stat st;
    return stat(path, &st) == 0;
}

bool romfs_usb_id_parse(const char *text, struct romfs_usb_id *id)
{
    unsigned vid, pid;
    char extra;
    if (!text || sscanf(text, "%x:%x%c", &vid, &pid, &extra) != 2 || vid > 0xffff || pid > 0xffff)
        return false;
    id->vid = (uint16_t)vid;
    id->pid = (uint16_t)pid;
    id->what = NULL;
    return true;
}

static bool id_wanted(const struct romfs_usb_id *ids, size_t n_ids, unsigned vid, unsigned pid)
{
    if (n_ids == 0)
        return true;
    for (size_t k = 0; k < n_ids; k++)
        if (ids[k].vid == vid && ids[k].pid == pid)
            return true;
    return false;
}

static int add_port(struct romfs_port_info **out, size_t *n, size_t *cap, const char *path,
                    unsigned vid, unsigned pid, const char *serial, struct romfs_error *err)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        struct romfs_port_info *p = realloc(*out, c * sizeof *p);
        if (!p)
            return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
        *out = p;
        *cap = c;
    }
    struct romfs_port_info *p = &(*out)[(*n)++];
    memset(p, 0, sizeof *p);
    snprintf(p->path, sizeof p->path, "%s", path);
    p->vid = (uint16_t)vid;
    p->pid = (uint16_t)pid;
    snprintf(p->serial_number, sizeof p->serial_number, "%s", serial ? serial : "");
    return ROMFS_OK;
}

/* ROMFS_SERIAL_PORTS_FILE: "PATH VID:PID [SERIAL]" lines instead of the USB scan. */
static int list_from_file(const char *file, const struct romfs_usb_id *ids, size_t n_ids,
                          struct romfs_port_info **out, size_t *n, struct romfs_error *err)
{
    FILE *f = fopen(file, "re");
    if (!f)   /* a missing file is "no boards connected" (a test removed it) */
        return errno == ENOENT ? ROMFS_OK
                               : romfs_set_errno(err, ROMFS_ERR_IO, errno, "cannot read %s", file);
    char line[512];
    size_t cap = 0;
    int rc = ROMFS_OK, lineno = 0;
    while (rc == ROMFS_OK && fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char path[256], idtext[32], serial[128] = "";
        int k = sscanf(line, "%255s %31s %127s", path, idtext, serial);
        if (k <= 0)
            continue;
        struct romfs_usb_id id;
        if (k < 2 || !romfs_usb_id_parse(idtext, &id)) {
            rc = romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s:%d: expected 'PATH VID:PID [SERIAL]'",
                                 file, lineno);
            break;
        }
        if (id_wanted(ids, n_ids, id.vid, id.pid))
            rc = add_port(out, n, &cap, path, id.vid, id.pid, serial, err);
    }
    fclose(f);
    return rc;
}

int romfs_serial_list(const struct romfs_usb_id *ids, size_t n_ids, struct romfs_port_info **out,
                      size_t *n, struct romfs_error *err)
{
    *out = NULL;
    *n = 0;
    const char *file = getenv("ROMFS_SERIAL_PORTS_FILE");
    int rc;
    if (file && *file) {
        rc = list_from_file(file, ids, n_ids, out, n, err);
    } else {
        struct sp_port **ports = NULL;
        if (sp_list_ports(&ports) != SP_OK)
            return sp_fail(err, "list", "ports");
        size_t cap = 0;
        rc = ROMFS_OK;
        for (size_t i = 0; rc == ROMFS_OK && ports[i]; i++) {
            int vid, pid;
            if (sp_get_port_transport(ports[i]) != SP_TRANSPORT_USB ||
                sp_get_port_usb_vid_pid(ports[i], &vid, &pid) != SP_OK ||
                !id_wanted(ids, n_ids, (unsigned)vid, (unsigned)pid))
                continue;
            rc = add_port(out, n, &cap, sp_get_port_name(ports[i]), (unsigned)vid, (unsigned)pid,
                          sp_get_port_usb_serial(ports[i]), err);
        }
        sp_free_port_list(ports);
    }
    if (rc != ROMFS_OK) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

int romfs_serial_find(const struct romfs_usb_id *ids, size_t n_ids, char *path, size_t path_cap,
                      size_t *n_found, char *found_list, size_t list_cap, struct romfs_error *err)
{
    struct romfs_port_info *ports = NULL;
    *n_found = 0;
    if (found_list && list_cap)
        found_list[0] = 0;
    int rc = romfs_serial_list(ids, n_ids, &ports, n_found, err);
    if (rc != ROMFS_OK)
        return rc;
    size_t used = 0;
    for (size_t i = 0; i < *n_found; i++) {
        if (i == 0)
            snprintf(path, path_cap, "%s", ports[i].path);
        if (found_list && used < list_cap) {
            int w = snprintf(found_list + used, list_cap - used, "%s%s (%04x:%04x)",
                             used ? ", " : "", ports[i].path, ports[i].vid, ports[i].pid);
            if (w > 0)
                used += (size_t)w;
        }
    }
    free(ports);
    if (*n_found == 0)
        return romfs_set_error_need(err, ROMFS_ERR_DEVICE, ROMFS_NEED_PORT,
                                    "no MicroPython board found on USB (looked for %zu VID:PID "
                                    "pairs)", n_ids);
    return ROMFS_OK;
}
