/* test_net_serial.c: rfc2217:// and socket:// ports against a scripted server, byte for
 * byte (RFC 854 option negotiation, RFC 2217 COM-PORT-OPTION, IAC doubling both ways),
 * and the port list's ROMFS_SERIAL_PORTS_FILE seam.
 *
 * The server is a thread on a loopback socket; it checks what the client sends and
 * records the first difference, which the test reports. */
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport/serial.h"
#include "unit.h"

#define IAC "\xff"
#define B(s) s, sizeof(s) - 1

struct server {
    int listen_fd, fd;
    int port;
    bool telnet;
    char failure[256];
};

static int listen_loopback(struct server *sv)
{
    sv->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    if (sv->listen_fd < 0 || bind(sv->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(sv->listen_fd, 1) != 0 || getsockname(sv->listen_fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    sv->port = ntohs(a.sin_port);
    return 0;
}

/* Read exactly want[0..len) from the client within 2 s; false (and a failure) otherwise. */
static bool expect(struct server *sv, const char *what, const char *want, size_t len)
{
    char got[256];
    size_t n = 0;
    while (n < len) {
        struct pollfd p = { .fd = sv->fd, .events = POLLIN };
        ssize_t k = poll(&p, 1, 2000) == 1 ? read(sv->fd, got + n, len - n) : -1;
        if (k <= 0) {
            snprintf(sv->failure, sizeof sv->failure, "%s: got %zu of %zu bytes", what, n, len);
            return false;
        }
        n += (size_t)k;
    }
    if (memcmp(got, want, len) != 0) {
        snprintf(sv->failure, sizeof sv->failure, "%s: the client sent other bytes", what);
        return false;
    }
    return true;
}

static void say(struct server *sv, const char *data, size_t len)
{
    if (write(sv->fd, data, len) != (ssize_t)len)
        snprintf(sv->failure, sizeof sv->failure, "cannot write to the client");
}

static void *rfc2217_server(void *arg)
{
    struct server *sv = arg;
    sv->fd = accept(sv->listen_fd, NULL, NULL);
    /* the client's offer: WILL/DO BINARY, WILL/DO SUPPRESS-GO-AHEAD, WILL COM-PORT */
    if (!expect(sv, "offer", B(IAC "\xfb\x00" IAC "\xfd\x00" IAC "\xfb\x03" IAC "\xfd\x03"
                                IAC "\xfb\x2c")))
        return NULL;
    /* acknowledgements (no answer due), an option to refuse each way, data that arrives
       while negotiating (an escaped 0xff in it), a NOP */
    say(sv, B(IAC "\xfd\x2c" IAC "\xfb\x00" IAC "\xfd\x00" IAC "\xfb\x03" IAC "\xfd\x03"
              IAC "\xfd\x18" IAC "\xfb\x01" "hi" IAC IAC IAC "\xf1"));
    /* refusals, then the port settings: baud 115199 = 00 01 c1 ff (ff doubled), 8, N, 1,
       no flow control */
    if (!expect(sv, "refusals and settings",
                B(IAC "\xfc\x18" IAC "\xfe\x01"
                  IAC "\xfa\x2c\x01\x00\x01\xc1" IAC IAC IAC "\xf0"
                  IAC "\xfa\x2c\x02\x08" IAC "\xf0" IAC "\xfa\x2c\x03\x01" IAC "\xf0"
                  IAC "\xfa\x2c\x04\x01" IAC "\xf0" IAC "\xfa\x2c\x05\x01" IAC "\xf0")))
        return NULL;
    /* the baud rate confirmed, data around a modem-state notification */
    say(sv, B(IAC "\xfa\x2c\x65\x00\x01\xc1" IAC IAC IAC "\xf0" "x" IAC IAC "y"
              IAC "\xfa\x2c\x6b\x30" IAC "\xf0" "z"));
    if (!expect(sv, "escaped data", B("a" IAC IAC "b" IAC IAC)))
        return NULL;
    say(sv, B(IAC "\xf1"));   /* a command alone: no input for the client */
    if (!expect(sv, "go", B("g")))
        return NULL;
    say(sv, B("q"));
    close(sv->fd);
    return NULL;
}

static void rfc2217_negotiates_and_escapes(void)
{
    struct server sv = { 0 };
    CHECK(listen_loopback(&sv) == 0);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, rfc2217_server, &sv) == 0);
    char url[64];
    snprintf(url, sizeof url, "rfc2217://127.0.0.1:%d", sv.port);
    struct romfs_serial *s = NULL;
    struct romfs_error err = { 0 };
    int rc = romfs_serial_open(url, 115199, &s, &err);
    uint8_t got[16] = { 0 };
    int n = -1;
    if (rc == ROMFS_OK)
        rc = romfs_serial_read_exact(s, got, 7, 2000, "data", &err);
    if (rc == ROMFS_OK)
        rc = romfs_serial_write(s, "a\xff" "b\xff", 4, 1000, &err);
    bool waiting_on_nop = true, waiting_on_q = false;
    if (rc == ROMFS_OK) {
        usleep(100 * 1000);
        waiting_on_nop = romfs_serial_input_waiting(s);
        rc = romfs_serial_write(s, "g", 1, 1000, &err);
    }
    for (int i = 0; rc == ROMFS_OK && i < 100 && !waiting_on_q; i++, usleep(10 * 1000))
        waiting_on_q = romfs_serial_input_waiting(s);
    if (rc == ROMFS_OK)
        n = romfs_serial_read(s, got + 7, 1, 1000, &err);
    int closed = rc == ROMFS_OK ? romfs_serial_read(s, got + 8, 1, 2000, &err) : 0;
    uint64_t written = s ? romfs_serial_bytes_written(s) : 0, read = s ? romfs_serial_bytes_read(s) : 0;
    romfs_serial_close(s);
    pthread_join(th, NULL);
    close(sv.listen_fd);
    if (sv.failure[0])
        printf("    server: %s\n", sv.failure);
    CHECK(sv.failure[0] == 0);
    if (rc != ROMFS_OK)
        printf("    %s\n", err.msg);
    CHECK(rc == ROMFS_OK);
    CHECK_MEM(got, "hi\xffx\xffyzq", 8);
    CHECK(n == 1);
    CHECK(!waiting_on_nop);
    CHECK(waiting_on_q);
    CHECK(closed == ROMFS_ERR_IO);
    CHECK(strstr(err.msg, "closed the connection") != NULL);
    CHECK_EQ_U(written, 5);   /* payload bytes, not wire bytes */
    CHECK_EQ_U(read, 8);
}

static void *raw_server(void *arg)
{
    struct server *sv = arg;
    sv->fd = accept(sv->listen_fd, NULL, NULL);
    if (expect(sv, "raw bytes", B(IAC "\xfb\x2c" "x")))
        say(sv, B(IAC IAC "ok"));
    close(sv->fd);
    return NULL;
}

static void socket_url_passes_bytes_unchanged(void)
{
    struct server sv = { 0 };
    CHECK(listen_loopback(&sv) == 0);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, raw_server, &sv) == 0);
    char url[64];
    snprintf(url, sizeof url, "socket://127.0.0.1:%d", sv.port);
    struct romfs_serial *s = NULL;
    struct romfs_error err = { 0 };
    uint8_t got[4];
    int rc = romfs_serial_open(url, 0, &s, &err);
    if (rc == ROMFS_OK)
        rc = romfs_serial_write(s, IAC "\xfb\x2c" "x", 4, 1000, &err);
    if (rc == ROMFS_OK)
        rc = romfs_serial_read_exact(s, got, 4, 2000, "reply", &err);
    romfs_serial_close(s);
    pthread_join(th, NULL);
    close(sv.listen_fd);
    CHECK(sv.failure[0] == 0);
    CHECK(rc == ROMFS_OK);
    CHECK_MEM(got, IAC IAC "ok", 4);
}

