// Signals through the public C API, across processes. All tests share one
// process: each blocks what it sends, drains what is left, and restores the
// mask and actions it changed. Only SIGUSR1, SIGUSR2 and real-time signals
// are used; Catch2 owns the handlers of the fatal ones.
#include "../catch.hpp"
#include "../support.hpp"

#include <ipc.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <csignal>
#include <initializer_list>
#include <poll.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// An owned set of the given signals.
struct Set {
    ipc_sigset *h = nullptr;
    explicit Set(std::initializer_list<int> signals = {}) {
        REQUIRE(ipc_sigset_new(&h) == 0);
        for (int s : signals)
            REQUIRE(ipc_sigset_add(h, s) == 0);
    }
    ~Set() { ipc_sigset_free(h); }
    Set(const Set &) = delete;
    Set &operator=(const Set &) = delete;
    bool has(int s) const { return ipc_sigset_has(h, s) == 1; }
};

// Blocks signals for the scope; on exit takes whatever is still pending of
// them (so nothing reaches a default action), then restores the mask.
struct Blocked {
    Set signals, old;
    explicit Blocked(std::initializer_list<int> s) : signals(s) {
        REQUIRE(ipc_sig_mask(IPC_SIG_BLOCK, signals.h, old.h) == 0);
    }
    ~Blocked() {
        while (ipc_sig_trywait(signals.h, nullptr) > 0) {
        }
        ipc_sig_mask(IPC_SIG_SETMASK, old.h, nullptr);
    }
};

// Restores the action of a signal on exit.
struct KeepAction {
    int signo;
    ipc_sigaction *saved = nullptr;
    explicit KeepAction(int s) : signo(s) {
        REQUIRE(ipc_sigaction_new(&saved) == 0);
        REQUIRE(ipc_sig_action(signo, saved) == 0);
    }
    ~KeepAction() {
        ipc_sig_restore(signo, saved, nullptr);
        ipc_sigaction_free(saved);
    }
};

int rt(int n) { return ipc_sig_rtmin() + n; }

int kind_of(int signo) {
    ipc_sigaction *a = nullptr;
    REQUIRE(ipc_sigaction_new(&a) == 0);
    REQUIRE(ipc_sig_action(signo, a) == 0);
    int kind = ipc_sigaction_kind(a);
    ipc_sigaction_free(a);
    return kind;
}

bool mentions(const char *text) { return std::string(ipc_last_error()).find(text) != std::string::npos; }

} // namespace

TEST_CASE("ipc_siginfo has its fixed layout", "[sig]") {
    CHECK(sizeof(ipc_siginfo) == 40);
    CHECK(ipc_siginfo_size() == 40);
    CHECK(offsetof(ipc_siginfo, value) == 24);
    CHECK(offsetof(ipc_siginfo, addr) == 32);
}

TEST_CASE("signal sets: add, delete, member, fill, empty, iterate, copy", "[sig]") {
    Set s;
    CHECK(ipc_sigset_next(s.h, 0) == 0);
    REQUIRE(ipc_sigset_add(s.h, SIGUSR2) == 0);
    REQUIRE(ipc_sigset_add(s.h, ipc_sig_rtmax()) == 0);
    REQUIRE(ipc_sigset_add(s.h, SIGHUP) == 0);
    CHECK(ipc_sigset_has(s.h, SIGUSR2) == 1);
    CHECK(ipc_sigset_has(s.h, SIGUSR1) == 0);
    std::vector<int> members;
    for (int m = ipc_sigset_next(s.h, 0); m > 0; m = ipc_sigset_next(s.h, m))
        members.push_back(m);
    CHECK(members == std::vector<int>{SIGHUP, SIGUSR2, ipc_sig_rtmax()});

    ipc_sigset *copy = nullptr;
    REQUIRE(ipc_sigset_copy(&copy, s.h) == 0);
    REQUIRE(ipc_sigset_del(s.h, SIGUSR2) == 0);
    CHECK(ipc_sigset_has(s.h, SIGUSR2) == 0);
    CHECK(ipc_sigset_has(copy, SIGUSR2) == 1); // a copy, not a view

    REQUIRE(ipc_sigset_fill(s.h) == 0);
    int count = 0;
    for (int m = ipc_sigset_next(s.h, 0); m > 0; m = ipc_sigset_next(s.h, m))
        ++count;
    CHECK(count == 31 + ipc_sig_rtmax() - ipc_sig_rtmin() + 1); // 61 with glibc
    CHECK(ipc_sigset_has(s.h, SIGKILL) == 1);
    REQUIRE(ipc_sigset_empty(s.h) == 0);
    CHECK(ipc_sigset_next(s.h, 0) == 0);
    CHECK(ipc_sigset_next(s.h, 1000) == 0);
    CHECK(ipc_sigset_free(copy) == 0);
    CHECK(ipc_sigset_free(nullptr) == 0);
}

