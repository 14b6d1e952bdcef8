/* HetConv weights: the class layout of the kernel, the checks of both weight
 * forms, and the packing of the non-zero taps with bias and BatchNorm folded. */
#include "arrays.h"
#include "conv2d.h"
#include "hetconv.h"
#include "tensor.h"

static int is_grouped(const evk_hetconv_desc *d)
{
    return d->weight == NULL;
}

/* Below this many slots per class, lanes of one class would idle: the
 * kernel spreads quads across classes instead (bench/bench_hetconv.c). */
enum { MIN_SLOTS_PER_CLASS_QUADS = 8 };

/* The whole-quad layout where the form allows one (see hetconv.h), with
 * c.terms 0 where it does not. */
static evk_hetconv_classes texel_classes_of(const evk_hetconv_desc *d)
{
    uint32_t p = d->part;
    uint32_t in_c4 = evk_div_up(d->in_channels, 4), out_c4 = evk_div_up(d->out_channels, 4);
    evk_hetconv_classes c = {0};
    if (is_grouped(d)) {
        if ((d->in_channels / p) % 4 || (d->out_channels / p) % 4)
            return c;
        c = (evk_hetconv_classes){.count = p, .quads = d->out_channels / p / 4,
                                  .inputs = d->in_channels / p / 4, .in_step = 1, .out_step = 1,
                                  .terms = 4};
        c.in_first = c.inputs;
        c.out_first = c.quads;
    } else if (4 % p == 0) {
        c = (evk_hetconv_classes){.count = 1, .quads = out_c4, .inputs = in_c4, .in_step = 1,
                                  .out_step = 1, .terms = 4 / p};
    } else if (p % 4 == 0) {
        uint32_t period = p / 4;
        c = (evk_hetconv_classes){.count = period < out_c4 ? period : out_c4,
                                  .quads = evk_div_up(out_c4, period),
                                  .inputs = evk_div_up(in_c4, period), .in_first = 1,
                                  .in_step = period, .out_first = 1, .out_step = period, .terms = 1};
    } else {
        return c;
    }
    c.groups = c.count;
    c.slots = c.out_class_size = c.quads * 4;
    c.lane_classes = 1;
    return c;
}

evk_hetconv_classes evk_hetconv_classes_of(const evk_hetconv_desc *d)
{
    evk_hetconv_classes c = texel_classes_of(d);
    if (c.terms)
        return c;
    uint32_t padded_out = evk_div_up(d->out_channels, 4) * 4;
    if (is_grouped(d)) {
        c.count = d->part;
        c.out_class_size = d->out_channels / d->part;
        c.slots = c.out_class_size + padded_out - d->out_channels;
        c.inputs = d->in_channels / d->part;
        c.in_first = c.inputs;
        c.in_step = 1;
        c.out_first = c.out_class_size;
        c.out_step = 1;
    } else {
        c.count = d->part < padded_out ? d->part : padded_out;
        c.slots = evk_div_up(padded_out, d->part);
        c.out_class_size = c.slots;
        c.inputs = evk_div_up(d->in_channels, d->part);
        c.in_first = c.out_first = 1;
        c.in_step = c.out_step = d->part;
    }
    c.lane_classes = c.slots >= MIN_SLOTS_PER_CLASS_QUADS ? 1 : 4;
    c.groups = evk_div_up(c.count, c.lane_classes);
    c.quads = c.lane_classes == 1 ? evk_div_up(c.slots, 4) : c.slots;
    return c;
}

uint32_t evk_hetconv_output_of(const evk_hetconv_classes *c, const evk_hetconv_desc *d,
                               uint32_t g, uint32_t q, uint32_t l, uint32_t *class_index)
{
    if (c->terms) {
        uint64_t quad = (uint64_t)c->out_first * g + (uint64_t)c->out_step * q;
        *class_index = g;
        return q < c->quads && quad < evk_div_up(d->out_channels, 4) ? (uint32_t)quad * 4 + l
                                                                    : EVK_HETCONV_NO_CHANNEL;
    }
    uint32_t r = c->lane_classes == 1 ? g : g * 4 + l;
    uint32_t j = c->lane_classes == 1 ? q * 4 + l : q;
    uint64_t o = (uint64_t)c->out_first * r + (uint64_t)c->out_step * j;
    int owned = j < c->out_class_size || r == c->count - 1;
    *class_index = r;
    if (r >= c->count || j >= c->slots || !owned ||
        o >= (uint64_t)evk_div_up(d->out_channels, 4) * 4)
        return EVK_HETCONV_NO_CHANNEL;
    return (uint32_t)o;
}

