/* pack.c: directory walk -> tree writer -> output file.
 *
 * Sizes first: the walk records names and sizes only, the layout places every record,
 * then contents are streamed file by file into OUT.tmp-XXXXXX beside OUT, which is
 * renamed over OUT only when everything succeeded. With a base image (options.base) the
 * image is laid out against it in memory instead (image/stable.h) and written whole. */
#include "image/pack.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "image/pack_mpy_internal.h"
#include "format/format.h"

const char *const romfs_default_excludes[] = {
    ".git", ".hg", ".svn", "__pycache__", "*.pyc", ".DS_Store", "Thumbs.db", "*.swp", "*~", NULL,
};

struct pack_file {
    char *source;       /* path to read (below DIR, or the compiled .mpy in the work dir) */
    char *rel_source;   /* path below DIR of the original */
    char *image_path;   /* path in the image */
    const char *note;   /* for --tree: the .py's name when compiled, else NULL */
    struct romfs_node *parent;
    struct romfs_node *node;
    uint64_t size;
    uint8_t sha256[ROMFS_SHA256_SIZE];
};

struct dir_id {
    dev_t dev;
    ino_t ino;
};

struct pack_state {
    const struct romfs_pack_options *opt;
    struct romfs_error *err;
    struct romfs_tree *tree;
    const char *root;
    struct pack_file **files;
    size_t n_files, cap_files;
    struct dir_id *stack;
    size_t depth, cap_stack;
    char *work_dir;      /* mpy-cross outputs */
    uint64_t mpy_cached; /* of them, taken from the cache */
    struct pack_file **ordered;  /* files in image order, parallel to the result's file_list */
    struct romfs_stable_result stable;  /* with a base: the image and its offsets */
};

static char *join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 2);
    if (!p)
        return NULL;
    memcpy(p, a, la);
    size_t n = la;
    if (la && lb && a[la - 1] != '/')
        p[n++] = '/';
    memcpy(p + n, b, lb + 1);
    return p;
}

/* Strict UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
static bool valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t len;
        unsigned min;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xe0) == 0xc0) { len = 2; min = 0x80; c &= 0x1f; }
        else if ((c & 0xf0) == 0xe0) { len = 3; min = 0x800; c &= 0x0f; }
        else if ((c & 0xf8) == 0xf0) { len = 4; min = 0x10000; c &= 0x07; }
        else return false;
        if (i + len > n)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            c = (c << 6) | (s[i + k] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

/* A glob matches the path below DIR, or (when it has no '/') the base name. */
static bool excluded(const struct romfs_pack_options *o, const char *rel, const char *base);

static bool glob_matches(const char *glob, const char *rel, const char *base)
{
    if (fnmatch(glob, rel, FNM_PATHNAME) == 0)
        return true;
    return !strchr(glob, '/') && fnmatch(glob, base, 0) == 0;
}

bool romfs_pack_excludes(const struct romfs_pack_options *o, const char *rel)
{
    const char *base = strrchr(rel, '/');
    return excluded(o, rel, base ? base + 1 : rel);
}

static bool excluded(const struct romfs_pack_options *o, const char *rel, const char *base)
{
    if (!o->no_default_excludes)
        for (const char *const *g = romfs_default_excludes; *g; g++)
            if (glob_matches(*g, rel, base))
                return true;
    for (size_t i = 0; i < o->n_excludes; i++)
        if (glob_matches(o->excludes[i], rel, base))
            return true;
    return false;
}

static uint32_t alignment_for(const struct pack_state *ps, const char *image_path,
                              const char *rel_source)
{
    const struct romfs_pack_options *o = ps->opt;
    uint32_t align = o->align ? o->align : 4;
    const char *base = strrchr(image_path, '/');
    base = base ? base + 1 : image_path;
    const char *src_base = strrchr(rel_source, '/');
    src_base = src_base ? src_base + 1 : rel_source;
    for (size_t i = 0; i < o->n_align_rules; i++)
        if (glob_matches(o->align_rules[i].glob, image_path, base) ||
            glob_matches(o->align_rules[i].glob, rel_source, src_base))
            align = o->align_rules[i].align;
    return align;
}

