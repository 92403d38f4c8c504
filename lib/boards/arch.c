/* boards/arch.c: port + MCU -> mpy-cross -march, from how each MicroPython port builds.
 *
 * Facts used (MicroPython ports at the boards.json commit): a Thumb-2 firmware reports
 * armv7emdp with a double-precision FPU, armv7emsp with a single-precision one, else
 * armv7em; Thumb-1 (Cortex-M0/M0+) armv6m; and it imports native code of any
 * architecture from armv6m up to its own. stm32 builds STM32F765/F767/F769, H743/H747/
 * H750/H753, H7A3/H7B3 and N657 with fpv5-d16, F0/G0/L0/L1/WL soft-float, the rest with
 * fpv4-sp-d16; samd51, nrf52/nrf91 and renesas-ra with a single-precision FPU; mimxrt
 * at least fpv5-sp-d16 on every board; alif passes armv7emdp itself; rp2 uses armv6m
 * (rp2040) and armv7m (rp2350, the port's own choice); esp32 xtensawin on the Xtensa
 * chips and rv32imc on the RISC-V ones; esp8266 xtensa; qemu each board's
 * MPY_CROSS_FLAGS (POWERNV9 passes none: no native code); cc3200 armv7em (Cortex-M4,
 * soft-float); psoc-edge armv7emsp. */
#include <string.h>
#include <strings.h>

#include "boards/arch.h"

struct arch_rule {
    const char *port;
    const char *mcu_prefix;   /* case-insensitive prefix of the board's mcu; "" any */
    const char *arch;
};

static const struct arch_rule rules[] = {
    { "stm32", "STM32F0", "armv6m" },   { "stm32", "STM32G0", "armv6m" },
    { "stm32", "STM32L0", "armv6m" },   { "stm32", "STM32C0", "armv6m" },
    { "stm32", "STM32L1", "armv7m" },   { "stm32", "STM32WL", "armv7m" },
    { "stm32", "STM32F765", "armv7emdp" }, { "stm32", "STM32F767", "armv7emdp" },
    { "stm32", "STM32F769", "armv7emdp" }, { "stm32", "STM32H743", "armv7emdp" },
    { "stm32", "STM32H747", "armv7emdp" }, { "stm32", "STM32H750", "armv7emdp" },
    { "stm32", "STM32H753", "armv7emdp" }, { "stm32", "STM32H7A3", "armv7emdp" },
    { "stm32", "STM32H7B3", "armv7emdp" }, { "stm32", "STM32N657", "armv7emdp" },
    { "stm32", "STM32", "armv7emsp" },
    { "samd", "SAMD21", "armv6m" },     { "samd", "SAMD51", "armv7emsp" },
    { "nrf", "NRF51", "armv6m" },       { "nrf", "NRF52", "armv7emsp" },
    { "nrf", "NRF91", "armv7emsp" },
    { "renesas-ra", "RA", "armv7emsp" },
    { "mimxrt", "MIMXRT", "armv7emsp" },
    { "alif", "", "armv7emdp" },
    { "rp2", "RP2040", "armv6m" },      { "rp2", "RP2350", "armv7m" },
    { "esp8266", "ESP8266", "xtensa" },
    { "esp32", "ESP32C", "rv32imc" },   { "esp32", "ESP32H", "rv32imc" },
    { "esp32", "ESP32P", "rv32imc" },   { "esp32", "ESP32", "xtensawin" },
    /* qemu: MPY_CROSS_FLAGS of each board */
    { "qemu", "mps2-an385", "armv7m" }, { "qemu", "mps2-an500", "armv7emdp" },
    { "qemu", "mps3-an547", "armv7emdp" }, { "qemu", "sabrelite", "armv6" },
    { "qemu", "netduino2", "armv7m" },  { "qemu", "microbit", "armv7m" },
    /* cc3200: Cortex-M4 built soft-float; psoc-edge: MPY_CROSS_FLAGS -march=armv7emsp */
    { "cc3200", "CC3200", "armv7em" },  { "psoc-edge", "", "armv7emsp" },
};

const char *romfs_board_mpy_arch(const struct romfs_board *board)
{
    if (!board || !board->port)
        return NULL;
    const char *mcu = board->mcu ? board->mcu : "";
    if (strcmp(board->port, "qemu") == 0 && strcasecmp(mcu, "virt") == 0 && board->name)
        return strstr(board->name, "RV64") ? "rv64imc" : strstr(board->name, "RV32") ? "rv32imc" : NULL;
    for (size_t i = 0; i < sizeof rules / sizeof *rules; i++) {
        size_t n = strlen(rules[i].mcu_prefix);
        if (strcmp(board->port, rules[i].port) == 0 && strncasecmp(mcu, rules[i].mcu_prefix, n) == 0)
            return rules[i].arch;
    }
    return NULL;
}

/* Position in MicroPython's native-architecture numbering, or -1. */
static int arch_number(const char *name)
{
    static const char *const names[] = {
        "none", "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp",
        "xtensa", "xtensawin", "rv32imc", "rv64imc",
    };
    for (size_t i = 0; name && i < sizeof names / sizeof *names; i++)
        if (strcmp(name, names[i]) == 0)
            return (int)i;
    return -1;
}

const char *romfs_mpy_arch_of_device(long long device_mpy)
{
    static const char *const names[] = {
        NULL, "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp",
        "xtensa", "xtensawin", "rv32imc", "rv64imc",
    };
    unsigned arch = (unsigned)((device_mpy >> 10) & 0x2f);
    return device_mpy > 0 && arch < sizeof names / sizeof *names ? names[arch] : NULL;
}

bool romfs_mpy_arch_compatible(const char *code, const char *device)
{
    int c = arch_number(code), d = arch_number(device);
    if (c < 0 || d < 0)
        return false;
    if (c == d)
        return true;
    bool thumb_device = d == 4 || d == 6 || d == 7 || d == 8;   /* armv6m, armv7em{,sp,dp} */
    return thumb_device && c >= 4 && c <= d;
}
