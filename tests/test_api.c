/* GPU-free tier: everything here runs without a Vulkan device. Desc
 * validation and shape arithmetic of conv2d, status names, shape sizes, and
 * argument errors of calls that must fail before touching Vulkan. */
#include <math.h>
#include <string.h>

#include "test_util.h"

static const float weights[4096];   /* zeros: values do not matter here */

/* A valid 3x3 conv 4 -> 8 with padding 1, the base the tests vary. */
static evk_conv2d_desc base_desc(void)
{
    evk_conv2d_desc d = {.in_channels = 4, .out_channels = 8, .kernel_h = 3, .kernel_w = 3,
                         .pad_h = 1, .pad_w = 1, .weight = weights};
    return d;
}

static evk_shape shape(uint32_t n, uint32_t c, uint32_t h, uint32_t w)
{
    evk_shape s = {n, c, h, w};
    return s;
}

static void assert_shape(evk_shape got, uint32_t n, uint32_t c, uint32_t h, uint32_t w)
{
    if (got.n != n || got.c != c || got.h != h || got.w != w)
        fail_msg("shape %ux%ux%ux%u, expected %ux%ux%ux%u", got.n, got.c, got.h, got.w, n, c, h, w);
}

static evk_shape output_of(const evk_conv2d_desc *d, evk_shape in)
{
    evk_shape out = {0, 0, 0, 0};
    evk_status s = evk_conv2d_output_shape(d, in, &out);
    if (s != EVK_SUCCESS)
        fail_msg("evk_conv2d_output_shape: %s", evk_last_error(NULL));
    return out;
}

/* Fails unless `d` on `in` is rejected with `expected` and a thread message
 * that contains `word` (the message must name the problem). */
static void assert_rejected(const evk_conv2d_desc *d, evk_shape in, evk_status expected,
                            const char *word)
{
    evk_shape out;
    evk_status s = evk_conv2d_output_shape(d, in, &out);
    if (s != expected)
        fail_msg("status %s, expected %s", evk_status_string(s), evk_status_string(expected));
    uint64_t macs;
    assert_int_equal(evk_conv2d_cost(d, in, &macs, NULL), expected);
    tu_assert_message(evk_last_error(NULL), expected, word);
}

static void test_status_strings(void **state)
{
    (void)state;
    static const struct { evk_status status; const char *name; } all[] = {
        {EVK_SUCCESS, "EVK_SUCCESS"},
        {EVK_ERROR_INVALID_ARGUMENT, "EVK_ERROR_INVALID_ARGUMENT"},
        {EVK_ERROR_SHAPE_MISMATCH, "EVK_ERROR_SHAPE_MISMATCH"},
        {EVK_ERROR_OUT_OF_HOST_MEMORY, "EVK_ERROR_OUT_OF_HOST_MEMORY"},
        {EVK_ERROR_OUT_OF_DEVICE_MEMORY, "EVK_ERROR_OUT_OF_DEVICE_MEMORY"},
        {EVK_ERROR_LIMIT_EXCEEDED, "EVK_ERROR_LIMIT_EXCEEDED"},
        {EVK_ERROR_NO_DEVICE, "EVK_ERROR_NO_DEVICE"},
        {EVK_ERROR_UNSUPPORTED, "EVK_ERROR_UNSUPPORTED"},
        {EVK_ERROR_VULKAN, "EVK_ERROR_VULKAN"},
        {EVK_ERROR_DEVICE_LOST, "EVK_ERROR_DEVICE_LOST"},
        {EVK_ERROR_IO, "EVK_ERROR_IO"},
    };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        assert_string_equal(evk_status_string(all[i].status), all[i].name);
    /* "never NULL", also for a value outside the enum. */
    const char *unknown = evk_status_string((evk_status)-1000);
    assert_non_null(unknown);
    assert_true(unknown[0] != '\0');
}

