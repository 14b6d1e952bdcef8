/* A strict reader of the protobuf wire format, for onnx_proto.c.
 *
 * A cursor covers one message: bytes [pos, end) of the file that `base`
 * starts, so every position is a byte offset from the start of the file
 * whatever the nesting. Each read checks what remains of the message it is
 * in: a varint has at most 10 bytes (the 10th at most 1), a length never
 * runs past its message's end, a field number is 1 ... 2^29 - 1, and the
 * group wire types (3, 4) and the undefined ones (6, 7) are refused.
 *
 * Functions return 1 on success and 0 on failure, when they leave a message
 * in the cursor's shared evk_wire_error (text naming the offset) for the
 * caller, who knows which message it was in, to report. */
#ifndef EFFVK_HOST_MODEL_ONNX_WIRE_H
#define EFFVK_HOST_MODEL_ONNX_WIRE_H

#include <stddef.h>
#include <stdint.h>

enum { EVK_WIRE_VARINT = 0, EVK_WIRE_I64 = 1, EVK_WIRE_LEN = 2, EVK_WIRE_I32 = 5 };

typedef struct evk_wire_error {
    size_t offset;
    char text[192];
} evk_wire_error;

typedef struct evk_wire {
    const unsigned char *base;
    size_t pos, end;
    size_t field_start; /* the last tag's offset */
    uint32_t field;     /* and its field number */
    evk_wire_error *error;
} evk_wire;

/* A cursor over the whole of bytes[0, size) (bytes may be NULL when size is 0). */
evk_wire evk_wire_begin(const void *bytes, size_t size, evk_wire_error *error);

static inline int evk_wire_more(const evk_wire *w)
{
    return w->pos < w->end;
}

/* The next field's number and wire type. */
int evk_wire_tag(evk_wire *w, uint32_t *field, uint32_t *type);
/* Fails naming the last tag's field unless `type` is `expected`. */
int evk_wire_expect(evk_wire *w, uint32_t type, uint32_t expected);

int evk_wire_varint(evk_wire *w, uint64_t *value);
int evk_wire_fixed32(evk_wire *w, uint32_t *value);
int evk_wire_fixed64(evk_wire *w, uint64_t *value);
/* A length-delimited payload: *payload covers it, and `w` moves past it. */
int evk_wire_len(evk_wire *w, evk_wire *payload);
/* Moves past a field's value of wire type `type`. */
int evk_wire_skip(evk_wire *w, uint32_t type);

/* The values of one occurrence of a repeated scalar field whose elements
 * have wire type `scalar` (VARINT, I32 or I64): a single value when the
 * field came with that wire type, a packed run when it came as LEN (parsers
 * must accept both). */
typedef struct evk_wire_scalars {
    evk_wire run;
    uint32_t scalar;
} evk_wire_scalars;

/* Reads the field's value (`type` its wire type from the tag) into *s. */
int evk_wire_scalars_begin(evk_wire *w, uint32_t type, uint32_t scalar, evk_wire_scalars *s);
/* How many values *s holds (each varint decoded, so a bad one fails here). */
int evk_wire_scalars_count(const evk_wire_scalars *s, uint64_t *count);
/* The next value while evk_wire_more(&s->run): a varint's 64 bits, or a
 * fixed32's or fixed64's bits. */
int evk_wire_scalars_next(evk_wire_scalars *s, uint64_t *value);

#endif
