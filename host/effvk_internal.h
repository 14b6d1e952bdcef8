/* What the effvk program and its benches use of the library beyond the
 * public API (include/effvk/effvk.h). Not part of the public API: not
 * installed, no stability promise, reached only through effvk_internal (the
 * never-installed archive of the library's plain objects). The program
 * compiles against effvk.h and this header alone; like the public header it
 * needs neither volk nor vulkan.h.
 *
 * Users:
 *   bench/bench_models_weights.c   the architectures and their state_dict layout, to
 *                          write random weights under torchvision's names
 *   bench/layout_bench.c   the dense conv2d kernel on plain NCHW buffers
 *   tools/npy.c            messages and host memory the library's way
 *                          (failure.h, host_memory.h)
 *   tools/bench_json_read.c  the JSON parser (model/json.h), numbers with
 *                          fractions included, for bench result files
 *   bench/, tools/         files read without blocking and written whole
 *                          (file_io.h)
 *   tools/preprocess.c     torchvision's resize size, crop offset and the
 *                          bicubic filter, as the device's preprocessing
 *                          computes them (ops/resize_rule.h) */
#ifndef EFFVK_HOST_EFFVK_INTERNAL_H
#define EFFVK_HOST_EFFVK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "effvk/effvk.h"
#include "failure.h"
#include "file_io.h"
#include "host_memory.h"
#include "model/arch.h"
#include "model/json.h"
#include "model/state_dict_layout.h"
#include "ops/resize_rule.h"

/* ---- The layout measurement: the same kernel on the packed layout
 * [N][C/4][H][W][4] and on plain NCHW. */

/* Runs `layer`, a groups = 1 conv2d, with its dense kernel on `input` into
 * `output` and waits, reading and writing their buffers in the packed
 * layout (planar 0) or as plain NCHW floats (planar 1); the GPU time is then
 * evk_context_last_gpu_ms. Shapes as evk_layer_forward takes them.
 * Errors: EVK_ERROR_INVALID_ARGUMENT (NULL, tensors of another context),
 * EVK_ERROR_UNSUPPORTED (a layer without the dense kernel), device errors. */
evk_status evk_conv2d_forward_dense_layout(evk_layer *layer, const evk_tensor *input,
                                           evk_tensor *output, int planar);

/* evk_tensor_upload and evk_tensor_download with the tensor's buffer holding
 * its `count` = n·c·h·w floats as plain NCHW, unpacked. */
evk_status evk_tensor_upload_planar(evk_tensor *tensor, const float *data, uint64_t count);
evk_status evk_tensor_download_planar(const evk_tensor *tensor, float *data, uint64_t count);

#endif
