/* Image decoding for effvk classify, through stb_image. */
#include "image.h"

#include <stdio.h>
#include <string.h>

#include <stb_image.h>

#include "effvk_internal.h"

int image_load_rgb(const char *path, rgb_image *out, char *error, size_t error_size)
{
    memset(out, 0, sizeof *out);
    /* Opened here rather than by stb_image: for the system's reason when it
     * fails, and so that a FIFO or device is refused instead of read. */
    FILE *file;
    if (evk_file_fopen_read(NULL, path, &file) != EVK_SUCCESS) {
        snprintf(error, error_size, "%s", evk_last_error(NULL));
        return -1;
    }
    int width, height, channels;
    unsigned char *pixels = stbi_load_from_file(file, &width, &height, &channels, 3);
    fclose(file);
    if (!pixels) {
        snprintf(error, error_size, "%s: not a decodable image (%s)", path,
                 stbi_failure_reason());
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
