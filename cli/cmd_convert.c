/* cmd_convert.c: `romfs convert IMAGE --dfu/--uf2/--hex/--bin OUT`: an image placed at its
 * partition's address, in the file formats other flashing tools take. */
#include "cli.h"

#include "flash/dfu_target.h"
#include "out/outfile.h"
#include "out/product.h"
#include "transport/dfu.h"

#include <stdlib.h>
#include <string.h>

CLI_COMMAND(convert, "write an image as .dfu, .uf2, Intel HEX or raw .bin at its partition address");

static const char convert_usage[] =
    "usage: romfs convert IMAGE (--dfu OUT.dfu | --uf2 OUT.uf2 | --hex OUT.hex | --bin OUT.bin)...\n"
    "                     (--board BOARD [--partition N] | --address ADDR)\n"
    "                     [--firmware FW [--firmware-address ADDR]]\n"
    "                     [--device VID:PID] [--alt N] [--family FAMILY] [--db FILE] [--raw]\n"
    "\n"
    "Places a ROMFS image at the address of a board's ROMFS partition (from boards.json)\n"
    "or at --address, and writes it for another flashing tool. Several outputs may be\n"
    "given at once. Everything is checked before the first output is written, and each\n"
    "output is written atomically (a temporary file renamed into place).\n"
    "With --firmware, the file holds the board's firmware too: one file for the whole\n"
    "product. Firmware on the ROMFS partition, on another partition, bootloader or\n"
    "filesystem of the board's flash map, or outside its flash, is refused (both ranges\n"
    "named) and nothing is written.\n"
    "\n"
    "  --dfu OUT   DfuSe file (prefix, target, one element per piece, DFU suffix with CRC)\n"
    "              for the VID:PID and alternate setting of the board's DFU bootloader that\n"
    "              reaches every piece (the STM32 system bootloader, or mboot for external\n"
    "              flash such as PYBD's QSPI, as `flash --via dfu` chooses): `dfu-util -a 0 -D OUT`\n"
    "  --uf2 OUT   UF2 blocks at the address with the board's UF2 family id (rp2040,\n"
    "              rp2350, samd21, samd51, nrf52840): copy to the board's UF2 drive\n"
    "  --hex OUT   Intel HEX (extended linear address records): pyocd, J-Link, STM32Cube\n"
    "  --bin OUT   the image bytes unchanged; prints the address to write them at\n"
    "\n"
    "Options:\n"
    "  --board BOARD     take the address, size, DFU id and UF2 family from boards.json\n"
    "  --partition N     which ROMFS partition of the board (default 0)\n"
    "  --address ADDR    place the image here instead (e.g. 0x08020000)\n"
    "  --firmware FW     merge this firmware: a raw .bin (placed at the board's firmware\n"
    "                    start), or .hex, .uf2, .dfu or .elf (at the addresses they carry)\n"
    "  --firmware-address ADDR  place a raw .bin firmware here instead\n"
    "  --device VID:PID  DFU id for the .dfu suffix (default: the board's bootloader's,\n"
    "                    else 0483:df11)\n"
    "  --alt N           DFU alternate setting recorded in the .dfu target (default: board's)\n"
    "  --family FAMILY   UF2 family: rp2040, rp2350 (= absolute, 0xe48bff57), rp2350-arm-s,\n"
    "                    samd21, samd51, nrf52840, nrf52, or a number such as 0xe48bff56\n"
    "                    (default: a UF2 firmware's own family, else the board's)\n"
    "  --db FILE         read this boards.json instead of the built-in one\n"
    "  --raw             accept any bytes, not only a valid ROMFS image\n"
    "\n"
    "Examples:\n"
    "  romfs convert app.romfs --board PYBD_SF2 --dfu app.dfu\n"
    "  romfs convert app.romfs --board PYBD_SF2 --firmware build/firmware.bin --dfu product.dfu\n"
    "  romfs convert app.romfs --board ADAFRUIT_ITSYBITSY_M4_EXPRESS --firmware build/firmware.elf --uf2 product.uf2\n"
    "  romfs convert app.romfs --board PYBD_SF2 --firmware build/firmware.bin --firmware-address 0x08008000 --hex product.hex\n"
    "\n"
    "Exits 1 when the image does not fit the partition, 2 on a refused placement.\n";

