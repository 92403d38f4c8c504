/* probe.c: run OpenOCD / pyOCD as GDB servers on a free localhost port, or OpenOCD's
 * `program` command, and report their failures in their own words. */
#include "flash/probe.h"
#include "base/clock.h"
#include "base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define MAX_ARGS 32

struct romfs_probe {
    pid_t pid;
    uint16_t port;
    char address[64];
    char log_path[256];
    char command[1024];
};

struct argv_builder {
    char *argv[MAX_ARGS + 1];
    int argc;
};

static void args_add(struct argv_builder *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void args_add(struct argv_builder *a, const char *fmt, ...)
{
    if (a->argc >= MAX_ARGS)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!s)
        return;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    a->argv[a->argc++] = s;
    a->argv[a->argc] = NULL;
}

static void args_free(struct argv_builder *a)
{
    for (int i = 0; i < a->argc; i++)
        free(a->argv[i]);
    a->argc = 0;
}

static void args_join(const struct argv_builder *a, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = 0;
    for (int i = 0; i < a->argc && o + 4 < cap; i++) {
        bool quote = strpbrk(a->argv[i], " {}\"'$") != NULL;
        int n = snprintf(out + o, cap - o, quote ? "%s'%s'" : "%s%s", i ? " " : "", a->argv[i]);
        if (n < 0)
            break;
        o += (size_t)n;
        if (o >= cap)
            o = cap - 1;
    }
}

int romfs_probe_parse(const char *spec, enum romfs_probe_kind *kind, struct romfs_error *err)
{
    if (!spec || !*spec)
        return romfs_set_error_need(err, ROMFS_ERR_INVAL, ROMFS_NEED_PROBE, "no debug probe named");
    if (strcmp(spec, "openocd") == 0)
        *kind = ROMFS_PROBE_OPENOCD;
    else if (strcmp(spec, "pyocd") == 0)
        *kind = ROMFS_PROBE_PYOCD;
    else if (strcmp(spec, "openocd-program") == 0)
        *kind = ROMFS_PROBE_OPENOCD_PROGRAM;
    else if (strncmp(spec, "serial:", 7) == 0 || strncmp(spec, "/dev/", 5) == 0)
        *kind = ROMFS_PROBE_SERIAL;
    else if (strncmp(spec, "gdb://", 6) == 0 || strncmp(spec, "tcp://", 6) == 0 ||
             (strchr(spec, ':') && !strstr(spec, "://")))
        *kind = ROMFS_PROBE_GDB;
    else
        return romfs_set_error(err, ROMFS_ERR_INVAL,
                               "unknown probe '%s' (use gdb://HOST:PORT, serial:/dev/ttyACM0, "
                               "openocd, pyocd or openocd-program)", spec);
    return ROMFS_OK;
}

int romfs_probe_free_port(uint16_t *port, struct romfs_error *err)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return romfs_set_errno(err, ROMFS_ERR_IO, errno, "socket");
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &al) != 0) {
        int e = errno;
        close(s);
        return romfs_set_errno(err, ROMFS_ERR_IO, e, "cannot find a free TCP port on 127.0.0.1");
    }
    close(s);
    *port = ntohs(a.sin_port);
    return ROMFS_OK;
}

/* Is something listening on 127.0.0.1:port (or any address)? From /proc/net/tcp{,6};
 * -1 if those cannot be read. */
static int port_listening(uint16_t port)
{
    const char *files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
    int readable = 0;
    for (int f = 0; f < 2; f++) {
        FILE *fp = fopen(files[f], "r");
        if (!fp)
            continue;
        readable = 1;
        char line[512];
        while (fgets(line, sizeof line, fp)) {
            char local[128];
            unsigned state;
            if (sscanf(line, " %*d: %127s %*s %x", local, &state) != 2)
                continue;
            char *colon = strrchr(local, ':');
            if (colon && state == 0x0a && strtoul(colon + 1, NULL, 16) == port) {
                fclose(fp);
                return 1;
            }
        }
        fclose(fp);
    }
    return readable ? 0 : -1;
}

/* The tool's own error lines from its log, joined with "; " (or its last line). */
static void log_errors(const char *path, char *out, size_t cap)
{
    out[0] = 0;
    FILE *fp = fopen(path, "r");
    if (!fp)
        return;
    char line[512], last[512] = "";
    size_t o = 0;
    int found = 0;
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0])
            continue;
        snprintf(last, sizeof last, "%s", line);
        if (found < 4 && (strstr(line, "Error") || strstr(line, "error:") ||
                          strstr(line, "ERROR") || strstr(line, "CRITICAL") ||
                          strstr(line, "No connected debug probes") ||
                          strstr(line, "Waiting for a debug probe"))) {
            int n = snprintf(out + o, cap - o, "%s%s", found ? "; " : "", line);
            if (n > 0 && (size_t)n < cap - o)
                o += (size_t)n;
            found++;
        }
    }
    fclose(fp);
    if (!found)
        snprintf(out, cap, "%s", last[0] ? last : "(no output)");
}

