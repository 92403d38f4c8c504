/* suggest.c: the closest name by edit distance. */
#include "base/suggest.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static int fold(unsigned char c)
{
    return c == '-' ? '_' : tolower(c);
}

#define MAX_NAME 128   /* longer names are compared by their first MAX_NAME bytes */

size_t romfs_edit_distance(const char *a, const char *b)
{
    size_t n = strnlen(a, MAX_NAME), m = strnlen(b, MAX_NAME);
    /* three rows of the dynamic-programming table: i-2, i-1, i */
    size_t rows[3][MAX_NAME + 1];
    for (size_t j = 0; j <= m; j++)
        rows[0][j] = j;
    size_t *prev2 = NULL, *prev = rows[0], *cur = rows[1];
    for (size_t i = 1; i <= n; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= m; j++) {
            int same = fold((unsigned char)a[i - 1]) == fold((unsigned char)b[j - 1]);
            size_t best = prev[j - 1] + (same ? 0 : 1);
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (prev2 && i > 1 && j > 1 &&
                fold((unsigned char)a[i - 1]) == fold((unsigned char)b[j - 2]) &&
                fold((unsigned char)a[i - 2]) == fold((unsigned char)b[j - 1]) &&
                prev2[j - 2] + 1 < best)
                best = prev2[j - 2] + 1;
            cur[j] = best;
        }
        size_t *spare = prev2 ? prev2 : rows[2];
        prev2 = prev;
        prev = cur;
        cur = spare;
    }
    return prev[m];
}

void romfs_suggest_init(struct romfs_suggest *s, const char *word)
{
    size_t len = word ? strlen(word) : 0;
    s->word = word ? word : "";
    s->best = NULL;
    s->best_distance = (size_t)-1;
    s->limit = len <= 4 ? 1 : len <= 8 ? 2 : len / 3 > 4 ? 4 : len / 3;
}

void romfs_suggest_consider(struct romfs_suggest *s, const char *candidate)
{
    if (!candidate || !*s->word)
        return;
    size_t d = romfs_edit_distance(s->word, candidate);
    if (d <= s->limit && d < s->best_distance) {
        s->best = candidate;
        s->best_distance = d;
    }
}
