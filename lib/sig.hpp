// Signals: sets, masks, actions (with a per-signal table for handlers that
// take a user pointer, and an async-signal-safe recording handler), sending
// with a value, waits, signalfd, names.
#pragma once

#include <atomic>
#include <csignal>
#include <cstdint>
#include <string>
#include <string_view>

namespace ipc::sig {

int rtmin();
int rtmax();

// 1..31 and SIGRTMIN..SIGRTMAX; not the C library's internal signals.
bool valid(int signo);
// Throws EINVAL "<what>: signal <n> is ...".
void check(int signo, const char *what);
// As check(), and also refuses SIGKILL and SIGSTOP, whose action is fixed.
void check_settable(int signo, const char *what);

// Mirrors ipc_siginfo field for field (the C layer checks the layout).
struct Info {
    int32_t signo = 0, code = 0, errnum = 0, pid = 0;
    uint32_t uid = 0;
    int32_t status = 0;
    int64_t value = 0;
    uint64_t addr = 0;
};

// Async-signal-safe; keeps only the fields that apply to si_code.
Info to_info(const siginfo_t &si);

// A set of signals 1..64: one atomic word, so each change is atomic and
// the set may be shared between threads.
class Set {
  public:
    Set() = default;
    Set(const Set &other) : bits_(other.bits()) {}
    Set &operator=(const Set &other) {
        bits_.store(other.bits(), std::memory_order_relaxed);
        return *this;
    }
    static Set from(const sigset_t &s);

    void clear() { bits_.store(0, std::memory_order_relaxed); }
    void fill();
    void add(int signo);
    void del(int signo);
    bool has(int signo) const;
    // The smallest member above `after` (>= 0), or 0.
    int next(int after) const;
    sigset_t native() const;
    uint64_t bits() const { return bits_.load(std::memory_order_relaxed); }

  private:
    std::atomic<uint64_t> bits_{0};
};

// The calling thread's mask (pthread_sigmask): `how` is 0 block,
// 1 unblock, 2 set; `set` may be null to read only.
Set mask(int how, const Set *set);
Set pending();

// What an action does; values are the C header's IPC_SIG_ACTION_*.
enum class Kind { default_action = 0, ignore = 1, handler = 2, info_handler = 3, record = 4, foreign = 5 };

// Flag bits of the C header (IPC_SA_*); unknown bits are EINVAL.
int native_flags(uint32_t flags);
uint32_t library_flags(int sa_flags);

// A handler with its user pointer, read by libipc's own handler from the
// per-signal table. Bindings are never freed (a handler may still be
// reading one), so an installed one stays valid; equal ones are shared.
struct Binding {
    using Fn = void (*)();
    // Calls `fn` with its true type; provided by whoever made the binding.
    using Call = void (*)(Fn fn, int signo, const Info &info, void *user);
    Kind kind;
    Call call;
    Fn fn;
    void *user;
};
const Binding *bind(Kind kind, Binding::Call call, Binding::Fn fn, void *user);

struct Action {
    struct sigaction sa {};
    const Binding *binding = nullptr; // when sa runs libipc's dispatcher

    Action() { sa.sa_handler = SIG_DFL; }
    Kind kind() const;
    uint32_t flags() const { return library_flags(sa.sa_flags); }
    Set mask() const { return Set::from(sa.sa_mask); }

    static Action default_action();
    static Action ignore();
    static Action handler(const Binding *binding, const Set *mask, uint32_t flags);
    static Action record(uint32_t flags);
};

// The current action of a signal.
Action action(int signo);
// Installs `act` and returns the action it replaced.
Action install(int signo, const Action &act);

// The recording handler's state; all async-signal-safe.
int64_t recorded(int signo);
bool recorded_info(int signo, Info &out);
int64_t record_reset(int signo);

void send(int pid, int signo);
void queue(int pid, int signo, int64_t value);
void raise_here(int signo);

// Waits return the signal number; timed_wait throws ETIMEDOUT when the
// time runs out, try_wait EAGAIN when nothing is pending; EINTR is thrown,
// never restarted.
int wait(const Set &set, Info *info);
int try_wait(const Set &set, Info *info);
int timed_wait(const Set &set, double seconds, Info *info);
// Returns the errno of sigsuspend: EINTR once a handler has run, its
// normal outcome.
int suspend(const Set &mask);

int open_fd(const Set &set, uint32_t flags);
int read_fd(int fd, Info *info);

int number(std::string_view name);
std::string name(int signo);

} // namespace ipc::sig
