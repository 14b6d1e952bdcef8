/* Device tier: a weights file holding a NaN or an infinity is refused at
 * load, naming the tensor's key and the first bad index, whichever tensor
 * (conv weight, BatchNorm statistics) and whichever dtype (F32, or F16 and
 * BF16, checked once widened to float). The files hold vgg16-cifar's first
 * conv and its BatchNorm only: the loader reads layer by layer, so a bad
 * value there is met before the missing rest, which a clean file of the
 * same tensors reports instead. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "test_util.h"

#define MODEL "vgg16-cifar"

typedef enum dtype { F32, F16, BF16 } dtype;

/* The bits of 1.0 in each dtype: the values themselves do not matter, the
 * load fails before anything runs. */
static const uint32_t one_bits[] = {0x3f800000u, 0x3c00u, 0x3f80u};
static const size_t dtype_bytes[] = {4, 2, 2};
static const char *const dtype_names[] = {"F32", "F16", "BF16"};

/* A tensor of the file: `bad_at` (UINT64_MAX: none) holds `bad_bits`. */
typedef struct tensor {
    char name[64];
    uint64_t dims[4];
    uint32_t rank;
    dtype type;
    uint64_t bad_at;
    uint32_t bad_bits;
} tensor;

static uint64_t elements(const tensor *t)
{
    uint64_t n = 1;
    for (uint32_t i = 0; i < t->rank; ++i)
        n *= t->dims[i];
    return n;
}

/* A malloc'd .safetensors image of the tensors. */
static unsigned char *make_file(const tensor *tensors, size_t count, size_t *size)
{
    char header[2048];
    size_t used = (size_t)snprintf(header, sizeof header, "{");
    uint64_t offset = 0;
    for (size_t i = 0; i < count; ++i) {
        const tensor *t = &tensors[i];
        uint64_t bytes = elements(t) * dtype_bytes[t->type];
        used += (size_t)snprintf(header + used, sizeof header - used,
                                 "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[", i ? "," : "", t->name,
                                 dtype_names[t->type]);
        for (uint32_t d = 0; d < t->rank; ++d)
            used += (size_t)snprintf(header + used, sizeof header - used, "%s%llu", d ? "," : "",
                                     (unsigned long long)t->dims[d]);
        used += (size_t)snprintf(header + used, sizeof header - used,
                                 "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)offset,
                                 (unsigned long long)(offset + bytes));
        offset += bytes;
        assert_true(used < sizeof header - 64);
    }
    used += (size_t)snprintf(header + used, sizeof header - used, "}");
    *size = 8 + used + offset;
    unsigned char *file = malloc(*size);
    assert_non_null(file);
    for (int i = 0; i < 8; ++i)
        file[i] = (unsigned char)((uint64_t)used >> (8 * i));
    memcpy(file + 8, header, used);
    unsigned char *data = file + 8 + used;
    for (size_t i = 0; i < count; ++i) {
        const tensor *t = &tensors[i];
        size_t width = dtype_bytes[t->type];
        for (uint64_t e = 0; e < elements(t); ++e, data += width) {
            uint32_t bits = e == t->bad_at ? t->bad_bits : one_bits[t->type];
            for (size_t b = 0; b < width; ++b)
                data[b] = (unsigned char)(bits >> (8 * b));
        }
    }
    return file;
}

/* vgg16-cifar's first conv weight and its BatchNorm's four tensors, all of
 * `type`, none bad. */
static void first_layer(tensor out[5], dtype type)
{
    evk_arch arch;
    assert_int_equal(evk_arch_get(NULL, MODEL, 10, 0, 0.0f, &arch), EVK_SUCCESS);
    const evk_layer_spec *sp = &arch.layers[0];
    assert_int_equal(sp->kind, EVK_KIND_CONV);
    static const char *const bn_suffixes[4] = {".weight", ".bias", ".running_mean",
                                               ".running_var"};
    out[0] = (tensor){.dims = {sp->out_channels, sp->in_channels, sp->kernel, sp->kernel},
                      .rank = 4, .type = type, .bad_at = UINT64_MAX};
    snprintf(out[0].name, sizeof out[0].name, "%s.weight", sp->prefix);
    for (int i = 0; i < 4; ++i) {
        out[1 + i] = (tensor){.dims = {sp->out_channels}, .rank = 1, .type = type,
                              .bad_at = UINT64_MAX};
        snprintf(out[1 + i].name, sizeof out[1 + i].name, "%s%s", sp->bn_prefix, bn_suffixes[i]);
    }
}

static void assert_load_fails(evk_context *ctx, const tensor *tensors, evk_status status,
                              const char *words)
{
    size_t size;
    unsigned char *file = make_file(tensors, 5, &size);
    /* The classes given: the file has no classifier to count them from. */
    evk_model_options opts = {.num_classes = 10};
    evk_model *m = (evk_model *)&m;
    assert_int_equal(evk_model_load_memory(ctx, MODEL, file, size, &opts, &m), status);
    assert_null(m);
    tu_assert_message(evk_last_error(ctx), status, words);
    free(file);
}

/* `tensor_index` of first_layer's list gets `bits` at `at`; the message
 * must name "<key>[<at>] is <what>". */
static void check_bad_value(evk_context *ctx, dtype type, int tensor_index, uint64_t at,
                            uint32_t bits, const char *what)
{
    tensor tensors[5];
    first_layer(tensors, type);
    tensors[tensor_index].bad_at = at;
    tensors[tensor_index].bad_bits = bits;
    char words[128];
    snprintf(words, sizeof words, "%s[%llu] is %s", tensors[tensor_index].name,
             (unsigned long long)at, what);
    assert_load_fails(ctx, tensors, EVK_ERROR_INVALID_ARGUMENT, words);
}

static void test_non_finite_refused(void **state)
{
    tu_gpu *g = *state;
    check_bad_value(g->ctx, F32, 0, 17, 0x7fc00000u, "NaN");
    check_bad_value(g->ctx, F32, 0, 0, 0xff800000u, "-infinity");
    check_bad_value(g->ctx, F32, 1, 5, 0x7f800000u, "+infinity");
    check_bad_value(g->ctx, F32, 3, 63, 0xffc00000u, "NaN");
    check_bad_value(g->ctx, F32, 4, 2, 0x7f800000u, "+infinity");
    check_bad_value(g->ctx, F16, 0, 17, 0x7e00u, "NaN");
    check_bad_value(g->ctx, F16, 2, 9, 0xfc00u, "-infinity");
    check_bad_value(g->ctx, BF16, 0, 3, 0xff80u, "-infinity");
    check_bad_value(g->ctx, BF16, 4, 40, 0x7fc0u, "NaN");
    tu_assert_no_validation_messages(g);
}

/* The same five tensors without a bad value load up to the next layer,
 * whose weight is missing: it is the value that was refused above. */
static void test_clean_file_reaches_next_layer(void **state)
{
    tu_gpu *g = *state;
    for (dtype type = F32; type <= BF16; ++type) {
        tensor tensors[5];
        first_layer(tensors, type);
        assert_load_fails(g->ctx, tensors, EVK_ERROR_INVALID_ARGUMENT, "is missing");
    }
    tu_assert_no_validation_messages(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TU_GPU_TEST(test_non_finite_refused),
        TU_GPU_TEST(test_clean_file_reaches_next_layer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
