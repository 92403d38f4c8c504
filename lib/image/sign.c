/* sign.c: ECDSA P-256 image signatures in a trailing ROMFS padding record (mbedTLS).
 * The record layout and the signed message are defined in image/sign.h. */
#include "image/sign.h"
#include "base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>

#include "format/format.h"

struct romfs_key {
    mbedtls_pk_context pk;
    bool has_private;
    uint8_t id[ROMFS_SIG_KEY_ID_SIZE];
};

const char *romfs_sig_alg_name(unsigned alg)
{
    switch (alg) {
    case ROMFS_SIG_ALG_ECDSA_P256_SHA256: return "ecdsa-p256-sha256";
    case ROMFS_SIG_ALG_ED25519: return "ed25519";
    default: return "unknown";
    }
}

/* ---- random numbers ---------------------------------------------------------- */

struct rng {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
};

static int rng_init(struct rng *r, struct romfs_error *err)
{
    static const char personalization[] = "romfs signature";
    mbedtls_entropy_init(&r->entropy);
    mbedtls_ctr_drbg_init(&r->drbg);
    int rc = mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func, &r->entropy,
                                   (const unsigned char *)personalization, sizeof personalization - 1);
    if (rc != 0) {
        mbedtls_ctr_drbg_free(&r->drbg);
        mbedtls_entropy_free(&r->entropy);
        return romfs_set_error(err, ROMFS_ERR_IO, "cannot seed the random generator (mbedTLS -0x%04x)",
                               (unsigned)-rc);
    }
    return ROMFS_OK;
}

static void rng_free(struct rng *r)
{
    mbedtls_ctr_drbg_free(&r->drbg);
    mbedtls_entropy_free(&r->entropy);
}

/* ---- files ------------------------------------------------------------------- */

static int read_whole_file(const char *path, const char *what, uint8_t **data, size_t *size,
                           struct romfs_error *err)
{
    int rc = romfs_read_file(path, data, size, err);   /* NUL-terminated, as PEM parsing wants */
    return rc ? romfs_error_prefix(err, "%s", what) : ROMFS_OK;
}

/* Write data to path atomically with exactly the given mode (0600 for private keys; the
 * temporary file is private from the start, made by mkstemp: never an existing file or
 * symlink), flushed to the disk before the rename. An existing device or FIFO is written
 * in place: a rename would replace it. */
static int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode,
                             bool overwrite, struct romfs_error *err)
{
    struct stat st;
    bool exists = stat(path, &st) == 0;
    if (exists && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
        return romfs_write_file_atomic(path, data, size, err);
    if (!overwrite && (exists || access(path, F_OK) == 0))
        return romfs_set_error_need(err, ROMFS_ERR_EXIST, ROMFS_NEED_FORCE, "%s already exists", path);
    struct romfs_atomic_file f;
    int rc = romfs_atomic_open(&f, path, err);
    if (rc != ROMFS_OK)
        return rc;
    rc = romfs_write_all(f.fd, data, size, path, err);
    if (rc != ROMFS_OK) {
        romfs_atomic_abort(&f);
        return rc;
    }
    return romfs_atomic_commit(&f, mode, true, err);
}

/* ---- keys -------------------------------------------------------------------- */

static int key_finish(struct romfs_key *key, const char *name, struct romfs_error *err)
{
    if (!mbedtls_pk_can_do(&key->pk, MBEDTLS_PK_ECKEY))
        return romfs_set_error(err, ROMFS_ERR_UNSUPPORTED,
                               "%s is a %s key; romfs signs with ECDSA P-256 keys only "
                               "(make one with 'romfs keygen')",
                               name, mbedtls_pk_get_name(&key->pk));
    const mbedtls_ecp_keypair *ec = mbedtls_pk_ec(key->pk);
    if (ec->grp.id != MBEDTLS_ECP_DP_SECP256R1) {
        const mbedtls_ecp_curve_info *ci = mbedtls_ecp_curve_info_from_grp_id(ec->grp.id);
        return romfs_set_error(err, ROMFS_ERR_UNSUPPORTED,
                               "%s is an EC key on curve %s; romfs signs with P-256 (secp256r1) only",
                               name, ci ? ci->name : "unknown");
    }
    unsigned char der[256];
    int n = mbedtls_pk_write_pubkey_der(&key->pk, der, sizeof der);
    if (n <= 0)
        return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: cannot encode its public key (mbedTLS -0x%04x)",
                               name, (unsigned)-n);
    uint8_t digest[ROMFS_SHA256_SIZE];
    romfs_sha256(der + sizeof der - (size_t)n, (size_t)n, digest);
    memcpy(key->id, digest, ROMFS_SIG_KEY_ID_SIZE);
    return ROMFS_OK;
}

