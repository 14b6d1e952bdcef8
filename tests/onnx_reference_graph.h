/* A CPU interpreter of a parsed ONNX graph for the fusion tests, node by
 * node from tests/reference, with a forward error bound carried beside
 * every value.
 *
 * The bound. Beside each value y the interpreter keeps m, a bound on the
 * sum of the magnitudes of the terms that make y (the input's |x|,
 * conv(|W|, m) + |b|, ...), and e, a bound on the device's error. A
 * reduction of L products adds r(L) m with r(L) = tu_gamma(2 L + 4) +
 * 4 tu_storage_u(): a fused kernel may sum two paths at once (OctConv's,
 * HetConv's), folded weights and the reference's float intermediates round
 * once more. Errors pass through linear steps as the step's |weights| and
 * through the activations at their Lipschitz constants; each rounded result
 * adds 2 u m, each exp tu_rounding_slack() |y|. */
#ifndef EFFVK_TESTS_ONNX_REFERENCE_GRAPH_H
#define EFFVK_TESTS_ONNX_REFERENCE_GRAPH_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#include "model/onnx_proto.h"
#include "onnx_graph_builder.h"
#include "reference.h"

/* ---- The interpreter: values with data x, magnitude m and bound e. */

typedef struct rv {
    const char *name;
    evk_shape shape;
    uint32_t rank;
    float *x, *m, *e;
} rv;

typedef struct ref_run {
    const evk_onnx_model *onnx;
    const evk_onnx_node *node;
    uint32_t count;
    rv values[FU_NAMES];
} ref_run;

static inline double fu_r(double products)
{
    return tu_gamma(2.0 * products + 4.0) + 4.0 * tu_storage_u();
}

static inline rv fu_value(evk_shape shape, uint32_t rank)
{
    uint64_t n = evk_shape_elements(shape);
    rv v = {.shape = shape, .rank = rank, .x = calloc(n, 4), .m = calloc(n, 4), .e = calloc(n, 4)};
    assert_true(v.x && v.m && v.e);
    return v;
}

static inline void fu_value_free(rv *v)
{
    free(v->x);
    free(v->m);
    free(v->e);
}

static inline const evk_onnx_tensor *ref_constant(const ref_run *r, uint32_t input)
{
    if (input >= r->node->input_count || !r->node->inputs[input][0])
        return NULL;
    for (uint32_t i = 0; i < r->onnx->initializer_count; ++i)
        if (strcmp(r->onnx->initializers[i].name, r->node->inputs[input]) == 0)
            return &r->onnx->initializers[i];
    return NULL;
}

static inline rv *ref_input(ref_run *r, uint32_t input)
{
    for (uint32_t i = 0; i < r->count; ++i)
        if (strcmp(r->values[i].name, r->node->inputs[input]) == 0)
            return &r->values[i];
    return NULL;
}

/* A constant operand of `like` (right-aligned broadcast) as a value. */
static inline rv ref_constant_value(const evk_onnx_tensor *t, const rv *like)
{
    uint32_t dims[4] = {1, 1, 1, 1};
    for (uint32_t d = 0; d < t->rank; ++d)
        dims[like->rank - t->rank + d] = (uint32_t)t->dims[d];
    rv v = fu_value((evk_shape){dims[0], dims[1], dims[2], dims[3]}, like->rank);
    for (uint64_t i = 0; i < t->count; ++i) {
        v.x[i] = t->floats[i];
        v.m[i] = fabsf(t->floats[i]);
    }
    return v;
}

static inline int64_t ref_int(const ref_run *r, const char *name, int64_t fallback)
{
    const evk_onnx_attribute *a = evk_onnx_attribute_find(r->node, name);
    return a ? a->i : fallback;
}

static inline float ref_float(const ref_run *r, const char *name, float fallback)
{
    const evk_onnx_attribute *a = evk_onnx_attribute_find(r->node, name);
    return a ? a->f : fallback;
}

