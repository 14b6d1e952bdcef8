#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "effvk_internal.h"
#include "npy.h"

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* Magic and version come first; then the header length, 2 bytes wide in
 * version 1 and 4 bytes in versions 2 and 3. */
#define NPY_MAGIC_AND_VERSION 8u
#define NPY_PREFIX_V1 10u
#define NPY_ALIGNMENT 64u

typedef struct npy_header {
    size_t length_width;            /* bytes of the header length field */
    size_t dict_offset;             /* where the dict starts */
    size_t data_offset;             /* where the data starts */
    uint32_t rank;
    uint64_t shape[NPY_MAX_RANK];
    uint64_t count;
} npy_header;

/* Memory from ctx's allocator, or malloc without a context. */
static void *allocate(evk_context *ctx, size_t size)
{
    return ctx ? evk_alloc(ctx, size) : malloc(size);
}

static void release(evk_context *ctx, void *ptr)
{
    if (ctx)
        evk_free(ctx, ptr);
    else
        free(ptr);
}

/* ---- Preamble. */

static evk_status check_magic_and_version(evk_context *ctx, const char *name,
                                          const unsigned char *bytes, size_t size, npy_header *h)
{
    if (size < NPY_MAGIC_AND_VERSION)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "%s: %zu bytes, too short (truncated?) for the .npy magic and version",
                        name, size);
    if (memcmp(bytes, npy_magic, sizeof npy_magic) != 0)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: bad magic: not a .npy file", name);
    unsigned major = bytes[6], minor = bytes[7];
    if (major < 1 || major > 3 || minor != 0)
        return evk_fail(ctx, EVK_ERROR_UNSUPPORTED,
                        "%s: .npy format version %u.%u is not supported (1.0, 2.0, 3.0 are)", name,
                        major, minor);
    h->length_width = major == 1 ? 2 : 4;
    h->dict_offset = NPY_MAGIC_AND_VERSION + h->length_width;
    return EVK_SUCCESS;
}

/* `field` holds h->length_width bytes. */
static evk_status read_header_length(evk_context *ctx, const char *name, const unsigned char *field,
                                     npy_header *h)
{
    uint32_t length = 0;
    for (size_t i = h->length_width; i-- > 0;)
        length = length << 8 | field[i];
    if (length > NPY_MAX_HEADER_BYTES)
        return evk_fail(ctx, EVK_ERROR_LIMIT_EXCEEDED,
                        "%s: header length %u exceeds the limit of %u bytes", name, length,
                        NPY_MAX_HEADER_BYTES);
    h->data_offset = h->dict_offset + length;
    return EVK_SUCCESS;
}

/* ---- The header dict, a Python literal. */

typedef struct dict_parser {
    evk_context *ctx;
    const char *name;
    const char *text;
    size_t length;
    size_t pos;
    size_t base;                    /* file offset of text[0], for messages */
} dict_parser;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static evk_status dict_error(dict_parser *p, evk_status status, const char *fmt, ...)
{
    char problem[256];
    va_list args;
    va_start(args, fmt);
    vsnprintf(problem, sizeof problem, fmt, args);
    va_end(args);
    return evk_fail(p->ctx, status, "%s: header at byte %zu: %s", p->name, p->base + p->pos,
                    problem);
}

static int dict_peek(const dict_parser *p)
{
    return p->pos < p->length ? (unsigned char)p->text[p->pos] : -1;
}

static void skip_blanks(dict_parser *p)
{
    while (dict_peek(p) == ' ' || dict_peek(p) == '\t')
        ++p->pos;
}

static evk_status expect_char(dict_parser *p, char c)
{
    skip_blanks(p);
    if (dict_peek(p) != c)
        return dict_error(p, EVK_ERROR_INVALID_ARGUMENT, "expected '%c'", c);
    ++p->pos;
    return EVK_SUCCESS;
}

/* 'text' or "text", printable ASCII without backslashes. */
static evk_status parse_quoted(dict_parser *p, const char **chars, size_t *length)
{
    skip_blanks(p);
    int quote = dict_peek(p);
    if (quote != '\'' && quote != '"')
        return dict_error(p, EVK_ERROR_INVALID_ARGUMENT, "expected a quoted string");
    size_t start = ++p->pos;
    while (dict_peek(p) != quote) {
        int c = dict_peek(p);
        if (c < 0x20 || c > 0x7E || c == '\\')
            return dict_error(p, EVK_ERROR_INVALID_ARGUMENT,
                              c < 0 ? "unterminated string" : "unsupported character in a string");
        ++p->pos;
    }
    *chars = p->text + start;
    *length = p->pos - start;
    ++p->pos;
    return EVK_SUCCESS;
}

