/* test_elf.c: romfs_elf_read on firmware ELFs linked here by arm-none-eabi-gcc/ld
 * (text in flash, .data in RAM loaded from flash, romfs symbols from the script),
 * checked against arm-none-eabi-nm and the size of `objcopy -O binary` output. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ld/elf.h"
#include "unit.h"

static char dir[256];

static int sh(const char *fmt, const char *a)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, fmt, a, a, a, a, a, a);
    return system(cmd);
}

static bool nm_value(const char *elf, const char *name, unsigned long long *v)
{
    char cmd[1024], line[256];
    snprintf(cmd, sizeof cmd, "arm-none-eabi-nm '%s/%s'", dir, elf);
    FILE *p = popen(cmd, "r");
    bool found = false;
    while (p && fgets(line, sizeof line, p)) {
        char t, n[200];
        unsigned long long x;
        if (sscanf(line, "%llx %c %199s", &x, &t, n) == 3 && !strcmp(n, name)) {
            *v = x;
            found = true;
        }
    }
    if (p)
        pclose(p);
    return found;
}

static bool build(void)
{
    FILE *f;
    char path[512];
    snprintf(path, sizeof path, "%s/fw.c", dir);
    if (!(f = fopen(path, "w")))
        return false;
    fputs("int counter = 42; const char table[300] = {1};\n"
          "int add(int a, int b) { return a + b + counter + table[a]; }\n"
          "void Reset_Handler(void) { counter = add(1, 2); for (;;) {} }\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/fw.ld", dir);
    if (!(f = fopen(path, "w")))
        return false;
    fputs("MEMORY {\n"
          "  FLASH (rx) : ORIGIN = 0x08004000, LENGTH = 240K\n"
          "  FLASH_ROMFS (r) : ORIGIN = 0x08040000, LENGTH = 256K\n"
          "  RAM (rwx) : ORIGIN = 0x20000000, LENGTH = 64K\n}\n"
          "ENTRY(Reset_Handler)\n"
          "_micropy_hw_romfs_part0_start = ORIGIN(FLASH_ROMFS);\n"
          "_micropy_hw_romfs_part0_size = LENGTH(FLASH_ROMFS);\n"
          "_micropy_hw_romfs_part1_start = 0x90000000;\n"
          "_micropy_hw_romfs_part1_size = 16M;\n"
          "SECTIONS {\n"
          "  .text : { *(.text*) *(.rodata*) . = ALIGN(4); } > FLASH\n"
          "  .data : { *(.data*) . = ALIGN(4); } > RAM AT > FLASH\n"
          "  .bss (NOLOAD) : { *(.bss*) *(COMMON) } > RAM\n"
          "}\n", f);
    fclose(f);
    return sh("cd '%s' && arm-none-eabi-gcc -mthumb -mcpu=cortex-m4 -O1 -c fw.c -o fw.o && "
              "arm-none-eabi-ld -T fw.ld fw.o -o fw.elf && arm-none-eabi-objcopy -O binary fw.elf fw.bin && "
              "arm-none-eabi-ld -Ttext=0x10000000 fw.o -e Reset_Handler -o plain.elf 2>/dev/null", dir) == 0;
}

static void test_romfs_symbols_match_nm(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/fw.elf", dir);
    struct romfs_elf_info info;
    struct romfs_error err = {0};
    CHECK(romfs_elf_read(path, &info, &err) == ROMFS_OK);
    unsigned long long s0, z0, s1, z1;
    CHECK(nm_value("fw.elf", "_micropy_hw_romfs_part0_start", &s0) && nm_value("fw.elf", "_micropy_hw_romfs_part0_size", &z0));
    CHECK(nm_value("fw.elf", "_micropy_hw_romfs_part1_start", &s1) && nm_value("fw.elf", "_micropy_hw_romfs_part1_size", &z1));
    CHECK(info.part[0].present && info.part[1].present);
    CHECK_EQ_U(info.part[0].start, s0);
    CHECK_EQ_U(info.part[0].size, z0);
    CHECK_EQ_U(info.part[1].start, s1);
    CHECK_EQ_U(info.part[1].size, z1);
    CHECK_EQ_U(info.machine, 40);
    CHECK_EQ_U(info.elf_class, 32);
    romfs_elf_info_free(&info);
}

static void test_text_end_matches_objcopy_binary(void)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/fw.bin", dir);
    CHECK(stat(path, &st) == 0 && st.st_size > 300);
    snprintf(path, sizeof path, "%s/fw.elf", dir);
    struct romfs_elf_info info;
    struct romfs_error err = {0};
    CHECK(romfs_elf_read(path, &info, &err) == ROMFS_OK);
    CHECK(info.has_text);
    CHECK_EQ_U(info.text_start, 0x08004000);
    /* the raw binary spans exactly from the lowest to the highest loaded byte (.data's LMA) */
    CHECK_EQ_U(info.text_end - info.text_start, (unsigned long long)st.st_size);
    bool data_in_flash = false;
    for (size_t i = 0; i < info.n_loads; i++)
        if (!strcmp(info.loads[i].section, ".data"))
            data_in_flash = info.loads[i].vma == 0x20000000 && info.loads[i].lma >= 0x08004000 &&
                            info.loads[i].lma + info.loads[i].size == info.text_end;
    CHECK(data_in_flash);
    CHECK_EQ_U(romfs_elf_text_end_in(&info, 0x08004000, 0x08040000), info.text_end);
    CHECK_EQ_U(romfs_elf_text_end_in(&info, 0x20000000, 0x20010000), 0x20000000);
    romfs_elf_info_free(&info);
}