static bool log_contains(const char *path, const char *needle)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return false;
    char line[512];
    bool hit = false;
    while (!hit && fgets(line, sizeof line, fp))
        hit = strstr(line, needle) != NULL;
    fclose(fp);
    return hit;
}

static bool on_path(const char *prog)
{
    if (strchr(prog, '/'))
        return access(prog, X_OK) == 0;
    const char *path = getenv("PATH");
    if (!path)
        return false;
    char buf[1024];
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, ":");
        if (n && n + strlen(prog) + 2 < sizeof buf) {
            snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, prog);
            if (access(buf, X_OK) == 0)
                return true;
        }
        p += n + (p[n] == ':');
    }
    return false;
}

static const char *openocd_program(void)
{
    const char *e = getenv("ROMFS_OPENOCD");
    return e && *e ? e : "openocd";
}

static int add_openocd_scripts(struct argv_builder *a, const struct romfs_probe_config *cfg,
                               struct romfs_error *err)
{
    if (!cfg->openocd_target || !*cfg->openocd_target)
        return romfs_set_error_need(err, ROMFS_ERR_INVAL, ROMFS_NEED_OPENOCD_TARGET,
                                    "the board has no OpenOCD target script in boards.json");
    const char *iface = cfg->openocd_interface;
    if (!iface || !*iface)
        iface = getenv("ROMFS_OPENOCD_INTERFACE");
    bool board_script = strncmp(cfg->openocd_target, "board/", 6) == 0;
    if ((!iface || !*iface) && !board_script)
        iface = strstr(cfg->openocd_target, "stm32") ? "interface/stlink.cfg"
                                                     : "interface/cmsis-dap.cfg";
    args_add(a, "%s", openocd_program());
    if (iface && *iface)
        args_add(a, "-f"), args_add(a, "%s", iface);
    args_add(a, "-f");
    args_add(a, "%s", cfg->openocd_target);
    return ROMFS_OK;
}

/* Spawn argv with stdout+stderr into log_path; stdin from /dev/null. */
static int spawn_logged(struct argv_builder *a, const char *log_path, pid_t *pid,
                        struct romfs_error *err)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    /* Python tools (pyOCD) buffer their output into a file; their "waiting for a probe"
       line must show up at once. */
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 2, sizeof *env);
    if (!env) {
        posix_spawn_file_actions_destroy(&fa);
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    }
    env[0] = "PYTHONUNBUFFERED=1";
    memcpy(env + 1, environ, n * sizeof *env);
    int rc = posix_spawnp(pid, a->argv[0], &fa, NULL, a->argv, env);
    free(env);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return romfs_set_errno(err, ROMFS_ERR_TOOL, rc, "cannot run %s", a->argv[0]);
    return ROMFS_OK;
}

static int make_log_path(char *out, size_t cap, const char *what, struct romfs_error *err)
{
    snprintf(out, cap, "%s/romfs-%s-XXXXXX", romfs_tmpdir(), what);
    int fd = mkstemp(out);
    if (fd < 0)
        return romfs_set_errno(err, ROMFS_ERR_IO, errno, "cannot create a log file in %s",
                               romfs_tmpdir());
    close(fd);
    return ROMFS_OK;
}

static void stop_pid(pid_t pid)
{
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 60; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return;
        romfs_sleep_ms(50);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
}

static void describe_status(int status, char *out, size_t cap)
{
    if (WIFEXITED(status))
        snprintf(out, cap, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, cap, "was killed by signal %d", WTERMSIG(status));
    else
        snprintf(out, cap, "stopped");
}

