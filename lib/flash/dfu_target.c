/* dfu_target.c: struct romfs_target over a DfuSe interface. erase = DfuSe page erase of
 * exactly the sectors a range covers (sectors may differ in size), prog = set address +
 * DNLOAD, read = UPLOAD. */
#include "flash/dfu_target.h"
#include "boards/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dfu_target {
    struct romfs_dfu dfu;
    struct romfs_dfuse_layout layout;
    uint64_t address, size;
    uint64_t sectors_erased;   /* statistics */
};

static int check_range(struct dfu_target *dt, uint64_t offset, uint64_t len, const char *what,
                       struct romfs_error *err)
{
    if (offset > dt->size || len > dt->size - offset)
        return romfs_set_error(err, ROMFS_ERR_RANGE,
                               "DFU %s of %llu bytes at partition offset 0x%llx is outside the "
                               "%llu-byte partition", what, (unsigned long long)len,
                               (unsigned long long)offset, (unsigned long long)dt->size);
    return ROMFS_OK;
}

static int target_erase(void *ctx, uint64_t offset, uint64_t len, struct romfs_error *err)
{
    struct dfu_target *dt = ctx;
    int rc = check_range(dt, offset, len, "erase", err);
    if (rc)
        return rc;
    uint64_t a = dt->address + offset, end = a + len;
    while (a < end) {
        uint32_t start, size;
        uint8_t attrs;
        if (!romfs_dfuse_layout_sector(&dt->layout, a, &start, &size, &attrs))
            return romfs_set_error(err, ROMFS_ERR_RANGE, "%s: no sector at 0x%08llx in layout",
                                   dt->dfu.usb.description, (unsigned long long)a);
        if (start != a || (uint64_t)start + size > end)
            return romfs_set_error(err, ROMFS_ERR_INVAL,
                                   "%s: erase of 0x%08llx..0x%08llx would erase the whole "
                                   "sector 0x%08x..0x%08llx", dt->dfu.usb.description,
                                   (unsigned long long)(dt->address + offset),
                                   (unsigned long long)end, (unsigned)start,
                                   (unsigned long long)start + size);
        if ((attrs & (ROMFS_DFUSE_ERASABLE | ROMFS_DFUSE_WRITABLE)) !=
            (ROMFS_DFUSE_ERASABLE | ROMFS_DFUSE_WRITABLE))
            return romfs_set_error(err, ROMFS_ERR_INVAL,
                                   "%s: sector 0x%08x is not erasable and writable (type '%c')",
                                   dt->dfu.usb.description, (unsigned)start, 'a' + attrs - 1);
        rc = romfs_dfuse_erase_page(&dt->dfu, start, err);
        if (rc)
            return rc;
        dt->sectors_erased++;
        a = (uint64_t)start + size;
    }
    return ROMFS_OK;
}

static int target_prog(void *ctx, uint64_t offset, const void *buf, size_t len,
                       struct romfs_error *err)
{
    struct dfu_target *dt = ctx;
    int rc = check_range(dt, offset, len, "write", err);
    if (rc)
        return rc;
    return romfs_dfuse_write(&dt->dfu, (uint32_t)(dt->address + offset), buf, len, err);
}

static int target_read(void *ctx, uint64_t offset, void *buf, size_t len,
                       struct romfs_error *err)
{
    struct dfu_target *dt = ctx;
    int rc = check_range(dt, offset, len, "read", err);
    if (rc)
        return rc;
    return romfs_dfuse_read(&dt->dfu, (uint32_t)(dt->address + offset), buf, len, err);
}

static int target_sync(void *ctx, struct romfs_error *err)
{
    struct dfu_target *dt = ctx;
    return romfs_dfu_make_idle(&dt->dfu, err);
}

static void target_close(void *ctx)
{
    struct dfu_target *dt = ctx;
    romfs_dfu_close(&dt->dfu);
    free(dt);
}

/* Geometry: the partition must be whole sectors, all erasable+writable+readable, and no
 * sector may straddle an erase_size block (erase_size = the largest sector). */
