/* elf.c: reading a built firmware ELF with libelf: the romfs partition symbols
 * and where the firmware's loaded bytes end in flash (section LMAs from the
 * program headers). */
#include "ld/elf.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct elf_file {
    int fd;
    Elf *elf;
};

static int elf_open_file(const char *path, struct elf_file *f, struct romfs_error *err)
{
    f->fd = -1;
    f->elf = NULL;
    if (elf_version(EV_CURRENT) == EV_NONE)
        return romfs_set_error(err, ROMFS_ERR_TOOL, "libelf: %s", elf_errmsg(-1));
    f->fd = open(path, O_RDONLY);
    if (f->fd < 0)
        return romfs_set_errno(err, errno == ENOENT ? ROMFS_ERR_NOENT : ROMFS_ERR_IO, errno, "%s", path);
    f->elf = elf_begin(f->fd, ELF_C_READ, NULL);
    if (!f->elf || elf_kind(f->elf) != ELF_K_ELF) {
        if (f->elf)
            elf_end(f->elf);
        close(f->fd);
        f->elf = NULL;
        f->fd = -1;
        return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: not an ELF file", path);
    }
    return ROMFS_OK;
}

static void elf_close_file(struct elf_file *f)
{
    if (f->elf)
        elf_end(f->elf);
    if (f->fd >= 0)
        close(f->fd);
}

/* Call fn for every symbol in .symtab (and .dynsym); stops when fn returns true. */
static int for_each_symbol(const char *path, Elf *elf, bool (*fn)(void *ctx, const char *name, uint64_t value),
                           void *ctx, struct romfs_error *err)
{
    Elf_Scn *scn = NULL;
    size_t shstrndx;
    if (elf_getshdrstrndx(elf, &shstrndx) != 0)
        return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: %s", path, elf_errmsg(-1));
    while ((scn = elf_nextscn(elf, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh))
            return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: %s", path, elf_errmsg(-1));
        if (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM)
            continue;
        Elf_Data *data = elf_getdata(scn, NULL);
        if (!data || sh.sh_entsize == 0)
            continue;
        size_t count = sh.sh_size / sh.sh_entsize;
        for (size_t i = 0; i < count; i++) {
            GElf_Sym sym;
            if (!gelf_getsym(data, (int)i, &sym))
                return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: bad symbol %zu", path, i);
            if (sym.st_shndx == SHN_UNDEF)
                continue;
            const char *name = elf_strptr(elf, sh.sh_link, sym.st_name);
            if (name && *name && fn(ctx, name, sym.st_value))
                return ROMFS_OK;
        }
    }
    return ROMFS_OK;
}

static bool collect_part_symbols(void *ctx, const char *name, uint64_t value)
{
    struct { struct romfs_elf_info *info; bool have[ROMFS_ELF_MAX_PARTS][2]; } *c = ctx;
    static const char prefix[] = "_micropy_hw_romfs_part";
    if (strncmp(name, prefix, sizeof prefix - 1) != 0)
        return false;
    const char *p = name + sizeof prefix - 1;
    if (p[0] < '0' || p[0] >= '0' + ROMFS_ELF_MAX_PARTS)
        return false;
    int idx = p[0] - '0';
    if (strcmp(p + 1, "_start") == 0) {
        c->info->part[idx].start = value;
        c->have[idx][0] = true;
    } else if (strcmp(p + 1, "_size") == 0) {
        c->info->part[idx].size = value;
        c->have[idx][1] = true;
    }
    return false;
}

static int cmp_load(const void *a, const void *b)
{
    const struct romfs_elf_load *x = a, *y = b;
    return x->lma < y->lma ? -1 : x->lma > y->lma;
}

