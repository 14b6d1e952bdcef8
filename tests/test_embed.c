/* Device tier: embedding in an application that has its own Vulkan device.
 * The test plays the application (host_app.c: its instance with the
 * validation layer's synchronisation checks on, its device and queue, a
 * messenger that fails the test on any message), and checks:
 *  - layers recorded into the application's command buffer, chained and
 *    followed by the application's barrier, give the blocking forward's
 *    output bit for bit, with no hazard reported;
 *  - asynchronous runs: two in flight at once, polled and waited for with
 *    a timeout, chained by a binary semaphore, held back by a timeline
 *    semaphore until the host signals it;
 *  - tensors over the application's buffers (zero-copy): its data read
 *    and written in place at an offset, the packed layout as documented,
 *    and wrong sizes, usages and alignments refused by name;
 *  - destroying a context waits for effvk's own work only: it returns
 *    while the application's own submission is still blocked.
 * The sanitizer build runs it with the plain validation layer: Debian's
 * layer (1.3.239) keeps synchronisation validation's state in a reference
 * cycle that LeakSanitizer reports when the instance is destroyed. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handles.h"
#include "host_app.h"

static const tu_conv_case dense_case = {.input = {2, 5, 9, 7}, .out_channels = 6, .kernel_h = 3,
                                        .kernel_w = 3, .pad_h = 1, .pad_w = 1,
                                        .activation = EVK_ACTIVATION_RELU, .bias = 1};
static const tu_conv_case depthwise_case = {.input = {2, 6, 9, 7}, .out_channels = 6,
                                            .kernel_h = 3, .kernel_w = 3, .stride_h = 2,
                                            .stride_w = 2, .pad_h = 1, .pad_w = 1, .groups = 6,
                                            .activation = EVK_ACTIVATION_SILU};

typedef struct two_layers {
    tu_conv_weights w1, w2;
    evk_layer *l1, *l2;
    evk_shape in, mid, out;
    float *x;
} two_layers;

static void two_layers_make(evk_context *ctx, two_layers *t)
{
    tu_conv_weights_make(&t->w1, &dense_case, 31);
    tu_conv_weights_make(&t->w2, &depthwise_case, 32);
    assert_int_equal(evk_conv2d_create(ctx, &t->w1.desc, &t->l1), EVK_SUCCESS);
    assert_int_equal(evk_conv2d_create(ctx, &t->w2.desc, &t->l2), EVK_SUCCESS);
    t->in = dense_case.input;
    assert_int_equal(evk_layer_output_shape(t->l1, t->in, &t->mid), EVK_SUCCESS);
    assert_int_equal(evk_layer_output_shape(t->l2, t->mid, &t->out), EVK_SUCCESS);
    tu_rng rng = tu_rng_seeded(33);
    t->x = tu_random_array(&rng, evk_shape_elements(t->in), -1.0f, 1.0f);
}

static void two_layers_free(two_layers *t)
{
    evk_layer_destroy(t->l1);
    evk_layer_destroy(t->l2);
    tu_conv_weights_free(&t->w1);
    tu_conv_weights_free(&t->w2);
    free(t->x);
}

/* The chain through the blocking calls, as the reference for the others. */
static float *blocking_chain(evk_context *ctx, two_layers *t)
{
    evk_tensor *a = tu_tensor(ctx, t->in, t->x), *b = tu_tensor(ctx, t->mid, NULL),
               *c = tu_tensor(ctx, t->out, NULL);
    assert_int_equal(evk_layer_forward(t->l1, a, b), EVK_SUCCESS);
    float *mid = tu_download(b);
    tu_assert_conv_output(&t->w1.desc, t->in, t->x, mid, "dense conv of the chain");
    free(mid);
    assert_int_equal(evk_layer_forward(t->l2, b, c), EVK_SUCCESS);
    float *out = tu_download(c);
    evk_tensor_destroy(a);
    evk_tensor_destroy(b);
    evk_tensor_destroy(c);
    return out;
}

/* The application, a context on its objects, the chain and its blocking
 * output. */
typedef struct embed_case {
    host_app app;
    tu_log log;
    evk_context *ctx;
    two_layers t;
    float *expected;
} embed_case;

static void embed_open(embed_case *e)
{
    host_app_create(&e->app, EFFVK_TEST_SYNC_VALIDATION);
    e->log = (tu_log){0};
    e->ctx = host_app_adopt(&e->app, &e->log, NULL, NULL);
    two_layers_make(e->ctx, &e->t);
    e->expected = blocking_chain(e->ctx, &e->t);
}

