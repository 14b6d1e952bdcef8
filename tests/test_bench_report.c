/* CPU tier: `effvk report`'s reading and joining of bench result files
 * (tools/bench_json_read.c, tools/bench_report.c) from hand-written JSON:
 * results missing on a device, a name given twice in one file (refused,
 * naming it) and in two files of one device (the first kept, said in a
 * note), peaks that differ between devices and between a device's files,
 * schema versions (none is 1.0; 2.x read; 3.0 and malformed ones refused,
 * naming file and version), PyTorch's file as a column, other effvk files
 * skipped, the baseline's checks, the numbers the JSON parser takes, the
 * page's charts, and a network's time per layer (schema 2.1's "layers") in
 * the page and the text. */
/* open_memstream is POSIX, not C11. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#include "bench_json_read.h"
#include "bench_report.h"
#include "bench_report_html.h"
#include "effvk_internal.h"

#define TEXT_SIZE 8192
#define MAX_FILES 4

/* One result as `effvk bench --json` writes it, trimmed to what the report
 * reads, with no baseline. */
static void result_json(char *out, size_t size, const char *suite, const char *op,
                        const char *name, double ms, double gflops)
{
    snprintf(out, size,
             "{\"suite\": \"%s\", \"name\": \"%s\", \"op\": \"%s\", "
             "\"shape\": {\"n\": 1, \"c_in\": 8, \"h\": 4, \"w\": 4, \"c_out\": 8, \"k\": 3, "
             "\"stride\": 1}, \"params\": {\"kernel\": \"conv2d_dense\"}, "
             "\"macs\": 1000000, \"bytes\": 20000, \"gpu_ms_median\": %.17g, "
             "\"gpu_ms_min\": %.17g, \"wall_ms_median\": %.17g, \"iterations\": 10, "
             "\"gflops\": %.17g, \"gbps\": 1.5e0, \"max_abs_err\": 1e-6, \"baseline\": null, "
             "\"speedup_vs_baseline\": null, \"macs_ratio_vs_baseline\": null, "
             "\"efficiency\": null, \"check_passed\": true}",
             suite, name, op, ms, ms, ms * 1.1, gflops);
}

/* A HetConv layer at P = 4 against `baseline`: twice as fast, a quarter of
 * the MACs. */
static void hetconv_json(char *out, size_t size, const char *name, const char *baseline)
{
    snprintf(out, size,
             "{\"suite\": \"hetconv\", \"name\": \"%s\", \"op\": \"hetconv\", "
             "\"shape\": {\"n\": 1}, \"params\": {\"kernel\": \"hetconv\", \"part\": 4}, "
             "\"macs\": 250000, \"bytes\": 20000, \"gpu_ms_median\": 2.0, "
             "\"wall_ms_median\": 2.5, \"gflops\": 0.25, \"gbps\": 0.01, \"baseline\": \"%s\", "
             "\"speedup_vs_baseline\": 2, \"macs_ratio_vs_baseline\": 4.0, \"efficiency\": 0.5}",
             name, baseline);
}

/* A whole file: `header` (may be "") opens the object, then device, peak and
 * the results already joined with commas. */
static void file_json(char *out, size_t size, const char *header, const char *device,
                      double fma_gflops, const char *results)
{
    snprintf(out, size,
             "{%s\"effvk_version\": \"0.1.0\", \"device\": {\"name\": \"%s\", "
             "\"vendor_id\": 4318, \"device_type\": \"discrete\", \"driver_name\": \"drv\", "
             "\"driver_info\": \"1.0\", \"api_version\": \"1.3.0\", \"fp16_storage\": true, "
             "\"fp16_arithmetic\": true, \"subgroup_size\": 32}, "
             "\"peak\": {\"fma_gflops\": %.17g, \"copy_gbps\": 10.0}, \"results\": [%s]}",
             header, device, fma_gflops, results);
}

typedef struct files {
    bench_json_file file[MAX_FILES];
    size_t count;
} files;

