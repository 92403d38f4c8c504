/* cmd_deploy.c: `romfs deploy IMAGE|DIR`, mpremote's word for `romfs flash`. */
#include "cli.h"
#include "flash_main.h"

CLI_COMMAND(deploy, "mpremote's `romfs deploy`: flash an image or directory to the board");

int cmd_deploy(int argc, char **argv)
{
    return cli_flash_main(argc, argv, true);
}
