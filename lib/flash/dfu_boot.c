/* dfu_boot.c: which of a board's DFU bootloaders can write a partition, and what to tell
 * the user about it. An STM32 board has the system bootloader in ROM (its DfuSe layout
 * covers internal flash) and may have MicroPython's mboot, whose layout adds the external
 * SPI/QSPI flash it maps (boards.json "dfu" and "dfu"."mboot"). `flash --via dfu` and
 * `convert --dfu` both ask romfs_dfu_boot_choose, so they agree on the bootloader, its USB
 * id and alternate setting. */
#include "flash/dfu_target.h"
#include "boards/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *romfs_dfu_boot_name(enum romfs_dfu_bootloader kind)
{
    switch (kind) {
    case ROMFS_DFU_BOOT_SYSTEM: return "the STM32 system bootloader";
    case ROMFS_DFU_BOOT_MBOOT: return "mboot";
    case ROMFS_DFU_BOOT_VENDOR: return "the board's own DFU bootloader";
    default: return "the board's DFU bootloader";
    }
}

const char *romfs_dfu_boot_how(enum romfs_dfu_bootloader kind)
{
    switch (kind) {
    case ROMFS_DFU_BOOT_SYSTEM:
        return "hold BOOT0 high while resetting the board";
    case ROMFS_DFU_BOOT_MBOOT:
        /* mboot/README.md, mboot/ui.c: USR held through reset cycles the reset modes; the
           4th is the bootloader (all three LEDs on a pyboard) */
        return "run machine.bootloader() at the board's REPL, or hold USR while resetting and "
               "release it at the 4th LED pattern";
    case ROMFS_DFU_BOOT_VENDOR:
        return "see the board's documentation for how to start it";
    default:
        return "BOOT0 high and reset, or machine.bootloader() at the REPL";
    }
}

static enum romfs_dfu_bootloader kind_of(const char *kind)
{
    if (!kind)
        return ROMFS_DFU_BOOT_UNKNOWN;
    if (strcmp(kind, "system") == 0)
        return ROMFS_DFU_BOOT_SYSTEM;
    if (strcmp(kind, "mboot") == 0)
        return ROMFS_DFU_BOOT_MBOOT;
    if (strcmp(kind, "vendor") == 0)
        return ROMFS_DFU_BOOT_VENDOR;
    return ROMFS_DFU_BOOT_UNKNOWN;
}

/* The board's DFU bootloaders as candidates: "dfu" first, then each of mboot's interfaces
 * (';'-separated layouts: alt 0, 1, ...). Returns how many (at most max). */
static size_t candidates(const struct romfs_board *b, struct romfs_dfu_boot *c, size_t max)
{
    size_t n = 0;
    if (b->dfu_usb && n < max) {
        struct romfs_dfu_boot *x = &c[n++];
        memset(x, 0, sizeof *x);
        x->kind = kind_of(b->dfu_kind);
        if (romfs_dfu_parse_id(b->dfu_usb, &x->vid, &x->pid, NULL) != ROMFS_OK) {
            x->vid = ROMFS_DFU_DEFAULT_VID;
            x->pid = ROMFS_DFU_DEFAULT_PID;
        }
        x->alt = b->dfu_alt >= 0 ? b->dfu_alt : 0;
        snprintf(x->layout, sizeof x->layout, "%s", b->dfu_layout ? b->dfu_layout : "");
    }
    if (b->mboot_usb) {
        const char *p = b->mboot_layout ? b->mboot_layout : "";
        for (int alt = 0; n < max; alt++) {
            struct romfs_dfu_boot *x = &c[n++];
            memset(x, 0, sizeof *x);
            x->kind = ROMFS_DFU_BOOT_MBOOT;
            if (romfs_dfu_parse_id(b->mboot_usb, &x->vid, &x->pid, NULL) != ROMFS_OK) {
                x->vid = ROMFS_DFU_DEFAULT_VID;
                x->pid = ROMFS_DFU_DEFAULT_PID;
            }
            x->alt = alt;
            const char *end = strchr(p, ';');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            snprintf(x->layout, sizeof x->layout, "%.*s", (int)len, p);
            if (!end)
                break;
            p = end + 1;
        }
    }
    return n;
}

/* "0483:df11" */
static void id_text(const struct romfs_dfu_boot *x, char *buf, size_t cap)
{
    snprintf(buf, cap, "%04x:%04x", x->vid, x->pid);
}

