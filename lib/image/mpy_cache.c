/* mpy_cache.c: compiled .mpy files kept between packs, by content hash.
 *
 * An entry's name is the SHA-256 of everything the compiled bytes depend on: the tool
 * (the program file's own hash, what `PROGRAM --version` answers, every argument), the
 * source name recorded in the .mpy (-s) and the .py's bytes. An entry is a small header
 * (MAGIC, then the SHA-256 of the rest) and the .mpy; one whose hash does not match (a
 * torn or damaged file) is removed and compiled anew. Entries are written to a temporary
 * file and renamed, so two packs sharing the folder never read half an entry. Folder:
 * CACHE/ab/abcdef... (the first two hex digits as a subfolder). */
#include "image/pack_mpy_internal.h"
#include "image/pack.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/digest.h"
#include "base/file.h"

#define MAGIC "romfs-mpy-cache-1\n"
#define MAGIC_LEN (sizeof MAGIC - 1)

const char *romfs_mpy_cache_default(char *buf, size_t cap)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && xdg[0] == '/')   /* the XDG rule: a relative value is to be ignored */
        n = snprintf(buf, cap, "%s/romfs/mpy", xdg);
    else if (home && *home)
        n = snprintf(buf, cap, "%s/.cache/romfs/mpy", home);
    else
        return NULL;
    return n > 0 && (size_t)n < cap ? buf : NULL;
}

static void hex(const uint8_t key[32], char out[65])
{
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", key[i]);
}

/* CACHE/ab/abcd... for key (malloc'd); with make_dirs, the folders are created. */
static char *entry_path(const char *cache, const uint8_t key[32], bool make_dirs)
{
    char h[65];
    hex(key, h);
    char *p = malloc(strlen(cache) + 70);
    if (!p)
        return NULL;
    if (make_dirs) {
        /* mkdir -p CACHE, then CACHE/ab */
        strcpy(p, cache);
        for (char *s = p + 1; *s; s++)
            if (*s == '/') {
                *s = 0;
                mkdir(p, 0777);
                *s = '/';
            }
        mkdir(p, 0777);
    }
    sprintf(p, "%s/%.2s", cache, h);
    if (make_dirs)
        mkdir(p, 0777);
    sprintf(p, "%s/%.2s/%s", cache, h, h);
    return p;
}

/* The tool's share of every key; false when the program cannot be looked at (no cache). */
static bool tool_hash(const char *program, const char *const *args, size_t n_args, uint8_t out[32])
{
    char path[4096], version[1024];
    uint8_t *bytes = NULL, prog[32];
    size_t len = 0;
    int status = 0;
    struct romfs_error quiet = { 0 };
    if (!mpy_program_path(program, path, sizeof path) ||
        romfs_read_file(path, &bytes, &len, &quiet) != ROMFS_OK)
        return false;
    romfs_sha256(bytes, len, prog);
    free(bytes);
    if (!mpy_program_version(program, version, sizeof version, &status))
        return false;
    struct romfs_sha256 h;
    romfs_sha256_init(&h);
    romfs_sha256_update(&h, MAGIC, MAGIC_LEN);
    romfs_sha256_update(&h, prog, sizeof prog);
    romfs_sha256_update(&h, version, strlen(version) + 1);
    romfs_sha256_update(&h, &status, sizeof status);
    for (size_t i = 0; i < n_args; i++)
        romfs_sha256_update(&h, args[i], strlen(args[i]) + 1);
    romfs_sha256_final(&h, out);
    return true;
}

/* The key of one job; false when its source cannot be read (it is then compiled, and
 * mpy-cross says what is wrong with it). */
static bool job_key(const uint8_t tool[32], const struct mpy_job *job, uint8_t key[32])
{
    uint8_t *src = NULL;
    size_t len = 0;
    struct romfs_error quiet = { 0 };
    if (romfs_read_file(job->source, &src, &len, &quiet) != ROMFS_OK)
        return false;
    struct romfs_sha256 h;
    romfs_sha256_init(&h);
    romfs_sha256_update(&h, tool, 32);
    romfs_sha256_update(&h, job->source_name, strlen(job->source_name) + 1);
    romfs_sha256_update(&h, src, len);
    romfs_sha256_final(&h, key);
    free(src);
    return true;
}

