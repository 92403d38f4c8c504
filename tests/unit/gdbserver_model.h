/* gdbserver_model.h: a GDB remote server model for tests (header-only; include once).
 *
 * Speaks RSP over a stream fd (socketpair end or accepted TCP socket) on its own thread,
 * with the behaviour real servers show and the client must cope with:
 *  - PacketSize advertised; frames larger than it are dropped without an ack (QEMU);
 *  - acks, QStartNoAckMode (optional), bad checksums answered with '-', injected
 *    '-' to good packets and injected bad reply checksums;
 *  - a RAM region written with X (optional, else empty reply as QEMU) or M;
 *  - a flash region with NOR semantics: vFlashErase of whole blocks only (immediate),
 *    vFlashWrite buffered until vFlashDone (as OpenOCD) and programmed by AND-ing;
 *  - qXfer:memory-map:read served in small chunks, qCRC, m with optional RLE replies;
 *  - `c` (no reply until a 0x03 break), `D`, qRcmd "reset";
 *  - an error reply injected for the Nth request starting with a given prefix;
 *  - an unsolicited stop reply right after connecting (QEMU's gdbstub). */
#ifndef GDBSERVER_MODEL_H
#define GDBSERVER_MODEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct gdbmodel_config {
    size_t packet_size;        /* advertised PacketSize (frame incl. $ # cc) */
    bool no_ack_mode;          /* offer QStartNoAckMode */
    bool binary_write;         /* support X */
    bool qcrc;                 /* support qCRC */
    bool memory_map;           /* support qXfer:memory-map:read */
    bool rle;                  /* run-length encode m replies */
    uint64_t ram_start, ram_size;
    uint64_t flash_start, flash_size;
    uint32_t flash_block;
    unsigned nak_every;        /* answer '-' to every Nth good packet (0: never) */
    unsigned corrupt_every;    /* send every Nth reply with a bad checksum first (0: never) */
    const char *fail_prefix;   /* requests starting with this ... */
    unsigned fail_nth;         /* ... fail on the Nth such request (1-based) ... */
    const char *fail_reply;    /* ... with this reply, e.g. "E09" */
    bool mute;                 /* never answer anything (timeout tests) */
    bool announce_stop;        /* send a stop reply unasked on connect (QEMU halts then) */
    bool bmp;                  /* Black Magic Probe: no target until "monitor swdp_scan"
                                  and vAttach;1 */
};

struct gdbmodel {
    struct gdbmodel_config cfg;
    int fd;
    pthread_t thread;
    uint8_t *ram, *flash, *pending;  /* pending: flash image with buffered vFlashWrites */
    bool no_ack, running, detached, scanned, attached;
    unsigned good_packets, replies, fail_seen;
    /* statistics the tests look at */
    size_t largest_frame;      /* largest frame received ($ to checksum) */
    unsigned dropped_frames, x_packets, m_write_packets, m_read_packets, erases, flash_writes,
        flash_dones, resets, breaks, unerased_writes, naks_received;
};

static void gdbmodel_default_config(struct gdbmodel_config *c)
{
    memset(c, 0, sizeof *c);
    c->packet_size = 4096;
    c->no_ack_mode = true;
    c->binary_write = true;
    c->qcrc = true;
    c->memory_map = true;
    c->ram_start = 0x20000000;
    c->ram_size = 64 * 1024;
    c->flash_start = 0x08000000;
    c->flash_size = 256 * 1024;
    c->flash_block = 16 * 1024;
}

static int gm_hex(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int gm_getc(struct gdbmodel *m)
{
    uint8_t c;
    ssize_t n = read(m->fd, &c, 1);
    return n == 1 ? c : -1;
}

static void gm_write(struct gdbmodel *m, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(m->fd, b, n);
        if (w <= 0)
            return;
        b += w;
        n -= (size_t)w;
    }
}

/* Send one reply; in ack mode wait for '+', resending on '-'. */
static void gm_reply(struct gdbmodel *m, const char *payload, size_t len)
{
    if (m->cfg.mute)
        return;
    uint8_t *frame = malloc(len + 5);
    unsigned sum = 0;
    for (size_t i = 0; i < len; i++)
        sum += (uint8_t)payload[i];
    frame[0] = '$';
    memcpy(frame + 1, payload, len);
    snprintf((char *)frame + len + 1, 4, "#%02x", sum & 255);
    m->replies++;
    bool corrupt = m->cfg.corrupt_every && m->replies % m->cfg.corrupt_every == 0 && !m->no_ack;
    for (int tries = 0; tries < 10; tries++) {
        if (corrupt) {
            frame[len + 3] ^= 1;
            gm_write(m, frame, len + 4);
            frame[len + 3] ^= 1;
            corrupt = false;
        } else {
            gm_write(m, frame, len + 4);
        }
        if (m->no_ack)
            break;
        int c = gm_getc(m);
        if (c == '+' || c < 0)
            break;
        if (c == '-')
            m->naks_received++;
    }
    free(frame);
}

