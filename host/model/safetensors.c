/* POSIX names (mmap, close) under -std=c11; must precede every include. */
#if !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/mman.h>
#include <unistd.h>

#include "context.h"
#include "file_io.h"
#include "half_float.h"
#include "model/json.h"
#include "model/safetensors.h"

typedef struct st_tensor {
    const char *name;
    evk_safetensors_dtype dtype;
    uint32_t rank;
    uint64_t shape[EVK_SAFETENSORS_MAX_RANK];
    uint64_t element_count;
    uint64_t begin, end;            /* within the data section */
} st_tensor;

typedef struct st_metadata {
    const char *key;
    const char *value;
} st_metadata;

typedef enum st_storage { ST_BORROWED, ST_MAPPED, ST_OWNED } st_storage;

struct evk_safetensors {
    evk_context *ctx;
    evk_allocator allocator;
    char *name;
    const unsigned char *bytes;
    size_t size;
    st_storage storage;
    const unsigned char *data;
    uint64_t data_size;
    st_tensor *tensors;             /* sorted by name */
    size_t tensor_count;
    st_metadata *metadata;
    size_t metadata_count;
    char *strings;                  /* names, keys and values, from the JSON */
};

typedef struct st_dtype_desc {
    const char *name;
    evk_safetensors_dtype dtype;
    uint32_t size;
} st_dtype_desc;

static const st_dtype_desc dtypes[] = {
    {"F32", EVK_ST_F32, 4},         {"F16", EVK_ST_F16, 2},         {"BF16", EVK_ST_BF16, 2},
    {"F64", EVK_ST_F64, 8},         {"I64", EVK_ST_I64, 8},         {"I32", EVK_ST_I32, 4},
    {"I16", EVK_ST_I16, 2},         {"I8", EVK_ST_I8, 1},           {"U64", EVK_ST_U64, 8},
    {"U32", EVK_ST_U32, 4},         {"U16", EVK_ST_U16, 2},         {"U8", EVK_ST_U8, 1},
    {"BOOL", EVK_ST_BOOL, 1},       {"F8_E4M3", EVK_ST_F8_E4M3, 1}, {"F8_E5M2", EVK_ST_F8_E5M2, 1},
    {"F8_E8M0", EVK_ST_F8_E8M0, 1}, {"C64", EVK_ST_C64, 8},
};

static const st_dtype_desc *dtype_by_name(const char *name)
{
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; ++i)
        if (strcmp(dtypes[i].name, name) == 0)
            return &dtypes[i];
    return NULL;
}

static const st_dtype_desc *dtype_desc(evk_safetensors_dtype dtype)
{
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; ++i)
        if (dtypes[i].dtype == dtype)
            return &dtypes[i];
    return NULL;
}

static void format_shape(const st_tensor *t, char *out, size_t size)
{
    int used = snprintf(out, size, "[");
    for (uint32_t d = 0; d < t->rank && used > 0 && (size_t)used < size; ++d)
        used += snprintf(out + used, size - (size_t)used, d ? ", %llu" : "%llu",
                         (unsigned long long)t->shape[d]);
    if (used > 0 && (size_t)used < size)
        snprintf(out + used, size - (size_t)used, "]");
}

static evk_status out_of_memory(evk_safetensors *st, const char *what)
{
    return evk_fail(st->ctx, EVK_ERROR_OUT_OF_HOST_MEMORY, "%s: host allocation failed: %s",
                    st->name, what);
}

/* ---- Tensor descriptions. */

static evk_status parse_shape(evk_safetensors *st, const evk_json_doc *doc, uint32_t node,
                              st_tensor *t)
{
    const evk_json_node *shape = &doc->nodes[node];
    if (shape->type != EVK_JSON_ARRAY)
        return evk_fail(st->ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "%s: tensor '%s': shape is not an array", st->name, t->name);
    if (shape->child_count > EVK_SAFETENSORS_MAX_RANK)
        return evk_fail(st->ctx, EVK_ERROR_LIMIT_EXCEEDED,
                        "%s: tensor '%s': rank %u exceeds the limit of %d", st->name, t->name,
                        shape->child_count, EVK_SAFETENSORS_MAX_RANK);
    t->rank = shape->child_count;
    t->element_count = 1;
    uint32_t d = 0;
    for (uint32_t dim = shape->first_child; dim; dim = doc->nodes[dim].next, ++d) {
        const evk_json_node *n = &doc->nodes[dim];
        if (n->type != EVK_JSON_INTEGER || n->integer < 0)
            return evk_fail(st->ctx, EVK_ERROR_INVALID_ARGUMENT,
                            "%s: tensor '%s': shape dimension %u is not a non-negative integer",
                            st->name, t->name, d);
        t->shape[d] = (uint64_t)n->integer;
        if (t->shape[d] && t->element_count > UINT64_MAX / t->shape[d])
            return evk_fail(st->ctx, EVK_ERROR_INVALID_ARGUMENT,
                            "%s: tensor '%s': element count of the shape overflows 64 bits",
                            st->name, t->name);
        t->element_count *= t->shape[d];
    }
    return EVK_SUCCESS;
}

