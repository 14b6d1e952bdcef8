/* effvk classify: decode an image, preprocess it as torchvision does for the
 * model's weights, run the model, print the top-K classes with softmax
 * probabilities. */
#include "classify.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "effvk/effvk.h"
#include "image.h"
#include "imagenet_classes.h"
#include "preprocess.h"
#include "pipeline_cache_file.h"
#include "precision_option.h"
#include "report.h"

enum { EXIT_OK = 0, EXIT_ERROR = 1 };

const char classify_usage[] =
    "  classify IMAGE      an image's top ImageNet classes with their probabilities,\n"
    "                      one line each: percent, class index, class name\n"
    "    --model NAME      efficientnet-b0 .. efficientnet-b7\n"
    "    --weights FILE    ImageNet weights as .safetensors (1000 classes)\n"
    "    --top K           classes to print (default 5)\n"
    "    --device N        device N of `effvk info`\n"
    PRECISION_USAGE
    "    --gpu-preprocess  resize, crop and normalise on the device (evk_preprocess:\n"
    "                      torchvision's uint8 tensor path, one rounding) instead of\n"
    "                      on the CPU (PIL's two passes, as for a PIL image)\n"
    PIPELINE_CACHE_USAGE
    "    --help, -h        the command's usage\n";

typedef struct classify_args {
    const char *model, *weights, *image;
    uint32_t top, device;
    int use_device, no_cache, gpu_preprocess;
    evk_precision precision;
} classify_args;

/* parse_args's result when the command line asks for the usage. */
enum { USAGE_ASKED = -1 };

static int usage(const char *problem, const char *argument)
{
    return report_usage_error("classify", problem, argument);
}

static int parse_number(const char *text, uint32_t min, uint32_t max, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long value = strtoul(text, &end, 10);
    if (*text < '0' || *text > '9' || errno || *end || value < min || value > max)
        return -1;
    *out = (uint32_t)value;
    return 0;
}

/* The option at argv[*i] and its value. */
static int parse_option(int argc, char **argv, int *i, classify_args *a)
{
    const char *option = argv[*i];
    if (is_help_option(option))
        return USAGE_ASKED;
    if (strcmp(option, "--no-cache") == 0) {
        a->no_cache = 1;
        return EXIT_OK;
    }
    if (strcmp(option, "--gpu-preprocess") == 0) {
        a->gpu_preprocess = 1;
        return EXIT_OK;
    }
    const char **text = strcmp(option, "--model") == 0 ? &a->model
                      : strcmp(option, "--weights") == 0 ? &a->weights : NULL;
    uint32_t *number = strcmp(option, "--top") == 0 ? &a->top
                     : strcmp(option, "--device") == 0 ? &a->device : NULL;
    int precision = strcmp(option, "--precision") == 0;
    if (!text && !number && !precision)
        return usage("unknown option", option);
    if (*i + 1 >= argc)
        return usage("a value must follow", option);
    const char *value = argv[++*i];
    if (precision)
        return precision_parse(value, &a->precision) == 0 ? EXIT_OK
                                                           : usage("bad precision", value);
    if (text) {
        *text = value;
        return EXIT_OK;
    }
    uint32_t min = number == &a->top ? 1 : 0;
    uint32_t max = number == &a->top ? IMAGENET_CLASS_COUNT : UINT32_MAX;
    if (parse_number(value, min, max, number) != 0)
        return usage(number == &a->top ? "--top takes 1 to 1000" : "bad device index", value);
    a->use_device |= number == &a->device;
    return EXIT_OK;
}

static int parse_args(int argc, char **argv, classify_args *a)
{
    *a = (classify_args){.top = 5};
    for (int i = 0; i < argc; ++i) {
        int code = EXIT_OK;
        if (argv[i][0] == '-')
            code = parse_option(argc, argv, &i, a);
        else if (a->image)
            code = usage("one image only; also given", argv[i]);
        else
            a->image = argv[i];
        if (code != EXIT_OK)
            return code;
    }
    if (!a->model || !a->weights || !a->image)
        return usage("--model, --weights and an image are required", NULL);
    return EXIT_OK;
}

/* Softmax in place, in double against overflow of large logits. */
static void softmax(float *values, uint32_t count)
{
    float largest = values[0];
    for (uint32_t i = 1; i < count; ++i)
        largest = values[i] > largest ? values[i] : largest;
    double sum = 0.0;
    for (uint32_t i = 0; i < count; ++i)
        sum += exp((double)values[i] - largest);
    for (uint32_t i = 0; i < count; ++i)
        values[i] = (float)(exp((double)values[i] - largest) / sum);
}

/* The `top` largest probabilities, best first (ties: the lower index). */
static void print_top(const float *probabilities, uint32_t top)
{
    unsigned char taken[IMAGENET_CLASS_COUNT] = {0};
    for (uint32_t rank = 0; rank < top; ++rank) {
        uint32_t best = UINT32_MAX;
        for (uint32_t i = 0; i < IMAGENET_CLASS_COUNT; ++i)
            if (!taken[i] && (best == UINT32_MAX || probabilities[i] > probabilities[best]))
                best = i;
        taken[best] = 1;
        printf("%8.4f%%  %4u  %s\n", 100.0 * probabilities[best], best, imagenet_classes[best]);
    }
}

