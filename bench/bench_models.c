/* The models suite: whole networks, random weights made in memory (no
 * files, bench_models_weights.c), loaded with evk_model_load_memory and
 * timed with evk_model_forward on device tensors, the GPU time from the
 * timestamps around its one submission.
 *
 * Per network and batch, "<model> [variant] bN" holds latency
 * (gpu_ms_median, wall_ms_median: the forward's submit and wait, no upload
 * or download), MACs (evk_model_stats, the whole batch), bytes (input,
 * output and weights once) and in params: model, part or alpha, batch,
 * resolution, images_per_s (from the median wall time), gpu_images_per_s,
 * parameters, device_mib (all device memory the context holds after the
 * forward: weights, planned activations, the MBConv scratch, input and
 * output, as if it were the only model), and activation_mib (the liveness
 * plan). The HetConv and OctConv networks name their dense/vanilla network
 * at the same batch as baseline, so the JSON carries the speed-up next to
 * the MACs ratio, and the table prints both under the row; a baseline and
 * its networks are loaded together and timed round-robin. The untimed
 * warm-up forward plans, records and (on lavapipe) compiles the shaders.
 *
 * Outputs are not checked here: a whole network's CPU reference takes
 * longer than the suite; the suite's unchecked_note names the tests that
 * check the same forward. The JSON's errors are null.
 *
 * Defaults keep the suite within minutes on lavapipe with 2 cores: B0-B3 at
 * batch 1 and 8, B4-B7 and the ResNet-50s at batch 1, the VGG-16s at batch
 * 32, fewer timed runs the bigger the network; `--models LIST` runs only
 * the listed models.
 *
 * With --onnx MODEL[:VARIANT]=FILE,... only those pairs run, each in a
 * group of its own: per pair and batch (the network's defaults or
 * --batch), the built-in network with random weights and FILE's network
 * (evk_model_load_onnx, the batch and the built-in's resolution as the
 * input's dynamic dimensions) loaded together and timed round-robin.
 * "<model> [variant] onnx bN" names the built-in's result as its baseline,
 * so that the JSON's speed-up is the built-in's time over the ONNX
 * network's, and adds params.onnx, the file's path. A model with variants
 * written without one is the variant the library's defaults give (P = 4,
 * α = 0.25: the entries marked model_default).
 *
 * With --precision LIST (several entries) every network runs at each
 * precision, each in a context of its own, all round-robin in one group:
 * "<model> bN <precision>", the first precision's result as the baseline of
 * the others (the JSON's speed-up is that precision's over the first), and
 * params.precision in every result.
 *
 * With --profile each network then runs PROFILE_RUNS more forwards with
 * per-dispatch timestamps, and its result carries the median GPU time of
 * every layer (layer_profile.h), printed under its row and written as the
 * result's "layers".
 *
 * The headline run: the marked networks at batch 1, EfficientNet-B0 and
 * ResNet-50 against Oct-ResNet-50 with α = 0.5. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_models.h"
#include "bench_models_weights.h"

/* A network with a baseline is timed in its baseline's group. */
static const network networks[] = {
    {"efficientnet-b0", NULL, 0, 0.0f, NULL, {1, 8}, 10, 1, 0},
    {"efficientnet-b1", NULL, 0, 0.0f, NULL, {1, 8}, 5, 0, 0},
    {"efficientnet-b2", NULL, 0, 0.0f, NULL, {1, 8}, 5, 0, 0},
    {"efficientnet-b3", NULL, 0, 0.0f, NULL, {1, 8}, 3, 0, 0},
    {"efficientnet-b4", NULL, 0, 0.0f, NULL, {1, 0}, 3, 0, 0},
    {"efficientnet-b5", NULL, 0, 0.0f, NULL, {1, 0}, 3, 0, 0},
    {"efficientnet-b6", NULL, 0, 0.0f, NULL, {1, 0}, 2, 0, 0},
    {"efficientnet-b7", NULL, 0, 0.0f, NULL, {1, 0}, 2, 0, 0},
    {"resnet50", NULL, 0, 0.0f, NULL, {1, 0}, 3, 1, 0},
    {"octconv-resnet50", "a=0", 0, -1.0f, "resnet50", {1, 0}, 3, 0, 0},
    {"octconv-resnet50", "a=0.25", 0, 0.25f, "resnet50", {1, 0}, 3, 0, 1},
    {"octconv-resnet50", "a=0.5", 0, 0.5f, "resnet50", {1, 0}, 3, 1, 0},
    {"vgg16-cifar", NULL, 0, 0.0f, NULL, {32, 0}, 3, 0, 0},
    {"hetconv-vgg16-cifar", "P=1", 1, 0.0f, "vgg16-cifar", {32, 0}, 3, 0, 0},
    {"hetconv-vgg16-cifar", "P=4", 4, 0.0f, "vgg16-cifar", {32, 0}, 3, 0, 1},
    {"hetconv-vgg16-cifar", "P=16", 16, 0.0f, "vgg16-cifar", {32, 0}, 3, 0, 0},
    {"hetconv-vgg16-cifar", "P=64", 64, 0.0f, "vgg16-cifar", {32, 0}, 3, 0, 0},
};

