/* test_gdbremote.c: the GDB remote client against the GDB-server model
 * (tests/unit/gdbserver_model.h) over a socketpair, plus the pure framing helpers. */
#define _XOPEN_SOURCE 700  /* posix_openpt, ptsname */
#include "unit.h"
#include "gdbserver_model.h"
#include "transport/gdbremote.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <sys/socket.h>

struct pair {
    struct gdbmodel *model;
    struct romfs_gdb *gdb;
};

static struct pair start(const struct gdbmodel_config *cfg, bool handshake)
{
    int sv[2];
    struct pair p = { 0 };
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return p;
    p.model = gdbmodel_start(cfg, sv[1]);
    struct romfs_error err = { 0 };
    if (romfs_gdb_open_fd(sv[0], "model", 2000, &p.gdb, &err) != ROMFS_OK)
        return p;
    if (handshake && romfs_gdb_handshake(p.gdb, &err) != ROMFS_OK) {
        printf("    handshake: %s\n", err.msg);
        romfs_gdb_close(p.gdb);
        p.gdb = NULL;
    }
    return p;
}

static void finish(struct pair *p)
{
    romfs_gdb_close(p->gdb);  /* the model thread sees EOF and ends */
    gdbmodel_stop(p->model);
}

static void fill_pattern(uint8_t *b, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)((i * 131 + seed) ^ (i >> 7));
    /* every byte that needs escaping, in a row */
    if (n > 8)
        memcpy(b + 3, "#$}*#$}*", 8);
}

static void test_handshake_learns_packet_size_and_no_ack(void)
{
    struct gdbmodel_config cfg;
    gdbmodel_default_config(&cfg);
    cfg.packet_size = 0x3fff;
    struct pair p = start(&cfg, true);
    CHECK(p.gdb);
    CHECK_EQ_U(romfs_gdb_packet_size(p.gdb), 0x3fff);
    CHECK(romfs_gdb_no_ack_active(p.gdb));
    CHECK(romfs_gdb_has_memory_map(p.gdb));
    CHECK(p.model->no_ack);
    finish(&p);
}

static void test_ack_mode_when_server_lacks_no_ack(void)
{
    struct gdbmodel_config cfg;
    gdbmodel_default_config(&cfg);
    cfg.no_ack_mode = false;
    cfg.memory_map = false;
    struct pair p = start(&cfg, true);
    CHECK(p.gdb);
    CHECK(!romfs_gdb_no_ack_active(p.gdb));
    CHECK(!romfs_gdb_has_memory_map(p.gdb));
    uint8_t out[300], in[300];
    fill_pattern(out, sizeof out, 1);
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_gdb_write_memory(p.gdb, 0x20000100, out, sizeof out, &err), ROMFS_OK);
    CHECK_EQ_U(romfs_gdb_read_memory(p.gdb, 0x20000100, in, sizeof in, &err), ROMFS_OK);
    CHECK_MEM(in, out, sizeof out);
    finish(&p);
}

/* QEMU-like: small PacketSize, no X. Every frame must fit, M must take over after the
 * first empty reply to X, and the data must arrive intact. */
static void test_m_fallback_within_packet_size(void)
{
    struct gdbmodel_config cfg;
    gdbmodel_default_config(&cfg);
    cfg.packet_size = 256;
    cfg.binary_write = false;
    struct pair p = start(&cfg, true);
    CHECK(p.gdb);
    static uint8_t out[5000], in[5000];
    fill_pattern(out, sizeof out, 7);
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_gdb_write_memory(p.gdb, 0x20000003, out, sizeof out, &err), ROMFS_OK);
    CHECK(!romfs_gdb_uses_binary_write(p.gdb));
    CHECK_EQ_U(romfs_gdb_read_memory(p.gdb, 0x20000003, in, sizeof in, &err), ROMFS_OK);
    CHECK_MEM(in, out, sizeof out);
    CHECK_EQ_U(p.model->dropped_frames, 0);
    CHECK(p.model->largest_frame <= 256);
    CHECK(p.model->largest_frame >= 200);         /* and packets are not needlessly small */
    CHECK(p.model->m_write_packets <= 5000 / 115 + 1);
    finish(&p);
}

