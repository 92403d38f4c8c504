/* gdbremote_ops.c: GDB remote requests a flash writer needs: memory read/write (m, X, M),
 * qCRC, the memory map (qXfer:memory-map:read), vFlash*, halt/continue/detach, qRcmd.
 * Framing and transport live in gdbremote.c. */
#include "transport/gdbremote.h"
#include "transport/gdbremote_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GDB_MAX_MEMORY_MAP (1u << 20)

static const char hex_digits[] = "0123456789abcdef";

/* Largest payload (between '$' and '#') the server accepts. */
static size_t payload_limit(const struct romfs_gdb *g)
{
    return g->packet_size > 68 ? g->packet_size - 4 : 64;
}

static bool reply_is_ok(const char *r, size_t n) { return n == 2 && r[0] == 'O' && r[1] == 'K'; }

/* Send cmd and require "OK". */
static int request_ok(struct romfs_gdb *g, const void *cmd, size_t len, struct romfs_error *err)
{
    const char *r;
    size_t n;
    int rc = romfs_gdb_request(g, cmd, len, &r, &n, err);
    if (rc < 0)
        return rc;
    return reply_is_ok(r, n) ? ROMFS_OK : gdb_error_reply(g, cmd, len, r, n, err);
}

/* Flash operations take time on the target: erasing a 128 KiB STM32F4 sector takes up to
 * 2 s, and a server that buffers vFlashWrite programs everything at vFlashDone. Allow the
 * per-reply timeout plus ms_per_kib for each KiB involved. */
static int request_ok_slow(struct romfs_gdb *g, const char *cmd, size_t len, uint64_t bytes,
                           unsigned ms_per_kib, struct romfs_error *err)
{
    int saved = g->timeout_ms;
    uint64_t extra = (bytes + 1023) / 1024 * ms_per_kib;
    g->timeout_ms = extra > 600000 ? saved + 600000 : saved + (int)extra;
    int rc = request_ok(g, cmd, len, err);
    g->timeout_ms = saved;
    return rc;
}

static int flush_flash(struct romfs_gdb *g, struct romfs_error *err)
{
    return g->flash_pending ? romfs_gdb_flash_done(g, err) : ROMFS_OK;
}

int romfs_gdb_read_memory(struct romfs_gdb *g, uint64_t addr, void *buf, size_t len,
                          struct romfs_error *err)
{
    int rc = flush_flash(g, err);
    if (rc < 0)
        return rc;
    uint8_t *out = buf;
    size_t chunk_max = (payload_limit(g)) / 2;
    while (len > 0) {
        size_t want = len < chunk_max ? len : chunk_max;
        char cmd[64];
        int cl = snprintf(cmd, sizeof cmd, "m%llx,%zx", (unsigned long long)addr, want);
        const char *r;
        size_t n;
        if ((rc = romfs_gdb_request(g, cmd, (size_t)cl, &r, &n, err)) < 0)
            return rc;
        if (n == 0 || r[0] == 'E' || n % 2 || n / 2 > want)
            return n == 0 || r[0] == 'E' || n % 2
                       ? gdb_error_reply(g, cmd, (size_t)cl, r, n, err)
                       : romfs_set_error(err, ROMFS_ERR_PROTOCOL,
                                         "%s: '%s' returned %zu bytes", g->name, cmd, n / 2);
        for (size_t i = 0; i < n / 2; i++) {
            int hi = gdb_hex_value(r[2 * i]), lo = gdb_hex_value(r[2 * i + 1]);
            if (hi < 0 || lo < 0)
                return romfs_set_error(err, ROMFS_ERR_PROTOCOL,
                                       "%s: non-hex data in the reply to '%s'", g->name, cmd);
            out[i] = (uint8_t)(hi << 4 | lo);
        }
        /* A short (non-empty) read is legal: continue after what came back. */
        out += n / 2;
        addr += n / 2;
        len -= n / 2;
    }
    return ROMFS_OK;
}

