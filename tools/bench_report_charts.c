#include "bench_report_charts.h"

#include <math.h>
#include <string.h>

#include "bench_report_html.h"
#include "bench_report_svg.h"

#define MAX_KERNELS 10
#define MAX_SUMS 512
#define MAX_CATEGORIES 512
#define TEXT_SIZE 512

static int in_suite(const report_row *row, const char *suite)
{
    return strcmp(row->suite, suite) == 0;
}

/* ------------------------------------------------------------------------ */
/* Roofline                                                                  */
/* ------------------------------------------------------------------------ */

static const bench_json_result *roofline_cell(const report_row *row, const char *suite,
                                              size_t column)
{
    const bench_json_result *cell = row->cells[column];
    if (!in_suite(row, suite) || !cell || !(cell->macs > 0.0) || !(cell->bytes > 0.0) ||
        !(cell->gflops > 0.0))
        return NULL;
    return cell;
}

static size_t kernel_slot(const char **kernels, size_t *count, const char *kernel)
{
    for (size_t i = 0; i < *count; ++i)
        if (strcmp(kernels[i], kernel) == 0)
            return i;
    if (*count == MAX_KERNELS)
        return MAX_KERNELS - 1;
    kernels[*count] = kernel;
    return (*count)++;
}

static void roofline_table(FILE *out, const report *r, const char *suite, size_t column,
                           size_t count)
{
    static const char *const headings[] = {"result", "kernel", "GPU ms", "FLOP/byte", "GFLOP/s",
                                           "% FMA peak", "GB/s", "% copy peak"};
    html_table_begin(out, count, "data", headings, sizeof headings / sizeof headings[0]);
    for (size_t i = 0; i < r->row_count; ++i) {
        const bench_json_result *cell = roofline_cell(&r->rows[i], suite, column);
        if (!cell)
            continue;
        fputs("<tr>", out);
        html_cell_text(out, cell->name);
        html_cell_text(out, cell->kernel);
        html_cell_number(out, cell->gpu_ms_median, "%.4g");
        html_cell_number(out, 2.0 * cell->macs / cell->bytes, "%.3g");
        html_cell_number(out, cell->gflops, "%.4g");
        html_cell_number(out, 100.0 * report_fraction_of_fma(cell), "%.1f");
        html_cell_number(out, cell->gbps, "%.4g");
        html_cell_number(out, 100.0 * report_fraction_of_copy(cell), "%.1f");
        fputs("</tr>\n", out);
    }
    html_table_end(out);
}

