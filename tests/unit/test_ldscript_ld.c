/* test_ldscript_ld.c: ground truth for the linker-script evaluator. Every fixture
 * directory under tests/fixtures/ld/ holds scripts and a `cmd` file with the
 * linker arguments (-T, -L, --defsym in command-line order; -E and -D for scripts
 * the port runs through the C preprocessor, with -I directories relative to the
 * fixture). Each fixture is evaluated by
 * libromfs and linked by arm-none-eabi-ld against an empty object; every MEMORY
 * region (from the map file's "Memory Configuration") and every symbol (from
 * arm-none-eabi-nm) must be equal. Fixtures with an `expect-error` file must make
 * both fail; a `noteval` file lists symbols that must be reported as not evaluable. */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boards/db.h"
#include "ld/ldscript.h"
#include "unit.h"

#define MAX_ARGS 64

static char tmpdir[256];
static char root[1024];
static int checked_values;
/* MicroPython board scripts (not fixtures): symbols the firmware's objects define
   (ld needs them to link an empty object) and tolerance for not-evaluable symbols */
static bool mp_mode;
static char extra_syms[16][128];
static int n_extra_syms;

struct args {
    char *words[MAX_ARGS];
    size_t n;
    const char *scripts[MAX_ARGS], *dirs[MAX_ARGS], *defsyms[MAX_ARGS], *defines[MAX_ARGS], *incs[MAX_ARGS];
    struct romfs_ld_input in;
    bool defsym_before, defsym_after;
};

/* Split linker arguments (the `cmd` format) into a; base_dir = dir. */
static bool parse_args(const char *dir, const char *text, struct args *a)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", text);
    memset(a, 0, sizeof *a);
    for (char *t = strtok(buf, " \t\n"); t && a->n < MAX_ARGS; t = strtok(NULL, " \t\n"))
        a->words[a->n++] = strdup(t);
    for (size_t i = 0; i < a->n; i++) {
        const char *w = a->words[i], *v = i + 1 < a->n ? a->words[i + 1] : "";
        if (!strcmp(w, "-T")) { a->scripts[a->in.n_scripts++] = v; i++; }
        else if (!strcmp(w, "-L")) { a->dirs[a->in.n_search_dirs++] = v; i++; }
        else if (!strcmp(w, "-D")) { a->defines[a->in.n_cpp_defines++] = v; i++; }
        else if (!strcmp(w, "-I")) { a->incs[a->in.n_cpp_include_dirs++] = v; i++; }
        else if (!strcmp(w, "-E")) a->in.preprocess = true;
        else if (!strcmp(w, "--defsym")) {
            a->defsyms[a->in.n_defsyms++] = v;
            i++;
            if (a->in.n_scripts)
                a->defsym_after = true;
            else
                a->defsym_before = true;
        }
    }
    a->in.scripts = a->scripts;
    a->in.search_dirs = a->dirs;
    a->in.defsyms = a->defsyms;
    a->in.cpp_defines = a->defines;
    a->in.cpp_include_dirs = a->incs;
    a->in.defsyms_last = a->defsym_after;
    a->in.base_dir = dir;
    a->in.address_bits = 32;
    return a->in.n_scripts > 0 && !(a->defsym_before && a->defsym_after);
}

static bool read_args(const char *dir, struct args *a)
{
    char path[1400], buf[4096];
    snprintf(path, sizeof path, "%s/cmd", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return parse_args(dir, buf, a);
}

static void free_args(struct args *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->words[i]);
}