static evk_status parse_offsets(evk_safetensors *st, const evk_json_doc *doc, uint32_t node,
                                st_tensor *t)
{
    const evk_json_node *offsets = &doc->nodes[node];
    const evk_json_node *begin =
        offsets->child_count == 2 ? &doc->nodes[offsets->first_child] : NULL;
    const evk_json_node *end = begin ? &doc->nodes[begin->next] : NULL;
    if (offsets->type != EVK_JSON_ARRAY || !begin || begin->type != EVK_JSON_INTEGER ||
        end->type != EVK_JSON_INTEGER || begin->integer < 0 || end->integer < 0)
        return evk_fail(st->ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "%s: tensor '%s': data_offsets is not an array of two non-negative "
                        "integers", st->name, t->name);
    t->begin = (uint64_t)begin->integer;
    t->end = (uint64_t)end->integer;
    if (t->begin > t->end || t->end > st->data_size)
        return evk_fail(st->ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "%s: tensor '%s': data_offsets [%llu, %llu] out of range: the data "
                        "section holds %llu bytes", st->name, t->name,
                        (unsigned long long)t->begin, (unsigned long long)t->end,
                        (unsigned long long)st->data_size);
    uint64_t element_size = dtype_desc(t->dtype)->size;
    if (t->element_count > UINT64_MAX / element_size ||
        t->end - t->begin != t->element_count * element_size) {
        char shape[256];
        format_shape(t, shape, sizeof shape);
        return evk_fail(st->ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "%s: tensor '%s': data_offsets [%llu, %llu] hold %llu bytes, shape %s "
                        "of %s needs %llu elements of %llu bytes", st->name, t->name,
                        (unsigned long long)t->begin, (unsigned long long)t->end,
                        (unsigned long long)(t->end - t->begin), shape,
                        dtype_desc(t->dtype)->name, (unsigned long long)t->element_count,
                        (unsigned long long)element_size);
    }
    return EVK_SUCCESS;
}

static evk_status parse_dtype(evk_safetensors *st, const evk_json_node *node, st_tensor *t)
{
    if (node->type != EVK_JSON_STRING)
        return evk_fail(st->ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "%s: tensor '%s': dtype is not a string", st->name, t->name);
    const st_dtype_desc *desc = dtype_by_name(node->string);
    if (!desc)
        return evk_fail(st->ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "%s: tensor '%s': unknown dtype '%.40s'", st->name, t->name, node->string);
    t->dtype = desc->dtype;
    return EVK_SUCCESS;
}

/* Exactly the three fields; dtype first, since shape and offsets are checked
 * against its size. */
static evk_status parse_tensor(evk_safetensors *st, const evk_json_doc *doc, uint32_t node,
                               st_tensor *t)
{
    t->name = doc->nodes[node].key;
    if (doc->nodes[node].type != EVK_JSON_OBJECT)
        return evk_fail(st->ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "%s: tensor '%s': description is not an object", st->name, t->name);
    uint32_t dtype = 0, shape = 0, offsets = 0;
    for (uint32_t f = doc->nodes[node].first_child; f; f = doc->nodes[f].next) {
        const char *key = doc->nodes[f].key;
        if (strcmp(key, "dtype") == 0)
            dtype = f;
        else if (strcmp(key, "shape") == 0)
            shape = f;
        else if (strcmp(key, "data_offsets") == 0)
            offsets = f;
        else
            return evk_fail(st->ctx, EVK_ERROR_INVALID_ARGUMENT,
                            "%s: tensor '%s': unknown field '%.100s'", st->name, t->name, key);
    }
    const char *missing = !dtype ? "dtype" : !shape ? "shape" : !offsets ? "data_offsets" : NULL;
    if (missing)
        return evk_fail(st->ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: tensor '%s': missing field '%s'",
                        st->name, t->name, missing);
    evk_status status = parse_dtype(st, &doc->nodes[dtype], t);
    if (status == EVK_SUCCESS)
        status = parse_shape(st, doc, shape, t);
    if (status == EVK_SUCCESS)
        status = parse_offsets(st, doc, offsets, t);
    return status;
}

