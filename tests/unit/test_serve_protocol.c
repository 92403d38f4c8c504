/* test_serve_protocol.c: the REPL write loop's wire protocol, whose one definition
 * (templates/device/serve_protocol.def) the build turns into flash/serve_protocol.h.
 * The host's header encoder is checked byte for byte, and the device's side (the
 * generated Python names plus templates/device/serve.py, run by python3 with stand-ins
 * for the flash functions) must decode what the host encodes, offsets past 4 GiB included. */
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "base/template.h"
#include "flash/repl_internal.h"
#include "unit.h"

static void test_header_carries_64_bit_numbers(void)
{
    uint8_t h[SERVE_HEADER];
    CHECK_EQ_U(sizeof h, 25);
    repl_serve_header(h, SERVE_OP_WRITE, 0x0123456789abcdefull, 0x100000001ull, UINT64_MAX);
    static const uint8_t want[25] = {
        'W',
        0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01,   /* a, little-endian */
        0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,   /* b = 2^32 + 1: not cut to 1 */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,   /* c */
    };
    CHECK_MEM(h, want, sizeof want);
}

static void test_markers_and_ops_are_distinct(void)
{
    const int markers[] = { SERVE_READY, SERVE_GRANT, SERVE_REPLY, SERVE_STOPPED, SERVE_FAILED };
    const int ops[] = { SERVE_OP_ERASE, SERVE_OP_WRITE, SERVE_OP_HASH, SERVE_OP_READ,
                        SERVE_OP_SYNC, SERVE_OP_STOP };
    for (size_t i = 0; i < 5; i++)
        for (size_t k = i + 1; k < 5; k++)
            CHECK(markers[i] != markers[k]);
    for (size_t i = 0; i < 6; i++)
        for (size_t k = i + 1; k < 6; k++)
            CHECK(ops[i] != ops[k]);
    /* the Python names come from the same table */
    CHECK(strstr(SERVE_PROTOCOL_PY, "_RF_OP_WRITE=87\n") != NULL);
    CHECK(strstr(SERVE_PROTOCOL_PY, "_RF_READY=b'\\x05'\n") != NULL);
    CHECK(strstr(SERVE_PROTOCOL_PY, "_RF_HEADER=25\n") != NULL);
    /* host-only numbers stay home; the shared idle time goes */
    CHECK(strstr(SERVE_PROTOCOL_PY, "_RF_ERROR_MS=") == NULL);
    CHECK(strstr(SERVE_PROTOCOL_PY, "_RF_HASH_MS=") == NULL);
    CHECK(strstr(SERVE_PROTOCOL_PY, "_RF_IDLE_MS=") != NULL);
}

/* Stand-ins for helper.py's flash functions and the micropython module: every call the
 * loop makes is printed to stderr, one per line. */
static const char harness[] =
    "import sys\n"
    "class _M:\n"
    "    @staticmethod\n"
    "    def kbd_intr(c):\n"
    "        pass\n"
    "sys.modules['micropython'] = _M\n"
    "import io, types\n"
    "class _BytesIO(io.BytesIO):\n"   /* MicroPython's: an int reserves room */
    "    def __init__(self, init=None):\n"
    "        super().__init__(b'' if init is None or isinstance(init, int) else init)\n"
    "sys.modules['io'] = types.SimpleNamespace(BytesIO=_BytesIO)\n"
    "_rf = {'bs': 4096}\n"
    "def _rf_erase(a, b, c):\n"
    "    print('erase', a, b, c, file=sys.stderr)\n"
    "def _rf_w(a, m):\n"
    "    print('write', a, bytes(m).hex(), file=sys.stderr)\n"
    "def _rf_read(a, n):\n"
    "    print('read', a, n, file=sys.stderr)\n"
    "    return bytes(range(n))\n"
    "def _rf_sync():\n"
    "    print('sync', file=sys.stderr)\n";

static int write_text(const char *path, const char *a, const char *b, const char *c)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(a, f);
    fputs(b, f);
    fputs(c, f);
    return fclose(f);
}

