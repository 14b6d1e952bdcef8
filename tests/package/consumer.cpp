// The public header from C++17: a conv2d through RAII wrappers, checked
// against a plain loop.
#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

#include <effvk/effvk.h>

namespace {

struct context_deleter {
    void operator()(evk_context *ctx) const { evk_context_destroy(ctx); }
};
struct tensor_deleter {
    void operator()(evk_tensor *t) const { evk_tensor_destroy(t); }
};
struct layer_deleter {
    void operator()(evk_layer *l) const { evk_layer_destroy(l); }
};
using tensor_ptr = std::unique_ptr<evk_tensor, tensor_deleter>;

constexpr uint32_t in_c = 6, out_c = 5, h = 5, w = 11, pixels = h * w;

tensor_ptr make_tensor(evk_context *ctx, evk_shape shape)
{
    evk_tensor *t = nullptr;
    return tensor_ptr(evk_tensor_create(ctx, shape, &t) == EVK_SUCCESS ? t : nullptr);
}

} // namespace

int main()
{
    std::vector<float> weight(out_c * in_c), input(in_c * pixels), output(out_c * pixels);
    for (std::size_t i = 0; i < weight.size(); ++i)
        weight[i] = static_cast<float>(i % 7) / 7.0f - 0.4f;
    for (std::size_t i = 0; i < input.size(); ++i)
        input[i] = static_cast<float>(i % 13) / 13.0f;
    evk_context *raw_ctx = nullptr;
    if (evk_context_create(nullptr, &raw_ctx) != EVK_SUCCESS) {
        std::fprintf(stderr, "consumer_cxx: %s\n", evk_last_error(nullptr));
        return 1;
    }
    std::unique_ptr<evk_context, context_deleter> ctx(raw_ctx);
    evk_conv2d_desc desc{};
    desc.in_channels = in_c;
    desc.out_channels = out_c;
    desc.kernel_h = desc.kernel_w = 1;
    desc.weight = weight.data();
    desc.weight_count = weight.size();
    evk_layer *raw_layer = nullptr;
    evk_status s = evk_conv2d_create(ctx.get(), &desc, &raw_layer);
    std::unique_ptr<evk_layer, layer_deleter> layer(raw_layer);
    tensor_ptr x = make_tensor(ctx.get(), {1, in_c, h, w});
    tensor_ptr y = make_tensor(ctx.get(), {1, out_c, h, w});
    if (s == EVK_SUCCESS && x && y)
        s = evk_tensor_upload(x.get(), input.data(), input.size());
    else if (s == EVK_SUCCESS)
        s = EVK_ERROR_OUT_OF_DEVICE_MEMORY;
    if (s == EVK_SUCCESS)
        s = evk_layer_forward(layer.get(), x.get(), y.get());
    if (s == EVK_SUCCESS)
        s = evk_tensor_download(y.get(), output.data(), output.size());
    if (s != EVK_SUCCESS) {
        std::fprintf(stderr, "consumer_cxx: %s\n", evk_last_error(ctx.get()));
        return 1;
    }
    for (uint32_t o = 0; o < out_c; ++o)
        for (uint32_t p = 0; p < pixels; ++p) {
            double expected = 0.0;
            for (uint32_t i = 0; i < in_c; ++i)
                expected += double(weight[o * in_c + i]) * input[i * pixels + p];
            if (std::fabs(output[o * pixels + p] - expected) > 1e-5) {
                std::fprintf(stderr, "consumer_cxx: output %u differs\n", o * pixels + p);
                return 1;
            }
        }
    std::printf("consumer_cxx: conv2d matches the plain loop\n");
    return 0;
}
