/* flash_many.c: output of `romfs flash` on several boards and of the production loop.
 * The work is lib/flash/fleet.c's; this file draws progress, tables, JSON, JUnit and the
 * loop's PASS/FAIL lines and log. */
#include <cJSON.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flash_many.h"
#include "base/clock.h"

static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

/* msg on one line (a device's traceback has several): line breaks become " / ". */
static const char *one_line(const char *msg, char *buf, size_t cap)
{
    size_t k = 0;
    bool brk = false;
    for (const char *p = msg; *p && k + 4 < cap; p++) {
        if (*p == '\r' || *p == '\n') {
            brk = k > 0;
            continue;
        }
        if (brk) {
            memcpy(buf + k, " / ", 3);
            k += 3;
            brk = false;
        }
        buf[k++] = *p;
    }
    buf[k] = 0;
    return buf;
}

/* ---- live progress: one line per board, redrawn in place ----------------------------- */

struct live {
    bool enabled;
    struct romfs_fleet_board *boards;
    size_t n;
    const char **phase;
    uint64_t *done, *total;
    bool drawn;
    double last_draw;
};

static void live_draw(struct live *lv)
{
    if (lv->drawn)
        fprintf(stderr, "\033[%zuA", lv->n);   /* back to the first board's line */
    for (size_t i = 0; i < lv->n; i++) {
        int width = 24, fill = lv->total[i] ? (int)((double)lv->done[i] / (double)lv->total[i] *
                                                    width) : 0;
        char bar[32];
        for (int k = 0; k < width; k++)
            bar[k] = k < fill ? '#' : '.';
        bar[width] = 0;
        fprintf(stderr, "\r\033[K%-28.28s %-7s [%s] %7.1f/%.1f KiB\n", lv->boards[i].port,
                lv->phase[i] ? lv->phase[i] : "open", bar, (double)lv->done[i] / 1024,
                (double)lv->total[i] / 1024);
    }
    fflush(stderr);
    lv->drawn = true;
    lv->last_draw = romfs_now_s();
}

static void live_progress(void *ctx, size_t index, const char *phase, uint64_t done,
                          uint64_t total)
{
    struct live *lv = ctx;   /* lib calls this under its lock: never two at a time */
    if (!lv->enabled || index >= lv->n)
        return;
    lv->phase[index] = phase;
    lv->done[index] = done;
    lv->total[index] = total;
    if (romfs_now_s() - lv->last_draw >= 0.1)
        live_draw(lv);
}

/* ---- results -------------------------------------------------------------------------- */

static void print_table(const struct romfs_fleet_board *b, size_t n)
{
    printf("%-28s %-20s %-9s %8s  %s\n", "PORT", "SERIAL", "BLOCKS", "TIME", "RESULT");
    for (size_t i = 0; i < n; i++) {
        char blocks[32];
        snprintf(blocks, sizeof blocks, "%llu/%llu",
                 (unsigned long long)b[i].result.write.blocks_written,
                 (unsigned long long)b[i].result.write.blocks_in_image);
        char msg[sizeof b[i].err.msg];
        printf("%-28s %-20s %-9s %7.2fs  %s%s\n", b[i].port, or_dash(b[i].serial_number), blocks,
               b[i].seconds, b[i].rc == ROMFS_OK ? "ok" : "FAIL: ",
               b[i].rc == ROMFS_OK ? "" : one_line(b[i].err.msg, msg, sizeof msg));
    }
}

static cJSON *board_json(const struct romfs_fleet_board *b)
{
    const struct romfs_flash_job_result *r = &b->result;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "port", b->port);
    if (b->serial_number[0])
        cJSON_AddStringToObject(j, "serial_number", b->serial_number);
    else
        cJSON_AddNullToObject(j, "serial_number");
    cJSON_AddBoolToObject(j, "ok", b->rc == ROMFS_OK);
    if (b->rc != ROMFS_OK)
        cJSON_AddStringToObject(j, "error", b->err.msg);
    else
        cJSON_AddNullToObject(j, "error");
    cJSON_AddNumberToObject(j, "blocks_in_image", (double)r->write.blocks_in_image);
    cJSON_AddNumberToObject(j, "blocks_written", (double)r->write.blocks_written);
    cJSON_AddNumberToObject(j, "bytes_programmed", (double)r->write.bytes_programmed);
    cJSON_AddBoolToObject(j, "verified", r->write.verified);
    cJSON_AddBoolToObject(j, "rom_checked", r->confirmation == ROMFS_CONFIRM_ROM_LISTED ||
                                           r->confirmation == ROMFS_CONFIRM_ROM_LISTED_NO_RESET);
    cJSON_AddStringToObject(j, "transfer", romfs_transfer_name(r->repl.transfer));
    cJSON_AddNumberToObject(j, "wire_bytes_out", (double)r->repl.wire_bytes_out);
    cJSON_AddNumberToObject(j, "wire_bytes_in", (double)r->repl.wire_bytes_in);
    cJSON_AddNumberToObject(j, "session_bytes_out", (double)r->repl.session_bytes_out);
    cJSON_AddNumberToObject(j, "session_bytes_in", (double)r->repl.session_bytes_in);
    cJSON_AddNumberToObject(j, "seconds", b->seconds);
    return j;
}

