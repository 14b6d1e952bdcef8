/* The ONNX operators that pool, reshape, resize, join or crop feature
 * maps (Pad is onnx_lower_pad.c's). A reshape must move no data in effvk's
 * packed layout: it is then a view (Flatten of N x C x 1 x 1 into [N, C],
 * and back). */
#include <math.h>
#include <string.h>

#include "onnx_lower_ops.h"

static evk_status lower_global_pool(lowering *l)
{
    static const char *const none[] = {NULL};
    uint32_t xv, op;
    evk_status s = evk_lower_attributes(l, none);
    if (s == EVK_SUCCESS)
        s = evk_lower_value_input(l, 0, 4, &xv);
    if (s == EVK_SUCCESS)
        s = evk_lower_new_op(l, IR_GLOBAL_POOL, xv, &op);
    if (s != EVK_SUCCESS)
        return s;
    evk_shape x = l->g->values[xv].shape;
    return evk_lower_set_output(l, op, (evk_shape){x.n, x.c, 1, 1}, 4);
}

/* ReduceMean over H and W: a global average pool. */
static evk_status lower_reduce_mean(lowering *l)
{
    static const char *const known[] = {"axes", "keepdims", "noop_with_empty_axes", NULL};
    uint32_t xv, op;
    evk_status s = evk_lower_attributes(l, known);
    if (s == EVK_SUCCESS)
        s = evk_lower_value_input(l, 0, 4, &xv);
    if (s != EVK_SUCCESS)
        return s;
    const int64_t *axes;
    uint32_t count;
    s = evk_lower_axes(l, &axes, &count);
    int spatial = count == 2;
    for (uint32_t i = 0; spatial && i < 2; ++i)
        spatial = axes[i] == 2 || axes[i] == 3 || axes[i] == -1 || axes[i] == -2;
    if (s == EVK_SUCCESS &&
        (!spatial || axes[0] == axes[1] || axes[0] + 4 == axes[1] || axes[1] + 4 == axes[0]))
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                              "a mean over other axes than height "
                              "and width");
    if (s == EVK_SUCCESS)
        s = evk_lower_new_op(l, IR_GLOBAL_POOL, xv, &op);
    if (s != EVK_SUCCESS)
        return s;
    evk_shape x = l->g->values[xv].shape;
    return evk_lower_set_output(l, op, (evk_shape){x.n, x.c, 1, 1},
                                evk_lower_int_attribute(l, "keepdims", 1) ? 4 : 2);
}

/* Output size of a pooling window: floor or ceil mode, where as PyTorch a
 * last window starting in the end padding is dropped. */
static uint32_t pool_output(uint32_t size, int64_t begin, int64_t end, uint32_t kernel,
                            uint32_t stride, int ceil_mode)
{
    int64_t span = (int64_t)size + begin + end - kernel;
    int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
    if (ceil_mode && (out - 1) * stride >= (int64_t)size + begin)
        out--;
    return (uint32_t)out;
}

static evk_status lower_pool(lowering *l, ir_kind kind)
{
    static const char *const max_known[] = {"auto_pad",     "ceil_mode", "dilations",
                                            "kernel_shape", "pads",      "storage_order",
                                            "strides",      NULL};
    static const char *const avg_known[] = {
        "auto_pad",     "ceil_mode", "count_include_pad", "dilations",
        "kernel_shape", "pads",      "strides",           NULL};
    uint32_t xv, op;
    evk_status s = evk_lower_attributes(l, kind == IR_MAX_POOL ? max_known : avg_known);
    if (s == EVK_SUCCESS)
        s = evk_lower_value_input(l, 0, 4, &xv);
    window w;
    if (s == EVK_SUCCESS)
        s = evk_lower_read_window(l, &l->g->values[xv], NULL, &w);
    if (s != EVK_SUCCESS)
        return s;
    if (evk_lower_node_of(l)->output_count > 1 && evk_lower_node_of(l)->outputs[1][0])
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED, "the indices output");
    if (evk_lower_int_attribute(l, "storage_order", 0))
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED, "storage_order 1");
    for (uint32_t a = 0; a < 2; ++a)
        if (w.kernel[a] > 15 || w.stride[a] > 15 || w.begin[a] >= w.kernel[a] ||
            w.end[a] >= w.kernel[a])
            return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                                  "a %ux%u window, stride %ux%u, pads "
                                  "%lld,%lld,%lld,%lld (kernel and stride 1 to 15, each pad "
                                  "below the kernel)",
                                  w.kernel[0], w.kernel[1], w.stride[0], w.stride[1],
                                  (long long)w.begin[0], (long long)w.begin[1], (long long)w.end[0],
                                  (long long)w.end[1]);
    int ceil_mode = evk_lower_int_attribute(l, "ceil_mode", 0) != 0;
    s = evk_lower_new_op(l, kind, xv, &op);
    if (s != EVK_SUCCESS)
        return s;
    l->g->ops[op].pool = (evk_pool2d_desc){
        .kernel_h = w.kernel[0],
        .kernel_w = w.kernel[1],
        .stride_h = w.stride[0],
        .stride_w = w.stride[1],
        .pad_top = (uint32_t)w.begin[0],
        .pad_left = (uint32_t)w.begin[1],
        .pad_bottom = (uint32_t)w.end[0],
        .pad_right = (uint32_t)w.end[1],
        .ceil_mode = ceil_mode,
        .count_include_pad = evk_lower_int_attribute(l, "count_include_pad", 0) != 0};
    evk_shape x = l->g->values[xv].shape;
    evk_shape out = {x.n, x.c,
                     pool_output(x.h, w.begin[0], w.end[0], w.kernel[0], w.stride[0], ceil_mode),
                     pool_output(x.w, w.begin[1], w.end[1], w.kernel[1], w.stride[1], ceil_mode)};
    return evk_lower_set_output(l, op, out, 4);
}

