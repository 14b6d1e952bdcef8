/* Device tier: the standalone elementwise ops of imported graphs against the
 * plain C references (evk_ref_unary, evk_ref_binary_broadcast) on channel
 * counts that leave a partial quad (1, 3, 5, 7), odd maps and batch 2, with
 * texel-buffer and storage-buffer inputs. Every activation of
 * host/ops/activation.h (clamps to infinite bounds, to [0, 6] and to bounds
 * that move 0); add and mul with b broadcast from [N,C,1,1], [1,C,1,1],
 * [1,1,1,1], [N,1,H,W] and a's shape, on two tensors and on a constant. The
 * outputs' buffers are filled with a nonzero value first and their padded
 * lanes read back raw: they must be written as zero. A squeeze-excitation
 * graph (mean, sigmoid, broadcast mul, self-add, a scalar constant, mean)
 * checks the ops as graph nodes. Bad input: shapes that do not broadcast,
 * NaN and crossed clamp bounds, non-finite constants, wrong counts. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "activation.h"
#include "broadcast.h"
#include "command.h"
#include "element_storage.h"
#include "graph.h"
#include "packed_lanes.h"
#include "pool.h"
#include "profile.h"
#include "reference.h"
#include "test_util.h"

static const evk_shape shapes[] = {{2, 1, 5, 7}, {2, 3, 7, 5}, {1, 5, 1, 1}, {2, 7, 5, 7}};
#define SHAPE_COUNT (sizeof shapes / sizeof shapes[0])

/* The bound's part not relative to the result: a half result below the
 * smallest normal half, 2^-14, may be flushed to zero. */
static double absolute_floor(void)
{
    return tu_precision() >= EVK_PRECISION_FP16_STORAGE ? 0x1p-14 : 0.0;
}

static float *stored_copy(const float *x, size_t n)
{
    float *s = malloc(n * sizeof *s);
    assert_non_null(s);
    for (size_t i = 0; i < n; ++i)
        s[i] = tu_stored(x[i]);
    return s;
}

/* ---- Activations. */

typedef struct unary_case {
    const char *kernel;
    evk_unary_desc desc;
} unary_case;

static const unary_case unary_cases[] = {
    {"clamp", {EVK_UNARY_CLAMP, -INFINITY, INFINITY, 0.0f, 0.0f}},
    {"clamp", {EVK_UNARY_CLAMP, 0.0f, 6.0f, 0.0f, 0.0f}},
    {"clamp", {EVK_UNARY_CLAMP, -INFINITY, -0.5f, 0.0f, 0.0f}},
    {"clamp", {EVK_UNARY_CLAMP, 1.0f, INFINITY, 0.0f, 0.0f}},
    {"clamp", {EVK_UNARY_CLAMP, 2.0f, 2.0f, 0.0f, 0.0f}},
    {"sigmoid", {EVK_UNARY_SIGMOID, 0.0f, 0.0f, 0.0f, 0.0f}},
    {"hard_sigmoid", {EVK_UNARY_HARD_SIGMOID, 0.0f, 0.0f, 0.2f, 0.5f}},
    {"hard_sigmoid", {EVK_UNARY_HARD_SIGMOID, 0.0f, 0.0f, -0.3f, 0.25f}},
    {"hard_swish", {EVK_UNARY_HARD_SWISH, 0.0f, 0.0f, 0.0f, 0.0f}},
    {"silu", {EVK_UNARY_SILU, 0.0f, 0.0f, 0.0f, 0.0f}},
};

/* The absolute part of an activation's bound at x: the float arithmetic's
 * rounding of alpha·x + beta and x / 6 + 1/2, which may cancel near the
 * knees (the rest is tu_rounding_slack's, relative to the result). */
