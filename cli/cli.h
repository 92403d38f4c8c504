/* cli.h: what every subcommand file shares. cli/ parses and prints; lib/ decides. */
#ifndef ROMFS_CLI_H
#define ROMFS_CLI_H

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
/* Print err's message and return the exit code that fits err->code. */
int cli_fail(const struct romfs_error *err);
/* Exit code for a libromfs error code: usage/input errors are 2, others 1. */
int cli_exit_code(int romfs_code);
/* Print "romfs CMD: usage..." hint to stderr and return EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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