static void read_ok(files *f, const char *path, const char *text)
{
    char error[BENCH_JSON_ERROR_SIZE];
    assert_true(f->count < MAX_FILES);
    int status = bench_json_read_text(path, text, strlen(text), &f->file[f->count], error);
    if (status != 0)
        fail_msg("%s", error);
    f->count++;
}

static void free_files(files *f)
{
    for (size_t i = 0; i < f->count; ++i)
        bench_json_file_free(&f->file[i]);
}

/* The text of `r`'s table. */
static char *print_to_text(const report *r)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_non_null(out);
    report_print(out, r);
    assert_int_equal(fclose(out), 0);
    return text;
}

static void test_missing_results(void **state)
{
    (void)state;
    char a[512], b[512], c[512], text_a[TEXT_SIZE], text_b[TEXT_SIZE], joined[1100];
    result_json(a, sizeof a, "conv2d", "conv2d", "conv A", 2.0, 50.0);
    result_json(b, sizeof b, "conv2d", "conv2d", "conv B", 4.0, 25.0);
    result_json(c, sizeof c, "conv2d", "conv2d", "conv A", 0.5, 200.0);
    snprintf(joined, sizeof joined, "%s, %s", a, b);
    file_json(text_a, sizeof text_a, "", "Slow GPU", 100.0, joined);
    file_json(text_b, sizeof text_b, "", "Fast GPU", 400.0, c);
    files f = {0};
    read_ok(&f, "slow.json", text_a);
    read_ok(&f, "fast.json", text_b);
    report r;
    char error[REPORT_ERROR_SIZE];
    assert_int_equal(report_join(f.file, f.count, 0, &r, error), 0);
    assert_int_equal(r.column_count, 2);
    assert_int_equal(r.row_count, 2);
    const report_row *row_a = report_find_row(&r, "conv A"), *row_b = report_find_row(&r, "conv B");
    assert_non_null(row_a);
    assert_non_null(row_b);
    assert_null(report_find_row(&r, "conv C"));
    assert_true(report_row_on_every_device(&r, row_a));
    assert_false(report_row_on_every_device(&r, row_b));
    assert_null(row_b->cells[1]);
    assert_float_equal(report_speedup_over_baseline(&r, row_a, 1), 4.0, 1e-12);
    assert_true(isnan(report_speedup_over_baseline(&r, row_b, 1)));
    char *text = print_to_text(&r);
    assert_non_null(strstr(text, "1 result not on every device"));
    assert_non_null(strstr(text, "only on [1]:\n    conv B\n"));
    assert_non_null(strstr(text, "[1] Slow GPU, drv 1.0, Vulkan 1.3.0  (baseline)"));
    free(text);
    report_free(&r);
    free_files(&f);
}

static void test_duplicate_names(void **state)
{
    (void)state;
    char a[512], b[512], joined[1100], text[TEXT_SIZE], error[BENCH_JSON_ERROR_SIZE];
    result_json(a, sizeof a, "conv2d", "conv2d", "same name", 2.0, 50.0);
    result_json(b, sizeof b, "hetconv", "hetconv", "same name", 1.0, 80.0);
    snprintf(joined, sizeof joined, "%s, %s", a, b);
    file_json(text, sizeof text, "", "GPU", 100.0, joined);
    bench_json_file file;
    assert_int_equal(bench_json_read_text("twice.json", text, strlen(text), &file, error), -1);
    assert_non_null(strstr(error, "twice.json: "));
    assert_non_null(strstr(error, "\"same name\" appears twice"));
    assert_null(file.results);
}

/* The same device in two files: one column; a name in both keeps the first
 * file's result and says so. */
