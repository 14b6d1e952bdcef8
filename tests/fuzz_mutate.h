/* What the deterministic mutation fuzzers share: a seeded PRNG (splitmix64,
 * so that a failure reproduces from its seed), the copy of a mutant into a
 * buffer of exactly its size (so that AddressSanitizer catches a read past
 * the end) and the check that a rejection's message starts with the status
 * and names the file. */
#ifndef EFFVK_TESTS_FUZZ_MUTATE_H
#define EFFVK_TESTS_FUZZ_MUTATE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "effvk/effvk.h"

static inline uint64_t fuzz_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n); 0 when n is 0. */
static inline size_t fuzz_below(uint64_t *rng, size_t n)
{
    return n ? (size_t)(fuzz_next(rng) % n) : 0;
}

/* A malloc'd copy of exactly `size` bytes (NULL when malloc fails). */
static inline unsigned char *fuzz_exact_copy(const unsigned char *bytes, size_t size)
{
    unsigned char *copy = malloc(size ? size : 1);
    if (copy && size)
        memcpy(copy, bytes, size);
    return copy;
}

static inline int fuzz_message_names_file(evk_status status, const char *file)
{
    const char *message = evk_last_error(NULL);
    const char *name = evk_status_string(status);
    return strncmp(message, name, strlen(name)) == 0 && strstr(message, file) != NULL;
}

#endif
