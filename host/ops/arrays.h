/* Checks of the host arrays that op descs hand over, before anything reads
 * them for a layer. */
#ifndef EFFVK_HOST_OPS_ARRAYS_H
#define EFFVK_HOST_OPS_ARRAYS_H

#include <stddef.h>

#include "context.h"

/* EVK_ERROR_INVALID_ARGUMENT naming `op`, `field` and the first of the
 * `count` values that is NaN or infinite ("conv2d: weight[17] is not finite
 * (nan)"): one such weight turns every output it reaches into NaN without
 * any error. A NULL array passes. */
evk_status evk_check_finite(evk_context *ctx, const char *op, const char *field,
                            const float *values, uint64_t count);

/* EVK_ERROR_INVALID_ARGUMENT naming `op`, `field`, the given and the
 * expected count when they differ ("conv2d: weight_count is 431, expected
 * 432"): a desc's pointer carries no size, so a short array would be read
 * past its end. */
evk_status evk_check_count(evk_context *ctx, const char *op, const char *field, uint64_t given,
                           uint64_t needed);

/* One host array of a desc: its field name, its values (NULL: absent), the
 * element count the desc gives (its `field`_count) and the elements the
 * layer reads from it. */
typedef struct evk_host_array {
    const char *field;
    const float *values;
    uint64_t given, needed;
} evk_host_array;

/* For each array that is set, in turn: its count, then its values
 * (evk_check_finite); the first failure is returned. */
evk_status evk_check_arrays(evk_context *ctx, const char *op, const evk_host_array *arrays,
                            size_t count);

#endif
