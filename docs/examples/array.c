/* Two processes share a 2-D Float64 array: the child opens it by its address
 * and fills it, the parent reads it back, element (i, j) at i + rows*j.
 * Build: cc array.c $(pkg-config --cflags --libs ipc) */
#define _POSIX_C_SOURCE 200809L
#include <ipc.h>

#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    char name[64];
    snprintf(name, sizeof name, "/ipc-example-array-%d", (int)getpid());

    const int64_t dims[2] = {3, 4}; /* 3 rows, 4 columns; the first index varies fastest */
    ipc_array *arr = NULL;
    if (ipc_array_create(&arr, name, IPC_FLOAT64, 2, dims, 0600, IPC_UNLINK_ON_CLOSE) < 0) {
        fprintf(stderr, "create failed: %s\n", ipc_last_error());
        return 1;
    }
    char address[IPC_ADDRESS_MAX];
    ipc_array_address(arr, address, sizeof address);

    pid_t child = fork();
    if (child == 0) {
        /* Only the address is needed: the header tells the type and the shape. */
        ipc_array *mine = NULL;
        if (ipc_array_open(&mine, address, 0) < 0) {
            fprintf(stderr, "child: %s\n", ipc_last_error());
            _exit(1);
        }
        if (ipc_array_eltype(mine) != IPC_FLOAT64 || ipc_array_ndims(mine) != 2)
            _exit(2);
        int64_t rows = ipc_array_dim(mine, 0), cols = ipc_array_dim(mine, 1);
        double *a = ipc_array_data(mine);
        for (int64_t j = 0; j < cols; ++j)
            for (int64_t i = 0; i < rows; ++i)
                a[i + rows * j] = 10.0 * (double)i + (double)j; /* A[i+1, j+1] in Julia */
        ipc_array_close(mine);
        _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return 1;

    const double *a = ipc_array_data(arr);
    int wrong = 0;
    printf("process %d reads the %lldx%lld Float64 array at %s:\n", (int)getpid(),
           (long long)dims[0], (long long)dims[1], address);
    for (int64_t i = 0; i < dims[0]; ++i) {
        for (int64_t j = 0; j < dims[1]; ++j) {
            double value = a[i + dims[0] * j];
            wrong += value != 10.0 * (double)i + (double)j;
            printf(" %5.1f", value);
        }
        printf("\n");
    }
    ipc_array_close(arr); /* IPC_UNLINK_ON_CLOSE: the name goes away with it */
    return wrong == 0 ? 0 : 1;
}
