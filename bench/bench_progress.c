/* The bench's progress on stderr. On a terminal one line, rewritten in
 * place: "suite 2/5 mbconv, result 3/12, ETA 1:20", with the pipelines being
 * created appended while a cold cache makes them; the table's rows clear it
 * before they print. Otherwise (a log file, a pipe) one line per suite and
 * per batch of pipelines, which keeps logs readable. */
/* isatty and clock_gettime are POSIX, not C11. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_run.h"

#define LINE_SIZE 192

static double monotonic_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec * 1e3 + (double)now.tv_nsec * 1e-6;
}

void bench_progress_start(bench_run *run, const char *device_label)
{
    bench_progress *p = &run->progress;
    *p = (bench_progress){.terminal = isatty(STDERR_FILENO)};
    snprintf(p->device, sizeof p->device, "%s", device_label ? device_label : "");
}

void bench_progress_plan(bench_run *run)
{
    bench_progress *p = &run->progress;
    size_t count;
    const bench_suite *const *suites = bench_suites(&count);
    for (size_t i = 0; i < count; ++i) {
        if (!bench_suite_selected(run, suites[i]))
            continue;
        run->suite = suites[i];
        p->expected += suites[i]->count_results(run);
        ++p->suite_count;
    }
    run->suite = NULL;
    p->start_ms = monotonic_ms();
}

/* "ETA m:ss" from the time per result so far over the whole run. */
static void format_eta(const bench_progress *p, char *text, size_t size)
{
    if (p->done == 0) {
        snprintf(text, size, "ETA -");
        return;
    }
    uint32_t left = p->expected > p->done ? p->expected - p->done : 0;
    double seconds = (monotonic_ms() - p->start_ms) / p->done * left * 1e-3;
    unsigned whole = (unsigned)(seconds + 0.5);
    snprintf(text, size, "ETA %u:%02u", whole / 60, whole % 60);
}

static void draw(bench_progress *p)
{
    if (!p->terminal || (!p->suite && !p->activity))
        return;
    char line[LINE_SIZE], eta[32];
    if (p->activity) {
        snprintf(line, sizeof line, "%s%s", p->device, p->activity);
    } else {
        uint32_t current = p->result < p->suite_results ? p->result + 1 : p->suite_results;
        format_eta(p, eta, sizeof eta);
        snprintf(line, sizeof line, "%ssuite %u/%u %s, result %u/%u, %s", p->device,
                 p->suite_number, p->suite_count, p->suite, current, p->suite_results, eta);
    }
    size_t used = strlen(line);
    if (p->pipelines_total > 0 && used < sizeof line)
        snprintf(line + used, sizeof line - used, ", creating pipelines %u/%u",
                 p->pipelines_created, p->pipelines_total);
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
    p->line_open = 1;
}

void bench_progress_suite(bench_run *run, uint32_t number)
{
    bench_progress *p = &run->progress;
    p->suite_number = number;
    p->suite = run->suite->name;
    p->result = 0;
    p->suite_results = run->suite->count_results(run);
    if (p->terminal) {
        draw(p);
        return;
    }
    fprintf(stderr, "effvk bench: %ssuite %u/%u %s: %u results\n", p->device, number,
            p->suite_count, p->suite, p->suite_results);
    fflush(stderr);
}

void bench_progress_result(bench_run *run)
{
    bench_progress *p = &run->progress;
    ++p->result;
    ++p->done;
    /* A suite that adds more than it announced stretches its count. */
    if (p->result > p->suite_results)
        p->suite_results = p->result;
    if (p->done > p->expected)
        p->expected = p->done;
    draw(p);
}

void bench_progress_activity(bench_run *run, const char *activity)
{
    bench_progress *p = &run->progress;
    p->activity = activity;
    if (activity)
        draw(p);
    else
        bench_progress_hide(run);
}

void bench_progress_hide(bench_run *run)
{
    bench_progress *p = &run->progress;
    if (!p->line_open)
        return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    p->line_open = 0;
}

void bench_progress_show(bench_run *run)
{
    draw(&run->progress);
}

void bench_progress_finish(bench_run *run)
{
    bench_progress_hide(run);
    run->progress.suite = NULL;
    run->progress.activity = NULL;
}

void bench_progress_pipelines(uint32_t created, uint32_t total, void *user_data)
{
    bench_progress *p = &((bench_run *)user_data)->progress;
    if (!p->terminal) {
        if (created == 0 && total > 1) {
            fprintf(stderr, "effvk bench: %screating %u pipelines\n", p->device, total);
            fflush(stderr);
        }
        return;
    }
    p->pipelines_created = created;
    p->pipelines_total = created < total ? total : 0;
    draw(p);
}
