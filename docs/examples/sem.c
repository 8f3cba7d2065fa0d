/* Two processes take turns: semaphores in shared memory pass the turn back
 * and forth, and a named semaphore tells the parent that the child is done.
 * Build: cc sem.c $(pkg-config --cflags --libs ipc) */
#define _POSIX_C_SOURCE 200809L
#include <ipc.h>

#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#define ROUNDS 3

static int fail(const char *what) {
    fprintf(stderr, "%s: %s\n", what, ipc_last_error());
    return 1;
}

/* The child: its own mapping of the memory, the same offsets. */
static int child(const char *memory, const char *done_name) {
    ipc_shm *shm = NULL;
    ipc_sem *ping = NULL, *pong = NULL, *done = NULL;
    if (ipc_shm_open(&shm, memory, 0) < 0)
        return fail("child: open memory");
    char *base = ipc_shm_addr(shm);
    if (ipc_sem_attach(&ping, base, ipc_sem_size()) < 0 ||
        ipc_sem_attach(&pong, base + 64, ipc_sem_size()) < 0)
        return fail("child: attach");
    int *ball = (int *)(base + 128);
    for (int i = 0; i < ROUNDS; ++i) {
        if (ipc_sem_wait(ping) < 0)
            return fail("child: wait");
        printf("child  got %d, returns %d\n", *ball, *ball + 1);
        fflush(stdout);
        *ball += 1;
        ipc_sem_post(pong);
    }
    if (ipc_sem_open(&done, done_name) < 0 || ipc_sem_post(done) < 0)
        return fail("child: done");
    ipc_sem_close(done);
    ipc_sem_close(pong);
    ipc_sem_close(ping);
    ipc_shm_close(shm);
    return 0;
}

int main(void) {
    char memory[64], done_name[64];
    snprintf(memory, sizeof memory, "/ipc-example-turns-%d", (int)getpid());
    snprintf(done_name, sizeof done_name, "/ipc-example-done-%d", (int)getpid());

    /* Two semaphores and an int in one page: each semaphore at a multiple of
     * 64 bytes, which satisfies ipc_sem_alignment(). */
    ipc_shm *shm = NULL;
    ipc_sem *ping = NULL, *pong = NULL, *done = NULL;
    if (ipc_shm_create(&shm, memory, 4096, 0600, IPC_UNLINK_ON_CLOSE) < 0)
        return fail("create memory");
    char *base = ipc_shm_addr(shm);
    if (ipc_sem_init(&ping, base, ipc_sem_size(), 0) < 0 ||
        ipc_sem_init(&pong, base + 64, ipc_sem_size(), 0) < 0)
        return fail("init");
    /* A named semaphore: any process, even one using plain sem_open(), can
     * open it by name. The name goes away when this handle is closed. */
    if (ipc_sem_create(&done, done_name, 0, 0600, IPC_UNLINK_ON_CLOSE) < 0)
        return fail("create done");
    ipc_sem_set_spin(pong, 20000); /* poll for up to 20 us before sleeping */

    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0)
        _exit(child(memory, done_name));

    int *ball = (int *)(base + 128);
    for (int i = 0; i < ROUNDS; ++i) {
        printf("parent sends %d\n", *ball);
        fflush(stdout);
        ipc_sem_post(ping);
        if (ipc_sem_timedwait(pong, 10.0) < 0)
            return fail("parent: wait");
        *ball += 1;
    }
    int rc = ipc_sem_timedwait(done, 10.0);
    int status = 0;
    waitpid(pid, &status, 0);
    int final = *ball;
    printf("parent: the child is done (%s), the ball is at %d\n", ipc_strerror(rc), final);

    ipc_sem_close(done);
    ipc_sem_close(pong);
    ipc_sem_close(ping);
    ipc_shm_close(shm);
    return rc == 0 && final == 2 * ROUNDS && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