/* ---- Reshapes: views when the packed data stays as it is. */

/* A reshape of `xv` to `dims` (ONNX order): [N, C·H·W] of a map with
 * H = W = 1, N x K x 1 x 1 of a matrix, or its own shape. */
static evk_status reshape_view(lowering *l, uint32_t xv, uint32_t rank, const int64_t *dims)
{
    const ir_value *x = &l->g->values[xv];
    evk_shape s = x->shape;
    int same = rank == 4 && dims[0] == s.n && dims[1] == s.c && dims[2] == s.h && dims[3] == s.w;
    int to_matrix = rank == 2 && s.h == 1 && s.w == 1 && dims[0] == s.n && dims[1] == s.c;
    if (same || to_matrix)
        return evk_lower_view_output(l, xv, rank);
    return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                          "reshaping %ux%ux%ux%u ('%s') to %u "
                          "dimensions [%lld, %lld, ...] moves data; only N x C x 1 x 1 to "
                          "[N, C] and back are supported",
                          s.n, s.c, s.h, s.w, x->name, rank, (long long)dims[0],
                          (long long)(rank > 1 ? dims[1] : 0));
}

static evk_status lower_flatten(lowering *l)
{
    static const char *const known[] = {"axis", NULL};
    uint32_t xv;
    evk_status s = evk_lower_attributes(l, known);
    if (s == EVK_SUCCESS)
        s = evk_lower_value_input(l, 0, 0, &xv);
    if (s != EVK_SUCCESS)
        return s;
    int64_t axis = evk_lower_int_attribute(l, "axis", 1);
    const ir_value *x = &l->g->values[xv];
    if (axis < 0)
        axis += x->rank;
    if (axis != 1)
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED, "axis %lld (only 1 is supported)",
                              (long long)axis);
    int64_t dims[2] = {x->shape.n, (int64_t)x->shape.c * x->shape.h * x->shape.w};
    return reshape_view(l, xv, 2, dims);
}

static evk_status lower_reshape(lowering *l)
{
    static const char *const known[] = {"allowzero", NULL};
    uint32_t xv, sv;
    evk_status s = evk_lower_attributes(l, known);
    if (s == EVK_SUCCESS)
        s = evk_lower_value_input(l, 0, 0, &xv);
    if (s == EVK_SUCCESS)
        s = evk_lower_input(l, 1, 1, &sv);
    if (s != EVK_SUCCESS)
        return s;
    const evk_onnx_tensor *shape = l->g->values[sv].constant;
    if (!shape || !shape->ints || shape->rank != 1 || (shape->count != 2 && shape->count != 4))
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                              "a shape that is not a constant of 2 or "
                              "4 integers");
    const ir_value *x = &l->g->values[xv];
    int64_t from[4] = {x->shape.n, x->shape.c, x->shape.h, x->shape.w}, dims[4], known_product = 1;
    uint64_t elements = evk_shape_elements(x->shape);
    int infer = -1;
    int allowzero = evk_lower_int_attribute(l, "allowzero", 0) != 0;
    for (uint32_t d = 0; d < shape->count; ++d) {
        dims[d] = shape->ints[d] == 0 && !allowzero ? (d < x->rank ? from[d] : 0) : shape->ints[d];
        if (dims[d] == -1 && infer < 0)
            infer = (int)d;
        else if (dims[d] <= 0)
            return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED, "dimension %lld", (long long)dims[d]);
        else
            known_product *= dims[d];
    }
    if (infer >= 0)
        dims[infer] = (int64_t)(elements / (uint64_t)known_product);
    return reshape_view(l, xv, (uint32_t)shape->count, dims);
}

