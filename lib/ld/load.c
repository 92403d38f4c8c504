/* ld/load.c: finding and reading linker scripts (as ld does: the working
 * directory, then -L directories, then SEARCH_DIR), running the C preprocessor
 * on them when a port does, and the public romfs_ld_evaluate entry points. */
#include "ld/ldscript_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define LD_MAX_INCLUDE_DEPTH 16
#define LD_MAX_SCRIPT_BYTES (16u << 20)

static int read_fd(int fd, char **data, size_t *size)
{
    size_t cap = 8192, len = 0;
    char *buf = malloc(cap + 1);
    if (!buf)
        return ROMFS_ERR_NOMEM;
    for (;;) {
        if (len == cap) {
            if (cap >= LD_MAX_SCRIPT_BYTES) {
                free(buf);
                return ROMFS_ERR_FBIG;
            }
            cap *= 2;
            char *n = realloc(buf, cap + 1);
            if (!n) {
                free(buf);
                return ROMFS_ERR_NOMEM;
            }
            buf = n;
        }
        ssize_t got = read(fd, buf + len, cap - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            free(buf);
            return ROMFS_ERR_IO;
        }
        if (got == 0)
            break;
        len += (size_t)got;
    }
    buf[len] = '\0';
    *data = buf;
    *size = len;
    return ROMFS_OK;
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* dir + "/" + name into buf; false if it does not fit. */
static bool join(char *buf, size_t size, const char *dir, const char *name)
{
    int n = dir && *dir ? snprintf(buf, size, "%s/%s", dir, name) : snprintf(buf, size, "%s", name);
    return n >= 0 && (size_t)n < size;
}

/* Where ld would find name: absolute as is; else the working directory (base_dir),
 * then each -L directory, then each SEARCH_DIR. */
static bool find_script(struct ld_reader *r, const char *name, char *out, size_t size)
{
    const struct romfs_ld_input *in = r->in;
    if (name[0] == '/')
        return join(out, size, NULL, name) && is_file(out);
    if (join(out, size, in ? in->base_dir : NULL, name) && is_file(out))
        return true;
    for (size_t i = 0; in && i < in->n_search_dirs; i++) {
        const char *d = in->search_dirs[i];
        char tmp[4096];
        if (d[0] != '/' && in->base_dir && join(tmp, sizeof tmp, in->base_dir, d)) {
            if (join(out, size, tmp, name) && is_file(out))
                return true;
        } else if (join(out, size, d, name) && is_file(out)) {
            return true;
        }
    }
    for (size_t i = 0; i < r->n_extra_dirs; i++)
        if (join(out, size, r->extra_dirs[i], name) && is_file(out))
            return true;
    return false;
}

struct cpp_cache_entry {
    char *key;      /* the preprocessor's argv, joined with '\n' */
    char *data;
    size_t size;
};

struct romfs_ld_cpp_cache {
    struct cpp_cache_entry *e;
    size_t n, cap;
};

struct romfs_ld_cpp_cache *romfs_ld_cpp_cache_new(void)
{
    return calloc(1, sizeof(struct romfs_ld_cpp_cache));
}

void romfs_ld_cpp_cache_free(struct romfs_ld_cpp_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->e[i].key);
        free(c->e[i].data);
    }
    free(c->e);
    free(c);
}

static char *join_argv(char *const *argv)
{
    size_t n = 1;
    for (size_t i = 0; argv[i]; i++)
        n += strlen(argv[i]) + 1;
    char *key = malloc(n), *p = key;
    for (size_t i = 0; key && argv[i]; i++)
        p += sprintf(p, "%s\n", argv[i]);
    if (key)
        *p = '\0';
    return key;
}

/* A copy of cached output for key, or false. */
static bool cache_get(const struct romfs_ld_cpp_cache *c, const char *key, char **data, size_t *size)
{
    for (size_t i = 0; c && key && i < c->n; i++)
        if (strcmp(c->e[i].key, key) == 0) {
            if (!(*data = malloc(c->e[i].size + 1)))
                return false;
            memcpy(*data, c->e[i].data, c->e[i].size + 1);
            *size = c->e[i].size;
            return true;
        }
    return false;
}

/* Remember a copy (best effort: no memory only means no reuse). Takes ownership of key. */
static void cache_put(struct romfs_ld_cpp_cache *c, char *key, const char *data, size_t size)
{
    char *copy = malloc(size + 1);
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct cpp_cache_entry *ne = realloc(c->e, cap * sizeof *ne);
        if (ne) {
            c->e = ne;
            c->cap = cap;
        }
    }
    if (!copy || c->n == c->cap) {
        free(copy);
        free(key);
        return;
    }
    memcpy(copy, data, size);
    copy[size] = '\0';
    c->e[c->n++] = (struct cpp_cache_entry){ key, copy, size };
}

