/* The benchmark framework behind `effvk bench`.
 *
 * A suite is one file that defines a bench_suite and is listed in the
 * registration table of bench.c. It creates its layers and tensors, times them
 * with bench_time(), checks the output against the CPU reference with
 * bench_check_output(), and hands each result to bench_add_result(). The
 * framework measures the device peak, prints the table as results arrive
 * (and the progress on stderr), derives throughput and baseline ratios, and
 * writes the JSON of docs/bench-json.md.
 *
 * Three sets of results: the headline set (`effvk bench` alone), a few
 * cases of every suite that each suite marks in its own case tables and
 * runs when bench_headline() says so, ending with the summary of
 * bench_headline.c; every suite in full (--all); or the suites named.
 *
 * Correctness: a result passes when max_rel_err, computed by evk_ref_compare
 * with the floor BENCH_REL_FLOOR, is finite and at most BENCH_REL_TOLERANCE
 * (in float32; bench_bound_for gives the 16-bit precisions' bound).
 * Suites generate data whose outputs are of unit order; the floor then makes
 * the check absolute (1e-5) for outputs near zero, where fp32 rounding of a
 * long sum is large relative to the value itself. With a floor of 1e-3,
 * correct 3x3 256->256 results (2304-term sums, max_abs_err 5e-6) showed a
 * max_rel_err of 5e-3; with 1e-2 the worst default case is 2e-4. */
#ifndef EFFVK_BENCH_H
#define EFFVK_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "effvk/effvk.h"
#include "layer_profile.h"

#define BENCH_REL_FLOOR 1e-2
#define BENCH_REL_TOLERANCE 1e-3
#define BENCH_DEFAULT_ITERATIONS 10u
#define BENCH_MAX_BATCHES 16
#define BENCH_MAX_PARAMS 12
#define BENCH_MAX_PRECISIONS 3
#define BENCH_NAME_SIZE 96
#define BENCH_MAX_SUITES 16
#define BENCH_TEXT_SIZE 48
#define BENCH_PARAM_TEXT_SIZE 256   /* a text param: a path (the models suite's "onnx") */
#define BENCH_PATH_SIZE 4096

typedef struct bench_options {
    uint32_t iterations;                /* timed runs per result, after one warm-up */
    /* Batch sizes every suite runs; batch_count 0 means the suite's own. */
    uint32_t batches[BENCH_MAX_BATCHES];
    uint32_t batch_count;
    int use_device_index;
    uint32_t device_index;
    int all_devices;                    /* --device all: each device in turn */
    /* NULL: no JSON; "-": to stdout. With all_devices, "%d" is replaced by
     * the device index. */
    const char *json_path;
    /* Suites to run, by name; with suite_count 0, every registered suite
     * when `all_suites` is set (--all), else the headline set. */
    const char *suite_names[BENCH_MAX_SUITES];
    uint32_t suite_count;
    int all_suites;
    /* The models suite's networks, comma-separated model names; NULL: all. */
    const char *model_names;
    /* --onnx: the models suite runs only these pairs, MODEL=FILE or
     * MODEL:VARIANT=FILE, comma-separated (bench_models_onnx.c); NULL: none. */
    const char *onnx_pairs;
    int no_cache;                       /* --no-cache: no pipeline cache file */
    /* --precision LIST: the run's context takes the first (0 entries:
     * AUTO); the models suite runs every network at each, round-robin. */
    evk_precision precisions[BENCH_MAX_PRECISIONS];
    uint32_t precision_count;
    int profile;                        /* --profile: the networks' time per layer */
} bench_options;

/* The "shape" object of the JSON contract. */
typedef struct bench_shape {
    uint32_t n, c_in, h, w, c_out, k, stride;
} bench_shape;

/* One entry of the op-specific "params" object: a string or a number. The
 * key must outlive the run (a literal); the text is copied. */
typedef struct bench_param {
    const char *key;
    int is_text;
    int is_bool;                        /* a JSON true/false from `number` */
    char text[BENCH_PARAM_TEXT_SIZE];
    double number;
} bench_param;

