/* Reading benchmark result files back: `effvk bench --json` files (schema
 * 1.x, the layout before "schema_version" existed, and 2.x) and
 * bench/pytorch_cpu.py's files, into flat structs for `effvk report`.
 * docs/bench-json.md is the contract. A file of an unknown major version is
 * refused, since its fields may mean something else; unknown fields and
 * newer minor versions are read, since minor versions only add fields. */
#ifndef EFFVK_TOOLS_BENCH_JSON_READ_H
#define EFFVK_TOOLS_BENCH_JSON_READ_H

#include <stddef.h>
#include <stdint.h>

/* The newest major version of each kind that this effvk reads. */
#define BENCH_JSON_EFFVK_MAJOR 2u
#define BENCH_JSON_PYTORCH_MAJOR 1u

#define BENCH_JSON_ERROR_SIZE 512

typedef enum bench_file_kind {
    BENCH_FILE_EFFVK,           /* effvk bench --json */
    BENCH_FILE_PYTORCH,         /* bench/pytorch_cpu.py run --json */
    /* Another file effvk writes that holds no bench results (effvk info
     * --json, effvk_layout_bench --json): skipped with `skip_reason`, so
     * that a report over a whole folder of JSON files works. */
    BENCH_FILE_SKIPPED
} bench_file_kind;

/* One layer of a network's result measured with --profile (schema 2.1). */
typedef struct bench_json_layer {
    const char *name;
    const char *kernel;
    double dispatches;
    double gpu_ms;
    double share;               /* of the forward's GPU time */
    double macs;
    double fraction_of_peak;    /* NAN for a layer without MACs */
} bench_json_layer;

/* One result. Strings live in the file's string block; numbers that are
 * null or absent are NAN. */
typedef struct bench_json_result {
    const char *suite;          /* "models" for PyTorch's results */
    const char *name;
    const char *op;
    const char *kernel;         /* the op when the file names none */
    const char *baseline;       /* NULL: compared with nothing */
    double macs, bytes;
    double gpu_ms_median, gpu_ms_min;   /* NAN for PyTorch, which has no GPU clock */
    double wall_ms_median;
    double gflops, gbps;
    double speedup_vs_baseline, macs_ratio_vs_baseline, efficiency;
    double part;                /* params.part (HetConv) */
    double alpha;               /* params.alpha_in (OctConv layers) or params.alpha (networks) */
    int fused;                  /* params.fused: 1, 0, or -1 when absent */
    int is_total;               /* a sum over a network's layers or blocks */
    double batch;               /* shape.n, or PyTorch's batch */
    double images_per_s;        /* params.images_per_s (models), PyTorch's images_per_s */
    int check_passed;           /* 1, 0, or -1 when not checked */
    const bench_json_layer *layers; /* a network's time per layer; NULL: none */
    size_t layer_count;
    const struct bench_json_file *file;
} bench_json_result;

/* The device a file was measured on, as its "device" object says. */
typedef struct bench_json_device {
    const char *name;
    const char *device_type;
    const char *driver_name;
    const char *driver_info;
    const char *api_version;
} bench_json_device;

typedef struct bench_json_file {
    const char *path;           /* the caller's, kept by pointer */
    bench_file_kind kind;
    const char *skip_reason;    /* BENCH_FILE_SKIPPED */
    unsigned schema_major, schema_minor;    /* 1.0 for files without schema_version */
    /* Provenance: "" in files older than schema 2.0. */
    const char *effvk_version;
    const char *git_revision;
    const char *date;
    const char *host_cpu;       /* PyTorch files: their "cpu" */
    const char *peak_method;
    bench_json_device device;
    double fma_gflops, copy_gbps;   /* the peak measured in the file's run; NAN for PyTorch */
    /* PyTorch files. */
    const char *torch_version;
    double threads;
    bench_json_result *results;
    size_t result_count;
    bench_json_layer *layers;   /* every result's layers, one block */
    size_t layer_count;
    char *strings;              /* every string above points into this block */
} bench_json_file;

/* Parses a file's text. Returns 0, or -1 with `error` holding "PATH: problem"
 * (not JSON, an unknown major version, a missing or mistyped field naming its
 * result, a result name that appears twice). */
int bench_json_read_text(const char *path, const char *text, size_t length, bench_json_file *out,
                         char error[BENCH_JSON_ERROR_SIZE]);

/* Reads and parses a file (at most 256 MiB; FIFOs and folders refused). */
int bench_json_read_file(const char *path, bench_json_file *out,
                         char error[BENCH_JSON_ERROR_SIZE]);

void bench_json_file_free(bench_json_file *file);

#endif
