/* dfuse_model.c: the simulated DfuSe device (see dfuse_model.h). Included by the DFU unit
 * tests (the test build compiles one source file per test). */
#include "dfuse_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char F4_LAYOUT[] = "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg";

void model_init_f4(struct dfuse_model *m)
{
    memset(m, 0, sizeof *m);
    m->base = 0x08000000;
    uint32_t a = m->base;
    for (int i = 0; i < 12; i++) {
        uint32_t size = i < 4 ? 16 * 1024 : i == 4 ? 64 * 1024 : 128 * 1024;
        m->sectors[m->n_sectors++] = (struct model_sector){ a, size, 7, 0 };
        a += size;
    }
    m->size = a - m->base;
    m->mem = malloc(m->size);
    memset(m->mem, 0xff, m->size);
    m->segs[0].base = m->base;
    m->segs[0].size = m->size;
    m->segs[0].mem = m->mem;
    m->n_segs = 1;
    snprintf(m->layout, sizeof m->layout, "%s", F4_LAYOUT);
    m->transfer_size = 2048;
    m->attributes = ROMFS_DFU_CAN_DNLOAD | ROMFS_DFU_CAN_UPLOAD | ROMFS_DFU_WILL_DETACH;
    m->state = ROMFS_DFU_IDLE;
    m->inject_request = -1;
}

bool model_init_layout(struct dfuse_model *m, const char *layout, uint16_t transfer_size, uint8_t attributes)
{
    memset(m, 0, sizeof *m);
    struct romfs_dfuse_layout l;
    if (romfs_dfuse_layout_parse(layout, &l, NULL) != ROMFS_OK)
        return false;
    for (size_t r = 0; r < l.n_runs; r++) {
        const struct romfs_dfuse_run *run = &l.runs[r];
        if (m->n_sectors + run->count > MODEL_MAX_SECTORS)
            return false;
        for (uint32_t k = 0; k < run->count; k++)
            m->sectors[m->n_sectors++] = (struct model_sector){ run->start + k * run->size, run->size, run->attrs, 0 };
        /* a run continuing the last segment extends it */
        if (m->n_segs && m->segs[m->n_segs - 1].base + m->segs[m->n_segs - 1].size == run->start) {
            m->segs[m->n_segs - 1].size += run->count * run->size;
        } else {
            if (m->n_segs == MODEL_MAX_SEGMENTS)
                return false;
            m->segs[m->n_segs].base = run->start;
            m->segs[m->n_segs++].size = run->count * run->size;
        }
    }
    for (size_t i = 0; i < m->n_segs; i++) {
        m->segs[i].mem = malloc(m->segs[i].size);
        if (!m->segs[i].mem)
            return false;
        memset(m->segs[i].mem, 0xff, m->segs[i].size);
    }
    m->base = m->segs[0].base;
    m->size = m->segs[0].size;
    m->mem = m->segs[0].mem;
    snprintf(m->layout, sizeof m->layout, "%s", layout);
    m->transfer_size = transfer_size;
    m->attributes = attributes;
    m->state = ROMFS_DFU_IDLE;
    m->inject_request = -1;
    return true;
}

uint8_t *model_at(struct dfuse_model *m, uint32_t addr)
{
    for (size_t i = 0; i < m->n_segs; i++)
        if (addr >= m->segs[i].base && addr - m->segs[i].base < m->segs[i].size)
            return m->segs[i].mem + (addr - m->segs[i].base);
    return NULL;
}

void model_free(struct dfuse_model *m)
{
    for (size_t i = 0; i < m->n_segs; i++)
        free(m->segs[i].mem);
    m->n_segs = 0;
    m->mem = NULL;
}

void model_fill(struct dfuse_model *m, uint32_t addr, uint32_t len, uint8_t seed)
{
    for (uint32_t i = 0; i < len; i++)
        *model_at(m, addr + i) = (uint8_t)(seed + i * 7 + (i >> 8));
}

int model_sector_index(const struct dfuse_model *m, uint32_t addr)
{
    for (size_t i = 0; i < m->n_sectors; i++)
        if (addr >= m->sectors[i].start && addr - m->sectors[i].start < m->sectors[i].size)
            return (int)i;
    return -1;
}

