#include "bench.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bench_run.h"
#include "reference.h"
#include "pipeline_cache_file.h"
#include "precision_option.h"
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


const bench_suite *const *bench_suites(size_t *count)
{
    *count = SUITE_COUNT;
    return registered_suites;
}

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

uint32_t bench_precision_count(const bench_run *run)
{
    return run->options->precision_count ? run->options->precision_count : 1;
}

/* A context for `precision` on the run's device; NULL on failure, reported. */
static evk_context *create_context(bench_run *run, evk_precision precision,
                                   pipeline_cache_file *cache)
{
    evk_context_desc desc = {.use_device_index = run->options->use_device_index,
                             .device_index = run->options->device_index,
                             .pipeline_progress = bench_progress_pipelines,
                             .pipeline_progress_user_data = run,
                             .precision = precision};
    use_pipeline_cache("bench", !run->options->no_cache, cache, &desc);
    report_attach_log(&desc);
    evk_context *ctx = NULL;
    bench_check(run, evk_context_create(&desc, &ctx), "creating the context");
    return ctx;
}

evk_context *bench_precision_context(bench_run *run, uint32_t index)
{
    if (index == 0)
        return run->ctx;
    if (!run->precision_ctx[index]) {
        pipeline_cache_file cache;
        run->precision_ctx[index] = create_context(run, run->options->precisions[index], &cache);
    }
    return run->precision_ctx[index];
}

bench_bound bench_bound_for(evk_precision precision)
{
    switch (precision) {
    case EVK_PRECISION_FP16_STORAGE: return (bench_bound){1e-2, 0.5};
    case EVK_PRECISION_FP16: return (bench_bound){0.1, 1.0};
    default: return (bench_bound){BENCH_REL_TOLERANCE, BENCH_REL_FLOOR};
    }
}

static evk_precision precision_of(const evk_context *ctx)
{
    evk_precision_choice c;
    return evk_context_precision(ctx, &c) == EVK_SUCCESS ? c.chosen : EVK_PRECISION_FP32;
}

int bench_headline(const bench_run *run) { return run->headline; }

int bench_profile(const bench_run *run) { return run->options->profile; }

const evk_peak *bench_peak(const bench_run *run) { return &run->peak; }

const char *bench_model_names(const bench_run *run) { return run->options->model_names; }

const char *bench_onnx_pairs(const bench_run *run) { return run->options->onnx_pairs; }

void bench_note(const bench_run *run, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    bench_progress_hide((bench_run *)run);
    vfprintf(run->table, format, args);
    va_end(args);
    fputc('\n', run->table);
    fflush(run->table);
    bench_progress_show((bench_run *)run);
}

FILE *bench_notes_begin(bench_run *run)
{
    bench_progress_hide(run);
    return run->table;
}

void bench_notes_end(bench_run *run)
{
    fflush(run->table);
    bench_progress_show(run);
}

