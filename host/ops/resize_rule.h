/* torchvision's and PIL's resize rules, which the device's preprocessing
 * (preprocess.c) and the program's CPU preprocessing (tools/preprocess.c)
 * share: the Resize(int) size, the centre crop's offset and the filters. */
#ifndef EFFVK_HOST_OPS_RESIZE_RULE_H
#define EFFVK_HOST_OPS_RESIZE_RULE_H

#include <stdint.h>

#include "effvk/effvk.h"

/* The shorter side becomes `resize`, the longer int(resize * long / short). */
void evk_resize_size(uint32_t width, uint32_t height, uint32_t resize, uint32_t *out_width,
                     uint32_t *out_height);

/* int(round((size - crop) / 2.0)), with Python's halves to even. */
uint32_t evk_center_crop_offset(uint32_t size, uint32_t crop);

/* The filter's weight at distance x: the triangle, or the cubic with
 * a = -0.5 (support 1 and 2 before widening). */
double evk_resize_filter_weight(evk_resize_filter filter, double x);

#endif