static void test_same_device_in_two_files(void **state)
{
    (void)state;
    char a[512], b[512], c[512], joined[1100], text_1[TEXT_SIZE], text_2[TEXT_SIZE];
    result_json(a, sizeof a, "models", "model", "net b1", 10.0, 50.0);
    result_json(b, sizeof b, "models", "model", "net b1", 30.0, 17.0);
    result_json(c, sizeof c, "models", "model", "other b1", 20.0, 25.0);
    snprintf(joined, sizeof joined, "%s, %s", b, c);
    file_json(text_1, sizeof text_1, "", "GPU", 100.0, a);
    file_json(text_2, sizeof text_2, "", "GPU", 125.0, joined);
    files f = {0};
    read_ok(&f, "models.json", text_1);
    read_ok(&f, "models-busy.json", text_2);
    report r;
    char error[REPORT_ERROR_SIZE];
    assert_int_equal(report_join(f.file, f.count, 0, &r, error), 0);
    assert_int_equal(r.column_count, 1);
    assert_int_equal(r.columns[0].file_count, 2);
    /* Each file's own peak: the roofs span both. */
    assert_float_equal(r.columns[0].fma_gflops_min, 100.0, 0.0);
    assert_float_equal(r.columns[0].fma_gflops_max, 125.0, 0.0);
    const report_row *net = report_find_row(&r, "net b1");
    assert_float_equal(net->cells[0]->gpu_ms_median, 10.0, 0.0);
    assert_string_equal(net->cells[0]->file->path, "models.json");
    assert_int_equal(r.note_count, 1);
    assert_non_null(strstr(r.notes[0], "models-busy.json: 1 of its results were already read "
                                       "from models.json for [1]"));
    assert_non_null(strstr(r.notes[0], "\"net b1\""));
    report_free(&r);
    /* --by-file: a column each, nothing dropped. */
    assert_int_equal(report_join(f.file, f.count, 1, &r, error), 0);
    assert_int_equal(r.column_count, 2);
    assert_int_equal(r.note_count, 0);
    assert_float_equal(report_find_row(&r, "net b1")->cells[1]->gpu_ms_median, 30.0, 0.0);
    report_free(&r);
    free_files(&f);
}

/* Fractions of peak are against the result's own file's peak. */
static void test_different_peaks(void **state)
{
    (void)state;
    char a[512], text_1[TEXT_SIZE], text_2[TEXT_SIZE], text_3[TEXT_SIZE];
    result_json(a, sizeof a, "conv2d", "conv2d", "conv", 1.0, 50.0);
    file_json(text_1, sizeof text_1, "", "GPU one", 100.0, a);
    file_json(text_2, sizeof text_2, "", "GPU two", 200.0, a);
    result_json(a, sizeof a, "conv2d", "conv2d", "conv2", 1.0, 50.0);
    file_json(text_3, sizeof text_3, "", "GPU one", 250.0, a);
    files f = {0};
    read_ok(&f, "one.json", text_1);
    read_ok(&f, "two.json", text_2);
    read_ok(&f, "one-again.json", text_3);
    report r;
    char error[REPORT_ERROR_SIZE];
    assert_int_equal(report_join(f.file, f.count, 0, &r, error), 0);
    assert_int_equal(r.column_count, 2);
    const report_row *row = report_find_row(&r, "conv");
    assert_float_equal(report_fraction_of_fma(row->cells[0]), 0.5, 1e-12);
    assert_float_equal(report_fraction_of_fma(row->cells[1]), 0.25, 1e-12);
    assert_float_equal(report_fraction_of_copy(row->cells[0]), 0.15, 1e-12);
    assert_float_equal(report_fraction_of_fma(report_find_row(&r, "conv2")->cells[0]), 0.2,
                       1e-12);
    char *text = print_to_text(&r);
    assert_non_null(strstr(text, "peak 100-250 GFLOP/s FMA, 10 GB/s copy; 2 files"));
    free(text);
    report_free(&r);
    free_files(&f);
}

