#include <string.h>

#include "context.h"
#include "pipeline.h"
#include "profile.h"
#include "shader_variant.h"
#include "context_entry.h"
#include "run.h"

static evk_status add_descriptor_pool(evk_context *ctx)
{
    evk_descriptor_pool_node *node = evk_calloc(ctx, 1, sizeof *node);
    if (!node)
        return evk_fail_oom(ctx, "descriptor pool");
    VkDescriptorPoolSize sizes[2] = {
        {.type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
         .descriptorCount = EVK_SETS_PER_POOL * EVK_MAX_BINDINGS},
        {.type = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER,
         .descriptorCount = EVK_SETS_PER_POOL * EVK_MAX_TEXEL_BINDINGS}};
    VkDescriptorPoolCreateInfo info = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                       .maxSets = EVK_SETS_PER_POOL,
                                       .poolSizeCount = 2,
                                       .pPoolSizes = sizes};
    VkResult r = ctx->vk.vkCreateDescriptorPool(ctx->device, &info, NULL, &node->pool);
    if (r != VK_SUCCESS) {
        evk_free(ctx, node);
        return evk_fail_vk(ctx, r, "vkCreateDescriptorPool");
    }
    node->next = ctx->cmd.descriptor_pools;
    ctx->cmd.descriptor_pools = node;
    return EVK_SUCCESS;
}

static void release_views(evk_context *ctx, evk_descriptor_pool_node *node)
{
    for (uint32_t i = 0; i < node->view_count; ++i)
        ctx->vk.vkDestroyBufferView(ctx->device, node->views[i], NULL);
    node->view_count = 0;
}

static void destroy_pools(evk_context *ctx, evk_descriptor_pool_node **head)
{
    while (*head) {
        evk_descriptor_pool_node *next = (*head)->next;
        release_views(ctx, *head);
        ctx->vk.vkDestroyDescriptorPool(ctx->device, (*head)->pool, NULL);
        evk_free(ctx, *head);
        *head = next;
    }
}

static evk_status create_timestamps(evk_context *ctx)
{
    if (ctx->props.timestamp_period_ns <= 0.0)
        return EVK_SUCCESS;
    uint32_t count = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(ctx->physical_device, &count, NULL);
    VkQueueFamilyProperties families[16];
    count = count < 16 ? count : 16;
    vkGetPhysicalDeviceQueueFamilyProperties(ctx->physical_device, &count, families);
    if (ctx->queue_family >= count || !families[ctx->queue_family].timestampValidBits)
        return EVK_SUCCESS;
    VkQueryPoolCreateInfo info = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                  .queryType = VK_QUERY_TYPE_TIMESTAMP,
                                  .queryCount = 2 + EVK_MAX_TIMED_DISPATCHES};
    VkResult r = ctx->vk.vkCreateQueryPool(ctx->device, &info, NULL, &ctx->cmd.timestamps);
    return r == VK_SUCCESS ? EVK_SUCCESS : evk_fail_vk(ctx, r, "vkCreateQueryPool");
}

evk_status evk_command_init(evk_context *ctx)
{
    evk_command *c = &ctx->cmd;
    VkCommandPoolCreateInfo pool_info = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                         .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                         .queueFamilyIndex = ctx->queue_family};
    VkResult r = ctx->vk.vkCreateCommandPool(ctx->device, &pool_info, NULL, &c->pool);
    if (r != VK_SUCCESS)
        return evk_fail_vk(ctx, r, "vkCreateCommandPool");
    VkCommandBufferAllocateInfo alloc = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                         .commandPool = c->pool,
                                         .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                         .commandBufferCount = 1};
    r = ctx->vk.vkAllocateCommandBuffers(ctx->device, &alloc, &c->buffer);
    if (r != VK_SUCCESS)
        return evk_fail_vk(ctx, r, "vkAllocateCommandBuffers");
    VkFenceCreateInfo fence_info = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    r = ctx->vk.vkCreateFence(ctx->device, &fence_info, NULL, &c->fence);
    if (r != VK_SUCCESS)
        return evk_fail_vk(ctx, r, "vkCreateFence");
    evk_status s = create_timestamps(ctx);
    return s == EVK_SUCCESS ? add_descriptor_pool(ctx) : s;
}

