/* flash/run.c: romfs_flash_job_run, one flash job over the REPL, DFU or SWD.
 *
 * Each way to the board contributes four steps around the one writer: open (fill a
 * struct romfs_target), check (refuse a device that cannot take the image, before any
 * erase), finish (confirm on the device after the write) and close. Statistics go into
 * the result as data; the tool decides how to show them. */
#include "flash/job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "boards/arch.h"
#include "flash/dfu_target.h"
#include "flash/probe.h"
#include "plan/check.h"

static const char *const via_names[] = { "repl", "dfu", "swd" };

int romfs_via_parse(const char *name)
{
    for (size_t i = 0; name && i < sizeof via_names / sizeof *via_names; i++)
        if (strcmp(name, via_names[i]) == 0)
            return (int)i;
    return -1;
}

const char *romfs_via_name(enum romfs_via via)
{
    return (unsigned)via < sizeof via_names / sizeof *via_names ? via_names[via] : "?";
}

/* What the open device needs until it is closed. */
struct job_state {
    const struct romfs_flash_job *job;
    const struct romfs_partition *part;   /* the board's partition, or NULL */
    struct romfs_target t;
    /* REPL: the connection, the job's own or one kept between jobs */
    struct romfs_flash_link *link;
    struct romfs_flash_link own_link;
    /* DFU */
    struct romfs_dfu_boot boot;           /* the board's bootloader for the partition */
    struct romfs_dfu_match match;         /* (points at boot.hint) */
    /* SWD */
    struct romfs_probe_config probe_config;
};

/* ---- REPL -------------------------------------------------------------------------- */

/* Reach the job's board over the REPL: its port (given, or found by USB id), a raw-REPL
 * session, and what the device reports about itself (into *info; mpy kept in the link). */
static int repl_connect(const struct romfs_flash_job *j, struct romfs_flash_link *link,
                        struct romfs_device_info *info, struct romfs_error *err)
{
    int rc = ROMFS_OK;
    if (j->repl.port)
        snprintf(link->port, sizeof link->port, "%s", j->repl.port);
    else
        rc = romfs_repl_find_port(j->board ? j->board->repl_usb : NULL, link->port,
                                  sizeof link->port, err);
    struct romfs_repl_options ro = { .timeout_ms = j->timeout_ms, .no_raw_paste = j->repl.no_raw_paste };
    if (rc == ROMFS_OK)
        rc = romfs_serial_open(link->port, j->repl.baud, &link->serial, err);
    if (rc == ROMFS_OK)
        rc = romfs_repl_session_open(link->serial, &ro, &link->ses, err);
    if (rc == ROMFS_OK)
        rc = romfs_repl_query(link->ses, false, info, err);
    if (rc == ROMFS_OK)
        link->mpy = info->mpy;
    return rc;
}

int romfs_flash_link_open(const struct romfs_flash_job *job, struct romfs_flash_link *link,
                          struct romfs_error *err)
{
    memset(link, 0, sizeof *link);
    if (job->via != ROMFS_VIA_REPL)
        return romfs_set_error(err, ROMFS_ERR_INVAL, "a connection kept between writes is for "
                               "the REPL only");
    struct romfs_device_info info;
    int rc = repl_connect(job, link, &info, err);
    if (rc != ROMFS_OK)
        romfs_flash_link_close(link);
    return rc;
}

void romfs_flash_link_close(struct romfs_flash_link *link)
{
    romfs_repl_session_close(link->ses);
    romfs_serial_close(link->serial);
    link->ses = NULL;
    link->serial = NULL;
}

static int repl_open(struct job_state *st, struct romfs_flash_job_result *res,
                     struct romfs_error *err)
{
    const struct romfs_flash_job *j = st->job;
    struct romfs_device_info info;
    int rc = st->link->ses ? ROMFS_OK : repl_connect(j, st->link, &info, err);
    snprintf(res->port, sizeof res->port, "%s", st->link->port);
    if (rc != ROMFS_OK)
        return rc;
    struct romfs_repl_target_options to = {
        .partition = j->partition,
        .api = j->repl.api,
        .transfer = j->repl.transfer,
        .write_size = st->part ? st->part->write_block : 0,
    };
    return romfs_repl_target_open(st->link->ses, &to, &st->t, err);
}

