/* board_map.c: a board's flash map on a terminal and as JSON (board_map.h). */
#include "board_map.h"
#include "cli.h"
#include "base/text.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

char map_key(size_t k)
{
    if (k < 26)
        return (char)('a' + k);
    if (k < 52)
        return (char)('A' + k - 26);
    return '*';
}

const char *map_kind(const struct romfs_flash_area *a)
{
    return romfs_area_kind_name(a->kind);
}

static uint64_t end_of(const struct romfs_flash_area *a)
{
    return a->start + a->size;   /* boards.json keeps every area inside the address space */
}

static int by_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* Two cores' builds naming one range as the same kind of thing (both read one ROMFS): one
 * area to draw, as lint counts it. */
static bool shared(const struct romfs_flash_area *a, const struct romfs_flash_area *b)
{
    return a->kind == b->kind && a->start == b->start && a->size == b->size && a->core && b->core &&
           strcmp(a->core, b->core) != 0;
}

/* The areas covering [at, at + 1), as indices into v->areas (at most cap); of areas that two
 * cores share, the first. */
static size_t cover(const struct romfs_device_view *v, uint64_t at, size_t *idx, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < v->n_areas; i++) {
        const struct romfs_flash_area *a = v->areas[i];
        bool twin = false;
        for (size_t k = 0; k < i && !twin; k++)
            twin = shared(v->areas[k], a);
        if (!twin && a->size && a->start <= at && at < end_of(a)) {
            if (n < cap)
                idx[n] = i;
            n++;
        }
    }
    return n;
}

struct map_seg *map_segments(const struct romfs_device_view *v, size_t *n_out)
{
    *n_out = 0;
    if (v->lo >= v->hi)
        return NULL;
    uint64_t *cut = calloc(2 * v->n_areas + 2, sizeof *cut);
    struct map_seg *seg = calloc(2 * v->n_areas + 2, sizeof *seg);
    if (!cut || !seg) {
        free(cut);
        free(seg);
        return NULL;
    }
    size_t nc = 0;
    cut[nc++] = v->lo;
    cut[nc++] = v->hi;
    for (size_t i = 0; i < v->n_areas; i++) {
        if (!v->areas[i]->size)
            continue;
        cut[nc++] = v->areas[i]->start;
        cut[nc++] = end_of(v->areas[i]);
    }
    qsort(cut, nc, sizeof *cut, by_u64);
    size_t n = 0;
    size_t prev[8], prev_n = (size_t)-1;
    for (size_t i = 0; i + 1 < nc; i++) {
        if (cut[i] == cut[i + 1] || cut[i] < v->lo || cut[i + 1] > v->hi)
            continue;
        size_t idx[8];
        size_t k = cover(v, cut[i], idx, 8);
        bool same = n > 0 && k == prev_n && memcmp(idx, prev, (k < 8 ? k : 8) * sizeof *idx) == 0;
        if (same) {
            seg[n - 1].end = cut[i + 1];
            continue;
        }
        seg[n] = (struct map_seg){ .start = cut[i], .end = cut[i + 1], .n_cover = k };
        if (k == 1) {
            seg[n].area = v->areas[idx[0]];
            seg[n].key = idx[0];
            seg[n].first = true;
            for (size_t p = 0; p < n; p++)
                if (seg[p].area == seg[n].area)
                    seg[n].first = false;
        }
        memcpy(prev, idx, sizeof prev);
        prev_n = k;
        n++;
    }
    free(cut);
    *n_out = n;
    return seg;
}

int map_share(struct map_seg *s, size_t n, int width, int min)
{
    if (!n)
        return 0;
    if ((size_t)width < n * (size_t)min)
        width = (int)n * min;
    uint64_t span = s[n - 1].end - s[0].start;
    int used = 0;
    for (size_t i = 0; i < n; i++) {
        double share = (double)(s[i].end - s[i].start) * width / (double)span;
        s[i].width = (int)(share + 0.5);
        if (s[i].width < min)
            s[i].width = min;
        used += s[i].width;
    }
    /* give back or take from the widest segments until the bar is exactly `width` */
    while (used != width) {
        size_t w = 0;
        for (size_t i = 1; i < n; i++)
            if (s[i].width > s[w].width)
                w = i;
        if (used > width) {
            if (s[w].width <= min)
                break;
            s[w].width--;
            used--;
        } else {
            s[w].width++;
            used++;
        }
    }
    return used;
}

