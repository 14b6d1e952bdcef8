/* clock_gettime(CLOCK_MONOTONIC) is POSIX, not C11. */
#define _POSIX_C_SOURCE 199309L

#include "bench.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_provenance.h"
#include "effvk_internal.h"
#include "json.h"
#include "reference.h"
#include "pipeline_cache_file.h"
#include "report.h"

/* Every suite, in the order `effvk bench` runs them. A new suite is one more
 * file and one more line here. */
static const bench_suite *const registered_suites[] = {
    &bench_suite_conv2d,
    &bench_suite_hetconv,
    &bench_suite_mbconv,
    &bench_suite_octconv,
    &bench_suite_models,
};
#define SUITE_COUNT (sizeof registered_suites / sizeof registered_suites[0])

enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_CHECK_FAILED = 3 };

struct bench_run {
    const bench_options *options;
    const bench_suite *suite;           /* the one running now */
    evk_context *ctx;
    evk_device_properties device;
    evk_peak peak;
    FILE *table;                        /* stdout, or stderr when JSON goes to stdout */
    FILE *json;                         /* NULL: no JSON requested */
    evk_file_writer json_file;          /* when the JSON goes to a file */
    bench_result *results;
    size_t result_count, result_capacity;
    size_t failed_checks;
    size_t partial_checks;
};

int bench_suite_exists(const char *name)
{
    for (size_t i = 0; i < SUITE_COUNT; ++i)
        if (strcmp(registered_suites[i]->name, name) == 0)
            return 1;
    return 0;
}

void bench_print_suite_names(FILE *out)
{
    for (size_t i = 0; i < SUITE_COUNT; ++i)
        fprintf(out, "%s%s", i ? " " : "", registered_suites[i]->name);
}

evk_context *bench_context(bench_run *run) { return run->ctx; }

const char *bench_model_names(const bench_run *run) { return run->options->model_names; }

void bench_note(const bench_run *run, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vfprintf(run->table, format, args);
    va_end(args);
    fputc('\n', run->table);
    fflush(run->table);
}

const uint32_t *bench_batches(const bench_run *run, uint32_t *count)
{
    if (run->options->batch_count > 0) {
        *count = run->options->batch_count;
        return run->options->batches;
    }
    *count = run->suite->default_batch_count;
    return run->suite->default_batches;
}

evk_status bench_out_of_memory(const char *what)
{
    fprintf(stderr, "effvk bench: %s: out of host memory\n", what);
    return EVK_ERROR_OUT_OF_HOST_MEMORY;
}

evk_status bench_check(const bench_run *run, evk_status status, const char *what)
{
    if (status != EVK_SUCCESS)
        report_failure("bench", what, status, evk_last_error(run->ctx));
    return status;
}

/* ------------------------------------------------------------------------ */
/* Timing                                                                    */
/* ------------------------------------------------------------------------ */

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
    result->gpu_ms_min = gpu_ms[0];      /* median() sorted them */
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
                s = bench_check(run, evk_context_last_gpu_ms(run->ctx, &gpu_ms[at]),
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
    evk_status s = time_rounds(run, forward, user_data, results, count, stride, 0, rounds,
                               gpu_ms, wall_ms);
    uint32_t r = rounds;
    double total = 0.0;
    for (uint32_t c = 0; c < count; ++c)
        total += sum_of(gpu_ms + (size_t)c * stride, rounds);
    for (; s == EVK_SUCCESS && r < stride && total < SHORT_GROUP_MS; ++r) {
        s = time_rounds(run, forward, user_data, results, count, stride, r, r + 1, gpu_ms,
                        wall_ms);
        for (uint32_t c = 0; s == EVK_SUCCESS && c < count; ++c)
            total += gpu_ms[(size_t)c * stride + r];
    }
    *done = r;
    return s;
}

evk_status bench_time_interleaved(bench_run *run, bench_forward_fn forward,
                                  void *const *user_data, bench_result *const *results,
                                  uint32_t count, uint32_t max_iterations)
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
    s = time_group(run, forward, user_data, results, count, rounds, stride, gpu_ms, wall_ms,
                   &done);
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

/* ------------------------------------------------------------------------ */
/* Results                                                                   */
/* ------------------------------------------------------------------------ */

