/* POSIX names (realpath, pread) under -std=c11; must precede every include. */
#if !defined(_XOPEN_SOURCE)
#    define _XOPEN_SOURCE 700
#endif

#include "model/onnx_parse.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "failure.h"
#include "file_io.h"
#include "half_float.h"
#include "host_memory.h"
#include "saturating.h"

#define MAX_COUNT ((uint64_t)1 << 40)

typedef struct tensor_scan {
    uint64_t values[TENSOR_UINT64_DATA + 1]; /* per typed field: float_data ... uint64_data */
    evk_wire raw;
    int has_raw;
    uint64_t location;                  /* data_location: 0 DEFAULT, 1 EXTERNAL */
    const char *file, *offset, *length; /* external_data's */
} tensor_scan;

/* Where a tensor's values go while they are converted. */
typedef struct sink {
    const evk_onnx_tensor *t;
    float *floats;
    int64_t *ints;
} sink;

static const uint32_t typed_fields[] = {TENSOR_FLOAT_DATA, TENSOR_INT32_DATA,  TENSOR_STRING_DATA,
                                        TENSOR_INT64_DATA, TENSOR_DOUBLE_DATA, TENSOR_UINT64_DATA};

static const char *typed_field_name(uint32_t field)
{
    switch (field) {
    case TENSOR_FLOAT_DATA:
        return "float_data";
    case TENSOR_INT32_DATA:
        return "int32_data";
    case TENSOR_STRING_DATA:
        return "string_data";
    case TENSOR_INT64_DATA:
        return "int64_data";
    case TENSOR_DOUBLE_DATA:
        return "double_data";
    default:
        return "uint64_data";
    }
}

/* Bytes per value in raw_data of the types converted at parse; 0 for the rest. */
static unsigned raw_size(int32_t type)
{
    switch (type) {
    case EVK_ONNX_UINT8:
    case EVK_ONNX_INT8:
    case EVK_ONNX_BOOL:
        return 1;
    case EVK_ONNX_UINT16:
    case EVK_ONNX_INT16:
    case EVK_ONNX_FLOAT16:
    case EVK_ONNX_BFLOAT16:
        return 2;
    case EVK_ONNX_FLOAT:
    case EVK_ONNX_INT32:
        return 4;
    case EVK_ONNX_INT64:
    case EVK_ONNX_DOUBLE:
        return 8;
    default:
        return 0;
    }
}

static int is_floating(int32_t type)
{
    return type == EVK_ONNX_FLOAT || type == EVK_ONNX_FLOAT16 || type == EVK_ONNX_BFLOAT16 ||
        type == EVK_ONNX_DOUBLE;
}

/* The typed field of a converted type: int32_data holds the narrow integers
 * and the 16-bit floats' bit patterns. */
static uint32_t typed_field(int32_t type)
{
    return type == EVK_ONNX_FLOAT ? TENSOR_FLOAT_DATA
        : type == EVK_ONNX_DOUBLE ? TENSOR_DOUBLE_DATA
        : type == EVK_ONNX_INT64  ? TENSOR_INT64_DATA
                                  : TENSOR_INT32_DATA;
}

/* Value `i`: `v` holds a floating type's bits or an integer type's value
 * (two's complement). */
static evk_status store(onnx_parser *p, const sink *k, uint64_t i, uint64_t v, size_t at)
{
    int32_t type = k->t->data_type;
    if (type == EVK_ONNX_FLOAT) {
        uint32_t bits = (uint32_t)v;
        memcpy(&k->floats[i], &bits, sizeof bits);
    } else if (type == EVK_ONNX_FLOAT16) {
        k->floats[i] = evk_f16_to_f32((uint16_t)v);
    } else if (type == EVK_ONNX_BFLOAT16) {
        k->floats[i] = evk_bf16_to_f32((uint16_t)v);
    } else if (type == EVK_ONNX_DOUBLE) {
        double d;
        memcpy(&d, &v, sizeof d);
        if (isfinite(d) && (d > FLT_MAX || d < -FLT_MAX))
            return onnx_fail(p, at, "DOUBLE value %g at index %llu does not fit in a float", d,
                             (unsigned long long)i);
        k->floats[i] = (float)d;
    } else {
        int64_t value = (int64_t)v;
        int64_t lo = INT64_MIN, hi = INT64_MAX;
        switch (type) {
        case EVK_ONNX_INT8:
            lo = INT8_MIN;
            hi = INT8_MAX;
            break;
        case EVK_ONNX_UINT8:
            lo = 0;
            hi = UINT8_MAX;
            break;
        case EVK_ONNX_INT16:
            lo = INT16_MIN;
            hi = INT16_MAX;
            break;
        case EVK_ONNX_UINT16:
            lo = 0;
            hi = UINT16_MAX;
            break;
        case EVK_ONNX_INT32:
            lo = INT32_MIN;
            hi = INT32_MAX;
            break;
        case EVK_ONNX_BOOL:
            lo = 0;
            hi = 1;
            break;
        }
        if (value < lo || value > hi)
            return onnx_fail(p, at, "value %lld at index %llu is out of range for %s",
                             (long long)value, (unsigned long long)i, evk_onnx_type_name(type));
        k->ints[i] = value;
    }
    return EVK_SUCCESS;
}