static double unary_bound(const evk_unary_desc *d, double x)
{
    double u = FLT_EPSILON, ax = fabs(x);
    if (d->op == EVK_UNARY_HARD_SIGMOID)
        return absolute_floor() + 4.0 * u * (fabs(d->alpha) * ax + fabs(d->beta));
    if (d->op == EVK_UNARY_HARD_SWISH)
        return absolute_floor() + 4.0 * u * ax * (ax / 6.0 + 0.5);
    return absolute_floor();
}

static void check_unary(evk_context *ctx, const unary_case *c, evk_shape shape, uint64_t seed,
                        const char *variant)
{
    char what[160];
    snprintf(what, sizeof what, "%s [%g, %g] alpha %g beta %g on %ux%ux%ux%u, %s", c->kernel,
             (double)c->desc.min, (double)c->desc.max, (double)c->desc.alpha,
             (double)c->desc.beta, shape.n, shape.c, shape.h, shape.w, variant);
    evk_layer *layer = NULL;
    if (evk_unary_create(ctx, &c->desc, &layer) != EVK_SUCCESS)
        fail_msg("%s: %s", what, evk_last_error(ctx));
    assert_string_equal(evk_layer_kernel_name(layer), c->kernel);
    size_t n = (size_t)evk_shape_elements(shape);
    tu_rng rng = tu_rng_seeded(seed);
    float *x = tu_random_array(&rng, n, -8.0f, 8.0f);
    float *xs = stored_copy(x, n), *ref = malloc(n * sizeof *ref);
    float *bound = malloc(n * sizeof *bound);
    assert_non_null(ref);
    assert_non_null(bound);
    evk_ref_unary((int)c->desc.op, c->desc.min, c->desc.max, c->desc.alpha, c->desc.beta, xs, n,
                  ref);
    evk_tensor *tx = tu_tensor(ctx, shape, x), *ty = tu_tensor(ctx, shape, NULL);
    tu_poison(ctx, ty, 3.0f);
    if (evk_layer_forward(layer, tx, ty) != EVK_SUCCESS)
        fail_msg("%s: %s", what, evk_last_error(ctx));
    float *got = tu_download(ty);
    if (c->desc.op == EVK_UNARY_CLAMP) {
        /* A clamp of stored values to bounds that halves hold is exact. */
        for (size_t i = 0; i < n; ++i)
            if (got[i] != tu_stored(ref[i]))
                fail_msg("%s: element %zu = %g, expected %g", what, i, (double)got[i],
                         (double)tu_stored(ref[i]));
    } else {
        for (size_t i = 0; i < n; ++i)
            bound[i] = (float)unary_bound(&c->desc, xs[i]);
        tu_assert_within_bound(got, ref, bound, shape, what);
    }
    tu_assert_padding_zero(ctx, ty, what);
    free(x);
    free(xs);
    free(ref);
    free(bound);
    free(got);
    evk_tensor_destroy(tx);
    evk_tensor_destroy(ty);
    evk_layer_destroy(layer);
}

static void test_unary_ops(void **state)
{
    tu_gpu *g = *state;
    evk_switch texel_loads = g->ctx->profile.texel_loads;
    for (int texel = 0; texel < 2; ++texel) {
        g->ctx->profile.texel_loads = texel ? EVK_SWITCH_ON : EVK_SWITCH_OFF;
        for (size_t c = 0; c < sizeof unary_cases / sizeof unary_cases[0]; ++c)
            for (size_t s = 0; s < SHAPE_COUNT; ++s)
                check_unary(g->ctx, &unary_cases[c], shapes[s], 100 * c + s,
                            texel ? "texel loads" : "storage loads");
    }
    g->ctx->profile.texel_loads = texel_loads;
    tu_assert_no_validation_messages(g);
}

/* ---- Binary ops with broadcasting. */

/* The broadcast shapes of b for a: [N,C,1,1], [1,C,1,1], [1,1,1,1],
 * [N,1,H,W] and a's own. */
