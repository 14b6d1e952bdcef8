/* Device tier: OctConv against the CPU reference written from its
 * definition (evk_ref_octconv) — alpha in {0, 0.125, 0.25, 0.5, 0.75} with
 * the first-layer (alpha_in = 0) and last-layer (alpha_out = 0) forms, K 1
 * and 3, stride 1 and 2, even and odd sizes, channel counts that are not
 * multiples of 4, batch 2, depthwise, bias and BatchNorm per branch — plus
 * alpha = 0 against conv2d, evk_layer_forward on one-tensor layers, and bad
 * tensors rejected with a clear status while the layer stays usable.
 *
 * Error bound (error_bounds): test_util's conv bound over the L terms of an
 * output plus the pooling's averages, taken on the magnitudes |w'|, |x|
 * through the same reference, at the precision of EFFVK_TEST_PRECISION. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reference.h"
#include "test_util.h"

typedef struct oct_case {
    evk_shape image;                /* n, in_channels, h, w */
    uint32_t out_channels, kernel, stride;
    double alpha_in, alpha_out;
    int depthwise, bias, batchnorm;
    evk_activation activation;
} oct_case;

/* Host arrays of a case: per path weights, per branch bias and BatchNorm. */
typedef struct oct_weights {
    evk_octconv_desc desc;
    evk_octconv_channels ch;
    float *path[4];                 /* hh, hl, lh, ll */
    float *bias[2], *bn[2][4];      /* [branch][gamma, beta, mean, var] */
} oct_weights;

static float *random_or_null(tu_rng *rng, size_t n, float a)
{
    return n ? tu_random_array(rng, n, -a, a) : NULL;
}

static void make_branch_affine(oct_weights *w, const oct_case *c, tu_rng *rng, int branch,
                               uint32_t channels)
{
    if (!channels)
        return;
    if (c->bias)
        w->bias[branch] = tu_random_array(rng, channels, -1.0f, 1.0f);
    if (c->batchnorm) {
        static const float lo[4] = {0.5f, -1.0f, -1.0f, 0.5f}, hi[4] = {2.0f, 1.0f, 1.0f, 2.0f};
        for (int i = 0; i < 4; ++i)
            w->bn[branch][i] = tu_random_array(rng, channels, lo[i], hi[i]);
    }
}

static void make_weights(oct_weights *w, const oct_case *c, uint64_t seed)
{
    memset(w, 0, sizeof *w);
    tu_rng rng = tu_rng_seeded(seed);
    uint32_t groups = c->depthwise ? c->image.c : 1, k = c->kernel;
    w->desc = (evk_octconv_desc){.in_channels = c->image.c, .out_channels = c->out_channels,
                                 .alpha_in = c->alpha_in, .alpha_out = c->alpha_out,
                                 .kernel_size = k, .stride = c->stride, .groups = groups,
                                 .activation = c->activation};
    /* c_L = int(alpha·C), written out here as the paper defines it. */
    uint32_t in_low = (uint32_t)(c->alpha_in * c->image.c);
    uint32_t out_low = (uint32_t)(c->alpha_out * c->out_channels);
    w->ch = (evk_octconv_channels){c->image.c - in_low, in_low, c->out_channels - out_low, out_low};
    evk_octconv_channels ch = w->ch;
    /* Pre-activations with a standard deviation near 3 (see test_util.c). */
    float a = 9.0f / sqrtf((float)(c->image.c / groups * k * k));
    size_t kk = (size_t)k * k;
    int dense = !c->depthwise;
    w->path[0] = random_or_null(&rng, ch.out_high * (dense ? ch.in_high : 1) * kk, a);
    w->path[1] = random_or_null(&rng, dense ? (size_t)ch.out_low * ch.in_high * kk : 0, a);
    w->path[2] = random_or_null(&rng, dense ? (size_t)ch.out_high * ch.in_low * kk : 0, a);
    w->path[3] = random_or_null(&rng, ch.in_low ? ch.out_low * (dense ? ch.in_low : 1) * kk : 0, a);
    make_branch_affine(w, c, &rng, 0, ch.out_high);
    make_branch_affine(w, c, &rng, 1, ch.out_low);
    w->desc.weight_hh = w->path[0];
    w->desc.weight_hh_count = ch.out_high * (dense ? ch.in_high : 1) * kk;
    w->desc.weight_hl = w->path[1];
    w->desc.weight_hl_count = (size_t)ch.out_low * ch.in_high * kk;
    w->desc.weight_lh = w->path[2];
    w->desc.weight_lh_count = (size_t)ch.out_high * ch.in_low * kk;
    w->desc.weight_ll = w->path[3];
    w->desc.weight_ll_count = ch.out_low * (dense ? ch.in_low : 1) * kk;
    w->desc.bias_h = w->bias[0];
    w->desc.bias_h_count = ch.out_high;
    w->desc.bias_l = w->bias[1];
    w->desc.bias_l_count = ch.out_low;
    w->desc.batchnorm_h = (evk_batchnorm){w->bn[0][0], w->bn[0][1], w->bn[0][2], w->bn[0][3],
                                          ch.out_high, 0};
    w->desc.batchnorm_l = (evk_batchnorm){w->bn[1][0], w->bn[1][1], w->bn[1][2], w->bn[1][3],
                                          ch.out_low, 0};
    evk_octconv_channels split;
    assert_int_equal(evk_octconv_split(&w->desc, &split), EVK_SUCCESS);
    assert_memory_equal(&split, &ch, sizeof ch);
}