static void test_shape_sizes(void **state)
{
    (void)state;
    assert_int_equal(evk_shape_elements(shape(1, 1, 1, 1)), 1);
    assert_int_equal(evk_shape_elements(shape(2, 5, 7, 3)), 210);
    assert_int_equal(evk_shape_elements(shape(3, 13, 0, 17)), 0);
    /* The product must be computed in 64 bits. */
    assert_int_equal(evk_shape_elements(shape(70000, 70000, 1, 1)), 4900000000ull);
    assert_int_equal(evk_shape_elements(shape(65535, 65535, 65535, 65535)),
                     65535ull * 65535ull * 65535ull * 65535ull);
    /* Channels padded to a multiple of 4, 4 bytes each. */
    assert_int_equal(evk_shape_device_bytes(shape(1, 1, 1, 1)), 16);
    assert_int_equal(evk_shape_device_bytes(shape(1, 4, 1, 1)), 16);
    assert_int_equal(evk_shape_device_bytes(shape(1, 5, 1, 1)), 32);
    assert_int_equal(evk_shape_device_bytes(shape(2, 5, 7, 3)), 2 * 8 * 7 * 3 * 4);
    assert_int_equal(evk_shape_device_bytes(shape(3, 13, 1, 17)), 3 * 16 * 17 * 4);
    assert_int_equal(evk_shape_device_bytes(shape(1, 0, 1, 1)), 0);
    /* Past 64 bits both saturate at UINT64_MAX instead of wrapping (65536^4
     * is 2^64, which wrapped to 0). */
    assert_true(evk_shape_elements(shape(65536, 65536, 65536, 65536)) == UINT64_MAX);
    assert_true(evk_shape_elements(shape(UINT32_MAX, UINT32_MAX, UINT32_MAX, 2)) == UINT64_MAX);
    assert_true(evk_shape_device_bytes(shape(65536, 65536, 65536, 65536)) == UINT64_MAX);
    assert_true(evk_shape_device_bytes(shape(1, UINT32_MAX, UINT32_MAX, 4)) == UINT64_MAX);
    assert_true(evk_shape_device_bytes(shape(65536, 65536, 65536, 1024)) == (uint64_t)1 << 60);
}

/* Padding the largest channel counts to a multiple of 4 must not wrap
 * around (UINT32_MAX channels are 2^30 quads of 16 bytes). */
static void test_device_bytes_of_largest_channel_count(void **state)
{
    (void)state;
    assert_int_equal(evk_shape_device_bytes(shape(2, UINT32_MAX - 3, 1, 1)),
                     ((uint64_t)1 << 35) - 32);
    assert_int_equal(evk_shape_device_bytes(shape(1, UINT32_MAX, 1, 1)), (uint64_t)1 << 34);
}

static void test_conv2d_output_shapes(void **state)
{
    (void)state;
    evk_conv2d_desc d = base_desc();
    assert_shape(output_of(&d, shape(1, 4, 7, 5)), 1, 8, 7, 5);
    assert_shape(output_of(&d, shape(2, 4, 1, 1)), 2, 8, 1, 1);
    d.stride_h = d.stride_w = 2;        /* odd and even sizes round down */
    assert_shape(output_of(&d, shape(1, 4, 7, 8)), 1, 8, 4, 4);
    d.pad_h = d.pad_w = 0;
    assert_shape(output_of(&d, shape(1, 4, 3, 3)), 1, 8, 1, 1);
    assert_shape(output_of(&d, shape(3, 4, 13, 17)), 3, 8, 6, 8);
    d.kernel_h = 1;                     /* non-square kernel, pad and stride */
    d.pad_w = 1;
    d.stride_h = 2;
    d.stride_w = 1;
    assert_shape(output_of(&d, shape(1, 4, 5, 6)), 1, 8, 3, 6);
    d = base_desc();
    d.kernel_h = d.kernel_w = 7;
    d.pad_h = d.pad_w = 3;
    d.stride_h = d.stride_w = 2;
    assert_shape(output_of(&d, shape(1, 4, 224, 223)), 1, 8, 112, 112);
    d.pad_h = 0;                        /* kernel exactly as large as the padded input */
    d.pad_w = 2;
    assert_shape(output_of(&d, shape(1, 4, 7, 3)), 1, 8, 1, 1);
    d = base_desc();                    /* one more row at the bottom, one fewer column */
    d.stride_h = d.stride_w = 2;
    d.pad_bottom_extra = 1;
    d.pad_right_extra = -1;
    assert_shape(output_of(&d, shape(1, 4, 8, 9)), 1, 8, 5, 4);
    d.pad_h = 0;                        /* 0 rows at the top, 1 at the bottom */
    assert_shape(output_of(&d, shape(1, 4, 8, 9)), 1, 8, 4, 4);
}

