/* board_import_ports2.c: samd, nrf, renesas-ra, alif, esp8266 and qemu importers. */
#include "romfs_board_import_priv.h"

int imp_port_samd(struct importer *imp) { (void)imp; return ROMFS_OK; }
int imp_port_nrf(struct importer *imp) { (void)imp; return ROMFS_OK; }
int imp_port_renesas_ra(struct importer *imp) { (void)imp; return ROMFS_OK; }
int imp_port_alif(struct importer *imp) { (void)imp; return ROMFS_OK; }
int imp_port_esp8266(struct importer *imp) { (void)imp; return ROMFS_OK; }
int imp_port_qemu(struct importer *imp) { (void)imp; return ROMFS_OK; }