static int add_pack_file(struct pack_state *ps, struct romfs_node *parent, char *source,
                         char *rel, char *image_path, uint64_t size)
{
    if (ps->n_files == ps->cap_files) {
        size_t cap = ps->cap_files ? ps->cap_files * 2 : 64;
        struct pack_file **nf = realloc(ps->files, cap * sizeof *nf);
        if (!nf)
            goto nomem;
        ps->files = nf;
        ps->cap_files = cap;
    }
    struct pack_file *f = calloc(1, sizeof *f);
    if (!f)
        goto nomem;
    f->source = source;
    f->rel_source = rel;
    f->image_path = image_path;
    f->parent = parent;
    f->size = size;
    ps->files[ps->n_files++] = f;
    return ROMFS_OK;
nomem:
    free(source);
    free(rel);
    free(image_path);
    return romfs_set_error(ps->err, ROMFS_ERR_NOMEM, "out of memory");
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_dir_names(const char *path, char ***names_out, size_t *n_out,
                          struct romfs_error *err)
{
    DIR *d = opendir(path);
    if (!d)
        return romfs_set_errno(err, romfs_input_errno_code(errno), errno,
                               "cannot read directory %s", path);
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    int rc = ROMFS_OK;
    errno = 0;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) { rc = ROMFS_ERR_NOMEM; break; }
            names = nn;
        }
        if (!(names[n] = strdup(de->d_name))) { rc = ROMFS_ERR_NOMEM; break; }
        n++;
    }
    if (!rc && errno)
        rc = romfs_set_errno(err, romfs_input_errno_code(errno), errno, "cannot read directory %s", path);
    else if (rc == ROMFS_ERR_NOMEM)
        romfs_set_error(err, rc, "out of memory reading %s", path);
    closedir(d);
    if (rc) {
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
        return rc;
    }
    if (n > 1)
        qsort(names, n, sizeof *names, compare_strings);
    *names_out = names;
    *n_out = n;
    return ROMFS_OK;
}

static bool is_compiled(const struct pack_state *ps, const char *name)
{
    size_t n = strlen(name);
    return ps->opt->mpy_cross && n > 3 && strcmp(name + n - 3, ".py") == 0;
}

/* A file that goes through mpy-cross: its image path is its .py name made .mpy. */
static bool will_compile(const struct pack_state *ps, const struct pack_file *f)
{
    return is_compiled(ps, f->rel_source) && strcmp(f->image_path, f->rel_source) != 0;
}

static int walk(struct pack_state *ps, struct romfs_node *node, const char *rel_dir);

