/* The report page's answer to "where does a network's time go": for the
 * networks measured with `effvk bench models --profile` (their results'
 * "layers"), one bar per network and device, the forward's GPU time
 * stacked by kernel, and per network and device the table of its layers
 * (time, share, kernel, % of the FMA peak). Chart id layers-SUITE. Writes
 * nothing when no result has layers. */
#ifndef EFFVK_TOOLS_BENCH_REPORT_LAYERS_H
#define EFFVK_TOOLS_BENCH_REPORT_LAYERS_H

#include <stdio.h>

#include "bench_report.h"

void chart_layers(FILE *out, const report *r, const char *suite);

/* The text report's part: per network and device with layers, its
 * slowest layers and their share of the forward. */
void report_print_layers(FILE *out, const report *r);

#endif
