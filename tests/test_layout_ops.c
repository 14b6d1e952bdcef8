/* Device tier: the layout ops of imported graphs against the C references
 * (tests/reference/) on odd shapes and channel counts that leave partial
 * quads, batch 2. Concatenation (host/ops/concat.c) at every boundary
 * offset a_channels mod 4, alone, and feeding another concat in a graph;
 * nearest upsampling (host/ops/resize.c); max and average pooling of a
 * window (host/ops/pool.c): ceil mode and its dropped last window, edge
 * windows of odd sizes, asymmetric padding, non-square kernels and strides,
 * count_include_pad both ways, and the older evk_max_pool_create. Every
 * output buffer starts as NaN: padded channel lanes must come out zero.
 * Moving values (concat, resize, max) is exact at every precision; the
 * average is within a sum's bound (test_util.h). Bad descs and shapes are
 * errors naming them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "command.h"
#include "concat.h"
#include "element_storage.h"
#include "graph.h"
#include "packed_lanes.h"
#include "pool.h"
#include "reference.h"
#include "resize.h"
#include "test_util.h"

/* A tensor of `shape` whose every stored element, padded lanes included,
 * is NaN: what a kernel leaves unwritten shows. */
static evk_tensor *poisoned_tensor(evk_context *ctx, evk_shape shape)
{
    evk_tensor *t = tu_tensor(ctx, shape, NULL);
    tu_poison(ctx, t, NAN);
    return t;
}

/* Fails unless the device's output is the reference as stored. */
static void assert_exact(const evk_tensor *t, const float *ref, const char *what)
{
    float *got = tu_download(t);
    for (uint64_t i = 0; i < evk_shape_elements(t->shape); ++i)
        if (!(got[i] == tu_stored(ref[i])))
            fail_msg("%s: element %llu is %.9g, expected %.9g", what, (unsigned long long)i,
                     (double)got[i], (double)tu_stored(ref[i]));
    free(got);
}

static int same_shape(evk_shape a, evk_shape b)
{
    return a.n == b.n && a.c == b.c && a.h == b.h && a.w == b.w;
}

static float *reference_buffer(evk_shape s)
{
    float *p = malloc(evk_shape_elements(s) * sizeof *p);
    assert_non_null(p);
    return p;
}

/* The two-input recording a graph's binary node makes, submitted alone. */
static evk_status run_concat(evk_context *ctx, evk_layer *layer, const evk_tensor *a,
                             const evk_tensor *b, evk_tensor *y)
{
    assert_int_equal(evk_command_begin(ctx), EVK_SUCCESS);
    evk_status s = evk_concat_record(layer, a, b, y);
    if (s != EVK_SUCCESS) {
        evk_command_abort(ctx);
        return s;
    }
    return evk_command_submit_wait(ctx);
}

static void check_concat(evk_context *ctx, evk_shape a_shape, uint32_t b_channels)
{
    char what[96];
    snprintf(what, sizeof what, "concat %ux%ux%ux%u + %u", a_shape.n, a_shape.c, a_shape.h,
             a_shape.w, b_channels);
    evk_shape b_shape = {a_shape.n, b_channels, a_shape.h, a_shape.w};
    evk_shape y_shape = {a_shape.n, a_shape.c + b_channels, a_shape.h, a_shape.w}, out;
    evk_layer *layer = NULL;
    assert_int_equal(evk_concat_create(ctx, a_shape.c, b_channels, &layer), EVK_SUCCESS);
    assert_string_equal(evk_layer_kernel_name(layer), "concat");
    assert_int_equal(evk_layer_output_shape(layer, a_shape, &out), EVK_SUCCESS);
    assert_true(same_shape(out, y_shape));
    tu_rng rng = tu_rng_seeded(a_shape.c * 16 + b_channels);
    float *a = tu_random_array(&rng, evk_shape_elements(a_shape), -2.0f, 2.0f);
    float *b = tu_random_array(&rng, evk_shape_elements(b_shape), -2.0f, 2.0f);
    float *ref = reference_buffer(y_shape);
    evk_ref_concat_channels(a_shape, a, b_channels, b, ref);
    evk_tensor *ta = tu_tensor(ctx, a_shape, a), *tb = tu_tensor(ctx, b_shape, b);
    evk_tensor *ty = poisoned_tensor(ctx, y_shape);
    assert_int_equal(run_concat(ctx, layer, ta, tb, ty), EVK_SUCCESS);
    assert_exact(ty, ref, what);
    tu_assert_padding_zero(ctx, ty, what);
    free(a);
    free(b);
    free(ref);
    evk_tensor_destroy(ta);
    evk_tensor_destroy(tb);
    evk_tensor_destroy(ty);
    evk_layer_destroy(layer);
}