/* One directory entry: validate, classify, add. Takes ownership of nothing. */
static int walk_entry(struct pack_state *ps, struct romfs_node *node, const char *rel_dir,
                      const char *name)
{
    struct romfs_error *err = ps->err;
    char *rel = rel_dir[0] ? join(rel_dir, name) : strdup(name);
    char *full = rel ? join(ps->root, rel) : NULL;
    int rc = ROMFS_OK;
    if (!rel || !full) {
        rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (!valid_utf8((const unsigned char *)name, strlen(name))) {
        rc = romfs_set_error(err, ROMFS_ERR_INVAL,
                             "%s: name is not valid UTF-8", full);
        romfs_error_need(err, ROMFS_NEED_EXCLUDE);
        goto out;
    }
    if (excluded(ps->opt, rel, name))
        goto out;
    struct stat st;
    if (stat(full, &st) != 0) {
        int e = errno;
        struct stat lst;
        if (e == ELOOP)
            rc = romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: symlink loop", full);
        else if (e == ENOENT && lstat(full, &lst) == 0 && S_ISLNK(lst.st_mode))
            rc = romfs_set_error(err, ROMFS_ERR_NOENT, "%s: symlink to nothing", full);
        else
            rc = romfs_set_errno(err, ROMFS_ERR_IO, e, "cannot stat %s", full);
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        for (size_t i = 0; i < ps->depth; i++)
            if (ps->stack[i].dev == st.st_dev && ps->stack[i].ino == st.st_ino) {
                rc = romfs_set_error(err, ROMFS_ERR_CORRUPT,
                                     "%s: symlink loop (leads back to a directory above it)", full);
                goto out;
            }
        struct romfs_node *child = romfs_tree_add_dir(ps->tree, node, name, strlen(name), err);
        if (!child) {
            rc = err ? err->code : ROMFS_ERR_NOMEM;
            goto out;
        }
        if (ps->depth == ps->cap_stack) {
            size_t cap = ps->cap_stack ? ps->cap_stack * 2 : 16;
            struct dir_id *ns = realloc(ps->stack, cap * sizeof *ns);
            if (!ns) {
                rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
                goto out;
            }
            ps->stack = ns;
            ps->cap_stack = cap;
        }
        ps->stack[ps->depth++] = (struct dir_id){ st.st_dev, st.st_ino };
        rc = walk(ps, child, rel);
        ps->depth--;
    } else if (S_ISREG(st.st_mode)) {
        if (access(full, R_OK) != 0) {
            rc = romfs_set_errno(err, romfs_input_errno_code(errno), errno, "cannot read %s", full);
            goto out;
        }
        size_t rel_len = strlen(rel);
        char *image_path = malloc(rel_len + 2);   /* room for ".py" -> ".mpy" */
        if (image_path)
            memcpy(image_path, rel, rel_len + 1);
        if (!image_path) {
            rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
            goto out;
        }
        if (is_compiled(ps, name)) {
            /* A .mpy beside the .py wins: the .py is left out and the .mpy packed as is
               (or, with keep_py_beside_mpy, the .py is packed as it is, not compiled). */
            size_t n = strlen(full);
            char *mpy = malloc(n + 2);
            struct stat mst;
            bool have_mpy = false;
            if (mpy) {
                memcpy(mpy, full, n - 3);
                strcpy(mpy + n - 3, ".mpy");
                have_mpy = stat(mpy, &mst) == 0 && S_ISREG(mst.st_mode);
                free(mpy);
            }
            if (have_mpy && !ps->opt->keep_py_beside_mpy) {
                free(image_path);
                goto out;
            }
            if (!have_mpy)
                strcpy(image_path + strlen(image_path) - 3, ".mpy");
        }
        rc = add_pack_file(ps, node, full, rel, image_path, (uint64_t)st.st_size);
        full = rel = NULL;   /* owned by the pack_file now */
    } else {
        const char *what = S_ISFIFO(st.st_mode)   ? "a FIFO"
                           : S_ISSOCK(st.st_mode) ? "a socket"
                           : S_ISCHR(st.st_mode)  ? "a character device"
                           : S_ISBLK(st.st_mode)  ? "a block device"
                                                  : "not a regular file";
        rc = romfs_set_error(err, ROMFS_ERR_UNSUPPORTED,
                             "%s is %s; only regular files and directories can be packed",
                             full, what);
        romfs_error_need(err, ROMFS_NEED_EXCLUDE);
    }
out:
    free(rel);
    free(full);
    return rc;
}

static int walk(struct pack_state *ps, struct romfs_node *node, const char *rel_dir)
{
    char *path = rel_dir[0] ? join(ps->root, rel_dir) : strdup(ps->root);
    if (!path)
        return romfs_set_error(ps->err, ROMFS_ERR_NOMEM, "out of memory");
    char **names;
    size_t n;
    int rc = read_dir_names(path, &names, &n, ps->err);
    free(path);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (!rc)
            rc = walk_entry(ps, node, rel_dir, names[i]);
        free(names[i]);
    }
    free(names);
    return rc;
}

/* ---- compile, place ------------------------------------------------------ */