static int next_is_word(dict_parser *p, const char *word)
{
    size_t n = strlen(word);
    if (p->length - p->pos < n || memcmp(p->text + p->pos, word, n) != 0)
        return 0;
    p->pos += n;
    return 1;
}

static evk_status parse_descr(dict_parser *p)
{
    const char *descr;
    size_t length;
    evk_status status = parse_quoted(p, &descr, &length);
    if (status == EVK_SUCCESS && (length != 3 || memcmp(descr, "<f4", 3) != 0))
        return dict_error(p, EVK_ERROR_UNSUPPORTED,
                          "dtype '%.*s' is not supported (only '<f4', little-endian float32)",
                          (int)(length > 32 ? 32 : length), descr);
    return status;
}

static evk_status parse_fortran_order(dict_parser *p)
{
    skip_blanks(p);
    if (next_is_word(p, "False"))
        return EVK_SUCCESS;
    if (next_is_word(p, "True"))
        return dict_error(p, EVK_ERROR_UNSUPPORTED,
                          "fortran_order True is not supported (only C order)");
    return dict_error(p, EVK_ERROR_INVALID_ARGUMENT, "fortran_order is not True or False");
}

static evk_status parse_dimension(dict_parser *p, uint64_t *value)
{
    if (dict_peek(p) < '0' || dict_peek(p) > '9')
        return dict_error(p, EVK_ERROR_INVALID_ARGUMENT, "expected a non-negative integer");
    if (dict_peek(p) == '0' && p->pos + 1 < p->length && p->text[p->pos + 1] >= '0' &&
        p->text[p->pos + 1] <= '9')
        return dict_error(p, EVK_ERROR_INVALID_ARGUMENT, "leading zero in a dimension");
    *value = 0;
    while (dict_peek(p) >= '0' && dict_peek(p) <= '9') {
        uint64_t digit = (uint64_t)(dict_peek(p) - '0');
        if (*value > (UINT64_MAX - digit) / 10)
            return dict_error(p, EVK_ERROR_INVALID_ARGUMENT, "dimension out of range");
        *value = *value * 10 + digit;
        ++p->pos;
    }
    return EVK_SUCCESS;
}

/* A Python tuple: (), (3,), (2, 3) or (2, 3,). */
static evk_status parse_shape(dict_parser *p, npy_header *h)
{
    evk_status status = expect_char(p, '(');
    h->rank = 0;
    h->count = 1;
    for (skip_blanks(p); status == EVK_SUCCESS && dict_peek(p) != ')'; skip_blanks(p)) {
        if (h->rank == NPY_MAX_RANK)
            return dict_error(p, EVK_ERROR_LIMIT_EXCEEDED, "rank exceeds the limit of %d",
                              NPY_MAX_RANK);
        uint64_t *dim = &h->shape[h->rank++];
        if ((status = parse_dimension(p, dim)) != EVK_SUCCESS)
            return status;
        if (*dim && h->count > UINT64_MAX / *dim)
            return dict_error(p, EVK_ERROR_INVALID_ARGUMENT, "element count overflows 64 bits");
        h->count *= *dim;
        skip_blanks(p);
        if (dict_peek(p) == ',')
            ++p->pos;
        else if (dict_peek(p) != ')')
            return dict_error(p, EVK_ERROR_INVALID_ARGUMENT, "expected ',' or ')' in the shape");
        else if (h->rank == 1)
            return dict_error(p, EVK_ERROR_INVALID_ARGUMENT,
                              "a one-element shape needs a trailing comma: (n,)");
    }
    if (status == EVK_SUCCESS)
        ++p->pos;
    return status;
}

enum { SEEN_DESCR = 1, SEEN_FORTRAN_ORDER = 2, SEEN_SHAPE = 4 };