/* Build "PREFIXaddr,len:" + escaped data (binary) into buf; returns the bytes taken. */
static size_t build_binary(struct romfs_gdb *g, const char *prefix, bool with_len, uint64_t addr,
                           const uint8_t *data, size_t len, uint8_t *buf, size_t *buf_len)
{
    size_t limit = payload_limit(g);
    char head[64];
    /* Reserve room for the longest length field, then write the real one. */
    int hl = with_len ? snprintf(head, sizeof head, "%s%llx,%zx:", prefix,
                                 (unsigned long long)addr, len)
                      : snprintf(head, sizeof head, "%s%llx:", prefix, (unsigned long long)addr);
    size_t room = limit - (size_t)hl;
    size_t elen;
    size_t taken = romfs_gdb_escape(data, len, buf + hl, room, &elen);
    if (with_len) {
        int real = snprintf(head, sizeof head, "%s%llx,%zx:", prefix, (unsigned long long)addr, taken);
        if (real != hl)
            memmove(buf + real, buf + hl, elen);
        hl = real;
    }
    memcpy(buf, head, (size_t)hl);
    *buf_len = (size_t)hl + elen;
    return taken;
}

static int write_hex(struct romfs_gdb *g, uint64_t addr, const uint8_t *data, size_t len,
                     uint8_t *buf, struct romfs_error *err)
{
    size_t limit = payload_limit(g);
    while (len > 0) {
        char head[64];
        int hl = snprintf(head, sizeof head, "M%llx,%zx:", (unsigned long long)addr, len);
        size_t n = (limit - (size_t)hl) / 2;
        if (n > len)
            n = len;
        hl = snprintf((char *)buf, 64, "M%llx,%zx:", (unsigned long long)addr, n);
        for (size_t i = 0; i < n; i++) {
            buf[hl + 2 * i] = (uint8_t)hex_digits[data[i] >> 4];
            buf[hl + 2 * i + 1] = (uint8_t)hex_digits[data[i] & 15];
        }
        int rc = request_ok(g, buf, (size_t)hl + 2 * n, err);
        if (rc < 0)
            return rc;
        addr += n;
        data += n;
        len -= n;
    }
    return ROMFS_OK;
}

int romfs_gdb_write_memory(struct romfs_gdb *g, uint64_t addr, const void *buf, size_t len,
                           struct romfs_error *err)
{
    int rc = flush_flash(g, err);
    if (rc < 0)
        return rc;
    const uint8_t *data = buf;
    uint8_t *pkt = malloc(payload_limit(g) + 64);
    if (!pkt)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    while (len > 0 && g->binary_write >= 0) {
        size_t plen, taken = build_binary(g, "X", true, addr, data, len, pkt, &plen);
        const char *r;
        size_t n;
        if ((rc = romfs_gdb_request(g, pkt, plen, &r, &n, err)) < 0)
            goto out;
        if (n == 0 && g->binary_write == 0) {
            g->binary_write = -1;  /* no X here (QEMU): hex M from now on */
            break;
        }
        if (!reply_is_ok(r, n)) {
            rc = gdb_error_reply(g, pkt, plen, r, n, err);
            goto out;
        }
        g->binary_write = 1;
        addr += taken;
        data += taken;
        len -= taken;
    }
    rc = len > 0 ? write_hex(g, addr, data, len, pkt, err) : ROMFS_OK;
out:
    free(pkt);
    return rc;
}

bool romfs_gdb_uses_binary_write(const struct romfs_gdb *g) { return g->binary_write > 0; }

uint32_t romfs_gdb_crc32(uint32_t crc, const void *data, size_t len)
{
    static uint32_t table[256];
    if (!table[1]) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i << 24;
            for (int k = 0; k < 8; k++)
                c = c & 0x80000000u ? (c << 1) ^ 0x04c11db7u : c << 1;
            table[i] = c;
        }
    }
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++)
        crc = (crc << 8) ^ table[((crc >> 24) ^ p[i]) & 255];
    return crc;
}

int romfs_gdb_crc(struct romfs_gdb *g, uint64_t addr, uint64_t len, uint32_t *crc,
                  struct romfs_error *err)
{
    int rc = flush_flash(g, err);
    if (rc < 0)
        return rc;
    char cmd[64];
    int cl = snprintf(cmd, sizeof cmd, "qCRC:%llx,%llx", (unsigned long long)addr,
                      (unsigned long long)len);
    const char *r;
    size_t n;
    if ((rc = romfs_gdb_request(g, cmd, (size_t)cl, &r, &n, err)) < 0)
        return rc;
    if (n < 2 || n > 9 || r[0] != 'C')
        return gdb_error_reply(g, cmd, (size_t)cl, r, n, err);
    uint32_t v = 0;
    for (size_t i = 1; i < n; i++) {
        int d = gdb_hex_value(r[i]);
        if (d < 0)
            return gdb_error_reply(g, cmd, (size_t)cl, r, n, err);
        v = v << 4 | (uint32_t)d;
    }
    *crc = v;
    return ROMFS_OK;
}