/* Run `$CC -E -x c -D... path` and capture its output (with line markers). */
static int preprocess(struct ld_reader *r, const char *path, char **data, size_t *size)
{
    const struct romfs_ld_input *in = r->in;
    const char *cc = getenv("CC");
    if (!cc || !*cc)
        cc = "cc";
    size_t n_defs = in->n_cpp_defines + in->n_cpp_include_dirs;
    size_t nargs = 6 + n_defs;
    char **argv = calloc(nargs + 1, sizeof *argv);
    char **defs = calloc(n_defs + 1, sizeof *defs);
    int rc = ROMFS_OK, out_pipe[2] = {-1, -1};
    char *key = NULL;
    FILE *errf = tmpfile();
    if (!argv || !defs || !errf) {
        rc = romfs_set_error(r->err, ROMFS_ERR_NOMEM, "%s: cannot set up the preprocessor", path);
        goto done;
    }
    size_t k = 0;
    argv[k++] = (char *)cc;
    argv[k++] = "-E";
    argv[k++] = "-x";
    argv[k++] = "c";
    for (size_t i = 0; i < in->n_cpp_defines; i++) {
        size_t n = strlen(in->cpp_defines[i]) + 3;
        if (!(defs[i] = malloc(n))) {
            rc = romfs_set_error(r->err, ROMFS_ERR_NOMEM, "out of memory");
            goto done;
        }
        snprintf(defs[i], n, "-D%s", in->cpp_defines[i]);
        argv[k++] = defs[i];
    }
    for (size_t i = 0; i < in->n_cpp_include_dirs; i++) {
        const char *d = in->cpp_include_dirs[i];
        bool rel = d[0] != '/' && in->base_dir;
        size_t n = strlen(d) + (rel ? strlen(in->base_dir) + 1 : 0) + 3;
        char **slot = &defs[in->n_cpp_defines + i];
        if (!(*slot = malloc(n))) {
            rc = romfs_set_error(r->err, ROMFS_ERR_NOMEM, "out of memory");
            goto done;
        }
        if (rel)
            snprintf(*slot, n, "-I%s/%s", in->base_dir, d);
        else
            snprintf(*slot, n, "-I%s", d);
        argv[k++] = *slot;
    }
    argv[k++] = (char *)path;
    argv[k] = NULL;
    key = in->cpp_cache ? join_argv(argv) : NULL;
    if (key && cache_get(in->cpp_cache, key, data, size))
        goto done;   /* key is freed there */
    if (pipe(out_pipe) != 0) {
        rc = romfs_set_errno(r->err, ROMFS_ERR_IO, errno, "%s: pipe", path);
        goto done;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fileno(errf), 2);
    posix_spawn_file_actions_addclose(&fa, out_pipe[0]);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    int sp = posix_spawnp(&pid, cc, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out_pipe[1]);
    out_pipe[1] = -1;
    if (sp != 0) {
        rc = romfs_set_errno(r->err, ROMFS_ERR_TOOL, sp, "%s: cannot run the C preprocessor '%s'", path, cc);
        goto done;
    }
    int rrc = read_fd(out_pipe[0], data, size), status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (rrc) {
        rc = romfs_set_error(r->err, rrc, "%s: reading the preprocessor output failed", path);
        goto done;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char msg[400] = "";
        rewind(errf);
        size_t n = fread(msg, 1, sizeof msg - 1, errf);
        msg[n] = '\0';
        char *nl = strchr(msg, '\n');
        if (nl)
            *nl = '\0';
        free(*data);
        *data = NULL;
        rc = romfs_set_error(r->err, ROMFS_ERR_TOOL, "%s: the C preprocessor '%s' failed: %s", path, cc, msg);
    }
    if (rc == ROMFS_OK && key) {
        cache_put(in->cpp_cache, key, *data, *size);
        key = NULL;
    }
done:
    free(key);
    if (out_pipe[0] >= 0)
        close(out_pipe[0]);
    if (out_pipe[1] >= 0)
        close(out_pipe[1]);
    if (errf)
        fclose(errf);
    if (defs)
        for (size_t i = 0; i < n_defs; i++)
            free(defs[i]);
    free(defs);
    free(argv);
    return rc;
}

static int load_and_parse(struct ld_reader *r, const char *path, enum ld_parse_mode mode,
                          const char *section)
{
    char *data = NULL;
    size_t size = 0;
    int rc;
    bool cpp = r->in && r->in->preprocess;
    if (cpp) {
        if ((rc = preprocess(r, path, &data, &size)))
            return rc;
    } else {
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            return romfs_set_errno(r->err, romfs_input_errno_code(errno), errno,
                                   "%s", path);
        rc = read_fd(fd, &data, &size);
        close(fd);
        if (rc)
            return romfs_set_error(r->err, rc, "%s: cannot read the script", path);
    }
    char *real = realpath(path, NULL);
    if (!real)
        real = strdup(path);
    if (!real) {
        free(data);
        return romfs_set_error(r->err, ROMFS_ERR_NOMEM, "out of memory");
    }
    int slot = r->depth;
    if (slot < (int)(sizeof r->open_scripts / sizeof r->open_scripts[0]))
        r->open_scripts[slot] = real;
    else
        free(real);
    r->depth++;
    rc = ld_parse_text(r, path, data, size, cpp, mode, section);
    r->depth--;
    if (slot < (int)(sizeof r->open_scripts / sizeof r->open_scripts[0])) {
        free(r->open_scripts[slot]);
        r->open_scripts[slot] = NULL;
    }
    free(data);
    return rc;
}

