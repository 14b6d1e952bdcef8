/* A builder of small ONNX graphs for the fusion tests: onnx_file.h's
 * writer, random FLOAT initializers, node and value names made unique, the
 * model parsed by the importer's reader. */
#ifndef EFFVK_TESTS_ONNX_GRAPH_BUILDER_H
#define EFFVK_TESTS_ONNX_GRAPH_BUILDER_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "test_util.h"

#include "model/onnx_proto.h"
#include "onnx_file.h"

#define FU_NAMES 160
#define FU_FILE "fusion.onnx"

/* ---- The builder. */

typedef struct fb {
    pb graph;
    tu_rng rng;
    uint32_t count;
    char names[FU_NAMES][40];
} fb;

static inline fb *fb_new(uint64_t seed)
{
    fb *b = calloc(1, sizeof *b);
    assert_non_null(b);
    b->rng = tu_rng_seeded(seed);
    return b;
}

static inline const char *fb_name(fb *b, const char *prefix)
{
    assert_true(b->count < FU_NAMES);
    char *name = b->names[b->count];
    snprintf(name, sizeof b->names[0], "%s_%u", prefix, b->count++);
    return name;
}

static inline const char *fb_floats(fb *b, const int64_t *dims, size_t rank, const float *values)
{
    const char *name = fb_name(b, "w");
    size_t count = 1;
    for (size_t d = 0; d < rank; ++d)
        count *= (size_t)dims[d];
    pb_float_initializer(&b->graph, name, dims, rank, values, count);
    return name;
}

static inline const char *fb_random(fb *b, const int64_t *dims, size_t rank, float lo, float hi)
{
    size_t count = 1;
    for (size_t d = 0; d < rank; ++d)
        count *= (size_t)dims[d];
    float *v = tu_random_array(&b->rng, count, lo, hi);
    const char *name = fb_floats(b, dims, rank, v);
    free(v);
    return name;
}

static inline const char *fb_ints(fb *b, const int64_t *values, size_t count)
{
    const char *name = fb_name(b, "i");
    pb_int64_initializer(&b->graph, name, (const int64_t[]){(int64_t)count}, 1, values, count);
    return name;
}

/* A node of one output, named "<op>_<n>"; returns the output's name. */
static inline const char *fb_node(fb *b, const char *op, const char *const *inputs, pb *attributes)
{
    const char *name = fb_name(b, op), *out = fb_name(b, "v");
    pb_node(&b->graph, op, name, inputs, (const char *const[]){out, NULL}, attributes);
    return out;
}

static inline const char *fb_unary(fb *b, const char *op, const char *x)
{
    return fb_node(b, op, (const char *const[]){x, NULL}, NULL);
}

static inline const char *fb_binary(fb *b, const char *op, const char *x, const char *y)
{
    return fb_node(b, op, (const char *const[]){x, y, NULL}, NULL);
}

/* Conv of `w` [cout, cin / group, k, k] (and `bias` when not NULL),
 * padding `p` on every side. */
static inline const char *fb_conv_with(fb *b, const char *x, uint32_t cin, uint32_t cout,
                                       uint32_t k, uint32_t stride, uint32_t group, const float *w,
                                       const float *bias, int64_t p)
{
    const char *wn = fb_floats(b, (const int64_t[]){cout, cin / group, k, k}, 4, w);
    const char *bn = bias ? fb_floats(b, (const int64_t[]){cout}, 1, bias) : NULL;
    pb a = {0};
    pb_attribute_ints(&a, "kernel_shape", (const int64_t[]){k, k}, 2);
    pb_attribute_ints(&a, "strides", (const int64_t[]){stride, stride}, 2);
    pb_attribute_ints(&a, "pads", (const int64_t[]){p, p, p, p}, 4);
    pb_attribute_int(&a, "group", group);
    return fb_node(b, "Conv", (const char *const[]){x, wn, bn ? bn : NULL, NULL}, &a);
}

/* The same with weights uniform in ±1/sqrt(fan-in) and a bias in ±0.5
 * when `bias`. */
static inline const char *fb_conv_padded(fb *b, const char *x, uint32_t cin, uint32_t cout,
                                         uint32_t k, uint32_t stride, uint32_t group, int bias,
                                         int64_t pad)
{
    size_t count = (size_t)cout * cin / group * k * k;
    float scale = 1.0f / sqrtf((float)(cin / group * k * k));
    float *w = tu_random_array(&b->rng, count, -scale, scale);
    float *bv = bias ? tu_random_array(&b->rng, cout, -0.5f, 0.5f) : NULL;
    const char *y = fb_conv_with(b, x, cin, cout, k, stride, group, w, bv, pad);
    free(w);
    free(bv);
    return y;
}

