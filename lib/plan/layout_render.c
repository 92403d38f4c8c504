/* layout_render.c: a layout plan in the port's own configuration (linker MEMORY regions,
 * rp2's CMake value, samd's make values, esp32's partition table) with comments that say
 * what changes, and as JSON (see plan/layout.h). */
#include "plan/layout_internal.h"

#include <cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/template.h"

#define LAYOUT_TEMPLATE "ld/romfs_memory.ld.in"

/* ---- templates ---------------------------------------------------------------------- */

/* The value of placeholder at[1..name_len], or NULL when it is not a known name. */
static const char *const *find_placeholder(const char *at, size_t name_len, const char *const *names,
                                           const char *const *values, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (strlen(names[k]) == name_len && memcmp(names[k], at + 1, name_len) == 0)
            return &values[k];
    return NULL;
}

char *romfs_layout_fill_template(const char *template, const char *const *names, const char *const *values,
                                 size_t n)
{
    struct romfs_buf out = { 0 }, line_out = { 0 };
    for (const char *line = template; *line && !out.failed;) {
        const char *eol = strchr(line, '\n');
        size_t line_len = eol ? (size_t)(eol - line) + 1 : strlen(line);
        /* Build the filled line; drop it if a placeholder's value is NULL. */
        romfs_buf_clear(&line_out);
        bool drop = false;
        for (size_t i = 0; i < line_len && !drop;) {
            const char *at = line + i;
            const char *close = *at == '@' ? memchr(at + 1, '@', line_len - i - 1) : NULL;
            const char *const *value =
                close ? find_placeholder(at, (size_t)(close - at - 1), names, values, n) : NULL;
            if (value && !*value) {
                drop = true;
            } else if (value) {
                romfs_buf_puts(&line_out, *value);
                i += (size_t)(close - at) + 1;
            } else {
                romfs_buf_append(&line_out, at, 1);
                i++;
            }
        }
        if (!drop)
            romfs_buf_append(&out, line_out.data, line_out.len);
        out.failed |= line_out.failed;
        line += line_len;
    }
    romfs_buf_free(&line_out);
    return romfs_buf_take(&out);
}

/* ---- the summary every output starts with -------------------------------------------- */

static const char *kind_word(enum romfs_area_kind kind)
{
    static const char *const words[] = { [ROMFS_AREA_BOOTLOADER] = "bootloader", [ROMFS_AREA_FIRMWARE] = "firmware",
                                         [ROMFS_AREA_ROMFS] = "ROMFS", [ROMFS_AREA_FS] = "filesystem",
                                         [ROMFS_AREA_RESERVED] = "other" };
    return (unsigned)kind < sizeof words / sizeof words[0] ? words[kind] : "?";
}

static const char *from_words(enum romfs_layout_from from)
{
    switch (from) {
    case ROMFS_LAYOUT_FROM_CURRENT: return "where the ROMFS partition is now";
    case ROMFS_LAYOUT_FROM_FREE: return "free space";
    case ROMFS_LAYOUT_FROM_FIRMWARE: return "the firmware's unused tail";
    default: return "the filesystem's room";
    }
}

static const char *from_key(enum romfs_layout_from from)
{
    switch (from) {
    case ROMFS_LAYOUT_FROM_CURRENT: return "current";
    case ROMFS_LAYOUT_FROM_FREE: return "free";
    case ROMFS_LAYOUT_FROM_FIRMWARE: return "firmware";
    default: return "filesystem";
    }
}

static const char *change_key(enum romfs_layout_change c)
{
    static const char *const keys[] = { "same", "new", "resized", "moved", "removed" };
    return (unsigned)c < sizeof keys / sizeof keys[0] ? keys[c] : "?";
}

