/* Device tier, and the suite's ThreadSanitizer run: contexts and threads.
 *  - Two contexts, one thread each, at the same time: every result right (and
 *    under ThreadSanitizer, no race: contexts share nothing but volk's
 *    instance-level pointers, loaded before the threads start).
 *  - Two contexts on one application's device and one queue, one thread
 *    each: the application's queue lock serialises their submissions (each
 *    submission inside the lock, never two at once), every result right.
 *  - One context, two threads, made to overlap for certain: thread A is
 *    inside a call (stopped in the log callback of a failure it reports)
 *    while thread B calls forward, upload and destroy on the same context.
 *    B is refused with EVK_ERROR_BUSY and its message, and nothing changes:
 *    A's own error message stays the context's, the tensor B tried to
 *    destroy still works.
 *  - One context, two threads hammering it: every call either succeeds
 *    with the right result or is refused with EVK_ERROR_BUSY, and the
 *    context is intact afterwards.
 * Worker threads record outcomes; only the main thread asserts (cmocka is
 * not thread-safe). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "host_app.h"

enum { IN_C = 6, OUT_C = 5, H = 9, W = 7, PIXELS = H * W, RUNS = 50 };

static float weight[OUT_C * IN_C], input[IN_C * PIXELS], expected[OUT_C * PIXELS];

static void make_case(void)
{
    tu_rng rng = tu_rng_seeded(17);
    for (int i = 0; i < OUT_C * IN_C; ++i)
        weight[i] = tu_uniform(&rng, -1.0f, 1.0f);
    for (int i = 0; i < IN_C * PIXELS; ++i)
        input[i] = tu_uniform(&rng, -1.0f, 1.0f);
    for (int o = 0; o < OUT_C; ++o)
        for (int p = 0; p < PIXELS; ++p) {
            double sum = 0.0;
            for (int i = 0; i < IN_C; ++i)
                sum += (double)weight[o * IN_C + i] * input[i * PIXELS + p];
            expected[o * PIXELS + p] = (float)sum;
        }
}

static int output_matches(const float *output)
{
    for (int i = 0; i < OUT_C * PIXELS; ++i) {
        float d = output[i] - expected[i];
        if (d > 1e-5f || d < -1e-5f)
            return 0;
    }
    return 1;
}

/* A pointwise conv and its input, made and filled on the calling thread. */
typedef struct conv_case {
    evk_context *ctx;
    evk_layer *layer;
    evk_tensor *x;
} conv_case;

static void conv_case_open(evk_context *ctx, conv_case *c)
{
    evk_conv2d_desc desc = {.in_channels = IN_C, .out_channels = OUT_C, .kernel_h = 1,
                            .kernel_w = 1, .weight = weight, .weight_count = OUT_C * IN_C};
    c->ctx = ctx;
    assert_int_equal(evk_conv2d_create(ctx, &desc, &c->layer), EVK_SUCCESS);
    assert_int_equal(evk_tensor_create(ctx, (evk_shape){1, IN_C, H, W}, &c->x), EVK_SUCCESS);
    assert_int_equal(evk_tensor_upload(c->x, input, IN_C * PIXELS), EVK_SUCCESS);
}

static void conv_case_close(conv_case *c)
{
    evk_tensor_destroy(c->x);
    evk_layer_destroy(c->layer);
}

/* What one worker saw. */
typedef struct worker {
    conv_case *conv;
    evk_tensor *y;
    int runs, succeeded, busy, wrong, other;
    char other_message[256];
} worker;

/* Runs forward + download `runs` times; a refusal of either is counted. */
static void *forward_loop(void *arg)
{
    worker *w = arg;
    float output[OUT_C * PIXELS];
    for (int r = 0; r < w->runs; ++r) {
        evk_status s = evk_layer_forward(w->conv->layer, w->conv->x, w->y);
        if (s == EVK_SUCCESS)
            s = evk_tensor_download(w->y, output, OUT_C * PIXELS);
        if (s == EVK_SUCCESS) {
            w->succeeded++;
            w->wrong += !output_matches(output);
        } else if (s == EVK_ERROR_BUSY &&
                   strstr(evk_last_error(w->conv->ctx), "in use by another thread")) {
            w->busy++;
        } else if (w->other++ == 0) {
            snprintf(w->other_message, sizeof w->other_message, "%s", evk_last_error(NULL));
        }
    }
    return NULL;
}

static void run_workers(worker *a, worker *b)
{
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, forward_loop, a), 0);
    assert_int_equal(pthread_create(&tb, NULL, forward_loop, b), 0);
    assert_int_equal(pthread_join(ta, NULL), 0);
    assert_int_equal(pthread_join(tb, NULL), 0);
}

