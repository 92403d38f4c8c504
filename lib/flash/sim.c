/* sim.c: locate and launch the simulated MicroPython device (templates/sim/ (*.py)). */
#include "flash/sim.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "boards/db.h"
#include "base/template.h"
#include "base/clock.h"
#include "base/file.h"

#define SIM_DEFAULT_PARTITION (128u * 1024u)

struct argv_builder {
    char **v;
    size_t n, cap;
    int failed;
};

static void push(struct argv_builder *b, const char *s)
{
    if (b->failed)
        return;
    if (b->n + 2 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 32;
        char **nv = realloc(b->v, cap * sizeof *nv);
        if (!nv) {
            b->failed = 1;
            return;
        }
        b->v = nv;
        b->cap = cap;
    }
    char *copy = strdup(s);
    if (!copy) {
        b->failed = 1;
        return;
    }
    b->v[b->n++] = copy;
    b->v[b->n] = NULL;
}

static void pushf(struct argv_builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pushf(struct argv_builder *b, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    push(b, buf);
}

static void builder_free(struct argv_builder *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->v[i]);
    free(b->v);
    memset(b, 0, sizeof *b);
}

/* Remove a directory holding only plain files. */
static void remove_flat_dir(const char *dir)
{
    for (const struct romfs_template_file *t = romfs_templates; t->name; t++) {
        if (strncmp(t->name, "sim/", 4) != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, t->name + 4);
        unlink(path);
    }
    rmdir(dir);
}

static int write_program(char **dir_out, struct romfs_error *err)
{
    char templ[2048];
    snprintf(templ, sizeof templ, "%s/romfs-sim.XXXXXX", romfs_tmpdir());
    if (!mkdtemp(templ))
        return romfs_set_errno(err, ROMFS_ERR_IO, errno, "cannot create a directory for the simulator in %s",
                               romfs_tmpdir());
    int files = 0;
    for (const struct romfs_template_file *t = romfs_templates; t->name; t++) {
        if (strncmp(t->name, "sim/", 4) != 0 || strchr(t->name + 4, '/'))
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", templ, t->name + 4);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
        if (fd < 0) {
            int e = errno;
            remove_flat_dir(templ);
            return romfs_set_errno(err, ROMFS_ERR_IO, e, "cannot write %s", path);
        }
        int rc = romfs_write_all(fd, t->data, t->size, path, err);
        close(fd);
        if (rc != ROMFS_OK) {
            remove_flat_dir(templ);
            return rc;
        }
        files++;
    }
    if (!romfs_template("sim/main.py", NULL) || files == 0) {
        remove_flat_dir(templ);
        return romfs_set_error(err, ROMFS_ERR_TOOL, "this romfs was built without the simulator program (templates/sim)");
    }
    *dir_out = strdup(templ);
    if (!*dir_out) {
        remove_flat_dir(templ);
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    }
    return ROMFS_OK;
}

