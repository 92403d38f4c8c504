/* image_args.h: loading the IMAGE argument the read-side commands share. */
#ifndef ROMFS_IMAGE_ARGS_H
#define ROMFS_IMAGE_ARGS_H

#include "cli.h"

/* Load IMAGE (path or "-") or print why not; returns EXIT_OK or an exit code. */
int cli_load_image(const char *path, struct romfs_image_file *file, struct romfs_image *img);

/* Print a name from an image safely: control bytes and invalid UTF-8 are escaped. */
void cli_print_name(FILE *out, const uint8_t *name, size_t len);

#endif
