/* Architectures as lists of layer specs: appending a spec, naming its kind. */
#include <stdio.h>
#include <string.h>

#include "arch.h"

evk_layer_spec *evk_arch_add(evk_arch *arch, evk_layer_kind kind, const char *prefix,
                             uint32_t in, uint32_t out)
{
    evk_layer_spec *spec = &arch->layers[arch->count++];
    memset(spec, 0, sizeof *spec);
    spec->kind = kind;
    spec->input = arch->count - 1;
    snprintf(spec->prefix, sizeof spec->prefix, "%s", prefix);
    spec->in_channels = in;
    spec->out_channels = out;
    return spec;
}

const char *evk_layer_kind_name(evk_layer_kind kind)
{
    static const char *names[] = {"conv2d", "mbconv", "global_avg_pool", "linear", "hetconv",
                                  "max_pool", "add", "octconv"};
    return names[kind];
}
