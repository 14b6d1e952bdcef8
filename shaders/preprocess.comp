#version 450
#extension GL_GOOGLE_include_directive : require
// effvk-variant: fp16-storage
// Image preprocessing in one dispatch: an invocation per pixel of the
// centre crop resamples the 8-bit source at that pixel of the resized image
// with the host's separable antialiasing taps (horizontal sums per source
// row, then the vertical sum, in fp32), rounds to 8 bits half to even and
// clamps (torchvision resizes a uint8 tensor so), then writes
// (v / 255 - mean) / std of R, G and B as one quad of the packed output.
#include "common.glsl"

layout(std430, binding = 0) buffer Output { evk_store4 y[]; };
// The source image's bytes, four to a word, little-endian.
layout(std430, binding = 1) readonly buffer Image { uint pixels[]; };
// For the crop's columns then its rows: first source index, tap count, then
// `taps` weights each (uintBitsToFloat).
layout(std430, binding = 2) readonly buffer Taps { uint taps[]; };

layout(push_constant) uniform Shape {
    uint crop, row_pitch, pixel_bytes;
    uint red, green, blue;          // byte offsets within a pixel
    uint taps_x, taps_y;            // weights per column, per row
    uint y_table;                   // where the rows' table starts in `taps`
    uint image;                     // the output's image index
    vec4 mean, std;
} p;

float source_byte(uint address)
{
    return float((pixels[address >> 2] >> ((address & 3u) * 8u)) & 255u);
}

void main()
{
    uint index = evk_linear_group() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (index >= p.crop * p.crop)
        return;
    uint cx = index % p.crop, cy = index / p.crop;
    uint x_first = taps[cx], x_count = taps[p.crop + cx];
    uint y_first = taps[p.y_table + cy], y_count = taps[p.y_table + p.crop + cy];
    uint x_weights = 2u * p.crop + cx * p.taps_x;
    uint y_weights = p.y_table + 2u * p.crop + cy * p.taps_y;
    vec3 sum = vec3(0.0);
    for (uint ky = 0u; ky < y_count; ++ky) {
        uint row = (y_first + ky) * p.row_pitch;
        vec3 across = vec3(0.0);
        for (uint kx = 0u; kx < x_count; ++kx) {
            uint pixel = row + (x_first + kx) * p.pixel_bytes;
            vec3 v = vec3(source_byte(pixel + p.red), source_byte(pixel + p.green),
                          source_byte(pixel + p.blue));
            across += uintBitsToFloat(taps[x_weights + kx]) * v;
        }
        sum += uintBitsToFloat(taps[y_weights + ky]) * across;
    }
    vec3 byte_value = clamp(roundEven(sum), 0.0, 255.0);
    vec3 normal = (byte_value / 255.0 - p.mean.xyz) / p.std.xyz;
    y[(p.image * p.crop + cy) * p.crop + cx] = evk_store4(vec4(normal, 0.0));
}
