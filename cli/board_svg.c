/* board_svg.c: a board's flash map as SVG for documentation (board_map.h): the bars and
 * lines `romfs boards show` prints, drawn. Deterministic: the same board gives the same
 * bytes (no dates, fixed number formats). */
#include "board_map.h"
#include "cli.h"
#include "base/buf.h"
#include "base/text.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum { WIDTH = 880, MARGIN = 20, BAR = 36, LINE = 16, CHAR = 8 };

/* The drawing being built: its elements, and the widest left-aligned text so far
 * (x + characters * CHAR), which the drawing grows to hold. */
struct svg {
    struct romfs_buf buf;
    int widest;
};

static const char *colour(const struct map_seg *g)
{
    if (g->n_cover > 1)
        return "#d9534f";
    if (!g->area)
        return "#eeeeee";
    switch (g->area->kind) {
    case ROMFS_AREA_BOOTLOADER: return "#b565a7";
    case ROMFS_AREA_FIRMWARE: return "#4a78c2";
    case ROMFS_AREA_ROMFS: return "#5cb85c";
    case ROMFS_AREA_FS: return "#f0c040";
    default: return "#5bc0de";
    }
}

/* Text for an XML text node or attribute: terminal-safe first (controls and bad UTF-8
 * become \xHH, which XML accepts), then the five XML specials. */
static void xml_text(struct romfs_buf *s, const char *text)
{
    char safe[512];
    romfs_escape_to(safe, sizeof safe, text, strlen(text), ROMFS_ESCAPE_NAME);
    for (const char *p = safe; *p; p++) {
        switch (*p) {
        case '&': romfs_buf_puts(s, "&amp;"); break;
        case '<': romfs_buf_puts(s, "&lt;"); break;
        case '>': romfs_buf_puts(s, "&gt;"); break;
        case '"': romfs_buf_puts(s, "&quot;"); break;
        case '\'': romfs_buf_puts(s, "&apos;"); break;
        default: romfs_buf_append(s, p, 1);
        }
    }
}

static void size_text(uint64_t n, char *buf, size_t cap)
{
    if (n >= 1024 * 1024 && n % (1024 * 1024) == 0)
        snprintf(buf, cap, "%" PRIu64 " MiB", n >> 20);
    else if (n >= 1024 && n % 1024 == 0)
        snprintf(buf, cap, "%" PRIu64 " KiB", n >> 10);
    else
        snprintf(buf, cap, "%" PRIu64 " B", n);
}

static void text_at(struct svg *g, int x, int y, const char *anchor, const char *fill, const char *text)
{
    struct romfs_buf *s = &g->buf;
    if (!anchor && x + (int)strlen(text) * CHAR + MARGIN > g->widest)
        g->widest = x + (int)strlen(text) * CHAR + MARGIN;
    romfs_buf_printf(s, "<text x=\"%d\" y=\"%d\"%s%s%s fill=\"%s\">", x, y, anchor ? " text-anchor=\"" : "",
                     anchor ? anchor : "", anchor ? "\"" : "", fill);
    xml_text(s, text);
    romfs_buf_puts(s, "</text>\n");
}

/* One device: header, bar, the start and end addresses, one line per area and free range.
 * Returns the next y. */
