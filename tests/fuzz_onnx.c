/* A deterministic mutation fuzzer of the ONNX reader. Each seed model is
 * read back as a tree of protobuf fields (a length-delimited payload that
 * parses as fields becomes a message), so that edits can keep every
 * enclosing length right and reach the semantic checks (fields deleted,
 * duplicated, moved into another message, renumbered, varints replaced by
 * edge values) or break the framing on purpose (a tag's wire type, a
 * length off by a few bytes or replaced by a huge one, varints padded past
 * 10 bytes); then a few byte edits (bit flips, truncations, random bytes).
 * Every mutant is parsed as a model and as a lone tensor from a buffer of
 * exactly its size. Rejections must carry a message naming the file;
 * accepted models are walked and every value read (so that AddressSanitizer
 * sees any array shorter than its count); both outcomes must occur.
 *
 * Usage: fuzz_onnx [iterations (default 2000)] [seed (default 1)] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_mutate.h"
#include "model/onnx_proto.h"
#include "onnx_file.h"

#define FILE_NAME "fuzz.onnx"
#define MAX_FIELDS 2048
#define ANY_TYPE 8 /* pick()'s: a field of any wire type */

typedef struct field {
    uint32_t number, type; /* the tag as written */
    uint32_t value_type;   /* how the value's bytes were read */
    size_t at, size;       /* the value's bytes in the seed (LEN: the payload) */
    int parent;            /* a message field's index, or -1 for the top level */
    int message;           /* the payload parsed as fields (the children) */
    int deleted, copies;
    int replaced; /* VARINT: `varint` written instead */
    uint64_t varint;
    unsigned tag_padding, value_padding; /* extra varint bytes */
    int wild;                            /* LEN: `length` written instead of the payload's */
    uint64_t length;
    int64_t length_delta;
} field;

typedef struct tree {
    const unsigned char *bytes;
    size_t size;
    int count;
    field fields[MAX_FIELDS];
} tree;

static int get_varint(const unsigned char *b, size_t *pos, size_t end, uint64_t *v)
{
    *v = 0;
    for (unsigned shift = 0; shift < 64 && *pos < end; shift += 7) {
        unsigned char byte = b[(*pos)++];
        *v |= (uint64_t)(byte & 0x7f) << shift;
        if (byte < 0x80)
            return 1;
    }
    return 0;
}

/* The fields of bytes [pos, end) with `parent`; 0 (and none kept) when
 * they do not parse. */
static int read_fields(tree *t, size_t pos, size_t end, int parent, int depth)
{
    int kept = t->count;
    while (pos < end) {
        uint64_t key, value;
        field f = {0};
        if (t->count == MAX_FIELDS || !get_varint(t->bytes, &pos, end, &key) || key >> 3 == 0)
            goto undo;
        f.number = (uint32_t)(key >> 3);
        f.type = f.value_type = (uint32_t)(key & 7);
        f.parent = parent;
        f.at = pos;
        if (f.type == 0) {
            if (!get_varint(t->bytes, &pos, end, &value))
                goto undo;
            f.size = pos - f.at;
            f.varint = value;
        } else if (f.type == 1 || f.type == 5) {
            f.size = f.type == 1 ? 8 : 4;
            if (end - pos < f.size)
                goto undo;
            pos += f.size;
        } else if (f.type == 2) {
            if (!get_varint(t->bytes, &pos, end, &value) || value > end - pos)
                goto undo;
            f.at = pos;
            f.size = (size_t)value;
            pos += f.size;
        } else {
            goto undo;
        }
        int index = t->count++;
        t->fields[index] = f;
        if (f.type == 2 && f.size && depth < 16)
            t->fields[index].message = read_fields(t, f.at, f.at + f.size, index, depth + 1);
    }
    return 1;
undo:
    t->count = kept;
    return 0;
}

/* A varint with `padding` redundant bytes (0x80 ... 0x00) after its own. */
static void put_varint(pb *out, uint64_t v, unsigned padding)
{
    unsigned char bytes[32];
    size_t n = 0;
    do {
        bytes[n++] = (unsigned char)((v & 0x7f) | 0x80);
        v >>= 7;
    } while (v);
    while (padding-- && n < sizeof bytes)
        bytes[n++] = 0x80;
    bytes[n - 1] &= 0x7f;
    pb_raw(out, bytes, n);
}