static void free_weights(oct_weights *w)
{
    for (int i = 0; i < 4; ++i)
        free(w->path[i]);
    for (int b = 0; b < 2; ++b) {
        free(w->bias[b]);
        for (int i = 0; i < 4; ++i)
            free(w->bn[b][i]);
    }
    memset(w, 0, sizeof *w);
}

static void describe(const oct_case *c, char *out, size_t size)
{
    snprintf(out, size, "%ux%ux%ux%u -> %u k%u s%u a_in %g a_out %g%s act%d%s%s", c->image.n,
             c->image.c, c->image.h, c->image.w, c->out_channels, c->kernel,
             c->stride ? c->stride : 1, c->alpha_in, c->alpha_out,
             c->depthwise ? " depthwise" : "", (int)c->activation, c->bias ? " bias" : "",
             c->batchnorm ? " bn" : "");
}

/* |a| of an array, scaled per output channel (rows of `per_out` values). */
static float *abs_scaled(const float *a, uint32_t rows, size_t per_out, const double *scale)
{
    if (!a)
        return NULL;
    float *out = malloc(rows * per_out * sizeof *out);
    assert_non_null(out);
    for (size_t i = 0; i < rows * per_out; ++i)
        out[i] = (float)fabs(a[i] * scale[i / per_out]);
    return out;
}

/* The folded scale and |shift| of each output channel of one branch. */
static void branch_fold(const float *bias, const evk_batchnorm *bn, uint32_t channels,
                        double *scale, float *shift)
{
    for (uint32_t o = 0; o < channels; ++o) {
        double s = bn->gamma ? bn->gamma[o] / sqrt(bn->var[o] + 1e-5) : 1.0;
        double b = bias ? bias[o] : 0.0;
        scale[o] = s;
        shift[o] = (float)fabs(bn->gamma ? (b - bn->mean[o]) * s + bn->beta[o] : b);
    }
}

