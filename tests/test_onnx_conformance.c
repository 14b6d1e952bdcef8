/* ONNX's own conformance node tests (Debian's libonnx-testdata: a model.onnx
 * and test_data_set_0/input_N.pb, output_0.pb per case) through the
 * importer on the device. The model's first graph input is the effvk
 * input; the others (a Conv's weights, a Clip's bounds) are bound as
 * constants from their input_N.pb, as an exporter would give them as
 * initializers.
 *
 * Elementwise cases whose data is not 4-D (ONNX's are mostly [3, 4, 5]),
 * whose meaning does not depend on the rank, run with the input's dims
 * prefixed by ones up to 4 (ELEMENTWISE_PREFIX before the case's name):
 * right-aligned broadcasting of their constants stays the same.
 *
 * SUPPORTED cases must load and match the expected output within
 * 1e-5 · max(1, |expected|) + 1e-6; REFUSED ones must fail at load with the
 * status listed and a message naming the operator or the attribute
 * (docs/onnx-conformance.md gives each reason).
 *
 * Usage: test_onnx_conformance (the cmocka tests), or
 *        test_onnx_conformance --survey DIR... (one line per case). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_io.h"
#include "model/onnx_build.h"
#include "test_util.h"

#define DATA "/usr/share/libonnx-testdata/data/"
#define MAX_INPUTS 8
#define ELEMENTWISE_PREFIX "as4d:"

typedef struct refused_case {
    const char *dir;
    evk_status status;
    const char *named;              /* the message must contain it */
} refused_case;

static const char *const supported[] = {
    "as4d:node/test_add",
    "as4d:node/test_add_bcast",
    "as4d:node/test_clip",
    "as4d:node/test_clip_default_inbounds",
    "as4d:node/test_clip_default_max",
    "as4d:node/test_clip_default_min",
    "as4d:node/test_clip_example",
    "as4d:node/test_clip_inbounds",
    "as4d:node/test_clip_outbounds",
    "as4d:node/test_clip_splitbounds",
    "as4d:node/test_hardsigmoid",
    "as4d:node/test_hardsigmoid_default",
    "as4d:node/test_hardsigmoid_example",
    "as4d:node/test_hardswish",
    "as4d:node/test_hardswish_expanded",
    "as4d:node/test_mul",
    "as4d:node/test_mul_bcast",
    "as4d:node/test_mul_example",
    "as4d:node/test_relu",
    "as4d:node/test_sigmoid",
    "as4d:node/test_sigmoid_example",
    "node/test_averagepool_2d_ceil",
    "node/test_averagepool_2d_default",
    "node/test_averagepool_2d_pads",
    "node/test_averagepool_2d_pads_count_include_pad",
    "node/test_averagepool_2d_precomputed_pads",
    "node/test_averagepool_2d_precomputed_pads_count_include_pad",
    "node/test_averagepool_2d_precomputed_same_upper",
    "node/test_averagepool_2d_precomputed_strides",
    "node/test_averagepool_2d_same_lower",
    "node/test_averagepool_2d_same_upper",
    "node/test_averagepool_2d_strides",
    "node/test_basic_conv_with_padding",
    "node/test_basic_conv_without_padding",
    "node/test_batchnorm_epsilon",
    "node/test_batchnorm_example",
    "node/test_conv_with_autopad_same",
    "node/test_conv_with_strides_and_asymmetric_padding",
    "node/test_conv_with_strides_no_padding",
    "node/test_conv_with_strides_padding",
    "node/test_gemm_alpha",
    "node/test_gemm_beta",
    "node/test_gemm_default_no_bias",
    "node/test_gemm_default_scalar_bias",
    "node/test_gemm_default_single_elem_vector_bias",
    "node/test_gemm_default_vector_bias",
    "node/test_gemm_default_zero_bias",
    "node/test_gemm_transposeB",
    "node/test_globalaveragepool",
    "node/test_globalaveragepool_precomputed",
    "node/test_matmul_2d",
    "node/test_maxpool_2d_ceil",
    "node/test_maxpool_2d_default",
    "node/test_maxpool_2d_pads",
    "node/test_maxpool_2d_precomputed_pads",
    "node/test_maxpool_2d_precomputed_same_upper",
    "node/test_maxpool_2d_precomputed_strides",
    "node/test_maxpool_2d_same_lower",
    "node/test_maxpool_2d_same_upper",
    "node/test_maxpool_2d_strides",
    "node/test_resize_upsample_scales_nearest",
    "node/test_upsample_nearest",
    "pytorch-converted/test_AvgPool2d",
    "pytorch-converted/test_AvgPool2d_stride",
    "pytorch-converted/test_BatchNorm2d_eval",
    "pytorch-converted/test_BatchNorm2d_momentum_eval",
    "pytorch-converted/test_Conv2d",
    "pytorch-converted/test_Conv2d_depthwise",
    "pytorch-converted/test_Conv2d_depthwise_padded",
    "pytorch-converted/test_Conv2d_depthwise_strided",
    "pytorch-converted/test_Conv2d_depthwise_with_multiplier",
    "pytorch-converted/test_Conv2d_groups",
    "pytorch-converted/test_Conv2d_groups_thnn",
    "pytorch-converted/test_Conv2d_no_bias",
    "pytorch-converted/test_Conv2d_padding",
    "pytorch-converted/test_Conv2d_strided",
    "pytorch-converted/test_Linear",
    "pytorch-converted/test_Linear_no_bias",
    "pytorch-converted/test_MaxPool2d",
    "pytorch-converted/test_ReLU",
    "pytorch-converted/test_Sigmoid",
    "pytorch-converted/test_ZeroPad2d",
    "pytorch-operator/test_operator_clip",
    "pytorch-operator/test_operator_conv",
    "pytorch-operator/test_operator_mm",
};