static void test_conv2d_defaults(void **state)
{
    (void)state;
    evk_conv2d_desc zero = base_desc(), explicit_ = base_desc();
    explicit_.stride_h = explicit_.stride_w = 1;
    explicit_.groups = 1;
    evk_shape in = shape(2, 4, 9, 6);
    evk_shape a = output_of(&zero, in), b = output_of(&explicit_, in);
    assert_shape(a, b.n, b.c, b.h, b.w);
    uint64_t macs_zero, macs_explicit;
    assert_int_equal(evk_conv2d_cost(&zero, in, &macs_zero, NULL), EVK_SUCCESS);
    assert_int_equal(evk_conv2d_cost(&explicit_, in, &macs_explicit, NULL), EVK_SUCCESS);
    assert_int_equal(macs_zero, macs_explicit);
}

static void test_conv2d_groups_shapes(void **state)
{
    (void)state;
    evk_conv2d_desc d = base_desc();
    d.groups = 2;
    assert_shape(output_of(&d, shape(1, 4, 5, 5)), 1, 8, 5, 5);
    d.in_channels = d.out_channels = d.groups = 13;     /* depthwise */
    d.stride_h = d.stride_w = 2;
    assert_shape(output_of(&d, shape(2, 13, 11, 10)), 2, 13, 6, 5);
    d.in_channels = 9;                                  /* group size 3 */
    d.out_channels = 6;
    d.groups = 3;
    assert_shape(output_of(&d, shape(1, 9, 4, 4)), 1, 6, 2, 2);
}

static void test_conv2d_cost(void **state)
{
    (void)state;
    evk_conv2d_desc d = base_desc();
    uint64_t macs = 0, params = 0;
    /* 1x8x7x5 outputs, 4*3*3 MACs each; 8*36 weights. */
    assert_int_equal(evk_conv2d_cost(&d, shape(1, 4, 7, 5), &macs, &params), EVK_SUCCESS);
    assert_int_equal(macs, 280 * 36);
    assert_int_equal(params, 8 * 36);
    d.bias = weights;
    assert_int_equal(evk_conv2d_cost(&d, shape(1, 4, 7, 5), NULL, &params), EVK_SUCCESS);
    assert_int_equal(params, 8 * 36 + 8);
    /* BatchNorm folds into a bias. */
    d.bias = NULL;
    d.batchnorm = (evk_batchnorm){weights, weights, weights, weights, 8, 0.0f};
    assert_int_equal(evk_conv2d_cost(&d, shape(1, 4, 7, 5), &macs, &params), EVK_SUCCESS);
    assert_int_equal(macs, 280 * 36);
    assert_int_equal(params, 8 * 36 + 8);
}

/* Each op's costs saturate instead of wrapping: a count past 64 bits is
 * refused, naming the op. The descs name arrays they are never asked to
 * read: a cost reads only shapes and counts. */