/* Per-output error bounds of Y^H and Y^L, as multiples of M, the reference
 * computed on |x|, the folded |w'| and |b'| (the sum of the magnitudes of
 * an output's terms, pooling included):
 *  - the input and the folded weights are stored at the context's precision,
 *    each off by tu_storage_u of itself: 2 u_s;
 *  - a pooled input is an average of up to 16 stored values with exact
 *    weights (powers of two) summed in the arithmetic's precision, off by
 *    tu_gamma(16) of the average of their magnitudes;
 *  - the conv sums L = (in_channels, or 1 depthwise)·K² products of weights
 *    and pooled inputs and the bias, the bias rounded to the arithmetic:
 *    tu_gamma(L + 2), as test_util's conv bound;
 *  - the activation multiplies the error by its slope, at most 1.1 (SiLU);
 *  - compare() adds tu_rounding_slack |ref|: exp and division in the
 *    activations and the output's rounding to storage.
 * A misread tap or channel misplaces whole terms |w' x|, each near M / L.
 * At fp32 the bound is below 3e-5 M. At fp16 it grows with sqrt(L): near
 * 0.06 M at L = 72 and 0.1 M on the widest case (L = 360), where a misread
 * tap, which moves an output by about its own size, still fails, while a
 * single misread channel shows only on the cases with fewer terms. */
static void error_bounds(const oct_weights *w, evk_shape xh, const float *x_high,
                         const float *x_low, float *bound_high, float *bound_low)
{
    const oct_weights *src = w;
    evk_octconv_channels ch = w->ch;
    double *scale[2] = {malloc((ch.out_high + 1) * sizeof(double)),
                        malloc((ch.out_low + 1) * sizeof(double))};
    float *shift[2] = {malloc((ch.out_high + 1) * sizeof(float)),
                       malloc((ch.out_low + 1) * sizeof(float))};
    assert_true(scale[0] && scale[1] && shift[0] && shift[1]);
    branch_fold(src->bias[0], &src->desc.batchnorm_h, ch.out_high, scale[0], shift[0]);
    branch_fold(src->bias[1], &src->desc.batchnorm_l, ch.out_low, scale[1], shift[1]);
    evk_octconv_desc mag = w->desc;
    size_t kk = (size_t)mag.kernel_size * mag.kernel_size, dw = mag.groups > 1;
    float *paths[4] = {abs_scaled(mag.weight_hh, ch.out_high, (dw ? 1 : ch.in_high) * kk, scale[0]),
                       abs_scaled(mag.weight_hl, ch.out_low, ch.in_high * kk, scale[1]),
                       abs_scaled(mag.weight_lh, ch.out_high, ch.in_low * kk, scale[0]),
                       abs_scaled(mag.weight_ll, ch.out_low, (dw ? 1 : ch.in_low) * kk, scale[1])};
    mag.weight_hh = paths[0];
    mag.weight_hl = paths[1];
    mag.weight_lh = paths[2];
    mag.weight_ll = paths[3];
    mag.bias_h = shift[0];
    mag.bias_l = ch.out_low ? shift[1] : NULL;
    mag.batchnorm_h = mag.batchnorm_l = (evk_batchnorm){0};
    mag.activation = EVK_ACTIVATION_NONE;
    evk_shape xl = {xh.n, ch.in_low, (xh.h + 1) / 2, (xh.w + 1) / 2};
    float *abs_h = abs_scaled(x_high, 1, evk_shape_elements(xh), (double[]){1.0});
    float *abs_l = abs_scaled(ch.in_low ? x_low : NULL, 1, evk_shape_elements(xl), (double[]){1.0});
    evk_ref_octconv(&mag, xh, abs_h, abs_l, bound_high, bound_low);
    double terms = (double)(dw ? 1 : w->desc.in_channels) * kk;
    double gamma = 1.1 * (tu_gamma(terms + 2.0) + tu_gamma(16.0) + 2.0 * tu_storage_u());
    evk_shape yh, yl;
    assert_int_equal(evk_octconv_output_shapes(&w->desc, xh, &yh, &yl), EVK_SUCCESS);
    for (uint64_t i = 0; i < evk_shape_elements(yh); ++i)
        bound_high[i] = (float)(gamma * bound_high[i]);
    for (uint64_t i = 0; ch.out_low && i < evk_shape_elements(yl); ++i)
        bound_low[i] = (float)(gamma * bound_low[i]);
    float *owned[] = {paths[0], paths[1], paths[2], paths[3], abs_h, abs_l, shift[0], shift[1]};
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; ++i)
        free(owned[i]);
    free(scale[0]);
    free(scale[1]);
}

