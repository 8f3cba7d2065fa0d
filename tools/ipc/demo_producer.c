/* The demo's camera: fills each Float32 frame with its frame number, stamps
 * the time, posts "ready", and waits for "free" before the next frame. */
#define _POSIX_C_SOURCE 200809L
#include "demo.h"

#include <ipc.h>

#include <errno.h>
#include <stdint.h>
#include <time.h>

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void store(unsigned char *control, int offset, int64_t value) {
    __atomic_store_n((int64_t *)(void *)(control + offset), value, __ATOMIC_RELEASE);
}

int64_t demo_produce(const struct demo_options *o, void (*ready)(void *user), void *user) {
    ipc_shm *shm = NULL;
    ipc_array *frames = NULL;
    ipc_sem *frame_ready = NULL, *frame_free = NULL;
    int64_t produced = 0;
    int64_t dims[2] = {o->width, o->height};

    int rc = ipc_shm_create(&shm, o->control, DEMO_CONTROL_SIZE, 0600, IPC_UNLINK_ON_CLOSE);
    if (rc == 0)
        rc = ipc_array_create(&frames, o->frames, IPC_FLOAT32, 2, dims, 0600, IPC_UNLINK_ON_CLOSE);
    unsigned char *control = shm ? ipc_shm_addr(shm) : NULL;
    if (rc == 0)
        rc = ipc_sem_init(&frame_ready, control + DEMO_SEM_READY, DEMO_SEM_FREE - DEMO_SEM_READY, 0);
    if (rc == 0)
        rc = ipc_sem_init(&frame_free, control + DEMO_SEM_FREE, DEMO_FRAME - DEMO_SEM_FREE, 1);
    if (rc < 0)
        goto out;

    ready(user);
    float *pixels = ipc_array_data(frames);
    int64_t count = ipc_array_length(frames);
    int64_t end = now_ns() + (int64_t)(o->seconds * 1e9);
    while (!*o->stop && now_ns() < end) {
        rc = ipc_sem_timedwait(frame_free, 2.0);
        if (rc == -EINTR)
            continue; /* Ctrl-C: the loop condition decides */
        if (rc == -ETIMEDOUT) {
            rc = -EPIPE; /* the consumer stopped answering */
            break;
        }
        if (rc < 0)
            break;
        ++produced;
        for (int64_t i = 0; i < count; ++i)
            pixels[i] = (float)produced;
        store(control, DEMO_FRAME, produced);
        store(control, DEMO_STAMP, now_ns());
        ipc_sem_post(frame_ready);
        rc = 0;
    }
    store(control, DEMO_DONE, 1);
    ipc_sem_post(frame_ready); /* wake the consumer to see the end */

out:
    ipc_sem_close(frame_free);
    ipc_sem_close(frame_ready);
    ipc_array_close(frames);
    ipc_shm_close(shm);
    return rc < 0 ? rc : produced;
}
