#include "layer.h"
#include "context.h"
#include "context_entry.h"
#include "recorded.h"
#include "run.h"

static evk_status check_forward(evk_layer *layer, const evk_tensor *input, const evk_tensor *output)
{
    if (!layer)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "layer is NULL");
    evk_context *ctx = layer->ctx;
    evk_status s = evk_tensor_check(ctx, input, "input");
    if (s == EVK_SUCCESS)
        s = evk_tensor_check(ctx, output, "output");
    if (s != EVK_SUCCESS)
        return s;
    if (input == output)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "%s: input and output are the same tensor", layer->ops->kernel_name(layer));
    evk_shape expected;
    s = layer->ops->output_shape(layer, input->shape, &expected);
    if (s != EVK_SUCCESS)
        return s;
    evk_shape got = output->shape;
    if (got.n != expected.n || got.c != expected.c || got.h != expected.h || got.w != expected.w)
        return evk_fail(ctx, EVK_ERROR_SHAPE_MISMATCH,
                        "%s: output tensor is %ux%ux%ux%u, input %ux%ux%ux%u gives %ux%ux%ux%u",
                        layer->ops->kernel_name(layer), got.n, got.c, got.h, got.w, input->shape.n,
                        input->shape.c, input->shape.h, input->shape.w, expected.n, expected.c,
                        expected.h, expected.w);
    return EVK_SUCCESS;
}

static evk_status layer_forward_repeat_entered(evk_layer *layer, const evk_tensor *input, evk_tensor *output,
                                    uint32_t repeat)
{
    evk_status s = check_forward(layer, input, output);
    if (s != EVK_SUCCESS)
        return s;
    evk_context *ctx = layer->ctx;
    s = evk_command_begin(ctx);
    for (uint32_t i = 0; s == EVK_SUCCESS && i < (repeat ? repeat : 1); ++i)
        s = layer->ops->record(layer, input, output);
    if (s != EVK_SUCCESS) {
        evk_command_abort(ctx);
        return s;
    }
    s = evk_command_submit_wait(ctx);
    if (s == EVK_SUCCESS)
        evk_clear_error(ctx);
    return s;
}

evk_status evk_layer_forward_repeat(evk_layer *layer, const evk_tensor *input, evk_tensor *output,
                                    uint32_t repeat)
{
    EVK_ENTERED(layer ? layer->ctx : NULL, layer_forward_repeat_entered(layer, input, output,
                repeat));
}

evk_status evk_layer_forward(evk_layer *layer, const evk_tensor *input, evk_tensor *output)
{
    return evk_layer_forward_repeat(layer, input, output, 1);
}

static evk_status layer_record_entered(evk_layer *layer, const evk_tensor *input,
                                       evk_tensor *output, void *command_buffer,
                                       evk_recorded **out)
{
    evk_status s = check_forward(layer, input, output);
    if (s != EVK_SUCCESS)
        return s;
    evk_context *ctx = layer->ctx;
    if (!command_buffer || !out)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "evk_layer_record: command_buffer or "
                        "out is NULL");
    evk_recorded *rec;
    s = evk_recorded_create(ctx, &rec);
    if (s != EVK_SUCCESS)
        return s;
    s = evk_command_begin_foreign(ctx, (VkCommandBuffer)command_buffer, &rec->pools);
    if (s == EVK_SUCCESS) {
        s = layer->ops->record(layer, input, output);
        evk_command_end_foreign(ctx, &rec->pools);
    }
    if (s != EVK_SUCCESS) {
        evk_recorded_free(rec);
        return s;
    }
    *out = rec;
    evk_clear_error(ctx);
    return EVK_SUCCESS;
}

evk_status evk_layer_record(evk_layer *layer, const evk_tensor *input, evk_tensor *output,
                            void *command_buffer, evk_recorded **out)
{
    EVK_ENTERED_CREATE(layer ? layer->ctx : NULL, out,
                       layer_record_entered(layer, input, output, command_buffer, out));
}

/* The run's own command buffer, without timestamps. */
static evk_status record_run(evk_layer *layer, const evk_tensor *input, evk_tensor *output,
                             evk_run *run)
{
    evk_context *ctx = layer->ctx;
    ctx->cmd.untimed = 1;
    evk_status s = evk_command_begin_recording(ctx, &run->own);
    if (s == EVK_SUCCESS) {
        s = layer->ops->record(layer, input, output);
        if (s == EVK_SUCCESS)
            s = evk_command_end_recording(ctx, &run->own);
        else
            evk_command_abort_recording(ctx, &run->own);
    }
    ctx->cmd.untimed = 0;
    return s;
}

static evk_status layer_submit_entered(evk_layer *layer, const evk_tensor *input,
                                       evk_tensor *output, const evk_submit_sync *sync,
                                       evk_run **out)
{
    evk_status s = check_forward(layer, input, output);
    if (s != EVK_SUCCESS)
        return s;
    evk_context *ctx = layer->ctx;
    if (!out)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "evk_layer_submit: out is NULL");
    evk_run *run;
    s = evk_run_create(ctx, NULL, &run);
    if (s != EVK_SUCCESS)
        return s;
    s = record_run(layer, input, output, run);
    if (s == EVK_SUCCESS)
        s = evk_queue_submit(ctx, run->own.buffer, sync, run->fence);
    if (s != EVK_SUCCESS) {
        evk_run_free(run);
        return s;
    }
    *out = run;
    evk_clear_error(ctx);
    return EVK_SUCCESS;
}

evk_status evk_layer_submit(evk_layer *layer, const evk_tensor *input, evk_tensor *output,
                            const evk_submit_sync *sync, evk_run **out)
{
    EVK_ENTERED_CREATE(layer ? layer->ctx : NULL, out,
                       layer_submit_entered(layer, input, output, sync, out));
}

static void layer_destroy_entered(evk_layer *layer)
{
    if (layer)
        layer->ops->destroy(layer);
}

void evk_layer_destroy(evk_layer *layer)
{
    EVK_ENTERED_VOID(layer ? layer->ctx : NULL, layer_destroy_entered(layer));
}

static evk_status layer_output_shape_entered(const evk_layer *layer, evk_shape input, evk_shape *output)
{
    if (!layer)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "layer is NULL");
    if (!output)
        return evk_fail(layer->ctx, EVK_ERROR_INVALID_ARGUMENT, "output shape pointer is NULL");
    return layer->ops->output_shape(layer, input, output);
}

evk_status evk_layer_output_shape(const evk_layer *layer, evk_shape input, evk_shape *output)
{
    EVK_ENTERED(layer ? layer->ctx : NULL, layer_output_shape_entered(layer, input, output));
}

const char *evk_layer_kernel_name(const evk_layer *layer)
{
    return layer ? layer->ops->kernel_name(layer) : "";
}
