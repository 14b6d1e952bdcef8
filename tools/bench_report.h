/* effvk report: bench result files joined by result name, one column per
 * device, printed side by side and drawn as an HTML page
 * (bench_report_html.c).
 *
 * A column is a device: the files whose device name, driver, API version and
 * host CPU agree (one per suite, often) fill one column, and a result measured
 * in two of them is taken from the file given first. bench/pytorch_cpu.py's
 * files make a PyTorch column. The baseline column is the reference of the
 * "xK" ratios: its time over the column's, so > 1 is faster than the
 * baseline. Fractions of peak are against the peak measured in the result's
 * own file, since every run measures its own. */
#ifndef EFFVK_TOOLS_BENCH_REPORT_H
#define EFFVK_TOOLS_BENCH_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "bench_json_read.h"

#define REPORT_MAX_COLUMNS 16
#define REPORT_ERROR_SIZE 512

typedef struct report_column {
    const bench_json_file *file;    /* the first file: device and provenance */
    size_t file_count;
    int is_pytorch;
    /* The extremes of the peaks its files measured; NAN for PyTorch. */
    double fma_gflops_min, fma_gflops_max, copy_gbps_min, copy_gbps_max;
} report_column;

typedef struct report_row {
    const char *suite;
    const char *name;
    const bench_json_result *cells[REPORT_MAX_COLUMNS];   /* NULL: not measured there */
} report_row;

typedef struct report {
    report_column columns[REPORT_MAX_COLUMNS];
    size_t column_count;
    size_t baseline;                /* a column index; never a PyTorch column */
    report_row *rows;               /* in the order results first appear */
    size_t row_count, row_capacity;
    size_t *name_slots;             /* open-addressing index of rows by name, +1 */
    size_t slot_count;
    char **notes;                   /* skipped files, results given twice for a device */
    size_t note_count, note_capacity;
} report;

/* Joins `files` (kept by pointer: they must outlive the report). Skipped
 * files become notes. `column_per_file` gives each file its own column, for
 * comparing two runs on one device. Returns 0, or -1 with `error` set (out of
 * memory, more than REPORT_MAX_COLUMNS columns, no effvk results at all). */
int report_join(const bench_json_file *files, size_t file_count, int column_per_file,
                report *out, char error[REPORT_ERROR_SIZE]);

/* Makes `column` (0-based) the baseline; -1 with `error` when it is not an
 * effvk device's column. */
int report_set_baseline(report *r, size_t column, char error[REPORT_ERROR_SIZE]);

void report_free(report *r);

/* The row of that name, or NULL. */
const report_row *report_find_row(const report *r, const char *name);

/* The result's GFLOP/s and GB/s over its own file's peaks; NAN for PyTorch. */
double report_fraction_of_fma(const bench_json_result *result);
double report_fraction_of_copy(const bench_json_result *result);

/* The baseline column's time over `column`'s for one row: GPU times between
 * effvk columns, wall-clock times against a PyTorch column. NAN when either
 * is missing. */
double report_speedup_over_baseline(const report *r, const report_row *row, size_t column);

/* Whether every effvk column has the row (PyTorch columns do not count:
 * PyTorch runs only the networks). */
int report_row_on_every_device(const report *r, const report_row *row);

/* Whether the suite's table shows the column: every effvk column, and a
 * PyTorch column where it has results. */
int report_column_in_suite(const report *r, size_t column, const char *suite);

/* "name, driver_name driver_info, Vulkan API" or PyTorch's description. */
void report_describe_column(const report_column *column, char *text, size_t size);

/* The suites present: the papers' blocks (hetconv, octconv, mbconv), the
 * networks and conv2d first, then any other in the order it first appears;
 * returns the count. */
size_t report_suites(const report *r, const char **suites, size_t capacity);

/* The text report: the columns, a table per suite, the results missing on
 * some devices and the notes. */
void report_print(FILE *out, const report *r);

/* `effvk report`: returns the exit status. */
extern const char report_usage[];
int report_main(int argc, char **argv);

#endif