static void test_cost_overflow(void **state)
{
    (void)state;
    static const float unread[1];
    const evk_shape huge = shape(65536, 4096, 65536, 65536);
    uint64_t macs, params;
    evk_conv2d_desc conv = {.in_channels = 4096, .out_channels = 4096, .kernel_h = 3,
                            .kernel_w = 3, .pad_h = 1, .pad_w = 1, .weight = unread,
                            .weight_count = 4096ull * 4096 * 9};
    assert_int_equal(evk_conv2d_cost(&conv, huge, &macs, &params), EVK_ERROR_LIMIT_EXCEEDED);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_LIMIT_EXCEEDED, "conv2d");
    assert_int_equal(evk_conv2d_cost(&conv, shape(1, 4096, 64, 64), &macs, NULL), EVK_SUCCESS);
    assert_true(macs == 64ull * 64 * 4096 * 4096 * 9);
    evk_hetconv_desc het = {.in_channels = 4096, .out_channels = 4096, .kernel_size = 3,
                            .part = 4, .weight = unread, .weight_count = 4096ull * 4096 * 9};
    assert_int_equal(evk_hetconv_cost(&het, huge, &macs, &params), EVK_ERROR_LIMIT_EXCEEDED);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_LIMIT_EXCEEDED, "hetconv");
    evk_mbconv_desc mb = {.in_channels = 4096, .out_channels = 4096, .expand_ratio = 6,
                          .expand_weight = unread, .expand_weight_count = 6ull * 4096 * 4096,
                          .depthwise_weight = unread, .depthwise_weight_count = 6ull * 4096 * 9,
                          .se_fc1_weight = unread, .se_fc1_weight_count = 1024ull * 6 * 4096,
                          .se_fc1_bias = unread, .se_fc1_bias_count = 1024,
                          .se_fc2_weight = unread, .se_fc2_weight_count = 1024ull * 6 * 4096,
                          .se_fc2_bias = unread, .se_fc2_bias_count = 6 * 4096,
                          .project_weight = unread, .project_weight_count = 6ull * 4096 * 4096};
    assert_int_equal(evk_mbconv_cost(&mb, huge, &macs, &params), EVK_ERROR_LIMIT_EXCEEDED);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_LIMIT_EXCEEDED, "mbconv");
    evk_octconv_desc oct = {.in_channels = 4096, .out_channels = 4096, .alpha_in = 0.5,
                            .alpha_out = 0.5, .kernel_size = 3, .weight_hh = unread,
                            .weight_hh_count = 2048ull * 2048 * 9, .weight_hl = unread,
                            .weight_hl_count = 2048ull * 2048 * 9, .weight_lh = unread,
                            .weight_lh_count = 2048ull * 2048 * 9, .weight_ll = unread,
                            .weight_ll_count = 2048ull * 2048 * 9};
    assert_int_equal(evk_octconv_cost(&oct, shape(65536, 2048, 65536, 65536), &macs, &params),
                     EVK_ERROR_LIMIT_EXCEEDED);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_LIMIT_EXCEEDED, "octconv");
}

static void test_conv2d_cost_groups(void **state)
{
    (void)state;
    uint64_t macs = 0, params = 0;
    /* Depthwise: one input channel per output. */
    evk_conv2d_desc d = base_desc();
    d.in_channels = d.out_channels = d.groups = 8;
    assert_int_equal(evk_conv2d_cost(&d, shape(2, 8, 6, 6), &macs, &params), EVK_SUCCESS);
    assert_int_equal(macs, 2 * 8 * 36 * 9);
    assert_int_equal(params, 8 * 9);
    /* Grouped, stride 2: 2 input channels per group. */
    d.in_channels = 4;
    d.groups = 2;
    d.stride_h = d.stride_w = 2;
    assert_int_equal(evk_conv2d_cost(&d, shape(1, 4, 7, 7), &macs, &params), EVK_SUCCESS);
    assert_int_equal(macs, 8 * 16 * 18);
    assert_int_equal(params, 8 * 18);
    /* MACs beyond 32 bits. */
    d = base_desc();
    d.in_channels = d.out_channels = 1024;
    assert_int_equal(evk_conv2d_cost(&d, shape(8, 1024, 64, 64), &macs, NULL), EVK_SUCCESS);
    assert_int_equal(macs, 8ull * 1024 * 64 * 64 * 1024 * 9);
}

