/* test_dfu_mboot.c: DFU through MicroPython's mboot. PYBD_SF2's ROMFS partition lies in
 * QSPI flash (0x90100000) that only mboot serves over DFU: the board's entry in the
 * built-in boards.json must record mboot's layout, the bootloader choice must pick it (and
 * the system bootloader for internal partitions), and a whole `flash --via dfu` job must
 * write through the DfuSe device model configured as PYBD_SF2's mboot declares itself
 * (one interface, alt 0, the layout string, wTransferSize 2048, bmAttributes 0x0b). With
 * the system bootloader running instead, the job must say that mboot is needed and how to
 * start it. */
#include "unit.h"

#include "dfuse_model.c"
#include "romfs.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* mboot/main.c's F722 internal layout, then PYBD_SF2's MBOOT_SPIFLASH_LAYOUT and
   MBOOT_SPIFLASH2_LAYOUT (ports/stm32/boards/PYBD_SF2/mpconfigboard.h) */
#define PYBD_MBOOT "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg/0x80000000/64*32Kg/0x90000000/64*32Kg"
#define F722_SYSTEM "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,03*128Kg"

static struct romfs_boards db;

static const struct romfs_board *board(const char *name)
{
    if (!db.n) {
        unsetenv("ROMFS_BOARDS");   /* the copy built into the binary */
        struct romfs_error err = { 0 };
        if (romfs_boards_load(NULL, &db, &err) != ROMFS_OK)
            printf("    %s\n", err.msg);
    }
    return romfs_boards_find(&db, name);
}

/* A small valid ROMFS image (packed from a temporary tree), malloc'd. */
static uint8_t *small_image(size_t *len)
{
    char dir[200];
    snprintf(dir, sizeof dir, "%s/romfs-mboot.XXXXXX", romfs_tmpdir());
    if (!mkdtemp(dir))
        return NULL;
    char path[300];
    snprintf(path, sizeof path, "%s/main.py", dir);
    FILE *f = fopen(path, "w");
    fputs("print('hello from QSPI')\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/data.bin", dir);
    f = fopen(path, "w");
    for (int i = 0; i < 70000; i++)
        fputc((i * 7) & 0xff, f);
    fclose(f);
    struct romfs_pack_options opt = { 0 };
    struct romfs_pack_result res;
    uint8_t *img = NULL;
    struct romfs_error err = { 0 };
    if (romfs_pack_dir(dir, NULL, &opt, &res, &img, &err) != ROMFS_OK)
        printf("    %s\n", err.msg);
    *len = (size_t)res.output_size;
    romfs_pack_result_free(&res);
    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    if (system(path) != 0)
        printf("    could not remove %s\n", dir);
    return img;
}

/* The USB side as libusb's backend chooses it: the model answers to its VID:PID, and its
 * one interface (alt 0) is taken when asked for, or when its layout covers the address. */
struct fake_bus {
    struct dfuse_model *model;
    uint16_t vid, pid;
    unsigned opens;
};

static int bus_open(void *ctx, const struct romfs_dfu_match *m, uint64_t address, struct romfs_dfu_usb *out,
                    struct romfs_error *err)
{
    struct fake_bus *bus = ctx;
    bool id = false;
    for (size_t i = 0; i < m->n_ids; i++)
        id = id || (m->vid[i] == bus->vid && m->pid[i] == bus->pid);
    struct romfs_dfuse_layout l;
    bool covers = romfs_dfuse_layout_parse(bus->model->layout, &l, NULL) == ROMFS_OK &&
                  romfs_dfuse_layout_sector(&l, address, NULL, NULL, NULL);
    if (!id || (m->alt >= 0 ? m->alt != 0 : !covers))
        return romfs_set_error(err, ROMFS_ERR_DEVICE, "no DFU device found (model). Start %s",
                               m->bootloader ? m->bootloader : "?");
    bus->opens++;
    *out = model_usb(bus->model);
    snprintf(out->description, sizeof out->description, "DFU device %04x:%04x alt 0", bus->vid, bus->pid);
    return ROMFS_OK;
}