static int repl_finish(struct job_state *st, const uint8_t *image, size_t len,
                       struct romfs_flash_job_result *res, struct romfs_error *err)
{
    if (st->job->repl.no_reset) {
        res->confirmation = ROMFS_CONFIRM_NOT_RESET;
        return ROMFS_OK;
    }
    struct romfs_rom_listing rom = { 0 };
    struct romfs_repl_session *ses = st->link->ses;
    if (res->write.blocks_written == 0 && !st->job->repl.always_reset) {
        /* nothing was erased, so /rom is mounted as before: when it lists the image, a
           reset would change nothing (it would cost a reconnect) */
        struct romfs_error quiet = { 0 };
        if (romfs_repl_list_rom_top(ses, &rom, &quiet) == ROMFS_OK &&
            romfs_flash_compare_top_level(image, len, &rom, &quiet) == ROMFS_OK) {
            res->confirmation = ROMFS_CONFIRM_ROM_LISTED_NO_RESET;
            res->image_root_empty = rom.n == 0;
            romfs_rom_listing_free(&rom);
            return ROMFS_OK;
        }
        romfs_rom_listing_free(&rom);
    }
    int rc = romfs_repl_reset_and_list_rom(ses, &rom, err);
    if (rc == ROMFS_ERR_DEVICE)
        romfs_repl_note_exception(ses, "list", false, 0);
    if (rc == ROMFS_OK)
        rc = romfs_flash_compare_top_level(image, len, &rom, err);
    if (rc == ROMFS_OK) {
        res->confirmation = ROMFS_CONFIRM_ROM_LISTED;
        res->image_root_empty = rom.n == 0;
    }
    romfs_rom_listing_free(&rom);
    return rc;
}

int romfs_flash_device_mpy_arch(const struct romfs_flash_job *job, const char **arch,
                                struct romfs_error *err)
{
    *arch = NULL;
    struct romfs_flash_link link = { 0 };
    struct romfs_device_info info;
    int rc = repl_connect(job, &link, &info, err);
    if (rc == ROMFS_OK)
        *arch = romfs_mpy_arch_of_device(info.mpy);
    romfs_flash_link_close(&link);
    return rc;
}

/* ---- DFU --------------------------------------------------------------------------- */

static int dfu_usb_open(struct job_state *st, struct romfs_dfu_usb *usb, struct romfs_error *err)
{
    const struct romfs_flash_job *j = st->job;
    return j->dfu.usb_open ? j->dfu.usb_open(j->dfu.usb_ctx, &st->match, st->part->start, usb, err)
                           : romfs_dfu_usb_open(&st->match, st->part->start, usb, err);
}

/* Append to err's message (keeping its code). */
static int error_append(struct romfs_error *err, const char *fmt, const char *a)
{
    if (err) {
        size_t n = strlen(err->msg);
        snprintf(err->msg + n, sizeof err->msg - n, fmt, a);
    }
    return err ? err->code : ROMFS_ERR_INVAL;
}

static int dfu_open(struct job_state *st, struct romfs_flash_job_result *res, struct romfs_error *err)
{
    const struct romfs_flash_job *j = st->job;
    if (!st->part)
        return romfs_set_error_need(err, ROMFS_ERR_INVAL, ROMFS_NEED_PARTITION,
                                    "writing over DFU needs the board (the partition's address "
                                    "and the board's DFU id come from it)");
    /* which bootloader reaches the partition, refused before USB is touched when none does */
    int rc = romfs_dfu_boot_choose(j->board, st->part->start, st->part->size, &st->boot, err);
    if (rc) {
        romfs_error_prefix(err, "board %s", j->board->name);
        return rc;
    }
    rc = romfs_dfu_match_for(&st->match, j->board, &st->boot, j->dfu.device, j->dfu.serial, j->dfu.alt, err);
    struct romfs_dfu_usb usb;
    if (rc == ROMFS_OK)
        rc = dfu_usb_open(st, &usb, err);
    if (rc)
        return rc;
    res->dfu.bootloader = NULL;
    enum romfs_dfu_bootloader running = romfs_dfu_boot_identify(j->board, usb.layout);
    if (running != ROMFS_DFU_BOOT_UNKNOWN)
        res->dfu.bootloader = romfs_dfu_boot_name(running);
    struct romfs_dfu_target_options o = { .address = st->part->start, .size = st->part->size,
                                          .write_size = st->part->write_block };
    rc = romfs_dfu_target_init(&usb, &o, &st->t, err);
    if (rc == ROMFS_ERR_INVAL && st->boot.hint[0]) {
        /* the device's layout does not hold the partition: another bootloader is running */
        if (running != ROMFS_DFU_BOOT_UNKNOWN && running != st->boot.kind)
            error_append(err, " (the device is %s)", romfs_dfu_boot_name(running));
        error_append(err, ". The partition is written by %s", st->boot.hint);
    }
    return rc;
}

