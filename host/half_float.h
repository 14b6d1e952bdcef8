/* 16-bit floats: IEEE half and bfloat16, as weights files store them. */
#ifndef EFFVK_HOST_HALF_FLOAT_H
#define EFFVK_HOST_HALF_FLOAT_H

#include <stdint.h>

/* IEEE half and bfloat16 bits to float, exactly (every 16-bit value,
 * subnormals, infinities and NaNs included, has a float). */
float evk_f16_to_f32(uint16_t bits);
float evk_bf16_to_f32(uint16_t bits);

#endif