static int compile_sources(struct pack_state *ps)
{
    const struct romfs_pack_options *o = ps->opt;
    size_t n = 0;
    for (size_t i = 0; i < ps->n_files; i++)
        n += will_compile(ps, ps->files[i]);
    if (n == 0)
        return ROMFS_OK;
    char *templ = join(romfs_tmpdir(), "romfs-mpy.XXXXXX");
    if (!templ || !mkdtemp(templ)) {
        int e = errno;
        free(templ);
        return romfs_set_errno(ps->err, ROMFS_ERR_IO, e, "cannot create a work directory for mpy-cross");
    }
    ps->work_dir = templ;
    struct mpy_job *jobs = calloc(n, sizeof *jobs);
    struct pack_file **which = calloc(n, sizeof *which);
    int rc = ROMFS_OK;
    if (!jobs || !which) {
        rc = romfs_set_error(ps->err, ROMFS_ERR_NOMEM, "out of memory");
        goto out;
    }
    size_t k = 0;
    for (size_t i = 0; i < ps->n_files; i++) {
        struct pack_file *f = ps->files[i];
        if (will_compile(ps, f)) {
            jobs[k].source = f->source;
            jobs[k].source_name = o->mpy_name_is_path ? f->source : f->rel_source;
            which[k++] = f;
        }
    }
    unsigned parallel = o->jobs ? o->jobs : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
    rc = mpy_compile_cached(o->mpy_cache, o->mpy_cross, o->mpy_cross_args, o->n_mpy_cross_args,
                            jobs, n, parallel, ps->work_dir, &ps->mpy_cached, ps->err);
    for (size_t i = 0; i < n && !rc; i++) {
        struct stat st;
        if (stat(jobs[i].output, &st) != 0) {
            rc = romfs_set_errno(ps->err, ROMFS_ERR_TOOL, errno, "%s: mpy-cross wrote no output",
                                 which[i]->rel_source);
            break;
        }
        free(which[i]->source);
        which[i]->source = jobs[i].output;
        jobs[i].output = NULL;
        which[i]->size = (uint64_t)st.st_size;
        const char *base = strrchr(which[i]->rel_source, '/');
        which[i]->note = base ? base + 1 : which[i]->rel_source;
    }
out:
    for (size_t i = 0; jobs && i < n; i++)
        free(jobs[i].output);
    free(jobs);
    free(which);
    return rc;
}

static void remove_work_dir(struct pack_state *ps)
{
    if (!ps->work_dir)
        return;
    char **names;
    size_t n;
    if (read_dir_names(ps->work_dir, &names, &n, NULL) == ROMFS_OK) {
        for (size_t i = 0; i < n; i++) {
            char *p = join(ps->work_dir, names[i]);
            if (p)
                unlink(p);
            free(p);
            free(names[i]);
        }
        free(names);
    }
    rmdir(ps->work_dir);
    free(ps->work_dir);
    ps->work_dir = NULL;
}

static int add_file_nodes(struct pack_state *ps)
{
    for (size_t i = 0; i < ps->n_files; i++) {
        struct pack_file *f = ps->files[i];
        const char *base = strrchr(f->image_path, '/');
        base = base ? base + 1 : f->image_path;
        f->node = romfs_tree_add_file(ps->tree, f->parent, base, strlen(base), f->size,
                                      alignment_for(ps, f->image_path, f->rel_source), f, ps->err);
        if (!f->node)
            return ps->err ? ps->err->code : ROMFS_ERR_NOMEM;
    }
    return ROMFS_OK;
}

/* Image order: report entries (for --tree) and collect the file list. */
static int collect(struct pack_state *ps, const struct romfs_node *dir, const char *prefix,
                   int depth, struct romfs_pack_result *res)
{
    size_t n = romfs_node_child_count(dir);
    for (size_t i = 0; i < n; i++) {
        struct romfs_node *c = romfs_node_child(dir, i);
        const char *name = romfs_node_name(c, NULL);
        char *path = prefix[0] ? join(prefix, name) : strdup(name);
        if (!path)
            return romfs_set_error(ps->err, ROMFS_ERR_NOMEM, "out of memory");
        bool is_dir = romfs_node_is_dir(c);
        struct pack_file *f = romfs_node_user(c);
        if (ps->opt->on_entry)
            ps->opt->on_entry(ps->opt->on_entry_ctx, path, name, depth, is_dir, i + 1 == n,
                              romfs_node_size(c), f ? f->note : NULL);
        int rc = ROMFS_OK;
        if (is_dir) {
            res->dirs++;
            rc = collect(ps, c, path, depth + 1, res);
            free(path);
        } else {
            ps->ordered[res->n_files] = f;
            struct romfs_packed_file *pf = &res->file_list[res->n_files++];
            pf->path = path;
            pf->size = romfs_node_size(c);
            pf->data_offset = ps->stable.offsets ? ps->stable.offsets[res->n_files - 1]
                                                 : romfs_node_data_offset(c);
            pf->align = romfs_node_align(c);
            pf->source = strdup(f->rel_source);
            res->files++;
            res->data_bytes += pf->size;
        }
        if (rc)
            return rc;
    }
    return ROMFS_OK;
}

/* ---- output ---------------------------------------------------------------- */

#define OUT_BUFFER (256 * 1024)

struct out_sink {
    int fd;                    /* -1: memory */
    const char *name;          /* for messages */
    uint8_t *buf;
    size_t len, cap;           /* buffered bytes (fd) or whole image (memory) */
    bool digest;
    struct romfs_sha256 sha;
    uint64_t total;
};

