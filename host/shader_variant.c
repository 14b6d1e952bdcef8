#include <stdio.h>

#include "element_storage.h"
#include "profile.h"
#include "shader_variant.h"

uint32_t evk_texel_bytes(const evk_pipeline_key *key, uint32_t binding)
{
    uint32_t lanes = (key->float_texel_bindings >> binding & 1u) ? 1u : 4u;
    return lanes * ((key->half_texel_bindings >> binding & 1u) ? 2u : 4u);
}

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
                                   evk_texel_bytes(key, i))))
            return NULL;
    char name[128];
    snprintf(name, sizeof name, "%s_texel", key->shader);
    return evk_embedded_shader(name);
}

/* The precision's variant of `shader`, or NULL when it has none. */
static const char *precision_variant(const evk_context *ctx, const char *shader)
{
    char name[128];
    if (ctx->precision.chosen == EVK_PRECISION_FP16) {
        snprintf(name, sizeof name, "%s_f16", shader);
        const char *variant = evk_embedded_shader(name);
        if (variant)
            return variant;
    }
    snprintf(name, sizeof name, "%s_f16s", shader);
    return evk_embedded_shader(name);
}

evk_status evk_choose_variant(evk_context *ctx, evk_pipeline_key *key,
                              const evk_binding *bindings)
{
    int half = evk_storage_is_half(ctx) && !key->precision_independent;
    key->half_texel_bindings = half ? key->texel_bindings & ~key->wide_bindings : 0;
    const char *texel = texel_variant(ctx, key, bindings);
    if (texel) {
        key->shader = texel;
    } else {
        key->texel_bindings = 0;
        key->float_texel_bindings = 0;
        key->half_texel_bindings = 0;
    }
    if (!half)
        return EVK_SUCCESS;
    const char *variant = precision_variant(ctx, key->shader);
    if (!variant)
        return evk_fail(ctx, EVK_ERROR_UNSUPPORTED, "shader %s has no 16-bit storage variant "
                        "(precision %s)", key->shader, evk_precision_name(ctx->precision.chosen));
    key->shader = variant;
    return EVK_SUCCESS;
}