static void xml_text(const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", stdout); break;
        case '>': fputs("&gt;", stdout); break;
        case '&': fputs("&amp;", stdout); break;
        case '"': fputs("&quot;", stdout); break;
        default:
            if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n')
                printf("&#%d;", *s);   /* (only \t \n \r are allowed; keep others visible) */
            else
                putchar(*s);
        }
    }
}

static void print_junit(const char *input, const struct romfs_fleet_board *b, size_t n,
                        double total_s)
{
    size_t failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += b[i].rc != ROMFS_OK;
    printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    printf("  <testsuite name=\"romfs flash ");
    xml_text(input);
    printf("\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" time=\"%.3f\">\n", n, failed, total_s);
    for (size_t i = 0; i < n; i++) {
        printf("    <testcase classname=\"romfs.flash\" name=\"");
        xml_text(b[i].port);
        if (b[i].serial_number[0]) {
            printf(" (");
            xml_text(b[i].serial_number);
            printf(")");
        }
        printf("\" time=\"%.3f\">", b[i].seconds);
        if (b[i].rc != ROMFS_OK) {
            printf("\n      <failure message=\"");
            xml_text(b[i].err.msg);
            printf("\" type=\"%s\"/>\n    ", romfs_strerror(b[i].rc));
        } else {
            printf("<system-out>%llu of %llu erase blocks written, verified</system-out>",
                   (unsigned long long)b[i].result.write.blocks_written,
                   (unsigned long long)b[i].result.write.blocks_in_image);
        }
        printf("</testcase>\n");
    }
    printf("  </testsuite>\n</testsuites>\n");
}

int flash_many_run(const struct romfs_flash_job *job, const char *input, const uint8_t *image,
                   size_t len, struct romfs_fleet_board *boards, size_t n,
                   enum flash_many_format format, bool quiet)
{
    struct live lv = { .enabled = !quiet && format == FLASH_MANY_TEXT && cli_stderr_is_tty(),
                       .boards = boards, .n = n };
    lv.phase = calloc(n, sizeof *lv.phase);
    lv.done = calloc(n, sizeof *lv.done);
    lv.total = calloc(n, sizeof *lv.total);
    if (!lv.phase || !lv.done || !lv.total)
        lv.enabled = false;
    if (lv.enabled)
        live_draw(&lv);
    struct romfs_error err = { 0 };
    double t0 = romfs_now_s();
    int rc = romfs_fleet_run(job, image, len, boards, n, live_progress, &lv, &err);
    double total_s = romfs_now_s() - t0;
    if (lv.enabled) {   /* the last picture: each board's outcome */
        for (size_t i = 0; i < n; i++)
            lv.phase[i] = boards[i].rc == ROMFS_OK ? "done" : "FAILED";
        live_draw(&lv);
    }
    free(lv.phase);
    free(lv.done);
    free(lv.total);
    if (rc != ROMFS_OK && rc != ROMFS_ERR_DEVICE)   /* refused before any board was opened */
        return cli_fail(&err);

    if (format == FLASH_MANY_JSON) {
        cJSON *a = cJSON_CreateArray();
        for (size_t i = 0; i < n; i++)
            cJSON_AddItemToArray(a, board_json(&boards[i]));
        char *text = cJSON_Print(a);
        puts(text);
        free(text);
        cJSON_Delete(a);
    } else if (format == FLASH_MANY_JUNIT) {
        print_junit(input, boards, n, total_s);
    } else if (!quiet) {
        char sz[64];
        printf("%s: %s image onto %zu boards in %.2f s\n", input, cli_human_size(len, sz, sizeof sz),
               n, total_s);
        print_table(boards, n);
    }
    if (rc != ROMFS_OK) {
        cli_print_error(&err);
        return EXIT_FAIL;   /* whatever each board's error was: the run failed */
    }
    return EXIT_OK;
}

/* ---- the production loop ------------------------------------------------------------ */

static volatile sig_atomic_t stop_signal;

/* The first SIGINT/SIGTERM stops the loop once the running writes have finished; the
   handler then steps aside, so a second one ends the process at once (a write cut
   short leaves the partition unmountable, never a half image, until it is re-run). */
static void on_stop_signal(int sig)
{
    stop_signal = sig;
    struct sigaction dfl = { 0 };
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGINT, &dfl, NULL);
    sigaction(SIGTERM, &dfl, NULL);
}

struct loop_ctx {
    FILE *log;
    const char *log_path;
    char sha256[2 * ROMFS_SHA256_SIZE + 1];
    bool quiet;
    bool log_failed;
};

