#include "half_float.h"

#include <string.h>

float evk_f16_to_f32(uint16_t bits)
{
    uint32_t sign = (uint32_t)(bits & 0x8000u) << 16;
    uint32_t exponent = (bits >> 10) & 0x1Fu, mantissa = bits & 0x3FFu;
    uint32_t out;
    if (exponent == 0x1F) {
        out = sign | 0x7F800000u | mantissa << 13;
    } else if (exponent) {
        out = sign | (exponent + 112) << 23 | mantissa << 13;
    } else if (!mantissa) {
        out = sign;
    } else {
        /* Subnormal half: normal in float; shift the leading one into the
         * implicit bit, lowering the exponent as we go. */
        exponent = 113;
        while (!(mantissa & 0x400u)) {
            mantissa <<= 1;
            --exponent;
        }
        out = sign | exponent << 23 | (mantissa & 0x3FFu) << 13;
    }
    float f;
    memcpy(&f, &out, sizeof f);
    return f;
}

float evk_bf16_to_f32(uint16_t bits)
{
    uint32_t out = (uint32_t)bits << 16;
    float f;
    memcpy(&f, &out, sizeof f);
    return f;
}