/* What happens to one area, in words. */
static void change_words(const struct romfs_layout_plan *p, const struct romfs_layout_area *a, char *out,
                         size_t size)
{
    char x[32];
    out[0] = 0;
    if (a->kind == ROMFS_AREA_ROMFS) {
        if (a->change == ROMFS_LAYOUT_NEW)
            snprintf(out, size, "new, from %s", from_words(p->from));
        else if (a->change == ROMFS_LAYOUT_SAME)
            snprintf(out, size, "unchanged");
        else
            snprintf(out, size, "was 0x%08" PRIx64 ", %s", a->old_start, lay_size(a->old_size, x, sizeof x));
    } else if (a->kind == ROMFS_AREA_FS) {
        if (a->change == ROMFS_LAYOUT_SAME)
            snprintf(out, size, "unchanged: keeps its files");
        else if (a->change == ROMFS_LAYOUT_NEW)
            snprintf(out, size, "new: to be formatted");
        else if (a->change == ROMFS_LAYOUT_REMOVED)
            snprintf(out, size, "removed (was 0x%08" PRIx64 ", %s): its files are lost", a->old_start,
                     lay_size(a->old_size, x, sizeof x));
        else
            snprintf(out, size, "was 0x%08" PRIx64 ", %s: REFORMAT, its files are lost", a->old_start,
                     lay_size(a->old_size, x, sizeof x));
    } else if (a->change == ROMFS_LAYOUT_RESIZED) {
        snprintf(out, size, "%s from %s%s", a->size < a->old_size ? "shrinks" : "grows",
                 lay_size(a->old_size, x, sizeof x), a->kind == ROMFS_AREA_FIRMWARE ? " (its maximum)" : "");
    } else if (a->change == ROMFS_LAYOUT_MOVED) {
        snprintf(out, size, "moves from 0x%08" PRIx64, a->old_start);
    }
}

/* Lines explaining the plan, each begun with pfx. */
static void summary(struct romfs_buf *o, const struct romfs_layout_plan *p, const char *first, const char *pfx)
{
    const struct romfs_board *b = p->board;
    char x[32], y[32], what[160], blank[8];
    snprintf(blank, sizeof blank, "%s", pfx);
    for (size_t n = strlen(blank); n && blank[n - 1] == ' ';)
        blank[--n] = 0;
    romfs_buf_printf(o, "%sROMFS layout for %s (%s, %s%s%s), planned by `romfs layout`.\n%s\n", first, b->name,
                     b->port ? b->port : "?", b->mcu ? b->mcu : "?", p->core ? ", the build for " : "",
                     p->core ? p->core : "", blank);
    romfs_buf_printf(o, "%sDevice %s: 0x%08" PRIx64 "..0x%08" PRIx64 " (%s%s; erase block %s at the ROMFS)\n", pfx,
                     p->device, p->device_base, p->device_base + p->device_size, lay_size(p->device_size, x, sizeof x),
                     p->device_mmap ? ", memory-mapped" : ", offsets in the flash chip",
                     lay_size(p->romfs_erase_block, y, sizeof y));
    int width = 4;
    for (size_t i = 0; i < p->n_areas; i++)
        if ((int)strlen(p->areas[i].name) > width)
            width = (int)strlen(p->areas[i].name);
    for (size_t i = 0; i < p->n_areas; i++) {
        const struct romfs_layout_area *a = &p->areas[i];
        change_words(p, a, what, sizeof what);
        uint64_t s = a->size ? a->start : a->old_start;
        romfs_buf_printf(o, "%s  %-10s %-*s 0x%08" PRIx64 "..0x%08" PRIx64 " %6s%s%s\n", pfx, kind_word(a->kind), width,
                         a->name, s, s + a->size, lay_size(a->size, x, sizeof x), *what ? "  " : "", what);
    }
    romfs_buf_printf(o, "%s\n", blank);
    if (p->firmware.size && !p->firmware_on_device)
        romfs_buf_printf(o, "%sThe firmware (%s at 0x%08" PRIx64 ", on another device) stays as it is.\n", pfx,
                         p->firmware.name, p->firmware.start);
    else if (p->firmware.size && p->firmware_estimated)
        romfs_buf_printf(o, "%sThe firmware's size was not measured: a build that outgrows its new maximum (%s) "
                         "fails to %s.\n", pfx, lay_size(p->firmware.size, x, sizeof x),
                         p->style == ROMFS_LAYOUT_ESP32 ? "build (app partition too small)" : "link");
    else if (p->firmware.size)
        romfs_buf_printf(o, "%sFirmware: %" PRIu64 " bytes (%s); %s left to grow.\n", pfx, p->firmware_used,
                         p->firmware_source, lay_size(p->firmware_free, x, sizeof x));
    if (p->fs_moved)
        romfs_buf_printf(o, "%sTHE FILESYSTEM MOVES: it must be reformatted, and the files on it are lost "
                         "(copy them off the board first).\n", pfx);
    else if (p->fs_before.size)
        romfs_buf_printf(o, "%sThe filesystem keeps its start and size: no reformat, its files stay.\n", pfx);
}

