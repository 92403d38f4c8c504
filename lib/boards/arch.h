/* boards/arch.h: the native-code architecture of a board's CPU, as mpy-cross names it. */
#ifndef ROMFS_BOARDS_ARCH_H
#define ROMFS_BOARDS_ARCH_H

#include "boards/db.h"

/* The mpy-cross -march= value for .mpy files this board's MicroPython imports with
 * native code (armv6m, armv7m, armv7emsp, armv7emdp, armv6, xtensa, xtensawin, rv32imc,
 * rv64imc), derived from its port and MCU as the port's build sets the CPU and FPU: the
 * most capable architecture that every firmware MicroPython builds for that MCU
 * accepts. NULL when the port/MCU pair is not known: the caller must ask the user. */
const char *romfs_board_mpy_arch(const struct romfs_board *board);

/* The architecture in a device's sys.implementation._mpy (version | feature byte << 8),
 * as a name above; NULL when the device has no native code support (arch "none") or the
 * number is unknown. */
const char *romfs_mpy_arch_of_device(long long device_mpy);

/* Whether a device whose own architecture is `device` (a name as above) imports native
 * code built for `code`: the same architecture, or on Thumb devices anything from
 * armv6m up to its own (MicroPython's MPY_FEATURE_ARCH_TEST). */
bool romfs_mpy_arch_compatible(const char *code, const char *device);

#endif
