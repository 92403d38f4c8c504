/* unit.h: a minimal unit-test harness. Each test prints "PASS name" or
 * "FAIL name: file:line: condition"; tests/run.sh counts those lines. */
#ifndef ROMFS_UNIT_H
#define ROMFS_UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_failures;
static int unit_current_failed;

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            printf("    %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);     \
            unit_current_failed = 1;                                                \
            return;                                                                 \
        }                                                                           \
    } while (0)

#define CHECK_EQ_U(a, b)                                                            \
    do {                                                                            \
        unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b); \
        if (a_ != b_) {                                                             \
            printf("    %s:%d: %s == %llu (0x%llx), expected %s == %llu (0x%llx)\n", \
                   __FILE__, __LINE__, #a, a_, a_, #b, b_, b_);                     \
            unit_current_failed = 1;                                                \
            return;                                                                 \
        }                                                                           \
    } while (0)

#define CHECK_MEM(a, b, n)                                                          \
    do {                                                                            \
        if (memcmp((a), (b), (n)) != 0) {                                           \
            printf("    %s:%d: memory %s differs from %s\n", __FILE__, __LINE__, #a, #b); \
            unit_current_failed = 1;                                                \
            return;                                                                 \
        }                                                                           \
    } while (0)

#define RUN(fn)                                                                     \
    do {                                                                            \
        unit_current_failed = 0;                                                    \
        fn();                                                                       \
        printf("%s %s\n", unit_current_failed ? "FAIL" : "PASS", #fn);              \
        unit_failures += unit_current_failed;                                       \
        fflush(stdout);                                                             \
    } while (0)

#define UNIT_EXIT() return unit_failures ? 1 : 0

#endif
