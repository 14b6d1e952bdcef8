/* Constants of an imported graph: Constant nodes, and the shape arithmetic
 * exporters emit around reshapes, crops and pads (Shape, Gather,
 * Unsqueeze, Squeeze, Concat, Slice, Transpose, ConstantOfShape, Cast and
 * Reshape on constants), evaluated on the
 * host since every shape is static once the input's is known. A node whose
 * data inputs are not all constants (a Concat of feature maps) is left to
 * onnx_lower_ops.c. */
#include <string.h>

#include "onnx_lower_ops.h"

enum { MAX_FOLDED = 1u << 20 };

/* A new constant tensor of `rank` dims for output 0, with an int or float
 * array of its element count. */
static evk_status new_constant(lowering *l, uint32_t rank, const int64_t *dims, int floats,
                               evk_onnx_tensor **out)
{
    evk_onnx_tensor *t = evk_ir_keep(l->g, sizeof *t);
    if (!t)
        return evk_fail_oom(l->g->ctx, "ONNX constant");
    t->name = "";
    t->rank = rank;
    t->count = 1;
    for (uint32_t d = 0; d < rank; ++d) {
        if (dims[d] < 0 || (uint64_t)dims[d] > MAX_FOLDED ||
            t->count * (uint64_t)dims[d] > MAX_FOLDED)
            return evk_lower_fail(l, EVK_ERROR_LIMIT_EXCEEDED,
                                  "a constant of more than 2^20 "
                                  "elements or a negative dimension");
        t->dims[d] = dims[d];
        t->count *= (uint64_t)dims[d];
    }
    t->data_type = floats ? EVK_ONNX_FLOAT : EVK_ONNX_INT64;
    void *values = evk_ir_keep(l->g, (size_t)t->count * 8);
    if (!values)
        return evk_fail_oom(l->g->ctx, "ONNX constant");
    if (floats)
        t->floats = values;
    else
        t->ints = values;
    uint32_t v;
    evk_status s = evk_lower_output(l, 0, &v);
    if (s == EVK_SUCCESS)
        l->g->values[v].constant = t;
    *out = t;
    return s;
}

static const evk_onnx_tensor *constant_input(lowering *l, uint32_t index)
{
    uint32_t v;
    if (evk_lower_input(l, index, 0, &v) != EVK_SUCCESS || v == IR_NONE)
        return NULL;
    return l->g->values[v].constant;
}

/* Whether every present input of the node is a constant. */
static int inputs_constant(lowering *l)
{
    const evk_onnx_node *n = &l->g->onnx->nodes[l->node];
    for (uint32_t i = 0; i < n->input_count; ++i) {
        if (!n->inputs[i][0])
            continue;
        uint32_t v = evk_lower_find(l, n->inputs[i]);
        if (v == IR_NONE || !l->g->values[v].constant)
            return 0;
    }
    return n->input_count > 0;
}

static int64_t element_int(const evk_onnx_tensor *t, uint64_t i)
{
    return t->ints ? t->ints[i] : (int64_t)t->floats[i];
}

static void copy_element(evk_onnx_tensor *to, uint64_t j, const evk_onnx_tensor *from, uint64_t i)
{
    if (to->floats)
        ((float *)to->floats)[j] = from->floats ? from->floats[i] : (float)from->ints[i];
    else
        ((int64_t *)to->ints)[j] = element_int(from, i);
}

static evk_status need_values(lowering *l, const evk_onnx_tensor *t, const char *what)
{
    if (!t->floats && !t->ints)
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED, "%s of type %s", what,
                              evk_onnx_type_name(t->data_type));
    return EVK_SUCCESS;
}

