/* pack_mpy.c: compile .py files with the mpy-cross program, several at a time.
 * The source tree is never written: outputs go to a private work directory. */
#include "image/pack_mpy_internal.h"
#include "base/clock.h"
#include "image/pack.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct running {
    pid_t pid;
    size_t job;
};

bool mpy_program_path(const char *program, char *buf, size_t cap)
{
    if (strchr(program, '/')) {
        snprintf(buf, cap, "%s", program);
        return access(program, X_OK) == 0;
    }
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        snprintf(buf, cap, "%.*s/%s", (int)n, n ? path : ".", program);
        if (access(buf, X_OK) == 0)
            return true;
        path += n + (path[n] == ':');
    }
    return false;
}

/* Whether `program` can be run: a path, or a name found on $PATH. */
static int program_exists(const char *program)
{
    char buf[4096];
    return mpy_program_path(program, buf, sizeof buf);
}

bool mpy_program_version(const char *program, char *buf, size_t cap, int *status)
{
    int fds[2];
    buf[0] = 0;
    if (cap < 2 || pipe(fds) != 0)
        return false;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    char *argv[] = { (char *)program, "--version", NULL };
    pid_t pid;
    int rc = posix_spawnp(&pid, program, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    size_t got = 0;
    for (ssize_t n = 1; rc == 0 && n > 0;) {
        char tmp[512];
        n = read(fds[0], tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            n = 1;
        else if (n > 0 && got < cap - 1) {
            size_t k = (size_t)n < cap - 1 - got ? (size_t)n : cap - 1 - got;
            memcpy(buf + got, tmp, k);
            got += k;
        }
    }
    close(fds[0]);
    buf[got] = 0;
    if (rc != 0)
        return false;
    while (waitpid(pid, status, 0) < 0 && errno == EINTR)
        ;
    return true;
}

bool romfs_program_available(const char *program)
{
    return program && *program && program_exists(program);
}

static char *job_log_path(const char *work_dir, const char *prefix, size_t i)
{
    char *p = malloc(strlen(work_dir) + strlen(prefix) + 32);
    if (p)
        sprintf(p, "%s/%s%zu.log", work_dir, prefix, i);
    return p;
}

/* Read up to 4 KiB of the job's log for an error message. */
static void read_log(const char *path, char *buf, size_t size)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
}

static int spawn_job(const char *program, const char *const *args, size_t n_args,
                     struct mpy_job *job, const char *log, pid_t *pid, struct romfs_error *err)
{
    size_t argc = 0;
    const char **argv = calloc(n_args + 8, sizeof *argv);
    if (!argv)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    argv[argc++] = program;
    for (size_t i = 0; i < n_args; i++)
        argv[argc++] = args[i];
    argv[argc++] = "-o";
    argv[argc++] = job->output;
    argv[argc++] = "-s";
    argv[argc++] = job->source_name;
    argv[argc++] = job->source;
    argv[argc] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
    int rc = posix_spawnp(pid, program, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    free(argv);
    if (rc)
        return romfs_set_errno(err, ROMFS_ERR_TOOL, rc, "cannot run %s for %s", program,
                               job->source_name);
    return ROMFS_OK;
}

static int finish_job(struct mpy_job *job, int status, const char *log, const char *program,
                      struct romfs_error *err)
{
    char text[4096];
    struct stat st;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && stat(job->output, &st) == 0)
        return ROMFS_OK;
    read_log(log, text, sizeof text);
    if (WIFSIGNALED(status))
        return romfs_set_error(err, ROMFS_ERR_TOOL, "%s: %s was killed by signal %d%s%s",
                               job->source_name, program, WTERMSIG(status), text[0] ? ":\n" : "",
                               text);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return romfs_set_error(err, ROMFS_ERR_TOOL, "cannot run %s: %s", program, text);
    return romfs_set_error(err, ROMFS_ERR_TOOL, "%s: mpy-cross failed:\n%s", job->source_name,
                           text[0] ? text : "(no message)");
}

int mpy_compile_all(const char *program, const char *const *args, size_t n_args,
                    struct mpy_job *jobs, size_t n_jobs, unsigned parallel, const char *work_dir,
                    const char *prefix, struct romfs_error *err)
{
    if (!program_exists(program))
        return romfs_set_error_need(err, ROMFS_ERR_TOOL, ROMFS_NEED_MPY_CROSS,
                                    "mpy-cross program '%s' not found", program);
    if (parallel == 0)
        parallel = 1;
    struct running *run = calloc(parallel, sizeof *run);
    if (!run)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    size_t next = 0, active = 0;
    int rc = ROMFS_OK;
    for (size_t i = 0; i < n_jobs && !rc; i++) {
        jobs[i].output = malloc(strlen(work_dir) + strlen(prefix) + 32);
        if (!jobs[i].output)
            rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
        else
            sprintf(jobs[i].output, "%s/%s%zu.mpy", work_dir, prefix, i);
    }
    while (!rc && (next < n_jobs || active > 0)) {
        while (!rc && next < n_jobs && active < parallel) {
            char *log = job_log_path(work_dir, prefix, next);
            if (!log) {
                rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
                break;
            }
            rc = spawn_job(program, args, n_args, &jobs[next], log, &run[active].pid, err);
            free(log);
            if (!rc)
                run[active++].job = next++;
        }
        if (rc || active == 0)
            break;
        int status;
        pid_t done = -1;
        size_t slot = 0;
        while (done <= 0) {
            for (slot = 0; slot < active; slot++) {
                done = waitpid(run[slot].pid, &status, WNOHANG);
                if (done != 0)
                    break;
            }
            if (done == 0 || slot == active) {
                romfs_sleep_ms(1);
                done = 0;
            }
        }
        char *log = job_log_path(work_dir, prefix, run[slot].job);
        rc = log ? finish_job(&jobs[run[slot].job], status, log, program, err)
                 : romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
        free(log);
        run[slot] = run[--active];
    }
    /* On failure, stop the others and reap them. */
    for (size_t i = 0; i < active; i++) {
        kill(run[i].pid, SIGTERM);
        waitpid(run[i].pid, NULL, 0);
    }
    free(run);
    return rc;
}
