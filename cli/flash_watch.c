/* flash_watch.c: the edit-save-run loop's output. The loop is lib/flash/watch.c's; this
 * file prints a line per round and passes the module's output on, escaped: what a board
 * prints is untrusted, only printable text and line breaks reach the terminal as they
 * are. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "flash_watch.h"
#include "base/text.h"
#include "flash/watch.h"

struct printer {
    const char *input, *module;
    bool quiet;
    bool reported;                          /* the last failure was printed already */
    bool out_ended, err_ended;              /* the module's output ends a line so far */
    struct romfs_escape_stream out, err;   /* the module's output and traceback */
};

/* Returns whether what was written ends a line (or nothing was written: unchanged). */
static bool put(struct romfs_escape_stream *s, FILE *f, const char *data, size_t len, bool final,
                bool line_ended)
{
    size_t n;
    char *text = romfs_escape_stream(s, data, len, final, &n);
    if (text && n) {
        fwrite(text, 1, n, f);
        line_ended = text[n - 1] == '\n';
    }
    free(text);
    fflush(f);
    return line_ended;
}

static void on_output(void *ctx, int stream, const char *data, size_t len)
{
    struct printer *p = ctx;
    if (stream == 1)
        p->out_ended = put(&p->out, stdout, data, len, false, p->out_ended);
    else
        p->err_ended = put(&p->err, stderr, data, len, false, p->err_ended);
}

/* What the module left unfinished (a CR, half a character, a line cut by Ctrl-C) is
 * finished before a line of ours, or the next round's output. */
static void flush_output(struct printer *p)
{
    if (!put(&p->out, stdout, NULL, 0, true, p->out_ended))
        fputc('\n', stdout);
    if (!put(&p->err, stderr, NULL, 0, true, p->err_ended))
        fputc('\n', stderr);
    p->out_ended = p->err_ended = true;
    fflush(stdout);
}

static void on_round(void *ctx, const struct romfs_watch_round *r)
{
    struct printer *p = ctx;
    flush_output(p);
    char what[PATH_MAX + 64], size[64], wire[64];
    if (r->number == 1) {
        snprintf(what, sizeof what, "%s", p->input);
    } else {
        char name[PATH_MAX];
        romfs_escape_to(name, sizeof name, r->changed, strlen(r->changed), ROMFS_ESCAPE_NAME);
        if (r->n_changed > 1)
            snprintf(what, sizeof what, "%s and %u more changed", name[0] ? name : p->input,
                     r->n_changed - 1);
        else
            snprintf(what, sizeof what, "%s changed", name[0] ? name : p->input);
    }
    p->reported = r->rc != ROMFS_OK;
    if (r->rc != ROMFS_OK) {
        cli_print_error(r->err);
        fprintf(stderr, "romfs: [%u] %s: the %s failed%s\n", r->number, what, r->failed_in,
                r->still_running ? "; the module of the round before runs on" : "");
        return;
    }
    if (p->quiet)
        return;
    char compiled[96] = "";
    if (r->compiled)
        snprintf(compiled, sizeof compiled, "; %llu .py compiled (%llu from the mpy-cross cache)",
                 (unsigned long long)r->compiled, (unsigned long long)r->mpy_cached);
    if (r->unchanged) {
        fprintf(stderr, "romfs: [%u] %s: the image is unchanged, nothing written%s\n", r->number,
                what, compiled);
        return;
    }
    const struct romfs_flash_report *w = &r->job->write;
    fprintf(stderr, "romfs: [%u] %s: %s image, %llu of %llu erase blocks written (%s sent)%s; "
            "%s%s%s (%.2f s)\n", r->number, what, cli_short_size(r->image_size, size, sizeof size),
            (unsigned long long)w->blocks_written, (unsigned long long)w->blocks_in_image,
            cli_short_size(r->job->repl.session_bytes_out, wire, sizeof wire), compiled,
            r->job->confirmation == ROMFS_CONFIRM_ROM_LISTED ? "reset" : "no reset",
            r->running ? ", running " : "", r->running ? p->module : "", r->seconds);
}

static void on_run_end(void *ctx, const char *module, int rc, const struct romfs_error *err)
{
    struct printer *p = ctx;
    flush_output(p);
    if (rc == ROMFS_OK || rc == ROMFS_ERR_DEVICE) {
        if (!p->quiet)
            fprintf(stderr, "romfs: %s ended%s\n", module,
                    rc == ROMFS_OK ? "" : " with an exception (its traceback is above)");
    } else {
        cli_print_error(err);
        fprintf(stderr, "romfs: lost the board while %s ran\n", module);
        p->reported = true;
    }
}

int flash_watch_main(const struct romfs_flash_job *job, const char *input,
                     const struct romfs_pack_options *popt, const char *run_module, bool watch,
                     bool quiet)
{
    struct printer p = { .input = input, .module = run_module, .quiet = quiet,
                         .out_ended = true, .err_ended = true };
    p.out.mode = p.err.mode = ROMFS_ESCAPE_MESSAGE;
    struct romfs_watch_options o = {
        .dir = input, .pack = popt, .run_module = run_module, .watch = watch,
        .on_round = on_round, .on_output = on_output, .on_run_end = on_run_end, .ctx = &p,
    };
    if (watch && !quiet)
        fprintf(stderr, "romfs: watching %s for changes (Ctrl-C stops)\n", input);
    struct romfs_error err = { 0 };
    cli_catch_interrupts();
    int rc = romfs_flash_watch(job, &o, &err);
    flush_output(&p);
    if (rc == ROMFS_ERR_CANCELED) {
        if (!quiet)
            fprintf(stderr, "romfs: stopped%s; the board is at its REPL\n",
                    run_module ? " (the module was interrupted)" : "");
        return cli_exit_code(rc);
    }
    if (rc == ROMFS_OK)
        return EXIT_OK;
    if (!watch && (p.reported || (rc == ROMFS_ERR_DEVICE && run_module)))
        return cli_exit_code(rc);   /* said already (a module's traceback: shown) */
    return cli_fail(&err);
}