/* Little-endian values of raw_size bytes each; `stride` 0 reports every
 * value at `at` (external data, whose offsets are in another file). */
static evk_status decode_raw(onnx_parser *p, const sink *k, const unsigned char *bytes, size_t at,
                             size_t stride)
{
    int32_t type = k->t->data_type;
    unsigned size = raw_size(type);
    int sign = type == EVK_ONNX_INT8 || type == EVK_ONNX_INT16 || type == EVK_ONNX_INT32;
    for (uint64_t i = 0; i < k->t->count; ++i, bytes += size) {
        uint64_t v = 0;
        for (unsigned b = 0; b < size; ++b)
            v |= (uint64_t)bytes[b] << (8 * b);
        if (sign) {
            uint64_t top = (uint64_t)1 << (8 * size - 1);
            v = (v ^ top) - top;
        }
        ONNX_TRY(store(p, k, i, v, at + (size_t)i * stride));
    }
    return EVK_SUCCESS;
}

static evk_status fill_typed(onnx_parser *p, evk_wire w, uint32_t field, const sink *k)
{
    uint32_t scalar = field == TENSOR_FLOAT_DATA ? EVK_WIRE_I32
        : field == TENSOR_DOUBLE_DATA            ? EVK_WIRE_I64
                                                 : EVK_WIRE_VARINT;
    int int32 = field == TENSOR_INT32_DATA;
    int bit_patterns = int32 && is_floating(k->t->data_type);
    uint64_t i = 0;
    while (evk_wire_more(&w)) {
        uint32_t f, type;
        ONNX_WIRE(p, evk_wire_tag(&w, &f, &type));
        if (f != field) {
            ONNX_WIRE(p, evk_wire_skip(&w, type));
            continue;
        }
        evk_wire_scalars values;
        ONNX_WIRE(p, evk_wire_scalars_begin(&w, type, scalar, &values));
        while (evk_wire_more(&values.run) && i < k->t->count) {
            size_t at = values.run.pos;
            uint64_t v;
            ONNX_WIRE(p, evk_wire_scalars_next(&values, &v));
            if (int32) {
                /* An int32 varint is its low 32 bits, as protobuf reads it. */
                int64_t x = (int32_t)(uint32_t)v;
                if (bit_patterns && (x < 0 || x > UINT16_MAX))
                    return onnx_fail(p, at,
                                     "int32_data value %lld at index %llu is not a 16-bit "
                                     "pattern",
                                     (long long)x, (unsigned long long)i);
                v = (uint64_t)x;
            }
            ONNX_TRY(store(p, k, i++, v, at));
        }
    }
    return EVK_SUCCESS;
}

static evk_status parse_decimal(onnx_parser *p, size_t at, const char *key, const char *text,
                                uint64_t *value)
{
    uint64_t v = 0;
    size_t digits = strspn(text, "0123456789");
    if (!digits || text[digits] || digits > 19)
        return onnx_fail(p, at, "external_data %s '%.40s' is not a byte count", key, text);
    for (size_t i = 0; i < digits; ++i)
        v = v * 10 + (uint64_t)(text[i] - '0');
    *value = v;
    return EVK_SUCCESS;
}

/* The external file's real path (free() it), which must lie inside the
 * folder: no absolute path, no "..", and no link that leads out. */