/* Nothing the validation layer or the library reported, and the
 * application's objects still work after the context is gone. */
static void embed_close(embed_case *e)
{
    two_layers_free(&e->t);
    free(e->expected);
    evk_context_destroy(e->ctx);
    host_app_assert_alive(&e->app);
    host_app_destroy(&e->app);
    assert_int_equal(e->app.messages, 0);
    assert_int_equal(e->log.unexpected, 0);
}

static void assert_same(const float *a, const float *b, evk_shape s, const char *what)
{
    if (memcmp(a, b, evk_shape_elements(s) * sizeof *a) != 0)
        fail_msg("%s: differs from the blocking forward", what);
}

static void test_record_into_application_buffer(void **state)
{
    (void)state;
    embed_case e;
    embed_open(&e);
    evk_tensor *a = tu_tensor(e.ctx, e.t.in, e.t.x), *b = tu_tensor(e.ctx, e.t.mid, NULL),
               *c = tu_tensor(e.ctx, e.t.out, NULL);
    VkCommandPool pool;
    VkCommandBuffer cb = tu_commands_begin(&e.app.vulkan, &pool);
    evk_recorded *r1 = NULL, *r2 = NULL;
    evk_context_stats before, after;
    assert_int_equal(evk_context_stats_get(e.ctx, &before), EVK_SUCCESS);
    assert_int_equal(evk_layer_record(e.t.l1, a, b, cb, &r1), EVK_SUCCESS);
    assert_int_equal(evk_layer_record(e.t.l2, b, c, cb, &r2), EVK_SUCCESS);
    assert_int_equal(evk_context_stats_get(e.ctx, &after), EVK_SUCCESS);
    /* Recording neither submits nor waits: the dispatches are the app's. */
    assert_true(after.submits == before.submits);
    assert_true(after.dispatches_recorded == before.dispatches_recorded + 2);
    tu_commands_barrier_to_host(&e.app.vulkan, cb);
    tu_commands_submit(&e.app.vulkan, cb);
    float *got = tu_download(c);
    assert_same(got, e.expected, e.t.out, "recorded into the application's buffer");
    free(got);
    evk_recorded_release(r1);
    evk_recorded_release(r2);
    /* Refusals leave nothing recorded and nothing to release. */
    evk_recorded *none = (evk_recorded *)&none;
    assert_int_equal(evk_layer_record(e.t.l1, a, b, NULL, &none), EVK_ERROR_INVALID_ARGUMENT);
    assert_null(none);
    assert_int_equal(evk_layer_record(e.t.l1, a, c, cb, &none), EVK_ERROR_SHAPE_MISMATCH);
    assert_null(none);
    e.app.vulkan.vk.vkDestroyCommandPool(e.app.vulkan.device, pool, NULL);
    evk_tensor_destroy(a);
    evk_tensor_destroy(b);
    evk_tensor_destroy(c);
    embed_close(&e);
}

static VkSemaphore create_semaphore(host_app *app, int timeline)
{
    VkSemaphoreTypeCreateInfo type = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
                                      .semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE};
    VkSemaphoreCreateInfo info = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO,
                                  .pNext = timeline ? &type : NULL};
    VkSemaphore s;
    assert_int_equal(app->vulkan.vk.vkCreateSemaphore(app->vulkan.device, &info, NULL, &s), VK_SUCCESS);
    return s;
}