static evk_shape b_shape(evk_shape a, int kind)
{
    switch (kind) {
    case 0: return (evk_shape){a.n, a.c, 1, 1};
    case 1: return (evk_shape){1, a.c, 1, 1};
    case 2: return (evk_shape){1, 1, 1, 1};
    case 3: return (evk_shape){a.n, 1, a.h, a.w};
    default: return a;
    }
}

/* Records y = a op b directly, as the graph records a binary node. */
static evk_status binary_forward(evk_layer *layer, const evk_tensor *a, const evk_tensor *b,
                                 evk_tensor *y)
{
    evk_context *ctx = layer->ctx;
    evk_status s = evk_command_begin(ctx);
    if (s == EVK_SUCCESS)
        s = evk_binary_record(layer, a, b, y);
    if (s != EVK_SUCCESS) {
        evk_command_abort(ctx);
        return s;
    }
    return evk_command_submit_wait(ctx);
}

/* y = a op b on the device, by the two-tensor form or (`constant`) the
 * constant form, against the reference of the stored inputs. */
static void check_binary(evk_context *ctx, evk_binary_op op, int constant, evk_shape as, int kind,
                         uint64_t seed, const char *variant)
{
    evk_shape bs = b_shape(as, kind);
    char what[160];
    snprintf(what, sizeof what, "%s %s: %ux%ux%ux%u and %ux%ux%ux%u, %s",
             op == EVK_BINARY_MUL ? "mul" : "add", constant ? "constant" : "two tensors", as.n,
             as.c, as.h, as.w, bs.n, bs.c, bs.h, bs.w, variant);
    size_t n = (size_t)evk_shape_elements(as), nb = (size_t)evk_shape_elements(bs);
    tu_rng rng = tu_rng_seeded(seed);
    float *a = tu_random_array(&rng, n, -2.0f, 2.0f), *b = tu_random_array(&rng, nb, -2.0f, 2.0f);
    float *a_s = stored_copy(a, n), *b_s = stored_copy(b, nb);
    float *ref = malloc(n * sizeof *ref), *bound = malloc(n * sizeof *bound);
    assert_non_null(ref);
    assert_non_null(bound);
    evk_ref_binary_broadcast(op == EVK_BINARY_MUL, as, a_s, bs, b_s, ref);
    for (size_t i = 0; i < n; ++i) {
        ref[i] = tu_stored(ref[i]);
        bound[i] = (float)absolute_floor();
    }
    evk_layer *layer = NULL;
    evk_status s = constant ? evk_binary_constant_create(ctx, op, bs, b, nb, &layer)
                            : evk_binary_create(ctx, op, &layer);
    if (s != EVK_SUCCESS)
        fail_msg("%s: %s", what, evk_last_error(ctx));
    assert_string_equal(evk_layer_kernel_name(layer),
                        op == EVK_BINARY_MUL ? "broadcast_mul" : "broadcast_add");
    evk_tensor *ta = tu_tensor(ctx, as, a), *ty = tu_tensor(ctx, as, NULL);
    evk_tensor *tb = constant ? NULL : tu_tensor(ctx, bs, b);
    tu_poison(ctx, ty, -5.0f);
    s = constant ? evk_layer_forward(layer, ta, ty) : binary_forward(layer, ta, tb, ty);
    if (s != EVK_SUCCESS)
        fail_msg("%s: %s", what, evk_last_error(ctx));
    float *got = tu_download(ty);
    tu_assert_within_bound(got, ref, bound, as, what);
    tu_assert_padding_zero(ctx, ty, what);
    free(a);
    free(b);
    free(a_s);
    free(b_s);
    free(ref);
    free(bound);
    free(got);
    evk_tensor_destroy(ta);
    evk_tensor_destroy(tb);
    evk_tensor_destroy(ty);
    evk_layer_destroy(layer);
}

