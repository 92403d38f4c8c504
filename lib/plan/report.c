/* report.c: building reports and writing them as text, JSON, JUnit XML or GitHub
 * workflow annotations. */
#include "plan/report.h"

#include <cJSON.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"

/* Report text comes from images, boards and devices: every string goes through the
 * one escaping rule (base/text.h) when it enters the report, so no writer can print a
 * control byte or invalid UTF-8. Names, messages and properties stay on one line (a
 * newline in a file name cannot forge a PASS line); details may span lines. */
static char *clean_line(const char *s)
{
    return s ? romfs_escape_text(s, strlen(s), ROMFS_ESCAPE_LINE) : NULL;
}

static char *clean_lines(const char *s)
{
    return s ? romfs_escape_text(s, strlen(s), ROMFS_ESCAPE_MESSAGE) : NULL;
}

void romfs_report_init(struct romfs_report *r, const char *title)
{
    memset(r, 0, sizeof *r);
    r->title = clean_line(title ? title : "romfs");
    if (!r->title)
        r->out_of_memory = true;
}

static void free_suite(struct romfs_report_suite *s)
{
    if (!s)
        return;
    free(s->name);
    free(s->file);
    free(s->description);
    for (size_t i = 0; i < s->n_props; i++) {
        free(s->props[i].key);
        free(s->props[i].value);
    }
    free(s->props);
    for (size_t i = 0; i < s->n_cases; i++) {
        free(s->cases[i].name);
        free(s->cases[i].message);
        free(s->cases[i].detail);
    }
    free(s->cases);
    free(s);
}

void romfs_report_free(struct romfs_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_suites; i++)
        free_suite(r->suites[i]);
    free(r->suites);
    free(r->title);
    memset(r, 0, sizeof *r);
}

struct romfs_report_suite *romfs_report_add_suite(struct romfs_report *r, const char *name,
                                                  const char *file)
{
    struct romfs_report_suite *s = calloc(1, sizeof *s);
    struct romfs_report_suite **grown = realloc(r->suites, (r->n_suites + 1) * sizeof *grown);
    if (grown)
        r->suites = grown;
    if (s && grown) {
        s->name = clean_line(name ? name : "");
        s->file = clean_line(file);
        if (s->name && (!file || s->file)) {
            r->suites[r->n_suites++] = s;
            return s;
        }
    }
    free_suite(s);
    r->out_of_memory = true;
    return NULL;
}

