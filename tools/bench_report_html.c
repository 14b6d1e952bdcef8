#include "bench_report_html.h"

#include <math.h>
#include <string.h>

#include "bench_report_charts.h"
#include "bench_report_layers.h"
#include "bench_report_svg.h"
#include "effvk/effvk.h"

#define TEXT_SIZE 512
#define MAX_SUITES 64
#define OPEN_TABLE_ROWS 24

static const char page_style[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#222;"
    "margin:24px auto;max-width:1300px;padding:0 16px}\n"
    "h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;"
    "border-bottom:1px solid #ccc;padding-bottom:4px}\n"
    "table{border-collapse:collapse;margin:6px 0}th,td{padding:2px 8px;border-bottom:1px solid "
    "#e4e4e4;text-align:right;white-space:nowrap}th{background:#f3f3f3}td.text,th.text{"
    "text-align:left}\n"
    ".figures{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}.figure{margin:0;"
    "width:620px}.figure.wide{width:820px}\n"
    "table.devices td.text{white-space:normal;max-width:260px}\n"
    ".figure details{max-width:100%;overflow-x:auto}\n"
    "figcaption{font-size:13px;margin-bottom:6px;max-width:620px}\n"
    "svg.chart{background:#fff;display:block}svg.chart text{font:11px system-ui,sans-serif;"
    "fill:#333}svg.chart .axis-label{font-size:12px}svg.chart .line-label,svg.chart "
    ".key-label{font-size:11px;fill:#555}svg.chart .category{font-size:10.5px}\n"
    ".plot{fill:none;stroke:#999}.grid{stroke:#ececec}.line{fill:none;stroke-width:1.5}\n"
    "circle.point{fill-opacity:.55}circle.point.sum{fill-opacity:.95;stroke:#111;"
    "stroke-width:1.2}\n"
    "ul.legend{list-style:none;padding:0;margin:6px 0;font-size:12.5px}ul.legend li{margin:2px 0}"
    ".key{display:inline-block;width:11px;height:11px;margin-right:6px;border-radius:2px;"
    "vertical-align:-1px}.key-line{display:inline-block;width:18px;margin-right:6px;"
    "border-top:2px solid;vertical-align:3px}\n"
    "details{margin:4px 0 10px;font-size:12.5px}summary{cursor:pointer;color:#245}\n"
    "table.data td,table.data th{font-size:12px}.note{color:#7a4b00}\n";

static const char *suite_title(const char *suite)
{
    static const struct { const char *suite, *title; } titles[] = {
        {"conv2d", "conv2d: single convolutions"},
        {"hetconv", "HetConv: heterogeneous kernels, per part P"},
        {"octconv", "OctConv: octave convolution, per \u03b1"},
        {"mbconv", "MBConv: EfficientNet's blocks, fused and unfused"},
        {"models", "Whole networks"},
    };
    for (size_t i = 0; i < sizeof titles / sizeof titles[0]; ++i)
        if (strcmp(titles[i].suite, suite) == 0)
            return titles[i].title;
    return suite;
}

static const char *const column_colours[] = {
    "#1f6fb4", "#d62728", "#2a9d3a", "#8c5ab4", "#e07b00", "#17a2b8", "#8c564b", "#d4449c",
};
#define COLUMN_COLOURS (sizeof column_colours / sizeof column_colours[0])

const char *report_column_colour(size_t column)
{
    return column_colours[column % COLUMN_COLOURS];
}

static const char *const kernel_colours[REPORT_KERNEL_COLOURS] = {
    "#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2",
    "#b279a2", "#ff9da6", "#9d755d", "#bab0ac", "#eeca3b",
};

const char *report_kernel_colour(size_t kernel)
{
    return kernel_colours[kernel % REPORT_KERNEL_COLOURS];
}

void report_id_text(const char *text, char *id, size_t size)
{
    size_t n = 0;
    for (const char *c = text; *c && n + 1 < size; ++c)
        id[n++] = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ? *c
                  : (*c >= 'A' && *c <= 'Z') ? (char)(*c - 'A' + 'a') : '-';
    id[n] = '\0';
}

/* ------------------------------------------------------------------------ */
/* Figure, legend and table pieces                                           */
/* ------------------------------------------------------------------------ */

void html_figure_begin(FILE *out, const char *id, int wide, const char *heading,
                       const char *explanation)
{
    fprintf(out, "<figure class=\"figure%s\" id=\"fig-%s\">\n<figcaption><strong>",
            wide ? " wide" : "", id);
    svg_escape(out, heading);
    fputs("</strong> ", out);
    svg_escape(out, explanation);
    fputs("</figcaption>\n", out);
}

void html_legend_item(FILE *out, const char *colour, int as_line, const char *text)
{
    fprintf(out, "<li><span class=\"%s\" style=\"%s:%s\"></span>", as_line ? "key-line" : "key",
            as_line ? "border-color" : "background", colour);
    svg_escape(out, text);
    fputs("</li>\n", out);
}

void html_legend_column(FILE *out, const report *r, size_t column)
{
    char description[TEXT_SIZE], text[TEXT_SIZE + 16];
    report_describe_column(&r->columns[column], description, sizeof description);
    snprintf(text, sizeof text, "[%zu] %s", column + 1, description);
    html_legend_item(out, report_column_colour(column), 0, text);
}

void html_details_begin(FILE *out, size_t rows, const char *what)
{
    fprintf(out, "<details%s><summary>%s (%zu rows)</summary>\n<table class=\"data\">",
            rows <= OPEN_TABLE_ROWS ? " open" : "", what, rows);
}

void html_table_begin(FILE *out, size_t rows, const char *what, const char *const *headings,
                      size_t heading_count)
{
    html_details_begin(out, rows, what);
    fputs("<tr>", out);
    for (size_t i = 0; i < heading_count; ++i) {
        fputs("<th>", out);
        svg_escape(out, headings[i]);
        fputs("</th>", out);
    }
    fputs("</tr>\n", out);
}

void html_table_end(FILE *out)
{
    fputs("</table></details>\n", out);
}

void html_cell_text(FILE *out, const char *text)
{
    fputs("<td class=\"text\">", out);
    svg_escape(out, text && *text ? text : "-");
    fputs("</td>", out);
}

void html_cell_number(FILE *out, double value, const char *format)
{
    if (!isfinite(value)) {
        fputs("<td>-</td>", out);
        return;
    }
    char text[64];
    svg_format_number(text, sizeof text, format, value);
    fprintf(out, "<td>%s</td>", text);
}

static void range_cell(FILE *out, double low, double high, const char *unit)
{
    char low_text[32], high_text[32];
    svg_format_number(low_text, sizeof low_text, "%.4g", low);
    svg_format_number(high_text, sizeof high_text, "%.4g", high);
    if (!isfinite(high))
        fputs("<td>-</td>", out);
    else if (high - low < 0.005 * high)
        fprintf(out, "<td>%s %s</td>", high_text, unit);
    else
        fprintf(out, "<td>%s&ndash;%s %s</td>", low_text, high_text, unit);
}

static void write_devices(FILE *out, const report *r)
{
    fputs("<table id=\"devices\" class=\"devices\"><tr><th class=\"text\">device</th>"
          "<th class=\"text\">type</th><th class=\"text\">driver</th><th class=\"text\">API</th>"
          "<th>FMA peak</th><th>copy peak</th><th class=\"text\">host CPU</th>"
          "<th class=\"text\">effvk</th><th class=\"text\">date</th><th>files</th>"
          "<th>schema</th></tr>\n", out);
    for (size_t i = 0; i < r->column_count; ++i) {
        const report_column *c = &r->columns[i];
        const bench_json_file *f = c->file;
        char text[TEXT_SIZE];
        fprintf(out, "<tr class=\"device\"><td class=\"text\"><span class=\"key\" "
                "style=\"background:%s\"></span>[%zu] ", report_column_colour(i), i + 1);
        svg_escape(out, f->device.name);
        fprintf(out, "%s</td>", i == r->baseline ? " <em>(baseline)</em>" : "");
        html_cell_text(out, c->is_pytorch ? "CPU, PyTorch" : f->device.device_type);
        snprintf(text, sizeof text, "%s %s", f->device.driver_name, f->device.driver_info);
        html_cell_text(out, c->is_pytorch ? f->torch_version : text);
        snprintf(text, sizeof text, "Vulkan %s", f->device.api_version);
        html_cell_text(out, c->is_pytorch ? "" : text);
        range_cell(out, c->fma_gflops_min, c->fma_gflops_max, "GFLOP/s");
        range_cell(out, c->copy_gbps_min, c->copy_gbps_max, "GB/s");
        html_cell_text(out, f->host_cpu);
        snprintf(text, sizeof text, "%s%s%s%s", f->effvk_version, *f->git_revision ? " (" : "",
                 f->git_revision, *f->git_revision ? ")" : "");
        html_cell_text(out, text);
        html_cell_text(out, f->date);
        fprintf(out, "<td>%zu</td><td>%u.%u</td></tr>\n", c->file_count, f->schema_major,
                f->schema_minor);
    }
    fputs("</table>\n", out);
    for (size_t i = 0; i < r->column_count; ++i)
        if (*r->columns[i].file->peak_method) {
            fprintf(out, "<p>[%zu] peak: ", i + 1);
            svg_escape(out, r->columns[i].file->peak_method);
            fputs("</p>\n", out);
        }
}

static size_t rows_on_every_device(const report *r)
{
    size_t count = 0;
    for (size_t i = 0; i < r->row_count; ++i)
        count += report_row_on_every_device(r, &r->rows[i]);
    return count;
}

static void write_summary(FILE *out, const report *r)
{
    fprintf(out, "<p id=\"summary\">%zu devices, %zu results joined by name (%zu on every "
            "device); [%zu] is the baseline of the ratios. Times are medians of GPU timestamps "
            "(PyTorch: wall clock); fractions of peak are against the peak measured in the "
            "result's own run; efficiency is the speed-up over the result's baseline in its "
            "run over its MACs ratio, 1.0 where the paper's promise is kept.</p>\n",
            r->column_count, r->row_count, rows_on_every_device(r), r->baseline + 1);
    if (r->note_count == 0)
        return;
    fputs("<ul id=\"notes\">\n", out);
    for (size_t i = 0; i < r->note_count; ++i) {
        fputs("<li class=\"note\">", out);
        svg_escape(out, r->notes[i]);
        fputs("</li>\n", out);
    }
    fputs("</ul>\n", out);
}

static void write_suite(FILE *out, const report *r, const char *suite)
{
    char id[64];
    report_id_text(suite, id, sizeof id);
    fprintf(out, "<section class=\"suite\" id=\"suite-%s\">\n<h2>", id);
    svg_escape(out, suite_title(suite));
    fputs("</h2>\n<div class=\"figures\">\n", out);
    if (strcmp(suite, "hetconv") == 0)
        chart_promise(out, r, suite, "hetconv");
    else if (strcmp(suite, "octconv") == 0)
        chart_promise(out, r, suite, "octconv");
    else if (strcmp(suite, "mbconv") == 0)
        chart_fusion(out, r, suite);
    else if (strcmp(suite, "models") == 0) {
        chart_latency(out, r, suite);
        chart_layers(out, r, suite);
    }
    for (size_t column = 0; column < r->column_count; ++column)
        chart_roofline(out, r, suite, column);
    fputs("</div>\n</section>\n", out);
}

static void write_joined_header(FILE *out, const report *r, const char *suite)
{
    fputs("<tr><th class=\"text\">result</th>", out);
    for (size_t i = 0; i < r->column_count; ++i) {
        if (!report_column_in_suite(r, i, suite))
            continue;
        fprintf(out, "<th>[%zu] %s</th>", i + 1, r->columns[i].is_pytorch ? "wall ms" : "ms");
        if (i != r->baseline)
            fprintf(out, "<th>x[%zu]</th>", r->baseline + 1);
        if (!r->columns[i].is_pytorch)
            fprintf(out, "<th>[%zu] %%FMA</th><th>[%zu] %%copy</th><th>[%zu] eff</th>", i + 1,
                    i + 1, i + 1);
    }
    fputs("</tr>\n", out);
}

static void write_joined_row(FILE *out, const report *r, const report_row *row)
{
    fprintf(out, "<tr%s>", report_row_on_every_device(r, row) ? "" : " class=\"partial\"");
    html_cell_text(out, row->name);
    for (size_t i = 0; i < r->column_count; ++i) {
        if (!report_column_in_suite(r, i, row->suite))
            continue;
        const bench_json_result *cell = row->cells[i];
        int pytorch = r->columns[i].is_pytorch;
        html_cell_number(out, !cell ? NAN : pytorch ? cell->wall_ms_median : cell->gpu_ms_median,
                         "%.4g");
        if (i != r->baseline)
            html_cell_number(out, report_speedup_over_baseline(r, row, i), "%.3g");
        if (pytorch)
            continue;
        html_cell_number(out, cell ? 100.0 * report_fraction_of_fma(cell) : NAN, "%.1f");
        html_cell_number(out, cell ? 100.0 * report_fraction_of_copy(cell) : NAN, "%.1f");
        html_cell_number(out, cell ? cell->efficiency : NAN, "%.2f");
    }
    fputs("</tr>\n", out);
}

static void write_joined_tables(FILE *out, const report *r, const char *const *suites,
                                size_t suite_count)
{
    fprintf(out, "<section id=\"all-results\">\n<h2>Every result, side by side</h2>\n"
            "<p>ms: median GPU time; x[%zu]: [%zu]'s time over the device's (&gt; 1 is "
            "faster); %%FMA, %%copy: of the device's measured peaks; eff: efficiency. A dash: "
            "not measured on that device.</p>\n",
            r->baseline + 1, r->baseline + 1);
    for (size_t s = 0; s < suite_count; ++s) {
        size_t count = 0, partial = 0;
        for (size_t i = 0; i < r->row_count; ++i)
            if (strcmp(r->rows[i].suite, suites[s]) == 0) {
                ++count;
                partial += !report_row_on_every_device(r, &r->rows[i]);
            }
        fprintf(out, "<details><summary>");
        svg_escape(out, suites[s]);
        fprintf(out, ": %zu results, %zu not on every device</summary>\n"
                "<table class=\"data joined\">\n", count, partial);
        write_joined_header(out, r, suites[s]);
        for (size_t i = 0; i < r->row_count; ++i)
            if (strcmp(r->rows[i].suite, suites[s]) == 0)
                write_joined_row(out, r, &r->rows[i]);
        fputs("</table></details>\n", out);
    }
    fputs("</section>\n", out);
}

int report_write_html(FILE *out, const report *r)
{
    const char *suites[MAX_SUITES];
    size_t suite_count = report_suites(r, suites, MAX_SUITES);
    fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"generator\" content=\"effvk report %s\">\n"
            "<title>effvk benchmark report</title>\n<style>\n%s</style>\n</head>\n<body>\n"
            "<h1>effvk benchmark report</h1>\n",
            EVK_VERSION_STRING, page_style);
    write_summary(out, r);
    write_devices(out, r);
    fputs("<nav><p>", out);
    for (size_t s = 0; s < suite_count; ++s) {
        char id[64];
        report_id_text(suites[s], id, sizeof id);
        fprintf(out, "%s<a href=\"#suite-%s\">", s ? " &middot; " : "", id);
        svg_escape(out, suites[s]);
        fputs("</a>", out);
    }
    fputs(" &middot; <a href=\"#all-results\">every result</a></p></nav>\n", out);
    for (size_t s = 0; s < suite_count; ++s)
        write_suite(out, r, suites[s]);
    write_joined_tables(out, r, suites, suite_count);
    fputs("</body>\n</html>\n", out);
    return ferror(out) ? -1 : 0;
}
