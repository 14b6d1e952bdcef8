#include "saturating.h"

#include "context.h"

evk_status evk_store_costs(const char *op, const evk_shape *input, uint64_t macs, uint64_t params,
                    uint64_t *macs_out, uint64_t *params_out)
{
    if (macs == EVK_SATURATED || params == EVK_SATURATED)
        return evk_fail(NULL, EVK_ERROR_LIMIT_EXCEEDED,
                        "%s: the MACs or parameters on input %ux%ux%ux%u do not fit in 64 bits",
                        op, input->n, input->c, input->h, input->w);
    if (macs_out)
        *macs_out = macs;
    if (params_out)
        *params_out = params;
    return EVK_SUCCESS;
}