static const refused_case refused[] = {
    {"as4d:node/test_dropout_default", EVK_ERROR_UNSUPPORTED, "the input itself"},
    {"as4d:node/test_dropout_default_mask", EVK_ERROR_UNSUPPORTED, "Dropout"},
    {"as4d:node/test_dropout_default_mask_ratio", EVK_ERROR_UNSUPPORTED, "Dropout"},
    {"as4d:node/test_dropout_default_old", EVK_ERROR_UNSUPPORTED, "the input itself"},
    {"as4d:node/test_dropout_default_ratio", EVK_ERROR_UNSUPPORTED, "the input itself"},
    {"as4d:node/test_dropout_random_old", EVK_ERROR_UNSUPPORTED, "the input itself"},
    {"as4d:node/test_identity", EVK_ERROR_UNSUPPORTED, "the input itself"},
    {"node/test_batchnorm_epsilon_training_mode", EVK_ERROR_UNSUPPORTED, "BatchNormalization"},
    {"node/test_batchnorm_example_training_mode", EVK_ERROR_UNSUPPORTED, "BatchNormalization"},
    {"node/test_concat_2d_axis_0", EVK_ERROR_UNSUPPORTED, "Concat"},
    {"node/test_concat_2d_axis_1", EVK_ERROR_UNSUPPORTED, "Concat"},
    {"node/test_concat_2d_axis_negative_1", EVK_ERROR_UNSUPPORTED, "Concat"},
    {"node/test_concat_2d_axis_negative_2", EVK_ERROR_UNSUPPORTED, "Concat"},
    {"node/test_constant_pad", EVK_ERROR_UNSUPPORTED, "constant value"},
    {"node/test_convtranspose", EVK_ERROR_UNSUPPORTED, "ConvTranspose"},
    {"node/test_convtranspose_autopad_same", EVK_ERROR_UNSUPPORTED, "ConvTranspose"},
    {"node/test_convtranspose_dilations", EVK_ERROR_UNSUPPORTED, "ConvTranspose"},
    {"node/test_convtranspose_kernel_shape", EVK_ERROR_UNSUPPORTED, "ConvTranspose"},
    {"node/test_convtranspose_output_shape", EVK_ERROR_UNSUPPORTED, "ConvTranspose"},
    {"node/test_convtranspose_pad", EVK_ERROR_UNSUPPORTED, "ConvTranspose"},
    {"node/test_convtranspose_pads", EVK_ERROR_UNSUPPORTED, "ConvTranspose"},
    {"node/test_convtranspose_with_kernel", EVK_ERROR_UNSUPPORTED, "ConvTranspose"},
    {"node/test_flatten_axis0", EVK_ERROR_UNSUPPORTED, "Flatten"},
    {"node/test_flatten_axis1", EVK_ERROR_UNSUPPORTED, "Flatten"},
    {"node/test_flatten_axis2", EVK_ERROR_UNSUPPORTED, "Flatten"},
    {"node/test_flatten_axis3", EVK_ERROR_UNSUPPORTED, "Flatten"},
    {"node/test_flatten_default_axis", EVK_ERROR_UNSUPPORTED, "Flatten"},
    {"node/test_flatten_negative_axis1", EVK_ERROR_UNSUPPORTED, "Flatten"},
    {"node/test_flatten_negative_axis2", EVK_ERROR_UNSUPPORTED, "Flatten"},
    {"node/test_flatten_negative_axis3", EVK_ERROR_UNSUPPORTED, "Flatten"},
    {"node/test_flatten_negative_axis4", EVK_ERROR_UNSUPPORTED, "Flatten"},
    {"node/test_gemm_all_attributes", EVK_ERROR_UNSUPPORTED, "Gemm"},
    {"node/test_gemm_default_matrix_bias", EVK_ERROR_UNSUPPORTED, "Gemm"},
    {"node/test_gemm_transposeA", EVK_ERROR_UNSUPPORTED, "Gemm"},
    {"node/test_matmul_4d", EVK_ERROR_UNSUPPORTED, "MatMul"},
    {"node/test_maxpool_2d_dilations", EVK_ERROR_UNSUPPORTED, "MaxPool"},
    {"node/test_maxpool_with_argmax_2d_precomputed_pads", EVK_ERROR_UNSUPPORTED, "MaxPool"},
    {"node/test_maxpool_with_argmax_2d_precomputed_strides", EVK_ERROR_UNSUPPORTED, "MaxPool"},
    {"node/test_resize_downsample_scales_cubic", EVK_ERROR_UNSUPPORTED, "Resize"},
    {"node/test_resize_downsample_scales_cubic_A_n0p5_exclude_outside", EVK_ERROR_UNSUPPORTED, "Resize"},
    {"node/test_resize_downsample_scales_cubic_align_corners", EVK_ERROR_UNSUPPORTED, "Resize"},
    {"node/test_resize_downsample_scales_linear", EVK_ERROR_UNSUPPORTED, "Resize"},
    {"node/test_resize_downsample_scales_linear_align_corners", EVK_ERROR_UNSUPPORTED, "Resize"},
    {"node/test_resize_downsample_scales_nearest", EVK_ERROR_UNSUPPORTED, "Resize"},
    {"node/test_resize_downsample_sizes_cubic", EVK_ERROR_UNSUPPORTED, "Resize"},
    {"node/test_resize_downsample_sizes_linear_pytorch_half_pixel", EVK_ERROR_UNSUPPORTED, "Resize"},
    {"node/test_resize_downsample_sizes_nearest", EVK_ERROR_UNSUPPORTED, "Resize"},
    {"node/test_resize_downsample_sizes_nearest_tf_half_pixel_for_nn", EVK_ERROR_UNSUPPORTED, "Resize"},
    {"node/test_resize_tf_crop_and_resize", EVK_ERROR_UNSUPPORTED, "Resize"},
    {"node/test_resize_upsample_scales_cubic", EVK_ERROR_UNSUPPORTED, "Resize"},
    {"node/test_resize_upsample_scales_cubic_A_n0p5_exclude_outside", EVK_ERROR_UNSUPPORTED, "Resize"},
    {"node/test_resize_upsample_scales_cubic_align_corners", EVK_ERROR_UNSUPPORTED, "Resize"},
    {"node/test_resize_upsample_scales_cubic_asymmetric", EVK_ERROR_UNSUPPORTED, "Resize"},
    {"node/test_resize_upsample_scales_linear", EVK_ERROR_UNSUPPORTED, "Resize"},
    {"node/test_resize_upsample_scales_linear_align_corners", EVK_ERROR_UNSUPPORTED, "Resize"},
    {"node/test_resize_upsample_sizes_cubic", EVK_ERROR_UNSUPPORTED, "Resize"},
    {"node/test_resize_upsample_sizes_nearest", EVK_ERROR_UNSUPPORTED, "Resize"},
    {"node/test_resize_upsample_sizes_nearest_ceil_half_pixel", EVK_ERROR_UNSUPPORTED, "Resize"},
    {"node/test_resize_upsample_sizes_nearest_floor_align_corners", EVK_ERROR_UNSUPPORTED, "Resize"},
    {"node/test_resize_upsample_sizes_nearest_round_prefer_ceil_asymmetric", EVK_ERROR_UNSUPPORTED, "Resize"},
    {"node/test_squeeze", EVK_ERROR_UNSUPPORTED, "Squeeze"},
    {"node/test_squeeze_negative_axes", EVK_ERROR_UNSUPPORTED, "Squeeze"},
    {"node/test_unsqueeze_negative_axes", EVK_ERROR_UNSUPPORTED, "Unsqueeze"},
    {"pytorch-converted/test_ConstantPad2d", EVK_ERROR_UNSUPPORTED, "constant value"},
    {"pytorch-converted/test_Conv2d_dilated", EVK_ERROR_UNSUPPORTED, "Conv"},
    {"pytorch-converted/test_ConvTranspose2d", EVK_ERROR_UNSUPPORTED, "ConvTranspose"},
    {"pytorch-converted/test_ConvTranspose2d_no_bias", EVK_ERROR_UNSUPPORTED, "ConvTranspose"},
    {"pytorch-converted/test_GLU", EVK_ERROR_UNSUPPORTED, "Split"},
    {"pytorch-converted/test_LogSoftmax", EVK_ERROR_UNSUPPORTED, "LogSoftmax"},
    {"pytorch-converted/test_MaxPool2d_stride_padding_dilation", EVK_ERROR_UNSUPPORTED, "MaxPool"},
    {"pytorch-converted/test_PReLU_2d", EVK_ERROR_UNSUPPORTED, "PRelu"},
    {"pytorch-converted/test_PReLU_2d_multiparam", EVK_ERROR_UNSUPPORTED, "PRelu"},
    {"pytorch-converted/test_PixelShuffle", EVK_ERROR_UNSUPPORTED, "Reshape"},
    {"pytorch-converted/test_PoissonNLLLLoss_no_reduce", EVK_ERROR_UNSUPPORTED, "Exp"},
    {"pytorch-converted/test_ReflectionPad2d", EVK_ERROR_UNSUPPORTED, "mode 'reflect'"},
    {"pytorch-converted/test_ReplicationPad2d", EVK_ERROR_UNSUPPORTED, "mode 'edge'"},
    {"pytorch-converted/test_Softmax", EVK_ERROR_UNSUPPORTED, "Softmax"},
    {"pytorch-converted/test_Softmin", EVK_ERROR_UNSUPPORTED, "Neg"},
    {"pytorch-converted/test_Softplus", EVK_ERROR_UNSUPPORTED, "Softplus"},
    {"pytorch-converted/test_Tanh", EVK_ERROR_UNSUPPORTED, "Tanh"},
    {"pytorch-converted/test_log_softmax_dim3", EVK_ERROR_UNSUPPORTED, "LogSoftmax"},
    {"pytorch-converted/test_log_softmax_lastdim", EVK_ERROR_UNSUPPORTED, "LogSoftmax"},
    {"pytorch-converted/test_softmax_functional_dim3", EVK_ERROR_UNSUPPORTED, "Softmax"},
    {"pytorch-converted/test_softmax_lastdim", EVK_ERROR_UNSUPPORTED, "Softmax"},
    {"pytorch-operator/test_operator_add_size1_broadcast", EVK_ERROR_UNSUPPORTED, "DOUBLE"},
    {"pytorch-operator/test_operator_addmm", EVK_ERROR_UNSUPPORTED, "Gemm"},
    {"pytorch-operator/test_operator_concat2", EVK_ERROR_UNSUPPORTED, "Concat"},
    {"pytorch-operator/test_operator_convtranspose", EVK_ERROR_UNSUPPORTED, "ConvTranspose"},
    {"pytorch-operator/test_operator_exp", EVK_ERROR_UNSUPPORTED, "Exp"},
    {"pytorch-operator/test_operator_flatten", EVK_ERROR_UNSUPPORTED, "Flatten"},
    {"pytorch-operator/test_operator_index", EVK_ERROR_UNSUPPORTED, "Slice"},
    {"pytorch-operator/test_operator_max", EVK_ERROR_UNSUPPORTED, "Max"},
    {"pytorch-operator/test_operator_min", EVK_ERROR_UNSUPPORTED, "Min"},
    {"pytorch-operator/test_operator_pad", EVK_ERROR_UNSUPPORTED, "mode 'reflect'"},
    {"pytorch-operator/test_operator_params", EVK_ERROR_UNSUPPORTED, "Tanh"},
    {"pytorch-operator/test_operator_pow", EVK_ERROR_UNSUPPORTED, "Pow"},
    {"pytorch-operator/test_operator_reduced_mean", EVK_ERROR_UNSUPPORTED, "ReduceMean"},
    {"pytorch-operator/test_operator_reduced_mean_keepdim", EVK_ERROR_UNSUPPORTED, "ReduceMean"},
    {"pytorch-operator/test_operator_reduced_sum", EVK_ERROR_UNSUPPORTED, "ReduceSum"},
    {"pytorch-operator/test_operator_reduced_sum_keepdim", EVK_ERROR_UNSUPPORTED, "ReduceSum"},
    {"pytorch-operator/test_operator_repeat", EVK_ERROR_UNSUPPORTED, "Tile"},
    {"pytorch-operator/test_operator_repeat_dim_overflow", EVK_ERROR_UNSUPPORTED, "Reshape"},
    {"pytorch-operator/test_operator_selu", EVK_ERROR_UNSUPPORTED, "Selu"},
    {"pytorch-operator/test_operator_sqrt", EVK_ERROR_UNSUPPORTED, "Sqrt"},
    {"pytorch-operator/test_operator_symbolic_override", EVK_ERROR_UNSUPPORTED, "InstanceNormalization"},
};

