/* effvk report: the command line around the join (bench_report.c) and the
 * page (bench_report_html.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench_report.h"
#include "bench_report_html.h"
#include "effvk_internal.h"
#include "report.h"

enum { EXIT_OK = 0, EXIT_ERROR = 1 };

const char report_usage[] =
    "  report FILE.json... compare `effvk bench --json` files side by side: one\n"
    "                      device per file, or per set of files of one device;\n"
    "                      bench/pytorch_cpu.py's file adds PyTorch on the CPU\n"
    "    --baseline K      the ratios' reference: device K of the list (default 1,\n"
    "                      the first file's device)\n"
    "    --html FILE       also write one self-contained HTML page with charts\n"
    "    --by-file         a column per file, also for files of one device (runs\n"
    "                      before and after a change)\n"
    "    --help, -h        the command's usage\n";

static const char synopsis[] = "report FILE.json... [--baseline K] [--html FILE] [--by-file]";
static const char exit_statuses[] = "exit status: 0 success, 1 error, 2 bad usage\n";

typedef struct report_options {
    const char **paths;
    size_t path_count;
    const char *html_path;
    const char *baseline;       /* as given; NULL: the first device */
    int by_file;
} report_options;

static int parse_options(int argc, char **argv, report_options *options, int *done)
{
    *done = 0;
    for (int i = 0; i < argc; ++i) {
        const char *arg = argv[i];
        if (is_help_option(arg)) {
            *done = 1;
            return print_command_usage(synopsis, report_usage, exit_statuses);
        }
        if (strcmp(arg, "--html") == 0 || strcmp(arg, "--baseline") == 0) {
            if (i + 1 >= argc)
                return report_usage_error("report", "a value must follow", arg);
            *(arg[2] == 'h' ? &options->html_path : &options->baseline) = argv[++i];
        } else if (strcmp(arg, "--by-file") == 0) {
            options->by_file = 1;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            return report_usage_error("report", "unknown option", arg);
        } else {
            options->paths[options->path_count++] = arg;
        }
    }
    if (options->path_count == 0)
        return report_usage_error("report", "no result files given", NULL);
    return EXIT_OK;
}

/* K of --baseline, 1-based; 0 when it is not a positive number. */
static size_t parse_device_number(const char *text)
{
    if (*text < '1' || *text > '9')
        return 0;
    char *end;
    errno = 0;
    unsigned long value = strtoul(text, &end, 10);
    return errno || *end ? 0 : (size_t)value;
}

static int write_page(const char *path, const report *r)
{
    evk_file_writer writer;
    if (evk_file_write_begin(NULL, path, &writer) != EVK_SUCCESS) {
        fprintf(stderr, "effvk report: %s\n", evk_last_error(NULL));
        return EXIT_ERROR;
    }
    if (report_write_html(writer.stream, r) != 0) {
        evk_file_write_abort(&writer);
        fprintf(stderr, "effvk report: writing %s failed\n", path);
        return EXIT_ERROR;
    }
    if (evk_file_write_commit(&writer) != EVK_SUCCESS) {
        fprintf(stderr, "effvk report: %s\n", evk_last_error(NULL));
        return EXIT_ERROR;
    }
    printf("\npage: %s\n", path);
    return EXIT_OK;
}

static int run_report(const report_options *options, bench_json_file *files)
{
    char error[BENCH_JSON_ERROR_SIZE > REPORT_ERROR_SIZE ? BENCH_JSON_ERROR_SIZE
                                                         : REPORT_ERROR_SIZE];
    for (size_t i = 0; i < options->path_count; ++i)
        if (bench_json_read_file(options->paths[i], &files[i], error) != 0) {
            fprintf(stderr, "effvk report: %s\n", error);
            return EXIT_ERROR;
        }
    report r;
    if (report_join(files, options->path_count, options->by_file, &r, error) != 0) {
        fprintf(stderr, "effvk report: %s\n", error);
        report_free(&r);
        return EXIT_ERROR;
    }
    int code = EXIT_OK;
    if (options->baseline) {
        size_t k = parse_device_number(options->baseline);
        if (k == 0 || report_set_baseline(&r, k - 1, error) != 0)
            code = report_usage_error("report", k == 0 ? "bad device number" : error,
                                      k == 0 ? options->baseline : NULL);
    }
    if (code == EXIT_OK) {
        report_print(stdout, &r);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            fputs("effvk report: writing the table to stdout failed\n", stderr);
            code = EXIT_ERROR;
        }
    }
    if (code == EXIT_OK && options->html_path)
        code = write_page(options->html_path, &r);
    report_free(&r);
    return code;
}

int report_main(int argc, char **argv)
{
    report_options options = {.paths = calloc((size_t)argc + 1, sizeof *options.paths)};
    bench_json_file *files = calloc((size_t)argc + 1, sizeof *files);
    int code = EXIT_ERROR, done = 0;
    if (!options.paths || !files)
        fputs("effvk report: out of memory\n", stderr);
    else if ((code = parse_options(argc, argv, &options, &done)) == EXIT_OK && !done)
        code = run_report(&options, files);
    for (size_t i = 0; files && i < options.path_count; ++i)
        bench_json_file_free(&files[i]);
    free(files);
    free(options.paths);
    return code;
}