static int failure(const char *what, evk_status s, const evk_context *ctx)
{
    end_pipeline_progress();
    report_failure("classify", what, s, evk_last_error(ctx));
    return EXIT_ERROR;
}

/* Loads the model for one image of `spec`'s crop and prints its top classes. */
static int classify_input(evk_context *ctx, const classify_args *a, const preprocess_spec *spec,
                          const float *input)
{
    evk_model_options opts = {.batch = 1, .height = spec->crop, .width = spec->crop};
    evk_model *m = NULL;
    evk_status s = evk_model_load(ctx, a->model, a->weights, &opts, &m);
    if (s != EVK_SUCCESS)
        return failure(a->weights, s, ctx);
    evk_shape out;
    evk_model_output_shape(m, &out);
    float logits[IMAGENET_CLASS_COUNT];
    int code = EXIT_OK;
    if (out.c != IMAGENET_CLASS_COUNT) {
        fprintf(stderr, "effvk classify: %s: the classifier has %u classes; ImageNet's names "
                "need %u\n", a->weights, out.c, IMAGENET_CLASS_COUNT);
        code = EXIT_ERROR;
    } else if ((s = evk_model_run(m, input, 3ull * spec->crop * spec->crop, logits,
                                  IMAGENET_CLASS_COUNT)) != EVK_SUCCESS) {
        code = failure(a->model, s, ctx);
    } else {
        softmax(logits, IMAGENET_CLASS_COUNT);
        print_top(logits, a->top);
    }
    evk_model_destroy(m);
    return code;
}

/* The image preprocessed on the device into `input`. */
static int preprocess_on_device(evk_context *ctx, const rgb_image *image,
                                const preprocess_spec *spec, float *input)
{
    evk_preprocess_desc desc = {.width = image->width, .height = image->height,
                                .format = EVK_PIXEL_RGB8, .filter = EVK_RESIZE_BICUBIC,
                                .resize = spec->resize, .crop = spec->crop};
    memcpy(desc.mean, spec->mean, sizeof desc.mean);
    memcpy(desc.std, spec->std, sizeof desc.std);
    evk_preprocess *p = NULL;
    evk_tensor *t = NULL;
    uint64_t count = 3ull * spec->crop * spec->crop;
    evk_status s = evk_preprocess_create(ctx, &desc, &p);
    if (s == EVK_SUCCESS)
        s = evk_tensor_create(ctx, (evk_shape){1, 3, spec->crop, spec->crop}, &t);
    if (s == EVK_SUCCESS)
        s = evk_preprocess_run(p, image->pixels, 3ull * image->width * image->height, t, 0);
    if (s == EVK_SUCCESS)
        s = evk_tensor_download(t, input, count);
    int code = s == EVK_SUCCESS ? EXIT_OK : failure("--gpu-preprocess", s, ctx);
    evk_tensor_destroy(t);
    evk_preprocess_destroy(p);
    return code;
}

/* The image, decoded and preprocessed (on the device with `ctx`, else on
 * the CPU) into a malloc'd array; NULL after reporting the problem. */
static float *load_input(const char *path, const preprocess_spec *spec, evk_context *ctx)
{
    char error[256];
    rgb_image image;
    if (image_load_rgb(path, &image, error, sizeof error) != 0) {
        fprintf(stderr, "effvk classify: %s\n", error);
        return NULL;
    }
    float *input = malloc(3 * (size_t)spec->crop * spec->crop * sizeof *input);
    if (input && ctx) {
        if (preprocess_on_device(ctx, &image, spec, input) != EXIT_OK) {
            free(input);
            input = NULL;
        }
    } else if (!input ||
               preprocess_image(image.pixels, image.width, image.height, spec, input) != 0) {
        fprintf(stderr, "effvk classify: %s: out of memory preprocessing %ux%u pixels\n", path,
                image.width, image.height);
        free(input);
        input = NULL;
    }
    image_free(&image);
    return input;
}

int classify_main(int argc, char **argv)
{
    classify_args a;
    int code = parse_args(argc, argv, &a);
    if (code == USAGE_ASKED)
        return print_command_usage("classify --model NAME --weights FILE [options] IMAGE",
                                   classify_usage,
                                   "exit status: 0 success, 1 error, 2 bad usage\n");
    if (code != EXIT_OK)
        return code;
    preprocess_spec spec;
    if (preprocess_spec_for(a.model, &spec) != 0)
        return usage("unknown model (known: efficientnet-b0 .. efficientnet-b7):", a.model);
    float *input = a.gpu_preprocess ? NULL : load_input(a.image, &spec, NULL);
    if (!input && !a.gpu_preprocess)
        return EXIT_ERROR;
    evk_context_desc desc = {.device_index = a.device, .use_device_index = a.use_device,
                             .precision = a.precision};
    pipeline_cache_file cache;
    use_pipeline_cache("classify", !a.no_cache, &cache, &desc);
    show_pipeline_progress(&desc);
    report_attach_log(&desc);
    evk_context *ctx = NULL;
    evk_status s = evk_context_create(&desc, &ctx);
    if (s == EVK_SUCCESS && a.gpu_preprocess)
        input = load_input(a.image, &spec, ctx);
    if (s != EVK_SUCCESS)
        code = failure("context", s, NULL);
    else
        code = input ? classify_input(ctx, &a, &spec, input) : EXIT_ERROR;
    evk_context_destroy(ctx);
    free(input);
    return code;
}
