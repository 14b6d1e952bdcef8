/* CPU tier: the program's .npy reader and writer (tools/npy.c): round trips
 * through files for ranks 0 to 4 and empty arrays, the exact bytes NumPy
 * writes, versions 1.0, 2.0 and 3.0 read from hand-built files, and bad
 * input (magic, version, dtype, Fortran order, malformed dicts, truncated or
 * overlong data), each failing with a status and a message naming the file
 * and the problem; reads through a context's allocator, failing each
 * allocation in turn without leaks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#include "context.h"
#include "npy.h"

#define NAME "array.npy"
#define TMP_PATH "test_npy_tmp.npy"

/* A malloc'd .npy file of `major`.0 holding `dict` as is (no padding added)
 * and `count` floats. */
static unsigned char *npy_make(int major, const char *dict, const float *data, size_t count,
                               size_t *size)
{
    size_t width = major == 1 ? 2 : 4, dict_length = strlen(dict);
    *size = 8 + width + dict_length + 4 * count;
    unsigned char *file = malloc(*size);
    assert_non_null(file);
    memcpy(file, "\x93NUMPY", 6);
    file[6] = (unsigned char)major;
    file[7] = 0;
    for (size_t i = 0; i < width; ++i)
        file[8 + i] = (unsigned char)(dict_length >> (8 * i));
    memcpy(file + 8 + width, dict, dict_length);
    unsigned char *out = file + 8 + width + dict_length;
    for (size_t i = 0; i < count; ++i) {
        uint32_t bits;
        memcpy(&bits, &data[i], sizeof bits);
        for (int b = 0; b < 4; ++b)
            out[4 * i + (size_t)b] = (unsigned char)(bits >> (8 * b));
    }
    return file;
}

static void write_bytes(const char *path, const unsigned char *bytes, size_t size)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
}

static unsigned char *read_bytes(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char *bytes = malloc(1 << 16);
    assert_non_null(bytes);
    *size = fread(bytes, 1, 1 << 16, f);
    fclose(f);
    return bytes;
}

static void test_round_trip(void **state)
{
    (void)state;
    static const uint64_t shapes[][4] = {{2, 3}, {5}, {0}, {0, 4}, {2, 3, 4, 5}};
    static const uint32_t ranks[] = {2, 1, 0, 2, 4};
    tu_rng rng = tu_rng_seeded(6);
    float *values = tu_random_array(&rng, 120, -10.0f, 10.0f);
    for (size_t c = 0; c < sizeof ranks / sizeof ranks[0]; ++c) {
        assert_int_equal(npy_write(NULL, TMP_PATH, shapes[c], ranks[c], values), EVK_SUCCESS);
        npy_array a;
        assert_int_equal(npy_read(NULL, TMP_PATH, &a), EVK_SUCCESS);
        assert_int_equal(a.rank, ranks[c]);
        uint64_t count = 1;
        for (uint32_t d = 0; d < a.rank; ++d) {
            assert_int_equal(a.shape[d], shapes[c][d]);
            count *= shapes[c][d];
        }
        assert_int_equal(a.count, count);
        if (count)
            assert_memory_equal(a.data, values, count * sizeof(float));
        else
            assert_null(a.data);
        npy_free(NULL, &a);
        assert_null(a.data);
        size_t size;
        unsigned char *bytes = read_bytes(TMP_PATH, &size);
        assert_int_equal((size - 4 * count) % 64, 0);
        free(bytes);
    }
    free(values);
    remove(TMP_PATH);
}

