#include "layer.h"
#include "context_entry.h"

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
