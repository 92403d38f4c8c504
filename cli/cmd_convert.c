/* cmd_convert.c: `romfs convert IMAGE --dfu/--uf2/--hex/--bin OUT`: an image placed at its
 * partition's address, in the file formats other flashing tools take. */
#include "cli.h"

#include "out/outfile.h"
#include "transport/dfu.h"

#include <stdlib.h>
#include <string.h>

CLI_COMMAND(convert, "write an image as .dfu, .uf2, Intel HEX or raw .bin at its partition address");

static const char convert_usage[] =
    "usage: romfs convert IMAGE (--dfu OUT.dfu | --uf2 OUT.uf2 | --hex OUT.hex | --bin OUT.bin)...\n"
    "                     (--board BOARD [--partition N] | --address ADDR)\n"
    "                     [--device VID:PID] [--alt N] [--family FAMILY] [--db FILE] [--raw]\n"
    "\n"
    "Places a ROMFS image at the address of a board's ROMFS partition (from boards.json)\n"
    "or at --address, and writes it for another flashing tool. Several outputs may be\n"
    "given at once. Everything is checked before the first output is written, and each\n"
    "output is written atomically (a temporary file renamed into place).\n"
    "\n"
    "  --dfu OUT   DfuSe file (prefix, target, one element at the address, DFU suffix with\n"
    "              CRC) for the board's DFU VID:PID: `dfu-util -a 0 -D OUT`\n"
    "  --uf2 OUT   UF2 blocks at the address with the board's UF2 family id (rp2040,\n"
    "              rp2350, samd21, samd51, nrf52840): copy to the board's UF2 drive\n"
    "  --hex OUT   Intel HEX (extended linear address records): pyocd, J-Link, STM32Cube\n"
    "  --bin OUT   the image bytes unchanged; prints the address to write them at\n"
    "\n"
    "Options:\n"
    "  --board BOARD     take the address, size, DFU id and UF2 family from boards.json\n"
    "  --partition N     which ROMFS partition of the board (default 0)\n"
    "  --address ADDR    place the image here instead (e.g. 0x08020000)\n"
    "  --device VID:PID  DFU id for the .dfu suffix (default: the board's, else 0483:df11)\n"
    "  --alt N           DFU alternate setting recorded in the .dfu target (default: board's)\n"
    "  --family FAMILY   UF2 family: rp2040, rp2350 (= absolute, 0xe48bff57), rp2350-arm-s,\n"
    "                    samd21, samd51, nrf52840, nrf52, or a number such as 0xe48bff56\n"
    "  --db FILE         read this boards.json instead of the built-in one\n"
    "  --raw             accept any bytes, not only a valid ROMFS image\n"
    "\n"
    "Exits 1 when the image does not fit the partition.\n";

struct opts {
    const char *image, *board, *address, *device, *alt, *family, *db, *partition;
    struct romfs_outfile_paths out;
    bool raw;
};

static int parse(int argc, char **argv, struct opts *o, bool *help)
{
    enum { O_RAW = 256, O_DFU, O_UF2, O_HEX, O_BIN, O_BOARD, O_PARTITION, O_ADDRESS, O_DEVICE,
           O_ALT, O_FAMILY, O_DB };
    static const struct option longopts[] = {
        { "raw", no_argument, NULL, O_RAW }, { "dfu", required_argument, NULL, O_DFU },
        { "uf2", required_argument, NULL, O_UF2 }, { "hex", required_argument, NULL, O_HEX },
        { "bin", required_argument, NULL, O_BIN }, { "board", required_argument, NULL, O_BOARD },
        { "partition", required_argument, NULL, O_PARTITION },
        { "address", required_argument, NULL, O_ADDRESS },
        { "device", required_argument, NULL, O_DEVICE }, { "alt", required_argument, NULL, O_ALT },
        { "family", required_argument, NULL, O_FAMILY }, { "db", required_argument, NULL, O_DB },
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
    return EXIT_OK;
}

/* Fill the placement from --board or --address, then apply --device/--alt/--family. */
static int place(const struct opts *o, struct romfs_placement *p)
{
    struct romfs_error err = { 0 };
    if (o->address) {
        uint64_t a;
        if (!cli_option_number("convert", "address", o->address, 0, 0xffffffffull, true, &a))
            return EXIT_USAGE;
        romfs_placement_at(a, p);
    } else {
        uint64_t index = 0;
        if (o->partition && !cli_option_number("convert", "partition", o->partition, 0, 15, false, &index))
            return EXIT_USAGE;
        if (romfs_placement_for_board_name(o->db, o->board, (int)index, p, &err))
            return cli_fail(&err);
    }
    if (o->device && romfs_dfu_parse_id(o->device, &p->vid, &p->pid, &err))
        return cli_usage_error("convert", "--device: %s", err.msg);
    if (o->alt) {
        uint64_t alt;
        if (!cli_option_number("convert", "alt", o->alt, 0, 255, false, &alt))
            return EXIT_USAGE;
        p->alt = (uint8_t)alt;
    }
    if (o->family) {
        if (romfs_uf2_family(o->family, &p->uf2_family, &err))
            return cli_fail(&err);
        p->has_uf2_family = true;
    }
    return EXIT_OK;
}

int cmd_convert(int argc, char **argv)
{
    struct opts o;
    bool help;
    int rc = parse(argc, argv, &o, &help);
    if (rc || help)
        return rc;
    struct romfs_placement p;
    if ((rc = place(&o, &p)))
        return rc;

    struct romfs_error err = { 0 };
    uint8_t *data;
    size_t len;
    if (romfs_read_file(o.image, &data, &len, &err))
        return cli_fail(&err);
    if (!o.raw) {
        struct romfs_image img;
        if (romfs_image_open(&img, data, len, &err)) {
            free(data);
            romfs_error_prefix(&err, "%s is not a ROMFS image (--raw writes any bytes)", o.image);
            return cli_fail(&err);
        }
    }
    rc = romfs_write_outfiles(data, len, &p, &o.out, &err);
    free(data);
    if (rc)
        return cli_fail(&err);
    char hs[48];
    cli_human_size(len, hs, sizeof hs);
    /* with an output on stdout, the summary goes to stderr */
    bool to_stdout = (o.out.dfu && !strcmp(o.out.dfu, "-")) || (o.out.uf2 && !strcmp(o.out.uf2, "-")) ||
                     (o.out.hex && !strcmp(o.out.hex, "-")) || (o.out.bin && !strcmp(o.out.bin, "-"));
    FILE *info = to_stdout ? stderr : stdout;
    if (o.out.dfu)
        fprintf(info, "%s: DfuSe file, %s at 0x%08llx, device %04x:%04x alt %u\n", o.out.dfu, hs,
               (unsigned long long)p.address, p.vid, p.pid, p.alt);
    if (o.out.uf2)
        fprintf(info, "%s: UF2, %s at 0x%08llx, family 0x%08x\n", o.out.uf2, hs,
               (unsigned long long)p.address, (unsigned)p.uf2_family);
    if (o.out.hex)
        fprintf(info, "%s: Intel HEX, %s at 0x%08llx\n", o.out.hex, hs, (unsigned long long)p.address);
    if (o.out.bin)
        fprintf(info, "%s: raw image, %s: write it at address 0x%08llx\n", o.out.bin, hs,
               (unsigned long long)p.address);
    return EXIT_OK;
}
