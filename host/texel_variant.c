#include <stdio.h>

#include "profile.h"
#include "texel_variant.h"

/* The texel variant of key's shader when every binding the key's masks name
 * can be viewed so and the profile has texel loads on, or the storage-buffer
 * variant would bind more storage buffers than a stage may (Android's
 * baseline allows 4: the texel buffers count against its 16 sampled
 * images instead); else NULL. */
static const char *texel_variant(const evk_context *ctx, const evk_pipeline_key *key,
                                 const evk_binding *bindings)
{
    int over_limit = key->binding_count > ctx->profile.limits.storage_buffers;
    if (!key->texel_bindings || (ctx->profile.texel_loads != EVK_SWITCH_ON && !over_limit))
        return NULL;
    for (uint32_t i = 0; i < key->binding_count; ++i)
        if ((key->texel_bindings >> i & 1u) &&
            (bindings[i].no_texel_views ||
             !evk_texel_range_fits(&ctx->profile.limits, bindings[i].offset, bindings[i].range,
                                   (key->float_texel_bindings >> i & 1u) ? 4u : 16u)))
            return NULL;
    char name[128];
    snprintf(name, sizeof name, "%s_texel", key->shader);
    return evk_embedded_shader(name);
}

void evk_choose_texel_variant(const evk_context *ctx, evk_pipeline_key *key,
                              const evk_binding *bindings)
{
    const char *variant = texel_variant(ctx, key, bindings);
    if (variant) {
        key->shader = variant;
        return;
    }
    key->texel_bindings = 0;
    key->float_texel_bindings = 0;
}