/* a_channels mod 4 = 3, 1, 0, 1, 2: whole quads, a quad straddling a and b,
 * b's quads shifted, b's last lanes from its padded quad or none. */
static void test_concat(void **state)
{
    tu_gpu *g = *state;
    check_concat(g->ctx, (evk_shape){2, 3, 5, 7}, 5);
    check_concat(g->ctx, (evk_shape){2, 5, 7, 3}, 6);
    check_concat(g->ctx, (evk_shape){2, 4, 3, 5}, 4);
    check_concat(g->ctx, (evk_shape){2, 1, 5, 5}, 7);
    check_concat(g->ctx, (evk_shape){2, 6, 1, 3}, 3);
    tu_assert_no_validation_messages(g);
}

/* slot 1 = concat(x, x), slot 2 = concat(slot 1, x): the second reads the
 * first's output, whose last quad is partial; and one concat alone
 * (evk_layer_forward), which joins its input to itself. */
static void test_concat_chain(void **state)
{
    tu_gpu *g = *state;
    evk_shape x_shape = {2, 3, 5, 3}, mid = {2, 6, 5, 3}, y_shape = {2, 9, 5, 3}, out;
    evk_graph *graph;
    evk_layer *first, *second;
    uint32_t slot;
    assert_int_equal(evk_graph_create(g->ctx, &graph), EVK_SUCCESS);
    assert_int_equal(evk_concat_create(g->ctx, 3, 3, &first), EVK_SUCCESS);
    assert_int_equal(evk_graph_add_binary(graph, first, 0, 0, 0, "cat1", evk_concat_record, &slot),
                     EVK_SUCCESS);
    assert_int_equal(evk_concat_create(g->ctx, 6, 3, &second), EVK_SUCCESS);
    assert_int_equal(
        evk_graph_add_binary(graph, second, slot, 0, 0, "cat2", evk_concat_record, &slot),
        EVK_SUCCESS);
    assert_int_equal(evk_graph_output_shape(graph, x_shape, &out), EVK_SUCCESS);
    assert_true(same_shape(out, y_shape));
    tu_rng rng = tu_rng_seeded(77);
    float *x = tu_random_array(&rng, evk_shape_elements(x_shape), -1.0f, 1.0f);
    float *ref_mid = reference_buffer(mid), *ref = reference_buffer(y_shape);
    evk_ref_concat_channels(x_shape, x, 3, x, ref_mid);
    evk_ref_concat_channels(mid, ref_mid, 3, x, ref);
    evk_tensor *tx = tu_tensor(g->ctx, x_shape, x), *ty = poisoned_tensor(g->ctx, y_shape);
    assert_int_equal(evk_graph_forward(graph, tx, ty), EVK_SUCCESS);
    assert_exact(ty, ref, "concat of a concat");
    tu_assert_padding_zero(g->ctx, ty, "concat of a concat");
    evk_graph_destroy(graph);

    evk_layer *alone;
    assert_int_equal(evk_concat_create(g->ctx, 3, 3, &alone), EVK_SUCCESS);
    evk_tensor *tmid = poisoned_tensor(g->ctx, mid);
    assert_int_equal(evk_layer_forward(alone, tx, tmid), EVK_SUCCESS);
    assert_exact(tmid, ref_mid, "concat alone");
    tu_assert_padding_zero(g->ctx, tmid, "concat alone");
    evk_layer_destroy(alone);
    free(x);
    free(ref_mid);
    free(ref);
    evk_tensor_destroy(tx);
    evk_tensor_destroy(ty);
    evk_tensor_destroy(tmid);
    tu_assert_no_validation_messages(g);
}