static evk_layer *create(evk_context *ctx, const evk_octconv_desc *desc, const char *what)
{
    evk_layer *layer = NULL;
    evk_status s = evk_octconv_create(ctx, desc, &layer);
    if (s != EVK_SUCCESS)
        fail_msg("%s: evk_octconv_create: %s", what, evk_last_error(ctx));
    assert_string_equal(evk_layer_kernel_name(layer), desc->groups > 1 ? "octconv_depthwise"
                                                                       : "octconv");
    return layer;
}

/* One case's data, device tensors and outputs. */
typedef struct oct_run {
    evk_shape xh, xl, yh, yl;
    float *x_high, *x_low, *got_high, *got_low;
} oct_run;

static void run_forward(evk_context *ctx, evk_layer *layer, const oct_weights *w, evk_shape image,
                        uint64_t seed, oct_run *r)
{
    memset(r, 0, sizeof *r);
    assert_int_equal(evk_octconv_input_shapes(&w->desc, image.n, image.h, image.w, &r->xh, &r->xl),
                     EVK_SUCCESS);
    assert_int_equal(evk_octconv_output_shapes(&w->desc, r->xh, &r->yh, &r->yl), EVK_SUCCESS);
    tu_rng rng = tu_rng_seeded(seed);
    r->x_high = tu_random_array(&rng, evk_shape_elements(r->xh), -1.0f, 1.0f);
    r->x_low = w->ch.in_low ? tu_random_array(&rng, evk_shape_elements(r->xl), -1.0f, 1.0f) : NULL;
    evk_tensor *xh = tu_tensor(ctx, r->xh, r->x_high);
    evk_tensor *xl = w->ch.in_low ? tu_tensor(ctx, r->xl, r->x_low) : NULL;
    evk_tensor *yh = tu_tensor(ctx, r->yh, NULL);
    evk_tensor *yl = w->ch.out_low ? tu_tensor(ctx, r->yl, NULL) : NULL;
    evk_status s = evk_octconv_forward(layer, xh, xl, yh, yl);
    if (s != EVK_SUCCESS)
        fail_msg("evk_octconv_forward: %s", evk_last_error(ctx));
    r->got_high = tu_download(yh);
    r->got_low = yl ? tu_download(yl) : NULL;
    evk_tensor_destroy(xh);
    evk_tensor_destroy(xl);
    evk_tensor_destroy(yh);
    evk_tensor_destroy(yl);
}

static void run_free(oct_run *r)
{
    free(r->x_high);
    free(r->x_low);
    free(r->got_high);
    free(r->got_low);
}

static float *alloc_floats(uint64_t n)
{
    float *a = malloc((n ? n : 1) * sizeof *a);
    assert_non_null(a);
    return a;
}

/* Checks a forward's outputs against the reference within the bound. */
static void check_run(const oct_weights *w, const oct_run *r, const char *what)
{
    uint64_t nh = evk_shape_elements(r->yh), nl = w->ch.out_low ? evk_shape_elements(r->yl) : 0;
    float *ref_h = alloc_floats(nh), *ref_l = alloc_floats(nl);
    float *bound_h = alloc_floats(nh), *bound_l = alloc_floats(nl);
    evk_ref_octconv(&w->desc, r->xh, r->x_high, r->x_low, ref_h, ref_l);
    error_bounds(w, r->xh, r->x_high, r->x_low, bound_h, bound_l);
    char label[200];
    snprintf(label, sizeof label, "%s Y^H", what);
    tu_assert_within_bound(r->got_high, ref_h, bound_h, r->yh, label);
    if (nl) {
        snprintf(label, sizeof label, "%s Y^L", what);
        tu_assert_within_bound(r->got_low, ref_l, bound_l, r->yl, label);
    }
    free(ref_h);
    free(ref_l);
    free(bound_h);
    free(bound_l);
}

