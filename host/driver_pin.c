/* Keeps every Vulkan driver (ICD) library loaded once the loader has loaded
 * it. The loader unloads drivers when their last instance is destroyed and
 * loads them again for the next one. NVIDIA's driver takes static TLS on each
 * load, which glibc never returns on unload: on an H200 with driver 580 the
 * 12th context created in one process failed ("libnvidia-tls.so: cannot
 * allocate memory in static TLS block", then VK_ERROR_INCOMPATIBLE_DRIVER).
 * A driver pinned with RTLD_NODELETE is loaded once per process. */
#define _GNU_SOURCE

#include "driver_pin.h"

#if defined(__linux__) && !defined(__ANDROID__)
#include <dlfcn.h>
#include <link.h>

enum { MAX_LOADED_OBJECTS = 1024 };

typedef struct loaded_objects {
    const char *names[MAX_LOADED_OBJECTS];
    unsigned count;
} loaded_objects;

static int collect_name(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    loaded_objects *objects = data;
    if (info->dlpi_name && info->dlpi_name[0] && objects->count < MAX_LOADED_OBJECTS)
        objects->names[objects->count++] = info->dlpi_name;
    return 0;
}

/* dlopen is not called from inside dl_iterate_phdr, which holds the
 * dynamic linker's lock. */
void evk_pin_vulkan_drivers(void)
{
    loaded_objects objects = {.count = 0};
    dl_iterate_phdr(collect_name, &objects);
    for (unsigned i = 0; i < objects.count; ++i) {
        void *handle = dlopen(objects.names[i], RTLD_LAZY | RTLD_NOLOAD);
        if (!handle)
            continue;
        if (dlsym(handle, "vk_icdGetInstanceProcAddr")) {
            void *pinned = dlopen(objects.names[i], RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
            if (pinned)
                dlclose(pinned);
        }
        dlclose(handle);
    }
}
#else
void evk_pin_vulkan_drivers(void)
{
}
#endif