/* QEMU halts the guest when a debugger connects and says so with a stop reply nobody
 * asked for; it must not be taken as the answer to qSupported. */
static void test_unsolicited_stop_reply_like_qemu(void)
{
    struct gdbmodel_config cfg;
    gdbmodel_default_config(&cfg);
    cfg.announce_stop = true;
    cfg.no_ack_mode = false;
    cfg.binary_write = false;
    cfg.memory_map = false;
    cfg.packet_size = 0x1000;
    struct pair p = start(&cfg, true);
    CHECK(p.gdb);
    CHECK_EQ_U(romfs_gdb_packet_size(p.gdb), 0x1000);
    uint8_t out[100], in[100];
    fill_pattern(out, sizeof out, 2);
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_gdb_write_memory(p.gdb, 0x20000010, out, sizeof out, &err), ROMFS_OK);
    CHECK_EQ_U(romfs_gdb_read_memory(p.gdb, 0x20000010, in, sizeof in, &err), ROMFS_OK);
    CHECK_MEM(in, out, sizeof out);
    finish(&p);
}

static void test_binary_write_escapes_special_bytes(void)
{
    struct gdbmodel_config cfg;
    gdbmodel_default_config(&cfg);
    cfg.packet_size = 300;
    struct pair p = start(&cfg, true);
    CHECK(p.gdb);
    static uint8_t out[4096], in[4096];
    for (size_t i = 0; i < sizeof out; i++)
        out[i] = (uint8_t)i;
    memset(out + 1000, '}', 700);  /* a stretch where every byte doubles */
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_gdb_write_memory(p.gdb, 0x20001000, out, sizeof out, &err), ROMFS_OK);
    CHECK(romfs_gdb_uses_binary_write(p.gdb));
    CHECK_EQ_U(p.model->m_write_packets, 0);
    CHECK_EQ_U(romfs_gdb_read_memory(p.gdb, 0x20001000, in, sizeof in, &err), ROMFS_OK);
    CHECK_MEM(in, out, sizeof out);
    CHECK_EQ_U(p.model->dropped_frames, 0);
    CHECK(p.model->largest_frame <= 300);
    finish(&p);
}

static void test_rle_replies_are_expanded(void)
{
    struct gdbmodel_config cfg;
    gdbmodel_default_config(&cfg);
    cfg.rle = true;
    struct pair p = start(&cfg, true);
    CHECK(p.gdb);
    static uint8_t out[2000], in[2000];
    memset(out, 0xff, sizeof out);
    memset(out + 500, 0x00, 300);
    memset(out + 900, 0x11, 3);
    out[1999] = 0x42;
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_gdb_write_memory(p.gdb, 0x20000000, out, sizeof out, &err), ROMFS_OK);
    CHECK_EQ_U(romfs_gdb_read_memory(p.gdb, 0x20000000, in, sizeof in, &err), ROMFS_OK);
    CHECK_MEM(in, out, sizeof out);
    finish(&p);
}

static void test_checksum_errors_are_retransmitted(void)
{
    struct gdbmodel_config cfg;
    gdbmodel_default_config(&cfg);
    cfg.no_ack_mode = false;
    cfg.nak_every = 3;      /* the server claims every 3rd packet arrived damaged */
    cfg.corrupt_every = 4;  /* and damages every 4th reply */
    struct pair p = start(&cfg, true);
    CHECK(p.gdb);
    static uint8_t out[20000], in[20000];
    fill_pattern(out, sizeof out, 3);
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_gdb_write_memory(p.gdb, 0x20000000, out, sizeof out, &err), ROMFS_OK);
    CHECK_EQ_U(romfs_gdb_read_memory(p.gdb, 0x20000000, in, sizeof in, &err), ROMFS_OK);
    CHECK_MEM(in, out, sizeof out);
    struct romfs_gdb_stats st;
    romfs_gdb_get_stats(p.gdb, &st);
    CHECK(st.retransmits >= 4);
    CHECK(p.model->naks_received >= 2);  /* the client asked for damaged replies again */
    finish(&p);
}