static struct romfs_key *key_alloc(void)
{
    struct romfs_key *key = calloc(1, sizeof *key);
    if (key)
        mbedtls_pk_init(&key->pk);
    return key;
}

void romfs_key_free(struct romfs_key *key)
{
    if (!key)
        return;
    mbedtls_pk_free(&key->pk);
    free(key);
}

static bool looks_like_pem(const uint8_t *data, size_t size)
{
    static const char marker[] = "-----BEGIN";
    for (size_t i = 0; i + sizeof marker - 1 <= size; i++)
        if (memcmp(data + i, marker, sizeof marker - 1) == 0)
            return true;
    return false;
}

int romfs_key_parse(const uint8_t *data, size_t size, const char *name, bool need_private,
                    struct romfs_key **out, struct romfs_error *err)
{
    struct romfs_key *key = key_alloc();
    if (!key)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    /* mbedTLS wants PEM text NUL-terminated with the NUL counted in the length. */
    bool pem = looks_like_pem(data, size);
    uint8_t *copy = NULL;
    const uint8_t *buf = data;
    size_t len = size;
    if (pem) {
        copy = malloc(size + 1);
        if (!copy) {
            romfs_key_free(key);
            return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
        }
        memcpy(copy, data, size);
        copy[size] = 0;
        buf = copy;
        len = size + 1;
    }
    int rc = mbedtls_pk_parse_key(&key->pk, buf, len, NULL, 0);
    int code = ROMFS_OK;
    if (rc == 0) {
        key->has_private = true;
    } else if (rc == MBEDTLS_ERR_PK_PASSWORD_REQUIRED || rc == MBEDTLS_ERR_PK_PASSWORD_MISMATCH) {
        code = romfs_set_error(err, ROMFS_ERR_UNSUPPORTED,
                               "%s is password-protected; romfs needs an unencrypted key", name);
    } else {
        mbedtls_pk_free(&key->pk);
        mbedtls_pk_init(&key->pk);
        int rc2 = mbedtls_pk_parse_public_key(&key->pk, buf, len);
        if (rc2 != 0) {
            if (rc == MBEDTLS_ERR_PK_UNKNOWN_PK_ALG || rc2 == MBEDTLS_ERR_PK_UNKNOWN_PK_ALG)
                code = romfs_set_error(err, ROMFS_ERR_UNSUPPORTED,
                                       "%s: unsupported key algorithm; romfs uses ECDSA P-256 keys", name);
            else
                code = romfs_set_error(err, ROMFS_ERR_CORRUPT,
                                       "%s is not a PEM or DER key (mbedTLS -0x%04x); expected an "
                                       "ECDSA P-256 key as written by 'romfs keygen'",
                                       name, (unsigned)-rc2);
        } else if (need_private) {
            code = romfs_set_error(err, ROMFS_ERR_INVAL,
                                   "%s is a public key; signing needs the private key "
                                   "(NAME.pem, not NAME.pub.pem)", name);
        }
    }
    free(copy);
    if (code == ROMFS_OK)
        code = key_finish(key, name, err);
    if (code != ROMFS_OK) {
        romfs_key_free(key);
        return code;
    }
    *out = key;
    return ROMFS_OK;
}

int romfs_key_load(const char *path, bool need_private, struct romfs_key **out,
                   struct romfs_error *err)
{
    uint8_t *data;
    size_t size;
    int code = read_whole_file(path, "key", &data, &size, err);
    if (code != ROMFS_OK)
        return code;
    code = romfs_key_parse(data, size, path, need_private, out, err);
    mbedtls_platform_zeroize(data, size);
    free(data);
    return code;
}

