#include "bench_report.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench_report_layers.h"

#define NOTE_NAME_SIZE 120
#define MAX_NAME_WIDTH 60

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int add_note(report *r, const char *format, ...)
{
    if (r->note_count == r->note_capacity) {
        size_t capacity = r->note_capacity ? 2 * r->note_capacity : 8;
        char **notes = realloc(r->notes, capacity * sizeof *notes);
        if (!notes)
            return -1;
        r->notes = notes;
        r->note_capacity = capacity;
    }
    va_list args;
    va_start(args, format);
    int length = vsnprintf(NULL, 0, format, args);
    va_end(args);
    char *note = length >= 0 ? malloc((size_t)length + 1) : NULL;
    if (!note)
        return -1;
    va_start(args, format);
    vsnprintf(note, (size_t)length + 1, format, args);
    va_end(args);
    r->notes[r->note_count++] = note;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Rows by name                                                              */
/* ------------------------------------------------------------------------ */

static uint64_t hash_name(const char *name)
{
    uint64_t hash = 14695981039346656037ull;          /* FNV-1a */
    for (const unsigned char *c = (const unsigned char *)name; *c; ++c)
        hash = (hash ^ *c) * 1099511628211ull;
    return hash;
}

/* The slot holding `name`, or the empty slot where it would go. */
static size_t find_slot(const report *r, const char *name)
{
    size_t mask = r->slot_count - 1;
    for (size_t slot = (size_t)hash_name(name) & mask;; slot = (slot + 1) & mask)
        if (r->name_slots[slot] == 0 || strcmp(r->rows[r->name_slots[slot] - 1].name, name) == 0)
            return slot;
}

/* Keeps the index at most half full, so that probes stay short. */
static int grow_index(report *r)
{
    size_t count = r->slot_count ? 2 * r->slot_count : 64;
    size_t *old = r->name_slots;
    size_t old_count = r->slot_count;
    r->name_slots = calloc(count, sizeof *r->name_slots);
    if (!r->name_slots) {
        r->name_slots = old;
        return -1;
    }
    r->slot_count = count;
    for (size_t i = 0; i < old_count; ++i)
        if (old[i])
            r->name_slots[find_slot(r, r->rows[old[i] - 1].name)] = old[i];
    free(old);
    return 0;
}

const report_row *report_find_row(const report *r, const char *name)
{
    if (r->slot_count == 0)
        return NULL;
    size_t index = r->name_slots[find_slot(r, name)];
    return index ? &r->rows[index - 1] : NULL;
}

static report_row *row_for(report *r, const bench_json_result *result)
{
    if (2 * (r->row_count + 1) > r->slot_count && grow_index(r) != 0)
        return NULL;
    size_t slot = find_slot(r, result->name);
    if (r->name_slots[slot])
        return &r->rows[r->name_slots[slot] - 1];
    if (r->row_count == r->row_capacity) {
        size_t capacity = r->row_capacity ? 2 * r->row_capacity : 256;
        report_row *rows = realloc(r->rows, capacity * sizeof *rows);
        if (!rows)
            return NULL;
        r->rows = rows;
        r->row_capacity = capacity;
    }
    report_row *row = &r->rows[r->row_count++];
    memset(row, 0, sizeof *row);
    row->suite = result->suite;
    row->name = result->name;
    r->name_slots[slot] = r->row_count;
    return row;
}

/* ------------------------------------------------------------------------ */
/* Columns                                                                   */
/* ------------------------------------------------------------------------ */

static int same_text(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static int same_device(const bench_json_file *a, const bench_json_file *b)
{
    return a->kind == b->kind && same_text(a->device.name, b->device.name) &&
           same_text(a->device.driver_name, b->device.driver_name) &&
           same_text(a->device.driver_info, b->device.driver_info) &&
           same_text(a->device.api_version, b->device.api_version) &&
           same_text(a->host_cpu, b->host_cpu);
}

static void widen_peaks(report_column *c, const bench_json_file *file)
{
    c->fma_gflops_min = fmin(c->fma_gflops_min, file->fma_gflops);
    c->fma_gflops_max = fmax(c->fma_gflops_max, file->fma_gflops);
    c->copy_gbps_min = fmin(c->copy_gbps_min, file->copy_gbps);
    c->copy_gbps_max = fmax(c->copy_gbps_max, file->copy_gbps);
}

static int column_for(report *r, const bench_json_file *file, int column_per_file, size_t *index,
                      char error[REPORT_ERROR_SIZE])
{
    for (size_t i = 0; !column_per_file && i < r->column_count; ++i) {
        if (same_device(r->columns[i].file, file)) {
            r->columns[i].file_count++;
            *index = i;
            return 0;
        }
    }
    if (r->column_count == REPORT_MAX_COLUMNS) {
        snprintf(error, REPORT_ERROR_SIZE, "%s: more than %d devices to compare", file->path,
                 REPORT_MAX_COLUMNS);
        return -1;
    }
    *index = r->column_count++;
    report_column *c = &r->columns[*index];
    *c = (report_column){.file = file, .file_count = 1,
                         .is_pytorch = file->kind == BENCH_FILE_PYTORCH, .fma_gflops_min = NAN,
                         .fma_gflops_max = NAN, .copy_gbps_min = NAN, .copy_gbps_max = NAN};
    return 0;
}

/* A result already taken from an earlier file of the same device keeps that
 * file's measurement: the files given first are the ones the user put first.
 * The column's peaks are those of the files whose results it shows. */
static int add_file(report *r, const bench_json_file *file, size_t column)
{
    size_t repeated = 0, taken = 0;
    const bench_json_result *first_repeat = NULL;
    for (size_t i = 0; i < file->result_count; ++i) {
        report_row *row = row_for(r, &file->results[i]);
        if (!row)
            return -1;
        if (row->cells[column]) {
            if (repeated++ == 0)
                first_repeat = row->cells[column];
            continue;
        }
        row->cells[column] = &file->results[i];
        ++taken;
    }
    if (taken > 0)
        widen_peaks(&r->columns[column], file);
    if (repeated == 0)
        return 0;
    return add_note(r,
                    "%s: %zu of its results were already read from %s for [%zu]; the first "
                    "file's are used (e.g. \"%.*s\")",
                    file->path, repeated, first_repeat->file->path, column + 1, NOTE_NAME_SIZE,
                    first_repeat->name);
}

int report_join(const bench_json_file *files, size_t file_count, int column_per_file,
                report *out, char error[REPORT_ERROR_SIZE])
{
    memset(out, 0, sizeof *out);
    error[0] = '\0';
    for (size_t i = 0; i < file_count; ++i) {
        const bench_json_file *file = &files[i];
        size_t column;
        if (file->kind == BENCH_FILE_SKIPPED) {
            if (add_note(out, "%s: skipped: %s", file->path, file->skip_reason) != 0)
                goto out_of_memory;
            continue;
        }
        if (column_for(out, file, column_per_file, &column, error) != 0)
            return -1;
        if (add_file(out, file, column) != 0)
            goto out_of_memory;
    }
    for (size_t i = 0; i < out->column_count; ++i)
        if (!out->columns[i].is_pytorch)
            return report_set_baseline(out, i, error);
    snprintf(error, REPORT_ERROR_SIZE, "none of the files holds effvk bench results");
    return -1;
out_of_memory:
    snprintf(error, REPORT_ERROR_SIZE, "out of memory");
    return -1;
}

int report_set_baseline(report *r, size_t column, char error[REPORT_ERROR_SIZE])
{
    if (column >= r->column_count) {
        snprintf(error, REPORT_ERROR_SIZE, "there is no device %zu (the files hold %zu)",
                 column + 1, r->column_count);
        return -1;
    }
    if (r->columns[column].is_pytorch) {
        snprintf(error, REPORT_ERROR_SIZE,
                 "device %zu is PyTorch's file; the baseline must be an effvk device", column + 1);
        return -1;
    }
    r->baseline = column;
    return 0;
}

void report_free(report *r)
{
    for (size_t i = 0; i < r->note_count; ++i)
        free(r->notes[i]);
    free(r->notes);
    free(r->rows);
    free(r->name_slots);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------------------ */
/* Derived figures                                                           */
/* ------------------------------------------------------------------------ */

double report_fraction_of_fma(const bench_json_result *result)
{
    return result->gflops / result->file->fma_gflops;
}

double report_fraction_of_copy(const bench_json_result *result)
{
    return result->gbps / result->file->copy_gbps;
}

double report_speedup_over_baseline(const report *r, const report_row *row, size_t column)
{
    const bench_json_result *base = row->cells[r->baseline], *cell = row->cells[column];
    if (!base || !cell)
        return NAN;
    if (r->columns[column].is_pytorch)
        return base->wall_ms_median / cell->wall_ms_median;
    return base->gpu_ms_median / cell->gpu_ms_median;
}

int report_row_on_every_device(const report *r, const report_row *row)
{
    for (size_t i = 0; i < r->column_count; ++i)
        if (!r->columns[i].is_pytorch && !row->cells[i])
            return 0;
    return 1;
}

int report_column_in_suite(const report *r, size_t column, const char *suite)
{
    if (!r->columns[column].is_pytorch)
        return 1;
    for (size_t i = 0; i < r->row_count; ++i)
        if (r->rows[i].cells[column] && strcmp(r->rows[i].suite, suite) == 0)
            return 1;
    return 0;
}

void report_describe_column(const report_column *column, char *text, size_t size)
{
    const bench_json_file *f = column->file;
    if (column->is_pytorch)
        snprintf(text, size, "PyTorch %s on the CPU (%s, %.0f threads)", f->torch_version,
                 f->host_cpu, f->threads);
    else
        snprintf(text, size, "%s, %s %s, Vulkan %s", f->device.name, f->device.driver_name,
                 f->device.driver_info, f->device.api_version);
}

size_t report_suites(const report *r, const char **suites, size_t capacity)
{
    static const char *const papers_first[] = {"hetconv", "octconv", "mbconv", "models",
                                               "conv2d"};
    size_t count = 0;
    for (size_t k = 0; k < sizeof papers_first / sizeof papers_first[0]; ++k)
        for (size_t i = 0; i < r->row_count; ++i)
            if (strcmp(r->rows[i].suite, papers_first[k]) == 0 && count < capacity) {
                suites[count++] = papers_first[k];
                break;
            }
    for (size_t i = 0; i < r->row_count; ++i) {
        size_t k = 0;
        while (k < count && strcmp(suites[k], r->rows[i].suite) != 0)
            ++k;
        if (k == count && count < capacity)
            suites[count++] = r->rows[i].suite;
    }
    return count;
}

/* ------------------------------------------------------------------------ */
/* The text report                                                           */
/* ------------------------------------------------------------------------ */

/* Milliseconds with three or four significant digits. */
static void format_ms(double ms, char *text, size_t size)
{
    if (isnan(ms))
        snprintf(text, size, "-");
    else if (ms >= 100.0)
        snprintf(text, size, "%.0f", ms);
    else if (ms >= 10.0)
        snprintf(text, size, "%.1f", ms);
    else if (ms >= 1.0)
        snprintf(text, size, "%.2f", ms);
    else
        snprintf(text, size, "%.3g", ms);
}

static void format_value(double value, const char *format, double scale, char *text, size_t size)
{
    if (isnan(value) || isinf(value))
        snprintf(text, size, "-");
    else
        snprintf(text, size, format, value * scale);
}

/* Four significant digits, without an exponent up to a million. */
static void print_figure(FILE *out, double value)
{
    fprintf(out, value >= 1e4 && value < 1e6 ? "%.0f" : "%.4g", value);
}

static void print_range(FILE *out, double low, double high, const char *unit)
{
    if (isnan(high)) {
        fprintf(out, "- %s", unit);
        return;
    }
    int one_figure = high - low < 0.005 * high;
    print_figure(out, one_figure ? high : low);
    if (!one_figure) {
        fputc('-', out);
        print_figure(out, high);
    }
    fprintf(out, " %s", unit);
}

static void print_columns(FILE *out, const report *r)
{
    fputs("devices\n", out);
    for (size_t i = 0; i < r->column_count; ++i) {
        const report_column *c = &r->columns[i];
        const bench_json_file *f = c->file;
        char description[512];
        report_describe_column(c, description, sizeof description);
        fprintf(out, "  [%zu] %s%s\n      ", i + 1, description,
                i == r->baseline ? "  (baseline)" : "");
        if (!c->is_pytorch) {
            fprintf(out, "%s; peak ", *f->device.device_type ? f->device.device_type : "device");
            print_range(out, c->fma_gflops_min, c->fma_gflops_max, "GFLOP/s FMA, ");
            print_range(out, c->copy_gbps_min, c->copy_gbps_max, "GB/s copy; ");
        }
        fprintf(out, "%zu file%s, schema %u.%u", c->file_count, c->file_count == 1 ? "" : "s",
                f->schema_major, f->schema_minor);
        if (*f->effvk_version)
            fprintf(out, "; effvk %s", f->effvk_version);
        if (*f->git_revision)
            fprintf(out, " (%s)", f->git_revision);
        if (*f->date)
            fprintf(out, ", %s", f->date);
        if (!c->is_pytorch && *f->host_cpu)
            fprintf(out, "; host %s", f->host_cpu);
        fputc('\n', out);
    }
    fprintf(out,
            "ms: median GPU time per run (PyTorch: wall-clock); x[%zu]: [%zu]'s time over the\n"
            "device's (> 1 is faster; PyTorch against [%zu]'s wall-clock time); %%FMA, %%copy: of\n"
            "the peak measured in the result's own run; eff: speed-up over the result's\n"
            "baseline in the same run over its MACs ratio (1.0 keeps the paper's promise)\n",
            r->baseline + 1, r->baseline + 1, r->baseline + 1);
}

static int name_width(const report *r, const char *suite)
{
    size_t width = 6;
    for (size_t i = 0; i < r->row_count; ++i)
        if (strcmp(r->rows[i].suite, suite) == 0 && strlen(r->rows[i].name) > width)
            width = strlen(r->rows[i].name);
    return (int)(width < MAX_NAME_WIDTH ? width : MAX_NAME_WIDTH);
}

static void print_header(FILE *out, const report *r, const char *suite, int width)
{
    fprintf(out, "\n%-*s", width, suite);
    for (size_t i = 0; i < r->column_count; ++i) {
        if (!report_column_in_suite(r, i, suite))
            continue;
        char label[32], ratio[32];
        snprintf(ratio, sizeof ratio, "x[%zu]", r->baseline + 1);
        snprintf(label, sizeof label, "[%zu] %s", i + 1, r->columns[i].is_pytorch ? "wall" : "ms");
        fprintf(out, "%s%10s", i ? " |" : "", label);
        if (i != r->baseline)
            fprintf(out, " %7s", ratio);
        if (!r->columns[i].is_pytorch)
            fprintf(out, " %6s %6s %5s", "%FMA", "%copy", "eff");
    }
    fputc('\n', out);
}

static void print_row(FILE *out, const report *r, const report_row *row, int width)
{
    fprintf(out, "%-*.*s", width, MAX_NAME_WIDTH, row->name);
    for (size_t i = 0; i < r->column_count; ++i) {
        if (!report_column_in_suite(r, i, row->suite))
            continue;
        const bench_json_result *cell = row->cells[i];
        char ms[32], ratio[32], fma[32], copy[32], eff[32];
        format_ms(!cell ? NAN : r->columns[i].is_pytorch ? cell->wall_ms_median
                                                          : cell->gpu_ms_median,
                  ms, sizeof ms);
        format_value(report_speedup_over_baseline(r, row, i), "%.3g", 1.0, ratio, sizeof ratio);
        format_value(cell ? report_fraction_of_fma(cell) : NAN, "%.1f", 100.0, fma, sizeof fma);
        format_value(cell ? report_fraction_of_copy(cell) : NAN, "%.1f", 100.0, copy, sizeof copy);
        format_value(cell ? cell->efficiency : NAN, "%.2f", 1.0, eff, sizeof eff);
        fprintf(out, "%s%10s", i ? " |" : "", ms);
        if (i != r->baseline)
            fprintf(out, " %7s", ratio);
        if (!r->columns[i].is_pytorch)
            fprintf(out, " %6s %6s %5s", fma, copy, eff);
    }
    fputc('\n', out);
}

/* A bit per column that has the row. */
static unsigned presence_of(const report *r, const report_row *row)
{
    unsigned mask = 0;
    for (size_t i = 0; i < r->column_count; ++i)
        if (row->cells[i])
            mask |= 1u << i;
    return mask;
}

static void print_partial_rows(FILE *out, const report *r)
{
    size_t partial = 0;
    for (size_t i = 0; i < r->row_count; ++i)
        partial += !report_row_on_every_device(r, &r->rows[i]);
    if (partial == 0)
        return;
    fprintf(out, "\n%zu result%s not on every device:\n", partial, partial == 1 ? "" : "s");
    unsigned done[REPORT_MAX_COLUMNS * 64];
    size_t done_count = 0;
    for (size_t i = 0; i < r->row_count; ++i) {
        if (report_row_on_every_device(r, &r->rows[i]))
            continue;
        unsigned mask = presence_of(r, &r->rows[i]);
        size_t k = 0;
        while (k < done_count && done[k] != mask)
            ++k;
        if (k < done_count || done_count == sizeof done / sizeof done[0])
            continue;
        done[done_count++] = mask;
        fputs("  only on", out);
        for (size_t c = 0; c < r->column_count; ++c)
            if (mask & (1u << c))
                fprintf(out, " [%zu]", c + 1);
        fputs(":\n", out);
        for (size_t j = i; j < r->row_count; ++j)
            if (!report_row_on_every_device(r, &r->rows[j]) &&
                presence_of(r, &r->rows[j]) == mask)
                fprintf(out, "    %s\n", r->rows[j].name);
    }
}

void report_print(FILE *out, const report *r)
{
    print_columns(out, r);
    const char *suites[64];
    size_t suite_count = report_suites(r, suites, sizeof suites / sizeof suites[0]);
    for (size_t s = 0; s < suite_count; ++s) {
        int width = name_width(r, suites[s]);
        print_header(out, r, suites[s], width);
        for (size_t i = 0; i < r->row_count; ++i)
            if (strcmp(r->rows[i].suite, suites[s]) == 0)
                print_row(out, r, &r->rows[i], width);
    }
    print_partial_rows(out, r);
    report_print_layers(out, r);
    if (r->note_count)
        fputs("\nnotes:\n", out);
    for (size_t i = 0; i < r->note_count; ++i)
        fprintf(out, "  %s\n", r->notes[i]);
}
