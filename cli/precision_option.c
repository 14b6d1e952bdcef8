#include <string.h>

#include "precision_option.h"

int precision_parse(const char *text, evk_precision *out)
{
    for (int p = EVK_PRECISION_AUTO; p <= EVK_PRECISION_FP16; ++p)
        if (strcmp(text, evk_precision_name((evk_precision)p)) == 0) {
            *out = (evk_precision)p;
            return 0;
        }
    return -1;
}

int precision_list_parse(const char *text, evk_precision *out, uint32_t max, uint32_t *count)
{
    *count = 0;
    while (*count < max) {
        const char *comma = strchr(text, ',');
        size_t length = comma ? (size_t)(comma - text) : strlen(text);
        char word[16];
        if (length == 0 || length >= sizeof word)
            return -1;
        memcpy(word, text, length);
        word[length] = '\0';
        evk_precision p;
        if (precision_parse(word, &p) != 0)
            return -1;
        for (uint32_t i = 0; i < *count; ++i)
            if (out[i] == p)
                return -1;
        out[(*count)++] = p;
        if (!comma)
            return 0;
        text = comma + 1;
    }
    return -1;
}

void precision_print(FILE *out, const evk_context *ctx)
{
    evk_precision_choice c;
    if (evk_context_precision(ctx, &c) != EVK_SUCCESS)
        return;
    fprintf(out, "  %-22s %s (%s: %s)\n", "precision", evk_precision_name(c.chosen),
            evk_precision_name(c.requested), c.reason);
}

void precision_write_json(json_writer *w, const evk_context *ctx)
{
    evk_precision_choice c;
    if (evk_context_precision(ctx, &c) != EVK_SUCCESS)
        return;
    json_key(w, "precision");
    json_object_begin(w);
    json_key_string(w, "requested", evk_precision_name(c.requested));
    json_key_string(w, "chosen", evk_precision_name(c.chosen));
    json_key_string(w, "reason", c.reason);
    json_key(w, "measured_ms");
    json_object_begin(w);
    for (int p = EVK_PRECISION_FP32; p <= EVK_PRECISION_FP16; ++p)
        if (c.measured_ms[p] > 0.0)
            json_key_number(w, evk_precision_name((evk_precision)p), c.measured_ms[p]);
    json_object_end(w);
    json_key_bool(w, "kept", c.kept);
    json_object_end(w);
}