static void loop_started(void *ctx, const struct romfs_fleet_board *b)
{
    struct loop_ctx *lc = ctx;
    if (!lc->quiet)
        fprintf(stderr, "romfs: writing %s (serial %s)\n", b->port, or_dash(b->serial_number));
}

static void loop_finished(void *ctx, const struct romfs_fleet_board *b)
{
    struct loop_ctx *lc = ctx;
    if (b->rc == ROMFS_OK)
        printf("PASS %s serial %s: %llu of %llu erase blocks written, verified, %.2f s\n", b->port,
               or_dash(b->serial_number), (unsigned long long)b->result.write.blocks_written,
               (unsigned long long)b->result.write.blocks_in_image, b->seconds);
    else {
        char msg[sizeof b->err.msg];
        printf("FAIL %s serial %s: %s\n", b->port, or_dash(b->serial_number),
               one_line(b->err.msg, msg, sizeof msg));
    }
    fflush(stdout);
    if (!lc->log)
        return;
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "time", when);
    cJSON_AddStringToObject(j, "port", b->port);
    if (b->serial_number[0])
        cJSON_AddStringToObject(j, "serial_number", b->serial_number);
    else
        cJSON_AddNullToObject(j, "serial_number");
    cJSON_AddStringToObject(j, "image_sha256", lc->sha256);
    cJSON_AddNumberToObject(j, "blocks_written", (double)b->result.write.blocks_written);
    cJSON_AddNumberToObject(j, "blocks_in_image", (double)b->result.write.blocks_in_image);
    cJSON_AddNumberToObject(j, "seconds", b->seconds);
    cJSON_AddStringToObject(j, "result", b->rc == ROMFS_OK ? "pass" : "fail");
    if (b->rc == ROMFS_OK)
        cJSON_AddNullToObject(j, "error");
    else
        cJSON_AddStringToObject(j, "error", b->err.msg);
    char *text = cJSON_PrintUnformatted(j);
    /* one line per board, flushed at once: the log survives the loop being killed */
    if (!text || fprintf(lc->log, "%s\n", text) < 0 || fflush(lc->log) != 0) {
        if (!lc->log_failed)
            cli_error("cannot append to %s; results go on stdout only", lc->log_path);
        lc->log_failed = true;
    }
    free(text);
    cJSON_Delete(j);
}

int flash_many_loop(const struct romfs_flash_job *job, const char *input, const uint8_t *image,
                    size_t len, const char *const *ports, size_t n_ports, const char *log_path,
                    bool quiet)
{
    struct loop_ctx lc = { .quiet = quiet, .log_path = log_path };
    uint8_t digest[ROMFS_SHA256_SIZE];
    romfs_sha256(image, len, digest);
    romfs_sha256_hex(digest, lc.sha256);
    if (log_path && !(lc.log = fopen(log_path, "ae"))) {
        cli_error("cannot open the log %s for appending", log_path);
        return EXIT_USAGE;
    }
    struct romfs_error err = { 0 };
    struct romfs_usb_id *ids = NULL;
    size_t n_ids = 0;
    int rc = n_ports ? ROMFS_OK : romfs_fleet_usb_ids(job->board, &ids, &n_ids, &err);
    if (rc != ROMFS_OK) {
        if (lc.log)
            fclose(lc.log);
        return cli_fail(&err);
    }
    struct sigaction sa = { 0 };
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (!quiet) {
        if (n_ports)
            fprintf(stderr, "romfs: %s: writing boards as they appear on %zu port%s; Ctrl-C stops\n",
                    input, n_ports, n_ports == 1 ? "" : "s");
        else
            fprintf(stderr, "romfs: %s: writing boards as they are plugged in (USB %04x:%04x%s); "
                    "Ctrl-C stops\n", input, ids[0].vid, ids[0].pid, n_ids > 1 ? " and others" : "");
    }
    struct romfs_loop_options o = {
        .ids = ids, .n_ids = n_ids, .ports = ports, .n_ports = n_ports,
        .stop = &stop_signal, .started = loop_started, .finished = loop_finished, .ctx = &lc,
    };
    const char *poll = getenv("ROMFS_LOOP_POLL_MS");   /* tests: look more often */
    if (poll)
        o.poll_ms = atoi(poll);
    struct romfs_loop_stats st;
    rc = romfs_flash_loop(job, image, len, &o, &st, &err);
    free(ids);
    if (lc.log)
        fclose(lc.log);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (rc != ROMFS_OK)
        return cli_fail(&err);
    if (!quiet)
        fprintf(stderr, "romfs: stopped by %s: %llu passed, %llu failed\n",
                stop_signal == SIGTERM ? "SIGTERM" : "SIGINT", (unsigned long long)st.passed,
                (unsigned long long)st.failed);
    return 128 + (int)stop_signal;
}
