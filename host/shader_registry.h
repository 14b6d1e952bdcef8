/* The SPIR-V of every shader in shaders/, embedded at build time
 * (cmake/shaders.cmake generates the table). */
#ifndef EFFVK_HOST_SHADER_REGISTRY_H
#define EFFVK_HOST_SHADER_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

typedef struct evk_shader_entry {
    const char *name;               /* file name without .comp */
    const uint32_t *code;
    size_t bytes;
} evk_shader_entry;

extern const evk_shader_entry evk_shader_registry[];
extern const unsigned evk_shader_registry_count;

#endif
