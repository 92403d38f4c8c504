/* boards/import_stm32_internal.h: the stm32 importer's two files (import_stm32.c links a
 * board's scripts and finds its ROMFS partitions; import_stm32_map.c draws its flash map). */
#ifndef ROMFS_BOARDS_IMPORT_STM32_H
#define ROMFS_BOARDS_IMPORT_STM32_H

#include "boards/import_internal.h"

/* The flash map of board (directory name) b after its scripts were linked into c->res:
   devices, bootloaders, firmware, filesystem, then imp_map_finish. */
int stm32_map(struct importer *imp, struct romfs_board *b, struct board_ctx *c, const char *board);

#endif
