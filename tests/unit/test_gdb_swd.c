/* test_gdb_swd.c: the SWD flash target (flash/swd.h) driven by romfs_flash_image against
 * the GDB-server model: vFlash on flash, X/M on RAM, memory-map checks, error replies,
 * reset/detach.
 *
 * Also a server for CLI tests: `test_gdb_swd --serve [--no-map] [--no-x] [--packet-size N]
 * [--dump FILE]` listens on 127.0.0.1, prints "PORT n", serves one client and at the end
 * writes the model's flash (0x08000000, 256 KiB) to FILE and prints the model's counters. */
#include "unit.h"
#include "gdbserver_model.h"
#include "flash/swd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

static struct gdbmodel *model;

static struct romfs_gdb *connect_model(const struct gdbmodel_config *cfg)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return NULL;
    model = gdbmodel_start(cfg, sv[1]);
    struct romfs_gdb *g;
    struct romfs_error err = { 0 };
    if (romfs_gdb_open_fd(sv[0], "model", 2000, &g, &err) != ROMFS_OK ||
        romfs_gdb_handshake(g, &err) != ROMFS_OK) {
        printf("    %s\n", err.msg);
        return NULL;
    }
    return g;
}

static void make_image(uint8_t *img, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        img[i] = (uint8_t)(i * 29 + seed + (i >> 9));
    memcpy(img, "\xd2\xcd\x31", 3);
}

static struct romfs_swd_options flash_options(void)
{
    struct romfs_swd_options o = { 0 };
    o.address = 0x08020000;
    o.size = 0x20000;
    o.erase_block = 0;
    return o;
}

static void test_flash_through_vflash(void)
{
    struct gdbmodel_config cfg;
    gdbmodel_default_config(&cfg);
    cfg.packet_size = 0x3fff;
    struct romfs_gdb *g = connect_model(&cfg);
    CHECK(g);
    struct romfs_swd_options o = flash_options();
    struct romfs_target t;
    struct romfs_swd_info info;
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_swd_target_open_gdb(g, &o, &t, &info, &err), ROMFS_OK);
    CHECK(info.flash && info.memory_map);
    CHECK_EQ_U(info.erase_size, 16 * 1024);
    static uint8_t img[50000];
    make_image(img, sizeof img, 5);
    struct romfs_flash_report rep;
    int rc = romfs_flash_image(&t, img, sizeof img, NULL, &rep, &err);
    if (rc)
        printf("    %s\n", err.msg);
    CHECK_EQ_U(rc, ROMFS_OK);
    CHECK(rep.verified);
    CHECK_EQ_U(rep.blocks_written, 4);
    /* the model's flash itself (not a read through the client) holds the image */
    CHECK_MEM(model->flash + 0x20000, img, sizeof img);
    for (size_t i = sizeof img; i < 4 * 16384; i++)
        CHECK_EQ_U(model->flash[0x20000 + i], 0xff);
    CHECK_EQ_U(model->flash[0x1ffff], (uint8_t)(0x1ffff * 7 + 3));  /* neighbour untouched */
    CHECK_EQ_U(model->unerased_writes, 0);
    CHECK(model->flash_dones >= 1);
    bool checked;
    CHECK_EQ_U(romfs_swd_target_crc_check(&t, img, sizeof img, &checked, &err), ROMFS_OK);
    CHECK(checked);
    /* a second run writes nothing */
    unsigned erases = model->erases;
    CHECK_EQ_U(romfs_flash_image(&t, img, sizeof img, NULL, &rep, &err), ROMFS_OK);
    CHECK_EQ_U(rep.blocks_written, 0);
    CHECK_EQ_U(model->erases, erases);
    /* one changed block: only it is rewritten (plus the header block, written last) */
    img[20000] ^= 0x55;
    CHECK_EQ_U(romfs_flash_image(&t, img, sizeof img, NULL, &rep, &err), ROMFS_OK);
    CHECK(rep.blocks_written >= 1 && rep.blocks_written <= 2);
    CHECK_MEM(model->flash + 0x20000, img, sizeof img);
    CHECK_EQ_U(romfs_swd_target_finish(&t, false, NULL, &err), ROMFS_OK);
    CHECK(model->detached && model->running);
    CHECK_EQ_U(model->resets, 0);
    t.close(t.ctx);
    gdbmodel_stop(model);
}

