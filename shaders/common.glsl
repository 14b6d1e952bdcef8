// Shared by every effvk shader. Conventions:
//  - constant_id 0 is the workgroup size (x only); a shader's other tunables
//    start at constant_id 1;
//  - the host folds large 1-D grids into 2-D/3-D (maxComputeWorkGroupCount is
//    65535 on many GPUs), so shaders use evk_linear_group(), never
//    gl_WorkGroupID.x alone;
//  - tensors are packed [N][ceil(C/4)][H][W] vec4.

layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

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

// Zero for the channel lanes of quad `c4` past `channels`: padded channels
// must stay zero whatever the activation makes of 0 (sigmoid(0) = 0.5).
vec4 evk_channel_mask(uint c4, uint channels)
{
    uvec4 c = uvec4(c4 * 4u) + uvec4(0u, 1u, 2u, 3u);
    return vec4(lessThan(c, uvec4(channels)));
}

#ifdef EVK_TEXEL_LOADS
// Matrix `index` of a texel buffer of mat4 (four texels, column-major).
mat4 evk_fetch_mat4(samplerBuffer texels, uint index)
{
    int t = int(index * 4u);
    return mat4(texelFetch(texels, t), texelFetch(texels, t + 1), texelFetch(texels, t + 2),
                texelFetch(texels, t + 3));
}

// Float `index` of a texel buffer read as a float array.
float evk_fetch_float(samplerBuffer texels, uint index)
{
    return texelFetch(texels, int(index / 4u))[index % 4u];
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
