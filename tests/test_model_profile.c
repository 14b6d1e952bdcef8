/* Device tier: evk_model_layer_times. Networks with random weights (written
 * in memory from the library's state_dict layout) run with dispatch timing
 * on: one entry per layer of evk_model_layers, in its order, times >= 0
 * that add up to the forward's GPU time within 10 %, dispatch counts that
 * add up to what the forward recorded and to the context's per-dispatch
 * times; the times survive later submissions; no timed forward, timing
 * turned off and NULL arguments are refused. Oct-ResNet-50 records more
 * than the 64 dispatches the context used to time one by one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "effvk_internal.h"
#include "test_util.h"

/* ---- A random state_dict as .safetensors bytes. */

typedef struct weights_bytes {
    char *header;
    size_t header_length, header_capacity;
    float *data;
    size_t data_count, data_capacity;
    tu_rng rng;
} weights_bytes;

static void append_text(weights_bytes *w, const char *text)
{
    size_t length = strlen(text);
    while (w->header_length + length + 1 > w->header_capacity) {
        w->header_capacity = w->header_capacity ? 2 * w->header_capacity : 4096;
        w->header = realloc(w->header, w->header_capacity);
        assert_non_null(w->header);
    }
    memcpy(w->header + w->header_length, text, length + 1);
    w->header_length += length;
}

/* Small weights keep the activations finite through deep networks; BatchNorm
 * scales and variances near 1. */
static void append_tensor(weights_bytes *w, const evk_spec_tensor *t)
{
    uint64_t count = 1;
    char shape[96] = "", entry[3072];
    for (uint32_t i = 0; i < t->rank; ++i) {
        count *= t->shape[i];
        size_t used = strlen(shape);
        snprintf(shape + used, sizeof shape - used, "%s%llu", i ? "," : "",
                 (unsigned long long)t->shape[i]);
    }
    while (w->data_count + count > w->data_capacity) {
        w->data_capacity = w->data_capacity ? 2 * w->data_capacity : 1u << 20;
        w->data = realloc(w->data, w->data_capacity * sizeof *w->data);
        assert_non_null(w->data);
    }
    int near_one = t->role == EVK_TENSOR_BN_GAMMA || t->role == EVK_TENSOR_BN_VAR;
    for (uint64_t i = 0; i < count; ++i)
        w->data[w->data_count + i] = near_one ? tu_uniform(&w->rng, 0.5f, 1.5f)
                                              : tu_uniform(&w->rng, -0.05f, 0.05f);
    snprintf(entry, sizeof entry,
             "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[%s],"
             "\"data_offsets\":[%llu,%llu]}",
             w->header_length > 1 ? "," : "", t->key, shape,
             (unsigned long long)(w->data_count * 4),
             (unsigned long long)((w->data_count + count) * 4));
    append_text(w, entry);
    w->data_count += count;
}

static evk_model *load_random(evk_context *ctx, const char *name, const evk_model_options *opts)
{
    evk_arch arch;
    assert_int_equal(evk_arch_get(NULL, name, 1000, opts->part, opts->alpha, &arch), EVK_SUCCESS);
    weights_bytes w = {.rng = tu_rng_seeded(0x9f0f11e)};
    append_text(&w, "{");
    for (uint32_t i = 0; i < arch.count; ++i) {
        evk_spec_tensor tensors[EVK_SPEC_MAX_TENSORS];
        uint32_t count = evk_spec_tensors(&arch.layers[i], tensors);
        for (uint32_t t = 0; t < count; ++t)
            append_tensor(&w, &tensors[t]);
    }
    append_text(&w, "}");
    size_t data_bytes = w.data_count * sizeof *w.data, size = 8 + w.header_length + data_bytes;
    unsigned char *bytes = malloc(size);
    assert_non_null(bytes);
    for (int i = 0; i < 8; ++i)
        bytes[i] = (unsigned char)((uint64_t)w.header_length >> (8 * i));
    memcpy(bytes + 8, w.header, w.header_length);
    memcpy(bytes + 8 + w.header_length, w.data, data_bytes);
    evk_model *model = NULL;
    assert_int_equal(evk_model_load_memory(ctx, name, bytes, size, opts, &model), EVK_SUCCESS);
    free(bytes);
    free(w.header);
    free(w.data);
    return model;
}

/* ---- The checks. */

/* Runs the model with dispatch timing on and checks its layer times against
 * evk_model_layers, the recorded dispatches and the forward's GPU time;
 * returns the dispatches one forward records. */