static evk_status external_path(onnx_parser *p, size_t at, const char *location, char **out)
{
    *out = NULL;
    if (!location || !location[0])
        return onnx_fail(p, at, "data_location is EXTERNAL but external_data has no location");
    if (!p->folder)
        return onnx_fail(p, at,
                         "its data is in the file '%.200s': external data needs a model "
                         "file (a model in memory has no folder)",
                         location);
    if (location[0] == '/')
        return onnx_fail(p, at, "external data location '%.200s' is an absolute path", location);
    for (const char *c = location; *c;) {
        size_t n = strcspn(c, "/");
        if (n == 2 && c[0] == '.' && c[1] == '.')
            return onnx_fail(p, at, "external data location '%.200s' leaves the model's folder",
                             location);
        c += n + (c[n] == '/');
    }
    size_t folder_length = strlen(p->folder), location_length = strlen(location);
    char *joined = evk_alloc(p->ctx, folder_length + location_length + 2);
    if (!joined)
        return onnx_out_of_memory(p, "external data path");
    memcpy(joined, p->folder, folder_length);
    joined[folder_length] = '/';
    memcpy(joined + folder_length + 1, location, location_length + 1);
    char text[EVK_ERROR_MESSAGE_BYTES];
    evk_status status = EVK_SUCCESS;
    char *folder = realpath(p->folder, NULL);
    char *file = folder ? realpath(joined, NULL) : NULL;
    if (!file) {
        snprintf(text, sizeof text, "external data: cannot resolve '%.400s': %s",
                 folder ? joined : p->folder, strerror(errno));
        status = onnx_report(p, EVK_ERROR_IO, text);
    } else {
        size_t n = strlen(folder);
        int inside = strncmp(file, folder, n) == 0 &&
            (folder[n - 1] == '/' ? file[n] != '\0' : file[n] == '/');
        if (!inside)
            status = onnx_fail(p, at,
                               "external data location '%.200s' resolves to '%.200s', outside "
                               "the model's folder",
                               location, file);
    }
    evk_free(p->ctx, joined);
    free(folder);
    if (status != EVK_SUCCESS) {
        free(file);
        return status;
    }
    *out = file;
    return EVK_SUCCESS;
}