static void check_resize(evk_context *ctx, evk_shape in, uint32_t scale_h, uint32_t scale_w)
{
    char what[96];
    snprintf(what, sizeof what, "resize %ux%ux%ux%u by %ux%u", in.n, in.c, in.h, in.w, scale_h,
             scale_w);
    evk_layer *layer = NULL;
    assert_int_equal(evk_resize_nearest_create(ctx, scale_h, scale_w, &layer), EVK_SUCCESS);
    assert_string_equal(evk_layer_kernel_name(layer), "resize_nearest");
    evk_shape out, expected = {in.n, in.c, in.h * scale_h, in.w * scale_w};
    assert_int_equal(evk_layer_output_shape(layer, in, &out), EVK_SUCCESS);
    assert_true(same_shape(out, expected));
    tu_rng rng = tu_rng_seeded(in.c * 64 + scale_h * 8 + scale_w);
    float *x = tu_random_array(&rng, evk_shape_elements(in), -2.0f, 2.0f);
    float *ref = reference_buffer(out);
    evk_ref_resize_nearest(in, x, scale_h, scale_w, ref);
    evk_tensor *tx = tu_tensor(ctx, in, x), *ty = poisoned_tensor(ctx, out);
    assert_int_equal(evk_layer_forward(layer, tx, ty), EVK_SUCCESS);
    assert_exact(ty, ref, what);
    tu_assert_padding_zero(ctx, ty, what);
    free(x);
    free(ref);
    evk_tensor_destroy(tx);
    evk_tensor_destroy(ty);
    evk_layer_destroy(layer);
}

static void test_resize(void **state)
{
    tu_gpu *g = *state;
    check_resize(g->ctx, (evk_shape){2, 3, 5, 7}, 1, 2);
    check_resize(g->ctx, (evk_shape){2, 5, 3, 5}, 2, 2);
    check_resize(g->ctx, (evk_shape){2, 7, 5, 3}, 3, 1);
    check_resize(g->ctx, (evk_shape){2, 1, 1, 1}, 2, 3);
    tu_assert_no_validation_messages(g);
}

static evk_ref_pool2d_window window_of(const evk_pool2d_desc *d)
{
    return (evk_ref_pool2d_window){d->kernel_h,  d->kernel_w,         d->stride_h,   d->stride_w,
                                   d->pad_top,   d->pad_left,         d->pad_bottom, d->pad_right,
                                   d->ceil_mode, d->count_include_pad};
}

static void describe_pool(const char *kind, const evk_pool2d_desc *d, evk_shape in, char *out,
                          size_t size)
{
    snprintf(out, size, "%s %ux%ux%ux%u k%ux%u s%ux%u pads %u,%u,%u,%u ceil %d include_pad %d",
             kind, in.n, in.c, in.h, in.w, d->kernel_h, d->kernel_w, d->stride_h, d->stride_w,
             d->pad_top, d->pad_left, d->pad_bottom, d->pad_right, d->ceil_mode,
             d->count_include_pad);
}

/* Runs `layer` (max or average pooling of `d`) on `x` and checks it against
 * the reference: the maximum exactly, the average within the bound of a
 * sum of the window's kernel_h · kernel_w stored values divided once. */
