/* The report page's figures: each is a <figure> holding a caption, an SVG
 * chart (bench_report_svg.h), a legend naming the devices and the chart's
 * data as a table. A figure with no data to draw writes nothing. Chart ids:
 * roofline-SUITE-K (device K, 1-based), promise-hetconv, promise-octconv,
 * fusion-mbconv, latency-models. */
#ifndef EFFVK_TOOLS_BENCH_REPORT_CHARTS_H
#define EFFVK_TOOLS_BENCH_REPORT_CHARTS_H

#include <stddef.h>
#include <stdio.h>

#include "bench_report.h"

/* Achieved GFLOP/s against arithmetic intensity for one suite on one device,
 * under the roofs of the peaks measured in its runs. */
void chart_roofline(FILE *out, const report *r, const char *suite, size_t column);

/* Speed-up over the baseline against the MACs ratio for the results of `op`
 * in `suite` (HetConv per P, OctConv per alpha), per layer and summed per
 * network, batch and P or alpha, with the line where the two are equal. */
void chart_promise(FILE *out, const report *r, const char *suite, const char *op);

/* The fused MBConv block's speed-up over the unfused sequence, per block. */
void chart_fusion(FILE *out, const report *r, const char *suite);

/* Every network's wall-clock latency per device, PyTorch's included. */
void chart_latency(FILE *out, const report *r, const char *suite);

#endif