static void expect_refused(const char *header, const char *message)
{
    char a[512], text[TEXT_SIZE], error[BENCH_JSON_ERROR_SIZE];
    result_json(a, sizeof a, "conv2d", "conv2d", "conv", 1.0, 50.0);
    file_json(text, sizeof text, header, "GPU", 100.0, a);
    bench_json_file file;
    assert_int_equal(bench_json_read_text("v.json", text, strlen(text), &file, error), -1);
    if (!strstr(error, message))
        fail_msg("expected \"%s\" in \"%s\"", message, error);
}

static void test_schema_versions(void **state)
{
    (void)state;
    char a[512], text[TEXT_SIZE];
    result_json(a, sizeof a, "conv2d", "conv2d", "conv", 1.0, 50.0);
    files f = {0};
    file_json(text, sizeof text, "", "GPU", 100.0, a);
    read_ok(&f, "old.json", text);
    assert_int_equal(f.file[0].schema_major, 1);
    assert_int_equal(f.file[0].schema_minor, 0);
    assert_string_equal(f.file[0].git_revision, "");
    file_json(text, sizeof text,
              "\"schema_version\": \"2.7\", \"git_revision\": \"abc1234\", \"date\": "
              "\"2026-12-01T10:00:00Z\", \"host_cpu\": \"A CPU\", \"something_new\": [1, 2.5], ",
              "GPU", 100.0, a);
    read_ok(&f, "newer-minor.json", text);
    assert_int_equal(f.file[1].schema_major, 2);
    assert_int_equal(f.file[1].schema_minor, 7);
    assert_string_equal(f.file[1].git_revision, "abc1234");
    assert_string_equal(f.file[1].host_cpu, "A CPU");
    free_files(&f);
    expect_refused("\"schema_version\": \"3.0\", ",
                   "v.json: schema_version 3.0: this effvk reads effvk bench files of versions "
                   "1.x to 2.x only");
    expect_refused("\"schema_version\": \"0.9\", ", "schema_version 0.9:");
    expect_refused("\"schema_version\": 2, ", "schema_version is not a string \"MAJOR.MINOR\"");
    expect_refused("\"schema_version\": \"2\", ", "schema_version is not a string");
    expect_refused("\"schema_version\": \"2.x\", ", "schema_version is not a string");
}