static int dfu_finish(struct job_state *st, struct romfs_flash_job_result *res,
                      struct romfs_error *err)
{
    if (!st->job->reset) {
        res->confirmation = ROMFS_CONFIRM_STILL_IN_DFU;
        return ROMFS_OK;
    }
    struct romfs_dfu_usb usb;
    int rc = dfu_usb_open(st, &usb, err);
    if (rc == ROMFS_OK)
        rc = romfs_dfu_leave_usb(&usb, 0, err);
    if (rc == ROMFS_OK)
        res->confirmation = ROMFS_CONFIRM_LEFT_DFU;
    return rc;
}

/* ---- SWD --------------------------------------------------------------------------- */

static int swd_open(struct job_state *st, struct romfs_flash_job_result *res,
                    struct romfs_error *err)
{
    const struct romfs_flash_job *j = st->job;
    const struct romfs_board *b = j->board;
    const struct romfs_partition *part = st->part;
    if (!j->swd.probe)
        return romfs_set_error_need(err, ROMFS_ERR_INVAL, ROMFS_NEED_PROBE,
                                    "writing over SWD needs a debug probe or GDB server");
    if (part && !part->mmap && !j->swd.address)
        return romfs_set_error_need(err, ROMFS_ERR_INVAL, ROMFS_NEED_ADDRESS,
                                    "%s's ROMFS partition is not memory-mapped (0x%llx is an "
                                    "offset in a flash device), so it cannot be written over SWD",
                                    b ? b->name : "the board", (unsigned long long)part->start);
    struct romfs_swd_options o = { 0 };
    o.probe = j->swd.probe;
    o.address = j->swd.address ? j->swd.address : part ? part->start : 0;
    o.size = j->swd.size ? j->swd.size : part ? part->size : 0;
    o.erase_block = j->swd.erase_block ? j->swd.erase_block : part ? part->erase_block : 0;
    o.write_block = part ? part->write_block : 0;
    o.timeout_ms = j->timeout_ms;
    o.mode = j->swd.mode;
    st->probe_config.openocd_target = j->swd.openocd_target ? j->swd.openocd_target
                                      : b ? b->openocd_target : NULL;
    st->probe_config.openocd_interface = j->swd.openocd_interface;
    st->probe_config.pyocd_target = j->swd.pyocd_target ? j->swd.pyocd_target
                                    : b ? b->pyocd_target : NULL;
    o.probe_config = st->probe_config;
    if (!o.size)
        return romfs_set_error_need(err, ROMFS_ERR_INVAL, ROMFS_NEED_PARTITION,
                                    "no partition to write: no board, and no address and size");
    if (strcmp(j->swd.probe, "openocd-program") == 0) {
        res->swd_program = true;
        res->openocd_target = st->probe_config.openocd_target;
        return romfs_probe_openocd_program_target(&st->probe_config, o.address, o.size,
                                                  o.erase_block, true, &st->t, err);
    }
    return romfs_swd_target_open(&o, &st->t, &res->swd, err);
}

static int swd_finish(struct job_state *st, const uint8_t *image, size_t len,
                      struct romfs_flash_job_result *res, struct romfs_error *err)
{
    if (res->swd_program) {
        res->confirmation = ROMFS_CONFIRM_OPENOCD_PROGRAM;
        return ROMFS_OK;
    }
    int rc = romfs_swd_target_crc_check(&st->t, image, len, &res->swd_crc_checked, err);
    if (rc == ROMFS_OK)
        rc = romfs_swd_target_finish(&st->t, st->job->reset, st->job->swd.reset_command, err);
    if (rc == ROMFS_OK)
        res->confirmation = st->job->reset ? ROMFS_CONFIRM_SWD_RESET : ROMFS_CONFIRM_SWD_DETACHED;
    return rc;
}

/* ---- units: the board entry's and the device's, reconciled ------------------------- */

static uint32_t max_u32(uint32_t a, uint32_t b)
{
    return a > b ? a : b;
}

