/* The context's precision (effvk.h, evk_precision): what the desc or
 * EFFVK_PRECISION asks, checked against the device, or for AUTO chosen by
 * the device's features, the profile's precision_cap and a measurement kept
 * in the pipeline cache's folder. */
#ifndef EFFVK_HOST_PRECISION_H
#define EFFVK_HOST_PRECISION_H

#include "context.h"

/* Fills ctx->precision; called at creation once the context can run layers
 * (it creates some for the measurement). */
evk_status evk_precision_choose(evk_context *ctx, const evk_context_desc *desc);

#endif
