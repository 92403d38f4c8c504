/* digest.c: SHA-256 through mbedTLS. */
#include "base/digest.h"

#include <mbedtls/sha256.h>
#include <stdio.h>

_Static_assert(sizeof(mbedtls_sha256_context) <= sizeof(struct romfs_sha256),
               "romfs_sha256 too small for mbedtls_sha256_context");

void romfs_sha256_init(struct romfs_sha256 *ctx)
{
    mbedtls_sha256_context *c = (mbedtls_sha256_context *)ctx->opaque;
    mbedtls_sha256_init(c);
    mbedtls_sha256_starts_ret(c, 0);
}

void romfs_sha256_update(struct romfs_sha256 *ctx, const void *data, size_t len)
{
    mbedtls_sha256_update_ret((mbedtls_sha256_context *)ctx->opaque, data, len);
}

void romfs_sha256_final(struct romfs_sha256 *ctx, uint8_t out[ROMFS_SHA256_SIZE])
{
    mbedtls_sha256_context *c = (mbedtls_sha256_context *)ctx->opaque;
    mbedtls_sha256_finish_ret(c, out);
    mbedtls_sha256_free(c);
}

void romfs_sha256(const void *data, size_t len, uint8_t out[ROMFS_SHA256_SIZE])
{
    mbedtls_sha256_ret(data, len, out, 0);
}

void romfs_sha256_hex(const uint8_t digest[ROMFS_SHA256_SIZE], char hex[2 * ROMFS_SHA256_SIZE + 1])
{
    for (int i = 0; i < ROMFS_SHA256_SIZE; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}
