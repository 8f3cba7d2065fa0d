/* Two processes share memory: the child writes a greeting through its own
 * mapping, the parent reads it. Build: cc shm.c $(pkg-config --cflags --libs ipc) */
#define _POSIX_C_SOURCE 200809L
#include <ipc.h>

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    char name[64];
    snprintf(name, sizeof name, "/ipc-example-hello-%d", (int)getpid());

    ipc_shm *shm = NULL;
    int rc = ipc_shm_create(&shm, name, 4096, 0600, IPC_UNLINK_ON_CLOSE);
    if (rc < 0) {
        fprintf(stderr, "create failed: %s\n", ipc_last_error());
        return 1;
    }

    pid_t child = fork();
    if (child == 0) {
        ipc_shm *mine = NULL;
        if (ipc_shm_open(&mine, name, 0) < 0) {
            fprintf(stderr, "child: %s\n", ipc_last_error());
            _exit(1);
        }
        snprintf(ipc_shm_addr(mine), ipc_shm_size(mine), "hello from process %d", (int)getpid());
        ipc_shm_close(mine);
        _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);

    printf("process %d read from %s: \"%s\"\n", (int)getpid(), name, (const char *)ipc_shm_addr(shm));
    ipc_shm_close(shm); /* IPC_UNLINK_ON_CLOSE: the name goes away with it */
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