void chart_roofline(FILE *out, const report *r, const char *suite, size_t column)
{
    svg_axis x = {INFINITY, 0.0, 1, "arithmetic intensity (FLOP per byte of minimum traffic)"};
    svg_axis y = {INFINITY, 0.0, 1, "achieved GFLOP/s (median GPU time)"};
    double fma = 0.0, copy = 0.0;
    size_t count = 0;
    for (size_t i = 0; i < r->row_count; ++i) {
        const bench_json_result *cell = roofline_cell(&r->rows[i], suite, column);
        if (!cell)
            continue;
        double intensity = 2.0 * cell->macs / cell->bytes;
        x.min = fmin(x.min, intensity);
        x.max = fmax(x.max, intensity);
        y.min = fmin(y.min, cell->gflops);
        fma = fmax(fma, cell->file->fma_gflops);
        copy = fmax(copy, cell->file->copy_gbps);
        ++count;
    }
    if (count == 0 || r->columns[column].is_pytorch)
        return;
    double ridge = fma / copy;
    x.min = fmin(x.min, ridge);
    x.max = fmax(x.max, ridge);
    y.max = fma;
    svg_axis_pad(&x, 2.0);
    svg_axis_pad(&y, 1.6);
    char suite_id[64], id[96], heading[2 * TEXT_SIZE], description[TEXT_SIZE], label[96];
    report_id_text(suite, suite_id, sizeof suite_id);
    snprintf(id, sizeof id, "roofline-%s-%zu", suite_id, column + 1);
    report_describe_column(&r->columns[column], description, sizeof description);
    snprintf(heading, sizeof heading, "Roofline of %s on [%zu] %s.", suite, column + 1,
             description);
    html_figure_begin(out, id, 0, heading,
                 "Each point is one result: the GFLOP/s it reached against the FLOPs it does "
                 "per byte it must move at least. The roofs are the peaks measured in the same "
                 "runs, the copy bandwidth (sloped) and the FMA loop (flat); a point near a roof "
                 "is held back by it. Large points are sums over a network's layers.");
    svg_chart c = {.out = out, .id = id, .width = 620, .height = 400, .left = 64, .right = 16,
                   .top = 24, .bottom = 44, .x = x, .y = y};
    svg_chart_begin(&c, heading);
    double roof_x[3] = {c.x.min, ridge, c.x.max}, roof_y[3] = {copy * c.x.min, fma, fma};
    svg_line(&c, roof_x, roof_y, 3, "#333", NULL, NULL);
    char figure[32];
    svg_format_number(figure, sizeof figure, "%.4g", fma);
    snprintf(label, sizeof label, "FMA peak %s GFLOP/s", figure);
    svg_text(&c, c.x.max, fma, "line-label", label);
    double copy_label_x = fmax(c.x.min, c.y.min / copy) * 1.5;
    snprintf(label, sizeof label, "copy %.4g GB/s", copy);
    svg_text(&c, copy_label_x, copy * copy_label_x, "line-label", label);
    const char *kernels[MAX_KERNELS];
    size_t kernel_count = 0;
    for (size_t i = 0; i < r->row_count; ++i) {
        const bench_json_result *cell = roofline_cell(&r->rows[i], suite, column);
        if (!cell)
            continue;
        char tooltip[TEXT_SIZE];
        snprintf(tooltip, sizeof tooltip, "%s (%s): %.3g FLOP/byte, %.4g GFLOP/s, %.1f%% of FMA peak",
                 cell->name, cell->kernel, 2.0 * cell->macs / cell->bytes, cell->gflops,
                 100.0 * report_fraction_of_fma(cell));
        size_t k = kernel_slot(kernels, &kernel_count, cell->kernel);
        svg_point(&c, 2.0 * cell->macs / cell->bytes, cell->gflops, report_kernel_colour(k),
                  cell->is_total, tooltip);
    }
    svg_chart_end(&c);
    fputs("<ul class=\"legend\">\n", out);
    html_legend_column(out, r, column);
    for (size_t k = 0; k < kernel_count; ++k)
        html_legend_item(out, report_kernel_colour(k), 0,
                    k == MAX_KERNELS - 1 && kernel_count == MAX_KERNELS ? "other kernels"
                                                                       : kernels[k]);
    html_legend_item(out, "#333", 1, "roofs: measured copy bandwidth and FMA peak");
    fputs("</ul>\n", out);
    roofline_table(out, r, suite, column, count);
    fputs("</figure>\n", out);
}

/* ------------------------------------------------------------------------ */
/* Speed-up against MACs ratio                                               */
/* ------------------------------------------------------------------------ */

typedef struct promise_sum {
    size_t column;
    char network[64];
    double batch, key;
    double base_ms, ms, base_macs, macs;
    size_t layers;
} promise_sum;

static double promise_key(const bench_json_result *cell)
{
    return isnan(cell->part) ? cell->alpha : cell->part;
}

static const bench_json_result *promise_cell(const report *r, const report_row *row,
                                             const char *suite, const char *op, size_t column)
{
    const bench_json_result *cell = row->cells[column];
    if (r->columns[column].is_pytorch || !in_suite(row, suite) || !cell ||
        strcmp(cell->op, op) != 0 || cell->is_total || !(cell->speedup_vs_baseline > 0.0) ||
        !(cell->macs_ratio_vs_baseline > 0.0) || !isfinite(cell->speedup_vs_baseline))
        return NULL;
    return cell;
}

/* Adds the layer into the sum of its network, batch and key. */
static void add_to_sums(const report *r, const bench_json_result *cell, size_t column,
                        promise_sum *sums, size_t *count)
{
    const report_row *base_row = cell->baseline ? report_find_row(r, cell->baseline) : NULL;
    const bench_json_result *base = base_row ? base_row->cells[column] : NULL;
    if (!base || isnan(promise_key(cell)))
        return;
    size_t network_length = strcspn(cell->name, "/");
    char network[64];
    snprintf(network, sizeof network, "%.*s", (int)network_length, cell->name);
    size_t i = 0;
    while (i < *count && !(sums[i].column == column && strcmp(sums[i].network, network) == 0 &&
                           sums[i].batch == cell->batch && sums[i].key == promise_key(cell)))
        ++i;
    if (i == *count) {
        if (*count == MAX_SUMS)
            return;
        sums[(*count)++] = (promise_sum){.column = column, .batch = cell->batch,
                                         .key = promise_key(cell)};
        memcpy(sums[i].network, network, sizeof network);
    }
    sums[i].base_ms += base->gpu_ms_median;
    sums[i].ms += cell->gpu_ms_median;
    sums[i].base_macs += base->macs;
    sums[i].macs += cell->macs;
    sums[i].layers++;
}