static void test_bad_checksum_in_no_ack_mode_fails_clearly(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    struct romfs_gdb *g;
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_gdb_open_fd(sv[0], "peer", 500, &g, &err), ROMFS_OK);
    /* a hand-made server: offers no-ack, then answers '?' with a damaged frame */
    char frame[64];
    unsigned sum = 0;
    const char *feat = "PacketSize=1000;QStartNoAckMode+";
    for (const char *c = feat; *c; c++)
        sum += (uint8_t)*c;
    int n = snprintf(frame, sizeof frame, "+$%s#%02x", feat, sum & 255);
    CHECK(write(sv[1], frame, (size_t)n) == n);
    CHECK(write(sv[1], "+$OK#9a", 7) == 7);
    CHECK(write(sv[1], "$T05#00", 7) == 7);  /* wrong checksum (should be b9) */
    int rc = romfs_gdb_handshake(g, &err);
    CHECK_EQ_U(rc, ROMFS_ERR_PROTOCOL);
    CHECK(strstr(err.msg, "bad checksum"));
    CHECK(strstr(err.msg, "no-ack"));
    romfs_gdb_close(g);
    close(sv[1]);
}

static void test_timeout_names_the_server(void)
{
    struct gdbmodel_config cfg;
    gdbmodel_default_config(&cfg);
    cfg.mute = true;
    cfg.no_ack_mode = false;
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    struct gdbmodel *m = gdbmodel_start(&cfg, sv[1]);
    struct romfs_gdb *g;
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_gdb_open_fd(sv[0], "gdb://silent:1", 200, &g, &err), ROMFS_OK);
    romfs_gdb_set_no_ack(g, false);
    int rc = romfs_gdb_handshake(g, &err);
    romfs_gdb_close(g);
    gdbmodel_stop(m);
    /* the model still acks ('+'), but never answers */
    CHECK_EQ_U(rc, ROMFS_ERR_TIMEOUT);
    CHECK(strstr(err.msg, "gdb://silent:1"));
    CHECK(strstr(err.msg, "qSupported"));
}

static void test_error_reply_is_reported(void)
{
    struct gdbmodel_config cfg;
    gdbmodel_default_config(&cfg);
    cfg.fail_prefix = "vFlashErase";
    cfg.fail_nth = 2;
    cfg.fail_reply = "E09";
    struct pair p = start(&cfg, true);
    CHECK(p.gdb);
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_gdb_flash_erase(p.gdb, 0x08000000, 0x4000, &err), ROMFS_OK);
    int rc = romfs_gdb_flash_erase(p.gdb, 0x08004000, 0x4000, &err);
    CHECK_EQ_U(rc, ROMFS_ERR_DEVICE);
    CHECK(strstr(err.msg, "vFlashErase:8004000,4000"));
    CHECK(strstr(err.msg, "E09"));
    CHECK(strstr(err.msg, "model"));
    /* an unaligned erase is refused by the server (E03), also reported */
    rc = romfs_gdb_flash_erase(p.gdb, 0x08000100, 0x100, &err);
    CHECK_EQ_U(rc, ROMFS_ERR_DEVICE);
    CHECK(strstr(err.msg, "E03"));
    /* reading unmapped memory */
    uint8_t b[4];
    rc = romfs_gdb_read_memory(p.gdb, 0x60000000, b, 4, &err);
    CHECK_EQ_U(rc, ROMFS_ERR_DEVICE);
    CHECK(strstr(err.msg, "m60000000,4"));
    finish(&p);
}

