/* swd_target.c: struct romfs_target over a GDB server (flash/swd.h). */
#include "flash/swd.h"

#include <stdlib.h>
#include <string.h>

struct swd_ctx {
    struct romfs_gdb *gdb;
    struct romfs_probe *probe;     /* server we started, or NULL */
    enum romfs_probe_kind kind;
    uint64_t base;
    bool flash;
    bool finished;
    uint8_t *fill;                 /* 0xff block for RAM "erase" */
    size_t fill_len;
};

static int swd_read(void *c, uint64_t off, void *buf, size_t len, struct romfs_error *err)
{
    struct swd_ctx *s = c;
    return romfs_gdb_read_memory(s->gdb, s->base + off, buf, len, err);
}

static int swd_erase(void *c, uint64_t off, uint64_t len, struct romfs_error *err)
{
    struct swd_ctx *s = c;
    if (s->flash)
        return romfs_gdb_flash_erase(s->gdb, s->base + off, len, err);
    /* RAM: erasing means 0xff, so an interrupted write leaves no valid header either. */
    for (uint64_t done = 0; done < len;) {
        size_t n = len - done < s->fill_len ? (size_t)(len - done) : s->fill_len;
        int rc = romfs_gdb_write_memory(s->gdb, s->base + off + done, s->fill, n, err);
        if (rc < 0)
            return rc;
        done += n;
    }
    return ROMFS_OK;
}

static int swd_prog(void *c, uint64_t off, const void *buf, size_t len, struct romfs_error *err)
{
    struct swd_ctx *s = c;
    return s->flash ? romfs_gdb_flash_write(s->gdb, s->base + off, buf, len, err)
                    : romfs_gdb_write_memory(s->gdb, s->base + off, buf, len, err);
}

static int swd_sync(void *c, struct romfs_error *err)
{
    struct swd_ctx *s = c;
    /* vFlashDone commits whatever the server buffered; harmless when nothing is. */
    return s->flash ? romfs_gdb_flash_done(s->gdb, err) : ROMFS_OK;
}

static void swd_close(void *c)
{
    struct swd_ctx *s = c;
    if (!s)
        return;
    if (!s->finished && s->gdb) {
        struct romfs_error ignored;
        romfs_gdb_detach(s->gdb, &ignored);  /* leave the target running */
    }
    romfs_gdb_close(s->gdb);
    romfs_probe_stop(s->probe);
    free(s->fill);
    free(s);
}

static bool is_pow2(uint64_t v) { return v && !(v & (v - 1)); }

/* Check [addr, addr+size) against the memory map; choose flash or RAM and the block size. */
static int check_memory_map(struct swd_ctx *s, const struct romfs_gdb_memory_map *map,
                            const struct romfs_swd_options *opt, uint32_t *erase_size,
                            uint32_t *reported, struct romfs_error *err)
{
    const char *server = romfs_gdb_name(s->gdb);
    uint64_t a = opt->address, end = opt->address + opt->size;
    const struct romfs_gdb_region *first = romfs_gdb_find_region(map, a);
    if (!first)
        return romfs_set_error(err, ROMFS_ERR_MISMATCH,
                               "partition 0x%llx..0x%llx is not in %s's memory map (%zu regions)",
                               (unsigned long long)a, (unsigned long long)end, server, map->count);
    uint32_t block = 0;
    for (uint64_t p = a; p < end;) {
        const struct romfs_gdb_region *r = romfs_gdb_find_region(map, p);
        if (!r || r->type != first->type)
            return romfs_set_error(err, ROMFS_ERR_MISMATCH,
                                   "partition 0x%llx..0x%llx runs past the %s region at 0x%llx in "
                                   "%s's memory map (at 0x%llx)",
                                   (unsigned long long)a, (unsigned long long)end,
                                   first->type == ROMFS_GDB_MEM_FLASH ? "flash" : "ram",
                                   (unsigned long long)first->start, server, (unsigned long long)p);
        if (r->blocksize > block)
            block = r->blocksize;
        p = r->start + r->length;
    }
    if (first->type == ROMFS_GDB_MEM_ROM)
        return romfs_set_error(err, ROMFS_ERR_MISMATCH,
                               "partition at 0x%llx is read-only memory in %s's memory map",
                               (unsigned long long)a, server);
    s->flash = first->type == ROMFS_GDB_MEM_FLASH;
    if (opt->mode == ROMFS_SWD_RAM && s->flash)
        return romfs_set_error(err, ROMFS_ERR_MISMATCH,
                               "partition at 0x%llx is flash in %s's memory map; RAM writes asked",
                               (unsigned long long)a, server);
    if (opt->mode == ROMFS_SWD_FLASH && !s->flash)
        return romfs_set_error(err, ROMFS_ERR_MISMATCH,
                               "partition at 0x%llx is RAM in %s's memory map; flash writes asked",
                               (unsigned long long)a, server);
    if (!s->flash) {
        *erase_size = opt->erase_block ? opt->erase_block : 4096;
        return ROMFS_OK;
    }
    /* the stricter of the two (the flash job says where each came from) */
    *reported = block;
    *erase_size = opt->erase_block > block ? opt->erase_block : block;
    if (a % *erase_size || opt->size % *erase_size)
        return romfs_set_error(err, ROMFS_ERR_MISMATCH,
                               "partition 0x%llx+0x%llx is not aligned to %u-byte erase blocks, "
                               "the stricter of %s's memory map (%u) and the board entry's or "
                               "the given erase block (%u); nothing was erased",
                               (unsigned long long)a, (unsigned long long)opt->size, *erase_size,
                               server, block, opt->erase_block);
    return ROMFS_OK;
}

