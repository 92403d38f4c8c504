/* ld/elf.h: what a built MicroPython firmware ELF says about its ROMFS
 * partitions and its own flash footprint (libelf). The strongest authority for
 * a user's actual build: the values the linker really used. */
#ifndef ROMFS_ELF_H
#define ROMFS_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define ROMFS_ELF_MAX_PARTS 2

struct romfs_elf_part {
    bool present;             /* both _micropy_hw_romfs_partN_start and _size exist */
    uint64_t start, size;     /* their symbol values (st_value) */
};

/* One loadable piece of the image: where it lives in the file (LMA) and at run time (VMA). */
struct romfs_elf_load {
    uint64_t lma, vma, size;  /* size = bytes stored in the file (PROGBITS) */
    char *section;            /* section name, e.g. ".text", ".data" */
    uint8_t *data;            /* the section's bytes (romfs_elf_read_contents), else NULL */
};

struct romfs_elf_info {
    struct romfs_elf_part part[ROMFS_ELF_MAX_PARTS]; /* part[0] = part0, part[1] = part1 */
    bool has_text;            /* at least one allocated PROGBITS section with bytes */
    uint64_t text_start;      /* lowest LMA of those sections */
    uint64_t text_end;        /* highest LMA end (LMA + size) of those sections: the
                                 firmware's flash footprint ends here */
    struct romfs_elf_load *loads; size_t n_loads; /* every such section, by LMA */
    unsigned machine;         /* e_machine (40 = ARM, 94 = Xtensa, 243 = RISC-V) */
    unsigned elf_class;       /* 32 or 64 */
};

/* Read path into *out (free with romfs_elf_info_free, also after an error).
 * LMAs come from the program headers (a section inside a PT_LOAD segment has
 * LMA = p_paddr + (sh_addr - p_vaddr)); sections outside every segment use sh_addr.
 * Errors: ROMFS_ERR_NOENT/IO (cannot open), ROMFS_ERR_CORRUPT (not an ELF). A
 * firmware without romfs symbols is not an error: part[i].present is false. */
int romfs_elf_read(const char *path, struct romfs_elf_info *out, struct romfs_error *err);

/* romfs_elf_read, and each load's bytes in loads[i].data: what a programmer writes to
 * flash (objcopy -O binary places the same sections at the same LMAs). */
int romfs_elf_read_contents(const char *path, struct romfs_elf_info *out, struct romfs_error *err);

/* Highest LMA end of the firmware's loaded sections that lie inside [lo, hi)
 * (e.g. one flash region), or lo if none; use it when an ELF also places
 * sections in other memories. */
uint64_t romfs_elf_text_end_in(const struct romfs_elf_info *info, uint64_t lo, uint64_t hi);

/* Value (st_value, so a Thumb function has bit 0 set) of any defined symbol in
 * path's symbol table: ROMFS_OK, ROMFS_ERR_NOENT if absent. */
int romfs_elf_find_symbol(const char *path, const char *name, uint64_t *value,
                          struct romfs_error *err);

void romfs_elf_info_free(struct romfs_elf_info *info);

#endif
