#include "sync.hpp"

#include "common.hpp"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <limits>
#include <linux/futex.h>
#include <new>
#include <string>
#include <sys/syscall.h>
#include <unistd.h>

namespace ipc {

namespace {

static_assert(std::atomic<uint32_t>::is_always_lock_free, "the header's state is shared between processes");
static_assert(sizeof(SyncHeader) == 16);
static_assert(offsetof(SyncBlock<pthread_mutex_t>, object) == sizeof(SyncHeader));
static_assert(offsetof(SyncBlock<CondState>, object) == sizeof(SyncHeader));
static_assert(std::atomic<uint32_t>::is_always_lock_free && sizeof(std::atomic<uint32_t>) == 4,
              "the condition's sequence is a futex word");
static_assert(offsetof(SyncBlock<pthread_rwlock_t>, object) == sizeof(SyncHeader));

// A pthread *attr_t set up and destroyed around one initialisation.
template <class Attr, int (*Init)(Attr *), int (*Destroy)(Attr *)> struct Attributes {
    Attr attr;
    Attributes() {
        if (int rc = Init(&attr))
            fail(rc, "lock attributes");
    }
    ~Attributes() { Destroy(&attr); }
    void set(int rc, const char *what) {
        if (rc)
            fail(rc, what);
    }
};

void init_mutex(void *object, uint32_t) {
    Attributes<pthread_mutexattr_t, pthread_mutexattr_init, pthread_mutexattr_destroy> a;
    a.set(pthread_mutexattr_setpshared(&a.attr, PTHREAD_PROCESS_SHARED), "mutex init: process-shared");
    a.set(pthread_mutexattr_setrobust(&a.attr, PTHREAD_MUTEX_ROBUST), "mutex init: robust");
    a.set(pthread_mutexattr_settype(&a.attr, PTHREAD_MUTEX_ERRORCHECK), "mutex init: error-checking");
    a.set(pthread_mutex_init(static_cast<pthread_mutex_t *>(object), &a.attr), "mutex init");
}

void init_cond(void *object, uint32_t) { new (object) CondState{}; }

void init_rwlock(void *object, uint32_t flags) {
    Attributes<pthread_rwlockattr_t, pthread_rwlockattr_init, pthread_rwlockattr_destroy> a;
    a.set(pthread_rwlockattr_setpshared(&a.attr, PTHREAD_PROCESS_SHARED), "rwlock init: process-shared");
    if (flags & rwlock_prefer_writer)
        a.set(pthread_rwlockattr_setkind_np(&a.attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP),
              "rwlock init: writer preference");
    a.set(pthread_rwlock_init(static_cast<pthread_rwlock_t *>(object), &a.attr), "rwlock init");
}

template <class T>
constexpr SyncLayout layout_of(SyncKind kind, const char *noun, uint32_t init_flags, void (*init)(void *, uint32_t)) {
    return {kind, noun, sizeof(SyncBlock<T>), alignof(SyncBlock<T>), sizeof(T), init_flags, init};
}

const SyncLayout mutex_layout = layout_of<pthread_mutex_t>(SyncKind::mutex, "mutex", 0, init_mutex);
const SyncLayout cond_layout = layout_of<CondState>(SyncKind::cond, "condition variable", 0, init_cond);
const SyncLayout rwlock_layout =
    layout_of<pthread_rwlock_t>(SyncKind::rwlock, "read/write lock", rwlock_prefer_writer, init_rwlock);

const char *noun_of(uint32_t kind) {
    switch (static_cast<SyncKind>(kind)) {
    case SyncKind::mutex: return mutex_layout.noun;
    case SyncKind::cond: return cond_layout.noun;
    case SyncKind::rwlock: return rwlock_layout.noun;
    }
    return nullptr;
}

// Sleeps while `word` holds `expected`, until woken or the deadline passes
// (CLOCK_MONOTONIC, absolute): 0, or EAGAIN, ETIMEDOUT, EINTR. Not private:
// the word is in memory shared between processes.
int futex_wait(std::atomic<uint32_t> &word, uint32_t expected, const Deadline &deadline) {
    const timespec *until = deadline.infinite() ? nullptr : &deadline.monotonic();
    if (syscall(SYS_futex, &word, FUTEX_WAIT_BITSET, expected, until, nullptr, FUTEX_BITSET_MATCH_ANY) == 0)
        return 0;
    return errno;
}

void futex_wake(std::atomic<uint32_t> &word, int waiters) {
    syscall(SYS_futex, &word, FUTEX_WAKE, waiters, nullptr, nullptr, 0);
}

std::string pointer(const void *addr) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%p", addr);
    return buf;
}

// The header at `addr`, once the place is checked to be aligned and big enough.
SyncHeader *place(const SyncLayout &l, void *addr, size_t avail, const std::string &context) {
    if (!addr)
        fail(EINVAL, context + ": the address is NULL");
    if (reinterpret_cast<uintptr_t>(addr) % l.align)
        fail(EINVAL, context + " at " + pointer(addr) + ": the address is not a multiple of " +
                         std::to_string(l.align));
    if (avail < l.size)
        fail(EINVAL, context + ": " + std::to_string(avail) + " bytes available, a " + l.noun + " needs " +
                         std::to_string(l.size));
    return static_cast<SyncHeader *>(addr);
}

void *object_of(SyncHeader *header) { return header + 1; }

// Sets up a lock; the state turns ready last, so whoever sees it ready sees
// a complete lock.
void *initialise(const SyncLayout &l, void *addr, size_t avail, uint32_t flags, const std::string &context) {
    SyncHeader *h = place(l, addr, avail, context);
    h->state.store(0, std::memory_order_relaxed);
    h->magic = SyncHeader::magic_value;
    h->kind = static_cast<uint32_t>(l.kind);
    h->object_size = static_cast<uint32_t>(l.object_size);
    l.init(object_of(h), flags);
    h->state.store(SyncHeader::ready, std::memory_order_release);
    return object_of(h);
}

// The lock at `addr`, if a ready one of this kind is there (EBADMSG
// otherwise). In caller memory too little room is the caller's mistake
// (EINVAL); in a named object it means the object holds no such lock.
void *find(const SyncLayout &l, void *addr, size_t avail, const std::string &context, bool named = false) {
    auto *h = static_cast<SyncHeader *>(addr);
    if (named) {
        if (avail < sizeof(SyncHeader))
            fail(EBADMSG, context + ": the object has " + std::to_string(avail) + " bytes, too few for a lock");
    } else {
        place(l, addr, avail, context);
    }
    uint32_t state = h->state.load(std::memory_order_acquire);
    if (h->magic != SyncHeader::magic_value)
        fail(EBADMSG, context + ": the memory holds no initialised lock (no libipc lock header)");
    if (h->kind != static_cast<uint32_t>(l.kind)) {
        const char *other = noun_of(h->kind);
        fail(EBADMSG, context + ": the memory holds " +
                          (other ? std::string("a ") + other : "a lock of unknown kind " + std::to_string(h->kind)) +
                          ", not a " + l.noun);
    }
    if (h->object_size != l.object_size || avail < l.size)
        fail(EBADMSG, context + ": the " + l.noun + " has a " + std::to_string(h->object_size) +
                          "-byte object in " + std::to_string(avail) + " bytes, this build uses " +
                          std::to_string(l.object_size) + " in " + std::to_string(l.size));
    // Named locks are initialised before their name exists, so this is a lock
    // in memory whose initialiser has not finished (or died): reject it now
    // rather than wait for something that may never come.
    if (state != SyncHeader::ready)
        fail(EBADMSG, context + ": the " + l.noun + " was never finished initialising");
    return object_of(h);
}

} // namespace

