// Leak tests: many create/open/close cycles of every object kind leave the
// number of open descriptors, mappings and /dev/shm entries unchanged.
// 10,000 cycles per kind, or IPC_LEAK_CYCLES when set (tests/meson.build
// lowers it under the sanitizers). Tagged [leak].
#include "../catch.hpp"
#include "../support.hpp"

#include <ipc.h>

#include <cstdint>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <functional>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

namespace {

int64_t cycles() {
    const char *env = std::getenv("IPC_LEAK_CYCLES");
    return env ? std::atoll(env) : 10000;
}

size_t entries(const char *dir, const std::string &containing = "") {
    size_t n = 0;
    if (DIR *d = opendir(dir)) {
        while (dirent *e = readdir(d))
            if (std::string(e->d_name) != "." && std::string(e->d_name) != ".." &&
                std::string(e->d_name).find(containing) != std::string::npos)
                ++n;
        closedir(d);
    }
    return n;
}

// Shared mappings ("rw-s" and the like): every mapping libipc makes is one,
// and none of the sanitizers' own (private) mappings, which come and go, are.
size_t shared_mappings() {
    std::ifstream in("/proc/self/maps");
    std::string address, perms, rest;
    size_t n = 0;
    while (in >> address >> perms && std::getline(in, rest))
        n += perms.size() == 4 && perms[3] == 's';
    return n;
}

struct Footprint {
    size_t fds, maps, shm;
    bool operator==(const Footprint &) const = default;
};

std::ostream &operator<<(std::ostream &os, const Footprint &f) {
    return os << "{fds " << f.fds << ", shared maps " << f.maps << ", /dev/shm " << f.shm << "}";
}

Footprint footprint() {
    return {entries("/proc/self/fd"), shared_mappings(),
            entries("/dev/shm", "ipc-test-" + std::to_string(getpid()) + "-")};
}

// Memory for the in-memory objects.
alignas(64) unsigned char place[4096];

struct Cycle {
    const char *label;
    std::function<int(const std::string &)> run; // one create/open/close cycle; 0 when all went well
};

// Two handles on one object: create, open, close both, then remove the name.
template <class T, class Create, class Open, class Close, class Unlink>
int twice(const std::string &name, Create create, Open open, Close close, Unlink unlink) {
    T *a = nullptr, *b = nullptr;
    int rc = create(&a, name.c_str());
    if (rc == 0)
        rc = open(&b, name.c_str());
    int closed = close(b) | close(a);
    int unlinked = unlink(name.c_str());
    return rc ? rc : closed ? closed : unlinked;
}

const int64_t dims[2] = {8, 8};

// Two handles on one object in memory: initialise, attach, close both.
template <class T>
int in_memory(int (*init)(T **, void *, size_t), int (*attach)(T **, void *, size_t), int (*close)(T *)) {
    T *a = nullptr, *b = nullptr;
    int rc = init(&a, place, sizeof place);
    if (rc == 0)
        rc = attach(&b, place, sizeof place);
    return rc | close(b) | close(a);
}

template <class T, int (*Init)(T **, void *, size_t, uint32_t)> int init_plain(T **out, void *addr, size_t avail) {
    return Init(out, addr, avail, 0);
}

std::vector<Cycle> all_cycles() {
    return {
        {"POSIX shared memory", [](const std::string &n) {
             return twice<ipc_shm>(n, [](ipc_shm **o, const char *a) { return ipc_shm_create(o, a, 8192, 0600, 0); },
                                   [](ipc_shm **o, const char *a) { return ipc_shm_open(o, a, IPC_RDONLY); },
                                   ipc_shm_close, ipc_shm_unlink);
         }},
        {"System V shared memory", [](const std::string &) {
             static std::string key = "key:" + std::to_string(test::unique_key());
             return twice<ipc_shm>(key, [](ipc_shm **o, const char *a) { return ipc_shm_create(o, a, 8192, 0600, 0); },
                                   [](ipc_shm **o, const char *a) { return ipc_shm_open(o, a, 0); },
                                   ipc_shm_close, ipc_shm_unlink);
         }},
        {"named semaphore", [](const std::string &n) {
             return twice<ipc_sem>(n, [](ipc_sem **o, const char *a) { return ipc_sem_create(o, a, 0, 0600, 0); },
                                   ipc_sem_open, ipc_sem_close, ipc_sem_unlink);
         }},
        {"semaphore in memory", [](const std::string &) {
             return in_memory<ipc_sem>(init_plain<ipc_sem, ipc_sem_init>, ipc_sem_attach, ipc_sem_close);
         }},
        {"named mutex", [](const std::string &n) {
             return twice<ipc_mutex>(n, [](ipc_mutex **o, const char *a) { return ipc_mutex_create(o, a, 0600, 0); },
                                     ipc_mutex_open, ipc_mutex_close, ipc_mutex_unlink);
         }},
        {"mutex in memory", [](const std::string &) {
             ipc_mutex *a = nullptr, *b = nullptr;
             int rc = ipc_mutex_init(&a, place, sizeof place, 0);
             if (rc == 0)
                 rc = ipc_mutex_attach(&b, place, sizeof place);
             if (rc == 0 && (rc = ipc_mutex_lock(b)) == 0)
                 rc = ipc_mutex_unlock(a);
             return rc | ipc_mutex_close(b) | ipc_mutex_close(a);
         }},
        {"named condition variable", [](const std::string &n) {
             return twice<ipc_cond>(n, [](ipc_cond **o, const char *a) { return ipc_cond_create(o, a, 0600, 0); },
                                    ipc_cond_open, ipc_cond_close, ipc_cond_unlink);
         }},
        {"condition variable in memory", [](const std::string &) {
             return in_memory<ipc_cond>(init_plain<ipc_cond, ipc_cond_init>, ipc_cond_attach, ipc_cond_close);
         }},
        {"named read/write lock", [](const std::string &n) {
             return twice<ipc_rwlock>(n, [](ipc_rwlock **o, const char *a) { return ipc_rwlock_create(o, a, 0600, 0); },
                                      ipc_rwlock_open, ipc_rwlock_close, ipc_rwlock_unlink);
         }},
        {"read/write lock in memory", [](const std::string &) {
             return in_memory<ipc_rwlock>(init_plain<ipc_rwlock, ipc_rwlock_init>, ipc_rwlock_attach, ipc_rwlock_close);
         }},
        {"shared array (POSIX)", [](const std::string &n) {
             return twice<ipc_array>(n, [](ipc_array **o, const char *a) { return ipc_array_create(o, a, IPC_INT32, 2, dims, 0600, 0); },
                                     [](ipc_array **o, const char *a) { return ipc_array_open(o, a, IPC_RDONLY); },
                                     ipc_array_close, ipc_shm_unlink);
         }},
        {"shared array (System V)", [](const std::string &) {
             static std::string key = "key:" + std::to_string(test::unique_key());
             return twice<ipc_array>(key, [](ipc_array **o, const char *a) { return ipc_array_create(o, a, IPC_INT32, 2, dims, 0600, 0); },
                                     [](ipc_array **o, const char *a) { return ipc_array_open(o, a, 0); },
                                     ipc_array_close, ipc_shm_unlink);
         }},
        {"message queue", [](const std::string &n) {
             return twice<ipc_mq>(n, [](ipc_mq **o, const char *a) { return ipc_mq_create(o, a, 4, 64, 0600, 0); },
                                  [](ipc_mq **o, const char *a) { return ipc_mq_open(o, a, IPC_WRONLY); },
                                  ipc_mq_close, ipc_mq_unlink);
         }},
        {"signal set", [](const std::string &) {
             ipc_sigset *a = nullptr, *b = nullptr;
             int rc = ipc_sigset_new(&a);
             if (rc == 0 && (rc = ipc_sigset_add(a, ipc_sig_rtmin())) == 0)
                 rc = ipc_sigset_copy(&b, a);
             return rc | ipc_sigset_free(b) | ipc_sigset_free(a);
         }},
    };
}

} // namespace

// For each object kind (named and in memory), N cycles of create, open a
// second handle, close both, remove: the number of open descriptors
// (/proc/self/fd), of shared mappings (/proc/self/maps) and of this run's /dev/shm
// entries is the same after as before.
TEST_CASE("leaks: create/open/close cycles of every object kind keep descriptors, mappings and /dev/shm "
          "entries constant",
          "[leak]") {
    const int64_t n = cycles();
    for (const Cycle &cycle : all_cycles()) {
        DYNAMIC_SECTION(cycle.label << ", " << n << " cycles") {
            std::string name = test::unique_name("leak");
            REQUIRE(cycle.run(name) == 0); // a warm-up: first calls may load or cache things
            Footprint before = footprint();
            int64_t failures = 0;
            for (int64_t i = 0; i < n; ++i)
                failures += cycle.run(name) != 0;
            Footprint after = footprint();
            CHECK(failures == 0);
            CHECK(after == before);
        }
    }
}
