/* CPU tier: the .safetensors reader (host/model/safetensors.c) on files the
 * test builds byte by byte: round trips of F32, F16 and BF16 (subnormals,
 * infinities and NaNs included), metadata, names in order, the file path
 * (mmap) variant, the context's allocator, and bad input of every kind, each
 * failing with a status and a message naming the file and the problem. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#include "context.h"
#include "half_float.h"
#include "model/safetensors.h"
#include "safetensors_file.h"

#define FILE_NAME "weights.safetensors"

static void put_f32(unsigned char *dst, float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    for (int i = 0; i < 4; ++i)
        dst[i] = (unsigned char)(bits >> (8 * i));
}

static void put_u16(unsigned char *dst, uint16_t value)
{
    dst[0] = (unsigned char)value;
    dst[1] = (unsigned char)(value >> 8);
}

static evk_safetensors *open_ok(const unsigned char *file, size_t size)
{
    evk_safetensors *st = NULL;
    evk_status status = evk_safetensors_open_memory(NULL, FILE_NAME, file, size, &st);
    if (status != EVK_SUCCESS)
        fail_msg("open failed: %s", evk_last_error(NULL));
    return st;
}

/* Opening `header` followed by `data_size` zero bytes fails with `status`,
 * and the message names the file and contains `word`. */
static void expect_open_failure(const char *header, size_t data_size, evk_status status,
                                const char *word)
{
    size_t size;
    unsigned char *file = st_file_make(header, NULL, data_size, &size);
    evk_safetensors *st = (evk_safetensors *)file;
    assert_int_equal(evk_safetensors_open_memory(NULL, FILE_NAME, file, size, &st), status);
    assert_null(st);
    tu_assert_message(evk_last_error(NULL), status, word);
    tu_assert_message(evk_last_error(NULL), status, FILE_NAME);
    free(file);
}

static void expect_bytes_failure(const unsigned char *file, size_t size, evk_status status,
                                 const char *word)
{
    evk_safetensors *st = NULL;
    assert_int_equal(evk_safetensors_open_memory(NULL, FILE_NAME, file, size, &st), status);
    assert_null(st);
    tu_assert_message(evk_last_error(NULL), status, word);
    tu_assert_message(evk_last_error(NULL), status, FILE_NAME);
}

/* ---- Round trips. */

static const char two_tensors[] =
    "{\"fc.weight\": {\"dtype\": \"F32\", \"shape\": [2, 3], \"data_offsets\": [0, 24]},\n"
    " \"__metadata__\": {\"format\": \"pt\", \"note\": \"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\"\"},\n"
    " \"fc.bias\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [24, 32]},\n"
    " \"scalar\": {\"dtype\": \"F32\", \"shape\": [], \"data_offsets\": [32, 36]},\n"
    " \"empty\": {\"dtype\": \"F32\", \"shape\": [4, 0], \"data_offsets\": [36, 36]}}   ";

static void test_f32_round_trip(void **state)
{
    (void)state;
    const float values[9] = {1.5f, -2.0f, 3.25f, 0.0f, -0.0f, 1e-30f, 7.0f, -8.5f, 42.0f};
    unsigned char data[36];
    for (int i = 0; i < 9; ++i)
        put_f32(data + 4 * i, values[i]);
    size_t size;
    unsigned char *file = st_file_make(two_tensors, data, sizeof data, &size);
    evk_safetensors *st = open_ok(file, size);

    assert_int_equal(evk_safetensors_count(st), 4);
    const char *expected_names[4] = {"empty", "fc.bias", "fc.weight", "scalar"};
    for (size_t i = 0; i < 4; ++i)
        assert_string_equal(evk_safetensors_name(st, i), expected_names[i]);
    assert_null(evk_safetensors_name(st, 4));

    evk_safetensors_info info;
    assert_int_equal(evk_safetensors_find(st, "fc.weight", &info), EVK_SUCCESS);
    assert_string_equal(info.name, "fc.weight");
    assert_int_equal(info.dtype, EVK_ST_F32);
    assert_string_equal(info.dtype_name, "F32");
    assert_int_equal(info.rank, 2);
    assert_true(info.shape[0] == 2 && info.shape[1] == 3);
    assert_int_equal(info.element_count, 6);
    assert_int_equal(info.byte_size, 24);
    assert_ptr_equal(info.data, file + size - sizeof data);

    float got[6];
    assert_int_equal(evk_safetensors_read_f32(st, "fc.weight", got, 6), EVK_SUCCESS);
    assert_memory_equal(got, values, sizeof got);
    assert_int_equal(evk_safetensors_read_f32(st, "fc.bias", got, 2), EVK_SUCCESS);
    assert_memory_equal(got, values + 6, 2 * sizeof(float));
    assert_int_equal(evk_safetensors_find(st, "scalar", &info), EVK_SUCCESS);
    assert_true(info.rank == 0 && info.element_count == 1);
    assert_int_equal(evk_safetensors_read_f32(st, "scalar", got, 1), EVK_SUCCESS);
    assert_true(got[0] == 42.0f);
    assert_int_equal(evk_safetensors_find(st, "empty", &info), EVK_SUCCESS);
    assert_true(info.rank == 2 && info.element_count == 0 && info.byte_size == 0);
    assert_int_equal(evk_safetensors_read_f32(st, "empty", NULL, 0), EVK_SUCCESS);

    assert_string_equal(evk_safetensors_metadata(st, "format"), "pt");
    assert_string_equal(evk_safetensors_metadata(st, "note"),
                        "caf\xc3\xa9 \xf0\x9f\x98\x80 \"q\"");
    assert_null(evk_safetensors_metadata(st, "missing"));
    assert_null(evk_safetensors_metadata(st, "fc.bias"));
    evk_safetensors_close(st);
    free(file);
}