void evk_command_destroy(evk_context *ctx)
{
    evk_command *c = &ctx->cmd;
    destroy_pools(ctx, &c->descriptor_pools);
    if (c->timestamps)
        ctx->vk.vkDestroyQueryPool(ctx->device, c->timestamps, NULL);
    if (c->fence)
        ctx->vk.vkDestroyFence(ctx->device, c->fence, NULL);
    if (c->pool)
        ctx->vk.vkDestroyCommandPool(ctx->device, c->pool, NULL);
    memset(c, 0, sizeof *c);
}

static void full_barrier(evk_context *ctx);

static void reset_pools(evk_context *ctx)
{
    for (evk_descriptor_pool_node *n = ctx->cmd.descriptor_pools; n; n = n->next) {
        release_views(ctx, n);
        ctx->vk.vkResetDescriptorPool(ctx->device, n->pool, 0);
    }
}

/* Every recording starts with a barrier after earlier compute and transfer
 * writes in the queue, so that submissions still in flight (asynchronous
 * runs, the same recording submitted twice) finish with a buffer before the
 * next one reads or writes it. */
static evk_status begin_buffer(evk_context *ctx, VkCommandBufferUsageFlags flags)
{
    evk_command *c = &ctx->cmd;
    reset_pools(ctx);
    VkCommandBufferBeginInfo info = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                     .flags = flags};
    VkResult r = ctx->vk.vkBeginCommandBuffer(c->buffer, &info);
    if (r != VK_SUCCESS)
        return evk_fail_vk(ctx, r, "vkBeginCommandBuffer");
    c->recording = 1;
    c->timed_dispatches = 0;
    if (c->timestamps && !c->untimed) {
        ctx->vk.vkCmdResetQueryPool(c->buffer, c->timestamps, 0, 2 + EVK_MAX_TIMED_DISPATCHES);
        ctx->vk.vkCmdWriteTimestamp(c->buffer, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, c->timestamps, 0);
    }
    full_barrier(ctx);
    return EVK_SUCCESS;
}

evk_status evk_command_begin(evk_context *ctx)
{
    if (ctx->cmd.recording)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "command buffer is already recording");
    return begin_buffer(ctx, VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT);
}

static int contains(const VkBuffer *list, uint32_t count, VkBuffer b)
{
    for (uint32_t i = 0; i < count; ++i)
        if (list[i] == b)
            return 1;
    return 0;
}

static void full_barrier(evk_context *ctx)
{
    evk_command *c = &ctx->cmd;
    VkMemoryBarrier barrier = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                               .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                               .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                                                VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT};
    VkPipelineStageFlags stages = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    ctx->vk.vkCmdPipelineBarrier(c->buffer, stages, stages, 0, 1, &barrier, 0, NULL, 0, NULL);
    c->written_count = c->read_count = 0;
}

/* Read-after-write and write-after-write/read need a barrier; reads after
 * reads do not. */
static void track_bindings(evk_context *ctx, const evk_binding *bindings, uint32_t count)
{
    evk_command *c = &ctx->cmd;
    int conflict = c->written_count + count > EVK_MAX_TRACKED_BUFFERS ||
                   c->read_count + count > EVK_MAX_TRACKED_BUFFERS;
    for (uint32_t i = 0; i < count; ++i)
        conflict |= contains(c->written, c->written_count, bindings[i].buffer) ||
                    (bindings[i].writes && contains(c->read, c->read_count, bindings[i].buffer));
    if (conflict)
        full_barrier(ctx);
    for (uint32_t i = 0; i < count; ++i) {
        if (bindings[i].writes)
            c->written[c->written_count++] = bindings[i].buffer;
        else
            c->read[c->read_count++] = bindings[i].buffer;
    }
}

int evk_fold_grid(uint64_t group_count, const uint32_t limit[3], uint32_t grid[3])
{
    uint64_t remaining = group_count ? group_count : 1;
    for (int d = 0; d < 3; ++d) {
        uint64_t dim = remaining < limit[d] ? remaining : limit[d];
        if (d == 2 && remaining > limit[d])
            return 0;
        grid[d] = (uint32_t)dim;
        remaining = remaining / dim + (remaining % dim != 0);
    }
    return 1;
}

static evk_status allocate_set(evk_context *ctx, const evk_pipeline *p, VkDescriptorSet *set)
{
    VkDescriptorSetAllocateInfo info = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                        .descriptorPool = ctx->cmd.descriptor_pools->pool,
                                        .descriptorSetCount = 1,
                                        .pSetLayouts = &p->set_layout};
    VkResult r = ctx->vk.vkAllocateDescriptorSets(ctx->device, &info, set);
    if (r == VK_ERROR_OUT_OF_POOL_MEMORY || r == VK_ERROR_FRAGMENTED_POOL) {
        evk_status s = add_descriptor_pool(ctx);
        if (s != EVK_SUCCESS)
            return s;
        info.descriptorPool = ctx->cmd.descriptor_pools->pool;
        r = ctx->vk.vkAllocateDescriptorSets(ctx->device, &info, set);
    }
    return r == VK_SUCCESS ? EVK_SUCCESS : evk_fail_vk(ctx, r, "vkAllocateDescriptorSets");
}

