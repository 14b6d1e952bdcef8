/* Helpers shared by the effvk tests: a seeded PRNG, contexts with the
 * validation layer and a log that counts what a test must never see, and
 * running a conv2d on the device against the CPU reference with a float32
 * error bound. Functions that check things use cmocka assertions, so they
 * may only be called from inside a cmocka test or fixture. */
#ifndef EFFVK_TEST_UTIL_H
#define EFFVK_TEST_UTIL_H

/* cmocka.h needs these before it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "effvk/effvk.h"

/* ---- Deterministic random numbers (splitmix64): every run sees the same
 * data, so a failure reproduces. */
typedef struct tu_rng {
    uint64_t state;
} tu_rng;

tu_rng tu_rng_seeded(uint64_t seed);
float tu_uniform(tu_rng *rng, float lo, float hi);
/* A malloc'd array of n values uniform in [lo, hi); the caller frees it. */
float *tu_random_array(tu_rng *rng, size_t n, float lo, float hi);

/* ---- Precision. The kernels' tests run at the precision EFFVK_TEST_PRECISION
 * names (fp32 when unset; fp16-storage, fp16), which tu_gpu_open gives a
 * desc that sets none, and their bounds follow it:
 *  - tu_storage_u: the unit roundoff of stored activations and weights
 *    (2^-24, or 2^-11 for halves); each stored input, weight and output is
 *    off by at most that relative to itself;
 *  - tu_arith_u: that of the arithmetic (2^-11 only at fp16);
 *  - tu_gamma(n): the relative error of a sum of n products, as a fraction
 *    of the sum of their magnitudes: Higham's rigorous n u / (1 - n u) in
 *    float32; at fp16 the probabilistic 8 sqrt(n) u (Higham and Mary 2019),
 *    since the rigorous one passes 0.1 at n = 205;
 *  - tu_rounding_slack: the part of the bound relative to |reference|: 64
 *    ulp of the arithmetic (exp and division in the activations) and the
 *    output's rounding to storage, twice.
 * A conv's bound is so (tu_gamma(L + 2) + 2 tu_storage_u) sum |w x| +
 * tu_rounding_slack |ref|, L the reduction length. */
evk_precision tu_precision(void);
double tu_storage_u(void);
double tu_arith_u(void);
double tu_gamma(double n);
double tu_rounding_slack(void);
/* x as an IEEE half holds it (round to nearest even, overflow to infinity),
 * computed independently of the library's conversion; tu_stored: x as the
 * test's precision stores it. */
float tu_round_to_half(float x);
float tu_stored(float x);

/* ---- Contexts with validation.
 * Every device test runs with VK_LAYER_KHRONOS_validation required. The log
 * counts lines that must not appear: validation-layer messages and any other
 * warning or error that is not the library reporting a failed call (those
 * start with the status name, "EVK_ERROR_..."), so that expected errors of
 * bad-input tests do not count but a layer message at destruction does. */
typedef struct tu_log {
    unsigned unexpected;
} tu_log;

typedef struct tu_gpu {
    evk_context *ctx;
    tu_log log;
} tu_gpu;

/* Sets the log callback of `desc` to one that counts into `log`. */
void tu_desc_add_log(evk_context_desc *desc, tu_log *log);
/* Adds the validation flags and the log callback to `desc`. */
void tu_desc_add_validation(evk_context_desc *desc, tu_log *log);
/* Creates g->ctx from `desc` (NULL: defaults) with validation added. */
void tu_gpu_open(tu_gpu *g, const evk_context_desc *desc);
/* Fails the test on any validation message, then destroys the context and
 * fails again if destruction itself logged one. */
void tu_gpu_close(tu_gpu *g);
/* Fails the test if the context has counted any validation message so far. */
void tu_assert_no_validation_messages(const tu_gpu *g);

/* cmocka fixtures: *state becomes a tu_gpu with a validated context made
 * from the evk_context_desc given as cmocka's initial state (NULL: zeroed). */
int tu_gpu_setup(void **state);
int tu_gpu_teardown(void **state);
#define TU_GPU_TEST(f) cmocka_unit_test_setup_teardown(f, tu_gpu_setup, tu_gpu_teardown)
/* The same with the context made from the evk_context_desc variable `desc`;
 * the test's name says which. */
