/* fuzz_gdb_reply.c: GDB remote replies as a server could send them.
 * The input is used three ways: as a byte stream for the frame decoder, as a memory-map
 * XML document, and as everything a server says during a whole session (handshake,
 * memory map, m reads, qCRC, X/M writes, vFlash, monitor, detach) over a socketpair. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "transport/gdbremote.h"

static void decode_stream(const uint8_t *data, size_t size)
{
    struct romfs_error err;
    size_t pos = 0;
    while (pos < size) {
        size_t used = 0, n;
        uint8_t *out = NULL;
        int rc = romfs_gdb_decode_frame(data + pos, size - pos, &used, &out, &n, &err);
        if (rc == 1) {
            romfs_gdb_unescape(out, n);
            free(out);
        }
        if (rc == 0 && used == 0)
            break;
        if (used == 0)
            used = 1;
        pos += used;
    }
}

static void session(const uint8_t *data, size_t size)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return;
    /* the whole "server" side up front, then EOF: the client never waits long */
    size_t done = 0;
    while (done < size) {
        ssize_t w = write(sv[1], data + done, size - done);
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    shutdown(sv[1], SHUT_WR);
    struct romfs_gdb *g;
    struct romfs_error err;
    if (romfs_gdb_open_fd(sv[0], "fuzz", 20, &g, &err) != ROMFS_OK) {
        close(sv[1]);
        return;
    }
    romfs_gdb_handshake(g, &err);
    struct romfs_gdb_memory_map map;
    if (romfs_gdb_read_memory_map(g, &map, &err) == ROMFS_OK)
        romfs_gdb_memory_map_free(&map);
    uint8_t buf[300];
    romfs_gdb_read_memory(g, 0x20000000, buf, sizeof buf, &err);
    uint32_t crc;
    romfs_gdb_crc(g, 0x20000000, sizeof buf, &crc, &err);
    memset(buf, '}', sizeof buf);
    romfs_gdb_write_memory(g, 0x20000000, buf, sizeof buf, &err);
    romfs_gdb_flash_erase(g, 0x08000000, 0x4000, &err);
    romfs_gdb_flash_write(g, 0x08000000, buf, sizeof buf, &err);
    romfs_gdb_monitor(g, "reset", &err);
    romfs_gdb_continue(g, &err);
    romfs_gdb_detach(g, &err);
    romfs_gdb_close(g);
    close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    decode_stream(data, size);
    struct romfs_gdb_memory_map map;
    struct romfs_error err;
    if (romfs_gdb_parse_memory_map((const char *)data, size, &map, &err) == ROMFS_OK) {
        for (size_t i = 0; i < map.count; i++)
            romfs_gdb_find_region(&map, map.regions[i].start);
        romfs_gdb_memory_map_free(&map);
    }
    session(data, size);
    return 0;
}