typedef struct loaded_case {
    evk_onnx_model *model;
    evk_onnx_model *owners[MAX_INPUTS];
    evk_onnx_tensor inputs[MAX_INPUTS];
    uint32_t input_count;
    const evk_onnx_tensor *expected;
    evk_onnx_model *expected_owner;
    evk_onnx_model as4d;            /* the model with its input's rank raised */
    evk_onnx_value_info as4d_inputs[MAX_INPUTS];
    char file[512];
} loaded_case;

static void free_case(loaded_case *c)
{
    evk_onnx_free(NULL, c->model);
    for (uint32_t i = 0; i < c->input_count; ++i)
        evk_onnx_free(NULL, c->owners[i]);
    evk_onnx_free(NULL, c->expected_owner);
    memset(c, 0, sizeof *c);
}

static evk_status read_tensor(const char *path, evk_onnx_model **owner, const evk_onnx_tensor **t)
{
    void *bytes = NULL;
    size_t size = 0;
    evk_status s = evk_file_read_all(NULL, path, 1u << 28, &bytes, &size);
    if (s == EVK_SUCCESS)
        s = evk_onnx_parse_tensor(NULL, bytes, size, path, owner, t);
    free(bytes);
    return s;
}

/* The data input as 1 x ... x dims, in the model's declared input too. */
static void raise_rank(loaded_case *c)
{
    evk_onnx_tensor *x = &c->inputs[0];
    uint32_t shift = 4 - x->rank;
    for (uint32_t d = 4; d-- > 0;)
        x->dims[d] = d >= shift ? x->dims[d - shift] : 1;
    x->rank = 4;
    c->as4d = *c->model;
    for (uint32_t i = 0; i < c->model->input_count && i < MAX_INPUTS; ++i) {
        c->as4d_inputs[i] = c->model->inputs[i];
        if (strcmp(c->as4d_inputs[i].name, x->name) != 0)
            continue;
        evk_onnx_value_info *v = &c->as4d_inputs[i];
        for (uint32_t d = 4; d-- > 0;) {
            v->dims[d] = d >= shift ? v->dims[d - shift] : 1;
            v->dim_params[d] = d >= shift ? v->dim_params[d - shift] : "";
        }
        v->rank = 4;
    }
    c->as4d.inputs = c->as4d_inputs;
}

