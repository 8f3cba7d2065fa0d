/* Compiled as C99 and as C++ with -Wall -Wextra -pedantic -Werror: the public
 * headers must stay clean in both languages. Also links and runs. */
#include <ipc.h>

#include <stdio.h>
#include <string.h>

int main(void) {
    int major = 0, minor = 0, patch = 0;
    ipc_version(&major, &minor, &patch);
    if (major != IPC_VERSION_MAJOR || minor != IPC_VERSION_MINOR || patch != IPC_VERSION_PATCH) {
        fprintf(stderr, "header says %d.%d.%d, library says %d.%d.%d\n", IPC_VERSION_MAJOR,
                IPC_VERSION_MINOR, IPC_VERSION_PATCH, major, minor, patch);
        return 1;
    }
    if (strcmp(ipc_strerror(-2), "No such file or directory") != 0)
        return 2;
    if (sizeof(ipc_shm_info) != 80 || ipc_shm_info_size() != sizeof(ipc_shm_info))
        return 3;
    return 0;
}