int romfs_gdb_flash_erase(struct romfs_gdb *g, uint64_t addr, uint64_t len,
                          struct romfs_error *err)
{
    char cmd[80];
    int cl = snprintf(cmd, sizeof cmd, "vFlashErase:%llx,%llx", (unsigned long long)addr,
                      (unsigned long long)len);
    g->flash_pending = true;
    return request_ok_slow(g, cmd, (size_t)cl, len, 40, err);
}

int romfs_gdb_flash_write(struct romfs_gdb *g, uint64_t addr, const void *buf, size_t len,
                          struct romfs_error *err)
{
    const uint8_t *data = buf;
    uint8_t *pkt = malloc(payload_limit(g) + 64);
    if (!pkt)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    int rc = ROMFS_OK;
    g->flash_pending = true;
    while (len > 0) {
        size_t plen, taken = build_binary(g, "vFlashWrite:", false, addr, data, len, pkt, &plen);
        if ((rc = request_ok_slow(g, (const char *)pkt, plen, taken, 50, err)) < 0)
            break;
        g->flash_pending_bytes += taken;
        addr += taken;
        data += taken;
        len -= taken;
    }
    free(pkt);
    return rc;
}

int romfs_gdb_flash_done(struct romfs_gdb *g, struct romfs_error *err)
{
    uint64_t pending = g->flash_pending_bytes;
    g->flash_pending = false;
    g->flash_pending_bytes = 0;
    return request_ok_slow(g, "vFlashDone", 10, pending, 50, err);
}

/* ---- memory map ---- */

void romfs_gdb_memory_map_free(struct romfs_gdb_memory_map *map)
{
    free(map->regions);
    map->regions = NULL;
    map->count = 0;
}

/* Find attribute NAME="value" inside [p, end); copies the value into out. */
static bool xml_attr(const char *p, const char *end, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *s = p; s + nl + 2 < end; s++) {
        if (memcmp(s, name, nl) != 0 || (s > p && s[-1] != ' ' && s[-1] != '\t' &&
                                         s[-1] != '\n' && s[-1] != '\r'))
            continue;
        const char *q = s + nl;
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        if (q >= end || *q != '=')
            continue;
        q++;
        while (q < end && (*q == ' ' || *q == '\t'))
            q++;
        if (q >= end || (*q != '"' && *q != '\''))
            continue;
        char quote = *q++;
        const char *v = q;
        while (q < end && *q != quote)
            q++;
        if (q >= end || (size_t)(q - v) >= cap)
            return false;
        memcpy(out, v, (size_t)(q - v));
        out[q - v] = 0;
        return true;
    }
    return false;
}

static bool parse_number(const char *text, uint64_t *out)
{
    while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
        text++;
    if (!*text || *text == '-')
        return false;
    char *end;
    unsigned long long v = strtoull(text, &end, 0);
    while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
        end++;
    if (end == text || *end)
        return false;
    *out = v;
    return true;
}

static const char *find_in(const char *p, const char *end, const char *needle)
{
    size_t nl = strlen(needle);
    for (; p + nl <= end; p++)
        if (memcmp(p, needle, nl) == 0)
            return p;
    return NULL;
}