/* Squeeze of H and W of N x C x 1 x 1, Unsqueeze of [N, K] to N x K x 1 x 1. */
static evk_status lower_squeeze(lowering *l, int unsqueeze)
{
    static const char *const known[] = {"axes", NULL};
    uint32_t xv;
    evk_status s = evk_lower_attributes(l, known);
    if (s == EVK_SUCCESS)
        s = evk_lower_value_input(l, 0, unsqueeze ? 2 : 4, &xv);
    if (s != EVK_SUCCESS)
        return s;
    const int64_t *axes;
    uint32_t count;
    s = evk_lower_axes(l, &axes, &count);
    const ir_value *x = &l->g->values[xv];
    int ok = s == EVK_SUCCESS && (count == 2 || (!unsqueeze && count == 0));
    for (uint32_t i = 0; ok && i < count; ++i)
        ok = axes[i] == 2 || axes[i] == 3 || (!unsqueeze && (axes[i] == -1 || axes[i] == -2));
    if (ok && count == 2)
        ok = axes[0] != axes[1] && axes[0] + 4 != axes[1] && axes[1] + 4 != axes[0];
    if (s == EVK_SUCCESS && (!ok || x->shape.h != 1 || x->shape.w != 1))
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                              "only the height and width of a 1 x 1 "
                              "map are squeezed or unsqueezed");
    return s == EVK_SUCCESS ? evk_lower_view_output(l, xv, unsqueeze ? 4 : 2) : s;
}

/* ---- Resize and Upsample, nearest, integer factors. */

/* The source index ONNX's coordinate transformation and rounding give for
 * output `i` at factor `scale`. */
static int64_t nearest_source(const char *transform, const char *rounding, int64_t i, double scale)
{
    double x;
    if (strcmp(transform, "asymmetric") == 0)
        x = (double)i / scale;
    else if (strcmp(transform, "tf_half_pixel_for_nn") == 0)
        x = ((double)i + 0.5) / scale;
    else
        x = ((double)i + 0.5) / scale - 0.5;
    if (strcmp(rounding, "floor") == 0)
        return (int64_t)floor(x);
    if (strcmp(rounding, "ceil") == 0)
        return (int64_t)ceil(x);
    double f = floor(x);
    if (x - f == 0.5)
        return (int64_t)(strcmp(rounding, "round_prefer_ceil") == 0 ? f + 1 : f);
    return (int64_t)floor(x + 0.5);
}

/* Whether the modes give y[i] = x[i / scale] for an integer factor: the
 * pattern repeats every `scale` outputs, so two periods decide it. */
static int is_plain_nearest(const char *transform, const char *rounding, uint32_t scale)
{
    for (int64_t i = 0; i < 2 * (int64_t)scale; ++i) {
        int64_t source = nearest_source(transform, rounding, i, scale);
        source = source < 0 ? 0 : source;
        if (source != i / scale)
            return 0;
    }
    return 1;
}

static evk_status resize_factors(lowering *l, const ir_value *x, uint32_t *factors)
{
    uint32_t scales_input = l->opset >= 11 && strcmp(evk_lower_node_of(l)->op_type, "Resize") == 0
        ? 2
        : 1;
    uint32_t sv = IR_NONE, zv = IR_NONE;
    evk_status s = evk_lower_input(l, scales_input, 0, &sv);
    if (s == EVK_SUCCESS && scales_input == 2)
        s = evk_lower_input(l, 3, 0, &zv);
    if (s != EVK_SUCCESS)
        return s;
    const evk_onnx_tensor *scales = sv != IR_NONE ? l->g->values[sv].constant : NULL;
    const evk_onnx_tensor *sizes = zv != IR_NONE ? l->g->values[zv].constant : NULL;
    const evk_onnx_attribute *attr = evk_lower_attribute(l, "scales");
    double wanted[4] = {0};
    uint32_t from[4] = {x->shape.n, x->shape.c, x->shape.h, x->shape.w};
    if (sizes && sizes->count == 4 && sizes->ints) {
        for (uint32_t d = 0; d < 4; ++d)
            wanted[d] = from[d] && sizes->ints[d] % from[d] == 0
                ? (double)(sizes->ints[d] / from[d])
                : 0.5;
    } else if (scales && scales->count == 4 && scales->floats) {
        for (uint32_t d = 0; d < 4; ++d)
            wanted[d] = scales->floats[d];
    } else if (attr && attr->count == 4) {
        for (uint32_t d = 0; d < 4; ++d)
            wanted[d] = attr->floats[d];
    } else {
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                              "scales or sizes that are not constants "
                              "of 4 elements");
    }
    for (uint32_t d = 0; d < 4; ++d) {
        uint32_t expected_one = d < 2;
        if (!(wanted[d] >= 1.0 && wanted[d] <= 64.0 && wanted[d] == floor(wanted[d])) ||
            (expected_one && wanted[d] != 1.0))
            return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                                  "scale %g along dimension %u; "
                                  "integer factors 1 to 64 of height and width are supported",
                                  wanted[d], d);
    }
    factors[0] = (uint32_t)wanted[2];
    factors[1] = (uint32_t)wanted[3];
    return EVK_SUCCESS;
}