int romfs_probe_start(enum romfs_probe_kind kind, const struct romfs_probe_config *cfg,
                      struct romfs_probe **out, struct romfs_error *err)
{
    struct romfs_probe *p = calloc(1, sizeof *p);
    if (!p)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    struct argv_builder a = { .argc = 0 };
    const char *tool = kind == ROMFS_PROBE_PYOCD ? "pyocd" : "openocd";
    int rc = romfs_probe_free_port(&p->port, err);
    if (rc < 0)
        goto fail;
    if (kind == ROMFS_PROBE_OPENOCD) {
        if ((rc = add_openocd_scripts(&a, cfg, err)) < 0)
            goto fail;
        args_add(&a, "-c"), args_add(&a, "bindto 127.0.0.1");
        args_add(&a, "-c"), args_add(&a, "gdb_port %u", p->port);
        args_add(&a, "-c"), args_add(&a, "tcl_port disabled");
        args_add(&a, "-c"), args_add(&a, "telnet_port disabled");
        args_add(&a, "-c"), args_add(&a, "gdb_memory_map enable");
        args_add(&a, "-c"), args_add(&a, "gdb_flash_program enable");
    } else if (kind == ROMFS_PROBE_PYOCD) {
        if (!cfg->pyocd_target || !*cfg->pyocd_target) {
            rc = romfs_set_error_need(err, ROMFS_ERR_INVAL, ROMFS_NEED_PYOCD_TARGET,
                                      "the board has no pyOCD target name in boards.json");
            goto fail;
        }
        const char *prog = getenv("ROMFS_PYOCD");
        if (prog && *prog) {
            args_add(&a, "%s", prog);
            args_add(&a, "gdbserver");
        } else if (on_path("pyocd")) {
            args_add(&a, "pyocd");
            args_add(&a, "gdbserver");
            args_add(&a, "--no-wait");   /* fail at once without a probe */
        } else {
            args_add(&a, "pyocd-gdbserver");  /* pyOCD before 0.14 (Debian 12) */
        }
        args_add(&a, "--target"), args_add(&a, "%s", cfg->pyocd_target);
        args_add(&a, "--port"), args_add(&a, "%u", p->port);
    } else {
        rc = romfs_set_error(err, ROMFS_ERR_INVAL, "probe kind %d is not a server to start", kind);
        goto fail;
    }
    args_join(&a, p->command, sizeof p->command);
    if ((rc = make_log_path(p->log_path, sizeof p->log_path, tool, err)) < 0)
        goto fail;
    if ((rc = spawn_logged(&a, p->log_path, &p->pid, err)) < 0) {
        unlink(p->log_path);
        goto fail;
    }
    snprintf(p->address, sizeof p->address, "gdb://127.0.0.1:%u", p->port);
    int timeout = cfg->startup_timeout_ms > 0 ? cfg->startup_timeout_ms : 20000;
    for (int waited = 0;; waited += 50) {
        int status;
        if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
            char how[64], errors[700];
            describe_status(status, how, sizeof how);
            log_errors(p->log_path, errors, sizeof errors);
            bool missing = WIFEXITED(status) && WEXITSTATUS(status) == 127;
            rc = romfs_set_error(err, ROMFS_ERR_TOOL, "%s %s before its GDB server started: %s "
                                 "(command: %s)%s", tool, how, errors, p->command,
                                 missing ? "; is it installed?" : "");
            unlink(p->log_path);
            goto fail;
        }
        if (log_contains(p->log_path, "Waiting for a debug probe") ||
            log_contains(p->log_path, "No connected debug probes")) {
            stop_pid(p->pid);
            rc = romfs_set_error(err, ROMFS_ERR_DEVICE,
                                 "%s: no debug probe connected (command: %s)", tool, p->command);
            unlink(p->log_path);
            goto fail;
        }
        if (port_listening(p->port) == 1)
            break;
        if (waited >= timeout) {
            char errors[700];
            stop_pid(p->pid);
            log_errors(p->log_path, errors, sizeof errors);
            rc = romfs_set_error(err, ROMFS_ERR_TIMEOUT,
                                 "%s did not open its GDB port %u within %d ms: %s (command: %s)",
                                 tool, p->port, timeout, errors, p->command);
            unlink(p->log_path);
            goto fail;
        }
        romfs_sleep_ms(50);
    }
    args_free(&a);
    *out = p;
    return ROMFS_OK;
fail:
    args_free(&a);
    free(p);
    return rc;
}

const char *romfs_probe_gdb_address(const struct romfs_probe *p) { return p->address; }
const char *romfs_probe_command_line(const struct romfs_probe *p) { return p->command; }

void romfs_probe_stop(struct romfs_probe *p)
{
    if (!p)
        return;
    stop_pid(p->pid);
    unlink(p->log_path);
    free(p);
}

