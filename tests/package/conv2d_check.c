#include "conv2d_check.h"

#include <math.h>
#include <stdio.h>

#include "effvk/effvk.h"

enum { IN_C = 5, OUT_C = 3, H = 7, W = 9, PIXELS = H * W };

static int fail(const char *who, const char *what)
{
    fprintf(stderr, "%s: FAILED: %s\n", who, what);
    return 0;
}

int conv2d_check(const char *who)
{
    static float weight[OUT_C * IN_C], bias[OUT_C], input[IN_C * PIXELS], output[OUT_C * PIXELS];
    for (int i = 0; i < OUT_C * IN_C; ++i)
        weight[i] = (float)((i * 7) % 11) / 11.0f - 0.5f;
    for (int i = 0; i < OUT_C; ++i)
        bias[i] = 0.25f * (float)i;
    for (int i = 0; i < IN_C * PIXELS; ++i)
        input[i] = (float)((i * 13) % 17) / 17.0f;
    evk_context *ctx = NULL;
    if (evk_context_create(NULL, &ctx) != EVK_SUCCESS)
        return fail(who, evk_last_error(NULL));
    evk_conv2d_desc desc = {.in_channels = IN_C, .out_channels = OUT_C, .kernel_h = 1,
                            .kernel_w = 1, .weight = weight, .weight_count = OUT_C * IN_C,
                            .bias = bias, .bias_count = OUT_C};
    evk_layer *layer = NULL;
    evk_tensor *x = NULL, *y = NULL;
    evk_status s = evk_conv2d_create(ctx, &desc, &layer);
    if (!s)
        s = evk_tensor_create(ctx, (evk_shape){1, IN_C, H, W}, &x);
    if (!s)
        s = evk_tensor_create(ctx, (evk_shape){1, OUT_C, H, W}, &y);
    if (!s)
        s = evk_tensor_upload(x, input, IN_C * PIXELS);
    if (!s)
        s = evk_layer_forward(layer, x, y);
    if (!s)
        s = evk_tensor_download(y, output, OUT_C * PIXELS);
    int ok = s == EVK_SUCCESS || fail(who, evk_last_error(ctx));
    evk_device_properties device = {.name = "?"};
    evk_context_device_info(ctx, &device);
    for (int o = 0; ok && o < OUT_C; ++o)
        for (int p = 0; ok && p < PIXELS; ++p) {
            double expected = bias[o];
            for (int i = 0; i < IN_C; ++i)
                expected += (double)weight[o * IN_C + i] * input[i * PIXELS + p];
            if (fabs(output[o * PIXELS + p] - expected) > 1e-5)
                ok = fail(who, "conv2d output differs from the plain loop");
        }
    evk_tensor_destroy(x);
    evk_tensor_destroy(y);
    evk_layer_destroy(layer);
    evk_context_destroy(ctx);
    if (ok)
        printf("%s: conv2d on %s matches the plain loop\n", who, device.name);
    return ok;
}
