/* The end of the headline (and --all) run: "the papers' promises on this
 * device". Per block, the results that compare it with its baseline in the
 * same run summed (times and MACs of each block and of its baselines), so
 * that a block measured on four layers reads as one speed-up, MACs ratio
 * and efficiency; EfficientNet-B0's latency; and the results furthest
 * below and closest to the roof that bounds them (the FMA peak for
 * compute-bound results, the copy bandwidth for memory-bound ones). The
 * same figures go into the JSON's "summary" object (docs/bench-json.md). */
#include <math.h>
#include <string.h>

#include "bench_run.h"

/* A block whose results are those of `suite` with params[key] == value. */
typedef struct promise {
    const char *block;
    const char *suite;
    const char *key;
    double value;
    const char *baseline; /* what it is measured against */
} promise;

static const promise promises[] = {
    {"HetConv P=4", "hetconv", "part", 4, "dense conv"},
    {"HetConv P=16", "hetconv", "part", 16, "dense conv"},
    {"OctConv a=0.5", "octconv", "alpha_in", 0.5, "vanilla conv"},
    {"MBConv fused", "mbconv", "fused", 1, "unfused sequence"},
    {"Oct-ResNet-50 a=0.5", "models", "alpha", 0.5, "ResNet-50"},
    {"HetConv-VGG-16 P=4", "models", "part", 4, "VGG-16"},
    {"HetConv-VGG-16 P=16", "models", "part", 16, "VGG-16"},
};
#define PROMISE_COUNT (sizeof promises / sizeof promises[0])

#define B0_RESULT "efficientnet-b0 b1"

typedef struct promise_sum {
    uint32_t results;
    double baseline_ms, ms;
    double baseline_macs, macs;
} promise_sum;

/* A result that sums a network's layers or blocks would count them twice. */
static int is_total(const bench_result *result)
{
    return !isnan(bench_result_param(result, "layers")) ||
        !isnan(bench_result_param(result, "blocks"));
}

static promise_sum sum_promise(const bench_run *run, const promise *p)
{
    promise_sum sum = {0};
    for (size_t i = 0; i < run->result_count; ++i) {
        const bench_result *r = &run->results[i];
        const bench_result *base = r->baseline[0] ? bench_find_result(run, r->baseline) : NULL;
        if (!base || strcmp(r->suite, p->suite) != 0 || is_total(r) ||
            bench_result_param(r, p->key) != p->value)
            continue;
        ++sum.results;
        sum.baseline_ms += base->gpu_ms_median;
        sum.ms += r->gpu_ms_median;
        sum.baseline_macs += (double)base->macs;
        sum.macs += (double)r->macs;
    }
    return sum;
}

/* A result's achieved fraction of the roof that bounds it. */
typedef struct roof_fraction {
    const bench_result *result;
    double fraction;
    int compute_bound;
} roof_fraction;

static void find_extremes(const bench_run *run, roof_fraction *worst, roof_fraction *best)
{
    *worst = *best = (roof_fraction){NULL, NAN, 0};
    for (size_t i = 0; i < run->result_count; ++i) {
        const bench_result *r = &run->results[i];
        if (!r->macs || !(r->gpu_ms_median > 0.0))
            continue;
        bench_derived d = bench_derive(run, r);
        roof_fraction f = {r, d.compute_bound ? d.fraction_of_peak : d.fraction_of_bandwidth,
                           d.compute_bound};
        if (!worst->result || f.fraction < worst->fraction)
            *worst = f;
        if (!best->result || f.fraction > best->fraction)
            *best = f;
    }
}

static void print_extreme(FILE *out, const char *which, const roof_fraction *f)
{
    fprintf(out, "%s %.1f %% of the %s (%s)", which, 100.0 * f->fraction,
            f->compute_bound ? "FMA peak" : "copy bandwidth", f->result->name);
}