static void promise_tables(FILE *out, const report *r, const char *suite, const char *op,
                           const promise_sum *sums, size_t sum_count, size_t points,
                           const char *key_name)
{
    const char *const sum_headings[] = {"device", "network", "batch", key_name, "layers",
                                        "MACs ratio", "speed-up", "efficiency"};
    html_table_begin(out, sum_count, "sums over each network's layers", sum_headings, 8);
    for (size_t i = 0; i < sum_count; ++i) {
        const promise_sum *s = &sums[i];
        char device[32];
        snprintf(device, sizeof device, "[%zu]", s->column + 1);
        fputs("<tr>", out);
        html_cell_text(out, device);
        html_cell_text(out, s->network);
        html_cell_number(out, s->batch, "%.0f");
        html_cell_number(out, s->key, "%g");
        html_cell_number(out, (double)s->layers, "%.0f");
        html_cell_number(out, s->base_macs / s->macs, "%.3g");
        html_cell_number(out, s->base_ms / s->ms, "%.3g");
        html_cell_number(out, (s->base_ms / s->ms) / (s->base_macs / s->macs), "%.2f");
        fputs("</tr>\n", out);
    }
    html_table_end(out);
    const char *const layer_headings[] = {"device", "result", key_name, "MACs ratio",
                                          "speed-up", "efficiency"};
    html_table_begin(out, points, "layers", layer_headings, 6);
    for (size_t column = 0; column < r->column_count; ++column)
        for (size_t i = 0; i < r->row_count; ++i) {
            const bench_json_result *cell = promise_cell(r, &r->rows[i], suite, op, column);
            if (!cell)
                continue;
            char device[32];
            snprintf(device, sizeof device, "[%zu]", column + 1);
            fputs("<tr>", out);
            html_cell_text(out, device);
            html_cell_text(out, cell->name);
            html_cell_number(out, promise_key(cell), "%g");
            html_cell_number(out, cell->macs_ratio_vs_baseline, "%.3g");
            html_cell_number(out, cell->speedup_vs_baseline, "%.3g");
            html_cell_number(out, cell->efficiency, "%.2f");
            fputs("</tr>\n", out);
        }
    html_table_end(out);
}

/* The key's values along the top, where their sums sit on the MACs axis;
 * every other label one line higher, since neighbours can sit close. */
static void label_keys(const svg_chart *c, const promise_sum *sums, size_t count,
                       const char *key_name)
{
    size_t labelled = 0;
    for (size_t i = 0; i < count; ++i) {
        size_t first = 0;
        while (sums[first].key != sums[i].key)
            ++first;
        if (first != i)
            continue;
        double log_sum = 0.0;
        size_t n = 0;
        for (size_t j = i; j < count; ++j)
            if (sums[j].key == sums[i].key) {
                log_sum += log(sums[j].base_macs / sums[j].macs);
                ++n;
            }
        double x = svg_x(c, exp(log_sum / (double)n));
        fprintf(c->out, "<text class=\"key-label\" x=\"%.1f\" y=\"%.1f\" "
                "text-anchor=\"middle\">", x, c->top - 4.0 - 11.0 * (double)(labelled++ % 2));
        svg_escape(c->out, key_name);
        fprintf(c->out, "=%g</text>\n", sums[i].key);
    }
}

