/* torchvision's ImageNet evaluation preprocessing, in C: resize the shorter
 * side (bicubic, as PIL resizes 8-bit images), centre crop, scale to [0, 1],
 * normalise with the ImageNet mean and standard deviation, NCHW float. */
#ifndef EFFVK_TOOLS_PREPROCESS_H
#define EFFVK_TOOLS_PREPROCESS_H

#include <stdint.h>

typedef struct preprocess_spec {
    uint32_t resize;                /* the shorter side after resizing */
    uint32_t crop;                  /* the centre crop's side, <= resize */
    float mean[3], std[3];          /* per RGB channel, on the [0, 1] scale */
} preprocess_spec;

/* The preprocessing of torchvision's IMAGENET1K_V1 weights of `model`
 * ("efficientnet-b0" .. "-b7", '_' for '-' and upper case accepted): all
 * bicubic, resize/crop 256/224, 256/240, 288/288, 320/300, 384/380,
 * 456/456, 528/528, 600/600. Returns -1 for an unknown model. */
int preprocess_spec_for(const char *model, preprocess_spec *out);

/* The size a shorter-side resize gives, as torchvision computes it: the
 * shorter side becomes `resize`, the longer int(resize * long / short). */
void preprocess_resized_size(uint32_t width, uint32_t height, uint32_t resize, uint32_t *out_width,
                             uint32_t *out_height);

/* Resizes an 8-bit RGB image (height rows of width RGB triplets) to
 * out_width x out_height into `out`, as PIL's Image.resize with BICUBIC does,
 * byte for byte: the horizontal pass, then the vertical (each only when its
 * size changes), in PIL's 22-bit fixed point, rounded and clipped to 0..255
 * after each. Returns 0, or -1 when a dimension is 0 or memory runs out. */
int preprocess_resize_rgb(const unsigned char *rgb, uint32_t width, uint32_t height,
                          uint32_t out_width, uint32_t out_height, unsigned char *out);

/* Preprocesses an 8-bit RGB image into `out`, 3 x crop x crop floats (one
 * image of NCHW), as the model's torchvision weights transform does to the
 * same pixels as a PIL image: preprocess_resize_rgb to the resized size,
 * centre crop, then (v / 255 - mean) / std in float.
 * Returns 0, or -1 when a dimension is 0 or memory runs out. */
int preprocess_image(const unsigned char *rgb, uint32_t width, uint32_t height,
                     const preprocess_spec *spec, float *out);

#endif
