/* Texel-buffer variants of the shaders. A shader with the line
 * `// effvk-variant: texel` also builds as NAME_texel (cmake/shaders.cmake),
 * which reads the bindings its key's texel_bindings name as uniform texel
 * buffers instead of storage buffers. Whether a dispatch takes the variant
 * depends on the profile (texel_loads) and on where its bindings lie, so
 * the choice is made per dispatch, before the pipeline is looked up. */
#ifndef EFFVK_HOST_TEXEL_VARIANT_H
#define EFFVK_HOST_TEXEL_VARIANT_H

#include "context.h"
#include "pipeline.h"

/* Keeps key->texel_bindings and points key->shader at its texel variant
 * when the profile has texel loads on, the variant exists and every binding
 * the masks name can be viewed so; otherwise clears the masks (storage
 * buffers). */
void evk_choose_texel_variant(const evk_context *ctx, evk_pipeline_key *key,
                              const evk_binding *bindings);

#endif
