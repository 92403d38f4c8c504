/* test_dfu.c: the DFU stack (DfuSe layout, DFU/DfuSe protocol, flash target, the shared
 * writer romfs_flash_image) against the DfuSe device model, and the libusb backend for
 * real (no USB device is attached on a build machine). */
#include "unit.h"

#include "dfuse_model.c"
#include "flash/dfu_target.h"
#include "flash/flash.h"

#define F4 0x08000000u
#define SECTOR5 0x08020000u   /* first 128K sector */

static uint8_t *make_image(size_t len, uint8_t seed)
{
    uint8_t *p = malloc(len);
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(seed ^ (i * 31 + (i >> 9)));
    return p;
}

static int open_target(struct dfuse_model *m, uint32_t addr, uint32_t size, const char *layout,
                       struct romfs_target *t, struct romfs_error *err)
{
    struct romfs_dfu_usb usb = model_usb(m);
    struct romfs_dfu_target_options o = { addr, size, layout, 0 };
    return romfs_dfu_target_init(&usb, &o, t, err);
}

static void test_layout_f4(void)
{
    struct romfs_dfuse_layout l;
    struct romfs_error err = { 0 };
    CHECK(romfs_dfuse_layout_parse("@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg", &l,
                                   &err) == ROMFS_OK);
    CHECK(strcmp(l.name, "Internal Flash") == 0);
    CHECK_EQ_U(l.n_runs, 3);
    CHECK_EQ_U(l.runs[1].start, 0x08010000);
    CHECK_EQ_U(l.runs[2].size, 128 * 1024);
    CHECK_EQ_U(l.runs[2].count, 7);
    uint32_t start, size;
    uint8_t attrs;
    CHECK(romfs_dfuse_layout_sector(&l, 0x0800c123, &start, &size, &attrs));
    CHECK_EQ_U(start, 0x0800c000);
    CHECK_EQ_U(size, 16 * 1024);
    CHECK_EQ_U(attrs, 7);
    CHECK(romfs_dfuse_layout_sector(&l, 0x080fffff, &start, &size, NULL));
    CHECK_EQ_U(start, 0x080e0000);
    CHECK(!romfs_dfuse_layout_sector(&l, 0x08100000, NULL, NULL, NULL));
    CHECK(!romfs_dfuse_layout_sector(&l, 0x07ffffff, NULL, NULL, NULL));
}

static void test_layout_variants(void)
{
    struct romfs_dfuse_layout l;
    struct romfs_error err = { 0 };
    /* several segments, byte units with a space, read-only type 'a' */
    CHECK(romfs_dfuse_layout_parse("@Option Bytes  /0x1FFFC000/01*016 e/0x1FFF0000/02*512Ba", &l,
                                   &err) == ROMFS_OK);
    CHECK_EQ_U(l.n_runs, 2);
    CHECK_EQ_U(l.runs[0].start, 0x1fff0000);   /* sorted */
    CHECK_EQ_U(l.runs[0].attrs, ROMFS_DFUSE_READABLE);
    CHECK_EQ_U(l.runs[1].size, 16);
    CHECK_EQ_U(l.runs[1].attrs, ROMFS_DFUSE_READABLE | ROMFS_DFUSE_WRITABLE);
    CHECK(romfs_dfuse_layout_parse("@SPI Flash /0x90000000/256*04Kg", &l, &err) == ROMFS_OK);
    CHECK_EQ_U(l.runs[0].count, 256);
    CHECK(romfs_dfuse_layout_parse("@x/0x0/1*4Mg", &l, &err) == ROMFS_OK);
    CHECK_EQ_U(l.runs[0].size, 4 * 1024 * 1024);
    static const char *const bad[] = {
        "", "Internal Flash /0x08000000/04*016Kg", "@Internal Flash", "@I/0x08000000/",
        "@I/0x08000000/???*08Kg", "@I/0x08000000/04*016Kz", "@I/0x08000000/04*016K",
        "@I/0x08000000/0*016Kg", "@I/0xF0000000/2*1024Mg", "@I/0x100000000/1*1Kg",
        "@I/0x0/2*4Kg/0x1000/1*4Kg", "@I/0x08000000/04*016Kg,", "@I/0x08000000/4*16Kg junk",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.msg[0] = 0;
        if (romfs_dfuse_layout_parse(bad[i], &l, &err) != ROMFS_ERR_CORRUPT) {
            printf("    accepted bad layout \"%s\"\n", bad[i]);
            CHECK(0);
        }
        CHECK(strstr(err.msg, "DfuSe layout") != NULL);
    }
}

