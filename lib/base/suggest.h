/* base/suggest.h: "did you mean" for names the user typed (boards, commands, ports,
 * options): the closest candidate by edit distance, when one is close enough.
 *
 * Distance is Damerau-Levenshtein (insert, delete, substitute, swap two neighbours),
 * comparing letters case-insensitively and treating '-' and '_' as the same, so
 * "pybd-sf2", "PYBD_SF22" and "PYDB_SF2" all suggest "PYBD_SF2". */
#ifndef ROMFS_SUGGEST_H
#define ROMFS_SUGGEST_H

#include <stddef.h>

struct romfs_suggest {
    const char *word;        /* what the user typed */
    const char *best;        /* the closest candidate so far, or NULL */
    size_t best_distance;
    size_t limit;            /* candidates farther than this are never suggested */
};

/* Start looking for a candidate close to word. The limit grows with the word's length:
 * 1 edit up to 4 characters, 2 up to 8, then a third of the length (at most 4). */
void romfs_suggest_init(struct romfs_suggest *s, const char *word);

/* Consider one candidate (borrowed: it must outlive s). Ties keep the first seen. */
void romfs_suggest_consider(struct romfs_suggest *s, const char *candidate);

/* The edit distance between a and b under the rules above (for tests and ranking). */
size_t romfs_edit_distance(const char *a, const char *b);

#endif