/* IEEE binary16 by arithmetic, independent of the bit manipulation under test. */
static float half_reference(uint16_t h)
{
    int exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF;
    float magnitude;
    if (exponent == 0x1F)
        magnitude = mantissa ? NAN : INFINITY;
    else if (exponent == 0)
        magnitude = ldexpf((float)mantissa, -24);
    else
        magnitude = ldexpf((float)(mantissa + 1024), exponent - 25);
    return (h & 0x8000) ? -magnitude : magnitude;
}

static void assert_same_float(float got, float want, uint16_t bits)
{
    if (isnan(want)) {
        if (!isnan(got))
            fail_msg("0x%04x: got %g, want NaN", bits, (double)got);
        return;
    }
    if (got != want || signbit(got) != signbit(want))
        fail_msg("0x%04x: got %a, want %a", bits, (double)got, (double)want);
}

static void test_f16_every_value(void **state)
{
    (void)state;
    for (uint32_t h = 0; h <= 0xFFFF; ++h)
        assert_same_float(evk_f16_to_f32((uint16_t)h), half_reference((uint16_t)h), (uint16_t)h);
}

static void test_bf16_every_value(void **state)
{
    (void)state;
    for (uint32_t b = 0; b <= 0xFFFF; ++b) {
        int exponent = (b >> 7) & 0xFF, mantissa = b & 0x7F;
        float magnitude = exponent == 0xFF ? (mantissa ? NAN : INFINITY)
                          : exponent == 0  ? ldexpf((float)mantissa, -133)
                                           : ldexpf((float)(mantissa + 128), exponent - 134);
        assert_same_float(evk_bf16_to_f32((uint16_t)b), (b & 0x8000) ? -magnitude : magnitude,
                          (uint16_t)b);
    }
}

/* Half and bfloat16 tensors through the file, at an odd data offset. */
static void test_f16_bf16_read(void **state)
{
    (void)state;
    static const uint16_t half[8] = {0x3C00, 0xC000, 0x0001, 0x03FF,
                                     0x7BFF, 0x7C00, 0xFC00, 0x7E00};
    static const uint16_t bf16[6] = {0x3F80, 0x4049, 0x0001, 0x8000, 0xFF80, 0x7FC1};
    const char header[] =
        "{\"h\":{\"dtype\":\"F16\",\"shape\":[2,4],\"data_offsets\":[1,17]},"
        "\"b\":{\"dtype\":\"BF16\",\"shape\":[6],\"data_offsets\":[17,29]}}";
    unsigned char data[29] = {0xEE};
    for (int i = 0; i < 8; ++i)
        put_u16(data + 1 + 2 * i, half[i]);
    for (int i = 0; i < 6; ++i)
        put_u16(data + 17 + 2 * i, bf16[i]);
    size_t size;
    unsigned char *file = st_file_make(header, data, sizeof data, &size);
    evk_safetensors *st = open_ok(file, size);
    float got[8];
    assert_int_equal(evk_safetensors_read_f32(st, "h", got, 8), EVK_SUCCESS);
    const float want_half[8] = {1.0f, -2.0f, ldexpf(1, -24), ldexpf(1023, -24), 65504.0f,
                                INFINITY, -INFINITY, NAN};
    for (int i = 0; i < 8; ++i)
        assert_same_float(got[i], want_half[i], half[i]);
    assert_int_equal(evk_safetensors_read_f32(st, "b", got, 6), EVK_SUCCESS);
    const float want_bf16[6] = {1.0f, 3.140625f, ldexpf(1, -133), -0.0f, -INFINITY, NAN};
    for (int i = 0; i < 6; ++i)
        assert_same_float(got[i], want_bf16[i], bf16[i]);
    evk_safetensors_info info;
    assert_int_equal(evk_safetensors_find(st, "b", &info), EVK_SUCCESS);
    assert_string_equal(info.dtype_name, "BF16");
    assert_int_equal(info.byte_size, 12);
    evk_safetensors_close(st);
    free(file);
}

