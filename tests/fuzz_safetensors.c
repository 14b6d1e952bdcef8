/* A deterministic mutation fuzzer of the .safetensors reader: it mutates a
 * few seed files (bit flips, truncations, header-length edits, random and
 * JSON-significant bytes in the header, inserted and deleted header bytes,
 * digits replaced by digits) and opens each mutant from memory, reading
 * every tensor it accepts.
 * Each mutant sits in a buffer of exactly its size, so that AddressSanitizer
 * catches any read past the end. It checks that rejections carry a message
 * naming the file, that accepted files read back with exactly their element
 * count, and that both outcomes occur (else the mutations are too weak or
 * too strong to test anything).
 *
 * Usage: fuzz_safetensors [iterations (default 2000)] [seed (default 1)] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_mutate.h"
#include "model/safetensors.h"
#include "safetensors_file.h"

#define FILE_NAME "fuzz.safetensors"
#define MAX_READ_ELEMENTS (1u << 16)

typedef struct seed_file {
    unsigned char *bytes;
    size_t size;
} seed_file;

static seed_file make_seed(const char *header, size_t data_size, uint64_t *rng)
{
    seed_file seed;
    seed.bytes = st_file_make(header, NULL, data_size, &seed.size);
    for (size_t i = seed.size - data_size; i < seed.size; ++i)
        seed.bytes[i] = (unsigned char)fuzz_next(rng);
    return seed;
}

static uint64_t header_length(const unsigned char *bytes)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
        v = v << 8 | bytes[i];
    return v;
}

/* Replaces one digit of the header by another: offsets and shapes that
 * still parse, overlapping or not, and tensor names "w1", "w2" that collide. */
static void replace_digit(uint64_t *rng, unsigned char *buffer, size_t header_end)
{
    size_t digits = 0;
    for (size_t i = 8; i < header_end; ++i)
        digits += buffer[i] >= '0' && buffer[i] <= '9';
    size_t pick = fuzz_below(rng, digits);
    for (size_t i = 8; i < header_end; ++i)
        if (buffer[i] >= '0' && buffer[i] <= '9' && pick-- == 0)
            buffer[i] = (unsigned char)('0' + fuzz_below(rng, 10));
}

/* One edit of `buffer` (capacity >= *size + 1); keeps *size >= 8 except
 * for truncations. */
static void mutate_once(uint64_t *rng, unsigned char *buffer, size_t *size)
{
    static const char json_chars[] = "{}[]\",:\\-0123456789eEu. \x80\xff";
    size_t header = *size >= 8 ? (size_t)header_length(buffer) : 0;
    size_t header_end = *size >= 8 && header <= *size - 8 ? 8 + header : *size;
    switch (fuzz_below(rng, 8)) {
    case 0:
        if (*size)
            buffer[fuzz_below(rng, *size)] ^= (unsigned char)(1u << fuzz_below(rng, 8));
        break;
    case 1:
        *size = fuzz_below(rng, *size + 1);
        break;
    case 2: {
        static const uint64_t specials[] = {0, 1, 100000000, 100000001, UINT64_MAX,
                                            (uint64_t)1 << 63};
        int near = fuzz_below(rng, 2) != 0;
        uint64_t value = near ? header + fuzz_below(rng, 9) - 4
                              : specials[fuzz_below(rng, sizeof specials / sizeof specials[0])];
        if (*size >= 8)
            st_file_put_u64(buffer, value);
        break;
    }
    case 3:
        if (header_end > 8)
            buffer[8 + fuzz_below(rng, header_end - 8)] = (unsigned char)fuzz_next(rng);
        break;
    case 4:
        if (header_end > 8)
            buffer[8 + fuzz_below(rng, header_end - 8)] =
                (unsigned char)json_chars[fuzz_below(rng, sizeof json_chars - 1)];
        break;
    case 5:
        replace_digit(rng, buffer, header_end);
        break;
    case 6:
        if (header_end > 8 && header_end == 8 + header) {
            size_t at = 8 + fuzz_below(rng, header);
            memmove(buffer + at + 1, buffer + at, *size - at);
            buffer[at] = (unsigned char)json_chars[fuzz_below(rng, sizeof json_chars - 1)];
            st_file_put_u64(buffer, header + 1);
            ++*size;
        }
        break;
    default:
        if (header_end > 8 && header_end == 8 + header) {
            size_t at = 8 + fuzz_below(rng, header);
            memmove(buffer + at, buffer + at + 1, *size - at - 1);
            st_file_put_u64(buffer, header - 1);
            --*size;
        }
        break;
    }
}

