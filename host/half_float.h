/* 16-bit floats: IEEE half and bfloat16, as weights files store them. */
#ifndef EFFVK_HOST_HALF_FLOAT_H
#define EFFVK_HOST_HALF_FLOAT_H

#include <stdint.h>

/* IEEE half and bfloat16 bits to float, exactly (every 16-bit value,
 * subnormals, infinities and NaNs included, has a float). */
float evk_f16_to_f32(uint16_t bits);
float evk_bf16_to_f32(uint16_t bits);

/* Float to IEEE half bits, rounded to nearest even as the GPU's conversion
 * (OpFConvert) rounds: values past 65504 become infinities, tiny ones
 * subnormals or zero, NaN stays NaN. */
uint16_t evk_f32_to_f16(float value);

#endif