static void assert_worker_clean(const worker *w)
{
    if (w->other)
        fail_msg("%d calls failed otherwise: %s", w->other, w->other_message);
    assert_int_equal(w->wrong, 0);
    assert_int_equal(w->succeeded + w->busy, w->runs);
}

static void two_contexts_two_threads(void **state)
{
    (void)state;
    tu_gpu g[2];
    conv_case conv[2];
    worker w[2];
    for (int i = 0; i < 2; ++i) {
        tu_gpu_open(&g[i], NULL);
        conv_case_open(g[i].ctx, &conv[i]);
        w[i] = (worker){.conv = &conv[i], .runs = RUNS};
        assert_int_equal(evk_tensor_create(g[i].ctx, (evk_shape){1, OUT_C, H, W}, &w[i].y),
                         EVK_SUCCESS);
    }
    run_workers(&w[0], &w[1]);
    for (int i = 0; i < 2; ++i) {
        assert_worker_clean(&w[i]);
        assert_int_equal(w[i].busy, 0);
        assert_int_equal(w[i].succeeded, RUNS);
        evk_tensor_destroy(w[i].y);
        conv_case_close(&conv[i]);
        tu_gpu_close(&g[i]);
    }
}

/* ---- Two contexts, one adopted queue. */

typedef struct queue_lock {
    pthread_mutex_t mutex;
    int held, overlapped, locks;
} queue_lock;

static void lock_queue(int lock, void *user)
{
    queue_lock *q = user;
    if (lock) {
        pthread_mutex_lock(&q->mutex);
        q->overlapped += q->held;
        q->held = 1;
        q->locks++;
    } else {
        q->held = 0;
        pthread_mutex_unlock(&q->mutex);
    }
}

static void two_contexts_one_queue(void **state)
{
    (void)state;
    host_app app;
    host_app_create(&app, 0);
    queue_lock q = {.mutex = PTHREAD_MUTEX_INITIALIZER};
    tu_log log = {0};
    evk_context *ctx[2];
    conv_case conv[2];
    worker w[2];
    for (int i = 0; i < 2; ++i) {
        ctx[i] = host_app_adopt(&app, &log, lock_queue, &q);
        conv_case_open(ctx[i], &conv[i]);
        w[i] = (worker){.conv = &conv[i], .runs = RUNS};
        assert_int_equal(evk_tensor_create(ctx[i], (evk_shape){1, OUT_C, H, W}, &w[i].y),
                         EVK_SUCCESS);
    }
    int before = q.locks;
    run_workers(&w[0], &w[1]);
    for (int i = 0; i < 2; ++i) {
        assert_worker_clean(&w[i]);
        assert_int_equal(w[i].succeeded, RUNS);
        evk_tensor_destroy(w[i].y);
        conv_case_close(&conv[i]);
        evk_context_destroy(ctx[i]);
    }
    /* A forward submits once; a download on a device without mapped
     * tensors once more. */
    assert_true(q.locks - before >= 2 * RUNS);
    assert_int_equal(q.overlapped, 0);
    host_app_destroy(&app);
    assert_int_equal(app.messages, 0);
    assert_int_equal(log.unexpected, 0);
}

/* ---- One context, a certain overlap. */

typedef struct overlap {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int a_inside, b_done;
    conv_case *conv;
    evk_tensor *y;
    evk_status forward, upload, create;
    char forward_message[256], null_message[256];
    tu_log log;
} overlap;

/* Called on thread A inside its failing call: lets B try the context, and
 * returns only when B has tried everything. */
static void blocking_log(evk_log_level level, const char *message, void *user)
{
    overlap *o = user;
    if (level != EVK_LOG_ERROR || !strstr(message, "zero dimension"))
        return;
    pthread_mutex_lock(&o->lock);
    o->a_inside = 1;
    pthread_cond_broadcast(&o->changed);
    while (!o->b_done)
        pthread_cond_wait(&o->changed, &o->lock);
    pthread_mutex_unlock(&o->lock);
}

static void *thread_b(void *arg)
{
    overlap *o = arg;
    pthread_mutex_lock(&o->lock);
    while (!o->a_inside)
        pthread_cond_wait(&o->changed, &o->lock);
    pthread_mutex_unlock(&o->lock);
    o->forward = evk_layer_forward(o->conv->layer, o->conv->x, o->y);
    snprintf(o->forward_message, sizeof o->forward_message, "%s", evk_last_error(o->conv->ctx));
    o->upload = evk_tensor_upload(o->conv->x, input, IN_C * PIXELS);
    evk_tensor *t = o->y;
    o->create = evk_tensor_create(o->conv->ctx, (evk_shape){1, 1, 1, 1}, &t);
    if (t)
        o->create = EVK_ERROR_UNSUPPORTED;  /* a refused create must leave *out NULL */
    evk_tensor_destroy(o->conv->x);
    snprintf(o->null_message, sizeof o->null_message, "%s", evk_last_error(NULL));
    pthread_mutex_lock(&o->lock);
    o->b_done = 1;
    pthread_cond_broadcast(&o->changed);
    pthread_mutex_unlock(&o->lock);
    return NULL;
}