/* Every byte of [addr, addr+len) lies in sectors with all of `need` attribute bits. */
static bool range_has(const struct dfuse_model *m, uint32_t addr, uint32_t len, uint8_t need)
{
    uint64_t a = addr, end = (uint64_t)addr + len;
    while (a < end) {
        int i = model_sector_index(m, (uint32_t)a);
        if (i < 0 || (m->sectors[i].attrs & need) != need)
            return false;
        a = (uint64_t)m->sectors[i].start + m->sectors[i].size;
    }
    return true;
}

static int stall(struct dfuse_model *m, uint8_t status, struct romfs_error *err)
{
    m->stalls++;
    m->state = ROMFS_DFU_ERROR;
    m->status = status;
    return romfs_set_error(err, ROMFS_ERR_PROTOCOL, "request stalled by the device");
}

static void fail(struct dfuse_model *m, uint8_t status)
{
    m->state = ROMFS_DFU_ERROR;
    m->status = status;
}

/* Carry out the pending DNLOAD (the device does this while in dfuDNBUSY). */
static void execute(struct dfuse_model *m)
{
    const uint8_t *p = m->pending;
    uint16_t len = m->pending_len;
    m->state = ROMFS_DFU_DNLOAD_IDLE;
    if (m->plain) {
        if (m->pending_block != (uint16_t)(m->plain_bytes / m->transfer_size) ||
            m->plain_bytes + len > m->size)
            return fail(m, ROMFS_DFU_ERR_ADDRESS);
        memcpy(m->mem + m->plain_bytes, p, len);
        m->plain_bytes += len;
        m->bytes_programmed += len;
        return;
    }
    if (m->pending_block == 0) {
        uint32_t addr = len >= 5 ? (uint32_t)p[1] | (uint32_t)p[2] << 8 | (uint32_t)p[3] << 16 |
                                       (uint32_t)p[4] << 24 : 0;
        if (p[0] == ROMFS_DFUSE_CMD_SET_ADDRESS && len == 5) {
            if (model_sector_index(m, addr) < 0)
                return fail(m, ROMFS_DFU_ERR_TARGET);
            m->pointer = addr;
            m->pointer_set = true;
        } else if (p[0] == ROMFS_DFUSE_CMD_ERASE && len == 5) {
            int i = model_sector_index(m, addr);
            if (i < 0 || !(m->sectors[i].attrs & ROMFS_DFUSE_ERASABLE))
                return fail(m, ROMFS_DFU_ERR_TARGET);
            if (m->fail_erase_at && model_sector_index(m, m->fail_erase_at) == i)
                return fail(m, ROMFS_DFU_ERR_ERASE);
            memset(model_at(m, m->sectors[i].start), 0xff, m->sectors[i].size);
            m->sectors[i].erase_count++;
        } else if (p[0] == ROMFS_DFUSE_CMD_ERASE && len == 1) {
            for (size_t i = 0; i < m->n_sectors; i++)
                if (m->sectors[i].attrs & ROMFS_DFUSE_ERASABLE) {
                    memset(model_at(m, m->sectors[i].start), 0xff, m->sectors[i].size);
                    m->sectors[i].erase_count++;
                }
        } else {
            return fail(m, ROMFS_DFU_ERR_STALLEDPKT);
        }
        return;
    }
    /* data block */
    if (!m->pointer_set)
        return fail(m, ROMFS_DFU_ERR_ADDRESS);
    uint64_t addr = m->pointer + (uint64_t)(m->pending_block - 2) * m->transfer_size;
    if (addr > 0xffffffffull || !range_has(m, (uint32_t)addr, len, ROMFS_DFUSE_WRITABLE))
        return fail(m, ROMFS_DFU_ERR_TARGET);
    if (m->fail_write_at && m->fail_write_at >= addr && m->fail_write_at < addr + len)
        return fail(m, ROMFS_DFU_ERR_WRITE);
    uint8_t *dst = model_at(m, (uint32_t)addr);
    for (uint16_t i = 0; i < len; i++)
        dst[i] &= p[i];
    if (m->corrupt_at && m->corrupt_at >= addr && m->corrupt_at < addr + len)
        dst[m->corrupt_at - addr] ^= 0x10;
    m->bytes_programmed += len;
    if (memcmp(dst, p, len) != 0)
        return fail(m, ROMFS_DFU_ERR_VERIFY);
}

