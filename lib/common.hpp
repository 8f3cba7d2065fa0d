// Conventions of the core: errors are std::system_error carrying an errno
// value and a message with context; the C layer turns them into codes.
#pragma once

#include <atomic>
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <unistd.h>

namespace ipc {

// Flag bits; the C header's IPC_* constants have the same values.
enum Flags : uint32_t {
    rdonly = 1,
    unlink_on_close = 2,
    open_or_create = 4,
    wronly = 8,
};

// Whether a handle removes its name when closed: only in the process that
// asked for it, never in a child that inherited the handle through fork.
class UnlinkOnClose {
  public:
    UnlinkOnClose() = default;
    explicit UnlinkOnClose(bool wanted) : pid_(wanted ? getpid() : 0) {}
    explicit operator bool() const { return pid_ != 0 && pid_ == getpid(); }

  private:
    pid_t pid_ = 0;
};

// Throws std::system_error(code) whose what() is "<what>: <strerror(code)>".
[[noreturn]] void fail(int code, const std::string &what);

// As fail(), with the current errno.
[[noreturn]] void fail_errno(const std::string &what);

// `text` in double quotes, for messages: "/frames".
std::string quoted(std::string_view text);

// Checks a POSIX object name: one leading '/', no other '/', 1 to 255 bytes
// after it, not "." or "..". Throws EINVAL naming the rule that broke.
void check_name(std::string_view name, size_t max_bytes = 255);

// Checks that only the bits of `allowed` are set in `flags` (EINVAL otherwise).
void check_flags(uint32_t flags, uint32_t allowed, const char *what);

// Permission bits for a new object: 0 means 0600, owner read/write are
// always kept, anything beyond 0777 is EINVAL.
mode_t creation_mode(uint32_t mode);

// A relative timeout turned into a deadline on CLOCK_MONOTONIC.
// NaN or negative is EINVAL; +inf never expires; 0 polls.
class Deadline {
  public:
    explicit Deadline(double seconds);
    bool infinite() const { return infinite_; }
    // The absolute CLOCK_MONOTONIC time of expiry (for *_clockwait calls).
    const timespec &monotonic() const { return when_; }
    // The same instant on CLOCK_REALTIME, for calls that only take that
    // clock; recompute it after each wake-up, the wall clock may jump.
    timespec realtime() const;
    // Seconds left, never negative.
    double remaining() const;
    bool expired() const { return !infinite_ && remaining() <= 0.0; }

  private:
    bool infinite_ = false;
    timespec when_{};
};

// Notes the creating process on a new object's file (the "user.ipc.creator"
// extended attribute), so `ipc ls` can tell when a creator died mid-way.
// Best effort: file systems without user attributes are silently skipped.
void record_creator(int fd) noexcept;

// The current time of CLOCK_MONOTONIC.
timespec monotonic_now();

// Nanoseconds of CLOCK_MONOTONIC, for short intervals.
int64_t monotonic_ns();

// A hint to the CPU that this is a busy-wait loop.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

// Bounded spinning before a kernel wait: polls `ready` for at most
// `nanoseconds` and returns true as soon as it holds. With 0 it polls once.
template <class Ready> bool spin_until(int64_t nanoseconds, Ready &&ready) {
    if (ready())
        return true;
    if (nanoseconds <= 0)
        return false;
    const int64_t end = monotonic_ns() + nanoseconds;
    for (unsigned i = 1;; ++i) {
        cpu_relax();
        if (ready())
            return true;
        if (i % 64 == 0 && monotonic_ns() >= end) // reading the clock costs more than a poll
            return false;
    }
}

// How long a handle's waits poll in user space before they sleep in the
// kernel, in nanoseconds (0, the default: sleep at once). Set from any thread.
class Spin {
  public:
    Spin() = default;
    Spin(const Spin &other) : ns_(other.get()) {}
    Spin &operator=(const Spin &other) {
        ns_.store(other.get(), std::memory_order_relaxed);
        return *this;
    }
    int64_t get() const { return ns_.load(std::memory_order_relaxed); }
    // EINVAL for a negative time; `what` says whose spin it is.
    void set(int64_t nanoseconds, const std::string &what);
    // The spin, cut to the time left before `deadline`.
    int64_t within(const Deadline &deadline) const;

  private:
    std::atomic<int64_t> ns_{0};
};

} // namespace ipc
