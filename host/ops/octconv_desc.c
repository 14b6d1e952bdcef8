/* OctConv descs without a device: defaults, the channel split, validation,
 * shapes and costs. */
#include "arrays.h"
#include "conv2d.h"
#include "octconv.h"
#include "saturating.h"

enum { MAX_KERNEL = 15 };

evk_octconv_desc evk_octconv_resolve(const evk_octconv_desc *desc)
{
    evk_octconv_desc d = *desc;
    d.stride = d.stride ? d.stride : 1;
    if (d.padding == 0 && d.kernel_size)
        d.padding = (d.kernel_size - 1) / 2;
    d.groups = d.groups ? d.groups : 1;
    if (d.batchnorm_h.eps == 0.0f)
        d.batchnorm_h.eps = 1e-5f;
    if (d.batchnorm_l.eps == 0.0f)
        d.batchnorm_l.eps = 1e-5f;
    return d;
}

uint32_t evk_octconv_low_channels(double alpha, uint32_t channels)
{
    /* One rounding of the double product, then truncation: Python's
     * int(alpha * C), so that 0.7 of 20 channels is 14 here as in PyTorch
     * (a float 0.7 lies below the decimal and gave 13). */
    return (uint32_t)(alpha * (double)channels);
}

evk_octconv_channels evk_octconv_channels_of(const evk_octconv_desc *d)
{
    evk_octconv_channels c;
    c.in_low = d->in_low_channels ? d->in_low_channels
                                  : evk_octconv_low_channels(d->alpha_in, d->in_channels);
    c.out_low = d->out_low_channels ? d->out_low_channels
                                    : evk_octconv_low_channels(d->alpha_out, d->out_channels);
    c.in_high = d->in_channels - c.in_low;
    c.out_high = d->out_channels - c.out_low;
    return c;
}

/* One side's split: α in [0, 1), or a low channel count below the side's
 * channels with α left 0. */
static evk_status check_side(evk_context *ctx, const char *side, double alpha, uint32_t low,
                             uint32_t channels)
{
    if (!(alpha >= 0.0 && alpha < 1.0))
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "octconv: alpha_%s %g must be in [0, 1)",
                        side, alpha);
    if (low && alpha != 0.0)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "octconv: set alpha_%s or "
                        "%s_low_channels, not both (%g and %u)", side, side, alpha, low);
    if (low >= channels)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "octconv: %s_low_channels %u must be "
                        "below %s_channels %u (X^H and Y^H need a channel)", side, low, side,
                        channels);
    return EVK_SUCCESS;
}

static evk_status check_scalars(evk_context *ctx, const evk_octconv_desc *d)
{
    if (!d->in_channels || !d->out_channels)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "octconv: in_channels %u / out_channels "
                        "%u must be >= 1", d->in_channels, d->out_channels);
    evk_status s = check_side(ctx, "in", d->alpha_in, d->in_low_channels, d->in_channels);
    if (s == EVK_SUCCESS)
        s = check_side(ctx, "out", d->alpha_out, d->out_low_channels, d->out_channels);
    if (s != EVK_SUCCESS)
        return s;
    if (d->kernel_size == 0 || d->kernel_size > MAX_KERNEL || d->kernel_size % 2 == 0)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "octconv: kernel_size %u must be odd, "
                        "from 1 to %u", d->kernel_size, MAX_KERNEL);
    if (d->stride > 2)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "octconv: stride %u must be 1 or 2",
                        d->stride);
    if (d->padding != (d->kernel_size - 1) / 2)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "octconv: padding %u must be (kernel_size "
                        "- 1) / 2 = %u, the size-preserving padding Y^H and Y^L need", d->padding,
                        (d->kernel_size - 1) / 2);
    if ((unsigned)d->activation > EVK_ACTIVATION_SIGMOID)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "octconv: unknown activation %d",
                        (int)d->activation);
    if (d->groups == 1)
        return EVK_SUCCESS;
    evk_octconv_channels c = evk_octconv_channels_of(d);
    if (d->groups != d->in_channels || d->groups != d->out_channels || c.in_low != c.out_low)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "octconv: groups %u must be 1 or "
                        "depthwise (groups = in_channels = out_channels %u/%u, split alike: "
                        "%u/%u low-frequency channels)", d->groups, d->in_channels,
                        d->out_channels, c.in_low, c.out_low);
    return EVK_SUCCESS;
}