/* Only as a list of batch sizes for bench.c; each network's own defaults
 * above apply when the user gives no --batch. */
static const uint32_t models_default_batches[] = {1, 8};
static const uint32_t models_headline_batches[] = {1};

#define PROFILE_RUNS 3u

/* ---- Timing. */

typedef struct model_run {
    evk_context *ctx;               /* of the run's precision, or of another --precision entry */
    evk_model *model;
    evk_tensor *input, *output;
    /* What the context held with only this model loaded, after a forward
     * (several models of a group are loaded together). */
    uint64_t device_bytes;
} model_run;

static evk_status forward(void *user_data)
{
    model_run *r = user_data;
    return evk_model_forward(r->model, r->input, r->output);
}

static evk_status make_tensors(bench_run *run, model_run *r)
{
    evk_shape in, out;
    evk_model_input_shape(r->model, &in);
    evk_model_output_shape(r->model, &out);
    evk_context *ctx = r->ctx;
    evk_status s = bench_check(run, evk_tensor_create(ctx, in, &r->input), "model input");
    if (s == EVK_SUCCESS)
        s = bench_check(run, evk_tensor_create(ctx, out, &r->output), "model output");
    uint64_t count = evk_shape_elements(in);
    float *x = s == EVK_SUCCESS ? malloc(count * sizeof *x) : NULL;
    if (s == EVK_SUCCESS && !x)
        return bench_out_of_memory("model input");
    if (x) {
        bench_rng rng = bench_rng_seeded(224);
        bench_fill_uniform(&rng, x, count, 2.0f);
        s = bench_check(run, evk_tensor_upload(r->input, x, count), "model input upload");
    }
    free(x);
    return s;
}

static void describe(const network *net, const char *onnx, const model_run *r,
                     bench_result *result)
{
    evk_model_stats st;
    evk_shape in, out;
    evk_model_stats_get(r->model, &st);
    evk_model_input_shape(r->model, &in);
    evk_model_output_shape(r->model, &out);
    result->shape = (bench_shape){.n = in.n, .c_in = in.c, .h = in.h, .w = in.w, .c_out = out.c};
    result->macs = st.macs;
    uint64_t element_bytes = evk_tensor_device_bytes(r->ctx, (evk_shape){1, 4, 1, 1}) / 4;
    result->bytes = element_bytes * (evk_shape_elements(in) + evk_shape_elements(out) + st.params);
    bench_param_text(result, "model", net->model);
    if (onnx)
        bench_param_text(result, "onnx", onnx);
    if (net->part)
        bench_param_number(result, "part", net->part);
    if (net->alpha != 0.0)
        bench_param_number(result, "alpha", net->alpha < 0.0 ? 0.0 : net->alpha);
    bench_param_number(result, "batch", in.n);
    bench_param_number(result, "resolution", in.h);
    bench_param_number(result, "images_per_s", 1e3 * in.n / result->wall_ms_median);
    bench_param_number(result, "gpu_images_per_s", 1e3 * in.n / result->gpu_ms_median);
    bench_param_number(result, "parameters", (double)st.params);
    bench_param_number(result, "device_mib", (double)r->device_bytes / 1048576.0);
    bench_param_number(result, "activation_mib", (double)st.activation_bytes / 1048576.0);
}

