#include "ipc/sem.h"

#include "../lib/sem.hpp"
#include "common.hpp"

using namespace ipc::capi;

struct ipc_sem : Handle<ipc::Semaphore, make_tag("sem ")> {
    using Handle::Handle;
};

namespace {

constexpr const char *kind = "ipc_sem";

ipc::Semaphore &core(ipc_sem *sem) { return live(sem, kind).core; }

} // namespace

extern "C" {

IPC_API int ipc_sem_create(ipc_sem **out, const char *name, uint32_t value, uint32_t mode,
                           uint32_t flags) {
    return emit(out, "ipc_sem_create", [&] {
        require(name, "ipc_sem_create", "name");
        return ipc::Semaphore::create(name, value, mode, flags);
    });
}

IPC_API int ipc_sem_open(ipc_sem **out, const char *name) {
    return emit(out, "ipc_sem_open", [&] {
        require(name, "ipc_sem_open", "name");
        return ipc::Semaphore::open(name);
    });
}

IPC_API int ipc_sem_init(ipc_sem **out, void *addr, size_t avail, uint32_t value) {
    return emit(out, "ipc_sem_init", [&] { return ipc::Semaphore::init(addr, avail, value); });
}

IPC_API int ipc_sem_attach(ipc_sem **out, void *addr, size_t avail) {
    return emit(out, "ipc_sem_attach", [&] { return ipc::Semaphore::attach(addr, avail); });
}

IPC_API int ipc_sem_close(ipc_sem *sem) { return close(sem, kind); }

IPC_API int ipc_sem_post(ipc_sem *sem) {
    return guard([&] {
        core(sem).post();
        return 0;
    });
}

IPC_API int ipc_sem_wait(ipc_sem *sem) {
    return guard([&] {
        core(sem).wait();
        return 0;
    });
}

IPC_API int ipc_sem_trywait(ipc_sem *sem) {
    return guard([&] {
        ipc::Semaphore &s = core(sem);
        return s.try_wait() ? 0 : record(EAGAIN, "ipc_sem_trywait: the value is 0");
    });
}

IPC_API int ipc_sem_timedwait(ipc_sem *sem, double seconds) {
    return guard([&] {
        ipc::Semaphore &s = core(sem);
        return s.timed_wait(seconds)
                   ? 0
                   : record(ETIMEDOUT, "ipc_sem_timedwait: no post within " + std::to_string(seconds) + " s");
    });
}

IPC_API int ipc_sem_value(ipc_sem *sem) {
    return guard([&] { return core(sem).value(); });
}

IPC_API int ipc_sem_set_spin(ipc_sem *sem, int64_t nanoseconds) {
    return guard([&] {
        core(sem).set_spin(nanoseconds);
        return 0;
    });
}

IPC_API int ipc_sem_unlink(const char *name) {
    return guard([&] {
        require(name, "ipc_sem_unlink", "name");
        ipc::Semaphore::unlink(name);
        return 0;
    });
}

IPC_API size_t ipc_sem_size(void) { return ipc::Semaphore::size(); }

IPC_API size_t ipc_sem_alignment(void) { return ipc::Semaphore::alignment(); }

IPC_API int ipc_sem_value_max(void) { return ipc::Semaphore::value_max(); }

} // extern "C"
