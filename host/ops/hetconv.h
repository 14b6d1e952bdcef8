/* hetconv: the desc with defaults resolved, the channel layout its kernel
 * computes in, and the weight checks and packing of hetconv_weights.c. */
#ifndef EFFVK_HOST_OPS_HETCONV_H
#define EFFVK_HOST_OPS_HETCONV_H

#include "context.h"

/* The desc with defaults resolved: stride 0 → 1, padding from its mode,
 * BatchNorm eps 0 → 1e-5. */
evk_hetconv_desc evk_hetconv_resolve(const evk_hetconv_desc *desc);

/* Which input and output channels form a pattern class of the kernel, and
 * how the kernel's accumulator lanes map onto them. Output slot j of class r
 * is channel out_first·r + out_step·j; the class's K×K inputs are the
 * channels in_first·r + in_step·t for t < inputs. The interleaved rule has
 * steps P (classes are residues mod P), the grouped form steps 1 (classes
 * are contiguous groups). Output channels of the packed padding (up to a
 * multiple of 4) belong to a class too, so that every lane of the output is
 * written.
 *
 * With whole quads (terms 1, 2 or 4: the interleaved rule with P dividing 4
 * or a multiple of 4, or contiguous groups of whole quads), the steps count
 * output quads and input quads instead of channels: quad j of group g is output quad
 * out_first·g + out_step·j, its K×K inputs are the quads in_first·g +
 * in_step·t, and each quad and tap takes `terms` vec4 FMAs (terms = 4 / P
 * for P dividing 4; 1 when each quad lane meets one output lane).
 *
 * Otherwise (terms 0) a workgroup computes quads of one lane group g. With lane_classes 1, the
 * four lanes of quad q are slots 4q..4q+3 of class g: one scalar input load
 * serves them all. With lane_classes 4 (classes with fewer than 8 slots:
 * large P), lane l of quad q is slot q of class 4g + l: each lane loads its
 * own input, but no lane idles. */
typedef struct evk_hetconv_classes {
    uint32_t count;                 /* classes */
    uint32_t slots;                 /* output slots per class */
    uint32_t inputs;                /* K×K input slots per class */
    uint32_t in_first, in_step;
    uint32_t out_first, out_step;
    /* Slots a class owns; only the last class owns the slots beyond. */
    uint32_t out_class_size;
    uint32_t terms;                 /* 0: scalar steps; 1, 2, 4: whole quads */
    uint32_t lane_classes;          /* 1 or 4 (scalar steps) */
    uint32_t groups;                /* lane groups */
    uint32_t quads;                 /* quads per lane group */
} evk_hetconv_classes;

#define EVK_HETCONV_NO_CHANNEL UINT32_MAX

/* `d` is resolved and valid. */
evk_hetconv_classes evk_hetconv_classes_of(const evk_hetconv_desc *d);
/* The output channel (< padded channel count) of lane l of quad q of lane
 * group g, or EVK_HETCONV_NO_CHANNEL when the lane stores nothing; its class
 * goes to *class_index. */
uint32_t evk_hetconv_output_of(const evk_hetconv_classes *c, const evk_hetconv_desc *d,
                               uint32_t g, uint32_t q, uint32_t l, uint32_t *class_index);
/* The input channel of K×K slot t of class r, or EVK_HETCONV_NO_CHANNEL. */
uint32_t evk_hetconv_input_of(const evk_hetconv_classes *c, const evk_hetconv_desc *d,
                              uint32_t r, uint32_t t);

/* Weight checks of a resolved desc whose scalar fields and choice of form
 * are valid: element counts, finite values, and zeros outside the mask. */
evk_status evk_hetconv_check_weights(evk_context *ctx, const evk_hetconv_desc *d);

/* The folded device weights: centre taps of every input as [group][quad]
 * [in_c4] mat4 (column = input lane, row = output lane), the off-centre taps
 * of each lane's K×K inputs as [group][quad][t][tap][term] vec4, and the bias as
 * [group][quad] vec4. Each array is float32, allocated with evk_alloc, and
 * counted in floats: the weights go to the device at the context's
 * precision (evk_buffer_create_weights), the bias as float32. */
typedef struct evk_hetconv_packed {
    float *centre, *off_centre, *bias;
    size_t centre_count, off_centre_count, bias_count;
} evk_hetconv_packed;

evk_status evk_hetconv_pack(evk_context *ctx, const evk_hetconv_desc *d, evk_hetconv_packed *out);
void evk_hetconv_packed_free(evk_context *ctx, evk_hetconv_packed *packed);

#endif