static void test_ram_through_m_like_qemu(void)
{
    struct gdbmodel_config cfg;
    gdbmodel_default_config(&cfg);
    cfg.memory_map = false;
    cfg.binary_write = false;
    cfg.qcrc = false;
    struct romfs_gdb *g = connect_model(&cfg);
    CHECK(g);
    struct romfs_swd_options o = { .address = 0x20004000, .size = 0x8000 };
    struct romfs_target t;
    struct romfs_swd_info info;
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_swd_target_open_gdb(g, &o, &t, &info, &err), ROMFS_OK);
    CHECK(!info.flash && !info.memory_map);
    static uint8_t img[9000];
    make_image(img, sizeof img, 9);
    struct romfs_flash_report rep;
    CHECK_EQ_U(romfs_flash_image(&t, img, sizeof img, NULL, &rep, &err), ROMFS_OK);
    CHECK(rep.verified);
    CHECK_MEM(model->ram + 0x4000, img, sizeof img);
    CHECK_EQ_U(model->x_packets, 0);
    CHECK(model->m_write_packets > 0);
    CHECK_EQ_U(model->dropped_frames, 0);
    bool checked = true;
    CHECK_EQ_U(romfs_swd_target_crc_check(&t, img, sizeof img, &checked, &err), ROMFS_OK);
    CHECK(!checked);  /* no qCRC: not verified that way, not an error */
    CHECK_EQ_U(romfs_swd_target_finish(&t, true, NULL, &err), ROMFS_OK);
    CHECK_EQ_U(model->resets, 1);
    CHECK(model->detached);
    t.close(t.ctx);
    gdbmodel_stop(model);
}

static void test_memory_map_disagreements(void)
{
    struct gdbmodel_config cfg;
    gdbmodel_default_config(&cfg);
    struct romfs_target t;
    struct romfs_error err = { 0 };
    struct {
        uint64_t address, size;
        uint32_t erase_block;
        const char *expect;
    } cases[] = {
        { 0x30000000, 0x4000, 0, "not in" },
        { 0x08030000, 0x20000, 0, "runs past" },             /* ends beyond the flash */
        { 0x08002000, 0x8000, 0, "not aligned" },            /* 16 KiB blocks */
        { 0x08002000, 0x8000, 4096, "the stricter of" },     /* 4 KiB in boards.json */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct romfs_gdb *g = connect_model(&cfg);
        CHECK(g);
        struct romfs_swd_options o = { .address = cases[i].address, .size = cases[i].size,
                                       .erase_block = cases[i].erase_block };
        int rc = romfs_swd_target_open_gdb(g, &o, &t, NULL, &err);
        gdbmodel_stop(model);
        CHECK_EQ_U(rc, ROMFS_ERR_MISMATCH);
        if (!strstr(err.msg, cases[i].expect))
            printf("    case %zu: %s\n", i, err.msg);
        CHECK(strstr(err.msg, cases[i].expect));
        CHECK(strstr(err.msg, "model"));
    }
    /* a smaller board erase block: the server's (the stricter) is used, and reported as
       the device's for the flash job */
    struct romfs_gdb *g = connect_model(&cfg);
    CHECK(g);
    struct romfs_swd_options o4 = { .address = 0x08020000, .size = 0x20000, .erase_block = 4096 };
    struct romfs_swd_info info4;
    CHECK_EQ_U(romfs_swd_target_open_gdb(g, &o4, &t, &info4, &err), ROMFS_OK);
    CHECK_EQ_U(info4.erase_size, 0x4000);
    CHECK_EQ_U(t.erase_size, 0x4000);
    CHECK_EQ_U(t.device_erase_size, 0x4000);
    CHECK(t.device_erase_source && strstr(t.device_erase_source, "memory map"));
    t.close(t.ctx);
    gdbmodel_stop(model);
    /* a larger board erase block that is a multiple of the server's is used as is */
    g = connect_model(&cfg);
    CHECK(g);
    struct romfs_swd_options o = { .address = 0x08020000, .size = 0x20000, .erase_block = 0x8000 };
    struct romfs_swd_info info;
    CHECK_EQ_U(romfs_swd_target_open_gdb(g, &o, &t, &info, &err), ROMFS_OK);
    CHECK_EQ_U(info.erase_size, 0x8000);
    t.close(t.ctx);  /* closing without finish detaches */
    gdbmodel_stop(model);
}

