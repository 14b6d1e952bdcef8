/* A small streaming JSON writer: the caller opens and closes objects and
 * arrays in order, and the writer places commas, indentation and escapes.
 * Non-finite numbers become null, since JSON has no spelling for them. */
#ifndef EFFVK_CLI_JSON_H
#define EFFVK_CLI_JSON_H

#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

typedef struct json_writer {
    FILE *out;
    int depth;
    /* Per open container: whether it holds a value yet (a comma is due). */
    unsigned char has_items[JSON_MAX_DEPTH];
    /* A key was just written; its value follows without comma or newline. */
    int after_key;
    /* Set by misuse (too deep, unbalanced close, key without value) and by
     * write errors. */
    int failed;
} json_writer;

void json_init(json_writer *w, FILE *out);

void json_object_begin(json_writer *w);
void json_object_end(json_writer *w);
void json_array_begin(json_writer *w);
void json_array_end(json_writer *w);

/* Inside an object: the key of the next value. */
void json_key(json_writer *w, const char *key);

void json_string(json_writer *w, const char *value);
/* The shortest of "%.15g" and "%.17g" that reads back as the same double. */
void json_number(json_writer *w, double value);
void json_uint(json_writer *w, uint64_t value);
void json_bool(json_writer *w, int value);
void json_null(json_writer *w);

/* Key and value in one call, for the common flat fields. */
void json_key_string(json_writer *w, const char *key, const char *value);
void json_key_number(json_writer *w, const char *key, double value);
void json_key_uint(json_writer *w, const char *key, uint64_t value);
void json_key_bool(json_writer *w, const char *key, int value);
void json_key_null(json_writer *w, const char *key);

/* Ends the document with a newline and flushes. Returns 0 when every
 * container was closed and every write succeeded, -1 otherwise. */
int json_finish(json_writer *w);

#endif