/* Reads every float tensor of an accepted file; 0 on a broken invariant. */
static int read_all(const evk_safetensors *st, float *scratch)
{
    for (size_t i = 0; i < evk_safetensors_count(st); ++i) {
        evk_safetensors_info info;
        const char *name = evk_safetensors_name(st, i);
        if (evk_safetensors_find(st, name, &info) != EVK_SUCCESS)
            return 0;
        int is_float = info.dtype == EVK_ST_F32 || info.dtype == EVK_ST_F16 ||
                       info.dtype == EVK_ST_BF16;
        if (!is_float || info.element_count > MAX_READ_ELEMENTS)
            continue;
        size_t count = (size_t)info.element_count;
        if (evk_safetensors_read_f32(st, name, scratch, count) != EVK_SUCCESS ||
            evk_safetensors_read_f32(st, name, scratch, count + 1) != EVK_ERROR_SHAPE_MISMATCH)
            return 0;
    }
    evk_safetensors_metadata(st, "format");
    return 1;
}

/* 1: opened, 0: rejected properly, -1: broken invariant. */
static int try_mutant(const unsigned char *bytes, size_t size, float *scratch)
{
    unsigned char *exact = fuzz_exact_copy(bytes, size);
    if (!exact)
        return -1;
    evk_safetensors *st = NULL;
    evk_status status = evk_safetensors_open_memory(NULL, FILE_NAME, exact, size, &st);
    int outcome;
    if (status == EVK_SUCCESS)
        outcome = read_all(st, scratch) ? 1 : -1;
    else
        outcome = !st && fuzz_message_names_file(status, FILE_NAME) ? 0 : -1;
    if (outcome < 0)
        fprintf(stderr, "broken invariant (status %s): %s\n", evk_status_string(status),
                evk_last_error(NULL));
    evk_safetensors_close(st);
    free(exact);
    return outcome;
}

int main(int argc, char **argv)
{
    long iterations = argc > 1 ? strtol(argv[1], NULL, 10) : 2000;
    uint64_t rng = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
    seed_file seeds[] = {
        make_seed("{\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                  "\"fc.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[24,32]},"
                  "\"__metadata__\":{\"format\":\"pt\",\"x\":\"\\u00e9\\ud83d\\ude00\\n\"}}",
                  32, &rng),
        make_seed("{\"h\":{\"dtype\":\"F16\",\"shape\":[3,1],\"data_offsets\":[1,7]},"
                  "\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[7,15]}}      ",
                  16, &rng),
        /* Invalid: overlapping tensors, so that mutants keep reaching the
         * overlap check, which valid seeds are rarely mutated into. */
        make_seed("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                  "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[2,6]},"
                  "\"c\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[3,3]}}", 8, &rng),
        make_seed("{\"n\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},"
                  "\"e\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[8,8]},"
                  "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[8,12]}}", 12, &rng),
        make_seed("{\"w1\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]},"
                  "\"w2\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[8,12]},"
                  "\"w3\":{\"dtype\":\"BF16\",\"shape\":[1,1,1],\"data_offsets\":[12,14]}}",
                  16, &rng),
        /* Invalid: overlapping tensors, so that mutants keep reaching the
         * overlap check, which valid seeds are rarely mutated into. */
        make_seed("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                  "\"b\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[2,6]},"
                  "\"c\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[3,3]}}", 8, &rng),
    };
    const size_t seed_count = sizeof seeds / sizeof seeds[0];
    float *scratch = malloc((MAX_READ_ELEMENTS + 1) * sizeof *scratch);
    unsigned char *buffer = malloc(4096);
    if (!scratch || !buffer)
        return 2;
    long opened = 0, rejected = 0, broken = 0;
    for (long i = 0; i < iterations; ++i) {
        const seed_file *seed = &seeds[fuzz_below(&rng, seed_count)];
        size_t size = seed->size;
        memcpy(buffer, seed->bytes, size);
        for (size_t edits = 1 + fuzz_below(&rng, 4); edits && size + 1 < 4096; --edits)
            mutate_once(&rng, buffer, &size);
        int outcome = try_mutant(buffer, size, scratch);
        opened += outcome == 1;
        rejected += outcome == 0;
        broken += outcome < 0;
    }
    for (size_t s = 0; s < seed_count; ++s)
        free(seeds[s].bytes);
    free(scratch);
    free(buffer);
    printf("fuzz_safetensors: %ld mutants, %ld opened, %ld rejected, %ld broken invariants\n",
           iterations, opened, rejected, broken);
    if (iterations >= 100 && (!opened || !rejected)) {
        fprintf(stderr, "fuzz_safetensors: every mutant had the same outcome\n");
        return 1;
    }
    return broken ? 1 : 0;
}