static evk_status parse_metadata(evk_safetensors *st, const evk_json_doc *doc, uint32_t node)
{
    const evk_json_node *object = &doc->nodes[node];
    if (object->type != EVK_JSON_OBJECT)
        return evk_fail(st->ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "%s: key '__metadata__': not an object", st->name);
    if (object->child_count) {
        st->metadata = evk_alloc_with(&st->allocator, object->child_count * sizeof *st->metadata);
        if (!st->metadata)
            return out_of_memory(st, "metadata");
    }
    for (uint32_t m = object->first_child; m; m = doc->nodes[m].next) {
        if (doc->nodes[m].type != EVK_JSON_STRING)
            return evk_fail(st->ctx, EVK_ERROR_INVALID_ARGUMENT,
                            "%s: key '__metadata__': value of '%.100s' is not a string", st->name,
                            doc->nodes[m].key);
        st->metadata[st->metadata_count++] = (st_metadata){doc->nodes[m].key, doc->nodes[m].string};
    }
    return EVK_SUCCESS;
}

/* ---- Whole-file checks. */

static int compare_names(const void *a, const void *b)
{
    return strcmp(((const st_tensor *)a)->name, ((const st_tensor *)b)->name);
}

static int compare_offsets(const void *a, const void *b)
{
    const st_tensor *x = *(const st_tensor *const *)a, *y = *(const st_tensor *const *)b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* Empty tensors occupy no bytes and overlap nothing. */
static evk_status reject_overlaps(evk_safetensors *st)
{
    if (st->tensor_count < 2)
        return EVK_SUCCESS;
    const st_tensor **by_offset =
        evk_alloc_with(&st->allocator, st->tensor_count * sizeof *by_offset);
    if (!by_offset)
        return out_of_memory(st, "overlap check");
    for (size_t i = 0; i < st->tensor_count; ++i)
        by_offset[i] = &st->tensors[i];
    qsort(by_offset, st->tensor_count, sizeof *by_offset, compare_offsets);
    evk_status status = EVK_SUCCESS;
    const st_tensor *previous = NULL;
    for (size_t i = 0; i < st->tensor_count && status == EVK_SUCCESS; ++i) {
        const st_tensor *t = by_offset[i];
        if (t->begin == t->end)
            continue;
        if (previous && t->begin < previous->end)
            status = evk_fail(st->ctx, EVK_ERROR_INVALID_ARGUMENT,
                              "%s: tensor '%s': data_offsets [%llu, %llu] overlap tensor '%s' at "
                              "[%llu, %llu]", st->name, t->name, (unsigned long long)t->begin,
                              (unsigned long long)t->end, previous->name,
                              (unsigned long long)previous->begin,
                              (unsigned long long)previous->end);
        previous = t;
    }
    evk_free_with(&st->allocator, by_offset);
    return status;
}

static evk_status parse_header_object(evk_safetensors *st, const evk_json_doc *doc)
{
    const evk_json_node *root = &doc->nodes[0];
    if (root->type != EVK_JSON_OBJECT)
        return evk_fail(st->ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: header is not a JSON object",
                        st->name);
    if (root->child_count) {
        st->tensors = evk_alloc_with(&st->allocator, root->child_count * sizeof *st->tensors);
        if (!st->tensors)
            return out_of_memory(st, "tensor table");
    }
    for (uint32_t m = root->first_child; m; m = doc->nodes[m].next) {
        evk_status status;
        if (strcmp(doc->nodes[m].key, "__metadata__") == 0) {
            status = parse_metadata(st, doc, m);
        } else {
            memset(&st->tensors[st->tensor_count], 0, sizeof st->tensors[0]);
            status = parse_tensor(st, doc, m, &st->tensors[st->tensor_count++]);
        }
        if (status != EVK_SUCCESS)
            return status;
    }
    if (st->tensor_count)
        qsort(st->tensors, st->tensor_count, sizeof *st->tensors, compare_names);
    return reject_overlaps(st);
}

static uint64_t read_u64_le(const unsigned char *b)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
        v = v << 8 | b[i];
    return v;
}

