/* A plain C program that finds libipc with dlopen and uses shared memory
 * through dlsym alone, as a binding without headers would. */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef int (*create_fn)(void **, const char *, size_t, uint32_t, uint32_t);
typedef int (*open_fn)(void **, const char *, uint32_t);
typedef int (*close_fn)(void *);
typedef void *(*addr_fn)(const void *);
typedef size_t (*size_fn)(const void *);
typedef int (*unlink_fn)(const char *);
typedef const char *(*error_fn)(void);

#define RESOLVE(type, var, name)                                                                   \
    type var;                                                                                      \
    *(void **)(&var) = dlsym(lib, name);                                                           \
    if (!var) {                                                                                    \
        fprintf(stderr, "dlsym %s: %s\n", name, dlerror());                                        \
        return 1;                                                                                  \
    }

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "libipc.so.1";
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
        return 1;
    }
    RESOLVE(create_fn, shm_create, "ipc_shm_create")
    RESOLVE(open_fn, shm_open_, "ipc_shm_open")
    RESOLVE(close_fn, shm_close, "ipc_shm_close")
    RESOLVE(addr_fn, shm_addr, "ipc_shm_addr")
    RESOLVE(size_fn, shm_size, "ipc_shm_size")
    RESOLVE(unlink_fn, shm_unlink_, "ipc_shm_unlink")
    RESOLVE(error_fn, last_error, "ipc_last_error")
    if (dlsym(lib, "_ZN3ipc12SharedMemory4openESt17basic_string_viewIcSt11char_traitsIcEEj")) {
        fprintf(stderr, "a C++ symbol is exported\n");
        return 1;
    }

    char name[64];
    snprintf(name, sizeof name, "/ipc-test-dlopen-%d", (int)getpid());
    void *writer = NULL, *reader = NULL;
    if (shm_create(&writer, name, 4096, 0600, 0) != 0) {
        fprintf(stderr, "create: %s\n", last_error());
        return 1;
    }
    strcpy((char *)shm_addr(writer), "written through dlopen");
    int rc = shm_open_(&reader, name, 1 /* IPC_RDONLY */);
    if (rc != 0 || shm_size(reader) != 4096 || strcmp((const char *)shm_addr(reader), "written through dlopen") != 0) {
        fprintf(stderr, "open or read back failed: %s\n", last_error());
        shm_unlink_(name);
        return 1;
    }
    if (shm_close(reader) != 0 || shm_close(writer) != 0 || shm_unlink_(name) != 0) {
        fprintf(stderr, "close or unlink: %s\n", last_error());
        return 1;
    }
    if (shm_unlink_(name) != -2 /* -ENOENT */) {
        fprintf(stderr, "the name survived its unlink\n");
        return 1;
    }
    dlclose(lib);
    puts("dlopen smoke test: ok");
    return 0;
}