static evk_status parse_entry(dict_parser *p, npy_header *h, unsigned *seen)
{
    const char *key;
    size_t length;
    evk_status status = parse_quoted(p, &key, &length);
    if (status == EVK_SUCCESS)
        status = expect_char(p, ':');
    if (status != EVK_SUCCESS)
        return status;
    unsigned bit = length == 5 && memcmp(key, "descr", 5) == 0           ? SEEN_DESCR
                   : length == 13 && memcmp(key, "fortran_order", 13) == 0 ? SEEN_FORTRAN_ORDER
                   : length == 5 && memcmp(key, "shape", 5) == 0         ? SEEN_SHAPE
                                                                         : 0;
    if (!bit)
        return dict_error(p, EVK_ERROR_INVALID_ARGUMENT, "unknown key '%.*s'",
                          (int)(length > 32 ? 32 : length), key);
    if (*seen & bit)
        return dict_error(p, EVK_ERROR_INVALID_ARGUMENT, "duplicate key '%.*s'", (int)length, key);
    *seen |= bit;
    return bit == SEEN_DESCR ? parse_descr(p)
           : bit == SEEN_SHAPE ? parse_shape(p, h)
                               : parse_fortran_order(p);
}

/* After the closing brace only blanks, then a newline as the last byte. */
static evk_status parse_dict_end(dict_parser *p, unsigned seen)
{
    if (seen != (SEEN_DESCR | SEEN_FORTRAN_ORDER | SEEN_SHAPE))
        return dict_error(p, EVK_ERROR_INVALID_ARGUMENT, "missing key '%s'",
                          !(seen & SEEN_DESCR) ? "descr"
                          : !(seen & SEEN_SHAPE) ? "shape"
                                                 : "fortran_order");
    skip_blanks(p);
    if (dict_peek(p) != '\n' || p->pos + 1 != p->length)
        return dict_error(p, EVK_ERROR_INVALID_ARGUMENT,
                          "the header must end with blanks and one newline");
    return EVK_SUCCESS;
}

static evk_status parse_dict(evk_context *ctx, const char *name, const unsigned char *text,
                             npy_header *h)
{
    dict_parser p = {ctx, name, (const char *)text, h->data_offset - h->dict_offset, 0,
                     h->dict_offset};
    unsigned seen = 0;
    evk_status status = expect_char(&p, '{');
    for (skip_blanks(&p); status == EVK_SUCCESS && dict_peek(&p) != '}'; skip_blanks(&p)) {
        if ((status = parse_entry(&p, h, &seen)) != EVK_SUCCESS)
            return status;
        skip_blanks(&p);
        if (dict_peek(&p) == ',')
            ++p.pos;
        else if (dict_peek(&p) != '}')
            return dict_error(&p, EVK_ERROR_INVALID_ARGUMENT, "expected ',' or '}'");
    }
    if (status != EVK_SUCCESS)
        return status;
    ++p.pos;
    return parse_dict_end(&p, seen);
}

/* ---- Data. */

static void decode_little_endian(float *data, size_t count)
{
    const unsigned char *bytes = (const unsigned char *)data;
    for (size_t i = 0; i < count; ++i) {
        const unsigned char *b = bytes + 4 * i;
        uint32_t bits = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                        (uint32_t)b[3] << 24;
        memcpy(&data[i], &bits, sizeof bits);
    }
}

static evk_status data_size_error(evk_context *ctx, const char *name, const npy_header *h,
                                  uint64_t have)
{
    uint64_t need = h->count > UINT64_MAX / 4 ? UINT64_MAX : h->count * 4;
    return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT,
                    "%s: data %s: %llu bytes after the header, the shape's %llu elements of "
                    "'<f4' need %llu", name, have < need ? "truncated" : "too long",
                    (unsigned long long)have, (unsigned long long)h->count,
                    (unsigned long long)need);
}

static evk_status allocate_array(evk_context *ctx, const char *name, const npy_header *h,
                                 npy_array *out)
{
    if (h->count > SIZE_MAX / sizeof(float))
        return evk_fail(ctx, EVK_ERROR_LIMIT_EXCEEDED, "%s: %llu elements exceed the address space",
                        name, (unsigned long long)h->count);
    if (h->count) {
        out->data = allocate(ctx, (size_t)h->count * sizeof(float));
        if (!out->data)
            return evk_fail(ctx, EVK_ERROR_OUT_OF_HOST_MEMORY, "%s: host allocation failed: data",
                            name);
    }
    out->rank = h->rank;
    memcpy(out->shape, h->shape, sizeof out->shape);
    out->count = h->count;
    return EVK_SUCCESS;
}

