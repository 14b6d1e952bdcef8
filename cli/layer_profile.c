#include "layer_profile.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts `values` in place. */
static double median_of(double *values, uint32_t count)
{
    qsort(values, count, sizeof *values, compare_doubles);
    return count % 2 ? values[count / 2] : 0.5 * (values[count / 2 - 1] + values[count / 2]);
}

/* Names, kernels, dispatch counts and MACs, from the model's first timed
 * forward and evk_model_describe. */
static evk_status describe_layers(const evk_model *model, layer_profile *out)
{
    uint32_t count = 0;
    evk_status s = evk_model_layer_times(model, NULL, 0, &count);
    evk_model_layer_time *times = s == EVK_SUCCESS ? calloc(count, sizeof *times) : NULL;
    evk_model_layer_info *infos = s == EVK_SUCCESS ? calloc(count, sizeof *infos) : NULL;
    out->rows = s == EVK_SUCCESS ? calloc(count, sizeof *out->rows) : NULL;
    if (s == EVK_SUCCESS && (!times || !infos || !out->rows))
        s = EVK_ERROR_OUT_OF_HOST_MEMORY;
    uint32_t info_count = 0;
    if (s == EVK_SUCCESS)
        s = evk_model_layer_times(model, times, count, &count);
    if (s == EVK_SUCCESS)
        s = evk_model_describe(model, infos, count, &info_count);
    for (uint32_t i = 0; s == EVK_SUCCESS && i < count; ++i) {
        layer_profile_row *row = &out->rows[i];
        snprintf(row->name, sizeof row->name, "%s", times[i].name);
        snprintf(row->kernel, sizeof row->kernel, "%s", times[i].kernel);
        row->dispatches = times[i].dispatches;
        int same_layer = i < info_count && strcmp(infos[i].name, times[i].name) == 0;
        row->macs = same_layer ? infos[i].macs : 0;
    }
    out->count = s == EVK_SUCCESS ? count : 0;
    free(times);
    free(infos);
    return s;
}

/* Runs the timed forwards: per layer its times in column `layer` of
 * `ms` (runs x count), the forward's in `forward_ms`. */
static evk_status time_forwards(evk_context *ctx, const evk_model *model,
                                layer_profile_forward_fn forward, void *user_data, uint32_t runs,
                                uint32_t count, double *ms, double *forward_ms)
{
    evk_model_layer_time *times = calloc(count ? count : 1, sizeof *times);
    if (!times)
        return EVK_ERROR_OUT_OF_HOST_MEMORY;
    evk_status s = EVK_SUCCESS;
    for (uint32_t r = 0; s == EVK_SUCCESS && r < runs; ++r) {
        uint32_t got = 0;
        s = forward(user_data);
        if (s == EVK_SUCCESS)
            s = evk_context_last_gpu_ms(ctx, &forward_ms[r]);
        if (s == EVK_SUCCESS)
            s = evk_model_layer_times(model, times, count, &got);
        for (uint32_t i = 0; s == EVK_SUCCESS && i < count; ++i)
            ms[(size_t)i * runs + r] = times[i].gpu_ms;
    }
    free(times);
    return s;
}

evk_status layer_profile_measure(evk_context *ctx, const evk_model *model,
                                 layer_profile_forward_fn forward, void *user_data, uint32_t runs,
                                 layer_profile *out)
{
    *out = (layer_profile){0};
    runs = runs ? runs : 1;
    evk_status s = evk_context_set_dispatch_timing(ctx, 1);
    if (s != EVK_SUCCESS)
        return s;
    s = forward(user_data);
    if (s == EVK_SUCCESS)
        s = describe_layers(model, out);
    double *ms = NULL;
    if (s == EVK_SUCCESS && !(ms = malloc(((size_t)out->count + 1) * runs * sizeof *ms)))
        s = EVK_ERROR_OUT_OF_HOST_MEMORY;
    double *forward_ms = ms ? ms + (size_t)out->count * runs : NULL;
    if (s == EVK_SUCCESS)
        s = time_forwards(ctx, model, forward, user_data, runs, out->count, ms, forward_ms);
    for (uint32_t i = 0; s == EVK_SUCCESS && i < out->count; ++i)
        out->rows[i].gpu_ms = median_of(ms + (size_t)i * runs, runs);
    if (s == EVK_SUCCESS) {
        out->forward_gpu_ms = median_of(forward_ms, runs);
        out->forwards = runs;
    }
    free(ms);
    evk_status off = evk_context_set_dispatch_timing(ctx, 0);
    s = s == EVK_SUCCESS ? off : s;
    if (s != EVK_SUCCESS)
        layer_profile_free(out);
    return s;
}

void layer_profile_free(layer_profile *profile)
{
    free(profile->rows);
    *profile = (layer_profile){0};
}

double layer_profile_fraction_of_peak(const layer_profile_row *row, double fma_gflops)
{
    if (!row->macs || !(row->gpu_ms > 0.0) || !(fma_gflops > 0.0))
        return NAN;
    return 2.0 * (double)row->macs / (row->gpu_ms * 1e6) / fma_gflops;
}

static double layers_sum_ms(const layer_profile *profile)
{
    double sum = 0.0;
    for (uint32_t i = 0; i < profile->count; ++i)
        sum += profile->rows[i].gpu_ms;
    return sum;
}

void layer_profile_print(FILE *out, const layer_profile *profile, double fma_gflops,
                         const char *indent)
{
    double total = profile->forward_gpu_ms;
    fprintf(out, "%s%-24s %-28s %5s %9s %6s %6s\n", indent, "layer", "kernel", "disp", "GPU ms",
            "share", "%FMA");
    for (uint32_t i = 0; i < profile->count; ++i) {
        const layer_profile_row *row = &profile->rows[i];
        double fraction = layer_profile_fraction_of_peak(row, fma_gflops);
        fprintf(out, "%s%-24s %-28s %5u %9.3f %5.1f%% ", indent, row->name, row->kernel,
                row->dispatches, row->gpu_ms, total > 0.0 ? 100.0 * row->gpu_ms / total : 0.0);
        if (isnan(fraction))
            fprintf(out, "%6s\n", "-");
        else
            fprintf(out, "%6.1f\n", 100.0 * fraction);
    }
    fprintf(out,
            "%s%u layers: %.3f ms of the forward's %.3f ms GPU time (median of %u timed "
            "forwards)\n",
            indent, profile->count, layers_sum_ms(profile), total, profile->forwards);
}

void layer_profile_write_json(json_writer *w, const layer_profile *profile, double fma_gflops)
{
    json_key(w, "layers");
    json_array_begin(w);
    for (uint32_t i = 0; i < profile->count; ++i) {
        const layer_profile_row *row = &profile->rows[i];
        json_object_begin(w);
        json_key_string(w, "name", row->name);
        json_key_string(w, "kernel", row->kernel);
        json_key_uint(w, "dispatches", row->dispatches);
        json_key_number(w, "gpu_ms", row->gpu_ms);
        json_key_number(w, "share",
                        profile->forward_gpu_ms > 0.0 ? row->gpu_ms / profile->forward_gpu_ms
                                                      : NAN);
        json_key_uint(w, "macs", row->macs);
        json_key_number(w, "gflops",
                        row->gpu_ms > 0.0 ? 2.0 * (double)row->macs / (row->gpu_ms * 1e6) : NAN);
        json_key_number(w, "fraction_of_peak", layer_profile_fraction_of_peak(row, fma_gflops));
        json_object_end(w);
    }
    json_array_end(w);
}
