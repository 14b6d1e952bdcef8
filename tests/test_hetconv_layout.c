/* GPU-free tier: which channel layout the HetConv kernel computes in
 * (evk_hetconv_classes_of) and what its packed weights hold. The results
 * tests check numbers; these check that the shapes meant for the
 * whole-quad kernel get it (a silent fall back to scalar steps would still
 * pass them, only slower) and that the device keeps no masked-out taps. */
#include <stdlib.h>

#include "test_util.h"

#include "context.h"
#include "ops/hetconv.h"

typedef struct layout_case {
    uint32_t in, out, part;
    int grouped;
    uint32_t terms, groups, quads, inputs;
} layout_case;

/* `weights` stands for the dense masked tensor, or for both gwc and pwc. */
static evk_hetconv_desc desc_of(const layout_case *c, const float *weights)
{
    evk_hetconv_desc d = {.in_channels = c->in, .out_channels = c->out, .kernel_size = 3,
                          .part = c->part};
    if (c->grouped) {
        d.gwc = d.pwc = weights;
        d.gwc_count = (uint64_t)c->out * (c->in / c->part) * 9;
        d.pwc_count = (uint64_t)c->out * c->in;
    } else {
        d.weight = weights;
        d.weight_count = (uint64_t)c->out * c->in * 9;
    }
    return evk_hetconv_resolve(&d);
}

static void test_layout_choice(void **state)
{
    (void)state;
    static const layout_case cases[] = {
        /* P divides 4: one group of every quad, 4/P terms over all quads. */
        {64, 128, 1, 0, 4, 1, 32, 16},
        {64, 128, 2, 0, 2, 1, 32, 16},
        {10, 7, 4, 0, 1, 1, 2, 3},
        /* 4 divides P: P/4 groups, the quads of the group's residue. */
        {64, 64, 16, 0, 1, 4, 4, 4},
        {512, 512, 64, 0, 1, 16, 8, 8},
        /* P/4 above the output quads: one group per output quad. */
        {20, 3, 16, 0, 1, 1, 1, 2},
        /* Grouped form with whole-quad groups: one group per part. */
        {16, 24, 2, 1, 4, 2, 3, 2},
        /* Everything else steps through scalar channels. */
        {14, 9, 3, 0, 0, 0, 0, 0},
        {12, 8, 4, 1, 0, 0, 0, 0},
        {9, 5, 9, 0, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        const layout_case *c = &cases[i];
        static const float unread = 0.0f;
        evk_hetconv_desc d = desc_of(c, &unread);
        evk_hetconv_classes got = evk_hetconv_classes_of(&d);
        assert_int_equal(got.terms, c->terms);
        if (!c->terms)
            continue;
        assert_int_equal(got.groups, c->groups);
        assert_int_equal(got.quads, c->quads);
        assert_int_equal(got.inputs, c->inputs);
    }
}

/* Every masked tap of the dense form is absent from the packed off-centre
 * weights: as many non-zero values there as the mask lets through, for
 * weights that are all non-zero where the mask allows. */
static void test_packed_weights_are_the_mask(void **state)
{
    (void)state;
    /* Packing allocates through the context's allocator only: none set. */
    static evk_context ctx;
    static const layout_case cases[] = {
        {64, 64, 2, 0, 2, 0, 0, 0},
        {36, 20, 4, 0, 1, 0, 0, 0},
        {32, 40, 16, 0, 1, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        const layout_case *c = &cases[i];
        size_t count = (size_t)c->out * c->in * 9;
        float *weight = malloc(count * sizeof *weight);
        assert_non_null(weight);
        uint64_t expected = 0;
        for (uint32_t o = 0; o < c->out; ++o)
            for (uint32_t in = 0; in < c->in; ++in)
                for (uint32_t t = 0; t < 9; ++t) {
                    int kept = t == 4 || in % c->part == o % c->part;
                    weight[((size_t)o * c->in + in) * 9 + t] = kept ? 1.0f + (float)t : 0.0f;
                    expected += kept && t != 4;
                }
        evk_hetconv_desc d = desc_of(c, weight);
        evk_hetconv_packed packed;
        assert_int_equal(evk_hetconv_pack(&ctx, &d, &packed), EVK_SUCCESS);
        uint64_t non_zero = 0;
        for (size_t k = 0; k < packed.off_centre_count; ++k)
            non_zero += packed.off_centre[k] != 0.0f;
        assert_int_equal(non_zero, expected);
        assert_int_equal(evk_hetconv_classes_of(&d).terms, c->terms);
        evk_hetconv_packed_free(&ctx, &packed);
        free(weight);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_choice),
        cmocka_unit_test(test_packed_weights_are_the_mask),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