void bench_check_output(bench_result *result, const float *got, const float *expected,
                        uint64_t count, uint64_t output_count)
{
    double max_abs, max_rel;
    evk_ref_compare(got, expected, count, BENCH_REL_FLOOR, &max_abs, &max_rel);
    int first = result->checked_values == 0;
    if (first || max_abs > result->max_abs_err)
        result->max_abs_err = max_abs;
    if (first || max_rel > result->max_rel_err)
        result->max_rel_err = max_rel;
    result->checked_values += count;
    result->output_values = output_count;
}

static int checked(const bench_result *result) { return result->checked_values > 0; }

static int check_passed(const bench_result *result)
{
    return checked(result) && isfinite(result->max_rel_err) &&
           result->max_rel_err <= BENCH_REL_TOLERANCE;
}

static int partly_checked(const bench_result *result)
{
    return checked(result) && result->checked_values < result->output_values;
}

/* A suite that adds more than BENCH_MAX_PARAMS loses the extra ones, which
 * its author sees in the JSON; raise the limit then. */
static bench_param *next_param(bench_result *result, const char *key)
{
    if (result->param_count == BENCH_MAX_PARAMS)
        return NULL;
    bench_param *p = &result->params[result->param_count++];
    *p = (bench_param){.key = key};
    return p;
}

void bench_param_text(bench_result *result, const char *key, const char *text)
{
    bench_param *p = next_param(result, key);
    if (p) {
        p->is_text = 1;
        snprintf(p->text, sizeof p->text, "%s", text);
    }
}

void bench_param_number(bench_result *result, const char *key, double number)
{
    bench_param *p = next_param(result, key);
    if (p)
        p->number = number;
}

void bench_accumulate(bench_result *total, const bench_result *result)
{
    total->macs += result->macs;
    total->bytes += result->bytes;
    total->gpu_ms_median += result->gpu_ms_median;
    total->gpu_ms_min += result->gpu_ms_min;
    total->wall_ms_median += result->wall_ms_median;
    total->iterations = result->iterations;
}

void bench_param_bool(bench_result *result, const char *key, int value)
{
    bench_param *p = next_param(result, key);
    if (p) {
        p->is_bool = 1;
        p->number = value != 0;
    }
}

/* Figures derived from a result and the device peak, shared by the table and
 * the JSON so that the two agree. */
typedef struct derived {
    double gflops, gbps;
    double fraction_of_peak, fraction_of_bandwidth;
    int compute_bound;
} derived;

static derived derive(const bench_run *run, const bench_result *result)
{
    derived d;
    double seconds_e9 = result->gpu_ms_median * 1e6;    /* ms → s, and per 1e9 */
    d.gflops = 2.0 * (double)result->macs / seconds_e9;
    d.gbps = (double)result->bytes / seconds_e9;
    d.fraction_of_peak = d.gflops / run->peak.fma_gflops;
    d.fraction_of_bandwidth = d.gbps / run->peak.copy_gbps;
    /* Roofline: above the ridge point the FMA peak is the ceiling. */
    double intensity = 2.0 * (double)result->macs / (double)result->bytes;
    d.compute_bound = intensity >= run->peak.fma_gflops / run->peak.copy_gbps;
    return d;
}

static void print_table_header(FILE *out)
{
    fprintf(out, "%-28s %-16s %8s %8s %8s %8s %6s %7s %6s %8s %11s %5s\n", "name", "kernel",
            "GPU ms", "GPU min", "wall ms", "GFLOP/s", "%FMA", "GB/s", "%copy", "bound",
            "max abs err", "check");
}

static void print_table_row(const bench_run *run, const bench_result *result)
{
    derived d = derive(run, result);
    fprintf(run->table, "%-28s %-16s %8.3f %8.3f %8.3f %8.2f %6.1f %7.2f %6.1f %8s ", result->name,
            result->kernel, result->gpu_ms_median, result->gpu_ms_min, result->wall_ms_median,
            d.gflops, 100.0 * d.fraction_of_peak, d.gbps, 100.0 * d.fraction_of_bandwidth,
            d.compute_bound ? "compute" : "memory");
    if (!checked(result))
        fprintf(run->table, "%11s %5s\n", "-", "-");
    else
        fprintf(run->table, "%11.2e %5s%s\n", result->max_abs_err,
                check_passed(result) ? "ok" : "FAIL", partly_checked(result) ? "*" : "");
    fflush(run->table);
}

