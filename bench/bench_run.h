/* Inside the benchmark framework: the state of one device's run and what
 * bench.c shares with the timing (bench_timing.c), the JSON writer
 * (bench_json_write.c), the progress line (bench_progress.c), the headline
 * summary (bench_headline.c) and the loop over devices (bench_devices.c).
 * Suites see only bench.h. */
#ifndef EFFVK_BENCH_RUN_H
#define EFFVK_BENCH_RUN_H

#include <stddef.h>

#include "bench.h"
#include "effvk_internal.h"
#include "json.h"

/* The progress line on stderr: "suite k/n NAME, result i/m, ETA m:ss",
 * rewritten in place on a terminal, one line per suite otherwise. */
typedef struct bench_progress {
    int terminal;
    int line_open;   /* a line is on screen, without its newline */
    char device[32]; /* "device 1/2, " with several devices, else "" */
    uint32_t suite_number, suite_count;
    const char *suite;
    uint32_t result, suite_results;              /* in the current suite */
    uint32_t done, expected;                     /* over the whole run */
    double start_ms;                             /* when the first suite began */
    uint32_t pipelines_created, pipelines_total; /* a batch being created */
    const char *activity;                        /* "measuring the peak", or NULL */
} bench_progress;

/* bench_main's exit codes. */
enum { BENCH_EXIT_OK = 0, BENCH_EXIT_ERROR = 1, BENCH_EXIT_CHECK_FAILED = 3 };

struct bench_run {
    const bench_options *options;
    int headline;             /* the headline set (no suite named, no --all) */
    const bench_suite *suite; /* the one running now */
    evk_context *ctx;
    /* --precision's other entries' contexts, made on first use (ctx is the
     * first entry's). */
    evk_context *precision_ctx[BENCH_MAX_PRECISIONS];
    evk_device_properties device;
    evk_peak peak;
    FILE *table;               /* stdout, or stderr when JSON goes to stdout */
    FILE *json;                /* NULL: no JSON requested */
    evk_file_writer json_file; /* when the JSON goes to a file */
    bench_result *results;
    size_t result_count, result_capacity;
    size_t failed_checks;
    size_t partial_checks;
    bench_progress progress;
};

/* One device's run: bench_main for a single device (options->all_devices
 * ignored); `device_label` ("device 1/2, " or "") leads the progress line. */
int bench_run_device(const bench_options *options, const char *device_label);

/* The registered suites, in the order they run. */
const bench_suite *const *bench_suites(size_t *count);
/* Whether the run includes `suite`. */
int bench_suite_selected(const bench_run *run, const bench_suite *suite);

/* Figures derived from a result and the device peak, shared by the table,
 * the JSON and the summary so that they agree. */
typedef struct bench_derived {
    double gflops, gbps;
    double fraction_of_peak, fraction_of_bandwidth;
    int compute_bound;
} bench_derived;

bench_derived bench_derive(const bench_run *run, const bench_result *result);
int bench_result_checked(const bench_result *result);
int bench_result_check_passed(const bench_result *result);
/* A numeric or boolean params entry, or NAN when the result has none. */
double bench_result_param(const bench_result *result, const char *key);

/* The whole JSON document of the run; 0, or -1 when writing failed. */
int bench_write_json(const bench_run *run, FILE *out);

/* ---- Progress (stderr). */
void bench_progress_start(bench_run *run, const char *device_label);
/* The run's suites are known: their count and results, for the ETA. */
void bench_progress_plan(bench_run *run);
void bench_progress_suite(bench_run *run, uint32_t number);
void bench_progress_result(bench_run *run);
/* Something slow without results ("measuring the peak"); NULL: done. */
void bench_progress_activity(bench_run *run, const char *activity);
/* Around a line of the table on a terminal: the progress line is cleared
 * before and drawn again after, so that the two do not mix. */
void bench_progress_hide(bench_run *run);
void bench_progress_show(bench_run *run);
void bench_progress_finish(bench_run *run);
/* The context's pipeline progress callback; user data: the bench_run. */
void bench_progress_pipelines(uint32_t created, uint32_t total, void *user_data);

/* ---- The headline's summary: "the papers' promises on this device". */
void bench_print_summary(const bench_run *run);
void bench_write_summary_json(json_writer *w, const bench_run *run);

#endif