static evk_status lower_resize(lowering *l)
{
    static const char *const known[] = {"mode",
                                        "coordinate_transformation_mode",
                                        "nearest_mode",
                                        "cubic_coeff_a",
                                        "exclude_outside",
                                        "extrapolation_value",
                                        "scales",
                                        NULL};
    uint32_t xv, op, factors[2];
    evk_status s = evk_lower_attributes(l, known);
    if (s == EVK_SUCCESS)
        s = evk_lower_value_input(l, 0, 4, &xv);
    if (s == EVK_SUCCESS)
        s = resize_factors(l, &l->g->values[xv], factors);
    if (s != EVK_SUCCESS)
        return s;
    int resize = strcmp(evk_lower_node_of(l)->op_type, "Resize") == 0;
    const char *mode = evk_lower_string_attribute(l, "mode", "nearest");
    const char *transform = resize
        ? evk_lower_string_attribute(l, "coordinate_transformation_mode", "half_pixel")
        : "asymmetric";
    const char *rounding = resize
        ? evk_lower_string_attribute(l, "nearest_mode", "round_prefer_floor")
        : "floor";
    if (strcmp(mode, "nearest") != 0)
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED, "mode '%s' (only nearest)", mode);
    for (uint32_t a = 0; a < 2; ++a)
        if (!is_plain_nearest(transform, rounding, factors[a]))
            return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                                  "coordinate_transformation_mode "
                                  "'%s' with nearest_mode '%s' at factor %u does not copy "
                                  "each pixel to a block",
                                  transform, rounding, factors[a]);
    if (factors[0] == 1 && factors[1] == 1)
        return evk_lower_alias(l, xv);
    s = evk_lower_new_op(l, IR_RESIZE, xv, &op);
    if (s != EVK_SUCCESS)
        return s;
    l->g->ops[op].scale_h = factors[0];
    l->g->ops[op].scale_w = factors[1];
    evk_shape x = l->g->values[xv].shape;
    return evk_lower_set_output(l, op, (evk_shape){x.n, x.c, x.h * factors[0], x.w * factors[1]},
                                4);
}

/* ---- Concat along channels: a chain of two-input concats. */

static evk_status lower_concat(lowering *l)
{
    static const char *const known[] = {"axis", NULL};
    evk_status s = evk_lower_attributes(l, known);
    uint32_t first;
    if (s == EVK_SUCCESS)
        s = evk_lower_value_input(l, 0, 0, &first);
    if (s != EVK_SUCCESS)
        return s;
    ir_graph *g = l->g;
    uint32_t rank = g->values[first].rank;
    int64_t axis = evk_lower_int_attribute(l, "axis", 1);
    if (axis != 1 && axis + (int64_t)rank != 1)
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED, "axis %lld (only channels)",
                              (long long)axis);
    const evk_onnx_node *n = evk_lower_node_of(l);
    uint32_t acc = first;
    evk_shape shape = g->values[first].shape;
    for (uint32_t i = 1; i < n->input_count; ++i) {
        uint32_t next, op;
        s = evk_lower_value_input(l, i, rank, &next);
        if (s != EVK_SUCCESS)
            return s;
        evk_shape b = g->values[next].shape;
        if (b.n != shape.n || b.h != shape.h || b.w != shape.w ||
            shape.c + (uint64_t)b.c > (1u << 24))
            return evk_lower_fail(l, EVK_ERROR_SHAPE_MISMATCH,
                                  "input %u is %ux%ux%ux%u, the ones "
                                  "before it %ux%ux%ux%u",
                                  i, b.n, b.c, b.h, b.w, shape.n, shape.c, shape.h, shape.w);
        s = evk_lower_new_op(l, IR_CONCAT, acc, &op);
        if (s != EVK_SUCCESS)
            return s;
        g->ops[op].in[1] = evk_lower_root_of(g, next);
        g->ops[op].in_count = 2;
        shape.c += b.c;
        if (i + 1 == n->input_count)
            return evk_lower_set_output(l, op, shape, rank);
        acc = evk_ir_add_value(g, "");
        if (acc == IR_NONE)
            return evk_fail_oom(g->ctx, "ONNX values");
        g->values[acc].shape = shape;
        g->values[acc].rank = rank;
        g->values[acc].producer = op;
        g->ops[op].out[0] = acc;
        g->ops[op].out_count = 1;
    }
    return evk_lower_alias(l, first);
}