/* An I64 tensor (BatchNorm's num_batches_tracked) opens and can be found,
 * but reading it as float is refused. */
static void test_integer_dtype_rejected_on_read(void **state)
{
    (void)state;
    const char header[] =
        "{\"bn.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]}}";
    size_t size;
    unsigned char *file = st_file_make(header, NULL, 8, &size);
    evk_safetensors *st = open_ok(file, size);
    evk_safetensors_info info;
    assert_int_equal(evk_safetensors_find(st, "bn.num_batches_tracked", &info), EVK_SUCCESS);
    assert_int_equal(info.dtype, EVK_ST_I64);
    float value;
    assert_int_equal(evk_safetensors_read_f32(st, "bn.num_batches_tracked", &value, 1),
                     EVK_ERROR_UNSUPPORTED);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_UNSUPPORTED, "I64");
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_UNSUPPORTED, "bn.num_batches_tracked");
    evk_safetensors_close(st);
    free(file);

    /* Each whole-byte dtype is sized right at open and refused on read. */
    static const struct { const char *name; int size; } others[] = {
        {"F64", 8}, {"I32", 4}, {"I16", 2}, {"I8", 1}, {"U64", 8}, {"U32", 4}, {"U16", 2},
        {"U8", 1}, {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1}, {"F8_E8M0", 1}, {"C64", 8}};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; ++i) {
        const char *format = "{\"t\":{\"dtype\":\"%s\",\"shape\":[3],\"data_offsets\":[0,%d]}}";
        char text[160];
        snprintf(text, sizeof text, format, others[i].name, 3 * others[i].size);
        file = st_file_make(text, NULL, (size_t)(3 * others[i].size), &size);
        st = open_ok(file, size);
        float three[3];
        assert_int_equal(evk_safetensors_read_f32(st, "t", three, 3), EVK_ERROR_UNSUPPORTED);
        tu_assert_message(evk_last_error(NULL), EVK_ERROR_UNSUPPORTED, others[i].name);
        evk_safetensors_close(st);
        free(file);
        snprintf(text, sizeof text, format, others[i].name, 3 * others[i].size + 1);
        expect_open_failure(text, (size_t)(3 * others[i].size + 1), EVK_ERROR_INVALID_ARGUMENT,
                            "needs 3 elements");
    }
}

static void test_lookup_errors(void **state)
{
    (void)state;
    size_t size;
    unsigned char *file = st_file_make(two_tensors, NULL, 36, &size);
    evk_safetensors *st = open_ok(file, size);
    evk_safetensors_info info;
    assert_int_equal(evk_safetensors_find(st, "fc.weights", &info), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_INVALID_ARGUMENT, "fc.weights");
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_INVALID_ARGUMENT, FILE_NAME);
    float got[7];
    assert_int_equal(evk_safetensors_read_f32(st, "nothing", got, 7), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_INVALID_ARGUMENT, "no tensor");
    assert_int_equal(evk_safetensors_read_f32(st, "fc.weight", got, 7), EVK_ERROR_SHAPE_MISMATCH);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_SHAPE_MISMATCH, "fc.weight");
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_SHAPE_MISMATCH, "6 elements");
    assert_int_equal(evk_safetensors_read_f32(st, "fc.weight", got, 5), EVK_ERROR_SHAPE_MISMATCH);
    /* The file stays usable after failed calls. */
    assert_int_equal(evk_safetensors_read_f32(st, "fc.weight", got, 6), EVK_SUCCESS);
    evk_safetensors_close(st);
    evk_safetensors_close(NULL);
    free(file);
}