// gettid() is a system call each time (glibc keeps no copy we can read), too
// slow for an unlock path, so each thread keeps its own; a forked child's one
// thread has a new id and starts afresh.
static thread_local pid_t cached_tid = 0;

pid_t current_tid() {
    if (cached_tid == 0) [[unlikely]] {
        static const int registered = pthread_atfork(nullptr, nullptr, [] { cached_tid = 0; });
        (void)registered;
        cached_tid = gettid();
    }
    return cached_tid;
}

void RwLock::not_held(int writer) {
    fail(EPERM, writer ? "rwlock unlock: the write lock is held by another thread" : "rwlock unlock: the lock is not held");
}

int settle_failure(int rc, const char *what) {
    if (rc == EOWNERDEAD || rc == ETIMEDOUT)
        return rc;
    if (rc == EBUSY)
        return EAGAIN;
    std::string context = what;
    switch (rc) {
    case ENOTRECOVERABLE:
        fail(rc, context + ": the mutex is unusable: an owner died holding it and it was unlocked without "
                           "being marked consistent");
    case EDEADLK:
        fail(rc, context + ": the calling thread already holds the lock");
    case EPERM:
        fail(rc, context + ": the calling thread does not hold the lock");
    default:
        fail(rc, context);
    }
}

SyncObject::SyncObject(const SyncLayout &l, void *addr, size_t avail, bool initialise_it, uint32_t flags) {
    std::string context = std::string(l.noun) + (initialise_it ? " init" : " attach");
    if (initialise_it) {
        check_flags(flags, l.init_flags, context.c_str());
        object_ = initialise(l, addr, avail, flags, context);
    } else {
        object_ = find(l, addr, avail, context);
    }
}