/* The model and the first data set's inputs, the first graph input that
 * is no initializer first; EVK_ERROR_IO when a file is missing. */
static evk_status load_case(const char *name, loaded_case *c)
{
    memset(c, 0, sizeof *c);
    int as4d = strncmp(name, ELEMENTWISE_PREFIX, strlen(ELEMENTWISE_PREFIX)) == 0;
    const char *dir = as4d ? name + strlen(ELEMENTWISE_PREFIX) : name;
    snprintf(c->file, sizeof c->file, "%s/model.onnx", dir);
    void *bytes = NULL;
    size_t size = 0;
    evk_status s = evk_file_read_all(NULL, c->file, 1u << 28, &bytes, &size);
    if (s == EVK_SUCCESS)
        s = evk_onnx_parse(NULL, bytes, size, c->file, dir, &c->model);
    free(bytes);
    for (uint32_t i = 0; s == EVK_SUCCESS && i < c->model->input_count && i < MAX_INPUTS; ++i) {
        int initializer = 0;
        for (uint32_t k = 0; k < c->model->initializer_count; ++k)
            initializer |= strcmp(c->model->initializers[k].name, c->model->inputs[i].name) == 0;
        if (initializer)
            continue;
        char path[600];
        snprintf(path, sizeof path, "%s/test_data_set_0/input_%u.pb", dir, c->input_count);
        const evk_onnx_tensor *t;
        s = read_tensor(path, &c->owners[c->input_count], &t);
        if (s != EVK_SUCCESS)
            break;
        c->inputs[c->input_count] = *t;
        c->inputs[c->input_count].name = c->model->inputs[i].name;
        c->input_count++;
    }
    char path[600];
    snprintf(path, sizeof path, "%s/test_data_set_0/output_0.pb", dir);
    if (s == EVK_SUCCESS)
        s = read_tensor(path, &c->expected_owner, &c->expected);
    if (s == EVK_SUCCESS && as4d)
        raise_rank(c);
    return s;
}