int romfs_probe_openocd_program(const struct romfs_probe_config *cfg, const uint8_t *image,
                                size_t len, uint64_t address, bool reset, int timeout_ms,
                                struct romfs_error *err)
{
    char bin[256], log[256], command[1024];
    snprintf(bin, sizeof bin, "%s/romfs-image-XXXXXX.bin", romfs_tmpdir());
    int fd = mkstemps(bin, 4);
    if (fd < 0)
        return romfs_set_errno(err, ROMFS_ERR_IO, errno, "cannot create a temporary image file");
    int rc = romfs_write_all(fd, image, len, bin, err);
    close(fd);
    if (rc != ROMFS_OK) {
        unlink(bin);
        return rc;
    }
    struct argv_builder a = { .argc = 0 };
    rc = add_openocd_scripts(&a, cfg, err);
    if (rc == ROMFS_OK) {
        args_add(&a, "-c");
        args_add(&a, "program {%s} 0x%llx verify%s exit", bin, (unsigned long long)address,
                 reset ? " reset" : "");
        args_join(&a, command, sizeof command);
        rc = make_log_path(log, sizeof log, "openocd", err);
    }
    pid_t pid = 0;
    if (rc == ROMFS_OK && (rc = spawn_logged(&a, log, &pid, err)) < 0)
        unlink(log);
    if (rc == ROMFS_OK) {
        int status = 0, limit = timeout_ms > 0 ? timeout_ms : 300000;
        bool exited = false;
        for (int waited = 0; waited < limit; waited += 50) {
            if (waitpid(pid, &status, WNOHANG) == pid) {
                exited = true;
                break;
            }
            romfs_sleep_ms(50);
        }
        char errors[700];
        if (!exited) {
            stop_pid(pid);
            log_errors(log, errors, sizeof errors);
            rc = romfs_set_error(err, ROMFS_ERR_TIMEOUT, "openocd did not finish within %d ms: %s "
                                 "(command: %s)", limit, errors, command);
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            char how[64];
            describe_status(status, how, sizeof how);
            log_errors(log, errors, sizeof errors);
            rc = romfs_set_error(err, ROMFS_ERR_TOOL, "openocd %s: %s (command: %s)%s", how, errors,
                                 command,
                                 WIFEXITED(status) && WEXITSTATUS(status) == 127
                                     ? "; is it installed?" : "");
        }
        unlink(log);
    }
    args_free(&a);
    unlink(bin);
    return rc;
}

/* ---- --probe openocd-program as a romfs_target ---- */

struct program_ctx {
    struct romfs_probe_config cfg;
    uint64_t address;
    uint8_t *buf;
    uint64_t size, end;   /* end: one past the last programmed byte */
    bool reset;
};

static int program_read(void *c, uint64_t off, void *buf, size_t len, struct romfs_error *err)
{
    (void)err;
    struct program_ctx *p = c;
    memcpy(buf, p->buf + off, len);
    return ROMFS_OK;
}

static int program_erase(void *c, uint64_t off, uint64_t len, struct romfs_error *err)
{
    (void)err;
    struct program_ctx *p = c;
    memset(p->buf + off, 0xff, len);
    return ROMFS_OK;
}

static int program_prog(void *c, uint64_t off, const void *buf, size_t len, struct romfs_error *err)
{
    (void)err;
    struct program_ctx *p = c;
    memcpy(p->buf + off, buf, len);
    if (off + len > p->end)
        p->end = off + len;
    return ROMFS_OK;
}

static int program_sync(void *c, struct romfs_error *err)
{
    struct program_ctx *p = c;
    if (p->end == 0)
        return ROMFS_OK;
    int rc = romfs_probe_openocd_program(&p->cfg, p->buf, p->end, p->address, p->reset, 0, err);
    if (rc == ROMFS_OK)
        p->end = 0;
    return rc;
}

static void program_close(void *c)
{
    struct program_ctx *p = c;
    if (p) {
        free(p->buf);
        free(p);
    }
}

int romfs_probe_openocd_program_target(const struct romfs_probe_config *cfg, uint64_t address,
                                       uint64_t size, uint32_t erase_block, bool reset,
                                       struct romfs_target *t, struct romfs_error *err)
{
    if (!cfg->openocd_target || !*cfg->openocd_target)
        return romfs_set_error_need(err, ROMFS_ERR_INVAL, ROMFS_NEED_OPENOCD_TARGET,
                                    "the board has no OpenOCD target script in boards.json");
    if (size == 0 || size > ((uint64_t)1 << 31))
        return romfs_set_error(err, ROMFS_ERR_INVAL, "openocd-program: bad partition size %llu",
                               (unsigned long long)size);
    struct program_ctx *p = calloc(1, sizeof *p);
    if (!p || !(p->buf = malloc(size))) {
        free(p);
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    }
    memset(p->buf, 0xff, size);
    p->cfg = *cfg;
    p->address = address;
    p->size = size;
    p->reset = reset;
    *t = (struct romfs_target){
        .name = "openocd-program",
        .ctx = p,
        .base_address = address,
        .size = size,
        .erase_size = erase_block ? erase_block : 4096,
        .write_size = 4,
        .read = program_read,
        .erase = program_erase,
        .prog = program_prog,
        .sync = program_sync,
        .close = program_close,
    };
    return ROMFS_OK;
}