void chart_promise(FILE *out, const report *r, const char *suite, const char *op)
{
    static promise_sum sums[MAX_SUMS];
    size_t sum_count = 0, points = 0;
    svg_axis x = {1.0, 1.0, 1, "MACs ratio: the baseline's MACs over the result's (x)"};
    svg_axis y = {1.0, 1.0, 1, "speed-up over the baseline, median GPU time (x)"};
    for (size_t column = 0; column < r->column_count; ++column)
        for (size_t i = 0; i < r->row_count; ++i) {
            const bench_json_result *cell = promise_cell(r, &r->rows[i], suite, op, column);
            if (!cell)
                continue;
            x.min = fmin(x.min, cell->macs_ratio_vs_baseline);
            x.max = fmax(x.max, cell->macs_ratio_vs_baseline);
            y.min = fmin(y.min, cell->speedup_vs_baseline);
            y.max = fmax(y.max, fmax(cell->speedup_vs_baseline, cell->macs_ratio_vs_baseline));
            add_to_sums(r, cell, column, sums, &sum_count);
            ++points;
        }
    if (points == 0)
        return;
    int hetconv = strcmp(op, "hetconv") == 0;
    const char *key_name = hetconv ? "P" : "\u03b1";
    svg_axis_pad(&x, 1.2);
    svg_axis_pad(&y, 1.2);
    char id[96], heading[TEXT_SIZE];
    snprintf(id, sizeof id, "promise-%s", hetconv ? "hetconv" : "octconv");
    snprintf(heading, sizeof heading, "%s: speed-up against MACs ratio, per %s.",
             hetconv ? "HetConv" : "OctConv", key_name);
    html_figure_begin(out, id, 0, heading,
                 hetconv ? "Each HetConv layer against the dense convolution of the same shape "
                           "in the same run. On the diagonal a layer got exactly as much faster "
                           "as its MACs shrank (efficiency 1.0: the paper's promise kept); below "
                           "it part of the saving is lost. Large points sum a network's layers "
                           "at one P and batch."
                         : "Each OctConv layer against the vanilla convolution of the same shape "
                           "in the same run. On the diagonal a layer got exactly as much faster "
                           "as its MACs shrank (efficiency 1.0: the paper's promise kept); below "
                           "it part of the saving is lost. Large points sum a network's layers "
                           "at one \u03b1 and batch.");
    svg_chart c = {.out = out, .id = id, .width = 620, .height = 430, .left = 56, .right = 16,
                   .top = 40, .bottom = 44, .x = x, .y = y};
    svg_chart_begin(&c, heading);
    double diagonal[2] = {c.x.min, c.x.max}, level_x[2] = {c.x.min, c.x.max}, level[2] = {1, 1};
    svg_line(&c, level_x, level, 2, "#888", "5 4", "as fast as the baseline");
    svg_line(&c, diagonal, diagonal, 2, "#333", NULL, NULL);
    /* Along the diagonal, a little past the middle, where no key label is. */
    double label_at = exp(log(c.x.min) + 0.3 * (log(c.x.max) - log(c.x.min)));
    svg_text(&c, label_at, label_at, "line-label", "promise kept (efficiency 1.0)");
    label_keys(&c, sums, sum_count, key_name);
    for (size_t column = 0; column < r->column_count; ++column)
        for (size_t i = 0; i < r->row_count; ++i) {
            const bench_json_result *cell = promise_cell(r, &r->rows[i], suite, op, column);
            if (!cell)
                continue;
            char tooltip[TEXT_SIZE];
            snprintf(tooltip, sizeof tooltip, "[%zu] %s: MACs ratio %.3g, speed-up %.3g, "
                     "efficiency %.2f", column + 1, cell->name, cell->macs_ratio_vs_baseline,
                     cell->speedup_vs_baseline, cell->efficiency);
            svg_point(&c, cell->macs_ratio_vs_baseline, cell->speedup_vs_baseline,
                      report_column_colour(column), 0, tooltip);
        }
    for (size_t i = 0; i < sum_count; ++i) {
        const promise_sum *s = &sums[i];
        char tooltip[TEXT_SIZE];
        double macs_ratio = s->base_macs / s->macs, speedup = s->base_ms / s->ms;
        snprintf(tooltip, sizeof tooltip, "[%zu] %s b%.0f %s=%g, %zu layers: MACs ratio %.3g, "
                 "speed-up %.3g, efficiency %.2f", s->column + 1, s->network, s->batch, key_name,
                 s->key, s->layers, macs_ratio, speedup, speedup / macs_ratio);
        svg_point(&c, macs_ratio, speedup, report_column_colour(s->column), 1, tooltip);
    }
    svg_chart_end(&c);
    fputs("<ul class=\"legend\">\n", out);
    for (size_t column = 0; column < r->column_count; ++column)
        if (!r->columns[column].is_pytorch)
            html_legend_column(out, r, column);
    html_legend_item(out, "#333", 1, "promise kept: speed-up = MACs ratio");
    fputs("</ul>\n", out);
    promise_tables(out, r, suite, op, sums, sum_count, points, key_name);
    fputs("</figure>\n", out);
}

