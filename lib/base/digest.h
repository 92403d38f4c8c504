/* base/digest.h: SHA-256 (mbedTLS) for images, files and flash blocks. */
#ifndef ROMFS_DIGEST_H
#define ROMFS_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define ROMFS_SHA256_SIZE 32

/* Incremental SHA-256; the storage is opaque but sized for mbedTLS's context. */
struct romfs_sha256 {
    _Alignas(16) unsigned char opaque[256];
};

void romfs_sha256_init(struct romfs_sha256 *ctx);
void romfs_sha256_update(struct romfs_sha256 *ctx, const void *data, size_t len);
/* Write the digest and release the context. */
void romfs_sha256_final(struct romfs_sha256 *ctx, uint8_t out[ROMFS_SHA256_SIZE]);

/* One-shot SHA-256 of data[0..len). */
void romfs_sha256(const void *data, size_t len, uint8_t out[ROMFS_SHA256_SIZE]);

/* Lower-case hex of a digest into hex (2*ROMFS_SHA256_SIZE+1 bytes). */
void romfs_sha256_hex(const uint8_t digest[ROMFS_SHA256_SIZE], char hex[2 * ROMFS_SHA256_SIZE + 1]);

#endif