static void run_case(evk_context *ctx, const oct_case *c, uint64_t seed)
{
    char what[160];
    describe(c, what, sizeof what);
    oct_weights w;
    make_weights(&w, c, seed);
    evk_layer *layer = create(ctx, &w.desc, what);
    oct_run r;
    run_forward(ctx, layer, &w, c->image, seed + 1, &r);
    check_run(&w, &r, what);
    run_free(&r);
    evk_layer_destroy(layer);
    free_weights(&w);
}

static void run_cases(void **state, const oct_case *cases, size_t count, uint64_t seed)
{
    tu_gpu *g = *state;
    for (size_t i = 0; i < count; ++i)
        run_case(g->ctx, &cases[i], seed + 10 * i);
    tu_assert_no_validation_messages(g);
}

#define RUN_CASES(state, cases, seed) run_cases(state, cases, sizeof cases / sizeof cases[0], seed)
#define ACT(a) .activation = EVK_ACTIVATION_##a

static void test_alphas_stride1(void **state)
{
    static const oct_case cases[] = {
        {.image = {2, 16, 8, 8}, .out_channels = 16, .kernel = 3, .alpha_in = 0.5,
         .alpha_out = 0.5, ACT(RELU), .bias = 1},
        {.image = {1, 24, 9, 7}, .out_channels = 20, .kernel = 3, .alpha_in = 0.25,
         .alpha_out = 0.25, .batchnorm = 1},
        /* 13 channels: c_L = 1 and 9; neither part a multiple of 4. */
        {.image = {2, 13, 7, 11}, .out_channels = 13, .kernel = 3, .alpha_in = 0.125,
         .alpha_out = 0.75, ACT(RELU), .bias = 1, .batchnorm = 1},
        {.image = {1, 18, 10, 5}, .out_channels = 22, .kernel = 3, .alpha_in = 0.75,
         .alpha_out = 0.75, .bias = 1},
        /* Wide rows: several tiles per row, quad blocks of the output. */
        {.image = {1, 40, 5, 45}, .out_channels = 36, .kernel = 3, .alpha_in = 0.5,
         .alpha_out = 0.5, ACT(RELU)},
        /* 1×1 and 2×1 planes: X^L of one pixel. */
        {.image = {2, 8, 1, 1}, .out_channels = 8, .kernel = 3, .alpha_in = 0.5,
         .alpha_out = 0.5, .bias = 1},
        {.image = {1, 8, 2, 3}, .out_channels = 9, .kernel = 3, .alpha_in = 0.5,
         .alpha_out = 0.25, .bias = 1},
    };
    RUN_CASES(state, cases, 1000);
}

static void test_first_and_last_layers(void **state)
{
    static const oct_case cases[] = {
        {.image = {2, 7, 9, 8}, .out_channels = 12, .kernel = 3, .alpha_out = 0.5, ACT(RELU),
         .bias = 1},
        {.image = {1, 12, 8, 9}, .out_channels = 6, .kernel = 3, .alpha_in = 0.25, .bias = 1,
         .batchnorm = 1},
        {.image = {2, 9, 7, 7}, .out_channels = 10, .kernel = 1, .alpha_out = 0.125 * 6},
        {.image = {1, 16, 6, 5}, .out_channels = 5, .kernel = 1, .alpha_in = 0.5, ACT(RELU)},
        {.image = {1, 10, 9, 9}, .out_channels = 8, .kernel = 3, .stride = 2, .alpha_out = 0.5,
         .bias = 1},
        {.image = {1, 12, 11, 10}, .out_channels = 7, .kernel = 3, .stride = 2,
         .alpha_in = 0.5, .batchnorm = 1},
    };
    RUN_CASES(state, cases, 2000);
}

