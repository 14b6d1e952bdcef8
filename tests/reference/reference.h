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

#endif