evk_status npy_read_memory(evk_context *ctx, const char *name, const void *bytes, size_t size,
                         npy_array *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!out || !name || (!bytes && size))
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "npy_read_memory: out, name or bytes is NULL");
    const unsigned char *b = bytes;
    npy_header h = {0};
    evk_status status = check_magic_and_version(ctx, name, b, size, &h);
    if (status != EVK_SUCCESS)
        return status;
    if (size < h.dict_offset)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "%s: truncated in the header length field", name);
    if ((status = read_header_length(ctx, name, b + NPY_MAGIC_AND_VERSION, &h)) != EVK_SUCCESS)
        return status;
    if (size < h.data_offset)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "%s: truncated header: %zu bytes, the header ends at byte %zu", name, size,
                        h.data_offset);
    if ((status = parse_dict(ctx, name, b + h.dict_offset, &h)) != EVK_SUCCESS)
        return status;
    uint64_t have = size - h.data_offset;
    if (have / 4 != h.count || have % 4)
        return data_size_error(ctx, name, &h, have);
    if ((status = allocate_array(ctx, name, &h, out)) != EVK_SUCCESS)
        return status;
    if (h.count) {
        memcpy(out->data, b + h.data_offset, (size_t)h.count * 4);
        decode_little_endian(out->data, (size_t)h.count);
    }
    return EVK_SUCCESS;
}

/* Reads the preamble and dict of an open file into `h`. */
static evk_status read_file_header(evk_context *ctx, const char *path, FILE *f, npy_header *h)
{
    unsigned char preamble[NPY_MAGIC_AND_VERSION + 4];
    size_t got = fread(preamble, 1, NPY_MAGIC_AND_VERSION, f);
    if (ferror(f))
        return evk_fail(ctx, EVK_ERROR_IO, "%s: read failed", path);
    evk_status status = check_magic_and_version(ctx, path, preamble, got, h);
    if (status != EVK_SUCCESS)
        return status;
    if (fread(preamble + NPY_MAGIC_AND_VERSION, 1, h->length_width, f) != h->length_width)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "%s: truncated in the header length field", path);
    status = read_header_length(ctx, path, preamble + NPY_MAGIC_AND_VERSION, h);
    if (status != EVK_SUCCESS)
        return status;
    size_t dict_length = h->data_offset - h->dict_offset;
    unsigned char *dict = allocate(ctx, dict_length + 1);
    if (!dict)
        return evk_fail(ctx, EVK_ERROR_OUT_OF_HOST_MEMORY, "%s: host allocation failed: header",
                        path);
    if (fread(dict, 1, dict_length, f) != dict_length)
        status = evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT,
                          "%s: truncated header: the header ends at byte %zu", path,
                          h->data_offset);
    else
        status = parse_dict(ctx, path, dict, h);
    release(ctx, dict);
    return status;
}

/* Measured before allocating, so that a small file cannot make us allocate
 * what its header claims. */
static evk_status bytes_left(evk_context *ctx, const char *path, FILE *f, uint64_t *left)
{
    long here = ftell(f);
    long end = here >= 0 && fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (end < here || fseek(f, here, SEEK_SET) != 0)
        return evk_fail(ctx, EVK_ERROR_IO, "%s: cannot determine the file size", path);
    *left = (uint64_t)(end - here);
    return EVK_SUCCESS;
}

static evk_status read_file_data(evk_context *ctx, const char *path, FILE *f,
                                 const npy_header *h, npy_array *out)
{
    uint64_t left = 0;
    evk_status status = bytes_left(ctx, path, f, &left);
    if (status != EVK_SUCCESS)
        return status;
    if (left / 4 != h->count || left % 4)
        return data_size_error(ctx, path, h, left);
    if ((status = allocate_array(ctx, path, h, out)) != EVK_SUCCESS)
        return status;
    size_t bytes = (size_t)h->count * 4;
    if (bytes && fread(out->data, 1, bytes, f) != bytes)
        return evk_fail(ctx, EVK_ERROR_IO, "%s: read failed", path);
    decode_little_endian(out->data, (size_t)h->count);
    return EVK_SUCCESS;
}

evk_status npy_read(evk_context *ctx, const char *path, npy_array *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!out || !path)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "npy_read: out or path is NULL");
    FILE *f;
    evk_status status = evk_file_fopen_read(ctx, path, &f);
    if (status != EVK_SUCCESS)
        return status;
    npy_header h = {0};
    status = read_file_header(ctx, path, f, &h);
    if (status == EVK_SUCCESS)
        status = read_file_data(ctx, path, f, &h, out);
    fclose(f);
    if (status != EVK_SUCCESS)
        npy_free(ctx, out);
    return status;
}

