/* romfs.h: the public interface of libromfs, the MicroPython ROMFS toolchain library.
 * Link with `pkg-config --libs romfs`. Each module header states its own contracts.
 * The folders are layers; a folder uses only the ones listed below it (ARCHITECTURE.md). */
#ifndef ROMFS_H
#define ROMFS_H

/* flash: the target interface, the one writer, and the REPL / DFU / SWD / simulated targets */
#include "flash/flash.h"
#include "flash/job.h"
#include "flash/fleet.h"
#include "flash/repl.h"
#include "flash/dfu_target.h"
#include "flash/swd.h"
#include "flash/probe.h"
#include "flash/sim.h"
#include "flash/watch.h"
/* plan: image-against-board checks, layout planning, reports, the CI pipeline */
#include "plan/check.h"
#include "plan/layout.h"
#include "plan/report.h"
#include "plan/ci.h"
/* out: UF2, Intel HEX and DfuSe files */
#include "out/outfile.h"
#include "out/product.h"
#include "out/segments.h"
/* boards: the board database, its importer, lint, esp32 partition tables */
#include "boards/db.h"
#include "boards/arch.h"
#include "boards/import.h"
#include "boards/lint.h"
#include "boards/esp32.h"
/* image: packing a tree, image files, comparison, diff, signatures */
#include "image/pack.h"
#include "image/image.h"
#include "image/diff.h"
#include "image/sign.h"
#include "image/stable.h"
/* transport: serial ports, raw REPL, USB DFU, GDB remote */
#include "transport/serial.h"
#include "transport/rawrepl.h"
#include "transport/dfu.h"
#include "transport/gdbremote.h"
/* ld: GNU ld scripts and firmware ELF files */
#include "ld/ldscript.h"
#include "ld/elf.h"
/* format: the ROMFS record format, reader, writer, verifier (no I/O) */
#include "format/format.h"
/* base: errors, files, digests, embedded templates */
#include "base/error.h"
#include "base/file.h"
#include "base/digest.h"
#include "base/template.h"
#include "base/suggest.h"
#include "base/cancel.h"
#include "base/dirwatch.h"
#include "base/text.h"

#endif