/* Run the real linker; returns its exit status. Fills tmpdir/NAME.map and .nm. */
static int run_ld(const char *dir, const char *name, struct args *a, const struct romfs_ld_result *res)
{
    char cmd[16384];
    size_t k = (size_t)snprintf(cmd, sizeof cmd, "cd '%s' && arm-none-eabi-ld -o '%s/%s.elf' '%s/empty.o' -Map '%s/%s.map' -L '%s/libs'",
                                dir, tmpdir, name, tmpdir, tmpdir, name, tmpdir);
    if (n_extra_syms)
        k += (size_t)snprintf(cmd + k, sizeof cmd - k, " '%s/extra.o'", tmpdir);
    for (size_t i = 0; i < a->n && k < sizeof cmd - 600; i++) {
        const char *w = a->words[i], *v = i + 1 < a->n ? a->words[i + 1] : "";
        if (!strcmp(w, "-T") && a->in.preprocess) {
            /* as the ports do: cpp each script to a plain one, link that */
            char pre[1024], pcmd[4096];
            snprintf(pre, sizeof pre, "%s/%s.%zu.ld", tmpdir, name, i);
            size_t pk = (size_t)snprintf(pcmd, sizeof pcmd, "cd '%s' && cc -E -P -x c", dir);
            for (size_t d = 0; d < a->in.n_cpp_defines; d++)
                pk += (size_t)snprintf(pcmd + pk, sizeof pcmd - pk, " '-D%s'", a->defines[d]);
            for (size_t d = 0; d < a->in.n_cpp_include_dirs; d++)
                pk += (size_t)snprintf(pcmd + pk, sizeof pcmd - pk, " '-I%s'", a->incs[d]);
            snprintf(pcmd + pk, sizeof pcmd - pk, " '%s' > '%s'", v, pre);
            if (system(pcmd) != 0)
                return -1;
            k += (size_t)snprintf(cmd + k, sizeof cmd - k, " -T '%s'", pre);
            i++;
        } else if (!strcmp(w, "-T") || !strcmp(w, "-L")) {
            k += (size_t)snprintf(cmd + k, sizeof cmd - k, " %s '%s'", w, v);
            i++;
        } else if (!strcmp(w, "--defsym")) {
            k += (size_t)snprintf(cmd + k, sizeof cmd - k, " '--defsym=%s'", v);
            i++;
        } else if (!strcmp(w, "-D") || !strcmp(w, "-I")) {
            i++;
        }
    }
    /* reference every symbol so that PROVIDE defines it, as a firmware would */
    for (size_t i = 0; res && i < res->n_symbols && k < sizeof cmd - 300; i++)
        k += (size_t)snprintf(cmd + k, sizeof cmd - k, " -u '%s'", res->symbols[i].name);
    snprintf(cmd + k, sizeof cmd - k, " > '%s/%s.ldlog' 2>&1 && arm-none-eabi-nm '%s/%s.elf' > '%s/%s.nm'",
             tmpdir, name, tmpdir, name, tmpdir, name);
    return system(cmd);
}

/* ld stopped at "undefined symbol `X' referenced in expression" (a symbol the
   firmware's startup code defines): add X to an object for the next try. */
static bool undefined_in_log(const char *name)
{
    char path[1400], line[512];
    snprintf(path, sizeof path, "%s/%s.ldlog", tmpdir, name);
    FILE *f = fopen(path, "r");
    bool added = false;
    while (f && fgets(line, sizeof line, f)) {
        char *p = strstr(line, "undefined symbol `");
        if (!p)
            continue;
        p += 18;
        size_t n = strcspn(p, "'");
        if (n == 0 || n >= sizeof extra_syms[0] || n_extra_syms >= 16)
            continue;
        memcpy(extra_syms[n_extra_syms], p, n);
        extra_syms[n_extra_syms++][n] = 0;
        added = true;
    }
    if (f)
        fclose(f);
    if (!added)
        return false;
    snprintf(path, sizeof path, "%s/extra.s", tmpdir);
    f = fopen(path, "w");
    if (!f)
        return false;
    fprintf(f, ".text\n");
    for (int i = 0; i < n_extra_syms; i++)
        fprintf(f, ".global %s\n%s:\n", extra_syms[i], extra_syms[i]);
    fclose(f);
    char cmd[1600];
    snprintf(cmd, sizeof cmd, "arm-none-eabi-as '%s/extra.s' -o '%s/extra.o'", tmpdir, tmpdir);
    return system(cmd) == 0;
}

