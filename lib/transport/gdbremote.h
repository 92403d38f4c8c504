/* transport/gdbremote.h: a GDB remote serial protocol (RSP) client for writing memory and
 * flash through a GDB server: OpenOCD, pyOCD, J-Link, QEMU's gdbstub (TCP) or a Black
 * Magic Probe (serial port).
 *
 * Covers what a flash writer needs: framing, checksums, acks and QStartNoAckMode,
 * qSupported (PacketSize), qXfer:memory-map:read, vFlashErase/vFlashWrite/vFlashDone,
 * X (binary) with fallback to M (hex) for RAM, m and qCRC for read-back, halt, continue,
 * detach and monitor (qRcmd) commands. Every request stays within the server's
 * PacketSize. Error replies (E NN, E.text) fail with ROMFS_ERR_DEVICE and a message
 * that names the server and the request. Nothing here prints. */
#ifndef ROMFS_GDBREMOTE_H
#define ROMFS_GDBREMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

struct romfs_gdb;

/* Connect to SPEC and run the handshake (romfs_gdb_handshake). SPEC is one of
 *   gdb://HOST:PORT, tcp://HOST:PORT or HOST:PORT     a GDB server over TCP
 *   serial:PATH or a path starting with /dev/         a Black Magic Probe's GDB port
 * timeout_ms bounds the connect and every later reply (0: 5000 ms). TCP connections set
 * TCP_NODELAY (ROMFS_GDB_NAGLE=1 in the environment leaves Nagle on, for benchmarks). */
int romfs_gdb_connect(const char *spec, int timeout_ms, struct romfs_gdb **out,
                      struct romfs_error *err);

/* Wrap an already connected stream socket or pipe-like fd (tests: socketpair). The
 * connection owns fd afterwards. No handshake is run. */
int romfs_gdb_open_fd(int fd, const char *name, int timeout_ms, struct romfs_gdb **out,
                      struct romfs_error *err);

/* Close the connection (without detaching) and free it. NULL is fine. */
void romfs_gdb_close(struct romfs_gdb *g);

/* qSupported (learns PacketSize and qXfer:memory-map:read), then QStartNoAckMode when
 * offered (disable with romfs_gdb_set_no_ack(g, false) before), then `?`. */
int romfs_gdb_handshake(struct romfs_gdb *g, struct romfs_error *err);

/* Whether to ask for no-ack mode in the handshake (default true). */
void romfs_gdb_set_no_ack(struct romfs_gdb *g, bool enable);

/* Facts learned so far. */
size_t romfs_gdb_packet_size(const struct romfs_gdb *g);  /* the server's PacketSize */
bool romfs_gdb_no_ack_active(const struct romfs_gdb *g);
bool romfs_gdb_has_memory_map(const struct romfs_gdb *g);  /* qXfer:memory-map:read+ */
const char *romfs_gdb_name(const struct romfs_gdb *g);      /* e.g. "gdb://127.0.0.1:3333" */

/* Counters for tests and reports. */
struct romfs_gdb_stats {
    uint64_t packets_sent, packets_received;
    uint64_t retransmits;       /* packets sent again after a '-' or a bad reply checksum */
    uint64_t bytes_sent, bytes_received;
};
void romfs_gdb_get_stats(const struct romfs_gdb *g, struct romfs_gdb_stats *out);

/* Send one command (payload without framing) and receive its reply payload into a
 * buffer owned by g, valid until the next call. 'O' console packets before the reply
 * are collected (romfs_gdb_console_output). An empty reply means "not supported". */
int romfs_gdb_request(struct romfs_gdb *g, const void *cmd, size_t len, const char **reply,
                      size_t *reply_len, struct romfs_error *err);

/* Console text ('O' packets) received during the last request, NUL-terminated. */
const char *romfs_gdb_console_output(const struct romfs_gdb *g);

/* Read len bytes at addr with `m` (several requests when len is large). */
int romfs_gdb_read_memory(struct romfs_gdb *g, uint64_t addr, void *buf, size_t len,
                          struct romfs_error *err);

/* Write len bytes at addr with `X`; when the server has no `X` (empty reply), with `M`
 * from then on. For RAM and memory-mapped registers, not for flash. */
int romfs_gdb_write_memory(struct romfs_gdb *g, uint64_t addr, const void *buf, size_t len,
                           struct romfs_error *err);

/* Whether `X` is used (true), unknown yet, or known to be missing (false after a write). */
bool romfs_gdb_uses_binary_write(const struct romfs_gdb *g);