/* ---- the port's own configuration ----------------------------------------------------- */

static void hex(char *buf, size_t size, uint64_t v)
{
    snprintf(buf, size, "0x%08" PRIx64, v);
}

/* The summary as the body of a C comment (no comment end inside). */
static char *comment_summary(const struct romfs_layout_plan *p)
{
    struct romfs_buf s = { 0 };
    summary(&s, p, "", " * ");
    char *text = romfs_buf_take(&s);
    if (!text)
        return NULL;
    size_t n = strlen(text);
    while (n && (text[n - 1] == '\n' || text[n - 1] == ' ' || text[n - 1] == '*'))
        text[--n] = 0;
    for (char *c = strstr(text, "*/"); c; c = strstr(c, "*/"))
        c[1] = '_';
    return text;
}

char *romfs_layout_render_ld(const struct romfs_layout_plan *p)
{
    const char *tmpl = romfs_template(LAYOUT_TEMPLATE, NULL);
    char *sum = tmpl ? comment_summary(p) : NULL;
    if (!sum)
        return NULL;
    char fw_o[24], fw_l[24], ro_o[24], ro_l[24], fs_o[24], fs_l[24];
    hex(fw_o, sizeof fw_o, p->firmware.start);
    hex(fw_l, sizeof fw_l, p->firmware.size);
    hex(ro_o, sizeof ro_o, p->romfs.start);
    hex(ro_l, sizeof ro_l, p->romfs.size);
    hex(fs_o, sizeof fs_o, p->fs.start);
    hex(fs_l, sizeof fs_l, p->fs.size);
    bool fs = p->fs.size > 0 && p->fs_region;
    bool fw = p->firmware.size > 0;
    const char *names[] = { "SUMMARY", "TEXT_REGION", "FIRMWARE_ORIGIN", "FIRMWARE_LENGTH", "ROMFS_ORIGIN",
                            "ROMFS_LENGTH", "FS_REGION", "FS_ORIGIN", "FS_LENGTH" };
    const char *values[] = { sum, fw ? lay_ld_name(p->firmware.name, "FLASH_APP") : NULL, fw_o, fw_l, ro_o, ro_l,
                             fs ? p->fs_region : NULL, fs_o, fs_l };
    char *out = romfs_layout_fill_template(tmpl, names, values, sizeof names / sizeof names[0]);
    free(sum);
    return out;
}

/* n as make and ld read it: "368K" when whole K, else bytes. */
static const char *mk_size(uint64_t n, char *buf, size_t size)
{
    if (n % 1024 == 0)
        snprintf(buf, size, "%" PRIu64 "K", n / 1024);
    else
        snprintf(buf, size, "%" PRIu64, n);
    return buf;
}