TEST_CASE("signal sets reject bad signals and bad handles with exact codes", "[sig][errors]") {
    Set s;
    for (int bad : {0, -1, 32, 33, ipc_sig_rtmax() + 1, 1000}) {
        CAPTURE(bad);
        CHECK(ipc_sigset_add(s.h, bad) == -EINVAL);
        CHECK(ipc_sigset_del(s.h, bad) == -EINVAL);
        CHECK(ipc_sigset_has(s.h, bad) == -EINVAL);
    }
    CHECK(ipc_sigset_add(s.h, 0) == -EINVAL);
    CHECK(mentions("not a signal number"));
    CHECK(ipc_sigset_add(s.h, 32) == -EINVAL);
    CHECK(mentions("reserved by the C library"));
    CHECK(ipc_sigset_next(s.h, -1) == -EINVAL);
    CHECK(ipc_sigset_new(nullptr) == -EINVAL);
    ipc_sigset *copy = nullptr;
    CHECK(ipc_sigset_copy(nullptr, s.h) == -EINVAL);

    CHECK(ipc_sigset_add(nullptr, SIGUSR1) == -EBADF);
    CHECK(mentions("NULL"));
    CHECK(ipc_sigset_has(nullptr, SIGUSR1) == -EBADF);
    CHECK(ipc_sigset_next(nullptr, 0) == -EBADF);
    CHECK(ipc_sigset_copy(&copy, nullptr) == -EBADF);
    CHECK(copy == nullptr);
    CHECK(ipc_sig_mask(IPC_SIG_BLOCK, nullptr, nullptr) == 0); // NULL set: only reads
    CHECK(ipc_sig_pending(nullptr) == -EBADF);
    CHECK(ipc_sig_wait(nullptr, nullptr) == -EBADF);
    CHECK(ipc_sig_trywait(nullptr, nullptr) == -EBADF);
    CHECK(ipc_sig_timedwait(nullptr, 0, nullptr) == -EBADF);
    CHECK(ipc_sig_suspend(nullptr) == -EBADF);
    CHECK(ipc_sig_fd(nullptr, 0) == -EBADF);

    ipc_sigset *freed = nullptr;
    REQUIRE(ipc_sigset_new(&freed) == 0);
    REQUIRE(ipc_sigset_free(freed) == 0);
    CHECK(ipc_sigset_add(freed, SIGUSR1) == -EBADF);
    CHECK(mentions("not a live"));
    CHECK(ipc_sigset_free(freed) == -EBADF);
    CHECK(ipc_sig_mask(IPC_SIG_BLOCK, freed, nullptr) == -EBADF);
    CHECK(ipc_sig_mask(IPC_SIG_BLOCK, s.h, freed) == -EBADF);

    // A handle of another kind is not a set.
    ipc_sigaction *act = nullptr;
    REQUIRE(ipc_sigaction_new(&act) == 0);
    CHECK(ipc_sigset_add(reinterpret_cast<ipc_sigset *>(act), SIGUSR1) == -EBADF);
    ipc_sigaction_free(act);
}