static evk_status lower_constant(lowering *l)
{
    static const char *const known[] = {"value",     "value_float", "value_floats",
                                        "value_int", "value_ints",  NULL};
    evk_status s = evk_lower_attributes(l, known);
    if (s != EVK_SUCCESS)
        return s;
    const evk_onnx_node *n = &l->g->onnx->nodes[l->node];
    if (n->attribute_count != 1)
        return evk_lower_fail(l, EVK_ERROR_INVALID_ARGUMENT, "needs exactly one value attribute");
    const evk_onnx_attribute *a = &n->attributes[0];
    if (a->type == EVK_ONNX_ATTR_TENSOR && a->t) {
        uint32_t v;
        s = evk_lower_output(l, 0, &v);
        if (s == EVK_SUCCESS)
            l->g->values[v].constant = a->t;
        return s;
    }
    int is_list = a->type == EVK_ONNX_ATTR_FLOATS || a->type == EVK_ONNX_ATTR_INTS;
    int64_t dims[1] = {is_list ? a->count : 1};
    int floats = a->type == EVK_ONNX_ATTR_FLOAT || a->type == EVK_ONNX_ATTR_FLOATS;
    evk_onnx_tensor *t;
    s = new_constant(l, is_list ? 1 : 0, dims, floats, &t);
    for (uint64_t i = 0; s == EVK_SUCCESS && i < t->count; ++i) {
        if (floats)
            ((float *)t->floats)[i] = is_list ? a->floats[i] : a->f;
        else
            ((int64_t *)t->ints)[i] = is_list ? a->ints[i] : a->i;
    }
    return s;
}

static evk_status lower_shape(lowering *l)
{
    static const char *const known[] = {"start", "end", NULL};
    evk_status s = evk_lower_attributes(l, known);
    uint32_t v;
    if (s == EVK_SUCCESS)
        s = evk_lower_input(l, 0, 1, &v);
    if (s != EVK_SUCCESS)
        return s;
    const ir_value *x = &l->g->values[v];
    int64_t dims[4] = {0};
    uint32_t rank = x->constant ? x->constant->rank : x->rank;
    if (x->constant)
        memcpy(dims, x->constant->dims, sizeof(int64_t) * (rank < 4 ? rank : 4));
    else
        memcpy(dims, (int64_t[4]){x->shape.n, x->shape.c, x->shape.h, x->shape.w}, sizeof dims);
    if (rank > 4)
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED, "the shape of a %u-D constant", rank);
    const evk_onnx_attribute *a = evk_onnx_attribute_find(&l->g->onnx->nodes[l->node], "start");
    const evk_onnx_attribute *b = evk_onnx_attribute_find(&l->g->onnx->nodes[l->node], "end");
    int64_t start = a ? a->i : 0, end = b ? b->i : rank;
    start = start < 0 ? start + rank : start;
    end = end < 0 ? end + rank : end;
    start = start < 0 ? 0 : start > rank ? rank : start;
    end = end < start ? start : end > rank ? rank : end;
    int64_t count[1] = {end - start};
    evk_onnx_tensor *t;
    s = new_constant(l, 1, count, 0, &t);
    for (int64_t i = 0; s == EVK_SUCCESS && i < count[0]; ++i)
        ((int64_t *)t->ints)[i] = dims[start + i];
    return s;
}

/* Gather along axis 0 of a 1-D constant (a shape's dimension). */
static evk_status lower_gather(lowering *l)
{
    static const char *const known[] = {"axis", NULL};
    evk_status s = evk_lower_attributes(l, known);
    const evk_onnx_tensor *data = constant_input(l, 0), *indices = constant_input(l, 1);
    const evk_onnx_attribute *axis = evk_onnx_attribute_find(&l->g->onnx->nodes[l->node], "axis");
    if (s == EVK_SUCCESS &&
        (data->rank != 1 || (axis && axis->i != 0) || indices->rank > 1 || !indices->ints))
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                              "a Gather of constants other than "
                              "integer indices into a 1-D tensor along axis 0");
    if (s == EVK_SUCCESS)
        s = need_values(l, data, "a Gather of data");
    evk_onnx_tensor *t;
    int64_t dims[1] = {indices->rank ? indices->dims[0] : 1};
    if (s == EVK_SUCCESS)
        s = new_constant(l, indices->rank, dims, data->floats != NULL, &t);
    for (uint64_t i = 0; s == EVK_SUCCESS && i < t->count; ++i) {
        int64_t k = indices->ints[i] < 0 ? indices->ints[i] + data->dims[0] : indices->ints[i];
        if (k < 0 || k >= data->dims[0])
            return evk_lower_fail(l, EVK_ERROR_INVALID_ARGUMENT,
                                  "index %lld is outside the %lld "
                                  "elements",
                                  (long long)indices->ints[i], (long long)data->dims[0]);
        copy_element(t, i, data, (uint64_t)k);
    }
    return s;
}

