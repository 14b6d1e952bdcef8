/* octconv: the desc with defaults resolved, its channel split, and the
 * weight folding and packing of octconv_weights.c. */
#ifndef EFFVK_HOST_OPS_OCTCONV_H
#define EFFVK_HOST_OPS_OCTCONV_H

#include "context.h"
#include "memory.h"

/* The desc with defaults resolved: stride 0 → 1, padding 0 → (K − 1)/2,
 * groups 0 → 1, BatchNorm eps 0 → 1e-5. */
evk_octconv_desc evk_octconv_resolve(const evk_octconv_desc *desc);

/* c_L = int(alpha·C) as Python computes it, alpha a double. */
uint32_t evk_octconv_low_channels(double alpha, uint32_t channels);

/* The split of a resolved desc: c_L from the low channel count when set,
 * else from alpha; c_H the rest. */
evk_octconv_channels evk_octconv_channels_of(const evk_octconv_desc *d);

/* Validates a desc (scalars, which paths have weights, BatchNorms); failures
 * are reported on `ctx` (NULL: the thread). */
evk_status evk_octconv_check(evk_context *ctx, const evk_octconv_desc *desc);

/* The counts and values of a resolved, valid desc's path weights and biases
 * (evk_check_arrays). */
evk_status evk_octconv_check_arrays(evk_context *ctx, const evk_octconv_desc *d);

/* ceil(size / 2): the size of a map pooled once. */
uint32_t evk_octconv_half_size(uint32_t size);

/* Y^H and Y^L (either may be NULL) of a resolved, valid desc for X^H shape
 * `x`; failures are reported on `ctx` (NULL: the thread). */
evk_status evk_octconv_shapes_of(evk_context *ctx, const evk_octconv_desc *d, evk_shape x,
                                 evk_shape *y_high, evk_shape *y_low);

/* Output branch 0 is Y^H, 1 is Y^L. */
enum { EVK_OCTCONV_HIGH = 0, EVK_OCTCONV_LOW = 1 };

/* The device weights of one output branch of a resolved, valid desc, with
 * bias and BatchNorm folded: dense, [out_c4][a_c4 + b_c4][K][K] mat4 over
 * source A (the branch's own frequency) then source B (the other one);
 * depthwise, [c4][K][K] vec4. The bias is [out_c4] vec4. Both arrays are
 * float32, allocated with evk_alloc: the weights go to the device at the
 * context's precision (weight_count of them, evk_buffer_create_weights), the
 * bias as it is (bias_bytes), float32 at every precision. */
typedef struct evk_octconv_packed {
    float *weight, *bias;
    size_t weight_count, bias_bytes;
} evk_octconv_packed;

/* A layer running output branch `branch` of OctConv layer `octconv` (made by
 * evk_octconv_create) for a model graph: its output shape is that branch's
 * for an X^H input shape; it records with evk_octconv_branch_record on
 * (X^H, X^L), or on X^H alone as a plain layer when the conv has no X^L.
 * With `owns` it destroys `octconv` (also when this fails); one branch of a
 * conv owns it, the other's destroy does not touch it. */
evk_status evk_octconv_branch_create(evk_layer *octconv, int branch, int owns, evk_layer **out);
evk_status evk_octconv_branch_record(evk_layer *layer, const evk_tensor *x_high,
                                     const evk_tensor *x_low, evk_tensor *out);

evk_status evk_octconv_pack(evk_context *ctx, const evk_octconv_desc *d, int branch,
                            evk_octconv_packed *out);

#endif