/* Whether the case's data input is a 4-D float map or a 2-D matrix, which
 * effvk takes. */
static int in_scope(const loaded_case *c)
{
    return c->input_count > 0 && (c->inputs[0].rank == 4 || c->inputs[0].rank == 2) &&
           c->inputs[0].floats;
}

/* Loads and runs the case; *error is the largest |y - expected| over
 * (1e-5 · max(1, |expected|) + 1e-6). */
static evk_status run_case(evk_context *ctx, const loaded_case *c, double *error)
{
    const evk_onnx_tensor *x = &c->inputs[0];
    evk_model_options opts = {.batch = (uint32_t)x->dims[0],
                              .height = x->rank == 4 ? (uint32_t)x->dims[2] : 0,
                              .width = x->rank == 4 ? (uint32_t)x->dims[3] : 0};
    evk_model *m = NULL;
    const evk_onnx_model *model = c->as4d.inputs ? &c->as4d : c->model;
    evk_status s = evk_onnx_model_create(ctx, model, c->file, &opts, c->inputs + 1,
                                         c->input_count - 1, &m);
    if (s != EVK_SUCCESS)
        return s;
    evk_shape out;
    evk_model_output_shape(m, &out);
    uint64_t count = evk_shape_elements(out);
    float *y = calloc(count ? count : 1, sizeof *y);
    if (count != c->expected->count || !c->expected->floats)
        s = EVK_ERROR_SHAPE_MISMATCH;
    else
        s = y ? evk_model_run(m, x->floats, x->count, y, count) : EVK_ERROR_OUT_OF_HOST_MEMORY;
    *error = 0.0;
    for (uint64_t i = 0; s == EVK_SUCCESS && i < count; ++i) {
        double e = c->expected->floats[i];
        double bound = 1e-5 * fmax(1.0, fabs(e)) + 1e-6;
        *error = fmax(*error, fabs((double)y[i] - e) / bound);
    }
    free(y);
    evk_model_destroy(m);
    return s;
}

