#include <math.h>
#include <stdlib.h>

#include "reference.h"

double evk_ref_activate(evk_activation activation, double x)
{
    switch (activation) {
    case EVK_ACTIVATION_RELU: return x > 0.0 ? x : 0.0;
    case EVK_ACTIVATION_RELU6: return x < 0.0 ? 0.0 : (x > 6.0 ? 6.0 : x);
    case EVK_ACTIVATION_SILU: return x / (1.0 + exp(-x));
    case EVK_ACTIVATION_SIGMOID: return 1.0 / (1.0 + exp(-x));
    default: return x;
    }
}

static double conv_at(const evk_conv2d_desc *d, evk_shape in_shape, const float *in, uint32_t n,
                      uint32_t o, uint32_t oy, uint32_t ox)
{
    uint32_t groups = d->groups ? d->groups : 1;
    uint32_t sh = d->stride_h ? d->stride_h : 1, sw = d->stride_w ? d->stride_w : 1;
    uint32_t in_per_group = d->in_channels / groups;
    uint32_t first = o / (d->out_channels / groups) * in_per_group;
    double sum = d->bias ? d->bias[o] : 0.0;
    for (uint32_t i = 0; i < in_per_group; ++i)
        for (uint32_t ky = 0; ky < d->kernel_h; ++ky) {
            long iy = (long)oy * sh + ky - d->pad_h;
            if (iy < 0 || iy >= (long)in_shape.h)
                continue;
            for (uint32_t kx = 0; kx < d->kernel_w; ++kx) {
                long ix = (long)ox * sw + kx - d->pad_w;
                if (ix < 0 || ix >= (long)in_shape.w)
                    continue;
                double w = d->weight[(((uint64_t)o * in_per_group + i) * d->kernel_h + ky) * d->kernel_w + kx];
                double x = in[(((uint64_t)n * in_shape.c + first + i) * in_shape.h + iy) * in_shape.w + ix];
                sum += w * x;
            }
        }
    return sum;
}

static double batchnorm(const evk_batchnorm *bn, uint32_t o, double x)
{
    if (!bn->gamma)
        return x;
    double eps = bn->eps != 0.0f ? bn->eps : 1e-5;
    return (x - bn->mean[o]) / sqrt((double)bn->var[o] + eps) * bn->gamma[o] + bn->beta[o];
}

void evk_ref_conv2d(const evk_conv2d_desc *d, evk_shape in_shape, const float *in, float *out)
{
    uint32_t sh = d->stride_h ? d->stride_h : 1, sw = d->stride_w ? d->stride_w : 1;
    uint32_t oh = (uint32_t)(((int64_t)in_shape.h + 2 * d->pad_h + d->pad_bottom_extra -
                              d->kernel_h) / sh + 1);
    uint32_t ow = (uint32_t)(((int64_t)in_shape.w + 2 * d->pad_w + d->pad_right_extra -
                              d->kernel_w) / sw + 1);
    for (uint32_t n = 0; n < in_shape.n; ++n)
        for (uint32_t o = 0; o < d->out_channels; ++o)
            for (uint32_t y = 0; y < oh; ++y)
                for (uint32_t x = 0; x < ow; ++x) {
                    double v = batchnorm(&d->batchnorm, o, conv_at(d, in_shape, in, n, o, y, x));
                    out[(((uint64_t)n * d->out_channels + o) * oh + y) * ow + x] =
                        (float)evk_ref_activate(d->activation, v);
                }
}

static uint32_t hetconv_pad(const evk_hetconv_desc *d)
{
    return d->padding_mode == EVK_PADDING_SAME ? (d->kernel_size - 1) / 2 : d->padding;
}

/* Input value at tap (ky, kx) of output pixel (oy, ox), 0 in the padding. */
static double hetconv_input(const evk_hetconv_desc *d, evk_shape s, const float *in, uint32_t n,
                            uint32_t i, uint32_t oy, uint32_t ox, uint32_t ky, uint32_t kx)
{
    uint32_t stride = d->stride ? d->stride : 1;
    long iy = (long)oy * stride + ky - hetconv_pad(d), ix = (long)ox * stride + kx - hetconv_pad(d);
    if (iy < 0 || iy >= (long)s.h || ix < 0 || ix >= (long)s.w)
        return 0.0;
    return in[(((uint64_t)n * s.c + i) * s.h + iy) * s.w + ix];
}

