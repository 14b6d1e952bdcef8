/* The CPU reference: plain C, double accumulation, NCHW float32 in and out.
 * Used by the tests and by `effvk bench` to check every result; not part of
 * the installed library. */
#ifndef EFFVK_REFERENCE_H
#define EFFVK_REFERENCE_H

#include "effvk/effvk.h"

/* y = activation(BN(conv(x) + bias)), PyTorch's Conv2d semantics, with the
 * BatchNorm applied after the convolution as written (not folded), so that
 * it also checks the library's folding. `out` must hold the elements of the
 * shape evk_conv2d_output_shape gives. */
void evk_ref_conv2d(const evk_conv2d_desc *desc, evk_shape in_shape, const float *in, float *out);

/* y = activation(BN(hetconv(x) + bias)) from the definitions of
 * evk_hetconv_desc: with the dense masked weight, the K×K taps of inputs
 * i ≡ o (mod P) and the centre tap of the others; with the grouped +
 * pointwise form, a groups = P conv plus a 1×1 conv at the window's centre.
 * BatchNorm applied as written. `out` holds the elements of the shape
 * evk_hetconv_output_shape gives. */
void evk_ref_hetconv(const evk_hetconv_desc *desc, evk_shape in_shape, const float *in, float *out);

/* An MBConv block from the definitions of evk_mbconv_desc (defaults resolved
 * as documented there): expand, depthwise and project through
 * evk_ref_conv2d with their BatchNorms as written, the SE's mean, FCs and
 * sigmoid in double, the residual when stride 1 and in = out channels.
 * Intermediate tensors are float, as on the device. `out` holds the
 * elements of the shape evk_mbconv_output_shape gives. */
void evk_ref_mbconv(const evk_mbconv_desc *desc, evk_shape in_shape, const float *in, float *out);

/* One MBConv block of an EfficientNet, at its input resolution `size`. */
typedef struct evk_ref_mbconv_block {
    uint32_t in_channels, out_channels, expand_ratio, kernel_size, stride, size;
} evk_ref_mbconv_block;

/* EfficientNet-B0's 16 MBConv blocks at 224 input (papers.md §3), in order. */
#define EVK_REF_B0_BLOCKS 16
extern const evk_ref_mbconv_block evk_ref_b0_blocks[EVK_REF_B0_BLOCKS];
/* Y^H and Y^L of an OctConv from the definitions of evk_octconv_desc, step
 * by step: the pooled maps built explicitly (ceil-mode 2×2 averages of the
 * pixels inside the map, nested twice for stride 2's H→L), each path a
 * stride-1 evk_ref_conv2d, the L→H map upsampled by index and cropped, then
 * bias, BatchNorm as written and the activation per branch. `x_high_shape`
 * is X^H's shape; x_low and y_low are not read or written when the branch
 * has no channels. */
void evk_ref_octconv(const evk_octconv_desc *desc, evk_shape x_high_shape, const float *x_high,
                     const float *x_low, float *y_high, float *y_low);

double evk_ref_activate(evk_activation activation, double x);

/* Largest |a − b| and largest |a − b| / max(|b|, floor) over n values; NaN or
 * inf in either array makes both results +inf. */
void evk_ref_compare(const float *a, const float *b, uint64_t n, double floor, double *max_abs,
                     double *max_rel);

/* The standalone activations of host/ops/activation.h on `count` values, in
 * double: `op` is an evk_unary_op (0 clamp to [min, max], 1 sigmoid, 2 hard
 * sigmoid max(0, min(1, alpha x + beta)), 3 hard swish x max(0, min(1,
 * x / 6 + 1/2)), 4 SiLU x sigmoid(x)). */
void evk_ref_unary(int op, double min, double max, double alpha, double beta, const float *in,
                   uint64_t count, float *out);

/* y = a + b (`mul` 0) or a · b (`mul` 1), NCHW, with b of shape `b_shape`
 * broadcast to `a_shape`: each of its dimensions is a's or 1. y has a's
 * shape. */
void evk_ref_binary_broadcast(int mul, evk_shape a_shape, const float *a, evk_shape b_shape,
                              const float *b, float *y);

/* y = [a, b] along channels (ONNX Concat on axis 1): a of `a_shape`, b of
 * its batch and size with `b_channels` channels. */
void evk_ref_concat_channels(evk_shape a_shape, const float *a, uint32_t b_channels, const float *b,
                             float *y);

/* Nearest upsampling by integer factors, y[i][j] = x[i / scale_h][j /
 * scale_w]; y is n x c x h·scale_h x w·scale_w. */
void evk_ref_resize_nearest(evk_shape in_shape, const float *in, uint32_t scale_h, uint32_t scale_w,
                            float *out);

/* A 2-D pooling window with ONNX's parameters (host/ops/pool.h's desc). */
typedef struct evk_ref_pool2d_window {
    uint32_t kernel_h, kernel_w, stride_h, stride_w;
    uint32_t pad_top, pad_left, pad_bottom, pad_right;
    int ceil_mode, count_include_pad;
} evk_ref_pool2d_window;

/* PyTorch's output size: (in + pads − kernel) / stride + 1 rounded down, or
 * up in ceil mode, where a last window starting in the end padding is
 * dropped. h or w is 0 when the window does not fit the padded input. */
evk_shape evk_ref_pool2d_shape(const evk_ref_pool2d_window *window, evk_shape in_shape);

/* Max pooling (`average` 0) over each window's pixels in the map, or
 * PyTorch's avg_pool2d, in double: the window's sum over its size within
 * the padded map (count_include_pad, clipped at the padded map's end) or
 * over its pixels in the map. `out` holds evk_ref_pool2d_shape's
 * elements. */
void evk_ref_pool2d(int average, const evk_ref_pool2d_window *window, evk_shape in_shape,
                    const float *in, float *out);

#endif
