#include "common.hpp"

#include "../lib/common.hpp"

#include <climits>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <new>
#include <stdexcept>
#include <system_error>
#include <unistd.h>

namespace ipc::capi {

static_assert(uint32_t{IPC_RDONLY} == ipc::rdonly && uint32_t{IPC_UNLINK_ON_CLOSE} == ipc::unlink_on_close &&
              uint32_t{IPC_OPEN_OR_CREATE} == ipc::open_or_create && uint32_t{IPC_WRONLY} == ipc::wronly);

namespace {

thread_local std::string last_error;

// Closed blocks wait this many closes of the same size before reuse.
constexpr size_t quarantine = 256;

struct Pool {
    std::mutex lock;
    std::map<size_t, std::deque<void *>> closed;
};

Pool &pool() {
    static Pool *instance = new Pool; // never destroyed: handles may close during exit
    return *instance;
}

} // namespace

void *pool_allocate(size_t size) {
    Pool &p = pool();
    {
        std::lock_guard hold(p.lock);
        auto &blocks = p.closed[size];
        if (blocks.size() > quarantine) {
            void *block = blocks.front();
            blocks.pop_front();
            return block;
        }
    }
    return ::operator new(size);
}

void pool_release(void *block, size_t size) noexcept {
    std::memcpy(block, &dead_tag, sizeof dead_tag); // after the destructor: cannot be elided
    Pool &p = pool();
    try {
        std::lock_guard hold(p.lock);
        p.closed[size].push_back(block);
    } catch (...) {
        // Out of memory for the bookkeeping: the block stays dead and unused.
    }
}

int record(int code, const std::string &message) noexcept {
    try {
        last_error = message;
    } catch (...) {
        last_error.clear(); // out of memory: keep the code, lose the text
    }
    return -code;
}

int record_current_exception() noexcept {
    try {
        throw;
    } catch (const std::system_error &e) {
        int code = e.code().value();
        return record(code > 0 ? code : EIO, e.what());
    } catch (const std::bad_alloc &) {
        return record(ENOMEM, "out of memory");
    } catch (const std::invalid_argument &e) {
        return record(EINVAL, e.what());
    } catch (const std::out_of_range &e) {
        return record(ERANGE, e.what());
    } catch (const std::exception &e) {
        return record(EIO, std::string("internal error: ") + e.what());
    } catch (...) {
        return record(EIO, "internal error: unknown exception");
    }
}

void require(const void *pointer, const char *function, const char *argument) {
    if (!pointer)
        throw std::system_error(EINVAL, std::generic_category(),
                                std::string(function) + ": " + argument + " is NULL");
}

int copy_out(const std::string &text, char *buf, size_t cap, const char *function) {
    require(buf, function, "buf");
    if (cap <= text.size())
        return record(ERANGE, std::string(function) + ": " + std::to_string(cap) + " bytes cannot hold " +
                                  std::to_string(text.size() + 1));
    std::memcpy(buf, text.c_str(), text.size() + 1);
    return static_cast<int>(text.size());
}

void bad_handle(const void *handle, const char *kind) {
    throw std::system_error(EBADF, std::generic_category(),
                            handle ? std::string("not a live ") + kind + " handle (closed, or of another kind)"
                                   : std::string("the ") + kind + " handle is NULL");
}

} // namespace ipc::capi

using namespace ipc::capi;

extern "C" {

IPC_API void ipc_version(int *major, int *minor, int *patch) {
    if (major)
        *major = IPC_VERSION_MAJOR;
    if (minor)
        *minor = IPC_VERSION_MINOR;
    if (patch)
        *patch = IPC_VERSION_PATCH;
}

IPC_API const char *ipc_strerror(int code) {
    if (code == 0)
        return "Success";
    if (code == INT_MIN)
        return "Unknown error";
    const char *text = strerrordesc_np(code < 0 ? -code : code);
    return text ? text : "Unknown error";
}

IPC_API const char *ipc_last_error(void) { return last_error.c_str(); }

IPC_API size_t ipc_page_size(void) { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

} // extern "C"