SyncObject::SyncObject(const SyncLayout &l, std::string_view name, uint32_t mode, uint32_t flags) {
    std::string context = std::string(l.noun) + " create " + quoted(name);
    check_name(name); // POSIX names only: a System V segment is visible before its Init has run
    check_flags(flags, open_or_create | unlink_on_close | l.init_flags, context.c_str());
    // SharedMemory::create runs the Init callback on the new object before its
    // name exists (it links a finished anonymous file into place), so no
    // process ever opens a half-initialised lock, and a creator killed midway
    // leaves no name at all. With IPC_OPEN_OR_CREATE a losing racer opens the
    // winner's finished object and checks it like any opened one.
    for (int attempt = 0;; ++attempt) {
        try {
            shm_ = SharedMemory::create(name, l.size, mode, flags & unlink_on_close, [&](void *addr, size_t size) {
                initialise(l, addr, size, flags & l.init_flags, context);
            });
            object_ = object_of(static_cast<SyncHeader *>(shm_->addr()));
            return;
        } catch (const std::system_error &e) {
            if (e.code().value() != EEXIST || !(flags & open_or_create))
                throw;
        }
        try {
            open_named(l, name, flags & unlink_on_close, context);
            return;
        } catch (const std::system_error &e) {
            if (e.code().value() != ENOENT || attempt >= 100) // unlinked in between: create it again
                throw;
        }
    }
}

SyncObject::SyncObject(const SyncLayout &l, std::string_view name) {
    std::string context = std::string(l.noun) + " open " + quoted(name);
    check_name(name);
    open_named(l, name, 0, context);
}

void SyncObject::open_named(const SyncLayout &l, std::string_view name, uint32_t flags, const std::string &context) {
    shm_ = SharedMemory::open(name, flags);
    object_ = find(l, shm_->addr(), shm_->size(), context, true);
}

void SyncObject::unlink(std::string_view name, const char *noun) {
    check_name(name);
    try {
        SharedMemory::unlink(name);
    } catch (const std::system_error &e) {
        fail(e.code().value(), std::string(noun) + " unlink " + quoted(name));
    }
}

// ---------------------------------------------------------------- Mutex

const SyncLayout &Mutex::layout() { return mutex_layout; }

int Mutex::try_native() {
    int rc = pthread_mutex_trylock(native());
#ifdef __GLIBC__
    // glibc's trylock (2.36 at least) reports ENOTRECOVERABLE but leaves the
    // lock word taken by the caller, so every later lock would fail with
    // EDEADLK or hang; release it as pthread_mutex_lock does in that case.
    if (rc == ENOTRECOVERABLE) {
        auto *word = reinterpret_cast<unsigned *>(&native()->__data.__lock);
        if ((__atomic_load_n(word, __ATOMIC_RELAXED) & FUTEX_TID_MASK) == static_cast<unsigned>(current_tid()) &&
            (__atomic_exchange_n(word, 0u, __ATOMIC_RELEASE) & FUTEX_WAITERS))
            syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
    }
#endif
    return rc;
}

