/* The packed layout's padded channel lanes (c >= C in a tensor's last quad)
 * for the kernels' tests that include the library's internal headers:
 * filling every stored element, so that what a kernel leaves unwritten
 * shows, and checking that outputs hold zeros there. */
#ifndef EFFVK_TESTS_PACKED_LANES_H
#define EFFVK_TESTS_PACKED_LANES_H

#include <stdlib.h>

#include "element_storage.h"
#include "memory.h"
#include "tensor.h"
#include "test_util.h"

/* The stored elements of a packed tensor, padded lanes included. */
static inline size_t tu_packed_elements(evk_shape s)
{
    return (size_t)s.n * ((s.c + 3) / 4) * 4 * s.h * s.w;
}

/* Sets every stored element of `t`, padded lanes included, to `value` as
 * the context's precision stores it. */
static inline void tu_poison(evk_context *ctx, evk_tensor *t, float value)
{
    size_t count = tu_packed_elements(t->shape);
    float *values = malloc(count * sizeof *values);
    assert_non_null(values);
    for (size_t i = 0; i < count; ++i)
        values[i] = value;
    evk_host_access access;
    assert_int_equal(evk_buffer_begin_write(ctx, &t->buffer, &access), EVK_SUCCESS);
    evk_store_elements(ctx, access.ptr, values, count);
    assert_int_equal(evk_buffer_end_write(ctx, &t->buffer, &access), EVK_SUCCESS);
    free(values);
}

/* Fails unless every padded channel lane of `t` holds 0. */
static inline void tu_assert_padding_zero(evk_context *ctx, const evk_tensor *t, const char *what)
{
    evk_host_access access;
    assert_int_equal(evk_buffer_begin_read(ctx, &t->buffer, &access), EVK_SUCCESS);
    evk_shape s = t->shape;
    size_t plane = (size_t)s.h * s.w, c4 = (s.c + 3) / 4;
    for (size_t i = 0; i < tu_packed_elements(s); ++i) {
        size_t channel = i / (plane * 4) % c4 * 4 + i % 4;
        float value = evk_load_element(ctx, access.ptr, i);
        if (channel >= s.c && value != 0.0f)
            fail_msg("%s: padded lane of channel %zu holds %g", what, channel, (double)value);
    }
    evk_buffer_end_read(ctx, &access);
}

#endif