#define TU_GPU_TEST_WITH(f, desc) \
    { #f " [" #desc "]", f, tu_gpu_setup, tu_gpu_teardown, &desc }

/* ---- conv2d against the reference. */

/* A conv2d test case; kernel parameters as in evk_conv2d_desc. */
typedef struct tu_conv_case {
    evk_shape input;
    uint32_t out_channels;
    uint32_t kernel_h, kernel_w;
    uint32_t stride_h, stride_w;
    uint32_t pad_h, pad_w;
    uint32_t groups;
    evk_activation activation;
    int bias;
    int batchnorm;
    float eps;                      /* BatchNorm eps; 0: the default */
    int32_t pad_bottom_extra, pad_right_extra;
} tu_conv_case;

/* Host weights of a case and the desc that points at them. */
typedef struct tu_conv_weights {
    evk_conv2d_desc desc;
    float *weight, *bias, *gamma, *beta, *mean, *var;
} tu_conv_weights;

void tu_conv_weights_make(tu_conv_weights *w, const tu_conv_case *c, uint64_t seed);
void tu_conv_weights_free(tu_conv_weights *w);
/* "1x3x7x5 -> 5 k3x3 s1x1 p1x1 g1 act2 bias bn eps0" (fields as given) for
 * failure messages. */
void tu_conv_case_describe(const tu_conv_case *c, char *out, size_t size);
/* The kernel the library must pick for a desc, by the documented rule. */
const char *tu_expected_kernel(const evk_conv2d_desc *desc);

/* Fails unless `got` is the output of `desc` on `x` within the float32
 * bound (see error_bounds in test_util.c) and finite everywhere. */
void tu_assert_conv_output(const evk_conv2d_desc *desc, evk_shape input, const float *x,
                           const float *got, const char *what);
/* Fails unless `got` is within the float32 bound of `ref` (the reference's
 * output), the bound being that of the conv2d `bound_desc` on `x`: an op that
 * equals a conv2d with some weights zero (HetConv) is bounded by it. */
void tu_assert_output_near(const evk_conv2d_desc *bound_desc, evk_shape input, const float *x,
                           const float *ref, const float *got, const char *what);
/* A new tensor of `shape`, with `data` uploaded unless NULL. */
evk_tensor *tu_tensor(evk_context *ctx, evk_shape shape, const float *data);
/* A malloc'd copy of a tensor's contents. */
float *tu_download(const evk_tensor *t);
/* Runs `layer` (made from w->desc) on a random input and checks every output
 * against the reference within the float32 bound; fails the test on any
 * status, inf/NaN or error beyond the bound. */
void tu_check_layer(evk_context *ctx, evk_layer *layer, const tu_conv_weights *w, evk_shape input,
                    uint64_t seed, const char *what);
/* Creates the layer of `c`, checks its kernel name, runs tu_check_layer,
 * destroys it. */
void tu_run_conv_case(evk_context *ctx, const tu_conv_case *c, uint64_t seed);

/* ---- Allocation-failure injection. */
typedef struct tu_failures {
    long fail_at;                   /* index of the allocation to fail; -1: none */
    long count;                     /* allocations attempted */
    int injected;                   /* allocation fail_at was reached */
} tu_failures;

/* Counts an allocation; returns whether it is the one to fail. */
int tu_fails_now(tu_failures *f);

/* An evk_allocator's user data: malloc and free that fail as `failures`
 * says and count what is outstanding. */
typedef struct tu_failing_allocator {
    tu_failures failures;
    long outstanding;               /* allocated and not yet freed */
} tu_failing_allocator;

void *tu_failing_alloc(size_t size, void *user);
void tu_failing_free(void *ptr, void *user);

/* ---- Small things. */
/* The file `name` in folder `dir`, read whole into a malloc'd buffer that
 * must hold exactly `size` bytes (the cases the torch scripts write). */
void *tu_read_case_file(const char *dir, const char *name, size_t size);
/* Fails unless `message` (an evk_last_error) starts with the name of
 * `status` and names the problem: contains `word`, case-insensitively. */
void tu_assert_message(const char *message, evk_status status, const char *word);
/* Case-insensitive substring test. */
int tu_contains(const char *haystack, const char *needle);
int tu_is_lavapipe(const evk_device_properties *props);

/* ---- Bounds computed by the caller (ops that are not one conv2d). */
/* Fails with the first output of `shape` that is not finite or differs from
 * `ref` by more than bound[i] + tu_rounding_slack() |ref[i]|, the slack for
 * the activation, the output's storage and the reference's rounding. */
void tu_assert_within_bound(const float *got, const float *ref, const float *bound, evk_shape shape,
                            const char *what);

#endif
