// Shared arrays: opening must not touch the data, so its cost stays flat from
// 4 KiB to 1 GiB; writing through the data pointer must run at memcpy speed.
// Targets (issue 6): open of 1 GiB at most 2x open of 4 KiB; a full write at
// least 0.95x the bandwidth of memcpy into private memory.
#include "harness.hpp"

#include <ipc.h>

#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <vector>

namespace {

struct Array {
    std::string address;
    ipc_array *handle = nullptr;
    Array(const std::string &name, int64_t bytes) : address(name) {
        int64_t dims[1] = {bytes / 8};
        if (ipc_array_create(&handle, address.c_str(), IPC_FLOAT64, 1, dims, 0600, IPC_UNLINK_ON_CLOSE) < 0) {
            std::fprintf(stderr, "bench_array: %s\n", ipc_last_error());
            std::exit(1);
        }
    }
    ~Array() { ipc_array_close(handle); }
};

// Opens and closes the array at `address` n times.
double open_close(const std::string &address, int64_t n) {
    return bench::loop_ns(n, [&](int64_t) {
        ipc_array *a = nullptr;
        if (ipc_array_open(&a, address.c_str(), IPC_RDONLY) < 0)
            std::abort();
        ipc_array_close(a);
    });
}

// The same with libc: shm_open, fstat, mmap of the whole object, and back.
double raw_open_close(const std::string &name, int64_t n) {
    return bench::loop_ns(n, [&](int64_t) {
        int fd = shm_open(name.c_str(), O_RDONLY, 0);
        struct stat st {};
        if (fd < 0 || fstat(fd, &st) < 0)
            std::abort();
        void *p = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED)
            std::abort();
        munmap(p, static_cast<size_t>(st.st_size));
        close(fd);
    });
}

} // namespace

int main(int argc, char **argv) {
    bench::Harness h("array", argc, argv);
    const std::string prefix = "/ipc-bench-array-" + std::to_string(getpid());

    {
        Array small(prefix + "-4k", 4096), large(prefix + "-1g", int64_t(1) << 30),
            medium(prefix + "-64m", int64_t(64) << 20);
        h.note("open read-only + close by address; 1 GiB is never touched, so only the header page is read");
        h.run("open a shared array by size",
              {
                  {"libipc open 4 KiB", bench::Kind::ours, [&](int64_t n) { return open_close(small.address, n); }},
                  {"libipc open 64 MiB", bench::Kind::ours, [&](int64_t n) { return open_close(medium.address, n); }},
                  {"libipc open 1 GiB", bench::Kind::ours, [&](int64_t n) { return open_close(large.address, n); }},
                  {"raw shm_open+mmap 4 KiB", bench::Kind::reference,
                   [&](int64_t n) { return raw_open_close(small.address, n); }},
                  {"raw shm_open+mmap 1 GiB", bench::Kind::alternative,
                   [&](int64_t n) { return raw_open_close(large.address, n); }},
              },
              {{"libipc open 1 GiB", "libipc open 4 KiB", 2.0}});
    }

    {
        const size_t bytes = size_t(64) << 20;
        Array shared(prefix + "-write", static_cast<int64_t>(bytes));
        std::vector<char> source(bytes, 1), private_copy(bytes, 0);
        auto *data = static_cast<char *>(ipc_array_data(shared.handle));
        std::memset(data, 0, bytes); // first touch, outside the timing
        h.note("64 MiB per operation, pages touched beforehand");
        h.run("write a full 64 MiB array",
              {
                  {"libipc data pointer", bench::Kind::ours,
                   [&](int64_t n) { return bench::loop_ns(n, [&](int64_t) { std::memcpy(data, source.data(), bytes); }); }},
                  {"memcpy into private memory", bench::Kind::alternative,
                   [&](int64_t n) {
                       return bench::loop_ns(n, [&](int64_t) { std::memcpy(private_copy.data(), source.data(), bytes); });
                   }},
              },
              {{"libipc data pointer", "memcpy into private memory", 1.0 / 0.95}});
    }
    return h.finish();
}