/* Append the device arguments that describe board `name`. */
static int board_args(const char *name, struct argv_builder *b, struct romfs_error *err)
{
    struct romfs_boards db;
    int rc = romfs_boards_load(NULL, &db, err);
    if (rc != ROMFS_OK)
        return romfs_error_prefix(err, "simulating board %s", name);
    const struct romfs_board *board = romfs_boards_lookup(&db, name, err);
    if (!board) {
        romfs_boards_free(&db);
        return err ? err->code : ROMFS_ERR_NOENT;
    }
    if (board->n_partitions == 0 && !board->romfs_option) {
        rc = romfs_set_error(err, ROMFS_ERR_NOENT,
                             "board %s has no ROMFS partition in its default build, so there is none to simulate "
                             "(a device without a board takes a partition's size and geometry)",
                             board->name);
        romfs_boards_free(&db);
        return rc;
    }
    push(b, "--board-name");
    push(b, board->name);
    if (board->port) {
        push(b, "--mp-port");
        push(b, board->port);
    }
    if (board->mcu) {
        push(b, "--mcu");
        push(b, board->mcu);
    }
    if (board->n_partitions == 0) {
        /* ROMFS only by build option (rp2, esp32): a default-sized partition with the
         * board's erase geometry. */
        uint32_t erase = board->erase_block ? board->erase_block : 4096;
        uint32_t write = board->write_block ? board->write_block : 4;
        uint64_t size = SIM_DEFAULT_PARTITION < erase ? erase : SIM_DEFAULT_PARTITION;
        size -= size % erase;
        push(b, "--partition");
        pushf(b, "%" PRIu64 ":%" PRIu32 ":%" PRIu32, size, erase, write);
    }
    /* The partition API is the board's choice (samd: an object when its filesystem is
     * in MCU flash, a memoryview with external flash); boards.json records it. */
    const char *api = board->n_partitions ? board->partitions[0].api : NULL;
    if (api) {
        push(b, "--api");
        push(b, strcmp(api, "object") == 0 ? "object" : "ioctl");
    }
    /* Partitions in index order; a board built for several cores (alif HP/HE) lists
     * an index once per core: the simulated device is the first core's. */
    int last_index = -1;
    for (size_t i = 0; i < board->n_partitions; i++) {
        const struct romfs_partition *p = &board->partitions[i];
        if (p->index <= last_index)
            continue;
        last_index = p->index;
        uint32_t erase = p->erase_block ? p->erase_block : 4096;
        uint32_t write = p->write_block ? p->write_block : 4;
        if (write > erase)
            write = erase;
        push(b, "--partition");
        pushf(b, "%" PRIu64 ":%" PRIu32 ":%" PRIu32, p->size, erase, write);
    }
    romfs_boards_free(&db);
    return b->failed ? romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory") : ROMFS_OK;
}

int romfs_sim_command_build(int n, char *const *args, struct romfs_sim_command *out,
                            struct romfs_error *err)
{
    memset(out, 0, sizeof *out);
    struct argv_builder b = {0};
    const char *python = getenv("ROMFS_PYTHON");
    push(&b, python && *python ? python : "python3");
    push(&b, "");   /* main.py, filled in below */
    push(&b, "--remove-program-dir");

    const char *board = NULL;
    for (int i = 0; i < n; i++) {
        if (strcmp(args[i], "--board") == 0 && i + 1 < n)
            board = args[++i];
        else if (strncmp(args[i], "--board=", 8) == 0)
            board = args[i] + 8;
    }
    if (board) {
        int rc = board_args(board, &b, err);
        if (rc != ROMFS_OK) {
            builder_free(&b);
            return rc;
        }
    }
    for (int i = 0; i < n; i++) {
        if (strcmp(args[i], "--board") == 0 && i + 1 < n) {
            i++;
            continue;
        }
        if (strncmp(args[i], "--board=", 8) == 0)
            continue;
        push(&b, args[i]);
    }
    if (b.failed) {
        builder_free(&b);
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    }
    char *dir;
    int rc = write_program(&dir, err);
    if (rc != ROMFS_OK) {
        builder_free(&b);
        return rc;
    }
    char main_path[4096];
    snprintf(main_path, sizeof main_path, "%s/main.py", dir);
    free(b.v[1]);
    b.v[1] = strdup(main_path);
    if (!b.v[1]) {
        b.v[1] = strdup("");
        remove_flat_dir(dir);
        free(dir);
        builder_free(&b);
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    }
    out->argv = b.v;
    out->argc = b.n;
    out->program_dir = dir;
    return ROMFS_OK;
}

void romfs_sim_command_free(struct romfs_sim_command *cmd)
{
    if (!cmd)
        return;
    for (size_t i = 0; i < cmd->argc; i++)
        free(cmd->argv[i]);
    free(cmd->argv);
    free(cmd->program_dir);
    memset(cmd, 0, sizeof *cmd);
}