static double hetconv_masked_at(const evk_hetconv_desc *d, evk_shape s, const float *in,
                                uint32_t n, uint32_t o, uint32_t oy, uint32_t ox)
{
    uint32_t k = d->kernel_size, mid = (k - 1) / 2;
    double sum = 0.0;
    for (uint32_t i = 0; i < d->in_channels; ++i)
        for (uint32_t ky = 0; ky < k; ++ky)
            for (uint32_t kx = 0; kx < k; ++kx) {
                int full = (i % d->part) == (o % d->part);
                if (!full && (ky != mid || kx != mid))
                    continue;
                double w = d->weight[(((uint64_t)o * d->in_channels + i) * k + ky) * k + kx];
                sum += w * hetconv_input(d, s, in, n, i, oy, ox, ky, kx);
            }
    return sum;
}

static double hetconv_grouped_at(const evk_hetconv_desc *d, evk_shape s, const float *in,
                                 uint32_t n, uint32_t o, uint32_t oy, uint32_t ox)
{
    uint32_t k = d->kernel_size, mid = (k - 1) / 2, per_group = d->in_channels / d->part;
    uint32_t first = o / (d->out_channels / d->part) * per_group;
    double sum = 0.0;
    for (uint32_t t = 0; t < per_group; ++t)
        for (uint32_t ky = 0; ky < k; ++ky)
            for (uint32_t kx = 0; kx < k; ++kx)
                sum += d->gwc[(((uint64_t)o * per_group + t) * k + ky) * k + kx] *
                       hetconv_input(d, s, in, n, first + t, oy, ox, ky, kx);
    for (uint32_t i = 0; i < d->in_channels; ++i)
        sum += d->pwc[(uint64_t)o * d->in_channels + i] * hetconv_input(d, s, in, n, i, oy, ox, mid, mid);
    return sum;
}

void evk_ref_hetconv(const evk_hetconv_desc *d, evk_shape in_shape, const float *in, float *out)
{
    uint32_t stride = d->stride ? d->stride : 1, pad = hetconv_pad(d);
    uint32_t oh = (in_shape.h + 2 * pad - d->kernel_size) / stride + 1;
    uint32_t ow = (in_shape.w + 2 * pad - d->kernel_size) / stride + 1;
    for (uint32_t n = 0; n < in_shape.n; ++n)
        for (uint32_t o = 0; o < d->out_channels; ++o)
            for (uint32_t y = 0; y < oh; ++y)
                for (uint32_t x = 0; x < ow; ++x) {
                    double v = d->weight ? hetconv_masked_at(d, in_shape, in, n, o, y, x)
                                         : hetconv_grouped_at(d, in_shape, in, n, o, y, x);
                    v = batchnorm(&d->batchnorm, o, v + (d->bias ? d->bias[o] : 0.0));
                    out[(((uint64_t)n * d->out_channels + o) * oh + y) * ow + x] =
                        (float)evk_ref_activate(d->activation, v);
                }
}

void evk_ref_compare(const float *a, const float *b, uint64_t n, double floor, double *max_abs,
                     double *max_rel)
{
    double worst_abs = 0.0, worst_rel = 0.0;
    for (uint64_t i = 0; i < n; ++i) {
        if (!isfinite(a[i]) || !isfinite(b[i])) {
            worst_abs = worst_rel = INFINITY;
            break;
        }
        double diff = fabs((double)a[i] - (double)b[i]);
        double scale = fabs((double)b[i]) > floor ? fabs((double)b[i]) : floor;
        worst_abs = diff > worst_abs ? diff : worst_abs;
        worst_rel = diff / scale > worst_rel ? diff / scale : worst_rel;
    }
    *max_abs = worst_abs;
    *max_rel = worst_rel;
}

