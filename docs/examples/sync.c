/* Two processes share a mutex and a condition variable placed in shared
 * memory: the child posts a message and signals, the parent waits for it.
 * Then a second child dies holding the mutex, and the parent recovers it.
 * Build: cc sync.c $(pkg-config --cflags --libs ipc) */
#define _POSIX_C_SOURCE 200809L
#include <ipc.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Where things live in the shared memory: each place a multiple of 64 bytes,
 * so every lock is aligned to IPC_SYNC_ALIGN. */
static size_t round_up(size_t n) { return (n + 63) / 64 * 64; }

struct places {
    size_t mutex, cond, ready, text, size;
};

static struct places layout(void) {
    struct places p;
    p.mutex = 0;
    p.cond = round_up(ipc_mutex_size());
    p.ready = p.cond + round_up(ipc_cond_size());
    p.text = p.ready + 64;
    p.size = p.text + 64;
    return p;
}

/* The child: maps the memory by name, attaches to the locks another process
 * initialised, writes the message and wakes the parent. */
static int post_message(const char *name) {
    struct places p = layout();
    ipc_shm *shm = NULL;
    ipc_mutex *m = NULL;
    ipc_cond *c = NULL;
    if (ipc_shm_open(&shm, name, 0) < 0 || ipc_mutex_attach(&m, (char *)ipc_shm_addr(shm) + p.mutex, ipc_mutex_size()) < 0 ||
        ipc_cond_attach(&c, (char *)ipc_shm_addr(shm) + p.cond, ipc_cond_size()) < 0) {
        fprintf(stderr, "child: %s\n", ipc_last_error());
        return 1;
    }
    char *base = ipc_shm_addr(shm);
    ipc_mutex_lock(m);
    snprintf(base + p.text, 64, "hello from process %d", (int)getpid());
    *(volatile int *)(base + p.ready) = 1;
    ipc_cond_signal(c);
    ipc_mutex_unlock(m);
    ipc_cond_close(c);
    ipc_mutex_close(m);
    ipc_shm_close(shm);
    return 0;
}

int main(void) {
    char name[64];
    snprintf(name, sizeof name, "/ipc-example-sync-%d", (int)getpid());
    struct places p = layout();

    ipc_shm *shm = NULL;
    ipc_mutex *m = NULL;
    ipc_cond *c = NULL;
    if (ipc_shm_create(&shm, name, p.size, 0600, IPC_UNLINK_ON_CLOSE) < 0 ||
        ipc_mutex_init(&m, (char *)ipc_shm_addr(shm) + p.mutex, ipc_mutex_size(), 0) < 0 ||
        ipc_cond_init(&c, (char *)ipc_shm_addr(shm) + p.cond, ipc_cond_size(), 0) < 0) {
        fprintf(stderr, "set-up failed: %s\n", ipc_last_error());
        return 1;
    }
    char *base = ipc_shm_addr(shm);

    pid_t child = fork();
    if (child == 0)
        _exit(post_message(name));

    /* Wait for the message: in a loop, since a wait may wake up early, and
     * with a timeout, so a child that never posts cannot hang us. */
    int rc = ipc_mutex_lock(m);
    while (rc == 0 && !*(volatile int *)(base + p.ready))
        rc = ipc_cond_timedwait(c, m, 10.0);
    if (rc == 0)
        printf("parent %d got: \"%s\"\n", (int)getpid(), base + p.text);
    else
        fprintf(stderr, "waiting failed: %s\n", ipc_last_error());
    ipc_mutex_unlock(m);
    int status = 0;
    waitpid(child, &status, 0);

    /* A process that ends while it holds the mutex: the next locker is told. */
    child = fork();
    if (child == 0) {
        ipc_mutex_lock(m);
        _exit(0); /* no unlock */
    }
    waitpid(child, NULL, 0);
    int recovered = 0;
    if (ipc_mutex_lock(m) == -EOWNERDEAD) {
        printf("the owner died holding the mutex; repairing the shared state\n");
        *(volatile int *)(base + p.ready) = 0;
        recovered = ipc_mutex_consistent(m) == 0;
    }
    ipc_mutex_unlock(m);

    ipc_cond_close(c);
    ipc_mutex_close(m);
    ipc_shm_close(shm); /* IPC_UNLINK_ON_CLOSE: the name goes away with it */
    return rc == 0 && recovered && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