static int sink_flush(struct out_sink *o, struct romfs_error *err)
{
    int rc = o->fd >= 0 && o->len ? romfs_write_all(o->fd, o->buf, o->len, o->name, err) : ROMFS_OK;
    if (o->fd >= 0)
        o->len = 0;
    return rc;
}

static int sink_write(void *ctx, const void *data, size_t len, struct romfs_error *err)
{
    struct out_sink *o = ctx;
    if (o->digest)
        romfs_sha256_update(&o->sha, data, len);
    o->total += len;
    if (o->fd >= 0 && len >= OUT_BUFFER / 2) {
        int rc = sink_flush(o, err);
        return rc ? rc : romfs_write_all(o->fd, data, len, o->name, err);
    }
    if (o->len + len > o->cap) {
        if (o->fd >= 0) {
            int rc = sink_flush(o, err);
            if (rc)
                return rc;
        } else {
            size_t cap = o->cap ? o->cap : OUT_BUFFER;
            while (cap < o->len + len)
                cap *= 2;
            uint8_t *nb = realloc(o->buf, cap);
            if (!nb)
                return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory building the image");
            o->buf = nb;
            o->cap = cap;
        }
    }
    memcpy(o->buf + o->len, data, len);
    o->len += len;
    return ROMFS_OK;
}

struct content_ctx {
    struct pack_state *ps;
    uint8_t *buf;
};

/* Stream one file's bytes; delivering more or fewer than its size is caught by the writer. */
static int file_content(void *ctx, const struct romfs_node *node, romfs_sink_fn write_fn,
                        void *write_ctx, struct romfs_error *err)
{
    struct content_ctx *cc = ctx;
    struct pack_file *f = romfs_node_user(node);
    int fd = open(f->source, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return romfs_set_errno(err, romfs_input_errno_code(errno), errno, "cannot open %s", f->source);
    struct romfs_sha256 sha;
    bool digest = cc->ps->opt->file_digests;
    if (digest)
        romfs_sha256_init(&sha);
    uint64_t left = f->size;
    int rc = ROMFS_OK;
    for (;;) {
        /* Read one byte past the size to notice a file that grew. */
        size_t want = left < OUT_BUFFER ? (size_t)left + (left == 0) : OUT_BUFFER;
        ssize_t r = read(fd, cc->buf, want);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = romfs_set_errno(err, romfs_input_errno_code(errno), errno, "cannot read %s", f->source);
            break;
        }
        if (r == 0 || (uint64_t)r > left) {
            if ((uint64_t)r > left || left > 0)
                rc = romfs_set_error(err, ROMFS_ERR_MISMATCH,
                                     "%s changed size while being packed", f->rel_source);
            break;
        }
        if (digest)
            romfs_sha256_update(&sha, cc->buf, (size_t)r);
        if ((rc = write_fn(write_ctx, cc->buf, (size_t)r, err)))
            break;
        left -= (uint64_t)r;
    }
    close(fd);
    if (digest)
        romfs_sha256_final(&sha, f->sha256);
    return rc;
}

/* OUT inside DIR would pack itself (or its temp file). */
static int check_output_location(const char *dir, const char *out, struct romfs_error *err)
{
    char dir_real[PATH_MAX], parent_real[PATH_MAX];
    if (!realpath(dir, dir_real))
        return romfs_set_errno(err, ROMFS_ERR_IO, errno, "cannot resolve %s", dir);
    char *copy = strdup(out);
    if (!copy)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    char *slash = strrchr(copy, '/');
    const char *parent = slash ? (slash == copy ? "/" : (*slash = '\0', copy)) : ".";
    int rc = ROMFS_OK;
    if (!realpath(parent, parent_real))
        rc = romfs_set_errno(err, ROMFS_ERR_NOENT, errno, "cannot create %s", out);
    else {
        size_t n = strlen(dir_real);
        if (strncmp(parent_real, dir_real, n) == 0 &&
            (parent_real[n] == '\0' || parent_real[n] == '/' || n == 1))
            rc = romfs_set_error(err, ROMFS_ERR_INVAL,
                                 "output %s is inside the source directory %s; write it elsewhere",
                                 out, dir);
    }
    free(copy);
    return rc;
}

