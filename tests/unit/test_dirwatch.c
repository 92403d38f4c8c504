/* test_dirwatch.c: changes below a directory (base/dirwatch.h), on a real temporary
 * tree: what is reported, what is ignored, new and moved directories. */
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/dirwatch.h"
#include "base/file.h"
#include "unit.h"

static char root[PATH_MAX];

static void path_of(char *buf, size_t cap, const char *rel)
{
    snprintf(buf, cap, "%s/%s", root, rel);
}

static void put(const char *rel, const char *text)
{
    char p[PATH_MAX];
    path_of(p, sizeof p, rel);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void dir(const char *rel)
{
    char p[PATH_MAX];
    path_of(p, sizeof p, rel);
    mkdir(p, 0755);
}

/* Skips anything below "skip" and any name ending in "~". */
static bool ignore(void *ctx, const char *rel, bool is_dir)
{
    (void)ctx;
    size_t n = strlen(rel);
    return (is_dir && strcmp(rel, "skip") == 0) || (n && rel[n - 1] == '~');
}

/* Every change pending (the kernel queues them before the call that caused them returns)
 * as a '|'-separated list "path:kind". */
static const char *drain(struct romfs_dirwatch *w)
{
    static char list[2048];
    list[0] = 0;
    struct pollfd p = { .fd = romfs_dirwatch_fd(w), .events = POLLIN };
    poll(&p, 1, 100);
    char path[PATH_MAX];
    enum romfs_dirwatch_kind kind;
    struct romfs_error err = { 0 };
    int rc;
    while ((rc = romfs_dirwatch_next(w, path, sizeof path, &kind, &err)) == 1) {
        char one[PATH_MAX + 8];
        snprintf(one, sizeof one, "%s%s:%c", list[0] ? "|" : "", path, "wcr"[kind]);
        if (!strstr(list, one + (list[0] ? 1 : 0)))   /* each once (MODIFY, then CLOSE_WRITE) */
            strncat(list, one, sizeof list - strlen(list) - 1);
    }
    if (rc < 0)
        snprintf(list, sizeof list, "error %d: %s", rc, err.msg);
    return list;
}

#define EXPECT(w, want)                                                              \
    do {                                                                             \
        const char *got_ = drain(w);                                                 \
        if (strcmp(got_, want) != 0)                                                 \
            printf("    got '%s', want '%s'\n", got_, want);                        \
        CHECK(strcmp(got_, want) == 0);                                              \
    } while (0)

static void changes_below_the_tree_are_reported_with_their_path(void)
{
    dir("lib");
    dir("skip");
    put("main.py", "1");
    struct romfs_dirwatch *w;
    struct romfs_error err = { 0 };
    CHECK(romfs_dirwatch_open(root, ignore, NULL, &w, &err) == ROMFS_OK);
    put("main.py", "2");
    EXPECT(w, "main.py:w");
    put("lib/util.py", "x");
    EXPECT(w, "lib/util.py:c|lib/util.py:w");
    put("main.py~", "backup");           /* ignored by name */
    put("skip/x.py", "x");               /* in an ignored directory */
    put("lib/util.py~", "backup");
    EXPECT(w, "");
    /* an editor's save: a temporary file renamed over the original */
    put("lib/.tmp1", "y");
    char a[PATH_MAX], b[PATH_MAX];
    path_of(a, sizeof a, "lib/.tmp1");
    path_of(b, sizeof b, "lib/util.py");
    CHECK(rename(a, b) == 0);
    EXPECT(w, "lib/.tmp1:c|lib/.tmp1:w|lib/.tmp1:r|lib/util.py:c");
    CHECK(unlink(b) == 0);
    EXPECT(w, "lib/util.py:r");
    romfs_dirwatch_close(w);
}

static void new_and_moved_directories_are_watched(void)
{
    struct romfs_dirwatch *w;
    struct romfs_error err = { 0 };
    CHECK(romfs_dirwatch_open(root, ignore, NULL, &w, &err) == ROMFS_OK);
    dir("pkg");
    EXPECT(w, "pkg:c");
    put("pkg/a.py", "a");
    EXPECT(w, "pkg/a.py:c|pkg/a.py:w");
    char a[PATH_MAX], b[PATH_MAX];
    path_of(a, sizeof a, "pkg");
    path_of(b, sizeof b, "lib/pkg2");
    CHECK(rename(a, b) == 0);
    EXPECT(w, "pkg:r|lib/pkg2:c");
    put("lib/pkg2/a.py", "b");   /* known by its new path */
    EXPECT(w, "lib/pkg2/a.py:w");
    dir("skip/deeper");          /* inside an ignored directory: nothing */
    EXPECT(w, "");
    romfs_dirwatch_close(w);
}

static void the_tree_removed_ends_watching(void)
{
    char sub[PATH_MAX];
    path_of(sub, sizeof sub, "gone");
    mkdir(sub, 0755);
    struct romfs_dirwatch *w;
    struct romfs_error err = { 0 };
    CHECK(romfs_dirwatch_open(sub, NULL, NULL, &w, &err) == ROMFS_OK);
    CHECK(rmdir(sub) == 0);
    struct pollfd p = { .fd = romfs_dirwatch_fd(w), .events = POLLIN };
    poll(&p, 1, 1000);
    char path[PATH_MAX];
    enum romfs_dirwatch_kind kind;
    CHECK(romfs_dirwatch_next(w, path, sizeof path, &kind, &err) == ROMFS_ERR_NOENT);
    CHECK(strstr(err.msg, "gone was removed") != NULL);
    romfs_dirwatch_close(w);
    CHECK(romfs_dirwatch_open(sub, NULL, NULL, &w, &err) == ROMFS_ERR_NOENT);
}

int main(void)
{
    snprintf(root, sizeof root, "%s/romfs-dirwatch.XXXXXX", romfs_tmpdir());
    if (!mkdtemp(root)) {
        printf("FAIL setup: cannot create %s\n", root);
        return 1;
    }
    RUN(changes_below_the_tree_are_reported_with_their_path);
    RUN(new_and_moved_directories_are_watched);
    RUN(the_tree_removed_ends_watching);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        printf("    (could not remove %s)\n", root);
    UNIT_EXIT();
}
