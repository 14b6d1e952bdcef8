/* conv2d: desc checking and weight preparation shared with later op families
 * that reuse its kernels (MBConv's pointwise and depthwise passes). */
#ifndef EFFVK_HOST_OPS_CONV2D_H
#define EFFVK_HOST_OPS_CONV2D_H

#include "layer.h"
#include "memory.h"

typedef enum evk_conv2d_kernel {
    EVK_CONV2D_POINTWISE,
    EVK_CONV2D_DEPTHWISE,
    EVK_CONV2D_DENSE,
    EVK_CONV2D_GROUPED
} evk_conv2d_kernel;

/* The desc with defaults resolved (stride 0 → 1, groups 0 → 1, eps 0 → 1e-5). */
evk_conv2d_desc evk_conv2d_resolve(const evk_conv2d_desc *desc);
evk_status evk_conv2d_check(evk_context *ctx, const evk_conv2d_desc *desc);
evk_conv2d_kernel evk_conv2d_choose_kernel(const evk_conv2d_desc *desc);

/* Checks a BatchNorm of `channels` channels (all four arrays or none, their
 * count `channels`, eps > 0 once resolved, every value finite, variances
 * >= 0); `op` prefixes the message. */
evk_status evk_batchnorm_check(evk_context *ctx, const char *op, const evk_batchnorm *bn,
                               uint32_t channels);

/* The counts and values of a resolved, valid desc's weight and bias
 * (evk_check_arrays). */
evk_status evk_conv2d_check_arrays(evk_context *ctx, const evk_conv2d_desc *d);

/* The affine map that the bias (NULL: none) and the BatchNorm (eps resolved;
 * gamma NULL: none) make of output channel o's sum: y = sum·scale + shift. */
void evk_fold_channel(const float *bias, const evk_batchnorm *bn, uint32_t o, double *scale,
                      double *shift);

/* Weight and bias with BatchNorm folded in, PyTorch layout
 * [out][in/groups][kh][kw] and [out]. Caller frees both with evk_free. */
evk_status evk_conv2d_fold(evk_context *ctx, const evk_conv2d_desc *desc, float **weight,
                           float **bias);

/* Device layouts of the folded weights for each kernel; the returned array is
 * allocated with evk_alloc and its size stored in *bytes. */
float *evk_conv2d_pack_mat4(evk_context *ctx, const evk_conv2d_desc *desc, const float *weight,
                            size_t *bytes);
float *evk_conv2d_pack_depthwise(evk_context *ctx, const evk_conv2d_desc *desc,
                                 const float *weight, size_t *bytes);
float *evk_conv2d_pack_bias(evk_context *ctx, uint32_t channels, const float *bias, size_t *bytes);

/* The width of the row tiles of the row-tiled conv kernels (hetconv,
 * octconv): at most `max_w` pixels, fewer when the input row segment,
 * (w − 1)·stride + kernel values, would exceed `max_segment`; the row of
 * `out_w` pixels split evenly so that no tile is mostly padding; halved
 * (down to 2) while fewer than 3/4 of a subgroup's lanes would hold a tile
 * of the `rows` rows. */
uint32_t evk_row_tile_width(const evk_context *ctx, uint32_t out_w, uint32_t rows, uint32_t max_w,
                            uint32_t stride, uint32_t kernel, uint32_t max_segment);

/* A shader built on the body of the pointwise or depthwise kernel
 * (shaders/pointwise.glsl, shaders/depthwise.glsl): same tiles, push
 * constants and bindings 0-3, plus its own bindings from 4 on and spec
 * constants after the kernel's. MBConv's fused passes are such variants. */
typedef struct evk_conv2d_variant {
    const char *shader;
    const evk_binding *bindings;    /* bound at 4, 5, ... */
    uint32_t binding_count;
    uint32_t spec[2];
    uint32_t spec_count;
    uint32_t shared_bytes;
    uint32_t texel_bindings;        /* of the variant's own bindings (shader_bindings.h) */
} evk_conv2d_variant;

/* Records a pointwise or depthwise conv2d layer with a variant's shader. */
evk_status evk_conv2d_record_variant(evk_layer *layer, const evk_tensor *in, evk_tensor *out,
                                     const evk_conv2d_variant *variant);

/* The partial sums per (image, channel quad) plane that MBConv's depthwise
 * variant writes for output shape `out`: one per workgroup of the dispatch,
 * or with `per_lane` one per invocation. */
uint32_t evk_conv2d_depthwise_partials(const evk_layer *layer, evk_shape out, int per_lane);

#endif