static void test_conv2d_shape_mismatch(void **state)
{
    (void)state;
    evk_conv2d_desc d = base_desc();
    assert_rejected(&d, shape(1, 5, 7, 7), EVK_ERROR_SHAPE_MISMATCH, "channels");
    d.kernel_h = d.kernel_w = 5;        /* padded input 4x4 < 5x5 */
    assert_rejected(&d, shape(1, 4, 2, 2), EVK_ERROR_SHAPE_MISMATCH, "kernel");
    assert_rejected(&d, shape(1, 4, 9, 2), EVK_ERROR_SHAPE_MISMATCH, "kernel");
    d.pad_h = d.pad_w = 0;
    assert_rejected(&d, shape(1, 4, 4, 9), EVK_ERROR_SHAPE_MISMATCH, "kernel");
    d = base_desc();                    /* 3x3 on 1 + 2 + 0 rows of padded input */
    d.pad_bottom_extra = -1;
    assert_rejected(&d, shape(1, 4, 1, 5), EVK_ERROR_SHAPE_MISMATCH, "kernel");
    d = base_desc();
    assert_rejected(&d, shape(0, 4, 7, 7), EVK_ERROR_INVALID_ARGUMENT, "zero");
    assert_rejected(&d, shape(1, 4, 7, 0), EVK_ERROR_INVALID_ARGUMENT, "zero");
}

static void test_conv2d_bad_desc(void **state)
{
    (void)state;
    evk_shape in = shape(1, 4, 7, 7);
    evk_conv2d_desc d = base_desc();
    d.groups = 3;                       /* divides neither 4 nor 8 */
    assert_rejected(&d, in, EVK_ERROR_INVALID_ARGUMENT, "groups");
    d = base_desc();
    d.groups = 4;                       /* divides 4 and 8 ... */
    d.out_channels = 6;                 /* ... but not 6 */
    assert_rejected(&d, in, EVK_ERROR_INVALID_ARGUMENT, "groups");
    d = base_desc();
    d.out_channels = 0;
    assert_rejected(&d, in, EVK_ERROR_INVALID_ARGUMENT, "out_channels");
    d = base_desc();
    d.in_channels = 0;
    assert_rejected(&d, shape(1, 1, 7, 7), EVK_ERROR_INVALID_ARGUMENT, "in_channels");
    d = base_desc();
    d.kernel_w = 0;
    assert_rejected(&d, in, EVK_ERROR_INVALID_ARGUMENT, "kernel");
    d = base_desc();
    d.weight = NULL;
    assert_rejected(&d, in, EVK_ERROR_INVALID_ARGUMENT, "weight");
    d = base_desc();
    d.activation = (evk_activation)5;
    assert_rejected(&d, in, EVK_ERROR_INVALID_ARGUMENT, "activation");
    d.activation = (evk_activation)-1;
    assert_rejected(&d, in, EVK_ERROR_INVALID_ARGUMENT, "activation");
    d = base_desc();                    /* an end that pads less than nothing */
    d.pad_bottom_extra = -2;
    assert_rejected(&d, in, EVK_ERROR_INVALID_ARGUMENT, "bottom");
    d = base_desc();
    d.pad_right_extra = 1023;           /* 1024 columns at the right */
    assert_rejected(&d, in, EVK_ERROR_INVALID_ARGUMENT, "right");
    d.pad_right_extra = INT32_MIN;
    assert_rejected(&d, in, EVK_ERROR_INVALID_ARGUMENT, "right");
    assert_int_equal(evk_conv2d_output_shape(NULL, in, &in), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_INVALID_ARGUMENT, "desc");
    d = base_desc();
    assert_int_equal(evk_conv2d_output_shape(&d, in, NULL), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_INVALID_ARGUMENT, "output");
}

