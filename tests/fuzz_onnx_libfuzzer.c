/* libFuzzer's entry point for the ONNX reader (EFFVK_LIBFUZZER=ON with
 * clang): every input is parsed as a model and as a lone tensor, and what
 * is accepted is read through, so that AddressSanitizer sees any array
 * shorter than its count. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "model/onnx_proto.h"

static volatile double sink;

static void read_tensor(const evk_onnx_tensor *t)
{
    for (uint64_t i = 0; i < t->count && (t->floats || t->ints); ++i)
        sink += t->floats ? (double)t->floats[i] : (double)t->ints[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    evk_onnx_model *m = NULL;
    if (evk_onnx_parse(NULL, data, size, "fuzz.onnx", NULL, &m) == EVK_SUCCESS) {
        for (uint32_t i = 0; i < m->initializer_count; ++i)
            read_tensor(&m->initializers[i]);
        for (uint32_t n = 0; n < m->node_count; ++n)
            for (uint32_t a = 0; a < m->nodes[n].attribute_count; ++a) {
                const evk_onnx_attribute *attribute = &m->nodes[n].attributes[a];
                if (attribute->t)
                    read_tensor(attribute->t);
                for (uint32_t k = 0; k < attribute->count; ++k)
                    sink += attribute->floats ? (double)attribute->floats[k]
                        : attribute->ints     ? (double)attribute->ints[k]
                                              : (double)strlen(attribute->strings[k]);
            }
        evk_onnx_free(NULL, m);
    }
    const evk_onnx_tensor *t = NULL;
    if (evk_onnx_parse_tensor(NULL, data, size, "fuzz.pb", &m, &t) == EVK_SUCCESS) {
        read_tensor(t);
        evk_onnx_free(NULL, m);
    }
    return 0;
}