static void test_names(void)
{
    CHECK(strcmp(romfs_dfu_status_name(ROMFS_DFU_ERR_VERIFY), "errVERIFY") == 0);
    CHECK(strcmp(romfs_dfu_status_name(ROMFS_DFU_ERR_CHECK_ERASED), "errCHECK_ERASED") == 0);
    CHECK(strcmp(romfs_dfu_state_name(ROMFS_DFU_ERROR), "dfuERROR") == 0);
    CHECK(strcmp(romfs_dfu_state_name(ROMFS_DFU_MANIFEST_WAIT_RESET), "dfuMANIFEST-WAIT-RESET") == 0);
    CHECK(strcmp(romfs_dfu_state_name(42), "state 42") == 0);
}

/* The whole stack: writer -> target -> protocol -> model. Firmware in sectors 0..4 and
 * the unused tail stay untouched; only the sectors the image needs are erased. */
static void test_flash_erases_only_needed_sectors(void)
{
    struct dfuse_model m;
    model_init_f4(&m);
    model_fill(&m, F4, SECTOR5 - F4, 0x11);            /* "firmware" below the partition */
    uint8_t *fw = malloc(SECTOR5 - F4);
    memcpy(fw, m.mem, SECTOR5 - F4);
    model_fill(&m, 0x080a0000, 128 * 1024, 0x22);      /* stale data past the partition */
    struct romfs_target t;
    struct romfs_error err = { 0 };
    CHECK(open_target(&m, SECTOR5, 3 * 128 * 1024, NULL, &t, &err) == ROMFS_OK);
    CHECK_EQ_U(t.erase_size, 128 * 1024);
    size_t len = 200 * 1024 + 6;
    uint8_t *img = make_image(len, 1);
    struct romfs_flash_report rep;
    int rc = romfs_flash_image(&t, img, len, NULL, &rep, &err);
    if (rc)
        printf("    %s\n", err.msg);
    CHECK(rc == ROMFS_OK);
    CHECK(rep.verified);
    CHECK_EQ_U(rep.blocks_written, 2);
    CHECK_MEM(m.mem + (SECTOR5 - F4), img, len);
    for (size_t i = len; i < 256 * 1024; i++)
        CHECK_EQ_U(m.mem[SECTOR5 - F4 + i], 0xff);
    for (int i = 0; i < 12; i++)
        CHECK_EQ_U(m.sectors[i].erase_count, i == 5 || i == 6 ? 1 : 0);
    CHECK_MEM(m.mem, fw, SECTOR5 - F4);
    CHECK_EQ_U(m.early_requests, 0);   /* bwPollTimeout honoured throughout */
    CHECK(m.now_ms >= 2 * 128 * 8);     /* two 128K erases at ~8 ms/KiB were waited for */
    CHECK(m.requests[ROMFS_DFU_UPLOAD] > 0);   /* compared and verified by reading back */

    /* Unchanged image: nothing erased or written. */
    rc = romfs_flash_image(&t, img, len, NULL, &rep, &err);
    CHECK(rc == ROMFS_OK);
    CHECK_EQ_U(rep.blocks_written, 0);
    CHECK_EQ_U(m.sectors[5].erase_count + m.sectors[6].erase_count, 2);
    /* One byte in the second block changes: that block and the header block only. */
    img[150 * 1024] ^= 0xff;
    rc = romfs_flash_image(&t, img, len, NULL, &rep, &err);
    CHECK(rc == ROMFS_OK);
    CHECK_EQ_U(m.sectors[5].erase_count, 2);
    CHECK_EQ_U(m.sectors[6].erase_count, 2);
    CHECK_EQ_U(m.sectors[7].erase_count, 0);
    CHECK_MEM(m.mem + (SECTOR5 - F4), img, len);
    t.close(t.ctx);
    free(img);
    free(fw);
    model_free(&m);
}

/* A partition over unequal sectors (4 x 16K + 64K): erase blocks of 64K, each erase
 * maps onto exactly the sectors it covers. */