static evk_status parse_file(evk_safetensors *st)
{
    if (st->size == 0)
        return evk_fail(st->ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: file is empty", st->name);
    if (st->size < 8)
        return evk_fail(st->ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "%s: file is %zu bytes, too short (truncated?) for the 8-byte header "
                        "length", st->name, st->size);
    uint64_t header = read_u64_le(st->bytes);
    if (header > EVK_SAFETENSORS_MAX_HEADER_BYTES)
        return evk_fail(st->ctx, EVK_ERROR_LIMIT_EXCEEDED,
                        "%s: header length %llu exceeds the limit of %u bytes", st->name,
                        (unsigned long long)header, EVK_SAFETENSORS_MAX_HEADER_BYTES);
    if (header > st->size - 8)
        return evk_fail(st->ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "%s: header length %llu runs past the end of the file (%zu bytes): "
                        "truncated or not a safetensors file", st->name,
                        (unsigned long long)header, st->size);
    st->data = st->bytes + 8 + header;
    st->data_size = st->size - 8 - header;
    evk_json_doc doc;
    char error[EVK_JSON_ERROR_BYTES];
    evk_status status =
        evk_json_parse(&st->allocator, (const char *)st->bytes + 8, (size_t)header, &doc, error);
    if (status != EVK_SUCCESS)
        return evk_fail(st->ctx, status, "%s: header JSON %s", st->name, error);
    st->strings = doc.strings;
    status = parse_header_object(st, &doc);
    evk_json_free_nodes(&st->allocator, &doc);
    return status;
}

/* ---- Handles. */

static evk_status create_handle(evk_context *ctx, const char *name, evk_safetensors **out)
{
    const evk_allocator *allocator = ctx ? &ctx->allocator : NULL;
    evk_safetensors *st = evk_alloc_with(allocator, sizeof *st);
    size_t name_size = strlen(name) + 1;
    char *copy = evk_alloc_with(allocator, name_size);
    if (!st || !copy) {
        evk_free_with(allocator, st);
        evk_free_with(allocator, copy);
        return evk_fail(ctx, EVK_ERROR_OUT_OF_HOST_MEMORY, "%s: host allocation failed: handle",
                        name);
    }
    memset(st, 0, sizeof *st);
    st->ctx = ctx;
    if (allocator)
        st->allocator = *allocator;
    memcpy(copy, name, name_size);
    st->name = copy;
    *out = st;
    return EVK_SUCCESS;
}

static evk_status finish_open(evk_safetensors *st, evk_safetensors **out)
{
    evk_status status = parse_file(st);
    if (status != EVK_SUCCESS) {
        evk_safetensors_close(st);
        return status;
    }
    *out = st;
    return EVK_SUCCESS;
}

evk_status evk_safetensors_open_memory(evk_context *ctx, const char *name, const void *bytes,
                                       size_t size, evk_safetensors **out)
{
    if (out)
        *out = NULL;
    if (!out || !name || (!bytes && size))
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "evk_safetensors_open_memory: out, name or bytes is NULL");
    evk_safetensors *st;
    evk_status status = create_handle(ctx, name, &st);
    if (status != EVK_SUCCESS)
        return status;
    st->bytes = bytes;
    st->size = size;
    return finish_open(st, out);
}

/* Maps the file, or reads it into memory where it cannot be mapped. */
static evk_status load_file(evk_safetensors *st, const char *path)
{
    int fd;
    uint64_t size;
    evk_status status = evk_file_open_read(st->ctx, path, &fd, &size);
    if (status != EVK_SUCCESS)
        return status;
    if (size > SIZE_MAX) {
        close(fd);
        return evk_fail(st->ctx, EVK_ERROR_LIMIT_EXCEEDED,
                        "%s: file too large for the address space", path);
    }
    if (size == 0) {
        close(fd);
        return EVK_SUCCESS;
    }
    void *bytes = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (bytes != MAP_FAILED) {
        st->bytes = bytes;
        st->size = (size_t)size;
        st->storage = ST_MAPPED;
        return EVK_SUCCESS;
    }
    void *copy;
    size_t copied;
    status = evk_file_read_all(st->ctx, path, SIZE_MAX, &copy, &copied);
    if (status != EVK_SUCCESS)
        return status;
    st->bytes = copy;
    st->size = copied;
    st->storage = ST_OWNED;
    return EVK_SUCCESS;
}

evk_status evk_safetensors_open(evk_context *ctx, const char *path, evk_safetensors **out)
{
    if (out)
        *out = NULL;
    if (!out || !path)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "evk_safetensors_open: out or path is NULL");
    evk_safetensors *st;
    evk_status status = create_handle(ctx, path, &st);
    if (status != EVK_SUCCESS)
        return status;
    status = load_file(st, path);
    if (status != EVK_SUCCESS) {
        evk_safetensors_close(st);
        return status;
    }
    return finish_open(st, out);
}

void evk_safetensors_close(evk_safetensors *st)
{
    if (!st)
        return;
    evk_allocator allocator = st->allocator;
    if (st->storage == ST_MAPPED)
        munmap((void *)st->bytes, st->size);
    if (st->storage == ST_OWNED)
        evk_free_with(&allocator, (void *)st->bytes);
    evk_free_with(&allocator, st->tensors);
    evk_free_with(&allocator, st->metadata);
    evk_free_with(&allocator, st->strings);
    evk_free_with(&allocator, st->name);
    evk_free_with(&allocator, st);
}

