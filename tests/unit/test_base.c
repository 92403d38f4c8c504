/* test_base.c: the shared utilities of lib/base: the growable buffer, the monotonic clock,
 * the temporary folder and the atomic writer. */
#include "unit.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/file.h"

static void test_buf_appends_and_stays_nul_terminated(void)
{
    struct romfs_buf b = { 0 };
    CHECK(b.data == NULL);
    CHECK_EQ_U(romfs_buf_append(&b, "ab", 2), ROMFS_OK);
    CHECK_EQ_U(romfs_buf_puts(&b, "cd"), ROMFS_OK);
    CHECK_EQ_U(romfs_buf_append(&b, "\0x", 2), ROMFS_OK);   /* binary bytes are kept */
    CHECK_EQ_U(b.len, 6);
    CHECK_MEM(b.data, "abcd\0x", 7);                        /* plus the terminating NUL */
    romfs_buf_clear(&b);
    CHECK_EQ_U(b.len, 0);
    CHECK(strcmp(b.data, "") == 0);
    romfs_buf_free(&b);
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
}

static void test_buf_grows_across_many_appends(void)
{
    struct romfs_buf b = { 0 };
    for (int i = 0; i < 10000; i++)
        CHECK_EQ_U(romfs_buf_printf(&b, "%d,", i % 10), ROMFS_OK);
    CHECK_EQ_U(b.len, 20000);
    CHECK(b.cap > b.len);
    CHECK(b.data[b.len] == '\0');
    CHECK(memcmp(b.data + 19990, "5,6,7,8,9,", 10) == 0);
    romfs_buf_free(&b);
}

static void test_buf_printf_longer_than_the_free_space(void)
{
    struct romfs_buf b = { 0 };
    CHECK_EQ_U(romfs_buf_puts(&b, "x"), ROMFS_OK);
    size_t cap = b.cap;
    char big[300];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK_EQ_U(romfs_buf_printf(&b, "[%s]%d", big, 42), ROMFS_OK);
    CHECK(b.cap > cap);
    CHECK_EQ_U(b.len, 1 + 1 + 299 + 1 + 2);
    CHECK(b.data[1] == '[' && b.data[301] == ']' && strcmp(b.data + 302, "42") == 0);
    romfs_buf_free(&b);
}

static void test_buf_take_hands_over_text(void)
{
    struct romfs_buf b = { 0 };
    char *s = romfs_buf_take(&b);              /* nothing appended: "" rather than NULL */
    CHECK(s && strcmp(s, "") == 0);
    free(s);
    romfs_buf_printf(&b, "%s=%u", "size", 7u);
    s = romfs_buf_take(&b);
    CHECK(s && strcmp(s, "size=7") == 0);
    CHECK(b.data == NULL && b.len == 0);
    free(s);
}

/* A request that cannot be satisfied marks the buffer failed; the mark sticks, so a
 * builder may append many pieces and check once (romfs_buf_take then gives NULL). */
static void test_buf_failure_sticks(void)
{
    struct romfs_buf b = { 0 };
    CHECK_EQ_U(romfs_buf_puts(&b, "keep"), ROMFS_OK);
    CHECK(romfs_buf_append(&b, "x", SIZE_MAX - 2) == ROMFS_ERR_NOMEM);
    CHECK(b.failed);
    CHECK_EQ_U(b.len, 4);                      /* nothing half-appended */
    CHECK(romfs_buf_puts(&b, "more") == ROMFS_ERR_NOMEM);
    CHECK(romfs_buf_printf(&b, "%d", 1) == ROMFS_ERR_NOMEM);
    CHECK(strcmp(b.data, "keep") == 0);
    CHECK(romfs_buf_take(&b) == NULL);         /* and the storage is freed */
    CHECK(b.data == NULL && !b.failed);
    CHECK_EQ_U(romfs_buf_puts(&b, "again"), ROMFS_OK);   /* reusable after take/free */
    romfs_buf_free(&b);
}

static void test_clock_is_monotonic_and_sleeps(void)
{
    int64_t t0 = romfs_now_ms();
    double s0 = romfs_now_s();
    romfs_sleep_ms(30);
    int64_t t1 = romfs_now_ms();
    CHECK(t1 - t0 >= 30);
    CHECK(t1 - t0 < 5000);
    CHECK(romfs_now_s() - s0 >= 0.030);
    romfs_sleep_ms(0);
    romfs_sleep_ms(-5);                        /* nothing to wait for */
    CHECK(romfs_now_ms() - t1 < 1000);
}

static void test_ms_until_clamps(void)
{
    int64_t now = romfs_now_ms();
    CHECK_EQ_U(romfs_ms_until(now - 10), 0);
    int left = romfs_ms_until(now + 10000);
    CHECK(left > 9000 && left <= 10000);
    CHECK_EQ_U(romfs_ms_until(now + ((int64_t)1 << 40)), INT32_MAX);
}

