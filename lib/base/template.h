/* base/template.h: files from templates/, embedded into libromfs at build time. */
#ifndef ROMFS_TEMPLATE_H
#define ROMFS_TEMPLATE_H

#include <stddef.h>

struct romfs_template_file {
    const char *name;              /* path below templates/, e.g. "device/query.py" */
    const unsigned char *data;     /* contents, followed by one NUL byte */
    size_t size;                   /* contents length, without the NUL */
};

/* Terminated by an entry whose name is NULL. */
extern const struct romfs_template_file romfs_templates[];

/* The embedded template NAME (NUL-terminated text), or NULL if there is none;
 * *size (if non-NULL) receives its length. */
const char *romfs_template(const char *name, size_t *size);

#endif
