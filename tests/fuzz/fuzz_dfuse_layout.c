/* fuzz_dfuse_layout.c: the DfuSe memory layout parser on arbitrary strings: no crash, no
 * overflow, and every accepted layout holds sorted, non-overlapping runs inside 4 GiB
 * whose sector lookup agrees with the runs. */
#include <stdlib.h>
#include <string.h>

#include "transport/dfu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct romfs_dfuse_layout l;
    struct romfs_error err;
    if (romfs_dfuse_layout_parse(text, &l, &err) == ROMFS_OK) {
        uint64_t prev_end = 0;
        for (size_t i = 0; i < l.n_runs; i++) {
            const struct romfs_dfuse_run *r = &l.runs[i];
            uint64_t end = (uint64_t)r->start + (uint64_t)r->count * r->size;
            if (r->count == 0 || r->size == 0 || end > 0x100000000ull || r->start < prev_end ||
                r->attrs < 1 || r->attrs > 7)
                abort();
            prev_end = end;
            uint32_t start, sz;
            uint8_t attrs;
            if (!romfs_dfuse_layout_sector(&l, end - 1, &start, &sz, &attrs) || sz != r->size ||
                attrs != r->attrs || (uint64_t)start + sz != end)
                abort();
        }
    }
    free(text);
    return 0;
}
