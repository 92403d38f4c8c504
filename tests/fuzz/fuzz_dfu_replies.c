/* fuzz_dfu_replies.c: the DFU/DfuSe host against a device whose every reply (status,
 * state, poll timeout, upload data, stalls, short transfers) comes from the fuzz input:
 * no crash, no out-of-bounds access, no endless loop, whatever the device says. */
#include <stdlib.h>
#include <string.h>

#include "flash/dfu_target.h"

struct feed {
    const uint8_t *p;
    size_t left;
};

static uint8_t next(struct feed *f)
{
    if (!f->left)
        return 0xff;
    f->left--;
    return *f->p++;
}

static int fake_control(void *ctx, bool in, uint8_t request, uint16_t value, uint8_t *data,
                        uint16_t length, unsigned timeout_ms, struct romfs_error *err)
{
    (void)request, (void)value, (void)timeout_ms;
    struct feed *f = ctx;
    if (!f->left)
        return romfs_set_error(err, ROMFS_ERR_DEVICE, "device disconnected");
    uint8_t how = next(f);
    if (how < 16)
        return romfs_set_error(err, ROMFS_ERR_PROTOCOL, "request stalled by the device");
    if (how < 24)
        return romfs_set_error(err, ROMFS_ERR_TIMEOUT, "no answer");
    if (!in)
        return how < 40 ? (int)(length / 2) : (int)length;
    uint16_t n = how < 48 ? (uint16_t)(next(f) % (length + 1)) : length;
    for (uint16_t i = 0; i < n; i++)
        data[i] = next(f);
    return n;
}

static void no_sleep(void *ctx, uint32_t ms)
{
    (void)ctx, (void)ms;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct feed f = { data, size };
    struct romfs_dfu_usb usb;
    memset(&usb, 0, sizeof usb);
    usb.ctx = &f;
    usb.control = fake_control;
    usb.sleep_ms = no_sleep;
    usb.transfer_size = 64;
    usb.attributes = ROMFS_DFU_CAN_DNLOAD | ROMFS_DFU_CAN_UPLOAD;
    strcpy(usb.layout, "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg");
    strcpy(usb.description, "fuzz");
    struct romfs_dfu_target_options o = { 0x08000000, 128 * 1024, NULL, 0 };
    struct romfs_target t;
    struct romfs_error err;
    if (romfs_dfu_target_init(&usb, &o, &t, &err) != ROMFS_OK)
        return 0;
    struct romfs_dfu *d = romfs_dfu_target_session(&t);
    d->busy_limit_ms = 5000;
    uint8_t buf[200];
    memset(buf, 0x5a, sizeof buf);
    t.erase(t.ctx, 0, 64 * 1024, &err);
    t.prog(t.ctx, 0, buf, sizeof buf, &err);
    t.read(t.ctx, 16, buf, sizeof buf, &err);
    romfs_dfu_target_leave(&t, 0, &err);
    t.close(t.ctx);
    return 0;
}