int romfs_report_add_case(struct romfs_report *r, struct romfs_report_suite *s, const char *name,
                          enum romfs_report_status status, const char *detail,
                          const char *fmt, ...)
{
    if (!s) {
        r->out_of_memory = true;
        return ROMFS_ERR_NOMEM;
    }
    char *raw = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n >= 0 && (raw = malloc((size_t)n + 1)) != NULL) {
        va_start(ap, fmt);
        vsnprintf(raw, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    struct romfs_report_case c = { clean_line(name), status, clean_line(raw ? raw : ""),
                                   clean_lines(detail), -1.0 };
    free(raw);
    struct romfs_report_case *grown = realloc(s->cases, (s->n_cases + 1) * sizeof *grown);
    if (grown)
        s->cases = grown;
    if (!grown || !c.name || !c.message || (detail && !c.detail)) {
        free(c.name);
        free(c.message);
        free(c.detail);
        r->out_of_memory = true;
        return ROMFS_ERR_NOMEM;
    }
    s->cases[s->n_cases++] = c;
    return ROMFS_OK;
}

int romfs_report_set_description(struct romfs_report *r, struct romfs_report_suite *s,
                                 const char *text)
{
    char *copy = s ? clean_line(text ? text : "") : NULL;
    if (!copy) {
        r->out_of_memory = true;
        return ROMFS_ERR_NOMEM;
    }
    free(s->description);
    s->description = copy;
    return ROMFS_OK;
}

void romfs_report_set_seconds(struct romfs_report_suite *s, double seconds)
{
    if (s && s->n_cases)
        s->cases[s->n_cases - 1].seconds = seconds;
}

static int add_prop(struct romfs_report *r, struct romfs_report_suite *s, const char *key,
                    const char *value, bool is_number)
{
    if (!s) {
        r->out_of_memory = true;
        return ROMFS_ERR_NOMEM;
    }
    struct romfs_report_property p = { clean_line(key), clean_line(value ? value : ""), is_number };
    struct romfs_report_property *grown = realloc(s->props, (s->n_props + 1) * sizeof *grown);
    if (grown)
        s->props = grown;
    if (!grown || !p.key || !p.value) {
        free(p.key);
        free(p.value);
        r->out_of_memory = true;
        return ROMFS_ERR_NOMEM;
    }
    s->props[s->n_props++] = p;
    return ROMFS_OK;
}

int romfs_report_add_property(struct romfs_report *r, struct romfs_report_suite *s,
                              const char *key, const char *value)
{
    return add_prop(r, s, key, value, false);
}

int romfs_report_add_property_u64(struct romfs_report *r, struct romfs_report_suite *s,
                                  const char *key, uint64_t value)
{
    char text[24];
    snprintf(text, sizeof text, "%" PRIu64, value);
    return add_prop(r, s, key, text, true);
}

int romfs_report_add_property_double(struct romfs_report *r, struct romfs_report_suite *s,
                                     const char *key, double value)
{
    char text[32];
    if (!(value == value) || value > 1e300 || value < -1e300)   /* JSON has no NaN/inf */
        return add_prop(r, s, key, "null", true);
    snprintf(text, sizeof text, "%.6g", value);
    return add_prop(r, s, key, text, true);
}

void romfs_report_count(const struct romfs_report *r, size_t *passed, size_t *failed,
                        size_t *skipped)
{
    size_t n[3] = { 0, 0, 0 };
    for (size_t i = 0; i < r->n_suites; i++)
        for (size_t j = 0; j < r->suites[i]->n_cases; j++)
            n[r->suites[i]->cases[j].status]++;
    if (passed)
        *passed = n[ROMFS_REPORT_PASS];
    if (failed)
        *failed = n[ROMFS_REPORT_FAIL];
    if (skipped)
        *skipped = n[ROMFS_REPORT_SKIP];
}

int romfs_report_parse_format(const char *name, enum romfs_report_format *out,
                              struct romfs_error *err)
{
    static const char *const names[] = { "text", "json", "junit", "github" };
    for (int i = 0; i < 4; i++) {
        if (name && strcmp(name, names[i]) == 0) {
            *out = (enum romfs_report_format)i;
            return ROMFS_OK;
        }
    }
    return romfs_set_error(err, ROMFS_ERR_INVAL,
                           "unknown report format '%s' (choose text, json, junit or github)",
                           name ? name : "");
}

static const char *status_word(enum romfs_report_status st)
{
    return st == ROMFS_REPORT_PASS ? "pass" : st == ROMFS_REPORT_FAIL ? "fail" : "skip";
}

/* ---- text ------------------------------------------------------------------- */

static void write_indented(FILE *out, const char *text, const char *indent)
{
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        fprintf(out, "%s%.*s\n", indent, (int)n, p);
        p += n + (nl ? 1 : 0);
    }
}

static void write_text(const struct romfs_report *r, FILE *out)
{
    for (size_t i = 0; i < r->n_suites; i++) {
        const struct romfs_report_suite *s = r->suites[i];
        if (s->file)
            fprintf(out, "%s: %s\n", s->file, s->name);
        else
            fprintf(out, "%s\n", s->name);
        if (s->description)
            fprintf(out, "  %s\n", s->description);
        for (size_t j = 0; j < s->n_cases; j++) {
            const struct romfs_report_case *c = &s->cases[j];
            static const char *const words[] = { "PASS", "FAIL", "SKIP" };
            fprintf(out, "  %s %-12s %s\n", words[c->status], c->name, c->message);
            if (c->detail)
                write_indented(out, c->detail, "         ");
        }
    }
    size_t p, f, k;
    romfs_report_count(r, &p, &f, &k);
    fprintf(out, "%s: %zu passed, %zu failed, %zu skipped\n", r->title, p, f, k);
}

/* ---- JSON ------------------------------------------------------------------- */

