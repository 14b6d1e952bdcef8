/* The README's example: one 3x3 convolution with BatchNorm and ReLU. */
#include <stdio.h>
#include <effvk/effvk.h>

int main(void)
{
    static float weight[16 * 3 * 3 * 3], input[1 * 3 * 32 * 32], output[1 * 16 * 32 * 32];
    static float gamma[16], beta[16], mean[16], var[16];
    for (int i = 0; i < 16; ++i) gamma[i] = var[i] = 1.0f;
    for (int i = 0; i < 16 * 27; ++i) weight[i] = (i % 7) * 0.1f - 0.3f;
    for (int i = 0; i < 3 * 32 * 32; ++i) input[i] = (i % 11) * 0.05f;

    evk_context *ctx;
    evk_context_desc ctx_desc = {0};             /* zero fields mean defaults */
    if (evk_context_create(&ctx_desc, &ctx) != EVK_SUCCESS) {
        fprintf(stderr, "%s\n", evk_last_error(NULL));
        return 1;
    }
    evk_conv2d_desc conv = {.in_channels = 3, .out_channels = 16, .kernel_h = 3, .kernel_w = 3,
                            .pad_h = 1, .pad_w = 1, .activation = EVK_ACTIVATION_RELU,
                            .weight = weight, .weight_count = 16 * 3 * 3 * 3,
                            .batchnorm = {gamma, beta, mean, var, 16, 1e-5f}};
    evk_layer *layer = NULL;
    evk_tensor *x = NULL, *y = NULL;
    evk_status s = evk_conv2d_create(ctx, &conv, &layer);
    if (s == EVK_SUCCESS) s = evk_tensor_create(ctx, (evk_shape){1, 3, 32, 32}, &x);
    if (s == EVK_SUCCESS) s = evk_tensor_create(ctx, (evk_shape){1, 16, 32, 32}, &y);
    if (s == EVK_SUCCESS) s = evk_tensor_upload(x, input, 3 * 32 * 32);
    if (s == EVK_SUCCESS) s = evk_layer_forward(layer, x, y);
    if (s == EVK_SUCCESS) s = evk_tensor_download(y, output, 16 * 32 * 32);
    if (s == EVK_SUCCESS) printf("y[0] = %f on the GPU\n", output[0]);
    else fprintf(stderr, "%s: %s\n", evk_status_string(s), evk_last_error(ctx));
    evk_tensor_destroy(x);
    evk_tensor_destroy(y);
    evk_layer_destroy(layer);
    evk_context_destroy(ctx);
    return s == EVK_SUCCESS ? 0 : 1;
}
