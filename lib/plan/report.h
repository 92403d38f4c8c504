/* plan/report.h: test-style reports (text, JSON, JUnit XML, GitHub annotations).
 *
 * A report is a list of suites (e.g. "PYBD_SF2 partition 0"), each with optional
 * key/value properties and a list of named cases that pass, fail or are skipped,
 * each with a one-line message and optional multi-line detail. `romfs check` builds
 * one per run; `romfs ci` builds its combined report with the same calls. Writers go
 * to a FILE* the caller gives (or into a malloc'd buffer); nothing is printed on its
 * own. Every string handed in is copied; bytes that are not valid UTF-8 are stored as
 * "\xNN" so every output format stays well-formed. */
#ifndef ROMFS_REPORT_H
#define ROMFS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/error.h"

enum romfs_report_status {
    ROMFS_REPORT_PASS = 0,
    ROMFS_REPORT_FAIL = 1,
    ROMFS_REPORT_SKIP = 2,
};

enum romfs_report_format {
    ROMFS_REPORT_TEXT = 0,   /* human-readable lines, "PASS/FAIL/SKIP suite: case: message" */
    ROMFS_REPORT_JSON,       /* {"title","passed","failed","skipped","suites":[...]} */
    ROMFS_REPORT_JUNIT,      /* JUnit XML: <testsuites><testsuite><testcase>... */
    ROMFS_REPORT_GITHUB,     /* GitHub workflow commands: ::error file=F,title=T::message */
};

struct romfs_report_property {
    char *key;
    char *value;             /* text form */
    bool is_number;          /* JSON writes it as a number */
};

struct romfs_report_case {
    char *name;              /* e.g. "fits" */
    enum romfs_report_status status;
    char *message;           /* one line, may be "" */
    char *detail;            /* more lines, or NULL */
    double seconds;          /* duration, or < 0 when not measured */
};

struct romfs_report_suite {
    char *name;              /* e.g. "PYBD_SF2 partition 0" */
    char *file;              /* the file the cases are about (GitHub annotations), or NULL */
    char *description;       /* one line about the subject (text/JSON/JUnit), or NULL */
    struct romfs_report_property *props; size_t n_props;
    struct romfs_report_case *cases; size_t n_cases;
};

struct romfs_report {
    char *title;             /* e.g. "romfs check" */
    struct romfs_report_suite **suites; size_t n_suites;  /* pointers stay valid */
    bool out_of_memory;      /* an add failed; writers then return ROMFS_ERR_NOMEM */
};

/* Start an empty report (title copied; NULL means "romfs"). Free with romfs_report_free. */
void romfs_report_init(struct romfs_report *r, const char *title);
void romfs_report_free(struct romfs_report *r);

/* Append a suite; returns it (valid until romfs_report_free) or NULL without memory.
 * file may be NULL. */
struct romfs_report_suite *romfs_report_add_suite(struct romfs_report *r, const char *name,
                                                  const char *file);

/* Append a case with a printf-style message; detail may be NULL. Returns ROMFS_OK or
 * ROMFS_ERR_NOMEM (also recorded in r->out_of_memory). */
int romfs_report_add_case(struct romfs_report *r, struct romfs_report_suite *s, const char *name,
                          enum romfs_report_status status, const char *detail,
                          const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Set the suite's one-line description (copied). Returns ROMFS_OK or ROMFS_ERR_NOMEM. */
int romfs_report_set_description(struct romfs_report *r, struct romfs_report_suite *s,
                                 const char *text);

/* Set the duration of the suite's last case. */
void romfs_report_set_seconds(struct romfs_report_suite *s, double seconds);

/* Add a property (text, or an unsigned number). Returns ROMFS_OK or ROMFS_ERR_NOMEM. */
int romfs_report_add_property(struct romfs_report *r, struct romfs_report_suite *s,
                              const char *key, const char *value);
int romfs_report_add_property_u64(struct romfs_report *r, struct romfs_report_suite *s,
                                  const char *key, uint64_t value);
int romfs_report_add_property_double(struct romfs_report *r, struct romfs_report_suite *s,
                                     const char *key, double value);   /* written with %.6g */

/* Count the cases of every suite by status (any pointer may be NULL). */
void romfs_report_count(const struct romfs_report *r, size_t *passed, size_t *failed,
                        size_t *skipped);

/* "text", "json", "junit", "github" -> *out. ROMFS_ERR_INVAL (err names the choices) else. */
int romfs_report_parse_format(const char *name, enum romfs_report_format *out,
                              struct romfs_error *err);

/* Write the report in `format` to out. ROMFS_ERR_NOMEM if building it ran out of memory,
 * ROMFS_ERR_IO if writing failed. */
int romfs_report_write(const struct romfs_report *r, enum romfs_report_format format, FILE *out,
                       struct romfs_error *err);

/* Same, into a malloc'd NUL-terminated buffer (*text, *len without the NUL). */
int romfs_report_render(const struct romfs_report *r, enum romfs_report_format format,
                        char **text, size_t *len, struct romfs_error *err);

#endif