bool Mutex::spin(int64_t ns, int &rc) {
    if (ns <= 0)
        return false;
    return spin_until(ns, [&] {
        rc = try_native();
        return rc != EBUSY;
    });
}

int Mutex::spin_lock() {
    int rc = 0;
    return spin(spin_.get(), rc) ? rc : pthread_mutex_lock(native());
}

int Mutex::trylock() {
    int rc = try_native();
    // A robust error-checking mutex says EDEADLK when the caller holds it: still busy.
    return settle(rc == EDEADLK ? EBUSY : rc, "mutex trylock");
}

int Mutex::timedlock(double seconds) {
    Deadline deadline(seconds);
    if (deadline.infinite())
        return lock();
    int rc = 0;
    if (!spin(spin_.within(deadline), rc))
        rc = pthread_mutex_clocklock(native(), CLOCK_MONOTONIC, &deadline.monotonic());
    return settle(rc, "mutex timedlock");
}

void Mutex::consistent() {
    if (int rc = pthread_mutex_consistent(native()))
        fail(rc, rc == EINVAL ? "mutex consistent: the mutex is not inconsistent (no owner died holding it)"
                              : "mutex consistent");
}

// ---------------------------------------------------------------- Cond

const SyncLayout &Cond::layout() { return cond_layout; }

int Cond::wait(Mutex &mutex) { return wait_until(mutex, Deadline(std::numeric_limits<double>::infinity())); }

int Cond::timedwait(Mutex &mutex, double seconds) { return wait_until(mutex, Deadline(seconds)); }

int Cond::wait_until(Mutex &mutex, const Deadline &deadline) {
    CondState &s = state();
    const uint32_t seen = s.sequence.load(std::memory_order_acquire); // the caller holds the mutex
    mutex.unlock(); // EPERM when the caller does not hold it: nothing waited
    int rc = 0;
    if (!spin_until(spin_.within(deadline), [&] { return s.sequence.load(std::memory_order_acquire) != seen; })) {
        // Counted before the futex reads the sequence, as signal bumps the
        // sequence before it reads the count (both sequentially consistent):
        // either the signal sees a sleeper, or the futex sees the new value.
        s.sleepers.fetch_add(1);
        rc = futex_wait(s.sequence, seen, deadline);
        s.sleepers.fetch_sub(1);
    }
    if (int relocked = mutex.lock()) // EOWNERDEAD comes first
        return relocked;
    switch (rc) {
    case 0:
    case EAGAIN: // the sequence moved before the sleep
    case EINTR:  // a signal handler ran: a spurious wake-up, so the caller checks its state
        return 0;
    case ETIMEDOUT:
        return rc;
    default:
        fail(rc, "condition wait");
    }
}

void Cond::wake(int waiters) {
    CondState &s = state();
    s.sequence.fetch_add(1);
    if (s.sleepers.load() != 0) // else no system call: the common case of a signal nobody waits for
        futex_wake(s.sequence, waiters);
}

// ---------------------------------------------------------------- RwLock

const SyncLayout &RwLock::layout() { return rwlock_layout; }

int RwLock::tryrdlock() { return settle(pthread_rwlock_tryrdlock(native()), "rwlock tryrdlock"); }
int RwLock::timedrdlock(double seconds) {
    Deadline deadline(seconds);
    if (deadline.infinite())
        return rdlock(), 0;
    return settle(pthread_rwlock_clockrdlock(native(), CLOCK_MONOTONIC, &deadline.monotonic()),
                  "rwlock timedrdlock");
}

int RwLock::trywrlock() { return settle(pthread_rwlock_trywrlock(native()), "rwlock trywrlock"); }
int RwLock::timedwrlock(double seconds) {
    Deadline deadline(seconds);
    if (deadline.infinite())
        return wrlock(), 0;
    return settle(pthread_rwlock_clockwrlock(native(), CLOCK_MONOTONIC, &deadline.monotonic()),
                  "rwlock timedwrlock");
}

} // namespace ipc
