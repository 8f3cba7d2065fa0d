// Process-shared locks: a robust error-checking mutex, a condition variable on
// CLOCK_MONOTONIC and a read/write lock, each placed in caller memory or in a
// named POSIX shared memory object of its own.
//
// Outcomes a caller expects (EOWNERDEAD, EAGAIN, ETIMEDOUT) are returned as
// positive errno values, 0 meaning success; real errors are thrown.
#pragma once

#include "shm.hpp"

#include <atomic>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <pthread.h>
#include <string>
#include <string_view>

namespace ipc {

enum class SyncKind : uint32_t { mutex = 1, cond = 2, rwlock = 3 };

// Flag of RwLock::init/create: waiting writers go before new readers.
inline constexpr uint32_t rwlock_prefer_writer = 0x100;

// What sits before every lock in memory, so that attach can tell a lock
// from anything else and a finished lock from one being set up.
struct SyncHeader {
    static constexpr uint32_t magic_value = 0x4C435049; // bytes "IPCL"
    static constexpr uint32_t ready = 1;

    uint32_t magic;
    uint32_t kind;                // SyncKind
    std::atomic<uint32_t> state;  // `ready` once the lock is initialised
    uint32_t object_size;         // sizeof the pthread object: catches ABI mismatches
};

template <class T> struct SyncBlock {
    SyncHeader header;
    T object;
};

// What differs between the three kinds of lock.
struct SyncLayout {
    SyncKind kind;
    const char *noun;      // for messages: "mutex"
    size_t size;           // header + object
    size_t align;
    size_t object_size;
    uint32_t init_flags;   // flags init accepts beyond 0
    void (*init)(void *object, uint32_t flags);
};

// A lock and, for a named one, the mapping that holds it.
class SyncObject {
  public:
    bool named() const { return shm_.has_value(); }
    // Removes a lock's name; ENOENT when there is none.
    static void unlink(std::string_view name, const char *noun);

  protected:
    // Initialise (`initialise`) or attach to a lock at `addr`.
    SyncObject(const SyncLayout &layout, void *addr, size_t avail, bool initialise, uint32_t flags);
    // Create a named lock.
    SyncObject(const SyncLayout &layout, std::string_view name, uint32_t mode, uint32_t flags);
    // Open a named lock.
    SyncObject(const SyncLayout &layout, std::string_view name);

    void *object_ = nullptr;

  private:
    void open_named(const SyncLayout &layout, std::string_view name, uint32_t flags, const std::string &context);

    std::optional<SharedMemory> shm_;
};

// Turns a pthread result into an outcome a caller expects (0, EOWNERDEAD,
// EAGAIN for busy, ETIMEDOUT), or throws with a message saying what went
// wrong. The check for 0 is inline: it is on every lock's path, which must
// cost no more than calling pthread directly.
int settle_failure(int rc, const char *what);
inline int settle(int rc, const char *what) { return rc == 0 ? 0 : settle_failure(rc, what); }

// The calling thread's kernel id, as pthread records lock owners.
pid_t current_tid();

// The ways to make each kind of lock, from its layout.
template <class Self> class Lock : public SyncObject {
  public:
    static size_t size() { return Self::layout().size; }
    static Self init(void *addr, size_t avail, uint32_t flags) { return Self(Self::layout(), addr, avail, true, flags); }
    static Self attach(void *addr, size_t avail) { return Self(Self::layout(), addr, avail, false, 0); }
    static Self create(std::string_view name, uint32_t mode, uint32_t flags) {
        return Self(Self::layout(), name, mode, flags);
    }
    static Self open(std::string_view name) { return Self(Self::layout(), name); }

  protected:
    using SyncObject::SyncObject;
};

class Mutex : public Lock<Mutex> {
  public:
    int lock() {                     // 0 or EOWNERDEAD
        if (spin_.get() > 0) [[unlikely]]
            return settle(spin_lock(), "mutex lock");
        return settle(pthread_mutex_lock(native()), "mutex lock");
    }
    int trylock();                   // 0, EOWNERDEAD or EAGAIN
    int timedlock(double seconds);   // 0, EOWNERDEAD or ETIMEDOUT
    void unlock() { settle(pthread_mutex_unlock(native()), "mutex unlock"); }
    void consistent();
    void set_spin(int64_t nanoseconds) { spin_.set(nanoseconds, "mutex spin"); }

    pthread_mutex_t *native() const { return static_cast<pthread_mutex_t *>(object_); }

  private:
    friend class Lock;
    using Lock::Lock;
    static const SyncLayout &layout();
    int try_native();
    // Polls with trylock for `ns`; true when that settled the lock (taken, or
    // failed for good), with `rc` its result.
    bool spin(int64_t ns, int &rc);
    int spin_lock();                 // spin, then block: pthread's result

    Spin spin_;
};

// The shared state of a condition variable. It is not pthread's: a waiter
// killed inside pthread_cond_wait leaves glibc's process-shared condition
// (2.36 at least) waiting for it forever, so the next waiters are never woken;
// and pthread's cannot spin. A waiter notes the sequence with the mutex held,
// lets the mutex go and sleeps on the futex while the sequence stays the same;
// each signal bumps it, so no wake-up between the two is lost, and a waiter
// killed while waiting leaves nothing behind but a spare wake-up call.
struct alignas(8) CondState {
    std::atomic<uint32_t> sequence;  // bumped by every signal and broadcast; the futex word
    std::atomic<uint32_t> sleepers;  // waiters in (or on their way into) the kernel
};

class Cond : public Lock<Cond> {
  public:
    int wait(Mutex &mutex);                        // 0 or EOWNERDEAD
    int timedwait(Mutex &mutex, double seconds);   // 0, EOWNERDEAD or ETIMEDOUT
    void signal() { wake(1); }
    void broadcast() { wake(INT_MAX); }
    void set_spin(int64_t nanoseconds) { spin_.set(nanoseconds, "condition spin"); }

  private:
    friend class Lock;
    using Lock::Lock;
    static const SyncLayout &layout();
    CondState &state() const { return *static_cast<CondState *>(object_); }
    int wait_until(Mutex &mutex, const Deadline &deadline);
    void wake(int waiters);

    Spin spin_;
};

class RwLock : public Lock<RwLock> {
  public:
    void rdlock() { settle(pthread_rwlock_rdlock(native()), "rwlock rdlock"); }
    int tryrdlock();                  // 0 or EAGAIN
    int timedrdlock(double seconds);  // 0 or ETIMEDOUT
    void wrlock() { settle(pthread_rwlock_wrlock(native()), "rwlock wrlock"); }
    int trywrlock();                  // 0 or EAGAIN
    int timedwrlock(double seconds);  // 0 or ETIMEDOUT
    void unlock() {
#ifdef __GLIBC__
        // pthread_rwlock_unlock of a lock the caller does not hold corrupts it
        // in glibc; its public state tells the two cases it can: a writer that
        // is another thread, or no holder at all (readers count from bit 3).
        const auto &state = native()->__data;
        int writer = __atomic_load_n(&state.__cur_writer, __ATOMIC_RELAXED);
        if (writer == 0 ? __atomic_load_n(&state.__readers, __ATOMIC_RELAXED) >> 3 == 0 : writer != current_tid())
            [[unlikely]] not_held(writer);
#endif
        settle(pthread_rwlock_unlock(native()), "rwlock unlock");
    }

  private:
    friend class Lock;
    using Lock::Lock;
    static const SyncLayout &layout();
    pthread_rwlock_t *native() const { return static_cast<pthread_rwlock_t *>(object_); }
    [[noreturn]] static void not_held(int writer);   // EPERM
};

} // namespace ipc