static int plan_geometry(const struct romfs_dfuse_layout *layout, uint64_t address, uint64_t psize,
                         const char *desc, uint32_t *erase_size, struct romfs_error *err)
{
    uint64_t a = address, end = address + psize;
    uint32_t largest = 0;
    while (a < end) {
        uint32_t start, size;
        uint8_t attrs;
        if (!romfs_dfuse_layout_sector(layout, a, &start, &size, &attrs))
            return romfs_set_error(err, ROMFS_ERR_INVAL,
                                   "%s: partition 0x%08llx..0x%08llx is not inside the device's "
                                   "DfuSe layout (\"%s\"): no sector at 0x%08llx", desc,
                                   (unsigned long long)address, (unsigned long long)end,
                                   layout->name, (unsigned long long)a);
        if (start != a)
            return romfs_set_error(err, ROMFS_ERR_INVAL,
                                   "%s: partition start 0x%08llx is inside sector 0x%08x (%u bytes)",
                                   desc, (unsigned long long)a, (unsigned)start, (unsigned)size);
        if ((attrs & 7) != 7)
            return romfs_set_error(err, ROMFS_ERR_INVAL,
                                   "%s: sector 0x%08x of the partition is type '%c', not "
                                   "readable+erasable+writable ('g')", desc, (unsigned)start,
                                   'a' + attrs - 1);
        if (size > largest)
            largest = size;
        a = (uint64_t)start + size;
    }
    if (a != end)
        return romfs_set_error(err, ROMFS_ERR_INVAL,
                               "%s: partition end 0x%08llx is inside a sector ending at 0x%08llx",
                               desc, (unsigned long long)end, (unsigned long long)a);
    if (largest & (largest - 1))
        return romfs_set_error(err, ROMFS_ERR_UNSUPPORTED,
                               "%s: sector size %u is not a power of two", desc, (unsigned)largest);
    if (psize % largest)
        return romfs_set_error(err, ROMFS_ERR_UNSUPPORTED,
                               "%s: partition of %llu bytes is not a multiple of its largest "
                               "sector (%u bytes)", desc, (unsigned long long)psize,
                               (unsigned)largest);
    for (a = address; a < end;) {
        uint32_t start, size;
        romfs_dfuse_layout_sector(layout, a, &start, &size, NULL);
        if ((start - address) / largest != (start + size - 1 - address) / largest)
            return romfs_set_error(err, ROMFS_ERR_UNSUPPORTED,
                                   "%s: sector 0x%08x straddles a %u-byte erase block", desc,
                                   (unsigned)start, (unsigned)largest);
        a = (uint64_t)start + size;
    }
    *erase_size = largest;
    return ROMFS_OK;
}

int romfs_dfu_check_partition(const char *layout, uint64_t address, uint64_t size,
                              uint32_t *erase_size, struct romfs_error *err)
{
    struct romfs_dfuse_layout l;
    uint32_t es = 0;
    int rc = romfs_dfuse_layout_parse(layout, &l, err);
    if (rc == ROMFS_OK)
        rc = plan_geometry(&l, address, size, "DfuSe layout", &es, err);
    if (rc == ROMFS_OK && erase_size)
        *erase_size = es;
    return rc;
}