const uint32_t *bench_batches(const bench_run *run, uint32_t *count)
{
    if (run->options->batch_count > 0) {
        *count = run->options->batch_count;
        return run->options->batches;
    }
    if (run->headline) {
        *count = run->suite->headline_batch_count;
        return run->suite->headline_batches;
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
    if (status != EVK_SUCCESS) {
        bench_progress_hide((bench_run *)run);
        report_failure("bench", what, status, evk_last_error(run->ctx));
    }
    return status;
}

/* ------------------------------------------------------------------------ */
/* Results                                                                   */
/* ------------------------------------------------------------------------ */

void bench_check_output(const bench_run *run, bench_result *result, const float *got,
                        const float *expected, uint64_t count, uint64_t output_count)
{
    double max_abs, max_rel;
    bench_bound bound = bench_bound_for(precision_of(result->ctx ? result->ctx : run->ctx));
    evk_ref_compare(got, expected, count, bound.rel_floor, &max_abs, &max_rel);
    int first = result->checked_values == 0;
    if (first || max_abs > result->max_abs_err)
        result->max_abs_err = max_abs;
    if (first || max_rel > result->max_rel_err)
        result->max_rel_err = max_rel;
    result->checked_values += count;
    result->output_values = output_count;
}

int bench_result_checked(const bench_result *result) { return result->checked_values > 0; }

int bench_result_check_passed(const bench_result *result)
{
    return bench_result_checked(result) && isfinite(result->max_rel_err) &&
           result->max_rel_err <= result->tolerance;
}

static int partly_checked(const bench_result *result)
{
    return bench_result_checked(result) && result->checked_values < result->output_values;
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

double bench_result_param(const bench_result *result, const char *key)
{
    for (uint32_t i = 0; i < result->param_count; ++i)
        if (!result->params[i].is_text && strcmp(result->params[i].key, key) == 0)
            return result->params[i].number;
    return NAN;
}

bench_derived bench_derive(const bench_run *run, const bench_result *result)
{
    bench_derived d;
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
    bench_derived d = bench_derive(run, result);
    bench_progress_hide((bench_run *)run);
    fprintf(run->table, "%-28s %-16s %8.3f %8.3f %8.3f %8.2f %6.1f %7.2f %6.1f %8s ", result->name,
            result->kernel, result->gpu_ms_median, result->gpu_ms_min, result->wall_ms_median,
            d.gflops, 100.0 * d.fraction_of_peak, d.gbps, 100.0 * d.fraction_of_bandwidth,
            d.compute_bound ? "compute" : "memory");
    if (!bench_result_checked(result))
        fprintf(run->table, "%11s %5s\n", "-", "-");
    else
        fprintf(run->table, "%11.2e %5s%s\n", result->max_abs_err,
                bench_result_check_passed(result) ? "ok" : "FAIL",
                partly_checked(result) ? "*" : "");
    fflush(run->table);
    bench_progress_show((bench_run *)run);
}

evk_status bench_add_result(bench_run *run, const bench_result *result)
{
    if (run->result_count == run->result_capacity) {
        size_t capacity = run->result_capacity ? 2 * run->result_capacity : 16;
        bench_result *grown = realloc(run->results, capacity * sizeof *grown);
        if (!grown) {
            layer_profile dropped = result->profile;
            layer_profile_free(&dropped);
            return bench_out_of_memory(result->name);
        }
        run->results = grown;
        run->result_capacity = capacity;
    }
    bench_result *added = &run->results[run->result_count++];
    *added = *result;
    evk_precision precision = precision_of(result->ctx ? result->ctx : run->ctx);
    added->tolerance = bench_bound_for(precision).max_rel_err;
    bench_param_text(added, "precision", evk_precision_name(precision));
    if (bench_result_checked(added) && !bench_result_check_passed(added))
        ++run->failed_checks;
    if (partly_checked(added))
        ++run->partial_checks;
    print_table_row(run, added);
    bench_progress_result(run);
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

int bench_suite_selected(const bench_run *run, const bench_suite *suite)
{
    const bench_options *options = run->options;
    if (options->suite_count == 0)
        return 1;
    for (uint32_t i = 0; i < options->suite_count; ++i)
        if (strcmp(options->suite_names[i], suite->name) == 0)
            return 1;
    return 0;
}

/* The device line comes before the peak, which takes a while. */
static evk_status open_device(bench_run *run)
{
    pipeline_cache_file cache;
    run->ctx = create_context(run, run->options->precision_count ? run->options->precisions[0]
                                                                  : EVK_PRECISION_AUTO, &cache);
    if (!run->ctx)
        return EVK_ERROR_UNSUPPORTED;
    evk_status s = bench_check(run, evk_context_device_info(run->ctx, &run->device), "device info");
    if (s != EVK_SUCCESS)
        return s;
    device_print_summary(run->table, &run->device);
    precision_print(run->table, run->ctx);
    print_pipeline_cache(run->table, &cache, run->ctx);
    fflush(run->table);
    bench_progress_activity(run, "measuring the peak");
    s = bench_check(run, evk_measure_peak(run->ctx, &run->peak), "measuring the peak");
    bench_progress_activity(run, NULL);
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
    bench_progress_plan(run);
    uint32_t number = 0;
    for (size_t i = 0; s == EVK_SUCCESS && i < SUITE_COUNT; ++i) {
        if (!bench_suite_selected(run, registered_suites[i]))
            continue;
        run->suite = registered_suites[i];
        bench_progress_suite(run, ++number);
        s = run->suite->run(run);
    }
    bench_progress_finish(run);
    return s;
}

static size_t unchecked_results(const bench_run *run, const char *suite)
{
    size_t count = 0;
    for (size_t i = 0; i < run->result_count; ++i)
        count += !bench_result_checked(&run->results[i]) &&
                 (!suite || strcmp(run->results[i].suite, suite) == 0);
    return count;
}

/* Says which results were compared with the CPU reference and which were
 * not, with the suites' notes on where those are checked instead. */
static void print_check_summary(const bench_run *run)
{
    bench_bound bound = bench_bound_for(precision_of(run->ctx));
    size_t unchecked = unchecked_results(run, NULL);
    size_t compared = run->result_count - unchecked;
    fprintf(run->table, "\n%zu results; ", run->result_count);
    if (run->failed_checks > 0)
        fprintf(run->table, "%zu of %zu checked FAILED the CPU reference check (max_rel_err > %g, "
                "floor %g)", run->failed_checks, compared, bound.max_rel_err, bound.rel_floor);
    else if (compared > 0)
        fprintf(run->table, "all %zu checked match the CPU reference (max_rel_err <= %g, "
                "floor %g)", compared, bound.max_rel_err, bound.rel_floor);
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
    if (run->json && bench_write_json(run, run->json) != 0) {
        fprintf(stderr, "effvk bench: writing the JSON failed\n");
        return BENCH_EXIT_ERROR;
    }
    if (run->partial_checks > 0)
        fprintf(run->table, "* checked on a subset of the batch (checked_fraction in the JSON)\n");
    print_check_summary(run);
    if (run->headline || run->options->all_suites)
        bench_print_summary(run);
    return run->failed_checks == 0 ? BENCH_EXIT_OK : BENCH_EXIT_CHECK_FAILED;
}

int bench_run_device(const bench_options *options, const char *device_label)
{
    bench_run run = {.options = options, .table = stdout,
                     .headline = options->suite_count == 0 && !options->all_suites};
    bench_progress_start(&run, device_label);
    if (open_json(&run) != 0)
        return BENCH_EXIT_ERROR;
    int code = run_suites(&run) == EVK_SUCCESS ? finish(&run) : BENCH_EXIT_ERROR;
    if (close_json(&run, code != BENCH_EXIT_ERROR) != 0)
        code = BENCH_EXIT_ERROR;
    for (size_t i = 0; i < run.result_count; ++i)
        layer_profile_free(&run.results[i].profile);
    free(run.results);
    for (uint32_t i = 1; i < BENCH_MAX_PRECISIONS; ++i)
        evk_context_destroy(run.precision_ctx[i]);
    evk_context_destroy(run.ctx);
    return code;
}
