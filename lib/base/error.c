/* error.c: filling struct romfs_error. */
#include "base/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int set_error(struct romfs_error *err, int code, enum romfs_need need, const char *fmt,
                     va_list ap)
{
    if (err) {
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        err->code = code;
        err->need = need;
    }
    return code;
}

int romfs_set_error(struct romfs_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_error(err, code, ROMFS_NEED_NOTHING, fmt, ap);
    va_end(ap);
    return code;
}

int romfs_set_error_need(struct romfs_error *err, int code, enum romfs_need need, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_error(err, code, need, fmt, ap);
    va_end(ap);
    return code;
}

int romfs_error_need(struct romfs_error *err, enum romfs_need need)
{
    if (!err)
        return ROMFS_ERR_INVAL;
    err->need = need;
    return err->code;
}

int romfs_set_errno(struct romfs_error *err, int code, int errno_value, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < sizeof err->msg)
        {
            /* strerror_r (XSI): strerror may share one buffer between threads */
            char text[128];
            if (strerror_r(errno_value, text, sizeof text) != 0)
                snprintf(text, sizeof text, "error %d", errno_value);
            snprintf(err->msg + n, sizeof err->msg - (size_t)n, ": %s", text);
        }
        err->code = code;
        err->need = ROMFS_NEED_NOTHING;
    }
    return code;
}

int romfs_error_prefix(struct romfs_error *err, const char *fmt, ...)
{
    if (!err)
        return ROMFS_ERR_INVAL;
    char prefix[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t plen = strlen(prefix), olen = strnlen(err->msg, sizeof err->msg - 1);
    if (plen + 2 >= sizeof err->msg)
        plen = sizeof err->msg - 3;
    if (plen + 2 + olen >= sizeof err->msg)
        olen = sizeof err->msg - 3 - plen;
    memmove(err->msg + plen + 2, err->msg, olen);
    memcpy(err->msg, prefix, plen);
    memcpy(err->msg + plen, ": ", 2);
    err->msg[plen + 2 + olen] = '\0';
    return err->code;
}

const char *romfs_strerror(int code)
{
    switch (code) {
    case ROMFS_OK: return "ok";
    case ROMFS_ERR_NOENT: return "not found";
    case ROMFS_ERR_IO: return "i/o error";
    case ROMFS_ERR_ACCESS: return "permission denied";
    case ROMFS_ERR_NOMEM: return "out of memory";
    case ROMFS_ERR_EXIST: return "exists";
    case ROMFS_ERR_NOTDIR: return "not a directory";
    case ROMFS_ERR_ISDIR: return "is a directory";
    case ROMFS_ERR_INVAL: return "invalid argument";
    case ROMFS_ERR_FBIG: return "too large";
    case ROMFS_ERR_NOSPC: return "no space left";
    case ROMFS_ERR_RANGE: return "out of range";
    case ROMFS_ERR_UNSUPPORTED: return "unsupported";
    case ROMFS_ERR_TIMEOUT: return "timed out";
    case ROMFS_ERR_CORRUPT: return "corrupt";
    case ROMFS_ERR_PROTOCOL: return "protocol error";
    case ROMFS_ERR_DEVICE: return "device error";
    case ROMFS_ERR_MISMATCH: return "mismatch";
    case ROMFS_ERR_TOOL: return "external tool failed";
    case ROMFS_ERR_CANCELED: return "canceled";
    default: return "error";
    }
}

int romfs_input_errno_code(int e)
{
    switch (e) {
    case ENOENT: return ROMFS_ERR_NOENT;
    case EACCES: case EPERM: return ROMFS_ERR_ACCESS;
    case EISDIR: return ROMFS_ERR_ISDIR;
    case ENOTDIR: return ROMFS_ERR_NOTDIR;
    default: return ROMFS_ERR_IO;
    }
}