static void check_pool_layer(evk_context *ctx, evk_layer *layer, int average,
                             const evk_pool2d_desc *d, evk_shape in, const float *x,
                             const char *what)
{
    assert_string_equal(evk_layer_kernel_name(layer), average ? "avg_pool" : "max_pool");
    evk_ref_pool2d_window w = window_of(d);
    evk_shape out, expected = evk_ref_pool2d_shape(&w, in);
    assert_int_equal(evk_layer_output_shape(layer, in, &out), EVK_SUCCESS);
    if (!same_shape(out, expected))
        fail_msg("%s: output %ux%u, expected %ux%u", what, out.h, out.w, expected.h, expected.w);
    uint64_t count = evk_shape_elements(out), in_count = evk_shape_elements(in);
    float *ref = reference_buffer(out);
    evk_ref_pool2d(average, &w, in, x, ref);
    evk_tensor *tx = tu_tensor(ctx, in, x), *ty = poisoned_tensor(ctx, out);
    assert_int_equal(evk_layer_forward(layer, tx, ty), EVK_SUCCESS);
    if (average) {
        float *magnitude = malloc(in_count * sizeof *magnitude), *bound = reference_buffer(out);
        assert_non_null(magnitude);
        for (uint64_t i = 0; i < in_count; ++i)
            magnitude[i] = fabsf(x[i]);
        evk_ref_pool2d(1, &w, in, magnitude, bound);
        double factor = tu_gamma(d->kernel_h * d->kernel_w + 2.0) + 2.0 * tu_storage_u();
        for (uint64_t i = 0; i < count; ++i)
            bound[i] = (float)(factor * bound[i]);
        float *got = tu_download(ty);
        tu_assert_within_bound(got, ref, bound, out, what);
        free(got);
        free(magnitude);
        free(bound);
    } else {
        assert_exact(ty, ref, what);
    }
    tu_assert_padding_zero(ctx, ty, what);
    free(ref);
    evk_tensor_destroy(tx);
    evk_tensor_destroy(ty);
}

typedef struct pool_case {
    evk_shape input;
    evk_pool2d_desc desc;
} pool_case;

/* Each case max-pooled and averaged both ways. The inputs are negative, so
 * that padding (0) would win a maximum and change an average. */
static void test_pool2d(void **state)
{
    static const pool_case cases[] = {
        /* ResNet's stem window; ceil mode adds a column at W = 8. */
        {{2, 5, 9, 8}, {3, 3, 2, 2, 1, 1, 1, 1, 0, 0}},
        {{2, 5, 9, 8}, {3, 3, 2, 2, 1, 1, 1, 1, 1, 0}},
        /* Ceil mode on odd sizes: a last window of one row and column. */
        {{2, 3, 7, 9}, {2, 2, 2, 2, 0, 0, 0, 0, 1, 0}},
        /* Ceil mode's last row would start in the bottom padding: dropped. */
        {{2, 6, 5, 5}, {2, 2, 2, 2, 1, 1, 1, 1, 1, 0}},
        /* Asymmetric padding: top 0, left 1, bottom 1, right 0. */
        {{2, 7, 7, 6}, {3, 3, 1, 1, 0, 1, 1, 0, 0, 0}},
        /* Non-square kernel and strides. */
        {{2, 1, 6, 7}, {2, 3, 1, 2, 0, 0, 0, 0, 0, 0}},
        /* Both, in ceil mode: the last column's window passes the padded
         * map's end, where count_include_pad's divisor is clipped. */
        {{2, 5, 9, 9}, {2, 3, 1, 2, 0, 1, 1, 0, 1, 0}},
    };
    tu_gpu *g = *state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        evk_shape in = cases[i].input;
        tu_rng rng = tu_rng_seeded(300 + i);
        float *x = tu_random_array(&rng, evk_shape_elements(in), -3.0f, -0.5f);
        for (int kind = 0; kind < 3; ++kind) {
            evk_pool2d_desc d = cases[i].desc;
            d.count_include_pad = kind == 2;
            char what[160];
            describe_pool(kind ? "avg_pool" : "max_pool", &d, in, what, sizeof what);
            evk_layer *layer = NULL;
            assert_int_equal(kind ? evk_avg_pool2d_create(g->ctx, &d, &layer)
                                  : evk_max_pool2d_create(g->ctx, &d, &layer),
                             EVK_SUCCESS);
            check_pool_layer(g->ctx, layer, kind != 0, &d, in, x, what);
            evk_layer_destroy(layer);
        }
        free(x);
    }
    tu_assert_no_validation_messages(g);
}

/* evk_max_pool_create(k, s, p) is the desc with square k, s and p on every
 * side, floor mode. */
