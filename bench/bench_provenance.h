/* What a bench results file records about where, when and how it was made
 * (docs/bench-json.md, schema 2.0 on): so that files copied from several
 * machines still say which build and which host measured them. */
#ifndef EFFVK_BENCH_PROVENANCE_H
#define EFFVK_BENCH_PROVENANCE_H

#include "json.h"

/* MAJOR.MINOR: a new minor only adds fields; a new major changes one. */
#define BENCH_SCHEMA_VERSION "2.1"

/* Writes "schema_version", "effvk_version", "git_revision" (the checkout the
 * program was configured in, "unknown" outside one), "date" (now, UTC, ISO
 * 8601) and "host_cpu" into the open top-level object. */
void bench_write_provenance_json(json_writer *w);

/* The "method" of the "peak" object: which microbenchmarks measured it. */
extern const char bench_peak_method[];

#endif