/* ONNX's padding of axis `a` (0: H, 1: W) as begin and end: `pads`, or
 * auto_pad SAME_UPPER / SAME_LOWER (the odd one at the end / the
 * begin). */
static inline void ref_padding(ref_run *r, uint32_t size, uint32_t kernel, uint32_t stride,
                               uint32_t a, int64_t *begin, int64_t *end)
{
    const evk_onnx_attribute *pd = evk_onnx_attribute_find(r->node, "pads"),
                             *ap = evk_onnx_attribute_find(r->node, "auto_pad");
    *begin = pd ? pd->ints[a] : 0;
    *end = pd ? pd->ints[a + 2] : 0;
    if (ap && ap->s && strncmp(ap->s, "SAME_", 5) == 0) {
        int64_t out = (size + stride - 1) / stride;
        int64_t total = (out - 1) * stride + kernel - size;
        total = total > 0 ? total : 0;
        *begin = strcmp(ap->s, "SAME_UPPER") == 0 ? total / 2 : total - total / 2;
        *end = total - *begin;
    }
}

static inline rv ref_conv(ref_run *r, const rv *x)
{
    const evk_onnx_tensor *w = ref_constant(r, 1), *bias = ref_constant(r, 2);
    const evk_onnx_attribute *st = evk_onnx_attribute_find(r->node, "strides");
    uint32_t stride[2] = {st ? (uint32_t)st->ints[0] : 1, st ? (uint32_t)st->ints[1] : 1};
    int64_t begin[2], end[2];
    ref_padding(r, x->shape.h, (uint32_t)w->dims[2], stride[0], 0, &begin[0], &end[0]);
    ref_padding(r, x->shape.w, (uint32_t)w->dims[3], stride[1], 1, &begin[1], &end[1]);
    evk_conv2d_desc d = {.in_channels = x->shape.c,
                         .out_channels = (uint32_t)w->dims[0],
                         .kernel_h = (uint32_t)w->dims[2],
                         .kernel_w = (uint32_t)w->dims[3],
                         .stride_h = stride[0],
                         .stride_w = stride[1],
                         .pad_h = (uint32_t)begin[0],
                         .pad_w = (uint32_t)begin[1],
                         .pad_bottom_extra = (int32_t)(end[0] - begin[0]),
                         .pad_right_extra = (int32_t)(end[1] - begin[1]),
                         .groups = (uint32_t)ref_int(r, "group", 1),
                         .weight = w->floats,
                         .weight_count = w->count,
                         .bias = bias ? bias->floats : NULL,
                         .bias_count = bias ? bias->count : 0};
    evk_shape out;
    assert_int_equal(evk_conv2d_output_shape(&d, x->shape, &out), EVK_SUCCESS);
    rv y = fu_value(out, 4);
    evk_ref_conv2d(&d, x->shape, x->x, y.x);
    double rr = fu_r((double)w->dims[1] * d.kernel_h * d.kernel_w);
    float *aw = malloc(w->count * 4), *ab = malloc(d.out_channels * 4),
          *in = malloc(evk_shape_elements(x->shape) * 4);
    assert_true(aw && ab && in);
    for (uint64_t i = 0; i < w->count; ++i)
        aw[i] = fabsf(w->floats[i]);
    for (uint32_t i = 0; i < d.out_channels; ++i)
        ab[i] = bias ? fabsf(bias->floats[i]) : 0.0f;
    d.weight = aw;
    d.bias = ab;
    d.bias_count = d.out_channels;
    evk_ref_conv2d(&d, x->shape, x->m, y.m);
    for (uint64_t i = 0; i < evk_shape_elements(x->shape); ++i)
        in[i] = x->e[i] + (float)rr * x->m[i];
    for (uint32_t i = 0; i < d.out_channels; ++i)
        ab[i] *= (float)rr;
    evk_ref_conv2d(&d, x->shape, in, y.e);
    free(aw);
    free(ab);
    free(in);
    return y;
}

