/* Counts (elements, bytes, MACs, parameters) in 64-bit arithmetic that
 * saturates at UINT64_MAX instead of wrapping. Saturation is sticky: a
 * saturated term keeps every product (with no zero factor) and every sum it
 * enters at UINT64_MAX, so a whole formula needs one check at its end, and a
 * result of UINT64_MAX means "does not fit in 64 bits". */
#ifndef EFFVK_HOST_SATURATING_H
#define EFFVK_HOST_SATURATING_H

#include <stddef.h>
#include <stdint.h>

#include "effvk/effvk.h"

#define EVK_SATURATED UINT64_MAX

static inline uint64_t evk_mul_sat(uint64_t a, uint64_t b)
{
    uint64_t product;
    return __builtin_mul_overflow(a, b, &product) ? EVK_SATURATED : product;
}

static inline uint64_t evk_add_sat(uint64_t a, uint64_t b)
{
    uint64_t sum;
    return __builtin_add_overflow(a, b, &sum) ? EVK_SATURATED : sum;
}

static inline uint64_t evk_product_sat(const uint64_t *factors, size_t count)
{
    uint64_t product = 1;
    for (size_t i = 0; i < count; ++i)
        product = evk_mul_sat(product, factors[i]);
    return product;
}

static inline uint64_t evk_sum_sat(const uint64_t *terms, size_t count)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < count; ++i)
        sum = evk_add_sat(sum, terms[i]);
    return sum;
}

/* EVK_PRODUCT(a, b, c) and EVK_SUM(a, b, c): any number of uint64_t values. */
#define EVK_PRODUCT(...)                                                                    \
    evk_product_sat((const uint64_t[]){__VA_ARGS__},                                        \
                    sizeof((const uint64_t[]){__VA_ARGS__}) / sizeof(uint64_t))
#define EVK_SUM(...)                                                                        \
    evk_sum_sat((const uint64_t[]){__VA_ARGS__},                                            \
                sizeof((const uint64_t[]){__VA_ARGS__}) / sizeof(uint64_t))

/* A cost function's result: EVK_ERROR_LIMIT_EXCEEDED (on this thread's last
 * error, naming `op` and `input`) when `macs` or `params` saturated, else
 * both are stored where their pointers are non-NULL. */
evk_status evk_store_costs(const char *op, const evk_shape *input, uint64_t macs, uint64_t params,
                    uint64_t *macs_out, uint64_t *params_out);

#endif