/* Whether every byte of [start, start + size) lies in sectors of the layout that can be
 * erased and written (a .dfu element: the bootloader erases the sectors it touches). */
static int covered(const char *layout, uint64_t start, uint64_t size, struct romfs_error *err)
{
    struct romfs_dfuse_layout l;
    int rc = romfs_dfuse_layout_parse(layout, &l, err);
    for (uint64_t a = start; rc == ROMFS_OK && a < start + size;) {
        uint32_t s0, sz;
        uint8_t attrs;
        if (!romfs_dfuse_layout_sector(&l, a, &s0, &sz, &attrs))
            return romfs_set_error(err, ROMFS_ERR_INVAL, "DfuSe layout: 0x%08llx..0x%08llx is not inside it: "
                                   "no sector at 0x%08llx", (unsigned long long)start,
                                   (unsigned long long)(start + size), (unsigned long long)a);
        if ((attrs & (ROMFS_DFUSE_ERASABLE | ROMFS_DFUSE_WRITABLE)) != (ROMFS_DFUSE_ERASABLE | ROMFS_DFUSE_WRITABLE))
            return romfs_set_error(err, ROMFS_ERR_INVAL, "DfuSe layout: sector 0x%08x of 0x%08llx..0x%08llx is "
                                   "type '%c', not erasable and writable", (unsigned)s0, (unsigned long long)start,
                                   (unsigned long long)(start + size), 'a' + attrs - 1);
        a = (uint64_t)s0 + sz;
    }
    return rc;
}

/* Whether the layout takes every range; err says why not. */
static int takes(const char *layout, const struct romfs_dfu_range *r, size_t n, struct romfs_error *err)
{
    int rc = ROMFS_OK;
    for (size_t i = 0; i < n && rc == ROMFS_OK; i++)
        rc = r[i].whole_sectors ? romfs_dfu_check_partition(layout, r[i].start, r[i].size, NULL, err)
                                : covered(layout, r[i].start, r[i].size, err);
    return rc;
}

int romfs_dfu_boot_choose_ranges(const struct romfs_board *b, const struct romfs_dfu_range *r, size_t nr,
                                 struct romfs_dfu_boot *out, struct romfs_error *err)
{
    struct romfs_dfu_boot c[8];
    size_t n = b ? candidates(b, c, sizeof c / sizeof c[0]) : 0;
    memset(out, 0, sizeof *out);
    out->vid = ROMFS_DFU_DEFAULT_VID;
    out->pid = ROMFS_DFU_DEFAULT_PID;
    int chosen = -1, unknown = -1, near = -1, fitting = 0;
    struct romfs_error near_err = { 0 };
    for (size_t i = 0; i < n; i++) {
        if (!c[i].layout[0]) {
            if (unknown < 0)
                unknown = (int)i;
            continue;
        }
        struct romfs_error e = { 0 };
        if (takes(c[i].layout, r, nr, &e) == ROMFS_OK) {
            fitting++;
            if (chosen < 0)
                chosen = (int)i;
            continue;
        }
        /* a layout that holds the first range's start explains the refusal best */
        struct romfs_dfuse_layout l;
        if (near < 0 && nr && romfs_dfuse_layout_parse(c[i].layout, &l, NULL) == ROMFS_OK &&
            romfs_dfuse_layout_sector(&l, r[0].start, NULL, NULL, NULL)) {
            near = (int)i;
            near_err = e;
        }
    }
    if (chosen < 0)
        chosen = unknown;   /* a bootloader whose layout is not recorded: the device decides */
    if (chosen < 0 && n == 0)
        return ROMFS_OK;    /* nothing recorded: ST's id, any layout */
    if (chosen < 0) {
        char list[700] = "";
        size_t used = 0;
        for (size_t i = 0; i < n && used < sizeof list; i++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s's (\"%s\")",
                                     i == 0 ? "" : i + 1 == n ? " nor " : ", ",
                                     romfs_dfu_boot_name(c[i].kind), c[i].layout);
        if (near >= 0 && n == 1)
            return romfs_set_error(err, ROMFS_ERR_INVAL, "%s's %s", romfs_dfu_boot_name(c[near].kind),
                                   near_err.msg);
        uint64_t lo = nr ? r[0].start : 0, hi = lo;
        for (size_t i = 0; i < nr; i++) {
            lo = r[i].start < lo ? r[i].start : lo;
            hi = r[i].start + r[i].size > hi ? r[i].start + r[i].size : hi;
        }
        return romfs_set_error(err, ROMFS_ERR_INVAL,
                               "%s 0x%08llx..0x%08llx %s in no DfuSe layout of board %s's DFU bootloaders: "
                               "not in %s%s%s", nr == 1 && r[0].whole_sectors ? "partition" : "data at",
                               (unsigned long long)lo, (unsigned long long)hi, nr == 1 ? "is" : "is not all",
                               b->name, list, near >= 0 ? "; " : "", near >= 0 ? near_err.msg : "");
    }
    *out = c[chosen];
    out->only = fitting + (unknown >= 0) == 1;
    /* the hint: every bootloader that takes the ranges, and how to start it */
    size_t used = 0;
    for (size_t i = 0; i < n && used < sizeof out->hint; i++) {
        if ((int)i != chosen && (!c[i].layout[0] || takes(c[i].layout, r, nr, NULL) != ROMFS_OK))
            continue;
        char id[16];
        id_text(&c[i], id, sizeof id);
        used += (size_t)snprintf(out->hint + used, sizeof out->hint - used, "%s%s (%s): %s",
                                 used ? "; or " : "", romfs_dfu_boot_name(c[i].kind), id,
                                 romfs_dfu_boot_how(c[i].kind));
    }
    return ROMFS_OK;
}