static evk_status read_exactly(onnx_parser *p, int fd, const char *path, unsigned char *bytes,
                               uint64_t size, uint64_t offset)
{
    for (uint64_t done = 0; done < size;) {
        ssize_t n = pread(fd, bytes + done, (size_t)(size - done), (off_t)(offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            char text[EVK_ERROR_MESSAGE_BYTES];
            snprintf(text, sizeof text, "external data: cannot read '%.400s': %s", path,
                     n < 0 ? strerror(errno) : "the file is shorter than it was");
            return onnx_report(p, EVK_ERROR_IO, text);
        }
        done += (uint64_t)n;
    }
    return EVK_SUCCESS;
}

/* The tensor's arrays, allocated only once its values are known to be
 * there: a few bytes of dims must not claim gigabytes. */
static evk_status alloc_values(onnx_parser *p, evk_onnx_tensor *t, sink *k)
{
    *k = (sink){t, NULL, NULL};
    if (is_floating(t->data_type))
        t->floats = k->floats = onnx_array(p, t->count, sizeof *k->floats);
    else
        t->ints = k->ints = onnx_array(p, t->count, sizeof *k->ints);
    return k->floats || k->ints ? EVK_SUCCESS : onnx_out_of_memory(p, "tensor values");
}

static evk_status load_external(onnx_parser *p, size_t at, const tensor_scan *s, evk_onnx_tensor *t,
                                uint64_t need)
{
    uint64_t offset = 0, length = 0;
    if (s->offset)
        ONNX_TRY(parse_decimal(p, at, "offset", s->offset, &offset));
    if (s->length)
        ONNX_TRY(parse_decimal(p, at, "length", s->length, &length));
    char *path;
    ONNX_TRY(external_path(p, at, s->file, &path));
    int fd;
    uint64_t size;
    evk_status status = evk_file_open_read(p->ctx, path, &fd, &size);
    if (status != EVK_SUCCESS) {
        /* Its message names the path; ours adds the model and the tensor. */
        char text[EVK_ERROR_MESSAGE_BYTES];
        const char *why = evk_last_error(p->ctx), *name = evk_status_string(status);
        size_t skip = strncmp(why, name, strlen(name)) == 0 ? strlen(name) + 2 : 0;
        snprintf(text, sizeof text, "external data: %s", why + (strlen(why) >= skip ? skip : 0));
        free(path);
        return onnx_report(p, status, text);
    }
    if (!s->length)
        length = offset <= size ? size - offset : 0;
    unsigned char *bytes = NULL;
    if (offset > size || length > size - offset)
        status = onnx_fail(p, at,
                           "external data offset %llu and length %llu lie outside '%.200s' "
                           "(%llu bytes)",
                           (unsigned long long)offset, (unsigned long long)length, path,
                           (unsigned long long)size);
    else if (length != need)
        status = onnx_fail(p, at, "external data holds %llu bytes, %llu %s values need %llu",
                           (unsigned long long)length, (unsigned long long)t->count,
                           evk_onnx_type_name(t->data_type), (unsigned long long)need);
    else if (need > SIZE_MAX || !(bytes = evk_alloc(p->ctx, need ? (size_t)need : 1)))
        status = onnx_out_of_memory(p, "external data");
    else
        status = read_exactly(p, fd, path, bytes, need, offset);
    close(fd);
    free(path);
    sink k;
    if (status == EVK_SUCCESS)
        status = alloc_values(p, t, &k);
    if (status == EVK_SUCCESS)
        status = decode_raw(p, &k, bytes, at, 0);
    evk_free(p->ctx, bytes);
    return status;
}

static evk_status scan_external(onnx_parser *p, evk_wire *w, uint32_t type, tensor_scan *s)
{
    evk_wire entry;
    ONNX_TRY(onnx_read_payload(p, w, type, &entry));
    const char *key = "", *value = "";
    while (evk_wire_more(&entry)) {
        uint32_t field, t;
        ONNX_WIRE(p, evk_wire_tag(&entry, &field, &t));
        if (field == ENTRY_KEY)
            ONNX_TRY(onnx_read_string(p, &entry, t, "external_data key", &key));
        else if (field == ENTRY_VALUE)
            ONNX_TRY(onnx_read_string(p, &entry, t, "external_data value", &value));
        else
            ONNX_WIRE(p, evk_wire_skip(&entry, t));
    }
    if (strcmp(key, "location") == 0)
        s->file = value;
    else if (strcmp(key, "offset") == 0)
        s->offset = value;
    else if (strcmp(key, "length") == 0)
        s->length = value;
    return EVK_SUCCESS;
}

static evk_status read_dims(onnx_parser *p, evk_wire *w, uint32_t type, evk_onnx_tensor *t)
{
    size_t at = w->field_start;
    evk_wire_scalars values;
    ONNX_WIRE(p, evk_wire_scalars_begin(w, type, EVK_WIRE_VARINT, &values));
    while (evk_wire_more(&values.run)) {
        uint64_t v;
        ONNX_WIRE(p, evk_wire_scalars_next(&values, &v));
        if (t->rank == EVK_ONNX_MAX_DIMS)
            return onnx_fail(p, at, "more than %d dims", EVK_ONNX_MAX_DIMS);
        if ((int64_t)v < 0)
            return onnx_fail(p, at, "dimension %u is negative (%lld)", t->rank,
                             (long long)(int64_t)v);
        t->dims[t->rank++] = (int64_t)v;
    }
    return EVK_SUCCESS;
}

static evk_status scan_tensor(onnx_parser *p, evk_wire w, evk_onnx_tensor *t, tensor_scan *s)
{
    while (evk_wire_more(&w)) {
        uint32_t field, type;
        uint64_t v;
        evk_wire payload;
        ONNX_WIRE(p, evk_wire_tag(&w, &field, &type));
        switch (field) {
        case TENSOR_DIMS:
            ONNX_TRY(read_dims(p, &w, type, t));
            break;
        case TENSOR_DATA_TYPE:
            ONNX_TRY(onnx_read_varint(p, &w, type, &v));
            t->data_type = (int32_t)(uint32_t)v;
            break;
        case TENSOR_SEGMENT:
            return onnx_fail(p, w.field_start, "segmented tensors are not supported");
        case TENSOR_FLOAT_DATA:
            ONNX_TRY(onnx_count_values(p, &w, type, EVK_WIRE_I32, &s->values[field]));
            break;
        case TENSOR_INT32_DATA:
        case TENSOR_INT64_DATA:
        case TENSOR_UINT64_DATA:
            ONNX_TRY(onnx_count_values(p, &w, type, EVK_WIRE_VARINT, &s->values[field]));
            break;
        case TENSOR_DOUBLE_DATA:
            ONNX_TRY(onnx_count_values(p, &w, type, EVK_WIRE_I64, &s->values[field]));
            break;
        case TENSOR_STRING_DATA:
            ONNX_TRY(onnx_read_payload(p, &w, type, &payload));
            ++s->values[field];
            break;
        case TENSOR_RAW_DATA:
            ONNX_TRY(onnx_read_payload(p, &w, type, &s->raw));
            s->has_raw = 1;
            break;
        case TENSOR_EXTERNAL_DATA:
            ONNX_TRY(scan_external(p, &w, type, s));
            break;
        case TENSOR_DATA_LOCATION:
            ONNX_TRY(onnx_read_varint(p, &w, type, &s->location));
            break;
        default:
            ONNX_WIRE(p, evk_wire_skip(&w, type));
            break;
        }
    }
    return EVK_SUCCESS;
}

/* The values of a type converted at parse, from wherever the tensor has them. */
static evk_status load_values(onnx_parser *p, evk_wire msg, evk_onnx_tensor *t,
                              const tensor_scan *s)
{
    const char *type = evk_onnx_type_name(t->data_type);
    uint32_t expected = typed_field(t->data_type);
    uint64_t typed = s->values[expected];
    for (size_t f = 0; f < sizeof typed_fields / sizeof typed_fields[0]; ++f)
        if (s->values[typed_fields[f]] && typed_fields[f] != expected)
            return onnx_fail(
                p, msg.pos, "%s holds %llu values, but %s values come in %s or raw_data",
                typed_field_name(typed_fields[f]), (unsigned long long)s->values[typed_fields[f]],
                type, typed_field_name(expected));
    if (s->has_raw + (typed > 0) + (s->location == 1) > 1)
        return onnx_fail(p, msg.pos, "its values are given twice (raw_data, %s, external data)",
                         typed_field_name(expected));
    uint64_t need = t->count * raw_size(t->data_type);
    if (s->has_raw && s->raw.end - s->raw.pos != need)
        return onnx_fail(p, s->raw.pos, "raw_data holds %zu bytes, %llu %s values need %llu",
                         s->raw.end - s->raw.pos, (unsigned long long)t->count, type,
                         (unsigned long long)need);
    if (!s->has_raw && s->location != 1 && typed != t->count)
        return typed ? onnx_fail(p, msg.pos, "%s holds %llu values, its dims need %llu",
                                 typed_field_name(expected), (unsigned long long)typed,
                                 (unsigned long long)t->count)
                     : onnx_fail(p, msg.pos,
                                 "no values (raw_data, %s or external data) for its %llu "
                                 "elements",
                                 typed_field_name(expected), (unsigned long long)t->count);
    if (s->location == 1)
        return load_external(p, msg.pos, s, t, need);
    sink k;
    ONNX_TRY(alloc_values(p, t, &k));
    if (s->has_raw)
        return decode_raw(p, &k, s->raw.base + s->raw.pos, s->raw.pos, raw_size(t->data_type));
    return fill_typed(p, msg, expected, &k);
}

evk_status onnx_parse_tensor_message(onnx_parser *p, evk_wire msg, evk_onnx_tensor *t)
{
    ONNX_TRY(onnx_find_string(p, msg, TENSOR_NAME, "the tensor's name", &t->name));
    size_t mark = t->name[0] ? onnx_path_push(p, " '%.80s'", t->name) : p->path_length;
    tensor_scan s = {0};
    ONNX_TRY(scan_tensor(p, msg, t, &s));
    t->count = 1;
    for (uint32_t d = 0; d < t->rank; ++d)
        t->count = evk_mul_sat(t->count, (uint64_t)t->dims[d]);
    if (t->count > MAX_COUNT)
        return onnx_fail(p, msg.pos, "its dims hold more than 2^40 elements");
    if (s.location > 1)
        return onnx_fail(p, msg.pos, "data_location %llu is neither DEFAULT (0) nor EXTERNAL (1)",
                         (unsigned long long)s.location);
    if (raw_size(t->data_type))
        ONNX_TRY(load_values(p, msg, t, &s));
    onnx_path_pop(p, mark);
    return EVK_SUCCESS;
}
