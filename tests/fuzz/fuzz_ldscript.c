/* fuzz_ldscript.c: libFuzzer target for the linker-script evaluator on text
 * (no INCLUDE from disk, no preprocessor). Results must be self-consistent.
 * tests/tools/fuzz.sh lets inputs grow to 1 MiB; the seeds in
 * tests/fuzz/corpus/fuzz_ldscript have the shapes MicroPython's ports use (MEMORY,
 * INCLUDE, PROVIDE, ASSERT, REGION_ALIAS, long expression chains, a 200 KB script). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ld/ldscript.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const defsyms[] = {"_fs_size=0x10000", "_codesize=236K"};
    struct romfs_ld_input opts = {0};
    opts.no_include_files = true;
    opts.defsyms = defsyms;
    opts.n_defsyms = 2;
    opts.defsyms_last = size > 0 && (data[0] & 1);
    opts.address_bits = size > 0 && (data[0] & 2) ? 32 : 0;
    struct romfs_ld_result res;
    struct romfs_error err = {0};
    int rc = romfs_ld_evaluate_text("fuzz.ld", (const char *)data, size, &opts, &res, &err);
    if (rc == ROMFS_OK) {
        for (size_t i = 0; i < res.n_symbols; i++) {
            uint64_t v;
            int frc = romfs_ld_find_symbol(&res, res.symbols[i].name, &v);
            if (frc != ROMFS_OK && frc != ROMFS_ERR_UNSUPPORTED)
                abort();
            if (opts.address_bits == 32 && frc == ROMFS_OK && v > 0xffffffffu)
                abort();
        }
        for (size_t i = 0; i < res.n_regions; i++)
            if (!romfs_ld_find_region(&res, res.regions[i].name))
                abort();
    } else if (err.msg[0] == '\0') {
        abort(); /* every failure explains itself */
    }
    romfs_ld_result_free(&res);
    return 0;
}
