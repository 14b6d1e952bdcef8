#include "bench_report_layers.h"

#include <math.h>
#include <string.h>

#include "bench_report_html.h"
#include "bench_report_svg.h"

#define MAX_BARS 256
#define TEXT_SIZE 512
#define SLOWEST_LAYERS 5

/* A network on a device: one bar. */
typedef struct layer_bar {
    const report_row *row;
    size_t column;
    const bench_json_result *cell;
    double total_ms; /* the layers' sum */
} layer_bar;

/* The kernels told apart, the last one standing for any beyond. */
typedef struct kernel_set {
    const char *names[REPORT_KERNEL_COLOURS];
    size_t count;
} kernel_set;

static size_t kernel_index(kernel_set *set, const char *kernel)
{
    for (size_t i = 0; i < set->count; ++i)
        if (strcmp(set->names[i], kernel) == 0)
            return i;
    if (set->count == REPORT_KERNEL_COLOURS) {
        set->names[REPORT_KERNEL_COLOURS - 1] = "other kernels";
        return REPORT_KERNEL_COLOURS - 1;
    }
    set->names[set->count] = kernel;
    return set->count++;
}

static size_t gather_bars(const report *r, const char *suite, layer_bar *bars, kernel_set *set)
{
    size_t count = 0;
    for (size_t i = 0; i < r->row_count; ++i)
        for (size_t c = 0; c < r->column_count && count < MAX_BARS; ++c) {
            const bench_json_result *cell = r->rows[i].cells[c];
            if (strcmp(r->rows[i].suite, suite) != 0 || !cell || cell->layer_count == 0)
                continue;
            layer_bar *bar = &bars[count++];
            *bar = (layer_bar){&r->rows[i], c, cell, 0.0};
            for (size_t l = 0; l < cell->layer_count; ++l) {
                bar->total_ms += cell->layers[l].gpu_ms;
                kernel_index(set, cell->layers[l].kernel);
            }
        }
    return count;
}

/* The bar's layers summed per kernel, stacked in the legend's order. */
static void draw_bar(const svg_chart *c, size_t category, const layer_bar *bar, kernel_set *set)
{
    double ms[REPORT_KERNEL_COLOURS] = {0.0};
    for (size_t l = 0; l < bar->cell->layer_count; ++l)
        ms[kernel_index(set, bar->cell->layers[l].kernel)] += bar->cell->layers[l].gpu_ms;
    double from = 0.0;
    for (size_t k = 0; k < set->count; ++k) {
        if (!(ms[k] > 0.0))
            continue;
        char tooltip[TEXT_SIZE];
        snprintf(tooltip, sizeof tooltip, "[%zu] %s: %s %.4g ms (%.1f %% of its layers' time)",
                 bar->column + 1, bar->cell->name, set->names[k], ms[k],
                 100.0 * ms[k] / bar->total_ms);
        svg_bar_segment(c, category, 0, from, from + ms[k], report_kernel_colour(k), tooltip);
        from += ms[k];
    }
}

static void layer_table(FILE *out, const layer_bar *bar)
{
    static const char *const headings[] = {
        "layer", "kernel", "dispatches", "GPU ms", "share of the forward", "% FMA peak"};
    char what[TEXT_SIZE];
    snprintf(what, sizeof what, "[%zu] %s, layer by layer", bar->column + 1, bar->cell->name);
    html_table_begin(out, bar->cell->layer_count, what, headings,
                     sizeof headings / sizeof headings[0]);
    for (size_t l = 0; l < bar->cell->layer_count; ++l) {
        const bench_json_layer *layer = &bar->cell->layers[l];
        fputs("<tr class=\"layer\">", out);
        html_cell_text(out, layer->name);
        html_cell_text(out, layer->kernel);
        html_cell_number(out, layer->dispatches, "%.0f");
        html_cell_number(out, layer->gpu_ms, "%.4g");
        html_cell_number(out, 100.0 * layer->share, "%.1f");
        html_cell_number(out, 100.0 * layer->fraction_of_peak, "%.1f");
        fputs("</tr>\n", out);
    }
    html_table_end(out);
}