/* ---- Slice of a feature map: the top-left crop an OctConv's upsampled
 * path makes at odd sizes (a view when it crops nothing). */

static evk_status lower_slice(lowering *l)
{
    uint32_t xv;
    evk_status s = evk_lower_value_input(l, 0, 4, &xv);
    if (s != EVK_SUCCESS)
        return s;
    if (l->opset < 10)
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED, "Slice before opset 10");
    const evk_onnx_tensor *part[4] = {NULL};
    for (uint32_t i = 0; i < 4; ++i) {
        uint32_t v = IR_NONE;
        s = evk_lower_input(l, i + 1, i < 2, &v);
        if (s != EVK_SUCCESS)
            return s;
        part[i] = v != IR_NONE ? l->g->values[v].constant : NULL;
        if (v != IR_NONE && (!part[i] || !part[i]->ints))
            return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                                  "starts, ends, axes and steps that "
                                  "are not integer constants");
    }
    const evk_onnx_tensor *starts = part[0], *ends = part[1], *axes = part[2], *steps = part[3];
    evk_shape x = l->g->values[xv].shape;
    uint32_t size[4] = {x.n, x.c, x.h, x.w}, keep[4] = {x.n, x.c, x.h, x.w};
    if (starts->count != ends->count || (axes && axes->count != starts->count) ||
        (steps && steps->count != starts->count))
        return evk_lower_fail(l, EVK_ERROR_INVALID_ARGUMENT,
                              "starts, ends, axes and steps of "
                              "different lengths");
    for (uint64_t i = 0; i < starts->count; ++i) {
        int64_t axis = axes ? axes->ints[i] : (int64_t)i;
        axis = axis < 0 ? axis + 4 : axis;
        if (axis < 0 || axis > 3 || starts->ints[i] != 0 || (steps && steps->ints[i] != 1))
            return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                                  "only crops that keep the first "
                                  "rows and columns (start 0, step 1) are supported");
        int64_t end = ends->ints[i] < 0 ? ends->ints[i] + size[axis] : ends->ints[i];
        keep[axis] = end < 0 ? 0 : end > size[axis] ? size[axis] : (uint32_t)end;
    }
    if (keep[0] != x.n || keep[1] != x.c || !keep[2] || !keep[3])
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                              "only crops of height and width to a "
                              "non-empty map are supported");
    if (keep[2] == x.h && keep[3] == x.w)
        return evk_lower_alias(l, xv);
    uint32_t op;
    s = evk_lower_new_op(l, IR_CROP, xv, &op);
    return s == EVK_SUCCESS
        ? evk_lower_set_output(l, op, (evk_shape){x.n, x.c, keep[2], keep[3]}, 4)
        : s;
}

evk_status evk_lower_layout_op(lowering *l)
{
    const char *op = evk_lower_node_of(l)->op_type;
    if (strcmp(op, "GlobalAveragePool") == 0)
        return lower_global_pool(l);
    if (strcmp(op, "ReduceMean") == 0)
        return lower_reduce_mean(l);
    if (strcmp(op, "MaxPool") == 0)
        return lower_pool(l, IR_MAX_POOL);
    if (strcmp(op, "AveragePool") == 0)
        return lower_pool(l, IR_AVG_POOL);
    if (strcmp(op, "Flatten") == 0)
        return lower_flatten(l);
    if (strcmp(op, "Reshape") == 0)
        return lower_reshape(l);
    if (strcmp(op, "Squeeze") == 0 || strcmp(op, "Unsqueeze") == 0)
        return lower_squeeze(l, op[0] == 'U');
    if (strcmp(op, "Resize") == 0 || strcmp(op, "Upsample") == 0)
        return lower_resize(l);
    if (strcmp(op, "Concat") == 0)
        return lower_concat(l);
    if (strcmp(op, "Slice") == 0)
        return lower_slice(l);
    if (strcmp(op, "Pad") == 0)
        return evk_lower_pad(l);
    return EVK_LOWER_NOT_MINE;
}