static bool in_list(const char *dir, const char *file, const char *sym)
{
    char path[1400], line[256];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "r");
    bool found = false;
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!strcmp(line, sym))
            found = true;
    }
    if (f)
        fclose(f);
    return found;
}

static bool in_list_prefix(const char *dir, const char *file, const char *prefix)
{
    char path[1400], line[256];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "r");
    bool found = f && fgets(line, sizeof line, f) && strncmp(line, prefix, strlen(prefix)) == 0;
    if (f)
        fclose(f);
    return found;
}

static bool file_exists(const char *dir, const char *file)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return access(path, F_OK) == 0;
}

static struct args a;
static struct romfs_ld_result res;

static void check_link(const char *dir, const char *name);

static void check_fixture(const char *name)
{
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/%s", root, name);
    bool ok_args = read_args(dir, &a);
    CHECK(ok_args);
    check_link(dir, name);
}

/* Evaluate a (parsed into the global `a`, base directory dir) and link the same
   scripts with arm-none-eabi-ld; every region and symbol must be equal. */
static void check_link(const char *dir, const char *name)
{
    char path[1400], line[512];
    struct romfs_error err = {0};
    int rc = romfs_ld_evaluate(&a.in, &res, &err);
    n_extra_syms = 0;
    int ld_status = run_ld(dir, name, &a, rc == ROMFS_OK ? &res : NULL);
    while (mp_mode && ld_status != 0 && n_extra_syms < 16 && undefined_in_log(name))
        ld_status = run_ld(dir, name, &a, rc == ROMFS_OK ? &res : NULL);
    if (file_exists(dir, "expect-error")) {
        if (in_list_prefix(dir, "expect-error", "evaluator-only")) {
            /* ld only warns here and links with a made-up number; the evaluator refuses */
            printf("    evaluator: %s\n", rc ? err.msg : "(accepted)");
            CHECK(rc != ROMFS_OK);
            return;
        }
        if (rc == ROMFS_OK)
            printf("    evaluator accepted a script that must fail\n");
        if (ld_status == 0)
            printf("    arm-none-eabi-ld accepted a script that must fail\n");
        else
            printf("    evaluator: %s\n", err.msg);
        CHECK(rc != ROMFS_OK && ld_status != 0);
        CHECK(strstr(err.msg, ":") != NULL); /* names file:line or the file */
        return;
    }
    if (rc != ROMFS_OK)
        printf("    evaluator: %s\n", err.msg);
    CHECK(rc == ROMFS_OK);
    if (ld_status != 0) {
        printf("    arm-none-eabi-ld failed, see %s/%s.ldlog\n", tmpdir, name);
        CHECK(ld_status == 0);
    }
    /* MEMORY: the map file's Memory Configuration, both directions */
    snprintf(path, sizeof path, "%s/%s.map", tmpdir, name);
    FILE *f = fopen(path, "r");
    CHECK(f);
    bool in_mem = false;
    size_t ld_regions = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "Memory Configuration", 20) == 0) { in_mem = true; continue; }
        if (!in_mem)
            continue;
        if (strncmp(line, "Linker script", 13) == 0)
            break;
        char rname[200];
        unsigned long long o, l;
        if (sscanf(line, "%199s 0x%llx 0x%llx", rname, &o, &l) != 3 || !strcmp(rname, "*default*"))
            continue;
        ld_regions++;
        const struct romfs_ld_region *r = romfs_ld_find_region(&res, rname);
        if (!r || r->origin != o || r->length != l)
            printf("    region %s: ld 0x%llx+0x%llx, evaluator %s 0x%llx+0x%llx\n", rname, o, l, r ? "" : "(missing)",
                   r ? (unsigned long long)r->origin : 0, r ? (unsigned long long)r->length : 0);
        if (!r) { fclose(f); CHECK(r); }
        if (r->origin != o || r->length != l) { fclose(f); CHECK_EQ_U(r->origin, o); CHECK_EQ_U(r->length, l); }
        checked_values++;
    }
    fclose(f);
    CHECK_EQ_U(ld_regions, res.n_regions);
    /* symbols: every nm symbol must be known; evaluable ones must be equal */
    snprintf(path, sizeof path, "%s/%s.nm", tmpdir, name);
    f = fopen(path, "r");
    CHECK(f);
    size_t seen = 0, compared = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long long v;
        char type, sname[256];
        if (sscanf(line, "%llx %c %255s", &v, &type, sname) != 3 || sname[0] == '$')
            continue;
        bool from_code = false;
        for (int x = 0; x < n_extra_syms; x++)
            from_code = from_code || !strcmp(extra_syms[x], sname);
        if (from_code)
            continue;
        seen++;
        const struct romfs_ld_symbol *s = romfs_ld_symbol_record(&res, sname);
        if (!s)
            printf("    symbol %s = 0x%llx (%c) in ld's output, unknown to the evaluator\n", sname, v, type);
        if (!s) { fclose(f); CHECK(s); }
        if (s->evaluable) {
            if (s->value != v)
                printf("    symbol %s: ld 0x%llx, evaluator 0x%llx (%s:%d)\n", sname, v,
                       (unsigned long long)s->value, s->file, s->line);
            if (s->value != v) { fclose(f); CHECK_EQ_U(s->value, v); }
            compared++;
        } else if (!mp_mode && !in_list(dir, "noteval", sname)) {
            printf("    symbol %s (ld 0x%llx) reported not evaluable: %s\n", sname, v, s->why);
            fclose(f);
            CHECK(s->evaluable);
        }
    }
    fclose(f);
    size_t evaluable = 0;
    for (size_t i = 0; i < res.n_symbols; i++) {
        evaluable += res.symbols[i].evaluable;
        if (in_list(dir, "noteval", res.symbols[i].name) && res.symbols[i].evaluable)
            printf("    symbol %s must not be evaluable\n", res.symbols[i].name);
        CHECK(!(in_list(dir, "noteval", res.symbols[i].name) && res.symbols[i].evaluable));
    }
    CHECK_EQ_U(compared, evaluable);   /* every evaluable symbol was in ld's output */
    CHECK(compared + ld_regions > 0);  /* never pass vacuously */
    checked_values += (int)compared;
}