int romfs_key_generate(struct romfs_key **out, struct romfs_error *err)
{
    struct romfs_key *key = key_alloc();
    if (!key)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    struct rng r;
    int code = rng_init(&r, err);
    if (code != ROMFS_OK) {
        romfs_key_free(key);
        return code;
    }
    int rc = mbedtls_pk_setup(&key->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (rc == 0)
        rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key->pk),
                                 mbedtls_ctr_drbg_random, &r.drbg);
    rng_free(&r);
    if (rc != 0) {
        romfs_key_free(key);
        return romfs_set_error(err, ROMFS_ERR_IO, "cannot generate a P-256 key (mbedTLS -0x%04x)",
                               (unsigned)-rc);
    }
    key->has_private = true;
    code = key_finish(key, "new key", err);
    if (code != ROMFS_OK) {
        romfs_key_free(key);
        return code;
    }
    *out = key;
    return ROMFS_OK;
}

bool romfs_key_has_private(const struct romfs_key *key)
{
    return key->has_private;
}

void romfs_key_id(const struct romfs_key *key, uint8_t id[ROMFS_SIG_KEY_ID_SIZE])
{
    memcpy(id, key->id, ROMFS_SIG_KEY_ID_SIZE);
}

void romfs_key_id_hex(const uint8_t id[ROMFS_SIG_KEY_ID_SIZE], char hex[2 * ROMFS_SIG_KEY_ID_SIZE + 1])
{
    for (int i = 0; i < ROMFS_SIG_KEY_ID_SIZE; i++)
        snprintf(hex + 2 * i, 3, "%02x", id[i]);
}

int romfs_key_write(const struct romfs_key *key, bool write_private, enum romfs_key_format format,
                    const char *path, bool overwrite, struct romfs_error *err)
{
    if (write_private && !key->has_private)
        return romfs_set_error(err, ROMFS_ERR_INVAL, "no private key to write to %s", path);
    unsigned char buf[1600];
    mbedtls_pk_context *pk = (mbedtls_pk_context *)&key->pk; /* mbedTLS 2.x is not const-correct */
    int rc;
    const unsigned char *start;
    size_t len;
    if (format == ROMFS_KEY_PEM) {
        rc = write_private ? mbedtls_pk_write_key_pem(pk, buf, sizeof buf)
                           : mbedtls_pk_write_pubkey_pem(pk, buf, sizeof buf);
        start = buf;
        len = rc == 0 ? strlen((const char *)buf) : 0;
    } else {
        rc = write_private ? mbedtls_pk_write_key_der(pk, buf, sizeof buf)
                           : mbedtls_pk_write_pubkey_der(pk, buf, sizeof buf);
        len = rc > 0 ? (size_t)rc : 0;
        start = buf + sizeof buf - len;
        rc = rc > 0 ? 0 : rc;
    }
    if (rc != 0)
        return romfs_set_error(err, ROMFS_ERR_IO, "cannot encode the key for %s (mbedTLS -0x%04x)",
                               path, (unsigned)-rc);
    int code = write_file_atomic(path, start, len, write_private ? 0600 : 0644, overwrite, err);
    mbedtls_platform_zeroize(buf, sizeof buf);
    return code;
}

/* ---- locating the signature record -------------------------------------------- */