int romfs_swd_target_open_gdb(struct romfs_gdb *g, const struct romfs_swd_options *opt,
                              struct romfs_target *t, struct romfs_swd_info *info,
                              struct romfs_error *err)
{
    struct swd_ctx *s = calloc(1, sizeof *s);
    if (!s) {
        romfs_gdb_close(g);
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    }
    s->gdb = g;
    s->base = opt->address;
    s->kind = ROMFS_PROBE_GDB;
    int rc = ROMFS_OK;
    uint32_t erase_size = 0, reported = 0;
    bool have_map = false;
    if (opt->size == 0) {
        rc = romfs_set_error(err, ROMFS_ERR_INVAL, "SWD target: partition size is 0");
        goto fail;
    }
    if (romfs_gdb_has_memory_map(g) && opt->mode != ROMFS_SWD_RAM) {
        struct romfs_gdb_memory_map map;
        if ((rc = romfs_gdb_read_memory_map(g, &map, err)) < 0)
            goto fail;
        rc = check_memory_map(s, &map, opt, &erase_size, &reported, err);
        romfs_gdb_memory_map_free(&map);
        if (rc < 0)
            goto fail;
        have_map = true;
    } else {
        s->flash = opt->mode == ROMFS_SWD_FLASH;
        erase_size = opt->erase_block ? opt->erase_block : 4096;
    }
    if (!is_pow2(erase_size) || opt->size % erase_size) {
        rc = romfs_set_error(err, ROMFS_ERR_INVAL,
                             "SWD target: partition size 0x%llx is not a multiple of the erase "
                             "block %u (a power of two)", (unsigned long long)opt->size, erase_size);
        goto fail;
    }
    uint32_t write_size = opt->write_block ? opt->write_block : 4;
    if (write_size > erase_size)
        write_size = erase_size;
    s->fill_len = erase_size < 65536 ? erase_size : 65536;
    if (!(s->fill = malloc(s->fill_len))) {
        rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
        goto fail;
    }
    memset(s->fill, 0xff, s->fill_len);
    *t = (struct romfs_target){
        .name = "swd",
        .ctx = s,
        .base_address = opt->address,
        .size = opt->size,
        .erase_size = erase_size,
        .write_size = write_size,
        .max_transfer = erase_size < 65536 ? erase_size : 65536,
        .read = swd_read,
        .erase = swd_erase,
        .prog = swd_prog,
        .sync = swd_sync,
        .close = swd_close,
        .device_erase_size = reported,
        .device_erase_source = reported ? "the GDB server's memory map" : NULL,
    };
    if (info) {
        memset(info, 0, sizeof *info);
        strncpy(info->server, romfs_gdb_name(g), sizeof info->server - 1);
        info->flash = s->flash;
        info->memory_map = have_map;
        info->erase_size = erase_size;
        info->packet_size = romfs_gdb_packet_size(g);
    }
    return ROMFS_OK;
fail:
    s->finished = true;  /* nothing written: close without detaching twice */
    romfs_gdb_detach(g, NULL);
    swd_close(s);
    return rc;
}

