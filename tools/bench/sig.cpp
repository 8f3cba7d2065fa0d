// Signals: a cross-process round trip of a queued real-time signal with its
// value (send, wait in the peer, send the value + 1 back), libipc
// (ipc_sig_queue + ipc_sig_wait) against raw sigqueue + sigwaitinfo; then the
// same calls within one process (send to self, take without waiting), which
// shows their own cost without scheduling. Every value is checked.
// Run: build/tools/bench/bench_sig [--quick] [--json] (see harness.hpp).
#include "harness.hpp"

#include <ipc.h>

#include <csignal>
#include <memory>
#include <unistd.h>

namespace {

int signo;
sigset_t native;
ipc_sigset *set;

const timespec zero{};

[[noreturn]] void die(const char *what) {
    std::fprintf(stderr, "bench_sig: %s\n", what);
    std::exit(1);
}

struct Raw {
    static void send(pid_t pid, int64_t value) {
        sigval v{};
        v.sival_ptr = reinterpret_cast<void *>(static_cast<intptr_t>(value));
        if (sigqueue(pid, signo, v) != 0)
            die("sigqueue failed");
    }
    static int64_t receive() {
        siginfo_t si;
        while (sigwaitinfo(&native, &si) < 0) {
        }
        return static_cast<int64_t>(reinterpret_cast<intptr_t>(si.si_value.sival_ptr));
    }
    static int64_t take() {
        siginfo_t si;
        if (sigtimedwait(&native, &si, &zero) < 0)
            die("sigtimedwait found no signal");
        return static_cast<int64_t>(reinterpret_cast<intptr_t>(si.si_value.sival_ptr));
    }
};

struct Lib {
    static void send(pid_t pid, int64_t value) {
        if (ipc_sig_queue(pid, signo, value) != 0)
            die(ipc_last_error());
    }
    static int64_t receive() {
        ipc_siginfo info;
        while (ipc_sig_wait(set, &info) < 0) {
        }
        return info.value;
    }
    static int64_t take() {
        ipc_siginfo info;
        if (ipc_sig_trywait(set, &info) < 0)
            die(ipc_last_error());
        return info.value;
    }
};

// The parent sends a value, the peer answers with the value + 1. The signal
// is blocked in both (the peer inherits the mask), so it waits queued.
template <class Api> struct Trip : bench::RoundTrip {
    pid_t other;
    int64_t value = 0;
    explicit Trip(bool creator) : other(creator ? 0 : getppid()) {}
    void started(pid_t peer) override { other = peer; }
    void ping() override {
        Api::send(other, value);
        int64_t back = Api::receive();
        if (back != value + 1)
            die("a round trip came back with the wrong value");
        value = back;
    }
    void pong() override { Api::send(other, Api::receive() + 1); }
};

template <class Api> bench::Contender signal_trip(std::string name, bench::Kind kind, bool pinned) {
    return bench::round_trip(std::move(name), kind, pinned,
                             [](char *, bool creator) { return std::make_unique<Trip<Api>>(creator); });
}

// n sends to self, each taken at once without waiting.
template <class Api> bench::Contender to_self(std::string name, bench::Kind kind) {
    return {std::move(name), kind, [](int64_t n) {
                const pid_t self = getpid();
                return bench::loop_ns(n, [self](int64_t i) {
                    Api::send(self, i);
                    if (Api::take() != i)
                        die("a signal came back with the wrong value");
                });
            }};
}

} // namespace

int main(int argc, char **argv) {
    bench::Harness h("sig", argc, argv);
    using bench::Kind;
    const bool pinned = h.options().pin && bench::pin(0);
    const std::string where = pinned ? "the two processes pinned to two CPUs" : "processes not pinned";

    signo = ipc_sig_rtmin() + 5;
    sigemptyset(&native);
    sigaddset(&native, signo);
    if (ipc_sigset_new(&set) < 0 || ipc_sigset_add(set, signo) < 0 || ipc_sig_mask(IPC_SIG_BLOCK, set, nullptr) < 0)
        die(ipc_last_error());

    h.note("round trip = queue a real-time signal with a value, wait for it in the peer, queue value + 1 back; " +
           where);
    h.run("round trip of a queued real-time signal",
          {
              signal_trip<Lib>("libipc", Kind::ours, pinned),
              signal_trip<Raw>("raw sigqueue/sigwaitinfo", Kind::alternative, pinned),
          },
          {{"libipc", "raw sigqueue/sigwaitinfo", 1.05}});

    h.note("the calls' own cost: no other process, no sleeping");
    h.run("queue to self and take without waiting",
          {
              to_self<Lib>("libipc", Kind::ours),
              to_self<Raw>("raw sigqueue/sigtimedwait", Kind::alternative),
          },
          {{"libipc", "raw sigqueue/sigtimedwait", 1.05}});
    ipc_sigset_free(set);
    return h.finish();
}