/* Find the last top-level record of the image; fill info from a signature record there. */
static int find_signature(const uint8_t *data, size_t size, struct romfs_signature_info *info,
                          size_t *header_width, struct romfs_error *err)
{
    struct romfs_image img;
    memset(info, 0, sizeof *info);
    int code = romfs_image_open(&img, data, size, err);
    if (code != ROMFS_OK)
        return code;
    info->image_size = img.payload_end;
    info->trailing_size = size - img.payload_end;
    *header_width = img.payload_start - 3;
    size_t pos = img.payload_start, last = SIZE_MAX, last_kind_end = 0;
    uint64_t last_kind = 0, last_len = 0;
    while (pos < img.payload_end) {
        uint64_t kind, len;
        size_t used1, used2;
        size_t avail = img.payload_end - pos;
        if (romfs_varuint_decode(data + pos, avail, &kind, &used1) != ROMFS_OK ||
            romfs_varuint_decode(data + pos + used1, avail - used1, &len, &used2) != ROMFS_OK ||
            len > avail - used1 - used2)
            return romfs_set_error(err, ROMFS_ERR_CORRUPT,
                                   "malformed top-level record at offset %zu", pos);
        last = pos;
        last_kind = kind;
        last_len = len;
        last_kind_end = pos + used1 + used2;
        pos = last_kind_end + (size_t)len;
    }
    if (last == SIZE_MAX || last_kind != ROMFS_KIND_PADDING || last_len < ROMFS_SIG_MAGIC_SIZE ||
        memcmp(data + last_kind_end, ROMFS_SIG_MAGIC, ROMFS_SIG_MAGIC_SIZE) != 0)
        return ROMFS_OK; /* unsigned */
    const uint8_t *body = data + last_kind_end;
    info->present = true;
    info->record_offset = last;
    if (last_len < ROMFS_SIG_MAGIC_SIZE + 2)
        return romfs_set_error(err, ROMFS_ERR_CORRUPT,
                               "signature record at offset %zu is truncated: %llu bytes, expected %d",
                               last, (unsigned long long)last_len, ROMFS_SIG_PAYLOAD_SIZE);
    info->version = body[ROMFS_SIG_MAGIC_SIZE];
    info->algorithm = body[ROMFS_SIG_MAGIC_SIZE + 1];
    if (info->version != ROMFS_SIG_VERSION)
        return romfs_set_error(err, ROMFS_ERR_UNSUPPORTED,
                               "signature record at offset %zu has format version %u; this romfs "
                               "reads version %d", last, info->version, ROMFS_SIG_VERSION);
    if (info->algorithm == ROMFS_SIG_ALG_ED25519)
        return romfs_set_error(err, ROMFS_ERR_UNSUPPORTED,
                               "image is signed with Ed25519, which this romfs cannot check "
                               "(its mbedTLS has no EdDSA); use ECDSA P-256 keys");
    if (info->algorithm != ROMFS_SIG_ALG_ECDSA_P256_SHA256)
        return romfs_set_error(err, ROMFS_ERR_UNSUPPORTED,
                               "unknown signature algorithm %u in the signature record at offset %zu "
                               "(this romfs knows 1 = ecdsa-p256-sha256)", info->algorithm, last);
    if (last_len != ROMFS_SIG_PAYLOAD_SIZE)
        return romfs_set_error(err, ROMFS_ERR_CORRUPT,
                               "signature record at offset %zu is %s: %llu bytes, expected %d", last,
                               last_len < ROMFS_SIG_PAYLOAD_SIZE ? "truncated" : "too long",
                               (unsigned long long)last_len, ROMFS_SIG_PAYLOAD_SIZE);
    memcpy(info->key_id, body + ROMFS_SIG_MAGIC_SIZE + 2, ROMFS_SIG_KEY_ID_SIZE);
    info->signed_size = img.payload_end - ROMFS_SIG_SIZE;
    return ROMFS_OK;
}

int romfs_signature_find(const uint8_t *data, size_t size, struct romfs_signature_info *info,
                         struct romfs_error *err)
{
    size_t header_width;
    return find_signature(data, size, info, &header_width, err);
}

/* ---- verification ------------------------------------------------------------- */

