#include <string.h>

#include "pipeline.h"
#include "shader_registry.h"

static const evk_shader_entry *find_shader(const char *name)
{
    for (unsigned i = 0; i < evk_shader_registry_count; ++i)
        if (strcmp(evk_shader_registry[i].name, name) == 0)
            return &evk_shader_registry[i];
    return NULL;
}

const char *evk_embedded_shader(const char *name)
{
    const evk_shader_entry *shader = find_shader(name);
    return shader ? shader->name : NULL;
}

static int same_key(const evk_pipeline_key *a, const evk_pipeline_key *b)
{
    return strcmp(a->shader, b->shader) == 0 && a->workgroup_size == b->workgroup_size &&
           a->spec_count == b->spec_count && a->texel_bindings == b->texel_bindings &&
           a->float_texel_bindings == b->float_texel_bindings &&
           a->half_texel_bindings == b->half_texel_bindings &&
           memcmp(a->spec, b->spec, a->spec_count * sizeof a->spec[0]) == 0;
}

static uint32_t bit_count(uint32_t bits)
{
    uint32_t count = 0;
    for (; bits; bits &= bits - 1)
        ++count;
    return count;
}

static evk_status check_limits(evk_context *ctx, const evk_pipeline_key *key)
{
    const evk_device_limits *l = &ctx->profile.limits;
    if (key->workgroup_size == 0 || key->workgroup_size > l->workgroup_size ||
        key->workgroup_size > l->workgroup_invocations)
        return evk_fail(ctx, EVK_ERROR_LIMIT_EXCEEDED,
                        "%s: workgroup size %u exceeds the device's %u (invocations %u)",
                        key->shader, key->workgroup_size, l->workgroup_size,
                        l->workgroup_invocations);
    if (key->shared_bytes > l->shared_memory_bytes)
        return evk_fail(ctx, EVK_ERROR_LIMIT_EXCEEDED,
                        "%s: %u bytes of shared memory exceed the device's %u", key->shader,
                        key->shared_bytes, l->shared_memory_bytes);
    if (key->push_bytes > l->push_constants_bytes)
        return evk_fail(ctx, EVK_ERROR_LIMIT_EXCEEDED,
                        "%s: %u bytes of push constants exceed the device's %u", key->shader,
                        key->push_bytes, l->push_constants_bytes);
    uint32_t texels = bit_count(key->texel_bindings);
    uint32_t storage = key->binding_count > texels ? key->binding_count - texels : 0;
    if (storage > l->storage_buffers || texels > l->sampled_images)
        return evk_fail(ctx, EVK_ERROR_LIMIT_EXCEEDED,
                        "%s: %u storage buffers and %u texel buffers exceed the device's %u "
                        "storage buffers (maxPerStageDescriptorStorageBuffers) or %u sampled "
                        "images (maxPerStageDescriptorSampledImages) per stage", key->shader,
                        storage, texels, l->storage_buffers, l->sampled_images);
    if (key->binding_count > EVK_MAX_BINDINGS || key->spec_count > EVK_MAX_SPEC_CONSTANTS ||
        (key->texel_bindings >> key->binding_count) != 0 ||
        bit_count(key->texel_bindings) > EVK_MAX_TEXEL_BINDINGS)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: too many bindings or constants",
                        key->shader);
    return EVK_SUCCESS;
}

static evk_status create_layouts(evk_context *ctx, evk_pipeline *p)
{
    VkDescriptorSetLayoutBinding bindings[EVK_MAX_BINDINGS];
    for (uint32_t i = 0; i < p->key.binding_count; ++i)
        bindings[i] = (VkDescriptorSetLayoutBinding){
            .binding = i,
            .descriptorType = (p->key.texel_bindings >> i & 1u) ? VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER
                                                                : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .descriptorCount = 1,
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
    VkDescriptorSetLayoutCreateInfo set_info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = p->key.binding_count,
        .pBindings = bindings};
    VkResult r = ctx->vk.vkCreateDescriptorSetLayout(ctx->device, &set_info, NULL, &p->set_layout);
    if (r != VK_SUCCESS)
        return evk_fail_vk(ctx, r, "vkCreateDescriptorSetLayout");
    VkPushConstantRange range = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
                                 .size = p->key.push_bytes};
    VkPipelineLayoutCreateInfo layout_info = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &p->set_layout,
        .pushConstantRangeCount = p->key.push_bytes ? 1 : 0,
        .pPushConstantRanges = p->key.push_bytes ? &range : NULL};
    r = ctx->vk.vkCreatePipelineLayout(ctx->device, &layout_info, NULL, &p->layout);
    return r == VK_SUCCESS ? EVK_SUCCESS : evk_fail_vk(ctx, r, "vkCreatePipelineLayout");
}

