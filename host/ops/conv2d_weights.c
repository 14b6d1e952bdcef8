/* BatchNorm checking and folding (shared with hetconv) and the device weight
 * layouts of the conv2d kernels. */
#include <math.h>
#include <string.h>

#include "arrays.h"
#include "conv2d.h"

evk_status evk_batchnorm_check(evk_context *ctx, const char *op, const evk_batchnorm *bn,
                               uint32_t channels)
{
    int set = !!bn->gamma + !!bn->beta + !!bn->mean + !!bn->var;
    if (set == 0)
        return EVK_SUCCESS;
    if (set != 4)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "%s: batchnorm needs gamma, beta, mean and var together (%d of 4 set)", op,
                        set);
    /* Before the values are read: the arrays carry no size of their own. */
    evk_status s = evk_check_count(ctx, op, "batchnorm count", bn->count, channels);
    if (s != EVK_SUCCESS)
        return s;
    if (!(bn->eps > 0.0f))
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: batchnorm eps %g must be > 0", op,
                        (double)bn->eps);
    s = evk_check_finite(ctx, op, "batchnorm gamma", bn->gamma, channels);
    if (s == EVK_SUCCESS)
        s = evk_check_finite(ctx, op, "batchnorm beta", bn->beta, channels);
    if (s == EVK_SUCCESS)
        s = evk_check_finite(ctx, op, "batchnorm mean", bn->mean, channels);
    for (uint32_t o = 0; s == EVK_SUCCESS && o < channels; ++o)
        if (!(bn->var[o] >= 0.0f) || !isfinite(bn->var[o]))
            s = evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT,
                         "%s: batchnorm var[%u] = %g is negative or not finite", op, o,
                         (double)bn->var[o]);
    return s;
}

evk_status evk_conv2d_check_arrays(evk_context *ctx, const evk_conv2d_desc *d)
{
    uint64_t per_out = (uint64_t)d->in_channels / d->groups * d->kernel_h * d->kernel_w;
    evk_host_array arrays[] = {{"weight", d->weight, d->weight_count, d->out_channels * per_out},
                               {"bias", d->bias, d->bias_count, d->out_channels}};
    return evk_check_arrays(ctx, "conv2d", arrays, sizeof arrays / sizeof arrays[0]);
}

void evk_fold_channel(const float *bias, const evk_batchnorm *bn, uint32_t o, double *scale,
                      double *shift)
{
    double b = bias ? bias[o] : 0.0;
    *scale = 1.0;
    *shift = b;
    if (bn->gamma) {
        *scale = bn->gamma[o] / sqrt((double)bn->var[o] + (double)bn->eps);
        *shift = b * *scale + (bn->beta[o] - bn->mean[o] * *scale);
    }
}

evk_status evk_conv2d_fold(evk_context *ctx, const evk_conv2d_desc *desc, float **weight_out,
                           float **bias_out)
{
    uint32_t per_out = desc->in_channels / desc->groups * desc->kernel_h * desc->kernel_w;
    float *weight = evk_alloc(ctx, (size_t)desc->out_channels * per_out * sizeof(float));
    float *bias = evk_alloc(ctx, (size_t)desc->out_channels * sizeof(float));
    if (!weight || !bias) {
        evk_free(ctx, weight);
        evk_free(ctx, bias);
        return evk_fail_oom(ctx, "conv2d weights");
    }
    for (uint32_t o = 0; o < desc->out_channels; ++o) {
        double scale, shift;
        evk_fold_channel(desc->bias, &desc->batchnorm, o, &scale, &shift);
        for (uint32_t i = 0; i < per_out; ++i)
            weight[(size_t)o * per_out + i] = (float)(desc->weight[(size_t)o * per_out + i] * scale);
        bias[o] = (float)shift;
    }
    *weight_out = weight;
    *bias_out = bias;
    return EVK_SUCCESS;
}

/* [out/4][in/4][kh][kw] mat4, column j = input lane j, row i = output lane i,
 * so a shader computes acc += m * input_texel. */
float *evk_conv2d_pack_mat4(evk_context *ctx, const evk_conv2d_desc *desc, const float *weight,
                            size_t *bytes)
{
    uint32_t co4 = evk_div_up(desc->out_channels, 4), ci4 = evk_div_up(desc->in_channels, 4);
    uint32_t taps = desc->kernel_h * desc->kernel_w;
    *bytes = (size_t)co4 * ci4 * taps * 16 * sizeof(float);
    float *packed = evk_calloc(ctx, 1, *bytes);
    if (!packed)
        return NULL;
    for (uint32_t o = 0; o < desc->out_channels; ++o)
        for (uint32_t i = 0; i < desc->in_channels; ++i)
            for (uint32_t t = 0; t < taps; ++t) {
                size_t mat = ((size_t)(o / 4) * ci4 + i / 4) * taps + t;
                packed[mat * 16 + (i % 4) * 4 + o % 4] =
                    weight[((size_t)o * desc->in_channels + i) * taps + t];
            }
    return packed;
}

/* [channels/4][kh][kw] vec4. */
float *evk_conv2d_pack_depthwise(evk_context *ctx, const evk_conv2d_desc *desc,
                                 const float *weight, size_t *bytes)
{
    uint32_t c4 = evk_div_up(desc->out_channels, 4);
    uint32_t taps = desc->kernel_h * desc->kernel_w;
    *bytes = (size_t)c4 * taps * 4 * sizeof(float);
    float *packed = evk_calloc(ctx, 1, *bytes);
    if (!packed)
        return NULL;
    for (uint32_t c = 0; c < desc->out_channels; ++c)
        for (uint32_t t = 0; t < taps; ++t)
            packed[((size_t)(c / 4) * taps + t) * 4 + c % 4] = weight[(size_t)c * taps + t];
    return packed;
}

float *evk_conv2d_pack_bias(evk_context *ctx, uint32_t channels, const float *bias, size_t *bytes)
{
    *bytes = (size_t)evk_div_up(channels, 4) * 4 * sizeof(float);
    float *packed = evk_calloc(ctx, 1, *bytes);
    if (packed)
        memcpy(packed, bias, channels * sizeof(float));
    return packed;
}
