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

uint16_t evk_f32_to_f16(float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    uint16_t sign = (uint16_t)(bits >> 16 & 0x8000u);
    uint32_t exponent = bits >> 23 & 0xFFu, mantissa = bits & 0x7FFFFFu;
    if (exponent == 0xFF)
        return (uint16_t)(sign | 0x7C00u | (mantissa ? 0x200u | mantissa >> 13 : 0u));
    int half_exponent = (int)exponent - 112;
    if (half_exponent >= 31)
        return (uint16_t)(sign | 0x7C00u);
    /* The 24-bit significand (implicit one included for normal floats) and
     * how far it must shift right to become the half's 11 bits or fewer. */
    uint32_t significand = exponent ? mantissa | 0x800000u : mantissa;
    int shift = half_exponent > 0 ? 13 : 14 - half_exponent;
    if (shift > 24)
        return sign;
    uint32_t kept = significand >> shift;
    uint32_t rest = significand & ((1u << shift) - 1u), halfway = 1u << (shift - 1);
    if (rest > halfway || (rest == halfway && (kept & 1u)))
        ++kept;
    /* A normal half: the exponent field goes on top of the 10 mantissa bits
     * (kept carries its implicit one into it, so a rounding carry bumps the
     * exponent by itself); a subnormal: kept is the whole field. */
    uint32_t out = half_exponent > 0 ? ((uint32_t)(half_exponent - 1) << 10) + kept : kept;
    return (uint16_t)(sign | out);
}