/* A view of texel binding `index` of `key`, owned by the pool that holds
 * the set. */
static evk_status create_texel_view(evk_context *ctx, const evk_pipeline_key *key, uint32_t index,
                                    const evk_binding *binding, VkBufferView *out)
{
    evk_descriptor_pool_node *node = ctx->cmd.descriptor_pools;
    const evk_device_profile *profile = &ctx->profile;
    uint32_t texel_bytes = evk_texel_bytes(key, index);
    if (!evk_texel_range_fits(&profile->limits, binding->offset, binding->range, texel_bytes))
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "texel binding at offset %llu, %llu bytes: not aligned to %u bytes or "
                        "over the device's %u texels", (unsigned long long)binding->offset,
                        (unsigned long long)binding->range, profile->limits.texel_offset_alignment,
                        profile->limits.texel_buffer_elements);
    static const VkFormat formats[] = {VK_FORMAT_R16_SFLOAT, VK_FORMAT_R32_SFLOAT,
                                       VK_FORMAT_R16G16B16A16_SFLOAT,
                                       VK_FORMAT_R32G32B32A32_SFLOAT};
    int half = (key->half_texel_bindings >> index & 1u) != 0;
    int vec4 = !(key->float_texel_bindings >> index & 1u);
    VkBufferViewCreateInfo info = {.sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
                                   .buffer = binding->buffer,
                                   .format = formats[vec4 * 2 + !half],
                                   .offset = binding->offset,
                                   .range = binding->range};
    VkResult r = ctx->vk.vkCreateBufferView(ctx->device, &info, NULL, &node->views[node->view_count]);
    if (r != VK_SUCCESS)
        return evk_fail_vk(ctx, r, "vkCreateBufferView");
    *out = node->views[node->view_count++];
    return EVK_SUCCESS;
}

static evk_status write_set(evk_context *ctx, const evk_pipeline *pipeline, VkDescriptorSet set,
                            const evk_binding *bindings)
{
    uint32_t count = pipeline->key.binding_count;
    VkDescriptorBufferInfo infos[EVK_MAX_BINDINGS];
    VkBufferView views[EVK_MAX_BINDINGS];
    VkWriteDescriptorSet writes[EVK_MAX_BINDINGS];
    for (uint32_t i = 0; i < count; ++i) {
        infos[i] = (VkDescriptorBufferInfo){bindings[i].buffer, bindings[i].offset, bindings[i].range};
        writes[i] = (VkWriteDescriptorSet){.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                                           .dstSet = set,
                                           .dstBinding = i,
                                           .descriptorCount = 1,
                                           .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                           .pBufferInfo = &infos[i]};
        if (!(pipeline->key.texel_bindings >> i & 1u))
            continue;
        evk_status s = create_texel_view(ctx, &pipeline->key, i, &bindings[i], &views[i]);
        if (s != EVK_SUCCESS)
            return s;
        writes[i].descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
        writes[i].pBufferInfo = NULL;
        writes[i].pTexelBufferView = &views[i];
    }
    ctx->vk.vkUpdateDescriptorSets(ctx->device, count, writes, 0, NULL);
    return EVK_SUCCESS;
}

/* With dispatch timing on, a timestamp once the dispatch just recorded (and
 * everything before it) has finished. */
static void write_dispatch_timestamp(evk_context *ctx)
{
    evk_command *c = &ctx->cmd;
    if (!c->timestamps || c->untimed || !c->time_dispatches ||
        c->timed_dispatches == EVK_MAX_TIMED_DISPATCHES)
        return;
    ctx->vk.vkCmdWriteTimestamp(c->buffer, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, c->timestamps,
                                2 + c->timed_dispatches++);
}

