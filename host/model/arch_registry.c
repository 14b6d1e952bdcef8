/* Finding a network's architecture by name: the user's spelling made
 * normal, then the family tables of arch_tables.h. */
#include <ctype.h>
#include <string.h>

#include "arch_tables.h"
#include "context.h"

/* `name` with '_' as '-' and in lower case, into `normal` of `size` bytes;
 * 0 when it does not fit. */
static int normal_name(const char *name, char *normal, size_t size)
{
    size_t n = strlen(name);
    if (n >= size)
        return 0;
    for (size_t i = 0; i <= n; ++i)
        normal[i] = name[i] == '_' ? '-' : (char)tolower((unsigned char)name[i]);
    return 1;
}

evk_status evk_arch_get(evk_context *ctx, const char *name, uint32_t num_classes, uint32_t part,
                        double alpha, evk_arch *arch)
{
    char normal[32];
    int named = name && normal_name(name, normal, sizeof normal);
    if (named && evk_efficientnet_arch(normal, num_classes, arch))
        return EVK_SUCCESS;
    if (named && evk_nets_knows(normal))
        return evk_nets_arch(ctx, normal, num_classes, part, alpha, arch);
    return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "unknown model '%s' (known: "
                    "efficientnet-b0 to efficientnet-b7, %s)", named ? normal : name ? name
                    : "(null)", evk_nets_known);
}
