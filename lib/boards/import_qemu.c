/* boards/import_qemu.c: the qemu port's boards (MPS2, Sabrelite, virt RISC-V). */
#include "boards/import_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Partitions are make variables turned into C defines (Makefile: MICROPY_HW_ROMFS_PARTn_START/SIZE),
   in emulated memory that -device loader fills; no flash to erase. */
int imp_port_qemu(struct importer *imp)
{
    char **boards;
    size_t n;
    int rc = imp_list_boards(imp, "qemu", "mpconfigboard.mk", &boards, &n);
    for (size_t i = 0; !rc && i < n; i++) {
        struct board_ctx c;
        if ((rc = imp_ctx_read(imp, &c, "qemu", boards[i])))
            break;
        /* every board, with or without ROMFS partitions */
        struct romfs_board *b = imp_new_board(imp, "qemu", boards[i]);
        if (!b)
            rc = imp->err->code;
        char *ld = rc ? NULL : imp_mk_get(&c.vars, "LDSCRIPT");
        if (!rc) {
            b->mcu = imp_mk_get(&c.vars, "QEMU_MACHINE");
            if (b->mcu && !*b->mcu) {
                free(b->mcu);
                b->mcu = NULL;
            }
            if (ld && *ld)
                b->linker_scripts = imp_printf("ports/qemu/%s", ld);
        }
        free(ld);
        for (int idx = 0; !rc && idx < 2; idx++) {
            char sv[48], zv[48];
            snprintf(sv, sizeof sv, "MICROPY_HW_ROMFS_PART%d_START", idx);
            snprintf(zv, sizeof zv, "MICROPY_HW_ROMFS_PART%d_SIZE", idx);
            char *s = imp_mk_get(&c.vars, sv), *z = imp_mk_get(&c.vars, zv);
            uint64_t start, size;
            if (romfs_mk_number(s, &start) && romfs_mk_number(z, &size) && size) {
                char *src = imp_printf("ports/qemu/boards/%s/mpconfigboard.mk: %s, %s", boards[i], sv, zv);
                if (!b || !src || !imp_add_partition(imp, b, idx, start, size, 4096, 4, true, "ram", NULL, src))
                    rc = imp->err->code ? imp->err->code : romfs_set_error(imp->err, ROMFS_ERR_NOMEM, "out of memory");
                free(src);
            }
            free(s);
            free(z);
        }
        /* vfs_rom_ioctl.c: read-only memoryviews of emulated memory */
        if (!rc && b->n_partitions &&
            !imp_map_device(imp, b, "ram", b->partitions[0].start, 0, 4096, 4, true,
                            "emulated memory that qemu's -device loader fills (ports/qemu/Makefile)"))
            rc = imp->err->code;
        if (!rc)
            rc = imp_map_finish(imp, b, "memoryview");
        imp_ctx_free(&c);
    }
    imp_free_list(boards, n);
    return rc;
}
