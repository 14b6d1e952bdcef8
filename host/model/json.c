#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "model/json.h"

typedef struct json_parser {
    const evk_allocator *allocator;
    const unsigned char *text;
    size_t length;
    size_t pos;
    evk_json_doc *doc;
    char *error;
    int numbers_as_text;        /* evk_json_parse_numbers */
} json_parser;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static evk_status syntax_error(json_parser *p, const char *fmt, ...)
{
    int used = snprintf(p->error, EVK_JSON_ERROR_BYTES, "at byte %zu: ", p->pos);
    va_list args;
    va_start(args, fmt);
    vsnprintf(p->error + used, EVK_JSON_ERROR_BYTES - (size_t)used, fmt, args);
    va_end(args);
    return EVK_ERROR_INVALID_ARGUMENT;
}

static evk_status out_of_memory(json_parser *p)
{
    snprintf(p->error, EVK_JSON_ERROR_BYTES, "at byte %zu: host allocation failed", p->pos);
    return EVK_ERROR_OUT_OF_HOST_MEMORY;
}

static int at_end(const json_parser *p)
{
    return p->pos >= p->length;
}

static int peek(const json_parser *p)
{
    return at_end(p) ? -1 : p->text[p->pos];
}

static void skip_whitespace(json_parser *p)
{
    while (!at_end(p)) {
        int c = p->text[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return;
        ++p->pos;
    }
}

/* The node array grows by doubling; nodes are addressed by index because
 * growing moves them. */
static evk_status new_node(json_parser *p, evk_json_type type, uint32_t *index)
{
    evk_json_doc *doc = p->doc;
    if (doc->node_count == doc->node_capacity) {
        size_t capacity = doc->node_capacity ? doc->node_capacity * 2 : 64;
        if (capacity > UINT32_MAX || capacity > SIZE_MAX / sizeof(evk_json_node))
            return out_of_memory(p);
        evk_json_node *nodes = evk_alloc_with(p->allocator, capacity * sizeof *nodes);
        if (!nodes)
            return out_of_memory(p);
        if (doc->node_count)
            memcpy(nodes, doc->nodes, doc->node_count * sizeof *nodes);
        evk_free_with(p->allocator, doc->nodes);
        doc->nodes = nodes;
        doc->node_capacity = capacity;
    }
    *index = (uint32_t)doc->node_count++;
    memset(&doc->nodes[*index], 0, sizeof doc->nodes[*index]);
    doc->nodes[*index].type = type;
    return EVK_SUCCESS;
}

static void append_char(json_parser *p, unsigned char c)
{
    p->doc->strings[p->doc->strings_used++] = (char)c;
}

static void append_utf8(json_parser *p, uint32_t code_point)
{
    if (code_point < 0x80) {
        append_char(p, (unsigned char)code_point);
    } else if (code_point < 0x800) {
        append_char(p, (unsigned char)(0xC0 | (code_point >> 6)));
        append_char(p, (unsigned char)(0x80 | (code_point & 0x3F)));
    } else if (code_point < 0x10000) {
        append_char(p, (unsigned char)(0xE0 | (code_point >> 12)));
        append_char(p, (unsigned char)(0x80 | ((code_point >> 6) & 0x3F)));
        append_char(p, (unsigned char)(0x80 | (code_point & 0x3F)));
    } else {
        append_char(p, (unsigned char)(0xF0 | (code_point >> 18)));
        append_char(p, (unsigned char)(0x80 | ((code_point >> 12) & 0x3F)));
        append_char(p, (unsigned char)(0x80 | ((code_point >> 6) & 0x3F)));
        append_char(p, (unsigned char)(0x80 | (code_point & 0x3F)));
    }
}

static evk_status parse_hex4(json_parser *p, uint32_t *value)
{
    *value = 0;
    for (int i = 0; i < 4; ++i) {
        int c = peek(p);
        uint32_t digit;
        if (c >= '0' && c <= '9')
            digit = (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            digit = (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            digit = (uint32_t)(c - 'A' + 10);
        else
            return syntax_error(p, "\\u escape needs four hex digits");
        *value = *value * 16 + digit;
        ++p->pos;
    }
    return EVK_SUCCESS;
}

/* After "\u": one code point, or two escapes forming a surrogate pair. */
static evk_status parse_unicode_escape(json_parser *p, uint32_t *code_point)
{
    evk_status status = parse_hex4(p, code_point);
    if (status != EVK_SUCCESS)
        return status;
    if (*code_point >= 0xDC00 && *code_point <= 0xDFFF)
        return syntax_error(p, "\\u escape: low surrogate without a high surrogate");
    if (*code_point >= 0xD800 && *code_point <= 0xDBFF) {
        if (p->length - p->pos < 2 || p->text[p->pos] != '\\' || p->text[p->pos + 1] != 'u')
            return syntax_error(p, "\\u escape: high surrogate not followed by a low surrogate");
        p->pos += 2;
        uint32_t low;
        if ((status = parse_hex4(p, &low)) != EVK_SUCCESS)
            return status;
        if (low < 0xDC00 || low > 0xDFFF)
            return syntax_error(p, "\\u escape: high surrogate not followed by a low surrogate");
        *code_point = 0x10000 + ((*code_point - 0xD800) << 10) + (low - 0xDC00);
    }
    if (*code_point == 0)
        return syntax_error(p, "\\u0000 in a string is not supported");
    return EVK_SUCCESS;
}

static evk_status parse_escape(json_parser *p)
{
    int c = peek(p);
    ++p->pos;
    switch (c) {
    case '"': append_char(p, '"'); return EVK_SUCCESS;
    case '\\': append_char(p, '\\'); return EVK_SUCCESS;
    case '/': append_char(p, '/'); return EVK_SUCCESS;
    case 'b': append_char(p, '\b'); return EVK_SUCCESS;
    case 'f': append_char(p, '\f'); return EVK_SUCCESS;
    case 'n': append_char(p, '\n'); return EVK_SUCCESS;
    case 'r': append_char(p, '\r'); return EVK_SUCCESS;
    case 't': append_char(p, '\t'); return EVK_SUCCESS;
    case 'u': {
        uint32_t code_point;
        evk_status status = parse_unicode_escape(p, &code_point);
        if (status == EVK_SUCCESS)
            append_utf8(p, code_point);
        return status;
    }
    default:
        --p->pos;
        return syntax_error(p, "invalid escape in a string");
    }
}

/* Copies one UTF-8 sequence starting with `lead` (>= 0x80), rejecting
 * overlong forms, surrogates and code points beyond U+10FFFF. */
static evk_status copy_utf8_sequence(json_parser *p, unsigned char lead)
{
    size_t extra;
    uint32_t code_point, minimum;
    if (lead >= 0xC2 && lead <= 0xDF)
        extra = 1, code_point = lead & 0x1Fu, minimum = 0x80;
    else if (lead >= 0xE0 && lead <= 0xEF)
        extra = 2, code_point = lead & 0x0Fu, minimum = 0x800;
    else if (lead >= 0xF0 && lead <= 0xF4)
        extra = 3, code_point = lead & 0x07u, minimum = 0x10000;
    else
        return syntax_error(p, "invalid UTF-8 in a string");
    if (p->length - p->pos <= extra)
        return syntax_error(p, "invalid UTF-8 in a string");
    for (size_t i = 1; i <= extra; ++i) {
        unsigned char c = p->text[p->pos + i];
        if ((c & 0xC0) != 0x80)
            return syntax_error(p, "invalid UTF-8 in a string");
        code_point = (code_point << 6) | (c & 0x3Fu);
    }
    if (code_point < minimum || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF))
        return syntax_error(p, "invalid UTF-8 in a string");
    for (size_t i = 0; i <= extra; ++i)
        append_char(p, p->text[p->pos + i]);
    p->pos += extra + 1;
    return EVK_SUCCESS;
}

/* At the opening quote; decodes into the string block. Decoded strings are
 * never longer than their quoted text, so the block cannot overflow. */
static evk_status parse_string(json_parser *p, const char **chars, size_t *length)
{
    size_t start = p->doc->strings_used;
    ++p->pos;
    for (;;) {
        if (at_end(p))
            return syntax_error(p, "unterminated string");
        unsigned char c = p->text[p->pos];
        evk_status status = EVK_SUCCESS;
        if (c == '"') {
            ++p->pos;
            break;
        } else if (c == '\\') {
            ++p->pos;
            status = parse_escape(p);
        } else if (c < 0x20) {
            status = syntax_error(p, "control character in a string");
        } else if (c >= 0x80) {
            status = copy_utf8_sequence(p, c);
        } else {
            append_char(p, c);
            ++p->pos;
        }
        if (status != EVK_SUCCESS)
            return status;
    }
    *chars = p->doc->strings + start;
    *length = p->doc->strings_used - start;
    append_char(p, '\0');
    return EVK_SUCCESS;
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static evk_status parse_integer(json_parser *p, int64_t *value)
{
    int negative = peek(p) == '-';
    if (negative)
        ++p->pos;
    if (!is_digit(peek(p)))
        return syntax_error(p, "expected a digit");
    if (peek(p) == '0' && p->pos + 1 < p->length && is_digit(p->text[p->pos + 1]))
        return syntax_error(p, "leading zero in a number");
    uint64_t magnitude = 0;
    const uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    while (is_digit(peek(p))) {
        uint64_t digit = (uint64_t)(peek(p) - '0');
        if (magnitude > (limit - digit) / 10)
            return syntax_error(p, "integer out of the 64-bit range");
        magnitude = magnitude * 10 + digit;
        ++p->pos;
    }
    int c = peek(p);
    if (c == '.' || c == 'e' || c == 'E')
        return syntax_error(p, "only integers are supported, not fractions or exponents");
    *value = negative ? (int64_t)(0 - magnitude) : (int64_t)magnitude;
    return EVK_SUCCESS;
}

/* Whether the number at the parser's position has a fraction or an exponent. */
static int number_has_fraction_or_exponent(const json_parser *p)
{
    size_t at = p->pos + (peek(p) == '-');
    while (at < p->length && is_digit(p->text[at]))
        ++at;
    return at < p->length && (p->text[at] == '.' || p->text[at] == 'e' || p->text[at] == 'E');
}

static evk_status skip_digits(json_parser *p, const char *where)
{
    if (!is_digit(peek(p)))
        return syntax_error(p, "expected a digit %s", where);
    while (is_digit(peek(p)))
        ++p->pos;
    return EVK_SUCCESS;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, copied as written into the
 * string block: a number's text and its NUL fit in the bytes it and the
 * delimiter after it take, so the block cannot overflow. */
static evk_status parse_number_text(json_parser *p, uint32_t *index)
{
    evk_status status = new_node(p, EVK_JSON_NUMBER, index);
    if (status != EVK_SUCCESS)
        return status;
    size_t start = p->pos;
    if (peek(p) == '-')
        ++p->pos;
    if (peek(p) == '0' && p->pos + 1 < p->length && is_digit(p->text[p->pos + 1]))
        return syntax_error(p, "leading zero in a number");
    if ((status = skip_digits(p, "in a number")) != EVK_SUCCESS)
        return status;
    if (peek(p) == '.') {
        ++p->pos;
        if ((status = skip_digits(p, "after a decimal point")) != EVK_SUCCESS)
            return status;
    }
    if (peek(p) == 'e' || peek(p) == 'E') {
        ++p->pos;
        if (peek(p) == '+' || peek(p) == '-')
            ++p->pos;
        if ((status = skip_digits(p, "in an exponent")) != EVK_SUCCESS)
            return status;
    }
    evk_json_node *node = &p->doc->nodes[*index];
    node->string = p->doc->strings + p->doc->strings_used;
    node->string_length = p->pos - start;
    for (size_t i = start; i < p->pos; ++i)
        append_char(p, p->text[i]);
    append_char(p, '\0');
    return EVK_SUCCESS;
}

static evk_status parse_literal(json_parser *p, const char *word, evk_json_type type,
                                uint32_t *index)
{
    size_t n = strlen(word);
    if (p->length - p->pos < n || memcmp(p->text + p->pos, word, n) != 0)
        return syntax_error(p, "unexpected character");
    p->pos += n;
    return new_node(p, type, index);
}

static evk_status parse_value(json_parser *p, int depth, uint32_t *index);

static int compare_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorting the keys keeps this O(n log n) for headers with many tensors. */
static evk_status reject_duplicate_keys(json_parser *p, uint32_t object)
{
    const evk_json_node *nodes = p->doc->nodes;
    size_t count = nodes[object].child_count;
    if (count < 2)
        return EVK_SUCCESS;
    const char **keys = evk_alloc_with(p->allocator, count * sizeof *keys);
    if (!keys)
        return out_of_memory(p);
    size_t n = 0;
    for (uint32_t child = nodes[object].first_child; child; child = nodes[child].next)
        keys[n++] = nodes[child].key;
    qsort(keys, count, sizeof *keys, compare_keys);
    evk_status status = EVK_SUCCESS;
    for (size_t i = 1; i < count && status == EVK_SUCCESS; ++i)
        if (strcmp(keys[i - 1], keys[i]) == 0)
            status = syntax_error(p, "duplicate key \"%.100s\"", keys[i]);
    evk_free_with(p->allocator, keys);
    return status;
}

static evk_status parse_member(json_parser *p, int depth, uint32_t *child)
{
    if (peek(p) != '"')
        return syntax_error(p, "expected a string key");
    const char *key;
    size_t key_length;
    evk_status status = parse_string(p, &key, &key_length);
    if (status != EVK_SUCCESS)
        return status;
    skip_whitespace(p);
    if (peek(p) != ':')
        return syntax_error(p, "expected ':' after the key \"%.100s\"", key);
    ++p->pos;
    skip_whitespace(p);
    if ((status = parse_value(p, depth + 1, child)) != EVK_SUCCESS)
        return status;
    p->doc->nodes[*child].key = key;
    return EVK_SUCCESS;
}

/* Objects and arrays: `open` consumed, members or elements separated by
 * commas, no trailing comma. */
static evk_status parse_container(json_parser *p, int depth, evk_json_type type, uint32_t *index)
{
    const int close = type == EVK_JSON_OBJECT ? '}' : ']';
    evk_status status = new_node(p, type, index);
    if (status != EVK_SUCCESS)
        return status;
    ++p->pos;
    skip_whitespace(p);
    if (peek(p) == close) {
        ++p->pos;
        return EVK_SUCCESS;
    }
    uint32_t last = 0;
    for (;;) {
        uint32_t child;
        status = type == EVK_JSON_OBJECT ? parse_member(p, depth, &child)
                                         : parse_value(p, depth + 1, &child);
        if (status != EVK_SUCCESS)
            return status;
        evk_json_node *nodes = p->doc->nodes;
        if (last)
            nodes[last].next = child;
        else
            nodes[*index].first_child = child;
        last = child;
        nodes[*index].child_count++;
        skip_whitespace(p);
        int c = peek(p);
        ++p->pos;
        if (c == close)
            break;
        if (c != ',') {
            --p->pos;
            return syntax_error(p, "expected ',' or '%c'", close);
        }
        skip_whitespace(p);
        if (peek(p) == close)
            return syntax_error(p, "trailing comma");
    }
    return type == EVK_JSON_OBJECT ? reject_duplicate_keys(p, *index) : EVK_SUCCESS;
}

static evk_status parse_value(json_parser *p, int depth, uint32_t *index)
{
    if (depth > EVK_JSON_MAX_DEPTH)
        return syntax_error(p, "nesting deeper than %d levels", EVK_JSON_MAX_DEPTH);
    evk_status status;
    switch (peek(p)) {
    case '{': return parse_container(p, depth, EVK_JSON_OBJECT, index);
    case '[': return parse_container(p, depth, EVK_JSON_ARRAY, index);
    case '"':
        if ((status = new_node(p, EVK_JSON_STRING, index)) != EVK_SUCCESS)
            return status;
        return parse_string(p, &p->doc->nodes[*index].string, &p->doc->nodes[*index].string_length);
    case 't': return parse_literal(p, "true", EVK_JSON_TRUE, index);
    case 'f': return parse_literal(p, "false", EVK_JSON_FALSE, index);
    case 'n': return parse_literal(p, "null", EVK_JSON_NULL, index);
    case -1: return syntax_error(p, "unexpected end of text");
    default:
        if (peek(p) != '-' && !is_digit(peek(p)))
            return syntax_error(p, "unexpected character");
        if (p->numbers_as_text && number_has_fraction_or_exponent(p))
            return parse_number_text(p, index);
        if ((status = new_node(p, EVK_JSON_INTEGER, index)) != EVK_SUCCESS)
            return status;
        return parse_integer(p, &p->doc->nodes[*index].integer);
    }
}

static evk_status parse_document(const evk_allocator *allocator, const char *text, size_t length,
                                 int numbers_as_text, evk_json_doc *doc,
                                 char error[EVK_JSON_ERROR_BYTES])
{
    memset(doc, 0, sizeof *doc);
    error[0] = '\0';
    json_parser p = {allocator, (const unsigned char *)text, length, 0, doc, error,
                     numbers_as_text};
    if (length == SIZE_MAX)
        return out_of_memory(&p);
    doc->strings = evk_alloc_with(allocator, length + 1);
    if (!doc->strings)
        return out_of_memory(&p);
    skip_whitespace(&p);
    uint32_t root;
    evk_status status = parse_value(&p, 1, &root);
    if (status == EVK_SUCCESS) {
        skip_whitespace(&p);
        if (!at_end(&p))
            status = syntax_error(&p, "unexpected text after the end of the JSON value");
    }
    if (status != EVK_SUCCESS)
        evk_json_free(allocator, doc);
    return status;
}

evk_status evk_json_parse(const evk_allocator *allocator, const char *text, size_t length,
                          evk_json_doc *doc, char error[EVK_JSON_ERROR_BYTES])
{
    return parse_document(allocator, text, length, 0, doc, error);
}

evk_status evk_json_parse_numbers(const evk_allocator *allocator, const char *text, size_t length,
                                  evk_json_doc *doc, char error[EVK_JSON_ERROR_BYTES])
{
    return parse_document(allocator, text, length, 1, doc, error);
}

void evk_json_free_nodes(const evk_allocator *allocator, evk_json_doc *doc)
{
    evk_free_with(allocator, doc->nodes);
    doc->nodes = NULL;
    doc->node_count = doc->node_capacity = 0;
}

void evk_json_free(const evk_allocator *allocator, evk_json_doc *doc)
{
    evk_json_free_nodes(allocator, doc);
    evk_free_with(allocator, doc->strings);
    doc->strings = NULL;
    doc->strings_used = 0;
}