struct opts {
    const char *image, *board, *address, *device, *alt, *family, *db, *partition, *firmware, *firmware_address;
    struct romfs_outfile_paths out;
    bool raw;
};

static int parse(int argc, char **argv, struct opts *o, bool *help)
{
    enum { O_RAW = 256, O_DFU, O_UF2, O_HEX, O_BIN, O_BOARD, O_PARTITION, O_ADDRESS, O_DEVICE,
           O_ALT, O_FAMILY, O_DB, O_FIRMWARE, O_FIRMWARE_ADDRESS };
    static const struct option longopts[] = {
        { "raw", no_argument, NULL, O_RAW }, { "dfu", required_argument, NULL, O_DFU },
        { "uf2", required_argument, NULL, O_UF2 }, { "hex", required_argument, NULL, O_HEX },
        { "bin", required_argument, NULL, O_BIN }, { "board", required_argument, NULL, O_BOARD },
        { "partition", required_argument, NULL, O_PARTITION },
        { "address", required_argument, NULL, O_ADDRESS },
        { "device", required_argument, NULL, O_DEVICE }, { "alt", required_argument, NULL, O_ALT },
        { "family", required_argument, NULL, O_FAMILY }, { "db", required_argument, NULL, O_DB },
        { "firmware", required_argument, NULL, O_FIRMWARE },
        { "firmware-address", required_argument, NULL, O_FIRMWARE_ADDRESS },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    memset(o, 0, sizeof *o);
    *help = false;
    struct cli_options cli = { .command = "convert", .shortopts = "h", .longopts = longopts,
                               .help_text = convert_usage, .argc = argc, .argv = argv };
    int c;
    while ((c = cli_next_option(&cli)) > 0) {
        switch (c) {
        case O_RAW: o->raw = true; break;
        case O_DFU: o->out.dfu = optarg; break;
        case O_UF2: o->out.uf2 = optarg; break;
        case O_HEX: o->out.hex = optarg; break;
        case O_BIN: o->out.bin = optarg; break;
        case O_BOARD: o->board = optarg; break;
        case O_PARTITION: o->partition = optarg; break;
        case O_ADDRESS: o->address = optarg; break;
        case O_DEVICE: o->device = optarg; break;
        case O_ALT: o->alt = optarg; break;
        case O_FAMILY: o->family = optarg; break;
        case O_DB: o->db = optarg; break;
        case O_FIRMWARE: o->firmware = optarg; break;
        case O_FIRMWARE_ADDRESS: o->firmware_address = optarg; break;
        }
    }
    if (c == CLI_OPTIONS_EXIT) {
        *help = cli.exit_code == EXIT_OK;
        return cli.exit_code;
    }
    if (argc - optind > 1)
        return cli_usage_error("convert", "more than one IMAGE ('%s', '%s')", argv[optind], argv[optind + 1]);
    o->image = optind < argc ? argv[optind] : NULL;
    if (!o->image)
        return cli_usage_error("convert", "no IMAGE given");
    if (!o->out.dfu && !o->out.uf2 && !o->out.hex && !o->out.bin)
        return cli_usage_error("convert", "no output: give --dfu, --uf2, --hex or --bin");
    if (!o->board == !o->address)
        return cli_usage_error("convert", "give exactly one of --board BOARD or --address ADDR");
    if (o->partition && !o->board)
        return cli_usage_error("convert", "--partition needs --board");
    if (o->firmware && !o->board)
        return cli_usage_error("convert", "--firmware needs --board (its flash map says where each piece goes)");
    if (o->firmware_address && !o->firmware)
        return cli_usage_error("convert", "--firmware-address needs --firmware");
    if (o->firmware && o->out.bin)
        return cli_usage_error("convert", "--bin cannot hold firmware and ROMFS at separate addresses: "
                               "give --hex, --uf2 or --dfu with --firmware");
    return EXIT_OK;
}

/* Fill the placement from --board (b; *index: --partition) or --address, then apply --family. */
static int place(const struct opts *o, const struct romfs_board *b, struct romfs_placement *p, int *index)
{
    struct romfs_error err = { 0 };
    if (o->address) {
        uint64_t a;
        if (!cli_option_number("convert", "address", o->address, 0, 0xffffffffull, true, &a))
            return EXIT_USAGE;
        romfs_placement_at(a, p);
    } else {
        uint64_t n = 0;
        if (o->partition && !cli_option_number("convert", "partition", o->partition, 0, 15, false, &n))
            return EXIT_USAGE;
        *index = (int)n;
        if (romfs_placement_from_board(b, *index, p, &err))
            return cli_fail(&err);
    }
    if (o->family) {
        if (romfs_uf2_family(o->family, &p->uf2_family, &err))
            return cli_fail(&err);
        p->has_uf2_family = p->uf2_family_given = true;
    }
    return EXIT_OK;
}

/* The .dfu's VID:PID and alt: --device/--alt, else those of the board's DFU bootloader
 * that takes every piece (as `flash --via dfu` chooses), into p and *boot. */
static int dfu_target(const struct opts *o, const struct romfs_board *b, const struct romfs_product *prod,
                      struct romfs_placement *p, struct romfs_dfu_boot *boot)
{
    struct romfs_error err = { 0 };
    memset(boot, 0, sizeof *boot);
    if (b && !o->device && !o->alt) {
        struct romfs_dfu_range r[64];
        size_t n = 0;
        for (size_t i = 0; prod && i < prod->segs.n && n + 1 < 64; i++)
            if (prod->segs.v[i].address != prod->romfs_address)
                r[n++] = (struct romfs_dfu_range){ prod->segs.v[i].address, prod->segs.v[i].size, false };
        r[n++] = (struct romfs_dfu_range){ p->address, p->size ? p->size : 1, p->size != 0 };
        if (romfs_dfu_boot_choose_ranges(b, r, n, boot, &err)) {
            romfs_error_prefix(&err, "%s", o->out.dfu);
            return cli_fail(&err);
        }
        p->vid = boot->vid;
        p->pid = boot->pid;
        p->alt = (uint8_t)boot->alt;
    }
    if (o->device && romfs_dfu_parse_id(o->device, &p->vid, &p->pid, &err))
        return cli_usage_error("convert", "--device: %s", err.msg);
    if (o->alt) {
        uint64_t alt;
        if (!cli_option_number("convert", "alt", o->alt, 0, 255, false, &alt))
            return EXIT_USAGE;
        p->alt = (uint8_t)alt;
    }
    return EXIT_OK;
}

/* Read IMAGE (a valid ROMFS image unless --raw). */
static int read_image(const struct opts *o, uint8_t **data, size_t *len)
{
    struct romfs_error err = { 0 };
    if (romfs_read_file(o->image, data, len, &err))
        return cli_fail(&err);
    struct romfs_image img;
    if (!o->raw && romfs_image_open(&img, *data, *len, &err)) {
        free(*data);
        *data = NULL;
        romfs_error_prefix(&err, "%s is not a ROMFS image (--raw writes any bytes)", o->image);
        return cli_fail(&err);
    }
    return EXIT_OK;
}

static void summary(const struct opts *o, const struct romfs_placement *p, const struct romfs_product *prod,
                    const struct romfs_dfu_boot *boot, size_t len)
{
    char hs[48], fs[48], what[256] = "";
    cli_human_size(len, hs, sizeof hs);
    if (prod) {
        cli_human_size(prod->fw_bytes, fs, sizeof fs);
        snprintf(what, sizeof what, "firmware %s (%s, %zu piece%s, 0x%08llx..0x%08llx) + ROMFS ", fs,
                 romfs_fw_format_name(prod->fw_format), prod->fw_segments, prod->fw_segments == 1 ? "" : "s",
                 (unsigned long long)prod->fw_lo, (unsigned long long)prod->fw_hi);
    }
    /* with an output on stdout, the summary goes to stderr */
    bool to_stdout = (o->out.dfu && !strcmp(o->out.dfu, "-")) || (o->out.uf2 && !strcmp(o->out.uf2, "-")) ||
                     (o->out.hex && !strcmp(o->out.hex, "-")) || (o->out.bin && !strcmp(o->out.bin, "-"));
    FILE *info = to_stdout ? stderr : stdout;
    if (o->out.dfu) {
        fprintf(info, "%s: DfuSe file, %s%s at 0x%08llx, device %04x:%04x alt %u\n", o->out.dfu, what, hs,
                (unsigned long long)p->address, p->vid, p->pid, p->alt);
        if (boot->hint[0])
            fprintf(info, "  for %s\n", boot->hint);
    }
    if (o->out.uf2) {
        uint32_t family = p->uf2_family;
        if (prod)
            romfs_product_uf2_family(prod, p, &family);
        fprintf(info, "%s: UF2, %s%s at 0x%08llx, family 0x%08x\n", o->out.uf2, what, hs,
                (unsigned long long)p->address, (unsigned)family);
    }
    if (o->out.hex)
        fprintf(info, "%s: Intel HEX, %s%s at 0x%08llx\n", o->out.hex, what, hs, (unsigned long long)p->address);
    if (o->out.bin)
        fprintf(info, "%s: raw image, %s: write it at address 0x%08llx\n", o->out.bin, hs,
                (unsigned long long)p->address);
}

int cmd_convert(int argc, char **argv)
{
    struct opts o;
    bool help;
    int rc = parse(argc, argv, &o, &help);
    if (rc || help)
        return rc;
    struct romfs_error err = { 0 };
    struct romfs_boards db = { 0 };
    const struct romfs_board *b = NULL;
    if (o.board) {
        if (romfs_boards_load(o.db, &db, &err))
            return cli_fail(&err);
        if (!(b = romfs_boards_lookup(&db, o.board, &err))) {
            romfs_boards_free(&db);
            return cli_fail(&err);
        }
    }
    struct romfs_placement p;
    uint8_t *data = NULL;
    size_t len = 0;
    struct romfs_product prod = { 0 };
    bool with_fw = o.firmware != NULL;
    struct romfs_dfu_boot boot;
    memset(&boot, 0, sizeof boot);
    int index = 0;
    uint64_t fw_address = 0;
    rc = place(&o, b, &p, &index);
    if (rc == EXIT_OK && o.firmware_address &&
        !cli_option_number("convert", "firmware-address", o.firmware_address, 0, 0xffffffffull, true, &fw_address))
        rc = EXIT_USAGE;
    if (rc == EXIT_OK)
        rc = read_image(&o, &data, &len);
    if (rc == EXIT_OK && with_fw) {
        struct romfs_product_options po = {
            .board = b, .partition = index, .image = data, .image_len = len, .firmware = o.firmware,
            .has_firmware_address = o.firmware_address != NULL, .firmware_address = fw_address,
        };
        if (romfs_product_build(&po, &prod, &err))
            rc = cli_fail(&err);
    }
    if (rc == EXIT_OK && o.out.dfu)
        rc = dfu_target(&o, b, with_fw ? &prod : NULL, &p, &boot);
    if (rc == EXIT_OK) {
        int wr = with_fw ? romfs_write_product_outfiles(&prod, &p, &o.out, &err)
                         : romfs_write_outfiles(data, len, &p, &o.out, &err);
        rc = wr ? cli_fail(&err) : EXIT_OK;
    }
    if (rc == EXIT_OK)
        summary(&o, &p, with_fw ? &prod : NULL, &boot, len);
    romfs_product_free(&prod);
    free(data);
    romfs_boards_free(&db);
    return rc;
}