/* The bytes NumPy's np.save writes for a 2x3 float32 array. */
static void test_writes_numpy_bytes(void **state)
{
    (void)state;
    const uint64_t shape[2] = {2, 3};
    const float values[6] = {0, 1, 2, 3, 4, 5};
    assert_int_equal(npy_write(NULL, TMP_PATH, shape, 2, values), EVK_SUCCESS);
    size_t size;
    unsigned char *bytes = read_bytes(TMP_PATH, &size);
    const char dict[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    assert_int_equal(size, 128 + 24);
    assert_memory_equal(bytes, "\x93NUMPY\x01\x00\x76\x00", 10);
    assert_memory_equal(bytes + 10, dict, strlen(dict));
    for (size_t i = 10 + strlen(dict); i < 127; ++i)
        assert_int_equal(bytes[i], ' ');
    assert_int_equal(bytes[127], '\n');
    assert_memory_equal(bytes + 128, "\x00\x00\x00\x00\x00\x00\x80\x3f", 8);
    free(bytes);

    const uint64_t vector = 7;
    assert_int_equal(npy_write(NULL, TMP_PATH, shape, 0, values), EVK_SUCCESS);
    bytes = read_bytes(TMP_PATH, &size);
    assert_true(tu_contains((const char *)bytes + 10, "'shape': (), }"));
    free(bytes);
    assert_int_equal(npy_write(NULL, TMP_PATH, &vector, 1, NULL), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_INVALID_ARGUMENT, "data is NULL");
    remove(TMP_PATH);
}

static void expect_read(int major, const char *dict, size_t count, uint32_t rank,
                        const uint64_t *shape)
{
    float values[6] = {1.5f, -2, 3, 4, 5, 6};
    size_t size;
    unsigned char *file = npy_make(major, dict, values, count, &size);
    npy_array a;
    evk_status status = npy_read_memory(NULL, NAME, file, size, &a);
    if (status != EVK_SUCCESS)
        fail_msg("%s: %s", dict, evk_last_error(NULL));
    assert_int_equal(a.rank, rank);
    for (uint32_t d = 0; d < rank; ++d)
        assert_int_equal(a.shape[d], shape[d]);
    assert_int_equal(a.count, count);
    if (count)
        assert_memory_equal(a.data, values, count * sizeof(float));
    npy_free(NULL, &a);
    free(file);
}

static void test_versions_and_dict_forms(void **state)
{
    (void)state;
    const uint64_t s23[2] = {2, 3}, s6[1] = {6};
    expect_read(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }   \n", 6, 2, s23);
    expect_read(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", 6, 2, s23);
    expect_read(3, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }\n", 6, 1, s6);
    expect_read(1, "{'shape':(6,),'fortran_order':False,'descr':'<f4'}\n", 6, 1, s6);
    expect_read(1, "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,3,)}\n", 6, 2,
                s23);
    expect_read(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n", 1, 0, NULL);
    expect_read(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }\n", 0, 2,
                (const uint64_t[]){0, 3});
}

static void expect_failure(int major, const char *dict, size_t count, evk_status status,
                           const char *word)
{
    const float values[8] = {0};
    size_t size;
    unsigned char *file = npy_make(major, dict, values, count, &size);
    npy_array a = {.rank = 99};
    assert_int_equal(npy_read_memory(NULL, NAME, file, size, &a), status);
    tu_assert_message(evk_last_error(NULL), status, word);
    tu_assert_message(evk_last_error(NULL), status, NAME);
    assert_true(a.rank == 0 && a.data == NULL);
    /* The same through a file. */
    write_bytes(TMP_PATH, file, size);
    assert_int_equal(npy_read(NULL, TMP_PATH, &a), status);
    tu_assert_message(evk_last_error(NULL), status, word);
    tu_assert_message(evk_last_error(NULL), status, TMP_PATH);
    assert_true(a.rank == 0 && a.data == NULL);
    remove(TMP_PATH);
    free(file);
}

#define DICT(descr, order, shape) \
    "{'descr': " descr ", 'fortran_order': " order ", 'shape': " shape ", }\n"

static void test_bad_dicts(void **state)
{
    (void)state;
    const evk_status bad = EVK_ERROR_INVALID_ARGUMENT;
    expect_failure(1, DICT("'<f8'", "False", "(2,)"), 4, EVK_ERROR_UNSUPPORTED, "'<f8'");
    expect_failure(1, DICT("'>f4'", "False", "(2,)"), 2, EVK_ERROR_UNSUPPORTED, "dtype");
    expect_failure(1, DICT("'<f4'", "True", "(2, 3)"), 6, EVK_ERROR_UNSUPPORTED, "fortran");
    expect_failure(1, DICT("'<f4'", "0", "(2, 3)"), 6, bad, "fortran_order");
    expect_failure(1, DICT("'<f4'", "False", "(3)"), 3, bad, "trailing comma");
    expect_failure(1, DICT("'<f4'", "False", "(-3,)"), 3, bad, "non-negative");
    expect_failure(1, DICT("'<f4'", "False", "(03,)"), 3, bad, "leading zero");
    expect_failure(1, DICT("'<f4'", "False", "(2 3)"), 6, bad, "expected ','");
    expect_failure(1, DICT("'<f4'", "False", "[2, 3]"), 6, bad, "expected '('");
    expect_failure(1, DICT("'<f4'", "False", "(1,1,1,1,1,1,1,1,1)"), 1, EVK_ERROR_LIMIT_EXCEEDED,
                   "rank");
    expect_failure(1, DICT("'<f4'", "False", "(99999999999999999999,)"), 0, bad, "range");
    expect_failure(1, DICT("'<f4'", "False", "(4294967296, 4294967296, 2)"), 0, bad, "overflow");
    expect_failure(1, "{'descr': '<f4', 'shape': (2,), }\n", 2, bad, "missing key 'fortran_order'");
    expect_failure(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}\n", 2, bad,
                   "unknown key 'x'");
    expect_failure(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}\n",
                   2, bad, "duplicate key 'descr'");
    expect_failure(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 2, bad,
                   "newline");
    expect_failure(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } x\n", 2, bad,
                   "newline");
    expect_failure(1, "{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}\n", 2, bad,
                   "expected ','");
    expect_failure(1, "{'descr: '<f4', 'fortran_order': False, 'shape': (2,)}\n", 2, bad,
                   "expected ':'");
    expect_failure(1, "{'descr\\'': 1}\n", 0, bad, "unsupported character");
    expect_failure(1, "{'descr", 0, bad, "unterminated string");
    expect_failure(1, "", 0, bad, "expected '{'");
}