static void gm_replys(struct gdbmodel *m, const char *s) { gm_reply(m, s, strlen(s)); }

static bool gm_in(uint64_t a, uint64_t n, uint64_t start, uint64_t size)
{
    return a >= start && n <= size && a - start <= size - n;
}

/* Memory at [a, a+n) for reading, or NULL. */
static uint8_t *gm_mem(struct gdbmodel *m, uint64_t a, uint64_t n, bool *is_flash)
{
    *is_flash = false;
    if (gm_in(a, n, m->cfg.ram_start, m->cfg.ram_size))
        return m->ram + (a - m->cfg.ram_start);
    if (gm_in(a, n, m->cfg.flash_start, m->cfg.flash_size)) {
        *is_flash = true;
        return m->flash + (a - m->cfg.flash_start);
    }
    return NULL;
}

static uint32_t gm_crc32(const uint8_t *p, size_t n)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint32_t)p[i] << 24;
        for (int k = 0; k < 8; k++)
            crc = crc & 0x80000000u ? (crc << 1) ^ 0x04c11db7u : crc << 1;
    }
    return crc;
}

static size_t gm_unescape(uint8_t *p, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        p[o++] = p[i] == '}' && i + 1 < n ? (uint8_t)(p[++i] ^ 0x20) : p[i];
    return o;
}

static void gm_hexreply(struct gdbmodel *m, const uint8_t *data, size_t n)
{
    char *r = malloc(2 * n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (m->cfg.rle && i > 0) {  /* "x*N": repeat the previous character N-29 times */
            size_t run = 0;
            while (i + run < n && data[i + run] == data[i - 1] && run < 40)
                run++;
            /* a run of hex digit pairs: 2*run characters; avoid '#', '$', '+', '-' counts */
            size_t chars = 2 * run;
            if (run >= 3 && (data[i - 1] >> 4) == (data[i - 1] & 15) && chars + 29 != '#' &&
                chars + 29 != '$' && chars + 29 != '+' && chars + 29 != '-' && chars + 29 <= 126) {
                r[o++] = '*';
                r[o++] = (char)(chars + 29);
                i += run - 1;
                continue;
            }
        }
        o += (size_t)snprintf(r + o, 3, "%02x", data[i]);
    }
    gm_reply(m, r, o);
    free(r);
}

static void gm_memory_map(struct gdbmodel *m, const char *args)
{
    char xml[1024];
    int n = snprintf(xml, sizeof xml,
                     "<?xml version=\"1.0\"?>\n<!DOCTYPE memory-map PUBLIC \"+//IDN gnu.org//DTD "
                     "GDB Memory Map V1.0//EN\" \"http://sourceware.org/gdb/gdb-memory-map.dtd\">\n"
                     "<memory-map>\n<memory type=\"flash\" start=\"0x%llx\" length=\"0x%llx\">\n"
                     "<property name=\"blocksize\">0x%x</property>\n</memory>\n"
                     "<memory type=\"ram\" start=\"0x%llx\" length=\"0x%llx\"/>\n</memory-map>\n",
                     (unsigned long long)m->cfg.flash_start, (unsigned long long)m->cfg.flash_size,
                     m->cfg.flash_block, (unsigned long long)m->cfg.ram_start,
                     (unsigned long long)m->cfg.ram_size);
    unsigned long off, len;
    if (sscanf(args, "%lx,%lx", &off, &len) != 2)
        return gm_replys(m, "E00");
    if (len > 100)
        len = 100;  /* small chunks, so the client must loop */
    if (off >= (unsigned long)n)
        return gm_replys(m, "l");
    char r[128];
    size_t take = (unsigned long)n - off < len ? (unsigned long)n - off : len;
    r[0] = off + take >= (unsigned long)n ? 'l' : 'm';
    memcpy(r + 1, xml + off, take);
    gm_reply(m, r, take + 1);
}