static void check_partition(const char *dir, const char *name, const struct romfs_partition *p)
{
    bool ok_args = parse_args(dir, p->link, &a);
    CHECK(ok_args);
    check_link(dir, name);
    if (unit_current_failed)
        return;
    char sym[64];
    uint64_t v;
    snprintf(sym, sizeof sym, "_micropy_hw_romfs_part%d_start", p->index);
    CHECK(romfs_ld_find_symbol(&res, sym, &v) == ROMFS_OK);
    CHECK_EQ_U(p->start, v);
    snprintf(sym, sizeof sym, "_micropy_hw_romfs_part%d_size", p->index);
    if (romfs_ld_find_symbol(&res, sym, &v) != ROMFS_OK) {
        const struct romfs_ld_region *r = p->region ? romfs_ld_find_region(&res, p->region) : NULL;
        CHECK(r && r->origin == p->start);
        v = r->length;
    }
    CHECK_EQ_U(p->size, v);
}

/* With $MICROPYTHON_TREE (the commit boards.json records): every partition of the
   committed boards.json that came from linker scripts is linked again with
   arm-none-eabi-ld from its recorded link arguments in the port directory; the
   evaluator must agree with ld on every region and symbol of that link, and the
   partition's start and size must be ld's _micropy_hw_romfs_partN_start/_size (or
   the LENGTH of its region when the scripts give only the start, PYBD_SF6). */
