/* dfu_model_bench.c: figures for bench_dfu.sh: romfs_flash_image over the DfuSe target
 * against the DfuSe device model (tests/unit/dfuse_model.c), in virtual device time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/unit/dfuse_model.c"
#include "flash/dfu_target.h"

struct run {
    unsigned long long transfers, bytes_out, bytes_in, device_ms, erases;
};

static void one(struct dfuse_model *m, const uint8_t *img, size_t len, bool full, struct run *r)
{
    struct romfs_dfu_usb usb = model_usb(m);
    struct romfs_dfu_target_options o = { 0x08020000, 768 * 1024, NULL, 0 };
    struct romfs_target t;
    struct romfs_error err = { 0 };
    unsigned before_req = 0, before_erase = 0;
    for (int i = 0; i < 7; i++)
        before_req += m->requests[i];
    for (size_t i = 0; i < m->n_sectors; i++)
        before_erase += m->sectors[i].erase_count;
    uint64_t before_ms = m->now_ms, before_prog = m->bytes_programmed;
    if (romfs_dfu_target_init(&usb, &o, &t, &err) != ROMFS_OK) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    struct romfs_flash_options fo = { .full = full };
    struct romfs_flash_report rep;
    if (romfs_flash_image(&t, img, len, &fo, &rep, &err) != ROMFS_OK) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    struct romfs_dfu *d = romfs_dfu_target_session(&t);
    unsigned req = 0, erase = 0;
    for (int i = 0; i < 7; i++)
        req += m->requests[i];
    for (size_t i = 0; i < m->n_sectors; i++)
        erase += m->sectors[i].erase_count;
    r->transfers = req - before_req;
    r->bytes_out = m->bytes_programmed - before_prog;
    r->bytes_in = (unsigned long long)m->requests[ROMFS_DFU_UPLOAD] * m->transfer_size;
    r->device_ms = m->now_ms - before_ms;
    r->erases = erase - before_erase;
    (void)d;
    t.close(t.ctx);
}

int main(int argc, char **argv)
{
    size_t len = argc > 1 ? strtoul(argv[1], NULL, 0) : 512 * 1024;
    uint8_t *img = malloc(len);
    for (size_t i = 0; i < len; i++)
        img[i] = (uint8_t)(i * 2654435761u >> 13);
    struct dfuse_model m;
    model_init_f4(&m);
    struct run full, again, onebyte;
    one(&m, img, len, true, &full);
    memset(m.requests, 0, sizeof m.requests);
    one(&m, img, len, false, &again);
    memset(m.requests, 0, sizeof m.requests);
    img[len - 100] ^= 1;
    one(&m, img, len, false, &onebyte);
    printf("image %zu bytes into 768 KiB at 0x08020000 (STM32F4 layout, wTransferSize %u)\n", len,
           m.transfer_size);
    printf("%-22s %10s %12s %10s %8s\n", "case", "transfers", "programmed", "device ms", "erases");
    struct run *rs[] = { &full, &again, &onebyte };
    const char *names[] = { "full write", "unchanged re-run", "one byte changed" };
    for (int i = 0; i < 3; i++)
        printf("%-22s %10llu %12llu %10llu %8llu\n", names[i], rs[i]->transfers,
               rs[i]->bytes_out, rs[i]->device_ms, rs[i]->erases);
    printf("one-byte change vs full write: %.2fx the device time, %.2fx the transfers\n",
           (double)onebyte.device_ms / (double)full.device_ms,
           (double)onebyte.transfers / (double)full.transfers);
    model_free(&m);
    free(img);
    return 0;
}