static void test_flash_erase_write_done(void)
{
    struct gdbmodel_config cfg;
    gdbmodel_default_config(&cfg);
    cfg.packet_size = 1024;
    struct pair p = start(&cfg, true);
    CHECK(p.gdb);
    static uint8_t out[40000], in[40000];
    fill_pattern(out, sizeof out, 11);
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_gdb_flash_erase(p.gdb, 0x08004000, 0xc000, &err), ROMFS_OK);
    CHECK_EQ_U(romfs_gdb_flash_write(p.gdb, 0x08004000, out, sizeof out, &err), ROMFS_OK);
    CHECK_EQ_U(p.model->flash_dones, 0);
    /* reading commits first (servers may buffer until vFlashDone) */
    CHECK_EQ_U(romfs_gdb_read_memory(p.gdb, 0x08004000, in, sizeof in, &err), ROMFS_OK);
    CHECK_EQ_U(p.model->flash_dones, 1);
    CHECK_MEM(in, out, sizeof out);
    CHECK_EQ_U(p.model->unerased_writes, 0);
    CHECK(p.model->largest_frame <= 1024);
    /* beyond the written part the erase left 0xff */
    CHECK_EQ_U(romfs_gdb_read_memory(p.gdb, 0x08004000 + sizeof out, in, 16, &err), ROMFS_OK);
    for (int i = 0; i < 16; i++)
        CHECK_EQ_U(in[i], 0xff);
    uint32_t crc;
    CHECK_EQ_U(romfs_gdb_crc(p.gdb, 0x08004000, sizeof out, &crc, &err), ROMFS_OK);
    CHECK_EQ_U(crc, romfs_gdb_crc32(0xffffffffu, out, sizeof out));
    finish(&p);
}

static void test_crc32_check_value(void)
{
    /* CRC-32/MPEG-2 (GDB's qCRC algorithm) of "123456789" is 0x0376e6e7 */
    CHECK_EQ_U(romfs_gdb_crc32(0xffffffffu, "123456789", 9), 0x0376e6e7);
    CHECK_EQ_U(romfs_gdb_crc32(0xffffffffu, "12345", 5),
               romfs_gdb_crc32(romfs_gdb_crc32(0xffffffffu, "12", 2), "345", 3));
}

static void test_qcrc_unsupported(void)
{
    struct gdbmodel_config cfg;
    gdbmodel_default_config(&cfg);
    cfg.qcrc = false;
    struct pair p = start(&cfg, true);
    CHECK(p.gdb);
    uint32_t crc;
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_gdb_crc(p.gdb, 0x20000000, 16, &crc, &err), ROMFS_ERR_UNSUPPORTED);
    finish(&p);
}

static void test_memory_map_from_server(void)
{
    struct gdbmodel_config cfg;
    gdbmodel_default_config(&cfg);
    struct pair p = start(&cfg, true);
    CHECK(p.gdb);
    struct romfs_gdb_memory_map map;
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_gdb_read_memory_map(p.gdb, &map, &err), ROMFS_OK);
    CHECK_EQ_U(map.count, 2);
    const struct romfs_gdb_region *r = romfs_gdb_find_region(&map, 0x08020000);
    CHECK(r);
    CHECK_EQ_U(r->type, ROMFS_GDB_MEM_FLASH);
    CHECK_EQ_U(r->start, 0x08000000);
    CHECK_EQ_U(r->length, 256 * 1024);
    CHECK_EQ_U(r->blocksize, 16 * 1024);
    r = romfs_gdb_find_region(&map, 0x2000fffc);
    CHECK(r && r->type == ROMFS_GDB_MEM_RAM);
    CHECK(!romfs_gdb_find_region(&map, 0x20010000));
    romfs_gdb_memory_map_free(&map);
    finish(&p);
}

