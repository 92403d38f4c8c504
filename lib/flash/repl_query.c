/* repl_query.c: REPL sessions (helper upload, capabilities), `romfs query`, listing /rom
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

/* Append text to code without comment lines and blank lines, every 4 columns of
 * indentation shortened to 1 (fewer bytes on a slow link; templates indent with spaces
 * only, in steps of 4). */
static int append_stripped(struct romfs_buf *code, const char *text, size_t len)
{
    static const char spaces[] = "                                ";
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl + 1 : end;
        const char *q = p;
        while (q < line_end && (*q == ' ' || *q == '\t'))
            q++;
        bool skip = q == line_end || *q == '\n' || *q == '#';
        size_t indent = (size_t)(q - p);
        size_t short_indent = indent % 4 == 0 && indent / 4 < sizeof spaces ? indent / 4 : indent;
        if (!skip) {
            romfs_buf_append(code, short_indent == indent ? p : spaces, short_indent);
            romfs_buf_append(code, q, (size_t)(line_end - q));
        }
        p = line_end;
    }
    return code->failed ? ROMFS_ERR_NOMEM : ROMFS_OK;
}

/* Code longer than this travels deflated (a window of 2**CODE_WBITS, small enough for any
 * board's heap) and base64-encoded, and the device inflates and runs it: about 40% of
 * the bytes on a link where every byte counts. */
#define CODE_DEFLATE_MIN 512
#define CODE_WBITS 9

/* ROMFS_ERR_DEVICE (with err untouched) when the device cannot inflate; any other error
 * is the link's and stands. */
static int send_deflated(struct romfs_repl_session *ses, const struct romfs_buf *code,
                         struct romfs_error *err)
{
    uint8_t *z = NULL;
    size_t zn = 0;
    if (repl_deflate_raw((const uint8_t *)code->data, code->len, CODE_WBITS, &z, &zn) != ROMFS_OK)
        return ROMFS_ERR_NOMEM;
    struct romfs_buf boot = { 0 };
    romfs_buf_printf(&boot, "from deflate import DeflateIO,RAW\nfrom binascii import a2b_base64\n"
                            "from io import BytesIO\nexec(DeflateIO(BytesIO(a2b_base64('");
    repl_put_base64(&boot, z, zn);
    romfs_buf_printf(&boot, "')),RAW,%d).read())\ndel DeflateIO,RAW,a2b_base64,BytesIO", CODE_WBITS);
    free(z);
    struct romfs_error quiet = { 0 };
    int rc = boot.failed ? ROMFS_ERR_NOMEM
                         : romfs_repl_exec(ses->repl, boot.data, boot.len, NULL, NULL, 0, &quiet);
    romfs_buf_free(&boot);
    if (rc == ROMFS_ERR_NOMEM)
        return ROMFS_ERR_DEVICE;  /* try the plain text, which needs less */
    if (rc != ROMFS_OK && rc != ROMFS_ERR_DEVICE && err)
        *err = quiet;
    return rc;
}

int repl_send_template(struct romfs_repl_session *ses, const char *prelude, const char *name,
                       struct romfs_error *err)
{
    const char *names[] = { name, NULL };
    return repl_send_templates(ses, prelude, names, err);
}