static void test_conv2d_bad_batchnorm(void **state)
{
    (void)state;
    static const float ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    static const float negative[8] = {1, 1, 1, 1, 1, -0.5f, 1, 1};
    evk_shape in = shape(1, 4, 7, 7);
    evk_conv2d_desc d = base_desc();
    d.batchnorm = (evk_batchnorm){ones, ones, NULL, NULL, 8, 0.0f};
    assert_rejected(&d, in, EVK_ERROR_INVALID_ARGUMENT, "batchnorm");
    d.batchnorm = (evk_batchnorm){NULL, ones, ones, ones, 8, 0.0f};
    assert_rejected(&d, in, EVK_ERROR_INVALID_ARGUMENT, "batchnorm");
    d.batchnorm = (evk_batchnorm){ones, ones, ones, negative, 8, 0.0f};
    assert_rejected(&d, in, EVK_ERROR_INVALID_ARGUMENT, "var");
    float nan_var[8] = {1, 1, 1, 1, 1, 1, 1, NAN};
    d.batchnorm.var = nan_var;
    assert_rejected(&d, in, EVK_ERROR_INVALID_ARGUMENT, "var");
    d.batchnorm = (evk_batchnorm){ones, ones, ones, ones, 8, -1e-3f};
    assert_rejected(&d, in, EVK_ERROR_INVALID_ARGUMENT, "eps");
    d.batchnorm.eps = 1e-3f;
    /* Shapes and costs read the variances, so they check the count too. */
    d.batchnorm.count = 7;
    assert_rejected(&d, in, EVK_ERROR_INVALID_ARGUMENT, "batchnorm count is 7, expected 8");
    d.batchnorm.count = 8;              /* the same desc, complete, is fine */
    assert_shape(output_of(&d, in), 1, 8, 7, 7);
}

/* An allocator that counts calls and always fails: argument errors must not
 * allocate, and the first allocation's failure must be reported. */
static void *counting_alloc(size_t size, void *user)
{
    (void)size;
    ++*(int *)user;
    return NULL;
}

static void counting_free(void *ptr, void *user)
{
    (void)ptr;
    ++*(int *)user;
}

static void assert_create_rejected(const evk_context_desc *desc, const char *word)
{
    static char sentinel;
    evk_context *ctx = (evk_context *)(void *)&sentinel; /* must be overwritten with NULL */
    assert_int_equal(evk_context_create(desc, &ctx), EVK_ERROR_INVALID_ARGUMENT);
    assert_null(ctx);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_INVALID_ARGUMENT, word);
}

static void test_context_create_arguments(void **state)
{
    (void)state;
    assert_int_equal(evk_context_create(NULL, NULL), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_INVALID_ARGUMENT, "out");
    int calls = 0;
    evk_context_desc d = {.allocator = {counting_alloc, NULL, &calls}};
    assert_create_rejected(&d, "allocator");
    d.allocator = (evk_allocator){NULL, counting_free, &calls};
    assert_create_rejected(&d, "allocator");
    /* Bogus handles: any Vulkan call on them would crash, so passing proves
     * the check comes first. */
    d.allocator = (evk_allocator){counting_alloc, counting_free, &calls};
    d.external.instance = (void *)(uintptr_t)0x10;
    assert_create_rejected(&d, "external");
    d.external.physical_device = d.external.device = (void *)(uintptr_t)0x20;
    assert_create_rejected(&d, "external");
    d.external.instance = NULL;
    d.external.queue = (void *)(uintptr_t)0x30;
    assert_create_rejected(&d, "external");
    assert_int_equal(calls, 0);
}

/* The first host allocation of evk_context_create (the context itself)
 * comes before any Vulkan call, so its failure is testable without a
 * device: EVK_ERROR_OUT_OF_HOST_MEMORY, out NULL, nothing left allocated. */
static void test_context_create_out_of_memory(void **state)
{
    (void)state;
    int calls = 0;
    evk_context_desc d = {.allocator = {counting_alloc, counting_free, &calls}};
    static char sentinel;
    evk_context *ctx = (evk_context *)(void *)&sentinel;
    assert_int_equal(evk_context_create(&d, &ctx), EVK_ERROR_OUT_OF_HOST_MEMORY);
    assert_null(ctx);
    assert_int_equal(calls, 1);         /* one failed alloc, no free */
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_OUT_OF_HOST_MEMORY, "alloc");
}

