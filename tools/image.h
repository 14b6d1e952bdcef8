/* Image files (PNG, JPEG, BMP, GIF, TGA, PSD, HDR, PIC, PNM through
 * stb_image) decoded to 8-bit RGB. */
#ifndef EFFVK_TOOLS_IMAGE_H
#define EFFVK_TOOLS_IMAGE_H

#include <stddef.h>
#include <stdint.h>

typedef struct rgb_image {
    uint32_t width, height;
    unsigned char *pixels;          /* height rows of width RGB triplets */
} rgb_image;

/* Decodes `path`; on failure returns -1 and writes the reason (a missing
 * file, an undecodable one) into `error`. */
int image_load_rgb(const char *path, rgb_image *out, char *error, size_t error_size);

void image_free(rgb_image *image);

#endif
