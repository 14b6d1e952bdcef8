/* What test_onnx_fusion.c and test_onnx_fusion_blocks.c share: graphs
 * from onnx_graph_builder.h, and the checks: the fused IR's ops without a
 * device (evk_onnx_lower_bound + evk_onnx_fuse) and the model on the
 * device against onnx_reference_graph.h's interpreter within its bound. */
#ifndef EFFVK_TESTS_ONNX_FUSION_UTIL_H
#define EFFVK_TESTS_ONNX_FUSION_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#include "model/onnx_build.h"
#include "model/onnx_lower_ops.h"
#include "onnx_graph_builder.h"
#include "onnx_reference_graph.h"

/* ---- Checks. */

/* Lowers (no device) and fuses; the caller frees g with evk_ir_free. The
 * passes decide on the values' reader counts, so each must still be the
 * live ops reading it plus its graph output. */
static inline void fu_fuse(const evk_onnx_model *onnx, ir_graph *g)
{
    evk_status s = evk_onnx_lower_bound(NULL, onnx, FU_FILE, NULL, NULL, 0, g);
    if (s == EVK_SUCCESS)
        s = evk_onnx_fuse(g);
    if (s != EVK_SUCCESS)
        fail_msg("lower and fuse: %s", evk_last_error(NULL));
    for (uint32_t v = 0; v < g->value_count; ++v) {
        uint32_t readers = g->values[v].graph_output ? 1 : 0;
        for (uint32_t o = 0; o < g->op_count; ++o)
            for (uint32_t i = 0; i < g->ops[o].in_count; ++i)
                readers += !g->ops[o].dead && g->ops[o].in[i] == v;
        if (readers != g->values[v].consumers)
            fail_msg("value %u: %u readers, counted %u", v, readers, g->values[v].consumers);
    }
}

/* The live op `index` (in the graph's order), or NULL. */
static inline const ir_op *fu_live(const ir_graph *g, uint32_t index)
{
    for (uint32_t o = 0; o < g->op_count; ++o)
        if (!g->ops[o].dead && index-- == 0)
            return &g->ops[o];
    return NULL;
}

static inline uint32_t fu_count(const ir_graph *g, ir_kind kind)
{
    uint32_t n = 0;
    for (uint32_t o = 0; o < g->op_count; ++o)
        n += !g->ops[o].dead && g->ops[o].kind == kind;
    return n;
}

/* Fails unless the live ops are of exactly `kinds`, in order. */
static inline void fu_expect_ops(const ir_graph *g, const ir_kind *kinds, uint32_t count,
                                 const char *what)
{
    for (uint32_t i = 0; i < count; ++i)
        if (!fu_live(g, i) || fu_live(g, i)->kind != kinds[i])
            fail_msg("%s: live op %u is of kind %d, expected %d", what, i,
                     fu_live(g, i) ? (int)fu_live(g, i)->kind : -1, (int)kinds[i]);
    if (fu_live(g, count))
        fail_msg("%s: more than %u live ops", what, count);
}

/* The model on the device: evk_model_describe's kinds are `kinds`, its
 * output is the interpreter's within the bound. The caller destroys it. */
static inline evk_model *fu_run(evk_context *ctx, const evk_onnx_model *onnx, evk_shape in,
                                const char *const *kinds, uint32_t count, uint64_t seed,
                                const char *what)
{
    evk_model *model = NULL;
    if (evk_onnx_model_create(ctx, onnx, FU_FILE, NULL, NULL, 0, &model) != EVK_SUCCESS)
        fail_msg("%s: model: %s", what, evk_last_error(ctx));
    uint32_t layers = 0;
    assert_int_equal(evk_model_describe(model, NULL, 0, &layers), EVK_SUCCESS);
    evk_model_layer_info *info = calloc(layers + 1, sizeof *info);
    assert_non_null(info);
    assert_int_equal(evk_model_describe(model, info, layers, &layers), EVK_SUCCESS);
    for (uint32_t i = 0; i < count || i < layers; ++i)
        if (i >= count || i >= layers || strcmp(info[i].kind, kinds[i]) != 0)
            fail_msg("%s: layer %u is '%s', expected '%s' (%u layers)", what, i,
                     i < layers ? info[i].kind : "", i < count ? kinds[i] : "", layers);
    free(info);
    tu_rng rng = tu_rng_seeded(seed);
    float *x = tu_random_array(&rng, evk_shape_elements(in), -1.0f, 1.0f);
    rv ref = {0};
    fu_reference(onnx, in, x, &ref);
    evk_shape out;
    assert_int_equal(evk_model_output_shape(model, &out), EVK_SUCCESS);
    assert_int_equal(evk_shape_elements(out), evk_shape_elements(ref.shape));
    float *got = malloc(evk_shape_elements(out) * 4);
    assert_non_null(got);
    if (evk_model_run(model, x, evk_shape_elements(in), got, evk_shape_elements(out)) !=
        EVK_SUCCESS)
        fail_msg("%s: run: %s", what, evk_last_error(ctx));
    tu_assert_within_bound(got, ref.x, ref.e, ref.shape, what);
    free(got);
    free(x);
    free(ref.x);
    free(ref.e);
    return model;
}

/* Fails unless layer `layer`'s ONNX nodes name `word` (or, `present` 0, do
 * not). */
static inline void fu_expect_source(const evk_model *model, uint32_t layer, const char *word,
                                    int present)
{
    const char *text = evk_model_layer_source(model, layer);
    if (tu_contains(text, word) != present)
        fail_msg("layer %u's source \"%s\" %s '%s'", layer, text,
                 present ? "does not name" : "names", word);
}

/* Frees what a case made: the model (may be NULL), the fused graph and
 * the parsed file. */
static inline void fu_release(evk_model *model, ir_graph *g, evk_onnx_model *onnx)
{
    evk_model_destroy(model);
    evk_ir_free(g);
    evk_onnx_free(NULL, onnx);
}

#endif
