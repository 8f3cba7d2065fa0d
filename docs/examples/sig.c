/* Signals between two processes: a child queues three real-time signals
 * with values, which the parent takes with a timed wait, then sends SIGUSR1,
 * which the recording handler counts.
 * Build: cc sig.c $(pkg-config --cflags --libs ipc) */
#define _POSIX_C_SOURCE 200809L
#include <ipc.h>

#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static int fail(const char *what) {
    fprintf(stderr, "%s: %s\n", what, ipc_last_error());
    return 1;
}

int main(void) {
    int data = ipc_sig_number("SIGRTMIN+1");
    char name[IPC_SIG_NAME_MAX];
    ipc_sig_name(data, name, sizeof name);

    /* Block before forking, so nothing is lost while nobody waits. */
    ipc_sigset *wanted = NULL, *old = NULL, *usr1 = NULL;
    if (ipc_sigset_new(&wanted) < 0 || ipc_sigset_new(&old) < 0 || ipc_sigset_new(&usr1) < 0)
        return fail("ipc_sigset_new");
    ipc_sigset_add(wanted, data);
    ipc_sigset_add(usr1, SIGUSR1);
    if (ipc_sig_mask(IPC_SIG_BLOCK, wanted, old) < 0 || ipc_sig_mask(IPC_SIG_BLOCK, usr1, NULL) < 0)
        return fail("ipc_sig_mask");
    ipc_sigaction *previous = NULL;
    ipc_sigaction_new(&previous);
    if (ipc_sig_record(SIGUSR1, 0, previous) < 0)
        return fail("ipc_sig_record");

    int parent = (int)getpid();
    pid_t child = fork();
    if (child == 0) {
        for (int64_t value = 1; value <= 3; ++value)
            ipc_sig_queue(parent, data, value * 1000);
        ipc_sig_send(parent, SIGUSR1);
        _exit(0);
    }

    for (int i = 0; i < 3; ++i) {
        ipc_siginfo info;
        int signo = ipc_sig_timedwait(wanted, 5.0, &info);
        if (signo < 0)
            return fail("ipc_sig_timedwait");
        printf("%s from process %d with value %lld\n", name, (int)info.pid, (long long)info.value);
    }
    waitpid(child, NULL, 0);

    /* Unblocking delivers the pending SIGUSR1 to the recording handler. */
    ipc_sig_mask(IPC_SIG_UNBLOCK, usr1, NULL);
    int64_t count = ipc_sig_recorded(SIGUSR1);
    ipc_siginfo latest;
    ipc_sig_recorded_info(SIGUSR1, &latest);
    printf("SIGUSR1 recorded %lld time(s), last from process %d\n", (long long)count, (int)latest.pid);

    /* Put everything back as it was. */
    ipc_sig_restore(SIGUSR1, previous, NULL);
    ipc_sig_mask(IPC_SIG_SETMASK, old, NULL);
    ipc_sigaction_free(previous);
    ipc_sigset_free(wanted);
    ipc_sigset_free(old);
    ipc_sigset_free(usr1);
    return count == 1 ? 0 : 1;
}
