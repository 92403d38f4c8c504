/* image/sign.h: signing ROMFS images and checking their signatures (mbedTLS).
 *
 * THE SIGNATURE RECORD. A signed image carries one extra record, the last record of the
 * filesystem record's top-level payload. It is a padding/comment record (kind 1), which
 * MicroPython's VfsRom skips, so a signed image mounts and reads exactly like the
 * unsigned one. Its bytes are:
 *
 *   01                      record kind 1 (padding/comment)
 *   52  or  80 52           payload length 82, minimal or with one leading 0x80 pad
 *                           byte (chosen so the whole image size stays even)
 *   "ROMFSSIG"              8-byte magic
 *   01                      record format version
 *   ALG                     1 = ECDSA P-256 with SHA-256 (2 is reserved for Ed25519,
 *                           which the mbedTLS 2.28 this builds against does not provide)
 *   KEY ID                  8 bytes: the first 8 bytes of SHA-256 of the public key's
 *                           DER SubjectPublicKeyInfo (`romfs keygen` prints it)
 *   SIGNATURE               64 bytes: r || s, each a 32-byte big-endian integer
 *
 * THE SIGNED MESSAGE is every byte of the signed image that precedes the SIGNATURE field:
 * image[0 .. image_end - 64), i.e. the filesystem header (d2 cd 31 + the length varuint
 * as it stands in the signed image), all earlier records unchanged, and the signature
 * record's own kind, length, magic, version, algorithm and key id. The signature is
 * ECDSA over SHA-256 of those bytes (deterministic, RFC 6979, so re-signing the same
 * image with the same key gives the same bytes). Because the record has a fixed size,
 * the final header length is known before signing, so nothing signed changes after
 * signing and verification needs no reconstruction: hash what precedes the last 64
 * bytes of the image record, check the signature. The signature record must end exactly
 * where the filesystem record ends.
 *
 * Signing moves no earlier byte when it can: the header's length varuint keeps its width
 * (padded with 0x80 bytes as needed) whenever the new length fits in it. When it does not
 * (a 1-byte length and a payload growing past 127 bytes, 2 bytes past 16383, ...), the
 * payload moves by a multiple of the strongest alignment any file's data has (capped at
 * 4096): the header varuint gets leading 0x80 bytes, plus a padding record at the start
 * of the payload when more room is needed. Indirect data offsets count from the payload
 * start, and the payload moves as a whole, so they stay valid (a front padding record is
 * not used for images with indirect data).
 * Re-signing replaces an existing signature record. Bytes after the image record
 * (erased flash, `pack --pad-to` fill) must be 0xff: they are not part of the filesystem,
 * so verification rejects anything else there rather than leave it unsigned.
 *
 * KEYS are ECDSA P-256 key pairs in PEM or DER (detected from the content): private keys
 * as written by `romfs keygen` or `openssl ecparam -genkey`/`openssl genpkey` (SEC1 or
 * PKCS#8, unencrypted), public keys as SubjectPublicKeyInfo. Verifying with a private
 * key file uses its public half. */
#ifndef ROMFS_SIGN_H
#define ROMFS_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/digest.h"
#include "base/error.h"

#define ROMFS_SIG_MAGIC "ROMFSSIG"
#define ROMFS_SIG_MAGIC_SIZE 8
#define ROMFS_SIG_VERSION 1
#define ROMFS_SIG_KEY_ID_SIZE 8
#define ROMFS_SIG_SIZE 64                 /* r || s */
#define ROMFS_SIG_PAYLOAD_SIZE 82         /* magic + version + alg + key id + signature */

enum romfs_sig_alg {
    ROMFS_SIG_ALG_ECDSA_P256_SHA256 = 1,
    ROMFS_SIG_ALG_ED25519 = 2,            /* reserved: recognised, not supported */
};

/* "ecdsa-p256-sha256", "ed25519", or "unknown". */
const char *romfs_sig_alg_name(unsigned alg);

/* ---- keys ------------------------------------------------------------------- */

struct romfs_key;  /* an ECDSA P-256 key: a key pair, or a public key only */

/* Load a key from a PEM or DER file. With need_private, a public-only key is refused
 * (ROMFS_ERR_INVAL, the message says to use NAME.pem rather than NAME.pub.pem).
 * ROMFS_ERR_NOENT/IO for the file, ROMFS_ERR_CORRUPT for content that is no key,
 * ROMFS_ERR_UNSUPPORTED for a key that is not ECDSA P-256 (RSA, other curves) or is
 * password-protected. */
int romfs_key_load(const char *path, bool need_private, struct romfs_key **out,
                   struct romfs_error *err);