static void test_bad_files(void **state)
{
    (void)state;
    static const struct { const char *text, *message; } cases[] = {
        {"[1, 2]", "x.json: not a JSON object"},
        {"{\"results\": [}", "x.json: not valid JSON: at byte 13"},
        {"{\"device\": {\"name\": \"GPU\"}, \"results\": []}", "x.json: no \"peak\" object"},
        {"{\"device\": {\"name\": \"GPU\"}, \"peak\": {\"fma_gflops\": 1.5, \"copy_gbps\": 2}, "
         "\"results\": [{\"name\": \"a\", \"suite\": \"s\", \"op\": \"o\", \"macs\": 1, "
         "\"bytes\": 1, \"gpu_ms_median\": \"fast\", \"wall_ms_median\": 1}]}",
         "x.json: result \"a\": \"gpu_ms_median\" is not a number"},
        {"{\"device\": {\"name\": \"GPU\"}, \"peak\": {\"fma_gflops\": 1.5, \"copy_gbps\": 2}, "
         "\"results\": [{\"name\": \"a\", \"suite\": \"s\", \"op\": \"o\", \"macs\": 1, "
         "\"bytes\": 1, \"gpu_ms_median\": 1e999, \"wall_ms_median\": 1}]}",
         "\"gpu_ms_median\" is out of range"},
        {"{\"device\": {\"name\": \"GPU\"}, \"peak\": {\"fma_gflops\": 1.5, \"copy_gbps\": 2}, "
         "\"results\": [{\"suite\": \"s\"}]}", "x.json: results[0] has no \"name\""},
        {"{\"framework\": \"pytorch\", \"schema_version\": \"2.0\", \"results\": []}",
         "this effvk reads PyTorch files of versions 1.x to 1.x only"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        char error[BENCH_JSON_ERROR_SIZE];
        bench_json_file file;
        assert_int_equal(bench_json_read_text("x.json", cases[i].text, strlen(cases[i].text),
                                              &file, error), -1);
        if (!strstr(error, cases[i].message))
            fail_msg("case %zu: expected \"%s\" in \"%s\"", i, cases[i].message, error);
    }
}

/* PyTorch's file is a column compared by wall-clock time; effvk's other
 * files are skipped with a note; the baseline cannot be PyTorch. */
static void test_pytorch_and_skipped_files(void **state)
{
    (void)state;
    char a[512], text[TEXT_SIZE], error[REPORT_ERROR_SIZE];
    result_json(a, sizeof a, "models", "model", "efficientnet-b0 b1", 2.0, 50.0);
    file_json(text, sizeof text, "", "GPU", 100.0, a);
    files f = {0};
    read_ok(&f, "models.json", text);
    read_ok(&f, "pytorch.json",
            "{\"framework\": \"pytorch\", \"device\": \"cpu\", \"cpu\": \"A CPU\", "
            "\"torch_version\": \"1.13\", \"threads\": 2, \"results\": [{\"name\": "
            "\"efficientnet-b0 b1\", \"model\": \"efficientnet-b0\", \"batch\": 1, "
            "\"ms_median\": 22.0, \"ms_min\": 21.0, \"iterations\": 10, \"images_per_s\": 45.4}]}");
    read_ok(&f, "layout.json",
            "{\"device\": \"GPU\", \"driver_info\": \"1.0\", \"kernel\": \"conv2d_dense\", "
            "\"results\": [{\"name\": \"conv\", \"packed_gpu_ms_min\": 0.5}]}");
    read_ok(&f, "info.json", "{\"effvk_version\": \"0.1.0\", \"devices\": []}");
    assert_int_equal(f.file[1].kind, BENCH_FILE_PYTORCH);
    assert_int_equal(f.file[2].kind, BENCH_FILE_SKIPPED);
    assert_int_equal(f.file[3].kind, BENCH_FILE_SKIPPED);
    report r;
    assert_int_equal(report_join(f.file, f.count, 0, &r, error), 0);
    assert_int_equal(r.column_count, 2);
    assert_true(r.columns[1].is_pytorch);
    const report_row *row = report_find_row(&r, "efficientnet-b0 b1");
    assert_true(report_row_on_every_device(&r, row));
    assert_float_equal(report_speedup_over_baseline(&r, row, 1), 2.2 / 22.0, 1e-12);
    assert_int_equal(r.note_count, 2);
    assert_non_null(strstr(r.notes[0], "layout.json: skipped: an effvk_layout_bench file"));
    assert_non_null(strstr(r.notes[1], "info.json: skipped: an `effvk info --json` file"));
    assert_int_equal(report_set_baseline(&r, 1, error), -1);
    assert_non_null(strstr(error, "device 2 is PyTorch's file"));
    assert_int_equal(report_set_baseline(&r, 2, error), -1);
    assert_non_null(strstr(error, "there is no device 3"));
    char *table = print_to_text(&r);
    assert_non_null(strstr(table, "PyTorch 1.13 on the CPU (A CPU, 2 threads)"));
    free(table);
    report_free(&r);
    /* PyTorch alone compares nothing. */
    assert_int_equal(report_join(&f.file[1], 1, 0, &r, error), -1);
    assert_non_null(strstr(error, "none of the files holds effvk bench results"));
    report_free(&r);
    free_files(&f);
}

/* The library's parser takes JSON's whole number grammar only when asked. */
static void test_json_numbers(void **state)
{
    (void)state;
    static const char *const good[] = {"1.5", "-0.25", "2e3", "6.02E+23", "1e-7", "0.0"};
    static const char *const bad[] = {"1.", ".5", "01.5", "1e", "1e+", "-", "-.5", "1.5.2"};
    evk_json_doc doc;
    char error[EVK_JSON_ERROR_BYTES];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; ++i) {
        assert_int_equal(evk_json_parse_numbers(NULL, good[i], strlen(good[i]), &doc, error),
                         EVK_SUCCESS);
        assert_int_equal(doc.nodes[0].type, EVK_JSON_NUMBER);
        assert_string_equal(doc.nodes[0].string, good[i]);
        evk_json_free(NULL, &doc);
        assert_int_equal(evk_json_parse(NULL, good[i], strlen(good[i]), &doc, error),
                         EVK_ERROR_INVALID_ARGUMENT);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i)
        assert_int_equal(evk_json_parse_numbers(NULL, bad[i], strlen(bad[i]), &doc, error),
                         EVK_ERROR_INVALID_ARGUMENT);
    const char *mixed = "[12, 1.25, -3, 4e0]";
    assert_int_equal(evk_json_parse_numbers(NULL, mixed, strlen(mixed), &doc, error), EVK_SUCCESS);
    assert_int_equal(doc.nodes[1].type, EVK_JSON_INTEGER);
    assert_int_equal(doc.nodes[2].type, EVK_JSON_NUMBER);
    assert_int_equal(doc.nodes[3].type, EVK_JSON_INTEGER);
    assert_string_equal(doc.nodes[4].string, "4e0");
    evk_json_free(NULL, &doc);
}