/* "<model> [variant] [onnx] b<batch> [precision]", the result's name; "onnx"
 * for the network of an --onnx file, the precision when --precision lists
 * several. */
static void result_name(const network *net, int onnx, uint32_t batch, const char *precision,
                        char *name, size_t size)
{
    snprintf(name, size, "%s%s%s%s b%u%s%s", net->model, net->variant ? " " : "",
             net->variant ? net->variant : "", onnx ? " onnx" : "", batch, precision ? " " : "",
             precision ? precision : "");
}

static double param_number(const bench_result *result, const char *key)
{
    for (uint32_t i = 0; i < result->param_count; ++i)
        if (strcmp(result->params[i].key, key) == 0)
            return result->params[i].number;
    return 0.0;
}

/* The speed-up over the baseline next to the MACs ratio, under the row. */
static void note_baseline(const bench_run *run, const bench_result *result)
{
    const bench_result *base = bench_find_result(run, result->baseline);
    if (!base)
        return;
    double macs_ratio = (double)base->macs / (double)result->macs;
    bench_note(run, "  vs %s: speed-up %.2fx (GPU), %.2fx (wall), MACs ratio %.2fx; %.1f images/s, "
               "%.1f MiB on the device", base->name, base->gpu_ms_median / result->gpu_ms_median,
               base->wall_ms_median / result->wall_ms_median, macs_ratio,
               param_number(result, "images_per_s"), param_number(result, "device_mib"));
}

static uint64_t context_device_bytes(const evk_context *ctx)
{
    evk_context_stats st;
    evk_context_stats_get(ctx, &st);
    return st.device_bytes_allocated;
}

/* The built-in network with random weights, or the network of the ONNX
 * file at the built-in's input shape `like` (the batch and resolution). */
static evk_status load(bench_run *run, const network *net, const char *onnx, uint32_t batch,
                       const evk_shape *like, model_run *r)
{
    if (!onnx) {
        evk_model_options opts = {.batch = batch, .part = net->part, .alpha = net->alpha};
        return bench_load_random_weights(run, r->ctx, net->model, &opts, &r->model);
    }
    evk_model_options opts = {.batch = like->n, .height = like->h, .width = like->w};
    return bench_check(run, evk_model_load_onnx(r->ctx, onnx, &opts, &r->model), onnx);
}

/* Loads the network, makes its tensors and runs it once (planning its
 * activations), so that its own device memory is what the context gained. */
static evk_status set_up(bench_run *run, const network *net, const char *onnx, uint32_t batch,
                         const evk_shape *like, model_run *r)
{
    uint64_t before = context_device_bytes(r->ctx);
    evk_status s = load(run, net, onnx, batch, like, r);
    if (s == EVK_SUCCESS)
        s = make_tensors(run, r);
    if (s == EVK_SUCCESS)
        s = bench_check(run, forward(r), net->model);
    r->device_bytes = context_device_bytes(r->ctx) - before;
    return s;
}

static void tear_down(model_run *r)
{
    evk_tensor_destroy(r->input);
    evk_tensor_destroy(r->output);
    evk_model_destroy(r->model);
}

/* A dense/vanilla network and the networks compared with it, or a built-in
 * network and its --onnx file, timed round-robin (bench_time_interleaved)
 * so that a change in the shared machine's load falls on all of them alike
 * and their ratios stay fair; with several --precision entries, each
 * network at each precision. */