void chart_layers(FILE *out, const report *r, const char *suite)
{
    static layer_bar bars[MAX_BARS];
    kernel_set set = {0};
    size_t count = gather_bars(r, suite, bars, &set);
    if (count == 0)
        return;
    svg_axis x = {0.0, 0.0, 0, "GPU time of the forward's layers (ms, per-dispatch timestamps)"};
    for (size_t i = 0; i < count; ++i)
        x.max = fmax(x.max, 1.05 * bars[i].total_ms);
    char id[64], suite_id[48];
    report_id_text(suite, suite_id, sizeof suite_id);
    snprintf(id, sizeof id, "layers-%s", suite_id);
    const char *heading = "Networks: where the time goes, per device.";
    html_figure_begin(out, id, 1, heading,
                      "Each bar is one network's forward on one device (effvk bench models "
                      "--profile), its layers' GPU times stacked by the kernel that ran them; "
                      "the tables below give every layer.");
    svg_chart c = {.out = out,
                   .id = id,
                   .width = 820,
                   .left = 300,
                   .right = 20,
                   .top = 28,
                   .bottom = 44,
                   .x = x,
                   .y = {.label = "network, device"},
                   .category_count = count,
                   .series_count = 1};
    c.height = c.top + c.bottom + svg_bar_plot_height(count, 1);
    svg_chart_begin(&c, heading);
    for (size_t i = 0; i < count; ++i) {
        char label[TEXT_SIZE];
        snprintf(label, sizeof label, "[%zu] %s", bars[i].column + 1, bars[i].cell->name);
        svg_category_label(&c, i, label);
        draw_bar(&c, i, &bars[i], &set);
    }
    svg_chart_end(&c);
    fputs("<ul class=\"legend\">\n", out);
    for (size_t k = 0; k < set.count; ++k)
        html_legend_item(out, report_kernel_colour(k), 0, set.names[k]);
    for (size_t col = 0; col < r->column_count; ++col)
        for (size_t i = 0; i < count; ++i)
            if (bars[i].column == col) {
                html_legend_column(out, r, col);
                break;
            }
    fputs("</ul>\n", out);
    for (size_t i = 0; i < count; ++i)
        layer_table(out, &bars[i]);
    fputs("</figure>\n", out);
}

/* Indices of the cell's `count` slowest layers, slowest first. */
static size_t slowest_layers(const bench_json_result *cell, size_t *slowest, size_t count)
{
    size_t found = 0;
    for (size_t l = 0; l < cell->layer_count; ++l) {
        size_t at = found < count ? found++ : count;
        while (at > 0 && cell->layers[slowest[at - 1]].gpu_ms < cell->layers[l].gpu_ms) {
            if (at < count)
                slowest[at] = slowest[at - 1];
            --at;
        }
        if (at < count)
            slowest[at] = l;
    }
    return found;
}

void report_print_layers(FILE *out, const report *r)
{
    static layer_bar bars[MAX_BARS];
    kernel_set set = {0};
    size_t count = gather_bars(r, "models", bars, &set);
    if (count == 0)
        return;
    fputs("\nwhere the networks' time goes (--profile), the slowest layers:\n", out);
    for (size_t i = 0; i < count; ++i) {
        size_t slowest[SLOWEST_LAYERS];
        size_t shown = slowest_layers(bars[i].cell, slowest, SLOWEST_LAYERS);
        fprintf(out, "  [%zu] %s: %zu layers, %.4g ms\n", bars[i].column + 1, bars[i].cell->name,
                bars[i].cell->layer_count, bars[i].total_ms);
        for (size_t k = 0; k < shown; ++k) {
            const bench_json_layer *layer = &bars[i].cell->layers[slowest[k]];
            fprintf(out, "    %-24s %-24s %9.4g ms %5.1f %%\n", layer->name, layer->kernel,
                    layer->gpu_ms, 100.0 * layer->share);
        }
    }
}
