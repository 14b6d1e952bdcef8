/* What the importer's fusion passes share (onnx_fuse.c). */
#ifndef EFFVK_HOST_MODEL_ONNX_FUSE_H
#define EFFVK_HOST_MODEL_ONNX_FUSE_H

#include "onnx_ir.h"

/* The one live op reading `value`, or IR_NONE when it has another number
 * of readers or is the graph's output. */
uint32_t evk_fuse_reader(const ir_graph *g, uint32_t value);
/* The live op of `kind` writing `value`, or NULL. */
const ir_op *evk_fuse_producer(const ir_graph *g, uint32_t value, ir_kind kind);
/* `keep` takes over `victim`'s output and ONNX nodes; victim dies. */
void evk_fuse_absorb(ir_graph *g, uint32_t keep, uint32_t victim);
/* The ONNX nodes of op `from` become op `to`'s, and the first of them
 * names `to` when it comes before `to`'s own. */
void evk_fuse_give_nodes(ir_graph *g, uint32_t from, uint32_t to);
/* The same, `to` keeping its name. */
void evk_fuse_take_nodes(ir_graph *g, uint32_t from, uint32_t to);

/* onnx_fuse_blocks.c */
evk_status evk_fuse_mbconv(ir_graph *g);
/* onnx_fuse_octconv.c */
evk_status evk_fuse_octconv(ir_graph *g);

#endif
