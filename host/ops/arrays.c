#include <math.h>
#include <stdio.h>

#include "arrays.h"

evk_status evk_check_finite(evk_context *ctx, const char *op, const char *field,
                            const float *values, uint64_t count)
{
    if (!values)
        return EVK_SUCCESS;
    for (uint64_t i = 0; i < count; ++i)
        if (!isfinite(values[i]))
            return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: %s[%llu] is not finite (%g)", op,
                            field, (unsigned long long)i, (double)values[i]);
    return EVK_SUCCESS;
}

evk_status evk_check_count(evk_context *ctx, const char *op, const char *field, uint64_t given,
                           uint64_t needed)
{
    if (given == needed)
        return EVK_SUCCESS;
    return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: %s is %llu, expected %llu", op, field,
                    (unsigned long long)given, (unsigned long long)needed);
}

evk_status evk_check_arrays(evk_context *ctx, const char *op, const evk_host_array *arrays,
                            size_t count)
{
    evk_status s = EVK_SUCCESS;
    for (size_t i = 0; s == EVK_SUCCESS && i < count; ++i) {
        const evk_host_array *a = &arrays[i];
        if (!a->values)
            continue;
        char count_field[64];
        snprintf(count_field, sizeof count_field, "%s_count", a->field);
        s = evk_check_count(ctx, op, count_field, a->given, a->needed);
        if (s == EVK_SUCCESS)
            s = evk_check_finite(ctx, op, a->field, a->values, a->needed);
    }
    return s;
}