static void test_asynchronous_runs(void **state)
{
    (void)state;
    embed_case e;
    embed_open(&e);
    evk_tensor *a = tu_tensor(e.ctx, e.t.in, e.t.x), *b = tu_tensor(e.ctx, e.t.mid, NULL),
               *c = tu_tensor(e.ctx, e.t.out, NULL);

    /* Two runs in flight, in submission order without semaphores. */
    evk_run *r1 = NULL, *r2 = NULL;
    assert_int_equal(evk_layer_submit(e.t.l1, a, b, NULL, &r1), EVK_SUCCESS);
    assert_int_equal(evk_layer_submit(e.t.l2, b, c, NULL, &r2), EVK_SUCCESS);
    evk_status polled = evk_run_poll(r2);
    assert_true(polled == EVK_SUCCESS || polled == EVK_NOT_READY);
    assert_int_equal(evk_run_wait(r2, UINT64_MAX), EVK_SUCCESS);
    assert_int_equal(evk_run_poll(r1), EVK_SUCCESS);
    float *got = tu_download(c);
    assert_same(got, e.expected, e.t.out, "two runs in flight");
    free(got);
    evk_run_release(r1);
    evk_run_release(r2);

    /* Held back by a timeline semaphore that the host signals, chained to
     * the second run by a binary one, which signals the timeline on. (The
     * second run is submitted once the first has finished: lavapipe blocks
     * in vkQueueSubmit on a binary wait whose signal is still waiting.) */
    evk_device_properties props;
    assert_int_equal(evk_context_device_info(e.ctx, &props), EVK_SUCCESS);
    if (e.app.timeline_semaphores && props.timeline_semaphores) {
        VkSemaphore gate = create_semaphore(&e.app, 1), link = create_semaphore(&e.app, 0);
        uint64_t gate_u = EVK_HANDLE_TO_U64(gate), link_u = EVK_HANDLE_TO_U64(link), one = 1, two = 2;
        evk_tensor *c2 = tu_tensor(e.ctx, e.t.out, NULL);
        evk_submit_sync first = {.wait_count = 1, .wait_semaphores = &gate_u, .wait_values = &one,
                                 .signal_count = 1, .signal_semaphores = &link_u};
        evk_submit_sync second = {.wait_count = 1, .wait_semaphores = &link_u,
                                  .signal_count = 1, .signal_semaphores = &gate_u,
                                  .signal_values = &two};
        assert_int_equal(evk_layer_submit(e.t.l1, a, b, &first, &r1), EVK_SUCCESS);
        assert_int_equal(evk_run_wait(r1, 20 * 1000 * 1000), EVK_NOT_READY);
        assert_int_equal(evk_run_poll(r1), EVK_NOT_READY);
        VkSemaphoreSignalInfo signal = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO,
                                        .semaphore = gate,
                                        .value = 1};
        assert_int_equal(e.app.vulkan.vk.vkSignalSemaphore(e.app.vulkan.device, &signal), VK_SUCCESS);
        assert_int_equal(evk_run_wait(r1, UINT64_MAX), EVK_SUCCESS);
        assert_int_equal(evk_layer_submit(e.t.l2, b, c2, &second, &r2), EVK_SUCCESS);
        VkSemaphoreWaitInfo wait = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
                                    .semaphoreCount = 1,
                                    .pSemaphores = &gate,
                                    .pValues = &two};
        assert_int_equal(e.app.vulkan.vk.vkWaitSemaphores(e.app.vulkan.device, &wait, UINT64_MAX), VK_SUCCESS);
        assert_int_equal(evk_run_wait(r2, UINT64_MAX), EVK_SUCCESS);
        got = tu_download(c2);
        assert_same(got, e.expected, e.t.out, "chained by semaphores");
        free(got);
        evk_run_release(r1);
        evk_run_release(r2);
        evk_tensor_destroy(c2);
        e.app.vulkan.vk.vkDestroySemaphore(e.app.vulkan.device, gate, NULL);
        e.app.vulkan.vk.vkDestroySemaphore(e.app.vulkan.device, link, NULL);
    } else {
        print_message("no timeline semaphores: the semaphore part is skipped\n");
    }

    /* Bad sync arguments are refused before anything is submitted. */
    evk_run *none = (evk_run *)&none;
    evk_submit_sync no_array = {.wait_count = 1};
    assert_int_equal(evk_layer_submit(e.t.l1, a, b, &no_array, &none), EVK_ERROR_INVALID_ARGUMENT);
    assert_null(none);
    tu_assert_message(evk_last_error(e.ctx), EVK_ERROR_INVALID_ARGUMENT, "NULL");
    assert_int_equal(evk_run_poll(NULL), EVK_ERROR_INVALID_ARGUMENT);
    /* A run not released is released by the context's destruction (once
     * it has finished, its tensors may go first). */
    assert_int_equal(evk_layer_submit(e.t.l1, a, b, NULL, &r1), EVK_SUCCESS);
    assert_int_equal(evk_run_wait(r1, UINT64_MAX), EVK_SUCCESS);

    evk_tensor_destroy(a);
    evk_tensor_destroy(b);
    evk_tensor_destroy(c);
    embed_close(&e);
}

/* Element (n, c, h, w) at the documented place. */
static size_t packed_index(evk_shape s, uint32_t n, uint32_t c, uint32_t h, uint32_t w)
{
    size_t c4 = (s.c + 3) / 4;
    return 4 * (((n * c4 + c / 4) * s.h + h) * s.w + w) + c % 4;
}