/* ---- The file variant. */

static void test_open_file(void **state)
{
    (void)state;
    const char *path = "test_safetensors_tmp.safetensors";
    const float values[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    unsigned char data[36];
    for (int i = 0; i < 9; ++i)
        put_f32(data + 4 * i, values[i]);
    size_t size;
    unsigned char *bytes = st_file_make(two_tensors, data, sizeof data, &size);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
    free(bytes);

    evk_safetensors *st = NULL;
    assert_int_equal(evk_safetensors_open(NULL, path, &st), EVK_SUCCESS);
    float got[6];
    assert_int_equal(evk_safetensors_read_f32(st, "fc.weight", got, 6), EVK_SUCCESS);
    assert_memory_equal(got, values, sizeof got);
    assert_string_equal(evk_safetensors_metadata(st, "format"), "pt");
    evk_safetensors_close(st);

    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(evk_safetensors_open(NULL, path, &st), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_INVALID_ARGUMENT, "empty");
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_INVALID_ARGUMENT, path);
    remove(path);

    assert_int_equal(evk_safetensors_open(NULL, "no/such/file.safetensors", &st), EVK_ERROR_IO);
    assert_null(st);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_IO, "no/such/file.safetensors");
    assert_int_equal(evk_safetensors_open(NULL, ".", &st), EVK_ERROR_IO);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_IO, "not a regular file");
    assert_int_equal(evk_safetensors_open(NULL, NULL, &st), EVK_ERROR_INVALID_ARGUMENT);
    assert_int_equal(evk_safetensors_open(NULL, path, NULL), EVK_ERROR_INVALID_ARGUMENT);
}

/* ---- A context's allocator: every allocation goes through it, failures
 * of each one in turn are reported and leak nothing. A context struct made
 * by hand is enough: the reader uses only its allocator and error fields. */

typedef struct counting_allocator {
    long live;
    long calls;
    long fail_at;               /* -1: never */
} counting_allocator;

static void *counting_alloc(size_t size, void *user_data)
{
    counting_allocator *a = user_data;
    if (a->calls++ == a->fail_at)
        return NULL;
    a->live++;
    return malloc(size);
}

static void counting_free(void *ptr, void *user_data)
{
    ((counting_allocator *)user_data)->live--;
    free(ptr);
}

static void test_context_allocator(void **state)
{
    (void)state;
    size_t size;
    unsigned char *file = st_file_make(two_tensors, NULL, 36, &size);
    counting_allocator counts = {0, 0, -1};
    evk_context *ctx = calloc(1, sizeof *ctx);
    assert_non_null(ctx);
    ctx->allocator = (evk_allocator){counting_alloc, counting_free, &counts};
    evk_safetensors *st = NULL;
    assert_int_equal(evk_safetensors_open_memory(ctx, FILE_NAME, file, size, &st), EVK_SUCCESS);
    long needed = counts.calls;
    assert_true(needed > 0 && counts.live > 0);
    evk_safetensors_close(st);
    assert_int_equal(counts.live, 0);
    for (long fail_at = 0; fail_at < needed; ++fail_at) {
        counts = (counting_allocator){0, 0, fail_at};
        assert_int_equal(evk_safetensors_open_memory(ctx, FILE_NAME, file, size, &st),
                         EVK_ERROR_OUT_OF_HOST_MEMORY);
        assert_null(st);
        assert_int_equal(counts.live, 0);
        tu_assert_message(evk_last_error(ctx), EVK_ERROR_OUT_OF_HOST_MEMORY, "allocation");
        tu_assert_message(evk_last_error(ctx), EVK_ERROR_OUT_OF_HOST_MEMORY, FILE_NAME);
    }
    counts = (counting_allocator){0, 0, -1};
    assert_int_equal(evk_safetensors_open_memory(ctx, FILE_NAME, file, 5, &st),
                     EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(ctx), EVK_ERROR_INVALID_ARGUMENT, FILE_NAME);
    assert_int_equal(counts.live, 0);
    free(ctx);
    free(file);
}

/* ---- Bad files. */