int repl_send_templates(struct romfs_repl_session *ses, const char *prelude, const char *const *names,
                        struct romfs_error *err)
{
    struct romfs_buf code = { 0 };
    if (prelude && append_stripped(&code, prelude, strlen(prelude)) != ROMFS_OK) {
        romfs_buf_free(&code);
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    }
    const char *name = names[0];
    for (size_t i = 0; names[i]; i++) {
        size_t len;
        const char *text = romfs_template(names[i], &len);
        if (!text) {
            romfs_buf_free(&code);
            return romfs_set_error(err, ROMFS_ERR_NOENT, "template %s is not built in", names[i]);
        }
        if (append_stripped(&code, text, len) != ROMFS_OK) {
            romfs_buf_free(&code);
            return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
        }
    }
    int rc = ROMFS_ERR_DEVICE;
    if (!ses->plain_code && code.len > CODE_DEFLATE_MIN)
        rc = send_deflated(ses, &code, err);
    if (rc == ROMFS_ERR_DEVICE) {
        ses->plain_code = true;  /* no deflate or binascii there: plain text from now on */
        rc = romfs_repl_exec(ses->repl, code.data, code.len, NULL, NULL, 0, err);
    }
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
    static const char *const helper[] = { "device/helper.py", "device/list.py", NULL };
    if (rc == ROMFS_OK)
        rc = repl_send_templates(ses, NULL, helper, err);
    struct romfs_buf caps = { 0 };
    if (rc == ROMFS_OK)
        rc = repl_execf(ses, &caps, 0, err, "_rf_caps()");
    if (rc != ROMFS_OK) {
        romfs_buf_free(&caps);
        romfs_repl_session_close(ses);
        return rc;
    }
    char *save = NULL;  /* strtok_r: sessions run in parallel threads (flash/fleet.c) */
    for (char *line = strtok_r(caps.data, "\r\n", &save); line;
         line = strtok_r(NULL, "\r\n", &save)) {
        if (strncmp(line, "caps ", 5) == 0)
            ses->caps = parse_caps(line + 5);
        else if (strncmp(line, "mpy ", 4) == 0)
            ses->mpy = strtoll(line + 4, NULL, 10);
        else if (strncmp(line, "platform ", 9) == 0)
            snprintf(ses->platform, sizeof ses->platform, "%s", line + 9);
        else if (strncmp(line, "mem ", 4) == 0)
            ses->mem_free = strtoull(line + 4, NULL, 10);
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

int repl_hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t n)
{
    if (hex_len < 2 * n)
        return -1;
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
            strlen(hex) != 32 || repl_hex_decode(hex, strlen(hex), p->head, 16) != 0) {
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
            rc = repl_execf(ses, &h, SERVE_HASH_MS, err,
                            "print(_rf_hexs(_rf_sha(0,%llu)))",
                            (unsigned long long)p->image_size);
            if (rc == ROMFS_OK && h.data && repl_hex_decode(h.data, h.len, p->sha256, 32) == 0)
                p->has_sha256 = true;
            romfs_buf_free(&h);
            if (rc != ROMFS_OK)
                return romfs_error_prefix(err, "hashing the image in partition %d", i);
        }
    }
    return ROMFS_OK;
}

void romfs_rom_listing_free(struct romfs_rom_listing *l)
{
    for (size_t i = 0; l && i < l->n; i++)
        free(l->entries[i].path);
    if (l) {
        free(l->entries);
        l->entries = NULL;
        l->n = 0;
    }
}