int romfs_signature_verify(const uint8_t *data, size_t size, const struct romfs_key *key,
                           struct romfs_signature_info *info, struct romfs_error *err)
{
    struct romfs_signature_info local;
    if (!info)
        info = &local;
    int code = romfs_signature_find(data, size, info, err);
    if (code != ROMFS_OK)
        return code;
    if (!info->present)
        return romfs_set_error_need(err, ROMFS_ERR_MISMATCH, ROMFS_NEED_SIGNATURE,
                                    "image is not signed (no signature record at its end)");
    if (memcmp(info->key_id, key->id, ROMFS_SIG_KEY_ID_SIZE) != 0) {
        char have[17], want[17];
        romfs_key_id_hex(info->key_id, have);
        romfs_key_id_hex(key->id, want);
        return romfs_set_error(err, ROMFS_ERR_MISMATCH,
                               "image is signed by key %s, not by the given key %s", have, want);
    }
    romfs_sha256(data, info->signed_size, info->digest);
    const uint8_t *sig = data + info->signed_size;
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(key->pk);
    mbedtls_mpi r, s;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    int rc = mbedtls_mpi_read_binary(&r, sig, 32);
    if (rc == 0)
        rc = mbedtls_mpi_read_binary(&s, sig + 32, 32);
    if (rc == 0)
        rc = mbedtls_ecdsa_verify(&ec->grp, info->digest, sizeof info->digest, &ec->Q, &r, &s);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    if (rc != 0)
        return romfs_set_error(err, ROMFS_ERR_MISMATCH,
                               "signature does not match the image: it was modified after "
                               "signing (%zu signed bytes, SHA-256 checked against key %02x%02x%02x%02x...)",
                               info->signed_size, key->id[0], key->id[1], key->id[2], key->id[3]);
    for (size_t i = info->image_size; i < size; i++)
        if (data[i] != 0xff)
            return romfs_set_error(err, ROMFS_ERR_MISMATCH,
                                   "byte at offset %zu, after the signed image (which ends at %zu), "
                                   "is 0x%02x, not 0xff padding: it is not covered by the signature",
                                   i, info->image_size, data[i]);
    return ROMFS_OK;
}

int romfs_signature_check(const uint8_t *data, size_t size, const char *image_name,
                          const char *key_path, struct romfs_signature_info *info,
                          struct romfs_error *err)
{
    struct romfs_key *key;
    int code = romfs_key_load(key_path, false, &key, err);
    if (code != ROMFS_OK)
        return code;
    code = romfs_signature_verify(data, size, key, info, err);
    if (code != ROMFS_OK && image_name)
        romfs_error_prefix(err, "%s", image_name);
    romfs_key_free(key);
    return code;
}

int romfs_signature_verify_file(const char *image_path, const char *key_path,
                                struct romfs_signature_info *info, struct romfs_error *err)
{
    struct romfs_key *key;
    int code = romfs_key_load(key_path, false, &key, err);
    if (code != ROMFS_OK)
        return code;
    uint8_t *data;
    size_t size;
    code = read_whole_file(image_path, "image", &data, &size, err);
    if (code == ROMFS_OK) {
        code = romfs_signature_verify(data, size, key, info, err);
        if (code != ROMFS_OK)
            romfs_error_prefix(err, "%s", image_path);
        free(data);
    }
    romfs_key_free(key);
    return code;
}

/* ---- signing ------------------------------------------------------------------ */

/* What file data needs kept when the payload moves: the strongest alignment any
   non-empty file's data offset has (capped, as `romfs check` infers "asked for"
   alignment), and whether any file uses indirect data (offsets relative to the payload
   start, which a padding record at the payload start would break). */
struct move_needs {
    uint64_t align;
    bool indirect;
};

#define SIGN_ALIGN_CAP 4096

static int note_alignment(void *ctx, const char *path, const struct romfs_entry *e, int depth)
{
    (void)path;
    (void)depth;
    struct move_needs *m = ctx;
    if (e->type != ROMFS_ENTRY_FILE || e->data_size == 0)
        return 0;
    if (e->data_indirect)
        m->indirect = true;
    uint64_t a = 1;
    while (a < SIGN_ALIGN_CAP && e->data_offset % (a * 2) == 0)
        a *= 2;
    if (a > m->align)
        m->align = a;
    return 0;
}

/* The signed image's shape: header length varuint width, a padding record of
   front_pad bytes at the start of the payload (0 or >= 2), and whether the signature
   record's length varuint carries one 0x80 pad byte. */
struct sign_layout {
    size_t width, front_pad, rec_pad, payload_len;
};

static size_t record_len_width(size_t record_size)
{
    size_t lw = 1;
    while (romfs_varuint_size(record_size - 1 - lw) > lw)
        lw++;
    return lw;
}

static bool try_layout(size_t width, size_t front_pad, size_t kept_payload, struct sign_layout *l)
{
    for (size_t rec_pad = 0; rec_pad < 2; rec_pad++) {
        size_t plen = front_pad + kept_payload + 2 + rec_pad + ROMFS_SIG_PAYLOAD_SIZE;
        if (romfs_varuint_size(plen) <= width && (3 + width + plen) % 2 == 0) {
            *l = (struct sign_layout){ width, front_pad, rec_pad, plen };
            return true;
        }
    }
    return false;
}