TEST_CASE("the mask blocks, unblocks, reads, and rejects a bad how", "[sig]") {
    Set usr1{SIGUSR1}, before, now;
    REQUIRE(ipc_sig_mask(IPC_SIG_BLOCK, nullptr, before.h) == 0);
    REQUIRE(before.has(SIGUSR1) == false);

    REQUIRE(ipc_sig_mask(IPC_SIG_BLOCK, usr1.h, nullptr) == 0);
    REQUIRE(ipc_sig_mask(IPC_SIG_BLOCK, nullptr, now.h) == 0);
    CHECK(now.has(SIGUSR1));
    REQUIRE(ipc_sig_mask(IPC_SIG_UNBLOCK, usr1.h, now.h) == 0); // old: the mask before
    CHECK(now.has(SIGUSR1));
    REQUIRE(ipc_sig_mask(IPC_SIG_BLOCK, nullptr, now.h) == 0);
    CHECK_FALSE(now.has(SIGUSR1));

    // SETMASK, with `old` the same handle as `set`.
    Set same{SIGUSR2};
    REQUIRE(ipc_sig_mask(IPC_SIG_SETMASK, same.h, same.h) == 0);
    CHECK_FALSE(same.has(SIGUSR2)); // the old mask
    REQUIRE(ipc_sig_mask(IPC_SIG_BLOCK, nullptr, now.h) == 0);
    CHECK(now.has(SIGUSR2));
    REQUIRE(ipc_sig_mask(IPC_SIG_SETMASK, before.h, nullptr) == 0);

    for (int how : {-1, 3, 100}) {
        CHECK(ipc_sig_mask(how, usr1.h, now.h) == -EINVAL);
        CHECK(mentions("how"));
    }
    CHECK(ipc_sig_mask(99, nullptr, now.h) == -EINVAL);
    REQUIRE(ipc_sig_mask(IPC_SIG_BLOCK, nullptr, now.h) == 0);
    CHECK_FALSE(now.has(SIGUSR1)); // the failed calls changed nothing

    // The mask is the calling thread's.
    bool blocked_there = false;
    std::thread([&] {
        Set there;
        blocked_there = ipc_sig_mask(IPC_SIG_BLOCK, usr1.h, nullptr) == 0 &&
                        ipc_sig_mask(IPC_SIG_BLOCK, nullptr, there.h) == 0 && there.has(SIGUSR1);
    }).join();
    CHECK(blocked_there);
    REQUIRE(ipc_sig_mask(IPC_SIG_BLOCK, nullptr, now.h) == 0);
    CHECK_FALSE(now.has(SIGUSR1));
}

TEST_CASE("a masked signal stays pending until unmasked, then runs its handler", "[sig][process]") {
    KeepAction keep(SIGUSR1);
    ipc_sig_record_reset(SIGUSR1);
    REQUIRE(ipc_sig_record(SIGUSR1, 0, nullptr) == 0);
    const pid_t parent = getpid();
    {
        Blocked blocked{SIGUSR1};
        REQUIRE(test::exit_code(test::in_child([&] { return ipc_sig_send(parent, SIGUSR1) == 0 ? 0 : 1; })) == 0);
        Set pending;
        REQUIRE(ipc_sig_pending(pending.h) == 0);
        CHECK(pending.has(SIGUSR1));
        CHECK(ipc_sig_recorded(SIGUSR1) == 0);
        REQUIRE(ipc_sig_mask(IPC_SIG_UNBLOCK, blocked.signals.h, nullptr) == 0); // delivered now
        CHECK(ipc_sig_recorded(SIGUSR1) == 1);
        REQUIRE(ipc_sig_pending(pending.h) == 0);
        CHECK_FALSE(pending.has(SIGUSR1));
    }
    ipc_siginfo info{};
    REQUIRE(ipc_sig_recorded_info(SIGUSR1, &info) == 1);
    CHECK(info.signo == SIGUSR1);
    CHECK(info.code == SI_USER);
    CHECK(info.pid != parent);
    CHECK(info.pid > 0);
    CHECK(ipc_sig_record_reset(SIGUSR1) == 1);
}

TEST_CASE("a standard signal sent twice while blocked is delivered once", "[sig][process]") {
    Blocked blocked{SIGUSR2};
    const pid_t parent = getpid();
    int status = test::in_child([&] {
        return ipc_sig_send(parent, SIGUSR2) == 0 && ipc_sig_send(parent, SIGUSR2) == 0 ? 0 : 1;
    });
    REQUIRE(test::exit_code(status) == 0);
    ipc_siginfo info{};
    CHECK(ipc_sig_trywait(blocked.signals.h, &info) == SIGUSR2);
    CHECK(info.code == SI_USER);
    CHECK(info.uid == getuid());
    CHECK(ipc_sig_trywait(blocked.signals.h, &info) == -EAGAIN);
}