static int read_loads(const char *path, Elf *elf, struct romfs_elf_info *out, bool with_data,
                      struct romfs_error *err)
{
    size_t nphdr = 0, shstrndx, nscn = 0;
    if (elf_getphdrnum(elf, &nphdr) != 0 || elf_getshdrstrndx(elf, &shstrndx) != 0 ||
        elf_getshdrnum(elf, &nscn) != 0)
        return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: %s", path, elf_errmsg(-1));
    out->loads = calloc(nscn + 1, sizeof *out->loads);
    if (!out->loads)
        return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(elf, scn)) != NULL) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh))
            return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: %s", path, elf_errmsg(-1));
        if (sh.sh_type != SHT_PROGBITS && sh.sh_type != SHT_INIT_ARRAY && sh.sh_type != SHT_FINI_ARRAY &&
            sh.sh_type != SHT_PREINIT_ARRAY && sh.sh_type != (GElf_Word)0x70000001 /* SHT_ARM_EXIDX */)
            continue;
        if (!(sh.sh_flags & SHF_ALLOC) || sh.sh_size == 0)
            continue;
        /* LMA: the segment holding the section's file bytes maps VMA to physical address */
        uint64_t lma = sh.sh_addr;
        for (size_t i = 0; i < nphdr; i++) {
            GElf_Phdr ph;
            if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
                continue;
            if (sh.sh_offset >= ph.p_offset && sh.sh_offset + sh.sh_size <= ph.p_offset + ph.p_filesz &&
                sh.sh_addr >= ph.p_vaddr && sh.sh_addr + sh.sh_size <= ph.p_vaddr + ph.p_memsz) {
                lma = ph.p_paddr + (sh.sh_addr - ph.p_vaddr);
                break;
            }
        }
        const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
        struct romfs_elf_load *l = &out->loads[out->n_loads++];
        l->lma = lma;
        l->vma = sh.sh_addr;
        l->size = sh.sh_size;
        l->section = strdup(name ? name : "");
        if (!l->section)
            return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory");
        if (with_data) {
            l->data = malloc(sh.sh_size);
            if (!l->data)
                return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory for %s's %s (%llu bytes)", path,
                                       l->section, (unsigned long long)sh.sh_size);
            /* the section's data pieces, each at its offset in the section */
            Elf_Data *d = NULL;
            size_t got = 0;
            while ((d = elf_getdata(scn, d)) != NULL) {
                if (!d->d_buf || d->d_off < 0 || (uint64_t)d->d_off + d->d_size > sh.sh_size)
                    return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: section %s: bad data", path, l->section);
                memcpy(l->data + d->d_off, d->d_buf, d->d_size);
                got += d->d_size;
            }
            if (got != sh.sh_size)
                return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: section %s holds %zu of its %llu bytes",
                                       path, l->section, got, (unsigned long long)sh.sh_size);
        }
        if (!out->has_text || lma < out->text_start)
            out->text_start = lma;
        if (!out->has_text || lma + sh.sh_size > out->text_end)
            out->text_end = lma + sh.sh_size;
        out->has_text = true;
    }
    qsort(out->loads, out->n_loads, sizeof *out->loads, cmp_load);
    return ROMFS_OK;
}

static int elf_read(const char *path, struct romfs_elf_info *out, bool with_data, struct romfs_error *err)
{
    memset(out, 0, sizeof *out);
    struct elf_file f;
    int rc = elf_open_file(path, &f, err);
    if (rc)
        return rc;
    GElf_Ehdr eh;
    if (!gelf_getehdr(f.elf, &eh)) {
        elf_close_file(&f);
        return romfs_set_error(err, ROMFS_ERR_CORRUPT, "%s: %s", path, elf_errmsg(-1));
    }
    out->machine = eh.e_machine;
    out->elf_class = gelf_getclass(f.elf) == ELFCLASS64 ? 64 : 32;
    struct { struct romfs_elf_info *info; bool have[ROMFS_ELF_MAX_PARTS][2]; } ctx = {out, {{false}}};
    rc = for_each_symbol(path, f.elf, collect_part_symbols, &ctx, err);
    for (int i = 0; i < ROMFS_ELF_MAX_PARTS; i++)
        out->part[i].present = ctx.have[i][0] && ctx.have[i][1];
    if (rc == ROMFS_OK)
        rc = read_loads(path, f.elf, out, with_data, err);
    elf_close_file(&f);
    if (rc)
        romfs_elf_info_free(out);
    return rc;
}

int romfs_elf_read(const char *path, struct romfs_elf_info *out, struct romfs_error *err)
{
    return elf_read(path, out, false, err);
}

int romfs_elf_read_contents(const char *path, struct romfs_elf_info *out, struct romfs_error *err)
{
    return elf_read(path, out, true, err);
}

uint64_t romfs_elf_text_end_in(const struct romfs_elf_info *info, uint64_t lo, uint64_t hi)
{
    uint64_t end = lo;
    for (size_t i = 0; i < info->n_loads; i++) {
        const struct romfs_elf_load *l = &info->loads[i];
        if (l->lma >= lo && l->lma < hi && l->lma + l->size > end)
            end = l->lma + l->size;
    }
    return end;
}

struct find_ctx { const char *name; uint64_t value; bool found; };

static bool find_one(void *ctx, const char *name, uint64_t value)
{
    struct find_ctx *c = ctx;
    if (strcmp(name, c->name) != 0)
        return false;
    c->value = value;
    c->found = true;
    return true;
}

int romfs_elf_find_symbol(const char *path, const char *name, uint64_t *value, struct romfs_error *err)
{
    struct elf_file f;
    int rc = elf_open_file(path, &f, err);
    if (rc)
        return rc;
    struct find_ctx c = {name, 0, false};
    rc = for_each_symbol(path, f.elf, find_one, &c, err);
    elf_close_file(&f);
    if (rc)
        return rc;
    if (!c.found)
        return romfs_set_error(err, ROMFS_ERR_NOENT, "%s: no symbol %s", path, name);
    if (value)
        *value = c.value;
    return ROMFS_OK;
}

void romfs_elf_info_free(struct romfs_elf_info *info)
{
    if (!info)
        return;
    for (size_t i = 0; i < info->n_loads; i++) {
        free(info->loads[i].section);
        free(info->loads[i].data);
    }
    free(info->loads);
    info->loads = NULL;
    info->n_loads = 0;
}