static void test_pointwise(void **state)
{
    static const oct_case cases[] = {
        {.image = {2, 16, 8, 8}, .out_channels = 40, .kernel = 1, .alpha_in = 0.5,
         .alpha_out = 0.5, ACT(RELU), .bias = 1},
        {.image = {1, 33, 7, 9}, .out_channels = 17, .kernel = 1, .alpha_in = 0.25,
         .alpha_out = 0.25, .batchnorm = 1},
        {.image = {1, 20, 5, 6}, .out_channels = 24, .kernel = 1, .stride = 2,
         .alpha_in = 0.75, .alpha_out = 0.125, .bias = 1},
    };
    RUN_CASES(state, cases, 3000);
}

/* Stride 2 pools X^H and X^L first; odd sizes exercise the partial edge
 * windows of both nested poolings of H→L (sizes 4m + 1, 2, 3). */
static void test_stride2(void **state)
{
    static const oct_case cases[] = {
        {.image = {2, 16, 8, 8}, .out_channels = 16, .kernel = 3, .stride = 2, .alpha_in = 0.5,
         .alpha_out = 0.5, ACT(RELU), .bias = 1},
        {.image = {1, 14, 9, 7}, .out_channels = 10, .kernel = 3, .stride = 2,
         .alpha_in = 0.25, .alpha_out = 0.75, .batchnorm = 1},
        {.image = {1, 11, 11, 6}, .out_channels = 13, .kernel = 3, .stride = 2,
         .alpha_in = 0.75, .alpha_out = 0.125 * 2, .bias = 1},
        {.image = {2, 8, 3, 5}, .out_channels = 8, .kernel = 3, .stride = 2, .alpha_in = 0.5,
         .alpha_out = 0.5, .bias = 1},
    };
    RUN_CASES(state, cases, 4000);
}

static void test_depthwise(void **state)
{
    static const oct_case cases[] = {
        {.image = {2, 16, 9, 8}, .out_channels = 16, .kernel = 3, .alpha_in = 0.5,
         .alpha_out = 0.5, .depthwise = 1, ACT(RELU), .bias = 1},
        {.image = {1, 13, 7, 11}, .out_channels = 13, .kernel = 3, .stride = 2,
         .alpha_in = 0.25, .alpha_out = 0.25, .depthwise = 1, .batchnorm = 1},
        {.image = {1, 6, 5, 5}, .out_channels = 6, .kernel = 5, .depthwise = 1, .bias = 1},
    };
    RUN_CASES(state, cases, 5000);
}

/* Every activation, with BatchNorm on both branches. */
static void test_every_activation(void **state)
{
    tu_gpu *g = *state;
    for (int a = EVK_ACTIVATION_NONE; a <= EVK_ACTIVATION_SIGMOID; ++a) {
        oct_case c = {.image = {1, 12, 6, 7}, .out_channels = 10, .kernel = 3, .alpha_in = 0.5,
                      .alpha_out = 0.5, .activation = (evk_activation)a, .bias = a % 2,
                      .batchnorm = 1};
        run_case(g->ctx, &c, 6000 + 10 * (uint64_t)a);
    }
    tu_assert_no_validation_messages(g);
}

/* alpha_in = alpha_out = 0 is a vanilla conv: evk_layer_forward runs it, and
 * it and conv2d with the same weights are both within the conv bound of the
 * same reference. Not within one bound of each other: at the 16-bit
 * precisions the two kernels round in their own orders, so they may differ
 * by two. */