evk_status bench_add_result(bench_run *run, const bench_result *result)
{
    if (run->result_count == run->result_capacity) {
        size_t capacity = run->result_capacity ? 2 * run->result_capacity : 16;
        bench_result *grown = realloc(run->results, capacity * sizeof *grown);
        if (!grown)
            return bench_out_of_memory(result->name);
        run->results = grown;
        run->result_capacity = capacity;
    }
    run->results[run->result_count++] = *result;
    if (checked(result) && !check_passed(result))
        ++run->failed_checks;
    if (partly_checked(result))
        ++run->partial_checks;
    print_table_row(run, result);
    return EVK_SUCCESS;
}

/* ------------------------------------------------------------------------ */
/* Random data                                                               */
/* ------------------------------------------------------------------------ */

bench_rng bench_rng_seeded(uint64_t seed)
{
    /* xorshift's state must never be zero. */
    return (bench_rng){seed ? seed : 0x9e3779b97f4a7c15u};
}

static uint64_t rng_next(bench_rng *rng)
{
    uint64_t x = rng->state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng->state = x;
    return x * 0x2545f4914f6cdd1du;
}

void bench_fill_uniform(bench_rng *rng, float *values, uint64_t count, float scale)
{
    for (uint64_t i = 0; i < count; ++i) {
        /* The top 24 bits give every float in [0, 1) the same spacing. */
        float unit = (float)(rng_next(rng) >> 40) * (1.0f / 16777216.0f);
        values[i] = (2.0f * unit - 1.0f) * scale;
    }
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                      */
/* ------------------------------------------------------------------------ */

const bench_result *bench_find_result(const bench_run *run, const char *name)
{
    for (size_t i = 0; i < run->result_count; ++i)
        if (strcmp(run->results[i].name, name) == 0)
            return &run->results[i];
    return NULL;
}

static void write_shape_json(json_writer *w, const bench_shape *shape)
{
    json_key(w, "shape");
    json_object_begin(w);
    json_key_uint(w, "n", shape->n);
    json_key_uint(w, "c_in", shape->c_in);
    json_key_uint(w, "h", shape->h);
    json_key_uint(w, "w", shape->w);
    json_key_uint(w, "c_out", shape->c_out);
    json_key_uint(w, "k", shape->k);
    json_key_uint(w, "stride", shape->stride);
    json_object_end(w);
}

static void write_params_json(json_writer *w, const bench_result *result)
{
    json_key(w, "params");
    json_object_begin(w);
    for (uint32_t i = 0; i < result->param_count; ++i) {
        const bench_param *p = &result->params[i];
        if (p->is_text)
            json_key_string(w, p->key, p->text);
        else if (p->is_bool)
            json_key_bool(w, p->key, p->number != 0.0);
        else
            json_key_number(w, p->key, p->number);
    }
    json_object_end(w);
}

static void write_baseline_json(json_writer *w, const bench_run *run, const bench_result *result)
{
    const bench_result *base =
        result->baseline[0] ? bench_find_result(run, result->baseline) : NULL;
    if (!base) {
        json_key_null(w, "baseline");
        json_key_null(w, "speedup_vs_baseline");
        json_key_null(w, "macs_ratio_vs_baseline");
        json_key_null(w, "efficiency");
        return;
    }
    double speedup = base->gpu_ms_median / result->gpu_ms_median;
    double macs_ratio = (double)base->macs / (double)result->macs;
    json_key_string(w, "baseline", base->name);
    json_key_number(w, "speedup_vs_baseline", speedup);
    json_key_number(w, "macs_ratio_vs_baseline", macs_ratio);
    json_key_number(w, "efficiency", speedup / macs_ratio);
}

static void write_errors_json(json_writer *w, const bench_result *result)
{
    if (checked(result)) {
        json_key_number(w, "max_abs_err", result->max_abs_err);
        json_key_number(w, "max_rel_err", result->max_rel_err);
    } else {
        json_key_null(w, "max_abs_err");
        json_key_null(w, "max_rel_err");
    }
}

static void write_result_json(json_writer *w, const bench_run *run, const bench_result *result)
{
    derived d = derive(run, result);
    json_object_begin(w);
    json_key_string(w, "suite", result->suite);
    json_key_string(w, "name", result->name);
    json_key_string(w, "op", result->op);
    write_shape_json(w, &result->shape);
    write_params_json(w, result);
    json_key_uint(w, "macs", result->macs);
    json_key_uint(w, "bytes", result->bytes);
    json_key_number(w, "gpu_ms_median", result->gpu_ms_median);
    json_key_number(w, "gpu_ms_min", result->gpu_ms_min);
    json_key_number(w, "wall_ms_median", result->wall_ms_median);
    json_key_uint(w, "iterations", result->iterations);
    json_key_number(w, "gflops", d.gflops);
    json_key_number(w, "gbps", d.gbps);
    write_errors_json(w, result);
    write_baseline_json(w, run, result);
    json_key_string(w, "kernel", result->kernel);
    json_key_number(w, "fraction_of_peak", d.fraction_of_peak);
    json_key_number(w, "fraction_of_bandwidth", d.fraction_of_bandwidth);
    json_key_string(w, "bound", d.compute_bound ? "compute" : "memory");
    if (checked(result)) {
        json_key_number(w, "checked_fraction",
                        (double)result->checked_values / (double)result->output_values);
        json_key_bool(w, "check_passed", check_passed(result));
    } else {
        json_key_null(w, "checked_fraction");
        json_key_null(w, "check_passed");
    }
    json_object_end(w);
}

static void write_header_json(json_writer *w, const bench_run *run)
{
    bench_write_provenance_json(w);
    json_key(w, "device");
    json_object_begin(w);
    device_write_summary_json(w, &run->device);
    json_object_end(w);
    json_key(w, "peak");
    json_object_begin(w);
    json_key_number(w, "fma_gflops", run->peak.fma_gflops);
    json_key_number(w, "copy_gbps", run->peak.copy_gbps);
    json_key_string(w, "method", bench_peak_method);
    json_object_end(w);
    json_key(w, "tolerance");
    json_object_begin(w);
    json_key_number(w, "max_rel_err", BENCH_REL_TOLERANCE);
    json_key_number(w, "rel_floor", BENCH_REL_FLOOR);
    json_object_end(w);
}

static int write_json(const bench_run *run, FILE *out)
{
    json_writer w;
    json_init(&w, out);
    json_object_begin(&w);
    write_header_json(&w, run);
    json_key(&w, "results");
    json_array_begin(&w);
    for (size_t i = 0; i < run->result_count; ++i)
        write_result_json(&w, run, &run->results[i]);
    json_array_end(&w);
    json_object_end(&w);
    return json_finish(&w);
}

/* Opened before the benchmark, so that a bad path fails at once instead of
 * after minutes of timing. JSON to stdout moves the table to stderr. The file
 * is written beside the target and renamed over it when complete, so an
 * earlier result file survives a run that fails or is interrupted. */
static int open_json(bench_run *run)
{
    const char *path = run->options->json_path;
    if (!path)
        return 0;
    if (strcmp(path, "-") == 0) {
        run->json = stdout;
        run->table = stderr;
        return 0;
    }
    if (evk_file_write_begin(NULL, path, &run->json_file) != EVK_SUCCESS) {
        fprintf(stderr, "effvk bench: %s\n", evk_last_error(NULL));
        return -1;
    }
    run->json = run->json_file.stream;
    return 0;
}

static int close_json(bench_run *run, int complete)
{
    if (!run->json || run->json == stdout)
        return 0;
    run->json = NULL;
    if (!complete) {
        evk_file_write_abort(&run->json_file);
        return 0;
    }
    if (evk_file_write_commit(&run->json_file) != EVK_SUCCESS) {
        fprintf(stderr, "effvk bench: %s\n", evk_last_error(NULL));
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The whole run                                                             */
/* ------------------------------------------------------------------------ */

static int suite_selected(const bench_options *options, const bench_suite *suite)
{
    if (options->suite_count == 0)
        return 1;
    for (uint32_t i = 0; i < options->suite_count; ++i)
        if (strcmp(options->suite_names[i], suite->name) == 0)
            return 1;
    return 0;
}

static evk_status open_device(bench_run *run)
{
    evk_context_desc desc = {0};
    desc.use_device_index = run->options->use_device_index;
    desc.device_index = run->options->device_index;
    /* No progress line: on a terminal it would break into the table. */
    pipeline_cache_file cache;
    use_pipeline_cache("bench", !run->options->no_cache, &cache, &desc);
    evk_status s = evk_context_create(&desc, &run->ctx);
    if (s != EVK_SUCCESS)
        return bench_check(run, s, "creating the context");
    s = bench_check(run, evk_context_device_info(run->ctx, &run->device), "device info");
    if (s != EVK_SUCCESS)
        return s;
    device_print_summary(run->table, &run->device);
    print_pipeline_cache(run->table, &cache, run->ctx);
    fflush(run->table);
    s = bench_check(run, evk_measure_peak(run->ctx, &run->peak), "measuring the peak");
    if (s == EVK_SUCCESS)
        fprintf(run->table, "peak: FMA %.2f GFLOP/s, copy %.2f GB/s (measured)\n\n",
                run->peak.fma_gflops, run->peak.copy_gbps);
    return s;
}

static evk_status run_suites(bench_run *run)
{
    evk_status s = open_device(run);
    if (s != EVK_SUCCESS)
        return s;
    print_table_header(run->table);
    for (size_t i = 0; s == EVK_SUCCESS && i < SUITE_COUNT; ++i) {
        if (!suite_selected(run->options, registered_suites[i]))
            continue;
        run->suite = registered_suites[i];
        s = run->suite->run(run);
    }
    return s;
}

static size_t unchecked_results(const bench_run *run, const char *suite)
{
    size_t count = 0;
    for (size_t i = 0; i < run->result_count; ++i)
        count += !checked(&run->results[i]) &&
                 (!suite || strcmp(run->results[i].suite, suite) == 0);
    return count;
}

/* Says which results were compared with the CPU reference and which were
 * not, with the suites' notes on where those are checked instead. */
static void print_check_summary(const bench_run *run)
{
    size_t unchecked = unchecked_results(run, NULL);
    size_t compared = run->result_count - unchecked;
    fprintf(run->table, "\n%zu results; ", run->result_count);
    if (run->failed_checks > 0)
        fprintf(run->table, "%zu of %zu checked FAILED the CPU reference check (max_rel_err > %g, "
                "floor %g)", run->failed_checks, compared, BENCH_REL_TOLERANCE, BENCH_REL_FLOOR);
    else if (compared > 0)
        fprintf(run->table, "all %zu checked match the CPU reference (max_rel_err <= %g, "
                "floor %g)", compared, BENCH_REL_TOLERANCE, BENCH_REL_FLOOR);
    if (unchecked > 0)
        fprintf(run->table, "%s%zu not checked in this run", compared > 0 ? "; " : "", unchecked);
    fputc('\n', run->table);
    for (size_t i = 0; i < SUITE_COUNT; ++i) {
        const bench_suite *suite = registered_suites[i];
        if (suite->unchecked_note && unchecked_results(run, suite->name) > 0)
            fprintf(run->table, "%s: %s\n", suite->name, suite->unchecked_note);
    }
}

static int finish(const bench_run *run)
{
    if (run->json && write_json(run, run->json) != 0) {
        fprintf(stderr, "effvk bench: writing the JSON failed\n");
        return EXIT_ERROR;
    }
    if (run->partial_checks > 0)
        fprintf(run->table, "* checked on a subset of the batch (checked_fraction in the JSON)\n");
    print_check_summary(run);
    return run->failed_checks == 0 ? EXIT_OK : EXIT_CHECK_FAILED;
}

int bench_main(const bench_options *options)
{
    bench_run run = {.options = options, .table = stdout};
    if (open_json(&run) != 0)
        return EXIT_ERROR;
    int code = run_suites(&run) == EVK_SUCCESS ? finish(&run) : EXIT_ERROR;
    if (close_json(&run, code != EXIT_ERROR) != 0)
        code = EXIT_ERROR;
    free(run.results);
    evk_context_destroy(run.ctx);
    return code;
}
