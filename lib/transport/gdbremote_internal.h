/* gdbremote_internal.h: the connection state shared by gdbremote.c (transport and
 * framing) and gdbremote_ops.c (memory, flash and target requests). Not installed API. */
#ifndef ROMFS_GDBREMOTE_INTERNAL_H
#define ROMFS_GDBREMOTE_INTERNAL_H

#include "transport/gdbremote.h"

struct romfs_serial;

struct romfs_gdb {
    char name[160];              /* the spec, for messages */
    int fd;                      /* socket or pipe; -1 when serial */
    struct romfs_serial *port;   /* serial port (Black Magic Probe), or NULL */
    int timeout_ms;
    bool want_no_ack, no_ack;
    size_t packet_size;          /* the server's PacketSize: largest frame it accepts */
    bool has_memory_map;
    int binary_write;            /* X: 0 unknown, 1 works, -1 missing (use M) */
    bool running;                /* continued with `c`: no replies until halted */
    bool flash_pending;          /* vFlashErase/Write sent since the last vFlashDone */
    uint64_t flash_pending_bytes;/* vFlashWrite bytes the server may still be holding */
    uint8_t rx[16384];
    size_t rx_pos, rx_len;
    uint8_t *tx, *raw, *reply;   /* outgoing frame, incoming raw payload, expanded reply */
    size_t tx_cap, raw_cap, reply_len;
    char *console;               /* 'O' packet text of the last request */
    size_t console_len, console_cap;
    struct romfs_gdb_stats stats;
};

int gdb_hex_value(int c);
/* Write raw bytes (the 0x03 break). */
int gdb_send_raw(struct romfs_gdb *g, const uint8_t *data, size_t len, struct romfs_error *err);
int gdb_send_packet(struct romfs_gdb *g, const void *payload, size_t len, struct romfs_error *err);
/* Receive one reply into g->reply (NUL-terminated), within timeout_ms. */
int gdb_recv_packet(struct romfs_gdb *g, long long timeout_ms, struct romfs_error *err);
void gdb_describe(const void *cmd, size_t len, char *out, size_t cap);
/* Turn a reply that is not the expected one into an error: empty -> UNSUPPORTED,
 * E NN -> DEVICE, anything else -> PROTOCOL. */
int gdb_error_reply(struct romfs_gdb *g, const void *cmd, size_t len, const char *reply,
                    size_t reply_len, struct romfs_error *err);
/* A new session named name (no connection yet), or NULL when out of memory (gdbremote.c). */
struct romfs_gdb *gdb_alloc(const char *name, int timeout_ms);
/* Whether a reply is a stop reply (T, S, W or X) (gdbremote_ops.c). */
bool gdb_is_stop_reply(const uint8_t *r, size_t n);

#endif