/* The page holds each chart with its points, and the devices' names. */
static void test_page(void **state)
{
    (void)state;
    char dense[512], het[512], joined[1100], text_1[TEXT_SIZE], text_2[TEXT_SIZE];
    result_json(dense, sizeof dense, "hetconv", "conv2d", "net/conv1 dense b1", 4.0, 25.0);
    hetconv_json(het, sizeof het, "net/conv1 P=4 b1", "net/conv1 dense b1");
    snprintf(joined, sizeof joined, "%s, %s", dense, het);
    file_json(text_1, sizeof text_1, "", "GPU <one>", 100.0, joined);
    file_json(text_2, sizeof text_2, "", "GPU two", 200.0, joined);
    files f = {0};
    read_ok(&f, "one.json", text_1);
    read_ok(&f, "two.json", text_2);
    report r;
    char error[REPORT_ERROR_SIZE];
    assert_int_equal(report_join(f.file, f.count, 0, &r, error), 0);
    char *page = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&page, &size);
    assert_non_null(out);
    assert_int_equal(report_write_html(out, &r), 0);
    assert_int_equal(fclose(out), 0);
    assert_non_null(strstr(page, "<svg id=\"roofline-hetconv-1\""));
    assert_non_null(strstr(page, "<svg id=\"roofline-hetconv-2\""));
    assert_non_null(strstr(page, "<svg id=\"promise-hetconv\""));
    assert_non_null(strstr(page, "GPU &lt;one&gt;, drv 1.0, Vulkan 1.3.0"));
    assert_null(strstr(page, "<script"));
    assert_null(strstr(page, "src="));
    assert_null(strstr(page, "href=\"http"));
    /* Two layers and a sum per device in the promise chart. */
    const char *promise = strstr(page, "<svg id=\"promise-hetconv\"");
    const char *promise_end = strstr(promise, "</svg>");
    size_t points = 0;
    for (const char *p = promise; (p = strstr(p, "<circle class=\"point")) && p < promise_end; ++p)
        ++points;
    assert_int_equal(points, 4);
    free(page);
    report_free(&r);
    free_files(&f);
}

/* A network with three layers of two kernels, the last without MACs. */
static void profiled_model_json(char *out, size_t size, const char *layers)
{
    snprintf(out, size,
             "{\"suite\": \"models\", \"name\": \"net b1\", \"op\": \"model\", "
             "\"shape\": {\"n\": 1}, \"params\": {\"model\": \"net\", \"images_per_s\": 200}, "
             "\"macs\": 3000000, \"bytes\": 40000, \"gpu_ms_median\": 5.0, "
             "\"wall_ms_median\": 5.5, \"layers\": %s}", layers);
}