static void test_alpha_zero_equals_conv2d(void **state)
{
    tu_gpu *g = *state;
    oct_case c = {.image = {2, 11, 9, 8}, .out_channels = 7, .kernel = 3, .stride = 1,
                  ACT(SILU), .bias = 1, .batchnorm = 1};
    oct_weights w;
    make_weights(&w, &c, 7000);
    evk_layer *oct = create(g->ctx, &w.desc, "alpha 0");
    evk_conv2d_desc conv = {.in_channels = 11, .out_channels = 7, .kernel_h = 3, .kernel_w = 3,
                            .pad_h = 1, .pad_w = 1, .activation = EVK_ACTIVATION_SILU,
                            .weight = w.path[0], .weight_count = 7 * 11 * 9, .bias = w.bias[0],
                            .bias_count = 7, .batchnorm = w.desc.batchnorm_h};
    evk_layer *ref_layer = NULL;
    assert_int_equal(evk_conv2d_create(g->ctx, &conv, &ref_layer), EVK_SUCCESS);
    tu_rng rng = tu_rng_seeded(7001);
    float *x = tu_random_array(&rng, evk_shape_elements(c.image), -1.0f, 1.0f);
    evk_shape out;
    assert_int_equal(evk_layer_output_shape(oct, c.image, &out), EVK_SUCCESS);
    evk_tensor *in_t = tu_tensor(g->ctx, c.image, x), *out_t = tu_tensor(g->ctx, out, NULL);
    assert_int_equal(evk_layer_forward(oct, in_t, out_t), EVK_SUCCESS);
    float *got_oct = tu_download(out_t);
    assert_int_equal(evk_layer_forward(ref_layer, in_t, out_t), EVK_SUCCESS);
    float *got_conv = tu_download(out_t);
    tu_assert_conv_output(&conv, c.image, x, got_conv, "conv2d");
    tu_assert_conv_output(&conv, c.image, x, got_oct, "octconv alpha 0");
    free(x);
    free(got_oct);
    free(got_conv);
    evk_tensor_destroy(in_t);
    evk_tensor_destroy(out_t);
    evk_layer_destroy(oct);
    evk_layer_destroy(ref_layer);
    free_weights(&w);
    tu_assert_no_validation_messages(g);
}

static void expect_forward_fails(evk_context *ctx, evk_status got, evk_status expected,
                                 const char *word)
{
    if (got != expected)
        fail_msg("status %s, expected %s (%s)", evk_status_string(got),
                 evk_status_string(expected), word);
    tu_assert_message(evk_last_error(ctx), expected, word);
}

/* Missing, extra, mis-shaped and aliased tensors get a clear status; the
 * layer then still computes correctly. */
static void test_bad_tensors(void **state)
{
    tu_gpu *g = *state;
    evk_context *ctx = g->ctx;
    oct_case c = {.image = {1, 8, 6, 6}, .out_channels = 8, .kernel = 3, .alpha_in = 0.5,
                  .alpha_out = 0.5, .bias = 1};
    oct_weights w;
    make_weights(&w, &c, 8000);
    evk_layer *layer = create(ctx, &w.desc, "bad tensors");
    evk_tensor *xh = tu_tensor(ctx, (evk_shape){1, 4, 6, 6}, NULL);
    evk_tensor *xl = tu_tensor(ctx, (evk_shape){1, 4, 3, 3}, NULL);
    evk_tensor *yh = tu_tensor(ctx, (evk_shape){1, 4, 6, 6}, NULL);
    evk_tensor *yl = tu_tensor(ctx, (evk_shape){1, 4, 3, 3}, NULL);
    evk_tensor *wrong_low = tu_tensor(ctx, (evk_shape){1, 4, 4, 3}, NULL);
    evk_tensor *wrong_c = tu_tensor(ctx, (evk_shape){1, 5, 6, 6}, NULL);
    expect_forward_fails(ctx, evk_octconv_forward(layer, xh, NULL, yh, yl),
                         EVK_ERROR_INVALID_ARGUMENT, "X^L");
    expect_forward_fails(ctx, evk_octconv_forward(layer, xh, xl, yh, NULL),
                         EVK_ERROR_INVALID_ARGUMENT, "Y^L");
    expect_forward_fails(ctx, evk_octconv_forward(layer, xh, wrong_low, yh, yl),
                         EVK_ERROR_SHAPE_MISMATCH, "X^L tensor is 1x4x4x3");
    expect_forward_fails(ctx, evk_octconv_forward(layer, wrong_c, xl, yh, yl),
                         EVK_ERROR_SHAPE_MISMATCH, "channels");
    expect_forward_fails(ctx, evk_octconv_forward(layer, xh, xl, yh, wrong_low),
                         EVK_ERROR_SHAPE_MISMATCH, "Y^L");
    expect_forward_fails(ctx, evk_octconv_forward(layer, xh, xl, yh, yh),
                         EVK_ERROR_INVALID_ARGUMENT, "also");
    expect_forward_fails(ctx, evk_octconv_forward(layer, xh, xl, xh, yl),
                         EVK_ERROR_INVALID_ARGUMENT, "also");
    /* evk_layer_forward has one input and one output. */
    expect_forward_fails(ctx, evk_layer_forward(layer, xh, yh), EVK_ERROR_INVALID_ARGUMENT,
                         "evk_octconv_forward");
    evk_layer *conv = NULL;
    float weight[9] = {0};
    evk_conv2d_desc conv_desc = {.in_channels = 1, .out_channels = 1, .kernel_h = 3, .kernel_w = 3,
                                 .weight = weight, .weight_count = 9};
    assert_int_equal(evk_conv2d_create(ctx, &conv_desc, &conv), EVK_SUCCESS);
    expect_forward_fails(ctx, evk_octconv_forward(conv, xh, xl, yh, yl),
                         EVK_ERROR_INVALID_ARGUMENT, "conv2d_dense");
    evk_layer_destroy(conv);
    oct_run r;
    run_forward(ctx, layer, &w, c.image, 8001, &r);
    check_run(&w, &r, "after failures");
    run_free(&r);
    evk_tensor *tensors[] = {xh, xl, yh, yl, wrong_low, wrong_c};
    for (size_t i = 0; i < sizeof tensors / sizeof tensors[0]; ++i)
        evk_tensor_destroy(tensors[i]);
    evk_layer_destroy(layer);
    free_weights(&w);
    tu_assert_no_validation_messages(g);
}

