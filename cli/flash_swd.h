/* flash_swd.h: the `--via swd` part of `romfs flash` (options, help, and the transport
 * glue around lib/flash/swd.h and lib/flash/probe.h); cmd_flash.c calls these. */
#ifndef ROMFS_CLI_FLASH_SWD_H
#define ROMFS_CLI_FLASH_SWD_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "boards/db.h"
#include "flash/flash.h"

struct flash_swd_args {
    const char *probe;              /* --probe */
    uint64_t address, size;         /* --address / --size (0: from the board) */
    uint32_t erase_block;           /* --erase-block (0: board / memory map) */
    bool reset;                     /* --reset (shared with --via dfu, parsed by cmd_flash.c) */
    const char *reset_command;      /* --reset-command */
    const char *mode;               /* --swd-mode auto|flash|ram */
    const char *openocd_target, *openocd_interface, *pyocd_target;
};

/* getopt_long entries for the swd options (values FLASH_SWD_OPT_FIRST...); --reset is
 * cmd_flash.c's own (also used by --via dfu). */
enum { FLASH_SWD_OPT_FIRST = 0x5d00 };
#define FLASH_SWD_LONG_OPTIONS                                                               \
    { "probe", required_argument, NULL, FLASH_SWD_OPT_FIRST + 0 },                           \
    { "address", required_argument, NULL, FLASH_SWD_OPT_FIRST + 1 },                         \
    { "size", required_argument, NULL, FLASH_SWD_OPT_FIRST + 2 },                            \
    { "erase-block", required_argument, NULL, FLASH_SWD_OPT_FIRST + 3 },                     \
    { "reset-command", required_argument, NULL, FLASH_SWD_OPT_FIRST + 5 },                   \
    { "swd-mode", required_argument, NULL, FLASH_SWD_OPT_FIRST + 6 },                        \
    { "openocd-target", required_argument, NULL, FLASH_SWD_OPT_FIRST + 7 },                  \
    { "openocd-interface", required_argument, NULL, FLASH_SWD_OPT_FIRST + 8 },               \
    { "pyocd-target", required_argument, NULL, FLASH_SWD_OPT_FIRST + 9 }

/* Handle getopt result opt: 1 when it was an swd option, 0 when not, -1 after printing a
 * usage error (bad number). */
int flash_swd_option(struct flash_swd_args *s, int opt, const char *arg);

/* Whether --address/--size give the partition (so no --board is needed). */
bool flash_swd_has_partition(const struct flash_swd_args *s);

/* The swd lines of `romfs flash --help`. */
void flash_swd_usage(FILE *out);

/* Open the target (connect / start the server, check the memory map). */
int flash_swd_open(const struct flash_swd_args *s, const struct romfs_board *board,
                   const struct romfs_partition *part, int timeout_ms, void **state,
                   struct romfs_target *t, struct romfs_error *err);
/* Leave the target running, or reset it with --reset; a line for the report. */
int flash_swd_finish(void *state, const uint8_t *image, size_t len, char *confirm, size_t cap,
                     struct romfs_error *err);
/* One line about the session for the report; with json, also its fields. */
struct cJSON;
void flash_swd_stats(void *state, struct cJSON *json, char *line, size_t cap);
void flash_swd_close(void *state);

#endif