/* A path's weight is required exactly when both its ends have channels
 * (depthwise: only H→H and L→L exist). */
static evk_status check_path(evk_context *ctx, const char *name, const float *weight,
                             int exists, uint32_t from, uint32_t to)
{
    if (exists && !weight)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "octconv: %s is NULL but the path has "
                        "%u input and %u output channels", name, from, to);
    if (!exists && weight)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "octconv: %s is set but the path has "
                        "no channels (%u input, %u output%s)", name, from, to,
                        from && to ? ", depthwise" : "");
    return EVK_SUCCESS;
}

static evk_status check_paths(evk_context *ctx, const evk_octconv_desc *d)
{
    evk_octconv_channels c = evk_octconv_channels_of(d);
    int dense = d->groups == 1;
    evk_status s = check_path(ctx, "weight_hh", d->weight_hh, 1, c.in_high, c.out_high);
    if (s == EVK_SUCCESS)
        s = check_path(ctx, "weight_hl", d->weight_hl, dense && c.out_low, c.in_high, c.out_low);
    if (s == EVK_SUCCESS)
        s = check_path(ctx, "weight_lh", d->weight_lh, dense && c.in_low, c.in_low, c.out_high);
    if (s == EVK_SUCCESS)
        s = check_path(ctx, "weight_ll", d->weight_ll, c.in_low && c.out_low, c.in_low, c.out_low);
    if (s != EVK_SUCCESS)
        return s;
    const evk_batchnorm *bn_l = &d->batchnorm_l;
    if (!c.out_low && (d->bias_l || bn_l->gamma || bn_l->beta || bn_l->mean || bn_l->var))
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "octconv: bias_l or batchnorm_l is set "
                        "but the layer has no Y^L (no low-frequency channel of %u outputs)",
                        d->out_channels);
    s = evk_batchnorm_check(ctx, "octconv batchnorm_h", &d->batchnorm_h, c.out_high);
    if (s == EVK_SUCCESS)
        s = evk_batchnorm_check(ctx, "octconv batchnorm_l", bn_l, c.out_low);
    return s;
}

evk_status evk_octconv_check(evk_context *ctx, const evk_octconv_desc *desc)
{
    if (!desc)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "octconv: desc is NULL");
    evk_octconv_desc d = evk_octconv_resolve(desc);
    evk_status s = check_scalars(ctx, &d);
    return s == EVK_SUCCESS ? check_paths(ctx, &d) : s;
}

evk_status evk_octconv_check_arrays(evk_context *ctx, const evk_octconv_desc *d)
{
    evk_octconv_channels c = evk_octconv_channels_of(d);
    uint64_t kk = (uint64_t)d->kernel_size * d->kernel_size;
    int dense = d->groups == 1;
    evk_host_array arrays[] = {
        {"weight_hh", d->weight_hh, d->weight_hh_count, kk * c.out_high * (dense ? c.in_high : 1)},
        {"weight_hl", d->weight_hl, d->weight_hl_count, kk * c.out_low * c.in_high},
        {"weight_lh", d->weight_lh, d->weight_lh_count, kk * c.out_high * c.in_low},
        {"weight_ll", d->weight_ll, d->weight_ll_count, kk * c.out_low * (dense ? c.in_low : 1)},
        {"bias_h", d->bias_h, d->bias_h_count, c.out_high},
        {"bias_l", d->bias_l, d->bias_l_count, c.out_low}};
    return evk_check_arrays(ctx, "octconv", arrays, sizeof arrays / sizeof arrays[0]);
}

evk_status evk_octconv_split(const evk_octconv_desc *desc, evk_octconv_channels *out)
{
    evk_status s = evk_octconv_check(NULL, desc);
    if (s != EVK_SUCCESS)
        return s;
    if (!out)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "octconv: channels pointer is NULL");
    evk_octconv_desc d = evk_octconv_resolve(desc);
    *out = evk_octconv_channels_of(&d);
    return EVK_SUCCESS;
}

uint32_t evk_octconv_half_size(uint32_t size)
{
    return size / 2 + size % 2;
}

