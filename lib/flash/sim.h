/* flash/sim.h: the simulated MicroPython device (`romfs sim`).
 *
 * The device is a python3 program embedded from templates/sim/ (*.py): it runs a REPL
 * (friendly, raw, raw-paste, byte-exact with MicroPython's pyexec.c) on a pseudo-
 * terminal, really executes the Python it receives with MicroPython-like modules
 * (vfs.rom_ioctl, os, io, binascii, deflate, hashlib, sys, machine, micropython, gc,
 * time), keeps its ROMFS partitions in a NOR flash model (erase to 0xff, writes AND
 * into flash), optionally persisted in a file, with link throttling and fault
 * injection. Its arguments are those of `romfs sim` (see cli/cmd_sim.c --help); this
 * module only finds the board, writes the program out and builds the command line.
 *
 * Environment: ROMFS_PYTHON names the interpreter (default "python3"); ROMFS_BOARDS a
 * boards.json to use instead of the embedded one (see boards/db.h). */
#ifndef ROMFS_SIM_H
#define ROMFS_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/error.h"

/* A command line ready for execvp(): argv[0] is the interpreter. */
struct romfs_sim_command {
    char **argv;          /* NULL-terminated; heap-allocated, with every string */
    size_t argc;
    char *program_dir;    /* private directory holding the program (mode 0700); the
                             program removes it itself once loaded */
};

/* Build the command that runs the simulator with `romfs sim` arguments args[0..n-1]
 * (args does not include "sim"). "--board NAME" is resolved here through the board
 * database into the device's port, MCU and ROMFS partitions (size, erase and write
 * block); explicit --partition-size/--erase-block/--write-block still override them.
 * Every other argument is passed through and checked by the device program (which
 * exits 2 with a message on bad usage). Writes the program into a fresh private
 * temporary directory. Returns ROMFS_ERR_NOENT for an unknown board, ROMFS_ERR_IO
 * when the program cannot be written. Release with romfs_sim_command_free(). */
int romfs_sim_command_build(int n, char *const *args, struct romfs_sim_command *out,
                            struct romfs_error *err);

/* Free what romfs_sim_command_build allocated (does not remove program_dir: the
 * running program does that; call romfs_sim_command_discard when it never ran). */
void romfs_sim_command_free(struct romfs_sim_command *cmd);

/* Remove cmd's program directory (for a command that was built but not run). */
void romfs_sim_command_discard(struct romfs_sim_command *cmd);

/* A simulator running as a child process. */
struct romfs_sim_process {
    pid_t pid;            /* the python3 process */
    char pty[256];        /* path of the pty to open, e.g. "/dev/pts/7" */
};

/* Start a simulator in the background with `romfs sim` arguments args[0..n-1] and
 * wait (up to timeout_ms) until it has printed its pty path and booted (prompt
 * written). The child's stdout is consumed; its stderr is inherited. Returns
 * ROMFS_ERR_TOOL if python3 cannot run, ROMFS_ERR_TIMEOUT if it does not come up. */
int romfs_sim_spawn(int n, char *const *args, int timeout_ms, struct romfs_sim_process *out,
                    struct romfs_error *err);

/* Stop a spawned simulator (SIGTERM, then wait for it). Returns its exit status as
 * waitpid reports it, or -1. */
int romfs_sim_stop(struct romfs_sim_process *proc);

#endif
