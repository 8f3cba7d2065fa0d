// Semaphores: POSIX named semaphores (the files glibc's sem_open uses, so
// plain libc programs share them) and process-shared sem_t in any memory.
#pragma once

#include "common.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <semaphore.h>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace ipc {

// Checks that [addr, addr + avail) can hold an object of `size` bytes
// aligned to `align`: EINVAL for NULL, misaligned or too small memory.
// General: any object placed in caller-provided shared memory uses it.
void check_room(const void *addr, size_t avail, size_t size, size_t align, const char *what);

class Semaphore {
  public:
    // A new named semaphore; exclusive unless `flags` has open_or_create.
    static Semaphore create(std::string_view name, uint32_t value, uint32_t mode, uint32_t flags);
    static Semaphore open(std::string_view name);
    // A new process-shared semaphore at `addr` (sem_init), or one that
    // another process initialised there.
    static Semaphore init(void *addr, size_t avail, uint32_t value);
    static Semaphore attach(void *addr, size_t avail);
    static void unlink(std::string_view name);

    static size_t size() { return sizeof(sem_t); }
    static size_t alignment() { return alignof(sem_t); }
    static int value_max();

    Semaphore(Semaphore &&other) noexcept;
    Semaphore &operator=(Semaphore &&other) noexcept;
    Semaphore(const Semaphore &) = delete;
    Semaphore &operator=(const Semaphore &) = delete;
    ~Semaphore();

    void post();
    // Throws EINTR when a signal handler interrupts the sleep.
    void wait();
    // False when the value is 0 (no wait).
    bool try_wait();
    // False when the time runs out; NaN or negative seconds is EINVAL.
    bool timed_wait(double seconds);
    int value() const;

    void set_spin(int64_t nanoseconds) { spin_.set(nanoseconds, context("set spin")); }
    int64_t spin() const { return spin_.get(); }

    sem_t *get() const { return sem_; }
    bool named() const { return !name_.empty(); }
    const std::string &name() const { return name_; }
    bool created() const { return created_; }

  private:
    Semaphore() = default;
    void release() noexcept;
    std::string context(const char *verb) const;

    sem_t *sem_ = nullptr;
    std::string name_; // empty for a semaphore in memory
    Spin spin_;
    bool created_ = false;
    UnlinkOnClose unlink_on_close_;
    dev_t dev_ = 0; // identity of the named file, so unlink-on-close removes
    ino_t ino_ = 0; // the name only while it still names our semaphore
};

} // namespace ipc