/* ------------------------------------------------------------------------ */
/* Bar charts: MBConv fusion, network latency                                */
/* ------------------------------------------------------------------------ */

static int fused_cell(const bench_json_result *cell)
{
    return cell && cell->fused == 1 && cell->speedup_vs_baseline > 0.0 &&
           isfinite(cell->speedup_vs_baseline);
}

static int latency_cell(const bench_json_result *cell)
{
    return cell && cell->wall_ms_median > 0.0 && isfinite(cell->wall_ms_median);
}

/* The rows of `suite` where some column passes `wanted`, and the columns
 * that have any; returns the row count. */
static size_t bar_categories(const report *r, const char *suite,
                             int (*wanted)(const bench_json_result *), int with_pytorch,
                             const report_row **rows, size_t *columns, size_t *column_count)
{
    size_t count = 0;
    int used[REPORT_MAX_COLUMNS] = {0};
    for (size_t i = 0; i < r->row_count && count < MAX_CATEGORIES; ++i) {
        int any = 0;
        for (size_t c = 0; c < r->column_count; ++c)
            if (in_suite(&r->rows[i], suite) && (with_pytorch || !r->columns[c].is_pytorch) &&
                wanted(r->rows[i].cells[c]))
                any = used[c] = 1;
        if (any)
            rows[count++] = &r->rows[i];
    }
    *column_count = 0;
    for (size_t c = 0; c < r->column_count; ++c)
        if (used[c])
            columns[(*column_count)++] = c;
    return count;
}

static void bar_legend(FILE *out, const report *r, const size_t *columns, size_t column_count)
{
    fputs("<ul class=\"legend\">\n", out);
    for (size_t s = 0; s < column_count; ++s)
        html_legend_column(out, r, columns[s]);
    fputs("</ul>\n", out);
}

void chart_fusion(FILE *out, const report *r, const char *suite)
{
    static const report_row *rows[MAX_CATEGORIES];
    size_t columns[REPORT_MAX_COLUMNS], column_count;
    size_t count = bar_categories(r, suite, fused_cell, 0, rows, columns, &column_count);
    if (count == 0)
        return;
    svg_axis x = {0.0, 1.2, 0, "speed-up of the fused block over the unfused sequence "
                               "(x, median GPU time)"};
    for (size_t i = 0; i < count; ++i)
        for (size_t s = 0; s < column_count; ++s)
            if (fused_cell(rows[i]->cells[columns[s]]))
                x.max = fmax(x.max, 1.08 * rows[i]->cells[columns[s]]->speedup_vs_baseline);
    const char *id = "fusion-mbconv";
    const char *heading = "MBConv: the fused block against the unfused sequence, per block.";
    html_figure_begin(out, id, 1, heading,
                 "Each bar is one block (or the sum over a network's blocks) in one run: the "
                 "unfused sequence's time over the fused kernel's, both checked against the CPU "
                 "reference. Right of the line the fusion pays.");
    svg_chart c = {.out = out, .id = id, .width = 820, .left = 300, .right = 20, .top = 28,
                   .bottom = 44, .x = x, .y = {.label = "block"}, .category_count = count,
                   .series_count = column_count};
    c.height = c.top + c.bottom + svg_bar_plot_height(count, column_count);
    svg_chart_begin(&c, heading);
    for (size_t i = 0; i < count; ++i) {
        svg_category_label(&c, i, rows[i]->name);
        for (size_t s = 0; s < column_count; ++s) {
            const bench_json_result *cell = rows[i]->cells[columns[s]];
            if (!fused_cell(cell))
                continue;
            char tooltip[TEXT_SIZE];
            snprintf(tooltip, sizeof tooltip, "[%zu] %s: %.3gx (fused %.4g ms)", columns[s] + 1,
                     cell->name, cell->speedup_vs_baseline, cell->gpu_ms_median);
            svg_bar(&c, i, s, cell->speedup_vs_baseline, report_column_colour(columns[s]),
                    tooltip);
        }
    }
    svg_vertical_line(&c, 1.0, "#333", "fused = unfused");
    svg_chart_end(&c);
    bar_legend(out, r, columns, column_count);
    html_details_begin(out, count, "data");
    fputs("<tr><th>block</th>", out);
    for (size_t s = 0; s < column_count; ++s)
        fprintf(out, "<th>[%zu] unfused ms</th><th>[%zu] fused ms</th><th>[%zu] speed-up</th>",
                columns[s] + 1, columns[s] + 1, columns[s] + 1);
    fputs("</tr>\n", out);
    for (size_t i = 0; i < count; ++i) {
        fputs("<tr>", out);
        html_cell_text(out, rows[i]->name);
        for (size_t s = 0; s < column_count; ++s) {
            const bench_json_result *cell = rows[i]->cells[columns[s]];
            int shown = fused_cell(cell);
            html_cell_number(out, shown ? cell->gpu_ms_median * cell->speedup_vs_baseline : NAN, "%.4g");
            html_cell_number(out, shown ? cell->gpu_ms_median : NAN, "%.4g");
            html_cell_number(out, shown ? cell->speedup_vs_baseline : NAN, "%.3g");
        }
        fputs("</tr>\n", out);
    }
    html_table_end(out);
    fputs("</figure>\n", out);
}