static void test_flash_nonuniform_sectors(void)
{
    struct dfuse_model m;
    model_init_f4(&m);
    model_fill(&m, F4, 0x40000, 0x33);
    struct romfs_target t;
    struct romfs_error err = { 0 };
    CHECK(open_target(&m, F4, 128 * 1024, NULL, &t, &err) == ROMFS_OK);
    CHECK_EQ_U(t.erase_size, 64 * 1024);
    size_t len = 20 * 1024;
    uint8_t *img = make_image(len, 9);
    struct romfs_flash_options opt = { .full = true };
    struct romfs_flash_report rep;
    CHECK(romfs_flash_image(&t, img, len, &opt, &rep, &err) == ROMFS_OK);
    CHECK_MEM(m.mem, img, len);
    for (int i = 0; i < 12; i++)
        CHECK_EQ_U(m.sectors[i].erase_count, i < 4 ? 1 : 0);
    t.close(t.ctx);
    free(img);
    model_free(&m);
}

static void test_refuses_bad_partitions(void)
{
    struct dfuse_model m;
    model_init_f4(&m);
    struct romfs_target t;
    struct romfs_error err = { 0 };
    /* read-only sector (type 'a') inside the partition */
    CHECK(open_target(&m, SECTOR5, 256 * 1024,
                      "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,01*128Kg,01*128Ka,05*128Kg",
                      &t, &err) == ROMFS_ERR_INVAL);
    CHECK(strstr(err.msg, "0x08040000") != NULL);
    CHECK(strstr(err.msg, "'a'") != NULL);
    /* start inside a sector */
    CHECK(open_target(&m, SECTOR5 + 4096, 128 * 1024, NULL, &t, &err) == ROMFS_ERR_INVAL);
    CHECK(strstr(err.msg, "inside sector 0x08020000") != NULL);
    /* past the end of the layout */
    CHECK(open_target(&m, 0x080e0000, 256 * 1024, NULL, &t, &err) == ROMFS_ERR_INVAL);
    CHECK(strstr(err.msg, "no sector at 0x08100000") != NULL);
    /* 64K + 128K: no erase block size fits both */
    CHECK(open_target(&m, 0x08010000, 192 * 1024, NULL, &t, &err) == ROMFS_ERR_UNSUPPORTED);
    CHECK_EQ_U(m.sectors[4].erase_count + m.sectors[5].erase_count, 0);
    model_free(&m);
}

/* Run a flash with one fault injected; expect failure naming `want` in the message. */
static int flash_with_fault(struct dfuse_model *m, const char *want, int want_code)
{
    struct romfs_target t;
    struct romfs_error err = { 0 };
    if (open_target(m, SECTOR5, 2 * 128 * 1024, NULL, &t, &err) != ROMFS_OK) {
        printf("    open: %s\n", err.msg);
        return 0;
    }
    size_t len = 140 * 1024;
    uint8_t *img = make_image(len, 5);
    struct romfs_flash_report rep;
    int rc = romfs_flash_image(&t, img, len, NULL, &rep, &err);
    int ok = rc == want_code && strstr(err.msg, want) != NULL;
    if (!ok)
        printf("    rc %d (%s), want %d and '%s'\n", rc, err.msg, want_code, want);
    /* The session recovers: the device is back in dfuIDLE (or the host says why not). */
    m->inject_request = -1;
    m->fail_write_at = m->corrupt_at = m->fail_erase_at = 0;
    m->busy_forever = false;
    m->busy_until_ms = 0;
    if (ok && romfs_flash_image(&t, img, len, NULL, &rep, &err) != ROMFS_OK) {
        printf("    retry after fault failed: %s\n", err.msg);
        ok = 0;
    }
    if (ok && memcmp(m->mem + (SECTOR5 - F4), img, len) != 0)
        ok = 0;
    t.close(t.ctx);
    free(img);
    return ok;
}

static void test_fault_errwrite(void)
{
    struct dfuse_model m;
    model_init_f4(&m);
    m.fail_write_at = SECTOR5 + 130 * 1024;
    CHECK(flash_with_fault(&m, "device reports errWRITE in state dfuERROR", ROMFS_ERR_DEVICE));
    model_free(&m);
}

static void test_fault_errverify(void)
{
    struct dfuse_model m;
    model_init_f4(&m);
    m.corrupt_at = SECTOR5 + 5000;
    CHECK(flash_with_fault(&m, "errVERIFY", ROMFS_ERR_DEVICE));
    model_free(&m);
}