static void test_max_pool_square(void **state)
{
    static const uint32_t params[][3] = {{3, 2, 1}, {2, 2, 0}, {3, 1, 1}};
    tu_gpu *g = *state;
    evk_shape in = {2, 5, 11, 7};
    tu_rng rng = tu_rng_seeded(9);
    float *x = tu_random_array(&rng, evk_shape_elements(in), -3.0f, -0.5f);
    for (size_t i = 0; i < sizeof params / sizeof params[0]; ++i) {
        uint32_t k = params[i][0], s = params[i][1], p = params[i][2];
        evk_pool2d_desc d = {k, k, s, s, p, p, p, p, 0, 0};
        char what[160];
        describe_pool("evk_max_pool_create", &d, in, what, sizeof what);
        evk_layer *layer = NULL;
        assert_int_equal(evk_max_pool_create(g->ctx, k, s, p, &layer), EVK_SUCCESS);
        check_pool_layer(g->ctx, layer, 0, &d, in, x, what);
        evk_layer_destroy(layer);
    }
    free(x);
    tu_assert_no_validation_messages(g);
}

static void expect_pool_refused(evk_context *ctx, evk_pool2d_desc d, const char *word)
{
    evk_layer *layer = NULL;
    assert_int_equal(evk_avg_pool2d_create(ctx, &d, &layer), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(ctx), EVK_ERROR_INVALID_ARGUMENT, word);
    assert_null(layer);
    assert_int_equal(evk_max_pool2d_create(ctx, &d, &layer), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(ctx), EVK_ERROR_INVALID_ARGUMENT, word);
    assert_null(layer);
}

static void test_bad_pool(void **state)
{
    tu_gpu *g = *state;
    const evk_pool2d_desc ok = {3, 2, 2, 1, 1, 1, 1, 1, 0, 0};
    evk_layer *layer = NULL;
    assert_int_equal(evk_max_pool2d_create(g->ctx, NULL, &layer), EVK_ERROR_INVALID_ARGUMENT);
    assert_int_equal(evk_avg_pool2d_create(g->ctx, &ok, NULL), EVK_ERROR_INVALID_ARGUMENT);
    evk_pool2d_desc d = ok;
    d.kernel_w = 0;
    expect_pool_refused(g->ctx, d, "kernel 3x0");
    d = ok;
    d.kernel_h = 16;
    expect_pool_refused(g->ctx, d, "kernel 16x2");
    d = ok;
    d.stride_h = 0;
    expect_pool_refused(g->ctx, d, "stride 0x1");
    d = ok;
    d.stride_w = 16;
    expect_pool_refused(g->ctx, d, "stride 2x16");
    d = ok;
    d.pad_bottom = 3;
    expect_pool_refused(g->ctx, d, "bottom 3");
    d = ok;
    d.pad_right = 2;
    expect_pool_refused(g->ctx, d, "right 2");
    /* A window taller than the padded input. */
    const evk_pool2d_desc big = {5, 5, 1, 1, 0, 0, 0, 0, 0, 0};
    assert_int_equal(evk_avg_pool2d_create(g->ctx, &big, &layer), EVK_SUCCESS);
    evk_shape out;
    assert_int_equal(evk_layer_output_shape(layer, (evk_shape){1, 3, 4, 9}, &out),
                     EVK_ERROR_SHAPE_MISMATCH);
    tu_assert_message(evk_last_error(g->ctx), EVK_ERROR_SHAPE_MISMATCH, "1x3x4x9");
    tu_assert_message(evk_last_error(g->ctx), EVK_ERROR_SHAPE_MISMATCH, "5x5 window");
    evk_layer_destroy(layer);
    tu_assert_no_validation_messages(g);
}