static void gm_handle(struct gdbmodel *m, char *p, size_t n)
{
    p[n] = 0;
    if (m->cfg.fail_prefix && strncmp(p, m->cfg.fail_prefix, strlen(m->cfg.fail_prefix)) == 0 &&
        ++m->fail_seen == m->cfg.fail_nth)
        return gm_replys(m, m->cfg.fail_reply);
    unsigned long long a, len;
    bool is_flash;
    if (strncmp(p, "qSupported", 10) == 0) {
        char r[200];
        snprintf(r, sizeof r, "PacketSize=%zx%s%s", m->cfg.packet_size,
                 m->cfg.memory_map ? ";qXfer:memory-map:read+" : "",
                 m->cfg.no_ack_mode ? ";QStartNoAckMode+" : "");
        gm_replys(m, r);
    } else if (strcmp(p, "QStartNoAckMode") == 0 && m->cfg.no_ack_mode) {
        gm_replys(m, "OK");
        m->no_ack = true;
    } else if (m->cfg.bmp && !m->attached && (strcmp(p, "?") == 0 || p[0] == 'm' ||
                                               p[0] == 'M' || p[0] == 'X')) {
        gm_replys(m, strcmp(p, "?") == 0 ? "W00" : "E01");  /* nothing attached yet */
    } else if (m->cfg.bmp && strcmp(p, "vAttach;1") == 0) {
        if (!m->scanned)
            return gm_replys(m, "E01");
        m->attached = true;
        gm_replys(m, "T05");
    } else if (strcmp(p, "?") == 0) {
        gm_replys(m, "T05thread:01;");
    } else if (p[0] == 'm' && sscanf(p + 1, "%llx,%llx", &a, &len) == 2) {
        m->m_read_packets++;
        uint8_t *mem = gm_mem(m, a, len, &is_flash);
        if (!mem || 2 * len + 4 > m->cfg.packet_size)
            return gm_replys(m, "E14");
        gm_hexreply(m, mem, len);
    } else if (p[0] == 'M' && sscanf(p + 1, "%llx,%llx:", &a, &len) == 2) {
        m->m_write_packets++;
        const char *hex = strchr(p, ':') + 1;
        uint8_t *mem = gm_mem(m, a, len, &is_flash);
        if (!mem || is_flash || strlen(hex) != 2 * len)
            return gm_replys(m, "E01");
        for (size_t i = 0; i < len; i++)
            mem[i] = (uint8_t)(gm_hex(hex[2 * i]) << 4 | gm_hex(hex[2 * i + 1]));
        gm_replys(m, "OK");
    } else if (p[0] == 'X') {
        if (!m->cfg.binary_write)
            return gm_replys(m, "");
        m->x_packets++;
        char *colon = memchr(p, ':', n);
        if (!colon || sscanf(p + 1, "%llx,%llx", &a, &len) != 2)
            return gm_replys(m, "E02");
        size_t dl = gm_unescape((uint8_t *)colon + 1, n - (size_t)(colon + 1 - p));
        uint8_t *mem = gm_mem(m, a, len, &is_flash);
        if (dl != len || (len && (!mem || is_flash)))
            return gm_replys(m, "E01");
        memcpy(mem, colon + 1, len);
        gm_replys(m, "OK");
    } else if (strncmp(p, "vFlashErase:", 12) == 0 && sscanf(p + 12, "%llx,%llx", &a, &len) == 2) {
        m->erases++;
        if (!gm_in(a, len, m->cfg.flash_start, m->cfg.flash_size) ||
            (a - m->cfg.flash_start) % m->cfg.flash_block || len % m->cfg.flash_block)
            return gm_replys(m, "E03");
        memset(m->flash + (a - m->cfg.flash_start), 0xff, len);
        if (m->pending)
            memset(m->pending + (a - m->cfg.flash_start), 0xff, len);
        gm_replys(m, "OK");
    } else if (strncmp(p, "vFlashWrite:", 12) == 0) {
        m->flash_writes++;
        char *colon = memchr(p + 12, ':', n - 12);
        if (!colon || sscanf(p + 12, "%llx", &a) != 1)
            return gm_replys(m, "E02");
        size_t dl = gm_unescape((uint8_t *)colon + 1, n - (size_t)(colon + 1 - p));
        if (!gm_in(a, dl, m->cfg.flash_start, m->cfg.flash_size))
            return gm_replys(m, "E.memtype");
        if (!m->pending) {
            m->pending = malloc(m->cfg.flash_size);
            memcpy(m->pending, m->flash, m->cfg.flash_size);
        }
        uint8_t *dst = m->pending + (a - m->cfg.flash_start);
        for (size_t i = 0; i < dl; i++) {
            if (dst[i] != 0xff)
                m->unerased_writes++;
            dst[i] &= (uint8_t)colon[1 + i];  /* NOR: programming only clears bits */
        }
        gm_replys(m, "OK");
    } else if (strcmp(p, "vFlashDone") == 0) {
        m->flash_dones++;
        if (m->pending) {
            memcpy(m->flash, m->pending, m->cfg.flash_size);
            free(m->pending);
            m->pending = NULL;
        }
        gm_replys(m, "OK");
    } else if (strncmp(p, "qXfer:memory-map:read::", 23) == 0 && m->cfg.memory_map) {
        gm_memory_map(m, p + 23);
    } else if (strncmp(p, "qCRC:", 5) == 0 && m->cfg.qcrc &&
               sscanf(p + 5, "%llx,%llx", &a, &len) == 2) {
        uint8_t *mem = gm_mem(m, a, len, &is_flash);
        if (!mem)
            return gm_replys(m, "E01");
        char r[16];
        snprintf(r, sizeof r, "C%x", gm_crc32(mem, len));
        gm_replys(m, r);
    } else if (strncmp(p, "qRcmd,", 6) == 0) {
        char cmd[128] = "";
        size_t hl = strlen(p + 6) / 2;
        for (size_t i = 0; i < hl && i + 1 < sizeof cmd; i++)
            cmd[i] = (char)(gm_hex(p[6 + 2 * i]) << 4 | gm_hex(p[7 + 2 * i])), cmd[i + 1] = 0;
        if (m->cfg.bmp && strcmp(cmd, "swdp_scan") == 0) {
            m->scanned = true;
            gm_replys(m, "O5461726765742020766f6c746167653a20332e33560a");  /* "Target  voltage: 3.3V\n" */
            gm_replys(m, "OK");
        } else if (strcmp(cmd, "reset") == 0) {
            m->resets++;
            gm_replys(m, "O526573657474696e67207461726765740a");  /* "Resetting target\n" */
            gm_replys(m, "OK");
        } else {
            gm_replys(m, "E01");
        }
    } else if (strcmp(p, "c") == 0) {
        m->running = true;  /* the reply comes when the target stops */
    } else if (strcmp(p, "D") == 0) {
        m->running = true;
        m->detached = true;
        gm_replys(m, "OK");
    } else {
        gm_replys(m, "");
    }
}

