#include "model/onnx_wire.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const type_names[8] = {"varint",    "fixed64", "length-delimited", "group start",
                                          "group end", "fixed32", "type 6",           "type 7"};

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int
wire_fail(evk_wire *w, size_t offset, const char *fmt, ...)
{
    w->error->offset = offset;
    va_list args;
    va_start(args, fmt);
    vsnprintf(w->error->text, sizeof w->error->text, fmt, args);
    va_end(args);
    return 0;
}

evk_wire evk_wire_begin(const void *bytes, size_t size, evk_wire_error *error)
{
    /* No arithmetic on a null pointer, even of zero. */
    static const unsigned char empty[1];
    evk_wire w = {bytes ? (const unsigned char *)bytes : empty, 0, size, 0, 0, error};
    return w;
}

int evk_wire_varint(evk_wire *w, uint64_t *value)
{
    /* Set on failure too, so that no caller reads an indeterminate value. */
    *value = 0;
    size_t start = w->pos;
    uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
        if (w->pos >= w->end)
            return wire_fail(w, start, "a varint at offset %zu runs past the end of its message",
                             start);
        unsigned char byte = w->base[w->pos++];
        /* The 10th byte holds bit 63 alone. */
        if (shift == 63 && byte > 1)
            return wire_fail(w, start,
                             byte & 0x80 ? "a varint at offset %zu is longer than 10 bytes"
                                         : "a varint at offset %zu overflows 64 bits",
                             start);
        v |= (uint64_t)(byte & 0x7f) << shift;
        if (byte < 0x80) {
            *value = v;
            return 1;
        }
    }
}

static int fixed(evk_wire *w, unsigned bytes, uint64_t *value)
{
    *value = 0;
    if (w->end - w->pos < bytes)
        return wire_fail(w, w->pos,
                         "a %u-byte value at offset %zu runs past the end of its "
                         "message (%zu bytes left)",
                         bytes, w->pos, w->end - w->pos);
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; ++i)
        v |= (uint64_t)w->base[w->pos + i] << (8 * i);
    w->pos += bytes;
    *value = v;
    return 1;
}

int evk_wire_fixed32(evk_wire *w, uint32_t *value)
{
    uint64_t v;
    if (!fixed(w, 4, &v))
        return 0;
    *value = (uint32_t)v;
    return 1;
}

int evk_wire_fixed64(evk_wire *w, uint64_t *value)
{
    return fixed(w, 8, value);
}

int evk_wire_len(evk_wire *w, evk_wire *payload)
{
    size_t start = w->pos;
    uint64_t length;
    if (!evk_wire_varint(w, &length))
        return 0;
    if (length > w->end - w->pos)
        return wire_fail(w, start,
                         "a length of %llu bytes at offset %zu runs past the end of "
                         "its message (%zu bytes left)",
                         (unsigned long long)length, start, w->end - w->pos);
    *payload = *w;
    payload->end = w->pos + (size_t)length;
    w->pos = payload->end;
    return 1;
}

int evk_wire_skip(evk_wire *w, uint32_t type)
{
    uint64_t v;
    evk_wire payload;
    switch (type) {
    case EVK_WIRE_VARINT:
        return evk_wire_varint(w, &v);
    case EVK_WIRE_I64:
        return fixed(w, 8, &v);
    case EVK_WIRE_LEN:
        return evk_wire_len(w, &payload);
    case EVK_WIRE_I32:
        return fixed(w, 4, &v);
    default:
        return wire_fail(w, w->field_start, "field %u at offset %zu: a %s cannot be skipped",
                         w->field, w->field_start, type_names[type & 7]);
    }
}

int evk_wire_tag(evk_wire *w, uint32_t *field, uint32_t *type)
{
    size_t start = w->pos;
    uint64_t key;
    if (!evk_wire_varint(w, &key))
        return 0;
    uint64_t number = key >> 3;
    uint32_t wire_type = (uint32_t)(key & 7);
    if (number == 0 || number > 0x1fffffff)
        return wire_fail(w, start, "field number %llu at offset %zu is out of range",
                         (unsigned long long)number, start);
    w->field_start = start;
    w->field = (uint32_t)number;
    if (wire_type == 3 || wire_type == 4)
        return wire_fail(w, start, "field %u at offset %zu is a %s: groups are not supported",
                         w->field, start, type_names[wire_type]);
    if (wire_type > 5)
        return wire_fail(w, start, "field %u at offset %zu has the undefined wire %s", w->field,
                         start, type_names[wire_type]);
    *field = w->field;
    *type = wire_type;
    return 1;
}

int evk_wire_expect(evk_wire *w, uint32_t type, uint32_t expected)
{
    if (type == expected)
        return 1;
    return wire_fail(w, w->field_start, "field %u at offset %zu is %s, not %s", w->field,
                     w->field_start, type_names[type & 7], type_names[expected & 7]);
}

static size_t scalar_width(uint32_t scalar)
{
    return scalar == EVK_WIRE_I32 ? 4 : scalar == EVK_WIRE_I64 ? 8 : 1;
}

int evk_wire_scalars_begin(evk_wire *w, uint32_t type, uint32_t scalar, evk_wire_scalars *s)
{
    s->scalar = scalar;
    if (type == EVK_WIRE_LEN) {
        if (!evk_wire_len(w, &s->run))
            return 0;
        size_t bytes = s->run.end - s->run.pos;
        if (bytes % scalar_width(scalar))
            return wire_fail(w, w->field_start,
                             "field %u at offset %zu: a packed run of %zu "
                             "bytes is not a whole number of %zu-byte values",
                             w->field, w->field_start, bytes, scalar_width(scalar));
        return 1;
    }
    if (!evk_wire_expect(w, type, scalar))
        return 0;
    s->run = *w;
    if (!evk_wire_skip(w, type))
        return 0;
    s->run.end = w->pos;
    return 1;
}

int evk_wire_scalars_count(const evk_wire_scalars *s, uint64_t *count)
{
    if (s->scalar != EVK_WIRE_VARINT) {
        *count = (s->run.end - s->run.pos) / scalar_width(s->scalar);
        return 1;
    }
    evk_wire run = s->run;
    uint64_t n = 0, value;
    for (; evk_wire_more(&run); ++n)
        if (!evk_wire_varint(&run, &value))
            return 0;
    *count = n;
    return 1;
}

int evk_wire_scalars_next(evk_wire_scalars *s, uint64_t *value)
{
    if (s->scalar == EVK_WIRE_VARINT)
        return evk_wire_varint(&s->run, value);
    return fixed(&s->run, (unsigned)scalar_width(s->scalar), value);
}
