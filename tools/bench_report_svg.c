#include "bench_report_svg.h"

#include <math.h>

#define MAX_TICKS 24
#define BAR_HEIGHT 9.0
#define CATEGORY_GAP 8.0

void svg_format_number(char *text, size_t size, const char *format, double value)
{
    if (fabs(value) >= 1e4 && fabs(value) < 1e9)
        snprintf(text, size, "%.0f", value);
    else
        snprintf(text, size, format, value);
}

void svg_escape(FILE *out, const char *text)
{
    for (const char *c = text; *c; ++c) {
        switch (*c) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        default: fputc(*c, out);
        }
    }
}

void svg_axis_pad(svg_axis *axis, double factor)
{
    if (axis->logarithmic) {
        axis->min /= factor;
        axis->max *= factor;
    } else {
        double span = axis->max - axis->min;
        axis->min -= span * (factor - 1.0);
        axis->max += span * (factor - 1.0);
    }
}

/* An empty or inverted range still gets a drawable axis. */
static void make_drawable(svg_axis *axis)
{
    if (axis->logarithmic) {
        if (!(axis->max > 0.0) || !isfinite(axis->max))
            axis->max = 1.0;
        if (!(axis->min > 0.0) || axis->min >= axis->max)
            axis->min = axis->max / 10.0;
    } else if (!(axis->max > axis->min)) {
        axis->max = axis->min + 1.0;
    }
}

static double fraction_along(const svg_axis *axis, double value)
{
    if (axis->logarithmic)
        return (log10(value) - log10(axis->min)) / (log10(axis->max) - log10(axis->min));
    return (value - axis->min) / (axis->max - axis->min);
}

static double plot_width(const svg_chart *c) { return c->width - c->left - c->right; }
static double plot_height(const svg_chart *c) { return c->height - c->top - c->bottom; }

double svg_x(const svg_chart *c, double value)
{
    return c->left + fraction_along(&c->x, value) * plot_width(c);
}

double svg_y(const svg_chart *c, double value)
{
    return c->top + (1.0 - fraction_along(&c->y, value)) * plot_height(c);
}

/* Ticks at 1, 2 and 5 per decade, only the decades when that makes too many,
 * and more steps when a narrow range would otherwise show fewer than three. */
static size_t log_ticks(const svg_axis *axis, double *ticks)
{
    static const double sparse[] = {1.0, 2.0, 5.0};
    static const double dense[] = {1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0};
    const double *steps = sparse;
    size_t step_count = 3;
    for (int attempt = 0; attempt < 3; ++attempt) {
        size_t count = 0;
        for (int decade = (int)floor(log10(axis->min)); decade <= (int)ceil(log10(axis->max));
             ++decade)
            for (size_t s = 0; s < step_count && count < MAX_TICKS; ++s) {
                double tick = steps[s] * pow(10.0, decade);
                if (tick >= axis->min * 0.999 && tick <= axis->max * 1.001)
                    ticks[count++] = tick;
            }
        if (count > 10 && steps == sparse && step_count == 3) {
            step_count = 1;
        } else if (count < 3 && steps == sparse) {
            steps = dense;
            step_count = sizeof dense / sizeof dense[0];
        } else {
            return count;
        }
    }
    return 0;
}

static size_t linear_ticks(const svg_axis *axis, double *ticks)
{
    double raw = (axis->max - axis->min) / 6.0;
    double magnitude = pow(10.0, floor(log10(raw)));
    double step = magnitude * (raw <= magnitude ? 1.0 : raw <= 2 * magnitude ? 2.0
                               : raw <= 5 * magnitude ? 5.0 : 10.0);
    size_t count = 0;
    for (double tick = ceil(axis->min / step) * step;
         tick <= axis->max + step * 1e-9 && count < MAX_TICKS; tick += step)
        ticks[count++] = fabs(tick) < step * 1e-9 ? 0.0 : tick;
    return count;
}

static size_t axis_ticks(const svg_axis *axis, double *ticks)
{
    return axis->logarithmic ? log_ticks(axis, ticks) : linear_ticks(axis, ticks);
}

static void draw_x_axis(const svg_chart *c)
{
    double ticks[MAX_TICKS];
    size_t count = axis_ticks(&c->x, ticks);
    double bottom = c->top + plot_height(c);
    for (size_t i = 0; i < count; ++i) {
        double x = svg_x(c, ticks[i]);
        fprintf(c->out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                x, c->top, x, bottom);
        char label[32];
        svg_format_number(label, sizeof label, "%g", ticks[i]);
        fprintf(c->out, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                x, bottom + 14.0, label);
    }
    fprintf(c->out, "<text class=\"axis-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
            c->left + plot_width(c) / 2.0, c->height - 8.0);
    svg_escape(c->out, c->x.label);
    fputs("</text>\n", c->out);
}

static void draw_y_axis(const svg_chart *c)
{
    double ticks[MAX_TICKS];
    size_t count = axis_ticks(&c->y, ticks);
    for (size_t i = 0; i < count; ++i) {
        double y = svg_y(c, ticks[i]);
        fprintf(c->out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                c->left, y, c->left + plot_width(c), y);
        char label[32];
        svg_format_number(label, sizeof label, "%g", ticks[i]);
        fprintf(c->out, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                c->left - 5.0, y + 4.0, label);
    }
    double middle = c->top + plot_height(c) / 2.0;
    fprintf(c->out,
            "<text class=\"axis-label\" x=\"14\" y=\"%.1f\" text-anchor=\"middle\" "
            "transform=\"rotate(-90 14 %.1f)\">",
            middle, middle);
    svg_escape(c->out, c->y.label);
    fputs("</text>\n", c->out);
}

