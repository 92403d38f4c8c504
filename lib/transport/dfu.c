/* dfu.c: USB DFU 1.1 requests and state machine, and ST's DfuSe commands (AN3156),
 * over the control-transfer interface struct romfs_dfu_usb. */
#include "transport/dfu.h"
#include "base/clock.h"

#include <stdio.h>
#include <string.h>

#define DEFAULT_TIMEOUT_MS 5000
#define DEFAULT_BUSY_LIMIT_MS 60000
/* A request is abandoned when the device keeps asking for more polls than this, even
 * with bwPollTimeout 0 (a device stuck in dfuDNBUSY). */
#define MAX_POLLS 100000

static const char *const state_names[] = {
    "appIDLE", "appDETACH", "dfuIDLE", "dfuDNLOAD-SYNC", "dfuDNBUSY", "dfuDNLOAD-IDLE",
    "dfuMANIFEST-SYNC", "dfuMANIFEST", "dfuMANIFEST-WAIT-RESET", "dfuUPLOAD-IDLE", "dfuERROR",
};

static const char *const status_names[] = {
    "OK", "errTARGET", "errFILE", "errWRITE", "errERASE", "errCHECK_ERASED", "errPROG",
    "errVERIFY", "errADDRESS", "errNOTDONE", "errFIRMWARE", "errVENDOR", "errUSBR", "errPOR",
    "errUNKNOWN", "errSTALLEDPKT",
};

/* names[v], or "WHAT v" (in buf) for a value the table does not name. */
static const char *name_of(const char *const *names, size_t n, int v, const char *what, char *buf,
                           size_t cap)
{
    if (v >= 0 && (size_t)v < n)
        return names[v];
    snprintf(buf, cap, "%s %d", what, v);
    return buf;
}

const char *romfs_dfu_state_name(int state)
{
    static char buf[32];
    return name_of(state_names, sizeof state_names / sizeof *state_names, state, "state", buf,
                   sizeof buf);
}

const char *romfs_dfu_status_name(int status)
{
    static char buf[32];
    return name_of(status_names, sizeof status_names / sizeof *status_names, status, "status", buf,
                   sizeof buf);
}

void romfs_dfu_init(struct romfs_dfu *d, const struct romfs_dfu_usb *usb)
{
    memset(d, 0, sizeof *d);
    d->usb = *usb;
}

void romfs_dfu_close(struct romfs_dfu *d)
{
    if (d->usb.close)
        d->usb.close(d->usb.ctx);
    d->usb.close = NULL;
    d->usb.control = NULL;
}

static unsigned timeout(const struct romfs_dfu *d)
{
    return d->timeout_ms ? d->timeout_ms : DEFAULT_TIMEOUT_MS;
}

static int control(struct romfs_dfu *d, bool in, uint8_t request, uint16_t value, uint8_t *data,
                   uint16_t length, struct romfs_error *err)
{
    if (!d->usb.control)
        return romfs_set_error(err, ROMFS_ERR_INVAL, "DFU device is closed");
    d->requests++;
    int n = d->usb.control(d->usb.ctx, in, request, value, data, length, timeout(d), err);
    if (n < 0)
        d->needs_recovery = true;
    return n;
}

static void wait_ms(struct romfs_dfu *d, uint32_t ms)
{
    d->waited_ms += ms;
    if (ms == 0)
        return;
    if (d->usb.sleep_ms) {
        d->usb.sleep_ms(d->usb.ctx, ms);
        return;
    }
    romfs_sleep_ms(ms);
}

int romfs_dfu_get_status(struct romfs_dfu *d, struct romfs_dfu_status_reply *out,
                         struct romfs_error *err)
{
    uint8_t b[6];
    int n = control(d, true, ROMFS_DFU_GETSTATUS, 0, b, sizeof b, err);
    if (n < 0)
        return romfs_error_prefix(err, "%s: DFU_GETSTATUS", d->usb.description);
    if (n != 6)
        return romfs_set_error(err, ROMFS_ERR_PROTOCOL,
                               "%s: DFU_GETSTATUS returned %d bytes, expected 6",
                               d->usb.description, n);
    out->status = b[0];
    out->poll_timeout_ms = (uint32_t)b[1] | (uint32_t)b[2] << 8 | (uint32_t)b[3] << 16;
    out->state = b[4];
    out->string_index = b[5];
    return ROMFS_OK;
}

