#include "model/onnx_parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "failure.h"
#include "host_memory.h"
#include "saturating.h"

#define ARENA_ALIGN 16
#define ARENA_BLOCK 65536

struct onnx_block {
    onnx_block *next;
    size_t used, size;
};

#define BLOCK_HEADER ((sizeof(onnx_block) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))

void onnx_release(evk_context *ctx, onnx_block *block)
{
    while (block) {
        onnx_block *next = block->next;
        evk_free(ctx, block);
        block = next;
    }
}

/* Zeroed; a large request gets a block of its own, after the shared one,
 * so that the shared block's free space stays in use. */
void *onnx_alloc(onnx_parser *p, size_t size)
{
    if (size > SIZE_MAX - BLOCK_HEADER - ARENA_ALIGN)
        return NULL;
    size = size ? (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1) : ARENA_ALIGN;
    onnx_block *block = p->blocks;
    if (!block || block->size - block->used < size) {
        int own = size > ARENA_BLOCK / 4;
        size_t capacity = own ? size : ARENA_BLOCK;
        onnx_block *fresh = evk_alloc(p->ctx, BLOCK_HEADER + capacity);
        if (!fresh)
            return NULL;
        fresh->used = 0;
        fresh->size = capacity;
        if (own && block) {
            fresh->next = block->next;
            block->next = fresh;
        } else {
            fresh->next = block;
            p->blocks = fresh;
        }
        block = fresh;
    }
    unsigned char *at = (unsigned char *)block + BLOCK_HEADER + block->used;
    block->used += size;
    memset(at, 0, size);
    return at;
}

void *onnx_array(onnx_parser *p, uint64_t count, size_t size)
{
    return count > SIZE_MAX / size ? NULL : onnx_alloc(p, (size_t)count * size);
}

size_t onnx_path_push(onnx_parser *p, const char *fmt, ...)
{
    size_t mark = p->path_length;
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(p->path + mark, sizeof p->path - mark, fmt, args);
    va_end(args);
    if (n > 0)
        p->path_length = (size_t)n < sizeof p->path - mark ? mark + (size_t)n : sizeof p->path - 1;
    return mark;
}

void onnx_path_pop(onnx_parser *p, size_t mark)
{
    p->path_length = mark;
    p->path[mark] = '\0';
}

evk_status onnx_report(onnx_parser *p, evk_status status, const char *text)
{
    return evk_fail(p->ctx, status, "%s: %s%s%s", p->file, p->path, p->path_length ? ": " : "",
                    text);
}

evk_status onnx_fail(onnx_parser *p, size_t offset, const char *fmt, ...)
{
    char text[640];
    va_list args;
    va_start(args, fmt);
    vsnprintf(text, sizeof text - 32, fmt, args);
    va_end(args);
    size_t used = strlen(text);
    snprintf(text + used, sizeof text - used, " at offset %zu", offset);
    return onnx_report(p, EVK_ERROR_INVALID_ARGUMENT, text);
}

evk_status onnx_wire_failed(onnx_parser *p)
{
    return onnx_report(p, EVK_ERROR_INVALID_ARGUMENT, p->wire_error.text);
}

evk_status onnx_out_of_memory(onnx_parser *p, const char *what)
{
    char text[128];
    snprintf(text, sizeof text, "host allocation failed: %s", what);
    return onnx_report(p, EVK_ERROR_OUT_OF_HOST_MEMORY, text);
}

/* ---- Fields. */

evk_status onnx_read_varint(onnx_parser *p, evk_wire *w, uint32_t type, uint64_t *value)
{
    ONNX_WIRE(p, evk_wire_expect(w, type, EVK_WIRE_VARINT) && evk_wire_varint(w, value));
    return EVK_SUCCESS;
}

evk_status onnx_read_payload(onnx_parser *p, evk_wire *w, uint32_t type, evk_wire *payload)
{
    ONNX_WIRE(p, evk_wire_expect(w, type, EVK_WIRE_LEN) && evk_wire_len(w, payload));
    return EVK_SUCCESS;
}

evk_status onnx_copy_string(onnx_parser *p, const evk_wire *payload, const char *what,
                            const char **out)
{
    size_t length = payload->end - payload->pos;
    const unsigned char *bytes = payload->base + payload->pos;
    const unsigned char *nul = memchr(bytes, 0, length);
    if (nul)
        return onnx_fail(p, (size_t)(nul - payload->base), "%s contains a NUL byte", what);
    char *copy = onnx_alloc(p, length + 1);
    if (!copy)
        return onnx_out_of_memory(p, what);
    memcpy(copy, bytes, length);
    *out = copy;
    return EVK_SUCCESS;
}

evk_status onnx_read_string(onnx_parser *p, evk_wire *w, uint32_t type, const char *what,
                            const char **out)
{
    evk_wire payload;
    ONNX_TRY(onnx_read_payload(p, w, type, &payload));
    return onnx_copy_string(p, &payload, what, out);
}

evk_status onnx_find_string(onnx_parser *p, evk_wire w, uint32_t field, const char *what,
                            const char **out)
{
    *out = "";
    while (evk_wire_more(&w)) {
        uint32_t f, type;
        ONNX_WIRE(p, evk_wire_tag(&w, &f, &type));
        if (f == field)
            ONNX_TRY(onnx_read_string(p, &w, type, what, out));
        else
            ONNX_WIRE(p, evk_wire_skip(&w, type));
    }
    return EVK_SUCCESS;
}

evk_status onnx_count_values(onnx_parser *p, evk_wire *w, uint32_t type, uint32_t scalar,
                             uint64_t *count)
{
    evk_wire_scalars values;
    uint64_t n;
    ONNX_WIRE(
        p, evk_wire_scalars_begin(w, type, scalar, &values) && evk_wire_scalars_count(&values, &n));
    *count = evk_add_sat(*count, n);
    return EVK_SUCCESS;
}

evk_status onnx_check_count(onnx_parser *p, size_t at, uint64_t count, const char *what,
                            uint32_t *out)
{
    if (count > UINT32_MAX)
        return onnx_fail(p, at, "%llu %s, more than 2^32 - 1", (unsigned long long)count, what);
    *out = (uint32_t)count;
    return EVK_SUCCESS;
}
