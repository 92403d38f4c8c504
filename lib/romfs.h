/* romfs.h: the public interface of libromfs, the MicroPython ROMFS toolchain library.
 * Link with `pkg-config --libs romfs`. Each module header states its own contracts. */
#ifndef ROMFS_H
#define ROMFS_H

#include "romfs_error.h"
#include "romfs_file.h"
#include "romfs_format.h"
#include "romfs_digest.h"
#include "romfs_pack.h"
#include "romfs_image.h"
#include "romfs_template.h"
#include "romfs_sim.h"
#include "romfs_sign.h"
#include "romfs_diff.h"
#include "romfs_ci.h"
#include "romfs_ldscript.h"
#include "romfs_elf.h"
#include "romfs_board.h"
#include "romfs_board_esp32.h"
#include "romfs_gdbremote.h"
#include "romfs_probe.h"
#include "romfs_swd.h"
#include "romfs_report.h"
#include "romfs_check.h"
#include "romfs_layout.h"
#include "romfs_flash.h"
#include "romfs_serial.h"
#include "romfs_rawrepl.h"
#include "romfs_repl.h"
#include "romfs_flashjob.h"
#include "romfs_dfu.h"
#include "romfs_outfile.h"

#endif