void romfs_sim_command_discard(struct romfs_sim_command *cmd)
{
    if (cmd && cmd->program_dir)
        remove_flat_dir(cmd->program_dir);
}

/* Read one line (without '\n') from fd before the deadline. */
static int read_line(int fd, char *buf, size_t cap, long long deadline)
{
    size_t len = 0;
    for (;;) {
        long long left = deadline - romfs_now_ms();
        if (left <= 0)
            return ROMFS_ERR_TIMEOUT;
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int r = poll(&pfd, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return ROMFS_ERR_TIMEOUT;
        char c;
        ssize_t got = read(fd, &c, 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return ROMFS_ERR_TOOL;
        if (c == '\n') {
            buf[len] = '\0';
            return ROMFS_OK;
        }
        if (len + 1 < cap)
            buf[len++] = c;
    }
}

int romfs_sim_spawn(int n, char *const *args, int timeout_ms, struct romfs_sim_process *out,
                    struct romfs_error *err)
{
    memset(out, 0, sizeof *out);
    out->pid = -1;
    char **all = calloc((size_t)n + 2, sizeof *all);
    if (!all)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        all[i] = args[i];
    all[n] = "--announce-ready";
    struct romfs_sim_command cmd;
    int rc = romfs_sim_command_build(n + 1, all, &cmd, err);
    free(all);
    if (rc != ROMFS_OK)
        return rc;
    int pipefd[2];
    if (pipe(pipefd) != 0) {
        romfs_sim_command_discard(&cmd);
        romfs_sim_command_free(&cmd);
        return romfs_set_errno(err, ROMFS_ERR_IO, errno, "pipe");
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(pipefd[0]);
        close(pipefd[1]);
        romfs_sim_command_discard(&cmd);
        romfs_sim_command_free(&cmd);
        return romfs_set_errno(err, ROMFS_ERR_IO, e, "fork");
    }
    if (pid == 0) {
        dup2(pipefd[1], STDOUT_FILENO);
        close(pipefd[0]);
        close(pipefd[1]);
        execvp(cmd.argv[0], cmd.argv);
        _exit(127);
    }
    close(pipefd[1]);
    long long deadline = romfs_now_ms() + (timeout_ms > 0 ? timeout_ms : 10000);
    char ready[64];
    rc = read_line(pipefd[0], out->pty, sizeof out->pty, deadline);
    if (rc == ROMFS_OK)
        rc = read_line(pipefd[0], ready, sizeof ready, deadline);
    close(pipefd[0]);
    if (rc != ROMFS_OK || strcmp(ready, "ready") != 0) {
        kill(pid, SIGTERM);
        int status = 0;
        waitpid(pid, &status, 0);
        romfs_sim_command_discard(&cmd);
        const char *py = cmd.argv[0];
        if (rc != ROMFS_ERR_TIMEOUT && WIFEXITED(status) && WEXITSTATUS(status) == 2)
            rc = romfs_set_error(err, ROMFS_ERR_INVAL, "the simulator refused its arguments");
        else
            rc = romfs_set_error(err, rc == ROMFS_ERR_TIMEOUT ? ROMFS_ERR_TIMEOUT : ROMFS_ERR_TOOL,
                                 "the simulator (%s %s) did not start", py, cmd.argv[1]);
        romfs_sim_command_free(&cmd);
        return rc;
    }
    romfs_sim_command_free(&cmd);
    out->pid = pid;
    return ROMFS_OK;
}

int romfs_sim_stop(struct romfs_sim_process *proc)
{
    if (!proc || proc->pid <= 0)
        return -1;
    kill(proc->pid, SIGTERM);
    int status = 0;
    pid_t r;
    do {
        r = waitpid(proc->pid, &status, 0);
    } while (r < 0 && errno == EINTR);
    proc->pid = -1;
    return r < 0 ? -1 : status;
}