static void render_port_ld(struct romfs_buf *o, const struct romfs_layout_plan *p)
{
    char x[32], y[32];
    char *ld = romfs_layout_render_ld(p);
    if (!ld) {
        o->failed = true;
        return;
    }
    romfs_buf_puts(o, ld);
    free(ld);
    if (p->style == ROMFS_LAYOUT_NRF) {
        romfs_buf_printf(o, "\n/* In nrf's own terms: ROMFS sits just below the filesystem and the application gets "
                            "the rest\n * (boards/memory.ld), so in the chip's linker script (e.g. "
                            "boards/nrf52840_1M_256k.ld):\n *   _micropy_hw_romfs_part0_size = %s;\n",
                         mk_size(p->romfs.size, x, sizeof x));
        if (p->fs_moved)
            romfs_buf_printf(o, " *   _fs_size = %s;\n", mk_size(p->fs.size, y, sizeof y));
        uint64_t end = p->device_base + p->device_size;
        if (p->fs_moved && p->fs.size && p->fs.start + p->fs.size < end)
            romfs_buf_printf(o, " *   _bootloader_tail_size = %s;  (the filesystem ends below it)\n",
                             mk_size(end - p->fs.start - p->fs.size, y, sizeof y));
        romfs_buf_printf(o, " */\n");
    } else if (p->style == ROMFS_LAYOUT_MIMXRT) {
        romfs_buf_printf(o, "\n/* In mimxrt's own terms: ROMFS sits just below the filesystem (vfs_start) and the "
                            "text gets the rest\n * (boards/MIMXRT*.ld), so in the board's mpconfigboard.mk:\n"
                            " *   MICROPY_HW_ROMFS_BYTES = 0x%" PRIx64 "\n",
                         p->romfs.size);
        if (p->fs_moved)
            romfs_buf_printf(o, " * The filesystem's start (vfs_start) is set in the board's MIMXRT*.ld: move it "
                                "there to 0x%08" PRIx64 ".\n", p->fs.start);
        romfs_buf_printf(o, " */\n");
    }
}

static void render_rp2(struct romfs_buf *o, const struct romfs_layout_plan *p)
{
    summary(o, p, "# ", "# ");
    romfs_buf_printf(o, "#\n# rp2 puts ROMFS just below the filesystem (ports/rp2/rp2_flash.c) and takes it off the\n"
                        "# firmware's FLASH region (memmap_rp2/memory_flash.incl). In the board's\n"
                        "# ports/rp2/boards/%s/mpconfigboard.cmake (or as -DNAME=VALUE to cmake\n"
                        "# when it makes a new build directory):\n",
                     p->board->name);
    if (p->firmware.size != p->firmware_before.size) {
        char x[32], y[32];
        romfs_buf_printf(o, "# The firmware's maximum (FLASH) %s from %s to %s.\n",
                         p->firmware.size < p->firmware_before.size ? "shrinks" : "grows",
                         lay_size(p->firmware_before.size, x, sizeof x), lay_size(p->firmware.size, y, sizeof y));
    }
    romfs_buf_printf(o, "set(MICROPY_HW_ROMFS_BYTES %" PRIu64 ")\n", p->romfs.size);
    if (p->fs_moved || (!p->fs_before.size && p->fs.size))
        romfs_buf_printf(o, "set(MICROPY_HW_FLASH_STORAGE_BYTES %" PRIu64 ")\n", p->fs.size);
}

static void render_samd(struct romfs_buf *o, const struct romfs_layout_plan *p)
{
    char x[32], y[32];
    summary(o, p, "# ", "# ");
    romfs_buf_printf(o, "#\n# samd puts ROMFS right after the firmware's MICROPY_HW_CODESIZE and the MCU-flash\n"
                        "# filesystem right after the ROMFS (boards/samd51x19a.ld). In the board's\n"
                        "# ports/samd/boards/%s/mpconfigboard.mk:\n",
                     p->board->name);
    if (p->firmware.size != p->firmware_before.size)
        romfs_buf_printf(o, "# MICROPY_HW_CODESIZE (the firmware's maximum) %s from %s to %s.\n",
                         p->firmware.size < p->firmware_before.size ? "shrinks" : "grows",
                         mk_size(p->firmware_before.size, x, sizeof x), mk_size(p->firmware.size, y, sizeof y));
    romfs_buf_printf(o, "MICROPY_HW_CODESIZE ?= %s\nMICROPY_HW_ROMFS_BYTES ?= %s\n",
                     mk_size(p->firmware.size, x, sizeof x), mk_size(p->romfs.size, y, sizeof y));
}