enum { MAX_GROUP = 5, MAX_CASES = MAX_GROUP * BENCH_MAX_PRECISIONS };

typedef struct group {
    const network *nets[MAX_GROUP];
    /* The ONNX file the network is loaded from, or NULL: random weights.
     * An --onnx pair's group is {net, NULL}, {net, FILE}. */
    const char *onnx[MAX_GROUP];
    uint32_t count;
} group;

/* The network's time per layer, into its result. */
static evk_status profile_network(bench_run *run, const network *net, model_run *r,
                                  bench_result *result)
{
    (void)net;
    return bench_check(run, layer_profile_measure(r->ctx, r->model, forward, r, PROFILE_RUNS,
                                                  &result->profile),
                       result->name);
}

/* Under the result's row. */
static void print_profile(bench_run *run, const bench_result *result)
{
    if (result->profile.count == 0)
        return;
    FILE *out = bench_notes_begin(run);
    layer_profile_print(out, &result->profile, bench_peak(run)->fma_gflops, "  ");
    bench_notes_end(run);
}

/* The precision of --precision's entry `index` as its context chose it,
 * for the result names; NULL with a single entry. */
static const char *precision_label(bench_run *run, uint32_t index)
{
    evk_precision_choice c;
    if (bench_precision_count(run) == 1 ||
        evk_context_precision(bench_precision_context(run, index), &c) != EVK_SUCCESS)
        return NULL;
    return evk_precision_name(c.chosen);
}

/* Case j is network j / P at precision entry j % P (P entries). A network's
 * baseline is the dense/vanilla network at the same precision; at the other
 * precisions the network at the first one is, so that the JSON and the
 * table carry the speed-up of each precision over the first. An ONNX
 * network's is the built-in one at the same precision, case j % P, loaded
 * before it: its input shape is the ONNX network's. */
static evk_status time_group(bench_run *run, const group *g, uint32_t batch, model_run *runs,
                             bench_result *results)
{
    uint32_t precisions = bench_precision_count(run), cases = g->count * precisions;
    void *user_data[MAX_CASES];
    bench_result *result_of[MAX_CASES];
    uint64_t context_own[BENCH_MAX_PRECISIONS];
    uint32_t iterations = UINT32_MAX;
    evk_status s = EVK_SUCCESS;
    for (uint32_t k = 0; s == EVK_SUCCESS && k < precisions; ++k) {
        evk_context *ctx = bench_precision_context(run, k);
        s = ctx ? EVK_SUCCESS : EVK_ERROR_UNSUPPORTED;
        context_own[k] = ctx ? context_device_bytes(ctx) : 0;
    }
    for (uint32_t j = 0; s == EVK_SUCCESS && j < cases; ++j) {
        const network *net = g->nets[j / precisions];
        const char *onnx = g->onnx[j / precisions];
        uint32_t k = j % precisions;
        const char *label = precision_label(run, k);
        result_name(net, onnx != NULL, batch, label, results[j].name, sizeof results[j].name);
        if (onnx)
            result_name(net, 0, batch, label, results[j].baseline, sizeof results[j].baseline);
        else if (k > 0)
            result_name(net, 0, batch, precision_label(run, 0), results[j].baseline,
                        sizeof results[j].baseline);
        else if (net->baseline)
            result_name(&(network){.model = net->baseline}, 0, batch, label,
                        results[j].baseline, sizeof results[j].baseline);
        snprintf(results[j].kernel, sizeof results[j].kernel, "%s", net->model);
        runs[j].ctx = bench_precision_context(run, k);
        results[j].ctx = k > 0 ? runs[j].ctx : NULL;
        evk_shape like = {0};
        if (onnx)
            evk_model_input_shape(runs[k].model, &like);
        s = set_up(run, net, onnx, batch, &like, &runs[j]);
        runs[j].device_bytes += context_own[k];
        user_data[j] = &runs[j];
        result_of[j] = &results[j];
        if (net->max_iterations < iterations)
            iterations = net->max_iterations;
    }
    if (s == EVK_SUCCESS)
        s = bench_time_interleaved(run, forward, user_data, result_of, cases, iterations);
    for (uint32_t j = 0; s == EVK_SUCCESS && j < cases; ++j) {
        const network *net = g->nets[j / precisions];
        describe(net, g->onnx[j / precisions], &runs[j], &results[j]);
        if (bench_profile(run))
            s = profile_network(run, net, &runs[j], &results[j]);
        if (s == EVK_SUCCESS)
            s = bench_add_result(run, &results[j]);
        if (s == EVK_SUCCESS)
            print_profile(run, &results[j]);
        if (s == EVK_SUCCESS && results[j].baseline[0])
            note_baseline(run, &results[j]);
    }
    return s;
}