const evk_ref_mbconv_block evk_ref_b0_blocks[EVK_REF_B0_BLOCKS] = {
    {32, 16, 1, 3, 1, 112},  {16, 24, 6, 3, 2, 112},  {24, 24, 6, 3, 1, 56},
    {24, 40, 6, 5, 2, 56},   {40, 40, 6, 5, 1, 28},   {40, 80, 6, 3, 2, 28},
    {80, 80, 6, 3, 1, 14},   {80, 80, 6, 3, 1, 14},   {80, 112, 6, 5, 1, 14},
    {112, 112, 6, 5, 1, 14}, {112, 112, 6, 5, 1, 14}, {112, 192, 6, 5, 2, 14},
    {192, 192, 6, 5, 1, 7},  {192, 192, 6, 5, 1, 7},  {192, 192, 6, 5, 1, 7},
    {192, 320, 6, 3, 1, 7},
};

/* ---- MBConv: built on evk_ref_conv2d, intermediates in float as a device
 * holds them, defaults resolved here as evk_mbconv_desc documents them. */

typedef struct ref_mbconv_dims {
    uint32_t expand_ratio, expanded, kernel, stride, squeeze;
    evk_activation activation;
    int has_se;
} ref_mbconv_dims;

static ref_mbconv_dims ref_mbconv_resolve(const evk_mbconv_desc *d)
{
    ref_mbconv_dims r;
    r.expand_ratio = d->expand_ratio ? d->expand_ratio : 1;
    r.expanded = d->expanded_channels ? d->expanded_channels : d->in_channels * r.expand_ratio;
    r.kernel = d->kernel_size ? d->kernel_size : 3;
    r.stride = d->stride ? d->stride : 1;
    double squeeze = floor(d->in_channels * (d->se_ratio != 0.0f ? (double)d->se_ratio : 0.25));
    r.squeeze = squeeze < 1.0 ? 1 : (uint32_t)squeeze;
    r.activation = d->activation ? d->activation : EVK_ACTIVATION_SILU;
    r.has_se = !(d->flags & EVK_MBCONV_NO_SE);
    return r;
}

/* d[n][c][...] *= sigmoid(fc2 · act(fc1 · mean(d[n]) + b1) + b2). */
static void ref_squeeze_excite(const evk_mbconv_desc *d, const ref_mbconv_dims *r, evk_shape s,
                               float *x)
{
    uint64_t plane = (uint64_t)s.h * s.w;
    double *mean = malloc(s.c * sizeof *mean), *z = malloc(r->squeeze * sizeof *z);
    for (uint32_t n = 0; mean && z && n < s.n; ++n) {
        float *image = x + (uint64_t)n * s.c * plane;
        for (uint32_t c = 0; c < s.c; ++c) {
            double sum = 0.0;
            for (uint64_t i = 0; i < plane; ++i)
                sum += image[c * plane + i];
            mean[c] = sum / (double)plane;
        }
        for (uint32_t j = 0; j < r->squeeze; ++j) {
            double sum = d->se_fc1_bias[j];
            for (uint32_t c = 0; c < s.c; ++c)
                sum += d->se_fc1_weight[(uint64_t)j * s.c + c] * mean[c];
            z[j] = evk_ref_activate(r->activation, sum);
        }
        for (uint32_t c = 0; c < s.c; ++c) {
            double sum = d->se_fc2_bias[c];
            for (uint32_t j = 0; j < r->squeeze; ++j)
                sum += d->se_fc2_weight[(uint64_t)c * r->squeeze + j] * z[j];
            double gate = evk_ref_activate(EVK_ACTIVATION_SIGMOID, sum);
            for (uint64_t i = 0; i < plane; ++i)
                image[c * plane + i] = (float)(image[c * plane + i] * gate);
        }
    }
    free(mean);
    free(z);
}