static const char three_layers[] =
    "[{\"name\": \"features.0\", \"kernel\": \"conv2d_dense\", \"dispatches\": 1, "
    "\"gpu_ms\": 1.0, \"share\": 0.2, \"macs\": 1000000, \"gflops\": 2.0, "
    "\"fraction_of_peak\": 0.02}, "
    "{\"name\": \"features.1.0\", \"kernel\": \"mbconv\", \"dispatches\": 4, "
    "\"gpu_ms\": 3.5, \"share\": 0.7, \"macs\": 2000000, \"gflops\": 1.14, "
    "\"fraction_of_peak\": 0.0114}, "
    "{\"name\": \"avgpool\", \"kernel\": \"global_avg_pool\", \"dispatches\": 1, "
    "\"gpu_ms\": 0.4, \"share\": 0.08, \"macs\": 0, \"gflops\": 0, "
    "\"fraction_of_peak\": null}]";

static size_t count_in(const char *text, const char *end, const char *what)
{
    size_t count = 0;
    for (const char *p = text; (p = strstr(p, what)) && (!end || p < end); ++p)
        ++count;
    return count;
}

static void test_layers(void **state)
{
    (void)state;
    char model[2048], text_1[TEXT_SIZE], text_2[TEXT_SIZE];
    profiled_model_json(model, sizeof model, three_layers);
    file_json(text_1, sizeof text_1, "\"schema_version\": \"2.1\", ", "GPU one", 100.0, model);
    file_json(text_2, sizeof text_2, "\"schema_version\": \"2.1\", ", "GPU two", 200.0, model);
    files f = {0};
    read_ok(&f, "one.json", text_1);
    read_ok(&f, "two.json", text_2);
    const bench_json_result *net = &f.file[0].results[0];
    assert_int_equal(net->layer_count, 3);
    assert_string_equal(net->layers[1].name, "features.1.0");
    assert_string_equal(net->layers[1].kernel, "mbconv");
    assert_true(net->layers[1].dispatches == 4.0 && net->layers[1].gpu_ms == 3.5);
    assert_true(isnan(net->layers[2].fraction_of_peak));
    report r;
    char error[REPORT_ERROR_SIZE];
    assert_int_equal(report_join(f.file, f.count, 0, &r, error), 0);
    char *page = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&page, &size);
    assert_non_null(out);
    assert_int_equal(report_write_html(out, &r), 0);
    assert_int_equal(fclose(out), 0);
    /* A bar per device, a segment per kernel, a table row per layer. */
    const char *chart = strstr(page, "<svg id=\"layers-models\"");
    assert_non_null(chart);
    assert_int_equal(count_in(chart, strstr(chart, "</svg>"), "<rect class=\"segment\""), 6);
    assert_int_equal(count_in(chart, NULL, "<tr class=\"layer\">"), 6);
    assert_non_null(strstr(page, "[2] net b1, layer by layer"));
    char *text = print_to_text(&r);
    assert_non_null(strstr(text, "where the networks' time goes"));
    assert_non_null(strstr(text, "features.1.0"));
    free(text);
    free(page);
    report_free(&r);
    free_files(&f);

    char broken[1024], broken_file[TEXT_SIZE];
    profiled_model_json(broken, sizeof broken, "{\"name\": \"features.0\"}");
    file_json(broken_file, sizeof broken_file, "", "GPU", 100.0, broken);
    bench_json_file file;
    assert_int_equal(bench_json_read_text("broken.json", broken_file, strlen(broken_file), &file,
                                          error), -1);
    assert_non_null(strstr(error, "\"layers\" is not an array"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_results),
        cmocka_unit_test(test_duplicate_names),
        cmocka_unit_test(test_same_device_in_two_files),
        cmocka_unit_test(test_different_peaks),
        cmocka_unit_test(test_schema_versions),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_pytorch_and_skipped_files),
        cmocka_unit_test(test_json_numbers),
        cmocka_unit_test(test_page),
        cmocka_unit_test(test_layers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
