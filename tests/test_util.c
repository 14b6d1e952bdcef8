#include "test_util.h"

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reference.h"

/* ---- PRNG: splitmix64 (Steele, Lea, Flood 2014). */

tu_rng tu_rng_seeded(uint64_t seed)
{
    tu_rng rng = {seed};
    return rng;
}

static uint64_t next_u64(tu_rng *rng)
{
    uint64_t z = (rng->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

float tu_uniform(tu_rng *rng, float lo, float hi)
{
    /* 24 random bits make a float in [0, 1) without rounding. */
    float unit = (float)(next_u64(rng) >> 40) * (1.0f / 16777216.0f);
    return lo + (hi - lo) * unit;
}

float *tu_random_array(tu_rng *rng, size_t n, float lo, float hi)
{
    float *a = malloc((n ? n : 1) * sizeof *a);
    assert_non_null(a);
    for (size_t i = 0; i < n; ++i)
        a[i] = tu_uniform(rng, lo, hi);
    return a;
}

/* ---- Precision. */

evk_precision tu_precision(void)
{
    const char *env = getenv("EFFVK_TEST_PRECISION");
    if (env && strcmp(env, "fp16-storage") == 0)
        return EVK_PRECISION_FP16_STORAGE;
    if (env && strcmp(env, "fp16") == 0)
        return EVK_PRECISION_FP16;
    return EVK_PRECISION_FP32;
}

double tu_storage_u(void)
{
    return tu_precision() >= EVK_PRECISION_FP16_STORAGE ? 0x1p-11 : FLT_EPSILON / 2.0;
}

double tu_arith_u(void)
{
    return tu_precision() == EVK_PRECISION_FP16 ? 0x1p-11 : FLT_EPSILON / 2.0;
}

double tu_gamma(double n)
{
    if (tu_precision() != EVK_PRECISION_FP16) {
        double u = FLT_EPSILON / 2.0;
        return n * u / (1.0 - n * u);
    }
    /* Half arithmetic: the worst case n u passes 0.1 at n = 205 and would
     * hide a wrong tap, so the bound is Higham and Mary's probabilistic one,
     * lambda sqrt(n) u, which fails with probability below
     * 2 exp(-lambda^2 / 2) per output (lambda = 8: 2.5e-14). */
    return 8.0 * sqrt(n) * 0x1p-11;
}

float tu_round_to_half(float x)
{
    if (isnan(x))
        return x;
    double magnitude = fabs((double)x);
    if (magnitude >= 65520.0)
        return copysignf(INFINITY, x);
    /* The spacing of halves around x: 2^-24 among the subnormals (below
     * 2^-14), else 2^(e - 10) for x in [2^e, 2^(e+1)); x / spacing is exact
     * in double, and nearbyint rounds it half to even. */
    int e;
    frexp(magnitude, &e);
    double spacing = e - 1 < -14 ? 0x1p-24 : ldexp(1.0, e - 1 - 10);
    return (float)(nearbyint((double)x / spacing) * spacing);
}

float tu_stored(float x)
{
    return tu_precision() >= EVK_PRECISION_FP16_STORAGE ? tu_round_to_half(x) : x;
}

double tu_rounding_slack(void)
{
    return 64.0 * tu_arith_u() + 2.0 * tu_storage_u();
}

/* ---- Contexts. */

static void on_log(evk_log_level level, const char *message, void *user_data)
{
    tu_log *log = user_data;
    if (level < EVK_LOG_WARNING || strncmp(message, "EVK_ERROR_", 10) == 0)
        return;
    log->unexpected++;
    /* ctest --output-on-failure shows it next to the failed assertion. */
    fprintf(stderr, "unexpected log line: %s\n", message);
}

void tu_desc_add_log(evk_context_desc *desc, tu_log *log)
{
    desc->log = on_log;
    desc->log_user_data = log;
}

void tu_desc_add_validation(evk_context_desc *desc, tu_log *log)
{
    desc->flags |= EVK_CONTEXT_VALIDATION | EVK_CONTEXT_REQUIRE_VALIDATION;
    tu_desc_add_log(desc, log);
}

void tu_gpu_open(tu_gpu *g, const evk_context_desc *desc)
{
    evk_context_desc d = {0};
    if (desc)
        d = *desc;
    memset(g, 0, sizeof *g);
    if (d.precision == EVK_PRECISION_AUTO)
        d.precision = tu_precision();
    tu_desc_add_validation(&d, &g->log);
    evk_status s = evk_context_create(&d, &g->ctx);
    if (s != EVK_SUCCESS)
        fail_msg("evk_context_create: %s", evk_last_error(NULL));
    evk_context_stats stats;
    assert_int_equal(evk_context_stats_get(g->ctx, &stats), EVK_SUCCESS);
    assert_int_equal(stats.validation_enabled, 1);
}

void tu_assert_no_validation_messages(const tu_gpu *g)
{
    evk_context_stats stats;
    assert_int_equal(evk_context_stats_get(g->ctx, &stats), EVK_SUCCESS);
    assert_int_equal(stats.validation_messages, 0);
    assert_int_equal(g->log.unexpected, 0);
}

/* Destroys the context and returns how many validation messages and
 * unexpected log lines it saw, destruction included. */
static uint64_t destroy_counting(tu_gpu *g)
{
    evk_context_stats stats = {0};
    if (g->ctx)
        evk_context_stats_get(g->ctx, &stats);
    evk_context_destroy(g->ctx);
    g->ctx = NULL;
    return stats.validation_messages + g->log.unexpected;
}

void tu_gpu_close(tu_gpu *g)
{
    assert_int_equal(destroy_counting(g), 0);
}

int tu_gpu_setup(void **state)
{
    const evk_context_desc *desc = *state;
    tu_gpu *g = malloc(sizeof *g);
    assert_non_null(g);
    *state = g;
    tu_gpu_open(g, desc);
    return 0;
}

int tu_gpu_teardown(void **state)
{
    tu_gpu *g = *state;
    uint64_t messages = destroy_counting(g);
    free(g);
    assert_int_equal(messages, 0);
    return 0;
}

/* ---- conv2d cases. */

static uint32_t case_groups(const tu_conv_case *c)
{
    return c->groups ? c->groups : 1;
}

void tu_conv_weights_make(tu_conv_weights *w, const tu_conv_case *c, uint64_t seed)
{
    memset(w, 0, sizeof *w);
    tu_rng rng = tu_rng_seeded(seed);
    uint32_t reduction = c->input.c / case_groups(c) * c->kernel_h * c->kernel_w;
    /* Uniform weights of this width give pre-activations with a standard
     * deviation near 3 for inputs in [-1, 1]: ReLU6 clamps, sigmoid saturates,
     * and every activation sees both signs. */
    float a = 9.0f / sqrtf((float)reduction);
    w->weight = tu_random_array(&rng, (size_t)c->out_channels * reduction, -a, a);
    if (c->bias)
        w->bias = tu_random_array(&rng, c->out_channels, -1.0f, 1.0f);
    if (c->batchnorm) {
        w->gamma = tu_random_array(&rng, c->out_channels, 0.5f, 2.0f);
        w->beta = tu_random_array(&rng, c->out_channels, -1.0f, 1.0f);
        w->mean = tu_random_array(&rng, c->out_channels, -1.0f, 1.0f);
        w->var = tu_random_array(&rng, c->out_channels, 0.5f, 2.0f);
    }
    w->desc = (evk_conv2d_desc){
        .in_channels = c->input.c, .out_channels = c->out_channels,
        .kernel_h = c->kernel_h, .kernel_w = c->kernel_w,
        .stride_h = c->stride_h, .stride_w = c->stride_w,
        .pad_h = c->pad_h, .pad_w = c->pad_w,
        .pad_bottom_extra = c->pad_bottom_extra, .pad_right_extra = c->pad_right_extra,
        .groups = c->groups, .activation = c->activation,
        .weight = w->weight, .weight_count = (uint64_t)c->out_channels * reduction,
        .bias = w->bias, .bias_count = w->bias ? c->out_channels : 0,
        .batchnorm = {w->gamma, w->beta, w->mean, w->var, w->gamma ? c->out_channels : 0,
                      c->eps}};
}

void tu_conv_weights_free(tu_conv_weights *w)
{
    free(w->weight);
    free(w->bias);
    free(w->gamma);
    free(w->beta);
    free(w->mean);
    free(w->var);
    memset(w, 0, sizeof *w);
}

void tu_conv_case_describe(const tu_conv_case *c, char *out, size_t size)
{
    snprintf(out, size, "%ux%ux%ux%u -> %u k%ux%u s%ux%u p%ux%u%+d%+d g%u act%d%s%s eps%g",
             c->input.n, c->input.c, c->input.h, c->input.w, c->out_channels, c->kernel_h,
             c->kernel_w, c->stride_h, c->stride_w, c->pad_h, c->pad_w, c->pad_bottom_extra,
             c->pad_right_extra, case_groups(c), (int)c->activation, c->bias ? " bias" : "",
             c->batchnorm ? " bn" : "", (double)c->eps);
}

const char *tu_expected_kernel(const evk_conv2d_desc *d)
{
    uint32_t groups = d->groups ? d->groups : 1;
    if (groups == 1) {
        int unit_stride = d->stride_h <= 1 && d->stride_w <= 1;
        int pointwise = d->kernel_h == 1 && d->kernel_w == 1 && unit_stride && !d->pad_h &&
            !d->pad_w && !d->pad_bottom_extra && !d->pad_right_extra;
        return pointwise ? "conv2d_pointwise" : "conv2d_dense";
    }
    if (groups == d->in_channels && groups == d->out_channels)
        return "conv2d_depthwise";
    return "conv2d_grouped";
}

/* The folded weights and bias the device computes with, as absolute values:
 * the terms whose magnitudes bound the rounding error (see error_bounds). */
static void abs_folded(const evk_conv2d_desc *d, float *weight, float *bias)
{
    uint32_t groups = d->groups ? d->groups : 1;
    size_t per_out = (size_t)d->in_channels / groups * d->kernel_h * d->kernel_w;
    const evk_batchnorm *bn = &d->batchnorm;
    double eps = bn->eps != 0.0f ? bn->eps : 1e-5;
    for (uint32_t o = 0; o < d->out_channels; ++o) {
        double scale = bn->gamma ? bn->gamma[o] / sqrt(bn->var[o] + eps) : 1.0;
        double shift = bn->gamma ? bn->beta[o] - bn->mean[o] * scale : 0.0;
        double b = d->bias ? d->bias[o] : 0.0;
        for (size_t i = 0; i < per_out; ++i)
            weight[o * per_out + i] = (float)fabs(d->weight[o * per_out + i] * scale);
        bias[o] = (float)fabs(b * scale + shift);
    }
}

/* Largest acceptable |device - reference| for every output.
 *
 * The device sums L = in_channels/groups * kernel_h * kernel_w products and
 * the bias in float32, in an order of its choosing, with BatchNorm folded
 * into weights and bias that are then rounded to float32. For any summation
 * order the error of a float32 dot product is at most
 * gamma_n * sum |w_i x_i|, gamma_n = n u / (1 - n u), u = 2^-24 (Higham,
 * "Accuracy and Stability of Numerical Algorithms", 2nd ed., sec. 3.1);
 * rounding the folded weights and the bias adds at most one u per term, so
 * n = L + 2 over M = |b'| + sum |w'_i x_i|. This bound is rigorous, yet a
 * wrong tap, channel or padding changes an output by a whole term, which for
 * our L (< 700) is far larger. The activation multiplies the error by its
 * slope (at most 1.1, SiLU's maximum), and exp() and division in a shader may
 * err by a few ulp of the result (Vulkan: exp 3 + 2|x| ulp, division 2.5
 * ulp): 64 u |ref| covers them for the |x| < 30 these data produce. The
 * reference is computed in double and rounded once (u |ref|, inside that).
 * At the 16-bit precisions (test_util.h) the input and the folded weights
 * are stored as halves, each off by tu_storage_u of itself (2 u_s over M),
 * the sum is tu_gamma's, and the output's rounding to half is in
 * tu_rounding_slack. */
static void error_bounds(const evk_conv2d_desc *d, evk_shape input, const float *x, float *bound)
{
    uint32_t groups = d->groups ? d->groups : 1;
    double n = (double)d->in_channels / groups * d->kernel_h * d->kernel_w + 2.0;
    double gamma = tu_gamma(n) + 2.0 * tu_storage_u();
    size_t per_out = (size_t)d->in_channels / groups * d->kernel_h * d->kernel_w;
    float *abs_w = malloc(d->out_channels * per_out * sizeof *abs_w);
    float *abs_b = malloc(d->out_channels * sizeof *abs_b);
    float *abs_x = malloc(evk_shape_elements(input) * sizeof *abs_x);
    assert_true(abs_w && abs_b && abs_x);
    abs_folded(d, abs_w, abs_b);
    for (uint64_t i = 0; i < evk_shape_elements(input); ++i)
        abs_x[i] = fabsf(x[i]);
    evk_conv2d_desc magnitude = *d;
    magnitude.weight = abs_w;
    magnitude.bias = abs_b;
    magnitude.batchnorm = (evk_batchnorm){0};
    magnitude.activation = EVK_ACTIVATION_NONE;
    evk_ref_conv2d(&magnitude, input, abs_x, bound);
    evk_shape out;
    assert_int_equal(evk_conv2d_output_shape(d, input, &out), EVK_SUCCESS);
    for (uint64_t i = 0; i < evk_shape_elements(out); ++i)
        bound[i] = (float)(1.1 * gamma * bound[i]);
    free(abs_w);
    free(abs_b);
    free(abs_x);
}

/* Fails with the first output that is not finite or beyond its bound, and
 * names the case and the output's position. */
static void compare(const float *got, const float *ref, const float *bound, evk_shape out,
                    const char *what)
{
    for (uint64_t i = 0; i < evk_shape_elements(out); ++i) {
        double err = fabs((double)got[i] - ref[i]);
        double limit = bound[i] + tu_rounding_slack() * fabs(ref[i]);
        if (isfinite(got[i]) && err <= limit)
            continue;
        uint64_t plane = (uint64_t)out.h * out.w;
        fail_msg("%s: output [n%llu c%llu y%llu x%llu] = %.9g, reference %.9g, |error| %.3g > "
                 "bound %.3g", what, (unsigned long long)(i / (plane * out.c)),
                 (unsigned long long)(i / plane % out.c), (unsigned long long)(i % plane / out.w),
                 (unsigned long long)(i % out.w), (double)got[i], (double)ref[i], err, limit);
    }
}

void tu_assert_output_near(const evk_conv2d_desc *bound_desc, evk_shape input, const float *x,
                           const float *ref, const float *got, const char *what)
{
    evk_shape out;
    assert_int_equal(evk_conv2d_output_shape(bound_desc, input, &out), EVK_SUCCESS);
    float *bound = malloc(evk_shape_elements(out) * sizeof *bound);
    assert_non_null(bound);
    error_bounds(bound_desc, input, x, bound);
    compare(got, ref, bound, out, what);
    free(bound);
}

void tu_assert_conv_output(const evk_conv2d_desc *desc, evk_shape input, const float *x,
                           const float *got, const char *what)
{
    evk_shape out;
    assert_int_equal(evk_conv2d_output_shape(desc, input, &out), EVK_SUCCESS);
    float *ref = malloc(evk_shape_elements(out) * sizeof *ref);
    assert_non_null(ref);
    evk_ref_conv2d(desc, input, x, ref);
    tu_assert_output_near(desc, input, x, ref, got, what);
    free(ref);
}

float *tu_download(const evk_tensor *t)
{
    size_t n = (size_t)evk_shape_elements(evk_tensor_shape(t));
    float *data = malloc(n * sizeof *data);
    assert_non_null(data);
    assert_int_equal(evk_tensor_download(t, data, n), EVK_SUCCESS);
    return data;
}

evk_tensor *tu_tensor(evk_context *ctx, evk_shape shape, const float *data)
{
    evk_tensor *t = NULL;
    evk_status s = evk_tensor_create(ctx, shape, &t);
    if (s != EVK_SUCCESS)
        fail_msg("evk_tensor_create %ux%ux%ux%u: %s", shape.n, shape.c, shape.h, shape.w,
                 evk_last_error(ctx));
    if (data)
        assert_int_equal(evk_tensor_upload(t, data, evk_shape_elements(shape)), EVK_SUCCESS);
    return t;
}

void tu_check_layer(evk_context *ctx, evk_layer *layer, const tu_conv_weights *w, evk_shape input,
                    uint64_t seed, const char *what)
{
    evk_shape out;
    assert_int_equal(evk_conv2d_output_shape(&w->desc, input, &out), EVK_SUCCESS);
    tu_rng rng = tu_rng_seeded(seed);
    float *x = tu_random_array(&rng, evk_shape_elements(input), -1.0f, 1.0f);
    evk_tensor *in_t = tu_tensor(ctx, input, x), *out_t = tu_tensor(ctx, out, NULL);
    evk_status s = evk_layer_forward(layer, in_t, out_t);
    if (s != EVK_SUCCESS)
        fail_msg("%s: evk_layer_forward: %s", what, evk_last_error(ctx));
    float *got = tu_download(out_t);
    evk_tensor_destroy(in_t);
    evk_tensor_destroy(out_t);
    tu_assert_conv_output(&w->desc, input, x, got, what);
    free(x);
    free(got);
}

void tu_run_conv_case(evk_context *ctx, const tu_conv_case *c, uint64_t seed)
{
    char what[160];
    tu_conv_case_describe(c, what, sizeof what);
    tu_conv_weights w;
    tu_conv_weights_make(&w, c, seed);
    evk_layer *layer = NULL;
    evk_status s = evk_conv2d_create(ctx, &w.desc, &layer);
    if (s != EVK_SUCCESS)
        fail_msg("%s: evk_conv2d_create: %s", what, evk_last_error(ctx));
    const char *kernel = evk_layer_kernel_name(layer);
    if (strcmp(kernel, tu_expected_kernel(&w.desc)) != 0)
        fail_msg("%s: kernel %s, expected %s", what, kernel, tu_expected_kernel(&w.desc));
    tu_check_layer(ctx, layer, &w, c->input, seed + 1, what);
    evk_layer_destroy(layer);
    /* The name is a static string, valid after the layer is gone. */
    assert_string_equal(kernel, tu_expected_kernel(&w.desc));
    tu_conv_weights_free(&w);
}

/* ---- Small things. */

int tu_contains(const char *haystack, const char *needle)
{
    size_t n = strlen(haystack), p = strlen(needle);
    for (size_t start = 0; start + p <= n; ++start) {
        size_t i = 0;
        while (i < p && tolower((unsigned char)haystack[start + i]) ==
                            tolower((unsigned char)needle[i]))
            ++i;
        if (i == p)
            return 1;
    }
    return 0;
}

void tu_assert_message(const char *message, evk_status status, const char *word)
{
    const char *name = evk_status_string(status);
    if (strncmp(message, name, strlen(name)) != 0 || !tu_contains(message, word))
        fail_msg("message \"%s\" does not start with %s or does not name \"%s\"", message, name,
                 word);
}

int tu_is_lavapipe(const evk_device_properties *props)
{
    return tu_contains(props->name, "llvmpipe");
}

void tu_assert_within_bound(const float *got, const float *ref, const float *bound, evk_shape shape,
                            const char *what)
{
    compare(got, ref, bound, shape, what);
}

int tu_fails_now(tu_failures *f)
{
    if (f->count++ != f->fail_at)
        return 0;
    f->injected = 1;
    return 1;
}

void *tu_failing_alloc(size_t size, void *user)
{
    tu_failing_allocator *a = user;
    if (tu_fails_now(&a->failures))
        return NULL;
    void *p = malloc(size ? size : 1);
    if (p)
        a->outstanding++;
    return p;
}

void tu_failing_free(void *ptr, void *user)
{
    tu_failing_allocator *a = user;
    a->outstanding--;
    free(ptr);
}

void *tu_read_case_file(const char *dir, const char *name, size_t size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *file = fopen(path, "rb");
    if (!file)
        fail_msg("cannot open %s", path);
    unsigned char *data = malloc(size + 1);
    assert_non_null(data);
    size_t got = fread(data, 1, size + 1, file);
    fclose(file);
    if (got != size)
        fail_msg("%s holds %zu bytes, expected %zu", path, got, size);
    return data;
}