static void test_fault_errerase(void)
{
    struct dfuse_model m;
    model_init_f4(&m);
    m.fail_erase_at = SECTOR5 + 128 * 1024;
    CHECK(flash_with_fault(&m, "erase page 0x08040000", ROMFS_ERR_DEVICE));
    model_free(&m);
}

static void test_fault_stall(void)
{
    struct dfuse_model m;
    model_init_f4(&m);
    m.inject_request = ROMFS_DFU_DNLOAD;
    m.inject_kind = INJECT_STALL;
    m.inject_countdown = 40;
    CHECK(flash_with_fault(&m, "stalled", ROMFS_ERR_DEVICE));
    CHECK(m.stalls >= 1);
    model_free(&m);
}

static void test_fault_stall_message_names_state(void)
{
    struct dfuse_model m;
    model_init_f4(&m);
    m.inject_request = ROMFS_DFU_UPLOAD;
    m.inject_kind = INJECT_STALL;
    m.inject_countdown = 3;
    CHECK(flash_with_fault(&m, "errSTALLEDPKT in state dfuERROR", ROMFS_ERR_DEVICE));
    model_free(&m);
}

static void test_fault_poll_timeout(void)
{
    struct dfuse_model m;
    model_init_f4(&m);
    m.busy_forever = true;
    CHECK(flash_with_fault(&m, "still in dfuDNBUSY", ROMFS_ERR_TIMEOUT));
    CHECK(m.now_ms >= 60000);   /* gave up only after the busy limit */
    CHECK_EQ_U(m.early_requests, 0);
    model_free(&m);
}

static void test_fault_transfer_timeout(void)
{
    struct dfuse_model m;
    model_init_f4(&m);
    m.inject_request = ROMFS_DFU_GETSTATUS;
    m.inject_kind = INJECT_TIMEOUT;
    m.inject_countdown = 25;
    CHECK(flash_with_fault(&m, "DFU_GETSTATUS", ROMFS_ERR_TIMEOUT));
    model_free(&m);
}

/* Large bwPollTimeout values are waited for, not skipped. */
static void test_poll_timeout_honoured(void)
{
    struct dfuse_model m;
    model_init_f4(&m);
    m.poll_ms_override = 700;
    struct romfs_dfu d;
    struct romfs_dfu_usb usb = model_usb(&m);
    romfs_dfu_init(&d, &usb);
    struct romfs_error err = { 0 };
    CHECK(romfs_dfuse_erase_page(&d, SECTOR5, &err) == ROMFS_OK);
    CHECK_EQ_U(m.early_requests, 0);
    CHECK_EQ_U(d.waited_ms, 700);
    CHECK_EQ_U(m.now_ms, 700);
    CHECK_EQ_U(m.sectors[5].erase_count, 1);
    model_free(&m);
}

/* A device found in dfuERROR (a previous session failed) is cleared before use; one in
 * appIDLE (runtime firmware) is refused by name. */
static void test_state_recovery_and_names(void)
{
    struct dfuse_model m;
    model_init_f4(&m);
    m.state = ROMFS_DFU_ERROR;
    m.status = ROMFS_DFU_ERR_VERIFY;
    struct romfs_target t;
    struct romfs_error err = { 0 };
    CHECK(open_target(&m, SECTOR5, 128 * 1024, NULL, &t, &err) == ROMFS_OK);
    CHECK_EQ_U(m.state, ROMFS_DFU_IDLE);
    CHECK_EQ_U(m.requests[ROMFS_DFU_CLRSTATUS], 1);
    t.close(t.ctx);

    m.state = ROMFS_DFU_APP_IDLE;
    CHECK(open_target(&m, SECTOR5, 128 * 1024, NULL, &t, &err) == ROMFS_ERR_DEVICE);
    CHECK(strstr(err.msg, "appIDLE") != NULL);

    /* UPLOAD while in dfuDNLOAD-IDLE is a protocol error the device stalls */
    m.state = ROMFS_DFU_IDLE;
    struct romfs_dfu d;
    struct romfs_dfu_usb usb = model_usb(&m);
    romfs_dfu_init(&d, &usb);
    CHECK(romfs_dfuse_set_address(&d, SECTOR5, &err) == ROMFS_OK);
    CHECK_EQ_U(m.state, ROMFS_DFU_DNLOAD_IDLE);
    uint8_t buf[16];
    size_t got;
    CHECK(romfs_dfu_upload_block(&d, 2, buf, sizeof buf, &got, &err) == ROMFS_ERR_DEVICE);
    CHECK(strstr(err.msg, "DFU_UPLOAD block 2 failed: device reports errSTALLEDPKT in state dfuERROR") != NULL);
    CHECK_EQ_U(m.state, ROMFS_DFU_IDLE);   /* cleared with CLRSTATUS */
    /* an address outside the device: errTARGET */
    CHECK(romfs_dfuse_set_address(&d, 0x20000000, &err) == ROMFS_ERR_DEVICE);
    CHECK(strstr(err.msg, "errTARGET") != NULL);
    CHECK(strstr(err.msg, "set address 0x20000000") != NULL);
    model_free(&m);
}

