/* device_query.c: REPL sessions (helper upload, capabilities), `romfs query`, listing /rom
 * after a soft reset, and the .mpy compatibility check. */
#include "flash/repl_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/digest.h"
#include "format/format.h"
#include "base/template.h"
#include "boards/arch.h"

static const char *const transfer_names[] = {
    "auto", "raw-deflate", "raw", "deflate-base64", "base64", "hex", "repr",
};

int romfs_transfer_parse(const char *name)
{
    for (size_t i = 0; i < sizeof transfer_names / sizeof *transfer_names; i++)
        if (strcmp(name, transfer_names[i]) == 0)
            return (int)i;
    return -1;
}

const char *romfs_transfer_name(int transfer)
{
    if (transfer < 0 || (size_t)transfer >= sizeof transfer_names / sizeof *transfer_names)
        return "?";
    return transfer_names[transfer];
}

int repl_send_template(struct romfs_repl_session *ses, const char *name, struct romfs_error *err)
{
    size_t len;
    const char *text = romfs_template(name, &len);
    if (!text)
        return romfs_set_error(err, ROMFS_ERR_NOENT, "template %s is not built in", name);
    struct romfs_buf code = { 0 };
    const char *p = text, *end = text + len;
    /* (templates indent with spaces only, in steps of 4) */
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl + 1 : end;
        const char *q = p;
        while (q < line_end && (*q == ' ' || *q == '\t'))
            q++;
        bool skip = q == line_end || *q == '\n' || *q == '#';
        /* every 4 columns of indentation become 1: fewer bytes on a slow link */
        size_t indent = (size_t)(q - p);
        static const char spaces[] = "                                ";
        size_t short_indent = indent % 4 == 0 && indent / 4 < sizeof spaces ? indent / 4 : indent;
        if (!skip && (romfs_buf_append(&code, short_indent == indent ? p : spaces, short_indent) != ROMFS_OK ||
                      romfs_buf_append(&code, q, (size_t)(line_end - q)) != ROMFS_OK)) {
            romfs_buf_free(&code);
            return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
        }
        p = line_end;
    }
    int rc = romfs_repl_exec(ses->repl, code.data, code.len, NULL, NULL, 0, err);
    romfs_buf_free(&code);
    if (rc != ROMFS_OK)
        romfs_error_prefix(err, "sending %s to the device", name);
    return rc;
}

