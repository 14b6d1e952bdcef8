/* OctConv weights: each output branch's two paths concatenated along the
 * input channels, folded and packed by conv2d's helpers, so that one kernel
 * sums both paths. */
#include <string.h>

#include "conv2d.h"
#include "octconv.h"
#include "tensor.h"

/* The paths into one output branch: source A of the branch's own frequency,
 * source B of the other. */
typedef struct branch_paths {
    uint32_t out_c, a_c, b_c;
    const float *a_weight, *b_weight;
    const float *bias;
    evk_batchnorm batchnorm;
} branch_paths;

static branch_paths paths_of(const evk_octconv_desc *d, int branch)
{
    evk_octconv_channels ch = evk_octconv_channels_of(d);
    if (branch == EVK_OCTCONV_HIGH)
        return (branch_paths){ch.out_high, ch.in_high, ch.in_low, d->weight_hh, d->weight_lh,
                              d->bias_h, d->batchnorm_h};
    return (branch_paths){ch.out_low, ch.in_low, ch.in_high, d->weight_ll, d->weight_hl, d->bias_l,
                          d->batchnorm_l};
}

/* [out][a_c padded to 4 + b_c][K][K]: A's channels, zeros up to a whole
 * quad, then B's, so that conv2d's mat4 packing puts B at quad a_c4. */
static float *concatenate(evk_context *ctx, const branch_paths *b, uint32_t taps,
                          uint32_t *in_channels)
{
    uint32_t a_padded = evk_div_up(b->a_c, 4) * 4;
    *in_channels = a_padded + b->b_c;
    float *weight = evk_calloc(ctx, (size_t)b->out_c * *in_channels * taps, sizeof(float));
    if (!weight)
        return NULL;
    for (uint32_t o = 0; o < b->out_c; ++o) {
        float *row = weight + (size_t)o * *in_channels * taps;
        if (b->a_c)
            memcpy(row, b->a_weight + (size_t)o * b->a_c * taps, (size_t)b->a_c * taps * sizeof(float));
        if (b->b_c)
            memcpy(row + (size_t)a_padded * taps, b->b_weight + (size_t)o * b->b_c * taps,
                   (size_t)b->b_c * taps * sizeof(float));
    }
    return weight;
}

/* The conv2d whose folded, packed weights are the branch's. */
static evk_status branch_conv(evk_context *ctx, const evk_octconv_desc *d, const branch_paths *b,
                              evk_conv2d_desc *conv, float **owned)
{
    uint32_t taps = d->kernel_size * d->kernel_size;
    *conv = (evk_conv2d_desc){.out_channels = b->out_c, .kernel_h = d->kernel_size,
                              .kernel_w = d->kernel_size, .groups = 1, .bias = b->bias,
                              .batchnorm = b->batchnorm};
    *owned = NULL;
    if (d->groups > 1) {
        conv->in_channels = conv->groups = b->out_c;
        conv->weight = b->a_weight;
        return EVK_SUCCESS;
    }
    *owned = concatenate(ctx, b, taps, &conv->in_channels);
    conv->weight = *owned;
    return *owned ? EVK_SUCCESS : evk_fail_oom(ctx, "octconv weights");
}

evk_status evk_octconv_pack(evk_context *ctx, const evk_octconv_desc *d, int branch,
                            evk_octconv_packed *out)
{
    memset(out, 0, sizeof *out);
    branch_paths b = paths_of(d, branch);
    evk_conv2d_desc conv;
    float *concatenated, *weight = NULL, *bias = NULL;
    evk_status s = branch_conv(ctx, d, &b, &conv, &concatenated);
    if (s == EVK_SUCCESS)
        s = evk_conv2d_fold(ctx, &conv, &weight, &bias);
    if (s == EVK_SUCCESS) {
        size_t weight_bytes = 0;
        out->weight = d->groups > 1 ? evk_conv2d_pack_depthwise(ctx, &conv, weight, &weight_bytes)
                                    : evk_conv2d_pack_mat4(ctx, &conv, weight, &weight_bytes);
        out->weight_count = weight_bytes / sizeof *out->weight;
        out->bias = evk_conv2d_pack_bias(ctx, b.out_c, bias, &out->bias_bytes);
        if (!out->weight || !out->bias)
            s = evk_fail_oom(ctx, "octconv packed weights");
    }
    evk_free(ctx, concatenated);
    evk_free(ctx, weight);
    evk_free(ctx, bias);
    if (s != EVK_SUCCESS) {
        evk_free(ctx, out->weight);
        evk_free(ctx, out->bias);
        memset(out, 0, sizeof *out);
    }
    return s;
}
