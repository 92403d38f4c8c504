/* test_sim.c: launching the simulated device from C (flash/sim.h). */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "flash/sim.h"
#include "unit.h"

/* Read from fd until `marker` has arrived (or 5 s pass); returns bytes read. */
static size_t read_until(int fd, char *buf, size_t cap, const char *marker)
{
    size_t len = 0, mlen = strlen(marker);
    while (len + 1 < cap) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 5000) <= 0)
            break;
        ssize_t n = read(fd, buf + len, 1);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = 0;
        if (len >= mlen && memcmp(buf + len - mlen, marker, mlen) == 0)
            break;
    }
    buf[len] = 0;
    return len;
}

static void spawn_exec_stop(void)
{
    char *args[] = { "--partition-size", "64K", "--erase-block", "4K" };
    struct romfs_sim_process sim;
    struct romfs_error err = {0};
    int rc = romfs_sim_spawn(4, args, 15000, &sim, &err);
    if (rc != ROMFS_OK)
        printf("    %s\n", err.msg);
    CHECK_EQ_U(rc, ROMFS_OK);
    CHECK(sim.pid > 0);
    CHECK(strncmp(sim.pty, "/dev/", 5) == 0);
    int fd = open(sim.pty, O_RDWR | O_NOCTTY);
    CHECK(fd >= 0);
    struct termios t;
    tcgetattr(fd, &t);
    cfmakeraw(&t);
    tcsetattr(fd, TCSAFLUSH, &t);
    char buf[4096];
    CHECK(write(fd, "\r\x01", 2) == 2);
    read_until(fd, buf, sizeof buf, "raw REPL; CTRL-B to exit\r\n>");
    CHECK(strstr(buf, "raw REPL; CTRL-B to exit\r\n>") != NULL);
    const char *code = "import vfs\nprint(len(vfs.rom_ioctl(2,0)), vfs.rom_ioctl(6,0))\x04";
    CHECK(write(fd, code, strlen(code)) == (ssize_t)strlen(code));
    read_until(fd, buf, sizeof buf, "\x04>");
    CHECK(strcmp(buf, "OK65536 4096\r\n\x04\x04>") == 0);
    close(fd);
    int status = romfs_sim_stop(&sim);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_EQ_U(romfs_sim_stop(&sim), (unsigned long long)-1);
}

static void command_passes_arguments_through(void)
{
    char *args[] = { "--flash", "dev.bin", "--fault", "stall@10:1" };
    struct romfs_sim_command cmd;
    struct romfs_error err = {0};
    CHECK_EQ_U(romfs_sim_command_build(4, args, &cmd, &err), ROMFS_OK);
    CHECK(cmd.argc == 7);
    CHECK(strstr(cmd.argv[1], "/main.py") != NULL);
    CHECK(strcmp(cmd.argv[2], "--remove-program-dir") == 0);
    CHECK(strcmp(cmd.argv[3], "--flash") == 0 && strcmp(cmd.argv[4], "dev.bin") == 0);
    CHECK(strcmp(cmd.argv[6], "stall@10:1") == 0);
    CHECK(cmd.argv[7] == NULL);
    struct stat st;
    CHECK(stat(cmd.program_dir, &st) == 0 && (st.st_mode & 0777) == 0700);
    CHECK(access(cmd.argv[1], R_OK) == 0);
    romfs_sim_command_discard(&cmd);
    CHECK(stat(cmd.program_dir, &st) != 0);
    romfs_sim_command_free(&cmd);
}

static void unknown_board_is_refused(void)
{
    char path[] = "/tmp/romfs-simboards.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char *db = "{\"schema\": 1, \"micropython\": {}, \"boards\": []}\n";
    CHECK(write(fd, db, strlen(db)) == (ssize_t)strlen(db));
    close(fd);
    setenv("ROMFS_BOARDS", path, 1);
    char *args[] = { "--board", "NOPE_BOARD" };
    struct romfs_sim_command cmd;
    struct romfs_error err = {0};
    int rc = romfs_sim_command_build(2, args, &cmd, &err);
    unsetenv("ROMFS_BOARDS");
    unlink(path);
    CHECK_EQ_U(rc, (unsigned long long)ROMFS_ERR_NOENT);
    CHECK(strstr(err.msg, "NOPE_BOARD") != NULL);
}

static void missing_python_is_reported(void)
{
    setenv("ROMFS_PYTHON", "/nonexistent/python3", 1);
    struct romfs_sim_process sim;
    struct romfs_error err = {0};
    int rc = romfs_sim_spawn(0, NULL, 5000, &sim, &err);
    unsetenv("ROMFS_PYTHON");
    CHECK_EQ_U(rc, (unsigned long long)ROMFS_ERR_TOOL);
    CHECK(strstr(err.msg, "did not start") != NULL);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    RUN(spawn_exec_stop);
    RUN(command_passes_arguments_through);
    RUN(unknown_board_is_refused);
    RUN(missing_python_is_reported);
    UNIT_EXIT();
}
