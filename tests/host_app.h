/* A host application's Vulkan objects for the embedding tests: its own
 * instance with the validation layer (optionally with synchronisation
 * validation) and a messenger that counts every message, a device with one
 * compute queue (timeline semaphores enabled where the device has them),
 * and a context that adopts them. */
#ifndef EFFVK_TEST_HOST_APP_H
#define EFFVK_TEST_HOST_APP_H

#include "vk_commands.h"

typedef struct host_app {
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    tu_vulkan vulkan;               /* its device, queue and their functions */
    int timeline_semaphores;        /* enabled on the device */
    unsigned messages;
} host_app;

/* With `sync_validation`, the layer also checks hazards between commands
 * and submissions (VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT). */
void host_app_create(host_app *app, int sync_validation);
/* The objects still work: the device idles, takes a buffer, the queue waits. */
void host_app_assert_alive(host_app *app);
void host_app_destroy(host_app *app);

/* A context on the application's objects, logging into `log`, with the
 * queue lock `lock` (may be NULL). */
evk_context *host_app_adopt(host_app *app, tu_log *log, void (*lock)(int, void *), void *user);

#endif
