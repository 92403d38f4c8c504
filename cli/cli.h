/* cli.h: what every subcommand file shares. cli/ parses and prints; lib/ decides. */
#ifndef ROMFS_CLI_H
#define ROMFS_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "romfs.h"

/* Exit codes of the romfs command. */
enum {
    EXIT_OK = 0,     /* everything passed */
    EXIT_FAIL = 1,   /* a check, verification or device operation failed */
    EXIT_USAGE = 2,  /* bad usage or unusable input */
};

struct cli_command {
    const char *name;      /* the subcommand word */
    const char *summary;   /* one line for `romfs --help` */
    int (*run)(int argc, char **argv);  /* argv[0] is the subcommand name */
};

/* Define the subcommand NAME, implemented by `int cmd_NAME(int, char **)`. */
#define CLI_COMMAND(name_, summary_) \
    int cmd_##name_(int argc, char **argv); \
    const struct cli_command cli_command_##name_ = { #name_, summary_, cmd_##name_ }

/* Print "romfs: " + message to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Set by cli_error: the command has told the user why it failed. */
extern bool cli_error_printed;
/* Print "romfs: warning: " + message to stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print err's message, then the tool's advice for err->need ("romfs: hint: ..."). */
void cli_print_error(const struct romfs_error *err);
/* cli_print_error, and return the exit code that fits err->code. */
int cli_fail(const struct romfs_error *err);
/* SIGINT and SIGTERM ask libromfs to give up (romfs_cancel) instead of ending the
 * process, so a device operation can leave the board at its REPL; the command then exits
 * 130 or 143. A second signal ends the process at once. For commands that talk to a
 * device. */
void cli_catch_interrupts(void);

/* Exit code for a libromfs error code: usage/input errors are 2, others 1. */
int cli_exit_code(int romfs_code);
/* Print "romfs CMD: usage..." hint to stderr and return EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Every subcommand, NULL-terminated (main.c). */
extern const struct cli_command *const cli_commands[];

/* ---- options (options.c): one grammar for every command ---- */

/* When set, cli_next_option() hands the command's option table to this function and
 * ends the command (exit 0) instead of parsing: how `romfs completion` learns every
 * command's options from the commands themselves. */
extern void (*cli_option_lister)(const struct option *longopts, void *ctx);
extern void *cli_option_lister_ctx;

/* The exit-status table every --help ends with. */
extern const char cli_exit_status_help[];

enum { CLI_OPTIONS_END = -1, CLI_OPTIONS_EXIT = -2 };

struct cli_options {
    const char *command;             /* for messages: "pack", "boards list" */
    const char *shortopts;           /* getopt short options, e.g. "o:qh" */
    const struct option *longopts;   /* with { "help", no_argument, NULL, 'h' } */
    void (*help)(FILE *out);         /* prints the command's help (the exit table follows), */
    const char *help_text;           /* or this text is the help */
    int argc;
    char **argv;                     /* argv[0] is the command word */
    int exit_code;                   /* after CLI_OPTIONS_EXIT: what the command returns */
    bool started;
    char optstring[64];
};

/* The next option (getopt_long's value; its argument in optarg), CLI_OPTIONS_END when the
 * options are over (optind is the first operand), or CLI_OPTIONS_EXIT when the command must
 * return o->exit_code: after --help (0), or after one message for an unknown option (naming
 * the closest one), a missing value or a value given to a flag (2). */
int cli_next_option(struct cli_options *o);

/* Parse text, the value of --option, as a number in [min, max]: decimal or 0x hex, and with
 * size_suffixes K/M/G (1024-based) and fractions such as 1.5M. On failure prints a usage
 * error for command and returns false. */
bool cli_option_number(const char *command, const char *option, const char *text, uint64_t min,
                       uint64_t max, bool size_suffixes, uint64_t *out);

/* Parse a size such as 4096, 0x1000, 64K, 1M, 1.5M (K/M/G are 1024-based; KB and KiB
 * are accepted). Returns false on junk or overflow. */
bool cli_parse_size(const char *text, uint64_t *out);



/* Whether stdout/stderr is a terminal (progress bars only then). */
bool cli_stderr_is_tty(void);

/* Format n bytes as "12345 (12.1 KiB)" (or "12 B") into buf. */
const char *cli_human_size(uint64_t n, char *buf, size_t bufsize);
/* Format n bytes compactly, "12.1 KiB" (or "12 B"), into buf. */
const char *cli_short_size(uint64_t n, char *buf, size_t bufsize);

#endif
