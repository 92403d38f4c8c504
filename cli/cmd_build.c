/* cmd_build.c: `romfs build DIR`, mpremote's word for `romfs pack` with mpremote's
 * defaults (no alignment, nothing excluded, .py compiled when mpy-cross is found). */
#include "cli.h"
#include "pack_args.h"

CLI_COMMAND(build, "mpremote's `romfs build`: pack DIR byte-identical to mpremote");

int cmd_build(int argc, char **argv)
{
    return cli_pack_main(argc, argv, true);
}