/* bwPollTimeout the device announces for the pending work. */
static uint32_t work_ms(const struct dfuse_model *m)
{
    if (m->poll_ms_override)
        return m->poll_ms_override;
    if (m->pending_block == 0 && m->pending_len >= 1 && m->pending[0] == ROMFS_DFUSE_CMD_ERASE) {
        if (m->pending_len == 1)
            return 20000;
        uint32_t addr = (uint32_t)m->pending[1] | (uint32_t)m->pending[2] << 8 |
                        (uint32_t)m->pending[3] << 16 | (uint32_t)m->pending[4] << 24;
        int i = model_sector_index(m, addr);
        return i < 0 ? 1 : m->sectors[i].size / 1024 * 8;   /* ~8 ms per KiB */
    }
    if (m->pending_block == 0)
        return 1;
    return 1 + m->pending_len / 256;
}

static int get_status(struct dfuse_model *m, uint8_t *data, uint16_t length, struct romfs_error *err)
{
    if (length < 6)
        return stall(m, ROMFS_DFU_ERR_STALLEDPKT, err);
    uint32_t poll = 0;
    switch (m->state) {
    case ROMFS_DFU_DNLOAD_SYNC:
        m->state = ROMFS_DFU_DNBUSY;
        poll = work_ms(m);
        m->busy_until_ms = m->now_ms + poll;
        break;
    case ROMFS_DFU_DNBUSY:
        if (m->busy_forever) {
            poll = 1000;
            m->busy_until_ms = m->now_ms + poll;
            break;
        }
        execute(m);
        break;
    case ROMFS_DFU_MANIFEST_SYNC:
        if (m->manifested) {   /* tolerant device after manifestation */
            m->state = ROMFS_DFU_IDLE;
            m->manifested = false;
            break;
        }
        m->state = ROMFS_DFU_MANIFEST;
        poll = m->poll_ms_override ? m->poll_ms_override : 10;
        m->busy_until_ms = m->now_ms + poll;
        break;
    case ROMFS_DFU_MANIFEST:
        if (m->manifest_tolerant) {
            m->manifested = true;
            m->state = ROMFS_DFU_MANIFEST_SYNC;
            break;
        }
        if (m->plain) {
            m->state = ROMFS_DFU_MANIFEST_WAIT_RESET;
            break;
        }
        /* DfuSe leave: the device jumps to the pointer and leaves the bus. */
        m->gone = true;
        m->jumped_to = m->pointer;
        return romfs_set_error(err, ROMFS_ERR_DEVICE, "device disconnected");
    default:
        break;
    }
    m->poll_ms = poll;
    data[0] = m->status;
    data[1] = (uint8_t)poll;
    data[2] = (uint8_t)(poll >> 8);
    data[3] = (uint8_t)(poll >> 16);
    data[4] = m->state;
    data[5] = 0;
    return 6;
}

static int dnload(struct dfuse_model *m, uint16_t block, const uint8_t *data, uint16_t length,
                  struct romfs_error *err)
{
    if (m->state != ROMFS_DFU_IDLE && m->state != ROMFS_DFU_DNLOAD_IDLE)
        return stall(m, ROMFS_DFU_ERR_STALLEDPKT, err);
    if (length == 0) {
        if (m->state != ROMFS_DFU_DNLOAD_IDLE && (m->plain || !m->pointer_set))
            return stall(m, ROMFS_DFU_ERR_NOTDONE, err);
        m->state = ROMFS_DFU_MANIFEST_SYNC;
        return 0;
    }
    if (length > m->transfer_size || (block == 1 && !m->plain))
        return stall(m, ROMFS_DFU_ERR_STALLEDPKT, err);
    memcpy(m->pending, data, length);
    m->pending_len = length;
    m->pending_block = block;
    m->state = ROMFS_DFU_DNLOAD_SYNC;
    return length;
}

