/* flash/probe.h: starting and stopping the GDB server programs that drive a debug probe
 * (OpenOCD, pyOCD) for SWD writes, and OpenOCD's own one-shot `program` command.
 *
 * The server listens on a free 127.0.0.1 port; its output goes to a temporary log whose
 * error lines are quoted when it fails (no probe, unknown target, bad script). The
 * programs are found on PATH, or through $ROMFS_OPENOCD / $ROMFS_PYOCD. */
#ifndef ROMFS_PROBE_H
#define ROMFS_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "flash/flash.h"

enum romfs_probe_kind {
    ROMFS_PROBE_GDB,              /* gdb://HOST:PORT (or HOST:PORT): a running GDB server */
    ROMFS_PROBE_SERIAL,           /* serial:/dev/ttyACM0 or /dev/...: Black Magic Probe */
    ROMFS_PROBE_OPENOCD,          /* start openocd's GDB server */
    ROMFS_PROBE_PYOCD,            /* start pyocd's GDB server */
    ROMFS_PROBE_OPENOCD_PROGRAM,  /* run `openocd ... -c "program FILE ADDR verify reset exit"` */
};

/* Classify a --probe value. ROMFS_ERR_INVAL (message lists the forms) if it is none. */
int romfs_probe_parse(const char *spec, enum romfs_probe_kind *kind, struct romfs_error *err);

struct romfs_probe_config {
    const char *openocd_target;     /* boards.json openocd_target, e.g. "target/stm32h7x.cfg"
                                       (a "board/..." script brings its own interface) */
    const char *openocd_interface;  /* e.g. "interface/stlink.cfg"; NULL: $ROMFS_OPENOCD_INTERFACE,
                                       else stlink for stm32 targets, cmsis-dap otherwise */
    const char *pyocd_target;       /* boards.json pyocd_target, e.g. "stm32h743zitx" */
    int startup_timeout_ms;         /* how long the server may take to listen (0: 20000) */
};

struct romfs_probe;

/* Start openocd or pyocd (kind OPENOCD or PYOCD) as a GDB server for cfg's target on a free
 * 127.0.0.1 port, and wait until it listens. Fails with ROMFS_ERR_TOOL (program missing or
 * exited; the message quotes its errors and the command line), ROMFS_ERR_DEVICE (no debug
 * probe connected), ROMFS_ERR_TIMEOUT, or ROMFS_ERR_INVAL (board has no target for it). */
int romfs_probe_start(enum romfs_probe_kind kind, const struct romfs_probe_config *cfg,
                      struct romfs_probe **out, struct romfs_error *err);

/* "gdb://127.0.0.1:PORT" of a started server. */
const char *romfs_probe_gdb_address(const struct romfs_probe *p);

/* The command line that was run (for messages and --verbose). */
const char *romfs_probe_command_line(const struct romfs_probe *p);

/* Stop the server (SIGTERM, then SIGKILL after 3 s), remove its log, free p. NULL is fine. */
void romfs_probe_stop(struct romfs_probe *p);

/* Write image[0..len) at address with OpenOCD's `program FILE ADDR verify reset exit`
 * (reset omitted when reset is false: OpenOCD then leaves the target halted). Waits at most
 * timeout_ms (0: 300000). Failures quote OpenOCD's error lines (ROMFS_ERR_TOOL). */
int romfs_probe_openocd_program(const struct romfs_probe_config *cfg, const uint8_t *image,
                                size_t len, uint64_t address, bool reset, int timeout_ms,
                                struct romfs_error *err);

/* A flash target for `--probe openocd-program`: it collects what the writer programs in
 * memory (reads return that, 0xff at first, so every block of the image is written) and at
 * sync runs romfs_probe_openocd_program on the collected range; OpenOCD erases, programs
 * and verifies itself. cfg's strings must outlive the target. */
int romfs_probe_openocd_program_target(const struct romfs_probe_config *cfg, uint64_t address,
                                       uint64_t size, uint32_t erase_block, bool reset,
                                       struct romfs_target *t, struct romfs_error *err);

/* A free TCP port on 127.0.0.1 (bound and released; racy only against other programs). */
int romfs_probe_free_port(uint16_t *port, struct romfs_error *err);

#endif