static void test_memory_map_parser(void)
{
    /* the shape OpenOCD sends for an STM32F4 (sectors of three sizes) */
    const char *xml =
        "<?xml version=\"1.0\"?>\n<memory-map>\n"
        "<memory type=\"flash\" start=\"0x08000000\" length=\"0x10000\">"
        "<property name=\"blocksize\">0x4000</property></memory>\n"
        "<memory type='flash' start='0x08010000' length='0x10000'>\n"
        "  <property name='blocksize'>65536</property>\n</memory>\n"
        "<memory type=\"flash\" start=\"0x08020000\" length=\"0xe0000\">"
        "<property name=\"blocksize\">0x20000</property></memory>\n"
        "<memory type=\"ram\" start=\"0x20000000\" length=\"0x20000\"/>\n"
        "<memory type=\"rom\" start=\"0x1fff0000\" length=\"0x7800\"/>\n</memory-map>\n";
    struct romfs_gdb_memory_map map;
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_gdb_parse_memory_map(xml, strlen(xml), &map, &err), ROMFS_OK);
    CHECK_EQ_U(map.count, 5);
    CHECK_EQ_U(map.regions[1].blocksize, 0x10000);
    CHECK_EQ_U(map.regions[2].blocksize, 0x20000);
    CHECK_EQ_U(map.regions[2].length, 0xe0000);
    CHECK_EQ_U(map.regions[4].type, ROMFS_GDB_MEM_ROM);
    romfs_gdb_memory_map_free(&map);

    const char *no_blocksize = "<memory-map><memory type=\"flash\" start=\"0x0\" length=\"0x100\">"
                               "</memory></memory-map>";
    CHECK_EQ_U(romfs_gdb_parse_memory_map(no_blocksize, strlen(no_blocksize), &map, &err),
               ROMFS_ERR_CORRUPT);
    CHECK(strstr(err.msg, "blocksize"));
    const char *bad_number = "<memory-map><memory type=\"ram\" start=\"0xZZ\" length=\"4\"/>";
    CHECK_EQ_U(romfs_gdb_parse_memory_map(bad_number, strlen(bad_number), &map, &err),
               ROMFS_ERR_CORRUPT);
    const char *empty = "<memory-map></memory-map>";
    CHECK_EQ_U(romfs_gdb_parse_memory_map(empty, strlen(empty), &map, &err), ROMFS_OK);
    CHECK_EQ_U(map.count, 0);
}

static void test_halt_continue_detach_monitor(void)
{
    struct gdbmodel_config cfg;
    gdbmodel_default_config(&cfg);
    struct pair p = start(&cfg, true);
    CHECK(p.gdb);
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_gdb_halt(p.gdb, &err), ROMFS_OK);   /* already stopped: no break sent */
    CHECK_EQ_U(p.model->breaks, 0);
    CHECK_EQ_U(romfs_gdb_continue(p.gdb, &err), ROMFS_OK);
    CHECK_EQ_U(romfs_gdb_halt(p.gdb, &err), ROMFS_OK);
    CHECK_EQ_U(p.model->breaks, 1);
    CHECK(!p.model->running);
    CHECK_EQ_U(romfs_gdb_monitor(p.gdb, "reset", &err), ROMFS_OK);
    CHECK_EQ_U(p.model->resets, 1);
    CHECK(strcmp(romfs_gdb_console_output(p.gdb), "Resetting target\n") == 0);
    CHECK_EQ_U(romfs_gdb_monitor(p.gdb, "frobnicate", &err), ROMFS_ERR_DEVICE);
    CHECK(strstr(err.msg, "frobnicate"));
    CHECK_EQ_U(romfs_gdb_continue(p.gdb, &err), ROMFS_OK);
    CHECK_EQ_U(romfs_gdb_detach(p.gdb, &err), ROMFS_OK);  /* halts first, then D */
    CHECK(p.model->detached && p.model->running);
    finish(&p);
}

static void test_decode_frame(void)
{
    uint8_t *out;
    size_t used, n;
    struct romfs_error err = { 0 };
    const char *in = "+junk$OK#9a$";
    CHECK_EQ_U(romfs_gdb_decode_frame((const uint8_t *)in, strlen(in), &used, &out, &n, &err), 1);
    CHECK_EQ_U(used, 11);
    CHECK(n == 2 && memcmp(out, "OK", 2) == 0);
    free(out);
    const char *partial = "$OK#9";
    CHECK_EQ_U(romfs_gdb_decode_frame((const uint8_t *)partial, 5, &used, &out, &n, &err), 0);
    const char *bad = "$OK#9b";
    CHECK_EQ_U(romfs_gdb_decode_frame((const uint8_t *)bad, 6, &used, &out, &n, &err),
               ROMFS_ERR_CORRUPT);
    /* "0* " is "0000" (three more copies); checksum of "0* " = 0x30+0x2a+0x20 = 0x7a */
    const char *rle = "$0* #7a";
    CHECK_EQ_U(romfs_gdb_decode_frame((const uint8_t *)rle, 7, &used, &out, &n, &err), 1);
    CHECK(n == 4 && memcmp(out, "0000", 4) == 0);
    free(out);
    uint8_t esc[] = { 'a', '}', '#' ^ 0x20, '}', '}' ^ 0x20, 'b' };
    CHECK_EQ_U(romfs_gdb_unescape(esc, sizeof esc), 4);
    CHECK(memcmp(esc, "a#}b", 4) == 0);
    uint8_t lone[] = { 'a', '}' };
    CHECK_EQ_U(romfs_gdb_unescape(lone, 2), (size_t)-1);
    uint8_t dst[5];
    size_t dl;
    CHECK_EQ_U(romfs_gdb_escape((const uint8_t *)"ab$c", 4, dst, sizeof dst, &dl), 4);
    CHECK_EQ_U(dl, 5);
    CHECK_EQ_U(romfs_gdb_escape((const uint8_t *)"abc$", 4, dst, 4, &dl), 3);  /* '}' '$' won't fit */
}