static void test_bad_lengths(void **state)
{
    (void)state;
    expect_bytes_failure((const unsigned char *)"", 0, EVK_ERROR_INVALID_ARGUMENT, "empty");
    unsigned char file[64] = {0};
    expect_bytes_failure(file, 5, EVK_ERROR_INVALID_ARGUMENT, "truncated");
    st_file_put_u64(file, 57);
    expect_bytes_failure(file, sizeof file, EVK_ERROR_INVALID_ARGUMENT, "past the end");
    st_file_put_u64(file, UINT64_MAX);
    expect_bytes_failure(file, sizeof file, EVK_ERROR_LIMIT_EXCEEDED, "limit");
    st_file_put_u64(file, 100000001);
    expect_bytes_failure(file, sizeof file, EVK_ERROR_LIMIT_EXCEEDED, "100000001");
    /* A good file cut anywhere in its header. */
    size_t size;
    unsigned char *good = st_file_make(two_tensors, NULL, 36, &size);
    for (size_t cut = 8; cut < size - 36; cut += 7)
        expect_bytes_failure(good, cut, EVK_ERROR_INVALID_ARGUMENT, "past the end");
    /* Or in its data. */
    expect_bytes_failure(good, size - 1, EVK_ERROR_INVALID_ARGUMENT, "out of range");
    free(good);
}

static void test_invalid_json(void **state)
{
    (void)state;
    const evk_status bad = EVK_ERROR_INVALID_ARGUMENT;
    expect_open_failure("{\"a\": {\"dtype\": \"F32\", \"shape\": [], \"data_offsets\": [0, 4]},}",
                        4, bad, "trailing comma");
    expect_open_failure("{\"a\": {\"dtype\": \"F32\", \"shape\": [1,], \"data_offsets\": [0, 4]}}",
                        4, bad, "trailing comma");
    expect_open_failure("{\"a\": {\"dtype\": \"F32", 0, bad, "unterminated string");
    expect_open_failure("{\"a\\x\": 1}", 0, bad, "invalid escape");
    expect_open_failure("{\"a\\u12G4\": 1}", 0, bad, "hex digits");
    expect_open_failure("{\"a\\ud800\": 1}", 0, bad, "surrogate");
    expect_open_failure("{\"a\\udc00\\ud800\": 1}", 0, bad, "surrogate");
    expect_open_failure("{\"a\\u0000\": 1}", 0, bad, "u0000");
    expect_open_failure("{\"a\tb\": 1}", 0, bad, "control character");
    expect_open_failure("{\"\xc3\x28\": 1}", 0, bad, "UTF-8");
    expect_open_failure("{\"\xe0\x80\xaf\": 1}", 0, bad, "UTF-8");
    expect_open_failure("{\"\xed\xa0\x80\": 1}", 0, bad, "UTF-8");
    expect_open_failure("{} x", 0, bad, "after the end");
    expect_open_failure("{}{}", 0, bad, "after the end");
    expect_open_failure("{\"a\": 1, \"a\": 2}", 0, bad, "duplicate key \"a\"");
    expect_open_failure("{\"a\": 01}", 0, bad, "leading zero");
    expect_open_failure("{\"a\": 1.5}", 0, bad, "only integers");
    expect_open_failure("{\"a\": 1e3}", 0, bad, "only integers");
    expect_open_failure("{\"a\": 99999999999999999999}", 0, bad, "64-bit");
    expect_open_failure("{\"a\": tru}", 0, bad, "unexpected character");
    expect_open_failure("{\"a\" 1}", 0, bad, "expected ':'");
    expect_open_failure("{\"a\": [1 2]}", 0, bad, "expected ','");
    expect_open_failure("{1: 2}", 0, bad, "string key");
    expect_open_failure("", 0, bad, "end of text");
    expect_open_failure("   ", 0, bad, "end of text");
    expect_open_failure("[]", 0, bad, "not a JSON object");
    expect_open_failure("{\"a\": 1}", 0, bad, "not an object");
    char deep[256] = "{\"a\": ";
    for (int i = 0; i < 40; ++i)
        strcat(deep, "[");
    expect_open_failure(deep, 0, bad, "nesting deeper than 32");
    /* 32 levels are fine for the parser (the schema then rejects them). */
    strcpy(deep, "{\"a\": ");
    for (int i = 0; i < 31; ++i)
        strcat(deep, "[");
    for (int i = 0; i < 31; ++i)
        strcat(deep, "]");
    strcat(deep, "}");
    expect_open_failure(deep, 0, bad, "not an object");
}