void evk_ref_mbconv(const evk_mbconv_desc *d, evk_shape in_shape, const float *in, float *out)
{
    ref_mbconv_dims r = ref_mbconv_resolve(d);
    uint32_t k = r.kernel, pad = (k - 1) / 2, e = r.expanded;
    evk_shape mid = {in_shape.n, e, in_shape.h, in_shape.w};
    evk_shape dw = {in_shape.n, e, (in_shape.h - 1) / r.stride + 1, (in_shape.w - 1) / r.stride + 1};
    float *expanded = r.expand_ratio > 1 ? malloc(evk_shape_elements(mid) * sizeof(float)) : NULL;
    float *depthwise = malloc(evk_shape_elements(dw) * sizeof(float));
    if ((r.expand_ratio > 1 && !expanded) || !depthwise) {
        free(expanded);
        free(depthwise);
        return;
    }
    evk_conv2d_desc expand = {.in_channels = d->in_channels, .out_channels = e, .kernel_h = 1,
                              .kernel_w = 1, .activation = r.activation,
                              .weight = d->expand_weight, .batchnorm = d->expand_bn};
    evk_conv2d_desc dwc = {.in_channels = e, .out_channels = e, .kernel_h = k, .kernel_w = k,
                           .stride_h = r.stride, .stride_w = r.stride, .pad_h = pad, .pad_w = pad,
                           .groups = e, .activation = r.activation, .weight = d->depthwise_weight,
                           .batchnorm = d->depthwise_bn};
    evk_conv2d_desc project = {.in_channels = e, .out_channels = d->out_channels, .kernel_h = 1,
                               .kernel_w = 1, .weight = d->project_weight, .batchnorm = d->project_bn};
    if (expanded)
        evk_ref_conv2d(&expand, in_shape, in, expanded);
    evk_ref_conv2d(&dwc, mid, expanded ? expanded : in, depthwise);
    if (r.has_se)
        ref_squeeze_excite(d, &r, dw, depthwise);
    evk_ref_conv2d(&project, dw, depthwise, out);
    if (r.stride == 1 && d->in_channels == d->out_channels)
        for (uint64_t i = 0; i < evk_shape_elements(in_shape); ++i)
            out[i] = (float)((double)out[i] + in[i]);
    free(expanded);
    free(depthwise);
}

/* ---- OctConv. */

static uint32_t octconv_low(float alpha, uint32_t channels)
{
    return (uint32_t)((double)alpha * channels);
}

/* 2×2 average pooling, ceil mode, over the pixels inside the map; malloc'd. */
static float *pool2(evk_shape s, const float *in, evk_shape *out_shape)
{
    evk_shape o = {s.n, s.c, (s.h + 1) / 2, (s.w + 1) / 2};
    float *out = malloc(evk_shape_elements(o) * sizeof *out);
    if (!out)
        abort();
    for (uint64_t plane = 0; plane < (uint64_t)s.n * s.c; ++plane)
        for (uint32_t y = 0; y < o.h; ++y)
            for (uint32_t x = 0; x < o.w; ++x) {
                double sum = 0.0;
                int count = 0;
                for (uint32_t iy = 2 * y; iy < 2 * y + 2 && iy < s.h; ++iy)
                    for (uint32_t ix = 2 * x; ix < 2 * x + 2 && ix < s.w; ++ix, ++count)
                        sum += in[(plane * s.h + iy) * s.w + ix];
                out[(plane * o.h + y) * o.w + x] = (float)(sum / count);
            }
    *out_shape = o;
    return out;
}

/* A stride-1, size-preserving conv of one path (no bias); malloc'd. */
static float *path_conv(const evk_octconv_desc *d, evk_shape in_shape, const float *in,
                        uint32_t out_c, const float *weight)
{
    uint32_t k = d->kernel_size, groups = d->groups > 1 ? in_shape.c : 1;
    evk_conv2d_desc conv = {.in_channels = in_shape.c, .out_channels = out_c, .kernel_h = k,
                            .kernel_w = k, .pad_h = (k - 1) / 2, .pad_w = (k - 1) / 2,
                            .groups = groups, .weight = weight};
    float *out = malloc((uint64_t)in_shape.n * out_c * in_shape.h * in_shape.w * sizeof *out);
    if (!out)
        abort();
    evk_ref_conv2d(&conv, in_shape, in, out);
    return out;
}

/* y = act(BN(main + other[y / up][x / up] + bias)), other NULL when the
 * branch has one path. */