static void pybd_sf2_records_mboot(void)
{
    const struct romfs_board *b = board("PYBD_SF2");
    CHECK(b != NULL);
    CHECK(b->mboot_usb && strcmp(b->mboot_usb, "0483:df11") == 0);
    CHECK(b->mboot_layout && strcmp(b->mboot_layout, PYBD_MBOOT) == 0);
    CHECK(b->mboot_source && strstr(b->mboot_source, "ports/stm32/boards/PYBD_SF2/mpconfigboard.h:226: "
                                                       "MBOOT_SPIFLASH2_LAYOUT"));
    CHECK(strstr(b->mboot_source, "ports/stm32/mboot/main.c:"));
    /* the system bootloader's own layout stays: internal flash only */
    CHECK(b->dfu_layout && strcmp(b->dfu_layout, F722_SYSTEM) == 0);
}

static void choice_is_mboot_for_qspi_and_system_for_internal(void)
{
    const struct romfs_board *b = board("PYBD_SF2");
    CHECK(b != NULL);
    const struct romfs_partition *p = romfs_board_partition(b, 0);
    struct romfs_dfu_boot boot;
    struct romfs_error err = { 0 };
    CHECK(romfs_dfu_boot_choose(b, p->start, p->size, &boot, &err) == ROMFS_OK);
    CHECK(boot.kind == ROMFS_DFU_BOOT_MBOOT);
    CHECK(boot.vid == 0x0483 && boot.pid == 0xdf11 && boot.alt == 0);
    CHECK(boot.only);
    CHECK(strstr(boot.hint, "mboot (0483:df11): run machine.bootloader()"));
    CHECK(strstr(boot.hint, "USR"));
    CHECK(!strstr(boot.hint, "BOOT0"));
    /* internal flash (sector 5, 128 KiB): both reach it; the system bootloader first */
    CHECK(romfs_dfu_boot_choose(b, 0x08020000, 0x20000, &boot, &err) == ROMFS_OK);
    CHECK(boot.kind == ROMFS_DFU_BOOT_SYSTEM);
    CHECK(!boot.only);
    CHECK(strstr(boot.hint, "BOOT0") && strstr(boot.hint, "; or mboot"));
    /* past the QSPI chip mboot maps: neither */
    CHECK(romfs_dfu_boot_choose(b, 0x90200000, 0x8000, &boot, &err) == ROMFS_ERR_INVAL);
    CHECK(strstr(err.msg, "not in the STM32 system bootloader's (\"" F722_SYSTEM "\") nor mboot's"));
    /* identified by the layout a device reports */
    CHECK(romfs_dfu_boot_identify(b, PYBD_MBOOT) == ROMFS_DFU_BOOT_MBOOT);
    CHECK(romfs_dfu_boot_identify(b, F722_SYSTEM) == ROMFS_DFU_BOOT_SYSTEM);
    CHECK(romfs_dfu_boot_identify(b, "@Other /0x0/1*1Kg") == ROMFS_DFU_BOOT_UNKNOWN);
}