/* qCRC over [addr, addr+len): the server's CRC-32 into *crc. ROMFS_ERR_UNSUPPORTED if
 * the server has no qCRC (empty reply). */
int romfs_gdb_crc(struct romfs_gdb *g, uint64_t addr, uint64_t len, uint32_t *crc,
                  struct romfs_error *err);

/* The CRC-32 GDB's qCRC computes (polynomial 0x04c11db7, MSB first, no reflection,
 * no final xor); start with crc = 0xffffffff. */
uint32_t romfs_gdb_crc32(uint32_t crc, const void *data, size_t len);

/* Flash programming: erase [addr, addr+len) (whole flash blocks), write erased bytes,
 * and commit (servers may buffer erases and writes until vFlashDone). */
int romfs_gdb_flash_erase(struct romfs_gdb *g, uint64_t addr, uint64_t len,
                          struct romfs_error *err);
int romfs_gdb_flash_write(struct romfs_gdb *g, uint64_t addr, const void *buf, size_t len,
                          struct romfs_error *err);
int romfs_gdb_flash_done(struct romfs_gdb *g, struct romfs_error *err);

/* A region of the target's memory map (qXfer:memory-map:read). */
enum romfs_gdb_mem_type { ROMFS_GDB_MEM_RAM, ROMFS_GDB_MEM_ROM, ROMFS_GDB_MEM_FLASH };
struct romfs_gdb_region {
    enum romfs_gdb_mem_type type;
    uint64_t start, length;
    uint32_t blocksize;     /* flash erase block size; 0 for ram/rom */
};
struct romfs_gdb_memory_map {
    size_t count;
    struct romfs_gdb_region *regions;   /* malloc'ed; romfs_gdb_memory_map_free */
};

/* Fetch and parse the memory map. ROMFS_ERR_UNSUPPORTED if the server has none. */
int romfs_gdb_read_memory_map(struct romfs_gdb *g, struct romfs_gdb_memory_map *map,
                              struct romfs_error *err);
void romfs_gdb_memory_map_free(struct romfs_gdb_memory_map *map);

/* Parse a GDB memory-map XML document (text of len bytes). Unknown elements are
 * ignored; a flash region without a blocksize property, or numbers that do not parse,
 * fail with ROMFS_ERR_CORRUPT. */
int romfs_gdb_parse_memory_map(const char *xml, size_t len, struct romfs_gdb_memory_map *map,
                               struct romfs_error *err);

/* The region holding addr, or NULL. */
const struct romfs_gdb_region *romfs_gdb_find_region(const struct romfs_gdb_memory_map *map,
                                                      uint64_t addr);

/* Stop the target (sends a break, 0x03) and wait for its stop reply. */
int romfs_gdb_halt(struct romfs_gdb *g, struct romfs_error *err);
/* Resume the target (`c`). The server answers only when the target stops again, so the
 * only useful requests afterwards are romfs_gdb_halt or closing the connection. */
int romfs_gdb_continue(struct romfs_gdb *g, struct romfs_error *err);
/* Detach (`D`): the server lets the target run and ends the session. */
int romfs_gdb_detach(struct romfs_gdb *g, struct romfs_error *err);

/* Run a server monitor command (qRcmd), e.g. "reset run" on OpenOCD. Its console output
 * is in romfs_gdb_console_output(). */
int romfs_gdb_monitor(struct romfs_gdb *g, const char *command, struct romfs_error *err);

/* Packet framing helpers, exposed for tests and fuzzing. */

/* Decode one received frame "$payload#cc" (RLE-expanded, not unescaped) from data:
 * *consumed is set to the bytes used (also for skipped noise before '$').
 * Returns 1 with the payload in out (malloc'ed) when a frame with a good checksum was
 * found, 0 when more input is needed, ROMFS_ERR_CORRUPT for a bad checksum or bad RLE
 * (consumed covers the bad frame). */
int romfs_gdb_decode_frame(const uint8_t *data, size_t len, size_t *consumed, uint8_t **out,
                           size_t *out_len, struct romfs_error *err);

/* Undo binary escaping ('}' x -> x ^ 0x20) in place; returns the new length, or
 * (size_t)-1 when the data ends in a lone '}'. */
size_t romfs_gdb_unescape(uint8_t *data, size_t len);

/* Escape src for a binary packet into dst (capacity dst_cap), taking as many source bytes
 * as fit; returns the number of source bytes taken, *dst_len the escaped length. */
size_t romfs_gdb_escape(const uint8_t *src, size_t len, uint8_t *dst, size_t dst_cap,
                        size_t *dst_len);

#endif
