/* Vulkan drivers kept loaded for the life of the process (driver_pin.c says
 * why). */
#ifndef EFFVK_HOST_DRIVER_PIN_H
#define EFFVK_HOST_DRIVER_PIN_H

/* Marks the Vulkan drivers loaded so far as never to be unloaded; called
 * after each vkCreateInstance. */
void evk_pin_vulkan_drivers(void);

#endif
