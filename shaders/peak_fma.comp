#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// Arithmetic peak: eight independent vec4 FMA chains per invocation, so the
// measurement is bound by FMA throughput, not latency. 64 FLOPs per chain
// step per invocation, UNROLL steps per loop iteration: llvmpipe blends
// every value a loop iteration writes with its previous value under the
// loop's lane mask, so one step per iteration (a blend per FMA) measured 68
// GFLOP/s on the 2-core machine of bench/results where four steps measure
// 127 (eight: the same, sixteen: 105, as the chains spill).
#include "common.glsl"

layout(constant_id = 1) const uint ITERATIONS = 1024u;
const uint UNROLL = 4u;

layout(std430, binding = 0) writeonly buffer Sink { vec4 sink[]; };

layout(push_constant) uniform Params {
    uint invocations;
    float seed;
} p;

void main()
{
    uint id = evk_linear_group() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (id >= p.invocations)
        return;
    vec4 a = vec4(p.seed * float(id & 7u));
    vec4 m = vec4(0.999999);
    vec4 c = vec4(1e-7);
    vec4 r0 = a, r1 = a + 1.0, r2 = a + 2.0, r3 = a + 3.0;
    vec4 r4 = a + 4.0, r5 = a + 5.0, r6 = a + 6.0, r7 = a + 7.0;
    for (uint i = 0u; i < ITERATIONS / UNROLL; ++i) {
        [[unroll]] for (uint u = 0u; u < UNROLL; ++u) {
            r0 = fma(r0, m, c); r1 = fma(r1, m, c); r2 = fma(r2, m, c); r3 = fma(r3, m, c);
            r4 = fma(r4, m, c); r5 = fma(r5, m, c); r6 = fma(r6, m, c); r7 = fma(r7, m, c);
        }
    }
    sink[id] = r0 + r1 + r2 + r3 + r4 + r5 + r6 + r7;
}
