/* template.c: lookup of embedded templates/ files. */
#include "base/template.h"

#include <string.h>

const char *romfs_template(const char *name, size_t *size)
{
    for (const struct romfs_template_file *t = romfs_templates; t->name; t++) {
        if (strcmp(t->name, name) == 0) {
            if (size)
                *size = t->size;
            return (const char *)t->data;
        }
    }
    return NULL;
}