uint32_t evk_hetconv_input_of(const evk_hetconv_classes *c, const evk_hetconv_desc *d,
                              uint32_t r, uint32_t t)
{
    uint64_t i = (uint64_t)c->in_first * r + (uint64_t)c->in_step * t;
    return t < c->inputs && i < d->in_channels ? (uint32_t)i : EVK_HETCONV_NO_CHANNEL;
}

/* Whether input i reaches output o through all K×K taps (else only the
 * centre), by the form's rule. */
static int is_full_tap(const evk_hetconv_desc *d, uint32_t o, uint32_t i)
{
    if (is_grouped(d))
        return i / (d->in_channels / d->part) == o / (d->out_channels / d->part);
    return i % d->part == o % d->part;
}

/* The layer's weight of (o, i, ky, kx), before folding, in either form. */
static double tap(const evk_hetconv_desc *d, uint32_t o, uint32_t i, uint32_t ky, uint32_t kx)
{
    uint32_t k = d->kernel_size, m = d->in_channels, centre = (k - 1) / 2;
    if (!is_grouped(d))
        return d->weight[(((size_t)o * m + i) * k + ky) * k + kx];
    int at_centre = ky == centre && kx == centre;
    double w = at_centre ? d->pwc[(size_t)o * m + i] : 0.0;
    if (is_full_tap(d, o, i)) {
        uint32_t per_group = m / d->part;
        w += d->gwc[(((size_t)o * per_group + i % per_group) * k + ky) * k + kx];
    }
    return w;
}

/* Every array's count before any value is read, then the values. */
static evk_status check_arrays(evk_context *ctx, const evk_hetconv_desc *d)
{
    if (is_grouped(d) && (d->in_channels % d->part || d->out_channels % d->part))
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "hetconv: the grouped + pointwise form "
                        "needs part %u to divide in_channels %u and out_channels %u", d->part,
                        d->in_channels, d->out_channels);
    uint64_t kk = (uint64_t)d->kernel_size * d->kernel_size;
    uint64_t per_out = (uint64_t)d->out_channels * d->in_channels;
    evk_host_array arrays[] = {{"weight", d->weight, d->weight_count, per_out * kk},
                               {"gwc", d->gwc, d->gwc_count, per_out / d->part * kk},
                               {"pwc", d->pwc, d->pwc_count, per_out},
                               {"bias", d->bias, d->bias_count, d->out_channels}};
    return evk_check_arrays(ctx, "hetconv", arrays, sizeof arrays / sizeof arrays[0]);
}

/* Names the first non-zero tap outside the mask of the dense masked form. */
static evk_status check_mask(evk_context *ctx, const evk_hetconv_desc *d)
{
    uint32_t k = d->kernel_size, centre = (k - 1) / 2;
    for (uint32_t o = 0; o < d->out_channels; ++o)
        for (uint32_t i = 0; i < d->in_channels; ++i) {
            if (is_full_tap(d, o, i))
                continue;
            for (uint32_t ky = 0; ky < k; ++ky)
                for (uint32_t kx = 0; kx < k; ++kx) {
                    double w = tap(d, o, i, ky, kx);
                    if (w != 0.0 && (ky != centre || kx != centre))
                        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "hetconv: masked "
                                        "weight (o %u, i %u, ky %u, kx %u) = %g is not zero: "
                                        "input %u reaches output %u only through the centre "
                                        "tap at part %u", o, i, ky, kx, w, i, o, d->part);
                }
        }
    return EVK_SUCCESS;
}

evk_status evk_hetconv_check_weights(evk_context *ctx, const evk_hetconv_desc *d)
{
    evk_status s = check_arrays(ctx, d);
    if (s == EVK_SUCCESS && !is_grouped(d))
        s = check_mask(ctx, d);
    return s;
}

/* A lane (l of weight quad `quad`, counted across lane groups) that stands
 * for output channel o of class r. */
typedef struct lane_target {
    size_t quad;
    uint32_t lane, o, r;
} lane_target;

static void pack_centre(const evk_hetconv_desc *d, lane_target at, double scale, float *centre)
{
    uint32_t ci4 = evk_div_up(d->in_channels, 4), mid = (d->kernel_size - 1) / 2;
    float *mats = centre + at.quad * ci4 * 16;
    for (uint32_t i = 0; i < d->in_channels; ++i)
        mats[(size_t)(i / 4) * 16 + (i % 4) * 4 + at.lane] = (float)(tap(d, at.o, i, mid, mid) * scale);
}