static evk_status run_group(bench_run *run, const group *g, uint32_t batch)
{
    model_run runs[MAX_CASES] = {0};
    bench_result results[MAX_CASES];
    for (uint32_t i = 0; i < MAX_CASES; ++i)
        results[i] = (bench_result){.suite = "models", .op = "model"};
    evk_status s = time_group(run, g, batch, runs, results);
    for (uint32_t i = 0; i < MAX_CASES; ++i)
        tear_down(&runs[i]);
    return s;
}

#define NETWORK_COUNT (sizeof networks / sizeof networks[0])

const network *const bench_networks = networks;
const size_t bench_network_count = NETWORK_COUNT;

/* Whether `model` is an item of the comma-separated `list`. */
static int listed(const char *list, const char *model)
{
    size_t length = strlen(model);
    for (const char *item = list; item; item = strchr(item, ',')) {
        item += *item == ',';
        if (strncmp(item, model, length) == 0 && (item[length] == ',' || !item[length]))
            return 1;
    }
    return 0;
}

/* Every item of --models must name a network of the table. */
static evk_status check_model_names(const char *list)
{
    for (const char *item = list; item; item = strchr(item, ',')) {
        item += *item == ',';
        size_t length = strcspn(item, ",");
        int known = 0;
        for (size_t i = 0; !known && i < NETWORK_COUNT; ++i)
            known = strlen(networks[i].model) == length &&
                    strncmp(item, networks[i].model, length) == 0;
        if (!known) {
            fprintf(stderr, "effvk bench: --models: unknown model '%.*s'\n", (int)length, item);
            return EVK_ERROR_INVALID_ARGUMENT;
        }
    }
    return EVK_SUCCESS;
}

/* Listed, or the baseline of a listed network; in the headline run, one of
 * the headline's. */
static int selected(const bench_run *run, const char *list, const network *net)
{
    if (bench_headline(run) && !net->headline)
        return 0;
    if (!list || listed(list, net->model))
        return 1;
    for (size_t i = 0; i < NETWORK_COUNT; ++i)
        if (networks[i].baseline && strcmp(networks[i].baseline, net->model) == 0 &&
            listed(list, networks[i].model))
            return 1;
    return 0;
}

/* `base` and the selected networks that name it as their baseline. */
static void gather_group(const bench_run *run, const char *list, const network *base, group *g)
{
    *g = (group){.nets = {base}, .count = 1};
    for (size_t i = 0; i < NETWORK_COUNT && g->count < MAX_GROUP; ++i)
        if (networks[i].baseline && strcmp(networks[i].baseline, base->model) == 0 &&
            selected(run, list, &networks[i]))
            g->nets[g->count++] = &networks[i];
}

/* The batch sizes of `net`: the user's --batch list or the headline's
 * (which bench_batches gives instead of the suite's defaults), else the
 * network's own. */