static void octconv_finish(const evk_octconv_desc *d, evk_shape s, const float *main_sum,
                           const float *other, evk_shape other_shape, uint32_t up,
                           const float *bias, const evk_batchnorm *bn, float *out)
{
    for (uint32_t n = 0; n < s.n; ++n)
        for (uint32_t o = 0; o < s.c; ++o)
            for (uint32_t y = 0; y < s.h; ++y)
                for (uint32_t x = 0; x < s.w; ++x) {
                    uint64_t at = (((uint64_t)n * s.c + o) * s.h + y) * s.w + x;
                    double v = main_sum[at] + (bias ? bias[o] : 0.0);
                    if (other)
                        v += other[(((uint64_t)n * s.c + o) * other_shape.h + y / up) *
                                   other_shape.w + x / up];
                    out[at] = (float)evk_ref_activate(d->activation, batchnorm(bn, o, v));
                }
}

void evk_ref_octconv(const evk_octconv_desc *d, evk_shape xh_shape, const float *x_high,
                     const float *x_low, float *y_high, float *y_low)
{
    uint32_t in_low = octconv_low(d->alpha_in, d->in_channels);
    uint32_t out_low = octconv_low(d->alpha_out, d->out_channels);
    uint32_t out_high = d->out_channels - out_low, stride = d->stride ? d->stride : 1;
    evk_shape xl_shape = {xh_shape.n, in_low, (xh_shape.h + 1) / 2, (xh_shape.w + 1) / 2};
    /* At stride 2 both inputs are pooled first. */
    evk_shape h_shape = xh_shape, l_shape = xl_shape, hl_shape;
    float *h_in = stride == 2 ? pool2(xh_shape, x_high, &h_shape) : NULL;
    float *l_in = stride == 2 && in_low ? pool2(xl_shape, x_low, &l_shape) : NULL;
    const float *h_src = h_in ? h_in : x_high, *l_src = l_in ? l_in : x_low;
    int dense = d->groups <= 1;

    float *hh = path_conv(d, h_shape, h_src, out_high, d->weight_hh);
    float *lh = dense && in_low ? path_conv(d, xl_shape, x_low, out_high, d->weight_lh) : NULL;
    evk_shape yh_shape = {h_shape.n, out_high, h_shape.h, h_shape.w};
    octconv_finish(d, yh_shape, hh, lh, xl_shape, stride == 1 ? 2 : 1, d->bias_h, &d->batchnorm_h,
                   y_high);
    free(hh);
    free(lh);
    if (out_low) {
        float *pooled = pool2(h_shape, h_src, &hl_shape);
        float *hl = dense ? path_conv(d, hl_shape, pooled, out_low, d->weight_hl) : NULL;
        float *ll = in_low ? path_conv(d, l_shape, l_src, out_low, d->weight_ll) : NULL;
        evk_shape yl_shape = {hl_shape.n, out_low, hl_shape.h, hl_shape.w};
        octconv_finish(d, yl_shape, ll ? ll : hl, ll ? hl : NULL, yl_shape, 1, d->bias_l,
                       &d->batchnorm_l, y_low);
        free(pooled);
        free(hl);
        free(ll);
    }
    free(h_in);
    free(l_in);
}

static double clamp_unit(double x)
{
    return x < 0.0 ? 0.0 : (x > 1.0 ? 1.0 : x);
}

void evk_ref_unary(int op, double min, double max, double alpha, double beta, const float *in,
                   uint64_t count, float *out)
{
    for (uint64_t i = 0; i < count; ++i) {
        double x = in[i], y;
        switch (op) {
        case 0: y = x < min ? min : (x > max ? max : x); break;
        case 1: y = 1.0 / (1.0 + exp(-x)); break;
        case 2: y = clamp_unit(alpha * x + beta); break;
        case 3: y = x * clamp_unit(x / 6.0 + 0.5); break;
        default: y = x / (1.0 + exp(-x)); break;
        }
        out[i] = (float)y;
    }
}

