// Shared by every effvk shader. Conventions:
//  - constant_id 0 is the workgroup size (x only); a shader's other tunables
//    start at constant_id 1;
//  - the host folds large 1-D grids into 2-D/3-D (maxComputeWorkGroupCount is
//    65535 on many GPUs), so shaders use evk_linear_group(), never
//    gl_WorkGroupID.x alone;
//  - tensors are packed [N][ceil(C/4)][H][W] vec4;
//  - precision (host/shader_variant.h): activations and weights are stored
//    as evk_store4 / evk_store (halves under EVK_FP16_STORAGE) and computed
//    as evk_real4 / evk_real / evk_real4x4 (halves under
//    EVK_FP16_ARITHMETIC); biases, BatchNorm shifts and reduction partials
//    stay vec4 / float; reductions accumulate in float whatever the variant.
//    Weight matrices are EVK_MAT4_ARRAY buffers read with evk_mat4_at (std430
//    lays a mat4 out as four vec4 columns, so both precisions share it).

#ifdef EVK_FP16_STORAGE
#extension GL_EXT_shader_16bit_storage : require
#endif
#ifdef EVK_FP16_ARITHMETIC
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#endif

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

#ifdef EVK_FP16_STORAGE
#define evk_store4 f16vec4
#define evk_store float16_t
#define EVK_MAT4_ARRAY(name) f16vec4 name[]
#define evk_mat4_at(name, i)                                                     \
    evk_real4x4(evk_real4(name[4u * (i)]), evk_real4(name[4u * (i) + 1u]),       \
                evk_real4(name[4u * (i) + 2u]), evk_real4(name[4u * (i) + 3u]))
#else
#define evk_store4 vec4
#define evk_store float
#define EVK_MAT4_ARRAY(name) mat4 name[]
#define evk_mat4_at(name, i) (name[i])
#endif

#ifdef EVK_FP16_ARITHMETIC
#define evk_real4 f16vec4
#define evk_real float16_t
#define evk_real4x4 f16mat4
#else
#define evk_real4 vec4
#define evk_real float
#define evk_real4x4 mat4
#endif

const uint EVK_ACT_NONE = 0u;
const uint EVK_ACT_RELU = 1u;
const uint EVK_ACT_RELU6 = 2u;
const uint EVK_ACT_SILU = 3u;
const uint EVK_ACT_SIGMOID = 4u;

uint evk_linear_group()
{
    return gl_WorkGroupID.x + gl_NumWorkGroups.x * (gl_WorkGroupID.y + gl_NumWorkGroups.y * gl_WorkGroupID.z);
}

vec4 evk_sigmoid(vec4 x)
{
    return 1.0 / (1.0 + exp(-x));
}

vec4 evk_activate(vec4 x, uint activation)
{
    if (activation == EVK_ACT_RELU)
        return max(x, vec4(0.0));
    if (activation == EVK_ACT_RELU6)
        return clamp(x, vec4(0.0), vec4(6.0));
    if (activation == EVK_ACT_SILU)
        return x * evk_sigmoid(x);
    if (activation == EVK_ACT_SIGMOID)
        return evk_sigmoid(x);
    return x;
}

#ifdef EVK_FP16_ARITHMETIC
// exp(-x) overflows to infinity below x = -11.1, where the sigmoid's
// 1 / (1 + inf) = 0 is still the half nearest the true value.
f16vec4 evk_sigmoid(f16vec4 x)
{
    return float16_t(1.0) / (float16_t(1.0) + exp(-x));
}

f16vec4 evk_activate(f16vec4 x, uint activation)
{
    if (activation == EVK_ACT_RELU)
        return max(x, f16vec4(0.0));
    if (activation == EVK_ACT_RELU6)
        return clamp(x, f16vec4(0.0), f16vec4(6.0));
    if (activation == EVK_ACT_SILU)
        return x * evk_sigmoid(x);
    if (activation == EVK_ACT_SIGMOID)
        return evk_sigmoid(x);
    return x;
}
#endif

// Zero for the channel lanes of quad `c4` past `channels`: padded channels
// must stay zero whatever the activation makes of 0 (sigmoid(0) = 0.5).
evk_real4 evk_channel_mask(uint c4, uint channels)
{
    uvec4 c = uvec4(c4 * 4u) + uvec4(0u, 1u, 2u, 3u);
    return evk_real4(lessThan(c, uvec4(channels)));
}

// v with the lanes of quad `c4` past `channels` set to zero by a select, not
// a product: an infinity there (0 + inf, a clamp to +inf) would give NaN.
evk_real4 evk_zero_padding(evk_real4 v, uint c4, uint channels)
{
    uvec4 c = uvec4(c4 * 4u) + uvec4(0u, 1u, 2u, 3u);
    return mix(evk_real4(0.0), v, lessThan(c, uvec4(channels)));
}

#ifdef EVK_TEXEL_LOADS
// Texel `index` of a vec4 texel buffer (a half one reads as vec4 too).
evk_real4 evk_fetch4(samplerBuffer texels, uint index)
{
    return evk_real4(texelFetch(texels, int(index)));
}

// Matrix `index` of a texel buffer of mat4 (four texels, column-major).
evk_real4x4 evk_fetch_mat4(samplerBuffer texels, uint index)
{
    uint t = index * 4u;
    return evk_real4x4(evk_fetch4(texels, t), evk_fetch4(texels, t + 1u),
                       evk_fetch4(texels, t + 2u), evk_fetch4(texels, t + 3u));
}

// Float `index` of a texel buffer read as a float array.
evk_real evk_fetch_float(samplerBuffer texels, uint index)
{
    return evk_real(texelFetch(texels, int(index / 4u))[index % 4u]);
}
#endif

// acc + m·v with explicit fused multiply-adds: compilers that do not contract
// a matrix product (llvmpipe) would otherwise issue separate mul and add.
vec4 evk_mat4_fma(mat4 m, vec4 v, vec4 acc)
{
    acc = fma(m[0], vec4(v.x), acc);
    acc = fma(m[1], vec4(v.y), acc);
    acc = fma(m[2], vec4(v.z), acc);
    return fma(m[3], vec4(v.w), acc);
}

#ifdef EVK_FP16_ARITHMETIC
f16vec4 evk_mat4_fma(f16mat4 m, f16vec4 v, f16vec4 acc)
{
    acc = fma(m[0], f16vec4(v.x), acc);
    acc = fma(m[1], f16vec4(v.y), acc);
    acc = fma(m[2], f16vec4(v.z), acc);
    return fma(m[3], f16vec4(v.w), acc);
}
#endif