static void test_error_reply_during_write(void)
{
    struct gdbmodel_config cfg;
    gdbmodel_default_config(&cfg);
    cfg.packet_size = 2048;
    cfg.fail_prefix = "vFlashWrite";
    cfg.fail_nth = 5;
    cfg.fail_reply = "E.flash write failed at 0x08024000";
    struct romfs_gdb *g = connect_model(&cfg);
    CHECK(g);
    struct romfs_swd_options o = flash_options();
    struct romfs_target t;
    struct romfs_error err = { 0 };
    CHECK_EQ_U(romfs_swd_target_open_gdb(g, &o, &t, NULL, &err), ROMFS_OK);
    static uint8_t img[60000];
    make_image(img, sizeof img, 1);
    struct romfs_flash_report rep;
    int rc = romfs_flash_image(&t, img, sizeof img, NULL, &rep, &err);
    CHECK_EQ_U(rc, ROMFS_ERR_DEVICE);
    CHECK(strstr(err.msg, "vFlashWrite"));
    CHECK(strstr(err.msg, "flash write failed at 0x08024000"));
    /* the torn write left no valid header: block 0 was erased first */
    CHECK_EQ_U(model->flash[0x20000], 0xff);
    t.close(t.ctx);
    CHECK(model->detached);  /* the target is left running even after a failure */
    gdbmodel_stop(model);
}

static int serve(int argc, char **argv)
{
    struct gdbmodel_config cfg;
    gdbmodel_default_config(&cfg);
    const char *dump = NULL;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--no-map") == 0)
            cfg.memory_map = false;
        else if (strcmp(argv[i], "--no-x") == 0)
            cfg.binary_write = false;
        else if (strcmp(argv[i], "--packet-size") == 0 && i + 1 < argc)
            cfg.packet_size = strtoul(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "--fail") == 0 && i + 3 < argc) {
            cfg.fail_prefix = argv[++i];
            cfg.fail_nth = (unsigned)strtoul(argv[++i], NULL, 0);
            cfg.fail_reply = argv[++i];
        } else if (strcmp(argv[i], "--dump") == 0 && i + 1 < argc)
            dump = argv[++i];
    }
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 1) ||
        getsockname(s, (struct sockaddr *)&a, &al))
        return 1;
    alarm(30);  /* never outlive a test that did not connect */
    printf("PORT %u\n", ntohs(a.sin_port));
    fflush(stdout);
    int c = accept(s, NULL, NULL);
    close(s);
    if (c < 0)
        return 1;
    struct gdbmodel *m = gdbmodel_start(&cfg, c);
    pthread_join(m->thread, NULL);
    printf("erases %u flash_writes %u flash_dones %u x %u m_writes %u resets %u detached %d "
           "dropped %u largest_frame %zu unerased %u\n", m->erases, m->flash_writes,
           m->flash_dones, m->x_packets, m->m_write_packets, m->resets, m->detached,
           m->dropped_frames, m->largest_frame, m->unerased_writes);
    if (dump) {
        FILE *f = fopen(dump, "wb");
        if (!f || fwrite(m->flash, 1, cfg.flash_size, f) != cfg.flash_size || fclose(f))
            return 1;
    }
    m->thread = pthread_self();  /* already joined */
    close(m->fd);
    free(m->ram);
    free(m->flash);
    free(m->pending);
    free(m);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--serve") == 0)
        return serve(argc, argv);
    RUN(test_flash_through_vflash);
    RUN(test_ram_through_m_like_qemu);
    RUN(test_memory_map_disagreements);
    RUN(test_error_reply_during_write);
    UNIT_EXIT();
}