/* Gemm (alpha, beta, transB, C) and MatMul on [N, K]. */
static inline rv ref_matrix(ref_run *r, const rv *x, int gemm)
{
    const evk_onnx_tensor *b = ref_constant(r, 1), *c = gemm ? ref_constant(r, 2) : NULL;
    int trans = gemm && ref_int(r, "transB", 0);
    double alpha = gemm ? ref_float(r, "alpha", 1.0f) : 1.0,
           beta = gemm ? ref_float(r, "beta", 1.0f) : 1.0;
    uint32_t k = x->shape.c, m = (uint32_t)b->dims[trans ? 0 : 1];
    rv y = fu_value((evk_shape){x->shape.n, m, 1, 1}, 2);
    double rr = fu_r(k);
    for (uint32_t n = 0; n < x->shape.n; ++n)
        for (uint32_t o = 0; o < m; ++o) {
            double cv = c ? beta * c->floats[c->count == 1 ? 0 : o] : 0.0;
            double sum = cv, mag = fabs(cv), err = rr * fabs(cv);
            for (uint32_t i = 0; i < k; ++i) {
                double w = alpha * b->floats[trans ? (size_t)o * k + i : (size_t)i * m + o];
                const size_t at = (size_t)n * k + i;
                sum += w * x->x[at];
                mag += fabs(w) * x->m[at];
                err += fabs(w) * (x->e[at] + rr * x->m[at]);
            }
            y.x[n * m + o] = (float)sum;
            y.m[n * m + o] = (float)mag;
            y.e[n * m + o] = (float)err;
        }
    return y;
}

static inline rv ref_batchnorm(ref_run *r, const rv *x)
{
    const evk_onnx_tensor *g = ref_constant(r, 1), *beta = ref_constant(r, 2),
                          *mean = ref_constant(r, 3), *var = ref_constant(r, 4);
    double eps = ref_float(r, "epsilon", 1e-5f), u = tu_storage_u();
    rv y = fu_value(x->shape, x->rank);
    uint64_t plane = (uint64_t)x->shape.h * x->shape.w;
    for (uint64_t i = 0; i < evk_shape_elements(x->shape); ++i) {
        uint32_t c = (uint32_t)(i / plane % x->shape.c);
        double s = g->floats[c] / sqrt((double)var->floats[c] + eps);
        double shift = fabs(s * mean->floats[c]) + fabs(beta->floats[c]);
        y.x[i] = (float)(s * (x->x[i] - mean->floats[c]) + beta->floats[c]);
        y.m[i] = (float)(fabs(s) * x->m[i] + shift);
        y.e[i] = (float)(fabs(s) * x->e[i] + 4.0 * u * y.m[i]);
    }
    return y;
}

/* Add and Mul: the larger operand gets the other broadcast to it. */
static inline rv ref_arithmetic(ref_run *r, int mul)
{
    rv *in[2], constant = {0};
    int made = -1;
    for (uint32_t i = 0; i < 2; ++i)
        in[i] = ref_input(r, i);
    for (uint32_t i = 0; i < 2; ++i)
        if (!in[i]) {
            constant = ref_constant_value(ref_constant(r, i), in[1 - i]);
            in[i] = &constant;
            made = (int)i;
        }
    const rv *a = in[0], *b = in[1];
    if (evk_shape_elements(b->shape) > evk_shape_elements(a->shape)) {
        a = in[1];
        b = in[0];
    }
    rv y = fu_value(a->shape, a->rank);
    uint64_t n = evk_shape_elements(a->shape);
    float *t = malloc(n * 4);
    assert_non_null(t);
    evk_ref_binary_broadcast(mul, a->shape, a->x, b->shape, b->x, y.x);
    evk_ref_binary_broadcast(mul, a->shape, a->m, b->shape, b->m, y.m);
    if (mul) {
        evk_ref_binary_broadcast(1, a->shape, a->m, b->shape, b->e, y.e);
        evk_ref_binary_broadcast(1, a->shape, a->e, b->shape, b->m, t);
        for (uint64_t i = 0; i < n; ++i)
            y.e[i] += t[i];
        evk_ref_binary_broadcast(1, a->shape, a->e, b->shape, b->e, t);
    } else {
        evk_ref_binary_broadcast(0, a->shape, a->e, b->shape, b->e, t);
        memset(y.e, 0, n * 4);
    }
    for (uint64_t i = 0; i < n; ++i)
        y.e[i] += t[i] + (float)(2.0 * tu_storage_u()) * y.m[i];
    free(t);
    if (made >= 0)
        fu_value_free(&constant);
    return y;
}