static int device(struct svg *out, const struct romfs_device_view *v, int y)
{
    struct romfs_buf *s = &out->buf;
    const struct romfs_flash_device *d = v->device;
    char head[600], sz[32];
    size_text(d->size, sz, sizeof sz);
    if (v->size_known)
        snprintf(head, sizeof head, "%s: %s0x%08" PRIx64 "..0x%08" PRIx64 ", %s, %s", d->name, d->mmap ? "" : "offsets ",
                 v->lo, (d->mmap ? d->base : 0) + d->size, sz, d->mmap ? "memory-mapped" : "not memory-mapped");
    else
        snprintf(head, sizeof head, "%s: size not recorded, %s", d->name, d->mmap ? "memory-mapped" : "not memory-mapped");
    text_at(out, MARGIN, y, NULL, "#000", head);
    y += 8;
    size_t n;
    struct map_seg *seg = map_segments(v, &n);
    if (n) {
        map_share(seg, n, WIDTH - 2 * MARGIN, 4);
        int x = MARGIN;
        for (size_t i = 0; i < n; i++) {
            const struct map_seg *g = &seg[i];
            romfs_buf_printf(s, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" stroke=\"#ffffff\"/>\n",
                             x, y, g->width, BAR, colour(g));
            if (g->area && g->first) {
                const char *name = g->area->name ? g->area->name : map_kind(g->area);
                char label[80];
                snprintf(label, sizeof label, "%c %s", map_key(g->key), name);
                if ((int)strlen(label) * 7 > g->width - 4)
                    snprintf(label, sizeof label, "%c", map_key(g->key));
                bool dark = g->area->kind == ROMFS_AREA_BOOTLOADER || g->area->kind == ROMFS_AREA_FIRMWARE;
                if (g->width >= 10)
                    text_at(out, x + g->width / 2, y + BAR / 2 + 4, "middle", dark ? "#fff" : "#000", label);
            } else if (g->n_cover > 1 && g->width >= 10) {
                char keys[64];
                map_overlap_keys(v, g, keys, sizeof keys);
                if ((int)strlen(keys) * 7 > g->width - 4)
                    snprintf(keys, sizeof keys, "!");
                text_at(out, x + g->width / 2, y + BAR / 2 + 4, "middle", "#fff", keys);
            }
            x += g->width;
        }
        char lo[24], hi[24];
        snprintf(lo, sizeof lo, "0x%08" PRIx64, v->lo);
        snprintf(hi, sizeof hi, "0x%08" PRIx64, v->hi);
        y += BAR + 14;
        text_at(out, MARGIN, y, NULL, "#555", lo);
        text_at(out, x, y, "end", "#555", hi);
    }
    free(seg);
    y += 6;
    size_t f = 0;
    for (size_t k = 0; k <= v->n_areas; k++) {
        uint64_t at = k < v->n_areas ? v->areas[k]->start : UINT64_MAX;
        for (; f < v->n_free && v->free[f].start <= at; f++) {
            char line[160];
            size_text(v->free[f].size, sz, sizeof sz);
            y += LINE;
            romfs_buf_printf(s, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"#eeeeee\" stroke=\"#999\"/>\n",
                             MARGIN, y - 10);
            snprintf(line, sizeof line, "  free                     0x%08" PRIx64 "..0x%08" PRIx64 "  %s",
                     v->free[f].start, v->free[f].start + v->free[f].size, sz);
            text_at(out, MARGIN + 12, y, NULL, "#000", line);
        }
        if (k == v->n_areas)
            break;
        const struct romfs_flash_area *a = v->areas[k];
        struct map_seg g = { .area = a, .n_cover = 1 };
        char what[32], line[700];
        if (a->kind == ROMFS_AREA_ROMFS)
            snprintf(what, sizeof what, "romfs part%d", a->romfs_index);
        else
            snprintf(what, sizeof what, "%s", map_kind(a));
        size_text(a->size, sz, sizeof sz);
        snprintf(line, sizeof line, "%c %-12s %-12s 0x%08" PRIx64 "..0x%08" PRIx64 "  %s%s%s%s%s", map_key(k), what,
                 a->name ? a->name : "-", a->start, a->start + a->size, a->size ? sz : "0 (none)",
                 a->core ? "  core " : "", a->core ? a->core : "", a->source ? "  " : "", a->source ? a->source : "");
        y += LINE;
        romfs_buf_printf(s, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>\n", MARGIN, y - 10,
                         colour(&g));
        text_at(out, MARGIN + 12, y, NULL, "#000", line);
    }
    return y + 24;
}

char *board_map_svg(const struct romfs_board *b)
{
    struct romfs_map_view view;
    struct romfs_error err = { 0 };
    if (romfs_board_map_view(b, &view, &err))
        return NULL;
    struct svg body = { .widest = WIDTH };
    int y = MARGIN + 14;
    char title[300];
    snprintf(title, sizeof title, "%s (%s%s%s): flash map", b->name, b->port, b->mcu ? ", " : "", b->mcu ? b->mcu : "");
    romfs_buf_puts(&body.buf, "<g font-weight=\"bold\">\n");
    text_at(&body, MARGIN, y, NULL, "#000", title);
    romfs_buf_puts(&body.buf, "</g>\n");
    y += 28;
    if (!view.n) {
        text_at(&body, MARGIN, y, NULL, "#000", "no flash map recorded for this board");
        y += 24;
    }
    for (size_t i = 0; i < view.n; i++)
        y = device(&body, &view.devices[i], y);
    romfs_map_view_free(&view);
    char *inner = romfs_buf_take(&body.buf);
    if (!inner)
        return NULL;
    struct romfs_buf s = { 0 };
    romfs_buf_printf(&s,
                     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                     "font-family=\"monospace\" font-size=\"12\" xml:space=\"preserve\">\n"
                     "<title>",
                     body.widest, y, body.widest, y);
    xml_text(&s, title);
    romfs_buf_printf(&s, "</title>\n<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n%s</svg>\n", body.widest, y, inner);
    free(inner);
    return romfs_buf_take(&s);
}