static uint32_t check_layer_times(evk_context *ctx, const char *name, const evk_model_options *opts)
{
    evk_model *model = load_random(ctx, name, opts);
    evk_shape in_shape, out_shape;
    evk_model_input_shape(model, &in_shape);
    evk_model_output_shape(model, &out_shape);
    tu_rng rng = tu_rng_seeded(7);
    float *x = tu_random_array(&rng, evk_shape_elements(in_shape), -1.0f, 1.0f);
    evk_tensor *in = tu_tensor(ctx, in_shape, x), *out = tu_tensor(ctx, out_shape, NULL);
    uint32_t count = 0;
    assert_int_equal(evk_model_layer_times(model, NULL, 0, &count), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(ctx), EVK_ERROR_INVALID_ARGUMENT, "dispatch timing");

    assert_int_equal(evk_context_set_dispatch_timing(ctx, 1), EVK_SUCCESS);
    evk_context_stats before, after;
    assert_int_equal(evk_context_stats_get(ctx, &before), EVK_SUCCESS);
    assert_int_equal(evk_model_forward(model, in, out), EVK_SUCCESS);
    assert_int_equal(evk_context_stats_get(ctx, &after), EVK_SUCCESS);
    uint32_t recorded = (uint32_t)(after.dispatches_recorded - before.dispatches_recorded);
    /* The first forward compiles lavapipe's shaders inside its timestamps. */
    assert_int_equal(evk_model_forward(model, in, out), EVK_SUCCESS);
    double forward_ms = 0.0;
    uint32_t timed = 0;
    assert_int_equal(evk_context_last_gpu_ms(ctx, &forward_ms), EVK_SUCCESS);
    assert_int_equal(evk_context_dispatch_gpu_ms(ctx, NULL, 0, &timed), EVK_SUCCESS);

    evk_model_layer_info infos[EVK_ARCH_MAX_LAYERS];
    uint32_t info_count = 0;
    evk_model_options shape_opts = *opts;
    shape_opts.num_classes = out_shape.c;
    assert_int_equal(evk_model_layers(name, &shape_opts, infos, EVK_ARCH_MAX_LAYERS, &info_count),
                     EVK_SUCCESS);
    evk_model_layer_time times[EVK_ARCH_MAX_LAYERS];
    assert_int_equal(evk_model_layer_times(model, times, EVK_ARCH_MAX_LAYERS, &count), EVK_SUCCESS);
    assert_int_equal(count, info_count);
    double sum_ms = 0.0;
    uint32_t dispatches = 0;
    for (uint32_t i = 0; i < count; ++i) {
        assert_string_equal(times[i].name, infos[i].name);
        assert_true(times[i].kernel[0] != '\0');
        assert_true(times[i].dispatches > 0);
        assert_true(times[i].gpu_ms >= 0.0);
        sum_ms += times[i].gpu_ms;
        dispatches += times[i].dispatches;
    }
    printf("%s: %u layers, %u dispatches, layers %.3f ms of the forward's %.3f ms\n", name, count,
           dispatches, sum_ms, forward_ms);
    assert_int_equal(dispatches, recorded);
    assert_int_equal(dispatches, timed);
    assert_true(fabs(sum_ms - forward_ms) <= 0.1 * forward_ms);

    /* A download submits again; the forward's times stay with the model. */
    float *y = tu_download(out);
    evk_model_layer_time first[2];
    uint32_t partial = 0;
    assert_int_equal(evk_model_layer_times(model, first, 2, &partial), EVK_SUCCESS);
    assert_int_equal(partial, count);
    assert_true(first[0].gpu_ms == times[0].gpu_ms && first[1].gpu_ms == times[1].gpu_ms);

    /* Timing off: the next forward records again, untimed. */
    assert_int_equal(evk_context_set_dispatch_timing(ctx, 0), EVK_SUCCESS);
    assert_int_equal(evk_model_forward(model, in, out), EVK_SUCCESS);
    assert_int_equal(evk_model_layer_times(model, times, EVK_ARCH_MAX_LAYERS, &count),
                     EVK_ERROR_INVALID_ARGUMENT);
    evk_model_stats stats;
    assert_int_equal(evk_model_stats_get(model, &stats), EVK_SUCCESS);
    assert_int_equal(stats.recordings, 2);
    assert_int_equal(evk_model_layer_times(NULL, times, 1, &count), EVK_ERROR_INVALID_ARGUMENT);
    assert_int_equal(evk_model_layer_times(model, NULL, 1, &count), EVK_ERROR_INVALID_ARGUMENT);
    assert_int_equal(evk_model_layer_times(model, times, 1, NULL), EVK_ERROR_INVALID_ARGUMENT);
    free(x);
    free(y);
    evk_tensor_destroy(in);
    evk_tensor_destroy(out);
    evk_model_destroy(model);
    return recorded;
}

static void test_vgg16_layer_times(void **state)
{
    tu_gpu *g = *state;
    evk_model_options opts = {.batch = 2};
    check_layer_times(g->ctx, "vgg16-cifar", &opts);
    tu_assert_no_validation_messages(g);
}

/* Two graph nodes per OctConv layer and add, one entry each. */
static void test_octconv_resnet50_layer_times(void **state)
{
    tu_gpu *g = *state;
    evk_model_options opts = {.batch = 1, .height = 32, .width = 32, .alpha = 0.5};
    uint32_t dispatches = check_layer_times(g->ctx, "octconv-resnet50", &opts);
    assert_true(dispatches > 64);
    tu_assert_no_validation_messages(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TU_GPU_TEST(test_vgg16_layer_times),
        TU_GPU_TEST(test_octconv_resnet50_layer_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