static int hex_digit(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Depth-first order: by path bytes, with '/' before every other byte, so a directory's
 * contents follow it directly ("lib", "lib/a.py", "lib-x"). */
static int cmp_entry(const void *a, const void *b)
{
    const unsigned char *p = (const unsigned char *)((const struct romfs_rom_entry *)a)->path;
    const unsigned char *q = (const unsigned char *)((const struct romfs_rom_entry *)b)->path;
    for (; *p && *p == *q; p++, q++)
        ;
    int x = *p == '/' ? 1 : *p ? *p + 1 : 0, y = *q == '/' ? 1 : *q ? *q + 1 : 0;
    return x - y;
}

/* The device's "d 0 HEXPATH" / "- SIZE HEXPATH" lines (helper.py's _rf_tree and _rf_ls;
 * names travel hex-encoded so no byte of a name can break the line format). */
static int parse_listing(const struct romfs_buf *text, struct romfs_rom_listing *out,
                         struct romfs_error *err)
{
    memset(out, 0, sizeof *out);
    const char *p = (const char *)text->data, *end = p + text->len;
    size_t cap = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        size_t n = (size_t)(line_end - p);
        while (n && (p[n - 1] == '\r' || p[n - 1] == ' '))
            n--;
        if (n >= 10 && memcmp(p, "! nomount ", 10) == 0) {
            romfs_rom_listing_free(out);
            return romfs_set_error(err, ROMFS_ERR_DEVICE,
                                   "nothing is mounted at /rom (OSError %d): some tools unmount it "
                                   "(mpremote's romfs deploy); a soft reset mounts the partition again",
                                   atoi(p + 10));
        }
        if (n) {
            char type, line[4200];
            unsigned long long size;
            int at = 0;
            if (n >= sizeof line)
                return romfs_set_error(err, ROMFS_ERR_PROTOCOL, "device listing: line too long");
            memcpy(line, p, n);
            line[n] = 0;
            const char *hexpath = line;
            if (sscanf(line, "%c %llu %n", &type, &size, &at) < 2 || at == 0 ||
                (type != 'd' && type != '-') || strlen(hexpath = line + at) % 2)
                return romfs_set_error(err, ROMFS_ERR_PROTOCOL,
                                       "device listing: unexpected line %zu bytes long", n);
            size_t plen = strlen(hexpath) / 2;
            char *path = malloc(plen + 1);
            if (!path)
                return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
            for (size_t i = 0; i < plen; i++) {
                int hi = hex_digit(hexpath[2 * i]), lo = hex_digit(hexpath[2 * i + 1]);
                if (hi < 0 || lo < 0 || (hi | lo) == 0) {   /* a NUL would cut the name */
                    free(path);
                    return romfs_set_error(err, ROMFS_ERR_PROTOCOL, "device listing: bad name encoding");
                }
                path[i] = (char)(hi << 4 | lo);
            }
            path[plen] = 0;
            if (out->n == cap) {
                size_t ncap = cap ? 2 * cap : 16;
                struct romfs_rom_entry *ne = realloc(out->entries, ncap * sizeof *ne);
                if (!ne) {
                    free(path);
                    return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
                }
                out->entries = ne;
                cap = ncap;
            }
            out->entries[out->n++] = (struct romfs_rom_entry){ path, type == 'd', size };
        }
        p = line_end + (nl ? 1 : 0);
    }
    if (out->n)
        qsort(out->entries, out->n, sizeof *out->entries, cmp_entry);
    return ROMFS_OK;
}

static int list_with(struct romfs_repl_session *ses, const char *call, struct romfs_rom_listing *out,
                     struct romfs_error *err)
{
    struct romfs_buf text = { 0 };
    int rc = repl_execf(ses, &text, 0, err, "%s", call);
    if (rc == ROMFS_OK) {
        rc = parse_listing(&text, out, err);
        if (rc != ROMFS_OK)
            romfs_rom_listing_free(out);
    }
    romfs_buf_free(&text);
    return rc;
}

int romfs_repl_reset_and_list_rom(struct romfs_repl_session *ses, struct romfs_rom_listing *out,
                                  struct romfs_error *err)
{
    int rc = romfs_repl_soft_reset(ses->repl, NULL, 20000, err);
    if (rc != ROMFS_OK)
        return romfs_error_prefix(err, "soft reset");
    ses->serve_loaded = false;  /* the reset forgot every definition: only the listing */
    ses->helper_lost = true;    /* is sent again, the rest is not needed any more */
    rc = repl_send_template(ses, NULL, "device/list.py", err);
    if (rc == ROMFS_OK)
        rc = list_with(ses, "_rf_ls()", out, err);
    if (rc != ROMFS_OK)
        romfs_error_prefix(err, "listing /rom after the soft reset");
    return rc;
}

int romfs_repl_list_rom_top(struct romfs_repl_session *ses, struct romfs_rom_listing *out,
                            struct romfs_error *err)
{
    int rc = list_with(ses, "_rf_ls()", out, err);
    return rc == ROMFS_OK ? rc : romfs_error_prefix(err, "listing /rom");
}

int romfs_repl_list_rom(struct romfs_repl_session *ses, struct romfs_rom_listing *out,
                        struct romfs_error *err)
{
    int rc = list_with(ses, "_rf_tree()", out, err);
    return rc == ROMFS_OK ? rc : romfs_error_prefix(err, "listing /rom");
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
        return romfs_set_error_need(err, ROMFS_ERR_INVAL, ROMFS_NEED_PORT,
                                    "%zu MicroPython boards are connected (%s); which one?",
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