static void *gm_thread(void *arg)
{
    struct gdbmodel *m = arg;
    size_t cap = 1 << 16;
    char *buf = malloc(cap + 1);
    if (m->cfg.announce_stop) {
        bool saved = m->no_ack;
        m->no_ack = true;  /* QEMU does not wait for the ack of this one */
        gm_replys(m, "T02thread:01;");
        m->no_ack = saved;
    }
    for (;;) {
        int c = gm_getc(m);
        if (c < 0)
            break;
        if (c == 0x03) {
            m->breaks++;
            if (m->running) {
                m->running = false;
                gm_replys(m, "T02thread:01;");
            }
            continue;
        }
        if (c == '-')
            m->naks_received++;
        if (c != '$')
            continue;
        size_t n = 0;
        bool overflow = false;
        while ((c = gm_getc(m)) >= 0 && c != '#') {
            if (n < cap)
                buf[n++] = (char)c;
            else
                overflow = true;
        }
        int hi = gm_getc(m), lo = gm_getc(m);
        if (c < 0 || hi < 0 || lo < 0)
            break;
        size_t frame = n + 4;
        if (frame > m->largest_frame)
            m->largest_frame = frame;
        if (overflow || frame > m->cfg.packet_size) {
            m->dropped_frames++;  /* like QEMU: silently dropped, no ack */
            continue;
        }
        unsigned sum = 0;
        for (size_t i = 0; i < n; i++)
            sum += (uint8_t)buf[i];
        if (gm_hex(hi) < 0 || gm_hex(lo) < 0 || (sum & 255) != (unsigned)(gm_hex(hi) << 4 | gm_hex(lo))) {
            if (!m->no_ack)
                gm_write(m, "-", 1);
            continue;
        }
        m->good_packets++;
        if (!m->no_ack) {
            if (m->cfg.nak_every && m->good_packets % m->cfg.nak_every == 0) {
                gm_write(m, "-", 1);  /* pretend it arrived damaged */
                continue;
            }
            gm_write(m, "+", 1);
        }
        gm_handle(m, buf, n);
    }
    free(buf);
    return NULL;
}

/* Start serving on fd (the model owns it). */
static struct gdbmodel *gdbmodel_start(const struct gdbmodel_config *cfg, int fd)
{
    struct gdbmodel *m = calloc(1, sizeof *m);
    m->cfg = *cfg;
    m->fd = fd;
    m->ram = calloc(1, cfg->ram_size ? cfg->ram_size : 1);
    m->flash = malloc(cfg->flash_size ? cfg->flash_size : 1);
    for (uint64_t i = 0; i < cfg->flash_size; i++)
        m->flash[i] = (uint8_t)(i * 7 + 3);  /* not erased: stale contents */
    pthread_create(&m->thread, NULL, gm_thread, m);
    return m;
}

/* Wait for the client to close its end, then free. */
static void gdbmodel_stop(struct gdbmodel *m)
{
    pthread_join(m->thread, NULL);
    close(m->fd);
    free(m->ram);
    free(m->flash);
    free(m->pending);
    free(m);
}

#endif
