/* main.c: `romfs COMMAND ...` dispatches to cli/cmd_COMMAND.c. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

const struct cli_command *const cli_commands[] = { CLI_COMMAND_LIST NULL };
#define commands cli_commands

static void print_help(FILE *out)
{
    fprintf(out,
            "usage: romfs COMMAND [ARGS...]\n"
            "\n"
            "Build, inspect, check and write MicroPython ROMFS (VfsRom) images.\n"
            "\n"
            "Commands:\n");
    for (size_t i = 0; commands[i]; i++)
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out,
            "\n"
            "'romfs COMMAND --help' explains one command.\n");
    fputs(cli_exit_status_help, out);
}

/* Output that never reached standard output is a failure whatever the command did:
 * `romfs ls -R img > /dev/full` must not exit 0. A command that already failed keeps
 * its own status (and its own message, if it printed one). */
static int check_stdout(int status)
{
    errno = 0;
    bool bad = fflush(stdout) != 0;
    int e = errno;
    if (ferror(stdout))
        bad = true;
    if (fclose(stdout) != 0 && !bad) {
        bad = true;
        e = errno;
    }
    if (!bad)
        return status;
    if (!cli_error_printed) {
        if (e)
            cli_error("cannot write standard output: %s", strerror(e));
        else
            cli_error("cannot write standard output");
    }
    return status == EXIT_OK ? EXIT_FAIL : status;
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        if (argc > 2 && strcmp(name, "help") == 0) {
            char *help_argv[] = { argv[2], "--help", NULL };
            for (size_t i = 0; commands[i]; i++)
                if (strcmp(commands[i]->name, argv[2]) == 0)
                    return commands[i]->run(2, help_argv);
        }
        print_help(stdout);
        return EXIT_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("romfs %s\n", ROMFS_VERSION);
        return EXIT_OK;
    }
    for (size_t i = 0; commands[i]; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i]->run(argc - 1, argv + 1);
    struct romfs_suggest s;
    romfs_suggest_init(&s, name);
    for (size_t i = 0; commands[i]; i++)
        romfs_suggest_consider(&s, commands[i]->name);
    if (s.best)
        cli_error("'%s' is not a romfs command (did you mean '%s'?); see 'romfs --help'", name, s.best);
    else
        cli_error("'%s' is not a romfs command; see 'romfs --help'", name);
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    return check_stdout(dispatch(argc, argv));
}
