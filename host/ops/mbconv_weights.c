/* The device layout of MBConv's squeeze-excitation weights; the three
 * convolutions are folded and packed by conv2d. */
#include <string.h>

#include "arrays.h"
#include "mbconv.h"
#include "tensor.h"

evk_status evk_mbconv_check_arrays(evk_context *ctx, const evk_mbconv_desc *d)
{
    uint64_t e = d->expanded_channels, s = evk_mbconv_squeeze_channels(d);
    int expands = d->expand_ratio > 1, has_se = !(d->flags & EVK_MBCONV_NO_SE);
    evk_host_array arrays[] = {
        {"expand_weight", expands ? d->expand_weight : NULL, d->expand_weight_count,
         e * d->in_channels},
        {"depthwise_weight", d->depthwise_weight, d->depthwise_weight_count,
         e * d->kernel_size * d->kernel_size},
        {"se_fc1_weight", has_se ? d->se_fc1_weight : NULL, d->se_fc1_weight_count, s * e},
        {"se_fc1_bias", has_se ? d->se_fc1_bias : NULL, d->se_fc1_bias_count, s},
        {"se_fc2_weight", has_se ? d->se_fc2_weight : NULL, d->se_fc2_weight_count, e * s},
        {"se_fc2_bias", has_se ? d->se_fc2_bias : NULL, d->se_fc2_bias_count, e},
        {"project_weight", d->project_weight, d->project_weight_count, e * d->out_channels}};
    return evk_check_arrays(ctx, "mbconv", arrays, sizeof arrays / sizeof arrays[0]);
}

void evk_mbconv_se_packed_free(evk_context *ctx, evk_mbconv_se_packed *packed)
{
    evk_free(ctx, packed->fc1);
    evk_free(ctx, packed->fc1_bias);
    evk_free(ctx, packed->fc2);
    evk_free(ctx, packed->fc2_bias);
    memset(packed, 0, sizeof *packed);
}

evk_status evk_mbconv_pack_se(evk_context *ctx, const evk_mbconv_desc *d, evk_mbconv_se_packed *out)
{
    uint32_t e = d->expanded_channels, e4 = evk_div_up(e, 4), s = evk_mbconv_squeeze_channels(d);
    memset(out, 0, sizeof *out);
    out->fc1_bytes = out->fc2_bytes = (size_t)s * e4 * 16;
    out->fc1_bias_bytes = (size_t)s * sizeof(float);
    out->fc2_bias_bytes = (size_t)e4 * 16;
    out->fc1 = evk_calloc(ctx, 1, out->fc1_bytes);
    out->fc1_bias = evk_calloc(ctx, 1, out->fc1_bias_bytes);
    out->fc2 = evk_calloc(ctx, 1, out->fc2_bytes);
    out->fc2_bias = evk_calloc(ctx, 1, out->fc2_bias_bytes);
    if (!out->fc1 || !out->fc1_bias || !out->fc2 || !out->fc2_bias) {
        evk_mbconv_se_packed_free(ctx, out);
        return evk_fail_oom(ctx, "mbconv SE weights");
    }
    for (uint32_t j = 0; j < s; ++j)
        for (uint32_t c = 0; c < e; ++c) {
            out->fc1[((size_t)j * e4 + c / 4) * 4 + c % 4] = d->se_fc1_weight[(size_t)j * e + c];
            out->fc2[((size_t)(c / 4) * s + j) * 4 + c % 4] = d->se_fc2_weight[(size_t)c * s + j];
        }
    memcpy(out->fc1_bias, d->se_fc1_bias, (size_t)s * sizeof(float));
    memcpy(out->fc2_bias, d->se_fc2_bias, (size_t)e * sizeof(float));
    return EVK_SUCCESS;
}