evk_status evk_lower_axes(lowering *l, const int64_t **axes, uint32_t *count)
{
    const evk_onnx_attribute *a = evk_onnx_attribute_find(&l->g->onnx->nodes[l->node], "axes");
    if (a) {
        *axes = a->ints;
        *count = a->count;
        return EVK_SUCCESS;
    }
    uint32_t v = IR_NONE;
    evk_status s = evk_lower_input(l, 1, 0, &v);
    const evk_onnx_tensor *t = v != IR_NONE ? l->g->values[v].constant : NULL;
    *axes = t ? t->ints : NULL;
    *count = t && t->ints ? (uint32_t)t->count : 0;
    if (s == EVK_SUCCESS && v != IR_NONE && (!t || !t->ints))
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED, "axes must be integer constants");
    return s;
}

/* Unsqueeze, Squeeze and Reshape of a constant: the same values, new dims. */
static evk_status lower_reshape_constant(lowering *l, const char *op)
{
    const evk_onnx_tensor *data = constant_input(l, 0);
    evk_status s = need_values(l, data, "a reshape of data");
    int64_t dims[EVK_ONNX_MAX_DIMS];
    uint32_t rank = 0;
    const int64_t *axes = NULL;
    uint32_t axis_count = 0;
    if (s == EVK_SUCCESS && strcmp(op, "Reshape") != 0)
        s = evk_lower_axes(l, &axes, &axis_count);
    if (s != EVK_SUCCESS)
        return s;
    if (strcmp(op, "Unsqueeze") == 0) {
        uint32_t out_rank = data->rank + axis_count, next = 0;
        if (out_rank > EVK_ONNX_MAX_DIMS)
            return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED, "more than %d dimensions",
                                  EVK_ONNX_MAX_DIMS);
        for (uint32_t d = 0; d < out_rank; ++d) {
            int inserted = 0;
            for (uint32_t a = 0; a < axis_count; ++a)
                inserted |= axes[a] == d || axes[a] + (int64_t)out_rank == d;
            dims[rank++] = inserted ? 1 : data->dims[next++];
        }
        if (next != data->rank)
            return evk_lower_fail(l, EVK_ERROR_INVALID_ARGUMENT, "axes out of range");
    } else if (strcmp(op, "Squeeze") == 0) {
        for (uint32_t d = 0; d < data->rank; ++d) {
            int removed = axis_count == 0 && data->dims[d] == 1;
            for (uint32_t a = 0; a < axis_count; ++a)
                removed |= axes[a] == d || axes[a] + (int64_t)data->rank == d;
            if (!removed)
                dims[rank++] = data->dims[d];
        }
    } else {
        const evk_onnx_tensor *shape = constant_input(l, 1);
        if (!shape || !shape->ints || shape->rank != 1 || shape->count > EVK_ONNX_MAX_DIMS)
            return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                                  "a shape that is not a constant "
                                  "1-D integer tensor");
        uint64_t known = 1;
        int infer = -1;
        for (uint32_t d = 0; d < shape->count; ++d) {
            dims[rank] = shape->ints[d] == 0 && d < data->rank ? data->dims[d] : shape->ints[d];
            if (dims[rank] == -1)
                infer = (int)rank;
            else if (dims[rank] <= 0)
                return evk_lower_fail(l, EVK_ERROR_INVALID_ARGUMENT, "dimension %lld",
                                      (long long)dims[rank]);
            else
                known *= (uint64_t)dims[rank];
            rank++;
        }
        if (infer >= 0)
            dims[infer] = known ? (int64_t)(data->count / known) : 0;
    }
    evk_onnx_tensor *t;
    s = new_constant(l, rank, dims, data->floats != NULL, &t);
    if (s == EVK_SUCCESS && t->count != data->count)
        return evk_lower_fail(l, EVK_ERROR_SHAPE_MISMATCH, "%llu elements reshaped to %llu",
                              (unsigned long long)data->count, (unsigned long long)t->count);
    for (uint64_t i = 0; s == EVK_SUCCESS && i < t->count; ++i)
        copy_element(t, i, data, i);
    return s;
}