static int upload(struct dfuse_model *m, uint16_t block, uint8_t *data, uint16_t length,
                  struct romfs_error *err)
{
    if (m->state != ROMFS_DFU_IDLE && m->state != ROMFS_DFU_UPLOAD_IDLE)
        return stall(m, ROMFS_DFU_ERR_STALLEDPKT, err);
    if (block == 0) {
        static const uint8_t cmds[] = { 0x00, 0x21, 0x41, 0x92 };
        uint16_t n = length < sizeof cmds ? length : sizeof cmds;
        memcpy(data, cmds, n);
        m->state = ROMFS_DFU_IDLE;
        return n;
    }
    if (block == 1 || length > m->transfer_size || !m->pointer_set)
        return stall(m, ROMFS_DFU_ERR_STALLEDPKT, err);
    uint64_t addr = m->pointer + (uint64_t)(block - 2) * m->transfer_size;
    if (addr > 0xffffffffull || !range_has(m, (uint32_t)addr, length, ROMFS_DFUSE_READABLE))
        return stall(m, ROMFS_DFU_ERR_TARGET, err);
    memcpy(data, model_at(m, (uint32_t)addr), length);
    m->state = ROMFS_DFU_UPLOAD_IDLE;
    return length;
}

static int model_control(void *ctx, bool in, uint8_t request, uint16_t value, uint8_t *data,
                         uint16_t length, unsigned timeout_ms, struct romfs_error *err)
{
    (void)timeout_ms;
    struct dfuse_model *m = ctx;
    if (m->gone)
        return romfs_set_error(err, ROMFS_ERR_DEVICE, "device disconnected");
    if (request < 7)
        m->requests[request]++;
    if (m->now_ms < m->busy_until_ms) {
        m->early_requests++;
        return romfs_set_error(err, ROMFS_ERR_TIMEOUT, "no answer (device busy)");
    }
    if (m->inject_request == request && m->inject_countdown && --m->inject_countdown == 0) {
        if (m->inject_kind == INJECT_STALL)
            return stall(m, ROMFS_DFU_ERR_STALLEDPKT, err);
        if (m->inject_kind == INJECT_TIMEOUT)
            return romfs_set_error(err, ROMFS_ERR_TIMEOUT, "no answer within %u ms", timeout_ms);
    }
    bool want_in = request == ROMFS_DFU_UPLOAD || request == ROMFS_DFU_GETSTATUS ||
                   request == ROMFS_DFU_GETSTATE;
    if (in != want_in)
        return stall(m, ROMFS_DFU_ERR_STALLEDPKT, err);
    switch (request) {
    case ROMFS_DFU_GETSTATUS:
        return get_status(m, data, length, err);
    case ROMFS_DFU_GETSTATE:
        if (length < 1)
            return stall(m, ROMFS_DFU_ERR_STALLEDPKT, err);
        data[0] = m->state;
        return 1;
    case ROMFS_DFU_CLRSTATUS:
        if (m->state != ROMFS_DFU_ERROR)
            return stall(m, ROMFS_DFU_ERR_STALLEDPKT, err);
        m->state = ROMFS_DFU_IDLE;
        m->status = ROMFS_DFU_OK;
        return 0;
    case ROMFS_DFU_ABORT:
        if (m->state != ROMFS_DFU_IDLE && m->state != ROMFS_DFU_DNLOAD_IDLE &&
            m->state != ROMFS_DFU_UPLOAD_IDLE && m->state != ROMFS_DFU_DNLOAD_SYNC &&
            m->state != ROMFS_DFU_MANIFEST_SYNC)
            return stall(m, ROMFS_DFU_ERR_STALLEDPKT, err);
        m->state = ROMFS_DFU_IDLE;
        return 0;
    case ROMFS_DFU_DNLOAD:
        return dnload(m, value, data, length, err);
    case ROMFS_DFU_UPLOAD:
        return upload(m, value, data, length, err);
    default:
        return stall(m, ROMFS_DFU_ERR_STALLEDPKT, err);
    }
}

static void model_sleep(void *ctx, uint32_t ms)
{
    struct dfuse_model *m = ctx;
    m->now_ms += ms;
}

struct romfs_dfu_usb model_usb(struct dfuse_model *m)
{
    struct romfs_dfu_usb u;
    memset(&u, 0, sizeof u);
    u.ctx = m;
    u.control = model_control;
    u.sleep_ms = model_sleep;
    u.transfer_size = m->transfer_size;
    u.attributes = m->attributes;
    u.dfu_version = 0x011a;
    snprintf(u.layout, sizeof u.layout, "%s", m->layout);
    snprintf(u.description, sizeof u.description, "model");
    return u;
}
