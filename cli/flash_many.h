/* flash_many.h: `romfs flash` on several boards (--port P1 --port P2, --all) and the
 * production loop (--loop): printing what lib/flash/fleet.h returns. */
#ifndef ROMFS_CLI_FLASH_MANY_H
#define ROMFS_CLI_FLASH_MANY_H

#include "cli.h"

enum flash_many_format { FLASH_MANY_TEXT, FLASH_MANY_JSON, FLASH_MANY_JUNIT };

/* Write image to boards[0..n) in parallel; live progress on a terminal, then a table
 * (or a JSON array, or JUnit XML) on stdout. Returns the exit code. */
int flash_many_run(const struct romfs_flash_job *job, const char *input, const uint8_t *image,
                   size_t len, struct romfs_fleet_board *boards, size_t n,
                   enum flash_many_format format, bool quiet);

/* The production loop until SIGINT/SIGTERM: PASS/FAIL lines on stdout, JSON lines
 * appended to log_path (may be NULL). ports[0..n_ports) fixed, or n_ports 0: boards
 * appear by USB VID:PID (the job's board's, or MicroPython's). Returns 130 or 143 when
 * stopped by a signal, another exit code on errors. */
int flash_many_loop(const struct romfs_flash_job *job, const char *input, const uint8_t *image,
                    size_t len, const char *const *ports, size_t n_ports, const char *log_path,
                    bool quiet);

#endif