typedef struct bench_result {
    const char *suite;
    const char *op;
    char name[BENCH_NAME_SIZE];         /* unique within a run */
    char kernel[BENCH_TEXT_SIZE];       /* for the table; also put it in params */
    bench_shape shape;
    bench_param params[BENCH_MAX_PARAMS];
    uint32_t param_count;
    uint64_t macs;
    uint64_t bytes;                     /* minimal traffic: inputs, outputs, weights */
    double gpu_ms_median, gpu_ms_min, wall_ms_median;
    uint32_t iterations;
    /* Filled by bench_check_output; no checked values writes null errors. */
    double max_abs_err, max_rel_err;
    uint64_t checked_values, output_values;
    /* Name of the dense/vanilla result this one is compared with, or "". */
    char baseline[BENCH_NAME_SIZE];
    /* A network's time per layer (--profile), or none; malloc'd rows that
     * bench_add_result takes over. */
    layer_profile profile;
    /* The context the result ran on when not the run's own (the models
     * suite's other precisions): its GPU times and precision are read there. */
    evk_context *ctx;
    /* Set by bench_add_result: the check's max_rel_err at the result's
     * precision (bench_tolerance). */
    double tolerance;
} bench_result;

typedef struct bench_run bench_run;

typedef struct bench_suite {
    const char *name;
    /* Batch sizes when the user gives none, in full and in the headline run. */
    const uint32_t *default_batches;
    uint32_t default_batch_count;
    const uint32_t *headline_batches;
    uint32_t headline_batch_count;
    /* Runs every case (the headline ones in the headline run); returns the
     * first failure, already reported. */
    evk_status (*run)(bench_run *run);
    /* How many results `run` will add, for the progress line's count and
     * ETA. */
    uint32_t (*count_results)(const bench_run *run);
    /* For a suite whose results are not checked in the run: where their
     * outputs are checked instead, printed in the summary. */
    const char *unchecked_note;
} bench_suite;

/* Runs the benchmark as `effvk bench` does, on each device in turn with
 * all_devices; returns the process exit code: 0 all results correct, 1 an
 * error (reported on stderr; with several devices, on any of them), 3 a
 * result failed its reference check. */
int bench_main(const bench_options *options);

/* Whether `name` is a registered suite. */
int bench_suite_exists(const char *name);

/* Prints the registered suite names, space-separated. */
void bench_print_suite_names(FILE *out);

/* For suites. */
evk_context *bench_context(bench_run *run);
/* The batch sizes the current suite runs (the user's, else its headline or
 * full defaults). */
const uint32_t *bench_batches(const bench_run *run, uint32_t *count);
/* Whether this is the headline run: suites run only their headline cases. */
int bench_headline(const bench_run *run);
/* Whether --profile asked for the networks' time per layer. */
int bench_profile(const bench_run *run);
/* The peak measured at the start of the run. */
const evk_peak *bench_peak(const bench_run *run);

/* The precisions --precision lists (at least 1: the run's own context's),
 * and the context of entry `index` (0: bench_context), created on first use
 * with the run's device and pipeline cache; NULL when that fails (reported). */
uint32_t bench_precision_count(const bench_run *run);
evk_context *bench_precision_context(bench_run *run, uint32_t index);
/* The reference check at `precision` (never AUTO): max_rel_err allowed and
 * the floor of its denominator. float32: BENCH_REL_TOLERANCE and
 * BENCH_REL_FLOOR (see above). With halves stored, every input, weight and
 * output is off by up to 2^-11 of itself, and a unit-order sum of thousands
 * of terms that cancels to near zero keeps the absolute error of its terms
 * (up to 1.7e-3 on the headline set's layers): 1e-2 over a floor of 0.5,
 * 5e-3 absolute near zero. Half arithmetic, which the dense, HetConv and
 * OctConv kernels keep for whole sums of up to 2304 terms, errs by up to
 * 4.4e-2 on those unit-order outputs: 0.1 over a floor of 1. */
typedef struct bench_bound {
    double max_rel_err, rel_floor;
} bench_bound;
bench_bound bench_bound_for(evk_precision precision);

/* The user's --models list (comma-separated), or NULL. */
const char *bench_model_names(const bench_run *run);
/* The user's --onnx list (MODEL[:VARIANT]=FILE, comma-separated), or NULL. */
const char *bench_onnx_pairs(const bench_run *run);
/* Whether an --onnx list names networks of the models suite, each once, and
 * files (before any device is opened): 0, or -1 and the first bad item's
 * problem in `problem`. */