/* ---- Queries. */

size_t evk_safetensors_count(const evk_safetensors *st)
{
    return st ? st->tensor_count : 0;
}

const char *evk_safetensors_name(const evk_safetensors *st, size_t index)
{
    return st && index < st->tensor_count ? st->tensors[index].name : NULL;
}

static const st_tensor *find_tensor(const evk_safetensors *st, const char *name)
{
    st_tensor key = {.name = name};
    return bsearch(&key, st->tensors, st->tensor_count, sizeof *st->tensors, compare_names);
}

static evk_status lookup(const evk_safetensors *st, const char *name, const st_tensor **out)
{
    if (!st || !name)
        return evk_fail(st ? st->ctx : NULL, EVK_ERROR_INVALID_ARGUMENT,
                        "safetensors: file or tensor name is NULL");
    *out = st->tensor_count ? find_tensor(st, name) : NULL;
    if (!*out)
        return evk_fail(st->ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: no tensor named '%s'", st->name,
                        name);
    return EVK_SUCCESS;
}

evk_status evk_safetensors_find(const evk_safetensors *st, const char *name,
                                evk_safetensors_info *info)
{
    const st_tensor *t;
    evk_status status = lookup(st, name, &t);
    if (status != EVK_SUCCESS)
        return status;
    if (!info)
        return evk_fail(st->ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: tensor '%s': info is NULL",
                        st->name, name);
    memset(info, 0, sizeof *info);
    info->name = t->name;
    info->dtype = t->dtype;
    info->dtype_name = dtype_desc(t->dtype)->name;
    info->rank = t->rank;
    memcpy(info->shape, t->shape, sizeof info->shape);
    info->element_count = t->element_count;
    info->byte_size = t->end - t->begin;
    info->data = st->data + t->begin;
    return EVK_SUCCESS;
}

static void f32_to_f32(const unsigned char *src, float *dst, size_t count)
{
    for (size_t i = 0; i < count; ++i, src += 4) {
        uint32_t bits = (uint32_t)src[0] | (uint32_t)src[1] << 8 | (uint32_t)src[2] << 16 |
                        (uint32_t)src[3] << 24;
        memcpy(&dst[i], &bits, sizeof bits);
    }
}

static void f16_to_f32(const unsigned char *src, float *dst, size_t count)
{
    for (size_t i = 0; i < count; ++i, src += 2)
        dst[i] = evk_f16_to_f32((uint16_t)(src[0] | src[1] << 8));
}

static void bf16_to_f32(const unsigned char *src, float *dst, size_t count)
{
    for (size_t i = 0; i < count; ++i, src += 2)
        dst[i] = evk_bf16_to_f32((uint16_t)(src[0] | src[1] << 8));
}

evk_status evk_safetensors_read_f32(const evk_safetensors *st, const char *name, float *dst,
                                    size_t count)
{
    const st_tensor *t;
    evk_status status = lookup(st, name, &t);
    if (status != EVK_SUCCESS)
        return status;
    if (t->dtype != EVK_ST_F32 && t->dtype != EVK_ST_F16 && t->dtype != EVK_ST_BF16)
        return evk_fail(st->ctx, EVK_ERROR_UNSUPPORTED,
                        "%s: tensor '%s': dtype %s cannot be read as float (F32, F16 and BF16 "
                        "can)", st->name, name, dtype_desc(t->dtype)->name);
    if (count != t->element_count)
        return evk_fail(st->ctx, EVK_ERROR_SHAPE_MISMATCH,
                        "%s: tensor '%s': has %llu elements, the read asks for %zu", st->name,
                        name, (unsigned long long)t->element_count, count);
    if (!dst && count)
        return evk_fail(st->ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: tensor '%s': dst is NULL",
                        st->name, name);
    const unsigned char *src = st->data + t->begin;
    if (t->dtype == EVK_ST_F32)
        f32_to_f32(src, dst, count);
    else if (t->dtype == EVK_ST_F16)
        f16_to_f32(src, dst, count);
    else
        bf16_to_f32(src, dst, count);
    return EVK_SUCCESS;
}

const char *evk_safetensors_metadata(const evk_safetensors *st, const char *key)
{
    if (!st || !key)
        return NULL;
    for (size_t i = 0; i < st->metadata_count; ++i)
        if (strcmp(st->metadata[i].key, key) == 0)
            return st->metadata[i].value;
    return NULL;
}