evk_status evk_command_dispatch_pipeline(evk_context *ctx, const evk_pipeline *pipeline,
                                         const evk_binding *bindings, uint32_t binding_count,
                                         const void *push, uint32_t push_bytes,
                                         uint64_t group_count)
{
    if (binding_count != pipeline->key.binding_count || push_bytes != pipeline->key.push_bytes)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "%s: dispatch with %u bindings / %u push bytes, pipeline has %u / %u",
                        pipeline->key.shader, binding_count, push_bytes,
                        pipeline->key.binding_count, pipeline->key.push_bytes);
    uint32_t grid[3];
    const uint32_t *limit = ctx->profile.limits.workgroup_count;
    if (!evk_fold_grid(group_count, limit, grid))
        return evk_fail(ctx, EVK_ERROR_LIMIT_EXCEEDED,
                        "%s: %llu workgroups exceed the device's grid %u x %u x %u",
                        pipeline->key.shader, (unsigned long long)group_count, limit[0], limit[1],
                        limit[2]);
    VkDescriptorSet set;
    evk_status s = allocate_set(ctx, pipeline, &set);
    if (s != EVK_SUCCESS)
        return s;
    s = write_set(ctx, pipeline, set, bindings);
    if (s != EVK_SUCCESS)
        return s;
    track_bindings(ctx, bindings, binding_count);
    VkCommandBuffer cb = ctx->cmd.buffer;
    ctx->vk.vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline->pipeline);
    ctx->vk.vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline->layout, 0, 1, &set,
                                    0, NULL);
    if (push_bytes)
        ctx->vk.vkCmdPushConstants(cb, pipeline->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes,
                                   push);
    ctx->vk.vkCmdDispatch(cb, grid[0], grid[1], grid[2]);
    ctx->stats.dispatches_recorded++;
    write_dispatch_timestamp(ctx);
    return EVK_SUCCESS;
}

evk_status evk_command_dispatch(evk_context *ctx, const evk_pipeline_key *key,
                                const evk_binding *bindings, const void *push,
                                uint64_t group_count)
{
    evk_pipeline_key chosen = *key;
    evk_status s = evk_choose_variant(ctx, &chosen, bindings);
    if (s != EVK_SUCCESS)
        return s;
    if (ctx->progress.counting)
        return evk_pipeline_census_add(ctx, &chosen);
    evk_pipeline *pipeline;
    s = evk_pipeline_get(ctx, &chosen, &pipeline);
    if (s != EVK_SUCCESS)
        return s;
    return evk_command_dispatch_pipeline(ctx, pipeline, bindings, key->binding_count, push,
                                         key->push_bytes, group_count);
}

void evk_command_copy(evk_context *ctx, VkBuffer src, VkDeviceSize src_offset, VkBuffer dst,
                      VkDeviceSize dst_offset, VkDeviceSize bytes)
{
    evk_binding pair[2] = {{src, src_offset, bytes, 0, 0}, {dst, dst_offset, bytes, 1, 0}};
    track_bindings(ctx, pair, 2);
    VkBufferCopy region = {.srcOffset = src_offset, .dstOffset = dst_offset, .size = bytes};
    ctx->vk.vkCmdCopyBuffer(ctx->cmd.buffer, src, dst, 1, &region);
}

void evk_command_fill_zero(evk_context *ctx, VkBuffer dst, VkDeviceSize bytes)
{
    evk_binding binding = {dst, 0, bytes, 1, 0};
    track_bindings(ctx, &binding, 1);
    ctx->vk.vkCmdFillBuffer(ctx->cmd.buffer, dst, 0, bytes, 0);
}

/* Dispatch i's time runs from the previous dispatch's timestamp (the
 * submission's start for the first) to its own. */
