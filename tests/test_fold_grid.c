/* GPU-free tier: evk_fold_grid, which turns a 1-D workgroup count into a
 * 3-D grid within maxComputeWorkGroupCount (65535 per dimension on many
 * GPUs). Shaders recover the linear index x + X (y + Y z) and skip indices
 * past the count, so a grid is right when it stays within the limits and
 * covers the count, and it is folded rather than padded when its last layer
 * (row in 2-D) holds at least one real group. */
#include "test_util.h"

#include "command.h"

static void assert_folds(uint64_t count, const uint32_t limit[3])
{
    uint32_t grid[3] = {0, 0, 0};
    if (!evk_fold_grid(count, limit, grid))
        fail_msg("%llu groups within %u x %u x %u rejected", (unsigned long long)count, limit[0],
                 limit[1], limit[2]);
    for (int d = 0; d < 3; ++d)
        if (grid[d] < 1 || grid[d] > limit[d])
            fail_msg("%llu groups: grid %u x %u x %u outside the limits %u x %u x %u",
                     (unsigned long long)count, grid[0], grid[1], grid[2], limit[0], limit[1],
                     limit[2]);
    uint64_t layer = (uint64_t)grid[0] * grid[1], covered = layer * grid[2];
    uint64_t last_layer = grid[2] > 1 ? layer : grid[1] > 1 ? grid[0] : 1;
    if (covered < count || covered - count >= last_layer)
        fail_msg("%llu groups: grid %u x %u x %u covers %llu", (unsigned long long)count, grid[0],
                 grid[1], grid[2], (unsigned long long)covered);
}

static void assert_too_large(uint64_t count, const uint32_t limit[3])
{
    uint32_t grid[3];
    if (evk_fold_grid(count, limit, grid))
        fail_msg("%llu groups accepted within %u x %u x %u", (unsigned long long)count, limit[0],
                 limit[1], limit[2]);
}

static void test_one_dimension_when_it_fits(void **state)
{
    (void)state;
    const uint32_t limit[3] = {65535, 65535, 65535};
    const uint64_t counts[] = {1, 2, 7, 64, 65534, 65535};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; ++i) {
        uint32_t grid[3] = {0, 0, 0};
        assert_true(evk_fold_grid(counts[i], limit, grid));
        assert_int_equal(grid[0], counts[i]);
        assert_int_equal(grid[1], 1);
        assert_int_equal(grid[2], 1);
    }
}

/* Every count a small limit can hold, as desc.max_workgroup_count = 7 makes
 * the library do: 1-D up to 7, 2-D up to 49, 3-D up to 343, then failure. */
static void test_every_count_within_small_limits(void **state)
{
    (void)state;
    const uint32_t limit[3] = {7, 7, 7};
    for (uint64_t count = 1; count <= 343; ++count) {
        assert_folds(count, limit);
        uint32_t grid[3];
        evk_fold_grid(count, limit, grid);
        if (count <= 7)
            assert_int_equal(grid[1] * grid[2], 1);
        else if (count <= 49)
            assert_int_equal(grid[2], 1);
    }
    assert_too_large(344, limit);
    assert_too_large(1000000, limit);
}

static void test_unequal_limits(void **state)
{
    (void)state;
    const uint32_t limit[3] = {4, 2, 3};
    for (uint64_t count = 1; count <= 24; ++count)
        assert_folds(count, limit);
    assert_too_large(25, limit);
    const uint32_t single[3] = {1, 1, 1};
    assert_folds(1, single);
    assert_too_large(2, single);
}

static void test_device_sized_limits(void **state)
{
    (void)state;
    const uint32_t limit[3] = {65535, 65535, 65535};
    const uint64_t max = 65535ull * 65535ull * 65535ull;
    const uint64_t counts[] = {65536, 65535ull * 65535ull, 65535ull * 65535ull + 1,
                               (uint64_t)1 << 32, 123456789012ull, max - 1, max};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; ++i)
        assert_folds(counts[i], limit);
    assert_too_large(max + 1, limit);
    assert_too_large((uint64_t)1 << 62, limit);
}

/* Counts near 2^64 must fail cleanly, not wrap around in the arithmetic. */
static void test_extreme_counts(void **state)
{
    (void)state;
    const uint32_t limit[3] = {65535, 65535, 65535};
    assert_too_large(UINT64_MAX - 1, limit);
    assert_too_large(UINT64_MAX, limit);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_dimension_when_it_fits),
        cmocka_unit_test(test_every_count_within_small_limits),
        cmocka_unit_test(test_unequal_limits),
        cmocka_unit_test(test_device_sized_limits),
        cmocka_unit_test(test_extreme_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