static void test_binary_ops(void **state)
{
    tu_gpu *g = *state;
    evk_switch texel_loads = g->ctx->profile.texel_loads;
    uint64_t seed = 1000;
    for (int texel = 0; texel < 2; ++texel) {
        g->ctx->profile.texel_loads = texel ? EVK_SWITCH_ON : EVK_SWITCH_OFF;
        for (int op = EVK_BINARY_ADD; op <= EVK_BINARY_MUL; ++op)
            for (int constant = 0; constant < 2; ++constant)
                for (size_t s = 0; s < SHAPE_COUNT; ++s)
                    for (int kind = 0; kind < 5; ++kind)
                        check_binary(g->ctx, (evk_binary_op)op, constant, shapes[s], kind,
                                     seed++, texel ? "texel loads" : "storage loads");
    }
    g->ctx->profile.texel_loads = texel_loads;
    tu_assert_no_validation_messages(g);
}

/* ---- As graph nodes: y = mean(2 · x · sigmoid(mean(x)) + 0.75), the
 * squeeze-excitation's scale as an importer lowers it, then a self-add, a
 * scalar constant (whose 0.75 would reach the padded lanes without the
 * mask, and so the last mean's) and a mean. */

/* `*layer` is read here, after `created` has set it. */
static void add_node(evk_graph *graph, evk_status created, evk_layer *const *layer,
                     uint32_t input, uint32_t *slot)
{
    assert_int_equal(created, EVK_SUCCESS);
    assert_int_equal(evk_graph_add(graph, *layer, input, "node", NULL, slot), EVK_SUCCESS);
}

static void test_graph_nodes(void **state)
{
    tu_gpu *g = *state;
    evk_context *ctx = g->ctx;
    evk_shape shape = {2, 5, 5, 7}, pooled = {2, 5, 1, 1};
    evk_unary_desc sigmoid = {.op = EVK_UNARY_SIGMOID};
    const float offset = 0.75f;
    evk_graph *graph;
    evk_layer *layer;
    uint32_t mean, scale, scaled, doubled, shifted, out;
    assert_int_equal(evk_graph_create(ctx, &graph), EVK_SUCCESS);
    add_node(graph, evk_global_avg_pool_create(ctx, &layer), &layer, 0, &mean);
    add_node(graph, evk_unary_create(ctx, &sigmoid, &layer), &layer, mean, &scale);
    assert_int_equal(evk_binary_create(ctx, EVK_BINARY_MUL, &layer), EVK_SUCCESS);
    assert_int_equal(evk_graph_add_binary(graph, layer, 0, scale, 0, "se.scale",
                                          evk_binary_record, &scaled), EVK_SUCCESS);
    assert_int_equal(evk_binary_create(ctx, EVK_BINARY_ADD, &layer), EVK_SUCCESS);
    assert_int_equal(evk_graph_add_binary(graph, layer, scaled, scaled, 1, "double",
                                          evk_binary_record, &doubled), EVK_SUCCESS);
    add_node(graph, evk_binary_constant_create(ctx, EVK_BINARY_ADD, (evk_shape){1, 1, 1, 1},
                                               &offset, 1, &layer), &layer, doubled, &shifted);
    add_node(graph, evk_global_avg_pool_create(ctx, &layer), &layer, shifted, &out);
    evk_shape out_shape;
    assert_int_equal(evk_graph_output_shape(graph, shape, &out_shape), EVK_SUCCESS);
    assert_true(out_shape.n == 2 && out_shape.c == 5 && out_shape.h == 1 && out_shape.w == 1);

    size_t n = (size_t)evk_shape_elements(shape), plane = (size_t)shape.h * shape.w;
    tu_rng rng = tu_rng_seeded(77);
    float *x = tu_random_array(&rng, n, -1.0f, 1.0f), *xs = stored_copy(x, n);
    float ref[10], bound[10];
    for (size_t p = 0; p < 10; ++p) {
        double sum = 0.0, magnitude = 0.0;
        for (size_t i = 0; i < plane; ++i) {
            sum += xs[p * plane + i];
            magnitude += fabs(xs[p * plane + i]);
        }
        double s = 1.0 / (1.0 + exp(-sum / (double)plane));
        ref[p] = (float)(2.0 * s * sum / (double)plane + offset);
        /* The means sum in float at every precision; each stage rounds to
         * storage once (the mean, the scale, the product, the shifted sum):
         * a few u_s of the terms' magnitudes. */
        bound[p] = (float)(((double)plane * FLT_EPSILON + 16.0 * tu_storage_u()) *
                           (2.0 * magnitude / (double)plane + offset));
    }
    evk_tensor *tx = tu_tensor(ctx, shape, x), *ty = tu_tensor(ctx, pooled, NULL);
    tu_poison(ctx, ty, 9.0f);
    if (evk_graph_forward(graph, tx, ty) != EVK_SUCCESS)
        fail_msg("graph: %s", evk_last_error(ctx));
    float *got = tu_download(ty);
    tu_assert_within_bound(got, ref, bound, pooled, "squeeze-excitation graph");
    tu_assert_padding_zero(ctx, ty, "squeeze-excitation graph");
    free(x);
    free(xs);
    free(got);
    evk_tensor_destroy(tx);
    evk_tensor_destroy(ty);
    evk_graph_destroy(graph);
    tu_assert_no_validation_messages(g);
}

