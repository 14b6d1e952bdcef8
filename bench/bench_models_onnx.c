/* The models suite's --onnx list: MODEL=FILE or MODEL:VARIANT=FILE,
 * comma-separated, read against the suite's table of networks. MODEL is
 * evk_model_load's name as the table spells it, VARIANT the table's
 * ("P=4", "a=0.25"; a model with variants written without one is its
 * model_default entry), FILE the rest of the item up to the next comma (so
 * a path cannot hold a comma). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_models.h"

/* The network an item (`length` characters) names before its "=FILE", and
 * where FILE starts; NULL when it names none. */
static const network *pair_network(const char *item, size_t length, const char **file)
{
    for (size_t i = 0; i < bench_network_count; ++i) {
        const network *net = &bench_networks[i];
        size_t m = strlen(net->model), v = net->variant ? strlen(net->variant) : 0;
        if (length <= m || strncmp(item, net->model, m) != 0)
            continue;
        if (item[m] == '=' && (!net->variant || net->model_default)) {
            *file = item + m + 1;
            return net;
        }
        if (item[m] == ':' && net->variant && length > m + 1 + v &&
            strncmp(item + m + 1, net->variant, v) == 0 && item[m + 1 + v] == '=') {
            *file = item + m + 2 + v;
            return net;
        }
    }
    return NULL;
}

/* Why an item names no network, with the variants of its model if it has
 * some. */
static void bad_pair(const char *item, size_t length, char *problem, size_t size)
{
    int used = snprintf(problem, size, "'%.*s' is not MODEL=FILE or MODEL:VARIANT=FILE with a "
                        "network of the models suite", (int)length, item);
    const char *separator = "; its variants:";
    for (size_t i = 0; i < bench_network_count && used > 0 && (size_t)used < size; ++i) {
        const network *net = &bench_networks[i];
        size_t m = strlen(net->model);
        if (net->variant && length > m && strncmp(item, net->model, m) == 0 &&
            (item[m] == ':' || item[m] == '=')) {
            used += snprintf(problem + used, size - (size_t)used, "%s %s%s", separator,
                             net->variant, net->model_default ? " (the default)" : "");
            separator = ",";
        }
    }
}

int bench_parse_onnx_pairs(const char *list, onnx_pair *pairs, uint32_t *count, char *problem,
                            size_t size)
{
    *count = 0;
    for (const char *item = list; item; item = strchr(item, ',')) {
        item += *item == ',';
        size_t length = strcspn(item, ",");
        const char *file = NULL, *wrong = NULL;
        const network *net = pair_network(item, length, &file);
        size_t file_length = net ? length - (size_t)(file - item) : 0;
        for (uint32_t i = 0; net && i < *count; ++i)
            if (pairs[i].net == net)
                wrong = "the network is paired twice";
        if (net && !wrong)
            wrong = file_length == 0                        ? "no FILE after '='"
                    : file_length >= BENCH_PARAM_TEXT_SIZE ? "FILE's path is too long"
                                                            : NULL;
        if (!net)
            bad_pair(item, length, problem, size);
        else if (wrong)
            snprintf(problem, size, "'%.*s': %s", (int)length, item, wrong);
        if (!net || wrong)
            return -1;
        pairs[*count].net = net;
        memcpy(pairs[*count].path, file, file_length);
        pairs[(*count)++].path[file_length] = '\0';
    }
    return 0;
}

int bench_models_check_onnx(const char *list, char *problem, size_t size)
{
    onnx_pair *pairs = malloc(bench_network_count * sizeof *pairs);
    uint32_t count;
    if (!pairs) {
        snprintf(problem, size, "out of host memory");
        return -1;
    }
    int result = bench_parse_onnx_pairs(list, pairs, &count, problem, size);
    free(pairs);
    return result;
}