int romfs_dfu_get_state(struct romfs_dfu *d, uint8_t *state, struct romfs_error *err)
{
    int n = control(d, true, ROMFS_DFU_GETSTATE, 0, state, 1, err);
    if (n < 0)
        return romfs_error_prefix(err, "%s: DFU_GETSTATE", d->usb.description);
    if (n != 1)
        return romfs_set_error(err, ROMFS_ERR_PROTOCOL, "%s: DFU_GETSTATE returned %d bytes",
                               d->usb.description, n);
    return ROMFS_OK;
}

int romfs_dfu_clear_status(struct romfs_dfu *d, struct romfs_error *err)
{
    int n = control(d, false, ROMFS_DFU_CLRSTATUS, 0, NULL, 0, err);
    return n < 0 ? romfs_error_prefix(err, "%s: DFU_CLRSTATUS", d->usb.description) : ROMFS_OK;
}

int romfs_dfu_abort(struct romfs_dfu *d, struct romfs_error *err)
{
    int n = control(d, false, ROMFS_DFU_ABORT, 0, NULL, 0, err);
    return n < 0 ? romfs_error_prefix(err, "%s: DFU_ABORT", d->usb.description) : ROMFS_OK;
}

int romfs_dfu_make_idle(struct romfs_dfu *d, struct romfs_error *err)
{
    for (int attempt = 0; attempt < 8; attempt++) {
        struct romfs_dfu_status_reply st;
        int rc = romfs_dfu_get_status(d, &st, err);
        if (rc)
            return rc;
        switch (st.state) {
        case ROMFS_DFU_IDLE:
            d->needs_recovery = false;
            return ROMFS_OK;
        case ROMFS_DFU_ERROR:
            rc = romfs_dfu_clear_status(d, err);
            break;
        case ROMFS_DFU_DNLOAD_IDLE:
        case ROMFS_DFU_UPLOAD_IDLE:
        case ROMFS_DFU_DNLOAD_SYNC:
        case ROMFS_DFU_MANIFEST_SYNC:
            rc = romfs_dfu_abort(d, err);
            break;
        case ROMFS_DFU_DNBUSY:
        case ROMFS_DFU_MANIFEST: {
            uint32_t limit = d->busy_limit_ms ? d->busy_limit_ms : DEFAULT_BUSY_LIMIT_MS;
            wait_ms(d, st.poll_timeout_ms < limit ? st.poll_timeout_ms : limit);
            break;
        }
        default:
            return romfs_set_error(err, ROMFS_ERR_DEVICE,
                                   "%s: device is in state %s (status %s), not in DFU mode",
                                   d->usb.description, romfs_dfu_state_name(st.state),
                                   romfs_dfu_status_name(st.status));
        }
        if (rc)
            return rc;
    }
    return romfs_set_error(err, ROMFS_ERR_DEVICE, "%s: device does not return to dfuIDLE",
                           d->usb.description);
}

/* After a failed request: ask the device why, report by name, and clear dfuERROR so the
 * session can continue. `what` names the request. Returns the code to fail with. */
static int explain_failure(struct romfs_dfu *d, int code, const char *what,
                           struct romfs_error *err)
{
    char why[ROMFS_ERROR_MSG_MAX];
    snprintf(why, sizeof why, "%s", err ? err->msg : "");
    struct romfs_dfu_status_reply st;
    struct romfs_error e2 = { 0 };
    if (code == ROMFS_ERR_DEVICE || romfs_dfu_get_status(d, &st, &e2) != ROMFS_OK)
        return romfs_set_error(err, code, "%s: %s failed: %s", d->usb.description, what, why);
    if (st.state == ROMFS_DFU_ERROR)
        romfs_dfu_clear_status(d, &e2);
    return romfs_set_error(err, st.status == ROMFS_DFU_OK ? code : ROMFS_ERR_DEVICE,
                           "%s: %s failed: device reports %s in state %s (%s)",
                           d->usb.description, what, romfs_dfu_status_name(st.status),
                           romfs_dfu_state_name(st.state), why);
}