TEST_CASE("a child queues 10 real-time signals: all arrive, in order, with values and sender", "[sig][process]") {
    const int signo = rt(3);
    Blocked blocked{signo};
    const pid_t parent = getpid();
    pid_t child = test::spawn([&] {
        for (int64_t v = 1; v <= 10; ++v)
            if (ipc_sig_queue(parent, signo, v) != 0)
                return 1;
        // All 64 bits travel, negative values too.
        return ipc_sig_queue(parent, signo, INT64_C(-0x123456789abcdef0)) == 0 ? 0 : 2;
    });
    for (int64_t v = 1; v <= 10; ++v) {
        ipc_siginfo info{};
        REQUIRE(ipc_sig_timedwait(blocked.signals.h, 10.0, &info) == signo);
        CHECK(info.signo == signo);
        CHECK(info.value == v);
        CHECK(info.code == SI_QUEUE);
        CHECK(info.pid == child);
        CHECK(info.uid == getuid());
    }
    ipc_siginfo info{};
    REQUIRE(ipc_sig_wait(blocked.signals.h, &info) == signo);
    CHECK(info.value == INT64_C(-0x123456789abcdef0));
    CHECK(test::exit_code(test::wait_for(child)) == 0);
    CHECK(ipc_sig_trywait(blocked.signals.h, nullptr) == -EAGAIN);
}

TEST_CASE("timed and polling waits: -ETIMEDOUT, -EAGAIN, and bad timeouts", "[sig]") {
    Blocked blocked{rt(4)};
    auto start = Clock::now();
    CHECK(ipc_sig_timedwait(blocked.signals.h, 0.15, nullptr) == -ETIMEDOUT);
    double waited = since(start);
    CHECK(waited >= 0.15);
    CHECK(waited < 5.0);
    CHECK(ipc_sig_timedwait(blocked.signals.h, 0.0, nullptr) == -ETIMEDOUT);
    CHECK(ipc_sig_trywait(blocked.signals.h, nullptr) == -EAGAIN);
    CHECK(ipc_sig_timedwait(blocked.signals.h, NAN, nullptr) == -EINVAL);
    CHECK(ipc_sig_timedwait(blocked.signals.h, -1.0, nullptr) == -EINVAL);

    // A signal already pending is taken at once, also with a timeout of 0.
    REQUIRE(ipc_sig_queue(getpid(), rt(4), 7) == 0);
    ipc_siginfo info{};
    CHECK(ipc_sig_timedwait(blocked.signals.h, 0.0, &info) == rt(4));
    CHECK(info.value == 7);
    CHECK(info.pid == getpid());
    REQUIRE(ipc_sig_raise(rt(4)) == 0);
    CHECK(ipc_sig_timedwait(blocked.signals.h, INFINITY, &info) == rt(4));
    CHECK((info.code == SI_TKILL || info.code == SI_USER)); // the kernel's choice for tgkill
    CHECK(info.pid == getpid());
}

TEST_CASE("the recording handler counts signals sent by another process", "[sig][process]") {
    const int signo = rt(1);
    KeepAction keep(signo);
    ipc_sig_record_reset(signo);
    ipc_sigaction *old = nullptr;
    REQUIRE(ipc_sigaction_new(&old) == 0);
    REQUIRE(ipc_sig_record(signo, IPC_SA_RESTART, old) == 0);
    CHECK(ipc_sigaction_kind(old) == IPC_SIG_ACTION_DEFAULT);
    CHECK(kind_of(signo) == IPC_SIG_ACTION_RECORD);
    CHECK(ipc_sig_recorded(signo) == 0);
    ipc_siginfo info{};
    CHECK(ipc_sig_recorded_info(signo, &info) == 0);

    const pid_t parent = getpid();
    pid_t child = 0;
    {
        // Blocked while the child sends, so every signal is queued, then
        // delivered at the unblock.
        Blocked blocked{signo};
        child = test::spawn([&] {
            for (int64_t v = 1; v <= 5; ++v)
                if (ipc_sig_queue(parent, signo, v * 100) != 0)
                    return 1;
            return 0;
        });
        REQUIRE(test::exit_code(test::wait_for(child)) == 0);
        CHECK(ipc_sig_recorded(signo) == 0);
        REQUIRE(ipc_sig_mask(IPC_SIG_UNBLOCK, blocked.signals.h, nullptr) == 0);
    }
    CHECK(ipc_sig_recorded(signo) == 5);
    REQUIRE(ipc_sig_recorded_info(signo, &info) == 1);
    CHECK(info.signo == signo);
    CHECK(info.value == 500); // the latest
    CHECK(info.pid == child);
    CHECK(info.code == SI_QUEUE);

    // Unblocked, from a child that sends one at a time.
    child = test::spawn([&] {
        for (int i = 0; i < 3; ++i)
            if (ipc_sig_queue(parent, signo, 1000 + i) != 0)
                return 1;
        return 0;
    });
    REQUIRE(test::exit_code(test::wait_for(child)) == 0);
    CHECK(test::eventually([&] { return ipc_sig_recorded(signo) == 8; }));

    CHECK(ipc_sig_record_reset(signo) == 8);
    CHECK(ipc_sig_recorded(signo) == 0);
    CHECK(ipc_sig_recorded_info(signo, &info) == 0);
    CHECK(info.signo == 0);

    REQUIRE(ipc_sig_restore(signo, old, nullptr) == 0);
    CHECK(kind_of(signo) == IPC_SIG_ACTION_DEFAULT);
    ipc_sigaction_free(old);

    CHECK(ipc_sig_recorded(0) == -EINVAL);
    CHECK(ipc_sig_record_reset(ipc_sig_rtmax() + 1) == -EINVAL);
    CHECK(ipc_sig_recorded_info(-1, &info) == -EINVAL);
    CHECK(ipc_sig_recorded_info(signo, nullptr) == -EINVAL);
    CHECK(ipc_sig_record(SIGKILL, 0, nullptr) == -EINVAL);
    CHECK(ipc_sig_record(signo, 64, nullptr) == -EINVAL);
}