int romfs_gdb_parse_memory_map(const char *xml, size_t len, struct romfs_gdb_memory_map *map,
                               struct romfs_error *err)
{
    map->count = 0;
    map->regions = NULL;
    const char *p = xml, *end = xml + len;
    size_t cap = 0;
    while ((p = find_in(p, end, "<memory"))) {
        const char *tag_end = p + 7;
        if (tag_end < end && *tag_end == '-') {  /* <memory-map> */
            p = tag_end;
            continue;
        }
        while (tag_end < end && *tag_end != '>')
            tag_end++;
        if (tag_end == end) {
            romfs_gdb_memory_map_free(map);
            return romfs_set_error(err, ROMFS_ERR_CORRUPT, "memory map: unterminated <memory> tag");
        }
        bool self_closing = tag_end[-1] == '/';
        char type[16], start[40], length[40];
        struct romfs_gdb_region r = { 0 };
        if (!xml_attr(p + 7, tag_end, "type", type, sizeof type) ||
            !xml_attr(p + 7, tag_end, "start", start, sizeof start) ||
            !xml_attr(p + 7, tag_end, "length", length, sizeof length) ||
            !parse_number(start, &r.start) || !parse_number(length, &r.length)) {
            romfs_gdb_memory_map_free(map);
            return romfs_set_error(err, ROMFS_ERR_CORRUPT,
                                   "memory map: <memory> at byte %zu lacks a valid type, start "
                                   "or length", (size_t)(p - xml));
        }
        const char *body_end = self_closing ? tag_end : find_in(tag_end, end, "</memory>");
        if (!body_end)
            body_end = end;
        if (strcmp(type, "flash") == 0) {
            r.type = ROMFS_GDB_MEM_FLASH;
            const char *prop = find_in(tag_end, body_end, "<property");
            const char *val = NULL;
            uint64_t bs = 0;
            char name[32];
            for (; prop; prop = find_in(prop + 9, body_end, "<property")) {
                const char *pe = find_in(prop, body_end, ">");
                if (pe && xml_attr(prop + 9, pe, "name", name, sizeof name) &&
                    strcmp(name, "blocksize") == 0) {
                    val = pe + 1;
                    break;
                }
            }
            const char *vend = val ? find_in(val, body_end, "</property>") : NULL;
            char num[40];
            if (!vend || (size_t)(vend - val) >= sizeof num ||
                (memcpy(num, val, (size_t)(vend - val)), num[vend - val] = 0,
                 !parse_number(num, &bs)) ||
                bs == 0 || bs > UINT32_MAX) {
                romfs_gdb_memory_map_free(map);
                return romfs_set_error(err, ROMFS_ERR_CORRUPT,
                                       "memory map: flash region at 0x%llx has no valid blocksize",
                                       (unsigned long long)r.start);
            }
            r.blocksize = (uint32_t)bs;
        } else if (strcmp(type, "ram") == 0) {
            r.type = ROMFS_GDB_MEM_RAM;
        } else if (strcmp(type, "rom") == 0) {
            r.type = ROMFS_GDB_MEM_ROM;
        } else {
            romfs_gdb_memory_map_free(map);
            return romfs_set_error(err, ROMFS_ERR_CORRUPT, "memory map: unknown memory type '%s'",
                                   type);
        }
        if (map->count == cap) {
            cap = cap ? cap * 2 : 8;
            struct romfs_gdb_region *nr = realloc(map->regions, cap * sizeof *nr);
            if (!nr) {
                romfs_gdb_memory_map_free(map);
                return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
            }
            map->regions = nr;
        }
        map->regions[map->count++] = r;
        p = body_end;
    }
    return ROMFS_OK;
}

const struct romfs_gdb_region *romfs_gdb_find_region(const struct romfs_gdb_memory_map *map,
                                                      uint64_t addr)
{
    for (size_t i = 0; i < map->count; i++)
        if (addr >= map->regions[i].start && addr - map->regions[i].start < map->regions[i].length)
            return &map->regions[i];
    return NULL;
}