static void check_micropython_boards(void)
{
    const char *tree = getenv("MICROPYTHON_TREE"), *src = getenv("ROMFS_SOURCE_DIR");
    if (!tree || !*tree) {
        printf("    MicroPython boards: skipped: MICROPYTHON_TREE not set\n");
        return;
    }
    char dbpath[1200];
    snprintf(dbpath, sizeof dbpath, "%s/boards.json", src && *src ? src : ".");
    struct romfs_boards db;
    struct romfs_error err = {0};
    if (romfs_boards_load(dbpath, &db, &err) != ROMFS_OK) {
        printf("FAIL ld_equals_boards_json: %s\n", err.msg);
        unit_failures++;
        return;
    }
    int links = 0, partitions = 0;
    mp_mode = true;
    for (size_t i = 0; i < db.n; i++) {
        const struct romfs_board *b = &db.boards[i];
        for (size_t k = 0; k < b->n_partitions; k++) {
            const struct romfs_partition *p = &b->partitions[k];
            if (!p->link)
                continue;
            bool again = false; /* each distinct link once; every partition checked */
            for (size_t j = 0; j <= i && !again; j++)
                for (size_t q = 0; q < db.boards[j].n_partitions && !(j == i && q >= k); q++)
                    if (db.boards[j].partitions[q].link && !strcmp(db.boards[j].port, b->port) &&
                        !strcmp(db.boards[j].partitions[q].link, p->link) && db.boards[j].partitions[q].start == p->start &&
                        db.boards[j].partitions[q].size == p->size)
                        again = true;
            partitions++;
            if (again)
                continue;
            char dir[1400], name[300];
            snprintf(dir, sizeof dir, "%s/ports/%s", tree, b->port);
            snprintf(name, sizeof name, "mp_%s_%s_part%d%s%s", b->port, b->name, p->index, p->core ? "_" : "",
                     p->core ? p->core : "");
            unit_current_failed = 0;
            check_partition(dir, name, p);
            printf("%s ld_equals_boards_json_%s\n", unit_current_failed ? "FAIL" : "PASS", name + 3);
            unit_failures += unit_current_failed;
            romfs_ld_result_free(&res);
            free_args(&a);
            links++;
        }
    }
    printf("    %d partitions of boards.json checked by %d distinct links with arm-none-eabi-ld\n", partitions, links);
    mp_mode = false;
    romfs_boards_free(&db);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *src = getenv("ROMFS_SOURCE_DIR");
    snprintf(root, sizeof root, "%s/tests/fixtures/ld", src && *src ? src : ".");
    if (system("command -v arm-none-eabi-ld >/dev/null 2>&1 && command -v arm-none-eabi-as >/dev/null 2>&1") != 0) {
        printf("SKIP test_ldscript_ld: arm-none-eabi-ld/as not installed (make deps)\n");
        return 0;
    }
    snprintf(tmpdir, sizeof tmpdir, "%s/romfs-ldtest.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        printf("FAIL setup: mkdtemp\n");
        return 1;
    }
    char cmd[1024];
    /* empty libraries for scripts that name GROUP(-lgcc -lc -lnosys) (nrf) */
    snprintf(cmd, sizeof cmd, "cd '%s' && : > empty.s && arm-none-eabi-as empty.s -o empty.o && mkdir libs && "
             "for l in gcc c nosys m; do arm-none-eabi-ar rc libs/lib$l.a; done", tmpdir);
    if (system(cmd) != 0) {
        printf("FAIL setup: arm-none-eabi-as\n");
        return 1;
    }
    DIR *d = opendir(root);
    if (!d) {
        printf("FAIL setup: no fixtures at %s\n", root);
        return 1;
    }
    char *names[256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256)
        if (e->d_name[0] != '.')
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        unit_current_failed = 0;
        check_fixture(names[i]);
        romfs_ld_result_free(&res);
        free_args(&a);
        printf("%s ld_equals_evaluator_%s\n", unit_current_failed ? "FAIL" : "PASS", names[i]);
        unit_failures += unit_current_failed;
        free(names[i]);
    }
    printf("    %d region/symbol values compared with arm-none-eabi-ld over %zu fixtures\n", checked_values, n);
    check_micropython_boards();
    if (!unit_failures) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            printf("    could not remove %s\n", tmpdir);
    }
    UNIT_EXIT();
}
