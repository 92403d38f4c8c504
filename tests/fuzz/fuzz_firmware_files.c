/* fuzz_firmware_files.c: arbitrary bytes read as an Intel HEX, UF2 or DfuSe firmware file
 * (the first byte chooses), and what was read written back in every format when its
 * pieces do not overlap. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "out/outfile.h"
#include "out/segments.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct romfs_segments s = { 0 };
    struct romfs_error err = { 0 };
    int rc;
    switch (data[0] % 3) {
    case 0: rc = romfs_ihex_parse(data + 1, size - 1, "fuzz.hex", &s, &err); break;
    case 1: rc = romfs_uf2_parse(data + 1, size - 1, "fuzz.uf2", &s, &err); break;
    default: rc = romfs_dfu_file_parse(data + 1, size - 1, "fuzz.dfu", &s, &err); break;
    }
    (void)romfs_fw_format_of("fuzz", data, size);
    romfs_segments_sort(&s);
    if (rc == ROMFS_OK && romfs_segments_check_overlap(&s, &err) == ROMFS_OK) {
        uint8_t *out = NULL;
        size_t n = 0;
        struct romfs_dfu_file_options o = { 0, 0x0483, 0xdf11, 0, NULL };
        if (romfs_ihex_build_segments(&s, &out, &n, &err) == ROMFS_OK)
            free(out);
        if (romfs_uf2_build_segments(&s, 0xe48bff56, &out, &n, &err) == ROMFS_OK)
            free(out);
        if (romfs_dfu_file_build_segments(&s, &o, &out, &n, &err) == ROMFS_OK)
            free(out);
    }
    romfs_segments_free(&s);
    return 0;
}