static void test_read_write_raw(void)
{
    struct dfuse_model m;
    model_init_f4(&m);
    struct romfs_dfu d;
    struct romfs_dfu_usb usb = model_usb(&m);
    romfs_dfu_init(&d, &usb);
    struct romfs_error err = { 0 };
    size_t len = 5000;   /* not a multiple of wTransferSize */
    uint8_t *img = make_image(len, 3), *back = malloc(len);
    CHECK(romfs_dfuse_erase_page(&d, 0x08004000, &err) == ROMFS_OK);
    CHECK(romfs_dfuse_write(&d, 0x08004000, img, len, &err) == ROMFS_OK);
    CHECK(romfs_dfuse_read(&d, 0x08004000, back, len, &err) == ROMFS_OK);
    CHECK_MEM(back, img, len);
    CHECK_MEM(m.mem + 0x4000, img, len);
    CHECK_EQ_U(m.state, ROMFS_DFU_IDLE);
    /* writing over programmed flash without erase cannot set bits: errVERIFY */
    uint8_t ones[8];
    memset(ones, 0xff, sizeof ones);
    CHECK(romfs_dfuse_write(&d, 0x08004000, ones, sizeof ones, &err) == ROMFS_ERR_DEVICE);
    CHECK(strstr(err.msg, "errVERIFY") != NULL);
    free(img);
    free(back);
    romfs_dfu_close(&d);
    model_free(&m);
}

/* Without a DFU functional descriptor the host only guesses wTransferSize (1024 against
 * the device's 2048): with the address set before every block the data still lands in
 * the right place. */
static void test_guessed_transfer_size(void)
{
    struct dfuse_model m;
    model_init_f4(&m);
    struct romfs_dfu d;
    struct romfs_dfu_usb usb = model_usb(&m);
    usb.transfer_size = 1024;
    usb.per_block_address = true;
    romfs_dfu_init(&d, &usb);
    struct romfs_error err = { 0 };
    size_t len = 5000;
    uint8_t *img = make_image(len, 8), *back = malloc(len);
    CHECK(romfs_dfuse_erase_page(&d, SECTOR5, &err) == ROMFS_OK);
    CHECK(romfs_dfuse_write(&d, SECTOR5, img, len, &err) == ROMFS_OK);
    CHECK_MEM(m.mem + (SECTOR5 - F4), img, len);
    CHECK(romfs_dfuse_read(&d, SECTOR5, back, len, &err) == ROMFS_OK);
    CHECK_MEM(back, img, len);
    /* and the same host without per-block addresses would misplace block 3 */
    usb.per_block_address = false;
    romfs_dfu_init(&d, &usb);
    CHECK(romfs_dfuse_erase_page(&d, SECTOR5, &err) == ROMFS_OK);
    CHECK(romfs_dfuse_write(&d, SECTOR5, img, len, &err) == ROMFS_OK);
    CHECK(memcmp(m.mem + (SECTOR5 - F4), img, len) != 0);
    free(img);
    free(back);
    model_free(&m);
}

static void test_leave(void)
{
    struct dfuse_model m;
    model_init_f4(&m);
    struct romfs_target t;
    struct romfs_error err = { 0 };
    CHECK(open_target(&m, SECTOR5, 128 * 1024, NULL, &t, &err) == ROMFS_OK);
    CHECK(romfs_dfu_target_leave(&t, 0, &err) == ROMFS_OK);
    CHECK(m.gone);
    CHECK_EQ_U(m.jumped_to, F4);
    CHECK_EQ_U(m.early_requests, 0);
    t.close(t.ctx);
    model_free(&m);
}