void map_overlap_keys(const struct romfs_device_view *v, const struct map_seg *g, char *buf, size_t cap)
{
    size_t idx[8];
    size_t n = cover(v, g->start, idx, 8), len = 0;
    len += (size_t)snprintf(buf, cap, "overlap ");
    for (size_t i = 0; i < n && i < 8 && len + 3 < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%c", i ? "+" : "", map_key(idx[i]));
}

/* ---- terminal ---- */

static const char *style(const struct map_seg *g)
{
    if (g->n_cover > 1)
        return "1;97;41";
    if (!g->area)
        return "2";
    switch (g->area->kind) {
    case ROMFS_AREA_BOOTLOADER: return "97;45";
    case ROMFS_AREA_FIRMWARE: return "97;44";
    case ROMFS_AREA_ROMFS: return "30;42";
    case ROMFS_AREA_FS: return "30;43";
    default: return "30;46";
    }
}

static char fill(const struct map_seg *g, bool colour)
{
    if (g->n_cover > 1)
        return colour ? '!' : 'X';
    if (!g->area)
        return '.';
    if (colour)
        return ' ';
    switch (g->area->kind) {
    case ROMFS_AREA_BOOTLOADER: return '#';
    case ROMFS_AREA_FIRMWARE: return '=';
    case ROMFS_AREA_ROMFS: return '%';
    case ROMFS_AREA_FS: return '~';
    default: return ':';
    }
}

static void bar(FILE *out, const struct romfs_device_view *v, const struct map_seg *seg, size_t n, bool colour)
{
    fputs("  |", out);
    for (size_t i = 0; i < n; i++) {
        const struct map_seg *g = &seg[i];
        char text[96] = "";
        if (g->area && g->first) {
            char name[64];
            romfs_escape_to(name, sizeof name, g->area->name ? g->area->name : map_kind(g->area),
                            strlen(g->area->name ? g->area->name : map_kind(g->area)), ROMFS_ESCAPE_NAME);
            snprintf(text, sizeof text, "%c:%s", map_key(g->key), name);
            if ((int)strlen(text) > g->width)
                snprintf(text, sizeof text, "%c", map_key(g->key));
        } else if (!g->area && g->n_cover == 0 && g->width >= 6) {
            snprintf(text, sizeof text, "free");
        } else if (g->n_cover > 1) {
            map_overlap_keys(v, g, text, sizeof text);
            if ((int)strlen(text) > g->width)
                memmove(text, text + 8, strlen(text + 8) + 1);   /* the keys alone */
        }
        int len = (int)strlen(text) > g->width ? 0 : (int)strlen(text);
        int before = (g->width - len) / 2;
        if (colour)
            fprintf(out, "\033[%sm", style(g));
        for (int c = 0; c < g->width; c++)
            fputc(c >= before && c < before + len ? text[c - before] : fill(g, colour), out);
        if (colour)
            fputs("\033[0m", out);
    }
    fputs("|\n", out);
}

static void size_text(uint64_t n, char *buf, size_t cap)
{
    if (n >= 1024 * 1024 && n % (1024 * 1024) == 0)
        snprintf(buf, cap, "%" PRIu64 " MiB", n >> 20);
    else if (n >= 1024 && n % 1024 == 0)
        snprintf(buf, cap, "%" PRIu64 " KiB", n >> 10);
    else
        cli_short_size(n, buf, cap);
}

static void area_line(FILE *out, const struct romfs_flash_area *a, size_t key, bool colour)
{
    char name[64], sz[32], what[32], src[512];
    romfs_escape_to(name, sizeof name, a->name ? a->name : "-", strlen(a->name ? a->name : "-"), ROMFS_ESCAPE_NAME);
    size_text(a->size, sz, sizeof sz);
    if (a->kind == ROMFS_AREA_ROMFS)
        snprintf(what, sizeof what, "romfs part%d", a->romfs_index);
    else
        snprintf(what, sizeof what, "%s", map_kind(a));
    struct map_seg g = { .area = a, .n_cover = 1 };
    if (colour)
        fprintf(out, "   \033[%sm%c\033[0m", style(&g), map_key(key));
    else
        fprintf(out, "   %c", map_key(key));
    fprintf(out, " %-12s %-20s 0x%08" PRIx64 "..0x%08" PRIx64 " %9s", what, name, a->start, a->start + a->size,
            a->size ? sz : "0 (none)");
    if (a->core)
        fprintf(out, "  core %s", a->core);
    if (a->blockdev)
        fprintf(out, "  %s", a->blockdev);
    if (a->source)
        fprintf(out, "  %s", romfs_escape_to(src, sizeof src, a->source, strlen(a->source), ROMFS_ESCAPE_LINE));
    fputc('\n', out);
}

static void device_header(FILE *out, const struct romfs_device_view *v)
{
    const struct romfs_flash_device *d = v->device;
    char name[64], sz[32], eb[32], src[512];
    romfs_escape_to(name, sizeof name, d->name, strlen(d->name), ROMFS_ESCAPE_NAME);
    fprintf(out, "  %s: ", name);
    if (v->size_known) {
        size_text(d->size, sz, sizeof sz);
        fprintf(out, "%s0x%08" PRIx64 "..0x%08" PRIx64 ", %s", d->mmap ? "" : "offsets ", v->lo,
                (d->mmap ? d->base : 0) + d->size, sz);
    } else {
        fprintf(out, "size not recorded");
    }
    if (d->erase_block) {
        size_text(d->erase_block, eb, sizeof eb);
        fprintf(out, ", erase %s", eb);
    }
    fprintf(out, ", %s", d->mmap ? "memory-mapped" : "not memory-mapped");
    if (d->source)
        fprintf(out, "  (%s)", romfs_escape_to(src, sizeof src, d->source, strlen(d->source), ROMFS_ESCAPE_LINE));
    fputc('\n', out);
}

int board_map_print(FILE *out, const struct romfs_board *b, int width, bool colour)
{
    struct romfs_map_view view;
    struct romfs_error err = { 0 };
    if (romfs_board_map_view(b, &view, &err))
        return cli_fail(&err);
    if (!view.n) {
        fprintf(out, "flash map:    not recorded for this board ('romfs boards import' records it)\n");
        return EXIT_OK;
    }
    fprintf(out, "flash map:\n");
    int rc = EXIT_OK;
    for (size_t i = 0; i < view.n && rc == EXIT_OK; i++) {
        const struct romfs_device_view *v = &view.devices[i];
        device_header(out, v);
        size_t n;
        struct map_seg *seg = map_segments(v, &n);
        if (!seg && v->lo < v->hi) {
            rc = cli_usage_error("boards", "out of memory");
            break;
        }
        if (n) {
            int used = map_share(seg, n, width > 20 ? width - 4 : 16, 1);
            bar(out, v, seg, n, colour);
            char lo[24], hi[24];
            snprintf(lo, sizeof lo, "0x%08" PRIx64, v->lo);
            snprintf(hi, sizeof hi, "0x%08" PRIx64, v->hi);
            int pad = used + 2 - (int)strlen(lo) - (int)strlen(hi);
            fprintf(out, "  %s%*s%s\n", lo, pad > 1 ? pad : 1, "", hi);
        }
        /* the areas and the free ranges, in address order */
        size_t f = 0;
        for (size_t k = 0; k <= v->n_areas; k++) {
            uint64_t at = k < v->n_areas ? v->areas[k]->start : UINT64_MAX;
            for (; f < v->n_free && v->free[f].start <= at; f++) {
                char sz[32];
                size_text(v->free[f].size, sz, sizeof sz);
                fprintf(out, "   %s %-12s %-20s 0x%08" PRIx64 "..0x%08" PRIx64 " %9s\n", colour ? "\033[2m.\033[0m" : ".",
                        "free", "", v->free[f].start, v->free[f].start + v->free[f].size, sz);
            }
            if (k < v->n_areas)
                area_line(out, v->areas[k], k, colour);
        }
        free(seg);
    }
    romfs_map_view_free(&view);
    return rc;
}

/* ---- JSON ---- */

static void add_hex(cJSON *o, const char *key, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "0x%08" PRIx64, v);
    cJSON_AddStringToObject(o, key, buf);
}