static void one_context_refuses_a_second_thread(void **state)
{
    (void)state;
    overlap o = {.forward = EVK_SUCCESS};
    pthread_mutex_init(&o.lock, NULL);
    pthread_cond_init(&o.changed, NULL);
    /* float32, as output_matches' tolerance is: AUTO would time the
     * precisions on this device and could pick a 16-bit one. */
    evk_context_desc desc = {.precision = EVK_PRECISION_FP32};
    tu_desc_add_validation(&desc, &o.log);
    desc.log = blocking_log;
    desc.log_user_data = &o;
    evk_context *ctx;
    assert_int_equal(evk_context_create(&desc, &ctx), EVK_SUCCESS);
    conv_case conv;
    conv_case_open(ctx, &conv);
    o.conv = &conv;
    assert_int_equal(evk_tensor_create(ctx, (evk_shape){1, OUT_C, H, W}, &o.y), EVK_SUCCESS);

    pthread_t tb;
    assert_int_equal(pthread_create(&tb, NULL, thread_b, &o), 0);
    evk_tensor *none;
    assert_int_equal(evk_tensor_create(ctx, (evk_shape){1, 0, 1, 1}, &none),
                     EVK_ERROR_INVALID_ARGUMENT);
    assert_int_equal(pthread_join(tb, NULL), 0);

    assert_int_equal(o.forward, EVK_ERROR_BUSY);
    assert_int_equal(o.upload, EVK_ERROR_BUSY);
    assert_int_equal(o.create, EVK_ERROR_BUSY);
    tu_assert_message(o.forward_message, EVK_ERROR_BUSY, "evk_layer_forward");
    tu_assert_message(o.forward_message, EVK_ERROR_BUSY, "in use by another thread");
    tu_assert_message(o.null_message, EVK_ERROR_BUSY, "evk_tensor_destroy");
    /* The context's own message is still thread A's. */
    tu_assert_message(evk_last_error(ctx), EVK_ERROR_INVALID_ARGUMENT, "zero dimension");
    /* Nothing B tried happened: x is alive and the layer runs. */
    float output[OUT_C * PIXELS];
    assert_int_equal(evk_layer_forward(conv.layer, conv.x, o.y), EVK_SUCCESS);
    assert_int_equal(evk_tensor_download(o.y, output, OUT_C * PIXELS), EVK_SUCCESS);
    assert_true(output_matches(output));

    evk_tensor_destroy(o.y);
    conv_case_close(&conv);
    evk_context_destroy(ctx);
    pthread_cond_destroy(&o.changed);
    pthread_mutex_destroy(&o.lock);
}

static void one_context_two_threads_hammering(void **state)
{
    (void)state;
    tu_gpu g;
    tu_gpu_open(&g, NULL);
    conv_case conv;
    conv_case_open(g.ctx, &conv);
    worker w[2];
    for (int i = 0; i < 2; ++i) {
        w[i] = (worker){.conv = &conv, .runs = RUNS};
        assert_int_equal(evk_tensor_create(g.ctx, (evk_shape){1, OUT_C, H, W}, &w[i].y),
                         EVK_SUCCESS);
    }
    run_workers(&w[0], &w[1]);
    for (int i = 0; i < 2; ++i)
        assert_worker_clean(&w[i]);
    /* How the calls interleave is the scheduler's; a refused call is retried
     * by no one, so one thread may have done all the work. */
    assert_true(w[0].succeeded + w[1].succeeded > 0);
    print_message("one context, two threads: %d + %d succeeded, %d + %d refused busy\n",
                  w[0].succeeded, w[1].succeeded, w[0].busy, w[1].busy);
    float output[OUT_C * PIXELS];
    assert_int_equal(evk_layer_forward(conv.layer, conv.x, w[0].y), EVK_SUCCESS);
    assert_int_equal(evk_tensor_download(w[0].y, output, OUT_C * PIXELS), EVK_SUCCESS);
    assert_true(output_matches(output));
    for (int i = 0; i < 2; ++i)
        evk_tensor_destroy(w[i].y);
    conv_case_close(&conv);
    tu_gpu_close(&g);
}

int main(void)
{
    make_case();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_contexts_two_threads),
        cmocka_unit_test(two_contexts_one_queue),
        cmocka_unit_test(one_context_refuses_a_second_thread),
        cmocka_unit_test(one_context_two_threads_hammering),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