/* Leaves a thread message that names no NULL, so that the next check sees
 * a message its own call wrote. */
static void overwrite_thread_message(void)
{
    evk_conv2d_desc d = base_desc();
    d.kernel_h = 0;
    evk_shape out;
    assert_int_equal(evk_conv2d_output_shape(&d, shape(1, 4, 1, 1), &out),
                     EVK_ERROR_INVALID_ARGUMENT);
    assert_false(tu_contains(evk_last_error(NULL), "NULL"));
}

/* `call`, given a NULL it cannot use, fails with INVALID_ARGUMENT and a
 * thread message (there is no context) that says what is NULL. */
#define ASSERT_NULL_REJECTED(call)                                                    \
    do {                                                                              \
        overwrite_thread_message();                                                   \
        assert_int_equal((call), EVK_ERROR_INVALID_ARGUMENT);                         \
        tu_assert_message(evk_last_error(NULL), EVK_ERROR_INVALID_ARGUMENT, "NULL");  \
    } while (0)

static void test_null_arguments(void **state)
{
    (void)state;
    evk_context_stats stats;
    evk_device_properties props;
    evk_peak peak;
    evk_shape out;
    double ms;
    float data[1] = {0};
    evk_tensor *t = NULL;
    evk_layer *layer = NULL;
    evk_conv2d_desc d = base_desc();
    ASSERT_NULL_REJECTED(evk_context_stats_get(NULL, &stats));
    ASSERT_NULL_REJECTED(evk_context_device_info(NULL, &props));
    ASSERT_NULL_REJECTED(evk_context_last_gpu_ms(NULL, &ms));
    ASSERT_NULL_REJECTED(evk_context_save_pipeline_cache(NULL));
    ASSERT_NULL_REJECTED(evk_device_count(NULL));
    ASSERT_NULL_REJECTED(evk_device_info(0, NULL));
    ASSERT_NULL_REJECTED(evk_tensor_create(NULL, shape(1, 1, 1, 1), &t));
    ASSERT_NULL_REJECTED(evk_tensor_upload(NULL, data, 1));
    ASSERT_NULL_REJECTED(evk_tensor_download(NULL, data, 1));
    ASSERT_NULL_REJECTED(evk_conv2d_create(NULL, &d, &layer));
    ASSERT_NULL_REJECTED(evk_layer_forward(NULL, NULL, NULL));
    ASSERT_NULL_REJECTED(evk_layer_forward_repeat(NULL, NULL, NULL, 3));
    ASSERT_NULL_REJECTED(evk_layer_output_shape(NULL, shape(1, 1, 1, 1), &out));
    ASSERT_NULL_REJECTED(evk_measure_peak(NULL, &peak));
    assert_shape(evk_tensor_shape(NULL), 0, 0, 0, 0);
    assert_string_equal(evk_layer_kernel_name(NULL), "");
    /* Destroy functions accept NULL. */
    evk_tensor_destroy(NULL);
    evk_layer_destroy(NULL);
    evk_context_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_strings),
        cmocka_unit_test(test_shape_sizes),
        cmocka_unit_test(test_device_bytes_of_largest_channel_count),
        cmocka_unit_test(test_conv2d_output_shapes),
        cmocka_unit_test(test_conv2d_defaults),
        cmocka_unit_test(test_conv2d_groups_shapes),
        cmocka_unit_test(test_conv2d_cost),
        cmocka_unit_test(test_conv2d_cost_groups),
        cmocka_unit_test(test_cost_overflow),
        cmocka_unit_test(test_conv2d_shape_mismatch),
        cmocka_unit_test(test_conv2d_bad_desc),
        cmocka_unit_test(test_conv2d_bad_batchnorm),
        cmocka_unit_test(test_context_create_arguments),
        cmocka_unit_test(test_context_create_out_of_memory),
        cmocka_unit_test(test_null_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