/* Copy an intact entry's .mpy to out: true on a hit. A damaged entry is removed. */
static bool cache_get(const char *cache, const uint8_t key[32], const char *out)
{
    char *path = entry_path(cache, key, false);
    uint8_t *data = NULL;
    size_t len = 0;
    struct romfs_error quiet = { 0 };
    bool hit = false;
    if (path && romfs_read_file(path, &data, &len, &quiet) == ROMFS_OK) {
        uint8_t sum[32];
        size_t head = MAGIC_LEN + 32;
        if (len >= head)
            romfs_sha256(data + head, len - head, sum);
        if (len >= head && memcmp(data, MAGIC, MAGIC_LEN) == 0 &&
            memcmp(data + MAGIC_LEN, sum, 32) == 0)
            hit = romfs_write_file_atomic(out, data + head, len - head, &quiet) == ROMFS_OK;
        else
            unlink(path);   /* torn or damaged: compiled again below, and stored anew */
    }
    free(data);
    free(path);
    return hit;
}

static void cache_put(const char *cache, const uint8_t key[32], const char *mpy)
{
    uint8_t *data = NULL, *entry = NULL;
    size_t len = 0;
    struct romfs_error quiet = { 0 };
    char *path = entry_path(cache, key, true);
    if (path && romfs_read_file(mpy, &data, &len, &quiet) == ROMFS_OK &&
        (entry = malloc(MAGIC_LEN + 32 + len))) {
        memcpy(entry, MAGIC, MAGIC_LEN);
        romfs_sha256(data, len, entry + MAGIC_LEN);
        memcpy(entry + MAGIC_LEN + 32, data, len);
        romfs_write_file_atomic(path, entry, MAGIC_LEN + 32 + len, &quiet);   /* best effort */
    }
    free(entry);
    free(data);
    free(path);
}

int mpy_compile_cached(const char *cache, const char *program, const char *const *args,
                       size_t n_args, struct mpy_job *jobs, size_t n_jobs, unsigned parallel,
                       const char *work_dir, uint64_t *n_cached, struct romfs_error *err)
{
    *n_cached = 0;
    uint8_t tool[32];
    if (!cache || !tool_hash(program, args, n_args, tool))
        return mpy_compile_all(program, args, n_args, jobs, n_jobs, parallel, work_dir, "", err);
    uint8_t (*keys)[32] = calloc(n_jobs ? n_jobs : 1, sizeof *keys);
    bool *keyed = calloc(n_jobs ? n_jobs : 1, sizeof *keyed);
    struct mpy_job *miss = calloc(n_jobs ? n_jobs : 1, sizeof *miss);
    size_t *which = calloc(n_jobs ? n_jobs : 1, sizeof *which);
    size_t n_miss = 0;
    int rc = keys && keyed && miss && which ? ROMFS_OK
                                            : romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    for (size_t i = 0; rc == ROMFS_OK && i < n_jobs; i++) {
        keyed[i] = job_key(tool, &jobs[i], keys[i]);
        char *out = malloc(strlen(work_dir) + 32);
        if (!out) {
            rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
            break;
        }
        sprintf(out, "%s/c%zu.mpy", work_dir, i);
        if (keyed[i] && cache_get(cache, keys[i], out)) {
            jobs[i].output = out;
            ++*n_cached;
        } else {
            free(out);
            which[n_miss] = i;
            miss[n_miss++] = jobs[i];
        }
    }
    if (rc == ROMFS_OK && n_miss)
        rc = mpy_compile_all(program, args, n_args, miss, n_miss, parallel, work_dir, "", err);
    for (size_t k = 0; miss && k < n_miss; k++) {
        size_t i = which[k];
        jobs[i].output = miss[k].output;
        if (rc == ROMFS_OK && keyed[i])
            cache_put(cache, keys[i], jobs[i].output);
    }
    free(keys);
    free(keyed);
    free(miss);
    free(which);
    return rc;
}