/* Where the unit `used` came from, for the summary and messages. */
static void unit_source(char *out, size_t cap, uint32_t used, uint32_t board, uint32_t device,
                        const char *device_source, const char *target)
{
    if (used == device && used == board)
        snprintf(out, cap, "the board entry's and the device's (%s)", device_source);
    else if (used == device && board)
        snprintf(out, cap, "the device's (%s), stricter than the board entry's %u", device_source,
                 board);
    else if (used == device)
        snprintf(out, cap, "the device's (%s)", device_source);
    else if (used == board && device)
        snprintf(out, cap, "the board entry's, stricter than the device's %u (%s)", device,
                 device_source);
    else if (used == board)
        snprintf(out, cap, "the board entry's (the device does not report one)");
    else
        snprintf(out, cap, "the %s target's own (%s)", target,
                 device || board ? "stricter than the board entry's and the device's"
                                 : "neither a board entry nor the device gives one");
}

/* "erase blocks of 8192 bytes (vfs.rom_ioctl(6))" or "no erase block": what one side says. */
static void says(char *out, size_t cap, const char *what, uint32_t v, const char *source)
{
    if (!v)
        snprintf(out, cap, "no %s", what);
    else if (source)
        snprintf(out, cap, "%ss of %u bytes (%s)", what, v, source);
    else
        snprintf(out, cap, "%ss of %u bytes", what, v);
}

/* The board entry and the device disagree on units, and the image cannot be written
 * with the stricter ones: say both, where each came from, why, and what to do. */
static int refuse_units(const struct job_state *st, uint32_t erase, uint32_t write,
                        const char *why, struct romfs_error *err)
{
    const struct romfs_target *t = &st->t;
    const struct romfs_partition *p = st->part;
    char be[64], bw[64], de[128], dw[128];
    says(be, sizeof be, "erase block", p->erase_block, NULL);
    says(bw, sizeof bw, "write unit", p->write_block, NULL);
    says(de, sizeof de, "erase block", t->device_erase_size, t->device_erase_source);
    says(dw, sizeof dw, "write unit", t->device_write_size, t->device_write_source);
    return romfs_set_error_need(
        err, ROMFS_ERR_MISMATCH, ROMFS_NEED_RIGHT_BOARD,
        "board %s's entry in %s gives ROMFS partition %d %s and %s; the device reports %s and "
        "%s; with the stricter (erase block %u, write unit %u) the image cannot be written: "
        "%s; nothing was erased: correct the board entry (erase_block, write_block), or use "
        "firmware whose partition suits the device", st->job->board->name,
        st->job->boards_source ? st->job->boards_source : "the board database", p->index, be, bw,
        de, dw, erase, write, why);
}

/* The erase block and write unit for the write: the stricter (larger) of the board
 * entry's and the device's report, never below what the target itself needs. An image
 * that cannot be written with them is refused before anything is erased. The target is
 * told (set_units) when they differ from what it was opened with. */
static int reconcile_units(struct job_state *st, const uint8_t *image, size_t len,
                           struct romfs_flash_units *u, struct romfs_error *err)
{
    struct romfs_target *t = &st->t;
    const struct romfs_partition *p = st->part;
    u->board_erase = p ? p->erase_block : 0;
    u->board_write = p ? p->write_block : 0;
    u->device_erase = t->device_erase_size;
    u->device_write = t->device_write_size;
    uint32_t need_erase = max_u32(u->board_erase, u->device_erase);
    uint32_t need_write = max_u32(u->board_write, u->device_write);
    uint32_t erase = max_u32(need_erase, t->erase_size), write = max_u32(need_write, t->write_size);
    unit_source(u->erase_source, sizeof u->erase_source, erase, u->board_erase, u->device_erase,
                t->device_erase_source, t->name);
    unit_source(u->write_source, sizeof u->write_source, write, u->board_write, u->device_write,
                t->device_write_source, t->name);
    if (p) {
        char why[600] = "";
        if (write > erase)
            snprintf(why, sizeof why, "a %u-byte write unit is larger than the %u-byte erase "
                     "block", write, erase);
        else if (erase && t->size % erase)
            snprintf(why, sizeof why, "the %llu-byte partition is not a whole number of %u-byte "
                     "erase blocks", (unsigned long long)t->size, erase);
        else if (need_erase > u->board_erase || need_write > u->board_write) {
            /* the board's own checks passed with its units: run them with the stricter */
            struct romfs_check_target ct;
            struct romfs_check_result check;
            int rc = romfs_check_target_from_board(st->job->board, st->job->partition, &ct, err);
            if (rc != ROMFS_OK)
                return rc;
            if (need_erase > ct.erase_block) {
                ct.erase_block = need_erase;
                ct.erase_map = NULL;   /* the board's sector map is finer than the device */
                ct.n_erase_map = 0;
            }
            ct.write_block = need_write;
            struct romfs_error quiet = { 0 };
            rc = romfs_check_image(image, len, &ct, NULL, &check, &quiet);
            if (rc == ROMFS_ERR_NOMEM) {
                romfs_check_result_free(&check);
                return romfs_set_error(err, rc, "out of memory");
            }
            for (int id = ROMFS_CHECK_ERASE; id <= ROMFS_CHECK_WRITE && !why[0]; id++)
                if (check.items[id].status == ROMFS_REPORT_FAIL)
                    snprintf(why, sizeof why, "%s", check.items[id].message);
            romfs_check_result_free(&check);
        }
        if (why[0])
            return refuse_units(st, erase, write, why, err);
    }
    if (erase != t->erase_size || write != t->write_size) {
        if (t->set_units) {
            int rc = t->set_units(t->ctx, erase, write, err);
            if (rc != ROMFS_OK)
                return rc;
        }
        t->erase_size = erase;
        t->write_size = write;
        if (t->max_transfer && t->max_transfer % write)
            t->max_transfer = write;
    }
    u->erase_size = erase;
    u->write_size = write;
    return ROMFS_OK;
}

