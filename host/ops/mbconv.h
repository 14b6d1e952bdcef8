/* mbconv: the desc with defaults resolved, its checks, and the device layout
 * of the squeeze-excitation weights (mbconv_weights.c). */
#ifndef EFFVK_HOST_OPS_MBCONV_H
#define EFFVK_HOST_OPS_MBCONV_H

#include "layer.h"
#include "memory.h"

/* The desc with defaults resolved: expand_ratio 0 → 1, expanded_channels 0 →
 * in_channels · expand_ratio, kernel_size 0 → 3, stride 0 → 1, se_ratio 0 →
 * 0.25, activation 0 → SiLU, each BatchNorm's eps 0 → 1e-5. */
evk_mbconv_desc evk_mbconv_resolve(const evk_mbconv_desc *desc);

/* Checks a desc (NULL included); `ctx` NULL reports on the thread. */
evk_status evk_mbconv_check(evk_context *ctx, const evk_mbconv_desc *desc);

/* S = max(1, floor(in_channels · se_ratio)) of a resolved desc. */
uint32_t evk_mbconv_squeeze_channels(const evk_mbconv_desc *desc);

/* The counts and values of the weights and biases a resolved, valid desc
 * uses (evk_check_arrays). */
evk_status evk_mbconv_check_arrays(evk_context *ctx, const evk_mbconv_desc *d);

/* The SE weights as shaders/mbconv_se.comp reads them, with E4 = ceil(E/4):
 * fc1 [S][E4] vec4 (lane j of quad q is expanded channel 4q + j), fc1_bias
 * [S] floats, fc2 [E4][S] vec4 (lane j: output channel 4q + j), fc2_bias
 * [E4] vec4; padded lanes are zero. */
typedef struct evk_mbconv_se_packed {
    float *fc1, *fc1_bias, *fc2, *fc2_bias;
    size_t fc1_bytes, fc1_bias_bytes, fc2_bytes, fc2_bias_bytes;
} evk_mbconv_se_packed;

/* The buffers of a block's intermediate tensors, each grown on demand to
 * what the largest input recorded so far needs. */
typedef struct evk_mbconv_scratch {
    evk_buffer expanded, depthwise_out, partials, scale, scaled;
} evk_mbconv_scratch;

void evk_mbconv_scratch_destroy(evk_context *ctx, evk_mbconv_scratch *scratch);

/* Makes the MBConv layer use `shared` (which the caller owns and destroys
 * after the layer) instead of its own scratch: blocks that run one after
 * another in one submission can share it, the command recorder putting a
 * barrier between one block's reads and the next one's writes. Growing a
 * buffer frees the old one, which a recorded dispatch of an earlier block
 * may bind: evk_mbconv_reserve every sharing block for its input shape
 * before recording any of them. */
void evk_mbconv_share_scratch(evk_layer *mbconv, evk_mbconv_scratch *shared);
evk_status evk_mbconv_reserve(evk_layer *mbconv, evk_shape input);

/* Packs the SE weights of a resolved, valid desc. */
evk_status evk_mbconv_pack_se(evk_context *ctx, const evk_mbconv_desc *desc,
                              evk_mbconv_se_packed *out);
void evk_mbconv_se_packed_free(evk_context *ctx, evk_mbconv_se_packed *packed);

#endif