static evk_status lower_concat_constants(lowering *l)
{
    const evk_onnx_node *n = &l->g->onnx->nodes[l->node];
    int64_t total[1] = {0};
    int floats = 0;
    for (uint32_t i = 0; i < n->input_count; ++i) {
        const evk_onnx_tensor *t = constant_input(l, i);
        if (!t || t->rank != 1)
            return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                                  "a Concat of constants that are not "
                                  "all 1-D");
        evk_status s = need_values(l, t, "a Concat of data");
        if (s != EVK_SUCCESS)
            return s;
        floats |= t->floats != NULL;
        total[0] += t->dims[0];
    }
    evk_onnx_tensor *out;
    evk_status s = new_constant(l, 1, total, floats, &out);
    uint64_t at = 0;
    for (uint32_t i = 0; s == EVK_SUCCESS && i < n->input_count; ++i) {
        const evk_onnx_tensor *t = constant_input(l, i);
        for (uint64_t j = 0; j < t->count; ++j)
            copy_element(out, at++, t, j);
    }
    return s;
}

/* The row-major strides of a constant's dims. */
static void strides_of(const evk_onnx_tensor *t, uint64_t *stride)
{
    uint64_t step = 1;
    for (uint32_t d = t->rank; d-- > 0;) {
        stride[d] = step;
        step *= (uint64_t)t->dims[d];
    }
}

/* Copies into `out` (of data's rank), in row-major order, the elements of
 * `data` at offset sum over d of (first[d] + i_d * step[d]) * stride[d]
 * for out's index (i_0, ...): a Slice with data's strides, a Transpose
 * with them permuted. */
static void gather_strided(evk_onnx_tensor *out, const evk_onnx_tensor *data, const int64_t *first,
                           const int64_t *step, const uint64_t *data_stride)
{
    uint32_t r = data->rank;
    int64_t index[EVK_ONNX_MAX_DIMS] = {0};
    for (uint64_t j = 0; j < out->count; ++j) {
        uint64_t from = 0;
        for (uint32_t d = 0; d < r; ++d)
            from += (uint64_t)(first[d] + index[d] * step[d]) * data_stride[d];
        copy_element(out, j, data, from);
        for (uint32_t d = r; d-- > 0;) {
            if (++index[d] < out->dims[d])
                break;
            index[d] = 0;
        }
    }
}

