/* flash_main.h: `romfs flash` and mpremote's word for it, `romfs deploy`. */
#ifndef ROMFS_CLI_FLASH_MAIN_H
#define ROMFS_CLI_FLASH_MAIN_H

#include <stdbool.h>

/* Parse flash's options and run it (cli/cmd_flash.c). deploy: messages say `deploy`, and
 * without --board or --port the one MicroPython board on USB is used, as mpremote does.
 * Returns the exit code. */
int cli_flash_main(int argc, char **argv, bool deploy);

#endif