static void test_tensors_over_application_buffers(void **state)
{
    (void)state;
    embed_case e;
    embed_open(&e);
    evk_device_properties props;
    assert_int_equal(evk_context_device_info(e.ctx, &props), EVK_SUCCESS);
    /* Input and output share one buffer of the application, the output at
     * an aligned offset; the output range has no texel usage. */
    uint64_t align = props.min_storage_buffer_offset_alignment ? props.min_storage_buffer_offset_alignment : 4;
    uint64_t in_bytes = evk_shape_device_bytes(e.t.in), out_bytes = evk_shape_device_bytes(e.t.out);
    uint64_t out_offset = (in_bytes + align) / align * align + align;
    tu_host_buffer ab = tu_host_buffer_create(&e.app.vulkan, out_offset + out_bytes,
                                              VK_BUFFER_USAGE_STORAGE_BUFFER_BIT);
    float *mapped = ab.mapped;
    memset(mapped, 0, (size_t)(out_offset + out_bytes));
    for (uint32_t n = 0; n < e.t.in.n; ++n)
        for (uint32_t c = 0; c < e.t.in.c; ++c)
            for (uint32_t h = 0; h < e.t.in.h; ++h)
                for (uint32_t w = 0; w < e.t.in.w; ++w)
                    mapped[packed_index(e.t.in, n, c, h, w)] =
                        e.t.x[(((size_t)n * e.t.in.c + c) * e.t.in.h + h) * e.t.in.w + w];
    evk_external_buffer in_range = {EVK_HANDLE_TO_U64(ab.buffer), 0, in_bytes,
                                    VK_BUFFER_USAGE_STORAGE_BUFFER_BIT};
    evk_external_buffer out_range = {EVK_HANDLE_TO_U64(ab.buffer), out_offset, out_bytes,
                                     VK_BUFFER_USAGE_STORAGE_BUFFER_BIT};
    evk_tensor *a = NULL, *c = NULL, *b = tu_tensor(e.ctx, e.t.mid, NULL);
    assert_int_equal(evk_tensor_create_external(e.ctx, e.t.in, &in_range, &a), EVK_SUCCESS);
    assert_int_equal(evk_tensor_create_external(e.ctx, e.t.out, &out_range, &c), EVK_SUCCESS);
    evk_tensor_buffer where;
    assert_int_equal(evk_tensor_get_buffer(c, &where), EVK_SUCCESS);
    assert_true(where.buffer == EVK_HANDLE_TO_U64(ab.buffer) && where.offset == out_offset &&
                where.size == out_bytes);
    assert_int_equal(evk_layer_forward(e.t.l1, a, b), EVK_SUCCESS);
    assert_int_equal(evk_layer_forward(e.t.l2, b, c), EVK_SUCCESS);
    const float *out = mapped + out_offset / sizeof(float);
    for (uint32_t n = 0; n < e.t.out.n; ++n)
        for (uint32_t ch = 0; ch < (e.t.out.c + 3) / 4 * 4; ++ch)
            for (uint32_t h = 0; h < e.t.out.h; ++h)
                for (uint32_t w = 0; w < e.t.out.w; ++w) {
                    float v = out[packed_index(e.t.out, n, ch, h, w)];
                    if (ch >= e.t.out.c)
                        assert_true(v == 0.0f);
                    else if (v != e.expected[(((size_t)n * e.t.out.c + ch) * e.t.out.h + h) * e.t.out.w + w])
                        fail_msg("zero-copy output (%u, %u, %u, %u) is %g", n, ch, h, w, v);
                }
    /* Without transfer usage, effvk cannot copy from or to the host. */
    assert_int_equal(evk_tensor_upload(a, e.t.x, evk_shape_elements(e.t.in)), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(e.ctx), EVK_ERROR_INVALID_ARGUMENT, "TRANSFER_DST");
    float *back = malloc(evk_shape_elements(e.t.in) * sizeof *back);
    assert_int_equal(evk_tensor_download(a, back, evk_shape_elements(e.t.in)), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(e.ctx), EVK_ERROR_INVALID_ARGUMENT, "TRANSFER_SRC");
    free(back);

    /* Each requirement refused by name. */
    evk_tensor *none = (evk_tensor *)&none;
    evk_external_buffer small = in_range;
    small.size = in_bytes - 16;
    assert_int_equal(evk_tensor_create_external(e.ctx, e.t.in, &small, &none), EVK_ERROR_INVALID_ARGUMENT);
    assert_null(none);
    tu_assert_message(evk_last_error(e.ctx), EVK_ERROR_INVALID_ARGUMENT, "needs");
    evk_external_buffer no_storage = in_range;
    no_storage.usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    assert_int_equal(evk_tensor_create_external(e.ctx, e.t.in, &no_storage, &none), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(e.ctx), EVK_ERROR_INVALID_ARGUMENT, "STORAGE_BUFFER");
    if (align > 1) {
        evk_external_buffer misaligned = out_range;
        misaligned.offset -= align / 2;
        assert_int_equal(evk_tensor_create_external(e.ctx, e.t.out, &misaligned, &none),
                         EVK_ERROR_INVALID_ARGUMENT);
        tu_assert_message(evk_last_error(e.ctx), EVK_ERROR_INVALID_ARGUMENT, "alignment");
    }
    evk_external_buffer wraps = out_range;
    wraps.offset = UINT64_MAX - 8;
    assert_int_equal(evk_tensor_create_external(e.ctx, e.t.out, &wraps, &none), EVK_ERROR_INVALID_ARGUMENT);
    evk_external_buffer null_buffer = {0, 0, in_bytes, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT};
    assert_int_equal(evk_tensor_create_external(e.ctx, e.t.in, &null_buffer, &none), EVK_ERROR_INVALID_ARGUMENT);

    evk_tensor_destroy(a);
    evk_tensor_destroy(b);
    evk_tensor_destroy(c);
    tu_host_buffer_destroy(&e.app.vulkan, &ab);
    embed_close(&e);
}