int bench_models_check_onnx(const char *list, char *problem, size_t size);

/* The result of that name added earlier in the run, or NULL. */
const bench_result *bench_find_result(const bench_run *run, const char *name);

/* Prints a line of the suite's own under the table's last row. */
void bench_note(const bench_run *run, const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Several lines of the suite's own under the table's last row: written to
 * the stream bench_notes_begin returns, until bench_notes_end. */
FILE *bench_notes_begin(bench_run *run);
void bench_notes_end(bench_run *run);

/* Reports a failed host allocation of the benchmark itself and returns
 * EVK_ERROR_OUT_OF_HOST_MEMORY. */
evk_status bench_out_of_memory(const char *what);

/* Reports a failed library call as "effvk bench: <what>: STATUS: message" on
 * stderr and returns `status` unchanged; does nothing on EVK_SUCCESS. */
evk_status bench_check(const bench_run *run, evk_status status, const char *what);

/* A forward pass to time; returns the library's status. */
typedef evk_status (*bench_forward_fn)(void *user_data);

/* Runs `forward` once to warm up (lavapipe's timestamps include shader
 * compilation), then as often as --iterations says, filling the timing
 * fields and `iterations` of `result`. */
evk_status bench_time(bench_run *run, bench_forward_fn forward, void *user_data,
                      bench_result *result);

/* bench_time with at most `max_iterations` timed runs (at least 1): for
 * cases that take seconds per run on slow devices, where the median of a few
 * runs is as stable as that of many. */
evk_status bench_time_at_most(bench_run *run, bench_forward_fn forward, void *user_data,
                              uint32_t max_iterations, bench_result *result);

/* Times `count` cases round-robin: one warm-up run of each, then as many
 * rounds as --iterations says (at most `max_iterations`, at least 1), each
 * running every case once, so that a change in the machine's load (the CI
 * machine is shared) falls on all of them alike and their ratios stay fair.
 * Groups whose rounds add up to under 150 ms of GPU time run more rounds,
 * up to 4× as many, unless `max_iterations` caps them. Fills each result's
 * timing fields (`iterations`: the rounds timed) as bench_time does. */
evk_status bench_time_interleaved(bench_run *run, bench_forward_fn forward,
                                  void *const *user_data, bench_result *const *results,
                                  uint32_t count, uint32_t max_iterations);

/* Compares `count` output values with the reference's, with the floor of
 * the run's precision (bench_bound_for), and folds the errors into
 * `result`; call it once per checked slice of an output of `output_count`
 * values. The JSON's checked_fraction is the share compared. */
void bench_check_output(const bench_run *run, bench_result *result, const float *got,
                        const float *expected, uint64_t count, uint64_t output_count);

/* Appends a finished result: prints its table row and keeps it for the JSON
 * (and takes over its profile's rows, also on failure).
 * The JSON adds to the contract's fields: "kernel", "fraction_of_peak"
 * (gflops / peak.fma_gflops), "fraction_of_bandwidth" (gbps /
 * peak.copy_gbps), "bound" ("compute" or "memory", from the arithmetic
 * intensity against the peaks' ratio), "checked_fraction" and
 * "check_passed". */
evk_status bench_add_result(bench_run *run, const bench_result *result);

/* Adds a string or numeric entry to the result's "params". */
void bench_param_text(bench_result *result, const char *key, const char *text);
void bench_param_number(bench_result *result, const char *key, double number);
/* Adds a result's MACs, bytes and times into `total` (a sum over layers);
 * iterations become the result's. */
void bench_accumulate(bench_result *total, const bench_result *result);

/* Adds a JSON true/false entry to the result's "params". */
void bench_param_bool(bench_result *result, const char *key, int value);

/* A small deterministic generator (xorshift64*) so that every run times and
 * checks the same data. */
typedef struct bench_rng {
    uint64_t state;
} bench_rng;

bench_rng bench_rng_seeded(uint64_t seed);
/* Uniform in [-scale, scale). */
void bench_fill_uniform(bench_rng *rng, float *values, uint64_t count, float scale);

/* The registered suites, one file each. */
extern const bench_suite bench_suite_conv2d;
extern const bench_suite bench_suite_hetconv;
extern const bench_suite bench_suite_mbconv;
extern const bench_suite bench_suite_octconv;
extern const bench_suite bench_suite_models;

#endif
