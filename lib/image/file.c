/* image/file.c: loading image files (extract.c writes them out, compare.c compares). */
#include "image/image.h"
#include "base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int romfs_image_load(const char *path, struct romfs_image_file *file, struct romfs_image *img,
                     struct romfs_error *err)
{
    memset(file, 0, sizeof *file);
    int fd = strcmp(path, "-") == 0 ? dup(STDIN_FILENO) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return romfs_set_errno(err, romfs_input_errno_code(errno), errno,
                               "cannot open %s", path);
    struct stat st;
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        int e = S_ISDIR(st.st_mode) ? EISDIR : errno;
        close(fd);
        return romfs_set_errno(err, romfs_input_errno_code(e), e,
                               "cannot read %s", path);
    }
    if (S_ISREG(st.st_mode) && st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) {
            file->data = p;
            file->size = (size_t)st.st_size;
            file->mapped = 1;
        }
    }
    if (!file->mapped) {
        size_t cap = 1 << 16, len = 0;
        uint8_t *buf = malloc(cap);
        for (;;) {
            if (!buf) {
                close(fd);
                return romfs_set_error(err, ROMFS_ERR_NOMEM, "out of memory reading %s", path);
            }
            if (len == cap) {
                uint8_t *nb = realloc(buf, cap *= 2);
                if (!nb)
                    free(buf);
                buf = nb;
                continue;
            }
            ssize_t r = read(fd, buf + len, cap - len);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                int e = errno;
                free(buf);
                close(fd);
                return romfs_set_errno(err, romfs_input_errno_code(e), e, "cannot read %s", path);
            }
            if (r == 0)
                break;
            len += (size_t)r;
        }
        file->data = buf;
        file->size = len;
    }
    close(fd);
    int rc = romfs_image_open(img, file->data, file->size, err);
    if (rc) {
        romfs_error_prefix(err, "%s", path);
        romfs_image_file_close(file);
    }
    return rc;
}

void romfs_image_file_close(struct romfs_image_file *file)
{
    if (file->mapped)
        munmap(file->data, file->size);
    else
        free(file->data);
    memset(file, 0, sizeof *file);
}