namespace {

struct Seen {
    volatile sig_atomic_t count = 0;
    volatile sig_atomic_t signo = 0;
    volatile sig_atomic_t code = 0;
    volatile sig_atomic_t pid = 0;
};

void plain_handler(int signo, void *user) {
    auto *seen = static_cast<Seen *>(user);
    seen->count = seen->count + 1;
    seen->signo = signo;
}

void info_handler(int signo, const ipc_siginfo *info, void *user) {
    auto *seen = static_cast<Seen *>(user);
    seen->count = seen->count + 1;
    seen->signo = signo;
    seen->code = info->code;
    seen->pid = info->pid;
}

void raw_handler(int) {}

} // namespace

TEST_CASE("actions: C functions with user data, ignore, default, read and restore", "[sig]") {
    KeepAction keep1(SIGUSR1), keep2(SIGUSR2);
    ipc_sigaction *old = nullptr, *now = nullptr;
    REQUIRE(ipc_sigaction_new(&old) == 0);
    REQUIRE(ipc_sigaction_new(&now) == 0);
    CHECK(ipc_sigaction_kind(old) == IPC_SIG_ACTION_DEFAULT);

    // A plain C function, with a mask and flags.
    Seen first, second;
    Set extra{SIGUSR2};
    REQUIRE(ipc_sig_handle(SIGUSR1, plain_handler, &first, extra.h, IPC_SA_RESTART, old) == 0);
    REQUIRE(ipc_sig_action(SIGUSR1, now) == 0);
    CHECK(ipc_sigaction_kind(now) == IPC_SIG_ACTION_HANDLER);
    CHECK(ipc_sigaction_flags(now) == IPC_SA_RESTART);
    Set mask;
    REQUIRE(ipc_sigaction_mask(now, mask.h) == 0);
    CHECK(mask.has(SIGUSR2));
    REQUIRE(ipc_sig_raise(SIGUSR1) == 0);
    CHECK(first.count == 1);
    CHECK(first.signo == SIGUSR1);

    // Per-signal user data: another signal, another pointer.
    REQUIRE(ipc_sig_handle_info(SIGUSR2, info_handler, &second, nullptr, 0, nullptr) == 0);
    REQUIRE(ipc_sig_raise(SIGUSR2) == 0);
    REQUIRE(ipc_sig_queue(getpid(), SIGUSR2, 5) == 0);
    CHECK(test::eventually([&] { return second.count == 2; }));
    CHECK(second.signo == SIGUSR2);
    CHECK(second.code == SI_QUEUE);
    CHECK(second.pid == getpid());
    CHECK(first.count == 1);
    CHECK(kind_of(SIGUSR2) == IPC_SIG_ACTION_INFO);

    // Replacing the handler returns the previous one, which restores.
    REQUIRE(ipc_sig_ignore(SIGUSR1, now) == 0);
    CHECK(ipc_sigaction_kind(now) == IPC_SIG_ACTION_HANDLER);
    CHECK(kind_of(SIGUSR1) == IPC_SIG_ACTION_IGNORE);
    REQUIRE(ipc_sig_raise(SIGUSR1) == 0); // ignored
    CHECK(first.count == 1);
    REQUIRE(ipc_sig_restore(SIGUSR1, now, now) == 0); // `old` may be `act`
    CHECK(ipc_sigaction_kind(now) == IPC_SIG_ACTION_IGNORE);
    REQUIRE(ipc_sig_raise(SIGUSR1) == 0);
    CHECK(first.count == 2); // the handler is back, with its user pointer

    REQUIRE(ipc_sig_restore(SIGUSR1, old, nullptr) == 0);
    CHECK(kind_of(SIGUSR1) == ipc_sigaction_kind(old));
    REQUIRE(ipc_sig_default(SIGUSR2, nullptr) == 0);
    CHECK(kind_of(SIGUSR2) == IPC_SIG_ACTION_DEFAULT);

    // A handler installed without libipc is saved and restored as it was.
    struct sigaction raw {};
    raw.sa_handler = raw_handler;
    sigemptyset(&raw.sa_mask);
    REQUIRE(sigaction(SIGUSR2, &raw, nullptr) == 0);
    REQUIRE(ipc_sig_default(SIGUSR2, now) == 0);
    CHECK(ipc_sigaction_kind(now) == IPC_SIG_ACTION_FOREIGN);
    REQUIRE(ipc_sig_restore(SIGUSR2, now, nullptr) == 0);
    struct sigaction back {};
    REQUIRE(sigaction(SIGUSR2, nullptr, &back) == 0);
    CHECK(back.sa_handler == raw_handler);

    // A saved action can be read for SIGKILL but never installed on it.
    REQUIRE(ipc_sig_action(SIGKILL, now) == 0);
    CHECK(ipc_sigaction_kind(now) == IPC_SIG_ACTION_DEFAULT);
    for (int fixed : {SIGKILL, SIGSTOP}) {
        CHECK(ipc_sig_default(fixed, nullptr) == -EINVAL);
        CHECK(mentions("cannot be changed"));
        CHECK(ipc_sig_ignore(fixed, nullptr) == -EINVAL);
        CHECK(ipc_sig_handle(fixed, plain_handler, nullptr, nullptr, 0, nullptr) == -EINVAL);
        CHECK(ipc_sig_handle_info(fixed, info_handler, nullptr, nullptr, 0, nullptr) == -EINVAL);
        CHECK(ipc_sig_restore(fixed, now, nullptr) == -EINVAL);
    }
    for (int bad : {0, -3, 32, ipc_sig_rtmax() + 1}) {
        CHECK(ipc_sig_action(bad, now) == -EINVAL);
        CHECK(ipc_sig_default(bad, nullptr) == -EINVAL);
        CHECK(ipc_sig_ignore(bad, nullptr) == -EINVAL);
        CHECK(ipc_sig_record(bad, 0, nullptr) == -EINVAL);
    }
    CHECK(ipc_sig_handle(SIGUSR1, nullptr, nullptr, nullptr, 0, nullptr) == -EINVAL);
    CHECK(ipc_sig_handle(SIGUSR1, plain_handler, nullptr, nullptr, 0x100, nullptr) == -EINVAL);
    CHECK(mentions("flag"));

    ipc_sigaction *freed = nullptr;
    REQUIRE(ipc_sigaction_new(&freed) == 0);
    REQUIRE(ipc_sigaction_free(freed) == 0);
    CHECK(ipc_sig_action(SIGUSR1, freed) == -EBADF);
    CHECK(ipc_sig_action(SIGUSR1, nullptr) == -EBADF);
    CHECK(ipc_sig_restore(SIGUSR1, freed, nullptr) == -EBADF);
    CHECK(ipc_sigaction_kind(freed) == -EBADF);
    CHECK(ipc_sigaction_flags(nullptr) == -EBADF);
    CHECK(ipc_sigaction_new(nullptr) == -EINVAL);
    // A bad `old` or `mask` is refused before anything changes.
    CHECK(ipc_sig_ignore(SIGUSR1, freed) == -EBADF);
    CHECK(ipc_sig_handle(SIGUSR1, plain_handler, nullptr, reinterpret_cast<ipc_sigset *>(old), 0, nullptr) == -EBADF);
    CHECK(kind_of(SIGUSR1) == ipc_sigaction_kind(old));
    ipc_sigaction_free(old);
    ipc_sigaction_free(now);
}