static int emit_image(struct pack_state *ps, struct out_sink *sink, uint64_t image_size)
{
    struct content_ctx cc = { ps, malloc(OUT_BUFFER) };
    if (!cc.buf)
        return romfs_set_error(ps->err, ROMFS_ERR_NOMEM, "out of memory");
    int rc = ps->stable.image ? sink_write(sink, ps->stable.image, (size_t)image_size, ps->err)
                              : romfs_tree_emit(ps->tree, sink_write, sink, file_content, &cc, ps->err);
    free(cc.buf);
    uint64_t pad_to = ps->opt->pad_to;
    if (!rc && pad_to > 1 && image_size % pad_to) {
        uint8_t ff[4096];
        memset(ff, 0xff, sizeof ff);
        for (uint64_t left = pad_to - image_size % pad_to; !rc && left;) {
            size_t n = left < sizeof ff ? (size_t)left : sizeof ff;
            rc = sink_write(sink, ff, n, ps->err);
            left -= n;
        }
    }
    return rc ? rc : sink_flush(sink, ps->err);
}

static bool is_special_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

static int write_output(struct pack_state *ps, const char *out_path, uint64_t image_size,
                        struct romfs_pack_result *res, uint8_t **out_image)
{
    const struct romfs_pack_options *o = ps->opt;
    struct out_sink sink = { .fd = -1, .name = out_path ? out_path : "image", .digest = o->digest };
    if (o->digest)
        romfs_sha256_init(&sink.sha);
    struct romfs_atomic_file file = { .fd = -1 };
    int rc = ROMFS_OK, direct_fd = -1;
    if (o->to_fd) {
        sink.fd = o->out_fd;
        sink.name = "output";
    } else if (out_path && is_special_file(out_path)) {
        /* a device or FIFO (/dev/null): written in place; a rename would replace it */
        sink.fd = open(out_path, O_WRONLY | O_CLOEXEC);
        if (sink.fd < 0)
            return romfs_set_errno(ps->err, ROMFS_ERR_IO, errno, "cannot open %s", out_path);
        direct_fd = sink.fd;
    } else if (out_path) {
        rc = romfs_atomic_open(&file, out_path, ps->err);
        if (rc != ROMFS_OK)
            return rc;
        sink.fd = file.fd;
    }
    if (sink.fd >= 0 && !(sink.buf = malloc(OUT_BUFFER)))
        rc = romfs_set_error(ps->err, ROMFS_ERR_NOMEM, "out of memory");
    sink.cap = OUT_BUFFER;
    if (sink.fd < 0)
        sink.cap = 0;
    if (!rc)
        rc = emit_image(ps, &sink, image_size);
    if (file.tmp && rc)
        romfs_atomic_abort(&file);
    else if (file.tmp)
        rc = romfs_atomic_commit(&file, 0, false, ps->err);
    if (direct_fd >= 0 && close(direct_fd) != 0 && !rc)
        rc = romfs_set_errno(ps->err, errno == ENOSPC ? ROMFS_ERR_NOSPC : ROMFS_ERR_IO, errno, "cannot write %s",
                             out_path);
    if (o->digest)
        romfs_sha256_final(&sink.sha, res->sha256);
    res->output_size = sink.total;
    if (!rc && sink.fd < 0 && out_image) {
        *out_image = sink.buf;
        sink.buf = NULL;
    }
    free(sink.buf);
    return rc;
}

/* With a base: read it, lay the tree out against it (image/stable.h). */
static int layout_against_base(struct pack_state *ps, uint64_t *image_size,
                               struct romfs_pack_result *res)
{
    const struct romfs_pack_options *o = ps->opt;
    uint8_t *base = NULL;
    size_t n = o->base_image_size;
    int rc = o->base_image ? ROMFS_OK : romfs_read_file(o->base, &base, &n, ps->err);
    if (rc)
        return rc;
    struct content_ctx cc = { ps, malloc(OUT_BUFFER) };
    struct romfs_stable_options so = { base ? base : o->base_image, n,
                                       o->base ? o->base : "the previous image", 0, o->size_limit };
    rc = cc.buf ? romfs_stable_layout(ps->tree, &so, file_content, &cc, &ps->stable, ps->err)
                : romfs_set_error(ps->err, ROMFS_ERR_NOMEM, "out of memory");
    free(cc.buf);
    free(base);
    if (!rc) {
        *image_size = ps->stable.summary.image_size;
        res->used_base = true;
        res->base = ps->stable.summary;
    }
    return rc;
}