/* Poll GETSTATUS (waiting bwPollTimeout each time) while the device is busy with the
 * request just sent. On return *st holds the first settled status. */
static int poll_until_settled(struct romfs_dfu *d, const char *what,
                              struct romfs_dfu_status_reply *st, struct romfs_error *err)
{
    uint32_t limit = d->busy_limit_ms ? d->busy_limit_ms : DEFAULT_BUSY_LIMIT_MS;
    uint64_t waited = 0;
    for (long polls = 0;; polls++) {
        int rc = romfs_dfu_get_status(d, st, err);
        if (rc)
            return romfs_error_prefix(err, "%s", what);
        if (st->status != ROMFS_DFU_OK) {
            uint8_t status = st->status, state = st->state;
            struct romfs_error e2 = { 0 };
            d->needs_recovery = true;
            if (state == ROMFS_DFU_ERROR)
                romfs_dfu_clear_status(d, &e2);
            return romfs_set_error(err, ROMFS_ERR_DEVICE, "%s: %s failed: device reports %s in state %s",
                                   d->usb.description, what, romfs_dfu_status_name(status),
                                   romfs_dfu_state_name(state));
        }
        if (st->state != ROMFS_DFU_DNBUSY && st->state != ROMFS_DFU_DNLOAD_SYNC &&
            st->state != ROMFS_DFU_MANIFEST_SYNC && st->state != ROMFS_DFU_MANIFEST)
            return ROMFS_OK;
        if (st->state == ROMFS_DFU_MANIFEST_SYNC && polls > 0)
            return ROMFS_OK;   /* tolerant device back from dfuMANIFEST: caller decides */
        if (waited + st->poll_timeout_ms > limit || polls >= MAX_POLLS) {
            d->needs_recovery = true;
            return romfs_set_error(err, ROMFS_ERR_TIMEOUT,
                                   "%s: %s: device still in %s after %llu ms of bwPollTimeout "
                                   "(limit %u ms)", d->usb.description, what,
                                   romfs_dfu_state_name(st->state), (unsigned long long)waited,
                                   (unsigned)limit);
        }
        waited += st->poll_timeout_ms;
        wait_ms(d, st->poll_timeout_ms);
    }
}

int romfs_dfu_download_block(struct romfs_dfu *d, uint16_t block, const uint8_t *data,
                             uint16_t len, struct romfs_error *err)
{
    char what[64];
    snprintf(what, sizeof what, "DFU_DNLOAD block %u", (unsigned)block);
    if (len > d->usb.transfer_size)
        return romfs_set_error(err, ROMFS_ERR_INVAL, "%s: %u bytes exceed wTransferSize %u",
                               what, (unsigned)len, (unsigned)d->usb.transfer_size);
    int n = control(d, false, ROMFS_DFU_DNLOAD, block, (uint8_t *)data, len, err);
    if (n < 0)
        return explain_failure(d, n, what, err);
    if (n != len)
        return romfs_set_error(err, ROMFS_ERR_PROTOCOL, "%s: %s: device took %d of %u bytes",
                               d->usb.description, what, n, (unsigned)len);
    struct romfs_dfu_status_reply st;
    int rc = poll_until_settled(d, what, &st, err);
    if (rc)
        return rc;
    if (st.state != ROMFS_DFU_DNLOAD_IDLE)
        return romfs_set_error(err, ROMFS_ERR_PROTOCOL, "%s: %s: device went to %s, expected %s",
                               d->usb.description, what, romfs_dfu_state_name(st.state),
                               romfs_dfu_state_name(ROMFS_DFU_DNLOAD_IDLE));
    return ROMFS_OK;
}

int romfs_dfu_upload_block(struct romfs_dfu *d, uint16_t block, uint8_t *data, uint16_t len,
                           size_t *got, struct romfs_error *err)
{
    char what[64];
    snprintf(what, sizeof what, "DFU_UPLOAD block %u", (unsigned)block);
    int n = control(d, true, ROMFS_DFU_UPLOAD, block, data, len, err);
    if (n < 0)
        return explain_failure(d, n, what, err);
    *got = (size_t)n;
    return ROMFS_OK;
}