TEST_CASE("suspend waits with a temporary mask until a handled signal arrives", "[sig][process]") {
    KeepAction keep(SIGUSR1);
    ipc_sig_record_reset(SIGUSR1);
    REQUIRE(ipc_sig_record(SIGUSR1, 0, nullptr) == 0);
    Blocked blocked{SIGUSR1};
    Set during;
    REQUIRE(ipc_sig_mask(IPC_SIG_BLOCK, nullptr, during.h) == 0);
    REQUIRE(ipc_sigset_del(during.h, SIGUSR1) == 0);

    const pid_t parent = getpid();
    pid_t child = test::spawn([&] {
        usleep(50'000); // the parent is most likely suspended by now; if not, the signal waits pending
        return ipc_sig_send(parent, SIGUSR1) == 0 ? 0 : 1;
    });
    CHECK(ipc_sig_suspend(during.h) == -EINTR); // its normal return
    CHECK(ipc_sig_recorded(SIGUSR1) == 1);
    CHECK(test::exit_code(test::wait_for(child)) == 0);
    Set after;
    REQUIRE(ipc_sig_mask(IPC_SIG_BLOCK, nullptr, after.h) == 0);
    CHECK(after.has(SIGUSR1)); // the mask is back
    ipc_sig_record_reset(SIGUSR1);
}

TEST_CASE("a signal descriptor becomes readable when another process signals", "[sig][process]") {
    const int signo = rt(2);
    Blocked blocked{signo};
    int fd = ipc_sig_fd(blocked.signals.h, IPC_SIG_FD_NONBLOCK);
    REQUIRE(fd >= 0);
    ipc_siginfo info{};
    CHECK(ipc_sig_fd_read(fd, &info) == -EAGAIN);
    pollfd p{fd, POLLIN, 0};
    CHECK(poll(&p, 1, 0) == 0);

    const pid_t parent = getpid();
    pid_t child = test::spawn([&] {
        usleep(20'000);
        return ipc_sig_queue(parent, signo, 4242) == 0 ? 0 : 1;
    });
    REQUIRE(poll(&p, 1, 10'000) == 1);
    CHECK((p.revents & POLLIN) != 0);
    REQUIRE(ipc_sig_fd_read(fd, &info) == signo);
    CHECK(info.signo == signo);
    CHECK(info.value == 4242);
    CHECK(info.code == SI_QUEUE);
    CHECK(info.pid == child);
    CHECK(info.uid == getuid());
    CHECK(ipc_sig_fd_read(fd, nullptr) == -EAGAIN);
    CHECK(test::exit_code(test::wait_for(child)) == 0);
    close(fd);

    CHECK(ipc_sig_fd(blocked.signals.h, 2) == -EINVAL);
    CHECK(ipc_sig_fd_read(-1, &info) == -EBADF);
    CHECK(ipc_sig_fd_read(fd, &info) == -EBADF); // closed
    int pipe_fds[2];
    REQUIRE(pipe(pipe_fds) == 0);
    REQUIRE(write(pipe_fds[1], "x", 1) == 1);
    CHECK(ipc_sig_fd_read(pipe_fds[0], &info) == -EINVAL);
    CHECK(mentions("not a signal descriptor"));
    char c = 0;
    CHECK(read(pipe_fds[0], &c, 1) == 1); // its data was left alone
    close(pipe_fds[0]);
    close(pipe_fds[1]);
}

TEST_CASE("sending checks the signal and reports the kernel's errors", "[sig][errors]") {
    for (int bad : {0, -1, 32, ipc_sig_rtmax() + 1}) {
        CHECK(ipc_sig_send(getpid(), bad) == -EINVAL);
        CHECK(ipc_sig_queue(getpid(), bad, 1) == -EINVAL);
        CHECK(ipc_sig_raise(bad) == -EINVAL);
    }
    // A child that has exited and been reaped is gone.
    pid_t gone = test::spawn([] { return 0; });
    test::wait_for(gone);
    CHECK(ipc_sig_send(gone, SIGUSR1) == -ESRCH);
    CHECK(ipc_sig_queue(gone, SIGUSR1, 1) == -ESRCH);
    CHECK(mentions("sigqueue"));
    int status = test::as_nobody([] { return ipc_sig_send(1, SIGUSR1) == -EPERM ? 0 : 1; });
    CHECK(test::exit_code(status) == 0);
}

TEST_CASE("names and numbers round-trip for every signal", "[sig]") {
    int named = 0;
    for (int s = -2; s <= ipc_sig_rtmax() + 2; ++s) {
        char buf[IPC_SIG_NAME_MAX];
        int len = ipc_sig_name(s, buf, sizeof buf);
        if (s <= 0 || s == 32 || s == 33 || s > ipc_sig_rtmax()) {
            CHECK(len == -EINVAL);
            continue;
        }
        CAPTURE(s, buf);
        REQUIRE(len > 0);
        CHECK(ipc_sig_number(buf) == s);
        CHECK(ipc_sig_number(buf + 3) == s); // without "SIG"
        CHECK(ipc_sig_number(std::to_string(s).c_str()) == s);
        ++named;
    }
    CHECK(named == 31 + ipc_sig_rtmax() - ipc_sig_rtmin() + 1);

    CHECK(ipc_sig_number("SIGUSR1") == SIGUSR1);
    CHECK(ipc_sig_number("usr2") == SIGUSR2);
    CHECK(ipc_sig_number("SIGIOT") == SIGABRT);
    CHECK(ipc_sig_number("SIGCLD") == SIGCHLD);
    CHECK(ipc_sig_number("SIGRTMIN") == ipc_sig_rtmin());
    CHECK(ipc_sig_number("SIGRTMIN+3") == ipc_sig_rtmin() + 3);
    CHECK(ipc_sig_number("RTMAX-1") == ipc_sig_rtmax() - 1);
    CHECK(ipc_sig_number("sigrtmax") == ipc_sig_rtmax());
    CHECK(ipc_sig_number("10") == 10);

    char buf[IPC_SIG_NAME_MAX];
    REQUIRE(ipc_sig_name(ipc_sig_rtmin() + 1, buf, sizeof buf) > 0);
    CHECK(std::string(buf) == "SIGRTMIN+1");
    REQUIRE(ipc_sig_name(ipc_sig_rtmax() - 2, buf, sizeof buf) > 0);
    CHECK(std::string(buf) == "SIGRTMAX-2");
    CHECK(ipc_sig_name(SIGTERM, buf, sizeof buf) == 7);
    CHECK(std::string(buf) == "SIGTERM");

    for (const char *bad : {"", "SIG", "SIGFOO", "USR3", "RTMIN+99", "SIGRTMAX-99", "RTMIN-1", "RTMAX+1",
                            "SIGRTMIN+", "0", "32", "65", "-1", " SIGUSR1", "SIGUSR1 ", "1000000000000"}) {
        CAPTURE(bad);
        CHECK(ipc_sig_number(bad) == -EINVAL);
    }
    CHECK(ipc_sig_number("SIGFOO") == -EINVAL);
    CHECK(mentions("no such signal"));
    CHECK(ipc_sig_number(nullptr) == -EINVAL);
    CHECK(ipc_sig_name(SIGTERM, buf, 7) == -ERANGE);
    CHECK(ipc_sig_name(SIGTERM, nullptr, 16) == -EINVAL);
    CHECK(ipc_sig_rtmin() >= 32);
    CHECK(ipc_sig_rtmax() >= ipc_sig_rtmin() + 8); // POSIX asks for at least 8
}

TEST_CASE("SIGCHLD from a real child carries its pid and exit status", "[sig][process]") {
    Blocked blocked{SIGCHLD};
    pid_t child = test::spawn([] { return 7; });
    ipc_siginfo info{};
    // Children of earlier tests were reaped already; wait for this one's.
    int signo = 0;
    do
        signo = ipc_sig_timedwait(blocked.signals.h, 10.0, &info);
    while (signo == SIGCHLD && info.pid != child);
    REQUIRE(signo == SIGCHLD);
    CHECK(info.pid == child);
    CHECK(info.code == CLD_EXITED);
    CHECK(info.status == 7);
    CHECK(test::exit_code(test::wait_for(child)) == 7);
}