static void emit(const tree *t, int parent, pb *out)
{
    for (int i = 0; i < t->count; ++i) {
        const field *f = &t->fields[i];
        if (f->parent != parent || f->deleted)
            continue;
        for (int copy = 0; copy <= f->copies; ++copy) {
            put_varint(out, (uint64_t)f->number << 3 | f->type, f->tag_padding);
            if (f->value_type == 0 && f->replaced) {
                put_varint(out, f->varint, f->value_padding);
            } else if (f->value_type != 2) {
                pb_raw(out, t->bytes + f->at, f->size);
            } else {
                pb payload = {0};
                if (f->message)
                    emit(t, i, &payload);
                else
                    pb_raw(&payload, t->bytes + f->at, f->size);
                put_varint(out, f->wild ? f->length : payload.size + (uint64_t)f->length_delta,
                           f->value_padding);
                pb_raw(out, payload.bytes, payload.size);
                free(payload.bytes);
            }
        }
    }
}

/* A random field whose value has wire type `value_type` (ANY_TYPE: any), or -1. */
static int pick(uint64_t *rng, const tree *t, uint32_t value_type)
{
    for (int tries = 0; tries < 32; ++tries) {
        int i = (int)fuzz_below(rng, (size_t)t->count);
        if (value_type == ANY_TYPE || t->fields[i].value_type == value_type)
            return i;
    }
    return -1;
}

static void edit_tree(uint64_t *rng, tree *t)
{
    static const uint64_t specials[] = {0,
                                        1,
                                        2,
                                        127,
                                        128,
                                        0x7fffffff,
                                        0x80000000,
                                        0xffffffff,
                                        0x100000000,
                                        0x10000000000,
                                        0x8000000000000000,
                                        UINT64_MAX - 1,
                                        UINT64_MAX};
    uint64_t special = specials[fuzz_below(rng, sizeof specials / sizeof specials[0])];
    int any = pick(rng, t, ANY_TYPE), varint = pick(rng, t, 0), len = pick(rng, t, 2);
    field *f = &t->fields[any];
    switch (fuzz_below(rng, 9)) {
    case 0:
        f->deleted = 1;
        break;
    case 1:
        f->copies += 1 + (int)fuzz_below(rng, 2);
        break;
    case 2: {
        /* Into another message, or to the top level. */
        int target = pick(rng, t, 2);
        f->parent = target >= 0 && t->fields[target].message && target != any ? target : -1;
        break;
    }
    case 3:
        f->number = fuzz_below(rng, 2) ? 1 + (uint32_t)fuzz_below(rng, 16) : f->number + 1;
        break;
    case 4:
        f->type = (uint32_t)fuzz_below(rng, 8);
        break;
    case 5:
        if (varint >= 0) {
            uint64_t old = t->fields[varint].varint;
            t->fields[varint].replaced = 1;
            t->fields[varint].varint = fuzz_below(rng, 3) ? special : old + fuzz_below(rng, 3) - 1;
        }
        break;
    case 6:
        if (len >= 0)
            t->fields[len].length_delta = (int64_t)fuzz_below(rng, 7) - 3;
        break;
    case 7:
        if (len >= 0) {
            t->fields[len].wild = 1;
            t->fields[len].length = special;
        }
        break;
    default:
        if (fuzz_below(rng, 2))
            f->tag_padding = 1 + (unsigned)fuzz_below(rng, 10);
        else
            f->value_padding = 1 + (unsigned)fuzz_below(rng, 10);
        break;
    }
}

static void edit_bytes(uint64_t *rng, pb *b)
{
    switch (fuzz_below(rng, 3)) {
    case 0:
        if (b->size)
            b->bytes[fuzz_below(rng, b->size)] ^= (unsigned char)(1u << fuzz_below(rng, 8));
        break;
    case 1:
        b->size = fuzz_below(rng, b->size + 1);
        break;
    default:
        if (b->size)
            b->bytes[fuzz_below(rng, b->size)] = (unsigned char)fuzz_next(rng);
        break;
    }
}