static inline rv ref_pool(ref_run *r, const rv *x, int global, int average)
{
    const evk_onnx_attribute *ks = evk_onnx_attribute_find(r->node, "kernel_shape"),
                             *st = evk_onnx_attribute_find(r->node, "strides");
    evk_ref_pool2d_window w = {.kernel_h = global ? x->shape.h : (uint32_t)ks->ints[0],
                               .kernel_w = global ? x->shape.w : (uint32_t)ks->ints[1],
                               .stride_h = global ? 1 : (uint32_t)st->ints[0],
                               .stride_w = global ? 1 : (uint32_t)st->ints[1],
                               .ceil_mode = (int)ref_int(r, "ceil_mode", 0),
                               .count_include_pad = (int)ref_int(r, "count_include_pad", 0)};
    rv y = fu_value(evk_ref_pool2d_shape(&w, x->shape), 4);
    evk_ref_pool2d(average, &w, x->shape, x->x, y.x);
    evk_ref_pool2d(average, &w, x->shape, x->m, y.m);
    evk_ref_pool2d(average, &w, x->shape, x->e, y.e);
    double rr = fu_r((double)w.kernel_h * w.kernel_w);
    for (uint64_t i = 0; average && i < evk_shape_elements(y.shape); ++i)
        y.e[i] += (float)rr * y.m[i];
    return y;
}

/* Copies of the three arrays moved as Slice, Flatten, Resize, Concat do:
 * `how` 0 crop, 1 resize, 2 concat with in2, 3 the same data. */
static inline void ref_layout(const rv *x, const rv *in2, rv *y, int how, uint32_t scale)
{
    float *from[3] = {x->x, x->m, x->e}, *to[3] = {y->x, y->m, y->e};
    float *from2[3] = {in2 ? in2->x : NULL, in2 ? in2->m : NULL, in2 ? in2->e : NULL};
    evk_shape s = x->shape, o = y->shape;
    for (int k = 0; k < 3; ++k) {
        if (how == 1)
            evk_ref_resize_nearest(s, from[k], scale, scale, to[k]);
        else if (how == 2)
            evk_ref_concat_channels(s, from[k], in2->shape.c, from2[k], to[k]);
        else if (how == 3)
            memcpy(to[k], from[k], evk_shape_elements(s) * 4);
        for (uint64_t i = 0; how == 0 && i < evk_shape_elements(o); ++i) {
            uint64_t wq = i % o.w, hq = i / o.w % o.h, plane = i / ((uint64_t)o.w * o.h);
            to[k][i] = from[k][(plane * s.h + hq) * s.w + wq];
        }
    }
}