static int write_json(const struct romfs_report *r, FILE *out)
{
    size_t p, f, k;
    romfs_report_count(r, &p, &f, &k);
    cJSON *root = cJSON_CreateObject();
    bool ok = root != NULL;
    ok = ok && cJSON_AddStringToObject(root, "title", r->title);
    ok = ok && cJSON_AddBoolToObject(root, "ok", f == 0);
    ok = ok && cJSON_AddNumberToObject(root, "passed", (double)p);
    ok = ok && cJSON_AddNumberToObject(root, "failed", (double)f);
    ok = ok && cJSON_AddNumberToObject(root, "skipped", (double)k);
    cJSON *suites = ok ? cJSON_AddArrayToObject(root, "suites") : NULL;
    ok = suites != NULL;
    for (size_t i = 0; ok && i < r->n_suites; i++) {
        const struct romfs_report_suite *s = r->suites[i];
        cJSON *js = cJSON_CreateObject();
        ok = js && cJSON_AddItemToArray(suites, js);
        ok = ok && cJSON_AddStringToObject(js, "name", s->name);
        if (ok && s->file)
            ok = cJSON_AddStringToObject(js, "file", s->file) != NULL;
        if (ok && s->description)
            ok = cJSON_AddStringToObject(js, "description", s->description) != NULL;
        cJSON *props = ok ? cJSON_AddObjectToObject(js, "properties") : NULL;
        ok = props != NULL;
        for (size_t j = 0; ok && j < s->n_props; j++) {
            const struct romfs_report_property *pr = &s->props[j];
            ok = pr->is_number ? cJSON_AddRawToObject(props, pr->key, pr->value) != NULL
                               : cJSON_AddStringToObject(props, pr->key, pr->value) != NULL;
        }
        cJSON *cases = ok ? cJSON_AddArrayToObject(js, "cases") : NULL;
        ok = cases != NULL;
        for (size_t j = 0; ok && j < s->n_cases; j++) {
            const struct romfs_report_case *c = &s->cases[j];
            cJSON *jc = cJSON_CreateObject();
            ok = jc && cJSON_AddItemToArray(cases, jc);
            ok = ok && cJSON_AddStringToObject(jc, "name", c->name);
            ok = ok && cJSON_AddStringToObject(jc, "status", status_word(c->status));
            ok = ok && cJSON_AddStringToObject(jc, "message", c->message);
            if (ok && c->detail)
                ok = cJSON_AddStringToObject(jc, "detail", c->detail) != NULL;
            if (ok && c->seconds >= 0)
                ok = cJSON_AddNumberToObject(jc, "seconds", c->seconds) != NULL;
        }
    }
    char *text = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text)
        return ROMFS_ERR_NOMEM;
    fputs(text, out);
    fputc('\n', out);
    free(text);
    return ROMFS_OK;
}

/* ---- JUnit XML ---------------------------------------------------------------- */

static void xml_escape(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&apos;", out); break;
        case '\n': fputs("&#10;", out); break;
        case '\t': fputs("&#9;", out); break;
        default: fputc(*s, out); break;
        }
    }
}

static void xml_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        default: fputc(*s, out); break;
        }
    }
}

static void write_junit(const struct romfs_report *r, FILE *out)
{
    size_t p, f, k;
    romfs_report_count(r, &p, &f, &k);
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"", out);
    xml_escape(out, r->title);
    fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\">\n", p + f + k, f, k);
    for (size_t i = 0; i < r->n_suites; i++) {
        const struct romfs_report_suite *s = r->suites[i];
        size_t sf = 0, sk = 0;
        for (size_t j = 0; j < s->n_cases; j++) {
            sf += s->cases[j].status == ROMFS_REPORT_FAIL;
            sk += s->cases[j].status == ROMFS_REPORT_SKIP;
        }
        fputs("  <testsuite name=\"", out);
        xml_escape(out, s->name);
        fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\"", s->n_cases, sf, sk);
        if (s->file) {
            fputs(" file=\"", out);
            xml_escape(out, s->file);
            fputc('"', out);
        }
        fputs(">\n", out);
        if (s->n_props || s->file || s->description) {
            fputs("    <properties>\n", out);
            if (s->description) {
                fputs("      <property name=\"description\" value=\"", out);
                xml_escape(out, s->description);
                fputs("\"/>\n", out);
            }
            if (s->file) {
                fputs("      <property name=\"file\" value=\"", out);
                xml_escape(out, s->file);
                fputs("\"/>\n", out);
            }
            for (size_t j = 0; j < s->n_props; j++) {
                fputs("      <property name=\"", out);
                xml_escape(out, s->props[j].key);
                fputs("\" value=\"", out);
                xml_escape(out, s->props[j].value);
                fputs("\"/>\n", out);
            }
            fputs("    </properties>\n", out);
        }
        for (size_t j = 0; j < s->n_cases; j++) {
            const struct romfs_report_case *c = &s->cases[j];
            fputs("    <testcase classname=\"", out);
            xml_escape(out, s->name);
            fputs("\" name=\"", out);
            xml_escape(out, c->name);
            fputc('"', out);
            if (c->seconds >= 0)
                fprintf(out, " time=\"%.3f\"", c->seconds);
            if (c->status == ROMFS_REPORT_PASS && !c->detail && !c->message[0]) {
                fputs("/>\n", out);
                continue;
            }
            fputs(">\n", out);
            if (c->status == ROMFS_REPORT_FAIL) {
                fputs("      <failure message=\"", out);
                xml_escape(out, c->message);
                fputs("\" type=\"romfs\">", out);
                xml_text(out, c->message);
                if (c->detail) {
                    fputc('\n', out);
                    xml_text(out, c->detail);
                }
                fputs("</failure>\n", out);
            } else if (c->status == ROMFS_REPORT_SKIP) {
                fputs("      <skipped message=\"", out);
                xml_escape(out, c->message);
                fputs("\"/>\n", out);
            }
            if (c->status != ROMFS_REPORT_FAIL && (c->message[0] || c->detail)) {
                fputs("      <system-out>", out);
                xml_text(out, c->message);
                if (c->detail) {
                    fputc('\n', out);
                    xml_text(out, c->detail);
                }
                fputs("</system-out>\n", out);
            }
            fputs("    </testcase>\n", out);
        }
        fputs("  </testsuite>\n", out);
    }
    fputs("</testsuites>\n", out);
}

