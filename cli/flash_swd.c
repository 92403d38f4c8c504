/* flash_swd.c: `romfs flash --via swd`: options and glue to lib/flash/swd.h. */
#include "flash_swd.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "flash/probe.h"
#include "flash/swd.h"

struct swd_state {
    struct flash_swd_args args;
    struct romfs_probe_config probe_config;
    struct romfs_target t;          /* our copy: cmd_flash closes its own before finish */
    void (*close)(void *ctx);
    bool program;                   /* --probe openocd-program */
    struct romfs_swd_info info;
    char crc_note[96];
};

int flash_swd_option(struct flash_swd_args *s, int opt, const char *arg)
{
    uint64_t v;
    switch (opt - FLASH_SWD_OPT_FIRST) {
    case 0: s->probe = arg; return 1;
    case 1:
    case 2:
    case 3:
        if (!cli_parse_size(arg, &v) || v == 0 || (opt - FLASH_SWD_OPT_FIRST == 3 && v > UINT32_MAX)) {
            cli_usage_error("flash", "bad value '%s' for --%s", arg,
                            opt - FLASH_SWD_OPT_FIRST == 1 ? "address"
                            : opt - FLASH_SWD_OPT_FIRST == 2 ? "size" : "erase-block");
            return -1;
        }
        if (opt - FLASH_SWD_OPT_FIRST == 1)
            s->address = v;
        else if (opt - FLASH_SWD_OPT_FIRST == 2)
            s->size = v;
        else
            s->erase_block = (uint32_t)v;
        return 1;
    case 5: s->reset_command = arg; return 1;
    case 6:
        if (strcmp(arg, "auto") && strcmp(arg, "flash") && strcmp(arg, "ram")) {
            cli_usage_error("flash", "--swd-mode is auto, flash or ram, not '%s'", arg);
            return -1;
        }
        s->mode = arg;
        return 1;
    case 7: s->openocd_target = arg; return 1;
    case 8: s->openocd_interface = arg; return 1;
    case 9: s->pyocd_target = arg; return 1;
    default: return 0;
    }
}

bool flash_swd_has_partition(const struct flash_swd_args *s)
{
    return s->address && s->size;
}

void flash_swd_usage(FILE *out)
{
    fprintf(out,
            "\n"
            "--via swd: through a debug probe's GDB server (romfs speaks the GDB remote protocol).\n"
            "The partition is checked against the server's memory map; flash is written with\n"
            "vFlashErase/vFlashWrite, RAM (and servers without a memory map, such as QEMU) with\n"
            "X/M memory writes, verified by reading back (and the server's qCRC where offered).\n"
            "Afterwards the target is left running (detach), or reset with --reset.\n"
            "      --probe P        gdb://HOST:PORT   a running GDB server (OpenOCD, pyOCD,\n"
            "                                         J-Link, QEMU -gdb tcp::PORT)\n"
            "                       serial:/dev/ttyACM0  a Black Magic Probe\n"
            "                       openocd | pyocd   start that server with the board's target\n"
            "                                         (boards.json) on a free 127.0.0.1 port\n"
            "                       openocd-program   run openocd's `program FILE ADDR verify\n"
            "                                         reset exit` instead\n"
            "      --address A      partition start (default: the board's)\n"
            "      --size N         partition size (default: the board's)\n"
            "      --erase-block N  erase block (default: the board's or the memory map's)\n"
            "      --swd-mode M     auto (default: from the memory map), flash or ram\n"
            "      --reset          (swd) reset the target after writing (monitor reset)\n"
            "      --reset-command C  the monitor command that resets (default: per server)\n"
            "      --openocd-target S     OpenOCD script, e.g. target/stm32f4x.cfg\n"
            "      --openocd-interface S  e.g. interface/stlink.cfg (default: stlink for\n"
            "                             STM32, else cmsis-dap)\n"
            "      --pyocd-target NAME    pyOCD target name\n");
}

