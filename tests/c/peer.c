/* The C side of the Python tests' cross-language exchange: opens a shared
 * array and two named semaphores made by the Python process, waits for
 * "ping", writes 1000 + k at linear (column-major) index k, posts "pong".
 * Usage: peer ARRAY_ADDRESS PING_NAME PONG_NAME */
#include <ipc.h>

#include <stdio.h>

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s ARRAY_ADDRESS PING_NAME PONG_NAME\n", argv[0]);
        return 2;
    }
    ipc_array *array = NULL;
    ipc_sem *ping = NULL, *pong = NULL;
    int rc = ipc_array_open(&array, argv[1], 0);
    if (rc == 0)
        rc = ipc_sem_open(&ping, argv[2]);
    if (rc == 0)
        rc = ipc_sem_open(&pong, argv[3]);
    if (rc == 0 && ipc_array_eltype(array) != IPC_FLOAT64)
        rc = -22;
    if (rc == 0)
        rc = ipc_sem_timedwait(ping, 10.0);
    if (rc == 0) {
        double *data = ipc_array_data(array);
        for (int64_t k = 0; k < ipc_array_length(array); ++k)
            data[k] = 1000.0 + (double)k;
        rc = ipc_sem_post(pong);
    }
    if (rc < 0)
        fprintf(stderr, "peer: %s\n", ipc_last_error());
    ipc_sem_close(pong);
    ipc_sem_close(ping);
    ipc_array_close(array);
    return rc < 0 ? 1 : 0;
}