int romfs_dfu_target_init(const struct romfs_dfu_usb *usb,
                          const struct romfs_dfu_target_options *o, struct romfs_target *t,
                          struct romfs_error *err)
{
    memset(t, 0, sizeof *t);
    struct dfu_target *dt = calloc(1, sizeof *dt);
    if (!dt) {
        if (usb->close)
            usb->close(usb->ctx);
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    }
    romfs_dfu_init(&dt->dfu, usb);
    dt->address = o->address;
    dt->size = o->size;
    const char *desc = usb->description;
    int rc;
    uint32_t erase_size = 0, write_size = o->write_size ? o->write_size : 8;
    if (o->size == 0 || o->address + o->size > 0x100000000ull) {
        rc = romfs_set_error(err, ROMFS_ERR_RANGE,
                             "%s: partition 0x%llx + %llu bytes is not in the 32-bit DfuSe "
                             "address space", desc, (unsigned long long)o->address,
                             (unsigned long long)o->size);
        goto fail;
    }
    if (!(usb->attributes & ROMFS_DFU_CAN_DNLOAD) || !(usb->attributes & ROMFS_DFU_CAN_UPLOAD)) {
        rc = romfs_set_error(err, ROMFS_ERR_UNSUPPORTED,
                             "%s: the DFU interface cannot %s (bmAttributes 0x%02x)", desc,
                             (usb->attributes & ROMFS_DFU_CAN_DNLOAD) ? "upload (read back)"
                                                                       : "download",
                             usb->attributes);
        goto fail;
    }
    rc = romfs_dfuse_layout_parse(o->layout ? o->layout : usb->layout, &dt->layout, err);
    if (rc) {
        romfs_error_prefix(err, "%s", desc);
        goto fail;
    }
    rc = plan_geometry(&dt->layout, dt->address, dt->size, desc, &erase_size, err);
    if (rc)
        goto fail;
    if (write_size & (write_size - 1) || write_size > erase_size) {
        rc = romfs_set_error(err, ROMFS_ERR_INVAL, "write size %u unusable with %u-byte sectors",
                             (unsigned)write_size, (unsigned)erase_size);
        goto fail;
    }
    rc = romfs_dfu_make_idle(&dt->dfu, err);
    if (rc)
        goto fail;
    *t = (struct romfs_target){
        .name = "dfu",
        .ctx = dt,
        .base_address = o->address,
        .size = o->size,
        .erase_size = erase_size,
        .write_size = write_size,
        .max_transfer = erase_size,
        .read = target_read,
        .erase = target_erase,
        .prog = target_prog,
        .sync = target_sync,
        .close = target_close,
        .device_erase_size = erase_size,
        .device_erase_source = "the DfuSe layout",
    };
    return ROMFS_OK;
fail:
    target_close(dt);
    return rc;
}

int romfs_dfu_target_open(const struct romfs_dfu_match *m,
                          const struct romfs_dfu_target_options *o, struct romfs_target *t,
                          struct romfs_error *err)
{
    struct romfs_dfu_usb usb;
    int rc = romfs_dfu_usb_open(m, o->address, &usb, err);
    if (rc)
        return rc;
    return romfs_dfu_target_init(&usb, o, t, err);
}

struct romfs_dfu *romfs_dfu_target_session(struct romfs_target *t)
{
    if (!t || !t->name || strcmp(t->name, "dfu") != 0 || t->close != target_close)
        return NULL;
    return &((struct dfu_target *)t->ctx)->dfu;
}

int romfs_dfu_target_leave(struct romfs_target *t, uint32_t jump_address,
                           struct romfs_error *err)
{
    struct romfs_dfu *d = romfs_dfu_target_session(t);
    if (!d)
        return romfs_set_error(err, ROMFS_ERR_INVAL, "not a DFU target");
    struct dfu_target *dt = t->ctx;
    if (jump_address == 0 && dt->layout.n_runs)
        jump_address = dt->layout.runs[0].start;
    return romfs_dfuse_leave(d, jump_address, err);
}

int romfs_dfu_match_init(struct romfs_dfu_match *m, const struct romfs_board *board,
                         const char *device, const char *serial, int alt, struct romfs_error *err)
{
    return romfs_dfu_match_for(m, board, NULL, device, serial, alt, err);
}

int romfs_dfu_leave_usb(const struct romfs_dfu_usb *usb, uint32_t jump_address, struct romfs_error *err)
{
    struct romfs_dfu d;
    romfs_dfu_init(&d, usb);
    if (jump_address == 0) {
        struct romfs_dfuse_layout l;
        if (romfs_dfuse_layout_parse(usb->layout, &l, NULL) == ROMFS_OK && l.n_runs)
            jump_address = l.runs[0].start;
    }
    int rc = romfs_dfuse_leave(&d, jump_address, err);
    romfs_dfu_close(&d);
    return rc;
}

int romfs_dfu_leave_device(const struct romfs_dfu_match *m, uint64_t address,
                           uint32_t jump_address, struct romfs_error *err)
{
    struct romfs_dfu_usb usb;
    int rc = romfs_dfu_usb_open(m, address, &usb, err);
    return rc ? rc : romfs_dfu_leave_usb(&usb, jump_address, err);
}
