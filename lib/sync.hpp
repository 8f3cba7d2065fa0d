// Process-shared locks: a robust error-checking mutex, a condition variable on
// CLOCK_MONOTONIC and a read/write lock, each placed in caller memory or in a
// named POSIX shared memory object of its own.
//
// Outcomes a caller expects (EOWNERDEAD, EAGAIN, ETIMEDOUT) are returned as
// positive errno values, 0 meaning success; real errors are thrown.
#pragma once

#include "shm.hpp"

#include <atomic>
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
    Mutex(Mutex &&other) noexcept;

    int lock();                      // 0 or EOWNERDEAD
    int trylock();                   // 0, EOWNERDEAD or EAGAIN
    int timedlock(double seconds);   // 0, EOWNERDEAD or ETIMEDOUT
    void unlock();
    void consistent();
    void set_spin(int64_t nanoseconds);

    pthread_mutex_t *native() const { return static_cast<pthread_mutex_t *>(object_); }

  private:
    friend class Lock;
    using Lock::Lock;
    static const SyncLayout &layout();
    int try_native();
    // Polls with trylock for the spin time; true when that settled the lock
    // (taken, or failed for good), with `rc` its result.
    bool spin(int &rc);

    std::atomic<int64_t> spin_{0};
};

class Cond : public Lock<Cond> {
  public:
    int wait(Mutex &mutex);                        // 0 or EOWNERDEAD
    int timedwait(Mutex &mutex, double seconds);   // 0, EOWNERDEAD or ETIMEDOUT
    void signal();
    void broadcast();

  private:
    friend class Lock;
    using Lock::Lock;
    static const SyncLayout &layout();
    pthread_cond_t *native() const { return static_cast<pthread_cond_t *>(object_); }
};

class RwLock : public Lock<RwLock> {
  public:
    void rdlock();
    int tryrdlock();                  // 0 or EAGAIN
    int timedrdlock(double seconds);  // 0 or ETIMEDOUT
    void wrlock();
    int trywrlock();                  // 0 or EAGAIN
    int timedwrlock(double seconds);  // 0 or ETIMEDOUT
    void unlock();

  private:
    friend class Lock;
    using Lock::Lock;
    static const SyncLayout &layout();
    pthread_rwlock_t *native() const { return static_cast<pthread_rwlock_t *>(object_); }
};

} // namespace ipc