/* A Black Magic Probe is a GDB server on a USB serial port with no target attached until
 * "monitor swdp_scan" and vAttach;1; a pty stands in for the port. */
static void test_black_magic_probe_over_serial(void)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    CHECK(master >= 0);
    CHECK(grantpt(master) == 0 && unlockpt(master) == 0);
    char spec[160];
    snprintf(spec, sizeof spec, "serial:%s", ptsname(master));
    struct gdbmodel_config cfg;
    gdbmodel_default_config(&cfg);
    cfg.bmp = true;
    struct gdbmodel *m = gdbmodel_start(&cfg, master);
    struct romfs_gdb *g = NULL;
    struct romfs_error err = { 0 };
    int rc = romfs_gdb_connect(spec, 2000, &g, &err);
    if (rc)
        printf("    %s\n", err.msg);
    CHECK_EQ_U(rc, ROMFS_OK);
    CHECK(m->scanned && m->attached);
    CHECK(romfs_gdb_no_ack_active(g));
    uint8_t out[3000], in[3000];
    fill_pattern(out, sizeof out, 4);
    CHECK_EQ_U(romfs_gdb_write_memory(g, 0x20000000, out, sizeof out, &err), ROMFS_OK);
    CHECK_EQ_U(romfs_gdb_read_memory(g, 0x20000000, in, sizeof in, &err), ROMFS_OK);
    CHECK_MEM(in, out, sizeof out);
    CHECK_EQ_U(romfs_gdb_detach(g, &err), ROMFS_OK);
    romfs_gdb_close(g);
    gdbmodel_stop(m);
}

static void test_connect_refused_and_bad_spec(void)
{
    struct romfs_gdb *g;
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_gdb_connect("gdb://nohostport", 500, &g, &err), ROMFS_ERR_INVAL);
    CHECK(strstr(err.msg, "gdb://HOST:PORT"));
    /* a port nobody listens on: bind one, close it, connect */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
    socklen_t al = sizeof a;
    CHECK(bind(s, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(getsockname(s, (struct sockaddr *)&a, &al) == 0);
    close(s);
    char spec[64];
    snprintf(spec, sizeof spec, "gdb://127.0.0.1:%u", ntohs(a.sin_port));
    CHECK_EQ_U(romfs_gdb_connect(spec, 500, &g, &err), ROMFS_ERR_DEVICE);
    CHECK(strstr(err.msg, spec));
    CHECK(strstr(err.msg, "refused"));
}

int main(void)
{
    RUN(test_handshake_learns_packet_size_and_no_ack);
    RUN(test_ack_mode_when_server_lacks_no_ack);
    RUN(test_m_fallback_within_packet_size);
    RUN(test_unsolicited_stop_reply_like_qemu);
    RUN(test_binary_write_escapes_special_bytes);
    RUN(test_rle_replies_are_expanded);
    RUN(test_checksum_errors_are_retransmitted);
    RUN(test_bad_checksum_in_no_ack_mode_fails_clearly);
    RUN(test_timeout_names_the_server);
    RUN(test_error_reply_is_reported);
    RUN(test_flash_erase_write_done);
    RUN(test_crc32_check_value);
    RUN(test_qcrc_unsupported);
    RUN(test_memory_map_from_server);
    RUN(test_memory_map_parser);
    RUN(test_halt_continue_detach_monitor);
    RUN(test_decode_frame);
    RUN(test_black_magic_probe_over_serial);
    RUN(test_connect_refused_and_bad_spec);
    UNIT_EXIT();
}
