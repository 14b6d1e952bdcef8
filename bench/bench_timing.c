/* Timing a result: a warm-up, then GPU timestamps and wall clock of each
 * timed run (bench_time, bench_time_at_most), or of rounds over several
 * cases (bench_time_interleaved); medians and minimum into the result. */
/* clock_gettime(CLOCK_MONOTONIC) is POSIX, not C11. */
#define _POSIX_C_SOURCE 199309L

#include <stdlib.h>
#include <time.h>

#include "bench_run.h"

static double monotonic_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec * 1e3 + (double)now.tv_nsec * 1e-6;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts `values` in place. */
static double median(double *values, uint32_t count)
{
    qsort(values, count, sizeof *values, compare_doubles);
    if (count % 2)
        return values[count / 2];
    return 0.5 * (values[count / 2 - 1] + values[count / 2]);
}

static void set_timing(bench_result *result, double *gpu_ms, double *wall_ms, uint32_t count)
{
    result->iterations = count;
    result->gpu_ms_median = median(gpu_ms, count);
    result->gpu_ms_min = gpu_ms[0]; /* median() sorted them */
    result->wall_ms_median = median(wall_ms, count);
}

static evk_status time_iterations(bench_run *run, bench_forward_fn forward, void *user_data,
                                  uint32_t count, double *gpu_ms, double *wall_ms)
{
    evk_status s = EVK_SUCCESS;
    for (uint32_t i = 0; s == EVK_SUCCESS && i < count; ++i) {
        double start = monotonic_ms();
        s = forward(user_data);
        wall_ms[i] = monotonic_ms() - start;
        if (s == EVK_SUCCESS)
            s = evk_context_last_gpu_ms(run->ctx, &gpu_ms[i]);
    }
    return s;
}

evk_status bench_time_at_most(bench_run *run, bench_forward_fn forward, void *user_data,
                              uint32_t max_iterations, bench_result *result)
{
    evk_status s = bench_check(run, forward(user_data), result->name);
    if (s != EVK_SUCCESS)
        return s;
    uint32_t count = run->options->iterations;
    if (max_iterations < count)
        count = max_iterations ? max_iterations : 1;
    double *gpu_ms = malloc(2 * (size_t)count * sizeof *gpu_ms);
    if (!gpu_ms)
        return bench_out_of_memory(result->name);
    double *wall_ms = gpu_ms + count;
    s = bench_check(run, time_iterations(run, forward, user_data, count, gpu_ms, wall_ms),
                    result->name);
    if (s == EVK_SUCCESS)
        set_timing(result, gpu_ms, wall_ms, count);
    free(gpu_ms);
    return s;
}

/* Runs rounds [first, end) of the cases; case c's times of round r go to
 * slot c·stride + r. */
static evk_status time_rounds(bench_run *run, bench_forward_fn forward, void *const *user_data,
                              bench_result *const *results, uint32_t count, uint32_t stride,
                              uint32_t first, uint32_t end, double *gpu_ms, double *wall_ms)
{
    evk_status s = EVK_SUCCESS;
    for (uint32_t r = first; s == EVK_SUCCESS && r < end; ++r)
        for (uint32_t c = 0; s == EVK_SUCCESS && c < count; ++c) {
            size_t at = (size_t)c * stride + r;
            double start = monotonic_ms();
            s = bench_check(run, forward(user_data[c]), results[c]->name);
            wall_ms[at] = monotonic_ms() - start;
            if (s == EVK_SUCCESS)
                s = bench_check(run, evk_context_last_gpu_ms(results[c]->ctx ? results[c]->ctx
                                                                         : run->ctx,
                                                         &gpu_ms[at]),
                            results[c]->name);
        }
    return s;
}

static double sum_of(const double *values, size_t count)
{
    double sum = 0.0;
    for (size_t i = 0; i < count; ++i)
        sum += values[i];
    return sum;
}

/* Times the asked rounds, then more, one at a time, while the group's summed
 * GPU time stays under SHORT_GROUP_MS, up to SHORT_GROUP_ROUNDS times as
 * many: the median of ten sub-millisecond runs on a shared machine moves
 * with one load spike. Returns the rounds timed in *done. */
#define SHORT_GROUP_MS 150.0
enum { SHORT_GROUP_ROUNDS = 4 };

static evk_status time_group(bench_run *run, bench_forward_fn forward, void *const *user_data,
                             bench_result *const *results, uint32_t count, uint32_t rounds,
                             uint32_t stride, double *gpu_ms, double *wall_ms, uint32_t *done)
{
    evk_status s = time_rounds(run, forward, user_data, results, count, stride, 0, rounds, gpu_ms,
                               wall_ms);
    uint32_t r = rounds;
    double total = 0.0;
    for (uint32_t c = 0; c < count; ++c)
        total += sum_of(gpu_ms + (size_t)c * stride, rounds);
    for (; s == EVK_SUCCESS && r < stride && total < SHORT_GROUP_MS; ++r) {
        s = time_rounds(run, forward, user_data, results, count, stride, r, r + 1, gpu_ms, wall_ms);
        for (uint32_t c = 0; s == EVK_SUCCESS && c < count; ++c)
            total += gpu_ms[(size_t)c * stride + r];
    }
    *done = r;
    return s;
}

evk_status bench_time_interleaved(bench_run *run, bench_forward_fn forward, void *const *user_data,
                                  bench_result *const *results, uint32_t count,
                                  uint32_t max_iterations)
{
    evk_status s = EVK_SUCCESS;
    for (uint32_t c = 0; s == EVK_SUCCESS && c < count; ++c)
        s = bench_check(run, forward(user_data[c]), results[c]->name);
    uint32_t rounds = run->options->iterations;
    if (max_iterations < rounds)
        rounds = max_iterations ? max_iterations : 1;
    uint32_t stride = max_iterations <= rounds ? rounds : rounds * SHORT_GROUP_ROUNDS;
    double *gpu_ms = malloc(2 * (size_t)count * stride * sizeof *gpu_ms);
    if (s != EVK_SUCCESS || !gpu_ms) {
        free(gpu_ms);
        return s != EVK_SUCCESS ? s : bench_out_of_memory(results[0]->name);
    }
    double *wall_ms = gpu_ms + (size_t)count * stride;
    uint32_t done = 0;
    s = time_group(run, forward, user_data, results, count, rounds, stride, gpu_ms, wall_ms, &done);
    for (uint32_t c = 0; s == EVK_SUCCESS && c < count; ++c)
        set_timing(results[c], gpu_ms + (size_t)c * stride, wall_ms + (size_t)c * stride, done);
    free(gpu_ms);
    return s;
}

evk_status bench_time(bench_run *run, bench_forward_fn forward, void *user_data,
                      bench_result *result)
{
    return bench_time_at_most(run, forward, user_data, run->options->iterations, result);
}