static void read_dispatch_times(evk_context *ctx, uint64_t start)
{
    evk_command *c = &ctx->cmd;
    uint64_t ticks[EVK_MAX_TIMED_DISPATCHES];
    c->dispatch_ms_count = 0;
    if (!c->timed_dispatches)
        return;
    VkResult r = ctx->vk.vkGetQueryPoolResults(ctx->device, c->timestamps, 2, c->timed_dispatches,
                                               sizeof ticks, ticks, sizeof ticks[0],
                                               VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
    if (r != VK_SUCCESS)
        return;
    for (uint32_t i = 0; i < c->timed_dispatches; ++i) {
        uint64_t before = i ? ticks[i - 1] : start;
        c->dispatch_ms[i] = ticks[i] >= before ?
            (double)(ticks[i] - before) * ctx->props.timestamp_period_ns * 1e-6 : 0.0;
    }
    c->dispatch_ms_count = c->timed_dispatches;
}

static void read_gpu_time(evk_context *ctx)
{
    uint64_t ticks[2];
    VkResult r = ctx->vk.vkGetQueryPoolResults(ctx->device, ctx->cmd.timestamps, 0, 2, sizeof ticks,
                                               ticks, sizeof ticks[0],
                                               VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
    ctx->have_gpu_time = r == VK_SUCCESS && ticks[1] >= ticks[0];
    if (ctx->have_gpu_time)
        ctx->last_gpu_ms = (double)(ticks[1] - ticks[0]) * ctx->props.timestamp_period_ns * 1e-6;
    ctx->cmd.dispatch_ms_count = 0;
    if (ctx->have_gpu_time)
        read_dispatch_times(ctx, ticks[0]);
}

void evk_command_abort(evk_context *ctx)
{
    if (!ctx->cmd.recording)
        return;
    ctx->vk.vkEndCommandBuffer(ctx->cmd.buffer);
    ctx->vk.vkResetCommandBuffer(ctx->cmd.buffer, 0);
    ctx->cmd.recording = 0;
}

/* Ends the recording in the context's current buffer. A blocking call's
 * submission ends with the device's writes made visible to the host, which
 * reads mapped tensors (its own or the application's) after the fence. */
static evk_status end_buffer(evk_context *ctx)
{
    evk_command *c = &ctx->cmd;
    if (c->timestamps && !c->untimed) {
        full_barrier(ctx);
        ctx->vk.vkCmdWriteTimestamp(c->buffer, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, c->timestamps, 1);
    }
    VkMemoryBarrier to_host = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                               .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                               .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    ctx->vk.vkCmdPipelineBarrier(c->buffer,
                                 VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                                 VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &to_host, 0, NULL, 0, NULL);
    c->recording = 0;
    VkResult r = ctx->vk.vkEndCommandBuffer(c->buffer);
    if (r != VK_SUCCESS) {
        ctx->vk.vkResetCommandBuffer(c->buffer, 0);
        return evk_fail_vk(ctx, r, "vkEndCommandBuffer");
    }
    return EVK_SUCCESS;
}

static evk_status submit_buffer(evk_context *ctx, VkCommandBuffer buffer)
{
    evk_command *c = &ctx->cmd;
    evk_status s = evk_queue_submit(ctx, buffer, NULL, c->fence);
    if (s != EVK_SUCCESS)
        return s;
    VkResult r = ctx->vk.vkWaitForFences(ctx->device, 1, &c->fence, VK_TRUE, UINT64_MAX);
    ctx->vk.vkResetFences(ctx->device, 1, &c->fence);
    if (r != VK_SUCCESS)
        return evk_fail_vk(ctx, r, "vkWaitForFences");
    if (c->timestamps)
        read_gpu_time(ctx);
    return EVK_SUCCESS;
}

evk_status evk_command_submit_wait(evk_context *ctx)
{
    evk_status s = end_buffer(ctx);
    return s == EVK_SUCCESS ? submit_buffer(ctx, ctx->cmd.buffer) : s;
}

/* ---- Persistent recordings. */

/* Puts `buffer` and `*pools` (a recording's, or the application's buffer
 * with its sets) in the places of the context's own, which swap_out puts
 * back, storing the pools, grown meanwhile, into `*pools`. */
static void swap_in(evk_context *ctx, VkCommandBuffer buffer, evk_descriptor_pool_node *pools)
{
    evk_command *c = &ctx->cmd;
    c->saved_buffer = c->buffer;
    c->saved_pools = c->descriptor_pools;
    c->buffer = buffer;
    c->descriptor_pools = pools;
}

static void swap_out(evk_context *ctx, evk_descriptor_pool_node **pools)
{
    evk_command *c = &ctx->cmd;
    *pools = c->descriptor_pools;
    c->buffer = c->saved_buffer;
    c->descriptor_pools = c->saved_pools;
    c->saved_buffer = VK_NULL_HANDLE;
    c->saved_pools = NULL;
}

static evk_status allocate_recording_buffer(evk_context *ctx, evk_recording *rec)
{
    if (rec->buffer)
        return EVK_SUCCESS;
    VkCommandBufferAllocateInfo alloc = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                         .commandPool = ctx->cmd.pool,
                                         .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                         .commandBufferCount = 1};
    VkResult r = ctx->vk.vkAllocateCommandBuffers(ctx->device, &alloc, &rec->buffer);
    return r == VK_SUCCESS ? EVK_SUCCESS : evk_fail_vk(ctx, r, "vkAllocateCommandBuffers");
}

evk_status evk_command_begin_recording(evk_context *ctx, evk_recording *rec)
{
    if (ctx->cmd.recording)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "command buffer is already recording");
    rec->valid = 0;
    evk_status s = allocate_recording_buffer(ctx, rec);
    if (s != EVK_SUCCESS)
        return s;
    swap_in(ctx, rec->buffer, rec->descriptor_pools);
    s = ctx->cmd.descriptor_pools ? EVK_SUCCESS : add_descriptor_pool(ctx);
    if (s == EVK_SUCCESS)
        s = begin_buffer(ctx, VK_COMMAND_BUFFER_USAGE_SIMULTANEOUS_USE_BIT);
    if (s != EVK_SUCCESS)
        swap_out(ctx, &rec->descriptor_pools);
    return s;
}