int repl_execf(struct romfs_repl_session *ses, struct romfs_buf *out, int timeout_ms,
               struct romfs_error *err, const char *fmt, ...)
{
    char code[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(code, sizeof code, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof code)
        return romfs_set_error(err, ROMFS_ERR_INVAL, "device command too long");
    return romfs_repl_exec(ses->repl, code, (size_t)n, out, NULL, timeout_ms, err);
}

static unsigned parse_caps(const char *line)
{
    static const struct { const char *name; unsigned bit; } names[] = {
        { "hashlib", ROMFS_CAP_HASHLIB }, { "base64", ROMFS_CAP_BINASCII },
        { "deflate", ROMFS_CAP_DEFLATE }, { "bytesio", ROMFS_CAP_BYTESIO },
        { "kbd_intr", ROMFS_CAP_KBD_INTR }, { "stdio", ROMFS_CAP_STDIO_BUFFER },
        { "fromhex", ROMFS_CAP_FROMHEX }, { "rom_ioctl", ROMFS_CAP_ROM_IOCTL },
    };
    unsigned caps = 0;
    char word[32];
    const char *p = line;
    int used;
    while (sscanf(p, "%31s%n", word, &used) == 1) {
        for (size_t i = 0; i < sizeof names / sizeof *names; i++)
            if (strcmp(word, names[i].name) == 0)
                caps |= names[i].bit;
        p += used;
    }
    return caps;
}

int romfs_repl_session_open(struct romfs_serial *s, const struct romfs_repl_options *opt,
                            struct romfs_repl_session **out, struct romfs_error *err)
{
    *out = NULL;
    struct romfs_repl_session *ses = calloc(1, sizeof *ses);
    if (!ses)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    ses->serial = s;
    int rc = romfs_repl_open(s, opt, &ses->repl, err);
    if (rc == ROMFS_OK)
        rc = repl_send_template(ses, "device/helper.py", err);
    struct romfs_buf caps = { 0 };
    if (rc == ROMFS_OK)
        rc = repl_execf(ses, &caps, 0, err, "_rf_caps()");
    if (rc != ROMFS_OK) {
        romfs_buf_free(&caps);
        romfs_repl_session_close(ses);
        return rc;
    }
    for (char *line = strtok(caps.data, "\r\n"); line; line = strtok(NULL, "\r\n")) {
        if (strncmp(line, "caps ", 5) == 0)
            ses->caps = parse_caps(line + 5);
        else if (strncmp(line, "mpy ", 4) == 0)
            ses->mpy = strtoll(line + 4, NULL, 10);
        else if (strncmp(line, "platform ", 9) == 0)
            snprintf(ses->platform, sizeof ses->platform, "%s", line + 9);
        else if (strncmp(line, "parts ", 6) == 0)
            ses->n_partitions = atoi(line + 6);
    }
    romfs_buf_free(&caps);
    *out = ses;
    return ROMFS_OK;
}

void romfs_repl_session_close(struct romfs_repl_session *ses)
{
    if (!ses)
        return;
    romfs_repl_close(ses->repl);
    free(ses);
}

struct romfs_repl *romfs_repl_session_repl(struct romfs_repl_session *ses)
{
    return ses->repl;
}

static int hex_to_bytes(const char *hex, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

/* Image size from a partition's first bytes: header d2 cd 31, varuint payload length. */
static bool image_size_from_head(const uint8_t *head, size_t n, uint64_t *size)
{
    if (n < 4 || head[0] != 0xd2 || head[1] != 0xcd || head[2] != 0x31)
        return false;
    uint64_t payload;
    size_t used;
    if (romfs_varuint_decode(head + 3, n - 3, &payload, &used) != ROMFS_OK)
        return false;
    *size = 3 + used + payload;
    return true;
}

int romfs_repl_query(struct romfs_repl_session *ses, bool want_hash, struct romfs_device_info *info,
                     struct romfs_error *err)
{
    memset(info, 0, sizeof *info);
    info->caps = ses->caps;
    info->mpy = ses->mpy;
    snprintf(info->platform, sizeof info->platform, "%s", ses->platform);
    info->n_partitions = ses->n_partitions < ROMFS_REPL_MAX_PARTITIONS ? ses->n_partitions
                                                                      : ROMFS_REPL_MAX_PARTITIONS;
    for (int i = 0; i < info->n_partitions; i++) {
        struct romfs_device_partition *p = &info->partitions[i];
        struct romfs_buf out = { 0 };
        int rc = repl_execf(ses, &out, 0, err, "_rf_info(%d,'')", i);
        if (rc != ROMFS_OK) {
            romfs_buf_free(&out);
            return romfs_error_prefix(err, "querying ROMFS partition %d", i);
        }
        unsigned long long size;
        unsigned bs;
        char api[8], hex[40] = "";
        int idx;
        if (!out.data || sscanf(out.data, "part %d %llu %u %7s %39s", &idx, &size, &bs, api, hex) < 4 ||
            strlen(hex) != 32 || hex_to_bytes(hex, p->head, 16) != 0) {
            rc = romfs_set_error(err, ROMFS_ERR_PROTOCOL, "device gave an unreadable answer about "
                                 "partition %d: %.80s", i, out.data ? out.data : "(nothing)");
            romfs_buf_free(&out);
            return rc;
        }
        romfs_buf_free(&out);
        p->index = idx;
        p->size = size;
        p->block_size = bs;
        p->object_api = strcmp(api, "obj") == 0;
        uint64_t isz;
        p->valid = image_size_from_head(p->head, sizeof p->head, &isz) && isz <= p->size;
        if (p->valid)
            p->image_size = isz;
        if (p->valid && want_hash && (ses->caps & ROMFS_CAP_HASHLIB)) {
            struct romfs_buf h = { 0 };
            rc = repl_execf(ses, &h, 60000, err,
                            "print(_rf_hexs(_rf_sha(0,%llu)))",
                            (unsigned long long)p->image_size);
            if (rc == ROMFS_OK && h.data && h.len >= 64 && hex_to_bytes(h.data, p->sha256, 32) == 0)
                p->has_sha256 = true;
            romfs_buf_free(&h);
            if (rc != ROMFS_OK)
                return romfs_error_prefix(err, "hashing the image in partition %d", i);
        }
    }
    return ROMFS_OK;
}

int romfs_repl_reset_and_list_rom(struct romfs_repl_session *ses, struct romfs_buf *out,
                                  struct romfs_error *err)
{
    int rc = romfs_repl_soft_reset(ses->repl, NULL, 20000, err);
    if (rc != ROMFS_OK)
        return romfs_error_prefix(err, "soft reset");
    ses->serve_loaded = false;  /* the reset forgot every definition */
    rc = repl_send_template(ses, "device/helper.py", err);
    if (rc == ROMFS_OK)
        rc = repl_execf(ses, out, 0, err, "_rf_ls()");
    if (rc != ROMFS_OK)
        romfs_error_prefix(err, "listing /rom after the soft reset");
    return rc;
}

int romfs_repl_list_rom(struct romfs_repl_session *ses, struct romfs_buf *out,
                        struct romfs_error *err)
{
    int rc = repl_execf(ses, out, 0, err, "_rf_tree()");
    if (rc != ROMFS_OK)
        return romfs_error_prefix(err, "listing /rom");
    size_t k = 0;   /* the device ends lines with \r\n */
    for (size_t i = 0; i < out->len; i++)
        if (out->data[i] != '\r')
            out->data[k++] = out->data[i];
    out->len = k;
    return ROMFS_OK;
}

int romfs_repl_find_port(const char *board_repl_usb, char *path, size_t path_cap,
                         struct romfs_error *err)
{
    struct romfs_usb_id ids[16];
    size_t n = 0;
    if (board_repl_usb && romfs_usb_id_parse(board_repl_usb, &ids[n])) {
        ids[n].what = "board";
        n++;
    }
    for (size_t i = 0; romfs_micropython_usb_ids[i].what && n < 16; i++)
        ids[n++] = romfs_micropython_usb_ids[i];
    size_t found = 0;
    char list[512];
    int rc = romfs_serial_find(ids, n, path, path_cap, &found, list, sizeof list, err);
    if (rc != ROMFS_OK)
        return rc;
    if (found > 1)
        return romfs_set_error(err, ROMFS_ERR_INVAL,
                               "%zu MicroPython boards are connected (%s): choose one with --port",
                               found, list);
    return ROMFS_OK;
}

/* ---- .mpy compatibility --------------------------------------------------------- */

static const char *const mpy_arch_names[] = {
    "none", "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp",
    "xtensa", "xtensawin", "rv32imc", "rv64imc", "?", "?", "?",
};

struct mpy_check {
    const struct romfs_image *img;
    long long device_mpy;
    struct romfs_error *err;
};

static int check_one_mpy(void *ctx, const char *path, const struct romfs_entry *e, int depth)
{
    (void)depth;
    struct mpy_check *c = ctx;
    if (e->type != ROMFS_ENTRY_FILE || e->name_len < 4 ||
        memcmp(e->name + e->name_len - 4, ".mpy", 4) != 0)
        return 0;
    const uint8_t *d = romfs_entry_data(c->img, e);
    unsigned dev_ver = (unsigned)(c->device_mpy & 0xff);
    unsigned dev_sub = (unsigned)((c->device_mpy >> 8) & 3);
    unsigned dev_arch = (unsigned)((c->device_mpy >> 10) & 0xf);
    if (e->data_size < 4 || d[0] != 'M')
        return romfs_set_error(c->err, ROMFS_ERR_MISMATCH, "%s is not a .mpy file (no 'M' header)",
                               path);
    if (c->device_mpy == 0)
        return romfs_set_error(c->err, ROMFS_ERR_MISMATCH,
                               "%s: the device does not import .mpy files "
                               "(no sys.implementation._mpy)", path);
    unsigned ver = d[1], arch = (d[2] >> 2) & 0xf, sub = d[2] & 3;
    if (ver != dev_ver)
        return romfs_set_error(c->err, ROMFS_ERR_MISMATCH,
                               "%s is .mpy version %u, the device imports version %u: rebuild "
                               "it with the mpy-cross of the device's MicroPython", path, ver, dev_ver);
    /* native code must suit the architecture (the same, or on Thumb devices armv6m up to
       the device's own) and match the sub-version (docs/reference/mpyfiles.rst) */
    if (arch != 0 && (!romfs_mpy_arch_compatible(mpy_arch_names[arch], mpy_arch_names[dev_arch])
                      || sub != dev_sub))
        return romfs_set_error(c->err, ROMFS_ERR_MISMATCH,
                               "%s holds native code for %s (.mpy %u.%u), the device runs %s "
                               "(.mpy %u.%u): rebuild it with mpy-cross -march=%s",
                               path, mpy_arch_names[arch], ver, sub, mpy_arch_names[dev_arch],
                               dev_ver, dev_sub, mpy_arch_names[dev_arch]);
    return 0;
}

int romfs_check_mpy_compat(const uint8_t *image, size_t len, long long device_mpy,
                           struct romfs_error *err)
{
    struct romfs_image img;
    int rc = romfs_image_open(&img, image, len, err);
    if (rc != ROMFS_OK)
        return rc;
    struct mpy_check c = { &img, device_mpy, err };
    return romfs_image_walk(&img, NULL, check_one_mpy, &c, err);
}