/* Plain DFU 1.1 download: blocks 0, 1, 2, ... then manifestation, for a manifestation
 * tolerant device (back to dfuIDLE) and one that waits for a reset. */
static void test_plain_dfu_download_and_manifest(void)
{
    for (int tolerant = 0; tolerant < 2; tolerant++) {
        struct dfuse_model m;
        model_init_f4(&m);
        m.plain = true;
        m.manifest_tolerant = tolerant;
        m.poll_ms_override = 3;
        struct romfs_dfu d;
        struct romfs_dfu_usb usb = model_usb(&m);
        romfs_dfu_init(&d, &usb);
        struct romfs_error err = { 0 };
        size_t len = 3 * 2048 + 100;
        uint8_t *img = make_image(len, 77);
        int rc = romfs_dfu_download(&d, img, len, &err);
        if (rc)
            printf("    %s\n", err.msg);
        CHECK(rc == ROMFS_OK);
        CHECK_EQ_U(m.plain_bytes, len);
        CHECK_MEM(m.mem, img, len);
        CHECK_EQ_U(m.state, tolerant ? ROMFS_DFU_IDLE : ROMFS_DFU_MANIFEST_WAIT_RESET);
        CHECK_EQ_U(m.early_requests, 0);
        CHECK(!m.gone);
        free(img);
        model_free(&m);
    }
}

/* Real libusb: there is no DFU device on a build machine; the message must say what was
 * looked for. */
static void test_libusb_no_device(void)
{
    struct romfs_dfu_match mt = { .alt = -1 };
    struct romfs_dfu_usb usb;
    struct romfs_error err = { 0 };
    int rc = romfs_dfu_usb_open(&mt, SECTOR5, &usb, &err);
    if (rc == ROMFS_OK) {   /* a developer machine with a board in DFU mode */
        usb.close(usb.ctx);
        return;
    }
    CHECK_EQ_U(rc, ROMFS_ERR_DEVICE);
    CHECK(strstr(err.msg, "looked for 0483:df11") != NULL);
    mt.n_ids = 2;
    mt.vid[0] = 0x1209; mt.pid[0] = 0xbeef;
    mt.vid[1] = 0xf055; mt.pid[1] = 0x9800;
    mt.serial = "ABC123";
    rc = romfs_dfu_usb_open(&mt, SECTOR5, &usb, &err);
    CHECK_EQ_U(rc, ROMFS_ERR_DEVICE);
    CHECK(strstr(err.msg, "1209:beef, f055:9800 with serial number ABC123") != NULL);
}

static void test_parse_id(void)
{
    uint16_t v, p;
    CHECK(romfs_dfu_parse_id("0483:DF11", &v, &p, NULL) == ROMFS_OK);
    CHECK_EQ_U(v, 0x0483);
    CHECK_EQ_U(p, 0xdf11);
    CHECK(romfs_dfu_parse_id("0483", &v, &p, NULL) == ROMFS_ERR_INVAL);
    CHECK(romfs_dfu_parse_id("0483:df11x", &v, &p, NULL) == ROMFS_ERR_INVAL);
    CHECK(romfs_dfu_parse_id("10483:df11", &v, &p, NULL) == ROMFS_ERR_INVAL);
}

int main(void)
{
    RUN(test_layout_f4);
    RUN(test_layout_variants);
    RUN(test_names);
    RUN(test_parse_id);
    RUN(test_flash_erases_only_needed_sectors);
    RUN(test_flash_nonuniform_sectors);
    RUN(test_refuses_bad_partitions);
    RUN(test_fault_errwrite);
    RUN(test_fault_errverify);
    RUN(test_fault_errerase);
    RUN(test_fault_stall);
    RUN(test_fault_stall_message_names_state);
    RUN(test_fault_poll_timeout);
    RUN(test_fault_transfer_timeout);
    RUN(test_poll_timeout_honoured);
    RUN(test_state_recovery_and_names);
    RUN(test_read_write_raw);
    RUN(test_guessed_transfer_size);
    RUN(test_leave);
    RUN(test_plain_dfu_download_and_manifest);
    RUN(test_libusb_no_device);
    UNIT_EXIT();
}
