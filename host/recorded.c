#include "recorded.h"
#include "context.h"
#include "context_entry.h"

evk_status evk_recorded_create(evk_context *ctx, evk_recorded **out)
{
    *out = evk_calloc(ctx, 1, sizeof **out);
    if (!*out)
        return evk_fail_oom(ctx, "recorded commands");
    (*out)->ctx = ctx;
    return EVK_SUCCESS;
}

void evk_recorded_free(evk_recorded *recorded)
{
    evk_context *ctx = recorded->ctx;
    evk_descriptor_pools_destroy(ctx, &recorded->pools);
    evk_free(ctx, recorded);
}

void evk_recorded_release(evk_recorded *recorded)
{
    if (recorded)
        EVK_ENTERED_VOID(recorded->ctx, evk_recorded_free(recorded));
}