/* ---- GitHub workflow commands -------------------------------------------------- */

/* Data of a workflow command: %, CR and LF are encoded. Properties also need , and :. */
static void gh_escape(FILE *out, const char *s, bool property)
{
    for (; *s; s++) {
        switch (*s) {
        case '%': fputs("%25", out); break;
        case '\r': fputs("%0D", out); break;
        case '\n': fputs("%0A", out); break;
        case ',': fputs(property ? "%2C" : ",", out); break;
        case ':': fputs(property ? "%3A" : ":", out); break;
        default: fputc(*s, out); break;
        }
    }
}

static void write_github(const struct romfs_report *r, FILE *out)
{
    for (size_t i = 0; i < r->n_suites; i++) {
        const struct romfs_report_suite *s = r->suites[i];
        for (size_t j = 0; j < s->n_cases; j++) {
            const struct romfs_report_case *c = &s->cases[j];
            if (c->status != ROMFS_REPORT_FAIL) {
                /* Plain log lines: visible in the job log, no annotation. */
                fprintf(out, "%s %s: %s: %s\n", c->status == ROMFS_REPORT_PASS ? "PASS" : "SKIP",
                        s->name, c->name, c->message);
                continue;
            }
            fputs("::error ", out);
            if (s->file) {
                fputs("file=", out);
                gh_escape(out, s->file, true);
                fputc(',', out);
            }
            fputs("title=", out);
            gh_escape(out, r->title, true);
            fputs(" ", out);
            gh_escape(out, s->name, true);
            fputs(" ", out);
            gh_escape(out, c->name, true);
            fputs("::", out);
            gh_escape(out, s->name, false);
            fputs(": ", out);
            gh_escape(out, c->message, false);
            if (c->detail) {
                gh_escape(out, "\n", false);
                gh_escape(out, c->detail, false);
            }
            fputc('\n', out);
        }
    }
    size_t p, f, k;
    romfs_report_count(r, &p, &f, &k);
    fprintf(out, "::%s title=", f ? "error" : "notice");
    gh_escape(out, r->title, true);
    fprintf(out, "::%zu passed, %zu failed, %zu skipped\n", p, f, k);
}

int romfs_report_write(const struct romfs_report *r, enum romfs_report_format format, FILE *out,
                       struct romfs_error *err)
{
    if (r->out_of_memory)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory building the report");
    int rc = ROMFS_OK;
    switch (format) {
    case ROMFS_REPORT_TEXT: write_text(r, out); break;
    case ROMFS_REPORT_JSON: rc = write_json(r, out); break;
    case ROMFS_REPORT_JUNIT: write_junit(r, out); break;
    case ROMFS_REPORT_GITHUB: write_github(r, out); break;
    default: return romfs_set_error(err, ROMFS_ERR_INVAL, "unknown report format %d", (int)format);
    }
    if (rc)
        return romfs_set_error(err, rc, "out of memory writing the report");
    if (fflush(out) != 0 || ferror(out))
        return romfs_set_error(err, ROMFS_ERR_IO, "cannot write the report");
    return ROMFS_OK;
}

int romfs_report_render(const struct romfs_report *r, enum romfs_report_format format,
                        char **text, size_t *len, struct romfs_error *err)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *mem = open_memstream(&buf, &n);
    if (!mem)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory rendering the report");
    int rc = romfs_report_write(r, format, mem, err);
    if (fclose(mem) != 0 && rc == ROMFS_OK)
        rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory rendering the report");
    if (rc) {
        free(buf);
        return rc;
    }
    *text = buf;
    if (len)
        *len = n;
    return ROMFS_OK;
}
