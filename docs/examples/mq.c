/* Two processes talk through a message queue: the child sends three messages
 * with priorities, the parent receives them highest priority first.
 * Build: cc mq.c $(pkg-config --cflags --libs ipc) */
#define _POSIX_C_SOURCE 200809L
#include <ipc.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    char name[64];
    snprintf(name, sizeof name, "/ipc-example-mq-%d", (int)getpid());

    /* Room for 4 messages of up to 64 bytes; the name goes away with the handle. */
    ipc_mq *q = NULL;
    if (ipc_mq_create(&q, name, 4, 64, 0600, IPC_UNLINK_ON_CLOSE) < 0) {
        fprintf(stderr, "create failed: %s\n", ipc_last_error());
        return 1;
    }

    pid_t child = fork();
    if (child == 0) {
        ipc_mq *out = NULL;
        if (ipc_mq_open(&out, name, IPC_WRONLY) < 0) {
            fprintf(stderr, "child: %s\n", ipc_last_error());
            _exit(1);
        }
        const char *texts[] = {"routine report", "urgent: disk full", "status update"};
        const uint32_t priorities[] = {0, 9, 5};
        for (int i = 0; i < 3; ++i)
            if (ipc_mq_send(out, texts[i], strlen(texts[i]), priorities[i]) < 0)
                _exit(2);
        ipc_mq_close(out);
        _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0); /* all three are queued now */

    char buf[64]; /* at least ipc_mq_msgsize(q) bytes */
    uint32_t priority = 0;
    int len;
    printf("%lld message(s) queued\n", (long long)ipc_mq_count(q));
    while ((len = ipc_mq_timedreceive(q, buf, sizeof buf, &priority, 0.1)) >= 0)
        printf("priority %u: %.*s\n", (unsigned)priority, len, buf);
    if (len != -ETIMEDOUT) {
        fprintf(stderr, "receive failed: %s\n", ipc_last_error());
        return 1;
    }
    ipc_mq_close(q);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