int romfs_dfu_manifest(struct romfs_dfu *d, struct romfs_error *err)
{
    const char *what = "DFU_DNLOAD of zero length (manifestation)";
    int n = control(d, false, ROMFS_DFU_DNLOAD, 0, NULL, 0, err);
    if (n < 0)
        return explain_failure(d, n, what, err);
    for (int round = 0; round < 2; round++) {
        struct romfs_dfu_status_reply st;
        struct romfs_error e = { 0 };
        int rc = poll_until_settled(d, what, &st, &e);
        if (rc == ROMFS_ERR_DEVICE && strstr(e.msg, " reports ") == NULL)
            return ROMFS_OK;   /* the device reset itself and left the bus */
        if (rc)
            return romfs_set_error(err, rc, "%s", e.msg);
        if (st.state == ROMFS_DFU_IDLE || st.state == ROMFS_DFU_MANIFEST_WAIT_RESET ||
            st.state == ROMFS_DFU_APP_IDLE)
            return ROMFS_OK;
        if (st.state != ROMFS_DFU_MANIFEST_SYNC)
            return romfs_set_error(err, ROMFS_ERR_PROTOCOL, "%s: %s: device went to %s",
                                   d->usb.description, what, romfs_dfu_state_name(st.state));
    }
    return romfs_set_error(err, ROMFS_ERR_PROTOCOL, "%s: %s: manifestation does not complete",
                           d->usb.description, what);
}

int romfs_dfu_download(struct romfs_dfu *d, const uint8_t *data, size_t len,
                       struct romfs_error *err)
{
    int rc = romfs_dfu_make_idle(d, err);
    if (rc)
        return rc;
    size_t chunk = d->usb.transfer_size;
    if (chunk == 0 || (len + chunk - 1) / chunk > 0xffff)
        return romfs_set_error(err, ROMFS_ERR_FBIG, "%s: %zu bytes need more than 65535 blocks",
                               d->usb.description, len);
    uint16_t block = 0;
    for (size_t off = 0; off < len; off += chunk, block++) {
        size_t n = len - off < chunk ? len - off : chunk;
        rc = romfs_dfu_download_block(d, block, data + off, (uint16_t)n, err);
        if (rc)
            return rc;
    }
    return romfs_dfu_manifest(d, err);
}

/* ---- DfuSe ----------------------------------------------------------------------------- */

static int dfuse_command(struct romfs_dfu *d, uint8_t cmd, uint32_t address, bool with_address,
                         struct romfs_error *err)
{
    uint8_t b[5] = { cmd, (uint8_t)address, (uint8_t)(address >> 8), (uint8_t)(address >> 16),
                     (uint8_t)(address >> 24) };
    int rc = romfs_dfu_download_block(d, 0, b, with_address ? 5 : 1, err);
    if (rc)
        return romfs_error_prefix(err, "DfuSe %s 0x%08x",
                                  cmd == ROMFS_DFUSE_CMD_SET_ADDRESS ? "set address"
                                  : cmd == ROMFS_DFUSE_CMD_ERASE ? "erase page" : "command",
                                  (unsigned)address);
    return ROMFS_OK;
}

/* After a failed request, bring the device back to dfuIDLE before the next operation. */
static int recover(struct romfs_dfu *d, struct romfs_error *err)
{
    if (!d->needs_recovery)
        return ROMFS_OK;
    int rc = romfs_dfu_make_idle(d, err);
    return rc ? romfs_error_prefix(err, "recovering from the previous error") : ROMFS_OK;
}

int romfs_dfuse_set_address(struct romfs_dfu *d, uint32_t address, struct romfs_error *err)
{
    int rc0 = recover(d, err);
    if (rc0)
        return rc0;
    d->dfuse_address_set = false;
    int rc = dfuse_command(d, ROMFS_DFUSE_CMD_SET_ADDRESS, address, true, err);
    if (rc == ROMFS_OK) {
        d->dfuse_address = address;
        d->dfuse_address_set = true;
    }
    return rc;
}