/* Plan the layout. The header keeps its width when the new length fits in it, so no
   byte moves. Otherwise the payload moves by a multiple of the strongest data alignment
   (header padding up to 16 bytes, a front padding record beyond that). */
static int plan_layout(const uint8_t *data, size_t image_size, size_t header_width,
                       size_t kept_payload, struct sign_layout *l, struct romfs_error *err)
{
    if (try_layout(header_width, 0, kept_payload, l))
        return ROMFS_OK;
    struct romfs_image img;
    struct move_needs needs = { 1, false };
    int code = romfs_image_open(&img, data, image_size, err);
    if (code == ROMFS_OK)
        code = romfs_image_walk(&img, NULL, note_alignment, &needs, err);
    if (code != ROMFS_OK)
        return code;
    for (size_t shift = (size_t)needs.align; shift <= 4 * SIGN_ALIGN_CAP + 64; shift += (size_t)needs.align) {
        for (size_t grow = 1; grow <= shift && header_width + grow <= 16; grow++) {
            size_t front = shift - grow;
            if (front == 1 || (front > 0 && needs.indirect))
                continue;
            if (try_layout(header_width + grow, front, kept_payload, l))
                return ROMFS_OK;
        }
    }
    return romfs_set_error(err, ROMFS_ERR_UNSUPPORTED,
                           "cannot grow the image header without moving aligned indirect file data");
}

/* A file whose data lies in [lo, hi): re-signing rewrites those bytes. */
struct data_overlap {
    size_t lo, hi;
    bool hit;
    char path[256];
};

static int find_data_overlap(void *ctx, const char *path, const struct romfs_entry *e, int depth)
{
    struct data_overlap *o = ctx;
    (void)depth;
    if (e->type != ROMFS_ENTRY_FILE || e->data_size == 0 || e->data_offset >= o->hi ||
        e->data_offset + e->data_size <= o->lo)
        return 0;
    snprintf(o->path, sizeof o->path, "%s", path);
    o->hit = true;
    return 1;
}

int romfs_sign_image(const uint8_t *data, size_t size, const struct romfs_key *key,
                     uint8_t **out, size_t *out_size, struct romfs_signature_info *info,
                     struct romfs_error *err)
{
    struct romfs_signature_info local;
    if (!info)
        info = &local;
    if (!key->has_private)
        return romfs_set_error(err, ROMFS_ERR_INVAL, "signing needs a private key, not a public one");
    struct romfs_signature_info old;
    size_t header_width;
    int code = find_signature(data, size, &old, &header_width, err);
    if (code != ROMFS_OK && !(old.present && old.record_offset > 0))
        return code; /* a damaged old signature record is replaced like a good one */
    size_t payload_start = 3 + header_width;
    for (size_t i = old.image_size; i < size; i++)
        if (data[i] != 0xff)
            return romfs_set_error(err, ROMFS_ERR_CORRUPT,
                                   "byte at offset %zu after the image record (which ends at %zu) is "
                                   "0x%02x, not 0xff padding; signing would leave it unsigned",
                                   i, old.image_size, data[i]);
    if (old.present) {
        /* Indirect data may point anywhere in the payload, even into the old record. */
        struct data_overlap o = { old.record_offset, old.image_size, false, "" };
        struct romfs_image img;
        if (romfs_image_open(&img, data, size, NULL) == ROMFS_OK)
            romfs_image_walk(&img, NULL, find_data_overlap, &o, NULL);
        if (o.hit)
            return romfs_set_error(err, ROMFS_ERR_CORRUPT,
                                   "file '/%s' keeps its data inside the old signature record at "
                                   "offset %zu; re-signing would change the file", o.path,
                                   old.record_offset);
    }
    size_t kept_end = old.present ? old.record_offset : old.image_size; /* bytes kept from data */
    size_t kept_payload = kept_end - payload_start;
    struct sign_layout l = { 0 };
    code = plan_layout(data, old.image_size, header_width, kept_payload, &l, err);
    if (code != ROMFS_OK)
        return code;
    size_t image_size = 3 + l.width + l.payload_len;
    /* Keep the file size when the input had trailing 0xff fill and the signed image fits. */
    size_t total = size > old.image_size && image_size <= size ? size : image_size;
    uint8_t *buf = malloc(total);
    if (!buf)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    memset(buf, 0xff, total);
    memcpy(buf, data, 3); /* d2 cd 31 */
    size_t p = 3 + romfs_varuint_encode(l.payload_len, l.width, buf + 3);
    if (l.front_pad) {
        size_t lw = record_len_width(l.front_pad);
        buf[p] = ROMFS_KIND_PADDING;
        romfs_varuint_encode(l.front_pad - 1 - lw, lw, buf + p + 1);
        memset(buf + p + 1 + lw, 0, l.front_pad - 1 - lw);
        p += l.front_pad;
    }
    memcpy(buf + p, data + payload_start, kept_payload);
    p += kept_payload;
    memset(info, 0, sizeof *info);
    info->record_offset = p;
    buf[p++] = ROMFS_KIND_PADDING;
    p += romfs_varuint_encode(ROMFS_SIG_PAYLOAD_SIZE, 1 + l.rec_pad, buf + p);
    info->present = true;
    info->version = ROMFS_SIG_VERSION;
    info->algorithm = ROMFS_SIG_ALG_ECDSA_P256_SHA256;
    memcpy(info->key_id, key->id, ROMFS_SIG_KEY_ID_SIZE);
    memcpy(buf + p, ROMFS_SIG_MAGIC, ROMFS_SIG_MAGIC_SIZE);
    p += ROMFS_SIG_MAGIC_SIZE;
    buf[p++] = ROMFS_SIG_VERSION;
    buf[p++] = ROMFS_SIG_ALG_ECDSA_P256_SHA256;
    memcpy(buf + p, key->id, ROMFS_SIG_KEY_ID_SIZE);
    p += ROMFS_SIG_KEY_ID_SIZE;
    info->signed_size = p;
    info->image_size = image_size;
    info->trailing_size = total - image_size;
    info->data_shift = (l.width - header_width) + l.front_pad;
    romfs_sha256(buf, p, info->digest);