/* ---- Invariants of what the reader accepts. */

static volatile double sink;

static int check_tensor(const evk_onnx_tensor *t)
{
    if (!t || !t->name || t->rank > EVK_ONNX_MAX_DIMS)
        return 0;
    uint64_t count = 1;
    for (uint32_t d = 0; d < t->rank; ++d)
        if (t->dims[d] < 0 || __builtin_mul_overflow(count, (uint64_t)t->dims[d], &count))
            return 0;
    int32_t type = t->data_type;
    int floating = type == EVK_ONNX_FLOAT || type == EVK_ONNX_FLOAT16 ||
        type == EVK_ONNX_BFLOAT16 || type == EVK_ONNX_DOUBLE;
    int integer = type == EVK_ONNX_INT64 || type == EVK_ONNX_INT32 || type == EVK_ONNX_INT16 ||
        type == EVK_ONNX_INT8 || type == EVK_ONNX_UINT16 || type == EVK_ONNX_UINT8 ||
        type == EVK_ONNX_BOOL;
    if (count != t->count || floating != (t->floats != NULL) || integer != (t->ints != NULL))
        return 0;
    for (uint64_t i = 0; i < count && (floating || integer); ++i)
        sink += floating ? (double)t->floats[i] : (double)t->ints[i];
    return 1;
}

static int check_attribute(const evk_onnx_node *n, const evk_onnx_attribute *a)
{
    if (!a->name[0] || evk_onnx_attribute_find(n, a->name) != a || !a->s)
        return 0;
    switch (a->type) {
    case EVK_ONNX_ATTR_FLOAT:
    case EVK_ONNX_ATTR_INT:
    case EVK_ONNX_ATTR_STRING:
        return 1;
    case EVK_ONNX_ATTR_TENSOR:
        return check_tensor(a->t);
    case EVK_ONNX_ATTR_FLOATS:
    case EVK_ONNX_ATTR_INTS:
    case EVK_ONNX_ATTR_STRINGS:
        for (uint32_t i = 0; i < a->count; ++i)
            sink += a->type == EVK_ONNX_ATTR_FLOATS ? (double)a->floats[i]
                : a->type == EVK_ONNX_ATTR_INTS     ? (double)a->ints[i]
                                                    : (double)strlen(a->strings[i]);
        return 1;
    default:
        return 0;
    }
}

static int check_values(const evk_onnx_value_info *v, uint32_t count)
{
    for (uint32_t i = 0; i < count; ++i) {
        if (!v[i].name[0] || v[i].rank > EVK_ONNX_MAX_DIMS)
            return 0;
        for (uint32_t d = 0; d < v[i].rank; ++d)
            if (v[i].dims[d] < -1 || !v[i].dim_params[d])
                return 0;
    }
    return 1;
}

static int check_model(const evk_onnx_model *m)
{
    if (!m->producer_name || !m->graph_name || !check_values(m->inputs, m->input_count) ||
        !check_values(m->outputs, m->output_count))
        return 0;
    for (uint32_t i = 0; i < m->initializer_count; ++i)
        if (!m->initializers[i].name[0] || !check_tensor(&m->initializers[i]))
            return 0;
    for (uint32_t i = 0; i < m->node_count; ++i) {
        const evk_onnx_node *n = &m->nodes[i];
        if (!n->op_type[0] || !n->name || !n->domain)
            return 0;
        for (uint32_t k = 0; k < n->input_count; ++k)
            sink += (double)strlen(n->inputs[k]);
        for (uint32_t k = 0; k < n->output_count; ++k)
            sink += (double)strlen(n->outputs[k]);
        for (uint32_t k = 0; k < n->attribute_count; ++k)
            if (!check_attribute(n, &n->attributes[k]))
                return 0;
    }
    return 1;
}

