/* Shader variants. cmake/shaders.cmake builds a shader with the line
 *   `// effvk-variant: texel` also as NAME_texel, which reads the bindings
 *     its key's texel_bindings name as uniform texel buffers instead of
 *     storage buffers;
 *   `// effvk-variant: fp16-storage` also as NAME_f16s (EVK_FP16_STORAGE:
 *     activations and weights stored as halves, float32 arithmetic);
 *   `// effvk-variant: fp16` as NAME_f16s and NAME_f16 (EVK_FP16_ARITHMETIC
 *     too: half arithmetic);
 * and their products (NAME_texel_f16s, NAME_texel_f16). Whether a dispatch
 * reads through texel buffers depends on the profile (texel_loads) and on
 * where its bindings lie; the precision is the context's. The choice is made
 * per dispatch, before the pipeline is looked up. */
#ifndef EFFVK_HOST_SHADER_VARIANT_H
#define EFFVK_HOST_SHADER_VARIANT_H

#include "context.h"
#include "pipeline.h"

/* Points key->shader at the variant for this dispatch: the texel one when
 * the profile has texel loads on (or the storage-buffer one would bind more
 * storage buffers than a stage may), it exists and every binding the masks
 * name can be viewed so (else the masks are cleared); then the context's
 * precision's (at FP16, a shader without half arithmetic, a reduction,
 * takes its fp16-storage variant). Fails when the context stores halves and
 * the shader, not marked precision_independent, has no 16-bit variant. */
evk_status evk_choose_variant(evk_context *ctx, evk_pipeline_key *key,
                              const evk_binding *bindings);

/* Bytes of one texel of texel binding `binding` of a chosen key. */
uint32_t evk_texel_bytes(const evk_pipeline_key *key, uint32_t binding);

#endif
