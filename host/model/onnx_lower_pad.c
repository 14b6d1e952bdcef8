/* ONNX's Pad with zeros around H and W: a depthwise 1x1 conv of ones with
 * that padding, which the fusion passes fold into the conv that reads it
 * (onnx_fuse.c). Other modes and values are refused by name. */
#include <string.h>

#include "onnx_lower_ops.h"

/* Pad's pads (begin then end, per axis of `axes` or of all four) from the
 * attribute before opset 11 or the integer-constant input; *count is the
 * number of axes. */
static evk_status pad_amounts(lowering *l, int64_t *pads, uint32_t *axis_of, uint32_t *count)
{
    const int64_t *given = NULL, *axes = NULL;
    uint64_t n = 0, axis_count = 4;
    if (l->opset < 11) {
        const evk_onnx_attribute *a = evk_lower_attribute(l, "pads");
        if (l->opset < 2 || !a)
            return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                                  "Pad without the pads attribute "
                                  "(opset 1's paddings)");
        given = a->ints;
        n = a->count;
    } else {
        uint32_t in[2] = {IR_NONE, IR_NONE};
        evk_status s = evk_lower_input(l, 1, 1, &in[0]);
        if (s == EVK_SUCCESS)
            s = evk_lower_input(l, 3, 0, &in[1]);
        if (s != EVK_SUCCESS)
            return s;
        for (uint32_t i = 0; i < 2; ++i) {
            const evk_onnx_tensor *t = in[i] != IR_NONE ? l->g->values[in[i]].constant : NULL;
            if (in[i] != IR_NONE && (!t || !t->ints))
                return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                                      "pads and axes that are not integer constants");
            if (t && i == 0) {
                given = t->ints;
                n = t->count;
            } else if (t) {
                axes = t->ints;
                axis_count = t->count;
            }
        }
    }
    if (axis_count > 4 || n != 2 * axis_count)
        return evk_lower_fail(l, EVK_ERROR_INVALID_ARGUMENT,
                              "%llu pads for %llu axes of a 4-D input", (unsigned long long)n,
                              (unsigned long long)axis_count);
    for (uint32_t i = 0; i < axis_count; ++i) {
        int64_t axis = axes ? (axes[i] < 0 ? axes[i] + 4 : axes[i]) : i;
        if (axis < 0 || axis > 3)
            return evk_lower_fail(l, EVK_ERROR_INVALID_ARGUMENT, "axis %lld of a 4-D input",
                                  (long long)axes[i]);
        axis_of[i] = (uint32_t)axis;
        pads[i] = given[i];
        pads[axis_count + i] = given[axis_count + i];
    }
    *count = (uint32_t)axis_count;
    return EVK_SUCCESS;
}

evk_status evk_lower_pad(lowering *l)
{
    /* From opset 11 the pads and the value are inputs. */
    static const char *const before_11[] = {"pads", "value", "mode", NULL};
    static const char *const from_11[] = {"mode", NULL};
    uint32_t xv;
    evk_status s = evk_lower_attributes(l, l->opset < 11 ? before_11 : from_11);
    if (s == EVK_SUCCESS)
        s = evk_lower_value_input(l, 0, 4, &xv);
    if (s != EVK_SUCCESS)
        return s;
    const char *mode = evk_lower_string_attribute(l, "mode", "constant");
    if (strcmp(mode, "constant") != 0)
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED, "mode '%s' (only constant)", mode);
    float value = evk_lower_float_attribute(l, "value", 0.0f);
    if (l->opset >= 11) {
        uint32_t v = IR_NONE;
        s = evk_lower_input(l, 2, 0, &v);
        if (s != EVK_SUCCESS)
            return s;
        const evk_onnx_tensor *t = v != IR_NONE ? l->g->values[v].constant : NULL;
        if (v != IR_NONE && (!t || !t->floats || t->count != 1))
            return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                                  "a constant_value that is not one float constant");
        value = t ? t->floats[0] : 0.0f;
    }
    if (value != 0.0f)
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED, "constant value %g (only 0)",
                              (double)value);
    int64_t pads[8];
    uint32_t axis_of[4], count = 0;
    s = pad_amounts(l, pads, axis_of, &count);
    if (s != EVK_SUCCESS)
        return s;
    int64_t begin[4] = {0}, end[4] = {0}, any = 0;
    for (uint32_t i = 0; i < count; ++i) {
        begin[axis_of[i]] = pads[i];
        end[axis_of[i]] = pads[count + i];
        any |= pads[i] | pads[count + i];
    }
    for (uint32_t a = 0; a < 4; ++a)
        if ((a < 2 && (begin[a] || end[a])) || begin[a] < 0 || end[a] < 0 || begin[a] > 1023 ||
            end[a] > 1023)
            return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                                  "pads %lld, %lld of axis %u (only 0 to 1023 rows and columns)",
                                  (long long)begin[a], (long long)end[a], a);
    if (!any)
        return evk_lower_alias(l, xv);
    evk_shape x = l->g->values[xv].shape;
    float *ones = evk_ir_floats(l->g, x.c);
    uint32_t op;
    if (!ones)
        return EVK_ERROR_OUT_OF_HOST_MEMORY;
    for (uint32_t c = 0; c < x.c; ++c)
        ones[c] = 1.0f;
    s = evk_lower_new_op(l, IR_CONV, xv, &op);
    if (s != EVK_SUCCESS)
        return s;
    l->g->ops[op].conv.desc = (evk_conv2d_desc){.in_channels = x.c,
                                                .out_channels = x.c,
                                                .kernel_h = 1,
                                                .kernel_w = 1,
                                                .pad_h = (uint32_t)begin[2],
                                                .pad_w = (uint32_t)begin[3],
                                                .pad_bottom_extra = (int32_t)(end[2] - begin[2]),
                                                .pad_right_extra = (int32_t)(end[3] - begin[3]),
                                                .groups = x.c,
                                                .weight = ones,
                                                .weight_count = x.c};
    evk_shape out = {x.n, x.c, (uint32_t)(x.h + begin[2] + end[2]),
                     (uint32_t)(x.w + begin[3] + end[3])};
    return evk_lower_set_output(l, op, out, 4);
}
