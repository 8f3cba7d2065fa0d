#include "ipc/sync.h"

#include "../lib/sync.hpp"
#include "common.hpp"

#include <string>

using namespace ipc::capi;

struct ipc_mutex : Handle<ipc::Mutex, make_tag("mutx")> {
    using Handle::Handle;
};
struct ipc_cond : Handle<ipc::Cond, make_tag("cond")> {
    using Handle::Handle;
};
struct ipc_rwlock : Handle<ipc::RwLock, make_tag("rwlk")> {
    using Handle::Handle;
};

static_assert(uint32_t{IPC_RWLOCK_PREFER_WRITER} == ipc::rwlock_prefer_writer);
static_assert(IPC_SYNC_ALIGN == alignof(ipc::SyncBlock<pthread_mutex_t>) &&
              IPC_SYNC_ALIGN == alignof(ipc::SyncBlock<ipc::CondState>) &&
              IPC_SYNC_ALIGN == alignof(ipc::SyncBlock<pthread_rwlock_t>));

namespace {

constexpr const char *mutex_kind = "ipc_mutex";
constexpr const char *cond_kind = "ipc_cond";
constexpr const char *rwlock_kind = "ipc_rwlock";

// The expected outcomes of a wait, as codes with a message for
// ipc_last_error(). Success is checked inline and builds nothing: the
// uncontended lock must cost what a raw pthread call costs.
[[gnu::cold]] int outcome_failure(int rc, const char *function) {
    std::string f = function;
    switch (rc) {
    case EOWNERDEAD:
        return record(rc, f + ": the previous owner died holding the mutex; the caller holds it now: repair the "
                              "shared state, then call ipc_mutex_consistent()");
    case EAGAIN:
        return record(rc, f + ": the lock is held");
    case ETIMEDOUT:
        return record(rc, f + ": timed out");
    default:
        return record(rc, f + ": failed");
    }
}

inline int outcome(int rc, const char *function) { return rc == 0 ? 0 : outcome_failure(rc, function); }

// The parts of init, attach, create, open and unlink that the three kinds share.
template <class H> int init(H **out, void *addr, size_t avail, uint32_t flags, const char *function) {
    return emit(out, function, [&] {
        require(addr, function, "addr");
        return decltype(H::core)::init(addr, avail, flags);
    });
}

template <class H> int attach(H **out, void *addr, size_t avail, const char *function) {
    return emit(out, function, [&] {
        require(addr, function, "addr");
        return decltype(H::core)::attach(addr, avail);
    });
}

template <class H> int create(H **out, const char *name, uint32_t mode, uint32_t flags, const char *function) {
    return emit(out, function, [&] {
        require(name, function, "name");
        return decltype(H::core)::create(name, mode, flags);
    });
}

template <class H> int open(H **out, const char *name, const char *function) {
    return emit(out, function, [&] {
        require(name, function, "name");
        return decltype(H::core)::open(name);
    });
}

int unlink(const char *name, const char *noun, const char *function) {
    return guard([&] {
        require(name, function, "name");
        ipc::SyncObject::unlink(name, noun);
        return 0;
    });
}

} // namespace

