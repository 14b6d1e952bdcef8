#include <math.h>

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

evk_status evk_check_arrays(evk_context *ctx, const char *op, const evk_host_array *arrays,
                            size_t count)
{
    evk_status s = EVK_SUCCESS;
    for (size_t i = 0; s == EVK_SUCCESS && i < count; ++i)
        s = evk_check_finite(ctx, op, arrays[i].field, arrays[i].values, arrays[i].needed);
    return s;
}
