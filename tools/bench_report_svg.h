/* Inline SVG charts for the report's HTML page: a plot area with linear or
 * logarithmic axes, ticks, axis labels, points, lines and horizontal bars.
 * Plain SVG elements only, so the page needs neither script nor network.
 * Data points are <circle class="point"> and bars <rect class="bar">, each
 * with a <title> tooltip; the browser test counts them. */
#ifndef EFFVK_TOOLS_BENCH_REPORT_SVG_H
#define EFFVK_TOOLS_BENCH_REPORT_SVG_H

#include <stddef.h>
#include <stdio.h>

typedef struct svg_axis {
    double min, max;            /* the data range shown */
    int logarithmic;
    const char *label;          /* with its unit */
} svg_axis;

typedef struct svg_chart {
    FILE *out;
    const char *id;
    double width, height;       /* of the whole picture, in px */
    double left, right, top, bottom;    /* margins around the plot area */
    svg_axis x, y;
    /* Bar charts: the y axis holds this many categories instead of values. */
    size_t category_count;
    size_t series_count;        /* bars per category */
} svg_chart;

/* `value` with a %g-style `format`, except from 10000 to 1e9, written whole
 * instead of with an exponent. */
void svg_format_number(char *text, size_t size, const char *format, double value);

/* Writes text escaped for HTML and SVG. */
void svg_escape(FILE *out, const char *text);

/* A value range padded by `factor` on a logarithmic axis (max * factor, min /
 * factor) or by that share of the span on a linear one. */
void svg_axis_pad(svg_axis *axis, double factor);

/* <svg id=... class="chart"> with a <title>, the plot's clip path, the grid,
 * ticks, tick labels and axis labels. */
void svg_chart_begin(svg_chart *chart, const char *title);
void svg_chart_end(const svg_chart *chart);

/* Pixel positions of data values. */
double svg_x(const svg_chart *chart, double value);
double svg_y(const svg_chart *chart, double value);

/* A data point; `emphasised` draws it larger with an outline (a sum over
 * layers among single layers). */
void svg_point(const svg_chart *chart, double x, double y, const char *colour, int emphasised,
               const char *tooltip);

/* A polyline through data points, clipped to the plot; `dash` NULL is solid.
 * `label` (may be NULL) is written near the last point. */
void svg_line(const svg_chart *chart, const double *xs, const double *ys, size_t count,
              const char *colour, const char *dash, const char *label);

/* A vertical line across the plot at data value `x`, labelled at its top;
 * for bar charts, whose y axis holds categories. */
void svg_vertical_line(const svg_chart *chart, double x, const char *colour, const char *label);

/* Text at data coordinates, anchored at its start (at its end in the plot's
 * right part, so that it stays inside). */
void svg_text(const svg_chart *chart, double x, double y, const char *css_class,
              const char *text);

/* Bar charts: the bar of `series` in `category`, from the axis's minimum to
 * `value`, and the category's label left of the plot. */
void svg_bar(const svg_chart *chart, size_t category, size_t series, double value,
             const char *colour, const char *tooltip);
void svg_category_label(const svg_chart *chart, size_t category, const char *text);
/* A piece of a stacked bar, from data value `from` to `to`:
 * <rect class="segment">, not counted as a bar. */
void svg_bar_segment(const svg_chart *chart, size_t category, size_t series, double from,
                     double to, const char *colour, const char *tooltip);
/* The plot height a bar chart of this many categories and series needs. */
double svg_bar_plot_height(size_t category_count, size_t series_count);

#endif