static void test_bad_data_and_preamble(void **state)
{
    (void)state;
    const evk_status bad = EVK_ERROR_INVALID_ARGUMENT;
    expect_failure(1, DICT("'<f4'", "False", "(2, 3)"), 5, bad, "truncated: 20 bytes");
    expect_failure(1, DICT("'<f4'", "False", "(2, 3)"), 7, bad, "too long: 28 bytes");
    expect_failure(1, DICT("'<f4'", "False", "()"), 0, bad, "truncated");
    /* A huge shape in a small file is refused before any allocation. */
    expect_failure(1, DICT("'<f4'", "False", "(1000000000000,)"), 2, bad, "truncated: 8 bytes");

    size_t size;
    unsigned char *file = npy_make(1, DICT("'<f4'", "False", "(1,)"), (const float[]){1}, 1, &size);
    npy_array a;
    file[1] = 'n';
    assert_int_equal(npy_read_memory(NULL, NAME, file, size, &a), bad);
    tu_assert_message(evk_last_error(NULL), bad, "bad magic");
    file[1] = 'N';
    file[6] = 4;
    assert_int_equal(npy_read_memory(NULL, NAME, file, size, &a), EVK_ERROR_UNSUPPORTED);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_UNSUPPORTED, "version 4.0");
    file[6] = 1;
    file[7] = 1;
    assert_int_equal(npy_read_memory(NULL, NAME, file, size, &a), EVK_ERROR_UNSUPPORTED);
    file[7] = 0;
    for (size_t cut = 0; cut < size - 4; cut += 3) {
        assert_int_equal(npy_read_memory(NULL, NAME, file, cut, &a), bad);
        tu_assert_message(evk_last_error(NULL), bad, "truncated");
        write_bytes(TMP_PATH, file, cut);
        assert_int_equal(npy_read(NULL, TMP_PATH, &a), bad);
        tu_assert_message(evk_last_error(NULL), bad, "truncated");
    }
    free(file);
    remove(TMP_PATH);

    file = npy_make(2, "{}\n", NULL, 0, &size);
    memset(file + 8, 0xFF, 4);
    assert_int_equal(npy_read_memory(NULL, NAME, file, size, &a), EVK_ERROR_LIMIT_EXCEEDED);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_LIMIT_EXCEEDED, "header length");
    free(file);

    assert_int_equal(npy_read(NULL, ".", &a), EVK_ERROR_IO);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_IO, "not a regular file");
    assert_int_equal(npy_read(NULL, "no/such/file.npy", &a), EVK_ERROR_IO);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_IO, "no/such/file.npy");
    const uint64_t shape[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    assert_int_equal(npy_write(NULL, "no/such/dir/x.npy", shape, 1, (const float[]){1}),
                     EVK_ERROR_IO);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_IO, "no/such/dir/x.npy");
    assert_int_equal(npy_write(NULL, TMP_PATH, shape, 9, (const float[]){1}),
                     EVK_ERROR_LIMIT_EXCEEDED);
    assert_int_equal(npy_read_memory(NULL, NAME, NULL, 4, &a), bad);
    assert_int_equal(npy_read(NULL, NULL, &a), bad);
}

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