void bench_print_summary(const bench_run *run)
{
    FILE *out = run->table;
    fprintf(out,
            "\nthe papers' promises on this device (each block's results summed; "
            "efficiency = speed-up / MACs ratio, 1.00: the FLOPs promise kept)\n");
    fprintf(out, "%-22s %7s %-17s %10s %10s %10s %9s %10s\n", "block", "results", "against",
            "base ms", "ms", "MACs ratio", "speed-up", "efficiency");
    for (size_t i = 0; i < PROMISE_COUNT; ++i) {
        promise_sum s = sum_promise(run, &promises[i]);
        if (s.results == 0)
            continue;
        double speedup = s.baseline_ms / s.ms, ratio = s.baseline_macs / s.macs;
        fprintf(out, "%-22s %7u %-17s %10.3f %10.3f %9.2fx %8.2fx %10.2f\n", promises[i].block,
                s.results, promises[i].baseline, s.baseline_ms, s.ms, ratio, speedup,
                speedup / ratio);
    }
    const bench_result *b0 = bench_find_result(run, B0_RESULT);
    if (b0)
        fprintf(out, "EfficientNet-B0, batch 1: %.3f ms GPU, %.3f ms wall, %.1f images/s\n",
                b0->gpu_ms_median, b0->wall_ms_median, bench_result_param(b0, "images_per_s"));
    roof_fraction worst, best;
    find_extremes(run, &worst, &best);
    if (worst.result) {
        fputs("of the roof that bounds each result: ", out);
        print_extreme(out, "worst", &worst);
        fputs(", ", out);
        print_extreme(out, "best", &best);
        fputc('\n', out);
    }
    fflush(out);
}

static void write_extreme_json(json_writer *w, const char *key, const roof_fraction *f)
{
    json_key(w, key);
    json_object_begin(w);
    json_key_string(w, "result", f->result->name);
    json_key_number(w, "fraction", f->fraction);
    json_key_string(w, "of", f->compute_bound ? "fma" : "copy");
    json_object_end(w);
}

void bench_write_summary_json(json_writer *w, const bench_run *run)
{
    json_key(w, "summary");
    json_object_begin(w);
    json_key_string(w, "title", "the papers' promises on this device");
    json_key_string(w, "set", run->headline ? "headline" : "all");
    json_key(w, "promises");
    json_array_begin(w);
    for (size_t i = 0; i < PROMISE_COUNT; ++i) {
        promise_sum s = sum_promise(run, &promises[i]);
        if (s.results == 0)
            continue;
        double speedup = s.baseline_ms / s.ms, ratio = s.baseline_macs / s.macs;
        json_object_begin(w);
        json_key_string(w, "block", promises[i].block);
        json_key_string(w, "suite", promises[i].suite);
        json_key_string(w, "against", promises[i].baseline);
        json_key_uint(w, "results", s.results);
        json_key_number(w, "baseline_gpu_ms", s.baseline_ms);
        json_key_number(w, "gpu_ms", s.ms);
        json_key_number(w, "macs_ratio", ratio);
        json_key_number(w, "speedup", speedup);
        json_key_number(w, "efficiency", speedup / ratio);
        json_object_end(w);
    }
    json_array_end(w);
    const bench_result *b0 = bench_find_result(run, B0_RESULT);
    json_key(w, "efficientnet_b0");
    if (b0) {
        json_object_begin(w);
        json_key_string(w, "result", b0->name);
        json_key_number(w, "gpu_ms", b0->gpu_ms_median);
        json_key_number(w, "wall_ms", b0->wall_ms_median);
        json_key_number(w, "images_per_s", bench_result_param(b0, "images_per_s"));
        json_object_end(w);
    } else {
        json_null(w);
    }
    roof_fraction worst, best;
    find_extremes(run, &worst, &best);
    json_key(w, "roof_fraction");
    if (worst.result) {
        json_object_begin(w);
        write_extreme_json(w, "worst", &worst);
        write_extreme_json(w, "best", &best);
        json_object_end(w);
    } else {
        json_null(w);
    }
    json_object_end(w);
}
