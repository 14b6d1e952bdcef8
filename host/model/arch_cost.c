/* What a layer spec costs, as torchvision counts it: its output shape,
 * multiply-accumulates and parameters, in saturating arithmetic so that a
 * huge input reports "does not fit" instead of a wrapped count. */
#include "arch.h"
#include "octconv.h"
#include "saturating.h"

static uint32_t strided(uint32_t size, uint32_t stride)
{
    return (size - 1) / stride + 1;
}

static void mbconv_cost(const evk_layer_spec *sp, evk_shape in, evk_shape out, uint64_t *macs,
                        uint64_t *params)
{
    uint64_t e = sp->expanded_channels, sq = sp->squeeze_channels;
    uint64_t kk = (uint64_t)sp->kernel * sp->kernel;
    uint64_t expand = sp->expand_ratio > 1 ? e * sp->in_channels : 0;
    uint64_t in_plane = EVK_PRODUCT(in.n, in.h, in.w), out_plane = EVK_PRODUCT(out.n, out.h, out.w);
    *macs = EVK_SUM(EVK_PRODUCT(in_plane, expand), EVK_PRODUCT(out_plane, e, kk + sp->out_channels),
                    EVK_PRODUCT(in.n, 2, e, sq));
    *params = (expand ? expand + 2 * e : 0) + e * kk + 2 * e + 2 * e * sq + sq + e +
              e * sp->out_channels + 2 * sp->out_channels;
}

/* Weights per HetConv filter summed over the filters (papers.md §1): filter
 * o has n_o K×K kernels, the inputs i with (i − o) mod P == 0, and M − n_o
 * centre taps. */
static uint64_t hetconv_weights(const evk_layer_spec *sp)
{
    uint64_t m = sp->in_channels, p = sp->part, kk = (uint64_t)sp->kernel * sp->kernel, sum = 0;
    for (uint64_t o = 0; o < sp->out_channels; ++o) {
        uint64_t wide = m / p + (o % p < m % p);
        sum += wide * kk + (m - wide);
    }
    return sum;
}

static uint32_t half_up(uint32_t size)
{
    return size / 2 + size % 2;
}

/* As evk_octconv_cost counts (papers.md §2, the official stride-2 handling):
 * each path at the size it runs at, BatchNorm 2 per channel. */
static void octconv_cost(const evk_layer_spec *sp, evk_shape in, evk_shape out, uint64_t *macs,
                         uint64_t *params)
{
    uint64_t in_low = evk_octconv_low_channels(sp->alpha_in, sp->in_channels);
    uint64_t out_low = evk_octconv_low_channels(sp->alpha_out, sp->out_channels);
    uint64_t in_high = sp->in_channels - in_low, out_high = sp->out_channels - out_low;
    uint64_t kk = (uint64_t)sp->kernel * sp->kernel;
    uint64_t high_px = EVK_PRODUCT(out.n, out.h, out.w);
    uint64_t low_px = EVK_PRODUCT(out.n, half_up(out.h), half_up(out.w));
    uint64_t x_low_px = EVK_PRODUCT(in.n, half_up(in.h), half_up(in.w));
    uint64_t lh_px = sp->stride == 2 ? high_px : x_low_px;
    *macs = EVK_PRODUCT(kk, EVK_SUM(EVK_PRODUCT(high_px, out_high, in_high),
                                    EVK_PRODUCT(lh_px, out_high, in_low),
                                    EVK_PRODUCT(low_px, out_low, in_high + in_low)));
    *params = kk * sp->out_channels * sp->in_channels + 2 * sp->out_channels;
}

void evk_layer_spec_cost(const evk_layer_spec *sp, evk_shape in, evk_shape *out, uint64_t *macs,
                         uint64_t *params)
{
    uint64_t c_in = sp->in_channels, c_out = sp->out_channels;
    *out = (evk_shape){in.n, sp->out_channels, strided(in.h, sp->stride ? sp->stride : 1),
                       strided(in.w, sp->stride ? sp->stride : 1)};
    uint64_t out_plane = EVK_PRODUCT(out->n, out->h, out->w);
    uint64_t kk = (uint64_t)sp->kernel * sp->kernel;
    switch (sp->kind) {
    case EVK_KIND_CONV:
        *macs = EVK_PRODUCT(out_plane, c_out, c_in, kk);
        *params = c_out * c_in * kk + 2 * c_out;
        break;
    case EVK_KIND_HETCONV:
        *params = hetconv_weights(sp);
        *macs = EVK_PRODUCT(out_plane, *params);
        *params += 2 * c_out;
        break;
    case EVK_KIND_MBCONV:
        mbconv_cost(sp, in, *out, macs, params);
        break;
    case EVK_KIND_ADD:
        *out = in;
        *macs = *params = 0;
        break;
    case EVK_KIND_OCTCONV:
        octconv_cost(sp, in, *out, macs, params);
        break;
    case EVK_KIND_MAX_POOL:
        *out = (evk_shape){in.n, in.c, (in.h + 2 * sp->padding - sp->kernel) / sp->stride + 1,
                           (in.w + 2 * sp->padding - sp->kernel) / sp->stride + 1};
        *macs = *params = 0;
        break;
    case EVK_KIND_POOL:
        *out = (evk_shape){in.n, in.c, 1, 1};
        *macs = *params = 0;
        break;
    case EVK_KIND_LINEAR:
        *out = (evk_shape){in.n, sp->out_channels, 1, 1};
        *macs = EVK_PRODUCT(in.n, c_in, c_out);
        *params = c_in * c_out + c_out;
        break;
    }
}
