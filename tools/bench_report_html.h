/* effvk report --html: one self-contained page (inline CSS and SVG; no
 * script, no fonts or files fetched) with the devices, a section per suite
 * (a roofline per device and the suite's own chart, each with its legend and
 * data table) and the joined table of every result. */
#ifndef EFFVK_TOOLS_BENCH_REPORT_HTML_H
#define EFFVK_TOOLS_BENCH_REPORT_HTML_H

#include <stddef.h>
#include <stdio.h>

#include "bench_report.h"

/* Returns 0, or -1 when writing to `out` failed. */
int report_write_html(FILE *out, const report *r);

/* ---- The page's pieces, shared with its figures (bench_report_charts.c). */

/* The colour of a column in every chart and table. */
const char *report_column_colour(size_t column);
/* The colour of the k-th kernel a chart tells apart (REPORT_KERNEL_COLOURS
 * of them, then again from the first). */
#define REPORT_KERNEL_COLOURS 10
const char *report_kernel_colour(size_t kernel);

/* `text` reduced to [a-z0-9-] for an element id. */
void report_id_text(const char *text, char *id, size_t size);

/* Opens <figure> with its caption; `wide` for a bar chart, whose category
 * labels take room. The figure's writer closes it. */
void html_figure_begin(FILE *out, const char *id, int wide, const char *heading,
                       const char *explanation);

/* A legend entry: a colour swatch (or a line) and its text. */
void html_legend_item(FILE *out, const char *colour, int as_line, const char *text);
/* The column's entry: "[K] device, driver, API". */
void html_legend_column(FILE *out, const report *r, size_t column);

/* A data table under a chart, folded away when it is long: with its
 * headings, or (details_begin) with a heading row the caller writes. */
void html_details_begin(FILE *out, size_t rows, const char *what);
void html_table_begin(FILE *out, size_t rows, const char *what, const char *const *headings,
                      size_t heading_count);
void html_table_end(FILE *out);
/* Cells: text ("-" when empty) and numbers ("-" when not finite). */
void html_cell_text(FILE *out, const char *text);
void html_cell_number(FILE *out, double value, const char *format);

#endif