/* Padded by (k − 1) / 2: the size kept at stride 1. */
static inline const char *fb_conv(fb *b, const char *x, uint32_t cin, uint32_t cout, uint32_t k,
                                  uint32_t stride, uint32_t group, int bias)
{
    return fb_conv_padded(b, x, cin, cout, k, stride, group, bias, (k - 1) / 2);
}

static inline const char *fb_bn(fb *b, const char *x, uint32_t c)
{
    const int64_t dims[] = {c};
    const char *scale = fb_random(b, dims, 1, 0.5f, 1.5f),
               *shift = fb_random(b, dims, 1, -0.5f, 0.5f),
               *mean = fb_random(b, dims, 1, -0.5f, 0.5f), *var = fb_random(b, dims, 1, 0.5f, 1.5f);
    pb a = {0};
    pb_attribute_float(&a, "epsilon", 1e-3f);
    return fb_node(b, "BatchNormalization", (const char *const[]){x, scale, shift, mean, var, NULL},
                   &a);
}

/* x · sigmoid(x), as exporters write SiLU. */
static inline const char *fb_silu(fb *b, const char *x)
{
    return fb_binary(b, "Mul", x, fb_unary(b, "Sigmoid", x));
}

/* OctConv's pool: 2x2 average, stride 2, ceil mode, pixels inside only;
 * `op` "MaxPool" for a max of the same window. */
static inline const char *fb_pool2(fb *b, const char *op, const char *x)
{
    pb a = {0};
    pb_attribute_ints(&a, "kernel_shape", (const int64_t[]){2, 2}, 2);
    pb_attribute_ints(&a, "strides", (const int64_t[]){2, 2}, 2);
    pb_attribute_int(&a, "ceil_mode", 1);
    return fb_node(b, op, (const char *const[]){x, NULL}, &a);
}

/* Resize ×2 of H and W by `scales`, asymmetric coordinates, floor. */
static inline const char *fb_resize2(fb *b, const char *x, const char *mode)
{
    const char *scales = fb_floats(b, (const int64_t[]){4}, 1, (const float[]){1, 1, 2, 2});
    pb a = {0};
    pb_attribute_string(&a, "mode", mode);
    pb_attribute_string(&a, "coordinate_transformation_mode", "asymmetric");
    pb_attribute_string(&a, "nearest_mode", "floor");
    return fb_node(b, "Resize", (const char *const[]){x, "", scales, NULL}, &a);
}

/* Slice of the first h rows and w columns. */
static inline const char *fb_crop(fb *b, const char *x, int64_t h, int64_t w)
{
    const char *starts = fb_ints(b, (const int64_t[]){0, 0}, 2);
    const char *ends = fb_ints(b, (const int64_t[]){h, w}, 2);
    const char *axes = fb_ints(b, (const int64_t[]){2, 3}, 2);
    return fb_node(b, "Slice", (const char *const[]){x, starts, ends, axes, NULL}, NULL);
}

/* Pad of H and W with zeros (opset 13: the pads as an input). */
static inline const char *fb_pad(fb *b, const char *x, int64_t top, int64_t left, int64_t bottom,
                                 int64_t right)
{
    const char *pads = fb_ints(b, (const int64_t[]){0, 0, top, left, 0, 0, bottom, right}, 8);
    return fb_node(b, "Pad", (const char *const[]){x, pads, NULL}, NULL);
}

/* The model of input "x" of `dims` and output `y`, parsed; frees b. */
static inline evk_onnx_model *fb_finish(fb *b, const int64_t *dims, const char *y)
{
    pb_str(&b->graph, GRAPH_NAME, "fusion");
    pb_value(&b->graph, GRAPH_INPUT, "x", dims, NULL, 4);
    pb_value(&b->graph, GRAPH_OUTPUT, y, NULL, NULL, -1);
    pb model = pb_model(&b->graph);
    evk_onnx_model *onnx = NULL;
    evk_status s = evk_onnx_parse(NULL, model.bytes, model.size, FU_FILE, NULL, &onnx);
    free(model.bytes);
    free(b);
    if (s != EVK_SUCCESS)
        fail_msg("parse: %s", evk_last_error(NULL));
    return onnx;
}

#endif
