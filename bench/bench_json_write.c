/* The run's JSON document (docs/bench-json.md): provenance, device, peak,
 * tolerance, every result with the figures derived from it, and the
 * summary of the headline and --all runs. */

#include "bench_provenance.h"
#include "bench_run.h"
#include "precision_option.h"
#include "report.h"

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
    const bench_result *base = result->baseline[0] ? bench_find_result(run, result->baseline)
                                                   : NULL;
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
    if (bench_result_checked(result)) {
        json_key_number(w, "max_abs_err", result->max_abs_err);
        json_key_number(w, "max_rel_err", result->max_rel_err);
    } else {
        json_key_null(w, "max_abs_err");
        json_key_null(w, "max_rel_err");
    }
}

static void write_result_json(json_writer *w, const bench_run *run, const bench_result *result)
{
    bench_derived d = bench_derive(run, result);
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
    if (bench_result_checked(result)) {
        json_key_number(w, "checked_fraction",
                        (double)result->checked_values / (double)result->output_values);
        json_key_bool(w, "check_passed", bench_result_check_passed(result));
    } else {
        json_key_null(w, "checked_fraction");
        json_key_null(w, "check_passed");
    }
    if (result->profile.count > 0)
        layer_profile_write_json(w, &result->profile, run->peak.fma_gflops);
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
    precision_write_json(w, run->ctx);
    json_key(w, "tolerance");
    json_object_begin(w);
    evk_precision_choice precision;
    evk_context_precision(run->ctx, &precision);
    bench_bound bound = bench_bound_for(precision.chosen);
    json_key_number(w, "max_rel_err", bound.max_rel_err);
    json_key_number(w, "rel_floor", bound.rel_floor);
    json_object_end(w);
}

int bench_write_json(const bench_run *run, FILE *out)
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
    if (run->headline || run->options->all_suites)
        bench_write_summary_json(&w, run);
    json_object_end(&w);
    return json_finish(&w);
}
