/* cmd_convert.c: `romfs convert IMAGE --dfu/--uf2/--hex/--bin OUT`: an image placed at its
 * partition's address, in the file formats other flashing tools take. */
#include "cli.h"

#include "out/outfile.h"

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
    "Exit status: 0 written, 1 the image does not fit the partition, 2 bad usage or input.\n";

struct opts {
    const char *image, *board, *address, *device, *alt, *family, *db, *partition;
    struct romfs_outfile_paths out;
    bool raw;
};

static int parse(int argc, char **argv, struct opts *o, bool *help)
{
    memset(o, 0, sizeof *o);
    *help = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            *help = true;
            return EXIT_OK;
        } else if (strcmp(a, "--raw") == 0) {
            o->raw = true;
            continue;
        } else if (strcmp(a, "--dfu") == 0) {
            slot = &o->out.dfu;
        } else if (strcmp(a, "--uf2") == 0) {
            slot = &o->out.uf2;
        } else if (strcmp(a, "--hex") == 0) {
            slot = &o->out.hex;
        } else if (strcmp(a, "--bin") == 0) {
            slot = &o->out.bin;
        } else if (strcmp(a, "--board") == 0) {
            slot = &o->board;
        } else if (strcmp(a, "--partition") == 0) {
            slot = &o->partition;
        } else if (strcmp(a, "--address") == 0) {
            slot = &o->address;
        } else if (strcmp(a, "--device") == 0) {
            slot = &o->device;
        } else if (strcmp(a, "--alt") == 0) {
            slot = &o->alt;
        } else if (strcmp(a, "--family") == 0) {
            slot = &o->family;
        } else if (strcmp(a, "--db") == 0) {
            slot = &o->db;
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error("convert", "unknown option '%s'", a);
        } else {
            if (o->image)
                return cli_usage_error("convert", "more than one IMAGE ('%s', '%s')", o->image, a);
            o->image = a;
            continue;
        }
        if (i + 1 >= argc)
            return cli_usage_error("convert", "option '%s' needs a value", a);
        *slot = argv[++i];
    }
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
        if (!cli_parse_size(o->address, &a) || a > 0xffffffffull)
            return cli_usage_error("convert", "bad --address '%s'", o->address);
        romfs_placement_at(a, p);
    } else {
        uint64_t index = 0;
        if (o->partition && (!cli_parse_size(o->partition, &index) || index > 15))
            return cli_usage_error("convert", "bad --partition '%s'", o->partition);
        if (romfs_placement_for_board_name(o->db, o->board, (int)index, p, &err))
            return cli_fail(&err);
    }
    if (o->device) {
        struct romfs_error e2 = { 0 };
        unsigned v, d;
        char extra;
        if (sscanf(o->device, "%x:%x%c", &v, &d, &extra) != 2 || v > 0xffff || d > 0xffff) {
            romfs_set_error(&e2, ROMFS_ERR_INVAL, "bad --device '%s': expected VID:PID in hex",
                            o->device);
            return cli_fail(&e2);
        }
        p->vid = (uint16_t)v;
        p->pid = (uint16_t)d;
    }
    if (o->alt) {
        uint64_t alt;
        if (!cli_parse_size(o->alt, &alt) || alt > 255)
            return cli_usage_error("convert", "bad --alt '%s'", o->alt);
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
    if (help) {
        fputs(convert_usage, stdout);
        return EXIT_OK;
    }
    if (rc)
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