/* ---- Bad input. */

static void expect_unary_refused(evk_context *ctx, evk_unary_desc desc, const char *word)
{
    evk_layer *layer = NULL;
    assert_int_equal(evk_unary_create(ctx, &desc, &layer), EVK_ERROR_INVALID_ARGUMENT);
    assert_null(layer);
    tu_assert_message(evk_last_error(ctx), EVK_ERROR_INVALID_ARGUMENT, word);
}

static void test_bad_unary(void **state)
{
    tu_gpu *g = *state;
    evk_layer *layer = NULL;
    assert_int_equal(evk_unary_create(g->ctx, NULL, &layer), EVK_ERROR_INVALID_ARGUMENT);
    expect_unary_refused(g->ctx, (evk_unary_desc){.op = (evk_unary_op)5}, "op 5");
    expect_unary_refused(g->ctx, (evk_unary_desc){EVK_UNARY_CLAMP, NAN, 1.0f, 0.0f, 0.0f}, "nan");
    expect_unary_refused(g->ctx, (evk_unary_desc){EVK_UNARY_CLAMP, 0.0f, NAN, 0.0f, 0.0f}, "nan");
    expect_unary_refused(g->ctx, (evk_unary_desc){EVK_UNARY_CLAMP, 2.0f, 1.0f, 0.0f, 0.0f},
                         "min 2 is above max 1");
    expect_unary_refused(g->ctx, (evk_unary_desc){EVK_UNARY_HARD_SIGMOID, 0, 0, INFINITY, 0.5f},
                         "alpha inf");
    expect_unary_refused(g->ctx, (evk_unary_desc){EVK_UNARY_HARD_SIGMOID, 0, 0, 0.2f, NAN},
                         "beta nan");
    /* The parameters an op does not use are not its business. */
    evk_unary_desc sigmoid = {EVK_UNARY_SIGMOID, NAN, -1.0f, NAN, INFINITY};
    assert_int_equal(evk_unary_create(g->ctx, &sigmoid, &layer), EVK_SUCCESS);
    evk_layer_destroy(layer);
}