static const char *esp32_subtype_name(uint8_t type, uint8_t subtype, char *buf, size_t size)
{
    static const struct { uint8_t type, subtype; const char *name; } names[] = {
        { 0, 0x00, "factory" }, { 0, 0x20, "test" }, { 1, 0x00, "ota" },      { 1, 0x01, "phy" },
        { 1, 0x02, "nvs" },     { 1, 0x03, "coredump" }, { 1, 0x04, "nvs_keys" }, { 1, 0x05, "efuse" },
        { 1, 0x81, "fat" },     { 1, 0x82, "spiffs" },   { 1, 0x83, "littlefs" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].type == type && names[i].subtype == subtype)
            return names[i].name;
    if (type == 0 && subtype >= 0x10 && subtype < 0x20)
        snprintf(buf, size, "ota_%u", subtype - 0x10);
    else
        snprintf(buf, size, "0x%02x", subtype);
    return buf;
}

static void render_esp32(struct romfs_buf *o, const struct romfs_layout_plan *p)
{
    summary(o, p, "# ", "# ");
    bool whole = true;
    for (size_t i = 0; i < p->n_areas; i++) {
        const struct romfs_layout_area *a = &p->areas[i];
        if (!a->esp32_row && a->kind != ROMFS_AREA_BOOTLOADER && !(a->kind == ROMFS_AREA_FS && !a->esp32_row) &&
            a->size && a->start >= 0x9000)
            whole = false;
    }
    romfs_buf_printf(o, "#\n# MicroPython mounts the data partition labelled romfs (ports/esp32/esp32_partition.c).\n"
                        "# %s; name it in the board's sdkconfig.board as\n"
                        "# CONFIG_PARTITION_TABLE_CUSTOM_FILENAME.\n",
                     whole ? "The whole partition table" : "The rows that change (keep the others as they are)");
    for (size_t i = 0; i < p->n_areas; i++) {
        const struct romfs_layout_area *a = &p->areas[i];
        if (a->kind == ROMFS_AREA_FS && !a->esp32_row && a->size)
            romfs_buf_printf(o, "# (%s: made at boot from the flash after the last partition, 0x%08" PRIx64 "..0x%08"
                                PRIx64 ")\n", a->name, a->start, a->start + a->size);
    }
    for (size_t i = 0; i < p->n_areas; i++) {
        const struct romfs_layout_area *a = &p->areas[i];
        if (a->kind == ROMFS_AREA_FIRMWARE && a->esp32_subtype == 0x10 && a->change != ROMFS_LAYOUT_SAME)
            romfs_buf_printf(o, "# The other OTA app partitions keep their size: an update must fit %s's new size.\n",
                             a->name);
    }
    romfs_buf_printf(o, "# Name, Type, SubType, Offset, Size, Flags\n");
    for (size_t i = 0; i < p->n_areas; i++) {
        const struct romfs_layout_area *a = &p->areas[i];
        if (!a->esp32_row || !a->size || (!whole && a->change == ROMFS_LAYOUT_SAME))
            continue;
        char sub[16];
        const char *flags = (a->esp32_flags & 3) == 3 ? "encrypted:readonly"
                          : (a->esp32_flags & 1)      ? "encrypted"
                          : (a->esp32_flags & 2)      ? "readonly"
                                                      : "";
        romfs_buf_printf(o, "%s, %s, %s, 0x%" PRIx64 ", 0x%" PRIx64 ",%s%s\n", a->name,
                         a->esp32_type == ROMFS_ESP32_TYPE_APP ? "app" : "data",
                         esp32_subtype_name(a->esp32_type, a->esp32_subtype, sub, sizeof sub), a->start, a->size,
                         *flags ? " " : "", flags);
    }
}

