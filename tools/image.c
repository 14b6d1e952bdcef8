/* Image decoding for effvk classify, through stb_image. */
#include "image.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <stb_image.h>

int image_load_rgb(const char *path, rgb_image *out, char *error, size_t error_size)
{
    memset(out, 0, sizeof *out);
    /* stb_image reports a missing file as "can't fopen"; open it here first
     * for the system's reason. */
    FILE *file = fopen(path, "rb");
    if (!file) {
        snprintf(error, error_size, "cannot open: %s", strerror(errno));
        return -1;
    }
    int width, height, channels;
    unsigned char *pixels = stbi_load_from_file(file, &width, &height, &channels, 3);
    fclose(file);
    if (!pixels) {
        snprintf(error, error_size, "not a decodable image (%s)", stbi_failure_reason());
        return -1;
    }
    *out = (rgb_image){(uint32_t)width, (uint32_t)height, pixels};
    return 0;
}

void image_free(rgb_image *image)
{
    stbi_image_free(image->pixels);
    image->pixels = NULL;
}