static void test_bad_binary(void **state)
{
    tu_gpu *g = *state;
    evk_context *ctx = g->ctx;
    evk_layer *layer = NULL;
    assert_int_equal(evk_binary_create(ctx, (evk_binary_op)2, &layer), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(ctx), EVK_ERROR_INVALID_ARGUMENT, "op 2");
    assert_null(layer);

    float values[6] = {1, 2, 3, 4, 5, 6};
    evk_shape six = {1, 6, 1, 1};
    assert_int_equal(evk_binary_constant_create(ctx, EVK_BINARY_ADD, six, NULL, 6, &layer),
                     EVK_ERROR_INVALID_ARGUMENT);
    assert_int_equal(evk_binary_constant_create(ctx, EVK_BINARY_ADD, six, values, 5, &layer),
                     EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(ctx), EVK_ERROR_INVALID_ARGUMENT, "count is 5, expected 6");
    assert_int_equal(evk_binary_constant_create(ctx, EVK_BINARY_ADD, (evk_shape){1, 0, 1, 1},
                                                values, 0, &layer), EVK_ERROR_INVALID_ARGUMENT);
    values[2] = NAN;
    assert_int_equal(evk_binary_constant_create(ctx, EVK_BINARY_MUL, six, values, 6, &layer),
                     EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(ctx), EVK_ERROR_INVALID_ARGUMENT, "values[2]");
    values[2] = 3.0f;
    values[4] = -INFINITY;
    assert_int_equal(evk_binary_constant_create(ctx, EVK_BINARY_MUL, six, values, 6, &layer),
                     EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(ctx), EVK_ERROR_INVALID_ARGUMENT, "values[4]");
    assert_null(layer);

    /* A constant of 6 channels on 5: refused by the output shape, naming
     * both shapes. */
    values[4] = 5.0f;
    assert_int_equal(evk_binary_constant_create(ctx, EVK_BINARY_ADD, six, values, 6, &layer),
                     EVK_SUCCESS);
    evk_shape out;
    assert_int_equal(evk_layer_output_shape(layer, (evk_shape){2, 5, 3, 3}, &out),
                     EVK_ERROR_SHAPE_MISMATCH);
    tu_assert_message(evk_last_error(ctx), EVK_ERROR_SHAPE_MISMATCH, "1x6x1x1");
    tu_assert_message(evk_last_error(ctx), EVK_ERROR_SHAPE_MISMATCH, "2x5x3x3");
    evk_layer_destroy(layer);

    /* Two tensors: b of another map size, or of more images than a. */
    assert_int_equal(evk_binary_create(ctx, EVK_BINARY_MUL, &layer), EVK_SUCCESS);
    evk_tensor *a = tu_tensor(ctx, (evk_shape){1, 5, 5, 7}, NULL);
    evk_tensor *y = tu_tensor(ctx, (evk_shape){1, 5, 5, 7}, NULL);
    evk_tensor *rows = tu_tensor(ctx, (evk_shape){1, 5, 3, 7}, NULL);
    evk_tensor *images = tu_tensor(ctx, (evk_shape){2, 5, 1, 1}, NULL);
    assert_int_equal(binary_forward(layer, a, rows, y), EVK_ERROR_SHAPE_MISMATCH);
    tu_assert_message(evk_last_error(ctx), EVK_ERROR_SHAPE_MISMATCH, "1x5x3x7");
    tu_assert_message(evk_last_error(ctx), EVK_ERROR_SHAPE_MISMATCH, "1x5x5x7");
    assert_int_equal(binary_forward(layer, a, images, y), EVK_ERROR_SHAPE_MISMATCH);
    tu_assert_message(evk_last_error(ctx), EVK_ERROR_SHAPE_MISMATCH, "2x5x1x1");
    /* The context records again after a refusal. */
    assert_int_equal(binary_forward(layer, a, a, y), EVK_SUCCESS);
    evk_tensor_destroy(a);
    evk_tensor_destroy(y);
    evk_tensor_destroy(rows);
    evk_tensor_destroy(images);
    evk_layer_destroy(layer);
    tu_assert_no_validation_messages(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TU_GPU_TEST(test_unary_ops),
        TU_GPU_TEST(test_binary_ops),
        TU_GPU_TEST(test_graph_nodes),
        TU_GPU_TEST(test_bad_unary),
        TU_GPU_TEST(test_bad_binary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