static void flash_job_writes_qspi_through_mboot(void)
{
    const struct romfs_board *b = board("PYBD_SF2");
    CHECK(b != NULL);
    struct dfuse_model m;
    CHECK(model_init_layout(&m, b->mboot_layout, 2048, 0x0b));
    model_fill(&m, 0x08008000, 0x10000, 0x33);     /* firmware in internal flash */
    model_fill(&m, 0x90000000, 0x8000, 0x44);      /* firmware's QSPI part (.text_ext) */
    uint8_t fw[0x10000], ext[0x8000];
    memcpy(fw, model_at(&m, 0x08008000), sizeof fw);
    memcpy(ext, model_at(&m, 0x90000000), sizeof ext);
    size_t len = 0;
    uint8_t *img = small_image(&len);
    CHECK(img != NULL && len > 0x10000);
    struct fake_bus bus = { &m, 0x0483, 0xdf11, 0 };
    struct romfs_flash_job job = { .via = ROMFS_VIA_DFU, .board = b, .reset = true };
    job.dfu.alt = -1;
    job.dfu.usb_open = bus_open;
    job.dfu.usb_ctx = &bus;
    struct romfs_flash_job_result res;
    struct romfs_error err = { 0 };
    int rc = romfs_flash_job_run(&job, img, len, &res, &err);
    if (rc)
        printf("    %s\n", err.msg);
    CHECK(rc == ROMFS_OK);
    CHECK(res.write.verified);
    CHECK(res.dfu.bootloader && strcmp(res.dfu.bootloader, "mboot") == 0);
    CHECK(res.confirmation == ROMFS_CONFIRM_LEFT_DFU);
    CHECK_EQ_U(bus.opens, 2);                        /* the write, then leave */
    CHECK_MEM(model_at(&m, 0x90100000), img, len);
    CHECK_MEM(model_at(&m, 0x08008000), fw, sizeof fw);
    CHECK_MEM(model_at(&m, 0x90000000), ext, sizeof ext);
    /* only the 32 KiB pages the image needs were erased, none outside the partition */
    size_t pages = (len + 0x7fff) / 0x8000;
    for (size_t i = 0; i < m.n_sectors; i++) {
        bool in = m.sectors[i].start >= 0x90100000 && m.sectors[i].start < 0x90100000 + pages * 0x8000;
        CHECK_EQ_U(m.sectors[i].erase_count, in ? 1 : 0);
    }
    CHECK_EQ_U(m.early_requests, 0);
    free(img);
    model_free(&m);
}

static void flash_job_with_system_bootloader_says_mboot_is_needed(void)
{
    const struct romfs_board *b = board("PYBD_SF2");
    CHECK(b != NULL);
    struct dfuse_model m;
    CHECK(model_init_layout(&m, F722_SYSTEM, 2048, 0x0b));
    size_t len = 0;
    uint8_t *img = small_image(&len);
    struct fake_bus bus = { &m, 0x0483, 0xdf11, 0 };
    struct romfs_flash_job job = { .via = ROMFS_VIA_DFU, .board = b };
    job.dfu.usb_open = bus_open;
    job.dfu.usb_ctx = &bus;
    /* asked for alt 0: the device opens, and its layout does not hold the partition */
    job.dfu.alt = 0;
    struct romfs_flash_job_result res;
    struct romfs_error err = { 0 };
    CHECK(romfs_flash_job_run(&job, img, len, &res, &err) == ROMFS_ERR_INVAL);
    CHECK(strstr(err.msg, "is not inside the device's DfuSe layout"));
    CHECK(strstr(err.msg, "(the device is the STM32 system bootloader)"));
    CHECK(strstr(err.msg, "The partition is written by mboot (0483:df11): run machine.bootloader()"));
    /* any alt: the device does not cover the partition, so none is found; the message
       says which bootloader to start */
    job.dfu.alt = -1;
    CHECK(romfs_flash_job_run(&job, img, len, &res, &err) == ROMFS_ERR_DEVICE);
    CHECK(strstr(err.msg, "Start mboot (0483:df11): run machine.bootloader()"));
    for (size_t i = 0; i < m.n_sectors; i++)
        CHECK_EQ_U(m.sectors[i].erase_count, 0);
    free(img);
    model_free(&m);
}

int main(void)
{
    RUN(pybd_sf2_records_mboot);
    RUN(choice_is_mboot_for_qspi_and_system_for_internal);
    RUN(flash_job_writes_qspi_through_mboot);
    RUN(flash_job_with_system_bootloader_says_mboot_is_needed);
    romfs_boards_free(&db);
    UNIT_EXIT();
}