static evk_status create_pipeline(evk_context *ctx, const evk_shader_entry *shader, evk_pipeline *p)
{
    VkShaderModuleCreateInfo module_info = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                            .codeSize = shader->bytes,
                                            .pCode = shader->code};
    VkShaderModule module;
    VkResult r = ctx->vk.vkCreateShaderModule(ctx->device, &module_info, NULL, &module);
    if (r != VK_SUCCESS)
        return evk_fail_vk(ctx, r, "vkCreateShaderModule");
    uint32_t values[EVK_MAX_SPEC_CONSTANTS + 1];
    VkSpecializationMapEntry entries[EVK_MAX_SPEC_CONSTANTS + 1];
    values[0] = p->key.workgroup_size;
    for (uint32_t i = 0; i < p->key.spec_count; ++i)
        values[i + 1] = p->key.spec[i];
    for (uint32_t i = 0; i <= p->key.spec_count; ++i)
        entries[i] = (VkSpecializationMapEntry){.constantID = i,
                                                .offset = i * (uint32_t)sizeof(uint32_t),
                                                .size = sizeof(uint32_t)};
    VkSpecializationInfo spec = {.mapEntryCount = p->key.spec_count + 1,
                                 .pMapEntries = entries,
                                 .dataSize = (p->key.spec_count + 1) * sizeof(uint32_t),
                                 .pData = values};
    VkComputePipelineCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                  .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                  .module = module,
                  .pName = "main",
                  .pSpecializationInfo = &spec},
        .layout = p->layout};
    r = ctx->vk.vkCreateComputePipelines(ctx->device, ctx->pipeline_cache, 1, &info, NULL,
                                         &p->pipeline);
    ctx->vk.vkDestroyShaderModule(ctx->device, module, NULL);
    return r == VK_SUCCESS ? EVK_SUCCESS : evk_fail_vk(ctx, r, "vkCreateComputePipelines");
}

static void destroy_pipeline(evk_context *ctx, evk_pipeline *p)
{
    if (p->pipeline)
        ctx->vk.vkDestroyPipeline(ctx->device, p->pipeline, NULL);
    if (p->layout)
        ctx->vk.vkDestroyPipelineLayout(ctx->device, p->layout, NULL);
    if (p->set_layout)
        ctx->vk.vkDestroyDescriptorSetLayout(ctx->device, p->set_layout, NULL);
    evk_free(ctx, p);
}

static evk_pipeline *find_pipeline(const evk_context *ctx, const evk_pipeline_key *key)
{
    for (evk_pipeline *p = ctx->pipelines; p; p = p->next)
        if (same_key(&p->key, key))
            return p;
    return NULL;
}

evk_status evk_pipeline_census_add(evk_context *ctx, const evk_pipeline_key *key)
{
    evk_pipeline_progress *p = &ctx->progress;
    if (find_pipeline(ctx, key))
        return EVK_SUCCESS;
    for (uint32_t i = 0; i < p->census_count; ++i)
        if (same_key(&p->census[i], key))
            return EVK_SUCCESS;
    if (p->census_count == p->census_capacity) {
        uint32_t capacity = p->census_capacity ? 2 * p->census_capacity : 32;
        evk_pipeline_key *keys = evk_alloc(ctx, capacity * sizeof *keys);
        if (!keys)
            return evk_fail_oom(ctx, "pipeline census");
        if (p->census_count)
            memcpy(keys, p->census, p->census_count * sizeof *keys);
        evk_free(ctx, p->census);
        p->census = keys;
        p->census_capacity = capacity;
    }
    p->census[p->census_count++] = *key;
    return EVK_SUCCESS;
}

int evk_pipeline_census_begin(evk_context *ctx)
{
    if (!ctx->progress.callback)
        return 0;
    ctx->progress.counting = 1;
    ctx->progress.census_count = 0;
    return 1;
}

evk_status evk_pipeline_census_end(evk_context *ctx, evk_status recorded)
{
    evk_pipeline_progress *p = &ctx->progress;
    uint32_t total = p->census_count;
    p->counting = 0;
    evk_free(ctx, p->census);
    p->census = NULL;
    p->census_count = p->census_capacity = 0;
    if (recorded != EVK_SUCCESS)
        return recorded;
    p->created = 0;
    p->total = total;
    if (total)
        p->callback(0, total, p->user_data);
    return EVK_SUCCESS;
}

/* Before a pipeline is created: one outside a counted batch is a batch of
 * its own. */
static void report_creating(evk_context *ctx)
{
    evk_pipeline_progress *p = &ctx->progress;
    if (!p->callback || p->total)
        return;
    p->created = 0;
    p->total = 1;
    p->callback(0, 1, p->user_data);
}

/* After a pipeline was created, or its creation failed (which ends the
 * batch without reporting it complete). */
static void report_created(evk_context *ctx, evk_status created)
{
    evk_pipeline_progress *p = &ctx->progress;
    if (!p->callback || !p->total)
        return;
    if (created != EVK_SUCCESS) {
        p->total = 0;
        return;
    }
    p->callback(++p->created, p->total, p->user_data);
    if (p->created == p->total)
        p->total = 0;
}

evk_status evk_pipeline_get(evk_context *ctx, const evk_pipeline_key *key, evk_pipeline **out)
{
    *out = find_pipeline(ctx, key);
    if (*out)
        return EVK_SUCCESS;
    const evk_shader_entry *shader = find_shader(key->shader);
    if (!shader)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "no embedded shader named \"%s\"",
                        key->shader);
    evk_status s = check_limits(ctx, key);
    if (s != EVK_SUCCESS)
        return s;
    evk_pipeline *p = evk_calloc(ctx, 1, sizeof *p);
    if (!p)
        return evk_fail_oom(ctx, "pipeline");
    p->key = *key;
    report_creating(ctx);
    s = create_layouts(ctx, p);
    if (s == EVK_SUCCESS)
        s = create_pipeline(ctx, shader, p);
    report_created(ctx, s);
    if (s != EVK_SUCCESS) {
        destroy_pipeline(ctx, p);
        return s;
    }
    p->next = ctx->pipelines;
    ctx->pipelines = p;
    ctx->stats.pipelines_created++;
    *out = p;
    return EVK_SUCCESS;
}

void evk_pipelines_destroy(evk_context *ctx)
{
    while (ctx->pipelines) {
        evk_pipeline *next = ctx->pipelines->next;
        destroy_pipeline(ctx, ctx->pipelines);
        ctx->pipelines = next;
    }
}