char *romfs_layout_render(const struct romfs_layout_plan *p)
{
    struct romfs_buf o = { 0 };
    switch (p->style) {
    case ROMFS_LAYOUT_RP2: render_rp2(&o, p); break;
    case ROMFS_LAYOUT_SAMD: render_samd(&o, p); break;
    case ROMFS_LAYOUT_ESP32: render_esp32(&o, p); break;
    default: render_port_ld(&o, p); break;
    }
    return romfs_buf_take(&o);
}

/* ---- JSON --------------------------------------------------------------------------- */

static cJSON *region_json(const struct romfs_layout_region *r, uint32_t erase, const struct romfs_layout_region *before)
{
    cJSON *o = cJSON_CreateObject();
    char h[24];
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "region", r->name ? r->name : "");
    cJSON_AddNumberToObject(o, "start", (double)r->start);
    hex(h, sizeof h, r->start);
    cJSON_AddStringToObject(o, "start_hex", h);
    cJSON_AddNumberToObject(o, "size", (double)r->size);
    cJSON_AddNumberToObject(o, "end", (double)(r->start + r->size));
    if (erase)
        cJSON_AddNumberToObject(o, "erase_block", erase);
    if (before && before->size) {
        cJSON *b = cJSON_AddObjectToObject(o, "before");
        cJSON_AddNumberToObject(b, "start", (double)before->start);
        cJSON_AddNumberToObject(b, "size", (double)before->size);
    } else if (before) {
        cJSON_AddNullToObject(o, "before");
    }
    return o;
}

static void config_json(cJSON *root, const struct romfs_layout_plan *p)
{
    static const char *const formats[] = { [ROMFS_LAYOUT_LD] = "ld", [ROMFS_LAYOUT_NRF] = "ld",
                                           [ROMFS_LAYOUT_MIMXRT] = "ld", [ROMFS_LAYOUT_RP2] = "cmake",
                                           [ROMFS_LAYOUT_SAMD] = "make", [ROMFS_LAYOUT_ESP32] = "csv" };
    cJSON *c = cJSON_AddObjectToObject(root, "config");
    cJSON_AddStringToObject(c, "format", formats[p->style]);
    cJSON *v = cJSON_AddObjectToObject(c, "values");
    switch (p->style) {
    case ROMFS_LAYOUT_RP2:
        cJSON_AddNumberToObject(v, "MICROPY_HW_ROMFS_BYTES", (double)p->romfs.size);
        if (p->fs_moved || (!p->fs_before.size && p->fs.size))
            cJSON_AddNumberToObject(v, "MICROPY_HW_FLASH_STORAGE_BYTES", (double)p->fs.size);
        break;
    case ROMFS_LAYOUT_SAMD:
        cJSON_AddNumberToObject(v, "MICROPY_HW_CODESIZE", (double)p->firmware.size);
        cJSON_AddNumberToObject(v, "MICROPY_HW_ROMFS_BYTES", (double)p->romfs.size);
        break;
    case ROMFS_LAYOUT_ESP32: {
        cJSON *rows = cJSON_AddArrayToObject(v, "partitions");
        for (size_t i = 0; i < p->n_areas; i++) {
            const struct romfs_layout_area *a = &p->areas[i];
            if (!a->esp32_row || !a->size)
                continue;
            cJSON *r = cJSON_CreateObject();
            cJSON_AddStringToObject(r, "name", a->name);
            cJSON_AddNumberToObject(r, "type", a->esp32_type);
            cJSON_AddNumberToObject(r, "subtype", a->esp32_subtype);
            cJSON_AddNumberToObject(r, "offset", (double)a->start);
            cJSON_AddNumberToObject(r, "size", (double)a->size);
            cJSON_AddStringToObject(r, "change", change_key(a->change));
            cJSON_AddItemToArray(rows, r);
        }
        break;
    }
    default:
        cJSON_AddNumberToObject(v, "_micropy_hw_romfs_part0_start", (double)p->romfs.start);
        cJSON_AddNumberToObject(v, "_micropy_hw_romfs_part0_size", (double)p->romfs.size);
        if (p->style == ROMFS_LAYOUT_NRF && p->fs_moved)
            cJSON_AddNumberToObject(v, "_fs_size", (double)p->fs.size);
        if (p->style == ROMFS_LAYOUT_MIMXRT)
            cJSON_AddNumberToObject(v, "MICROPY_HW_ROMFS_BYTES", (double)p->romfs.size);
        break;
    }
    char *text = romfs_layout_render(p);
    if (text)
        cJSON_AddStringToObject(c, "text", text);
    free(text);
}