/* Same from bytes in memory; `name` is used in messages. */
int romfs_key_parse(const uint8_t *data, size_t size, const char *name, bool need_private,
                    struct romfs_key **out, struct romfs_error *err);

/* A fresh P-256 key pair from the system entropy source through CTR-DRBG. */
int romfs_key_generate(struct romfs_key **out, struct romfs_error *err);

void romfs_key_free(struct romfs_key *key);

bool romfs_key_has_private(const struct romfs_key *key);

/* The key id: first 8 bytes of SHA-256 of the public key's DER encoding. */
void romfs_key_id(const struct romfs_key *key, uint8_t id[ROMFS_SIG_KEY_ID_SIZE]);

/* Lower-case hex of a key id (17 bytes with the NUL). */
void romfs_key_id_hex(const uint8_t id[ROMFS_SIG_KEY_ID_SIZE], char hex[2 * ROMFS_SIG_KEY_ID_SIZE + 1]);

enum romfs_key_format { ROMFS_KEY_PEM = 0, ROMFS_KEY_DER = 1 };

/* Write the private key (needs one) or the public key to `path` through a temporary
 * file and rename; private keys get mode 0600, public keys 0644. ROMFS_ERR_EXIST if
 * path exists and !overwrite. */
int romfs_key_write(const struct romfs_key *key, bool write_private, enum romfs_key_format format,
                    const char *path, bool overwrite, struct romfs_error *err);

/* ---- signatures ------------------------------------------------------------- */

struct romfs_signature_info {
    bool present;                 /* the image ends in a signature record */
    unsigned version;
    unsigned algorithm;           /* enum romfs_sig_alg */
    uint8_t key_id[ROMFS_SIG_KEY_ID_SIZE];
    size_t record_offset;         /* where the signature record begins */
    size_t signed_size;           /* bytes covered: image[0 .. signed_size) */
    size_t image_size;            /* the image record, signature included */
    size_t trailing_size;         /* bytes after the image record in the buffer/file */
    size_t data_shift;            /* romfs_sign_image: bytes the payload moved (0 usually) */
    uint8_t digest[ROMFS_SHA256_SIZE]; /* SHA-256 of the covered bytes (after verify/sign) */
};

/* Parse an image's signature record without checking it. ROMFS_OK with
 * info->present false for an unsigned image. ROMFS_ERR_CORRUPT for a malformed image
 * or a signature record of the wrong size ("truncated"); ROMFS_ERR_UNSUPPORTED for an
 * unknown record version or algorithm (the message names it). */
int romfs_signature_find(const uint8_t *data, size_t size, struct romfs_signature_info *info,
                         struct romfs_error *err);

/* Check the image's signature against `key` (public or pair). ROMFS_OK when the image
 * ends in a signature record made by this key over all that precedes it.
 * ROMFS_ERR_MISMATCH (message says which) when unsigned, signed by another key id, the
 * signature does not verify (image modified after signing), or trailing bytes after the
 * image are not 0xff; CORRUPT/UNSUPPORTED as for romfs_signature_find. */
int romfs_signature_verify(const uint8_t *data, size_t size, const struct romfs_key *key,
                           struct romfs_signature_info *info, struct romfs_error *err);

/* Load the key file (public or pair) and verify data[0..size) with it; verification
 * messages are prefixed with image_name (if non-NULL), key errors name the key file. */
int romfs_signature_check(const uint8_t *data, size_t size, const char *image_name,
                          const char *key_path, struct romfs_signature_info *info,
                          struct romfs_error *err);

/* Convenience: read IMAGE and the public key file and verify (messages name both). */
int romfs_signature_verify_file(const char *image_path, const char *key_path,
                                struct romfs_signature_info *info, struct romfs_error *err);

/* Sign an image in memory: returns a malloc'd signed copy in *out (size *out_size). An existing
 * signature record is replaced; header width and earlier bytes are kept (see above).
 * Trailing 0xff bytes after the image record are kept as far as the file size allows
 * (the output keeps the input's size when the signed image fits in it). Fails with
 * ROMFS_ERR_CORRUPT for a malformed image or non-0xff trailing bytes,
 * ROMFS_ERR_INVAL for a key without its private half. */
int romfs_sign_image(const uint8_t *data, size_t size, const struct romfs_key *key,
                     uint8_t **out, size_t *out_size, struct romfs_signature_info *info,
                     struct romfs_error *err);

/* Sign the file IMAGE with the private key file KEY into OUT (NULL: in place), written
 * through OUT.tmp + rename so a failure leaves no partial output and IMAGE intact. */
int romfs_sign_file(const char *image_path, const char *key_path, const char *out_path,
                    struct romfs_signature_info *info, struct romfs_error *err);

#endif
