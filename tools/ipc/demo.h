/* The demo's producer: a camera-like loop in C that publishes frames into a
 * shared array and signals each one through semaphores in shared memory. */
#ifndef IPC_TOOL_DEMO_H
#define IPC_TOOL_DEMO_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The control block that producer and consumer share, after the two
 * semaphores: written by the producer before each post of "ready". */
enum {
    DEMO_SEM_READY = 0,    /* offset of the "frame ready" semaphore */
    DEMO_SEM_FREE = 64,    /* offset of the "frame consumed" semaphore */
    DEMO_FRAME = 128,      /* int64: number of the frame in the array */
    DEMO_STAMP = 136,      /* int64: CLOCK_MONOTONIC ns when it was posted */
    DEMO_DONE = 144,       /* int64: 1 once the producer has stopped */
    DEMO_CONTROL_SIZE = 4096
};

struct demo_options {
    const char *control;   /* address of the control block, e.g. "/ipc-demo-123-control" */
    const char *frames;    /* address of the frame array */
    int64_t width, height; /* frame size in pixels (Float32) */
    double seconds;        /* how long to run */
    volatile int *stop;    /* set to non-zero (by a signal handler) to stop early */
};

/* Creates the objects, calls ready(user) once the consumer may attach, then
 * produces frames until the time is up, the consumer stops answering, or
 * *stop is set. Removes every object before it returns. Returns the number
 * of frames produced, or a negative code (ipc_last_error() says why). */
int64_t demo_produce(const struct demo_options *options, void (*ready)(void *user), void *user);

#ifdef __cplusplus
}
#endif

#endif