static void test_device_side_decodes_offsets_past_4_GiB(void)
{
    char dir[256], script[300], in[300], out[300], log[300], cmd[2048];
    snprintf(dir, sizeof dir, "%s/romfs-serve-test.XXXXXX", romfs_tmpdir());
    CHECK(mkdtemp(dir) != NULL);
    snprintf(script, sizeof script, "%s/serve_run.py", dir);
    snprintf(in, sizeof in, "%s/in", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(log, sizeof log, "%s/log", dir);
    const char *serve = romfs_template("device/serve.py", NULL);
    CHECK(serve != NULL);
    /* what the host sends: its prelude, serve.py, and the call (as serve_start does) */
    CHECK(write_text(script, harness, SERVE_PROTOCOL_PY, serve) == 0);
    FILE *f = fopen(script, "a");
    CHECK(f != NULL);
    fputs("_rf_serve(16, 12, 64, 5)\n", f);
    fclose(f);

    const uint64_t high = 0x100000000ull + 0x2000;    /* 4 GiB + 8 KiB */
    uint8_t h[SERVE_HEADER], wire[2 * 64];
    f = fopen(in, "wb");
    CHECK(f != NULL);
    /* everything goes escaped, as the host sends it */
#define SEND(data, len) fwrite(wire, 1, repl_serve_escape((const uint8_t *)(data), (len), wire), f)
    repl_serve_header(h, SERVE_OP_ERASE, high, 0x100001000ull, 256);
    SEND(h, sizeof h);
    /* 4 bytes, sent as they are: two of them escaped, so 6 on the wire */
    repl_serve_header(h, SERVE_OP_WRITE, high + 16, 4, 6);
    SEND(h, sizeof h);
    SEND("\x01\x02\xfe\xff", 4);
    /* every escaped value, with an escape pair cut by the 16-byte window: 15 plain
       bytes, then 0x10 (its escape starts the 16th wire byte), then 0x01..0x05 */
    static const uint8_t tricky[] = { 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l',
                                      'm', 'n', 'o', 0x10, 0x01, 0x02, 0x03, 0x04, 0x05, 0x10 };
    uint8_t tw[2 * sizeof tricky];
    size_t twn = repl_serve_escape(tricky, sizeof tricky, tw);
    CHECK_EQ_U(twn, sizeof tricky + 7);
    repl_serve_header(h, SERVE_OP_WRITE, 32, sizeof tricky, twn);
    SEND(h, sizeof h);
    fwrite(tw, 1, twn, f);
    repl_serve_header(h, SERVE_OP_READ, high + 0x1000, 3, 0);
    SEND(h, sizeof h);
    repl_serve_header(h, SERVE_OP_SYNC, 0, 0, 0);
    SEND(h, sizeof h);
    repl_serve_header(h, SERVE_OP_STOP, 0, 0, 0);
    SEND(h, sizeof h);
#undef SEND
    CHECK(fclose(f) == 0);

    snprintf(cmd, sizeof cmd, "python3 '%s' < '%s' > '%s' 2> '%s'", script, in, out, log);
    int status = system(cmd);
    uint8_t *got = NULL, *calls = NULL;
    size_t got_len = 0, calls_len = 0;
    struct romfs_error err = { 0 };
    int rc_out = romfs_read_file(out, &got, &got_len, &err);
    int rc_log = romfs_read_file(log, &calls, &calls_len, &err);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    /* READY (listening), READY (send the write's data), READY + GRANT (29 wire bytes in
       windows of 16), REPLY + 3 bytes, STOPPED */
    static const uint8_t want_out[] = { SERVE_READY, SERVE_READY, SERVE_READY, SERVE_GRANT,
                                        SERVE_REPLY, 0, 1, 2, SERVE_STOPPED };
    const char *want_calls = "erase 4294975488 4294971392 256\n"
                             "write 4294975504 0102feff\n"
                             "write 32 6162636465666768696a6b6c6d6e6f10010203040510\n"
                             "read 4294979584 3\n"
                             "sync\n";
    bool out_ok = rc_out == ROMFS_OK && got_len == sizeof want_out &&
                  memcmp(got, want_out, sizeof want_out) == 0;
    bool calls_ok = rc_log == ROMFS_OK && strcmp((char *)calls, want_calls) == 0;
    if (rc_log == ROMFS_OK && !calls_ok)
        printf("    calls:\n%s", (char *)calls);
    free(got);
    free(calls);
    CHECK_EQ_U(status, 0);
    CHECK(out_ok);
    CHECK(calls_ok);
}

int main(void)
{
    RUN(test_header_carries_64_bit_numbers);
    RUN(test_markers_and_ops_are_distinct);
    RUN(test_device_side_decodes_offsets_past_4_GiB);
    UNIT_EXIT();
}