/* 1: accepted, 0: rejected properly, -1: broken invariant. */
static int try_mutant(const pb *b)
{
    unsigned char *exact = fuzz_exact_copy(b->bytes, b->size);
    if (!exact)
        return -1;
    evk_onnx_model *m = NULL;
    evk_status status = evk_onnx_parse(NULL, exact, b->size, FILE_NAME, NULL, &m);
    int outcome = status == EVK_SUCCESS ? (check_model(m) ? 1 : -1)
        : !m && status == EVK_ERROR_INVALID_ARGUMENT && fuzz_message_names_file(status, FILE_NAME)
        ? 0
        : -1;
    if (outcome < 0)
        fprintf(stderr, "broken invariant (model, %s): %s\n", evk_status_string(status),
                evk_last_error(NULL));
    evk_onnx_free(NULL, m);
    /* The same bytes as a TensorProto: other fields meet other readers. */
    const evk_onnx_tensor *t = NULL;
    status = evk_onnx_parse_tensor(NULL, exact, b->size, FILE_NAME, &m, &t);
    if (status == EVK_SUCCESS ? !check_tensor(t)
                              : m || t || !fuzz_message_names_file(status, FILE_NAME)) {
        fprintf(stderr, "broken invariant (tensor, %s): %s\n", evk_status_string(status),
                evk_last_error(NULL));
        outcome = -1;
    }
    evk_onnx_free(NULL, m);
    free(exact);
    return outcome;
}

/* ---- Seeds. */

static void add_initializer(pb *graph, pb *t)
{
    pb_msg(graph, GRAPH_INITIALIZER, t);
}

/* Initializers of every converted type in raw and typed form, a Constant
 * with a tensor attribute, Clip's float and Cast's int attributes. */
static pb typed_seed(void)
{
    pb graph = {0}, node = {0}, v = {0};
    pb t = pb_tensor("h", EVK_ONNX_FLOAT16, (const int64_t[]){2}, 1);
    pb_bytes(&t, TENSOR_RAW_DATA, "\x00\x3c\x00\xc0", 4);
    add_initializer(&graph, &t);
    t = pb_tensor("bf", EVK_ONNX_BFLOAT16, (const int64_t[]){1, 2}, 2);
    pb_packed(&t, TENSOR_INT32_DATA, (const int64_t[]){0x3f80, 0xbf00}, 2);
    add_initializer(&graph, &t);
    t = pb_tensor("shape", EVK_ONNX_INT64, (const int64_t[]){3}, 1);
    pb_packed(&t, TENSOR_INT64_DATA, (const int64_t[]){1, -1}, 2);
    pb_int(&t, TENSOR_INT64_DATA, 7);
    add_initializer(&graph, &t);
    t = pb_tensor("q", EVK_ONNX_INT8, (const int64_t[]){2}, 1);
    pb_int(&t, TENSOR_INT32_DATA, -3);
    pb_int(&t, TENSOR_INT32_DATA, 100);
    add_initializer(&graph, &t);
    t = pb_tensor("u", EVK_ONNX_UINT8, (const int64_t[]){3}, 1);
    pb_bytes(&t, TENSOR_RAW_DATA, "\x01\x80\xff", 3);
    add_initializer(&graph, &t);
    t = pb_tensor("d", EVK_ONNX_DOUBLE, NULL, 0);
    pb_tag(&t, TENSOR_DOUBLE_DATA, 1);
    pb_le(&t, 0x3ff8000000000000ull, 8);
    add_initializer(&graph, &t);
    t = pb_tensor("mask", EVK_ONNX_BOOL, (const int64_t[]){2}, 1);
    pb_bytes(&t, TENSOR_RAW_DATA, "\x01\x00", 2);
    add_initializer(&graph, &t);
    t = pb_tensor("i32", EVK_ONNX_INT32, (const int64_t[]){1}, 1);
    pb_bytes(&t, TENSOR_RAW_DATA, "\xfe\xff\xff\xff", 4);
    add_initializer(&graph, &t);
    t = pb_tensor("none", EVK_ONNX_FLOAT, (const int64_t[]){0, 4}, 2);
    add_initializer(&graph, &t);

    pb_str(&node, NODE_OUTPUT, "c");
    pb_str(&node, NODE_OP_TYPE, "Constant");
    t = pb_tensor(NULL, EVK_ONNX_INT64, (const int64_t[]){2}, 1);
    pb_packed(&t, TENSOR_INT64_DATA, (const int64_t[]){2, 3}, 2);
    pb_msg(&v, ATTR_T, &t);
    pb_attribute(&node, "value", 4, &v);
    pb_msg(&graph, GRAPH_NODE, &node);
    pb_str(&node, NODE_INPUT, "x");
    pb_str(&node, NODE_INPUT, "");
    pb_str(&node, NODE_OUTPUT, "clipped");
    pb_str(&node, NODE_OP_TYPE, "Clip");
    pb_str(&node, NODE_DOMAIN, "ai.onnx");
    pb_float(&v, ATTR_F, 6.0f);
    pb_attribute(&node, "max", 1, &v);
    pb_msg(&graph, GRAPH_NODE, &node);
    pb_str(&node, NODE_INPUT, "clipped");
    pb_str(&node, NODE_OUTPUT, "y");
    pb_str(&node, NODE_OP_TYPE, "Cast");
    pb_int(&v, ATTR_I, EVK_ONNX_FLOAT16);
    pb_attribute(&node, "to", 2, &v);
    pb_msg(&graph, GRAPH_NODE, &node);
    pb_value(&graph, GRAPH_INPUT, "x", (const int64_t[]){0, 3, 0, 0},
             (const char *const[]){"batch", NULL, "height", "width"}, 4);
    pb_value(&graph, GRAPH_OUTPUT, "y", (const int64_t[]){1, 3}, NULL, 2);
    return pb_model(&graph);
}