static int have_data(void)
{
    FILE *f = fopen(DATA "node/test_relu/model.onnx", "rb");
    if (f)
        fclose(f);
    return f != NULL;
}

/* A table's case as load_case takes it: the data folder's path, after
 * ELEMENTWISE_PREFIX when the case has it. */
static void case_path(const char *name, char *out, size_t size)
{
    size_t prefix = strlen(ELEMENTWISE_PREFIX);
    int as4d = strncmp(name, ELEMENTWISE_PREFIX, prefix) == 0;
    snprintf(out, size, "%s" DATA "%s", as4d ? ELEMENTWISE_PREFIX : "", name + (as4d ? prefix : 0));
}

static void test_supported(void **state)
{
    tu_gpu *g = *state;
    for (size_t i = 0; i < sizeof supported / sizeof supported[0]; ++i) {
        char dir[256];
        case_path(supported[i], dir, sizeof dir);
        loaded_case c;
        assert_int_equal(load_case(dir, &c), EVK_SUCCESS);
        assert_true(in_scope(&c));
        double error = 0.0;
        evk_status s = run_case(g->ctx, &c, &error);
        if (s != EVK_SUCCESS || error > 1.0)
            fail_msg("%s: %s, error %.3g of the bound (%s)", supported[i], evk_status_string(s),
                     error, evk_last_error(g->ctx));
        free_case(&c);
    }
    tu_assert_no_validation_messages(g);
}