static const uint32_t *network_batches(const bench_run *run, const network *net, uint32_t *count)
{
    const uint32_t *batches = bench_batches(run, count);
    if (batches != models_default_batches)
        return batches;
    *count = net->batches[1] ? 2 : 1;
    return net->batches;
}

/* ---- --onnx (bench_models_onnx.c reads the list). */

/* Each pair at each of its network's batches: the built-in network and the
 * ONNX one, round-robin. */
static evk_status run_onnx_pairs(bench_run *run)
{
    onnx_pair pairs[NETWORK_COUNT];
    uint32_t pair_count;
    char problem[256];
    const char *list = bench_onnx_pairs(run);
    if (bench_parse_onnx_pairs(list, pairs, &pair_count, problem, sizeof problem) != 0) {
        fprintf(stderr, "effvk bench: --onnx: %s\n", problem);
        return EVK_ERROR_INVALID_ARGUMENT;
    }
    evk_status s = EVK_SUCCESS;
    for (uint32_t i = 0; s == EVK_SUCCESS && i < pair_count; ++i) {
        group g = {.nets = {pairs[i].net, pairs[i].net}, .onnx = {NULL, pairs[i].path}, .count = 2};
        uint32_t count;
        const uint32_t *batches = network_batches(run, pairs[i].net, &count);
        for (uint32_t b = 0; s == EVK_SUCCESS && b < count; ++b)
            s = run_group(run, &g, batches[b]);
    }
    return s;
}

static uint32_t count_onnx_pairs(const bench_run *run)
{
    onnx_pair pairs[NETWORK_COUNT];
    uint32_t pair_count, results = 0;
    char problem[256];
    if (bench_parse_onnx_pairs(bench_onnx_pairs(run), pairs, &pair_count, problem,
                               sizeof problem) != 0)
        return 0;
    for (uint32_t i = 0; i < pair_count; ++i) {
        uint32_t count;
        network_batches(run, pairs[i].net, &count);
        results += 2 * count * bench_precision_count(run);
    }
    return results;
}

/* ---- The suite. */

static evk_status run_models(bench_run *run)
{
    if (bench_onnx_pairs(run))
        return run_onnx_pairs(run);
    const char *list = bench_model_names(run);
    evk_status s = check_model_names(list);
    for (size_t i = 0; s == EVK_SUCCESS && i < NETWORK_COUNT; ++i) {
        const network *net = &networks[i];
        if (net->baseline || !selected(run, list, net))
            continue;
        group g;
        gather_group(run, list, net, &g);
        uint32_t count;
        const uint32_t *batches = network_batches(run, net, &count);
        for (uint32_t b = 0; s == EVK_SUCCESS && b < count; ++b)
            s = run_group(run, &g, batches[b]);
    }
    return s;
}

static uint32_t count_models(const bench_run *run)
{
    if (bench_onnx_pairs(run))
        return count_onnx_pairs(run);
    const char *list = bench_model_names(run);
    uint32_t results = 0;
    for (size_t i = 0; i < NETWORK_COUNT; ++i) {
        const network *net = &networks[i];
        if (net->baseline || !selected(run, list, net))
            continue;
        group g;
        gather_group(run, list, net, &g);
        uint32_t count;
        network_batches(run, net, &count);
        results += g.count * count * bench_precision_count(run);
    }
    return results;
}

const bench_suite bench_suite_models = {
    .name = "models",
    .default_batches = models_default_batches,
    .default_batch_count = sizeof models_default_batches / sizeof models_default_batches[0],
    .headline_batches = models_headline_batches,
    .headline_batch_count = sizeof models_headline_batches / sizeof models_headline_batches[0],
    .run = run_models,
    .count_results = count_models,
    .unchecked_note = "outputs not compared here (a whole network's CPU reference takes longer "
                      "than the suite); test_model checks EfficientNet-B0 against the CPU "
                      "reference, and the torch_* tests (ctest -L torch) B0, B1, B5, ResNet-34/50, "
                      "VGG-16 and their HetConv and OctConv versions against PyTorch",
};