void chart_latency(FILE *out, const report *r, const char *suite)
{
    static const report_row *rows[MAX_CATEGORIES];
    size_t columns[REPORT_MAX_COLUMNS], column_count;
    size_t count = bar_categories(r, suite, latency_cell, 1, rows, columns, &column_count);
    if (count == 0)
        return;
    svg_axis x = {INFINITY, 0.0, 1, "latency per batch, wall clock (ms, median; log scale)"};
    for (size_t i = 0; i < count; ++i)
        for (size_t s = 0; s < column_count; ++s)
            if (latency_cell(rows[i]->cells[columns[s]])) {
                x.min = fmin(x.min, rows[i]->cells[columns[s]]->wall_ms_median);
                x.max = fmax(x.max, rows[i]->cells[columns[s]]->wall_ms_median);
            }
    svg_axis_pad(&x, 1.5);
    const char *id = "latency-models";
    const char *heading = "Networks: latency per device.";
    html_figure_begin(out, id, 1, heading,
                 "The wall-clock time of one forward pass over a batch, upload and download "
                 "included, as a user waits for it; shorter is faster.");
    svg_chart c = {.out = out, .id = id, .width = 820, .left = 240, .right = 20, .top = 28,
                   .bottom = 44, .x = x, .y = {.label = "network, batch"},
                   .category_count = count, .series_count = column_count};
    c.height = c.top + c.bottom + svg_bar_plot_height(count, column_count);
    svg_chart_begin(&c, heading);
    for (size_t i = 0; i < count; ++i) {
        svg_category_label(&c, i, rows[i]->name);
        for (size_t s = 0; s < column_count; ++s) {
            const bench_json_result *cell = rows[i]->cells[columns[s]];
            if (!latency_cell(cell))
                continue;
            char tooltip[TEXT_SIZE];
            snprintf(tooltip, sizeof tooltip, "[%zu] %s: %.4g ms", columns[s] + 1, cell->name,
                     cell->wall_ms_median);
            svg_bar(&c, i, s, cell->wall_ms_median, report_column_colour(columns[s]), tooltip);
        }
    }
    svg_chart_end(&c);
    bar_legend(out, r, columns, column_count);
    html_details_begin(out, count, "data");
    fputs("<tr><th>network</th>", out);
    for (size_t s = 0; s < column_count; ++s) {
        fprintf(out, "<th>[%zu] wall ms</th>", columns[s] + 1);
        if (!r->columns[columns[s]].is_pytorch)
            fprintf(out, "<th>[%zu] GPU ms</th>", columns[s] + 1);
        fprintf(out, "<th>[%zu] images/s</th>", columns[s] + 1);
    }
    fputs("</tr>\n", out);
    for (size_t i = 0; i < count; ++i) {
        fputs("<tr>", out);
        html_cell_text(out, rows[i]->name);
        for (size_t s = 0; s < column_count; ++s) {
            const bench_json_result *cell = rows[i]->cells[columns[s]];
            html_cell_number(out, cell ? cell->wall_ms_median : NAN, "%.4g");
            if (!r->columns[columns[s]].is_pytorch)
                html_cell_number(out, cell ? cell->gpu_ms_median : NAN, "%.4g");
            html_cell_number(out, cell ? cell->images_per_s : NAN, "%.4g");
        }
        fputs("</tr>\n", out);
    }
    html_table_end(out);
    fputs("</figure>\n", out);
}
