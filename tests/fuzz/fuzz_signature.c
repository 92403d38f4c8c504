/* fuzz_signature.c: signature records and image diffs on arbitrary bytes.
 * Properties: no crash or out-of-bounds read on any input; whenever signing an input
 * succeeds, the signed image verifies with the same key, passes strict verification
 * when the input did, and lists the same files (romfs_diff finds no change). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/diff.h"
#include "format/format.h"
#include "image/sign.h"

static struct romfs_key *key;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct romfs_error err;
    if (!key && romfs_key_generate(&key, &err) != ROMFS_OK)
        abort();
    struct romfs_signature_info info;
    romfs_signature_find(data, size, &info, &err);
    romfs_signature_verify(data, size, key, &info, &err);

    uint8_t *signed_image = NULL;
    size_t signed_size = 0;
    if (romfs_sign_image(data, size, key, &signed_image, &signed_size, &info, &err) == ROMFS_OK) {
        if (romfs_signature_verify(signed_image, signed_size, key, NULL, &err) != ROMFS_OK) {
            fprintf(stderr, "signed image does not verify: %s\n", err.msg);
            abort();
        }
        if (info.image_size % 2 || info.image_size > signed_size)
            abort();
        struct romfs_image in, out;
        bool input_valid = romfs_image_open(&in, data, size, &err) == ROMFS_OK &&
                           romfs_image_verify(&in, NULL, &err) == ROMFS_OK;
        if (input_valid) {
            if (romfs_image_open(&out, signed_image, signed_size, &err) != ROMFS_OK ||
                romfs_image_verify(&out, NULL, &err) != ROMFS_OK)
                abort();
            struct romfs_diff d;
            if (romfs_diff_images(data, size, "in", signed_image, signed_size, "out", &d, &err) != ROMFS_OK)
                abort();
            if (romfs_diff_has_changes(&d))
                abort();
            romfs_diff_free(&d);
        }
        free(signed_image);
    }
    /* two images from one input: split where the first byte says */
    if (size > 1) {
        size_t cut = 1 + data[0] % (size - 1);
        struct romfs_diff d;
        if (romfs_diff_images(data + 1, cut - 1, "a", data + cut, size - cut, "b", &d, &err) == ROMFS_OK) {
            char *json;
            if (romfs_diff_to_json(&d, "a", "b", &json, &err) == ROMFS_OK)
                free(json);
            romfs_diff_free(&d);
        }
    }
    return 0;
}