int romfs_dfuse_erase_page(struct romfs_dfu *d, uint32_t address, struct romfs_error *err)
{
    int rc = recover(d, err);
    if (rc)
        return rc;
    return dfuse_command(d, ROMFS_DFUSE_CMD_ERASE, address, true, err);
}

int romfs_dfuse_write(struct romfs_dfu *d, uint32_t address, const uint8_t *data, size_t len,
                      struct romfs_error *err)
{
    size_t chunk = d->usb.transfer_size;
    if (chunk == 0 || (len + chunk - 1) / chunk > 0xffff - 2)
        return romfs_set_error(err, ROMFS_ERR_INVAL, "%s: write of %zu bytes too long",
                               d->usb.description, len);
    if ((uint64_t)address + len > 0x100000000ull)
        return romfs_set_error(err, ROMFS_ERR_RANGE, "write past 4 GiB at 0x%08x", (unsigned)address);
    int rc = romfs_dfuse_set_address(d, address, err);
    if (rc)
        return rc;
    uint16_t block = 2;
    for (size_t off = 0; off < len; off += chunk, block++) {
        size_t n = len - off < chunk ? len - off : chunk;
        if (d->usb.per_block_address && off > 0) {
            block = 2;
            if ((rc = romfs_dfuse_set_address(d, address + (uint32_t)off, err)))
                return rc;
        }
        rc = romfs_dfu_download_block(d, block, data + off, (uint16_t)n, err);
        if (rc)
            return romfs_error_prefix(err, "DfuSe write at 0x%08zx", (size_t)address + off);
    }
    return ROMFS_OK;
}

int romfs_dfuse_read(struct romfs_dfu *d, uint32_t address, uint8_t *data, size_t len,
                     struct romfs_error *err)
{
    size_t chunk = d->usb.transfer_size;
    if (chunk == 0 || (len + chunk - 1) / chunk > 0xffff - 2)
        return romfs_set_error(err, ROMFS_ERR_INVAL, "%s: read of %zu bytes too long",
                               d->usb.description, len);
    int rc = romfs_dfuse_set_address(d, address, err);
    if (rc == ROMFS_OK)
        rc = romfs_dfu_abort(d, err);   /* UPLOAD starts from dfuIDLE */
    if (rc)
        return rc;
    uint16_t block = 2;
    for (size_t off = 0; off < len; off += chunk, block++) {
        size_t n = len - off < chunk ? len - off : chunk, got = 0;
        if (d->usb.per_block_address && off > 0) {
            block = 2;
            rc = romfs_dfu_abort(d, err);   /* dfuUPLOAD-IDLE takes no DNLOAD */
            if (rc == ROMFS_OK)
                rc = romfs_dfuse_set_address(d, address + (uint32_t)off, err);
            if (rc == ROMFS_OK)
                rc = romfs_dfu_abort(d, err);
            if (rc)
                return rc;
        }
        /* Ask for whole blocks: the block number times wTransferSize is the address. */
        rc = romfs_dfu_upload_block(d, block, data + off, (uint16_t)n, &got, err);
        if (rc)
            return romfs_error_prefix(err, "DfuSe read at 0x%08zx", (size_t)address + off);
        if (got != n) {
            struct romfs_error e2 = { 0 };
            romfs_dfu_abort(d, &e2);
            return romfs_set_error(err, ROMFS_ERR_PROTOCOL,
                                   "%s: DfuSe read at 0x%08zx: device returned %zu of %zu bytes",
                                   d->usb.description, (size_t)address + off, got, n);
        }
    }
    return romfs_dfu_abort(d, err);
}

int romfs_dfuse_leave(struct romfs_dfu *d, uint32_t address, struct romfs_error *err)
{
    int rc = romfs_dfu_make_idle(d, err);
    if (rc == ROMFS_OK)
        rc = romfs_dfuse_set_address(d, address, err);
    if (rc)
        return rc;
    return romfs_dfu_manifest(d, err);
}