static void test_bad_concat_and_resize(void **state)
{
    tu_gpu *g = *state;
    evk_layer *layer = NULL;
    assert_int_equal(evk_concat_create(g->ctx, 0, 3, &layer), EVK_ERROR_INVALID_ARGUMENT);
    assert_int_equal(evk_concat_create(g->ctx, 3, 0, &layer), EVK_ERROR_INVALID_ARGUMENT);
    assert_int_equal(evk_concat_create(g->ctx, 1u << 23, (1u << 23) + 1, &layer),
                     EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(g->ctx), EVK_ERROR_INVALID_ARGUMENT, "2^24");
    assert_null(layer);
    assert_int_equal(evk_concat_create(g->ctx, 3, 5, NULL), EVK_ERROR_INVALID_ARGUMENT);

    assert_int_equal(evk_concat_create(g->ctx, 3, 5, &layer), EVK_SUCCESS);
    evk_shape out;
    assert_int_equal(evk_layer_output_shape(layer, (evk_shape){2, 4, 5, 7}, &out),
                     EVK_ERROR_SHAPE_MISMATCH);
    tu_assert_message(evk_last_error(g->ctx), EVK_ERROR_SHAPE_MISMATCH, "2x4x5x7");
    evk_tensor *a = tu_tensor(g->ctx, (evk_shape){2, 3, 5, 7}, NULL);
    evk_tensor *b = tu_tensor(g->ctx, (evk_shape){2, 5, 5, 7}, NULL);
    evk_tensor *b_small = tu_tensor(g->ctx, (evk_shape){2, 5, 5, 6}, NULL);
    evk_tensor *b_wide = tu_tensor(g->ctx, (evk_shape){2, 4, 5, 7}, NULL);
    evk_tensor *y = tu_tensor(g->ctx, (evk_shape){2, 8, 5, 7}, NULL);
    evk_tensor *y_wrong = tu_tensor(g->ctx, (evk_shape){2, 9, 5, 7}, NULL);
    assert_int_equal(run_concat(g->ctx, layer, a, b_small, y), EVK_ERROR_SHAPE_MISMATCH);
    tu_assert_message(evk_last_error(g->ctx), EVK_ERROR_SHAPE_MISMATCH, "2x5x5x6");
    tu_assert_message(evk_last_error(g->ctx), EVK_ERROR_SHAPE_MISMATCH, "2x3x5x7");
    assert_int_equal(run_concat(g->ctx, layer, a, b_wide, y), EVK_ERROR_SHAPE_MISMATCH);
    tu_assert_message(evk_last_error(g->ctx), EVK_ERROR_SHAPE_MISMATCH, "2x4x5x7");
    assert_int_equal(run_concat(g->ctx, layer, b, a, y), EVK_ERROR_SHAPE_MISMATCH);
    tu_assert_message(evk_last_error(g->ctx), EVK_ERROR_SHAPE_MISMATCH, "2x5x5x7");
    assert_int_equal(run_concat(g->ctx, layer, a, b, y_wrong), EVK_ERROR_SHAPE_MISMATCH);
    tu_assert_message(evk_last_error(g->ctx), EVK_ERROR_SHAPE_MISMATCH, "2x9x5x7");
    /* Alone it joins its input to itself: 3 channels are not b's 5. */
    assert_int_equal(evk_layer_forward(layer, a, y), EVK_ERROR_SHAPE_MISMATCH);
    assert_int_equal(run_concat(g->ctx, layer, a, b, y), EVK_SUCCESS);
    evk_tensor *tensors[] = {a, b, b_small, b_wide, y, y_wrong};
    for (size_t i = 0; i < sizeof tensors / sizeof tensors[0]; ++i)
        evk_tensor_destroy(tensors[i]);
    evk_layer_destroy(layer);

    assert_int_equal(evk_resize_nearest_create(g->ctx, 0, 2, &layer), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(g->ctx), EVK_ERROR_INVALID_ARGUMENT, "0x2");
    assert_int_equal(evk_resize_nearest_create(g->ctx, 2, 65, &layer), EVK_ERROR_INVALID_ARGUMENT);
    assert_null(layer);
    assert_int_equal(evk_resize_nearest_create(g->ctx, 64, 1, &layer), EVK_SUCCESS);
    assert_int_equal(evk_layer_output_shape(layer, (evk_shape){1, 1, 1u << 18, 3}, &out),
                     EVK_SUCCESS);
    assert_int_equal(evk_layer_output_shape(layer, (evk_shape){1, 1, (1u << 18) + 1, 3}, &out),
                     EVK_ERROR_LIMIT_EXCEEDED);
    tu_assert_message(evk_last_error(g->ctx), EVK_ERROR_LIMIT_EXCEEDED, "2^24");
    evk_layer_destroy(layer);
    tu_assert_no_validation_messages(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TU_GPU_TEST(test_concat),
        TU_GPU_TEST(test_concat_chain),
        TU_GPU_TEST(test_resize),
        TU_GPU_TEST(test_pool2d),
        TU_GPU_TEST(test_max_pool_square),
        TU_GPU_TEST(test_bad_pool),
        TU_GPU_TEST(test_bad_concat_and_resize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