/* A device's exception (noted by the REPL target) becomes the job's one message. */
static void explain_exception(const struct job_state *st, struct romfs_flash_job_result *res,
                              struct romfs_error *err)
{
    const struct romfs_device_exception *x = romfs_repl_session_exception(st->link->ses);
    if (!x)
        return;
    res->device_raised = true;
    res->exception = *x;
    struct romfs_exception_context c = {
        .target = st->t.name ? st->t.name : "repl",
        .partition = st->job->partition,
        .erased = res->write.erased,
        .board = st->job->board ? st->job->board->name : NULL,
        .erase_size = res->units.erase_size,
        .write_size = res->units.write_size,
    };
    romfs_device_exception_explain(x, &c, err);
}

/* ---- the job ----------------------------------------------------------------------- */

static int open_device(struct job_state *st, struct romfs_flash_job_result *res,
                       struct romfs_error *err)
{
    switch (st->job->via) {
    case ROMFS_VIA_REPL: return repl_open(st, res, err);
    case ROMFS_VIA_DFU: return dfu_open(st, res, err);
    case ROMFS_VIA_SWD: return swd_open(st, res, err);
    }
    return romfs_set_error(err, ROMFS_ERR_INVAL, "unknown way to the board (%d)", (int)st->job->via);
}

/* Statistics of the open target, before it is closed. */
static void collect_stats(struct job_state *st, struct romfs_flash_job_result *res)
{
    if (!st->t.ctx)
        return;
    if (st->job->via == ROMFS_VIA_REPL) {
        romfs_repl_target_stats(&st->t, &res->repl);
    } else if (st->job->via == ROMFS_VIA_DFU) {
        const struct romfs_dfu *d = romfs_dfu_target_session(&st->t);
        if (d) {
            snprintf(res->dfu.device, sizeof res->dfu.device, "%s", d->usb.description);
            res->dfu.requests = d->requests;
            res->dfu.waited_ms = d->waited_ms;
        }
    }
}

static int finish(struct job_state *st, const uint8_t *image, size_t len,
                  struct romfs_flash_job_result *res, struct romfs_error *err)
{
    switch (st->job->via) {
    case ROMFS_VIA_REPL: return repl_finish(st, image, len, res, err);
    case ROMFS_VIA_DFU: return dfu_finish(st, res, err);
    case ROMFS_VIA_SWD: return swd_finish(st, image, len, res, err);
    }
    return ROMFS_ERR_INVAL;
}

