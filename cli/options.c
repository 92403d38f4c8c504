/* options.c: one command-line grammar for every subcommand: getopt_long with
 * --opt=value and --opt value, one message for an unknown option (with the closest
 * option named), for a missing value and for a value given to a flag, --help, and strict
 * numbers with range checks. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char cli_exit_status_help[] =
    "Exit status: 0 success; 1 a check, verification or device operation failed;\n"
    "2 bad usage or input; 130 interrupted (SIGINT); 143 terminated (SIGTERM).\n";

static const char *closest_option(const struct option *longopts, const char *typed)
{
    char word[64];
    const char *name = typed;
    while (*name == '-')
        name++;
    snprintf(word, sizeof word, "%.*s", (int)strcspn(name, "="), name);
    struct romfs_suggest s;
    romfs_suggest_init(&s, word);
    for (const struct option *o = longopts; o && o->name; o++)
        romfs_suggest_consider(&s, o->name);
    return s.best;
}

static const struct option *long_option_for(const struct option *longopts, int val)
{
    for (const struct option *o = longopts; o && o->name; o++)
        if (!o->flag && o->val == val)
            return o;
    return NULL;
}

void (*cli_option_lister)(const struct option *longopts, void *ctx);
void *cli_option_lister_ctx;

int cli_next_option(struct cli_options *o)
{
    if (cli_option_lister) {
        cli_option_lister(o->longopts, cli_option_lister_ctx);
        o->exit_code = EXIT_OK;
        return CLI_OPTIONS_EXIT;
    }
    if (!o->started) {
        optind = 1;
        opterr = 0;
        o->started = true;
        snprintf(o->optstring, sizeof o->optstring, ":%s", o->shortopts ? o->shortopts : "");
    }
    int c = getopt_long(o->argc, o->argv, o->optstring, o->longopts, NULL);
    if (c == -1)
        return CLI_OPTIONS_END;
    if (c == 'h') {
        if (o->help)
            o->help(stdout);
        else if (o->help_text)
            fputs(o->help_text, stdout);
        fputs(cli_exit_status_help, stdout);
        o->exit_code = EXIT_OK;
        return CLI_OPTIONS_EXIT;
    }
    if (c != '?' && c != ':')
        return c;
    const char *typed = optind > 0 && optind <= o->argc ? o->argv[optind - 1] : "?";
    const struct option *known = optopt ? long_option_for(o->longopts, optopt) : NULL;
    char shown[80];
    if (known)
        snprintf(shown, sizeof shown, "--%s", known->name);
    else if (optopt)
        snprintf(shown, sizeof shown, "-%c", optopt);
    if (c == ':') {
        o->exit_code = cli_usage_error(o->command, "option '%s' needs a value", optopt ? shown : typed);
    } else if (optopt && strncmp(typed, "--", 2) == 0 && strchr(typed, '=')) {
        o->exit_code = cli_usage_error(o->command, "option '%s' takes no value", shown);
    } else if (optopt && strncmp(typed, "--", 2) != 0) {
        o->exit_code = cli_usage_error(o->command, "unknown option '-%c'", optopt);
    } else {
        const char *close = strncmp(typed, "--", 2) == 0 ? closest_option(o->longopts, typed) : NULL;
        if (close)
            o->exit_code = cli_usage_error(o->command, "unknown option '%.*s' (did you mean '--%s'?)",
                                           (int)strcspn(typed, "="), typed, close);
        else
            o->exit_code = cli_usage_error(o->command, "unknown option '%.*s'",
                                           (int)strcspn(typed, "="), typed);
    }
    return CLI_OPTIONS_EXIT;
}

bool cli_option_number(const char *command, const char *option, const char *text, uint64_t min,
                       uint64_t max, bool size_suffixes, uint64_t *out)
{
    uint64_t v = 0;
    bool ok;
    if (size_suffixes) {
        ok = cli_parse_size(text, &v);
    } else {
        char *end;
        errno = 0;
        bool hex = text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
        ok = (hex ? text[2] != 0 : text[0] >= '0' && text[0] <= '9');
        if (ok) {
            v = strtoull(hex ? text + 2 : text, &end, hex ? 16 : 10);
            ok = errno == 0 && *end == 0 && (hex ? end != text + 2 : true);
            if (ok && hex && !(text[2] >= '0' && text[2] <= '9') && !((text[2] | 32) >= 'a' && (text[2] | 32) <= 'f'))
                ok = false;
        }
    }
    if (ok && v >= min && v <= max) {
        *out = v;
        return true;
    }
    if (!ok)
        cli_usage_error(command, "--%s wants a number%s, not '%s'", option,
                        size_suffixes ? " such as 4096, 0x1000, 64K or 1M" : "", text);
    else
        cli_usage_error(command, "--%s must be from %llu to %llu, not %s", option,
                        (unsigned long long)min, (unsigned long long)max, text);
    return false;
}