void evk_ref_binary_broadcast(int mul, evk_shape as, const float *a, evk_shape bs,
                              const float *b, float *y)
{
    size_t i = 0;
    for (uint32_t n = 0; n < as.n; ++n)
        for (uint32_t c = 0; c < as.c; ++c)
            for (uint32_t h = 0; h < as.h; ++h)
                for (uint32_t w = 0; w < as.w; ++w, ++i) {
                    size_t j = (((size_t)(bs.n > 1 ? n : 0) * bs.c + (bs.c > 1 ? c : 0)) * bs.h +
                                (bs.h > 1 ? h : 0)) * bs.w + (bs.w > 1 ? w : 0);
                    y[i] = (float)(mul ? (double)a[i] * b[j] : (double)a[i] + b[j]);
                }
}

void evk_ref_concat_channels(evk_shape as, const float *a, uint32_t b_channels, const float *b,
                             float *y)
{
    size_t plane = (size_t)as.h * as.w, a_image = as.c * plane, b_image = b_channels * plane;
    for (uint32_t n = 0; n < as.n; ++n) {
        float *image = y + n * (a_image + b_image);
        for (size_t i = 0; i < a_image; ++i)
            image[i] = a[n * a_image + i];
        for (size_t i = 0; i < b_image; ++i)
            image[a_image + i] = b[n * b_image + i];
    }
}

void evk_ref_resize_nearest(evk_shape s, const float *in, uint32_t scale_h, uint32_t scale_w,
                            float *out)
{
    uint32_t oh = s.h * scale_h, ow = s.w * scale_w;
    for (size_t p = 0; p < (size_t)s.n * s.c; ++p)
        for (uint32_t y = 0; y < oh; ++y)
            for (uint32_t x = 0; x < ow; ++x)
                out[(p * oh + y) * ow + x] = in[(p * s.h + y / scale_h) * s.w + x / scale_w];
}

static uint32_t pool_side(long in, long kernel, long stride, long pad_begin, long pad_end,
                          int ceil_mode)
{
    long span = in + pad_begin + pad_end - kernel;
    if (span < 0)
        return 0;
    long out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
    if (ceil_mode && (out - 1) * stride >= in + pad_begin)
        --out;
    return (uint32_t)out;
}

evk_shape evk_ref_pool2d_shape(const evk_ref_pool2d_window *w, evk_shape s)
{
    uint32_t h = pool_side(s.h, w->kernel_h, w->stride_h, w->pad_top, w->pad_bottom, w->ceil_mode);
    uint32_t x = pool_side(s.w, w->kernel_w, w->stride_w, w->pad_left, w->pad_right, w->ceil_mode);
    return (evk_shape){s.n, s.c, h, x};
}

void evk_ref_pool2d(int average, const evk_ref_pool2d_window *w, evk_shape s, const float *in,
                    float *out)
{
    evk_shape o = evk_ref_pool2d_shape(w, s);
    for (size_t p = 0; p < (size_t)s.n * s.c; ++p)
        for (uint32_t oy = 0; oy < o.h; ++oy)
            for (uint32_t ox = 0; ox < o.w; ++ox) {
                long y0 = (long)oy * w->stride_h - w->pad_top;
                long x0 = (long)ox * w->stride_w - w->pad_left;
                double best = -INFINITY, sum = 0.0;
                long pixels = 0;
                for (long iy = y0; iy < y0 + (long)w->kernel_h; ++iy)
                    for (long ix = x0; ix < x0 + (long)w->kernel_w; ++ix) {
                        if (iy < 0 || ix < 0 || iy >= (long)s.h || ix >= (long)s.w)
                            continue;
                        double v = in[(p * s.h + (size_t)iy) * s.w + (size_t)ix];
                        best = v > best ? v : best;
                        sum += v;
                        ++pixels;
                    }
                if (average && w->count_include_pad) {
                    long y_end = y0 + (long)w->kernel_h, x_end = x0 + (long)w->kernel_w;
                    long h_end = (long)s.h + w->pad_bottom, w_end = (long)s.w + w->pad_right;
                    pixels = ((y_end < h_end ? y_end : h_end) - y0) *
                        ((x_end < w_end ? x_end : w_end) - x0);
                }
                out[(p * o.h + oy) * o.w + ox] = (float)(average ? sum / (double)pixels : best);
            }
}