/* Slice of a constant (any rank, any steps, as ONNX clamps them). */
static evk_status lower_slice_constant(lowering *l)
{
    const evk_onnx_tensor *data = constant_input(l, 0), *starts = constant_input(l, 1),
                          *ends = constant_input(l, 2), *axes = constant_input(l, 3),
                          *steps = constant_input(l, 4);
    if (l->opset < 10 || !starts || !ends || !starts->ints || !ends->ints ||
        starts->count != ends->count || (axes && (!axes->ints || axes->count != starts->count)) ||
        (steps && (!steps->ints || steps->count != starts->count)))
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                              "a Slice of constants without integer starts and ends of one "
                              "length (and axes and steps of it)");
    evk_status s = need_values(l, data, "a Slice of data");
    if (s != EVK_SUCCESS)
        return s;
    uint32_t r = data->rank;
    int64_t first[EVK_ONNX_MAX_DIMS], step[EVK_ONNX_MAX_DIMS], dims[EVK_ONNX_MAX_DIMS];
    for (uint32_t d = 0; d < r; ++d) {
        first[d] = 0;
        step[d] = 1;
        dims[d] = data->dims[d];
    }
    for (uint64_t i = 0; i < starts->count; ++i) {
        int64_t axis = axes ? axes->ints[i] : (int64_t)i;
        axis = axis < 0 ? axis + r : axis;
        int64_t k = steps ? steps->ints[i] : 1;
        if (axis < 0 || axis >= r || k == 0)
            return evk_lower_fail(l, EVK_ERROR_INVALID_ARGUMENT,
                                  "axis %lld or step %lld of a %u-D constant",
                                  (long long)(axes ? axes->ints[i] : (int64_t)i), (long long)k, r);
        int64_t size = data->dims[axis], begin = starts->ints[i], end = ends->ints[i];
        begin = begin < 0 ? begin + size : begin;
        end = end < 0 ? end + size : end;
        /* ONNX clamps a negative step's start to [0, size − 1] and its end
         * to [−1, size − 1]; a positive one's to [0, size]. */
        int64_t high = k > 0 ? size : size - 1, low_end = k > 0 ? 0 : -1;
        begin = begin < 0 ? 0 : begin > high ? high : begin;
        end = end < low_end ? low_end : end > high ? high : end;
        int64_t span = k > 0 ? end - begin : begin - end, stride = k > 0 ? k : -k;
        first[axis] = begin;
        step[axis] = k;
        dims[axis] = span > 0 ? (span + stride - 1) / stride : 0;
    }
    evk_onnx_tensor *t;
    s = new_constant(l, r, dims, data->floats != NULL, &t);
    if (s == EVK_SUCCESS) {
        uint64_t stride[EVK_ONNX_MAX_DIMS];
        strides_of(data, stride);
        gather_strided(t, data, first, step, stride);
    }
    return s;
}

/* Transpose of a constant by `perm` (reversed dims without it). */
static evk_status lower_transpose_constant(lowering *l)
{
    static const char *const known[] = {"perm", NULL};
    const evk_onnx_tensor *data = constant_input(l, 0);
    evk_status s = evk_lower_attributes(l, known);
    if (s == EVK_SUCCESS)
        s = need_values(l, data, "a Transpose of data");
    if (s != EVK_SUCCESS)
        return s;
    const evk_onnx_attribute *perm = evk_lower_attribute(l, "perm");
    uint32_t r = data->rank, seen = 0;
    int64_t axis_of[EVK_ONNX_MAX_DIMS], dims[EVK_ONNX_MAX_DIMS];
    if (perm && perm->count != r)
        return evk_lower_fail(l, EVK_ERROR_INVALID_ARGUMENT, "perm of %u axes for a %u-D constant",
                              perm->count, r);
    for (uint32_t d = 0; d < r; ++d) {
        axis_of[d] = perm ? perm->ints[d] : (int64_t)(r - 1 - d);
        if (axis_of[d] < 0 || axis_of[d] >= r || (seen >> axis_of[d] & 1))
            return evk_lower_fail(l, EVK_ERROR_INVALID_ARGUMENT, "perm is not a permutation");
        seen |= 1u << axis_of[d];
        dims[d] = data->dims[axis_of[d]];
    }
    evk_onnx_tensor *t;
    s = new_constant(l, r, dims, data->floats != NULL, &t);
    if (s == EVK_SUCCESS) {
        uint64_t stride[EVK_ONNX_MAX_DIMS], permuted[EVK_ONNX_MAX_DIMS];
        int64_t zero[EVK_ONNX_MAX_DIMS] = {0}, one[EVK_ONNX_MAX_DIMS];
        strides_of(data, stride);
        for (uint32_t d = 0; d < r; ++d) {
            permuted[d] = stride[axis_of[d]];
            one[d] = 1;
        }
        gather_strided(t, data, zero, one, permuted);
    }
    return s;
}