int romfs_gdb_read_memory_map(struct romfs_gdb *g, struct romfs_gdb_memory_map *map,
                              struct romfs_error *err)
{
    map->count = 0;
    map->regions = NULL;
    char *xml = NULL;
    size_t xlen = 0;
    size_t chunk = payload_limit(g) - 8;
    int rc;
    for (;;) {
        char cmd[80];
        int cl = snprintf(cmd, sizeof cmd, "qXfer:memory-map:read::%zx,%zx", xlen, chunk);
        const char *r;
        size_t n;
        if ((rc = romfs_gdb_request(g, cmd, (size_t)cl, &r, &n, err)) < 0)
            goto out;
        if (n == 0 || (r[0] != 'm' && r[0] != 'l')) {
            rc = gdb_error_reply(g, cmd, (size_t)cl, r, n, err);
            goto out;
        }
        char *nx = realloc(xml, xlen + n + 1);
        if (!nx) {
            rc = romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
            goto out;
        }
        xml = nx;
        memcpy(xml + xlen, r + 1, n - 1);
        size_t got = romfs_gdb_unescape((uint8_t *)xml + xlen, n - 1);
        if (got == (size_t)-1) {
            rc = romfs_set_error(err, ROMFS_ERR_PROTOCOL, "%s: badly escaped memory map", g->name);
            goto out;
        }
        xlen += got;
        if (r[0] == 'l')
            break;
        if (got == 0 || xlen > GDB_MAX_MEMORY_MAP) {
            rc = romfs_set_error(err, ROMFS_ERR_PROTOCOL, "%s: memory map never ends", g->name);
            goto out;
        }
    }
    rc = romfs_gdb_parse_memory_map(xml ? xml : "", xlen, map, err);
    if (rc < 0)
        romfs_error_prefix(err, "%s", g->name);
out:
    free(xml);
    return rc;
}

/* ---- target control ---- */

bool gdb_is_stop_reply(const uint8_t *r, size_t n)
{
    return n >= 1 && (r[0] == 'T' || r[0] == 'S' || r[0] == 'W' || r[0] == 'X');
}

int romfs_gdb_halt(struct romfs_gdb *g, struct romfs_error *err)
{
    if (!g->running)
        return ROMFS_OK;  /* all-stop: the target is already stopped, nothing would answer */
    /* The break is a raw byte, not a packet, and is never acknowledged. */
    static const uint8_t brk = 0x03;
    int rc = gdb_send_raw(g, &brk, 1, err);
    if (rc < 0)
        return rc;
    for (;;) {
        if ((rc = gdb_recv_packet(g, g->timeout_ms, err)) < 0)
            return romfs_error_prefix(err, "halting the target");
        if (gdb_is_stop_reply(g->reply, g->reply_len))
            break;
    }
    g->running = false;
    return ROMFS_OK;
}

int romfs_gdb_continue(struct romfs_gdb *g, struct romfs_error *err)
{
    int rc = flush_flash(g, err);
    if (rc < 0)
        return rc;
    if ((rc = gdb_send_packet(g, "c", 1, err)) < 0)
        return rc;
    g->running = true;
    return ROMFS_OK;
}

int romfs_gdb_detach(struct romfs_gdb *g, struct romfs_error *err)
{
    int rc = flush_flash(g, err);
    if (rc == ROMFS_OK)
        rc = romfs_gdb_halt(g, err);
    if (rc == ROMFS_OK)
        rc = request_ok(g, "D", 1, err);
    return rc;
}

int romfs_gdb_monitor(struct romfs_gdb *g, const char *command, struct romfs_error *err)
{
    size_t cl = strlen(command);
    char *cmd = malloc(6 + 2 * cl + 1);
    if (!cmd)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    memcpy(cmd, "qRcmd,", 6);
    for (size_t i = 0; i < cl; i++) {
        cmd[6 + 2 * i] = hex_digits[(uint8_t)command[i] >> 4];
        cmd[7 + 2 * i] = hex_digits[command[i] & 15];
    }
    const char *r;
    size_t n;
    int rc = romfs_gdb_request(g, cmd, 6 + 2 * cl, &r, &n, err);
    if (rc == ROMFS_OK && !reply_is_ok(r, n)) {
        if (n == 0)
            rc = romfs_set_error(err, ROMFS_ERR_UNSUPPORTED,
                                 "%s has no monitor commands (qRcmd)", g->name);
        else if (r[0] == 'E')
            rc = romfs_set_error(err, ROMFS_ERR_DEVICE, "%s: monitor command '%s' failed: %.*s%s%s",
                                 g->name, command, (int)(n > 40 ? 40 : n), r,
                                 g->console_len ? ": " : "", g->console_len ? g->console : "");
        else
            rc = romfs_set_error(err, ROMFS_ERR_PROTOCOL,
                                 "%s: unexpected reply '%.*s' to monitor command '%s'", g->name,
                                 (int)(n > 40 ? 40 : n), r, command);
    }
    free(cmd);
    return rc;
}
