/* test_pack.c: romfs_pack_dir behaviour that needs a hook into the middle of packing. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "romfs.h"
#include "unit.h"

static char dir[256], out_path[300];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

/* Runs after sizes were taken and before contents are read. */
static void grow_file(void *ctx, const char *path, const char *name, int depth, bool is_dir,
                      bool is_last, uint64_t size, const char *note)
{
    (void)path; (void)name; (void)depth; (void)is_dir; (void)is_last; (void)size; (void)note;
    const char *victim = ctx;
    FILE *f = fopen(victim, "a");
    if (f) {
        fputs(" and more", f);
        fclose(f);
    }
}

static void shrink_file(void *ctx, const char *path, const char *name, int depth, bool is_dir,
                        bool is_last, uint64_t size, const char *note)
{
    (void)path; (void)name; (void)depth; (void)is_dir; (void)is_last; (void)size; (void)note;
    truncate(ctx, 1);
}

static bool leftovers(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "ls %s.tmp-* >/dev/null 2>&1", out_path);
    return access(out_path, F_OK) == 0 || system(cmd) == 0;
}

static void file_growing_while_packed_is_refused(void)
{
    char victim[300];
    snprintf(victim, sizeof victim, "%s/grows.txt", dir);
    write_file(victim, "start");
    struct romfs_pack_options opt = { .align = 4, .on_entry = grow_file, .on_entry_ctx = victim };
    struct romfs_pack_result res;
    struct romfs_error err;
    int rc = romfs_pack_dir(dir, out_path, &opt, &res, NULL, &err);
    CHECK(rc == ROMFS_ERR_MISMATCH);
    CHECK(strstr(err.msg, "grows.txt changed size"));
    CHECK(!leftovers());
    unlink(victim);
}

static void file_shrinking_while_packed_is_refused(void)
{
    char victim[300];
    snprintf(victim, sizeof victim, "%s/shrinks.txt", dir);
    write_file(victim, "a long enough text");
    struct romfs_pack_options opt = { .align = 4, .on_entry = shrink_file, .on_entry_ctx = victim };
    struct romfs_pack_result res;
    struct romfs_error err;
    int rc = romfs_pack_dir(dir, out_path, &opt, &res, NULL, &err);
    CHECK(rc == ROMFS_ERR_MISMATCH);
    CHECK(strstr(err.msg, "shrinks.txt"));
    CHECK(!leftovers());
    unlink(victim);
}

static void pack_into_memory_matches_file(void)
{
    char p[300];
    snprintf(p, sizeof p, "%s/x.py", dir);
    write_file(p, "x = 1\n");
    struct romfs_pack_options opt = { .align = 16, .digest = true };
    struct romfs_pack_result a, b;
    struct romfs_error err;
    uint8_t *mem = NULL;
    CHECK(romfs_pack_dir(dir, NULL, &opt, &a, &mem, &err) == 0);
    CHECK(romfs_pack_dir(dir, out_path, &opt, &b, NULL, &err) == 0);
    CHECK_EQ_U(a.output_size, b.output_size);
    CHECK_MEM(a.sha256, b.sha256, ROMFS_SHA256_SIZE);
    uint8_t digest[ROMFS_SHA256_SIZE];
    romfs_sha256(mem, (size_t)a.output_size, digest);
    CHECK_MEM(digest, a.sha256, ROMFS_SHA256_SIZE);
    CHECK_EQ_U(a.n_files, 1);
    CHECK_EQ_U(a.file_list[0].data_offset % 16, 0);
    romfs_pack_result_free(&a);
    romfs_pack_result_free(&b);
    free(mem);
    unlink(out_path);
    unlink(p);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/romfs-test-pack.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return 1;
    snprintf(out_path, sizeof out_path, "%s.romfs", dir);
    RUN(file_growing_while_packed_is_refused);
    RUN(file_shrinking_while_packed_is_refused);
    RUN(pack_into_memory_matches_file);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", dir, out_path);
    system(cmd);
    UNIT_EXIT();
}