static void test_tmpdir_follows_TMPDIR(void)
{
    const char *old = getenv("TMPDIR");
    char *saved = old ? strdup(old) : NULL;
    setenv("TMPDIR", "/var/tmp/x", 1);
    CHECK(strcmp(romfs_tmpdir(), "/var/tmp/x") == 0);
    setenv("TMPDIR", "", 1);
    CHECK(strcmp(romfs_tmpdir(), "/tmp") == 0);
    unsetenv("TMPDIR");
    CHECK(strcmp(romfs_tmpdir(), "/tmp") == 0);
    if (saved)
        setenv("TMPDIR", saved, 1);
    free(saved);
}

/* A scratch folder for the file tests. */
static char scratch[256];

static int make_scratch(void)
{
    snprintf(scratch, sizeof scratch, "%s/romfs-test-base.XXXXXX", romfs_tmpdir());
    return mkdtemp(scratch) ? 0 : -1;
}

static int count_entries(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p && fscanf(p, "%d", &n) != 1)
        n = -1;
    if (p)
        pclose(p);
    return n;
}

static void test_atomic_writer_commit_and_abort(void)
{
    CHECK(make_scratch() == 0);
    char path[512];
    snprintf(path, sizeof path, "%s/out.bin", scratch);
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_write_file_atomic(path, (const uint8_t *)"old", 3, &err), ROMFS_OK);

    /* abort: the destination keeps its contents, no temporary file stays behind */
    struct romfs_atomic_file f;
    CHECK_EQ_U(romfs_atomic_open(&f, path, &err), ROMFS_OK);
    CHECK_EQ_U(romfs_write_all(f.fd, "half", 4, path, &err), ROMFS_OK);
    romfs_atomic_abort(&f);
    uint8_t *data;
    size_t size;
    CHECK_EQ_U(romfs_read_file(path, &data, &size, &err), ROMFS_OK);
    CHECK(size == 3 && memcmp(data, "old", 3) == 0);
    free(data);
    CHECK_EQ_U(count_entries(scratch), 1);

    /* commit with an exact mode (a private key's 0600), synced */
    CHECK_EQ_U(romfs_atomic_open(&f, path, &err), ROMFS_OK);
    CHECK_EQ_U(romfs_write_all(f.fd, "new contents", 12, path, &err), ROMFS_OK);
    CHECK_EQ_U(romfs_atomic_commit(&f, 0600, true, &err), ROMFS_OK);
    struct stat st;
    CHECK(stat(path, &st) == 0);
    CHECK_EQ_U(st.st_mode & 0777, 0600);
    CHECK_EQ_U(st.st_size, 12);
    CHECK_EQ_U(count_entries(scratch), 1);

    /* mode 0: 0666 less the umask */
    mode_t mask = umask(022);
    CHECK_EQ_U(romfs_write_file_atomic(path, (const uint8_t *)"x", 1, &err), ROMFS_OK);
    umask(mask);
    CHECK(stat(path, &st) == 0);
    CHECK_EQ_U(st.st_mode & 0777, 0644);
    unlink(path);
    rmdir(scratch);
}

static void test_atomic_writer_errors_name_the_path(void)
{
    CHECK(make_scratch() == 0);
    char path[512];
    snprintf(path, sizeof path, "%s/no-such-dir/out.bin", scratch);
    struct romfs_error err = { 0 };
    CHECK(romfs_write_file_atomic(path, (const uint8_t *)"x", 1, &err) == ROMFS_ERR_NOENT);
    CHECK(strstr(err.msg, path) != NULL);
    /* a directory in the way: the rename fails, nothing is left behind */
    snprintf(path, sizeof path, "%s/dir", scratch);
    CHECK(mkdir(path, 0700) == 0);
    CHECK(romfs_write_file_atomic(path, (const uint8_t *)"x", 1, &err) == ROMFS_ERR_ISDIR);
    CHECK(strstr(err.msg, path) != NULL);
    CHECK_EQ_U(count_entries(scratch), 1);
    rmdir(path);
    rmdir(scratch);
}

static void test_write_all_reports_a_full_disk(void)
{
    int fd = open("/dev/full", O_WRONLY);     /* every write fails with ENOSPC */
    CHECK(fd >= 0);
    struct romfs_error err = { 0 };
    int rc = romfs_write_all(fd, "data", 4, "the image", &err);
    close(fd);
    CHECK(rc == ROMFS_ERR_NOSPC);
    CHECK(strstr(err.msg, "cannot write the image") != NULL);
}

int main(void)
{
    RUN(test_buf_appends_and_stays_nul_terminated);
    RUN(test_buf_grows_across_many_appends);
    RUN(test_buf_printf_longer_than_the_free_space);
    RUN(test_buf_take_hands_over_text);
    RUN(test_buf_failure_sticks);
    RUN(test_clock_is_monotonic_and_sleeps);
    RUN(test_ms_until_clamps);
    RUN(test_tmpdir_follows_TMPDIR);
    RUN(test_atomic_writer_commit_and_abort);
    RUN(test_atomic_writer_errors_name_the_path);
    RUN(test_write_all_reports_a_full_disk);
    UNIT_EXIT();
}