static inline rv ref_node(ref_run *r)
{
    const char *op = r->node->op_type;
    rv *x = ref_input(r, 0);
    if (strcmp(op, "Add") == 0 || strcmp(op, "Mul") == 0)
        return ref_arithmetic(r, op[0] == 'M');
    assert_non_null(x);
    if (strcmp(op, "Conv") == 0)
        return ref_conv(r, x);
    if (strcmp(op, "Gemm") == 0 || strcmp(op, "MatMul") == 0)
        return ref_matrix(r, x, op[0] == 'G');
    if (strcmp(op, "BatchNormalization") == 0)
        return ref_batchnorm(r, x);
    if (strcmp(op, "GlobalAveragePool") == 0 || strcmp(op, "AveragePool") == 0 ||
        strcmp(op, "MaxPool") == 0)
        return ref_pool(r, x, op[0] == 'G', op[0] != 'M');
    rv y;
    if (strcmp(op, "Relu") == 0 || strcmp(op, "Sigmoid") == 0) {
        int sig = op[0] == 'S';
        y = fu_value(x->shape, x->rank);
        for (uint64_t i = 0; i < evk_shape_elements(x->shape); ++i) {
            double v = sig ? 1.0 / (1.0 + exp(-(double)x->x[i])) : fmax(0.0, x->x[i]);
            y.x[i] = (float)v;
            y.e[i] = (float)(sig ? 0.25 * x->e[i] + tu_rounding_slack() * v : x->e[i]);
            y.m[i] = sig ? (float)v + y.e[i] : x->m[i];
        }
    } else if (strcmp(op, "Resize") == 0) {
        evk_shape s = x->shape;
        y = fu_value((evk_shape){s.n, s.c, 2 * s.h, 2 * s.w}, 4);
        ref_layout(x, NULL, &y, 1, 2);
    } else if (strcmp(op, "Slice") == 0) {
        const evk_onnx_tensor *ends = ref_constant(r, 2);
        y = fu_value(
            (evk_shape){x->shape.n, x->shape.c, (uint32_t)ends->ints[0], (uint32_t)ends->ints[1]},
            4);
        ref_layout(x, NULL, &y, 0, 1);
    } else if (strcmp(op, "Concat") == 0) {
        rv *b = ref_input(r, 1);
        y = fu_value((evk_shape){x->shape.n, x->shape.c + b->shape.c, x->shape.h, x->shape.w},
                     x->rank);
        ref_layout(x, b, &y, 2, 1);
    } else if (strcmp(op, "Pad") == 0) {
        const int64_t *pads = ref_constant(r, 1)->ints; /* [0, 0, top, left, 0, 0, bottom, right] */
        evk_shape s = x->shape;
        y = fu_value((evk_shape){s.n, s.c, s.h + (uint32_t)(pads[2] + pads[6]),
                                 s.w + (uint32_t)(pads[3] + pads[7])},
                     4);
        float *from[3] = {x->x, x->m, x->e}, *to[3] = {y.x, y.m, y.e};
        for (int k = 0; k < 3; ++k)
            for (uint64_t plane = 0; plane < (uint64_t)s.n * s.c; ++plane)
                for (uint32_t h = 0; h < s.h; ++h)
                    memcpy(&to[k][(plane * y.shape.h + h + pads[2]) * y.shape.w + pads[3]],
                           &from[k][(plane * s.h + h) * s.w], s.w * sizeof(float));
    } else if (strcmp(op, "Flatten") == 0) {
        evk_shape s = x->shape;
        y = fu_value((evk_shape){s.n, s.c * s.h * s.w, 1, 1}, 2);
        ref_layout(x, NULL, &y, 3, 1);
    } else {
        fail_msg("the interpreter has no %s", op);
        y = (rv){0};
    }
    return y;
}

/* The graph's output on `input` (shape `in`): *out, its magnitudes
 * dropped; the caller frees out->x and out->e. */
static inline void fu_reference(const evk_onnx_model *onnx, evk_shape in, const float *input,
                                rv *out)
{
    ref_run *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->onnx = onnx;
    rv x = fu_value(in, 4);
    x.name = "x";
    for (uint64_t i = 0; i < evk_shape_elements(in); ++i) {
        x.x[i] = input[i];
        x.m[i] = fabsf(input[i]);
    }
    r->values[r->count++] = x;
    for (uint32_t n = 0; n < onnx->node_count; ++n) {
        r->node = &onnx->nodes[n];
        rv y = ref_node(r);
        y.name = r->node->outputs[0];
        assert_true(r->count < FU_NAMES);
        r->values[r->count++] = y;
    }
    for (uint32_t i = 0; i < r->count; ++i) {
        if (strcmp(r->values[i].name, onnx->outputs[0].name) == 0) {
            *out = r->values[i];
            free(out->m);
            out->m = NULL;
        } else {
            fu_value_free(&r->values[i]);
        }
    }
    free(r);
}

#endif