void npy_free(evk_context *ctx, npy_array *array)
{
    if (!array)
        return;
    release(ctx, array->data);
    memset(array, 0, sizeof *array);
}

/* ---- Writing. */

/* The dict, padded with blanks and a newline so that the data starts at a
 * multiple of NPY_ALIGNMENT; returns its length, or 0 if it did not fit. */
static size_t format_dict(const uint64_t *shape, uint32_t rank, size_t prefix, char *out,
                          size_t size)
{
    int used = snprintf(out, size, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (uint32_t d = 0; d < rank && used > 0 && (size_t)used < size; ++d)
        used += snprintf(out + used, size - (size_t)used, d ? ", %llu" : "%llu",
                         (unsigned long long)shape[d]);
    if (used > 0 && (size_t)used < size)
        used += snprintf(out + used, size - (size_t)used, rank == 1 ? ",), }" : "), }");
    if (used < 0 || (size_t)used >= size)
        return 0;
    size_t length = (size_t)used + 1;
    size_t padded = (prefix + length + NPY_ALIGNMENT - 1) / NPY_ALIGNMENT * NPY_ALIGNMENT - prefix;
    if (padded >= size)
        return 0;
    memset(out + used, ' ', padded - (size_t)used - 1);
    out[padded - 1] = '\n';
    return padded;
}

/* Always version 1.0: a dict of at most NPY_MAX_RANK dimensions is far
 * below 1.0's 64 KiB limit, so 2.0 is never needed. */
static int write_preamble(FILE *f, size_t dict_length)
{
    unsigned char preamble[NPY_PREFIX_V1];
    memcpy(preamble, npy_magic, sizeof npy_magic);
    preamble[6] = 1;
    preamble[7] = 0;
    preamble[8] = (unsigned char)(dict_length & 0xFF);
    preamble[9] = (unsigned char)(dict_length >> 8);
    return fwrite(preamble, 1, sizeof preamble, f) == sizeof preamble;
}

static int write_data(FILE *f, const float *data, uint64_t count)
{
    unsigned char chunk[4096];
    while (count) {
        size_t n = count < sizeof chunk / 4 ? (size_t)count : sizeof chunk / 4;
        for (size_t i = 0; i < n; ++i) {
            uint32_t bits;
            memcpy(&bits, &data[i], sizeof bits);
            for (int byte = 0; byte < 4; ++byte)
                chunk[4 * i + (size_t)byte] = (unsigned char)(bits >> (8 * byte));
        }
        if (fwrite(chunk, 4, n, f) != n)
            return 0;
        data += n;
        count -= n;
    }
    return 1;
}

static evk_status count_elements(evk_context *ctx, const char *path, const uint64_t *shape,
                                 uint32_t rank, uint64_t *count)
{
    if (rank > NPY_MAX_RANK)
        return evk_fail(ctx, EVK_ERROR_LIMIT_EXCEEDED, "%s: rank %u exceeds the limit of %d", path,
                        rank, NPY_MAX_RANK);
    *count = 1;
    for (uint32_t d = 0; d < rank; ++d) {
        if (shape[d] && *count > UINT64_MAX / 4 / shape[d])
            return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: element count overflows", path);
        *count *= shape[d];
    }
    return EVK_SUCCESS;
}

evk_status npy_write(evk_context *ctx, const char *path, const uint64_t *shape, uint32_t rank,
                   const float *data)
{
    uint64_t count = 0;
    if (!path || (rank && !shape))
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "npy_write: path or shape is NULL");
    evk_status status = count_elements(ctx, path, shape, rank, &count);
    if (status != EVK_SUCCESS)
        return status;
    if (count && !data)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: data is NULL", path);
    char dict[512];
    size_t dict_length = format_dict(shape, rank, NPY_PREFIX_V1, dict, sizeof dict);
    if (!dict_length)
        return evk_fail(ctx, EVK_ERROR_LIMIT_EXCEEDED, "%s: the shape does not fit a header",
                        path);
    evk_file_writer writer;
    if ((status = evk_file_write_begin(ctx, path, &writer)) != EVK_SUCCESS)
        return status;
    FILE *f = writer.stream;
    if (!write_preamble(f, dict_length) || fwrite(dict, 1, dict_length, f) != dict_length ||
        !write_data(f, data, count)) {
        evk_file_write_abort(&writer);
        return evk_fail(ctx, EVK_ERROR_IO, "%s: write failed: %s; the previous file is unchanged",
                        path, strerror(errno));
    }
    return evk_file_write_commit(&writer);
}
