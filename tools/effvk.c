/* The effvk command-line program: device information and benchmarks. */
/* SIGXFSZ is POSIX, not C11. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "bench_report.h"
#include "pipeline_cache_file.h"
#include "precision_option.h"
#include "report.h"
#include "effvk/effvk.h"
#include "json.h"
#include "models.h"
#ifdef EFFVK_HAVE_CLASSIFY
#include "classify.h"
#endif

enum { EXIT_OK = 0, EXIT_ERROR = 1 };

#define MAX_BATCH 4096u
#define MAX_ITERATIONS 100000u

static const char info_usage[] =
    "  info                list the Vulkan devices and their limits\n"
    "    --json            as JSON on stdout\n"
    "    --help, -h        the command's usage\n";

static const char bench_heading[] =
    "  bench [SUITE...]    time op suites, checking every result against the CPU\n"
    "                      reference; no SUITE: the headline set (a few cases of\n"
    "                      each, then the papers' promises on this device)\n";

static const char bench_option_lines[] =
    "    --all             every suite in full instead of the headline set\n"
    "    --device N        device N of `effvk info` (default: $EFFVK_DEVICE, else\n"
    "                      discrete > integrated > virtual > cpu); 'all': each\n"
    "                      device in turn, one JSON file each\n"
    "    --iterations N    timed runs per result, after one warm-up (default 10;\n"
    "                      round-robin groups under 150 ms run up to 4x as many)\n"
    "    --batch LIST      batch sizes, e.g. 1,8 (default: each suite's own)\n"
    "    --json FILE       also write the results as JSON; '-' writes it to stdout\n"
    "                      and moves the table to stderr; with --device all, %d\n"
    "                      in FILE is the device index (results-%d.json)\n"
    "    --models LIST     the models suite runs only these models (comma-separated,\n"
    "                      e.g. resnet50,octconv-resnet50) and their baselines\n"
    "    --onnx LIST       the models suite runs only these ONNX files, each against\n"
    "                      its built-in network (random weights), round-robin, as\n"
    "                      \"<model> [variant] onnx bN\": MODEL=FILE or\n"
    "                      MODEL:VARIANT=FILE, comma-separated (e.g.\n"
    "                      resnet50=r50.onnx,hetconv-vgg16-cifar:P=4=vgg.onnx;\n"
    "                      without a variant, the default part or alpha)\n"
    "    --profile         time every layer of the networks (GPU timestamps per\n"
    "                      dispatch) and print where their time goes\n"
    "    --precision LIST  auto (default: the device's choice), fp32, fp16-storage,\n"
    "                      fp16: the run takes the first; with several (e.g.\n"
    "                      fp32,fp16-storage,fp16) the models suite times every\n"
    "                      network at each, round-robin, as \"<model> bN <precision>\"\n"
    PIPELINE_CACHE_USAGE
    "    --help, -h        the command's usage\n";

static const char plain_exit_statuses[] = "exit status: 0 success, 1 error, 2 bad usage\n";
static const char bench_exit_statuses[] =
    "exit status: 0 success, 1 error, 2 bad usage, 3 a result differs from the CPU\n"
    "reference\n";

static void print_bench_usage(void)
{
    fputs(bench_heading, stdout);
    fputs("    SUITE             ", stdout);
    bench_print_suite_names(stdout);
    fputs("\n", stdout);
    fputs(bench_option_lines, stdout);
}

static int print_help(void)
{
    fputs("usage: effvk <command> [options]\n"
          "\n"
          "commands (`effvk <command> --help` shows one):\n",
          stdout);
    fputs(info_usage, stdout);
    print_bench_usage();
    fputs(report_usage, stdout);
    fputs(models_run_usage, stdout);
    fputs(models_flops_usage, stdout);
#ifdef EFFVK_HAVE_CLASSIFY
    fputs(classify_usage, stdout);
#endif
    fputs("  help [COMMAND]      this text, or the command's usage\n"
          "  --version           the library version\n\n",
          stdout);
    fputs(bench_exit_statuses, stdout);
    return EXIT_OK;
}

static int print_bench_help(void)
{
    fputs("usage: effvk bench [SUITE...] [options]\n\n", stdout);
    print_bench_usage();
    fputs("\n", stdout);
    fputs(bench_exit_statuses, stdout);
    return EXIT_OK;
}

/* A decimal integer in [min, max] and nothing else. */
static int parse_uint(const char *text, uint32_t min, uint32_t max, uint32_t *out)
{
    if (*text < '0' || *text > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long value = strtoul(text, &end, 10);
    if (errno || *end || value < min || value > max)
        return -1;
    *out = (uint32_t)value;
    return 0;
}

static int contains(const uint32_t *values, uint32_t count, uint32_t value)
{
    for (uint32_t i = 0; i < count; ++i)
        if (values[i] == value)
            return 1;
    return 0;
}

/* Distinct batch sizes, since result names must be unique. */
static int parse_batches(const char *list, bench_options *options)
{
    char item[16];
    uint32_t batch;
    options->batch_count = 0;
    for (const char *at = list;; ++at) {
        size_t length = strcspn(at, ",");
        if (length >= sizeof item || options->batch_count == BENCH_MAX_BATCHES)
            return -1;
        memcpy(item, at, length);
        item[length] = '\0';
        if (parse_uint(item, 1, MAX_BATCH, &batch) != 0 ||
            contains(options->batches, options->batch_count, batch))
            return -1;
        options->batches[options->batch_count++] = batch;
        at += length;
        if (*at == '\0')
            return 0;
    }
}

/* ------------------------------------------------------------------------ */
/* info                                                                      */
/* ------------------------------------------------------------------------ */

static int info_failure(evk_status status)
{
    report_failure("info", NULL, status, evk_last_error(NULL));
    return EXIT_ERROR;
}

/* A context on device `index`, for what AUTO chooses there (with the
 * pipeline cache's folder, where its measurement is kept); NULL when none
 * can be created, with the reason on stderr. */
static evk_context *precision_context(uint32_t index)
{
    evk_context_desc desc = {.device_index = index, .use_device_index = 1};
    pipeline_cache_file cache;
    use_pipeline_cache("info", 1, &cache, &desc);
    report_attach_log(&desc);
    evk_context *ctx = NULL;
    if (evk_context_create(&desc, &ctx) != EVK_SUCCESS)
        fprintf(stderr, "effvk info: device %u: no context for the precision: %s\n", index,
                evk_last_error(NULL));
    return ctx;
}

static int print_info_text(uint32_t count)
{
    if (count == 0)
        puts("no Vulkan devices");
    for (uint32_t i = 0; i < count; ++i) {
        evk_device_properties props;
        evk_status s = evk_device_info(i, &props);
        if (s != EVK_SUCCESS)
            return info_failure(s);
        if (i > 0)
            putchar('\n');
        device_print_full(stdout, &props);
        evk_context *ctx = precision_context(i);
        if (ctx)
            precision_print(stdout, ctx);
        evk_context_destroy(ctx);
    }
    return EXIT_OK;
}

static int print_info_json(uint32_t count)
{
    json_writer w;
    json_init(&w, stdout);
    json_object_begin(&w);
    json_key_string(&w, "effvk_version", EVK_VERSION_STRING);
    json_key(&w, "devices");
    json_array_begin(&w);
    for (uint32_t i = 0; i < count; ++i) {
        evk_device_properties props;
        evk_status s = evk_device_info(i, &props);
        if (s != EVK_SUCCESS)
            return info_failure(s);
        evk_context *ctx = precision_context(i);
        device_write_full_json(&w, &props, ctx);
        evk_context_destroy(ctx);
    }
    json_array_end(&w);
    json_object_end(&w);
    if (json_finish(&w) == 0)
        return EXIT_OK;
    fputs("effvk info: writing the JSON to stdout failed\n", stderr);
    return EXIT_ERROR;
}

static int command_info(int argc, char **argv)
{
    int as_json = 0;
    for (int i = 0; i < argc; ++i) {
        if (strcmp(argv[i], "--json") == 0)
            as_json = 1;
        else if (is_help_option(argv[i]))
            return print_command_usage("info [--json]", info_usage, plain_exit_statuses);
        else
            return report_usage_error("info", "unknown option", argv[i]);
    }
    uint32_t count = 0;
    evk_status s = evk_device_count(&count);
    if (s != EVK_SUCCESS)
        return info_failure(s);
    return as_json ? print_info_json(count) : print_info_text(count);
}

/* ------------------------------------------------------------------------ */
/* bench                                                                     */
/* ------------------------------------------------------------------------ */

/* Parses the option at argv[*i] and its value; returns 0 or an exit code. */
static int parse_bench_option(int argc, char **argv, int *i, bench_options *options)
{
    const char *option = argv[*i];
    if (*i + 1 >= argc)
        return report_usage_error("bench", "a value must follow", option);
    const char *value = argv[++*i];
    if (strcmp(option, "--device") == 0 && strcmp(value, "all") == 0) {
        options->all_devices = 1;
        options->use_device_index = 0;
    } else if (strcmp(option, "--device") == 0) {
        options->use_device_index = 1;
        options->all_devices = 0;
        if (parse_uint(value, 0, UINT32_MAX, &options->device_index) != 0)
            return report_usage_error("bench", "bad device index", value);
    } else if (strcmp(option, "--iterations") == 0) {
        if (parse_uint(value, 1, MAX_ITERATIONS, &options->iterations) != 0)
            return report_usage_error("bench", "bad iteration count", value);
    } else if (strcmp(option, "--batch") == 0) {
        if (parse_batches(value, options) != 0)
            return report_usage_error("bench", "bad batch list", value);
    } else if (strcmp(option, "--json") == 0) {
        options->json_path = value;
    } else if (strcmp(option, "--models") == 0) {
        options->model_names = value;
    } else if (strcmp(option, "--onnx") == 0) {
        options->onnx_pairs = value;
    } else if (strcmp(option, "--precision") == 0) {
        if (precision_list_parse(value, options->precisions, BENCH_MAX_PRECISIONS,
                                 &options->precision_count) != 0)
            return report_usage_error("bench", "bad precision list", value);
    }
    return EXIT_OK;
}

static int is_bench_option(const char *arg)
{
    return strcmp(arg, "--device") == 0 || strcmp(arg, "--iterations") == 0 ||
           strcmp(arg, "--batch") == 0 || strcmp(arg, "--json") == 0 ||
           strcmp(arg, "--models") == 0 || strcmp(arg, "--onnx") == 0 ||
           strcmp(arg, "--precision") == 0;
}

static int add_suite_name(const char *name, bench_options *options)
{
    if (!bench_suite_exists(name))
        return report_usage_error("bench", "unknown suite", name);
    if (options->suite_count == BENCH_MAX_SUITES)
        return report_usage_error("bench", "too many suites, at", name);
    options->suite_names[options->suite_count++] = name;
    return EXIT_OK;
}

/* --onnx pairs networks of the models suite, which must be named (the
 * headline set and --all would count its results in the papers' promises),
 * and replaces --models. */
static int check_onnx_option(const bench_options *options)
{
    if (!options->onnx_pairs)
        return EXIT_OK;
    int models = 0;
    for (uint32_t i = 0; i < options->suite_count; ++i)
        models |= strcmp(options->suite_names[i], "models") == 0;
    if (!models)
        return report_usage_error("bench", "--onnx is for the models suite (effvk bench models "
                                  "--onnx ...), given", options->onnx_pairs);
    if (options->model_names)
        return report_usage_error("bench", "--onnx runs only its pairs; it takes no --models, "
                                  "given", options->model_names);
    char problem[256], message[sizeof problem + 8];
    if (bench_models_check_onnx(options->onnx_pairs, problem, sizeof problem) != 0) {
        snprintf(message, sizeof message, "--onnx: %s", problem);
        return report_usage_error("bench", message, NULL);
    }
    return EXIT_OK;
}

static int command_bench(int argc, char **argv)
{
    bench_options options = {.iterations = BENCH_DEFAULT_ITERATIONS};
    for (int i = 0; i < argc; ++i) {
        int code = EXIT_OK;
        if (is_help_option(argv[i]))
            return print_bench_help();
        if (strcmp(argv[i], "--no-cache") == 0)
            options.no_cache = 1;
        else if (strcmp(argv[i], "--all") == 0)
            options.all_suites = 1;
        else if (strcmp(argv[i], "--profile") == 0)
            options.profile = 1;
        else if (is_bench_option(argv[i]))
            code = parse_bench_option(argc, argv, &i, &options);
        else if (argv[i][0] == '-')
            code = report_usage_error("bench", "unknown option", argv[i]);
        else
            code = add_suite_name(argv[i], &options);
        if (code != EXIT_OK)
            return code;
    }
    if (options.all_suites && options.suite_count > 0)
        return report_usage_error("bench", "--all runs every suite; it takes no suite names, "
                                  "given", options.suite_names[0]);
    int code = check_onnx_option(&options);
    return code != EXIT_OK ? code : bench_main(&options);
}

/* ------------------------------------------------------------------------ */
/* classify                                                                  */
/* ------------------------------------------------------------------------ */

#ifdef EFFVK_HAVE_CLASSIFY
static int command_classify(int argc, char **argv) { return classify_main(argc, argv); }
#else
static int command_classify(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("effvk classify: this effvk was built without stb_image; install Debian's "
          "libstb-dev (scripts/deps.sh) and configure again\n",
          stderr);
    return EXIT_ERROR;
}
#endif

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);  /* the arguments after the command's name */
} command;

