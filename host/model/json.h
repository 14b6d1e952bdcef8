/* A small strict JSON parser, sized for .safetensors headers: objects,
 * arrays, strings (all escapes, \uXXXX with surrogate pairs, UTF-8 checked),
 * integers (int64; fractions and exponents are rejected unless the caller
 * asks for them, see evk_json_parse_numbers), true, false, null.
 * Duplicate keys, trailing commas, trailing garbage and nesting deeper than
 * EVK_JSON_MAX_DEPTH are errors. Strings may not contain U+0000, so every
 * decoded string is a plain C string.
 *
 * Written here rather than taken from a library: the library must build for
 * Android and embed in applications without extra dependencies, and the
 * header of a weights file is untrusted input, so the parser should be small
 * enough to read in one sitting and fuzz completely. */
#ifndef EFFVK_HOST_MODEL_JSON_H
#define EFFVK_HOST_MODEL_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "effvk/effvk.h"

#define EVK_JSON_MAX_DEPTH 32
#define EVK_JSON_ERROR_BYTES 256

typedef enum evk_json_type {
    EVK_JSON_NULL,
    EVK_JSON_FALSE,
    EVK_JSON_TRUE,
    EVK_JSON_INTEGER,
    EVK_JSON_STRING,
    EVK_JSON_ARRAY,
    EVK_JSON_OBJECT,
    EVK_JSON_NUMBER             /* only from evk_json_parse_numbers */
} evk_json_type;

/* Nodes refer to each other by index into evk_json_doc.nodes; index 0 is the
 * root, so 0 also means "none" for `next` and `first_child`. */
typedef struct evk_json_node {
    evk_json_type type;
    uint32_t next;              /* next element or member of the parent */
    uint32_t first_child;       /* arrays and objects */
    uint32_t child_count;
    const char *key;            /* members of an object; NULL otherwise */
    int64_t integer;            /* EVK_JSON_INTEGER */
    const char *string;         /* EVK_JSON_STRING; EVK_JSON_NUMBER: its text */
    size_t string_length;
} evk_json_node;

typedef struct evk_json_doc {
    evk_json_node *nodes;
    size_t node_count;
    size_t node_capacity;
    /* Every decoded string and key, NUL-terminated; one block no larger than
     * the text plus one byte. */
    char *strings;
    size_t strings_used;
} evk_json_doc;

/* Parses `length` bytes of `text` (not NUL-terminated) with `allocator` (NULL:
 * malloc/free). On failure the document is empty and `error` holds
 * "at byte N: problem". Errors: EVK_ERROR_INVALID_ARGUMENT (not valid JSON of
 * the subset above), EVK_ERROR_OUT_OF_HOST_MEMORY. */
evk_status evk_json_parse(const evk_allocator *allocator, const char *text, size_t length,
                          evk_json_doc *doc, char error[EVK_JSON_ERROR_BYTES]);

/* evk_json_parse that also accepts numbers with a fraction or an exponent
 * (JSON's whole number grammar), as EVK_JSON_NUMBER nodes whose `string` is
 * the number as written; numbers without either stay EVK_JSON_INTEGER.
 * Converting the text is the caller's: strtod reads the C locale, which an
 * application embedding the library may have changed. The effvk program
 * reads its benchmark files with it. */
evk_status evk_json_parse_numbers(const evk_allocator *allocator, const char *text, size_t length,
                                  evk_json_doc *doc, char error[EVK_JSON_ERROR_BYTES]);

/* Frees the nodes, keeping the strings; the caller frees `doc->strings` with
 * the same allocator when done with them. */
void evk_json_free_nodes(const evk_allocator *allocator, evk_json_doc *doc);
/* Frees nodes and strings. */
void evk_json_free(const evk_allocator *allocator, evk_json_doc *doc);

#endif