/* A weight for a path with no channels, or none for one with channels, is
 * caught at creation, and the context stays usable. */
static void test_bad_descs(void **state)
{
    tu_gpu *g = *state;
    oct_case c = {.image = {1, 8, 6, 6}, .out_channels = 8, .kernel = 3, .alpha_in = 0.5,
                  .alpha_out = 0.5};
    oct_weights w;
    make_weights(&w, &c, 9000);
    evk_layer *layer = (evk_layer *)&layer;
    evk_octconv_desc d = w.desc;
    d.weight_lh = NULL;
    assert_int_equal(evk_octconv_create(g->ctx, &d, &layer), EVK_ERROR_INVALID_ARGUMENT);
    assert_null(layer);
    tu_assert_message(evk_last_error(g->ctx), EVK_ERROR_INVALID_ARGUMENT, "weight_lh is NULL");
    d = w.desc;
    d.alpha_out = 0.0;
    assert_int_equal(evk_octconv_create(g->ctx, &d, &layer), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(g->ctx), EVK_ERROR_INVALID_ARGUMENT, "weight_hl is set");
    layer = create(g->ctx, &w.desc, "after failures");
    evk_layer_destroy(layer);
    free_weights(&w);
    tu_assert_no_validation_messages(g);
}

int main(void)
{
    static evk_context_desc staging = {.flags = EVK_CONTEXT_FORCE_STAGING};
    /* Grids folded into 3-D as on a device limited to 7 groups per dimension. */
    static evk_context_desc folded = {.max_workgroup_count = 7};
    const struct CMUnitTest tests[] = {
        TU_GPU_TEST(test_alphas_stride1),
        TU_GPU_TEST(test_first_and_last_layers),
        TU_GPU_TEST(test_pointwise),
        TU_GPU_TEST(test_stride2),
        TU_GPU_TEST(test_depthwise),
        TU_GPU_TEST(test_every_activation),
        TU_GPU_TEST(test_alpha_zero_equals_conv2d),
        TU_GPU_TEST(test_bad_tensors),
        TU_GPU_TEST(test_bad_descs),
        TU_GPU_TEST_WITH(test_stride2, staging),
        TU_GPU_TEST_WITH(test_alphas_stride1, folded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