static void bad_urls_and_closed_ports(void)
{
    struct romfs_serial *s = NULL;
    struct romfs_error err = { 0 };
    const char *bad[] = { "socket://", "socket://host", "rfc2217://host:0", "socket://h:99999",
                          "socket://h:80?logging=debug", "rfc2217://[::1" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK(romfs_serial_open(bad[i], 0, &s, &err) == ROMFS_ERR_INVAL);
        CHECK(s == NULL && strstr(err.msg, "HOST:PORT") != NULL);
    }
    struct server sv = { 0 };
    CHECK(listen_loopback(&sv) == 0);
    close(sv.listen_fd);   /* nothing listens there now */
    char url[64];
    snprintf(url, sizeof url, "rfc2217://127.0.0.1:%d", sv.port);
    CHECK(romfs_serial_open(url, 0, &s, &err) == ROMFS_ERR_NOENT);
    CHECK(strstr(err.msg, "cannot connect") && strstr(err.msg, url));
    CHECK(!romfs_serial_reachable(url, 200));
    CHECK(romfs_serial_is_url(url) && !romfs_serial_is_url("/dev/ttyACM0"));
}

static void ports_file_replaces_the_usb_scan(void)
{
    char path[] = "/tmp/romfs-ports.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char text[] = "# path vid:pid serial\n/dev/a f055:9802 S1\n\n/dev/b 0403:6001\n"
                        "/dev/c 2e8a:0005 S3 # rp2\n";
    CHECK(write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1));
    close(fd);
    setenv("ROMFS_SERIAL_PORTS_FILE", path, 1);
    struct romfs_port_info *p = NULL;
    size_t n = 0;
    struct romfs_error err = { 0 };
    int all = romfs_serial_list(NULL, 0, &p, &n, &err);
    size_t n_all = n;
    bool b_has_no_serial = n_all == 3 && strcmp(p[1].path, "/dev/b") == 0 && p[1].serial_number[0] == 0;
    free(p);
    int mp = romfs_serial_list(romfs_micropython_usb_ids, 5, &p, &n, &err);
    bool picked = n == 2 && strcmp(p[0].path, "/dev/a") == 0 && strcmp(p[0].serial_number, "S1") == 0 &&
                  strcmp(p[1].path, "/dev/c") == 0 && p[1].vid == 0x2e8a && p[1].pid == 5;
    free(p);
    FILE *f = fopen(path, "w");
    fputs("/dev/a f055:9802\n/dev/x nonsense\n", f);
    fclose(f);
    int bad = romfs_serial_list(NULL, 0, &p, &n, &err);
    unlink(path);
    int gone = romfs_serial_list(NULL, 0, &p, &n, NULL);   /* no file: no boards */
    unsetenv("ROMFS_SERIAL_PORTS_FILE");
    CHECK(all == ROMFS_OK && b_has_no_serial);
    CHECK(mp == ROMFS_OK && picked);
    CHECK(bad == ROMFS_ERR_CORRUPT && strstr(err.msg, ":2: ") != NULL && p == NULL);
    CHECK(gone == ROMFS_OK && n == 0);
}

int main(void)
{
    RUN(rfc2217_negotiates_and_escapes);
    RUN(socket_url_passes_bytes_unchanged);
    RUN(bad_urls_and_closed_ports);
    RUN(ports_file_replaces_the_usb_scan);
    UNIT_EXIT();
}
