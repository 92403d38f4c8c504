/* fuzz_check.c: arbitrary images checked against partitions chosen by the first input
 * bytes, reported in every format; plus the input as report text (UTF-8 cleaning and
 * the JSON/XML/GitHub escaping). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plan/check.h"
#include "plan/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    static const struct romfs_erase_range map[] = {
        { 0x08000000, 0x10000, 0x4000 }, { 0x08010000, 0x10000, 0x10000 },
        { 0x08020000, 0xE0000, 0x20000 },
    };
    struct romfs_check_target t;
    memset(&t, 0, sizeof t);
    strcpy(t.board, "FUZZ");
    t.start = 0x08000000u + ((uint64_t)data[0] << 12) + ((uint64_t)data[1] << 4);
    t.size = ((uint64_t)data[2] << 10) + data[3];
    t.erase_block = data[4] & 0x80 ? 0 : 1u << (data[4] & 15);
    t.write_block = 1u << (data[5] & 7);
    t.mmap = (int)(data[6] % 3) - 1;
    if (data[7] & 1) {
        t.erase_map = map;
        t.n_erase_map = 3;
    }
    struct romfs_check_options opt = { .align_cap = 1u << (data[7] >> 4), .max_listed = 3 };
    struct romfs_check_result res;
    struct romfs_error err = { 0 };
    romfs_check_image(data + 8, size - 8, &t, &opt, &res, &err);

    struct romfs_report rep;
    romfs_report_init(&rep, "fuzz");
    romfs_check_add_to_report(&res, "image", &rep);
    char *text = malloc(size + 1);
    if (text) {
        memcpy(text, data, size);
        text[size] = '\0';
        struct romfs_report_suite *s = romfs_report_add_suite(&rep, text, text);
        romfs_report_add_case(&rep, s, text, ROMFS_REPORT_FAIL, text, "%s", text);
        romfs_report_add_property(&rep, s, text, text);
        free(text);
    }
    for (int f = ROMFS_REPORT_TEXT; f <= ROMFS_REPORT_GITHUB; f++) {
        char *out = NULL;
        size_t len = 0;
        if (romfs_report_render(&rep, (enum romfs_report_format)f, &out, &len, &err) == ROMFS_OK)
            free(out);
    }
    romfs_report_free(&rep);
    romfs_check_result_free(&res);
    return 0;
}