/* The job, over st->link when the job is over the REPL (connected here if it is not yet). */
static int run_job(struct job_state *st, const uint8_t *image, size_t len,
                   struct romfs_flash_job_result *res, struct romfs_error *err)
{
    const struct romfs_flash_job *job = st->job;
    memset(res, 0, sizeof *res);
    int rc = ROMFS_OK;
    if (job->board) {
        st->part = romfs_board_partition(job->board, job->partition);
        if (!st->part && !job->board->n_partitions)
            return romfs_set_error(err, ROMFS_ERR_NOENT,
                                   "board %s has no ROMFS partition in its default build%s%s%s: nothing to flash "
                                   "it to",
                                   job->board->name, job->board->romfs_option ? " (it needs " : "",
                                   job->board->romfs_option ? job->board->romfs_option : "",
                                   job->board->romfs_option ? ")" : "");
        if (!st->part)
            return romfs_set_error(err, ROMFS_ERR_NOENT, "board %s has no ROMFS partition %d",
                                   job->board->name, job->partition);
        /* the image must suit the board's partition before any device is opened */
        struct romfs_check_target target;
        struct romfs_check_result check;
        rc = romfs_check_target_from_board(job->board, job->partition, &target, err);
        if (rc == ROMFS_OK) {
            rc = romfs_check_image(image, len, &target, NULL, &check, err);
            romfs_check_result_free(&check);
        }
        if (rc != ROMFS_OK)
            return rc;
        res->board_checked = true;
    }
    rc = open_device(st, res, err);
    if (rc == ROMFS_OK)
        rc = romfs_flash_check_device(&st->t, job->board ? job->board->name : NULL, st->part, len, err);
    /* the stricter of the board's and the device's units: over DFU the bootloader's
       sectors (mboot: 32 KiB pages on 4 KiB-sector QSPI) against the board's erase block */
    if (rc == ROMFS_OK)
        rc = reconcile_units(st, image, len, &res->units, err);
    if (rc == ROMFS_OK && job->via == ROMFS_VIA_REPL)
        rc = romfs_check_mpy_compat(image, len, st->link->mpy, err);
    res->verified_on_device = st->t.hash_blocks != NULL;
    struct romfs_flash_options fo = { .full = job->full, .progress = job->progress,
                                      .progress_ctx = job->progress_ctx,
                                      .expected = job->expected, .expected_len = job->expected_len };
    double t0 = romfs_now_s();
    if (rc == ROMFS_OK)
        rc = romfs_flash_image(&st->t, image, len, &fo, &res->write, err);
    res->write_seconds = romfs_now_s() - t0;
    collect_stats(st, res);
    /* SWD confirms through the same session, so its target closes after finish; the
       REPL and DFU targets close first (the REPL's session outlives its target). */
    bool close_after = job->via == ROMFS_VIA_SWD;
    if (!close_after && st->t.close)
        st->t.close(st->t.ctx);
    if (rc == ROMFS_OK)
        rc = finish(st, image, len, res, err);
    if (close_after && st->t.close)
        st->t.close(st->t.ctx);
    if (rc == ROMFS_ERR_DEVICE && st->link->ses)
        explain_exception(st, res, err);
    if (st->link->serial) {
        res->repl.session_bytes_out = romfs_serial_bytes_written(st->link->serial);
        res->repl.session_bytes_in = romfs_serial_bytes_read(st->link->serial);
    }
    return rc;
}

int romfs_flash_job_run(const struct romfs_flash_job *job, const uint8_t *image, size_t len,
                        struct romfs_flash_job_result *res, struct romfs_error *err)
{
    struct job_state st = { .job = job };
    st.link = &st.own_link;
    int rc = run_job(&st, image, len, res, err);
    /* the session is left (Ctrl-B) before the port's byte counts are final */
    romfs_repl_session_close(st.own_link.ses);
    st.own_link.ses = NULL;
    if (st.own_link.serial) {
        res->repl.session_bytes_out = romfs_serial_bytes_written(st.own_link.serial);
        res->repl.session_bytes_in = romfs_serial_bytes_read(st.own_link.serial);
    }
    romfs_flash_link_close(&st.own_link);
    return rc;
}

int romfs_flash_job_run_on(const struct romfs_flash_job *job, struct romfs_flash_link *link,
                           const uint8_t *image, size_t len, struct romfs_flash_job_result *res,
                           struct romfs_error *err)
{
    if (job->via != ROMFS_VIA_REPL || !link->ses) {
        memset(res, 0, sizeof *res);
        return romfs_set_error(err, ROMFS_ERR_INVAL, "a job over a kept connection needs the "
                               "REPL and an open link");
    }
    struct job_state st = { .job = job, .link = link };
    uint64_t out0 = romfs_serial_bytes_written(link->serial), in0 = romfs_serial_bytes_read(link->serial);
    int rc = run_job(&st, image, len, res, err);
    res->repl.session_bytes_out -= out0;   /* this job's share of the connection */
    res->repl.session_bytes_in -= in0;
    return rc;
}