/* Whole quads: term k of lane l reads input lane l mod (4 / terms) + k · (4
 * / terms) of each of the group's quads (shaders/hetconv.comp, term_inputs). */
static void pack_off_centre_texels(const evk_hetconv_desc *d, const evk_hetconv_classes *c,
                                   lane_target at, double scale, float *off_centre)
{
    uint32_t k = d->kernel_size, taps = k * k - 1, mid = (k - 1) / 2, lanes = 4 / c->terms;
    for (uint32_t t = 0; t < c->inputs; ++t) {
        uint64_t quad = (uint64_t)c->in_first * at.r + (uint64_t)c->in_step * t;
        float *slot = off_centre + (at.quad * c->inputs + t) * taps * c->terms * 4;
        for (uint32_t term = 0; term < c->terms; ++term) {
            uint64_t i = quad * 4 + at.lane % lanes + term * lanes;
            if (i >= d->in_channels)
                continue;
            uint32_t n = 0;
            for (uint32_t ky = 0; ky < k; ++ky)
                for (uint32_t kx = 0; kx < k; ++kx)
                    if (ky != mid || kx != mid)
                        slot[((size_t)n++ * c->terms + term) * 4 + at.lane] =
                            (float)(tap(d, at.o, (uint32_t)i, ky, kx) * scale);
        }
    }
}

static void pack_off_centre(const evk_hetconv_desc *d, const evk_hetconv_classes *c,
                            lane_target at, double scale, float *off_centre)
{
    if (c->terms) {
        pack_off_centre_texels(d, c, at, scale, off_centre);
        return;
    }
    uint32_t k = d->kernel_size, taps = k * k - 1, mid = (k - 1) / 2;
    for (uint32_t t = 0; t < c->inputs; ++t) {
        uint32_t i = evk_hetconv_input_of(c, d, at.r, t);
        if (i == EVK_HETCONV_NO_CHANNEL)
            continue;
        float *slot = off_centre + (at.quad * c->inputs + t) * taps * 4;
        uint32_t n = 0;
        for (uint32_t ky = 0; ky < k; ++ky)
            for (uint32_t kx = 0; kx < k; ++kx)
                if (ky != mid || kx != mid)
                    slot[(size_t)n++ * 4 + at.lane] = (float)(tap(d, at.o, i, ky, kx) * scale);
    }
}

/* Fills every lane that stands for a real output channel; the others keep
 * zero weights and bias. */
static void pack_lanes(const evk_hetconv_desc *d, const evk_hetconv_classes *c,
                       evk_hetconv_packed *out)
{
    for (uint32_t g = 0; g < c->groups; ++g)
        for (uint32_t q = 0; q < c->quads; ++q)
            for (uint32_t l = 0; l < 4; ++l) {
                lane_target at = {(size_t)g * c->quads + q, l, 0, 0};
                at.o = evk_hetconv_output_of(c, d, g, q, l, &at.r);
                if (at.o == EVK_HETCONV_NO_CHANNEL || at.o >= d->out_channels)
                    continue;
                double scale, shift;
                evk_fold_channel(d->bias, &d->batchnorm, at.o, &scale, &shift);
                pack_centre(d, at, scale, out->centre);
                pack_off_centre(d, c, at, scale, out->off_centre);
                out->bias[at.quad * 4 + l] = (float)shift;
            }
}

void evk_hetconv_packed_free(evk_context *ctx, evk_hetconv_packed *packed)
{
    evk_free(ctx, packed->centre);
    evk_free(ctx, packed->off_centre);
    evk_free(ctx, packed->bias);
    *packed = (evk_hetconv_packed){0};
}

evk_status evk_hetconv_pack(evk_context *ctx, const evk_hetconv_desc *d, evk_hetconv_packed *out)
{
    evk_hetconv_classes c = evk_hetconv_classes_of(d);
    size_t quads = (size_t)c.groups * c.quads, k = d->kernel_size;
    out->centre_count = quads * evk_div_up(d->in_channels, 4) * 16;
    out->off_centre_count = quads * c.inputs * (k * k - 1) * (c.terms ? c.terms : 1) * 4;
    out->bias_count = quads * 4;
    out->centre = evk_calloc(ctx, out->centre_count, sizeof(float));
    out->off_centre = evk_calloc(ctx, out->off_centre_count, sizeof(float));
    out->bias = evk_calloc(ctx, out->bias_count, sizeof(float));
    if (!out->centre || !out->off_centre || !out->bias) {
        evk_hetconv_packed_free(ctx, out);
        return evk_fail_oom(ctx, "hetconv packed weights");
    }
    pack_lanes(d, &c, out);
    return EVK_SUCCESS;
}