int romfs_swd_target_open(const struct romfs_swd_options *opt, struct romfs_target *t,
                          struct romfs_swd_info *info, struct romfs_error *err)
{
    enum romfs_probe_kind kind;
    int rc = romfs_probe_parse(opt->probe, &kind, err);
    if (rc < 0)
        return rc;
    if (kind == ROMFS_PROBE_OPENOCD_PROGRAM)
        return romfs_set_error(err, ROMFS_ERR_INVAL,
                               "openocd-program writes with OpenOCD alone; use "
                               "romfs_probe_openocd_program");
    struct romfs_probe *probe = NULL;
    const char *address = opt->probe;
    if (kind == ROMFS_PROBE_OPENOCD || kind == ROMFS_PROBE_PYOCD) {
        if ((rc = romfs_probe_start(kind, &opt->probe_config, &probe, err)) < 0)
            return rc;
        address = romfs_probe_gdb_address(probe);
    }
    struct romfs_gdb *g;
    if ((rc = romfs_gdb_connect(address, opt->timeout_ms, &g, err)) < 0) {
        if (probe)
            romfs_error_prefix(err, "%s", romfs_probe_command_line(probe));
        romfs_probe_stop(probe);
        return rc;
    }
    if ((rc = romfs_swd_target_open_gdb(g, opt, t, info, err)) < 0) {
        romfs_probe_stop(probe);
        return rc;
    }
    struct swd_ctx *s = t->ctx;
    s->probe = probe;
    s->kind = kind;
    return ROMFS_OK;
}

int romfs_swd_target_crc_check(struct romfs_target *t, const uint8_t *image, size_t len,
                               bool *checked, struct romfs_error *err)
{
    struct swd_ctx *s = t->ctx;
    uint32_t crc;
    *checked = false;
    int rc = romfs_gdb_crc(s->gdb, s->base, len, &crc, err);
    if (rc == ROMFS_ERR_UNSUPPORTED)
        return ROMFS_OK;
    if (rc < 0)
        return rc;
    uint32_t want = romfs_gdb_crc32(0xffffffffu, image, len);
    if (crc != want)
        return romfs_set_error(err, ROMFS_ERR_MISMATCH,
                               "%s: CRC-32 of 0x%llx+0x%zx is %08x, the image's is %08x",
                               romfs_gdb_name(s->gdb), (unsigned long long)s->base, len, crc, want);
    *checked = true;
    return ROMFS_OK;
}

/* Monitor output that means the command was not understood although the reply was OK
 * (QEMU's HMP answers unknown commands that way). */
static bool console_says_unknown(const char *text)
{
    return strstr(text, "unknown command") || strstr(text, "Unknown command") ||
           strstr(text, "invalid command") || strstr(text, "Invalid command");
}

int romfs_swd_target_finish(struct romfs_target *t, bool reset, const char *reset_command,
                            struct romfs_error *err)
{
    struct swd_ctx *s = t->ctx;
    int rc = s->flash ? romfs_gdb_flash_done(s->gdb, err) : ROMFS_OK;
    if (rc < 0)
        return rc;
    if (reset) {
        const char *generic[] = { "reset", "system_reset", NULL };
        const char *openocd[] = { "reset run", NULL };
        const char *pyocd[] = { "reset", NULL };
        const char *custom[] = { reset_command, NULL };
        const char **tries = reset_command ? custom
                           : s->kind == ROMFS_PROBE_OPENOCD ? openocd
                           : s->kind == ROMFS_PROBE_PYOCD ? pyocd : generic;
        rc = ROMFS_ERR_UNSUPPORTED;
        for (int i = 0; tries[i]; i++) {
            rc = romfs_gdb_monitor(s->gdb, tries[i], err);
            if (rc == ROMFS_OK && console_says_unknown(romfs_gdb_console_output(s->gdb)))
                rc = romfs_set_error(err, ROMFS_ERR_UNSUPPORTED,
                                     "%s does not know the monitor command '%s'",
                                     romfs_gdb_name(s->gdb), tries[i]);
            if (rc == ROMFS_OK)
                break;
        }
        if (rc < 0) {
            romfs_error_prefix(err, "cannot reset the target");
            return romfs_error_need(err, ROMFS_NEED_RESET_COMMAND);
        }
    }
    rc = romfs_gdb_detach(s->gdb, err);
    if (rc == ROMFS_ERR_UNSUPPORTED)  /* no D: continue, then hang up */
        rc = romfs_gdb_continue(s->gdb, err);
    if (rc == ROMFS_OK)
        s->finished = true;
    return rc;
}