extern "C" {

// ------------------------------------------------------------------ mutex

IPC_API size_t ipc_mutex_size(void) { return ipc::Mutex::size(); }

IPC_API int ipc_mutex_init(ipc_mutex **out, void *addr, size_t avail, uint32_t flags) {
    return init(out, addr, avail, flags, "ipc_mutex_init");
}

IPC_API int ipc_mutex_attach(ipc_mutex **out, void *addr, size_t avail) {
    return attach(out, addr, avail, "ipc_mutex_attach");
}

IPC_API int ipc_mutex_create(ipc_mutex **out, const char *name, uint32_t mode, uint32_t flags) {
    return create(out, name, mode, flags, "ipc_mutex_create");
}

IPC_API int ipc_mutex_open(ipc_mutex **out, const char *name) { return open(out, name, "ipc_mutex_open"); }

IPC_API int ipc_mutex_close(ipc_mutex *m) { return close(m, mutex_kind); }

IPC_API int ipc_mutex_lock(ipc_mutex *m) {
    return guard([&] { return outcome(live(m, mutex_kind).core.lock(), "ipc_mutex_lock"); });
}

IPC_API int ipc_mutex_trylock(ipc_mutex *m) {
    return guard([&] { return outcome(live(m, mutex_kind).core.trylock(), "ipc_mutex_trylock"); });
}

IPC_API int ipc_mutex_timedlock(ipc_mutex *m, double seconds) {
    return guard([&] { return outcome(live(m, mutex_kind).core.timedlock(seconds), "ipc_mutex_timedlock"); });
}

IPC_API int ipc_mutex_unlock(ipc_mutex *m) {
    return guard([&] {
        live(m, mutex_kind).core.unlock();
        return 0;
    });
}

IPC_API int ipc_mutex_consistent(ipc_mutex *m) {
    return guard([&] {
        live(m, mutex_kind).core.consistent();
        return 0;
    });
}

IPC_API int ipc_mutex_set_spin(ipc_mutex *m, int64_t nanoseconds) {
    return guard([&] {
        live(m, mutex_kind).core.set_spin(nanoseconds);
        return 0;
    });
}

IPC_API int ipc_mutex_unlink(const char *name) { return unlink(name, "mutex", "ipc_mutex_unlink"); }

// ------------------------------------------------------ condition variable

IPC_API size_t ipc_cond_size(void) { return ipc::Cond::size(); }

IPC_API int ipc_cond_init(ipc_cond **out, void *addr, size_t avail, uint32_t flags) {
    return init(out, addr, avail, flags, "ipc_cond_init");
}

IPC_API int ipc_cond_attach(ipc_cond **out, void *addr, size_t avail) {
    return attach(out, addr, avail, "ipc_cond_attach");
}

IPC_API int ipc_cond_create(ipc_cond **out, const char *name, uint32_t mode, uint32_t flags) {
    return create(out, name, mode, flags, "ipc_cond_create");
}

IPC_API int ipc_cond_open(ipc_cond **out, const char *name) { return open(out, name, "ipc_cond_open"); }

IPC_API int ipc_cond_close(ipc_cond *c) { return close(c, cond_kind); }

IPC_API int ipc_cond_wait(ipc_cond *c, ipc_mutex *m) {
    return guard([&] {
        auto &cond = live(c, cond_kind);
        return outcome(cond.core.wait(live(m, mutex_kind).core), "ipc_cond_wait");
    });
}

IPC_API int ipc_cond_timedwait(ipc_cond *c, ipc_mutex *m, double seconds) {
    return guard([&] {
        auto &cond = live(c, cond_kind);
        return outcome(cond.core.timedwait(live(m, mutex_kind).core, seconds), "ipc_cond_timedwait");
    });
}

IPC_API int ipc_cond_signal(ipc_cond *c) {
    return guard([&] {
        live(c, cond_kind).core.signal();
        return 0;
    });
}

IPC_API int ipc_cond_broadcast(ipc_cond *c) {
    return guard([&] {
        live(c, cond_kind).core.broadcast();
        return 0;
    });
}

IPC_API int ipc_cond_set_spin(ipc_cond *c, int64_t nanoseconds) {
    return guard([&] {
        live(c, cond_kind).core.set_spin(nanoseconds);
        return 0;
    });
}

IPC_API int ipc_cond_unlink(const char *name) { return unlink(name, "condition variable", "ipc_cond_unlink"); }

// ------------------------------------------------------- read/write lock

IPC_API size_t ipc_rwlock_size(void) { return ipc::RwLock::size(); }

IPC_API int ipc_rwlock_init(ipc_rwlock **out, void *addr, size_t avail, uint32_t flags) {
    return init(out, addr, avail, flags, "ipc_rwlock_init");
}

IPC_API int ipc_rwlock_attach(ipc_rwlock **out, void *addr, size_t avail) {
    return attach(out, addr, avail, "ipc_rwlock_attach");
}

IPC_API int ipc_rwlock_create(ipc_rwlock **out, const char *name, uint32_t mode, uint32_t flags) {
    return create(out, name, mode, flags, "ipc_rwlock_create");
}

IPC_API int ipc_rwlock_open(ipc_rwlock **out, const char *name) { return open(out, name, "ipc_rwlock_open"); }

IPC_API int ipc_rwlock_close(ipc_rwlock *rw) { return close(rw, rwlock_kind); }

IPC_API int ipc_rwlock_rdlock(ipc_rwlock *rw) {
    return guard([&] {
        live(rw, rwlock_kind).core.rdlock();
        return 0;
    });
}

IPC_API int ipc_rwlock_tryrdlock(ipc_rwlock *rw) {
    return guard([&] { return outcome(live(rw, rwlock_kind).core.tryrdlock(), "ipc_rwlock_tryrdlock"); });
}

IPC_API int ipc_rwlock_timedrdlock(ipc_rwlock *rw, double seconds) {
    return guard(
        [&] { return outcome(live(rw, rwlock_kind).core.timedrdlock(seconds), "ipc_rwlock_timedrdlock"); });
}

IPC_API int ipc_rwlock_wrlock(ipc_rwlock *rw) {
    return guard([&] {
        live(rw, rwlock_kind).core.wrlock();
        return 0;
    });
}

IPC_API int ipc_rwlock_trywrlock(ipc_rwlock *rw) {
    return guard([&] { return outcome(live(rw, rwlock_kind).core.trywrlock(), "ipc_rwlock_trywrlock"); });
}

IPC_API int ipc_rwlock_timedwrlock(ipc_rwlock *rw, double seconds) {
    return guard(
        [&] { return outcome(live(rw, rwlock_kind).core.timedwrlock(seconds), "ipc_rwlock_timedwrlock"); });
}

IPC_API int ipc_rwlock_unlock(ipc_rwlock *rw) {
    return guard([&] {
        live(rw, rwlock_kind).core.unlock();
        return 0;
    });
}

IPC_API int ipc_rwlock_unlink(const char *name) { return unlink(name, "read/write lock", "ipc_rwlock_unlink"); }

} // extern "C"