/* A constant of the dims an integer constant gives, every element
 * `value`'s one (float 0 without it). */
static evk_status lower_constant_of_shape(lowering *l)
{
    static const char *const known[] = {"value", NULL};
    const evk_onnx_tensor *shape = constant_input(l, 0);
    evk_status s = evk_lower_attributes(l, known);
    if (s != EVK_SUCCESS)
        return s;
    const evk_onnx_attribute *a = evk_lower_attribute(l, "value");
    const evk_onnx_tensor *value = a ? a->t : NULL;
    if (!shape->ints || shape->rank != 1 || shape->count > EVK_ONNX_MAX_DIMS ||
        (a && (!value || value->count != 1 || (!value->floats && !value->ints))))
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                              "a shape that is not a 1-D integer constant of at most %d dims, "
                              "or a value that is not one number",
                              EVK_ONNX_MAX_DIMS);
    evk_onnx_tensor *t;
    s = new_constant(l, (uint32_t)shape->count, shape->ints, !value || value->floats, &t);
    for (uint64_t i = 0; s == EVK_SUCCESS && i < t->count; ++i) {
        if (value)
            copy_element(t, i, value, 0);
        else
            ((float *)t->floats)[i] = 0.0f;
    }
    return s;
}

static evk_status lower_cast(lowering *l)
{
    static const char *const known[] = {"to", "saturate", NULL};
    evk_status s = evk_lower_attributes(l, known);
    const evk_onnx_tensor *data = constant_input(l, 0);
    const evk_onnx_attribute *to = evk_onnx_attribute_find(&l->g->onnx->nodes[l->node], "to");
    if (s == EVK_SUCCESS)
        s = need_values(l, data, "a Cast of data");
    if (s != EVK_SUCCESS)
        return s;
    int floats = to &&
        (to->i == EVK_ONNX_FLOAT || to->i == EVK_ONNX_DOUBLE || to->i == EVK_ONNX_FLOAT16 ||
         to->i == EVK_ONNX_BFLOAT16);
    evk_onnx_tensor *t;
    s = new_constant(l, data->rank, data->dims, floats, &t);
    for (uint64_t i = 0; s == EVK_SUCCESS && i < t->count; ++i)
        copy_element(t, i, data, i);
    return s;
}

evk_status evk_lower_constant_op(lowering *l)
{
    const char *op = l->g->onnx->nodes[l->node].op_type;
    if (strcmp(op, "Constant") == 0)
        return lower_constant(l);
    if (strcmp(op, "Shape") == 0)
        return lower_shape(l);
    if (!inputs_constant(l))
        return EVK_LOWER_NOT_MINE;
    if (!constant_input(l, 0))
        return evk_lower_fail(l, EVK_ERROR_INVALID_ARGUMENT, "input 0 is missing");
    if (strcmp(op, "Gather") == 0 && !constant_input(l, 1))
        return evk_lower_fail(l, EVK_ERROR_INVALID_ARGUMENT, "the indices are missing");
    if (strcmp(op, "Gather") == 0)
        return lower_gather(l);
    if (strcmp(op, "Unsqueeze") == 0 || strcmp(op, "Squeeze") == 0 || strcmp(op, "Reshape") == 0)
        return lower_reshape_constant(l, op);
    if (strcmp(op, "Concat") == 0)
        return lower_concat_constants(l);
    if (strcmp(op, "Slice") == 0)
        return lower_slice_constant(l);
    if (strcmp(op, "Transpose") == 0)
        return lower_transpose_constant(l);
    if (strcmp(op, "ConstantOfShape") == 0)
        return lower_constant_of_shape(l);
    if (strcmp(op, "Cast") == 0)
        return lower_cast(l);
    if (strcmp(op, "Identity") == 0) {
        uint32_t v;
        evk_status s = evk_lower_input(l, 0, 1, &v);
        return s == EVK_SUCCESS ? evk_lower_alias(l, v) : s;
    }
    return EVK_LOWER_NOT_MINE;
}
