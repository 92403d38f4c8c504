/* ld_eval.c: evaluate linker scripts as a port's Makefile would pass them, and
 * print every MEMORY region and symbol; with -n N, evaluate N times and print the
 * time taken. Used by bench/bench_ldscript.sh and for checking board scripts by hand.
 *
 *   ld_eval [-C DIR] [-L DIR]... [--defsym N=E]... [--defsym-last] [-E -D DEF... -I DIR...]
 *           [--bits 32] [-n N] SCRIPT... [-- SCRIPTS...]   (several jobs separated by --) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ld/ldscript.h"

#define MAX_ARGS 256

struct job {
    const char *scripts[MAX_ARGS], *dirs[MAX_ARGS], *defsyms[MAX_ARGS], *defines[MAX_ARGS], *incs[MAX_ARGS];
    struct romfs_ld_input in;
};

static int usage(void)
{
    fprintf(stderr, "usage: ld_eval [-C DIR] [-L DIR] [--defsym N=E] [--defsym-last] [-E] [-D DEF] "
                    "[--bits 32] [-n REPEAT] [-q] SCRIPT... [-- next job...]\n");
    return 2;
}

int main(int argc, char **argv)
{
    static struct job jobs[4096];
    size_t n_jobs = 1;
    long repeat = 1;
    int quiet = 0;
    struct job *j = &jobs[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            if (n_jobs == sizeof jobs / sizeof jobs[0])
                return usage();
            j = &jobs[n_jobs++];
        } else if (!strcmp(a, "-C") && i + 1 < argc) j->in.base_dir = argv[++i];
        else if (!strcmp(a, "-L") && i + 1 < argc && j->in.n_search_dirs < MAX_ARGS) j->dirs[j->in.n_search_dirs++] = argv[++i];
        else if (!strcmp(a, "--defsym") && i + 1 < argc && j->in.n_defsyms < MAX_ARGS) {
            if (j->in.n_scripts) /* after a -T: ld run directly (samd) */
                j->in.defsyms_last = true;
            j->defsyms[j->in.n_defsyms++] = argv[++i];
        }
        else if (!strcmp(a, "--defsym-last")) j->in.defsyms_last = true;
        else if (!strcmp(a, "-E")) j->in.preprocess = true;
        else if (!strcmp(a, "-I") && i + 1 < argc && j->in.n_cpp_include_dirs < MAX_ARGS) j->incs[j->in.n_cpp_include_dirs++] = argv[++i];
        else if (!strcmp(a, "-D") && i + 1 < argc && j->in.n_cpp_defines < MAX_ARGS) j->defines[j->in.n_cpp_defines++] = argv[++i];
        else if (!strcmp(a, "--bits") && i + 1 < argc) j->in.address_bits = (unsigned)atoi(argv[++i]);
        else if (!strcmp(a, "-n") && i + 1 < argc) repeat = atol(argv[++i]);
        else if (!strcmp(a, "-T") && i + 1 < argc && j->in.n_scripts < MAX_ARGS) j->scripts[j->in.n_scripts++] = argv[++i];
        else if (!strcmp(a, "-q")) quiet = 1;
        else if (a[0] == '-') return usage();
        else if (j->in.n_scripts < MAX_ARGS) j->scripts[j->in.n_scripts++] = a;
    }
    for (size_t k = 0; k < n_jobs; k++) {
        jobs[k].in.scripts = jobs[k].scripts;
        jobs[k].in.search_dirs = jobs[k].dirs;
        jobs[k].in.defsyms = jobs[k].defsyms;
        jobs[k].in.cpp_defines = jobs[k].defines;
        jobs[k].in.cpp_include_dirs = jobs[k].incs;
    }
    while (n_jobs > 1 && jobs[n_jobs - 1].in.n_scripts == 0) /* a trailing "--" */
        n_jobs--;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int failures = 0;
    for (long r = 0; r < repeat; r++) {
        for (size_t k = 0; k < n_jobs; k++) {
            struct romfs_ld_result res;
            struct romfs_error err = {0};
            int rc = romfs_ld_evaluate(&jobs[k].in, &res, &err);
            if (rc) {
                if (r == 0)
                    fprintf(stderr, "ld_eval: %s\n", err.msg);
                failures++;
            } else if (r == 0 && !quiet) {
                if (n_jobs > 1)
                    printf("# job %zu: %s\n", k + 1, jobs[k].scripts[0]);
                for (size_t i = 0; i < res.n_regions; i++)
                    printf("region %s 0x%llx 0x%llx\n", res.regions[i].name,
                           (unsigned long long)res.regions[i].origin, (unsigned long long)res.regions[i].length);
                for (size_t i = 0; i < res.n_symbols; i++) {
                    if (res.symbols[i].evaluable)
                        printf("symbol %s 0x%llx\n", res.symbols[i].name, (unsigned long long)res.symbols[i].value);
                    else
                        printf("noteval %s %s:%d: %s\n", res.symbols[i].name, res.symbols[i].file,
                               res.symbols[i].line, res.symbols[i].why);
                }
            }
            romfs_ld_result_free(&res);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (repeat > 1 || quiet)
        fprintf(stderr, "ld_eval: %ld x %zu evaluations in %.3f s (%.1f us each), %d failed\n", repeat, n_jobs,
                secs, secs * 1e6 / (double)(repeat * (long)n_jobs), failures);
    return failures ? 1 : 0;
}
