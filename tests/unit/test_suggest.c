/* test_suggest.c: "did you mean" (lib/base/suggest.c) and the one board lookup
 * (romfs_boards_lookup) that every command uses. */
#include "romfs.h"
#include "unit.h"

static void distance_counts_edits_and_swaps(void)
{
    CHECK_EQ_U(romfs_edit_distance("kitten", "sitting"), 3);
    CHECK_EQ_U(romfs_edit_distance("", "abc"), 3);
    CHECK_EQ_U(romfs_edit_distance("abc", "abc"), 0);
    CHECK_EQ_U(romfs_edit_distance("PYDB_SF2", "PYBD_SF2"), 1);   /* one swap, not two edits */
    CHECK_EQ_U(romfs_edit_distance("ca", "abc"), 3);              /* no swap across an insert */
}

static void case_and_dash_do_not_count(void)
{
    CHECK_EQ_U(romfs_edit_distance("pybd-sf2", "PYBD_SF2"), 0);
    CHECK_EQ_U(romfs_edit_distance("Rpi_Pico", "RPI_PICO"), 0);
}

static void suggests_only_close_names(void)
{
    static const char *const names[] = { "pack", "check", "flash", "layout", "boards" };
    struct romfs_suggest s;
    romfs_suggest_init(&s, "pak");
    for (size_t i = 0; i < 5; i++)
        romfs_suggest_consider(&s, names[i]);
    CHECK(s.best && strcmp(s.best, "pack") == 0);
    romfs_suggest_init(&s, "zzz");
    for (size_t i = 0; i < 5; i++)
        romfs_suggest_consider(&s, names[i]);
    CHECK(s.best == NULL);
    romfs_suggest_init(&s, "");
    romfs_suggest_consider(&s, "a");
    CHECK(s.best == NULL);
}

static void board_lookup_suggests_the_closest_board(void)
{
    struct romfs_boards db;
    struct romfs_error err = { 0 };
    CHECK(romfs_boards_load(NULL, &db, &err) == ROMFS_OK);
    CHECK(romfs_boards_lookup(&db, "pybd_sf2", &err) != NULL);          /* case-insensitive */
    CHECK(romfs_boards_lookup(&db, "PYBD_SF22", &err) == NULL);
    CHECK(err.code == ROMFS_ERR_NOENT && err.need == ROMFS_NEED_BOARD_NAME);
    CHECK(strstr(err.msg, "unknown board 'PYBD_SF22' (did you mean 'PYBD_SF2'?)") != NULL);
    CHECK(romfs_boards_lookup(&db, "PYBD-SF2", &err) == NULL);
    CHECK(strstr(err.msg, "did you mean 'PYBD_SF2'?") != NULL);
    CHECK(romfs_boards_lookup(&db, "NO_SUCH_BOARD_AT_ALL", &err) == NULL);
    CHECK(strcmp(err.msg, "unknown board 'NO_SUCH_BOARD_AT_ALL'") == 0);
    romfs_boards_free(&db);
}

static void a_new_error_forgets_the_old_need(void)
{
    struct romfs_error err = { 0 };
    romfs_set_error_need(&err, ROMFS_ERR_INVAL, ROMFS_NEED_PORT, "which port?");
    CHECK(err.need == ROMFS_NEED_PORT);
    romfs_set_error(&err, ROMFS_ERR_IO, "disk");
    CHECK(err.need == ROMFS_NEED_NOTHING);
    romfs_set_error(&err, ROMFS_ERR_IO, "disk");
    CHECK(romfs_error_need(&err, ROMFS_NEED_FORCE) == ROMFS_ERR_IO && err.need == ROMFS_NEED_FORCE);
}

int main(void)
{
    RUN(distance_counts_edits_and_swaps);
    RUN(case_and_dash_do_not_count);
    RUN(suggests_only_close_names);
    RUN(board_lookup_suggests_the_closest_board);
    RUN(a_new_error_forgets_the_old_need);
    UNIT_EXIT();
}