int main(int argc, char **argv)
{
    long iterations = argc > 1 ? strtol(argv[1], NULL, 10) : 2000;
    uint64_t rng = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
    pb seeds[] = {pb_conv_model(), typed_seed()};
    enum { SEED_COUNT = sizeof seeds / sizeof seeds[0] };
    tree *trees = calloc(SEED_COUNT + 1, sizeof *trees);
    if (!trees)
        return 2;
    for (int s = 0; s < SEED_COUNT; ++s) {
        trees[s].bytes = seeds[s].bytes;
        trees[s].size = seeds[s].size;
        pb again = {0};
        if (read_fields(&trees[s], 0, seeds[s].size, -1, 0))
            emit(&trees[s], -1, &again);
        int same = again.size == seeds[s].size &&
            memcmp(again.bytes, seeds[s].bytes, again.size) == 0;
        free(again.bytes);
        if (!same || try_mutant(&seeds[s]) != 1) {
            fprintf(stderr, "fuzz_onnx: seed %d does not round-trip or is refused\n", s);
            return 2;
        }
    }
    tree *work = &trees[SEED_COUNT];
    long accepted = 0, rejected = 0, broken = 0;
    for (long i = 0; i < iterations; ++i) {
        const tree *seed = &trees[fuzz_below(&rng, SEED_COUNT)];
        work->bytes = seed->bytes;
        work->count = seed->count;
        memcpy(work->fields, seed->fields, (size_t)seed->count * sizeof *seed->fields);
        for (size_t edits = 1 + fuzz_below(&rng, 3); edits; --edits)
            edit_tree(&rng, work);
        pb mutant = {0};
        emit(work, -1, &mutant);
        if (fuzz_below(&rng, 3) == 0)
            edit_bytes(&rng, &mutant);
        int outcome = try_mutant(&mutant);
        free(mutant.bytes);
        accepted += outcome == 1;
        rejected += outcome == 0;
        broken += outcome < 0;
    }
    for (int s = 0; s < SEED_COUNT; ++s)
        free(seeds[s].bytes);
    free(trees);
    printf("fuzz_onnx: %ld mutants, %ld accepted, %ld rejected, %ld broken invariants\n",
           iterations, accepted, rejected, broken);
    if (iterations >= 100 && (!accepted || !rejected)) {
        fprintf(stderr, "fuzz_onnx: every mutant had the same outcome\n");
        return 1;
    }
    return broken ? 1 : 0;
}