char *romfs_layout_to_json(const struct romfs_layout_plan *p)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    cJSON_AddStringToObject(root, "board", p->board->name);
    if (p->board->port)
        cJSON_AddStringToObject(root, "port", p->board->port);
    if (p->core)
        cJSON_AddStringToObject(root, "core", p->core);
    cJSON *dev = cJSON_AddObjectToObject(root, "device");
    cJSON_AddStringToObject(dev, "name", p->device ? p->device : "");
    cJSON_AddNumberToObject(dev, "base", (double)p->device_base);
    cJSON_AddNumberToObject(dev, "size", (double)p->device_size);
    cJSON_AddBoolToObject(dev, "mmap", p->device_mmap);
    cJSON_AddNumberToObject(root, "flash_start", (double)p->flash_start);
    cJSON_AddNumberToObject(root, "flash_end", (double)p->flash_end);
    cJSON_AddStringToObject(root, "flash_end_is", p->span_end_source);
    cJSON_AddStringToObject(root, "taken_from", from_key(p->from));
    cJSON_AddBoolToObject(root, "romfs_external", p->romfs_external);
    if (p->firmware.size || p->firmware_before.size) {
        cJSON *fw = region_json(&p->firmware, 0, &p->firmware_before);
        cJSON_AddBoolToObject(fw, "measured", !p->firmware_estimated);
        if (p->firmware_estimated) {
            cJSON_AddNullToObject(fw, "used");
            cJSON_AddNullToObject(fw, "free");
        } else {
            cJSON_AddNumberToObject(fw, "used", (double)p->firmware_used);
            cJSON_AddNumberToObject(fw, "free", (double)p->firmware_free);
        }
        cJSON_AddStringToObject(fw, "used_source", p->firmware_source);
        cJSON_AddItemToObject(root, "firmware", fw);
    } else {
        cJSON_AddNullToObject(root, "firmware");
    }
    cJSON_AddItemToObject(root, "romfs", region_json(&p->romfs, p->romfs_erase_block, &p->romfs_before));
    if (p->fs.size) {
        cJSON *fs = region_json(&p->fs, p->fs_erase_block, &p->fs_before);
        if (p->fs_blockdev)
            cJSON_AddStringToObject(fs, "blockdev", p->fs_blockdev);
        cJSON_AddItemToObject(root, "filesystem", fs);
    } else {
        cJSON_AddNullToObject(root, "filesystem");
    }
    cJSON_AddBoolToObject(root, "filesystem_reformat", p->fs_moved);
    cJSON *areas = cJSON_AddArrayToObject(root, "areas");
    for (size_t i = 0; i < p->n_areas; i++) {
        const struct romfs_layout_area *a = &p->areas[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "kind", romfs_area_kind_name(a->kind));
        cJSON_AddStringToObject(o, "name", a->name);
        cJSON_AddNumberToObject(o, "start", (double)a->start);
        cJSON_AddNumberToObject(o, "size", (double)a->size);
        cJSON_AddNumberToObject(o, "old_start", (double)a->old_start);
        cJSON_AddNumberToObject(o, "old_size", (double)a->old_size);
        cJSON_AddStringToObject(o, "change", change_key(a->change));
        cJSON_AddItemToArray(areas, o);
    }
    config_json(root, p);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}
