/* What a recording into the application's command buffer holds (the
 * descriptor sets and texel views of its dispatches) until the application
 * releases it. */
#ifndef EFFVK_HOST_RECORDED_H
#define EFFVK_HOST_RECORDED_H

#include "command.h"

typedef struct evk_context evk_context;

struct evk_recorded {
    evk_context *ctx;
    evk_descriptor_pool_node *pools;
};

evk_status evk_recorded_create(evk_context *ctx, evk_recorded **out);
void evk_recorded_free(evk_recorded *recorded);

#endif