static const command commands[] = {
    {"info", command_info}, {"bench", command_bench}, {"run", models_run},
    {"flops", models_flops}, {"classify", command_classify}, {"report", report_main},
};

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; ++i)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* `effvk help COMMAND` is `effvk COMMAND --help`. */
static int command_help(int argc, char **argv)
{
    if (argc == 0 || is_help_option(argv[0]))
        return print_help();
    const command *c = find_command(argv[0]);
    if (!c)
        return report_usage_error(NULL, "unknown command", argv[0]);
    if (argc > 1)
        return report_usage_error(NULL, "help takes one command; also given", argv[1]);
    char help_option[] = "--help";
    char *help_argv[] = {help_option, NULL};
    return c->run(1, help_argv);
}

int main(int argc, char **argv)
{
    /* Past a file-size limit, a write then fails with EFBIG and the output's
     * writer keeps the previous file, instead of the process being killed. */
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2)
        return report_usage_error(NULL, "no command given", NULL);
    const char *name = argv[1];
    if (strcmp(name, "help") == 0 || is_help_option(name))
        return command_help(argc - 2, argv + 2);
    if (strcmp(name, "--version") == 0) {
        printf("effvk %s\n", EVK_VERSION_STRING);
        return EXIT_OK;
    }
    const command *c = find_command(name);
    if (c)
        return c->run(argc - 2, argv + 2);
    return report_usage_error(NULL, name[0] == '-' ? "unknown option" : "unknown command", name);
}