int flash_swd_open(const struct flash_swd_args *s, const struct romfs_board *board,
                   const struct romfs_partition *part, int timeout_ms, void **state,
                   struct romfs_target *t, struct romfs_error *err)
{
    struct swd_state *st = calloc(1, sizeof *st);
    if (!st)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    *state = st;
    st->args = *s;
    if (!s->probe)
        return romfs_set_error(err, ROMFS_ERR_INVAL,
                               "--via swd needs --probe (gdb://HOST:PORT, serial:PATH, openocd, "
                               "pyocd or openocd-program)");
    if (part && !part->mmap && !s->address)
        return romfs_set_error(err, ROMFS_ERR_INVAL,
                               "%s's ROMFS partition is not memory-mapped (0x%llx is an offset in "
                               "a flash device), so it cannot be written over SWD; give --address",
                               board ? board->name : "the board", (unsigned long long)part->start);
    struct romfs_swd_options o = { 0 };
    o.probe = s->probe;
    o.address = s->address ? s->address : part ? part->start : 0;
    o.size = s->size ? s->size : part ? part->size : 0;
    o.erase_block = s->erase_block ? s->erase_block : part ? part->erase_block : 0;
    o.write_block = part ? part->write_block : 0;
    o.timeout_ms = timeout_ms;
    o.mode = !s->mode || strcmp(s->mode, "auto") == 0 ? ROMFS_SWD_AUTO
           : strcmp(s->mode, "flash") == 0 ? ROMFS_SWD_FLASH : ROMFS_SWD_RAM;
    st->probe_config.openocd_target = s->openocd_target ? s->openocd_target
                                      : board ? board->openocd_target : NULL;
    st->probe_config.openocd_interface = s->openocd_interface;
    st->probe_config.pyocd_target = s->pyocd_target ? s->pyocd_target
                                    : board ? board->pyocd_target : NULL;
    o.probe_config = st->probe_config;
    if (!o.size)
        return romfs_set_error(err, ROMFS_ERR_INVAL,
                               "no partition: give --board BOARD, or --address and --size");
    int rc;
    if (strcmp(s->probe, "openocd-program") == 0) {
        st->program = true;
        rc = romfs_probe_openocd_program_target(&st->probe_config, o.address, o.size,
                                                o.erase_block, true, t, err);
    } else {
        rc = romfs_swd_target_open(&o, t, &st->info, err);
    }
    if (rc != ROMFS_OK)
        return rc;
    st->t = *t;
    st->close = t->close;
    t->close = NULL;  /* closed in flash_swd_close, after finish */
    return ROMFS_OK;
}

int flash_swd_finish(void *state, const uint8_t *image, size_t len, char *confirm, size_t cap,
                     struct romfs_error *err)
{
    struct swd_state *st = state;
    if (st->program) {
        snprintf(confirm, cap, "written, verified and reset by openocd's program command");
        return ROMFS_OK;
    }
    bool checked = false;
    int rc = romfs_swd_target_crc_check(&st->t, image, len, &checked, err);
    if (rc != ROMFS_OK)
        return rc;
    snprintf(st->crc_note, sizeof st->crc_note, "%s",
             checked ? "; the server's qCRC matches" : "");
    rc = romfs_swd_target_finish(&st->t, st->args.reset, st->args.reset_command, err);
    if (rc != ROMFS_OK)
        return rc;
    snprintf(confirm, cap, "%s%s", st->args.reset ? "target reset and running"
                                                  : "detached; target left running",
             st->crc_note);
    return ROMFS_OK;
}

void flash_swd_stats(void *state, struct cJSON *json, char *line, size_t cap)
{
    struct swd_state *st = state;
    if (json && st->program) {
        cJSON_AddStringToObject(json, "swd_writes", "openocd-program");
    } else if (json) {
        cJSON_AddStringToObject(json, "gdb_server", st->info.server);
        cJSON_AddStringToObject(json, "swd_writes", st->info.flash ? "vflash" : "memory");
        cJSON_AddNumberToObject(json, "erase_block", st->info.erase_size);
        cJSON_AddNumberToObject(json, "packet_size", (double)st->info.packet_size);
        cJSON_AddBoolToObject(json, "memory_map_checked", st->info.memory_map);
    }
    if (st->program)
        snprintf(line, cap, "via openocd program (%s)", st->probe_config.openocd_target);
    else
        snprintf(line, cap, "GDB server %s, %s, erase block %u, PacketSize %zu%s",
                 st->info.server, st->info.flash ? "vFlash writes" : "memory writes (X/M)",
                 st->info.erase_size, st->info.packet_size,
                 st->info.memory_map ? ", partition matches the server's memory map" : "");
}

void flash_swd_close(void *state)
{
    struct swd_state *st = state;
    if (!st)
        return;
    if (st->close)
        st->close(st->t.ctx);
    free(st);
}