static int include_file(struct ld_reader *r, const char *from_file, int line, const char *name,
               enum ld_parse_mode mode, const char *section)
{
    char path[4096];
    if (r->in && r->in->no_include_files)
        return romfs_set_error(r->err, ROMFS_ERR_UNSUPPORTED, "%s:%d: INCLUDE %s: including files is disabled here",
                               from_file, line, name);
    if (r->depth >= LD_MAX_INCLUDE_DEPTH)
        return romfs_set_error(r->err, ROMFS_ERR_UNSUPPORTED, "%s:%d: INCLUDE %s: nested more than %d deep (a loop?)",
                               from_file, line, name, LD_MAX_INCLUDE_DEPTH);
    if (!find_script(r, name, path, sizeof path))
        return romfs_set_error(r->err, ROMFS_ERR_NOENT,
                               "%s:%d: INCLUDE %s: not found in the working directory or any -L directory",
                               from_file, line, name);
    /* A file that is still being read, included again: the loop is this line. */
    char *real = realpath(path, NULL);
    for (int i = 0; real && i < r->depth && i < (int)(sizeof r->open_scripts / sizeof r->open_scripts[0]); i++) {
        if (r->open_scripts[i] && strcmp(r->open_scripts[i], real) == 0) {
            free(real);
            return romfs_set_error(r->err, ROMFS_ERR_UNSUPPORTED,
                                   "%s:%d: INCLUDE %s: an INCLUDE loop (%s is already being read)", from_file,
                                   line, name, path);
        }
    }
    free(real);
    return load_and_parse(r, path, mode, section);
}

static void result_init(struct romfs_ld_result *out)
{
    if (out)
        memset(out, 0, sizeof *out);
}

static int add_defsyms(struct ld_reader *r, const struct romfs_ld_input *in)
{
    for (size_t i = 0; in && i < in->n_defsyms; i++) {
        int rc = ld_parse_defsym(r, in->defsyms[i], (int)i + 1);
        if (rc)
            return rc;
    }
    return ROMFS_OK;
}

static int finish(struct ld_reader *r, struct ld_program *prog, const struct romfs_ld_input *in,
                  int rc, struct romfs_ld_result *out, struct romfs_error *err)
{
    if (rc == ROMFS_OK)
        rc = ld_evaluate_program(prog, in ? in->address_bits : 0, out, err);
    free(r->extra_dirs);
    ld_program_free(prog);
    return rc;
}

int romfs_ld_evaluate(const struct romfs_ld_input *in, struct romfs_ld_result *out,
                      struct romfs_error *err)
{
    result_init(out);
    if (!in || !out || in->n_scripts == 0)
        return romfs_set_error(err, ROMFS_ERR_INVAL, "no linker script given");
    struct ld_program prog = {0};
    struct ld_reader r = {.prog = &prog, .in = in, .err = err, .include = include_file};
    int rc = in->defsyms_last ? ROMFS_OK : add_defsyms(&r, in);
    for (size_t i = 0; rc == ROMFS_OK && i < in->n_scripts; i++) {
        char path[4096];
        if (!find_script(&r, in->scripts[i], path, sizeof path))
            rc = romfs_set_error(err, ROMFS_ERR_NOENT, "%s: linker script not found", in->scripts[i]);
        else
            rc = load_and_parse(&r, path, LD_PM_TOP, NULL);
    }
    if (rc == ROMFS_OK && in->defsyms_last)
        rc = add_defsyms(&r, in);
    return finish(&r, &prog, in, rc, out, err);
}

int romfs_ld_evaluate_text(const char *name, const char *text, size_t len,
                           const struct romfs_ld_input *opts, struct romfs_ld_result *out,
                           struct romfs_error *err)
{
    result_init(out);
    if (!out || (!text && len))
        return romfs_set_error(err, ROMFS_ERR_INVAL, "no linker script text given");
    struct romfs_ld_input in = {0};
    if (opts)
        in = *opts;
    in.preprocess = false;
    struct ld_program prog = {0};
    struct ld_reader r = {.prog = &prog, .in = &in, .err = err, .include = include_file};
    int rc = in.defsyms_last ? ROMFS_OK : add_defsyms(&r, &in);
    if (rc == ROMFS_OK)
        rc = ld_parse_text(&r, name ? name : "<text>", text ? text : "", len, false, LD_PM_TOP, NULL);
    if (rc == ROMFS_OK && in.defsyms_last)
        rc = add_defsyms(&r, &in);
    return finish(&r, &prog, &in, rc, out, err);
}