evk_status evk_octconv_input_shapes(const evk_octconv_desc *desc, uint32_t n, uint32_t h,
                                    uint32_t w, evk_shape *x_high, evk_shape *x_low)
{
    evk_octconv_channels c;
    evk_status s = evk_octconv_split(desc, &c);
    if (s != EVK_SUCCESS)
        return s;
    if (!n || !h || !w)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "octconv: image %ux%ux%u has a zero "
                        "dimension", n, h, w);
    if (x_high)
        *x_high = (evk_shape){n, c.in_high, h, w};
    if (x_low)
        *x_low = c.in_low ? (evk_shape){n, c.in_low, evk_octconv_half_size(h),
                                        evk_octconv_half_size(w)}
                          : (evk_shape){0};
    return EVK_SUCCESS;
}

evk_status evk_octconv_shapes_of(evk_context *ctx, const evk_octconv_desc *d, evk_shape x,
                                 evk_shape *y_high, evk_shape *y_low)
{
    evk_status s = evk_shape_check(ctx, x, "octconv X^H");
    if (s != EVK_SUCCESS)
        return s;
    evk_octconv_channels c = evk_octconv_channels_of(d);
    if (x.c != c.in_high)
        return evk_fail(ctx, EVK_ERROR_SHAPE_MISMATCH, "octconv: X^H has %u channels, layer "
                        "expects %u (in_channels %u, %u of them low-frequency)", x.c, c.in_high,
                        d->in_channels, c.in_low);
    evk_shape high = {x.n, c.out_high, d->stride == 2 ? evk_octconv_half_size(x.h) : x.h,
                      d->stride == 2 ? evk_octconv_half_size(x.w) : x.w};
    if (y_high)
        *y_high = high;
    if (y_low)
        *y_low = c.out_low ? (evk_shape){x.n, c.out_low, evk_octconv_half_size(high.h),
                                         evk_octconv_half_size(high.w)}
                           : (evk_shape){0};
    return EVK_SUCCESS;
}

evk_status evk_octconv_output_shapes(const evk_octconv_desc *desc, evk_shape x_high,
                                     evk_shape *y_high, evk_shape *y_low)
{
    evk_status s = evk_octconv_check(NULL, desc);
    if (s != EVK_SUCCESS)
        return s;
    evk_octconv_desc d = evk_octconv_resolve(desc);
    return evk_octconv_shapes_of(NULL, &d, x_high, y_high, y_low);
}

static uint64_t pixels(evk_shape s)
{
    return EVK_PRODUCT(s.n, s.h, s.w);
}

evk_status evk_octconv_cost(const evk_octconv_desc *desc, evk_shape x_high, uint64_t *macs,
                            uint64_t *params)
{
    evk_shape high, low;
    evk_status s = evk_octconv_output_shapes(desc, x_high, &high, &low);
    if (s != EVK_SUCCESS)
        return s;
    evk_octconv_desc d = evk_octconv_resolve(desc);
    evk_octconv_channels c = evk_octconv_channels_of(&d);
    uint64_t kk = (uint64_t)d.kernel_size * d.kernel_size;
    /* Depthwise: one input channel per output, and no cross-frequency paths. */
    uint64_t per_in = d.groups > 1 ? 1 : 0;
    uint64_t hh = EVK_PRODUCT(c.out_high, per_in ? per_in : c.in_high, kk);
    uint64_t ll = EVK_PRODUCT(c.out_low, per_in ? per_in : c.in_low, kk);
    uint64_t lh = per_in ? 0 : EVK_PRODUCT(c.out_high, c.in_low, kk);
    uint64_t hl = per_in ? 0 : EVK_PRODUCT(c.out_low, c.in_high, kk);
    /* L→H runs on X^L, which has Y^L's size at stride 1 and Y^H's at 2. */
    uint64_t lh_pixels = d.stride == 1 ? EVK_PRODUCT(x_high.n, evk_octconv_half_size(x_high.h),
                                                     evk_octconv_half_size(x_high.w))
                                       : pixels(high);
    uint64_t macs_sat = EVK_SUM(EVK_PRODUCT(pixels(high), hh), EVK_PRODUCT(lh_pixels, lh),
                                c.out_low ? EVK_PRODUCT(pixels(low), EVK_SUM(ll, hl)) : 0);
    int bias_h = d.bias_h || d.batchnorm_h.gamma, bias_l = d.bias_l || d.batchnorm_l.gamma;
    uint64_t params_sat = EVK_SUM(hh, ll, lh, hl, bias_h ? c.out_high : 0, bias_l ? c.out_low : 0);
    return evk_store_costs("octconv", &x_high, macs_sat, params_sat, macs, params);
}
