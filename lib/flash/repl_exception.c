/* repl_exception.c: an exception the device raised becomes one message.
 *
 * The raw REPL hands back the traceback of a program that raised (transport/rawrepl.h);
 * the REPL target notes which request it was (erase, write, hash, read, finish, open)
 * and at which partition offset, the flash job adds what it knows (whether anything was
 * erased, the board, the units), and romfs_device_exception_explain() turns it into one
 * line: what failed, what the device said (the traceback's last line, escaped) and what
 * to do. The whole traceback stays in the record, for a verbose report. */
#include "flash/repl_internal.h"

#include <stdio.h>
#include <string.h>

bool romfs_repl_note_exception(struct romfs_repl_session *ses, const char *op, bool has_offset,
                               uint64_t offset)
{
    size_t len = 0;
    const char *tb = ses ? romfs_repl_last_exception(ses->repl, &len) : NULL;
    if (!tb)
        return false;
    struct romfs_device_exception *x = &ses->exception;
    memset(x, 0, sizeof *x);
    snprintf(x->op, sizeof x->op, "%s", op);
    x->has_offset = has_offset;
    x->offset = offset;
    romfs_repl_exception_line(ses->repl, x->said, sizeof x->said);
    if (len >= sizeof x->traceback)
        len = sizeof x->traceback - 1;
    memcpy(x->traceback, tb, len);
    x->traceback[len] = 0;
    return true;
}

const struct romfs_device_exception *romfs_repl_session_exception(const struct romfs_repl_session *ses)
{
    return ses && ses->exception.op[0] ? &ses->exception : NULL;
}

/* "erasing" for "erase": the request as the message names it. */
static const char *doing(const char *op)
{
    static const struct { const char *op, *text; } names[] = {
        { "erase", "erasing" }, { "write", "writing" }, { "hash", "hashing" },
        { "read", "reading" }, { "open", "opening" },
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcmp(op, names[i].op) == 0)
            return names[i].text;
    return "working on";
}

void romfs_device_exception_explain(const struct romfs_device_exception *x,
                                    const struct romfs_exception_context *c,
                                    struct romfs_error *err)
{
    if (!err)
        return;
    char what[128];
    if (strcmp(x->op, "list") == 0)
        snprintf(what, sizeof what, "listing /rom after the soft reset");
    else if (strcmp(x->op, "finish") == 0)
        snprintf(what, sizeof what, "finishing the write of ROMFS partition %d (vfs.rom_ioctl(5))",
                 c->partition);
    else if (x->has_offset)
        snprintf(what, sizeof what, "%s ROMFS partition %d at offset 0x%llx", doing(x->op),
                 c->partition, (unsigned long long)x->offset);
    else
        snprintf(what, sizeof what, "%s ROMFS partition %d", doing(x->op), c->partition);
    char entry[200] = "";
    if (c->board && c->erase_size)
        snprintf(entry, sizeof entry, ", and check that board %s's entry matches the device "
                 "(the write used erase blocks of %u bytes and write units of %u)",
                 c->board, c->erase_size, c->write_size);
    else if (c->board)
        snprintf(entry, sizeof entry, ", and check board %s's entry against the device", c->board);
    const char *todo;
    char buf[512];
    if (strcmp(x->op, "open") == 0) {
        snprintf(buf, sizeof buf, "nothing was erased: check that the firmware has ROMFS "
                 "partition %d%s; power-cycle the board and re-run", c->partition, entry);
        todo = buf;
    } else if (strcmp(x->op, "list") == 0) {
        todo = "the image was written and verified, but the firmware did not list it at /rom: "
               "check that it is built with ROMFS and mounts this partition at /rom, then "
               "power-cycle the board";
    } else if (c->erased) {
        snprintf(buf, sizeof buf, "the partition holds no mountable image until a write "
                 "completes: re-run the same command (blocks already written are kept); if it "
                 "fails again, power-cycle the board%s", entry);
        todo = buf;
    } else {
        todo = "nothing was erased: re-run the same command; if it fails again, power-cycle "
               "the board";
    }
    int code = err->code ? err->code : ROMFS_ERR_DEVICE;
    romfs_set_error(err, code, "%s: %s failed on the device, which said \"%s\"; %s",
                    c->target ? c->target : "repl", what, x->said, todo);
}