evk_status evk_command_end_recording(evk_context *ctx, evk_recording *rec)
{
    evk_status s = end_buffer(ctx);
    rec->timed_dispatches = ctx->cmd.timed_dispatches;
    rec->valid = s == EVK_SUCCESS;
    swap_out(ctx, &rec->descriptor_pools);
    return s;
}

void evk_command_abort_recording(evk_context *ctx, evk_recording *rec)
{
    evk_command_abort(ctx);
    rec->valid = 0;
    swap_out(ctx, &rec->descriptor_pools);
}

evk_status evk_command_submit_recording(evk_context *ctx, evk_recording *rec)
{
    if (!rec->valid)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "submitting an incomplete recording");
    ctx->cmd.timed_dispatches = rec->timed_dispatches;
    return submit_buffer(ctx, rec->buffer);
}

evk_status evk_command_begin_foreign(evk_context *ctx, VkCommandBuffer buffer,
                                     evk_descriptor_pool_node **pools)
{
    evk_command *c = &ctx->cmd;
    if (c->recording)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "command buffer is already recording");
    swap_in(ctx, buffer, *pools);
    evk_status s = c->descriptor_pools ? EVK_SUCCESS : add_descriptor_pool(ctx);
    if (s != EVK_SUCCESS) {
        evk_command_end_foreign(ctx, pools);
        return s;
    }
    reset_pools(ctx);
    c->recording = 1;
    c->untimed = 1;
    full_barrier(ctx);
    return EVK_SUCCESS;
}

void evk_command_end_foreign(evk_context *ctx, evk_descriptor_pool_node **pools)
{
    swap_out(ctx, pools);
    ctx->cmd.recording = 0;
    ctx->cmd.untimed = 0;
}

void evk_descriptor_pools_destroy(evk_context *ctx, evk_descriptor_pool_node **pools)
{
    destroy_pools(ctx, pools);
}

void evk_recording_destroy(evk_context *ctx, evk_recording *rec)
{
    destroy_pools(ctx, &rec->descriptor_pools);
    if (rec->buffer)
        ctx->vk.vkFreeCommandBuffers(ctx->device, ctx->cmd.pool, 1, &rec->buffer);
    memset(rec, 0, sizeof *rec);
}

/* ---- Per-dispatch timing (public API). */

static evk_status context_set_dispatch_timing_entered(evk_context *ctx, int enable)
{
    if (!ctx)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "ctx is NULL");
    if (!ctx->cmd.timestamps)
        return evk_fail(ctx, EVK_ERROR_UNSUPPORTED, "the compute queue has no timestamps");
    ctx->cmd.time_dispatches = enable != 0;
    return EVK_SUCCESS;
}

evk_status evk_context_set_dispatch_timing(evk_context *ctx, int enable)
{
    EVK_ENTERED(ctx, context_set_dispatch_timing_entered(ctx, enable));
}

static evk_status context_dispatch_gpu_ms_entered(const evk_context *ctx, double *ms, uint32_t capacity,
                                       uint32_t *count)
{
    if (!ctx || !count || (capacity && !ms))
        return evk_fail((evk_context *)ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "evk_context_dispatch_gpu_ms: ctx, count or ms is NULL");
    const evk_command *c = &ctx->cmd;
    *count = c->dispatch_ms_count;
    for (uint32_t i = 0; i < c->dispatch_ms_count && i < capacity; ++i)
        ms[i] = c->dispatch_ms[i];
    return EVK_SUCCESS;
}

evk_status evk_context_dispatch_gpu_ms(const evk_context *ctx, double *ms, uint32_t capacity,
                                       uint32_t *count)
{
    EVK_ENTERED((evk_context *)ctx, context_dispatch_gpu_ms_entered(ctx, ms, capacity, count));
}