cJSON *board_map_json(const struct romfs_board *b)
{
    struct romfs_map_view view;
    struct romfs_error err = { 0 };
    if (romfs_board_map_view(b, &view, &err))
        return NULL;
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < view.n; i++) {
        const struct romfs_device_view *v = &view.devices[i];
        const struct romfs_flash_device *d = v->device;
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "device", d->name);
        if (d->mmap)
            add_hex(j, "base", d->base);
        if (v->size_known) {
            add_hex(j, "start", v->lo);
            add_hex(j, "end", (d->mmap ? d->base : 0) + d->size);
            cJSON_AddNumberToObject(j, "size", (double)d->size);
        }
        if (d->erase_block)
            cJSON_AddNumberToObject(j, "erase_block", d->erase_block);
        cJSON_AddBoolToObject(j, "mmap", d->mmap);
        if (d->source)
            cJSON_AddStringToObject(j, "source", d->source);
        cJSON *areas = cJSON_AddArrayToObject(j, "areas");
        for (size_t k = 0; k < v->n_areas; k++) {
            const struct romfs_flash_area *a = v->areas[k];
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "kind", map_kind(a));
            if (a->name)
                cJSON_AddStringToObject(x, "name", a->name);
            add_hex(x, "start", a->start);
            add_hex(x, "end", a->start + a->size);
            cJSON_AddNumberToObject(x, "size", (double)a->size);
            if (a->romfs_index >= 0)
                cJSON_AddNumberToObject(x, "index", a->romfs_index);
            if (a->core)
                cJSON_AddStringToObject(x, "core", a->core);
            if (a->blockdev)
                cJSON_AddStringToObject(x, "blockdev", a->blockdev);
            if (a->source)
                cJSON_AddStringToObject(x, "source", a->source);
            cJSON_AddItemToArray(areas, x);
        }
        cJSON *free_arr = cJSON_AddArrayToObject(j, "free");
        for (size_t k = 0; k < v->n_free; k++) {
            cJSON *x = cJSON_CreateObject();
            add_hex(x, "start", v->free[k].start);
            add_hex(x, "end", v->free[k].start + v->free[k].size);
            cJSON_AddNumberToObject(x, "size", (double)v->free[k].size);
            cJSON_AddItemToArray(free_arr, x);
        }
        cJSON_AddItemToArray(arr, j);
    }
    romfs_map_view_free(&view);
    return arr;
}