int romfs_dfu_boot_choose(const struct romfs_board *b, uint64_t address, uint64_t size,
                          struct romfs_dfu_boot *out, struct romfs_error *err)
{
    struct romfs_dfu_range r = { address, size, true };
    return romfs_dfu_boot_choose_ranges(b, &r, 1, out, err);
}

enum romfs_dfu_bootloader romfs_dfu_boot_identify(const struct romfs_board *b, const char *device_layout)
{
    struct romfs_dfu_boot c[8];
    size_t n = b && device_layout ? candidates(b, c, sizeof c / sizeof c[0]) : 0;
    size_t dl = device_layout ? strlen(device_layout) : 0;
    while (dl && (device_layout[dl - 1] == ' ' || device_layout[dl - 1] == '\0'))
        dl--;
    for (size_t i = 0; i < n; i++)
        if (c[i].layout[0] && strlen(c[i].layout) == dl && strncmp(c[i].layout, device_layout, dl) == 0)
            return c[i].kind;
    return ROMFS_DFU_BOOT_UNKNOWN;
}

int romfs_dfu_match_for(struct romfs_dfu_match *m, const struct romfs_board *b,
                        const struct romfs_dfu_boot *boot, const char *device, const char *serial, int alt,
                        struct romfs_error *err)
{
    memset(m, 0, sizeof *m);
    m->serial = serial;
    m->alt = alt;
    m->bootloader = boot && boot->hint[0] ? boot->hint : NULL;
    if (device) {
        int rc = romfs_dfu_parse_id(device, &m->vid[0], &m->pid[0], err);
        if (rc)
            return romfs_error_prefix(err, "DFU device id");
        m->n_ids = 1;
        return ROMFS_OK;
    }
    struct romfs_dfu_boot c[8];
    size_t n = b ? candidates(b, c, sizeof c / sizeof c[0]) : 0;
    uint16_t want_v[10], want_p[10];
    size_t k = 0;
    if (boot && (boot->vid || boot->pid)) {
        want_v[k] = boot->vid;
        want_p[k++] = boot->pid;
    }
    for (size_t i = 0; i < n; i++) {
        want_v[k] = c[i].vid;
        want_p[k++] = c[i].pid;
    }
    want_v[k] = ROMFS_DFU_DEFAULT_VID;
    want_p[k++] = ROMFS_DFU_DEFAULT_PID;
    for (size_t i = 0; i < k && m->n_ids < sizeof m->vid / sizeof m->vid[0]; i++) {
        bool dup = false;
        for (size_t j = 0; j < m->n_ids; j++)
            dup = dup || (m->vid[j] == want_v[i] && m->pid[j] == want_p[i]);
        if (!dup) {
            m->vid[m->n_ids] = want_v[i];
            m->pid[m->n_ids++] = want_p[i];
        }
    }
    return ROMFS_OK;   /* alt -1: chosen by which alt's DfuSe layout covers the partition */
}