/* A context made by hand: the reader uses only its allocator and error. */
static void test_context_allocator(void **state)
{
    (void)state;
    const uint64_t shape[2] = {2, 3};
    const float values[6] = {1, 2, 3, 4, 5, 6};
    assert_int_equal(npy_write(NULL, TMP_PATH, shape, 2, values), EVK_SUCCESS);
    size_t size;
    unsigned char *bytes = read_bytes(TMP_PATH, &size);
    counting_allocator counts = {0, 0, -1};
    evk_context *ctx = calloc(1, sizeof *ctx);
    assert_non_null(ctx);
    ctx->allocator = (evk_allocator){counting_alloc, counting_free, &counts};
    for (int from_file = 0; from_file < 2; ++from_file) {
        counts = (counting_allocator){0, 0, -1};
        npy_array a;
        assert_int_equal(from_file ? npy_read(ctx, TMP_PATH, &a)
                                   : npy_read_memory(ctx, NAME, bytes, size, &a),
                         EVK_SUCCESS);
        assert_memory_equal(a.data, values, sizeof values);
        long needed = counts.calls;
        npy_free(ctx, &a);
        assert_int_equal(counts.live, 0);
        for (long fail_at = 0; fail_at < needed; ++fail_at) {
            counts = (counting_allocator){0, 0, fail_at};
            assert_int_equal(from_file ? npy_read(ctx, TMP_PATH, &a)
                                       : npy_read_memory(ctx, NAME, bytes, size, &a),
                             EVK_ERROR_OUT_OF_HOST_MEMORY);
            tu_assert_message(evk_last_error(ctx), EVK_ERROR_OUT_OF_HOST_MEMORY, "allocation");
            tu_assert_message(evk_last_error(ctx), EVK_ERROR_OUT_OF_HOST_MEMORY,
                              from_file ? TMP_PATH : NAME);
            assert_int_equal(counts.live, 0);
            assert_true(a.data == NULL && a.rank == 0 && a.count == 0);
        }
    }
    free(ctx);
    free(bytes);
    remove(TMP_PATH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_writes_numpy_bytes),
        cmocka_unit_test(test_versions_and_dict_forms),
        cmocka_unit_test(test_bad_dicts),
        cmocka_unit_test(test_bad_data_and_preamble),
        cmocka_unit_test(test_context_allocator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