    struct rng r;
    code = rng_init(&r, err);
    if (code != ROMFS_OK) {
        free(buf);
        return code;
    }
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(key->pk);
    mbedtls_mpi sr, ss;
    mbedtls_mpi_init(&sr);
    mbedtls_mpi_init(&ss);
    int rc = mbedtls_ecdsa_sign_det_ext(&ec->grp, &sr, &ss, &ec->d, info->digest, sizeof info->digest,
                                        MBEDTLS_MD_SHA256, mbedtls_ctr_drbg_random, &r.drbg);
    if (rc == 0)
        rc = mbedtls_mpi_write_binary(&sr, buf + p, 32);
    if (rc == 0)
        rc = mbedtls_mpi_write_binary(&ss, buf + p + 32, 32);
    mbedtls_mpi_free(&sr);
    mbedtls_mpi_free(&ss);
    rng_free(&r);
    if (rc != 0) {
        free(buf);
        return romfs_set_error(err, ROMFS_ERR_IO, "ECDSA signing failed (mbedTLS -0x%04x)", (unsigned)-rc);
    }
    *out = buf;
    *out_size = total;
    return ROMFS_OK;
}

int romfs_sign_file(const char *image_path, const char *key_path, const char *out_path,
                    struct romfs_signature_info *info, struct romfs_error *err)
{
    struct romfs_key *key;
    int code = romfs_key_load(key_path, true, &key, err);
    if (code != ROMFS_OK)
        return code;
    uint8_t *data, *signed_image = NULL;
    size_t size, signed_size = 0;
    code = read_whole_file(image_path, "image", &data, &size, err);
    if (code == ROMFS_OK) {
        code = romfs_sign_image(data, size, key, &signed_image, &signed_size, info, err);
        if (code != ROMFS_OK)
            romfs_error_prefix(err, "%s", image_path);
        free(data);
    }
    romfs_key_free(key);
    if (code != ROMFS_OK)
        return code;
    const char *dest = out_path ? out_path : image_path;
    struct stat st;
    mode_t mode = stat(image_path, &st) == 0 ? (st.st_mode & 0777) : 0644;
    code = write_file_atomic(dest, signed_image, signed_size, mode, true, err);
    free(signed_image);
    return code;
}