void svg_chart_begin(svg_chart *c, const char *title)
{
    make_drawable(&c->x);
    if (c->category_count == 0)
        make_drawable(&c->y);
    fprintf(c->out,
            "<svg id=\"%s\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
            "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\"><title>",
            c->id, c->width, c->height, c->width, c->height);
    svg_escape(c->out, title);
    fprintf(c->out, "</title>\n<defs><clipPath id=\"%s-plot\"><rect x=\"%.1f\" y=\"%.1f\" "
            "width=\"%.1f\" height=\"%.1f\"/></clipPath></defs>\n",
            c->id, c->left, c->top, plot_width(c), plot_height(c));
    fprintf(c->out, "<rect class=\"plot\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n",
            c->left, c->top, plot_width(c), plot_height(c));
    draw_x_axis(c);
    if (c->category_count == 0)
        draw_y_axis(c);
    else if (c->y.label) {
        fprintf(c->out, "<text class=\"axis-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
                c->left - 5.0, c->top - 6.0);
        svg_escape(c->out, c->y.label);
        fputs("</text>\n", c->out);
    }
}

void svg_chart_end(const svg_chart *c)
{
    fputs("</svg>\n", c->out);
}

void svg_point(const svg_chart *c, double x, double y, const char *colour, int emphasised,
               const char *tooltip)
{
    fprintf(c->out,
            "<circle class=\"point%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\"><title>",
            emphasised ? " sum" : "", svg_x(c, x), svg_y(c, y), emphasised ? "6" : "3.2", colour);
    svg_escape(c->out, tooltip);
    fputs("</title></circle>\n", c->out);
}

void svg_line(const svg_chart *c, const double *xs, const double *ys, size_t count,
              const char *colour, const char *dash, const char *label)
{
    fprintf(c->out, "<polyline class=\"line\" clip-path=\"url(#%s-plot)\" stroke=\"%s\"%s%s%s "
            "points=\"", c->id, colour, dash ? " stroke-dasharray=\"" : "", dash ? dash : "",
            dash ? "\"" : "");
    for (size_t i = 0; i < count; ++i)
        fprintf(c->out, "%s%.1f,%.1f", i ? " " : "", svg_x(c, xs[i]), svg_y(c, ys[i]));
    fputs("\"/>\n", c->out);
    if (label && count > 0)
        svg_text(c, xs[count - 1], ys[count - 1], "line-label", label);
}

void svg_vertical_line(const svg_chart *c, double x, const char *colour, const char *label)
{
    double px = svg_x(c, x);
    fprintf(c->out, "<line class=\"line\" stroke=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
            "y2=\"%.1f\"/>\n", colour, px, c->top, px, c->top + plot_height(c));
    fprintf(c->out, "<text class=\"line-label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
            px, c->top - 6.0);
    svg_escape(c->out, label);
    fputs("</text>\n", c->out);
}

void svg_text(const svg_chart *c, double x, double y, const char *css_class, const char *text)
{
    double px = svg_x(c, x), py = svg_y(c, y);
    const char *anchor = px > c->left + 0.7 * plot_width(c) ? "end" : "start";
    fprintf(c->out, "<text class=\"%s\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">", css_class,
            px + (anchor[0] == 's' ? 4.0 : -4.0), py - 5.0, anchor);
    svg_escape(c->out, text);
    fputs("</text>\n", c->out);
}

double svg_bar_plot_height(size_t category_count, size_t series_count)
{
    return (double)category_count * ((double)series_count * BAR_HEIGHT + CATEGORY_GAP);
}

static double category_top(const svg_chart *c, size_t category)
{
    return c->top + (double)category * ((double)c->series_count * BAR_HEIGHT + CATEGORY_GAP) +
           CATEGORY_GAP / 2.0;
}

void svg_bar(const svg_chart *c, size_t category, size_t series, double value,
             const char *colour, const char *tooltip)
{
    double x0 = c->left, x1 = svg_x(c, value);
    fprintf(c->out,
            "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
            "fill=\"%s\"><title>",
            x0, category_top(c, category) + (double)series * BAR_HEIGHT,
            x1 > x0 ? x1 - x0 : 0.5, BAR_HEIGHT - 1.0, colour);
    svg_escape(c->out, tooltip);
    fputs("</title></rect>\n", c->out);
}

void svg_bar_segment(const svg_chart *c, size_t category, size_t series, double from,
                     double to, const char *colour, const char *tooltip)
{
    double x0 = svg_x(c, from), x1 = svg_x(c, to);
    fprintf(c->out,
            "<rect class=\"segment\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
            "fill=\"%s\" stroke=\"#fff\" stroke-width=\"0.5\"><title>",
            x0, category_top(c, category) + (double)series * BAR_HEIGHT,
            x1 > x0 ? x1 - x0 : 0.5, BAR_HEIGHT - 1.0, colour);
    svg_escape(c->out, tooltip);
    fputs("</title></rect>\n", c->out);
}

void svg_category_label(const svg_chart *c, size_t category, const char *text)
{
    double middle = category_top(c, category) + (double)c->series_count * BAR_HEIGHT / 2.0;
    fprintf(c->out, "<text class=\"category\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
            c->left - 6.0, middle + 4.0);
    svg_escape(c->out, text);
    fputs("</text>\n", c->out);
}