int romfs_pack_dir(const char *dir, const char *out_path, const struct romfs_pack_options *opt,
                   struct romfs_pack_result *res, uint8_t **out_image, struct romfs_error *err)
{
    static const struct romfs_pack_options defaults = { 0 };
    if (!opt)
        opt = &defaults;
    memset(res, 0, sizeof *res);
    struct pack_state ps = { .opt = opt, .err = err, .root = dir };
    uint32_t align = opt->align ? opt->align : 4;
    if (align & (align - 1))
        return romfs_set_error(err, ROMFS_ERR_INVAL, "alignment %u is not a power of two", align);
    struct stat st;
    if (stat(dir, &st) != 0)
        return romfs_set_errno(err, errno == ENOENT ? ROMFS_ERR_NOENT : ROMFS_ERR_IO, errno,
                               "%s", dir);
    if (!S_ISDIR(st.st_mode))
        return romfs_set_error(err, ROMFS_ERR_NOTDIR, "%s is not a directory", dir);
    int rc = ROMFS_OK;
    if (out_path && !opt->to_fd && (rc = check_output_location(dir, out_path, err)))
        return rc;
    if (!(ps.tree = romfs_tree_new()))
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    ps.stack = malloc(sizeof *ps.stack);
    ps.cap_stack = ps.stack ? 1 : 0;
    if (ps.stack)
        ps.stack[ps.depth++] = (struct dir_id){ st.st_dev, st.st_ino };
    rc = ps.stack ? walk(&ps, romfs_tree_root(ps.tree), "")
                  : romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    if (!rc && opt->mpy_cross)
        rc = compile_sources(&ps);
    if (!rc)
        rc = add_file_nodes(&ps);
    uint64_t image_size = 0;
    if (!rc)
        rc = romfs_tree_layout(ps.tree, &image_size, err);
    if (!rc && (opt->base || opt->base_image))
        rc = layout_against_base(&ps, &image_size, res);
    if (!rc && opt->size_limit && image_size > opt->size_limit)
        rc = romfs_set_error(err, ROMFS_ERR_FBIG,
                             "image of %llu bytes is over the size limit of %llu bytes by %llu",
                             (unsigned long long)image_size, (unsigned long long)opt->size_limit,
                             (unsigned long long)(image_size - opt->size_limit));
    if (!rc && (!(res->file_list = calloc(ps.n_files + 1, sizeof *res->file_list)) ||
                !(ps.ordered = calloc(ps.n_files + 1, sizeof *ps.ordered))))
        rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    if (!rc)
        rc = collect(&ps, romfs_tree_root(ps.tree), "", 0, res);
    res->image_size = image_size;
    res->compiled = 0;
    for (size_t i = 0; i < ps.n_files; i++)
        res->compiled += ps.files[i]->note != NULL;
    res->mpy_cached = ps.mpy_cached;
    if (!rc)
        rc = write_output(&ps, out_path, image_size, res, out_image);
    if (!rc && opt->file_digests)
        for (size_t i = 0; i < res->n_files; i++) {
            if (res->file_list[i].size == 0)   /* no content was streamed for it */
                romfs_sha256("", 0, ps.ordered[i]->sha256);
            memcpy(res->file_list[i].sha256, ps.ordered[i]->sha256, ROMFS_SHA256_SIZE);
        }
    remove_work_dir(&ps);
    for (size_t i = 0; i < ps.n_files; i++) {
        free(ps.files[i]->source);
        free(ps.files[i]->rel_source);
        free(ps.files[i]->image_path);
        free(ps.files[i]);
    }
    free(ps.files);
    free(ps.ordered);
    free(ps.stack);
    romfs_tree_free(ps.tree);
    romfs_stable_result_free(&ps.stable);
    if (rc)
        romfs_pack_result_free(res);
    return rc;
}

void romfs_pack_result_free(struct romfs_pack_result *res)
{
    for (size_t i = 0; res->file_list && i < res->n_files; i++) {
        free(res->file_list[i].path);
        free(res->file_list[i].source);
    }
    free(res->file_list);
    res->file_list = NULL;
    res->n_files = 0;
}