typedef struct destroyer {
    evk_context *ctx;
    atomic_int done;
} destroyer;

static void *destroy_context(void *arg)
{
    destroyer *d = arg;
    evk_context_destroy(d->ctx);
    atomic_store(&d->done, 1);
    return NULL;
}

/* vkDeviceWaitIdle would wait for the application's blocked submission; the
 * context waits for its own fences only. */
static void test_destroy_waits_only_for_its_own_work(void **state)
{
    (void)state;
    host_app app;
    host_app_create(&app, 0);
    if (!app.timeline_semaphores) {
        host_app_destroy(&app);
        skip();
    }
    tu_log log = {0};
    evk_context *ctx = host_app_adopt(&app, &log, NULL, NULL);
    tu_run_conv_case(ctx, &dense_case, 41);
    VkSemaphore gate = create_semaphore(&app, 1);
    VkCommandPool pool;
    VkCommandBuffer cb = tu_commands_begin(&app.vulkan, &pool);
    assert_int_equal(app.vulkan.vk.vkEndCommandBuffer(cb), VK_SUCCESS);
    uint64_t one = 1;
    VkPipelineStageFlags stage = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
    VkTimelineSemaphoreSubmitInfo values = {.sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
                                            .waitSemaphoreValueCount = 1,
                                            .pWaitSemaphoreValues = &one};
    VkSubmitInfo submit = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                           .pNext = &values,
                           .waitSemaphoreCount = 1,
                           .pWaitSemaphores = &gate,
                           .pWaitDstStageMask = &stage,
                           .commandBufferCount = 1,
                           .pCommandBuffers = &cb};
    assert_int_equal(app.vulkan.vk.vkQueueSubmit(app.vulkan.queue, 1, &submit, VK_NULL_HANDLE), VK_SUCCESS);
    destroyer d = {ctx, 0};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, destroy_context, &d), 0);
    for (int i = 0; i < 1000 && !atomic_load(&d.done); ++i)
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    int returned = atomic_load(&d.done);
    VkSemaphoreSignalInfo signal = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_SIGNAL_INFO,
                                    .semaphore = gate,
                                    .value = 1};
    assert_int_equal(app.vulkan.vk.vkSignalSemaphore(app.vulkan.device, &signal), VK_SUCCESS);
    pthread_join(thread, NULL);
    assert_true(returned);
    assert_int_equal(app.vulkan.vk.vkQueueWaitIdle(app.vulkan.queue), VK_SUCCESS);
    app.vulkan.vk.vkDestroyCommandPool(app.vulkan.device, pool, NULL);
    app.vulkan.vk.vkDestroySemaphore(app.vulkan.device, gate, NULL);
    host_app_destroy(&app);
    assert_int_equal(app.messages, 0);
    assert_int_equal(log.unexpected, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_into_application_buffer),
        cmocka_unit_test(test_asynchronous_runs),
        cmocka_unit_test(test_tensors_over_application_buffers),
        cmocka_unit_test(test_destroy_waits_only_for_its_own_work),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
