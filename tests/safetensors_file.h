/* Builds .safetensors files byte by byte for the tests and the fuzzer:
 * the 8-byte little-endian header length, the header text, the data. */
#ifndef EFFVK_TESTS_SAFETENSORS_FILE_H
#define EFFVK_TESTS_SAFETENSORS_FILE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline void st_file_put_u64(unsigned char *dst, uint64_t value)
{
    for (int i = 0; i < 8; ++i)
        dst[i] = (unsigned char)(value >> (8 * i));
}

/* A malloc'd file of exactly *size bytes; `data` NULL gives zero bytes. */
static inline unsigned char *st_file_make(const char *header, const void *data, size_t data_size,
                                          size_t *size)
{
    size_t header_size = strlen(header);
    *size = 8 + header_size + data_size;
    unsigned char *file = malloc(*size ? *size : 1);
    if (!file)
        abort();
    st_file_put_u64(file, header_size);
    memcpy(file + 8, header, header_size);
    if (data)
        memcpy(file + 8 + header_size, data, data_size);
    else
        memset(file + 8 + header_size, 0, data_size);
    return file;
}

#endif