static void test_firmware_without_romfs(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/plain.elf", dir);
    struct romfs_elf_info info;
    struct romfs_error err = {0};
    CHECK(romfs_elf_read(path, &info, &err) == ROMFS_OK);
    CHECK(!info.part[0].present && !info.part[1].present);
    CHECK(info.has_text && info.text_start == 0x10000000);
    romfs_elf_info_free(&info);
}

static void test_find_symbol(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/fw.elf", dir);
    uint64_t v = 0;
    unsigned long long nmv;
    struct romfs_error err = {0};
    CHECK(nm_value("fw.elf", "table", &nmv));
    CHECK(romfs_elf_find_symbol(path, "table", &v, &err) == ROMFS_OK);
    CHECK_EQ_U(v, nmv);
    /* a Thumb function keeps bit 0 in st_value (nm prints it cleared) */
    CHECK(nm_value("fw.elf", "add", &nmv));
    CHECK(romfs_elf_find_symbol(path, "add", &v, &err) == ROMFS_OK);
    CHECK_EQ_U(v, nmv | 1);
    CHECK(romfs_elf_find_symbol(path, "no_such_symbol", &v, &err) == ROMFS_ERR_NOENT);
    CHECK(strstr(err.msg, "no_such_symbol") != NULL);
}

static void test_bad_inputs(void)
{
    char path[512];
    struct romfs_elf_info info;
    struct romfs_error err = {0};
    snprintf(path, sizeof path, "%s/fw.c", dir);
    CHECK(romfs_elf_read(path, &info, &err) == ROMFS_ERR_CORRUPT);
    CHECK(strstr(err.msg, "not an ELF") != NULL);
    snprintf(path, sizeof path, "%s/missing.elf", dir);
    CHECK(romfs_elf_read(path, &info, &err) == ROMFS_ERR_NOENT);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (system("command -v arm-none-eabi-gcc >/dev/null 2>&1 && command -v arm-none-eabi-nm >/dev/null 2>&1") != 0) {
        printf("SKIP test_elf: arm-none-eabi-gcc not installed (make deps)\n");
        return 0;
    }
    snprintf(dir, sizeof dir, "%s/romfs-elftest.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir) || !build()) {
        printf("FAIL setup: building the test firmware in %s\n", dir);
        return 1;
    }
    RUN(test_romfs_symbols_match_nm);
    RUN(test_text_end_matches_objcopy_binary);
    RUN(test_firmware_without_romfs);
    RUN(test_find_symbol);
    RUN(test_bad_inputs);
    sh("rm -rf '%s'", dir);
    UNIT_EXIT();
}