static void test_refused(void **state)
{
    tu_gpu *g = *state;
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; ++i) {
        char dir[256];
        case_path(refused[i].dir, dir, sizeof dir);
        loaded_case c;
        assert_int_equal(load_case(dir, &c), EVK_SUCCESS);
        double error;
        evk_status s = run_case(g->ctx, &c, &error);
        const char *message = evk_last_error(g->ctx);
        if (s != refused[i].status || !strstr(message, refused[i].named))
            fail_msg("%s: %s (%s), expected %s naming '%s'", refused[i].dir,
                     evk_status_string(s), message, evk_status_string(refused[i].status),
                     refused[i].named);
        free_case(&c);
    }
}

/* One line per case: PASS, MISMATCH, REFUSED or OUT-OF-SCOPE. */
static int survey(int count, char **dirs)
{
    evk_context *ctx = NULL;
    evk_context_desc desc = {0};
    if (evk_context_create(&desc, &ctx) != EVK_SUCCESS)
        return 1;
    for (int i = 0; i < count; ++i) {
        loaded_case c;
        evk_status s = load_case(dirs[i], &c);
        const char *name = strrchr(dirs[i], '/') ? strrchr(dirs[i], '/') + 1 : dirs[i];
        if (s != EVK_SUCCESS) {
            printf("%-60s READ-FAILED %s\n", name, evk_last_error(NULL));
        } else if (!in_scope(&c)) {
            printf("%-60s OUT-OF-SCOPE (input %u-D, %s)\n", name,
                   c.input_count ? c.inputs[0].rank : 0,
                   c.input_count ? evk_onnx_type_name(c.inputs[0].data_type) : "none");
        } else {
            double error = 0.0;
            s = run_case(ctx, &c, &error);
            if (s == EVK_SUCCESS)
                printf("%-60s %s %.3g\n", name, error <= 1.0 ? "PASS" : "MISMATCH", error);
            else
                printf("%-60s REFUSED %s\n", name, evk_last_error(ctx));
        }
        free_case(&c);
    }
    evk_context_destroy(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--survey") == 0)
        return survey(argc - 2, argv + 2);
    if (!have_data()) {
        printf("skipped: %s is missing (Debian's libonnx-testdata)\n", DATA);
        return 77;
    }
    const struct CMUnitTest tests[] = {TU_GPU_TEST(test_supported), TU_GPU_TEST(test_refused)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
