#include "json.h"

#include <math.h>
#include <stdlib.h>

void json_init(json_writer *w, FILE *out)
{
    *w = (json_writer){.out = out};
}

static void newline_indent(json_writer *w)
{
    fputc('\n', w->out);
    for (int i = 0; i < w->depth; ++i)
        fputs("  ", w->out);
}

/* Separates a value from the one before it, unless a key already did. */
static void begin_value(json_writer *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->depth == 0)
        return;
    if (w->has_items[w->depth - 1])
        fputc(',', w->out);
    w->has_items[w->depth - 1] = 1;
    newline_indent(w);
}

static void open_container(json_writer *w, char bracket)
{
    begin_value(w);
    fputc(bracket, w->out);
    if (w->depth == JSON_MAX_DEPTH) {
        w->failed = 1;
        return;
    }
    w->has_items[w->depth++] = 0;
}

static void close_container(json_writer *w, char bracket)
{
    if (w->depth == 0 || w->after_key) {
        w->failed = 1;
        return;
    }
    int had_items = w->has_items[--w->depth];
    if (had_items)
        newline_indent(w);
    fputc(bracket, w->out);
}

void json_object_begin(json_writer *w) { open_container(w, '{'); }
void json_object_end(json_writer *w) { close_container(w, '}'); }
void json_array_begin(json_writer *w) { open_container(w, '['); }
void json_array_end(json_writer *w) { close_container(w, ']'); }

static void write_escaped(FILE *out, const char *text)
{
    fputc('"', out);
    for (const unsigned char *c = (const unsigned char *)text; *c; ++c) {
        switch (*c) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        case '\b': fputs("\\b", out); break;
        case '\f': fputs("\\f", out); break;
        default:
            if (*c < 0x20)
                fprintf(out, "\\u%04x", *c);
            else
                fputc(*c, out);
        }
    }
    fputc('"', out);
}

void json_key(json_writer *w, const char *key)
{
    if (w->after_key || w->depth == 0)
        w->failed = 1;
    begin_value(w);
    write_escaped(w->out, key);
    fputs(": ", w->out);
    w->after_key = 1;
}

void json_string(json_writer *w, const char *value)
{
    begin_value(w);
    write_escaped(w->out, value);
}

void json_number(json_writer *w, double value)
{
    if (!isfinite(value)) {
        json_null(w);
        return;
    }
    /* "%.17g" always round-trips but prints 0.1 as 0.10000000000000001. */
    char text[32];
    snprintf(text, sizeof text, "%.15g", value);
    if (strtod(text, NULL) != value)
        snprintf(text, sizeof text, "%.17g", value);
    begin_value(w);
    fputs(text, w->out);
}

void json_uint(json_writer *w, uint64_t value)
{
    begin_value(w);
    fprintf(w->out, "%llu", (unsigned long long)value);
}

void json_bool(json_writer *w, int value)
{
    begin_value(w);
    fputs(value ? "true" : "false", w->out);
}

void json_null(json_writer *w)
{
    begin_value(w);
    fputs("null", w->out);
}

void json_key_string(json_writer *w, const char *key, const char *value)
{
    json_key(w, key);
    json_string(w, value);
}

void json_key_number(json_writer *w, const char *key, double value)
{
    json_key(w, key);
    json_number(w, value);
}

void json_key_uint(json_writer *w, const char *key, uint64_t value)
{
    json_key(w, key);
    json_uint(w, value);
}

void json_key_bool(json_writer *w, const char *key, int value)
{
    json_key(w, key);
    json_bool(w, value);
}

void json_key_null(json_writer *w, const char *key)
{
    json_key(w, key);
    json_null(w);
}

int json_finish(json_writer *w)
{
    fputc('\n', w->out);
    int write_failed = fflush(w->out) != 0 || ferror(w->out);
    return w->failed || w->depth != 0 || w->after_key || write_failed ? -1 : 0;
}