static void test_bad_tensors(void **state)
{
    (void)state;
    const evk_status bad = EVK_ERROR_INVALID_ARGUMENT;
    expect_open_failure("{\"w\": {\"dtype\": \"F33\", \"shape\": [1], \"data_offsets\": [0, 4]}}",
                        4, bad, "unknown dtype 'F33'");
    expect_open_failure("{\"w\": {\"dtype\": 32, \"shape\": [1], \"data_offsets\": [0, 4]}}", 4,
                        bad, "dtype is not a string");
    expect_open_failure("{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 12]}}",
                        12, bad, "needs 2 elements");
    expect_open_failure("{\"w\": {\"dtype\": \"F16\", \"shape\": [2, 3], "
                        "\"data_offsets\": [0, 24]}}", 24, bad, "shape [2, 3] of F16");
    expect_open_failure("{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}",
                        7, bad, "out of range");
    expect_open_failure("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 4]}}",
                        8, bad, "out of range");
    expect_open_failure("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [-4, 0]}}",
                        8, bad, "non-negative");
    expect_open_failure("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0]}}", 8,
                        bad, "two non-negative");
    expect_open_failure("{\"w\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}",
                        4, bad, "dimension 0");
    expect_open_failure("{\"w\": {\"dtype\": \"F32\", \"shape\": [1, \"2\"], "
                        "\"data_offsets\": [0, 8]}}", 8, bad, "dimension 1");
    expect_open_failure("{\"w\": {\"dtype\": \"F32\", \"shape\": 4, \"data_offsets\": [0, 16]}}",
                        16, bad, "not an array");
    expect_open_failure("{\"w\": {\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296, 2], "
                        "\"data_offsets\": [0, 16]}}", 16, bad, "overflow");
    expect_open_failure("{\"w\": {\"dtype\": \"F32\", \"shape\": [4611686018427387904], "
                        "\"data_offsets\": [0, 16]}}", 16, bad, "needs 4611686018427387904");
    expect_open_failure("{\"w\": {\"dtype\": \"F32\", \"shape\": [1,1,1,1,1,1,1,1,1], "
                        "\"data_offsets\": [0, 4]}}", 4, EVK_ERROR_LIMIT_EXCEEDED, "rank 9");
    expect_open_failure("{\"w\": {\"dtype\": \"F32\", \"shape\": [1]}}", 4, bad,
                        "missing field 'data_offsets'");
    expect_open_failure("{\"w\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", 4, bad,
                        "missing field 'dtype'");
    expect_open_failure("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4], "
                        "\"extra\": 1}}", 4, bad, "unknown field 'extra'");
    expect_open_failure("{\"w\": [1]}", 4, bad, "tensor 'w': description is not an object");
    expect_open_failure("{\"__metadata__\": {\"k\": 1}}", 0, bad, "value of 'k' is not a string");
    expect_open_failure("{\"__metadata__\": []}", 0, bad, "__metadata__");
}

static void test_overlaps(void **state)
{
    (void)state;
    const evk_status bad = EVK_ERROR_INVALID_ARGUMENT;
    expect_open_failure("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
                        " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}",
                        12, bad, "overlap tensor 'a'");
    expect_open_failure("{\"b\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]},"
                        " \"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}",
                        16, bad, "overlap");
    expect_open_failure("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
                        " \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}",
                        4, bad, "overlap");
    /* Gaps, empty tensors at any offset and trailing bytes are fine. */
    size_t size;
    unsigned char *file = st_file_make(
        "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
        " \"e\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [2, 2]},"
        " \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 12]}}",
        NULL, 20, &size);
    evk_safetensors_close(open_ok(file, size));
    free(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f32_round_trip),
        cmocka_unit_test(test_f16_every_value),
        cmocka_unit_test(test_bf16_every_value),
        cmocka_unit_test(test_f16_bf16_read),
        cmocka_unit_test(test_integer_dtype_rejected_on_read),
        cmocka_unit_test(test_lookup_errors),
        cmocka_unit_test(test_open_file),
        cmocka_unit_test(test_context_allocator),
        cmocka_unit_test(test_bad_lengths),
        cmocka_unit_test(test_invalid_json),
        cmocka_unit_test(test_bad_tensors),
        cmocka_unit_test(test_overlaps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
